"""The chronic scheme's ``chronic_disease`` step reads the insured region's dated disease list:
what it takes from the list, and the policy errors a region's files can make."""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from yidi.kernel.errors import YidiError
from yidi.kernel.insurance import InsuranceType
from yidi.policy.loader import check_policies, load_policy_library, policy_at
from yidi.policy.model import ChronicDiseaseStep, LimitBasis, SchemeKind

CASES = Path(__file__).parents[1] / "cases" / "policies" / "990200"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    shutil.copytree(CASES, tmp_path / "990200")
    return tmp_path


def _step(root: Path, day: dt.date) -> ChronicDiseaseStep:
    policy = policy_at("990200", InsuranceType.EMPLOYEE, day, load_policy_library(root))
    step = policy.schemes[SchemeKind.CHRONIC].step(ChronicDiseaseStep)
    assert isinstance(step, ChronicDiseaseStep)
    return step


def test_the_step_takes_each_diseases_terms_in_force_from_the_list(tree: Path) -> None:
    step = _step(tree, dt.date(2024, 5, 10))
    terms = step.diseases["M01600"]
    assert (terms.rate, terms.annual_limit, terms.deductible) == (
        Decimal("0.70"),
        Decimal("5000.00"),
        Decimal("300.00"),
    )
    assert terms.limit_on is LimitBasis.ELIGIBLE and terms.cross_province
    assert terms.illustrative and "示例二市" in terms.reference
    # shares_outpatient_cap: the outpatient scheme's counter and cap are linked in
    assert step.shares_outpatient_cap
    assert (step.outpatient_counter, step.outpatient_cap) == (
        "outpatient.pooled_fund_paid",
        Decimal("2000.00"),
    )
    # a national disease the region sets no terms for is not settled by the scheme
    assert "M03900" not in step.diseases


def test_a_new_dated_entry_in_the_list_changes_the_terms_and_the_policy_version(
    tree: Path,
) -> None:
    shipped = load_policy_library(CASES.parent)  # the unchanged golden-case tree
    before = policy_at("990200", InsuranceType.EMPLOYEE, dt.date(2025, 6, 1), shipped)
    listed = tree / "990200" / "chronic_diseases.yaml"
    listed.write_text(
        listed.read_text("utf-8")
        + """      2025-01-01:
        annual_limit: "6000.00"
        rate: "0.75"
        reference: 《示例二市门诊慢特病管理办法（测试用）》修订（示例值 illustrative）
""",
        "utf-8",
    )
    library = load_policy_library(tree)
    after = policy_at("990200", InsuranceType.EMPLOYEE, dt.date(2025, 6, 1), library)
    step = after.schemes[SchemeKind.CHRONIC].step(ChronicDiseaseStep)
    assert isinstance(step, ChronicDiseaseStep)
    assert step.diseases["M01600"].annual_limit == Decimal("6000.00")
    assert step.diseases["M01600"].deductible == Decimal("0.00")
    assert after.version_hash != before.version_hash


def test_a_limit_without_its_basis_is_a_missing_parameter(tree: Path) -> None:
    listed = tree / "990200" / "chronic_diseases.yaml"
    listed.write_text(listed.read_text("utf-8").replace("  limit_on: eligible\n", ""), "utf-8")
    with pytest.raises(YidiError) as missing:
        policy_at("990200", InsuranceType.EMPLOYEE, dt.date(2024, 5, 10), load_policy_library(tree))
    assert missing.value.code == "POLICY_PARAMETER_MISSING"
    assert "limit_on" in missing.value.message


def test_a_chronic_scheme_with_both_a_pooled_fund_and_the_list_step_is_refused(
    tree: Path,
) -> None:
    schemes = tree / "990200" / "employee" / "schemes.yaml"
    text = schemes.read_text("utf-8")
    pooled = """    - id: pooled_fund
      kind: pooled_fund
      params:
        rate:
          values:
            2024-01-01: {value: "0.80", reference: 测试（示例值 illustrative）}
        annual_cap:
          values:
            2024-01-01: {value: "9000.00", reference: 测试（示例值 illustrative）}
    - id: disease
      kind: chronic_disease"""
    schemes.write_text(
        text.replace("    - id: disease\n      kind: chronic_disease", pooled), "utf-8"
    )
    issues = [str(issue) for issue in check_policies(tree)]
    assert any("chronic_disease" in issue and "pooled_fund" in issue for issue in issues), issues


def test_the_list_step_outside_the_chronic_scheme_is_an_issue(tree: Path) -> None:
    schemes = tree / "990200" / "employee" / "schemes.yaml"
    text = schemes.read_text("utf-8")
    moved = text.replace(
        "  chronic:\n",
        """    - id: disease
      kind: chronic_disease
      params:
        shares_outpatient_cap:
          values:
            2024-01-01: {value: false, reference: 测试（示例值 illustrative）}
  chronic:
""",
    )
    schemes.write_text(moved, "utf-8")
    issues = [str(issue) for issue in load_policy_library(tree).issues]
    assert any("chronic scheme" in issue for issue in issues), issues


def test_the_shipped_hengyang_schemes_read_the_list_from_september_2021() -> None:
    old = policy_at("430400", InsuranceType.EMPLOYEE, dt.date(2021, 8, 31))
    assert old.schemes[SchemeKind.CHRONIC].step(ChronicDiseaseStep) is None
    for insurance_type in InsuranceType:
        policy = policy_at("430400", insurance_type, dt.date(2021, 9, 1))
        step = policy.schemes[SchemeKind.CHRONIC].step(ChronicDiseaseStep)
        assert isinstance(step, ChronicDiseaseStep)
        assert step.list_region == "430400" and not step.shares_outpatient_cap
        assert set(step.diseases) >= {"M03900", "M01600", "M00503", "M07803", "M07804", "M08300"}
        assert policy.illustrative
