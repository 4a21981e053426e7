"""The 对账差异 state machine: every allowed and every refused transition, by each side."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from yidi.kernel.errors import Conflict, InvalidInput, Refused
from yidi.kernel.money import Money
from yidi.reconciliation.model import (
    TRANSITIONS,
    Dispute,
    DisputeAction,
    DisputeKind,
    DisputeState,
    LineAmounts,
    Outcome,
    Side,
    allowed_actions,
    apply,
    raise_dispute,
    statement_kind,
)

AT = dt.datetime(2026, 12, 3, 2, 0, tzinfo=dt.UTC)
CENTRE = LineAmounts(Money("812.40"), Money("600.00"), Money("0.00"))
TYPO = LineAmounts(Money("812.41"), Money("600.00"), Money("0.00"))


def raised(by: Side = Side.HOSPITAL, kind: DisputeKind = DisputeKind.AMOUNT) -> Dispute:
    return raise_dispute(
        dispute_id="RD1",
        hospital_code="H45092300001",
        treatment_region_code="450923",
        insured_region_code="430421",
        month="2026-11",
        kind=kind,
        settlement_id="S1",
        refund=False,
        centre=CENTRE if kind in (DisputeKind.AMOUNT, DisputeKind.CENTRE_ONLY) else None,
        institution=TYPO if kind in (DisputeKind.AMOUNT, DisputeKind.INSTITUTION_ONLY) else None,
        side=by,
        actor_id="u1",
        actor_role="hospital_cashier",
        at=AT,
        text="本院记录为 812.41 元" if kind is DisputeKind.MANUAL else "",
    )


def step(
    dispute: Dispute,
    action: DisputeAction,
    side: Side,
    *,
    amount: Money | None = None,
    outcome: Outcome | None = None,
) -> Dispute:
    return apply(
        dispute,
        action,
        side=side,
        actor_id=f"{side.value}-user",
        actor_role=side.value,
        at=AT + dt.timedelta(hours=len(dispute.events)),
        text=f"{action.verb_zh}：说明",
        amount=amount,
        outcome=outcome,
    )


def in_state(state: DisputeState, by: Side) -> Dispute:
    dispute = raised(by)
    if state is DisputeState.RAISED:
        return dispute
    dispute = step(dispute, DisputeAction.ANSWER, by.other)
    if state is DisputeState.ANSWERED:
        return dispute
    return step(dispute, DisputeAction.RESOLVE, Side.CENTRE, outcome=Outcome.ACCEPTED)


def _kwargs(action: DisputeAction) -> dict[str, Outcome]:
    return {"outcome": Outcome.REJECTED} if action is DisputeAction.RESOLVE else {}


# (state, raised by, acting side, action) -> the state it leads to; everything else is refused.
ALLOWED = {
    (DisputeState.RAISED, Side.HOSPITAL, Side.CENTRE, DisputeAction.ANSWER): DisputeState.ANSWERED,
    (DisputeState.RAISED, Side.CENTRE, Side.HOSPITAL, DisputeAction.ANSWER): DisputeState.ANSWERED,
    **{
        (DisputeState.ANSWERED, by, Side.CENTRE, DisputeAction.RESOLVE): DisputeState.RESOLVED
        for by in Side
    },
    **{
        (state, by, side, DisputeAction.REOPEN): DisputeState.RAISED
        for state in (DisputeState.ANSWERED, DisputeState.RESOLVED)
        for by in Side
        for side in Side
    },
}
CASES = list(
    itertools.product(
        DisputeState, Side, Side, [a for a in DisputeAction if a is not DisputeAction.RAISE]
    )
)


@pytest.mark.parametrize(("state", "by", "side", "action"), CASES)
def test_each_transition_is_allowed_exactly_when_the_table_says(
    state: DisputeState, by: Side, side: Side, action: DisputeAction
) -> None:
    dispute = in_state(state, by)
    target = ALLOWED.get((state, by, side, action))
    if target is not None:
        moved = step(dispute, action, side, **_kwargs(action))
        assert moved.state is target
        assert moved.last.action is action and moved.last.side is side
        assert moved.last.from_state is state and moved.last.to_state is target
        assert moved.events[:-1] == dispute.events  # the history only grows
        assert action in allowed_actions(dispute, side)
        return
    assert action not in allowed_actions(dispute, side)
    wrong_state = state not in TRANSITIONS[action].sources
    with pytest.raises(Conflict if wrong_state else Refused) as refused:
        step(dispute, action, side, **_kwargs(action))
    assert refused.value.code == ("DISPUTE_STATE" if wrong_state else "DISPUTE_NOT_YOUR_TURN")


def test_the_table_covers_every_step_but_raising() -> None:
    assert set(TRANSITIONS) == set(DisputeAction) - {DisputeAction.RAISE}
    assert len(ALLOWED) == 12


def test_a_raiser_cannot_answer_its_own_dispute_and_the_message_names_who_answers() -> None:
    with pytest.raises(Refused) as refused:
        step(raised(Side.HOSPITAL), DisputeAction.ANSWER, Side.HOSPITAL)
    assert "应由经办机构/清算中心答复" in refused.value.message


def test_a_resolution_needs_an_outcome_and_only_an_adjustment_has_an_amount() -> None:
    answered = in_state(DisputeState.ANSWERED, Side.HOSPITAL)
    with pytest.raises(InvalidInput) as no_outcome:
        step(answered, DisputeAction.RESOLVE, Side.CENTRE)
    assert no_outcome.value.code == "DISPUTE_OUTCOME_REQUIRED"
    with pytest.raises(InvalidInput) as no_amount:
        step(answered, DisputeAction.RESOLVE, Side.CENTRE, outcome=Outcome.ADJUSTED)
    assert no_amount.value.code == "DISPUTE_AMOUNT_FOR_ADJUSTED"
    with pytest.raises(InvalidInput):
        step(
            answered, DisputeAction.RESOLVE, Side.CENTRE, outcome=Outcome.REJECTED, amount=Money(1)
        )
    adjusted = step(
        answered,
        DisputeAction.RESOLVE,
        Side.CENTRE,
        outcome=Outcome.ADJUSTED,
        amount=Money("812.40"),
    )
    assert adjusted.outcome is Outcome.ADJUSTED and adjusted.settled_amount == Money("812.40")
    reopened = step(adjusted, DisputeAction.REOPEN, Side.HOSPITAL)
    assert reopened.outcome is None and reopened.settled_amount is None
    assert reopened.is_open and len(reopened.events) == 4


def test_an_answer_may_carry_a_corrected_amount_but_no_outcome() -> None:
    answered = step(raised(), DisputeAction.ANSWER, Side.CENTRE, amount=Money("812.40"))
    assert answered.last.amount == Money("812.40")
    with pytest.raises(InvalidInput) as refused:
        step(raised(), DisputeAction.ANSWER, Side.CENTRE, outcome=Outcome.ACCEPTED)
    assert refused.value.code == "DISPUTE_OUTCOME_ONLY_ON_RESOLVE"
    with pytest.raises(InvalidInput):
        step(answered, DisputeAction.REOPEN, Side.HOSPITAL, amount=Money(1))


@pytest.mark.parametrize("text", ["", " ", "x", "长" * 401])
def test_every_step_needs_a_text_of_two_to_four_hundred_characters(text: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        apply(
            raised(),
            DisputeAction.ANSWER,
            side=Side.CENTRE,
            actor_id="c",
            actor_role="clearing_officer",
            at=AT,
            text=text,
        )
    assert refused.value.code == "DISPUTE_TEXT_REQUIRED"


def test_a_manual_dispute_needs_a_text_and_a_statement_one_its_sides_amounts() -> None:
    assert raised(kind=DisputeKind.MANUAL).raised.text == "本院记录为 812.41 元"
    assert raised(kind=DisputeKind.AMOUNT).raised.text == "金额不符"
    with pytest.raises(InvalidInput) as incomplete:
        raise_dispute(
            dispute_id="RD2",
            hospital_code="H1",
            treatment_region_code="450923",
            insured_region_code=None,
            month="2026-11",
            kind=DisputeKind.CENTRE_ONLY,
            settlement_id="S1",
            refund=False,
            centre=None,
            institution=TYPO,
            side=Side.HOSPITAL,
            actor_id="u1",
            actor_role="hospital_cashier",
            at=AT,
            text="",
        )
    assert incomplete.value.code == "DISPUTE_LINE_INCOMPLETE"


@pytest.mark.parametrize("month", ["2026-13", "2026-1", "26-11", "", "1999-12"])
def test_a_month_is_yyyy_mm(month: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        raised_month(month)
    assert refused.value.code == "DISPUTE_MONTH_INVALID"


def raised_month(month: str) -> Dispute:
    return raise_dispute(
        dispute_id="RD3",
        hospital_code="H1",
        treatment_region_code="450923",
        insured_region_code=None,
        month=month,
        kind=DisputeKind.MANUAL,
        settlement_id=None,
        refund=False,
        centre=None,
        institution=None,
        side=Side.CENTRE,
        actor_id="c",
        actor_role="clearing_officer",
        at=AT,
        text="本月总额不符",
    )


def test_one_line_compares_as_3202_does() -> None:
    assert statement_kind(CENTRE, None) is DisputeKind.CENTRE_ONLY
    assert statement_kind(None, TYPO) is DisputeKind.INSTITUTION_ONLY
    assert statement_kind(CENTRE, TYPO) is DisputeKind.AMOUNT
    assert statement_kind(CENTRE, CENTRE) is None
    assert statement_kind(None, None) is None
    account = LineAmounts(CENTRE.total, CENTRE.fund, Money("0.01"))
    assert statement_kind(CENTRE, account) is DisputeKind.AMOUNT
