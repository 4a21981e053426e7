"""What the settlement use cases outside the hospital flow need from storage, as Protocols:
the admission estimate (``estimate``), manual reimbursement (``manual``) and the centre's
side of a hospital's statement and clearing application (``reconciliation``).

``yidi.platform.uow.SqlUnitOfWork`` (its ``hospital`` repository is
``yidi.encounter.sql.HospitalRepository``) implements them on the database;
``tests/unit/fakes_settlement.py`` implements them in memory. The rows of manual claims
are defined here, the storage maps its columns onto them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from yidi.catalog.ports import CatalogReader
from yidi.encounter.ports import IdempotencyStore
from yidi.encounter.records import SettlementRow
from yidi.filing.model.lifecycle import Filing, FilingState
from yidi.kernel.insurance import InsuranceType
from yidi.kernel.unit_of_work import AuditedTransaction
from yidi.reference.model import Hospital, Person
from yidi.settlement.claims import YearToDate

# --------------------------------------------------------------------------- manual claim rows


@dataclass(frozen=True, slots=True)
class ManualClaimRow:
    id: str
    person_id: int
    insured_region_code: str
    treatment_region_code: str
    hospital_name: str
    hospital_level: int
    encounter_type: str
    filing_category: str | None
    admitted_on: dt.date
    discharged_on: dt.date
    reason: str
    materials_json: str
    fee_lines_json: str
    state: str
    result_json: str | None
    total_charges_fen: int | None
    fund_paid_total_fen: int | None
    patient_share_fen: int | None
    year_to_date_delta_json: str | None
    policy_version: str | None
    catalog_version: str | None
    catalog_note: str | None
    approved_by: str | None
    approved_at: dt.datetime | None
    paid_at: dt.datetime | None
    payment_reference: str | None
    created_by: str
    created_at: dt.datetime
    updated_at: dt.datetime
    #: 补办备案: the filing whose category set the claim's (filed) rates
    late_filing_number: str | None = None
    #: the directory's 定点医疗机构编号, None for a hospital typed as free text
    hospital_code: str | None = None
    payee_name: str | None = None  # 收款人
    payee_bank: str | None = None  # 开户银行
    payee_account: str | None = None  # 银行账号 (digits; masked wherever it is listed)


@dataclass(frozen=True, slots=True)
class ManualClaimQuery:
    """List criteria for manual claims; ``region_prefix`` carries the caller's scope."""

    region_prefix: str
    states: tuple[str, ...] = ()
    created_from: dt.datetime | None = None  # inclusive
    created_before: dt.datetime | None = None  # exclusive
    claim_id: str | None = None
    id_number: str | None = None
    name: str | None = None
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True, slots=True)
class ManualClaimListRow:
    """One line of the claims list: what a list shows, without the fee lines or the result."""

    id: str
    person_name: str
    id_number: str
    insured_region_code: str
    treatment_region_code: str
    hospital_name: str
    admitted_on: dt.date
    discharged_on: dt.date
    materials_json: str
    state: str
    total_charges_fen: int | None
    fund_paid_total_fen: int | None
    patient_share_fen: int | None
    created_at: dt.datetime


# --------------------------------------------------------------------------- repositories


class PersonsAndTotals(Protocol):
    """Insured persons by internal id and their year-to-date totals (累计)."""

    def person_id(self, id_number: str) -> int | None: ...
    def person_by_internal_id(self, person_id: int) -> Person | None: ...
    def read_year_to_date(
        self, person_id: int, insurance_type: InsuranceType, year: int
    ) -> YearToDate: ...


class EstimateStore(PersonsAndTotals, CatalogReader, Protocol):
    """What an estimate reads: the person's totals and the treatment catalogues."""


class ManualClaimStore(EstimateStore, Protocol):
    """Manual claims, and the year-to-date totals they share with direct settlement."""

    def lock_year_to_date(
        self, person_id: int, insurance_type: InsuranceType, year: int
    ) -> YearToDate: ...
    def write_year_to_date(
        self, person_id: int, insurance_type: InsuranceType, totals: YearToDate
    ) -> None: ...
    def add_manual_claim(self, values: dict[str, Any]) -> None: ...
    def manual_claim(self, claim_id: str, *, for_update: bool = False) -> ManualClaimRow | None: ...
    def update_manual_claim(self, claim_id: str, **values: Any) -> None: ...
    def search_manual_claims(
        self, query: ManualClaimQuery
    ) -> tuple[int, list[ManualClaimListRow]]: ...


class StatementStore(Protocol):
    """A hospital's settlement records and its clearing applications (3201–3204)."""

    def person_by_internal_id(self, person_id: int) -> Person | None: ...
    def settlements_of_hospital(
        self, hospital_code: str, settled_from: dt.datetime, settled_before: dt.datetime
    ) -> list[SettlementRow]: ...
    def add_clearing_application(self, values: dict[str, Any]) -> bool: ...
    def clearing_application(
        self, application_id: str, *, for_update: bool = False
    ) -> dict[str, Any] | None: ...
    def standing_clearing_application(
        self, hospital_code: str, month: str, clearing_type: str
    ) -> str | None: ...
    def cancel_clearing_application(self, application_id: str, at: dt.datetime) -> None: ...


class PersonReader(Protocol):
    def person_by_id_number(self, id_number: str) -> Person | None: ...


class HospitalReader(Protocol):
    def hospital(self, fixmedins_code: str) -> Hospital | None: ...


class FilingReader(Protocol):
    def current_for_person(self, id_number: str, states: Sequence[FilingState]) -> list[Filing]: ...


class ClosedMonths(Protocol):
    def month_is_closed(self, month: str) -> bool: ...


class ClearingFacts(ClosedMonths, Protocol):
    """What reconciliation reads of the money side: closed months and each settlement's
    clearing type (清算类别)."""

    def clearing_types(
        self, hospital_code: str, settled_from: dt.date, settled_to: dt.date
    ) -> dict[str, str]: ...


# --------------------------------------------------------------------------- units of work


class EstimateReading(Protocol):
    """What an estimate reads inside the caller's transaction (nothing is written)."""

    @property
    def hospital(self) -> EstimateStore: ...
    @property
    def reference(self) -> PersonReader: ...
    @property
    def filings(self) -> FilingReader: ...


class ManualClaimReference(PersonReader, HospitalReader, Protocol):
    """Persons by ID number, and the hospital directory (定点医疗机构) a claim names."""

    def hospitals(self, region_prefix: str | None = None) -> list[Hospital]: ...


class ManualClaimUnitOfWork(AuditedTransaction, Protocol):
    @property
    def hospital(self) -> ManualClaimStore: ...
    @property
    def reference(self) -> ManualClaimReference: ...
    @property
    def filings(self) -> FilingReader: ...

    def __enter__(self) -> ManualClaimUnitOfWork: ...


class ReconciliationUnitOfWork(AuditedTransaction, Protocol):
    @property
    def hospital(self) -> StatementStore: ...
    @property
    def reference(self) -> HospitalReader: ...
    @property
    def funds(self) -> ClearingFacts: ...
    @property
    def idempotency(self) -> IdempotencyStore: ...

    def __enter__(self) -> ReconciliationUnitOfWork: ...
