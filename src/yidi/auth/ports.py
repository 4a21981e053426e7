"""What the sign-in, user-administration and gateway use cases need from storage, as
Protocols, and the rows they read. ``yidi.auth.sql.UserRepository`` and
``yidi.auth.gateway_sql.GatewayRepository`` (``uow.users`` and ``uow.gateway`` of
``yidi.platform.uow.SqlUnitOfWork``) implement them on the database;
``tests/unit/fakes_auth.py`` implements them in memory.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from yidi.kernel.access import Principal
from yidi.kernel.unit_of_work import AuditedTransaction
from yidi.reference.model import Hospital

# --------------------------------------------------------------------------- rows


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    password_hash: str
    principal: Principal
    active: bool
    must_change_password: bool = False
    password_changed_at: dt.datetime | None = None


@dataclass(frozen=True)
class SessionRow:
    token_hash: str
    username: str
    created_at: dt.datetime
    expires_at: dt.datetime
    last_seen_at: dt.datetime
    revoked_at: dt.datetime | None


@dataclass(frozen=True)
class Counter:
    username: str  # "" for the per-address counter
    address: str
    failures: int
    window_started_at: dt.datetime
    blocked_until: dt.datetime | None
    last_success_at: dt.datetime | None


@dataclass(frozen=True)
class ResetRow:
    id: int
    username: str
    created_by: str
    expires_at: dt.datetime
    used_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class RefusalCount:
    """Refused gateway requests of one minute from one source, key and reason."""

    minute: dt.datetime
    address: str
    access_key: str
    code: str
    count: int
    last_at: dt.datetime
    last_reason: str


# --------------------------------------------------------------------------- repositories


class UserRepository(Protocol):
    """Accounts, their sessions, sign-in failure counters and password reset links."""

    def add(
        self,
        username: str,
        password_hash: str,
        principal: Principal,
        *,
        must_change_password: bool = False,
    ) -> None: ...
    def by_username(self, username: str, *, for_update: bool = False) -> Account | None: ...
    def all(self) -> list[Account]: ...
    def set_password(
        self, username: str, password_hash: str, *, must_change: bool, at: dt.datetime | None
    ) -> None: ...
    def rehash(self, username: str, password_hash: str) -> None: ...
    def set_active(self, username: str, active: bool) -> None: ...
    def set_role(self, username: str, principal: Principal) -> None: ...

    def add_session(
        self,
        token_hash: str,
        username: str,
        now: dt.datetime,
        expires_at: dt.datetime,
        address: str,
    ) -> None: ...
    def session(self, token_hash: str) -> SessionRow | None: ...
    def touch_session(self, token_hash: str, now: dt.datetime) -> None: ...
    def revoke_session(self, token_hash: str, now: dt.datetime, reason: str) -> int: ...
    def revoke_sessions_of(
        self, username: str, now: dt.datetime, reason: str, *, keep: str | None = None
    ) -> int: ...
    def live_session_count(self, username: str, now: dt.datetime) -> int: ...
    def purge_sessions(self, before: dt.datetime) -> None: ...

    def counter(
        self, username: str, address: str, *, for_update: bool = False
    ) -> Counter | None: ...
    def count_failure(
        self, username: str, address: str, now: dt.datetime, *, window: dt.timedelta | None
    ) -> Counter: ...
    def block(self, username: str, address: str, until: dt.datetime) -> None: ...
    def record_success(self, username: str, address: str, now: dt.datetime) -> None: ...
    def counters_of(self, username: str) -> list[Counter]: ...
    def clear_failures_of(self, username: str) -> int: ...

    def add_reset(
        self,
        token_hash: str,
        username: str,
        created_by: str,
        now: dt.datetime,
        expires_at: dt.datetime,
    ) -> None: ...
    def reset(self, token_hash: str, *, for_update: bool = False) -> ResetRow | None: ...
    def use_reset(self, reset_id: int, now: dt.datetime) -> bool: ...
    def void_resets_of(self, username: str, now: dt.datetime) -> None: ...


class GatewayRepository(Protocol):
    """Used nonces (replay protection) and the per-minute counters of refused requests."""

    def use_nonce(
        self, access_key: str, nonce: str, *, now: dt.datetime, until: dt.datetime
    ) -> bool: ...
    def prune_nonces(self, now: dt.datetime) -> int: ...
    def count_refusal(
        self, *, at: dt.datetime, address: str, access_key: str, code: str, reason: str
    ) -> None: ...
    def refusals(self, since: dt.datetime, *, limit: int = 1000) -> list[RefusalCount]: ...


class HospitalReader(Protocol):
    def hospital(self, fixmedins_code: str) -> Hospital | None: ...


# --------------------------------------------------------------------------- units of work


class AuthUnitOfWork(AuditedTransaction, Protocol):
    """Sign-in, sessions and user administration: one transaction."""

    @property
    def users(self) -> UserRepository: ...
    @property
    def reference(self) -> HospitalReader: ...

    def __enter__(self) -> AuthUnitOfWork: ...


class GatewayUnitOfWork(AuditedTransaction, Protocol):
    """The gateway's nonces, refusal counters and audit entries: one transaction."""

    @property
    def gateway(self) -> GatewayRepository: ...

    def __enter__(self) -> GatewayUnitOfWork: ...


# --------------------------------------------------------------------------- one-time codes


@dataclass(frozen=True)
class CodeRow:
    """A one-time code as stored: only hashes of the challenge token and of token and code."""

    id: int
    challenge_hash: str
    code_hash: str
    purpose: str
    id_number: str  # as the visitor typed it (matched or not)
    matched: bool
    failures: int
    created_at: dt.datetime
    expires_at: dt.datetime
    used_at: dt.datetime | None


@dataclass(frozen=True)
class RegisteredPerson:
    """What registration needs of a person in the insured register (参保登记)."""

    id_number: str
    name: str
    mobile: str


class CodeRepository(Protocol):
    def add(
        self,
        *,
        challenge_hash: str,
        code_hash: str,
        purpose: str,
        id_number: str,
        matched: bool,
        address: str,
        now: dt.datetime,
        expires_at: dt.datetime,
    ) -> None: ...
    def by_challenge(self, challenge_hash: str, *, for_update: bool = False) -> CodeRow | None: ...
    def sent_since(self, *, since: dt.datetime, id_number: str = "", address: str = "") -> int: ...
    def last_sent_at(self, id_number: str, purpose: str) -> dt.datetime | None: ...
    def void_open(self, id_number: str, purpose: str, now: dt.datetime) -> None: ...
    def count_failure(self, code_id: int) -> int: ...
    def use(self, code_id: int, now: dt.datetime) -> bool: ...
    def purge(self, before: dt.datetime) -> None: ...
    def person(self, id_number: str) -> RegisteredPerson | None: ...
    def account_of_person(self, id_number: str) -> str | None: ...


class RegistrationUnitOfWork(AuthUnitOfWork, Protocol):
    """Sign-in and accounts with the one-time codes: one transaction."""

    @property
    def codes(self) -> CodeRepository: ...

    def __enter__(self) -> RegistrationUnitOfWork: ...
