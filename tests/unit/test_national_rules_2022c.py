"""The remaining 2022 national rules as dated data: 补办, 外伤, 双向享受 per era; the online
review period a region may set; ``yidi filing rules`` for a region on a date."""

from __future__ import annotations

import datetime as dt

import pytest
from filing_helpers import PERSON, REGIONS, at, evidence_for, record_for
from typer.testing import CliRunner

from yidi.entrypoints.cli.main import app
from yidi.filing.model.lifecycle import create_draft, review_due, submit
from yidi.kernel.insurance import FilingCategory, InsuranceType
from yidi.kernel.workdays import WorkingDayCalendar
from yidi.policy.loader import policy_at
from yidi.policy.national import InjuryRule, national_model, national_rules_on

LAST_2017_DAY = dt.date(2022, 7, 31)
FIRST_2022_DAY = dt.date(2022, 8, 1)


def test_each_era_states_late_filing_injury_and_both_ways_with_a_source() -> None:
    old, new = national_rules_on(LAST_2017_DAY), national_rules_on(FIRST_2022_DAY)
    assert (old.era, new.era) == ("2017", "2022")
    assert not old.late_filing_allowed and new.late_filing_allowed
    assert old.injury_rule is InjuryRule.NEVER
    assert new.injury_rule is InjuryRule.WITH_NO_THIRD_PARTY_PROMISE
    assert "https://zyqjg.com/article-21197-3.html" in new.injury_source
    assert not old.both_ways and new.both_ways and new.both_ways_not_while_promise_outstanding
    assert "http://readke.com/c/3391599.html" in new.both_ways_source
    for model in (old, new):
        assert model.late_filing_rule_source and model.injury_source and model.both_ways_source


def test_both_ways_applies_to_long_term_filings_only_and_not_while_a_promise_is_due() -> None:
    model = national_rules_on(FIRST_2022_DAY)
    assert model.both_ways_for(FilingCategory.RETIREE_RESETTLED, promise_outstanding=False)
    assert not model.both_ways_for(FilingCategory.RETIREE_RESETTLED, promise_outstanding=True)
    old = national_rules_on(LAST_2017_DAY)
    assert not old.both_ways_for(FilingCategory.LONG_TERM_RESIDENT, promise_outstanding=False)
    assert old.both_ways_for(FilingCategory.REFERRAL, promise_outstanding=False)


def test_the_review_period_of_two_days_is_recorded_as_not_verified() -> None:
    model = national_rules_on(FIRST_2022_DAY)
    assert model.online_review_working_days == 2 and model.online_review_region_parameter
    assert not model.online_review_verified and "待核对" in model.online_review_note


def test_a_region_sets_its_review_period_only_where_the_national_rule_leaves_it_open() -> None:
    override = {"online_review_working_days": 1}
    assert national_model(FIRST_2022_DAY, override).online_review_working_days == 1
    assert national_model(LAST_2017_DAY, override).online_review_working_days is None
    with pytest.raises(Exception) as bad:
        national_model(FIRST_2022_DAY, {"online_review_working_days": 0})
    assert getattr(bad.value, "code", "") == "NATIONAL_RULE_OVERRIDE_INVALID"


def test_ningbo_sets_one_working_day_as_an_illustrative_value() -> None:
    policy = policy_at("330200", InsuranceType.RESIDENT, dt.date(2026, 6, 1))
    assert policy.filing_rules["online_review_working_days"] == 1
    reference = policy.references["cross_region.filing.online_review_working_days"]
    assert reference.illustrative


def test_the_review_deadline_follows_the_region_value() -> None:
    day = dt.date(2024, 9, 2)  # a Monday
    category = FilingCategory.RETIREE_RESETTLED
    draft = create_draft(
        "f-1",
        record_for(category, filled_on=day),
        PERSON,
        at(2024, 9, 2, 9),
        evidence=evidence_for(category),
    )
    sent = submit(draft, PERSON, at(2024, 9, 2, 15), REGIONS)
    calendar = WorkingDayCalendar()
    national = review_due(sent, calendar)
    regional = review_due(sent, calendar, region_filing={"online_review_working_days": 1})
    assert national is not None and national.on == dt.date(2024, 9, 4)
    assert regional is not None and regional.on == dt.date(2024, 9, 3)


def test_filing_rules_cli_shows_a_regions_review_period_and_the_dated_rules() -> None:
    runner = CliRunner()
    ningbo = runner.invoke(
        app,
        [
            "filing",
            "rules",
            "--date",
            "2026-06-01",
            "--region",
            "330200",
            "--insurance-type",
            "390",
        ],
    )
    assert ningbo.exit_code == 0, ningbo.output
    assert "1 个工作日（参保地设定；全国规则 2 个工作日）" in ningbo.output
    assert "待核对" in ningbo.output and "外伤" in ningbo.output and "双向享受" in ningbo.output
    national = runner.invoke(app, ["filing", "rules", "--date", "2026-06-01"])
    assert "2 个工作日（全国规则，参保地可设定）" in national.output
    old = runner.invoke(app, ["filing", "rules", "--date", "2021-06-01", "--region", "330200"])
    assert old.exit_code == 0, old.output
    assert "未规定" in old.output and "意外伤害住院不直接结算" in old.output
