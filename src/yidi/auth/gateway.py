"""The gateway's header authentication as a service: verify, authorise, record refusals.

:class:`GatewayAuthenticator` is what the composition root plugs into the router's
``authenticate`` hook. It verifies the signed headers (:mod:`yidi.integrations.nhsa.
gateway_auth`), uses up their signature in the database (:class:`DatabaseNonceStore`: one
store for every worker, kept across restarts) and answers a check for the parsed envelope:
the envelope's ``fixmedins_code`` must be one the credential may act for, and an HN
signature's ``_api_name`` must name the envelope's transaction.

Refusals of headers (missing, stale, unknown key, bad signature, reused) cost the caller
nothing, so they must not cost yidi an audit-chain append each: they are counted per
minute, source address, key and reason in ``gateway_refusals`` (one counter update, no
chain lock), reviewable with ``yidi gateway refusals``. A request whose headers did verify
but that acts for another hospital or transaction is made with a real credential: it goes
to the audit chain with its reason. The reply says only what the HN gateway would say.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Mapping
from typing import Final

from yidi.auth.ports import GatewayUnitOfWork, RefusalCount
from yidi.integrations.nhsa.envelope import GatewayRequest
from yidi.integrations.nhsa.gateway_auth import (
    DEFAULT_TIMESTAMP_WINDOW,
    ILLEGAL_USER,
    GatewayCredential,
    GatewayRefused,
    HeaderVerifier,
    NonceStore,
)
from yidi.kernel.audit import audit_entry, current_client_address
from yidi.kernel.clock import Clock

AUDIT_ROLE = "nhsa_gateway"
AUDIT_ACTION = "gateway.auth_refused"
UNKNOWN_KEY: Final = "?"  # a key no credential has: one counter for all, not one per guess
NO_KEY: Final = "-"
PRUNE_EVERY: Final = dt.timedelta(seconds=60)

EnvelopeCheck = Callable[[GatewayRequest], None]


def _printable(text: str, limit: int) -> str:
    """Caller-supplied text made safe for a log column (no control characters, bounded)."""
    return "".join(ch if ch.isprintable() else "?" for ch in text[:limit])


class DatabaseNonceStore:
    """Used nonces in the database: shared by every worker process, kept across restarts,
    each until its timestamp leaves the window; expired ones are pruned once a minute."""

    def __init__(self, uow: Callable[[], GatewayUnitOfWork]) -> None:
        self._uow = uow
        self._lock = threading.Lock()
        self._next_prune_at: dt.datetime | None = None

    def _prune_due(self, now: dt.datetime) -> bool:
        with self._lock:
            if self._next_prune_at is not None and now < self._next_prune_at:
                return False
            self._next_prune_at = now + PRUNE_EVERY
            return True

    def first_use(
        self, access_key: str, nonce: str, *, now: dt.datetime, until: dt.datetime
    ) -> bool:
        with self._uow() as uow:
            if self._prune_due(now):
                uow.gateway.prune_nonces(now)
            first = uow.gateway.use_nonce(access_key, nonce, now=now, until=until)
            uow.commit()
        return first


class GatewayAuthenticator:
    """Header authentication for the national-platform gateway routes."""

    def __init__(
        self,
        credentials: Mapping[str, GatewayCredential],
        *,
        clock: Clock,
        uow: Callable[[], GatewayUnitOfWork],
        window: dt.timedelta = DEFAULT_TIMESTAMP_WINDOW,
        nonces: NonceStore | None = None,
    ) -> None:
        self._verifier = HeaderVerifier(
            credentials,
            window=window,
            nonces=nonces if nonces is not None else DatabaseNonceStore(uow),
        )
        self.credential_count = len(credentials)
        self._clock = clock
        self._uow = uow

    def __call__(self, headers: Mapping[str, str]) -> EnvelopeCheck:
        """Verify the headers; answer the check the parsed envelope must pass."""
        try:
            verified = self._verifier.verify_request(headers, self._clock.now())
        except GatewayRefused as refusal:
            self._count(refusal)
            raise
        credential = verified.credential

        def check_envelope(request: GatewayRequest) -> None:
            try:
                if not credential.may_act_for(request.fixmedins_code):
                    raise GatewayRefused(
                        ILLEGAL_USER,
                        "key may not act for this fixmedins_code",
                        access_key=credential.access_key,
                    )
                verified.check_transaction(request.infno)
            except GatewayRefused as refusal:
                self._audit(refusal, subject=f"fixmedins:{request.fixmedins_code}")
                raise

        return check_envelope

    def _count(self, refusal: GatewayRefused) -> None:
        """One more refusal on its minute's counter (no audit-chain append)."""
        key = refusal.access_key
        recorded_key = NO_KEY if not key else key if self._verifier.knows(key) else UNKNOWN_KEY
        with self._uow() as uow:
            uow.gateway.count_refusal(
                at=self._clock.now(),
                address=_printable(current_client_address(), 64) or NO_KEY,
                access_key=recorded_key,
                code=refusal.code[:64],
                reason=_printable(
                    refusal.reason + (f" (key {key})" if recorded_key == UNKNOWN_KEY else ""),
                    200,
                ),
            )
            uow.commit()

    def _audit(self, refusal: GatewayRefused, *, subject: str) -> None:
        with self._uow() as uow:
            uow.audit.append(
                audit_entry(
                    self._clock.now(),
                    actor=_printable(refusal.access_key, 64) or "-",
                    role=AUDIT_ROLE,
                    region_code=None,
                    action=AUDIT_ACTION,
                    subject=_printable(subject, 128),
                    reason=f"{refusal.code}: {refusal.reason}",
                )
            )
            uow.commit()


def recent_refusals(
    uow: GatewayUnitOfWork, clock: Clock, *, hours: int = 24, limit: int = 1000
) -> list[RefusalCount]:
    """The refusal counters of the last ``hours`` hours, newest first (for review)."""
    with uow:
        return uow.gateway.refusals(clock.now() - dt.timedelta(hours=hours), limit=limit)
