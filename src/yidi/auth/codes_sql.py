"""One-time codes of self-registration and password reset, the insured register's
name/ID/mobile, and the account of a person (implements ``yidi.auth.ports.CodeRepository``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from yidi.auth.ports import CodeRow, RegisteredPerson
from yidi.kernel.access import Role
from yidi.kernel.audit import as_utc
from yidi.platform.tables import one_time_codes, persons, users

_c = one_time_codes.c


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


class CodeRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

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
    ) -> None:
        self._session.execute(
            insert(one_time_codes).values(
                challenge_hash=challenge_hash,
                code_hash=code_hash,
                purpose=purpose,
                id_number=id_number,
                matched=matched,
                address=address,
                created_at=as_utc(now),
                expires_at=as_utc(expires_at),
            )
        )

    def by_challenge(self, challenge_hash: str, *, for_update: bool = False) -> CodeRow | None:
        query = select(one_time_codes).where(_c.challenge_hash == challenge_hash)
        row = self._session.execute(query.with_for_update() if for_update else query).first()
        if row is None:
            return None
        return CodeRow(
            id=row.id,
            challenge_hash=row.challenge_hash,
            code_hash=row.code_hash,
            purpose=row.purpose,
            id_number=row.id_number,
            matched=bool(row.matched),
            failures=row.failures,
            created_at=as_utc(row.created_at),
            expires_at=as_utc(row.expires_at),
            used_at=as_utc(row.used_at) if row.used_at is not None else None,
        )

    def sent_since(self, *, since: dt.datetime, id_number: str = "", address: str = "") -> int:
        query = (
            select(func.count()).select_from(one_time_codes).where(_c.created_at >= as_utc(since))
        )
        if id_number:
            query = query.where(_c.id_number == id_number)
        if address:
            query = query.where(_c.address == address)
        return int(self._session.execute(query).scalar_one())

    def last_sent_at(self, id_number: str, purpose: str) -> dt.datetime | None:
        value = self._session.execute(
            select(func.max(_c.created_at)).where(_c.id_number == id_number, _c.purpose == purpose)
        ).scalar_one_or_none()
        return as_utc(value) if value is not None else None

    def void_open(self, id_number: str, purpose: str, now: dt.datetime) -> None:
        self._session.execute(
            update(one_time_codes)
            .where(_c.id_number == id_number, _c.purpose == purpose, _c.used_at.is_(None))
            .values(used_at=as_utc(now))
        )

    def count_failure(self, code_id: int) -> int:
        self._session.execute(
            update(one_time_codes).where(_c.id == code_id).values(failures=_c.failures + 1)
        )
        return int(self._session.execute(select(_c.failures).where(_c.id == code_id)).scalar_one())

    def use(self, code_id: int, now: dt.datetime) -> bool:
        """Mark the code used; False when it already was (single use, also concurrently)."""
        result = self._session.execute(
            update(one_time_codes)
            .where(_c.id == code_id, _c.used_at.is_(None))
            .values(used_at=as_utc(now))
        )
        return _rowcount(result) == 1

    def purge(self, before: dt.datetime) -> None:
        self._session.execute(delete(one_time_codes).where(_c.created_at < as_utc(before)))

    def person(self, id_number: str) -> RegisteredPerson | None:
        row = self._session.execute(
            select(persons.c.id_number, persons.c.name, persons.c.mobile).where(
                persons.c.id_number == id_number
            )
        ).first()
        if row is None:
            return None
        return RegisteredPerson(row.id_number, row.name, row.mobile or "")

    def account_of_person(self, id_number: str) -> str | None:
        row = self._session.execute(
            select(users.c.username)
            .where(users.c.id_number == id_number, users.c.role == Role.INSURED_PERSON.value)
            .order_by(users.c.id)
            .limit(1)
        ).first()
        return None if row is None else str(row.username)
