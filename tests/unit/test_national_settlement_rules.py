"""The rules every region shares live in one national file; regions override; no code default."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from ruamel.yaml import YAML
from test_policy_loader import cross_region_yaml
from typer.testing import CliRunner, Result

from yidi.encounter.commands import AdmissionRequest, Credential
from yidi.encounter.model import admission_exclusion
from yidi.entrypoints.cli.main import app
from yidi.kernel.errors import Refused
from yidi.kernel.insurance import UNFILED_KEY, EncounterType, FilingCategory, InsuranceType
from yidi.policy.loader import (
    NATIONAL_PARAMETERS,
    build_policy,
    national_rules,
    parse_national_rules,
    parse_policy_directory,
    policy_at,
)
from yidi.settlement.inputs import parse_claim, parse_year_to_date
from yidi.settlement.shipped import settle_with_shipped_data

CASE = Path(__file__).parents[1] / "cases" / "c31_emergency_before_admission_within_72h.yaml"

REGION = """
metadata:
  region_name: 测试市
  insurance_type: employee
rounding:
  values: {2017-01-01: {value: fen, reference: 测试文件第9条}}
schemes:
  inpatient:
    steps:
    - {id: lines, kind: line_split}
    - id: pooled_fund
      kind: pooled_fund
      params:
        rate_by_hospital_level:
          values:
            2017-01-01:
              value: {level_1: "0.90", level_2: "0.85", level_3: "0.80"}
              reference: 测试文件第2条
        annual_cap:
          values:
            2017-01-01: {value: "100000.00", reference: 测试文件第3条}
"""

OVERRIDE = """
cross_region:
  emergency_pre_admission_hours:
    values:
      2020-01-01: {value: 48, reference: 测试文件第5条}
"""


def _source(*texts: str):  # type: ignore[no-untyped-def]
    texts = (*texts, cross_region_yaml())
    files = [(f"999999/employee/{n}.yaml", text) for n, text in enumerate(texts)]
    source, issues = parse_policy_directory(files, "999999", InsuranceType.EMPLOYEE)
    assert issues == []
    return source


@pytest.mark.parametrize("region", ["640000", "410100", "410300", "430400", "500000"])
def test_every_shipped_region_takes_the_72_hour_window_from_the_national_file(
    region: str,
) -> None:
    policy = policy_at(region, InsuranceType.RESIDENT, dt.date(2023, 6, 1))
    assert policy.emergency_pre_admission_hours == 72
    reference = policy.references["cross_region.emergency_pre_admission_hours"]
    assert "72小时内转住院" in reference.text
    assert "人社周刊" not in reference.text  # the old per-region citation is gone
    # 医保发〔2022〕22号 (from 2022-07-26): general outpatient care settles directly too.
    assert policy.direct_settlement_encounter_types == frozenset(
        {
            EncounterType.INPATIENT,
            EncounterType.EMERGENCY_TO_INPATIENT,
            EncounterType.OUTPATIENT,
            EncounterType.CHRONIC_OUTPATIENT,
        }
    )


def test_general_outpatient_settles_directly_only_from_the_2022_national_notice() -> None:
    before = policy_at("430400", InsuranceType.EMPLOYEE, dt.date(2022, 7, 25))
    assert before.direct_settlement_encounter_types == frozenset(
        {
            EncounterType.INPATIENT,
            EncounterType.EMERGENCY_TO_INPATIENT,
            EncounterType.CHRONIC_OUTPATIENT,
        }
    )
    after = policy_at("430400", InsuranceType.EMPLOYEE, dt.date(2022, 7, 26))
    assert EncounterType.OUTPATIENT in after.direct_settlement_encounter_types
    reference = after.references["cross_region.direct_settlement_encounter_types"]
    assert "医保发〔2022〕22号" in reference.text


def test_chronic_disease_visits_settle_directly_from_september_2021_with_the_source_cited() -> None:
    before = policy_at("430400", InsuranceType.EMPLOYEE, dt.date(2021, 8, 31))
    assert EncounterType.CHRONIC_OUTPATIENT not in before.direct_settlement_encounter_types
    after = policy_at("430400", InsuranceType.EMPLOYEE, dt.date(2021, 9, 1))
    assert EncounterType.CHRONIC_OUTPATIENT in after.direct_settlement_encounter_types
    reference = after.references["cross_region.direct_settlement_encounter_types"].text
    assert "epaper.tyrbw.com" in reference


def test_pharmacy_purchases_settle_directly_from_2025_with_the_statistics_cited() -> None:
    before = policy_at("430400", InsuranceType.EMPLOYEE, dt.date(2024, 12, 31))
    assert EncounterType.PHARMACY not in before.direct_settlement_encounter_types
    after = policy_at("430400", InsuranceType.EMPLOYEE, dt.date(2025, 1, 1))
    assert after.direct_settlement_encounter_types == frozenset(
        {
            EncounterType.INPATIENT,
            EncounterType.EMERGENCY_TO_INPATIENT,
            EncounterType.OUTPATIENT,
            EncounterType.CHRONIC_OUTPATIENT,
            EncounterType.PHARMACY,
        }
    )
    reference = after.references["cross_region.direct_settlement_encounter_types"].text
    assert "定点药店购药 1887 万人次" in reference and "reportify.ai" in reference


def test_a_region_without_its_own_value_gets_the_national_one() -> None:
    policy = build_policy(_source(REGION), dt.date(2021, 1, 1))
    assert policy.emergency_pre_admission_hours == 72
    assert policy.fee_time_future_days == 0


def test_a_region_overrides_the_national_value_from_its_own_date() -> None:
    source = _source(REGION, OVERRIDE)
    assert build_policy(source, dt.date(2019, 12, 31)).emergency_pre_admission_hours == 72
    assert build_policy(source, dt.date(2020, 1, 1)).emergency_pre_admission_hours == 48


def test_a_policy_without_a_national_parameter_is_refused_not_defaulted() -> None:
    source = _source(REGION)
    del source.parameters["cross_region.fee_time_future_days"]
    with pytest.raises(Refused) as raised:
        build_policy(source, dt.date(2021, 1, 1))
    assert raised.value.code == "POLICY_PARAMETER_MISSING"
    assert "cross_region.fee_time_future_days" in raised.value.message


def test_the_national_file_may_set_only_national_parameters_and_must_set_all() -> None:
    rules = parse_national_rules(
        "cross_region:\n  retiree_resettled:\n    inpatient_rate:\n"
        '      values: {2017-01-01: {value: "0.50", reference: x}}\n'
    )
    problems = {issue.path: issue.message for issue in rules.issues}
    assert "cross_region.retiree_resettled.inpatient_rate" in problems
    assert set(NATIONAL_PARAMETERS) <= set(problems)


def _case_claim():  # type: ignore[no-untyped-def]
    case = YAML(typ="safe", pure=True).load(CASE.read_text(encoding="utf-8"))
    claim = parse_claim(case["claim"])
    return claim, parse_year_to_date(case.get("year_to_date"), claim.settlement_year)


def test_the_engine_measures_the_window_from_the_admission_instant() -> None:
    claim, ytd = _case_claim()  # emergency line 2017-05-06 20:00, admitted 2017-05-08
    admitted_at = dt.datetime(2017, 5, 8, 10, 0)
    emergency = claim.fee_lines[0]
    inside = dataclasses.replace(emergency, occurred_at=dt.datetime(2017, 5, 5, 10, 0))
    outside = dataclasses.replace(emergency, occurred_at=dt.datetime(2017, 5, 5, 9, 59))
    timed = dataclasses.replace(claim, admitted_at=admitted_at)
    result = settle_with_shipped_data(
        dataclasses.replace(timed, fee_lines=(inside, *claim.fee_lines[1:])), ytd
    )
    assert str(result.total_charges) == "5020.00"
    with pytest.raises(Refused) as raised:
        settle_with_shipped_data(
            dataclasses.replace(timed, fee_lines=(outside, *claim.fee_lines[1:])), ytd
        )
    assert raised.value.code == "FEE_LINE_BEFORE_ADMISSION"


def test_the_admission_check_and_the_engine_share_the_window() -> None:
    admitted_at = dt.datetime(2017, 5, 8, 10, 0)

    def facts(started: dt.datetime) -> AdmissionRequest:
        return AdmissionRequest(
            Credential("03", "A1"),
            "24",
            admitted_at,
            "A03",
            ("K80.1",),
            emergency_started_at=started,
        )

    assert admission_exclusion(facts(dt.datetime(2017, 5, 5, 10, 0)), lambda: 72) is None
    excluded = admission_exclusion(facts(dt.datetime(2017, 5, 5, 9, 59)), lambda: 72)
    assert excluded is not None and excluded.code == "EMERGENCY_ADMISSION_AFTER_72H"


# --------------------------------------------------------------- per filing category, no code default


def test_the_national_file_states_direct_settlement_per_category_with_its_source() -> None:
    rules = national_rules()
    assert rules.issues == ()
    for category in FilingCategory:
        entries = rules.parameters[f"cross_region.{category.value}.direct_settlement"]
        first = entries[0]
        # 其他临时外出就医人员 exists from the 2022 model on; the others since the 2017 rules
        expected_from = (
            dt.date(2022, 8, 1)
            if category is FilingCategory.OTHER_TEMPORARY
            else dt.date(2017, 1, 1)
        )
        assert (first.effective_on, first.value) == (expected_from, True)
        assert first.reference is not None and not first.reference.illustrative
    unfiled = rules.parameters[f"cross_region.{UNFILED_KEY}.direct_settlement"]
    assert [(e.effective_on, e.value) for e in unfiled] == [(dt.date(2017, 1, 1), False)]
    assert unfiled[0].reference is not None
    assert "不得享受异地就医直接结算服务" in unfiled[0].reference.text


def test_the_national_file_states_rate_points_only_from_the_2022_model_with_its_url() -> None:
    rules = national_rules()
    for category in FilingCategory:
        entries = rules.parameters[f"cross_region.{category.value}.rate_points"]
        assert [(e.effective_on, e.value) for e in entries] == [
            (dt.date(2022, 8, 1), Decimal("0.00"))
        ]
        assert entries[0].reference is not None and "http" in entries[0].reference.text
    # 未备案的支付比例 is the insured region's own rule: no national value
    assert f"cross_region.{UNFILED_KEY}.rate_points" not in rules.parameters


def test_a_policy_without_a_category_value_is_refused_naming_it() -> None:
    source = _source(REGION)
    del source.parameters["cross_region.unfiled.rate_points"]
    with pytest.raises(Refused) as raised:
        build_policy(source, dt.date(2023, 1, 1))
    assert raised.value.code == "POLICY_PARAMETER_MISSING"
    assert "cross_region.unfiled.rate_points" in raised.value.message
    # before the 2022 model the national file has no rate_points: the region must state them
    bare = parse_policy_directory(
        [("999999/employee/a.yaml", REGION)], "999999", InsuranceType.EMPLOYEE
    )[0]
    with pytest.raises(Refused) as raised:
        build_policy(bare, dt.date(2021, 1, 1))
    for key in ("retiree_resettled", "referral", "emergency", "unfiled"):
        assert f"cross_region.{key}.rate_points" in raised.value.message
    assert "other_temporary" not in raised.value.message  # no such category in 2021


def test_policy_check_refuses_a_policy_file_missing_a_category_value(tmp_path: Path) -> None:
    def check(root: Path, cross_region: str) -> Result:
        folder = root / "999999" / "employee"
        folder.mkdir(parents=True)
        (folder / "a.yaml").write_text(REGION, encoding="utf-8")
        (folder / "cross_region.yaml").write_text(cross_region, encoding="utf-8")
        return CliRunner().invoke(app, ["policy", "check", "--root", str(root)])

    without_unfiled = cross_region_yaml().split("  unfiled:")[0]
    refused = check(tmp_path / "missing", without_unfiled)
    assert refused.exit_code != 0
    assert "cross_region.unfiled.rate_points" in refused.output
    passed = check(tmp_path / "complete", cross_region_yaml())
    assert passed.exit_code == 0, passed.output


UNFILED_ONLY = """
cross_region:
  unfiled:
    rate_points:
      values:
        2017-01-01: {value: "-0.20", reference: 测试文件第7条}
"""


def test_the_national_values_fill_what_a_region_does_not_state_from_2022() -> None:
    files = [("999999/employee/a.yaml", REGION), ("999999/employee/b.yaml", UNFILED_ONLY)]
    source, issues = parse_policy_directory(files, "999999", InsuranceType.EMPLOYEE)
    assert issues == []
    policy = build_policy(source, dt.date(2023, 1, 1))
    for category in FilingCategory:
        rule = policy.cross_region_rule(category)
        assert (rule.rate_points, rule.direct_settlement) == (Decimal("0.00"), True)
    assert policy.cross_region_rule(None).direct_settlement is False
    assert "senbk.com" in policy.references["cross_region.referral.rate_points"].text


def test_a_category_the_national_model_lacks_on_the_day_is_unfiled_care() -> None:
    source = _source(REGION)
    old = build_policy(source, dt.date(2021, 1, 1))
    assert old.cross_region_rule(FilingCategory.OTHER_TEMPORARY) == old.cross_region_rule(None)
    assert old.cross_region_rule(FilingCategory.OTHER_TEMPORARY).direct_settlement is False
    new = build_policy(source, dt.date(2022, 8, 1))
    assert new.cross_region_rule(FilingCategory.OTHER_TEMPORARY).direct_settlement is True
