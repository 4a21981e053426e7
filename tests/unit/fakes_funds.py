"""In-memory implementation of the money-side ports (``yidi.funds.ports``): settlement
facts, ledger entries, prepayments and clearing runs, on top of the encounter fakes in
``fakes.py`` (hospitals and the audit log).

The statistics sums are grouped in Python with the same dimension keys the database uses
(``yidi.funds.statistics.statistics_from_facts``), so a test can compare both paths.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from fakes import FakeDatabase, FakeUnitOfWork

from yidi.funds.model import (
    ClearingAdjustment,
    ClearingLevel,
    ClearingStatement,
    LedgerEntry,
    Prepayment,
    PrepaymentUsage,
    SettlementFact,
)
from yidi.funds.ports import ClearingRunRecord, FundsUnitOfWork
from yidi.funds.statistics import StatisticsQuery, statistics_from_facts
from yidi.kernel.money import Money


@dataclass
class FundsFakeDatabase(FakeDatabase):
    fact_order: list[str] = field(default_factory=list)
    entries: list[LedgerEntry] = field(default_factory=list)
    prepayments: list[Prepayment] = field(default_factory=list)  # in the order they were set
    runs: dict[tuple[str, ClearingLevel], ClearingRunRecord] = field(default_factory=dict)
    top_ups: list[tuple[PrepaymentUsage, str, str | None, dt.datetime]] = field(
        default_factory=list
    )
    adjustments: list[ClearingAdjustment] = field(default_factory=list)  # carried, not withdrawn


class FakeFundsRepository:
    def __init__(self, db: FundsFakeDatabase) -> None:
        self.db = db

    # facts and ledger
    def add_fact(self, fact: SettlementFact, recorded_at: dt.datetime) -> None:
        self.db.facts[fact.setl_id] = fact
        self.db.fact_order.append(fact.setl_id)

    def add_entries(self, entries: Sequence[LedgerEntry], posted_at: dt.datetime) -> None:
        self.db.entries.extend(entries)

    def fact(self, setl_id: str) -> SettlementFact | None:
        return self.db.facts.get(setl_id)

    def reversal_of(self, setl_id: str) -> SettlementFact | None:
        return next((f for f in self.db.facts.values() if f.reverses_setl_id == setl_id), None)

    def facts(
        self,
        *,
        clearing_month: str | None = None,
        settled_from: dt.date | None = None,
        settled_to: dt.date | None = None,
        insured_prefix: str | None = None,
        hospital_code: str | None = None,
    ) -> list[SettlementFact]:
        return [
            fact
            for fact in (self.db.facts[setl_id] for setl_id in self.db.fact_order)
            if (clearing_month is None or fact.clearing_month == clearing_month)
            and (settled_from is None or fact.settled_on >= settled_from)
            and (settled_to is None or fact.settled_on <= settled_to)
            and (not insured_prefix or fact.insured_region_code.startswith(insured_prefix))
            and (hospital_code is None or fact.hospital_code == hospital_code)
        ]

    # prepayments
    def set_prepayment(self, prepayment: Prepayment) -> None:
        self.db.prepayments.append(prepayment)

    def prepayments_as_of(self, level: ClearingLevel, on: dt.date) -> dict[tuple[str, str], Money]:
        held: dict[tuple[str, str], Money] = {}
        # sorted() is stable: of two set for the same day, the later one counts
        for p in sorted(self.db.prepayments, key=lambda p: p.effective_on):
            if p.level is level and p.effective_on <= on:
                held[(p.insured_region_code, p.treatment_region_code)] = p.amount
        return held

    # clearing runs
    def clearing_run(self, month: str, level: ClearingLevel) -> ClearingRunRecord | None:
        return self.db.runs.get((month, level))

    def save_open_run(self, statement: ClearingStatement, run_at: dt.datetime) -> None:
        key = (statement.month, statement.level)
        existing = self.db.runs.get(key)
        if existing is not None and existing.is_closed:
            return
        self.db.runs[key] = ClearingRunRecord(
            statement.month,
            statement.level,
            "open",
            statement,
            statement.content_hash,
            run_at,
            None,
        )

    def _move(
        self, month: str, level: ClearingLevel, status: str, record: ClearingRunRecord
    ) -> bool:
        existing = self.db.runs.get((month, level))
        if existing is None or existing.status != status:
            return False
        self.db.runs[(month, level)] = record
        return True

    def close_run(self, month: str, level: ClearingLevel, closed_at: dt.datetime) -> bool:
        run = self.db.runs.get((month, level))
        if run is None:
            return False
        closed = ClearingRunRecord(
            month, level, "closed", run.statement, run.content_hash, run.run_at, closed_at
        )
        return self._move(month, level, "open", closed)

    def reopen_run(self, month: str, level: ClearingLevel) -> bool:
        run = self.db.runs.get((month, level))
        if run is None:
            return False
        opened = ClearingRunRecord(
            month, level, "open", run.statement, run.content_hash, run.run_at, None
        )
        return self._move(month, level, "closed", opened)

    def adjustments(self, clearing_month: str) -> list[ClearingAdjustment]:
        return [a for a in self.db.adjustments if a.clearing_month == clearing_month]

    def month_is_closed(self, month: str) -> bool:
        return any(run.is_closed for (m, _), run in self.db.runs.items() if m == month)

    # statistics
    def statistics_sums(
        self, query: StatisticsQuery
    ) -> list[tuple[str, int, int, tuple[int, ...]]]:
        report = statistics_from_facts(self.db.facts.values(), query)
        return [
            (row.key, row.person_times, row.total_charges_fen, row.fund_fen) for row in report.rows
        ]

    def statistics_kind_sums(
        self, query: StatisticsQuery
    ) -> list[tuple[str, int, int, tuple[int, ...]]]:
        report = statistics_from_facts(self.db.facts.values(), query)
        return [
            (row.key, row.person_times, row.total_charges_fen, row.fund_fen) for row in report.kinds
        ]

    def clearing_runs_between(
        self, level: ClearingLevel, first_month: str, last_month: str
    ) -> list[ClearingRunRecord]:
        return [
            run
            for (month, run_level), run in sorted(self.db.runs.items(), key=lambda kv: kv[0][0])
            if run_level is level and first_month <= month <= last_month
        ]

    def add_top_up_request(
        self,
        usage: PrepaymentUsage,
        requested_by: str,
        requested_region_code: str | None,
        at: dt.datetime,
    ) -> int:
        self.db.top_ups.append((usage, requested_by, requested_region_code, at))
        return len(self.db.top_ups)

    def hospital_names(self, codes: Iterable[str]) -> dict[str, str]:
        return {code: self.db.hospitals[code].name for code in codes if code in self.db.hospitals}


class FakeFundsUnitOfWork(FakeUnitOfWork):
    def __init__(self, db: FundsFakeDatabase) -> None:
        super().__init__(db)
        self.funds: FakeFundsRepository = FakeFundsRepository(db)  # type: ignore[assignment]

    def __enter__(self) -> FakeFundsUnitOfWork:
        super().__enter__()
        return self


def funds_unit(db: FundsFakeDatabase) -> FundsUnitOfWork:
    """A unit of work on ``db``, typed as the port (mypy checks that the fake implements it)."""
    return FakeFundsUnitOfWork(db)
