"""The insured person's estimate of a planned admission, on the real engine."""

from __future__ import annotations

import datetime as dt

import pytest

from filing_support import PERSON_ID
from hospital_support import UNFILED_ID, build_world
from yidi.bootstrap import Container
from yidi.kernel.access import Principal, Role
from yidi.kernel.errors import Forbidden, InvalidInput
from yidi.kernel.insurance import HospitalLevel, SettlementMode
from yidi.kernel.money import Money
from yidi.settlement.estimate import EstimateRequest, estimate_admission
from yidi.settlement.result import SettlementResult

XIE = Principal("laoxie", Role.INSURED_PERSON, id_number=PERSON_ID)
BOBAI_COUNTY = "450923"
ON = dt.date(2026, 11, 25)


def _request(
    total: str, class_c: str = "0", class_b: str = "0", region: str = BOBAI_COUNTY
) -> EstimateRequest:
    return EstimateRequest(
        region, HospitalLevel.LEVEL_2, Money(total), Money(class_c), Money(class_b), ON
    )


def _estimate(
    container: Container, principal: Principal, request: EstimateRequest
) -> SettlementResult:
    with container.uow() as uow:
        return estimate_admission(uow, principal, request)


def test_a_filed_person_gets_a_direct_estimate_whose_shares_add_up(container: Container) -> None:
    build_world(container)
    result = _estimate(container, XIE, _request("20000.00", class_c="1500.00", class_b="3000.00"))
    assert result.mode is SettlementMode.DIRECT
    assert result.total_charges == Money("20000.00")
    assert result.fund_paid_total.yuan + result.patient_share.yuan == result.total_charges.yuan
    assert not result.fund_paid_total.is_zero()
    # The class C amount is wholly the patient's, the fund pays none of it.
    assert result.fully_self_paid == Money("1500.00")
    assert result.patient_share.yuan >= Money("1500.00").yuan
    assert any("丙类" in line.reason_zh for line in result.lines)
    assert result.explanation_zh()


def test_a_class_c_only_estimate_is_entirely_self_paid(container: Container) -> None:
    build_world(container)
    result = _estimate(container, XIE, _request("800.00", class_c="800.00"))
    assert result.patient_share == Money("800.00")
    assert result.fund_paid_total.is_zero()


def test_an_unfiled_person_is_told_the_stay_is_not_settled_directly(container: Container) -> None:
    build_world(container)
    unfiled = Principal("unfiled", Role.INSURED_PERSON, id_number=UNFILED_ID)
    result = _estimate(container, unfiled, _request("20000.00", class_b="3000.00"))
    assert result.mode is SettlementMode.MANUAL
    assert result.fund_paid_total.yuan + result.patient_share.yuan == result.total_charges.yuan
    assert any("未备案" in text for text in result.explanation_zh())
    filed = _estimate(container, XIE, _request("20000.00", class_b="3000.00"))
    assert filed.patient_share.yuan <= result.patient_share.yuan


def test_nothing_is_stored_by_an_estimate(container: Container) -> None:
    build_world(container)
    first = _estimate(container, XIE, _request("20000.00"))
    second = _estimate(container, XIE, _request("20000.00"))
    assert first.amounts() == second.amounts()


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (_request("-1.00"), "planned_total"),
        (_request("1000.00", class_c="-5.00"), "class_c_amount"),
        (_request("1000.00", class_c="600.00", class_b="500.00"), "class_c_amount"),
        (_request("1000.00", region="999999"), "treatment_region_code"),
    ],
)
def test_bad_input_is_refused_in_chinese_naming_the_field(
    container: Container, request_: EstimateRequest, field: str
) -> None:
    build_world(container)
    with pytest.raises(InvalidInput) as caught:
        _estimate(container, XIE, request_)
    assert caught.value.field == field
    assert any("\u4e00" <= ch <= "\u9fff" for ch in caught.value.message)


def test_only_insured_persons_may_estimate(container: Container) -> None:
    build_world(container)
    cashier = Principal("bobai", Role.HOSPITAL_CASHIER, hospital_code="H45092300001")
    with pytest.raises(Forbidden):
        _estimate(container, cashier, _request("1000.00"))
