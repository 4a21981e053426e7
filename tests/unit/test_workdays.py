from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yidi.filing.model.rules import DEFAULT_FILING_RULES
from yidi.kernel.errors import InvalidInput
from yidi.kernel.insurance import FilingCategory
from yidi.kernel.workdays import (
    PROVISIONAL_NOTE_ZH,
    CalendarSource,
    Deadline,
    WorkingDayCalendar,
    build_working_day_calendar,
    supported_years,
)
from yidi.policy.national import national_era, national_rules_on

calendar = WorkingDayCalendar(announced={}, last_year=2099)
# Stay a few weeks inside the library's range so deadlines never leave it.
covered_dates = st.dates(
    min_value=date(supported_years()[0], 1, 1), max_value=date(supported_years()[1], 12, 1)
)


#: The deadline of the emergency filing rule, from the national rule data (era 2017).
WORKING_DAYS = 3


def test_emergency_deadline_is_three_working_days_as_the_hengyang_notice_says() -> None:
    # 衡阳日报（2017）：异地急诊人员应在三个工作日内……提交病情介绍资料
    old = national_era("2017")
    assert old.emergency_filing_deadline_working_days == WORKING_DAYS
    assert "三个工作日" in old.emergency_source
    assert national_rules_on(date(2017, 1, 1)) is old
    # The filing rule set takes its deadline from that rule, not from a number of its own.
    rule = DEFAULT_FILING_RULES[FilingCategory.EMERGENCY]
    assert rule.submission_working_days == WORKING_DAYS


def test_emergency_filing_deadline_skips_national_day_week() -> None:
    # Fri 27 Sep 2024: Sun 29 Sep is a make-up working day (1), Mon 30 Sep (2),
    # 1-7 Oct are the National Day holiday, Tue 8 Oct is the third working day.
    assert calendar.is_working_day(date(2024, 9, 29))
    assert not calendar.is_working_day(date(2024, 10, 1))
    assert calendar.is_working_day(date(2024, 10, 12))
    assert calendar.emergency_filing_deadline(date(2024, 9, 27), WORKING_DAYS) == date(2024, 10, 8)


def test_emergency_filing_deadline_skips_spring_festival() -> None:
    # Thu 8 Feb 2024: Fri 9 Feb works (1), 10-17 Feb are the Spring Festival
    # holiday, Sun 18 Feb is a make-up working day (2), Mon 19 Feb (3).
    assert not calendar.is_working_day(date(2024, 2, 12))
    assert calendar.is_working_day(date(2024, 2, 18))
    assert calendar.emergency_filing_deadline(date(2024, 2, 8), WORKING_DAYS) == date(2024, 2, 19)


def test_plain_week_deadline_skips_only_the_weekend() -> None:
    # Thu 14 Nov 2024 -> Fri 15, Mon 18, Tue 19.
    assert calendar.emergency_filing_deadline(date(2024, 11, 14), WORKING_DAYS) == date(
        2024, 11, 19
    )


def test_next_working_day_jumps_over_the_holiday_week() -> None:
    assert calendar.next_working_day(date(2024, 9, 30)) == date(2024, 10, 8)


def test_working_days_between_counts_after_start_through_end() -> None:
    assert calendar.working_days_between(date(2024, 9, 27), date(2024, 10, 8)) == 3
    assert calendar.working_days_between(date(2024, 9, 27), date(2024, 9, 27)) == 0
    assert calendar.working_days_between(date(2024, 10, 8), date(2024, 9, 27)) == 0


def test_zero_working_days_returns_the_start_day() -> None:
    assert calendar.add_working_days(date(2024, 10, 1), 0) == date(2024, 10, 1)


def test_negative_counts_are_a_programming_error() -> None:
    with pytest.raises(ValueError):
        calendar.add_working_days(date(2024, 10, 1), -1)


def test_year_before_the_library_is_refused_with_the_supported_range() -> None:
    first, _ = supported_years()
    bounded = WorkingDayCalendar(last_year=2028)
    with pytest.raises(InvalidInput) as caught:
        bounded.is_working_day(date(first - 1, 3, 2))
    assert caught.value.code == "CALENDAR_YEAR_UNSUPPORTED"
    assert str(first - 1) in caught.value.message
    assert f"{first}–2028" in caught.value.message
    with pytest.raises(InvalidInput):
        bounded.emergency_filing_deadline(date(first - 1, 6, 1), WORKING_DAYS)


def test_year_far_beyond_today_is_refused_as_a_typing_mistake() -> None:
    bounded = WorkingDayCalendar(last_year=2028)
    assert bounded.year_source(2028) is CalendarSource.PROVISIONAL
    with pytest.raises(InvalidInput) as caught:
        bounded.emergency_filing_deadline(date(2029, 3, 1), WORKING_DAYS)
    assert caught.value.code == "CALENDAR_YEAR_UNSUPPORTED"
    with pytest.raises(InvalidInput):  # counting runs off the end of the last year
        bounded.emergency_filing_deadline(date(2028, 12, 31), WORKING_DAYS)


def test_the_clock_sets_the_last_year_two_years_ahead() -> None:
    built = build_working_day_calendar(operator_directory=None, today=lambda: date(2026, 11, 23))
    assert built.year_source(2028) is CalendarSource.PROVISIONAL
    with pytest.raises(InvalidInput) as caught:
        built.year_source(2029)
    assert caught.value.code == "CALENDAR_YEAR_UNSUPPORTED"
    assert "2004–2028" in caught.value.message


def test_library_years_report_the_library_as_their_source() -> None:
    assert calendar.year_source(2026) is CalendarSource.LIBRARY
    due = calendar.emergency_filing_due(date(2024, 9, 27), WORKING_DAYS)
    assert due == Deadline(date(2024, 10, 8), CalendarSource.LIBRARY)
    assert not due.provisional and due.note_zh is None


def test_emergency_on_29_december_2026_is_due_in_january_2027_provisionally() -> None:
    # Tue 29 Dec: Wed 30 (1), Thu 31 (2), Fri 1 Jan is 元旦, then the weekend, Mon 4 Jan (3).
    due = calendar.emergency_filing_due(date(2026, 12, 29), WORKING_DAYS)
    assert due.on == date(2027, 1, 4)
    assert due.source is CalendarSource.PROVISIONAL
    assert due.note_zh == PROVISIONAL_NOTE_ZH
    assert calendar.source_between(date(2026, 12, 29), date(2026, 12, 31)) is CalendarSource.LIBRARY


def test_emergency_before_the_2027_spring_festival_waits_out_the_whole_festival_week() -> None:
    # 除夕 is Fri 5 Feb 2027, 正月初一 Sat 6 Feb. Provisionally 4-13 Feb are off (the day
    # before 除夕 to 正月初八), so an admission on Wed 3 Feb counts Mon 15 Feb (1),
    # Tue 16 (2) and is due Wed 17 Feb (3).
    assert not calendar.is_working_day(date(2027, 2, 5))
    assert not calendar.is_working_day(date(2027, 2, 8))
    assert calendar.is_working_day(date(2027, 2, 3))
    due = calendar.emergency_filing_due(date(2027, 2, 3), WORKING_DAYS)
    assert due == Deadline(date(2027, 2, 17), CalendarSource.PROVISIONAL)


@given(covered_dates)
def test_emergency_deadline_is_a_working_day_strictly_after_admission(admitted_on: date) -> None:
    deadline = calendar.emergency_filing_deadline(admitted_on, WORKING_DAYS)
    assert deadline > admitted_on
    assert calendar.is_working_day(deadline)
    assert calendar.working_days_between(admitted_on, deadline) == WORKING_DAYS


@given(
    covered_dates, st.integers(min_value=0, max_value=10), st.integers(min_value=0, max_value=10)
)
def test_add_working_days_is_monotonic_in_the_count(start: date, a: int, b: int) -> None:
    low, high = sorted((a, b))
    assert calendar.add_working_days(start, low) <= calendar.add_working_days(start, high)


@given(covered_dates, st.integers(min_value=0, max_value=20))
def test_add_working_days_is_monotonic_in_the_start_day(start: date, gap: int) -> None:
    later = start + timedelta(days=gap)
    assert calendar.add_working_days(start, 3) <= calendar.add_working_days(later, 3)
