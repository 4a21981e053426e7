import dataclasses
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from yidi.entrypoints.cli.main import app
from yidi.kernel.announced_holidays import load_arrangements, read_arrangement
from yidi.kernel.errors import InvalidInput, ValidationFailed
from yidi.kernel.workdays import (
    CalendarSource,
    Deadline,
    WorkingDayCalendar,
    build_working_day_calendar,
)

FIXTURES = Path(__file__).parent / "fixtures" / "holidays"
FAKE_YEAR_FILE = FIXTURES / "2030.yaml"


#: The emergency filing deadline the calendar is asked for (the 2017 rule: three working days,
#: data/national/filing_rules.yaml; the rule data itself is tested in test_workdays.py).
WORKING_DAYS = 3


def _calendar() -> WorkingDayCalendar:
    return WorkingDayCalendar(load_arrangements([FIXTURES]), last_year=2032)


def _write(directory: Path, text: str, name: str = "2030.yaml") -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def _fixture_with(old: str, new: str) -> str:
    text = FAKE_YEAR_FILE.read_text(encoding="utf-8")
    assert old in text
    return text.replace(old, new)


def _problems(path: Path) -> list[str]:
    with pytest.raises(ValidationFailed) as caught:
        read_arrangement(path)
    assert all(e.code == "HOLIDAY_FILE_INVALID" for e in caught.value.errors)
    return [e.message for e in caught.value.errors]


def test_a_year_with_an_announced_file_is_answered_from_the_file() -> None:
    calendar = _calendar()
    assert calendar.year_source(2030) is CalendarSource.ANNOUNCED
    assert calendar.year_source(2031) is CalendarSource.PROVISIONAL
    # Fri 1 Feb 2030: 2-9 Feb off, the weekend, Mon 11 (1), Tue 12 (2), Wed 13 (3).
    assert calendar.emergency_filing_due(date(2030, 2, 1), WORKING_DAYS) == Deadline(
        date(2030, 2, 13), CalendarSource.ANNOUNCED
    )


def test_make_up_saturday_of_the_file_counts_as_a_working_day() -> None:
    calendar = _calendar()
    assert calendar.is_working_day(date(2030, 2, 16))  # Saturday, 调休上班
    assert not calendar.is_working_day(date(2030, 2, 23))  # an ordinary Saturday
    # Thu 14 Feb: Fri 15 (1), Sat 16 (2, make-up day), Mon 18 (3).
    assert calendar.emergency_filing_deadline(date(2030, 2, 14), WORKING_DAYS) == date(2030, 2, 18)
    provisional = WorkingDayCalendar({}, last_year=2032)
    assert provisional.emergency_filing_deadline(date(2030, 2, 14), WORKING_DAYS) > date(
        2030, 2, 18
    )


def test_deadline_from_an_announced_year_into_a_provisional_one_is_provisional() -> None:
    # Mon 30 Dec 2030: Tue 31 (1); 元旦 2031 is a Wednesday, Thu 2 (2), Fri 3 (3).
    due = _calendar().emergency_filing_due(date(2030, 12, 30), WORKING_DAYS)
    assert due == Deadline(date(2031, 1, 3), CalendarSource.PROVISIONAL)


def test_the_operator_directory_reaches_the_built_calendar() -> None:
    def today() -> date:
        return date(2029, 11, 20)

    shipped = build_working_day_calendar(operator_directory=None, today=today)
    assert shipped.year_source(2030) is CalendarSource.PROVISIONAL
    built = build_working_day_calendar(operator_directory=FIXTURES, today=today)
    assert built.year_source(2030) is CalendarSource.ANNOUNCED
    assert built.emergency_filing_deadline(date(2030, 2, 1), WORKING_DAYS) == date(2030, 2, 13)


def test_building_with_a_directory_with_a_bad_file_fails_at_once(tmp_path: Path) -> None:
    _write(tmp_path, "year: 2030\n")
    with pytest.raises(ValidationFailed):
        build_working_day_calendar(operator_directory=tmp_path, today=None)


def test_building_with_a_directory_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as caught:
        build_working_day_calendar(operator_directory=tmp_path / "missing", today=None)
    assert caught.value.code == "HOLIDAY_DIRECTORY_MISSING"


def test_a_later_directory_replaces_the_file_of_an_earlier_one(tmp_path: Path) -> None:
    _write(tmp_path, _fixture_with("〔2029〕99号", "〔2029〕100号"))
    assert load_arrangements([FIXTURES])[2030].notice == "国办发明电〔2029〕99号"
    assert load_arrangements([FIXTURES, tmp_path])[2030].notice == "国办发明电〔2029〕100号"


def test_the_library_wins_over_a_file_for_a_year_it_knows() -> None:
    arrangement = dataclasses.replace(load_arrangements([FIXTURES])[2030], year=2026)
    calendar = WorkingDayCalendar({2026: arrangement})
    assert calendar.year_source(2026) is CalendarSource.LIBRARY


def test_date_outside_the_year_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, _fixture_with("from: 2030-01-01", "from: 2029-12-31"))
    assert any("2029-12-31 不在 2030 年内" in p for p in _problems(path))


def test_day_both_holiday_and_workday_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, _fixture_with("on: 2030-02-16", "on: 2030-02-09"))
    assert any("2030-02-09 既是放假日又是上班日" in p for p in _problems(path))


def test_make_up_working_day_on_a_weekday_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, _fixture_with("on: 2030-04-28", "on: 2030-04-29"))
    assert any("调休上班日 2030-04-29 不是周六或周日" in p for p in _problems(path))


def test_missing_or_malformed_notice_number_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, _fixture_with("国办发明电〔2029〕99号", "2029年通知"))
    assert any("通知文号" in p for p in _problems(path))
    path = _write(tmp_path, _fixture_with("notice: 国办发明电〔2029〕99号\n", ""))
    assert any("notice：缺少必填项" in p for p in _problems(path))


def test_missing_statutory_day_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, _fixture_with("from: 2030-06-05, to: 2030-06-05", "from: 2030-06-06"))
    assert any("法定节假日 2030-06-05（端午节）未列为放假" in p for p in _problems(path))


def test_file_name_year_mismatch_unknown_keys_and_bad_dates_are_all_reported(
    tmp_path: Path,
) -> None:
    text = _fixture_with("published_on:", "remark: x\npublished_on:").replace(
        "from: 2030-04-05", 'from: "2030-04-31"'
    )
    problems = _problems(_write(tmp_path, text, "2031.yaml"))
    assert any("年份 2030 与文件名 2031 不符" in p for p in problems)
    assert any("未知的键 remark" in p for p in problems)
    assert any("“2030-04-31”不是 YYYY-MM-DD 日期" in p for p in problems)


def test_duplicate_keys_impossible_dates_and_broken_yaml_are_refused(tmp_path: Path) -> None:
    for text in ("year: 2030\nyear: 2031\n", "year: [2030\n", "year: 2030\nx: 2030-02-30\n"):
        assert any("无法解析 YAML" in p for p in _problems(_write(tmp_path, text)))


def test_year_before_decree_795_is_refused(tmp_path: Path) -> None:
    problems = _problems(_write(tmp_path, "year: 2024\nnotice: x\nholidays: []\n", "2024.yaml"))
    assert any("2025–2099" in p for p in problems)


def test_cli_check_lists_valid_files_and_fails_on_bad_ones(tmp_path: Path) -> None:
    runner = CliRunner()
    good = runner.invoke(app, ["calendar", "check", "--dir", str(FIXTURES)])
    assert good.exit_code == 0, good.output
    assert "2030: 国办发明电〔2029〕99号" in good.output and "1 个文件通过校验" in good.output
    _write(tmp_path, _fixture_with("on: 2030-04-28", "on: 2030-04-29"))
    bad = runner.invoke(app, ["calendar", "check", "--dir", str(tmp_path)])
    assert bad.exit_code == 1
    assert "不是周六或周日" in bad.output


def test_cli_deadline_says_when_it_is_provisional() -> None:
    result = CliRunner().invoke(app, ["calendar", "deadline", "2026-12-29"])
    assert result.exit_code == 0, result.output
    assert "2027-01-04" in result.output and "以公布为准" in result.output
