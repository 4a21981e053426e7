"""预付金使用率与预警: the pure usage function at the warning lines, the national rule data
the lines come from, and the usage and top-up use cases on the in-memory unit of work."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from fakes_funds import FundsFakeDatabase, funds_unit
from funds_helpers import make_fact

from yidi.funds import commands as service
from yidi.funds.model import ClearingLevel, Prepayment, WarningLevel, prepayment_usage
from yidi.kernel.access import Principal, Role
from yidi.kernel.clock import CHINA_TZ, FixedClock
from yidi.kernel.errors import Conflict, Forbidden, InvalidInput, NotFound, Refused
from yidi.kernel.money import Money
from yidi.policy.national import (
    parse_prepayment_rules,
    prepayment_rules,
    prepayment_warning_on,
)

RULE = prepayment_warning_on(dt.date(2026, 1, 1))
P = ClearingLevel.PROVINCE


def _usage(held: str, drawn: str):  # type: ignore[no-untyped-def]
    return prepayment_usage(
        P,
        2026,
        "430000",
        "450000",
        Money.of(held),
        Money.of(drawn),
        yellow=RULE.yellow,
        red=RULE.red,
    )


# --- the rule data ------------------------------------------------------------------


def test_the_national_lines_are_dated_cited_data_yellow_seventy_red_ninety() -> None:
    rules = prepayment_rules()
    assert rules[0].effective_from == dt.date(2017, 1, 1)
    assert (RULE.yellow, RULE.red) == (Decimal("0.70"), Decimal("0.90"))
    assert "http://m.qebk.com/techan/311345.html" in RULE.reference
    with pytest.raises(Refused) as before:
        prepayment_warning_on(dt.date(2016, 12, 31))
    assert before.value.code == "NATIONAL_RULES_NOT_IN_FORCE"


def test_rule_data_with_crossed_lines_or_no_source_is_refused() -> None:
    crossed = 'prepayment_warning:\n  values:\n    2017-01-01: {yellow: "0.9", red: "0.7", reference: x}\n'
    with pytest.raises(InvalidInput) as error:
        parse_prepayment_rules(crossed)
    assert error.value.code == "NATIONAL_RULE_INVALID"
    uncited = 'prepayment_warning:\n  values:\n    2017-01-01: {yellow: "0.7", red: "0.9"}\n'
    with pytest.raises(InvalidInput):
        parse_prepayment_rules(uncited)
    out_of_range = (
        'prepayment_warning:\n  values:\n    2017-01-01: {yellow: "0", red: "1.5", reference: x}\n'
    )
    with pytest.raises(InvalidInput):
        parse_prepayment_rules(out_of_range)


# --- the pure function at the lines -------------------------------------------------


@pytest.mark.parametrize(
    ("drawn", "level", "percent"),
    [
        ("6999.00", WarningLevel.NONE, "69.99%"),
        ("7000.00", WarningLevel.YELLOW, "70.00%"),
        ("8999.00", WarningLevel.YELLOW, "89.99%"),
        ("9000.00", WarningLevel.RED, "90.00%"),
        ("12500.00", WarningLevel.RED, "125.00%"),
    ],
)
def test_usage_levels_at_the_lines(drawn: str, level: WarningLevel, percent: str) -> None:
    usage = _usage("10000.00", drawn)
    assert usage.warning is level and usage.ratio_percent == percent
    assert usage.ratio == Money.of(drawn).yuan / Decimal("10000.00")


def test_one_fen_under_the_yellow_line_is_no_warning() -> None:
    assert _usage("10000.00", "6999.99").warning is WarningLevel.NONE
    assert _usage("10000.00", "8999.99").warning is WarningLevel.YELLOW


@pytest.mark.parametrize("drawn", ["7000.00", "8999.00", "9000.00", "12500.00", "7777.77"])
def test_the_suggested_top_up_is_the_least_that_brings_usage_under_the_yellow_line(
    drawn: str,
) -> None:
    usage = _usage("10000.00", drawn)
    held_after = usage.held + usage.suggested_top_up
    assert Decimal(usage.drawn.fen) / Decimal(held_after.fen) < RULE.yellow
    one_fen_less = held_after - Money.of("0.01")
    assert Decimal(usage.drawn.fen) / Decimal(one_fen_less.fen) >= RULE.yellow


def test_exact_figures_yellow_at_seven_thousand_needs_ten_thousand_and_a_fen() -> None:
    assert _usage("10000.00", "7000.00").suggested_top_up == Money.of("0.01")
    assert _usage("10000.00", "9000.00").suggested_top_up == Money.of("2857.15")
    assert _usage("10000.00", "6999.00").suggested_top_up == Money.zero()


def test_nothing_held_but_something_drawn_is_red_with_no_ratio() -> None:
    usage = _usage("0", "70.00")
    assert usage.warning is WarningLevel.RED and usage.ratio is None
    assert usage.ratio_percent == "—" and usage.suggested_top_up == Money.of("100.01")
    assert _usage("0", "0").warning is WarningLevel.NONE


def test_more_reversed_than_settled_is_no_warning() -> None:
    usage = _usage("10000.00", "-50.00")
    assert usage.warning is WarningLevel.NONE and usage.suggested_top_up == Money.zero()


def test_lines_given_out_of_order_are_refused() -> None:
    with pytest.raises(InvalidInput):
        prepayment_usage(
            P, 2026, "a", "b", Money.zero(), Money.zero(), yellow=Decimal(1), red=Decimal("0.5")
        )


# --- the use cases ------------------------------------------------------------------

CLOCK = FixedClock(dt.datetime(2017, 11, 8, 9, 0, tzinfo=CHINA_TZ))
AT = dt.datetime(2017, 10, 1, 9, 0, tzinfo=CHINA_TZ)
HUNAN = Principal("hunan", Role.PROVINCE_OFFICER, region_code="430000", display_name="湖南省")
HENAN = Principal("henan", Role.PROVINCE_OFFICER, region_code="410000", display_name="河南省")
CENTRE = Principal("centre", Role.CLEARING_OFFICER, display_name="清算中心")


@pytest.fixture
def db() -> FundsFakeDatabase:
    """湖南 holds 1000.00 with 广西 and 500.00 with 北京; September charges 广西 750.00 (600 +
    150) and 北京 100.00; October charges 广西 another 150.00."""
    db = FundsFakeDatabase()
    with funds_unit(db) as uow:
        for fact in (
            make_fact("S1", pooled="600.00"),
            make_fact("S2", pooled="150.00"),
            make_fact("S3", treatment="110101", pooled="100.00"),
            make_fact("S4", on=dt.date(2017, 10, 9), pooled="150.00"),
        ):
            service.record_settlement_fact(uow, fact, AT)
        uow.commit()
    for treatment, amount in (("450000", "1000.00"), ("110000", "500.00")):
        service.set_prepayment(
            funds_unit(db),
            Prepayment(P, "430000", treatment, Money.of(amount), dt.date(2017, 1, 1)),
        )
    for month in ("2017-09", "2017-10"):
        service.run_clearing(funds_unit(db), CLOCK, month, P)
    return db


def test_usage_sums_the_years_clearing_runs_against_the_prepayment_held(
    db: FundsFakeDatabase,
) -> None:
    rows = service.prepayment_usages(funds_unit(db), CLOCK, P, actor=HUNAN)
    by_pair = {(r.insured_region_code, r.treatment_region_code): r for r in rows}
    guangxi = by_pair[("430000", "450000")]
    assert guangxi.drawn == Money.of("900.00") and guangxi.held == Money.of("1000.00")
    assert guangxi.warning is WarningLevel.RED and guangxi.months_cleared == ("2017-09", "2017-10")
    beijing = by_pair[("430000", "110000")]
    assert beijing.drawn == Money.of("100.00") and beijing.warning is WarningLevel.NONE
    # next year the prepayment is still held but this year's runs no longer count
    next_year = FixedClock(dt.datetime(2018, 2, 1, 9, 0, tzinfo=CHINA_TZ))
    later = service.prepayment_usages(funds_unit(db), next_year, P)
    assert [r.drawn for r in later] == [Money.zero(), Money.zero()]
    assert [r.held for r in later] == [Money.of("500.00"), Money.of("1000.00")]
    with pytest.raises(InvalidInput) as future:
        service.prepayment_usages(funds_unit(db), CLOCK, P, year=2018)
    assert future.value.code == "PREPAYMENT_YEAR_IN_FUTURE"
    with pytest.raises(Refused) as before_the_rules:
        service.prepayment_usages(funds_unit(db), CLOCK, P, year=2016)
    assert before_the_rules.value.code == "NATIONAL_RULES_NOT_IN_FORCE"


def test_usage_is_shown_only_to_the_regions_it_concerns(db: FundsFakeDatabase) -> None:
    assert service.prepayment_usages(funds_unit(db), CLOCK, P, actor=HENAN) == []
    assert len(service.prepayment_usages(funds_unit(db), CLOCK, P, actor=CENTRE)) == 2
    cashier = Principal("c", Role.HOSPITAL_CASHIER, display_name="收费员")
    with pytest.raises(Forbidden):
        service.prepayment_usages(funds_unit(db), CLOCK, P, actor=cashier)


def test_a_top_up_request_is_recorded_audited_and_idempotent(db: FundsFakeDatabase) -> None:
    key = ("k-1", "fingerprint")
    first = service.request_top_up(
        funds_unit(db), CLOCK, HUNAN, P, "430000", "450000", idempotency=key
    )
    again = service.request_top_up(
        funds_unit(db), CLOCK, HUNAN, P, "430000", "450000", idempotency=key
    )
    assert first == again and first["warning"] == "red"
    # 900 / (1000 + x) < 0.7  ->  x = 285.72
    assert first["suggested_top_up"] == "285.72"
    assert len(db.top_ups) == 1
    entries = [e for e in db.audit if e.action == "prepayment.top_up_request"]
    assert len(entries) == 1 and entries[0].subject == "prepayment:province:430000:450000:2017"
    with pytest.raises(Conflict):
        service.request_top_up(
            funds_unit(db), CLOCK, HUNAN, P, "430000", "450000", idempotency=("k-1", "other")
        )


def test_a_top_up_under_the_lines_or_outside_ones_region_is_refused(
    db: FundsFakeDatabase,
) -> None:
    with pytest.raises(Refused) as not_needed:
        service.request_top_up(funds_unit(db), CLOCK, HUNAN, P, "430000", "110000")
    assert not_needed.value.code == "PREPAYMENT_TOP_UP_NOT_NEEDED"
    with pytest.raises(NotFound):
        service.request_top_up(funds_unit(db), CLOCK, HENAN, P, "430000", "450000")
    with pytest.raises(Forbidden):
        service.request_top_up(funds_unit(db), CLOCK, CENTRE, P, "430000", "450000")
    assert db.top_ups == []
