"""Working days (工作日) on China's holiday calendar, and where each year's calendar comes from.

A year is answered from the first source that knows it (:class:`CalendarSource`):

1. ``library``: the ``chinesecalendar`` package, which carries the State Council's notices
   (放假安排) up to its release;
2. ``announced``: a ``<year>.yaml`` file copied from a notice the package does not carry yet
   (:mod:`yidi.kernel.announced_holidays`);
3. ``provisional``: weekends and the statutory holidays fixed by law
   (:mod:`yidi.kernel.statutory_holidays`), until the year's notice is published.

A make-up Saturday or Sunday (调休上班) is a working day; a holiday on a weekday is not.

Why a provisional deadline is never earlier than the announced one will be: the
provisional calendar's working days are a subset of any notice's. A notice only ever adds
working days on weekends (the provisional calendar has none), and every weekday a notice
gives off lies inside :func:`~yidi.kernel.statutory_holidays.possible_days_off` (true of
every notice from 2014 to 2026 but the one-off 3 September 2015 commemoration). With fewer
working days to count, the n-th working day after admission cannot come sooner. So a filing
is never refused as late before the real deadline; it may be accepted up to a few days
after it, until an operator adds the year's file. Statutory days alone would not do: in
2026 they leave 20 and 23 February working while the notice gave them off, so an admission
on 19 February would be due on the 24th instead of the 26th (see the unit tests).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Final

import chinese_calendar
from chinese_calendar import constants as calendar_data

from yidi.kernel.announced_holidays import (
    AnnouncedArrangement,
    load_arrangements,
    shipped_directory,
)
from yidi.kernel.errors import InvalidInput
from yidi.kernel.statutory_holidays import DECREE_795_FIRST_YEAR, LUNAR_LAST_YEAR, possible_days_off

YEARS_AHEAD: Final = 2
"""Years past the current one a date may fall in; later ones are typing mistakes."""

PROVISIONAL_NOTE_ZH: Final = "按法定节假日推算，国务院公布当年放假安排后以公布为准"
PROVISIONAL_NOTE_EN: Final = (
    "Counted on the statutory holidays; the State Council's holiday arrangement for the "
    "year prevails once published"
)

_ONE_DAY: Final = timedelta(days=1)
_SATURDAY: Final = 5


class CalendarSource(StrEnum):
    """Where a year's holidays come from (节假日数据来源)."""

    LIBRARY = "library"
    ANNOUNCED = "announced"
    PROVISIONAL = "provisional"

    @property
    def rank(self) -> int:
        """Higher is less certain: a span of years is as certain as its least certain year."""
        return list(CalendarSource).index(self)


@dataclass(frozen=True, slots=True)
class Deadline:
    """A due date and the calendar it was counted on."""

    on: date
    source: CalendarSource

    @property
    def provisional(self) -> bool:
        return self.source is CalendarSource.PROVISIONAL

    @property
    def note_zh(self) -> str | None:
        return PROVISIONAL_NOTE_ZH if self.provisional else None


class CalendarYearUnsupported(InvalidInput):
    """No calendar can answer for the year (不支持该年度的节假日日历)."""


@functools.cache
def supported_years() -> tuple[int, int]:
    """First and last year whose holiday notice the installed ``chinesecalendar`` carries."""
    known = calendar_data.holidays.keys()
    return min(known).year, max(known).year


def arrangement_directories(operator_directory: Path | None) -> list[Traversable | Path]:
    """The shipped directory, then the operator's (whose files replace shipped ones)."""
    directories: list[Traversable | Path] = [shipped_directory()]
    if operator_directory is not None:
        directories.append(operator_directory)
    return directories


def build_working_day_calendar(
    *, operator_directory: Path | None, today: Callable[[], date] | None
) -> WorkingDayCalendar:
    """The calendar the composition root builds once: the shipped and the operator's
    announced files, loaded and validated now (a bad file stops start-up, not a filing),
    and years up to ``today``'s plus :data:`YEARS_AHEAD`."""
    if operator_directory is not None and not operator_directory.is_dir():
        raise InvalidInput(
            "HOLIDAY_DIRECTORY_MISSING",
            f"放假安排目录不存在：{operator_directory}",
            f"The holiday arrangement directory does not exist: {operator_directory}",
            field="holiday_directory",
        )
    arrangements = load_arrangements(arrangement_directories(operator_directory))
    return WorkingDayCalendar(arrangements, today=today)


class WorkingDayCalendar:
    """Questions about working days across the library, announced and provisional years.

    ``announced`` defaults to the shipped arrangement files (the composition root passes the
    operator's too, see :func:`build_working_day_calendar`). The last year answered is
    ``last_year``; else the year of ``today()`` plus :data:`YEARS_AHEAD`, asked on every
    question so a long-running server moves on with the clock; else the last year the
    lunar tables know. ``use_library=False`` answers the library's years from law instead
    (provisionally), to compare the two.
    """

    def __init__(
        self,
        announced: Mapping[int, AnnouncedArrangement] | None = None,
        *,
        last_year: int | None = None,
        today: Callable[[], date] | None = None,
        use_library: bool = True,
    ) -> None:
        self._announced = (
            load_arrangements(arrangement_directories(None)) if announced is None else announced
        )
        self._fixed_last_year = last_year
        self._today = today
        self._use_library = use_library

    @property
    def _last_year(self) -> int:
        if self._fixed_last_year is not None:
            return self._fixed_last_year
        if self._today is None:
            return LUNAR_LAST_YEAR
        return min(self._today().year + YEARS_AHEAD, LUNAR_LAST_YEAR)

    def year_source(self, year: int) -> CalendarSource:
        """Which calendar answers for ``year``; refuses years no calendar can answer."""
        first, last = supported_years()
        if not first <= year <= self._last_year:
            raise CalendarYearUnsupported(
                "CALENDAR_YEAR_UNSUPPORTED",
                f"节假日日历不支持 {year} 年，仅支持 {first}–{self._last_year} 年",
                f"The holiday calendar cannot answer for {year}; "
                f"supported years are {first}-{self._last_year}",
                details={"year": year, "first_year": first, "last_year": self._last_year},
            )
        if year < DECREE_795_FIRST_YEAR or (self._use_library and year <= last):
            return CalendarSource.LIBRARY
        if year in self._announced:
            return CalendarSource.ANNOUNCED
        return CalendarSource.PROVISIONAL

    def source_between(self, start: date, end: date) -> CalendarSource:
        """The least certain source of the years from ``start`` to ``end``."""
        sources = (self.year_source(year) for year in range(start.year, end.year + 1))
        return max(sources, key=lambda source: source.rank)

    def is_working_day(self, day: date) -> bool:
        source = self.year_source(day.year)
        if source is CalendarSource.LIBRARY:
            return bool(chinese_calendar.is_workday(day))
        weekday = day.weekday() < _SATURDAY
        if source is CalendarSource.ANNOUNCED:
            arrangement = self._announced[day.year]
            return day in arrangement.workdays or (weekday and day not in arrangement.holidays)
        return weekday and day not in possible_days_off(day.year)

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
        self.year_source(day.year)
        result = day
        for _ in range(count):
            result = self.next_working_day(result)
        return result

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 if ``end <= start``)."""
        self.year_source(start.year)
        self.year_source(end.year)
        count = 0
        day = start + _ONE_DAY
        while day <= end:
            count += self.is_working_day(day)
            day += _ONE_DAY
        return count

    def emergency_filing_due(self, admitted_on: date, working_days: int) -> Deadline:
        """Last day to hand in the emergency case summary (急诊备案材料提交期限), with its source.

        ``working_days`` is the filing rule's deadline (2017: 异地急诊人员应在三个工作日内提交
        病情介绍资料, data/national/filing_rules.yaml); the admission day is not counted.
        """
        on = self.add_working_days(admitted_on, working_days)
        return Deadline(on, self.source_between(admitted_on, on))

    def emergency_filing_deadline(self, admitted_on: date, working_days: int) -> date:
        """The date of :meth:`emergency_filing_due`."""
        return self.emergency_filing_due(admitted_on, working_days).on
