"""The gateway's header authentication as a service: verify, authorise, audit refusals.

:class:`GatewayAuthenticator` is what the composition root plugs into the router's
``authenticate`` hook. It verifies the signed headers (:mod:`yidi.integrations.nhsa.
gateway_auth`) and answers a check for the parsed envelope: the envelope's
``fixmedins_code`` must be one the credential may act for. Every refusal is written to the
audit log with its precise reason; the reply says only what the HN gateway would say.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping

from yidi.clock import Clock
from yidi.domain.audit import AuditEntry
from yidi.integrations.nhsa.envelope import GatewayRequest
from yidi.integrations.nhsa.gateway_auth import (
    DEFAULT_TIMESTAMP_WINDOW,
    ILLEGAL_USER,
    GatewayCredential,
    GatewayRefused,
    HeaderVerifier,
    NonceCache,
)
from yidi.services.audit_context import current_client_address
from yidi.storage.uow import SqlUnitOfWork

AUDIT_ROLE = "nhsa_gateway"
AUDIT_ACTION = "gateway.auth_refused"

EnvelopeCheck = Callable[[GatewayRequest], None]


def _printable(text: str, limit: int) -> str:
    """Caller-supplied text made safe for an audit column (no control characters, bounded)."""
    return "".join(ch if ch.isprintable() else "?" for ch in text[:limit])


class GatewayAuthenticator:
    """Header authentication for the national-platform gateway routes."""

    def __init__(
        self,
        credentials: Mapping[str, GatewayCredential],
        *,
        clock: Clock,
        uow: Callable[[], SqlUnitOfWork],
        window: dt.timedelta = DEFAULT_TIMESTAMP_WINDOW,
        nonces: NonceCache | None = None,
    ) -> None:
        self._verifier = HeaderVerifier(credentials, window=window, nonces=nonces)
        self.credential_count = len(credentials)
        self._clock = clock
        self._uow = uow

    def __call__(self, headers: Mapping[str, str]) -> EnvelopeCheck:
        """Verify the headers; answer the check the parsed envelope must pass."""
        try:
            credential = self._verifier.verify(headers, self._clock.now())
        except GatewayRefused as refusal:
            self._audit(refusal, subject="gateway")
            raise

        def check_envelope(request: GatewayRequest) -> None:
            if not credential.may_act_for(request.fixmedins_code):
                refusal = GatewayRefused(
                    ILLEGAL_USER,
                    "key may not act for this fixmedins_code",
                    access_key=credential.access_key,
                )
                self._audit(refusal, subject=f"fixmedins:{request.fixmedins_code}")
                raise refusal

        return check_envelope

    def _audit(self, refusal: GatewayRefused, *, subject: str) -> None:
        with self._uow() as uow:
            uow.audit.append(
                AuditEntry(
                    at=self._clock.now(),
                    actor=_printable(refusal.access_key, 64) or "-",
                    role=AUDIT_ROLE,
                    region_code=None,
                    action=AUDIT_ACTION,
                    subject=_printable(subject, 128),
                    reason=f"{refusal.code}: {refusal.reason}"[:500],
                    address=current_client_address()[:64],
                )
            )
            uow.commit()
