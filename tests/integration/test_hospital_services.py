from __future__ import annotations

import datetime as dt
import json

import pytest

from hospital_support import (
    BOBAI,
    NANHUA,
    PENG_CARD,
    UNFILED_CARD,
    XIE_CARD,
    XIE_LINES,
    XIE_TOTAL,
    at,
    build_world,
    fee_inputs,
)
from yidi.bootstrap import Container
from yidi.encounter.commands import AdmissionRequest, Credential, HospitalService
from yidi.kernel.errors import Conflict, InvalidInput, NotFound, Refused
from yidi.kernel.idempotency import request_key
from yidi.kernel.insurance import InsuranceType
from yidi.kernel.money import Money


@pytest.fixture
def service(container: Container) -> HospitalService:
    build_world(container)
    return HospitalService(container.uow, container.clock)


def _admit(service: HospitalService, card: str = XIE_CARD, caller=BOBAI, **changes: object):  # type: ignore[no-untyped-def]
    values: dict[str, object] = {
        "credential": Credential("03", card),
        "med_type": "21",
        "admitted_at": at(20, 8),
        "department_code": "A03",
        "diagnosis_codes": ("K80.101",),
    }
    values.update(changes)
    return service.admit(caller, AdmissionRequest(**values))  # type: ignore[arg-type]


def test_the_hengyang_retiree_settles_at_bobai_with_the_seed_totals(
    service: HospitalService, container: Container
) -> None:
    encounter = _admit(service)
    assert encounter.filing_category == "retiree_resettled"
    lines = service.upload_fees(BOBAI, encounter.id, fee_inputs(XIE_LINES, at(21)))
    assert len(lines) == 23
    service.discharge(BOBAI, encounter.id, at(30, 10))
    pre = service.pre_settle(BOBAI, encounter.id, XIE_TOTAL)
    assert pre.settlement_id is None
    record = service.settle(BOBAI, encounter.id, XIE_TOTAL)
    assert record.amounts["total_charges"] == Money("11811.24")
    assert record.amounts["patient_share"] == Money("3792.11")
    assert record.amounts == pre.amounts
    ytd = service.year_to_date(encounter.person_id, InsuranceType.EMPLOYEE, 2026)
    assert ytd.admissions_count == 1
    assert ytd.pooled_fund_paid == record.amounts["pooled_fund_paid"]
    actions = [e.entry.action for e in container.uow().__enter__().audit.walk()]
    assert "hospital.settle" in actions


def test_reversal_restores_the_year_to_date_exactly_and_allows_resettlement(
    service: HospitalService,
) -> None:
    encounter = _admit(service)
    service.upload_fees(BOBAI, encounter.id, fee_inputs(XIE_LINES, at(21)))
    service.discharge(BOBAI, encounter.id, at(30, 10))
    first = service.settle(BOBAI, encounter.id, XIE_TOTAL)
    assert first.settlement_id is not None
    reversal = service.reverse(BOBAI, encounter.id, first.settlement_id)
    assert reversal.amounts["total_charges"] == -Money("11811.24")
    ytd = service.year_to_date(encounter.person_id, InsuranceType.EMPLOYEE, 2026)
    assert ytd.admissions_count == 0 and ytd.pooled_fund_paid.is_zero()
    service.cancel_fees(BOBAI, encounter.id, ["20"])
    corrected = XIE_TOTAL - Money("1000.00")
    again = service.settle(BOBAI, encounter.id, corrected)
    assert again.amounts["total_charges"] == corrected
    with pytest.raises(Conflict):
        service.reverse(BOBAI, encounter.id, first.settlement_id)


def test_unfiled_patient_is_refused_with_the_agency_phone(service: HospitalService) -> None:
    with pytest.raises(Refused) as caught:
        service.admission_check(BOBAI, Credential("03", UNFILED_CARD))
    assert caught.value.code == "FILING_NOT_VALID"
    assert "0734-6653009" in caught.value.message  # 衡阳县职工医保
    with pytest.raises(Refused):
        _admit(service, UNFILED_CARD)


def test_ningxia_patient_passes_the_admission_check_at_nanhua(service: HospitalService) -> None:
    check = service.admission_check(NANHUA, Credential("03", PENG_CARD))
    assert check.filing_category is not None and check.cross_region
    assert check.policy_region == "640000"


def test_another_hospitals_encounter_is_not_found(service: HospitalService) -> None:
    encounter = _admit(service)
    with pytest.raises(NotFound) as caught:
        service.upload_fees(NANHUA, encounter.id, fee_inputs(XIE_LINES[:1], at(21)))
    assert caught.value.code == "ENCOUNTER_NOT_FOUND"


def test_unknown_codes_are_all_listed_and_nothing_is_stored(service: HospitalService) -> None:
    encounter = _admit(service)
    rows = [*XIE_LINES[:2], ("BAD-1", "x", "1", "1.00"), ("BAD-2", "y", "1", "2.00")]
    with pytest.raises(InvalidInput) as caught:
        service.upload_fees(BOBAI, encounter.id, fee_inputs(rows, at(21)))
    assert caught.value.details["unknown_codes"] == ["BAD-1", "BAD-2"]
    assert service.encounter_detail(BOBAI, encounter.id).lines == []


def test_the_same_request_key_twice_settles_once(service: HospitalService) -> None:
    encounter = _admit(service)
    service.upload_fees(BOBAI, encounter.id, fee_inputs(XIE_LINES, at(21)))
    service.discharge(BOBAI, encounter.id, at(30, 10))
    key = request_key("test", "k1", {"total": str(XIE_TOTAL)})
    answers = {service.settle(BOBAI, encounter.id, XIE_TOTAL, key).settlement_id for _ in range(3)}
    assert len(answers) == 1
    detail = service.encounter_detail(BOBAI, encounter.id)
    assert [s.kind for s in detail.settlements] == ["settle"]
    assert json.loads(json.dumps(detail.settlements[0].explanation_zh))


def test_a_failure_in_the_middle_of_a_settlement_leaves_nothing_behind(
    service: HospitalService, container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    from yidi.platform.audit_log import AuditRepository

    encounter = _admit(service)
    service.upload_fees(BOBAI, encounter.id, fee_inputs(XIE_LINES, at(21)))
    service.discharge(BOBAI, encounter.id, at(30, 10))

    def crash(self: AuditRepository, entry: object) -> None:
        raise RuntimeError("simulated crash after the settlement rows were written")

    monkeypatch.setattr(AuditRepository, "append", crash)
    with pytest.raises(RuntimeError):
        service.settle(BOBAI, encounter.id, XIE_TOTAL, request_key("t", "crash", {}))
    monkeypatch.undo()
    detail = service.encounter_detail(BOBAI, encounter.id)
    assert detail.encounter.state == "discharged" and detail.settlements == []
    assert all(line.settlement_id is None for line in detail.lines)
    ytd = service.year_to_date(encounter.person_id, InsuranceType.EMPLOYEE, 2026)
    assert ytd.admissions_count == 0 and ytd.pooled_fund_paid.is_zero()
    # The retry under the same key now does the work once.
    record = service.settle(BOBAI, encounter.id, XIE_TOTAL, request_key("t", "crash", {}))
    assert record.amounts["patient_share"] == Money("3792.11")


def test_emergency_flag_counts_as_filed_under_the_2022_model(service: HospitalService) -> None:
    # 经办规程第三十四条: the hospital's 急诊抢救 flag (med_type 24) stands in for the filing
    encounter = _admit(service, UNFILED_CARD, med_type="24", emergency_started_at=at(19, 22))
    assert encounter.filing_category == "emergency"
    service.upload_fees(BOBAI, encounter.id, fee_inputs(XIE_LINES, at(21)))
    service.discharge(BOBAI, encounter.id, at(30, 10))
    settled = service.settle(BOBAI, encounter.id, XIE_TOTAL)
    assert settled.settlement_id is not None
    assert settled.amounts["pooled_fund_paid"] > Money("0.00")
    # an ordinary admission of the same unfiled patient is still refused
    with pytest.raises(Refused) as caught:
        _admit(service, UNFILED_CARD)
    assert caught.value.code == "FILING_NOT_VALID"


def test_emergency_flag_does_not_count_as_filed_for_2017_era_admissions() -> None:
    from yidi.encounter.commands import emergency_counts_as_filed

    # 2017 model: the emergency patient files within 3 working days; the flag alone is not enough
    assert not emergency_counts_as_filed("24", dt.date(2022, 7, 31))
    assert emergency_counts_as_filed("24", dt.date(2022, 8, 1))
    assert not emergency_counts_as_filed("21", dt.date(2026, 11, 20))
