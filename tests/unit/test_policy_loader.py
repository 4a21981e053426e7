from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from yidi.cli.main import app
from yidi.domain.errors import NotFound, Refused
from yidi.domain.insurance import FilingCategory, HospitalLevel, InsuranceType, PersonType
from yidi.domain.money import Money
from yidi.policy.loader import check_policies, parse_policy_directory, policy_at

MINIMAL = """
metadata:
  region_name: 测试市
  insurance_type: employee
deductible:
  by_hospital_level:
    level_1: {values: {2017-01-01: {value: "300.00", reference: 测试文件第1条}}}
    level_2: {values: {2017-01-01: {value: "600.00", reference: 测试文件第1条}}}
    level_3:
      values:
        2017-01-01: {value: "1000.00", reference: 测试文件第1条}
        2019-01-01: {value: null, reference: 测试文件废止}
reimbursement:
  by_hospital_level:
    level_1: {values: {2017-01-01: {value: "0.90", reference: 测试文件第2条}}}
    level_2: {values: {2017-01-01: {value: "0.85", reference: 测试文件第2条}}}
    level_3: {values: {2017-01-01: {value: "0.80", reference: 测试文件第2条}}}
annual_cap:
  values:
    2017-01-01: {value: "100000.00", reference: 测试文件第3条}
    2018-01-01: {value: "120000.00", reference: 测试文件第3条（修订）}
"""


def _parse(text: str):  # type: ignore[no-untyped-def]
    return parse_policy_directory(
        [("999999/employee/a.yaml", text)], "999999", InsuranceType.EMPLOYEE
    )


def test_shipped_policies_are_all_valid() -> None:
    assert check_policies() == []


def test_policy_check_command_passes_on_the_shipped_files() -> None:
    result = CliRunner().invoke(app, ["policy", "check"])
    assert result.exit_code == 0, result.output
    assert "430400" in result.output


def test_policy_check_command_fails_on_a_broken_tree(tmp_path: Path) -> None:
    folder = tmp_path / "999999" / "employee"
    folder.mkdir(parents=True)
    (folder / "a.yaml").write_text(MINIMAL.replace('"0.85"', "0.85"), encoding="utf-8")
    result = CliRunner().invoke(app, ["policy", "check", "--root", str(tmp_path)])
    assert result.exit_code == 1
    assert "裸数字" in result.output


def test_a_minimal_policy_parses_without_issues() -> None:
    _, issues = _parse(MINIMAL)
    assert issues == []


def test_bare_float_in_a_rate_position_is_an_error() -> None:
    _, issues = _parse(MINIMAL.replace('"0.85"', "0.85"))
    assert [issue.path for issue in issues] == [
        "reimbursement.by_hospital_level.level_2.values.2017-01-01"
    ]


def test_bare_int_in_a_money_position_is_an_error() -> None:
    _, issues = _parse(MINIMAL.replace('"300.00"', "300"))
    assert len(issues) == 1 and "quoted" in issues[0].message


def test_duplicate_keys_are_an_error() -> None:
    text = MINIMAL.replace("annual_cap:\n", "annual_cap:\n  description: a\n  description: b\n")
    _, issues = _parse(text)
    assert any("重复" in issue.message or "duplicate" in issue.message.lower() for issue in issues)


def test_unknown_keys_are_an_error_at_any_depth() -> None:
    _, issues = _parse(MINIMAL + "copay: {values: {}}\n")
    assert [issue.path for issue in issues] == ["copay"]
    _, issues = _parse(MINIMAL.replace("level_1: {values", "level_9: {values"))
    assert "deductible.by_hospital_level.level_9" in [issue.path for issue in issues]


def test_a_value_without_reference_is_an_error() -> None:
    _, issues = _parse(MINIMAL.replace(", reference: 测试文件第3条}", "}", 1))
    assert any("reference" in issue.message for issue in issues)


def test_values_are_chosen_by_date_and_null_ends_a_rule() -> None:
    source, _ = _parse(MINIMAL)
    from yidi.policy.loader import build_policy

    assert build_policy(source, dt.date(2017, 6, 1)).annual_cap == Money("100000.00")
    assert build_policy(source, dt.date(2018, 6, 1)).annual_cap == Money("120000.00")
    with pytest.raises(Refused) as raised:
        build_policy(source, dt.date(2019, 6, 1))
    assert raised.value.code == "POLICY_NOT_IN_FORCE"


def test_policy_version_hash_changes_only_when_values_in_force_change() -> None:
    source, _ = _parse(MINIMAL)
    from yidi.policy.loader import build_policy

    early = build_policy(source, dt.date(2017, 1, 1)).version_hash
    assert early == build_policy(source, dt.date(2017, 12, 31)).version_hash
    assert early != build_policy(source, dt.date(2018, 1, 1)).version_hash


def test_policy_at_returns_every_parameter_with_references() -> None:
    policy = policy_at("430400", InsuranceType.EMPLOYEE, dt.date(2017, 9, 1))
    assert policy.deductible_by_level[HospitalLevel.LEVEL_3] == Money("1300.00")
    assert policy.person_type_points[PersonType.EMPLOYEE_RETIRED] == Decimal("0.05")
    assert policy.cross_region_rule(FilingCategory.EMERGENCY).rate_points == Decimal("-0.10")
    assert policy.cross_region_rule(None).direct_settlement is False
    assert policy.illustrative is True
    assert "illustrative" in policy.cite("annual_cap")


def test_policy_at_an_unknown_region_is_not_found() -> None:
    with pytest.raises(NotFound):
        policy_at("110000", InsuranceType.EMPLOYEE, dt.date(2017, 9, 1))
