"""医保电子凭证 (NHSA e-credential, mdtrt_cert_type 01): the port its verifier implements.

A hospital reads the person's e-credential (a QR code or an app token) and sends the token
as ``mdtrt_cert_no`` with ``mdtrt_cert_type`` 01. Who the token names is the verifier's
answer: in production the national e-credential service, here a pluggable
:class:`ECredentialVerifier` chosen in the composition root (settings ``YIDI_ECREDENTIAL``).
A verifier refuses a token it cannot vouch for with ``ECREDENTIAL_INVALID`` and a token past
its validity with ``ECREDENTIAL_EXPIRED`` (:func:`invalid_credential`, :func:`expired_credential`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from yidi.kernel.errors import Refused

#: mdtrt_cert_type of the e-credential.
E_CREDENTIAL_TYPE = "01"


@dataclass(frozen=True, slots=True)
class ECredentialIdentity:
    """Whom a verified token names: the resident ID number, and the name when it carries one."""

    id_number: str
    name: str | None = None
    expires_at: dt.datetime | None = None


class ECredentialVerifier(Protocol):
    """Resolves an e-credential token to the person it names, or refuses it."""

    def verify(self, token: str, at: dt.datetime) -> ECredentialIdentity:
        """The identity of ``token`` at ``at``; raises ``Refused`` (ECREDENTIAL_INVALID or
        ECREDENTIAL_EXPIRED) when it cannot be vouched for."""
        ...


def invalid_credential() -> Refused:
    return Refused(
        "ECREDENTIAL_INVALID",
        "医保电子凭证无效（无法验证），请参保人刷新电子凭证二维码后重试，或改用身份证、社会保障卡",
        "the e-credential token cannot be verified",
        field="mdtrt_cert_no",
    )


def expired_credential(expired_at: dt.datetime) -> Refused:
    return Refused(
        "ECREDENTIAL_EXPIRED",
        f"医保电子凭证已过期（有效至 {expired_at.isoformat(timespec='seconds')}），"
        "请参保人刷新电子凭证二维码后重试",
        "the e-credential token has expired",
        field="mdtrt_cert_no",
    )
