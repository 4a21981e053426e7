"""Announced holiday arrangements (国务院放假安排) kept as dated data files.

The ``chinesecalendar`` package learns a year only in a release after the State Council's
notice (国务院办公厅关于某年部分节假日安排的通知, 国办发明电〔YYYY〕N号). Until then an operator
copies the notice into ``<year>.yaml`` — shipped in ``yidi/data/holidays/`` or placed in the
directory named by the ``YIDI_HOLIDAY_DIRECTORY`` setting — and ``yidi calendar check``
validates it. The format is described in ``yidi/data/holidays/README.md``.

Every file is checked when loaded: known keys only, the year matches the file name, the
notice number is cited, every date lies in the year, no day is both a holiday and a make-up
working day (调休上班), every make-up working day is a Saturday or Sunday, and every statutory
day of the year (Decree No. 795) is a holiday.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Final

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from yidi.kernel.errors import InvalidInput, ValidationFailed, YidiError
from yidi.kernel.statutory_holidays import (
    DECREE_795_FIRST_YEAR,
    LUNAR_LAST_YEAR,
    statutory_holidays,
)

NOTICE_PATTERN: Final = re.compile(r"^国办发明电〔(\d{4})〕\d+号$")
_FILE_NAME: Final = re.compile(r"^(\d{4})\.ya?ml$")
_TOP_KEYS: Final = frozenset(
    {"year", "notice", "title", "published_on", "url", "holidays", "workdays"}
)
_REQUIRED_KEYS: Final = ("year", "notice", "holidays")
_HOLIDAY_KEYS: Final = frozenset({"name", "from", "to"})
_WORKDAY_KEYS: Final = frozenset({"name", "on"})
_SATURDAY: Final = 5
_ONE_DAY: Final = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class AnnouncedArrangement:
    """One year's 放假安排 as the State Council published it."""

    year: int
    notice: str
    title: str | None
    holidays: frozenset[date]
    workdays: frozenset[date]  # make-up working days on a weekend (调休上班)
    origin: str  # the file it came from, for messages


class _Issues:
    """Collects every problem of one file, so an operator fixes them in one go."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.errors: list[YidiError] = []

    def add(self, where: str, zh: str, en: str) -> None:
        self.errors.append(_problem(self.origin, where, zh, en))

    def date(self, value: object, where: str) -> date | None:
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        self.add(where, f"“{value}”不是 YYYY-MM-DD 日期", f"{value!r} is not a YYYY-MM-DD date")
        return None

    def mapping(self, value: object, where: str, keys: frozenset[str]) -> Mapping[str, object]:
        if not isinstance(value, Mapping):
            self.add(where, "应为键值映射", "must be a mapping")
            return {}
        unknown = sorted(str(key) for key in value if key not in keys)
        if unknown:
            self.add(where, f"未知的键 {', '.join(unknown)}", f"unknown keys {', '.join(unknown)}")
        return value


def parse_arrangement(
    document: object, origin: str, expected_year: int | None = None
) -> AnnouncedArrangement:
    """Validate one parsed file; raises :class:`ValidationFailed` listing every problem."""
    issues = _Issues(origin)
    top = issues.mapping(document, "file", _TOP_KEYS)
    for key in _REQUIRED_KEYS:
        if key not in top and top:
            issues.add(key, "缺少必填项", "is required")
    year = top.get("year")
    if not isinstance(year, int) or isinstance(year, bool):
        if "year" in top:
            issues.add("year", "年份应为整数", "must be a whole number")
        raise ValidationFailed(
            issues.errors or [_problem(origin, "year", "缺少年份", "the year is missing")]
        )
    if not DECREE_795_FIRST_YEAR <= year <= LUNAR_LAST_YEAR:
        issues.add(
            "year",
            f"年份 {year} 应在 {DECREE_795_FIRST_YEAR}–{LUNAR_LAST_YEAR} 之间",
            f"the year {year} must be within {DECREE_795_FIRST_YEAR}-{LUNAR_LAST_YEAR}",
        )
        raise ValidationFailed(issues.errors)
    if expected_year is not None and year != expected_year:
        issues.add(
            "year",
            f"年份 {year} 与文件名 {expected_year} 不符",
            f"{year} does not match the file name {expected_year}",
        )
    notice = top.get("notice")
    if "notice" in top and not (isinstance(notice, str) and NOTICE_PATTERN.match(notice)):
        issues.add(
            "notice",
            f"应写明通知文号，如“国办发明电〔{year - 1}〕7号”，而不是“{notice}”",
            f"must cite the notice number, e.g. 国办发明电〔{year - 1}〕7号, not {notice!r}",
        )
    title = top.get("title")
    holidays = _holidays(top["holidays"], year, issues) if "holidays" in top else set()
    workdays = _workdays(top.get("workdays", []), year, issues)
    for day in sorted(holidays & workdays):
        issues.add(
            "workdays",
            f"{day} 既是放假日又是上班日",
            f"{day} is listed both as a holiday and a working day",
        )
    if holidays:
        for statutory in statutory_holidays(year):
            if statutory.on not in holidays:
                issues.add(
                    "holidays",
                    f"法定节假日 {statutory.on}（{statutory.name_zh}）未列为放假",
                    f"the statutory holiday {statutory.on} ({statutory.name_en}) is not a holiday",
                )
    if issues.errors:
        raise ValidationFailed(issues.errors)
    assert isinstance(notice, str)
    return AnnouncedArrangement(
        year=year,
        notice=notice,
        title=title if isinstance(title, str) else None,
        holidays=frozenset(holidays),
        workdays=frozenset(workdays),
        origin=origin,
    )


def _problem(origin: str, where: str, zh: str, en: str) -> YidiError:
    return InvalidInput(
        "HOLIDAY_FILE_INVALID", f"{origin} {where}：{zh}", f"{origin} {where}: {en}", field=where
    )


def _in_year(day: date, year: int, where: str, issues: _Issues) -> bool:
    if day.year == year:
        return True
    issues.add(where, f"{day} 不在 {year} 年内", f"{day} is not in {year}")
    return False


def _holidays(entries: object, year: int, issues: _Issues) -> set[date]:
    days: set[date] = set()
    if not isinstance(entries, list) or not entries:
        issues.add("holidays", "应为非空列表", "must be a non-empty list")
        return days
    for index, entry in enumerate(entries):
        where = f"holidays[{index}]"
        item = issues.mapping(entry, where, _HOLIDAY_KEYS)
        if not isinstance(item.get("name"), str):
            issues.add(where, "缺少节日名称 name", "needs a name")
        first = issues.date(item.get("from"), f"{where}.from")
        last = issues.date(item.get("to", item.get("from")), f"{where}.to")
        if first is None or last is None:
            continue
        if last < first:
            issues.add(where, f"结束日 {last} 早于开始日 {first}", f"{last} is before {first}")
            continue
        # Check both ends before deciding, so a range off at both ends is reported twice.
        first_ok = _in_year(first, year, f"{where}.from", issues)
        last_ok = _in_year(last, year, f"{where}.to", issues)
        if first_ok and last_ok:
            while first <= last:
                days.add(first)
                first += _ONE_DAY
    return days


def _workdays(entries: object, year: int, issues: _Issues) -> set[date]:
    days: set[date] = set()
    if not isinstance(entries, list):
        issues.add("workdays", "应为列表", "must be a list")
        return days
    for index, entry in enumerate(entries):
        where = f"workdays[{index}]"
        item = issues.mapping(entry, where, _WORKDAY_KEYS)
        day = issues.date(item.get("on"), f"{where}.on")
        if day is None or not _in_year(day, year, f"{where}.on", issues):
            continue
        if day.weekday() < _SATURDAY:
            issues.add(
                f"{where}.on",
                f"调休上班日 {day} 不是周六或周日",
                f"the make-up working day {day} is not a Saturday or Sunday",
            )
        days.add(day)
    return days


def _yaml() -> YAML:
    loader = YAML(typ="safe", pure=True)
    loader.allow_duplicate_keys = False
    return loader


def read_arrangement(source: Traversable | Path) -> AnnouncedArrangement:
    """Read and validate one ``<year>.yaml`` file."""
    origin = str(source)
    named = _FILE_NAME.match(source.name)
    if named is None:
        raise ValidationFailed(
            [
                _problem(
                    origin, "file", "文件名应为“<年份>.yaml”", "the file must be named <year>.yaml"
                )
            ]
        )
    try:
        document = _yaml().load(source.read_text(encoding="utf-8"))
    except (YAMLError, UnicodeDecodeError, ValueError) as exc:  # ValueError: 2030-02-30
        raise ValidationFailed(
            [_problem(origin, "file", f"无法解析 YAML（{exc}）", f"not valid YAML ({exc})")]
        ) from None
    return parse_arrangement(document, origin, expected_year=int(named.group(1)))


def _year_files(directory: Traversable | Path) -> list[Traversable | Path]:
    if not directory.is_dir():
        return []
    return sorted(
        (entry for entry in directory.iterdir() if entry.name.endswith((".yaml", ".yml"))),
        key=lambda entry: entry.name,
    )


def shipped_directory() -> Traversable:
    """The arrangements that ship with yidi (package data ``yidi/data/holidays``)."""
    return resources.files("yidi").joinpath("data").joinpath("holidays")


def load_arrangements(
    directories: Iterable[Traversable | Path],
) -> dict[int, AnnouncedArrangement]:
    """Every year file of ``directories``; a later directory's file replaces an earlier one's.

    Raises :class:`ValidationFailed` with the problems of every invalid file.
    """
    found: dict[int, AnnouncedArrangement] = {}
    errors: list[YidiError] = []
    for directory in directories:
        for source in _year_files(directory):
            try:
                arrangement = read_arrangement(source)
            except ValidationFailed as failed:
                errors.extend(failed.errors)
                continue
            found[arrangement.year] = arrangement
    if errors:
        raise ValidationFailed(errors)
    return found
