"""SQL for 对账差异: the disputes, their steps, and the centre's record of a settlement line."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from yidi.funds.model import ClearingAdjustment
from yidi.funds.sql import adjustment_from_row
from yidi.kernel.audit import as_utc
from yidi.kernel.money import Money
from yidi.platform.tables import clearing_adjustments as adjustments
from yidi.platform.tables import clearing_runs, hospitals, settlements
from yidi.platform.tables import reconciliation_dispute_events as events
from yidi.platform.tables import reconciliation_disputes as disputes
from yidi.reconciliation.model import (
    Dispute,
    DisputeAction,
    DisputeEvent,
    DisputeKind,
    DisputeState,
    LineAmounts,
    Outcome,
    Side,
)
from yidi.reconciliation.ports import CentreLine, DisputeQuery


def _fen(money: Money | None) -> int | None:
    return None if money is None else money.fen


def _money(fen: int | None) -> Money | None:
    return None if fen is None else Money.from_fen(int(fen))


def _amounts(row: Any, side: str) -> LineAmounts | None:
    total = getattr(row, f"{side}_total_fen")
    if total is None:
        return None
    return LineAmounts(
        Money.from_fen(int(total)),
        Money.from_fen(int(getattr(row, f"{side}_fund_fen"))),
        Money.from_fen(int(getattr(row, f"{side}_account_fen"))),
    )


def _amount_columns(side: str, amounts: LineAmounts | None) -> dict[str, int | None]:
    return {
        f"{side}_total_fen": None if amounts is None else amounts.total.fen,
        f"{side}_fund_fen": None if amounts is None else amounts.fund.fen,
        f"{side}_account_fen": None if amounts is None else amounts.account.fen,
    }


def _event(row: Any) -> DisputeEvent:
    return DisputeEvent(
        action=DisputeAction(row.action),
        from_state=DisputeState(row.from_state) if row.from_state else None,
        to_state=DisputeState(row.to_state),
        side=Side(row.side),
        actor_id=row.actor_id,
        actor_role=row.actor_role,
        at=as_utc(row.at),
        text=row.text,
        amount=_money(row.amount_fen),
        outcome=Outcome(row.outcome) if row.outcome else None,
        adjustment=_money(row.adjustment_fen),
    )


def _event_values(dispute_id: str, seq: int, event: DisputeEvent) -> dict[str, Any]:
    return {
        "dispute_id": dispute_id,
        "seq": seq,
        "action": event.action.value,
        "from_state": event.from_state.value if event.from_state else None,
        "to_state": event.to_state.value,
        "side": event.side.value,
        "actor_id": event.actor_id[:64],
        "actor_role": event.actor_role[:32],
        "at": as_utc(event.at),
        "text": event.text[:400],
        "amount_fen": _fen(event.amount),
        "outcome": event.outcome.value if event.outcome else None,
        "adjustment_fen": _fen(event.adjustment),
    }


class DisputeRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    # the centre's side ----------------------------------------------------------------
    def hospital_region(self, hospital_code: str) -> str | None:
        row = self._session.execute(
            select(hospitals.c.region_code).where(hospitals.c.fixmedins_code == hospital_code)
        ).first()
        return None if row is None else str(row.region_code)

    def centre_line(
        self, hospital_code: str, settlement_id: str, refund: bool
    ) -> CentreLine | None:
        """The settlement ``settlement_id`` (or, for a refund line, its reversal) as the centre
        recorded it, the way 3202 reads it."""
        query = select(settlements).where(settlements.c.hospital_code == hospital_code)
        if refund:
            query = query.where(
                settlements.c.kind == "reversal", settlements.c.reverses_id == settlement_id
            )
        else:
            query = query.where(settlements.c.kind == "settle", settlements.c.id == settlement_id)
        row = self._session.execute(query.order_by(settlements.c.settled_at)).first()
        if row is None:
            return None
        return CentreLine(
            settlement_id=settlement_id,
            refund=refund,
            amounts=LineAmounts(
                Money.from_fen(int(row.total_charges_fen)),
                Money.from_fen(int(row.fund_paid_total_fen)),
                Money.from_fen(int(row.personal_account_paid_fen)),
            ),
            insured_region_code=row.insured_region_code,
            settled_at=as_utc(row.settled_at),
        )

    # disputes -------------------------------------------------------------------------
    def add(self, dispute: Dispute) -> bool:
        raised = dispute.raised
        try:
            with self._session.begin_nested():
                self._session.execute(
                    insert(disputes).values(
                        id=dispute.id,
                        hospital_code=dispute.hospital_code,
                        treatment_region_code=dispute.treatment_region_code,
                        insured_region_code=dispute.insured_region_code,
                        month=dispute.month,
                        kind=dispute.kind.value,
                        settlement_id=dispute.settlement_id,
                        refund=dispute.refund,
                        line_key=dispute.line_key,
                        **_amount_columns("centre", dispute.centre),
                        **_amount_columns("institution", dispute.institution),
                        raised_by=dispute.raised_by.value,
                        state=dispute.state.value,
                        outcome=None,
                        settled_fen=None,
                        raised_at=as_utc(raised.at),
                        updated_at=as_utc(raised.at),
                    )
                )
        except IntegrityError:
            return False
        self._session.execute(insert(events).values(**_event_values(dispute.id, 1, raised)))
        return True

    def _steps(self, dispute_id: str) -> tuple[DisputeEvent, ...]:
        rows = self._session.execute(
            select(events).where(events.c.dispute_id == dispute_id).order_by(events.c.seq)
        ).all()
        return tuple(_event(row) for row in rows)

    def _dispute(self, row: Any, steps: tuple[DisputeEvent, ...]) -> Dispute:
        return Dispute(
            id=row.id,
            hospital_code=row.hospital_code,
            treatment_region_code=row.treatment_region_code,
            insured_region_code=row.insured_region_code,
            month=row.month,
            kind=DisputeKind(row.kind),
            settlement_id=row.settlement_id,
            refund=bool(row.refund),
            centre=_amounts(row, "centre"),
            institution=_amounts(row, "institution"),
            raised_by=Side(row.raised_by),
            state=DisputeState(row.state),
            events=steps,
            outcome=Outcome(row.outcome) if row.outcome else None,
            settled_amount=_money(row.settled_fen),
        )

    def get(self, dispute_id: str, *, for_update: bool = False) -> Dispute | None:
        query = select(disputes).where(disputes.c.id == dispute_id)
        if for_update:
            query = query.with_for_update()
        row = self._session.execute(query).first()
        if row is None:
            return None
        return dataclasses.replace(
            self._dispute(row, self._steps(row.id)), carried=tuple(self.adjustments_of(row.id))
        )

    def by_line_key(self, key: str) -> Dispute | None:
        row = self._session.execute(select(disputes).where(disputes.c.line_key == key)).first()
        return None if row is None else self._dispute(row, self._steps(row.id))

    def record(self, dispute: Dispute, event: DisputeEvent) -> None:
        self._session.execute(
            update(disputes)
            .where(disputes.c.id == dispute.id)
            .values(
                state=dispute.state.value,
                outcome=dispute.outcome.value if dispute.outcome else None,
                settled_fen=_fen(dispute.settled_amount),
                updated_at=as_utc(event.at),
            )
        )
        self._session.execute(
            insert(events).values(**_event_values(dispute.id, len(dispute.events), event))
        )

    def _conditions(self, query: DisputeQuery) -> list[Any]:
        conditions: list[Any] = []
        if query.hospital_scope is not None:
            conditions.append(disputes.c.hospital_code == query.hospital_scope)
        if query.region_prefix is not None:
            conditions.append(
                or_(
                    disputes.c.treatment_region_code.startswith(query.region_prefix),
                    disputes.c.insured_region_code.startswith(query.region_prefix),
                )
            )
        if query.hospital_code is not None:
            conditions.append(disputes.c.hospital_code == query.hospital_code)
        if query.state is not None:
            conditions.append(disputes.c.state == query.state.value)
        if query.open_only:
            conditions.append(disputes.c.state != DisputeState.RESOLVED.value)
        if query.month is not None:
            conditions.append(disputes.c.month == query.month)
        return conditions

    def count(self, query: DisputeQuery) -> int:
        return int(
            self._session.execute(
                select(func.count()).select_from(disputes).where(*self._conditions(query))
            ).scalar_one()
        )

    def search(self, query: DisputeQuery) -> tuple[int, list[Dispute]]:
        conditions = self._conditions(query)
        rows = self._session.execute(
            select(disputes)
            .where(*conditions)
            .order_by(disputes.c.updated_at.desc(), disputes.c.id)
            .limit(query.limit)
            .offset(query.offset)
        ).all()
        ids = [row.id for row in rows]
        steps: dict[str, list[DisputeEvent]] = {i: [] for i in ids}
        if ids:
            for step in self._session.execute(
                select(events).where(events.c.dispute_id.in_(ids)).order_by(events.c.seq)
            ):
                steps[step.dispute_id].append(_event(step))
        return self.count(query), [self._dispute(row, tuple(steps[row.id])) for row in rows]

    # 清算调整 -------------------------------------------------------------------------
    def month_is_closed(self, month: str) -> bool:
        return (
            self._session.execute(
                select(clearing_runs.c.id).where(
                    clearing_runs.c.clearing_month == month, clearing_runs.c.status == "closed"
                )
            ).first()
            is not None
        )

    def adjustments_of(self, dispute_id: str) -> list[ClearingAdjustment]:
        rows = self._session.execute(
            select(adjustments)
            .where(adjustments.c.dispute_id == dispute_id, adjustments.c.withdrawn_at.is_(None))
            .order_by(adjustments.c.seq)
        ).all()
        return [adjustment_from_row(row) for row in rows]

    def add_adjustment(self, adjustment: ClearingAdjustment, seq: int) -> None:
        self._session.execute(
            insert(adjustments).values(
                id=adjustment.id,
                dispute_id=adjustment.dispute_id,
                seq=seq,
                clearing_month=adjustment.clearing_month,
                concerns_month=adjustment.concerns_month,
                insured_region_code=adjustment.insured_region_code,
                treatment_region_code=adjustment.treatment_region_code,
                hospital_code=adjustment.hospital_code,
                settlement_id=adjustment.settlement_id,
                refund=adjustment.refund,
                amount_fen=adjustment.amount.fen,
                agreed_fen=adjustment.agreed.fen,
                decided_by=adjustment.decided_by[:64],
                decided_role=adjustment.decided_role[:32],
                decided_at=as_utc(adjustment.decided_at),
                reason=adjustment.reason[:400],
                withdrawn_at=None,
            )
        )

    def withdraw_adjustments(self, ids: list[str], at: dt.datetime) -> None:
        self._session.execute(
            update(adjustments)
            .where(adjustments.c.id.in_(ids), adjustments.c.withdrawn_at.is_(None))
            .values(withdrawn_at=as_utc(at))
        )
