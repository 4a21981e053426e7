"""An in-memory unit of work implementing the encounter ports (``yidi.encounter.ports``), so
the encounter use cases run in unit tests without a database.

One :class:`FakeDatabase` holds the state; each :class:`FakeUnitOfWork` works on it and, like
the SQL unit of work, rolls back on exit unless committed (the state is restored from a copy
taken on entry). Stored answers of the idempotency store go through JSON, as in the table.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import itertools
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from yidi.accounts.model import FamilyBinding, Movement, MovementKind, apply
from yidi.catalog.model import CatalogVersion
from yidi.chronic.model import Recognition
from yidi.encounter.model import EncounterState, open_stay_conflict
from yidi.encounter.ports import EncounterUnitOfWork, LookupCheck
from yidi.encounter.records import (
    SETTLEMENT_AMOUNT_COLUMNS,
    CatalogVersionRow,
    ClaimLineRow,
    EncounterContext,
    EncounterRow,
    FeeLineRow,
    SettlementRow,
    fee_line_row,
)
from yidi.filing.model.lifecycle import Filing, FilingState
from yidi.funds.model import SettlementFact
from yidi.kernel.audit import AuditEntry, as_utc
from yidi.kernel.errors import Conflict
from yidi.kernel.insurance import InsuranceType
from yidi.kernel.money import Money
from yidi.reference.model import Agency, Hospital, Person
from yidi.settlement.claims import YearToDate

_OPEN = (EncounterState.ADMITTED.value, EncounterState.DISCHARGED.value)


@dataclass(frozen=True, slots=True)
class FakeAccount:
    id: int
    person_id: int
    insurance_type: str
    year: int
    balance: Money


@dataclass(frozen=True, slots=True)
class FakeMovement:
    kind: MovementKind
    amount: Money
    balance_after: Money
    settlement_id: str | None
    account: tuple[int, str, int] | None = None


@dataclass
class FakeDatabase:
    """Everything the fake repositories keep; copied on entry for rollback."""

    hospitals: dict[str, Hospital] = field(default_factory=dict)
    persons: dict[int, Person] = field(default_factory=dict)
    agencies: list[Agency] = field(default_factory=list)
    filings: dict[str, list[Filing]] = field(default_factory=dict)
    catalogs: list[tuple[CatalogVersionRow, CatalogVersion]] = field(default_factory=list)
    encounters: dict[str, EncounterRow] = field(default_factory=dict)
    fee_lines: dict[int, FeeLineRow] = field(default_factory=dict)
    settlements: dict[str, SettlementRow] = field(default_factory=dict)
    year_to_date: dict[tuple[int, str, int], YearToDate] = field(default_factory=dict)
    lookups: dict[tuple[str, dt.datetime, str], int] = field(default_factory=dict)
    accounts: dict[tuple[int, str, int], FakeAccount] = field(default_factory=dict)
    family_bindings: list[FamilyBinding] = field(default_factory=list)
    movements: list[FakeMovement] = field(default_factory=list)
    facts: dict[str, SettlementFact] = field(default_factory=dict)
    idempotency: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    audit: list[AuditEntry] = field(default_factory=list)
    recognitions: list[Recognition] = field(default_factory=list)
    commits: int = 0

    def add_person(self, person: Person) -> int:
        person_id = len(self.persons) + 1
        self.persons[person_id] = person
        return person_id

    def add_catalog(self, catalog: CatalogVersion) -> None:
        row = CatalogVersionRow(
            id=len(self.catalogs) + 1,
            treatment_region=catalog.treatment_region,
            version_label=catalog.version_label,
            effective_on=catalog.effective_on,
            content_hash=catalog.content_hash,
            item_count=len(catalog),
            source_name="fake",
            imported_at=dt.datetime(2017, 1, 1, tzinfo=dt.UTC),
        )
        self.catalogs.append((row, catalog))


_ids = itertools.count(1)


class FakeEncounterRepository:
    def __init__(self, db: FakeDatabase) -> None:
        self.db = db
        self._lookups_at_commit: list[tuple[str, dt.datetime, LookupCheck]] = []

    # persons and lookups
    def person_id(self, id_number: str) -> int | None:
        return next((pid for pid, p in self.db.persons.items() if p.id_number == id_number), None)

    def person_by_psn_no(self, psn_no: str) -> tuple[int, Person] | None:
        return next(((pid, p) for pid, p in self.db.persons.items() if p.psn_no == psn_no), None)

    def _person_with_id(self, test: Any) -> tuple[int, Person] | None:
        return next(((pid, p) for pid, p in self.db.persons.items() if test(p)), None)

    def person_by_card(self, card_number: str) -> tuple[int, Person] | None:
        return self._person_with_id(lambda p: p.card_number == card_number)

    def person_by_id_number(self, id_number: str) -> tuple[int, Person] | None:
        return self._person_with_id(lambda p: p.id_number == id_number)

    def person_by_ecert(self, token: str) -> tuple[int, Person] | None:
        return None  # no electronic credentials in the fake world

    def person_by_internal_id(self, person_id: int) -> Person | None:
        return self.db.persons.get(person_id)

    def lookup_counts(self, institution: str, window_start: dt.datetime) -> tuple[int, int]:
        return (
            self.db.lookups.get((institution, window_start, "all"), 0),
            self.db.lookups.get((institution, window_start, "miss"), 0),
        )

    def count_lookup_at_commit(
        self, institution: str, window_start: dt.datetime, check: LookupCheck
    ) -> None:
        self._lookups_at_commit.append((institution, window_start, check))

    def count_lookups_at_commit(self) -> None:
        """Called by the fake unit of work's commit, as the SQL one does."""
        noted, self._lookups_at_commit = self._lookups_at_commit, []
        for institution, window_start, check in noted:
            counted = self.bump_lookup(institution, window_start, "all")
            check(counted, self.db.lookups.get((institution, window_start, "miss"), 0))

    def bump_lookup(self, institution: str, window_start: dt.datetime, kind: str) -> int:
        key = (institution, window_start, kind)
        self.db.lookups[key] = self.db.lookups.get(key, 0) + 1
        return self.db.lookups[key]

    # encounters
    def add_encounter(self, values: dict[str, Any]) -> None:
        row = EncounterRow(**values)
        if row.state in _OPEN and any(
            other.state in _OPEN
            for other in self.stays_of_person_at(row.person_id, row.hospital_code)
        ):
            raise open_stay_conflict()  # the schema's partial unique index
        self.db.encounters[row.id] = row

    def encounter(self, encounter_id: str, *, for_update: bool = False) -> EncounterRow | None:
        return self.db.encounters.get(encounter_id)

    def encounter_context(
        self, encounter_id: str, *, for_update: bool = False
    ) -> EncounterContext | None:
        row = self.db.encounters.get(encounter_id)
        if row is None:
            return None
        person = self.db.persons[row.person_id]
        return EncounterContext(row, person, self.db.hospitals[row.hospital_code])

    def update_encounter(self, encounter_id: str, **values: Any) -> None:
        self.db.encounters[encounter_id] = dataclasses.replace(
            self.db.encounters[encounter_id], **values
        )

    def stays_of_person_at(self, person_id: int, hospital_code: str) -> list[EncounterRow]:
        return [
            row
            for row in self.db.encounters.values()
            if row.person_id == person_id
            and row.hospital_code == hospital_code
            and row.state != EncounterState.CANCELLED.value
        ]

    def encounters_of_hospital(
        self, hospital_code: str, *, state: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[EncounterRow]:
        rows = [
            row
            for row in self.db.encounters.values()
            if row.hospital_code == hospital_code and (state is None or row.state == state)
        ]
        rows.sort(key=lambda row: (-row.admitted_at.timestamp(), row.id))
        return rows[offset : offset + limit]

    # fee lines
    def fee_lines(self, encounter_id: str, *, include_cancelled: bool = False) -> list[FeeLineRow]:
        return [
            line
            for _, line in sorted(self.db.fee_lines.items())
            if line.encounter_id == encounter_id and (include_cancelled or not line.cancelled)
        ]

    def fee_lines_by_serial(
        self, encounter_id: str, serials: Iterable[str]
    ) -> dict[str, FeeLineRow]:
        wanted = set(serials)
        return {
            line.serial: line
            for line in self.fee_lines(encounter_id, include_cancelled=True)
            if line.serial in wanted
        }

    @staticmethod
    def _line(line_id: int, values: dict[str, Any]) -> FeeLineRow:
        return fee_line_row(line_id, values)

    def add_fee_lines(self, rows: Sequence[dict[str, Any]]) -> dict[str, int]:
        added: dict[str, int] = {}
        for values in rows:
            if self.fee_lines_by_serial(values["encounter_id"], [values["serial"]]):
                continue  # the unique (encounter, serial): ON CONFLICT DO NOTHING
            line_id = next(_ids)
            self.db.fee_lines[line_id] = self._line(line_id, values)
            added[values["serial"]] = line_id
        return added

    def claim_lines(self, encounter_id: str) -> list[ClaimLineRow]:
        return [
            ClaimLineRow(
                serial=line.serial,
                catalog_code=line.catalog_code,
                hospital_item_code=line.hospital_item_code,
                name=line.name,
                quantity=line.quantity,
                unit_price=line.unit_price,
                amount=line.amount,
                occurred_at=line.occurred_at,
                emergency_pre_admission=line.emergency_pre_admission,
            )
            for line in self.fee_lines(encounter_id)
        ]

    def replace_fee_line(self, line_id: int, values: dict[str, Any]) -> None:
        old = self.db.fee_lines[line_id]
        merged = {"encounter_id": old.encounter_id, "serial": old.serial} | values
        self.db.fee_lines[line_id] = self._line(line_id, merged)

    def cancel_fee_lines(self, line_ids: Sequence[int], at: dt.datetime) -> None:
        for line_id in line_ids:
            self.db.fee_lines[line_id] = dataclasses.replace(
                self.db.fee_lines[line_id], cancelled=True
            )

    def mark_fee_lines_settled(self, encounter_id: str, settlement_id: str | None) -> None:
        for line in self.fee_lines(encounter_id):
            self.db.fee_lines[line.id] = dataclasses.replace(line, settlement_id=settlement_id)

    # settlements
    def add_settlement(self, values: dict[str, Any]) -> None:
        amounts = {
            name: Money.from_fen(values[f"{name}_fen"]) for name in SETTLEMENT_AMOUNT_COLUMNS
        }
        plain = {k: v for k, v in values.items() if not k.endswith("_fen")}
        plain["settled_at"] = as_utc(plain["settled_at"])
        self.db.settlements[values["id"]] = SettlementRow(amounts=amounts, **plain)

    def settlement(self, settlement_id: str) -> SettlementRow | None:
        return self.db.settlements.get(settlement_id)

    def settlements_of_encounter(self, encounter_id: str) -> list[SettlementRow]:
        return sorted(
            (row for row in self.db.settlements.values() if row.encounter_id == encounter_id),
            key=lambda row: (row.settled_at, row.id),
        )

    def set_settlement_state(self, settlement_id: str, state: str) -> None:
        self.db.settlements[settlement_id] = dataclasses.replace(
            self.db.settlements[settlement_id], state=state
        )

    def settlement_totals(self) -> list[dict[str, Any]]:
        totals: dict[tuple[str, str], dict[str, Any]] = {}
        for row in self.db.settlements.values():
            if row.kind != "settle" or row.state != "active":
                continue
            key = (row.insured_region_code, row.treatment_region_code)
            entry = totals.setdefault(
                key,
                {
                    "insured_region_code": key[0],
                    "treatment_region_code": key[1],
                    "settlements": 0,
                    "total": Money.zero(),
                    "fund_paid": Money.zero(),
                    "patient_share": Money.zero(),
                    "owed_to_treatment_region": Money.zero(),
                },
            )
            entry["settlements"] += 1
            entry["total"] += row.amounts["total_charges"]
            entry["fund_paid"] += row.amounts["fund_paid_total"]
            entry["patient_share"] += row.amounts["patient_share"]
            entry["owed_to_treatment_region"] += row.amounts["owed_to_treatment_region"]
        return [totals[key] for key in sorted(totals)]

    # year to date
    def lock_year_to_date(
        self, person_id: int, insurance_type: InsuranceType, year: int
    ) -> YearToDate:
        return self.read_year_to_date(person_id, insurance_type, year)

    def read_year_to_date(
        self, person_id: int, insurance_type: InsuranceType, year: int
    ) -> YearToDate:
        found = self.db.year_to_date.get((person_id, insurance_type.value, year))
        return found if found is not None else YearToDate.empty(year)

    def write_year_to_date(
        self, person_id: int, insurance_type: InsuranceType, totals: YearToDate
    ) -> None:
        self.db.year_to_date[(person_id, insurance_type.value, totals.year)] = totals

    # catalogues
    def catalog_regions(self) -> set[str]:
        return {row.treatment_region for row, _ in self.db.catalogs}

    def catalog_versions(self, treatment_region: str | None = None) -> list[CatalogVersionRow]:
        rows = [
            row
            for row, _ in self.db.catalogs
            if treatment_region is None or row.treatment_region == treatment_region
        ]
        return sorted(rows, key=lambda row: (row.treatment_region, row.effective_on))

    def load_catalog(self, version: CatalogVersionRow) -> CatalogVersion:
        return next(catalog for row, catalog in self.db.catalogs if row.id == version.id)

    def catalog_generation(self) -> tuple[int, int]:
        return len(self.db.catalogs), max((row.id for row, _ in self.db.catalogs), default=0)


class FakeReference:
    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    def hospital(self, fixmedins_code: str) -> Hospital | None:
        return self.db.hospitals.get(fixmedins_code)

    def hospitals(self, region_prefix: str | None = None) -> list[Hospital]:
        found = [
            h
            for h in self.db.hospitals.values()
            if not h.is_pharmacy and h.region_code.startswith(region_prefix or "")
        ]
        return sorted(found, key=lambda h: (h.region_code, -int(h.level), h.name))

    def _person(self, test: Any) -> Person | None:
        return next((p for p in self.db.persons.values() if test(p)), None)

    def person_by_card(self, card_number: str) -> Person | None:
        return self._person(lambda p: p.card_number == card_number)

    def person_by_id_number(self, id_number: str) -> Person | None:
        return self._person(lambda p: p.id_number == id_number)

    def person_by_ecert(self, token: str) -> Person | None:
        return None  # no electronic credentials in the fake world

    def agencies(self, region_code: str | None = None) -> list[Agency]:
        found = [a for a in self.db.agencies if not region_code or a.region_code == region_code]
        return sorted(found, key=lambda a: (a.region_code, a.code))


class FakeFilings:
    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    def current_for_person(self, id_number: str, states: Sequence[FilingState]) -> list[Filing]:
        return [f for f in self.db.filings.get(id_number.upper(), []) if f.state in states]

    def admission_candidates(self, id_number: str) -> list[Filing]:
        return self.current_for_person(id_number, (FilingState.APPROVED,))


class FakeAccounts:
    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    def read(self, person_id: int, insurance_type: InsuranceType, year: int) -> FakeAccount | None:
        return self.db.accounts.get((person_id, insurance_type.value, year))

    def lock(
        self, person_id: int, insurance_type: InsuranceType, year: int, at: dt.datetime
    ) -> FakeAccount:
        key = (person_id, insurance_type.value, year)
        if key not in self.db.accounts:
            self.db.accounts[key] = FakeAccount(
                len(self.db.accounts) + 1, person_id, insurance_type.value, year, Money.zero()
            )
        return self.db.accounts[key]

    def move(
        self,
        account: Any,
        movement: Movement,
        *,
        at: dt.datetime,
        by: str,
        source: str = "",
        settlement_id: str | None = None,
    ) -> FakeAccount:
        after: FakeAccount = dataclasses.replace(account, balance=apply(account.balance, movement))
        self.db.accounts[(account.person_id, account.insurance_type, account.year)] = after
        self.db.movements.append(
            FakeMovement(
                movement.kind,
                movement.amount,
                after.balance,
                settlement_id,
                (account.person_id, account.insurance_type, account.year),
            )
        )
        return after

    def account_of_debit(self, settlement_id: str) -> FakeAccount | None:
        debit = self.debit_of_settlement(settlement_id)
        return None if debit is None or debit.account is None else self.db.accounts[debit.account]

    def family_bindings(self, member_person_id: int) -> list[FamilyBinding]:
        return [b for b in self.db.family_bindings if b.member_person_id == member_person_id]

    def debit_of_settlement(self, settlement_id: str) -> FakeMovement | None:
        return next(
            (
                m
                for m in self.db.movements
                if m.kind is MovementKind.DEBIT and m.settlement_id == settlement_id
            ),
            None,
        )


class FakeFunds:
    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    def fact(self, setl_id: str) -> SettlementFact | None:
        return self.db.facts.get(setl_id)


def record_fact(uow: Any, fact: SettlementFact, recorded_at: dt.datetime) -> SettlementFact:
    """What ``yidi.funds.commands.record_settlement_fact`` keeps, without the clearing months."""
    facts = uow.funds.db.facts
    if fact.setl_id in facts:
        raise Conflict("FACT_DUPLICATE", "已记账", "already recorded")
    facts[fact.setl_id] = fact
    return fact


class FakeIdempotency:
    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    def recall(self, scope: str, key: str, fingerprint: str) -> Any | None:
        found = self.db.idempotency.get((scope, key))
        if found is None:
            return None
        if found[0] != fingerprint:
            raise Conflict("IDEMPOTENCY_KEY_REUSED", "报文ID已用于另一笔交易", "key reused")
        return json.loads(found[1])

    def answer(self, scope: str, key: str) -> Any | None:
        found = self.db.idempotency.get((scope, key))
        return None if found is None else json.loads(found[1])

    def recall_unless(
        self, scope: str, key: str, fingerprint: str, other: str
    ) -> tuple[Any | None, Any | None]:
        voided = self.answer(scope, other)
        if voided is not None:
            return voided, None
        return None, self.recall(scope, key, fingerprint)

    def remember(
        self, scope: str, key: str, fingerprint: str, response: Any, at: dt.datetime
    ) -> None:
        if (scope, key) in self.db.idempotency:
            raise Conflict("IDEMPOTENCY_KEY_REUSED", "报文ID已用于另一笔交易", "key reused")
        self.db.idempotency[(scope, key)] = (fingerprint, json.dumps(response, default=str))


class FakeAudit:
    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    def append(self, entry: AuditEntry) -> AuditEntry:
        self.db.audit.append(entry)
        return entry


class FakeRecognitionReader:
    def __init__(self, db: FakeDatabase) -> None:
        self._db = db

    def for_person(self, person_id: int) -> list[Recognition]:
        return [r for r in self._db.recognitions if r.person_id == person_id]


class FakeUnitOfWork:
    """One transaction on a :class:`FakeDatabase`; rolled back on exit unless committed."""

    def __init__(self, db: FakeDatabase) -> None:
        self.db = db
        self.hospital = FakeEncounterRepository(db)
        self.reference = FakeReference(db)
        self.filings = FakeFilings(db)
        self.accounts = FakeAccounts(db)
        self.funds = FakeFunds(db)
        self.idempotency = FakeIdempotency(db)
        self.audit = FakeAudit(db)
        self.chronic = FakeRecognitionReader(db)
        self._snapshot: dict[str, Any] = {}

    def _state(self) -> dict[str, Any]:
        return {
            f.name: copy.copy(getattr(self.db, f.name))
            for f in dataclasses.fields(self.db)
            if f.name != "commits"
        }

    def __enter__(self) -> FakeUnitOfWork:
        self._snapshot = self._state()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for name, value in self._snapshot.items():  # rollback what was not committed
            setattr(self.db, name, value)

    def commit(self) -> None:
        self.hospital.count_lookups_at_commit()
        self.db.commits += 1
        self._snapshot = self._state()


def fake_unit_of_work(db: FakeDatabase) -> EncounterUnitOfWork:
    """A unit of work on ``db``, typed as the port (mypy checks that the fake implements it)."""
    return FakeUnitOfWork(db)
