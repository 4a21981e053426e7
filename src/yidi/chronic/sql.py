"""SQL for 门诊慢特病 认定: the recognitions table and the person and hospital look-ups."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, func, insert, not_, or_, select, update
from sqlalchemy.orm import Session

from yidi.chronic.model import Evidence, Recognition, RecognitionState
from yidi.chronic.ports import PersonRef, RecognitionQuery
from yidi.platform.rows import record_from_row
from yidi.platform.tables import chronic_recognitions as rec
from yidi.platform.tables import hospitals, persons


def _person(row: Any) -> PersonRef:
    return PersonRef(
        row.id, row.psn_no, row.name, row.id_number, row.insured_region_code, row.insurance_type
    )


def _recognition(row: Any) -> Recognition:
    return record_from_row(
        Recognition,
        row,
        evidence=Evidence(row.hospital_code, row.doctor_name, row.evidence_reference),
        state=RecognitionState(row.state),
    )


_COLUMNS = (
    *rec.c,
    persons.c.psn_no,
    persons.c.name.label("p_name"),
    persons.c.id_number.label("p_id_number"),
    persons.c.insured_region_code.label("p_region"),
    persons.c.insurance_type.label("p_insurance_type"),
)


def _joined_person(row: Any) -> PersonRef:
    return PersonRef(
        row.person_id, row.psn_no, row.p_name, row.p_id_number, row.p_region, row.p_insurance_type
    )


_JOINED = rec.join(persons, persons.c.id == rec.c.person_id)


class ChronicRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    # persons and hospitals ------------------------------------------------------------
    def _one_person(self, where: Any) -> PersonRef | None:
        row = self._session.execute(select(persons).where(where)).first()
        return None if row is None else _person(row)

    def person_by_id_number(self, id_number: str) -> PersonRef | None:
        return self._one_person(persons.c.id_number == id_number)

    def person_by_psn_no(self, psn_no: str) -> PersonRef | None:
        return self._one_person(persons.c.psn_no == psn_no)

    def person_by_internal_id(self, person_id: int) -> PersonRef | None:
        return self._one_person(persons.c.id == person_id)

    def lock_person(self, person_id: int) -> None:
        # PostgreSQL: a row lock serialises two recognitions of one person; SQLite writers
        # are serialised by the database lock (the write below).
        self._session.execute(
            select(persons.c.id).where(persons.c.id == person_id).with_for_update()
        )

    def hospital_connected(self, fixmedins_code: str) -> bool | None:
        row = self._session.execute(
            select(hospitals.c.cross_region_connected).where(
                hospitals.c.fixmedins_code == fixmedins_code
            )
        ).first()
        return None if row is None else bool(row.cross_region_connected)

    # recognitions ---------------------------------------------------------------------
    def add(self, recognition: Recognition) -> None:
        self._session.execute(
            insert(rec).values(
                id=recognition.id,
                person_id=recognition.person_id,
                insured_region_code=recognition.insured_region_code,
                disease_code=recognition.disease_code,
                disease_name=recognition.disease_name,
                begin_on=recognition.begin_on,
                end_on=recognition.end_on,
                hospital_code=recognition.evidence.hospital_code,
                doctor_name=recognition.evidence.doctor_name,
                evidence_reference=recognition.evidence.reference,
                state=recognition.state.value,
                recorded_by=recognition.recorded_by,
                recorded_at=recognition.recorded_at,
            )
        )

    def get(self, recognition_id: str) -> Recognition | None:
        row = self._session.execute(
            select(*_COLUMNS).select_from(_JOINED).where(rec.c.id == recognition_id)
        ).first()
        return None if row is None else _recognition(row)

    def for_person(self, person_id: int) -> list[Recognition]:
        rows = self._session.execute(
            select(*_COLUMNS)
            .select_from(_JOINED)
            .where(rec.c.person_id == person_id)
            .order_by(rec.c.begin_on, rec.c.id)
        ).all()
        return [_recognition(row) for row in rows]

    def search(self, query: RecognitionQuery) -> tuple[int, list[tuple[Recognition, PersonRef]]]:
        conditions: list[Any] = []
        if query.region_prefix is not None:
            conditions.append(rec.c.insured_region_code.startswith(query.region_prefix))
        if query.own_id_number is not None:
            conditions.append(persons.c.id_number == query.own_id_number)
        if query.disease_code is not None:
            conditions.append(rec.c.disease_code == query.disease_code)
        if query.active_on is not None:
            conditions.append(rec.c.begin_on <= query.active_on)
            conditions.append(or_(rec.c.end_on.is_(None), rec.c.end_on >= query.active_on))
        if query.over is not None:
            if query.as_of is None:
                raise ValueError("a search by over needs as_of")
            over = or_(
                rec.c.state == RecognitionState.ENDED.value,
                and_(rec.c.end_on.is_not(None), rec.c.end_on < query.as_of),
            )
            conditions.append(over if query.over else not_(over))
        total = self._session.execute(
            select(func.count()).select_from(_JOINED).where(*conditions)
        ).scalar_one()
        rows = self._session.execute(
            select(*_COLUMNS)
            .select_from(_JOINED)
            .where(*conditions)
            .order_by(rec.c.recorded_at.desc(), rec.c.id)
            .limit(query.limit)
            .offset(query.offset)
        ).all()
        return int(total), [(_recognition(row), _joined_person(row)) for row in rows]

    def end(
        self, recognition_id: str, end_on: dt.date, *, by: str, at: dt.datetime, reason: str
    ) -> None:
        self._session.execute(
            update(rec)
            .where(rec.c.id == recognition_id)
            .values(
                end_on=end_on,
                state=RecognitionState.ENDED.value,
                ended_by=by,
                ended_at=at,
                end_reason=reason,
            )
        )
