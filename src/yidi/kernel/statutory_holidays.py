"""Statutory holidays fixed by law (法定节假日), for years with no announced arrangement.

《全国年节及纪念日放假办法》 as revised by State Council Decree No. 795
(国务院令第795号, in force from 1 January 2025), article 2, gives every citizen these
days off: 元旦 1 day (1 January), 春节 4 days (农历除夕、正月初一至初三), 清明节 1 day
(the Qingming solar term day), 劳动节 2 days (1-2 May), 端午节 1 day (农历五月初五),
中秋节 1 day (农历八月十五), 国庆节 3 days (1-3 October).

Each year the State Council then publishes its 放假安排 (国办发明电): it moves weekends
to join the statutory days into longer breaks (调休: a weekday off, a weekend worked) and,
by article 3 of the same rules, gives a weekday off in lieu when a statutory day falls on
a weekend (补假). Those extra weekdays off are not known before the notice, so
:func:`possible_days_off` adds every weekday the notice could plausibly give: a deadline
counted on it can be later than the announced one, never earlier.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

import chinese_calendar
from lunardate import LunarDate

DECREE_795_FIRST_YEAR: Final = 2025
"""First year the Decree No. 795 holiday list applies to (在2025年1月1日起施行)."""

LUNAR_LAST_YEAR: Final = 2099
"""Last year the lunar tables of ``lunardate`` cover."""

_ONE_DAY: Final = timedelta(days=1)
_SATURDAY: Final = 5
_MONDAY, _TUESDAY, _THURSDAY = 0, 1, 3


@dataclass(frozen=True, slots=True)
class StatutoryHoliday:
    """One statutory day off (法定节假日中的一天)."""

    on: date
    name_zh: str
    name_en: str


def _is_weekend(day: date) -> bool:
    return day.weekday() >= _SATURDAY


def _qingming(year: int) -> date:
    """The Qingming solar term day (清明节气当日), from chinesecalendar's solar terms."""
    terms: list[tuple[date, str]] = chinese_calendar.get_solar_terms(
        date(year, 4, 1), date(year, 4, 30)
    )
    return next(day for day, name in terms if name == "清明")


def _lunar(year: int, month: int, day: int) -> date:
    solar: date = LunarDate(year, month, day).to_solar_date()
    return solar


@functools.cache
def statutory_holidays(year: int) -> tuple[StatutoryHoliday, ...]:
    """The 13 statutory days off of ``year`` under Decree No. 795, in date order.

    The Spring Festival of lunar year ``year`` always starts in Gregorian ``year``
    (正月初一 falls between 21 January and 20 February), so every day is in ``year``.
    """
    if not DECREE_795_FIRST_YEAR <= year <= LUNAR_LAST_YEAR:
        raise ValueError(f"Decree No. 795 holidays are computed for 2025-2099, not {year}")
    new_year = _lunar(year, 1, 1)
    days = [
        StatutoryHoliday(date(year, 1, 1), "元旦", "New Year's Day"),
        StatutoryHoliday(new_year - _ONE_DAY, "春节（除夕）", "Spring Festival (New Year's Eve)"),
        *(
            StatutoryHoliday(new_year + offset * _ONE_DAY, "春节", "Spring Festival")
            for offset in range(3)
        ),
        StatutoryHoliday(_qingming(year), "清明节", "Qingming Festival"),
        StatutoryHoliday(date(year, 5, 1), "劳动节", "Labour Day"),
        StatutoryHoliday(date(year, 5, 2), "劳动节", "Labour Day"),
        StatutoryHoliday(_lunar(year, 5, 5), "端午节", "Dragon Boat Festival"),
        StatutoryHoliday(_lunar(year, 8, 15), "中秋节", "Mid-Autumn Festival"),
        *(StatutoryHoliday(date(year, 10, day), "国庆节", "National Day") for day in (1, 2, 3)),
    ]
    return tuple(sorted(days, key=lambda h: h.on))


def _bridge_days(day: date) -> tuple[date, ...]:
    """Weekdays a notice may add around a one-day holiday to make a three-day break.

    A Tuesday holiday takes the Monday before, a Thursday the Friday after (调休); a
    weekend holiday gives the Monday after in lieu (补假).
    """
    weekday = day.weekday()
    if weekday == _TUESDAY:
        return (day - _ONE_DAY,)
    if weekday == _THURSDAY:
        return (day + _ONE_DAY,)
    if _is_weekend(day):
        return (day + timedelta(days=7 - weekday),)
    return ()


@functools.cache
def possible_days_off(year: int) -> frozenset[date]:
    """Every day of ``year`` that ``year``'s notice could plausibly give off, weekends aside.

    The statutory days plus: the Spring Festival week from the day before 除夕 to 正月初八
    (notices since 2008 have placed the 7-9 day break inside it), 1-5 May and 1-8 October
    (the week-long breaks; 中秋 next to 国庆 has stretched the latter to 8 days), and the
    bridge or in-lieu weekday of each one-day holiday, including 31 December when next
    year's 元旦 is a Tuesday (the 2019 notice gave 31 December 2018 off).
    """
    statutory = statutory_holidays(year)
    new_year = _lunar(year, 1, 1)
    off = {h.on for h in statutory}
    off.update(new_year + offset * _ONE_DAY for offset in range(-2, 8))
    off.update(date(year, 5, day) for day in range(1, 6))
    off.update(date(year, 10, day) for day in range(1, 9))
    for holiday in statutory:
        off.update(_bridge_days(holiday.on))
    off.update(_bridge_days(date(year + 1, 1, 1)))  # next 元旦 bridged back to 31 December
    return frozenset(day for day in off if day.year == year)
