"""Repositories for reference data. Feature repositories live beside their feature."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from typing import Any, Final

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.orm import Session

from yidi.kernel.insurance import HospitalLevel, InsuranceType, PersonType
from yidi.platform.rows import record_from_row
from yidi.platform.tables import agencies, hospitals, persons
from yidi.reference.model import (
    Agency,
    Hospital,
    InstitutionType,
    Person,
    format_connections,
    parse_connections,
)


def _agency(row: Any) -> Agency:
    return Agency(
        code=row.code,
        name=row.name,
        region_code=row.region_code,
        insurance_type=InsuranceType(row.insurance_type) if row.insurance_type else None,
        phone=row.phone,
    )


def _hospital(row: Any) -> Hospital:
    return record_from_row(
        Hospital,
        row,
        level=HospitalLevel(row.level),
        cross_region_connected=bool(row.cross_region_connected),
        institution_type=InstitutionType(row.institution_type),
        connections=parse_connections(row.connected_kinds),
    )


def _person(row: Any) -> Person:
    return record_from_row(
        Person,
        row,
        insurance_type=InsuranceType(row.insurance_type),
        person_type=PersonType(row.person_type),
        has_second_generation_card=bool(row.has_second_generation_card),
    )


#: Digits of randomness in a person number (about 73 bits): not guessable, not countable.
PSN_NO_DIGITS: Final = 22


def new_psn_no() -> str:
    """A fresh 人员编号: ``PSN`` and 22 random digits (25 characters, within str 30)."""
    return "PSN" + "".join(secrets.choice("0123456789") for _ in range(PSN_NO_DIGITS))


def new_ecert_token() -> str:
    """A fresh 医保电子凭证 token (the stand-in for the code the person's app shows)."""
    return "EC" + secrets.token_hex(20).upper()


def person_row(person: Person) -> dict[str, Any]:
    """The row of a person newly registered: a random person number and e-credential."""
    return {
        "psn_no": person.psn_no or new_psn_no(),
        "ecert_token": new_ecert_token(),
        "ethnicity": person.ethnicity,
        "insured_since": person.insured_since,
        "employer_name": person.employer_name,
        "id_number": person.id_number,
        "name": person.name,
        "gender": person.gender,
        "birth_on": person.birth_on,
        "insured_region_code": person.insured_region_code,
        "insurance_type": person.insurance_type.value,
        "person_type": person.person_type.value,
        "card_number": person.card_number,
        "has_second_generation_card": person.has_second_generation_card,
        "home_address": person.home_address,
        "mobile": person.mobile,
        "low_income_group": person.low_income_group,
    }


# The institution read of every hospital transaction, built once.
_HOSPITAL = select(hospitals).where(hospitals.c.fixmedins_code == bindparam("code"))


class ReferenceRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    # agencies -------------------------------------------------------------
    def add_agency(self, agency: Agency) -> None:
        self._session.execute(
            insert(agencies).values(
                code=agency.code,
                name=agency.name,
                region_code=agency.region_code,
                insurance_type=agency.insurance_type.value if agency.insurance_type else None,
                phone=agency.phone,
            )
        )

    def agencies(self, region_code: str | None = None) -> list[Agency]:
        query = select(agencies).order_by(agencies.c.region_code, agencies.c.code)
        if region_code:
            query = query.where(agencies.c.region_code == region_code)
        return [_agency(r) for r in self._session.execute(query)]

    def agency(self, code: str) -> Agency | None:
        row = self._session.execute(select(agencies).where(agencies.c.code == code)).first()
        return _agency(row) if row else None

    # hospitals ------------------------------------------------------------
    def add_hospital(self, hospital: Hospital) -> None:
        self._session.execute(
            insert(hospitals).values(
                fixmedins_code=hospital.fixmedins_code,
                name=hospital.name,
                level=int(hospital.level),
                region_code=hospital.region_code,
                cross_region_connected=hospital.cross_region_connected,
                institution_type=hospital.institution_type.value,
                connected_kinds=format_connections(hospital.listed_connections),
            )
        )

    def hospitals(
        self,
        region_prefix: str | None = None,
        *,
        institution_type: InstitutionType | None = InstitutionType.HOSPITAL,
    ) -> list[Hospital]:
        """Designated hospitals (by default; pharmacies with ``InstitutionType.PHARMACY``,
        every institution with None), by region, then level, then name."""
        query = select(hospitals).order_by(
            hospitals.c.region_code, hospitals.c.level.desc(), hospitals.c.name
        )
        if region_prefix:
            query = query.where(hospitals.c.region_code.startswith(region_prefix))
        if institution_type is not None:
            query = query.where(hospitals.c.institution_type == institution_type.value)
        return [_hospital(r) for r in self._session.execute(query)]

    def hospital(self, fixmedins_code: str) -> Hospital | None:
        row = self._session.execute(_HOSPITAL, {"code": fixmedins_code}).first()
        return _hospital(row) if row else None

    # persons --------------------------------------------------------------
    def add_persons(self, batch: Iterable[Person]) -> int:
        rows = [person_row(p) for p in batch]
        if rows:
            self._session.execute(insert(persons), rows)
        return len(rows)

    def registered_id_numbers(self, id_numbers: Sequence[str]) -> set[str]:
        """Those of ``id_numbers`` already in the register (asked in slices of 1,000)."""
        found: set[str] = set()
        for start in range(0, len(id_numbers), 1000):
            chunk = id_numbers[start : start + 1000]
            found.update(
                self._session.execute(
                    select(persons.c.id_number).where(persons.c.id_number.in_(chunk))
                ).scalars()
            )
        return found

    def person_by_id_number(self, id_number: str) -> Person | None:
        row = self._session.execute(select(persons).where(persons.c.id_number == id_number)).first()
        return _person(row) if row else None

    def person_by_psn_no(self, psn_no: str) -> Person | None:
        row = self._session.execute(select(persons).where(persons.c.psn_no == psn_no)).first()
        return _person(row) if row else None

    def person_by_ecert(self, token: str) -> Person | None:
        row = self._session.execute(select(persons).where(persons.c.ecert_token == token)).first()
        return _person(row) if row else None

    def ecert_token_of(self, id_number: str) -> str | None:
        """The person's e-credential token (demo desks and tests hand it to the patient)."""
        return self._session.execute(
            select(persons.c.ecert_token).where(persons.c.id_number == id_number)
        ).scalar()

    def person_by_card(self, card_number: str) -> Person | None:
        row = self._session.execute(
            select(persons).where(persons.c.card_number == card_number)
        ).first()
        return _person(row) if row else None

    def count_persons(self) -> int:
        return int(self._session.execute(select(func.count()).select_from(persons)).scalar_one())

    def persons_sample(self, limit: int) -> Sequence[Person]:
        rows = self._session.execute(select(persons).order_by(persons.c.id).limit(limit))
        return [_person(r) for r in rows]
