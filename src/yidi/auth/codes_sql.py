"""One-time codes of self-registration and password reset, the insured register's
name/ID/mobile, and the account of a person (implements ``yidi.auth.ports.CodeRepository``)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from yidi.auth.ports import CodeRow, RegisteredPerson
from yidi.kernel.access import Role
from yidi.kernel.audit import as_utc
from yidi.platform.rows import first_row, record_from_row, rowcount, utc_or_none
from yidi.platform.tables import one_time_codes, persons, users

_c = one_time_codes.c


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
        row = first_row(self._session, query, for_update)
        if row is None:
            return None
        return record_from_row(
            CodeRow,
            row,
            matched=bool(row.matched),
            created_at=as_utc(row.created_at),
            expires_at=as_utc(row.expires_at),
            used_at=utc_or_none(row.used_at),
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
        return utc_or_none(value)

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
        return rowcount(result) == 1

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
