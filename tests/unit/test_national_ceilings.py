"""`yidi policy check` enforces the national ceilings on cross-region rate reductions from 2022,
and regions set what the national filing rules leave to them (cross_region.filing.*)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from test_policy_loader import MINIMAL, cross_region_yaml
from typer.testing import CliRunner

from yidi.entrypoints.cli.main import app
from yidi.kernel.insurance import FilingCategory, InsuranceType
from yidi.policy.loader import build_policy, check_policies, parse_policy_directory
from yidi.policy.national import national_model

OPEN_ENDED = "\n".join(line for line in MINIMAL.splitlines() if "2019-01-01" not in line) + "\n"


def _cross_region(body: str) -> str:
    return "cross_region:\n" + body


def _points(category: str, value: str, day: str = "2017-01-01") -> str:
    return (
        f"  {category}:\n    rate_points:\n      values:\n"
        f'        {day}: {{value: "{value}", reference: 测试文件第8条}}\n'
    )


def _tree(tmp_path: Path, cross_region: str) -> Path:
    folder = tmp_path / "999999" / "employee"
    folder.mkdir(parents=True)
    (folder / "a.yaml").write_text(OPEN_ENDED, encoding="utf-8")
    (folder / "cross_region.yaml").write_text(cross_region_yaml(cross_region), encoding="utf-8")
    return tmp_path


def test_within_the_ceilings_passes(tmp_path: Path) -> None:
    text = _cross_region(
        _points("referral", "-0.10")
        + _points("emergency", "-0.10")
        + _points("other_temporary", "-0.20", "2022-08-01")
    )
    assert check_policies(_tree(tmp_path, text)) == []


def test_2017_reduction_carried_into_2022_is_caught(tmp_path: Path) -> None:
    # -15 points for referrals was allowed in 2017; still in force on 2022-08-01 it is not
    issues = check_policies(_tree(tmp_path, _cross_region(_points("referral", "-0.15"))))
    assert len(issues) == 1
    assert issues[0].path == "cross_region.referral.rate_points"
    assert "2022-08-01" in issues[0].message and "10个百分点" in issues[0].message


def test_other_temporary_at_most_20_points(tmp_path: Path) -> None:
    text = _cross_region(_points("other_temporary", "-0.25", "2023-01-01"))
    issues = check_policies(_tree(tmp_path, text))
    assert [i.path for i in issues] == ["cross_region.other_temporary.rate_points"]
    assert "20个百分点" in issues[0].message


def test_a_fix_dated_at_the_2022_start_passes(tmp_path: Path) -> None:
    text = (
        "cross_region:\n  emergency:\n    rate_points:\n      values:\n"
        '        2017-01-01: {value: "-0.30", reference: 测试文件第8条}\n'
        '        2022-08-01: {value: "-0.10", reference: 测试文件第8条（修订）}\n'
    )
    assert check_policies(_tree(tmp_path, text)) == []


def test_policy_check_cli_fails_on_a_ceiling_breach(tmp_path: Path) -> None:
    root = _tree(tmp_path, _cross_region(_points("emergency", "-0.11")))
    result = CliRunner().invoke(app, ["policy", "check", "--root", str(root)])
    assert result.exit_code != 0
    assert "cross_region.emergency.rate_points" in result.output


def test_region_filing_parameters_feed_the_national_model() -> None:
    text = OPEN_ENDED + cross_region_yaml(
        "cross_region:\n  filing:\n"
        "    long_term_cancel_lock_months:\n      values:\n"
        "        2022-08-01: {value: 6, reference: 测试文件第9条}\n"
        "    temporary_validity_months:\n      values:\n"
        "        2022-08-01: {value: 12, reference: 测试文件第9条}\n"
    )
    source, issues = parse_policy_directory(
        [("999999/employee/a.yaml", text)], "999999", InsuranceType.EMPLOYEE
    )
    assert issues == []
    assert build_policy(source, dt.date(2021, 1, 1)).filing_rules == {}
    overrides = build_policy(source, dt.date(2023, 1, 1)).filing_rules
    assert overrides == {"long_term_cancel_lock_months": 6, "temporary_validity_months": 12}
    model = national_model(dt.date(2023, 1, 1), overrides)
    assert model.cancel_lock_months(FilingCategory.RETIREE_RESETTLED) == 6
    assert model.cancel_lock_months(FilingCategory.OTHER_TEMPORARY) == 0
