"""对账差异 storage with transactions that really commit (PostgreSQL in its own schema, SQLite in
its own file): the same line raised twice at the same moment is stored once; two answers at the
same moment append one step; two resolutions at the same moment carry one clearing adjustment;
a step whose audit entry cannot be written leaves nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select, update

from concurrency_support import at_once
from hospital_support import BOBAI_CASHIER, BOBAI_CODE, load_reference
from yidi.bootstrap import Container
from yidi.kernel.access import Principal, Role
from yidi.kernel.money import Money
from yidi.platform.audit_log import AuditRepository
from yidi.platform.tables import (
    audit_log,
    clearing_adjustments,
    reconciliation_dispute_events,
    reconciliation_disputes,
)
from yidi.reconciliation.commands import RaiseRequest, Step
from yidi.reconciliation.model import DisputeAction, DisputeState, Outcome

CLEARING = Principal("clearing", Role.CLEARING_OFFICER, "430000")
OTHER_CASHIER = Principal("bobai2", Role.HOSPITAL_CASHIER, hospital_code=BOBAI_CODE)
LINE = RaiseRequest(BOBAI_CODE, "2026-11", "医院未申报这一笔", "S20261120000001")


@pytest.fixture
def committed(committed: Container) -> Container:
    load_reference(committed)
    return committed


def rows(container: Container, table: Any, **where: str) -> int:
    with container.uow() as uow:
        query = select(func.count()).select_from(table)
        for column, value in where.items():
            query = query.where(table.c[column] == value)
        return int(uow.session.execute(query).scalar_one())


def test_the_same_line_raised_twice_at_once_is_stored_once(committed: Container) -> None:
    results, errors = at_once(
        [lambda: committed.disputes.raise_dispute(CLEARING, LINE) for _ in range(2)]
    )
    assert errors == [] and len(results) == 2
    assert len({dispute.id for dispute, _created in results}) == 1
    assert sorted(created for _dispute, created in results) == [False, True]
    assert rows(committed, reconciliation_disputes) == 1
    assert rows(committed, reconciliation_dispute_events) == 1
    assert rows(committed, audit_log, action="reconciliation.dispute_raise") == 1


def test_two_answers_at_once_append_one_step(committed: Container) -> None:
    dispute, _ = committed.disputes.raise_dispute(CLEARING, LINE)

    def answer(principal: Principal, text: str) -> Any:
        step = Step(DisputeAction.ANSWER, text)
        return lambda: committed.disputes.act(principal, dispute.id, step)

    results, errors = at_once(
        [answer(BOBAI_CASHIER, "本院已补记"), answer(OTHER_CASHIER, "本院另有说明")]
    )
    assert len(results) == 1 and len(errors) == 1
    assert getattr(errors[0], "code", None) == "DISPUTE_STATE"
    stored = committed.disputes.get(CLEARING, dispute.id)
    assert stored.state is DisputeState.ANSWERED and len(stored.events) == 2
    assert rows(committed, reconciliation_dispute_events) == 2


def test_a_step_whose_audit_entry_fails_writes_nothing(
    committed: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    dispute, _ = committed.disputes.raise_dispute(CLEARING, LINE)

    def broken(self: AuditRepository, entry: object) -> None:
        raise RuntimeError("the audit chain is unavailable")

    monkeypatch.setattr(AuditRepository, "append", broken)
    with pytest.raises(RuntimeError):
        committed.disputes.act(BOBAI_CASHIER, dispute.id, Step(DisputeAction.ANSWER, "本院已补记"))
    with pytest.raises(RuntimeError):
        committed.disputes.raise_dispute(
            CLEARING, RaiseRequest(BOBAI_CODE, "2026-11", "另一笔", "S20261120000002")
        )
    monkeypatch.undo()
    stored = committed.disputes.get(CLEARING, dispute.id)
    assert stored.state is DisputeState.RAISED and len(stored.events) == 1
    assert rows(committed, reconciliation_disputes) == 1
    assert rows(committed, reconciliation_dispute_events) == 1


def test_two_resolutions_at_once_carry_one_clearing_adjustment(committed: Container) -> None:
    dispute, _ = committed.disputes.raise_dispute(CLEARING, LINE)
    with committed.uow() as uow:  # the centre's record names the insured region
        uow.session.execute(
            update(reconciliation_disputes)
            .where(reconciliation_disputes.c.id == dispute.id)
            .values(insured_region_code="430421")
        )
        uow.commit()
    committed.disputes.act(BOBAI_CASHIER, dispute.id, Step(DisputeAction.ANSWER, "本院已核对"))
    other = Principal("clearing2", Role.CLEARING_OFFICER, "430000")

    def resolve(principal: Principal, text: str) -> Any:
        step = Step(DisputeAction.RESOLVE, text, None, Outcome.ACCEPTED, Money("12.34"))
        return lambda: committed.disputes.act(principal, dispute.id, step)

    results, errors = at_once(
        [
            resolve(CLEARING, "追补 12.34 元"),
            resolve(CLEARING, "追补 12.34 元"),
            resolve(other, "另行追补"),
        ]
    )
    # the same step twice is one step (a resend); the other officer finds it resolved
    assert len(results) + len(errors) == 3
    assert all(getattr(e, "code", None) == "DISPUTE_STATE" for e in errors)
    stored = committed.disputes.get(CLEARING, dispute.id)
    assert stored.state is DisputeState.RESOLVED and len(stored.events) == 3
    assert rows(committed, clearing_adjustments) == 1
    assert [a.amount for a in stored.carried] == [Money("12.34")]
    assert rows(committed, audit_log, action="reconciliation.dispute_resolve") == 1
