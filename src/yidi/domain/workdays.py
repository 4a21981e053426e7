"""Working days (工作日) on China's statutory holiday calendar.

Holidays and make-up working days (调休) come from the ``chinesecalendar``
package, which carries the State Council's yearly notices. A make-up Saturday
or Sunday is a working day; a statutory holiday on a weekday is not.
"""

from __future__ import annotations

import functools
from datetime import date, timedelta
from typing import Final

import chinese_calendar
from chinese_calendar import constants as calendar_data

from yidi.domain.errors import InvalidInput

EMERGENCY_FILING_WORKING_DAYS: Final = 3
"""异地急诊人员应在三个工作日内，向参保地经办机构提交收治医院出具的病情介绍资料
(Hengyang, 2017: emergency patients hand in the hospital's case summary within
three working days of admission, then the filing can be registered)."""

_ONE_DAY: Final = timedelta(days=1)


class CalendarYearUnsupported(InvalidInput):
    """The holiday calendar does not know the year (未收录该年度节假日安排)."""


@functools.cache
def supported_years() -> tuple[int, int]:
    """First and last year whose holiday notice the installed calendar carries."""
    known = calendar_data.holidays.keys()
    return min(known).year, max(known).year


class WorkingDayCalendar:
    """Stateless questions about working days; every date must fall in :func:`supported_years`."""

    def _require_supported(self, day: date) -> None:
        first, last = supported_years()
        if not first <= day.year <= last:
            raise CalendarYearUnsupported(
                "CALENDAR_YEAR_UNSUPPORTED",
                f"节假日日历未收录 {day.year} 年，仅支持 {first}–{last} 年",
                f"The holiday calendar has no data for {day.year}; supported years are {first}-{last}",
                details={"year": day.year, "first_year": first, "last_year": last},
            )

    def is_working_day(self, day: date) -> bool:
        self._require_supported(day)
        return bool(chinese_calendar.is_workday(day))

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        candidate = day + _ONE_DAY
        while not self.is_working_day(candidate):
            candidate += _ONE_DAY
        return candidate

    def add_working_days(self, day: date, count: int) -> date:
        """The ``count``-th working day after ``day`` (``day`` itself is not counted)."""
        if count < 0:
            raise ValueError(f"count must be >= 0, got {count}")
        self._require_supported(day)
        result = day
        for _ in range(count):
            result = self.next_working_day(result)
        return result

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 if ``end <= start``)."""
        self._require_supported(start)
        self._require_supported(end)
        count = 0
        day = start + _ONE_DAY
        while day <= end:
            count += self.is_working_day(day)
            day += _ONE_DAY
        return count

    def emergency_filing_deadline(
        self, admitted_on: date, working_days: int = EMERGENCY_FILING_WORKING_DAYS
    ) -> date:
        """Last day to hand in the emergency case summary (急诊备案材料提交期限).

        See :data:`EMERGENCY_FILING_WORKING_DAYS`: the admission day is not counted.
        """
        return self.add_working_days(admitted_on, working_days)
