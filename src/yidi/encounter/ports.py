"""What the encounter use cases need from the outside: the repositories and the unit of work,
as Protocols. ``yidi.platform.uow.SqlUnitOfWork`` (with ``yidi.encounter.sql``) implements
them on the database; ``tests/unit/fakes.py`` implements them in memory, so the use cases
run in unit tests without one.

Rows and values come from ``yidi.encounter.records`` and the other features' models; the
repositories take plain ``dict`` values for new rows (their column names) as the SQL layer
does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from types import TracebackType
from typing import Any, Protocol

from yidi.accounts.model import Movement
from yidi.catalog.model import CatalogVersion
from yidi.encounter.records import CatalogVersionRow, EncounterRow, FeeLineRow, SettlementRow
from yidi.filing.model.lifecycle import Filing, FilingState
from yidi.funds.model import SettlementFact
from yidi.kernel.audit import AuditEntry
from yidi.kernel.insurance import InsuranceType
from yidi.kernel.money import Money
from yidi.reference.model import Agency, Hospital, Person
from yidi.settlement.claims import YearToDate


class EncounterRepository(Protocol):
    """Encounters, fee lines, settlements, year-to-date totals and the lookup counters."""

    def person_id(self, id_number: str) -> int | None: ...
    def person_by_psn_no(self, psn_no: str) -> tuple[int, Person] | None: ...
    def person_by_internal_id(self, person_id: int) -> Person | None: ...
    def bump_lookup(self, institution: str, window_start: dt.datetime, kind: str) -> int: ...
    def lookup_counts(self, institution: str, window_start: dt.datetime) -> dict[str, int]: ...

    def add_encounter(self, values: dict[str, Any]) -> None: ...
    def encounter(self, encounter_id: str, *, for_update: bool = False) -> EncounterRow | None: ...
    def update_encounter(self, encounter_id: str, **values: Any) -> None: ...
    def stays_of_person_at(self, person_id: int, hospital_code: str) -> list[EncounterRow]: ...
    def encounters_of_hospital(
        self, hospital_code: str, *, state: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[EncounterRow]: ...

    def fee_lines(
        self, encounter_id: str, *, include_cancelled: bool = False
    ) -> list[FeeLineRow]: ...
    def fee_lines_by_serial(
        self, encounter_id: str, serials: Iterable[str]
    ) -> dict[str, FeeLineRow]: ...
    def add_fee_lines(self, rows: Sequence[dict[str, Any]]) -> None: ...
    def replace_fee_line(self, line_id: int, values: dict[str, Any]) -> None: ...
    def cancel_fee_lines(self, line_ids: Sequence[int], at: dt.datetime) -> None: ...
    def mark_fee_lines_settled(self, encounter_id: str, settlement_id: str | None) -> None: ...

    def add_settlement(self, values: dict[str, Any]) -> None: ...
    def settlement(self, settlement_id: str) -> SettlementRow | None: ...
    def settlements_of_encounter(self, encounter_id: str) -> list[SettlementRow]: ...
    def set_settlement_state(self, settlement_id: str, state: str) -> None: ...
    def settlement_totals(self) -> list[dict[str, Any]]: ...

    def lock_year_to_date(
        self, person_id: int, insurance_type: InsuranceType, year: int
    ) -> YearToDate: ...
    def read_year_to_date(
        self, person_id: int, insurance_type: InsuranceType, year: int
    ) -> YearToDate: ...
    def write_year_to_date(
        self, person_id: int, insurance_type: InsuranceType, totals: YearToDate
    ) -> None: ...

    # The treatment region's catalogues (read through ``CatalogLookup``).
    def catalog_regions(self) -> set[str]: ...
    def catalog_versions(self, treatment_region: str | None = None) -> list[CatalogVersionRow]: ...
    def load_catalog(self, version: CatalogVersionRow) -> CatalogVersion: ...


class ReferenceReader(Protocol):
    """Hospitals, insured persons and agencies (the reference data)."""

    def hospital(self, fixmedins_code: str) -> Hospital | None: ...
    def person_by_card(self, card_number: str) -> Person | None: ...
    def person_by_id_number(self, id_number: str) -> Person | None: ...
    def person_by_ecert(self, token: str) -> Person | None: ...
    def agencies(self, region_code: str | None = None) -> list[Agency]: ...


class FilingReader(Protocol):
    def current_for_person(self, id_number: str, states: Sequence[FilingState]) -> list[Filing]: ...


class PersonalAccount(Protocol):
    """个人账户 of one person, insurance type and year."""

    @property
    def person_id(self) -> int: ...
    @property
    def year(self) -> int: ...
    @property
    def balance(self) -> Money: ...


class AccountMovement(Protocol):
    @property
    def amount(self) -> Money: ...


class AccountLedger(Protocol):
    def read(
        self, person_id: int, insurance_type: InsuranceType, year: int
    ) -> PersonalAccount | None: ...
    def lock(
        self, person_id: int, insurance_type: InsuranceType, year: int, at: dt.datetime
    ) -> PersonalAccount: ...
    # ``account`` is what ``lock`` answered (the implementation's own row type).
    def move(
        self,
        account: Any,
        movement: Movement,
        *,
        at: dt.datetime,
        by: str,
        source: str = "",
        settlement_id: str | None = None,
    ) -> PersonalAccount: ...
    def debit_of_settlement(self, settlement_id: str) -> AccountMovement | None: ...


class FundsReader(Protocol):
    def fact(self, setl_id: str) -> SettlementFact | None: ...


class IdempotencyStore(Protocol):
    def recall(self, scope: str, key: str, fingerprint: str) -> Any | None: ...
    def answer(self, scope: str, key: str) -> Any | None: ...
    def remember(
        self, scope: str, key: str, fingerprint: str, response: Any, at: dt.datetime
    ) -> None: ...


class AuditLog(Protocol):
    def append(self, entry: AuditEntry) -> object: ...


class EncounterUnitOfWork(Protocol):
    """One transaction: rolled back on exit unless committed."""

    @property
    def hospital(self) -> EncounterRepository: ...
    @property
    def reference(self) -> ReferenceReader: ...
    @property
    def filings(self) -> FilingReader: ...
    @property
    def accounts(self) -> AccountLedger: ...
    @property
    def funds(self) -> FundsReader: ...
    @property
    def idempotency(self) -> IdempotencyStore: ...
    @property
    def audit(self) -> AuditLog: ...

    def __enter__(self) -> EncounterUnitOfWork: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    def commit(self) -> None: ...


class CatalogSource(Protocol):
    """The treatment region's catalogues by day (``yidi.catalog.commands.CatalogLookup``)."""

    def catalog_region(self, uow: Any, region_code: str) -> str | None: ...
    def versions(self, uow: Any, catalog_region: str) -> list[CatalogVersionRow]: ...
    def in_force(
        self, uow: Any, versions: list[CatalogVersionRow], on_day: dt.date
    ) -> CatalogVersion | None: ...


class FactRecorder(Protocol):
    """Records what the insured region owes (``yidi.funds.commands.record_settlement_fact``)
    in the caller's transaction."""

    def __call__(
        self, uow: Any, fact: SettlementFact, recorded_at: dt.datetime
    ) -> SettlementFact: ...


__all__ = [
    "AccountLedger",
    "AccountMovement",
    "AuditLog",
    "CatalogSource",
    "EncounterRepository",
    "EncounterUnitOfWork",
    "FactRecorder",
    "FilingReader",
    "FundsReader",
    "IdempotencyStore",
    "PersonalAccount",
    "ReferenceReader",
]
