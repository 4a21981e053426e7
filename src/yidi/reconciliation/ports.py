"""What the 对账差异 use cases need from storage: the rows they exchange and the protocols.

:class:`yidi.platform.uow.SqlUnitOfWork` with
:class:`yidi.reconciliation.sql.DisputeRepository` implements them on the database.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Protocol, Self

from yidi.funds.model import ClearingAdjustment
from yidi.kernel.unit_of_work import AuditedTransaction
from yidi.reconciliation.model import Dispute, DisputeEvent, DisputeState, LineAmounts


@dataclass(frozen=True, slots=True)
class CentreLine:
    """The centre's record of one settlement line (a settlement, or the refund of one)."""

    settlement_id: str
    refund: bool
    amounts: LineAmounts
    insured_region_code: str
    settled_at: dt.datetime


@dataclass(frozen=True, slots=True)
class DisputeQuery:
    """List criteria; ``hospital_scope`` / ``region_prefix`` carry the caller's scope (both
    None: every dispute, the clearing centre)."""

    hospital_scope: str | None = None
    region_prefix: str | None = None
    hospital_code: str | None = None
    state: DisputeState | None = None
    open_only: bool = False
    month: str | None = None
    limit: int = 50
    offset: int = 0


class DisputeStore(Protocol):
    def hospital_region(self, hospital_code: str) -> str | None:
        """The hospital's region (the treatment place), None for an unknown hospital."""

    def centre_line(
        self, hospital_code: str, settlement_id: str, refund: bool
    ) -> CentreLine | None: ...

    def add(self, dispute: Dispute) -> bool:
        """Insert a dispute and its first event; False when its line already has one."""

    def get(self, dispute_id: str, *, for_update: bool = False) -> Dispute | None: ...
    def by_line_key(self, key: str) -> Dispute | None: ...
    def record(self, dispute: Dispute, event: DisputeEvent) -> None:
        """Store the dispute's new state and append ``event``."""

    def search(self, query: DisputeQuery) -> tuple[int, list[Dispute]]: ...
    def count(self, query: DisputeQuery) -> int: ...

    # 清算调整 (clearing adjustments) the disputes' resolutions carry
    def month_is_closed(self, month: str) -> bool: ...
    def adjustments_of(self, dispute_id: str) -> list[ClearingAdjustment]:
        """The dispute's adjustments not withdrawn, in the order they were decided."""

    def add_adjustment(self, adjustment: ClearingAdjustment, seq: int) -> None:
        """Store an adjustment decided by the dispute's step ``seq`` (one per step)."""

    def withdraw_adjustments(self, ids: list[str], at: dt.datetime) -> None: ...


class IdempotencyStore(Protocol):
    def recall(self, scope: str, key: str, fingerprint: str) -> Any | None: ...
    def remember(
        self, scope: str, key: str, fingerprint: str, response: Any, at: dt.datetime
    ) -> None: ...


class DisputeUnitOfWork(AuditedTransaction, Protocol):
    @property
    def disputes(self) -> DisputeStore: ...
    @property
    def idempotency(self) -> IdempotencyStore: ...

    def __enter__(self) -> Self: ...
