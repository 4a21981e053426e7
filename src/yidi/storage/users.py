"""Accounts and sign-in state."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from yidi.domain.access import Principal, Role
from yidi.domain.audit import as_utc
from yidi.storage.tables import users


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    password_hash: str
    principal: Principal
    failed_attempts: int
    locked_until: dt.datetime | None
    active: bool


class UserRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, username: str, password_hash: str, principal: Principal) -> None:
        self._session.execute(
            insert(users).values(
                username=username,
                password_hash=password_hash,
                role=principal.role.value,
                display_name=principal.display_name,
                region_code=principal.region_code,
                hospital_code=principal.hospital_code,
                id_number=principal.id_number,
            )
        )

    def by_username(self, username: str, *, for_update: bool = False) -> Account | None:
        query = select(users).where(users.c.username == username)
        if for_update:
            query = query.with_for_update()
        row = self._session.execute(query).first()
        if row is None:
            return None
        return Account(
            id=row.id,
            username=row.username,
            password_hash=row.password_hash,
            principal=Principal(
                user_id=row.username,
                role=Role(row.role),
                region_code=row.region_code,
                hospital_code=row.hospital_code,
                id_number=row.id_number,
                display_name=row.display_name,
            ),
            failed_attempts=row.failed_attempts,
            locked_until=as_utc(row.locked_until) if row.locked_until else None,
            active=bool(row.active),
        )

    def record_failure(
        self, username: str, failures: int, locked_until: dt.datetime | None
    ) -> None:
        self._session.execute(
            update(users)
            .where(users.c.username == username)
            .values(
                failed_attempts=failures,
                locked_until=as_utc(locked_until) if locked_until else None,
            )
        )

    def record_success(self, username: str, password_hash: str | None = None) -> None:
        values: dict[str, object] = {"failed_attempts": 0, "locked_until": None}
        if password_hash:
            values["password_hash"] = password_hash
        self._session.execute(update(users).where(users.c.username == username).values(**values))
