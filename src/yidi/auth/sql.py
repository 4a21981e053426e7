"""Accounts, their server-side sessions, sign-in failure counters and password reset links
(implements ``yidi.auth.ports.UserRepository``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Row, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from yidi.auth.ports import Account, Counter, ResetRow, SessionRow
from yidi.kernel.access import Principal, Role
from yidi.kernel.audit import as_utc
from yidi.platform.rows import first_row, record_from_row, rowcount, utc_or_none
from yidi.platform.tables import login_counters, password_resets, user_sessions, users


class UserRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    # --- accounts --------------------------------------------------------------------

    def add(
        self,
        username: str,
        password_hash: str,
        principal: Principal,
        *,
        must_change_password: bool = False,
    ) -> None:
        self._session.execute(
            insert(users).values(
                username=username,
                password_hash=password_hash,
                must_change_password=must_change_password,
                **_principal_columns(principal),
            )
        )

    def by_username(self, username: str, *, for_update: bool = False) -> Account | None:
        row = first_row(
            self._session, select(users).where(users.c.username == username), for_update
        )
        return _account(row) if row is not None else None

    def all(self) -> list[Account]:
        rows = self._session.execute(select(users).order_by(users.c.username)).all()
        return [_account(row) for row in rows]

    def set_password(
        self, username: str, password_hash: str, *, must_change: bool, at: dt.datetime | None
    ) -> None:
        self._session.execute(
            update(users)
            .where(users.c.username == username)
            .values(
                password_hash=password_hash,
                must_change_password=must_change,
                password_changed_at=utc_or_none(at),
            )
        )

    def rehash(self, username: str, password_hash: str) -> None:
        self._session.execute(
            update(users).where(users.c.username == username).values(password_hash=password_hash)
        )

    def set_active(self, username: str, active: bool) -> None:
        self._session.execute(
            update(users).where(users.c.username == username).values(active=active)
        )

    def set_role(self, username: str, principal: Principal) -> None:
        self._session.execute(
            update(users)
            .where(users.c.username == username)
            .values(**_principal_columns(principal))
        )

    # --- sessions --------------------------------------------------------------------

    def add_session(
        self,
        token_hash: str,
        username: str,
        now: dt.datetime,
        expires_at: dt.datetime,
        address: str,
    ) -> None:
        self._session.execute(
            insert(user_sessions).values(
                token_hash=token_hash,
                username=username,
                created_at=as_utc(now),
                expires_at=as_utc(expires_at),
                last_seen_at=as_utc(now),
                address=address[:64],
            )
        )

    def session(self, token_hash: str) -> SessionRow | None:
        row = self._session.execute(
            select(user_sessions).where(user_sessions.c.token_hash == token_hash)
        ).first()
        if row is None:
            return None
        return record_from_row(
            SessionRow,
            row,
            created_at=as_utc(row.created_at),
            expires_at=as_utc(row.expires_at),
            last_seen_at=as_utc(row.last_seen_at),
            revoked_at=utc_or_none(row.revoked_at),
        )

    def touch_session(self, token_hash: str, now: dt.datetime) -> None:
        self._session.execute(
            update(user_sessions)
            .where(user_sessions.c.token_hash == token_hash)
            .values(last_seen_at=as_utc(now))
        )

    def revoke_session(self, token_hash: str, now: dt.datetime, reason: str) -> int:
        result = self._session.execute(
            update(user_sessions)
            .where(user_sessions.c.token_hash == token_hash, user_sessions.c.revoked_at.is_(None))
            .values(revoked_at=as_utc(now), revoked_reason=reason)
        )
        return rowcount(result)

    def revoke_sessions_of(
        self, username: str, now: dt.datetime, reason: str, *, keep: str | None = None
    ) -> int:
        condition = [user_sessions.c.username == username, user_sessions.c.revoked_at.is_(None)]
        if keep is not None:
            condition.append(user_sessions.c.token_hash != keep)
        result = self._session.execute(
            update(user_sessions)
            .where(*condition)
            .values(revoked_at=as_utc(now), revoked_reason=reason)
        )
        return rowcount(result)

    def live_session_count(self, username: str, now: dt.datetime) -> int:
        rows = self._session.execute(
            select(user_sessions.c.id).where(
                user_sessions.c.username == username,
                user_sessions.c.revoked_at.is_(None),
                user_sessions.c.expires_at > as_utc(now),
            )
        ).all()
        return len(rows)

    def purge_sessions(self, before: dt.datetime) -> None:
        """Forget sessions that ended (expired) before ``before``."""
        self._session.execute(
            delete(user_sessions).where(user_sessions.c.expires_at < as_utc(before))
        )

    # --- sign-in failure counters ----------------------------------------------------

    def counter(self, username: str, address: str, *, for_update: bool = False) -> Counter | None:
        query = select(login_counters).where(
            login_counters.c.username == username, login_counters.c.address == address[:64]
        )
        row = first_row(self._session, query, for_update)
        return None if row is None else _counter(row)

    def _ensure_counter(self, username: str, address: str, now: dt.datetime) -> None:
        dialect = self._session.get_bind().dialect.name
        builder = postgresql.insert if dialect == "postgresql" else sqlite.insert
        self._session.execute(
            builder(login_counters)
            .values(username=username, address=address, failures=0, window_started_at=as_utc(now))
            .on_conflict_do_nothing()
        )

    def count_failure(
        self, username: str, address: str, now: dt.datetime, *, window: dt.timedelta | None
    ) -> Counter:
        """One more failure, counted atomically (concurrent workers lose none); a counter
        with a ``window`` starts again at 1 once its window has passed."""
        address = address[:64]
        self._ensure_counter(username, address, now)
        current = self.counter(username, address, for_update=True)
        assert current is not None
        where = (login_counters.c.username == username, login_counters.c.address == address)
        if window is not None and now - current.window_started_at >= window:
            values: dict[str, Any] = {
                "failures": 1,
                "window_started_at": as_utc(now),
                "blocked_until": None,
            }
        else:
            values = {"failures": login_counters.c.failures + 1}
        self._session.execute(update(login_counters).where(*where).values(**values))
        counted = self.counter(username, address)
        assert counted is not None
        return counted

    def block(self, username: str, address: str, until: dt.datetime) -> None:
        self._session.execute(
            update(login_counters)
            .where(login_counters.c.username == username, login_counters.c.address == address[:64])
            .values(blocked_until=as_utc(until))
        )

    def record_success(self, username: str, address: str, now: dt.datetime) -> None:
        """A correct password from this address: its failures are forgotten, the address known."""
        address = address[:64]
        self._ensure_counter(username, address, now)
        self._session.execute(
            update(login_counters)
            .where(login_counters.c.username == username, login_counters.c.address == address)
            .values(failures=0, blocked_until=None, last_success_at=as_utc(now))
        )

    def counters_of(self, username: str) -> list[Counter]:
        rows = self._session.execute(
            select(login_counters).where(login_counters.c.username == username)
        ).all()
        return [_counter(row) for row in rows]

    def clear_failures_of(self, username: str) -> int:
        """An administrator's unlock: every address's failures for this account are forgotten."""
        result = self._session.execute(
            update(login_counters)
            .where(login_counters.c.username == username, login_counters.c.failures > 0)
            .values(failures=0, blocked_until=None)
        )
        return rowcount(result)

    # --- password reset links --------------------------------------------------------

    def add_reset(
        self,
        token_hash: str,
        username: str,
        created_by: str,
        now: dt.datetime,
        expires_at: dt.datetime,
    ) -> None:
        self._session.execute(
            insert(password_resets).values(
                token_hash=token_hash,
                username=username,
                created_by=created_by,
                created_at=as_utc(now),
                expires_at=as_utc(expires_at),
            )
        )

    def reset(self, token_hash: str, *, for_update: bool = False) -> ResetRow | None:
        query = select(password_resets).where(password_resets.c.token_hash == token_hash)
        row = first_row(self._session, query, for_update)
        if row is None:
            return None
        return ResetRow(
            row.id,
            row.username,
            row.created_by,
            as_utc(row.expires_at),
            utc_or_none(row.used_at),
        )

    def use_reset(self, reset_id: int, now: dt.datetime) -> bool:
        """Mark a link used; False when another request used it first."""
        result = self._session.execute(
            update(password_resets)
            .where(password_resets.c.id == reset_id, password_resets.c.used_at.is_(None))
            .values(used_at=as_utc(now))
        )
        return rowcount(result) > 0

    def void_resets_of(self, username: str, now: dt.datetime) -> None:
        """A new link (or a changed password) makes every earlier unused link worthless."""
        self._session.execute(
            update(password_resets)
            .where(password_resets.c.username == username, password_resets.c.used_at.is_(None))
            .values(used_at=as_utc(now))
        )


_PRINCIPAL_COLUMNS = ("display_name", "region_code", "hospital_code", "id_number")


def _principal_columns(principal: Principal) -> dict[str, Any]:
    """The ``users`` columns that hold an account's principal (role and scope)."""
    return {"role": principal.role.value} | {
        name: getattr(principal, name) for name in _PRINCIPAL_COLUMNS
    }


def _counter(row: Row[Any]) -> Counter:
    return record_from_row(
        Counter,
        row,
        window_started_at=as_utc(row.window_started_at),
        blocked_until=utc_or_none(row.blocked_until),
        last_success_at=utc_or_none(row.last_success_at),
    )


def _account(row: Row[Any]) -> Account:
    principal = Principal(
        user_id=row.username,
        role=Role(row.role),
        **{name: getattr(row, name) for name in _PRINCIPAL_COLUMNS},
    )
    return Account(
        id=row.id,
        username=row.username,
        password_hash=row.password_hash,
        principal=principal,
        active=bool(row.active),
        must_change_password=bool(row.must_change_password),
        password_changed_at=utc_or_none(row.password_changed_at),
    )
