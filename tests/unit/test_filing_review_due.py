"""Online filings are reviewed within the era's working days; window filings have no review due."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from filing_helpers import CLERK, PERSON, REGIONS, at, evidence_for, record_for

from yidi.filing.model.lifecycle import (
    Filing,
    approve,
    create_draft,
    review_due,
    submit,
    submitted_online,
)
from yidi.kernel.insurance import FilingCategory
from yidi.kernel.workdays import CalendarSource, WorkingDayCalendar
from yidi.policy.national import national_rules_on, parse_national_rules

CALENDAR = WorkingDayCalendar()
RULES_FILE = Path(__file__).parents[2] / "src/yidi/data/national/filing_rules.yaml"


def submitted_on(day: dt.date, by: object = PERSON) -> Filing:
    category = FilingCategory.RETIREE_RESETTLED
    record = record_for(category, filled_on=day)
    draft = create_draft(
        "f-1",
        record,
        by,
        at(day.year, day.month, day.day, 9),  # type: ignore[arg-type]
        evidence=evidence_for(category),
    )
    return submit(draft, by, at(day.year, day.month, day.day, 15), REGIONS)  # type: ignore[arg-type]


def test_rule_data_2022_reviews_online_filings_within_two_working_days_2017_states_none() -> None:
    model_2022 = national_rules_on(dt.date(2026, 9, 30))
    assert model_2022.online_review_working_days == 2
    assert (
        "http://m.chuanshu.nfhot.net/zixun/2023/0207/10050.html" in model_2022.online_review_source
    )
    model_2017 = national_rules_on(dt.date(2021, 6, 1))
    assert model_2017.online_review_working_days is None
    assert "未规定" in model_2017.online_review_source


@pytest.mark.parametrize("bad", ["0", "-1", "two", "true", "1.5"])
def test_rule_data_rejects_a_review_period_that_is_not_a_positive_integer(bad: str) -> None:
    text = RULES_FILE.read_text("utf-8").replace(
        "      working_days: 2\n", f"      working_days: {bad}\n"
    )
    assert f"working_days: {bad}" in text
    with pytest.raises(ValueError, match=r"online_review\.working_days"):
        parse_national_rules(text)


def test_the_channel_is_the_role_of_whoever_submitted() -> None:
    assert submitted_online(submitted_on(dt.date(2026, 9, 29))) is True
    assert submitted_online(submitted_on(dt.date(2026, 9, 29), CLERK)) is False


def test_online_review_due_skips_national_day_2026() -> None:
    # 2026: 10月1日至7日放假，10月10日（周六）上班. Submitted Wednesday 30 September:
    # the two working days are 8 and 9 October.
    due = review_due(submitted_on(dt.date(2026, 9, 30)), CALENDAR)
    assert due is not None
    assert due.on == dt.date(2026, 10, 9)
    assert due.source is CalendarSource.LIBRARY
    # Submitted Friday 9 October: Saturday 10 October is a make-up working day.
    later = review_due(submitted_on(dt.date(2026, 10, 9)), CALENDAR)
    assert later is not None and later.on == dt.date(2026, 10, 12)


def test_window_filings_and_decided_filings_have_no_review_due() -> None:
    assert review_due(submitted_on(dt.date(2026, 9, 30), CLERK), CALENDAR) is None
    decided = approve(
        submitted_on(dt.date(2026, 9, 30)),
        CLERK,
        at(2026, 10, 8),
        REGIONS,
        filing_number="BA430421-2026-000001",
        handling_agency="衡阳县医保中心",
    )
    assert review_due(decided, CALENDAR) is None


def test_filings_submitted_under_the_2017_model_have_no_review_due() -> None:
    assert review_due(submitted_on(dt.date(2021, 6, 1)), CALENDAR) is None
