"""In-memory implementations of the settlement ports (``yidi.settlement.ports``: manual
claims, the admission estimate, reconciliation and clearing applications) and of the
catalogue ports (``yidi.catalog.ports``), on top of the encounter fakes in ``fakes.py``.

:class:`SettlementFakeDatabase` adds the manual claims, clearing applications and closed
months to the encounter world; :class:`FakeSettlementUnitOfWork` rolls back on exit unless
committed, like the SQL unit of work.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from fakes import FakeDatabase, FakeEncounterRepository, FakeFunds, FakeUnitOfWork

from yidi.catalog.model import CatalogVersion
from yidi.catalog.ports import CatalogUnitOfWork
from yidi.encounter.records import CatalogVersionRow, SettlementRow
from yidi.settlement.ports import (
    ManualClaimListRow,
    ManualClaimQuery,
    ManualClaimRow,
    ManualClaimUnitOfWork,
    ReconciliationUnitOfWork,
)

_MANUAL_DEFAULTS: dict[str, Any] = {
    name: None
    for name in (
        "result_json",
        "total_charges_fen",
        "fund_paid_total_fen",
        "patient_share_fen",
        "year_to_date_delta_json",
        "policy_version",
        "catalog_version",
        "catalog_note",
        "approved_by",
        "approved_at",
        "paid_at",
        "payment_reference",
    )
}


@dataclass
class SettlementFakeDatabase(FakeDatabase):
    manual_claims: dict[str, ManualClaimRow] = field(default_factory=dict)
    clearing_applications: dict[str, dict[str, Any]] = field(default_factory=dict)
    closed_months: set[str] = field(default_factory=set)


class FakeSettlementRepository(FakeEncounterRepository):
    """The encounter repository plus manual claims, clearing applications and catalogue
    imports (``uow.hospital`` of the SQL unit of work holds all of them)."""

    db: SettlementFakeDatabase

    # catalogue imports
    def catalog_version_by_hash(self, content_hash: str) -> CatalogVersionRow | None:
        return next((row for row, _ in self.db.catalogs if row.content_hash == content_hash), None)

    def add_catalog_version(
        self, catalog: CatalogVersion, *, source_name: str, at: dt.datetime
    ) -> CatalogVersionRow:
        self.db.catalogs = [*self.db.catalogs]
        self.db.add_catalog(catalog)
        row, stored = self.db.catalogs[-1]
        row = dataclasses.replace(row, source_name=source_name, imported_at=at)
        self.db.catalogs[-1] = (row, stored)
        return row

    # manual claims
    def add_manual_claim(self, values: dict[str, Any]) -> None:
        self.db.manual_claims[values["id"]] = ManualClaimRow(**(_MANUAL_DEFAULTS | values))

    def manual_claim(self, claim_id: str, *, for_update: bool = False) -> ManualClaimRow | None:
        return self.db.manual_claims.get(claim_id)

    def update_manual_claim(self, claim_id: str, **values: Any) -> None:
        row = self.db.manual_claims[claim_id]
        self.db.manual_claims[claim_id] = dataclasses.replace(row, **values)

    def search_manual_claims(self, query: ManualClaimQuery) -> tuple[int, list[ManualClaimListRow]]:
        found = []
        for row in self.db.manual_claims.values():
            person = self.db.persons[row.person_id]
            if not (
                row.insured_region_code.startswith(query.region_prefix)
                and (not query.states or row.state in query.states)
                and (query.created_from is None or row.created_at >= query.created_from)
                and (query.created_before is None or row.created_at < query.created_before)
                and (query.claim_id is None or row.id == query.claim_id)
                and (query.id_number is None or person.id_number == query.id_number)
                and (query.name is None or person.name == query.name)
            ):
                continue
            found.append(
                ManualClaimListRow(
                    id=row.id,
                    person_name=person.name,
                    id_number=person.id_number,
                    insured_region_code=row.insured_region_code,
                    treatment_region_code=row.treatment_region_code,
                    hospital_name=row.hospital_name,
                    admitted_on=row.admitted_on,
                    discharged_on=row.discharged_on,
                    materials_json=row.materials_json,
                    state=row.state,
                    total_charges_fen=row.total_charges_fen,
                    fund_paid_total_fen=row.fund_paid_total_fen,
                    patient_share_fen=row.patient_share_fen,
                    created_at=row.created_at,
                )
            )
        found.sort(key=lambda r: (r.created_at, r.id), reverse=True)
        return len(found), found[query.offset : query.offset + query.limit]

    # a hospital's statement and its clearing applications
    def settlements_of_hospital(
        self, hospital_code: str, settled_from: dt.datetime, settled_before: dt.datetime
    ) -> list[SettlementRow]:
        rows = [
            s
            for s in self.db.settlements.values()
            if s.hospital_code == hospital_code and settled_from <= s.settled_at < settled_before
        ]
        return sorted(rows, key=lambda s: (s.settled_at, s.id))

    def add_clearing_application(self, values: dict[str, Any]) -> bool:
        if self.standing_clearing_application(
            values["hospital_code"], values["clearing_month"], values["clearing_type"]
        ):
            return False
        self.db.clearing_applications[values["id"]] = {"cancelled_at": None, **values}
        return True

    def clearing_application(
        self, application_id: str, *, for_update: bool = False
    ) -> dict[str, Any] | None:
        found = self.db.clearing_applications.get(application_id)
        return None if found is None else dict(found)

    def standing_clearing_application(
        self, hospital_code: str, month: str, clearing_type: str
    ) -> str | None:
        return next(
            (
                a["id"]
                for a in self.db.clearing_applications.values()
                if (a["hospital_code"], a["clearing_month"], a["clearing_type"], a["active"])
                == (hospital_code, month, clearing_type, "1")
            ),
            None,
        )

    def cancel_clearing_application(self, application_id: str, at: dt.datetime) -> None:
        application = self.db.clearing_applications[application_id]
        self.db.clearing_applications[application_id] = application | {
            "active": None,
            "cancelled_at": at,
        }


class FakeClosedMonths(FakeFunds):
    db: SettlementFakeDatabase

    def month_is_closed(self, month: str) -> bool:
        return month in self.db.closed_months

    def clearing_types(
        self, hospital_code: str, settled_from: dt.date, settled_to: dt.date
    ) -> dict[str, str]:
        return {
            setl_id: fact.clearing_kind.value
            for setl_id, fact in self.db.facts.items()
            if fact.hospital_code == hospital_code and settled_from <= fact.settled_on <= settled_to
        }


class FakeSettlementUnitOfWork(FakeUnitOfWork):
    def __init__(self, db: SettlementFakeDatabase) -> None:
        super().__init__(db)
        self.hospital: FakeSettlementRepository = FakeSettlementRepository(db)
        self.funds: FakeClosedMonths = FakeClosedMonths(db)

    def __enter__(self) -> FakeSettlementUnitOfWork:
        super().__enter__()
        return self


# Typed as the ports: mypy checks that the fakes implement them.
def manual_claim_unit(db: SettlementFakeDatabase) -> ManualClaimUnitOfWork:
    return FakeSettlementUnitOfWork(db)


def reconciliation_unit(db: SettlementFakeDatabase) -> ReconciliationUnitOfWork:
    return FakeSettlementUnitOfWork(db)


def catalog_unit(db: SettlementFakeDatabase) -> CatalogUnitOfWork:
    return FakeSettlementUnitOfWork(db)
