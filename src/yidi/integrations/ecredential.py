"""A signed-token e-credential verifier (医保电子凭证, demo and test implementation).

Stands in for the national e-credential service where none is reachable: a token is
``E1.<ID number>.<expiry>.<signature>`` — the expiry in unix seconds, base 36; the
signature the first 12 bytes of an HMAC-SHA256 over the rest, base64url, keyed with
``YIDI_ECREDENTIAL_KEY`` — 45 characters, within ``mdtrt_cert_no``'s 50. The token carries
the ID number in clear, so it is handled like one (never logged; lookups audit only the
credential type). :meth:`SignedTokenVerifier.issue` makes one (demo data, tests). Anything
else — another format, a wrong signature, an invalid ID number — is ``ECREDENTIAL_INVALID``;
a token at or past its expiry is ``ECREDENTIAL_EXPIRED``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac

from yidi.kernel.ecredential import ECredentialIdentity, expired_credential, invalid_credential
from yidi.kernel.errors import YidiError
from yidi.kernel.identity import ResidentId

PREFIX = "E1"
MIN_KEY_LENGTH = 32
_SIGNATURE_BYTES = 12
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def _base36(number: int) -> str:
    text = ""
    while True:
        number, digit = divmod(number, 36)
        text = _DIGITS[digit] + text
        if number == 0:
            return text


class SignedTokenVerifier:
    """Verifies tokens signed with ``key`` (the settings' ``ecredential_key``)."""

    def __init__(self, key: str) -> None:
        if len(key) < MIN_KEY_LENGTH:
            raise ValueError(f"YIDI_ECREDENTIAL_KEY must be at least {MIN_KEY_LENGTH} characters")
        self._key = key.encode("utf-8")

    def _signature(self, body: str) -> str:
        digest = hmac.new(self._key, body.encode("ascii"), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:_SIGNATURE_BYTES]).decode("ascii")

    def issue(self, id_number: str, expires_at: dt.datetime) -> str:
        body = f"{PREFIX}.{id_number.upper()}.{_base36(int(expires_at.timestamp()))}"
        return f"{body}.{self._signature(body)}"

    def verify(self, token: str, at: dt.datetime) -> ECredentialIdentity:
        parts = token.strip().split(".")
        if len(parts) != 4 or parts[0] != PREFIX or not parts[2].isalnum():
            raise invalid_credential()
        body = ".".join(parts[:3])
        if not hmac.compare_digest(
            parts[3].encode("ascii", "replace"), self._signature(body).encode("ascii")
        ):
            raise invalid_credential()
        try:
            ResidentId.parse(parts[1])
            expires_at = dt.datetime.fromtimestamp(int(parts[2], 36), tz=dt.UTC)
        except (YidiError, ValueError, OverflowError, OSError):
            raise invalid_credential() from None
        if at >= expires_at:
            raise expired_credential(expires_at)
        return ECredentialIdentity(parts[1].upper(), expires_at=expires_at)
