"""The money-side use cases (record facts, run, close and reopen a month's clearing,
estimate prepayments, statistics) on the in-memory unit of work (``fakes_funds``)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from fakes_funds import FundsFakeDatabase, funds_unit
from funds_helpers import make_fact

from yidi.funds import commands as service
from yidi.funds.model import (
    ClearingAdjustment,
    ClearingLevel,
    ClearingStatement,
    Prepayment,
    drawn_by_pair,
    ledger_is_balanced,
)
from yidi.funds.prepayment import Annex, estimate_prepayment
from yidi.funds.statistics import Dimension, Direction, StatisticsQuery, statistics_from_facts
from yidi.kernel.access import Principal, Role
from yidi.kernel.clock import CHINA_TZ, FixedClock
from yidi.kernel.errors import Conflict, Forbidden, Refused
from yidi.kernel.money import Money

AT = dt.datetime(2017, 10, 1, 9, 0, tzinfo=CHINA_TZ)
CLOCK = FixedClock(dt.datetime(2017, 10, 8, 9, 0, tzinfo=CHINA_TZ))
CENTRE = Principal("centre", Role.CLEARING_OFFICER, display_name="清算中心")


@pytest.fixture
def db() -> FundsFakeDatabase:
    return FundsFakeDatabase()


def _record(db: FundsFakeDatabase, *facts):  # type: ignore[no-untyped-def]
    with funds_unit(db) as uow:
        stored = [service.record_settlement_fact(uow, fact, AT) for fact in facts]
        uow.commit()
    return stored


def test_a_fact_and_its_balanced_ledger_lines_are_written_only_with_the_callers_commit(
    db: FundsFakeDatabase,
) -> None:
    fact = make_fact("S1", pooled="600.00", serious="50.00")
    with funds_unit(db) as uow:
        service.record_settlement_fact(uow, fact, AT)  # no commit: rolled back
    assert db.facts == {} and db.entries == []
    _record(db, fact, fact.reversed("R1", dt.date(2017, 9, 20)))
    assert len(db.entries) == 8 and ledger_is_balanced(db.entries)
    with funds_unit(db) as uow, pytest.raises(Conflict) as again:
        service.record_settlement_fact(uow, fact.reversed("R2", dt.date(2017, 9, 21)), AT)
    assert again.value.code == "FACT_ALREADY_REVERSED"
    with funds_unit(db) as uow, pytest.raises(Conflict) as duplicate:
        service.record_settlement_fact(uow, fact, AT)
    assert duplicate.value.code == "FACT_DUPLICATE"


def test_a_month_is_run_again_identically_closed_and_late_facts_go_to_the_next_month(
    db: FundsFakeDatabase,
) -> None:
    _record(db, make_fact("S1", pooled="600.00"), make_fact("S2", treatment="110101"))
    service.set_prepayment(
        funds_unit(db),
        Prepayment(
            ClearingLevel.PROVINCE, "430000", "450000", Money.of("100.00"), dt.date(2017, 1, 1)
        ),
    )
    first = service.run_clearing(funds_unit(db), CLOCK, "2017-09", ClearingLevel.PROVINCE)
    again = service.run_clearing(funds_unit(db), CLOCK, "2017-09", ClearingLevel.PROVINCE)
    assert first.status == "open" and first.recomputed
    assert first.content_hash == again.content_hash and first.statement == again.statement
    guangxi = next(x for x in first.statement.lines if x.treatment_region_code == "450000")
    assert guangxi.due_total == Money.of("600.00")
    assert guangxi.prepayment_applied == Money.of("100.00")
    assert guangxi.balance_to_pay == Money.of("500.00")

    closed = service.run_clearing(
        funds_unit(db), CLOCK, "2017-09", ClearingLevel.PROVINCE, close=True, actor=CENTRE
    )
    assert closed.status == "closed" and closed.content_hash == first.content_hash
    assert db.runs[("2017-09", ClearingLevel.PROVINCE)].is_closed
    late = _record(db, make_fact("S3", on=dt.date(2017, 9, 29), pooled="70.00"))[0]
    assert late.clearing_month == "2017-10"
    after = service.run_clearing(funds_unit(db), CLOCK, "2017-09", ClearingLevel.PROVINCE)
    assert after.recomputed is False and after.content_hash == first.content_hash
    october = service.run_clearing(funds_unit(db), CLOCK, "2017-10", ClearingLevel.PROVINCE)
    assert october.statement.due_total == Money.of("70.00")
    assert [(e.action, e.actor) for e in db.audit] == [
        ("clearing.run", "system"),
        ("clearing.run", "system"),
        ("clearing.close", "centre"),
        ("clearing.run", "system"),
    ]


def test_closing_needs_the_month_over_and_the_centre_and_reopening_needs_a_reason(
    db: FundsFakeDatabase,
) -> None:
    _record(db, make_fact("S1", on=dt.date(2017, 10, 2)))
    with pytest.raises(Refused) as early:
        service.run_clearing(funds_unit(db), CLOCK, "2017-10", ClearingLevel.PROVINCE, close=True)
    assert early.value.code == "CLEARING_MONTH_NOT_ENDED"
    handler = Principal("hengyang", Role.AGENCY_HANDLER, "430400")
    with pytest.raises(Forbidden):
        service.run_clearing(
            funds_unit(db), CLOCK, "2017-09", ClearingLevel.PROVINCE, close=True, actor=handler
        )
    assert db.runs == {} and db.audit == []
    service.run_clearing(
        funds_unit(db), CLOCK, "2017-09", ClearingLevel.PREFECTURE, close=True, actor=CENTRE
    )
    with pytest.raises(Conflict):
        service.reopen_clearing(
            funds_unit(db), CLOCK, "2017-09", ClearingLevel.PROVINCE, "错关了账"
        )
    reopened = service.reopen_clearing(
        funds_unit(db), CLOCK, "2017-09", ClearingLevel.PREFECTURE, "误关账，需补录", actor=CENTRE
    )
    assert reopened.status == "open"
    assert not db.runs[("2017-09", ClearingLevel.PREFECTURE)].is_closed
    assert db.audit[-1].action == "clearing.reopen" and "误关账" in db.audit[-1].reason


def test_the_prepayment_estimate_and_the_statistics_read_the_stored_facts(
    db: FundsFakeDatabase,
) -> None:
    facts = _record(
        db,
        make_fact("S1", on=dt.date(2015, 3, 1), insured="410100", treatment="450923"),
        make_fact("S2", on=dt.date(2016, 5, 1), insured="410100", treatment="110101"),
        make_fact("S3", on=dt.date(2017, 7, 1), insured="410181", treatment="430400"),
        make_fact("S4", on=dt.date(2017, 7, 1), insured="430400", treatment="450923"),
    )
    stored = service.estimate_prepayment(funds_unit(db), Annex.OUT_OF_PROVINCE, "410100", 2018)
    assert stored == estimate_prepayment(facts, Annex.OUT_OF_PROVINCE, "410100", 2018)
    query = StatisticsQuery("410000", Direction.OUTBOUND, Dimension.TREATMENT_PROVINCE)
    report = service.statistics(funds_unit(db), query)
    assert report == statistics_from_facts(facts, query)
    assert {row.key for row in report.rows} == {"450000", "110000", "430000"}
    assert sum(row.person_times for row in report.rows) == 3


def _adjustment(
    adjustment_id: str, amount: str, *, month: str = "2017-10", insured: str = "430421"
) -> ClearingAdjustment:
    return ClearingAdjustment(
        id=adjustment_id,
        dispute_id=f"RD{adjustment_id}",
        clearing_month=month,
        concerns_month="2017-09",
        insured_region_code=insured,
        treatment_region_code="450923",
        hospital_code="H45092300001",
        settlement_id="S1",
        refund=False,
        amount=Money.of(amount),
        agreed=Money.of(amount),
        decided_by="clearing",
        decided_role="clearing_officer",
        decided_at=dt.datetime(2017, 10, 5, 1, tzinfo=dt.UTC),
        reason="按商定金额清算",
    )


def test_a_months_adjustments_are_listed_and_cleared_but_its_settlements_due_is_unchanged(
    db: FundsFakeDatabase,
) -> None:
    _record(db, make_fact("S1", on=dt.date(2017, 10, 2), pooled="600.00"))
    service.set_prepayment(
        funds_unit(db),
        Prepayment(
            ClearingLevel.PROVINCE, "430000", "450000", Money.of("100.00"), dt.date(2017, 1, 1)
        ),
    )
    plain = service.run_clearing(funds_unit(db), CLOCK, "2017-10", ClearingLevel.PROVINCE)
    assert "adjustment" not in plain.statement.to_json()  # no adjustment: the same bytes
    db.adjustments += [
        _adjustment("A1", "-30.00"),
        _adjustment("A2", "5.50"),
        _adjustment("A3", "7.00", insured="110101"),  # a pair without settlements this month
        _adjustment("A4", "9.99", month="2017-11"),
    ]
    october = service.run_clearing(funds_unit(db), CLOCK, "2017-10", ClearingLevel.PROVINCE)
    statement = october.statement
    # November's is not October's; listed by pair (as the lines are), then by decision
    assert [a.id for a in statement.adjustments] == ["A3", "A1", "A2"]
    assert {(a.insured_region_code, a.treatment_region_code) for a in statement.adjustments} == {
        ("430000", "450000"),
        ("110000", "450000"),
    }
    hunan = next(x for x in statement.lines if x.insured_region_code == "430000")
    assert hunan.due_total == Money.of("600.00") and hunan.adjustment_total == Money.of("-24.50")
    assert hunan.cleared_total == Money.of("575.50")
    assert hunan.prepayment_applied == Money.of("100.00")
    assert hunan.balance_to_pay == Money.of("475.50")
    beijing = next(x for x in statement.lines if x.insured_region_code == "110000")
    assert beijing.person_times == 0 and beijing.due_total.is_zero()
    assert beijing.balance_to_pay == Money.of("7.00")
    assert statement.due_total == plain.statement.due_total
    assert statement.adjustment_total == Money.of("-17.50")
    assert statement.cleared_total == Money.of("582.50")
    assert october.content_hash != plain.content_hash
    # stored and read back (the JSON of the run) it is the same statement
    assert ClearingStatement.from_dict(json.loads(statement.to_json())) == statement
    # a region sees the adjustments of its own lines only
    hunan_view = statement.restricted_to(lambda code: code.startswith("43"))
    assert [a.id for a in hunan_view.adjustments] == ["A1", "A2"]
    # the prepayment is drawn by what the month clears, adjustments included
    drawn = drawn_by_pair([statement])
    assert drawn[("430000", "450000")][0] == Money.of("575.50")


def test_a_closed_month_keeps_its_statement_when_an_adjustment_names_it(
    db: FundsFakeDatabase,
) -> None:
    _record(db, make_fact("S1", pooled="600.00"))
    closed = service.run_clearing(
        funds_unit(db), CLOCK, "2017-09", ClearingLevel.PROVINCE, close=True, actor=CENTRE
    )
    db.adjustments.append(_adjustment("A1", "12.00", month="2017-09"))
    again = service.run_clearing(funds_unit(db), CLOCK, "2017-09", ClearingLevel.PROVINCE)
    assert again.recomputed is False and again.content_hash == closed.content_hash
    assert again.statement.adjustments == ()
