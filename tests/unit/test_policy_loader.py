from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from yidi.entrypoints.cli.main import app
from yidi.kernel.errors import NotFound, Refused
from yidi.kernel.insurance import FilingCategory, HospitalLevel, InsuranceType, PersonType
from yidi.kernel.money import Money
from yidi.policy.loader import check_policies, parse_policy_directory, policy_at

MINIMAL = """
metadata:
  region_name: 测试市
  insurance_type: employee
rounding:
  values: {2017-01-01: {value: fen, reference: 测试文件第9条}}
schemes:
  inpatient:
    steps:
    - {id: lines, kind: line_split}
    - id: deductible
      kind: deductible
      params:
        by_hospital_level:
          values:
            2017-01-01:
              value: {level_1: "300.00", level_2: "600.00", level_3: "1000.00"}
              reference: 测试文件第1条
            2019-01-01: {value: null, reference: 测试文件废止}
    - id: pooled_fund
      kind: pooled_fund
      params:
        rate_by_hospital_level:
          values:
            2017-01-01:
              value: {level_1: "0.90", level_2: "0.85", level_3: "0.80"}
              reference: 测试文件第2条
            2019-01-01: {value: null, reference: 测试文件废止}
        annual_cap:
          values:
            2017-01-01: {value: "100000.00", reference: 测试文件第3条}
            2018-01-01: {value: "120000.00", reference: 测试文件第3条（修订）}
            2019-01-01: {value: null, reference: 测试文件废止}
"""


#: Filing categories a test policy states ``rate_points`` for from 2017: every category of the
#: 2017 national filing model, and unfiled care (the national rule file sets them only from the
#: 2022 model on, and a policy stating them nowhere is refused).
CATEGORIES_2017 = (
    "retiree_resettled",
    "long_term_resident",
    "posted_worker",
    "referral",
    "emergency",
    "unfiled",
)


def cross_region_yaml(text: str = "cross_region:\n") -> str:
    """``text`` (a cross_region.yaml) plus rate_points 0 from 2017 for each category it leaves out."""
    stated = set(re.findall(r"^  (\w+):\n    rate_points:", text, re.MULTILINE))
    return text + "".join(
        f"  {key}:\n    rate_points:\n      values:\n"
        f'        2017-01-01: {{value: "0.00", reference: 测试文件第7条}}\n'
        for key in CATEGORIES_2017
        if key not in stated
    )


def _write_tree(tmp_path: Path, text: str) -> None:
    folder = tmp_path / "999999" / "employee"
    folder.mkdir(parents=True)
    (folder / "a.yaml").write_text(text, encoding="utf-8")
    (folder / "cross_region.yaml").write_text(cross_region_yaml(), encoding="utf-8")


def _parse(text: str):  # type: ignore[no-untyped-def]
    return parse_policy_directory(
        [
            ("999999/employee/a.yaml", text),
            ("999999/employee/cross_region.yaml", cross_region_yaml()),
        ],
        "999999",
        InsuranceType.EMPLOYEE,
    )


def test_shipped_policies_are_all_valid() -> None:
    assert check_policies() == []


def test_policy_check_command_passes_on_the_shipped_files() -> None:
    result = CliRunner().invoke(app, ["policy", "check"])
    assert result.exit_code == 0, result.output
    assert "430400" in result.output


def test_policy_check_command_fails_on_a_broken_tree(tmp_path: Path) -> None:
    _write_tree(tmp_path, MINIMAL.replace('"0.85"', "0.85"))
    result = CliRunner().invoke(app, ["policy", "check", "--root", str(tmp_path)])
    assert result.exit_code == 1
    assert "裸数字" in result.output


def test_a_minimal_policy_parses_without_issues() -> None:
    _, issues = _parse(MINIMAL)
    assert issues == []


def test_bare_float_in_a_rate_position_is_an_error() -> None:
    _, issues = _parse(MINIMAL.replace('"0.85"', "0.85"))
    assert [issue.path for issue in issues] == [
        "schemes.inpatient.pooled_fund.rate_by_hospital_level.values.2017-01-01"
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
    _, issues = _parse(MINIMAL.replace('level_1: "300.00"', 'level_9: "300.00"'))
    assert any("level_9" in issue.message for issue in issues)
    _, issues = _parse(
        MINIMAL.replace(
            "        annual_cap:", "        copay:\n          values: {}\n        annual_cap:"
        )
    )
    assert [issue.path for issue in issues] == ["schemes.inpatient.pooled_fund.params.copay"]
    _, issues = _parse(MINIMAL.replace("kind: deductible", "kind: deductible\n      colour: red"))
    assert [issue.path for issue in issues] == ["schemes.inpatient.steps[1].colour"]


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


def test_a_missing_required_parameter_is_an_error_not_a_silent_zero() -> None:
    # today's bug: a 大病 step without its annual cap paid 0.00 and the check passed
    text = (
        MINIMAL
        + """
    - id: serious_illness
      kind: supplementary
      fund: serious_illness
      params:
        deductible: {values: {2017-01-01: {value: "10000.00", reference: 测试文件第5条}}}
        tiers:
          values:
            2017-01-01:
              value: [{threshold: "0.00", rate: "0.50"}]
              reference: 测试文件第5条
"""
    )
    _, issues = _parse(text)
    assert [issue.path for issue in issues] == [
        "schemes.inpatient.serious_illness.params.annual_cap"
    ]


def test_a_step_only_partly_in_force_fails_the_check(tmp_path: Path) -> None:
    # the cap ends in 2018 while the rates go on: no silent "no cap"
    text = MINIMAL.replace(
        '            2018-01-01: {value: "120000.00", reference: 测试文件第3条（修订）}\n',
        "            2018-01-01: {value: null, reference: 测试文件废止}\n",
    )
    _write_tree(tmp_path, text)
    issues = check_policies(tmp_path)
    assert len(issues) == 1 and "annual_cap" in issues[0].message
    source, _ = _parse(text)
    from yidi.policy.loader import build_policy

    with pytest.raises(Refused) as raised:
        build_policy(source, dt.date(2018, 6, 1))
    assert raised.value.code == "POLICY_PARAMETER_MISSING"


def test_one_of_rate_or_rate_by_level_and_step_order_are_checked() -> None:
    both = MINIMAL.replace(
        "        annual_cap:",
        '        rate: {values: {2017-01-01: {value: "0.50", reference: 测试文件第2条}}}\n        annual_cap:',
    )
    _, issues = _parse(both)
    assert [issue.path for issue in issues] == ["schemes.inpatient.pooled_fund.params"]
    swapped = MINIMAL.replace("kind: deductible", "kind: personal_account_x")
    _, issues = _parse(swapped)
    assert any(issue.path.endswith(".kind") for issue in issues)


def test_scales_age_bands_and_item_groups_are_validated() -> None:
    scale = MINIMAL.replace(
        "        annual_cap:",
        """        scale:
          values:
            2017-01-01:
              value:
                base: year_eligible
                mode: whole
                brackets: [{threshold: "0.00", points: "0.00"}, {threshold: "100.00", rate: "0.95"}]
              reference: 测试文件第4条
        age_band_points:
          values:
            2017-01-01:
              value: [{from_age: 0, points: "0.00"}, {from_age: 70, points: "0.05"}]
              reference: 测试文件第4条
        annual_cap:""",
    )
    source, issues = _parse(scale)
    assert issues == []
    from yidi.policy.loader import build_policy
    from yidi.policy.model import PooledFundStep, ScaleBase, SchemeKind

    step = build_policy(source, dt.date(2017, 6, 1)).schemes[SchemeKind.INPATIENT].steps[2]
    assert isinstance(step, PooledFundStep) and step.scale is not None
    assert step.scale.base is ScaleBase.YEAR_ELIGIBLE
    assert step.base_counter == "inpatient.pooled_fund.year_eligible"
    assert [band.from_age for band in step.age_bands] == [0, 70]
    bad = scale.replace(
        '{threshold: "100.00", rate: "0.95"}', '{threshold: "100.00", rate: "0.95", points: "0.01"}'
    )
    _, issues = _parse(bad)
    assert len(issues) == 1 and "rate 或 points" in issues[0].message
    groups = MINIMAL.replace(
        "    - {id: lines, kind: line_split}",
        """    - id: lines
      kind: line_split
      params:
        item_groups:
          values:
            2017-01-01:
              value: [{name: 植入材料, codes: [C01]}]
              reference: 测试文件第6条""",
    )
    _, issues = _parse(groups)
    assert len(issues) == 1 and "upfront_rate" in issues[0].message


def test_policy_version_hash_changes_only_when_values_in_force_change() -> None:
    source, _ = _parse(MINIMAL)
    from yidi.policy.loader import build_policy

    early = build_policy(source, dt.date(2017, 1, 1)).version_hash
    assert early == build_policy(source, dt.date(2017, 12, 31)).version_hash
    assert early != build_policy(source, dt.date(2018, 1, 1)).version_hash


def test_policy_at_returns_every_parameter_with_references() -> None:
    from yidi.policy.model import DeductibleStep, PooledFundStep, SchemeKind

    policy = policy_at("430400", InsuranceType.EMPLOYEE, dt.date(2017, 9, 1))
    inpatient = policy.schemes[SchemeKind.INPATIENT]
    deductible = inpatient.step(DeductibleStep)
    pooled = inpatient.step(PooledFundStep)
    assert isinstance(deductible, DeductibleStep) and isinstance(pooled, PooledFundStep)
    assert deductible.by_level[HospitalLevel.LEVEL_3] == Decimal("1300.00")
    assert deductible.ordinal_rate == (Decimal("1.00"), Decimal("0.50"))
    assert pooled.person_points[PersonType.EMPLOYEE_RETIRED] == Decimal("0.05")
    assert policy.cross_region_rule(FilingCategory.EMERGENCY).rate_points == Decimal("-0.10")
    assert policy.cross_region_rule(None).direct_settlement is False
    assert policy.illustrative is True
    assert "illustrative" in pooled.cite("annual_cap")
    assert policy.annual_cap == Money("150000.00")
    assert set(policy.schemes) == set(SchemeKind)


def test_policy_explain_prints_the_schemes_in_chinese() -> None:
    result = CliRunner().invoke(app, ["policy", "explain", "430400", "employee", "2017-06-01"])
    assert result.exit_code == 0, result.output
    assert "起付线：一级医院 300.00 元" in result.output
    assert "第2次 50%" in result.output
    assert (
        "【门诊慢特病】" in result.output and "高血压（hypertension）1,500.00 元" in result.output
    )
    assert "普通门诊不计入住院次数" in result.output
    only = CliRunner().invoke(
        app, ["policy", "explain", "640000", "resident", "2017-06-01", "--scheme", "outpatient"]
    )
    assert only.exit_code == 0 and "当日无有效方案" in only.output
    bad = CliRunner().invoke(app, ["policy", "explain", "430400", "employee", "2017-13-01"])
    assert bad.exit_code == 2
    root = str(Path(__file__).parents[1] / "cases" / "policies")
    referral = CliRunner().invoke(
        app, ["policy", "explain", "990100", "resident", "2024-06-01", "--root", root]
    )
    assert referral.exit_code == 0, referral.output
    assert (
        "异地转诊人员：不调整，住院起付标准 3,000.00 元（不分医院级别），住院支付比例 55%"
        in referral.output
    )
    assert "倾斜救助" in referral.output


def test_policy_at_an_unknown_region_is_not_found() -> None:
    with pytest.raises(NotFound):
        policy_at("110000", InsuranceType.EMPLOYEE, dt.date(2017, 9, 1))
