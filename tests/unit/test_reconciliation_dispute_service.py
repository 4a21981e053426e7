"""The 对账差异 use cases on the in-memory unit of work: raising from a 3202 line, the month a
line belongs to, one dispute per line, refusals that write nothing, scope by role and region,
and resent steps."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from fakes_disputes import DisputeDatabase, DisputeUnitOfWork

from yidi.kernel.access import Principal, Role
from yidi.kernel.clock import FixedClock
from yidi.kernel.errors import Conflict, Forbidden, InvalidInput, NotFound, Refused
from yidi.kernel.money import Money
from yidi.reconciliation.commands import DisputeService, RaiseRequest, Step
from yidi.reconciliation.model import (
    DisputeAction,
    DisputeKind,
    DisputeState,
    LineAmounts,
    Outcome,
)
from yidi.reconciliation.ports import CentreLine

BOBAI = "H45092300001"
CASHIER = Principal("bobai", Role.HOSPITAL_CASHIER, hospital_code=BOBAI)
OTHER_CASHIER = Principal("nhfy1", Role.HOSPITAL_CASHIER, hospital_code="H43040000001")
HENGYANG = Principal("hengyang", Role.AGENCY_HANDLER, "430400")  # the insured place
GUANGXI = Principal("yulin", Role.AGENCY_HANDLER, "450900")  # the treatment place
ZHENGZHOU = Principal("zhengzhou", Role.AGENCY_HANDLER, "410100")
CLEARING = Principal("clearing", Role.CLEARING_OFFICER, "430000")
PROVINCE = Principal("hunan", Role.PROVINCE_OFFICER, "430000")
CENTRE = LineAmounts(Money("812.40"), Money("600.00"), Money("0.00"))
TYPO = LineAmounts(Money("812.41"), Money("600.00"), Money("0.00"))


@pytest.fixture
def db() -> DisputeDatabase:
    database = DisputeDatabase(hospitals={BOBAI: "450923", "H43040000001": "430400"})
    # Settled at 01:30 Beijing time on 1 December: 30 November in UTC, December in China.
    database.lines[(BOBAI, "S1", False)] = CentreLine(
        "S1", False, CENTRE, "430421", dt.datetime(2026, 11, 30, 17, 30, tzinfo=dt.UTC)
    )
    return database


@pytest.fixture
def service(db: DisputeDatabase) -> DisputeService:
    return DisputeService(lambda: DisputeUnitOfWork(db), FixedClock(dt.datetime(2026, 12, 3, 9)))


def typo(**changes: object) -> RaiseRequest:
    values: dict[str, object] = {
        "hospital_code": None,
        "month": "",
        "settlement_id": "S1",
        "from_statement": True,
        "institution": TYPO,
    }
    values.update(changes)
    return RaiseRequest(**values)  # type: ignore[arg-type]


def test_a_statement_line_is_raised_with_both_sides_and_the_china_time_month(
    service: DisputeService, db: DisputeDatabase
) -> None:
    dispute, created = service.raise_dispute(CASHIER, typo())
    assert created and dispute.kind is DisputeKind.AMOUNT
    assert dispute.centre == CENTRE and dispute.institution == TYPO
    assert dispute.month == "2026-12" and dispute.insured_region_code == "430421"
    assert dispute.treatment_region_code == "450923"
    assert [e.action for e in db.audit] == ["reconciliation.dispute_raise"]
    again, created_again = service.raise_dispute(CASHIER, typo(text="再提一次"))
    assert again.id == dispute.id and not created_again and len(db.audit) == 1


def test_the_hospital_without_the_line_raises_a_centre_only_difference(
    service: DisputeService,
) -> None:
    dispute, _ = service.raise_dispute(CASHIER, typo(institution=None))
    assert dispute.kind is DisputeKind.CENTRE_ONLY and dispute.institution is None


def test_refusals_write_nothing(service: DisputeService, db: DisputeDatabase) -> None:
    with pytest.raises(Refused) as same:
        service.raise_dispute(CASHIER, typo(institution=CENTRE))
    assert same.value.code == "DISPUTE_NO_DIFFERENCE"
    with pytest.raises(Forbidden):
        service.raise_dispute(PROVINCE, typo(hospital_code=BOBAI))
    with pytest.raises(NotFound) as outside:
        service.raise_dispute(ZHENGZHOU, RaiseRequest(BOBAI, "2026-11", "本月总额不符"))
    assert outside.value.code == "HOSPITAL_NOT_FOUND"
    assert db.disputes == {} and db.audit == [] and db.commits == 0


def test_each_party_sees_what_its_role_and_region_cover(service: DisputeService) -> None:
    dispute, _ = service.raise_dispute(CASHIER, typo())
    for principal in (CASHIER, HENGYANG, GUANGXI, CLEARING):
        assert service.get(principal, dispute.id).id == dispute.id
        assert service.list_disputes(principal)[0] == 1
    for principal in (OTHER_CASHIER, ZHENGZHOU):
        with pytest.raises(NotFound):
            service.get(principal, dispute.id)
        assert service.list_disputes(principal)[0] == 0
    assert service.open_count(CLEARING, "2026-12") == 1
    assert service.open_count(PROVINCE, "2026-12") == 0  # no disputes for that role
    assert service.open_count(CLEARING, "2026-11") == 0


def test_a_resent_step_is_not_a_second_step_and_a_refused_one_writes_nothing(
    service: DisputeService, db: DisputeDatabase
) -> None:
    dispute, _ = service.raise_dispute(CASHIER, typo())
    with pytest.raises(Refused):
        service.act(CASHIER, dispute.id, Step(DisputeAction.ANSWER, "自己答复"))
    audited = len(db.audit)
    answer = Step(DisputeAction.ANSWER, "中心记录为准")
    first = service.act(HENGYANG, dispute.id, answer)
    resent = service.act(HENGYANG, dispute.id, answer)
    assert first.state is DisputeState.ANSWERED and len(resent.events) == 2
    assert len(db.audit) == audited + 1
    with pytest.raises(Conflict):
        service.act(GUANGXI, dispute.id, Step(DisputeAction.ANSWER, "另一个答复"))
    assert len(db.disputes[dispute.id].events) == 2


# --- 清算调整: what a resolution carries into clearing -----------------------------------


def resolved(
    service: DisputeService,
    adjustment: str | None,
    outcome: Outcome = Outcome.ACCEPTED,
    settlement_id: str = "S1",
) -> str:
    dispute, _ = service.raise_dispute(CASHIER, typo(settlement_id=settlement_id))
    service.act(HENGYANG, dispute.id, Step(DisputeAction.ANSWER, "中心核对"))
    service.act(
        HENGYANG,
        dispute.id,
        Step(
            DisputeAction.RESOLVE,
            "按商定金额清算",
            outcome=outcome,
            adjustment=None if adjustment is None else Money(adjustment),
        ),
    )
    return dispute.id


def carried(db: DisputeDatabase) -> list[tuple[str, str, str | None]]:
    """(month, amount, withdrawn) of every adjustment recorded, in order."""
    return [
        (a.clearing_month, str(a.amount), None if gone is None else gone.isoformat())
        for _seq, a, gone in db.adjustments
    ]


def test_an_agreed_adjustment_goes_to_the_first_open_month_after_the_disputed_one(
    service: DisputeService, db: DisputeDatabase
) -> None:
    # the line is of December 2026 (China time); decided on 3 December; January is closed
    db.closed_months.add("2027-01")
    dispute_id = resolved(service, "-12.30")
    [(_seq, adjustment, gone)] = db.adjustments
    assert gone is None and adjustment.clearing_month == "2027-02"
    assert adjustment.amount == Money("-12.30") and adjustment.agreed == Money("-12.30")
    assert adjustment.dispute_id == dispute_id and adjustment.settlement_id == "S1"
    assert adjustment.concerns_month == "2026-12" and adjustment.decided_by == "hengyang"
    assert (adjustment.insured_region_code, adjustment.treatment_region_code) == (
        "430421",
        "450923",
    )
    assert adjustment.reason == "按商定金额清算"
    read = service.get(HENGYANG, dispute_id)
    assert read.clearing_adjustment == Money("-12.30") and read.carried == (adjustment,)
    assert "清算调整 -12.30 元计入 2027-02" in db.audit[-2].reason


def test_resolving_without_an_amount_or_resending_adds_nothing(
    service: DisputeService, db: DisputeDatabase
) -> None:
    resolved(service, None)
    assert db.adjustments == []
    db.lines[(BOBAI, "S2", False)] = dataclasses.replace(
        db.lines[(BOBAI, "S1", False)], settlement_id="S2"
    )
    dispute_id = resolved(service, None, Outcome.REJECTED, "S2")
    assert db.adjustments == [] and service.get(CLEARING, dispute_id).carried == ()


def test_a_resent_resolution_carries_its_adjustment_once(
    service: DisputeService, db: DisputeDatabase
) -> None:
    dispute, _ = service.raise_dispute(CASHIER, typo())
    service.act(HENGYANG, dispute.id, Step(DisputeAction.ANSWER, "中心核对"))
    step = Step(DisputeAction.RESOLVE, "追补", outcome=Outcome.ACCEPTED, adjustment=Money("5"))
    service.act(HENGYANG, dispute.id, step)
    service.act(HENGYANG, dispute.id, step)
    with pytest.raises(Conflict):  # another person resolving again: the state has moved on
        service.act(CLEARING, dispute.id, step)
    assert carried(db) == [("2027-01", "5.00", None)]


def test_refused_adjustments_write_nothing(service: DisputeService, db: DisputeDatabase) -> None:
    dispute, _ = service.raise_dispute(CASHIER, typo())
    service.act(HENGYANG, dispute.id, Step(DisputeAction.ANSWER, "中心核对"))
    before = (len(db.audit), dict(db.disputes))
    for outcome, amount, code in (
        (Outcome.REJECTED, "1.00", "DISPUTE_ADJUSTMENT_NOT_ALLOWED"),
        (Outcome.ACCEPTED, "0.00", "DISPUTE_ADJUSTMENT_ZERO"),
    ):
        with pytest.raises(InvalidInput) as refused:
            service.act(
                HENGYANG,
                dispute.id,
                Step(DisputeAction.RESOLVE, "说明", outcome=outcome, adjustment=Money(amount)),
            )
        assert refused.value.code == code
    with pytest.raises(InvalidInput) as on_answer:
        service.act(
            CASHIER, dispute.id, Step(DisputeAction.REOPEN, "再议", adjustment=Money("1.00"))
        )
    assert on_answer.value.code == "DISPUTE_ADJUSTMENT_ONLY_ON_RESOLVE"
    manual, _ = service.raise_dispute(
        CLEARING, RaiseRequest(BOBAI, "2026-11", "整月总额不符")
    )  # no centre line: no insured region to clear against
    service.act(CASHIER, manual.id, Step(DisputeAction.ANSWER, "医院核对"))
    with pytest.raises(InvalidInput) as unknown:
        service.act(
            CLEARING,
            manual.id,
            Step(DisputeAction.RESOLVE, "说明", outcome=Outcome.ACCEPTED, adjustment=Money("1")),
        )
    assert unknown.value.code == "DISPUTE_ADJUSTMENT_REGION_UNKNOWN"
    assert db.adjustments == [] and len(db.audit) == before[0] + 2  # the manual raise + answer


def test_reopening_withdraws_what_no_closed_month_cleared_and_resolving_again_adds_the_difference(
    service: DisputeService, db: DisputeDatabase
) -> None:
    dispute_id = resolved(service, "10.00")
    reopen = Step(DisputeAction.REOPEN, "金额再议")
    service.act(CASHIER, dispute_id, reopen)
    assert [gone is not None for _s, _a, gone in db.adjustments] == [True]
    assert service.get(CLEARING, dispute_id).carried == ()

    def resolve_again(text: str, amount: str | None) -> None:
        service.act(HENGYANG, dispute_id, Step(DisputeAction.ANSWER, text))
        service.act(
            HENGYANG,
            dispute_id,
            Step(
                DisputeAction.RESOLVE,
                text,
                outcome=Outcome.ACCEPTED,
                adjustment=None if amount is None else Money(amount),
            ),
        )

    resolve_again("改为 8 元", "8.00")
    assert [row[1] for row in carried(db) if row[2] is None] == ["8.00"]
    # January clears the 8 yuan and closes; re-opened and resolved at 6 yuan, February
    # carries the difference (-2), January is not touched
    db.closed_months.add("2027-01")
    service.act(CASHIER, dispute_id, reopen)
    resolve_again("改为 6 元", "6.00")
    live = [(month, amount) for month, amount, gone in carried(db) if gone is None]
    assert live == [("2027-01", "8.00"), ("2027-02", "-2.00")]
    # and resolved with none in the end: what January cleared is taken back
    service.act(CASHIER, dispute_id, reopen)
    resolve_again("不再调整", None)
    live = [(month, amount) for month, amount, gone in carried(db) if gone is None]
    assert live == [("2027-01", "8.00"), ("2027-02", "-8.00")]
    assert sum(Money(amount).fen for _m, amount in live) == 0
