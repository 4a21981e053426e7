# ruff: noqa: F811  (the world fixture ``db`` is imported from test_encounter_use_cases)
"""门诊慢特病 (med_type 14) visits on the in-memory unit of work: the recognition and the
institution's connection are required, the chronic scheme settles by the disease's terms on the
insured region's list, the year-to-date is kept per person, disease and year, and a
cancellation (2208) restores it.

The person (a 衡阳县 employee retiree resettled to 博白县, see ``test_encounter_use_cases``) holds
a recognition for 高血压 M03900 from 2026-01-01. The visit's lines are those of
``test_outpatient_use_cases`` (total 408.60, in scope 341.60). Hand computation from
``policies/430400/chronic_diseases.yaml`` (illustrative): 高血压 rate 80%, fund's annual limit
1,500.00, no deductible; resettled retirees keep the local rate (0 points). Nothing used yet:
341.60 × 80% = 273.28 from the fund, patient 408.60 − 273.28 = 135.32 (cash). With 1,300.00
already used, only 200.00 is left: the fund pays 200.00 and the patient 208.60.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from fakes import FakeDatabase, fake_unit_of_work, record_fact
from test_encounter_use_cases import BOBAI, NOW, XIE_CARD, _admit, db  # noqa: F401
from test_outpatient_use_cases import VISIT_TOTAL, _visit_lines

from yidi.chronic.model import Evidence, Recognition, RecognitionState
from yidi.encounter.commands import Credential, HospitalService, VisitData, VisitRegistration
from yidi.encounter.model import EncounterKind
from yidi.kernel.clock import FixedClock
from yidi.kernel.errors import InvalidInput, Refused
from yidi.kernel.insurance import InsuranceType
from yidi.kernel.money import Money
from yidi.reference.model import ConnectionKind
from yidi.settlement.claims import YearToDate

OUTPATIENT = EncounterKind.OUTPATIENT
PERSON = 1  # the fake database's id of the retiree


@pytest.fixture
def service(db: FakeDatabase) -> HospitalService:
    hospital = db.hospitals[BOBAI.hospital_code]
    db.hospitals[BOBAI.hospital_code] = dataclasses.replace(
        hospital, connections=hospital.listed_connections | {ConnectionKind.CHRONIC}
    )
    db.recognitions.append(_recognition("M03900", "高血压", dt.date(2026, 1, 1)))
    return HospitalService(lambda: fake_unit_of_work(db), FixedClock(NOW), record_fact=record_fact)


def _recognition(code: str, name: str, begin: dt.date, end: dt.date | None = None) -> Recognition:
    return Recognition(
        id=f"R-{code}",
        person_id=PERSON,
        psn_no="P1",
        insured_region_code="430421",
        disease_code=code,
        disease_name=name,
        begin_on=begin,
        end_on=end,
        evidence=Evidence(reference="JD-1"),
        state=RecognitionState.ACTIVE,
        recorded_by="agency",
        recorded_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )


def _register(service: HospitalService, **changes: object):  # type: ignore[no-untyped-def]
    values: dict[str, object] = {
        "credential": Credential("03", XIE_CARD),
        "registered_at": dt.datetime(2026, 11, 20, 9, 30, tzinfo=NOW.tzinfo),
        "outpatient_number": "MZ0014",
    }
    values.update(changes)
    return service.register_visit(BOBAI, VisitRegistration(**values))  # type: ignore[arg-type]


def _chronic_visit(service: HospitalService):  # type: ignore[no-untyped-def]
    visit = _register(service)
    service.record_visit(BOBAI, visit.id, VisitData(("I10",), med_type="14", disease_code="m03900"))
    service.upload_fees(BOBAI, visit.id, _visit_lines(), kind=OUTPATIENT)
    return visit


def test_a_recognised_hypertension_visit_settles_by_the_list_to_the_fen(
    service: HospitalService, db: FakeDatabase
) -> None:
    visit = _chronic_visit(service)
    stored = db.encounters[visit.id]
    assert (stored.med_type, stored.disease_code) == ("14", "M03900")
    pre = service.pre_settle(BOBAI, visit.id, VISIT_TOTAL, kind=OUTPATIENT)
    settled = service.settle(
        BOBAI, visit.id, VISIT_TOTAL, kind=OUTPATIENT, med_type="14", disease_code="M03900"
    )
    assert pre.amounts == settled.amounts
    assert str(settled.amounts["eligible_amount"]) == "341.60"
    assert str(settled.amounts["pooled_fund_paid"]) == "273.28"
    assert str(settled.amounts["cash_paid"]) == "135.32"
    ytd = service.year_to_date(PERSON, InsuranceType.EMPLOYEE, 2026)
    assert ytd.admissions_count == 0  # a chronic visit is never an admission
    assert ytd.counter("chronic.m03900.fund_paid") == Money("273.28")
    assert ytd.counter("outpatient.pooled_fund_paid") == Money.zero()  # the general cap untouched
    assert ytd.counter("outpatient.deductible_used") == Money.zero()


def test_the_annual_limit_left_caps_the_fund_and_2208_restores_the_year_to_date(
    service: HospitalService, db: FakeDatabase
) -> None:
    db.year_to_date[(PERSON, "310", 2026)] = YearToDate(
        2026, counters={"chronic.m03900.fund_paid": Money("1300.00")}
    )
    visit = _chronic_visit(service)
    settled = service.settle(BOBAI, visit.id, VISIT_TOTAL, kind=OUTPATIENT)
    assert str(settled.amounts["pooled_fund_paid"]) == "200.00"
    assert str(settled.amounts["patient_share"]) == "208.60"
    ytd = service.year_to_date(PERSON, InsuranceType.EMPLOYEE, 2026)
    assert ytd.counter("chronic.m03900.fund_paid") == Money("1500.00")
    service.reverse(BOBAI, visit.id, settled.settlement_id, kind=OUTPATIENT)
    ytd = service.year_to_date(PERSON, InsuranceType.EMPLOYEE, 2026)
    assert ytd.counter("chronic.m03900.fund_paid") == Money("1300.00")
    assert db.encounters[visit.id].state == "registered"


def test_a_disease_without_a_recognition_valid_that_day_is_refused_and_nothing_is_written(
    service: HospitalService, db: FakeDatabase
) -> None:
    visit = _register(service)
    with pytest.raises(Refused) as diabetes:
        service.record_visit(
            BOBAI, visit.id, VisitData(("E11.9",), med_type="14", disease_code="M01600")
        )
    error = diabetes.value
    assert error.code == "CHRONIC_NOT_RECOGNISED"
    assert "M01600" in error.message and "M03900 高血压" in error.message
    assert error.message_en
    assert db.encounters[visit.id].med_type == "11" and db.encounters[visit.id].disease_code is None
    with pytest.raises(Refused) as at_registration:
        _register(service, med_type="14", disease_code="M01600")
    assert at_registration.value.code == "CHRONIC_NOT_RECOGNISED"
    assert len(db.encounters) == 1
    with pytest.raises(InvalidInput) as no_code:
        service.record_visit(BOBAI, visit.id, VisitData(("I10",), med_type="14"))
    assert no_code.value.code == "CHRONIC_DISEASE_REQUIRED"


def test_a_recognition_ended_before_the_visit_day_does_not_count(
    service: HospitalService, db: FakeDatabase
) -> None:
    db.recognitions[:] = [
        _recognition("M03900", "高血压", dt.date(2026, 1, 1), dt.date(2026, 11, 19))
    ]
    visit = _register(service)
    with pytest.raises(Refused) as ended:
        service.record_visit(
            BOBAI, visit.id, VisitData(("I10",), med_type="14", disease_code="M03900")
        )
    assert ended.value.code == "CHRONIC_NOT_RECOGNISED"


def test_a_recognition_ended_after_2203_is_checked_again_at_settlement(
    service: HospitalService, db: FakeDatabase
) -> None:
    visit = _chronic_visit(service)
    db.recognitions[:] = [
        _recognition("M03900", "高血压", dt.date(2026, 1, 1), dt.date(2026, 11, 1))
    ]
    with pytest.raises(Refused) as refused:
        service.settle(BOBAI, visit.id, VISIT_TOTAL, kind=OUTPATIENT)
    assert refused.value.code == "CHRONIC_NOT_RECOGNISED"
    assert db.settlements == {} and db.encounters[visit.id].state == "registered"


def test_an_institution_not_connected_for_chronic_care_is_refused(
    service: HospitalService, db: FakeDatabase
) -> None:
    hospital = db.hospitals[BOBAI.hospital_code]
    db.hospitals[BOBAI.hospital_code] = dataclasses.replace(
        hospital, connections=hospital.listed_connections - {ConnectionKind.CHRONIC}
    )
    with pytest.raises(Refused) as registration:
        _register(service, med_type="14", disease_code="M03900")
    assert registration.value.code == "INSTITUTION_KIND_NOT_CONNECTED"
    assert registration.value.details["kind"] == "chronic"
    assert db.encounters == {}


def test_the_settlement_must_name_the_visits_med_type_and_disease(
    service: HospitalService, db: FakeDatabase
) -> None:
    visit = _chronic_visit(service)
    with pytest.raises(Refused) as general:
        service.settle(BOBAI, visit.id, VISIT_TOTAL, kind=OUTPATIENT, med_type="11")
    assert general.value.code == "VISIT_MED_TYPE_MISMATCH"
    with pytest.raises(Refused) as other:
        service.settle(BOBAI, visit.id, VISIT_TOTAL, kind=OUTPATIENT, disease_code="M01600")
    assert other.value.code == "CHRONIC_DISEASE_MISMATCH"
    assert db.settlements == {}


def test_registration_with_med_type_14_and_the_disease_needs_no_2203_for_the_kind(
    service: HospitalService, db: FakeDatabase
) -> None:
    visit = _register(service, med_type="14", disease_code="M03900")
    assert (visit.med_type, visit.disease_code) == ("14", "M03900")
    service.record_visit(BOBAI, visit.id, VisitData(("I10",), med_type="14"))
    assert db.encounters[visit.id].disease_code == "M03900"


def test_an_open_inpatient_stay_does_not_block_an_outpatient_or_chronic_registration(
    service: HospitalService, db: FakeDatabase
) -> None:
    stay = _admit(service)
    assert db.encounters[stay.id].state == "admitted"
    general = _register(service)
    chronic = _register(service, med_type="14", disease_code="M03900")
    assert general.state == chronic.state == "registered"
    assert db.encounters[stay.id].state == "admitted"
    ytd = service.year_to_date(PERSON, InsuranceType.EMPLOYEE, 2026)
    assert ytd.admissions_count == 0
