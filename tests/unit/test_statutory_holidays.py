from datetime import date, timedelta

import chinese_calendar
import pytest
from hypothesis import given
from hypothesis import strategies as st

from yidi.kernel.statutory_holidays import possible_days_off, statutory_holidays
from yidi.kernel.workdays import CalendarSource, WorkingDayCalendar

#: The emergency filing deadline the calendar is asked for (the 2017 rule: three working days,
#: data/national/filing_rules.yaml; the rule data itself is tested in test_workdays.py).
WORKING_DAYS = 3

library = WorkingDayCalendar(announced={}, last_year=2099)
# The same years answered from law alone, as if no notice had been published.
provisional = WorkingDayCalendar(announced={}, last_year=2099, use_library=False)
LIBRARY_YEARS_UNDER_DECREE_795 = (2025, 2026)


def _days(year: int) -> list[date]:
    first = date(year, 1, 1)
    return [first + timedelta(days=n) for n in range((date(year + 1, 1, 1) - first).days)]


def test_decree_795_gives_thirteen_statutory_days() -> None:
    for year in (2025, 2026, 2027, 2040):
        holidays = statutory_holidays(year)
        assert len(holidays) == len({h.on for h in holidays}) == 13
        assert all(h.on.year == year for h in holidays)


@pytest.mark.parametrize("year", LIBRARY_YEARS_UNDER_DECREE_795)
def test_every_statutory_day_is_a_holiday_in_the_library(year: int) -> None:
    for holiday in statutory_holidays(year):
        assert chinese_calendar.is_holiday(holiday.on), holiday
        detail = chinese_calendar.get_holiday_detail(holiday.on)[1]
        assert detail is not None, holiday  # a named festival, not just a weekend


def test_lunar_and_solar_term_dates_match_the_2026_notice() -> None:
    # 国办发明电〔2025〕7号: 春节 2月15日（腊月二十八）起; 清明 4月4-6日; 端午 6月19日; 中秋 9月25日.
    by_name: dict[str, list[date]] = {}
    for holiday in statutory_holidays(2026):
        by_name.setdefault(holiday.name_en, []).append(holiday.on)
    assert by_name["Spring Festival (New Year's Eve)"] == [date(2026, 2, 16)]
    assert by_name["Spring Festival"] == [date(2026, 2, 17), date(2026, 2, 18), date(2026, 2, 19)]
    assert by_name["Qingming Festival"] == [date(2026, 4, 5)]
    assert by_name["Dragon Boat Festival"] == [date(2026, 6, 19)]
    assert by_name["Mid-Autumn Festival"] == [date(2026, 9, 25)]


def test_years_before_decree_795_have_no_provisional_calendar() -> None:
    with pytest.raises(ValueError):
        statutory_holidays(2024)
    assert provisional.year_source(2024) is CalendarSource.LIBRARY


@pytest.mark.parametrize("year", LIBRARY_YEARS_UNDER_DECREE_795)
def test_every_weekday_the_notice_gave_off_is_a_possible_day_off(year: int) -> None:
    given_off = [d for d in _days(year) if d.weekday() < 5 and chinese_calendar.is_holiday(d)]
    assert given_off  # the notices did give weekdays off
    assert set(given_off) <= possible_days_off(year)


@pytest.mark.parametrize("year", LIBRARY_YEARS_UNDER_DECREE_795)
def test_provisional_deadline_is_never_earlier_than_the_announced_one(year: int) -> None:
    assert provisional.year_source(year) is CalendarSource.PROVISIONAL
    assert library.year_source(year) is CalendarSource.LIBRARY
    later = 0
    for admitted_on in _days(year)[:-10]:
        provisional_on = provisional.emergency_filing_deadline(admitted_on, WORKING_DAYS)
        announced_on = library.emergency_filing_deadline(admitted_on, WORKING_DAYS)
        assert provisional_on >= announced_on, admitted_on
        later += provisional_on > announced_on
    assert later  # the comparison is not vacuous: some provisional deadlines are later


def test_statutory_days_alone_would_give_an_earlier_deadline_than_the_2026_notice() -> None:
    # Why the provisional calendar also takes the festival weeks off: 20 and 23 Feb 2026 are
    # no statutory days, yet the notice gave them off (with Sat 14 and 28 Feb worked).
    statutory = {h.on for h in statutory_holidays(2026)}
    counted, day = 0, date(2026, 2, 19)
    while counted < 3:
        day += timedelta(days=1)
        counted += day.weekday() < 5 and day not in statutory
    assert day == date(2026, 2, 24)
    assert library.emergency_filing_deadline(date(2026, 2, 19), WORKING_DAYS) == date(2026, 2, 26)
    assert provisional.emergency_filing_deadline(date(2026, 2, 19), WORKING_DAYS) >= date(
        2026, 2, 26
    )


provisional_dates = st.dates(min_value=date(2027, 1, 1), max_value=date(2098, 12, 1))


@given(provisional_dates, st.integers(min_value=0, max_value=40))
def test_provisional_deadline_is_monotonic_in_the_admission_day(start: date, gap: int) -> None:
    later = start + timedelta(days=gap)
    assert library.emergency_filing_deadline(
        start, WORKING_DAYS
    ) <= library.emergency_filing_deadline(later, WORKING_DAYS)


@given(provisional_dates)
def test_provisional_deadline_is_a_working_day_three_working_days_on(admitted_on: date) -> None:
    due = library.emergency_filing_due(admitted_on, WORKING_DAYS)
    assert due.source is CalendarSource.PROVISIONAL
    assert due.on > admitted_on and library.is_working_day(due.on)
    assert library.working_days_between(admitted_on, due.on) == 3
    assert all(not library.is_working_day(h.on) for h in statutory_holidays(admitted_on.year))
