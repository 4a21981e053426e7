"""The rules every region shares live in one national file; regions override; no code default."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from yidi.encounter.commands import AdmissionRequest, Credential
from yidi.encounter.model import admission_exclusion
from yidi.kernel.errors import Refused
from yidi.kernel.insurance import EncounterType, InsuranceType
from yidi.policy.loader import (
    NATIONAL_PARAMETERS,
    build_policy,
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
        {EncounterType.INPATIENT, EncounterType.EMERGENCY_TO_INPATIENT, EncounterType.OUTPATIENT}
    )


def test_general_outpatient_settles_directly_only_from_the_2022_national_notice() -> None:
    before = policy_at("430400", InsuranceType.EMPLOYEE, dt.date(2022, 7, 25))
    assert before.direct_settlement_encounter_types == frozenset(
        {EncounterType.INPATIENT, EncounterType.EMERGENCY_TO_INPATIENT}
    )
    after = policy_at("430400", InsuranceType.EMPLOYEE, dt.date(2022, 7, 26))
    assert EncounterType.OUTPATIENT in after.direct_settlement_encounter_types
    reference = after.references["cross_region.direct_settlement_encounter_types"]
    assert "医保发〔2022〕22号" in reference.text


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
        "cross_region:\n  retiree_resettled:\n    direct_settlement:\n"
        "      values: {2017-01-01: {value: true, reference: x}}\n"
    )
    problems = {issue.path: issue.message for issue in rules.issues}
    assert "cross_region.retiree_resettled.direct_settlement" in problems
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
