"""In-memory implementations of the sign-in, user-administration and gateway ports
(``yidi.auth.ports``), on top of the encounter fakes in ``fakes.py`` (hospitals, the audit
log, rollback unless committed).

The counters follow the SQL repository: a per-account-and-address counter and a
per-address one (user name ""), a windowed counter starting again at 1 once its window
has passed; a used nonce is taken over only once its time has passed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field

from fakes import FakeDatabase, FakeUnitOfWork

from yidi.auth.ports import (
    Account,
    AuthUnitOfWork,
    Counter,
    GatewayUnitOfWork,
    RefusalCount,
    ResetRow,
    SessionRow,
)
from yidi.kernel.access import Principal
from yidi.kernel.audit import as_utc


@dataclass
class AuthFakeDatabase(FakeDatabase):
    users: dict[str, Account] = field(default_factory=dict)
    sessions: dict[str, SessionRow] = field(default_factory=dict)
    session_addresses: dict[str, str] = field(default_factory=dict)
    counters: dict[tuple[str, str], Counter] = field(default_factory=dict)
    resets: dict[str, ResetRow] = field(default_factory=dict)
    reset_tokens: dict[int, str] = field(default_factory=dict)
    nonces: dict[tuple[str, str], dt.datetime] = field(default_factory=dict)
    refusals: dict[tuple[dt.datetime, str, str, str], RefusalCount] = field(default_factory=dict)


class FakeUserRepository:
    def __init__(self, db: AuthFakeDatabase) -> None:
        self.db = db

    # accounts
    def add(
        self,
        username: str,
        password_hash: str,
        principal: Principal,
        *,
        must_change_password: bool = False,
    ) -> None:
        if username in self.db.users:
            raise ValueError(f"duplicate user {username}")  # the table's unique key
        self.db.users[username] = Account(
            id=len(self.db.users) + 1,
            username=username,
            password_hash=password_hash,
            principal=dataclasses.replace(principal, user_id=username),
            active=True,
            must_change_password=must_change_password,
        )

    def by_username(self, username: str, *, for_update: bool = False) -> Account | None:
        return self.db.users.get(username)

    def all(self) -> list[Account]:
        return [self.db.users[name] for name in sorted(self.db.users)]

    def _change(self, username: str, **values: object) -> None:
        if username in self.db.users:
            self.db.users[username] = dataclasses.replace(self.db.users[username], **values)  # type: ignore[arg-type]

    def set_password(
        self, username: str, password_hash: str, *, must_change: bool, at: dt.datetime | None
    ) -> None:
        self._change(
            username,
            password_hash=password_hash,
            must_change_password=must_change,
            password_changed_at=None if at is None else as_utc(at),
        )

    def rehash(self, username: str, password_hash: str) -> None:
        self._change(username, password_hash=password_hash)

    def set_active(self, username: str, active: bool) -> None:
        self._change(username, active=active)

    def set_role(self, username: str, principal: Principal) -> None:
        self._change(username, principal=dataclasses.replace(principal, user_id=username))

    # sessions
    def add_session(
        self,
        token_hash: str,
        username: str,
        now: dt.datetime,
        expires_at: dt.datetime,
        address: str,
    ) -> None:
        self.db.sessions[token_hash] = SessionRow(
            token_hash, username, as_utc(now), as_utc(expires_at), as_utc(now), None
        )
        self.db.session_addresses[token_hash] = address[:64]

    def session(self, token_hash: str) -> SessionRow | None:
        return self.db.sessions.get(token_hash)

    def touch_session(self, token_hash: str, now: dt.datetime) -> None:
        row = self.db.sessions[token_hash]
        self.db.sessions[token_hash] = dataclasses.replace(row, last_seen_at=as_utc(now))

    def revoke_session(self, token_hash: str, now: dt.datetime, reason: str) -> int:
        row = self.db.sessions.get(token_hash)
        if row is None or row.revoked_at is not None:
            return 0
        self.db.sessions[token_hash] = dataclasses.replace(row, revoked_at=as_utc(now))
        return 1

    def revoke_sessions_of(
        self, username: str, now: dt.datetime, reason: str, *, keep: str | None = None
    ) -> int:
        hashes = [h for h, s in self.db.sessions.items() if s.username == username and h != keep]
        return sum(self.revoke_session(h, now, reason) for h in hashes)

    def live_session_count(self, username: str, now: dt.datetime) -> int:
        return sum(
            1
            for s in self.db.sessions.values()
            if s.username == username and s.revoked_at is None and s.expires_at > as_utc(now)
        )

    def purge_sessions(self, before: dt.datetime) -> None:
        self.db.sessions = {
            h: s for h, s in self.db.sessions.items() if s.expires_at >= as_utc(before)
        }

    # sign-in failure counters
    def counter(self, username: str, address: str, *, for_update: bool = False) -> Counter | None:
        return self.db.counters.get((username, address[:64]))

    def _ensure(self, username: str, address: str, now: dt.datetime) -> Counter:
        key = (username, address[:64])
        if key not in self.db.counters:
            self.db.counters[key] = Counter(username, address[:64], 0, as_utc(now), None, None)
        return self.db.counters[key]

    def count_failure(
        self, username: str, address: str, now: dt.datetime, *, window: dt.timedelta | None
    ) -> Counter:
        current = self._ensure(username, address, now)
        if window is not None and now - current.window_started_at >= window:
            counted = dataclasses.replace(
                current, failures=1, window_started_at=as_utc(now), blocked_until=None
            )
        else:
            counted = dataclasses.replace(current, failures=current.failures + 1)
        self.db.counters[(username, address[:64])] = counted
        return counted

    def block(self, username: str, address: str, until: dt.datetime) -> None:
        key = (username, address[:64])
        if key in self.db.counters:
            self.db.counters[key] = dataclasses.replace(
                self.db.counters[key], blocked_until=as_utc(until)
            )

    def record_success(self, username: str, address: str, now: dt.datetime) -> None:
        current = self._ensure(username, address, now)
        self.db.counters[(username, address[:64])] = dataclasses.replace(
            current, failures=0, blocked_until=None, last_success_at=as_utc(now)
        )

    def counters_of(self, username: str) -> list[Counter]:
        return [c for (name, _), c in self.db.counters.items() if name == username]

    def clear_failures_of(self, username: str) -> int:
        cleared = 0
        for key, c in list(self.db.counters.items()):
            if key[0] == username and c.failures > 0:
                self.db.counters[key] = dataclasses.replace(c, failures=0, blocked_until=None)
                cleared += 1
        return cleared

    # password reset links
    def add_reset(
        self,
        token_hash: str,
        username: str,
        created_by: str,
        now: dt.datetime,
        expires_at: dt.datetime,
    ) -> None:
        reset_id = len(self.db.resets) + 1
        self.db.resets[token_hash] = ResetRow(
            reset_id, username, created_by, as_utc(expires_at), None
        )
        self.db.reset_tokens[reset_id] = token_hash

    def reset(self, token_hash: str, *, for_update: bool = False) -> ResetRow | None:
        return self.db.resets.get(token_hash)

    def use_reset(self, reset_id: int, now: dt.datetime) -> bool:
        token = self.db.reset_tokens[reset_id]
        row = self.db.resets[token]
        if row.used_at is not None:
            return False
        self.db.resets[token] = dataclasses.replace(row, used_at=as_utc(now))
        return True

    def void_resets_of(self, username: str, now: dt.datetime) -> None:
        for token, row in list(self.db.resets.items()):
            if row.username == username and row.used_at is None:
                self.db.resets[token] = dataclasses.replace(row, used_at=as_utc(now))


class FakeGatewayRepository:
    def __init__(self, db: AuthFakeDatabase) -> None:
        self.db = db

    def use_nonce(
        self, access_key: str, nonce: str, *, now: dt.datetime, until: dt.datetime
    ) -> bool:
        held = self.db.nonces.get((access_key, nonce))
        if held is not None and held > as_utc(now):
            return False
        self.db.nonces[(access_key, nonce)] = as_utc(until)
        return True

    def prune_nonces(self, now: dt.datetime) -> int:
        kept = {k: until for k, until in self.db.nonces.items() if until > as_utc(now)}
        pruned = len(self.db.nonces) - len(kept)
        self.db.nonces = kept
        return pruned

    def count_refusal(
        self, *, at: dt.datetime, address: str, access_key: str, code: str, reason: str
    ) -> None:
        at = as_utc(at)
        key = (at.replace(second=0, microsecond=0), address, access_key, code)
        held = self.db.refusals.get(key)
        count = 1 if held is None else held.count + 1
        self.db.refusals[key] = RefusalCount(*key, count=count, last_at=at, last_reason=reason)

    def refusals(self, since: dt.datetime, *, limit: int = 1000) -> list[RefusalCount]:
        found = [r for r in self.db.refusals.values() if r.minute >= as_utc(since)]
        found.sort(key=lambda r: (r.minute, r.count), reverse=True)
        return found[:limit]


class FakeAuthUnitOfWork(FakeUnitOfWork):
    def __init__(self, db: AuthFakeDatabase) -> None:
        super().__init__(db)
        self.users = FakeUserRepository(db)
        self.gateway = FakeGatewayRepository(db)

    def __enter__(self) -> FakeAuthUnitOfWork:
        super().__enter__()
        return self


# Typed as the ports: mypy checks that the fakes implement them.
def auth_unit(db: AuthFakeDatabase) -> AuthUnitOfWork:
    return FakeAuthUnitOfWork(db)


def gateway_unit(db: AuthFakeDatabase) -> GatewayUnitOfWork:
    return FakeAuthUnitOfWork(db)
