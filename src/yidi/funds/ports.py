"""What the money-side use cases (facts, clearing, prepayment, statistics) need from
storage, as Protocols, and the clearing-run row they read. ``yidi.funds.sql.FundsRepository``
(``uow.funds`` of ``yidi.platform.uow.SqlUnitOfWork``) implements them on the database;
``tests/unit/fakes_funds.py`` implements them in memory.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from yidi.funds.model import (
    ClearingAdjustment,
    ClearingLevel,
    ClearingStatement,
    LedgerEntry,
    Prepayment,
    PrepaymentUsage,
    SettlementFact,
)
from yidi.funds.prepayment import TopUpRequest, TopUpStatus
from yidi.funds.statistics import StatisticsQuery
from yidi.kernel.money import Money
from yidi.kernel.unit_of_work import AuditedTransaction


@dataclass(frozen=True, slots=True)
class ClearingRunRecord:
    month: str
    level: ClearingLevel
    status: str  # "open" | "closed"
    statement: ClearingStatement
    content_hash: str
    run_at: dt.datetime
    closed_at: dt.datetime | None

    @property
    def is_closed(self) -> bool:
        return self.status == "closed"


class FactLedger(Protocol):
    """Settlement facts and their ledger entries (what a settlement writes in its own
    transaction), and whether a month's clearing is closed."""

    def add_fact(self, fact: SettlementFact, recorded_at: dt.datetime) -> None: ...
    def add_entries(self, entries: Sequence[LedgerEntry], posted_at: dt.datetime) -> None: ...
    def fact(self, setl_id: str) -> SettlementFact | None: ...
    def reversal_of(self, setl_id: str) -> SettlementFact | None: ...
    def month_is_closed(self, month: str) -> bool: ...


class FundsRepository(FactLedger, Protocol):
    """Facts, prepayments (预付金), clearing runs (月度清算) and the statistics sums."""

    def facts(
        self,
        *,
        clearing_month: str | None = None,
        settled_from: dt.date | None = None,
        settled_to: dt.date | None = None,
        insured_prefix: str | None = None,
        hospital_code: str | None = None,
    ) -> list[SettlementFact]: ...
    def set_prepayment(self, prepayment: Prepayment) -> None: ...
    def prepayments_as_of(
        self, level: ClearingLevel, on: dt.date
    ) -> dict[tuple[str, str], Money]: ...
    def clearing_run(self, month: str, level: ClearingLevel) -> ClearingRunRecord | None: ...
    def clearing_runs_between(
        self, level: ClearingLevel, first_month: str, last_month: str
    ) -> list[ClearingRunRecord]: ...
    def add_top_up_request(
        self,
        usage: PrepaymentUsage,
        requested_by: str,
        requested_region_code: str | None,
        at: dt.datetime,
    ) -> int: ...
    def top_up_request(
        self, request_id: int, *, for_update: bool = False
    ) -> TopUpRequest | None: ...
    def top_up_requests(self, status: TopUpStatus | None = None) -> list[TopUpRequest]: ...
    def decide_top_up(
        self,
        request_id: int,
        status: TopUpStatus,
        approved: Money | None,
        decided_by: str,
        at: dt.datetime,
        reason: str | None,
    ) -> bool:
        """Record the decision of a request still ``requested``; False when it was not."""
        ...

    def add_to_prepayment(
        self, level: ClearingLevel, insured: str, treatment: str, amount: Money, on: dt.date
    ) -> Money:
        """Add ``amount`` to the pair's prepayment held from ``on``; the new amount held."""
        ...

    def adjustments(self, clearing_month: str) -> list[ClearingAdjustment]:
        """The 清算调整 (from resolved reconciliation disputes) the month carries."""
        ...

    def save_open_run(self, statement: ClearingStatement, run_at: dt.datetime) -> None: ...
    def close_run(self, month: str, level: ClearingLevel, closed_at: dt.datetime) -> bool: ...
    def reopen_run(self, month: str, level: ClearingLevel) -> bool: ...
    def statistics_sums(
        self, query: StatisticsQuery
    ) -> list[tuple[str, int, int, tuple[int, ...]]]: ...
    def statistics_kind_sums(
        self, query: StatisticsQuery
    ) -> list[tuple[str, int, int, tuple[int, ...]]]: ...
    def hospital_names(self, codes: Iterable[str]) -> dict[str, str]: ...


class RecordsFacts(Protocol):
    """A transaction in which a settlement's fact is recorded (the caller's)."""

    @property
    def funds(self) -> FactLedger: ...


class IdempotencyStore(Protocol):
    """Retry keys: a retry with the same key and request gets the first answer."""

    def recall(self, scope: str, key: str, fingerprint: str) -> Any | None: ...
    def remember(
        self, scope: str, key: str, fingerprint: str, response: Any, at: dt.datetime
    ) -> None: ...


class FundsUnitOfWork(AuditedTransaction, Protocol):
    @property
    def funds(self) -> FundsRepository: ...
    @property
    def idempotency(self) -> IdempotencyStore: ...

    def __enter__(self) -> FundsUnitOfWork: ...
