"""An in-memory unit of work implementing the 对账差异 ports (``yidi.reconciliation.ports``).

One :class:`DisputeDatabase` holds the state; each :class:`DisputeUnitOfWork` works on it and,
like the SQL unit of work, rolls back on exit unless committed (the state is restored from a
copy taken on entry). The audit and idempotency stores are the chronic fakes' (same shape).
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

from fakes_chronic import FakeAudit, FakeIdempotency

from yidi.funds.model import ClearingAdjustment
from yidi.kernel.audit import AuditEntry
from yidi.reconciliation.model import Dispute, DisputeEvent, DisputeState
from yidi.reconciliation.ports import CentreLine, DisputeQuery


@dataclass
class DisputeDatabase:
    hospitals: dict[str, str] = field(default_factory=dict)  # code -> region
    lines: dict[tuple[str, str, bool], CentreLine] = field(default_factory=dict)
    disputes: dict[str, Dispute] = field(default_factory=dict)
    audit: list[AuditEntry] = field(default_factory=list)
    idempotency: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    commits: int = 0
    closed_months: set[str] = field(default_factory=set)
    #: (the step that decided it, the adjustment, withdrawn at)
    adjustments: list[tuple[int, ClearingAdjustment, dt.datetime | None]] = field(
        default_factory=list
    )


class FakeDisputes:
    def __init__(self, db: DisputeDatabase) -> None:
        self._db = db

    def hospital_region(self, hospital_code: str) -> str | None:
        return self._db.hospitals.get(hospital_code)

    def centre_line(
        self, hospital_code: str, settlement_id: str, refund: bool
    ) -> CentreLine | None:
        return self._db.lines.get((hospital_code, settlement_id, refund))

    def add(self, dispute: Dispute) -> bool:
        if dispute.line_key and self.by_line_key(dispute.line_key) is not None:
            return False
        self._db.disputes[dispute.id] = dispute
        return True

    def get(self, dispute_id: str, *, for_update: bool = False) -> Dispute | None:
        found = self._db.disputes.get(dispute_id)
        if found is None:
            return None
        return dataclasses.replace(found, carried=tuple(self.adjustments_of(dispute_id)))

    def by_line_key(self, key: str) -> Dispute | None:
        return next((d for d in self._db.disputes.values() if d.line_key == key), None)

    def record(self, dispute: Dispute, event: DisputeEvent) -> None:
        assert dispute.last == event
        self._db.disputes[dispute.id] = dispute

    def month_is_closed(self, month: str) -> bool:
        return month in self._db.closed_months

    def adjustments_of(self, dispute_id: str) -> list[ClearingAdjustment]:
        return [
            a for _seq, a, gone in self._db.adjustments if a.dispute_id == dispute_id and not gone
        ]

    def add_adjustment(self, adjustment: ClearingAdjustment, seq: int) -> None:
        # the database's unique (dispute, step): one adjustment per resolve step
        assert all(
            (a.dispute_id, n) != (adjustment.dispute_id, seq) for n, a, _ in self._db.adjustments
        )
        self._db.adjustments.append((seq, adjustment, None))

    def withdraw_adjustments(self, ids: list[str], at: dt.datetime) -> None:
        self._db.adjustments = [
            (n, a, at if a.id in ids and gone is None else gone)
            for n, a, gone in self._db.adjustments
        ]

    def _matching(self, query: DisputeQuery) -> list[Dispute]:
        def keep(d: Dispute) -> bool:
            prefix = query.region_prefix
            return (
                (query.hospital_scope is None or d.hospital_code == query.hospital_scope)
                and (
                    prefix is None
                    or d.treatment_region_code.startswith(prefix)
                    or (d.insured_region_code or "").startswith(prefix)
                )
                and (query.hospital_code is None or d.hospital_code == query.hospital_code)
                and (query.state is None or d.state is query.state)
                and (not query.open_only or d.state is not DisputeState.RESOLVED)
                and (query.month is None or d.month == query.month)
            )

        found = [d for d in self._db.disputes.values() if keep(d)]
        return sorted(found, key=lambda d: (-d.last.at.timestamp(), d.id))

    def count(self, query: DisputeQuery) -> int:
        return len(self._matching(query))

    def search(self, query: DisputeQuery) -> tuple[int, list[Dispute]]:
        found = self._matching(query)
        return len(found), found[query.offset : query.offset + query.limit]


class DisputeUnitOfWork:
    def __init__(self, db: DisputeDatabase) -> None:
        self._db = db

    def __enter__(self) -> Self:
        self._snapshot: Any = copy.deepcopy(
            (self._db.disputes, self._db.audit, self._db.idempotency, self._db.adjustments)
        )
        self.disputes = FakeDisputes(self._db)
        self.audit = FakeAudit(self._db)  # type: ignore[arg-type]
        self.idempotency = FakeIdempotency(self._db)  # type: ignore[arg-type]
        self._committed = False
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._committed:
            (
                self._db.disputes,
                self._db.audit,
                self._db.idempotency,
                self._db.adjustments,
            ) = self._snapshot

    def commit(self) -> None:
        self._committed = True
        self._db.commits += 1
