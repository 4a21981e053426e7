"""The encounter use cases (admit, upload fees, discharge, settle, reverse) on the in-memory
unit of work: no database, the real rules, policies, catalogues and engine.

The world is the seed's: a 衡阳县 retiree resettled in 博白县 (filed) settling the 博白 lines
of golden case c01 (11,811.24 in total), and an unfiled 衡阳 patient.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from fakes import FakeDatabase, fake_unit_of_work, record_fact

from hospital_support import UNFILED_CARD, XIE_CARD, seed_fake_world
from hospital_support import XIE_LINES as LINES
from hospital_support import XIE_TOTAL as TOTAL
from yidi.encounter.commands import AdmissionRequest, Credential, FeeLineInput, HospitalService
from yidi.kernel.access import Caller
from yidi.kernel.clock import CHINA_TZ, FixedClock
from yidi.kernel.errors import Conflict, InvalidInput, Refused
from yidi.kernel.idempotency import request_key
from yidi.kernel.insurance import InsuranceType
from yidi.kernel.money import Money

BOBAI = Caller("H45092300001", "bobai")
NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=CHINA_TZ)

#: Golden case c01, to the fen (by the money vocabulary).
C01 = {
    "total_charges": "11811.24",
    "fully_self_paid": "1638.15",
    "over_limit_self_paid": "185.00",
    "upfront_self_paid": "477.95",
    "eligible_amount": "9510.14",
    "deductible_applied": "600.00",
    "pooled_fund_paid": "8019.13",
    "serious_illness_paid": "0.00",
    "large_expense_paid": "0.00",
    "medical_assistance_paid": "0.00",
    "fund_paid_total": "8019.13",
    "patient_share": "3792.11",
    "personal_account_paid": "0.00",
    "cash_paid": "3792.11",
}


def at(day: int, hour: int = 9) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, tzinfo=CHINA_TZ)


@pytest.fixture
def db() -> FakeDatabase:
    db = FakeDatabase()
    seed_fake_world(db)
    return db


@pytest.fixture
def service(db: FakeDatabase) -> HospitalService:
    return HospitalService(lambda: fake_unit_of_work(db), FixedClock(NOW), record_fact=record_fact)


def _admit(service: HospitalService, card: str = XIE_CARD, **changes: object):  # type: ignore[no-untyped-def]
    values: dict[str, object] = {
        "credential": Credential("03", card),
        "med_type": "21",
        "admitted_at": at(20, 8),
        "department_code": "A03",
        "diagnosis_codes": ("K80.101",),
    }
    values.update(changes)
    return service.admit(BOBAI, AdmissionRequest(**values))  # type: ignore[arg-type]


def _lines(occurred_at: dt.datetime) -> list[FeeLineInput]:
    return [
        FeeLineInput(
            serial=str(index + 1),
            catalog_code=code,
            name=name,
            quantity=Decimal(quantity),
            unit_price=Decimal(price),
            amount=Money.rounded(Decimal(quantity) * Decimal(price)),
            occurred_at=occurred_at,
        )
        for index, (code, name, quantity, price) in enumerate(LINES)
    ]


def _settled(service: HospitalService):  # type: ignore[no-untyped-def]
    encounter = _admit(service)
    service.upload_fees(BOBAI, encounter.id, _lines(at(21)))
    service.discharge(BOBAI, encounter.id, at(30, 10))
    return encounter, service.settle(BOBAI, encounter.id, TOTAL)


def test_the_filed_retiree_settles_at_bobai_to_the_fen_of_golden_case_c01(
    service: HospitalService, db: FakeDatabase
) -> None:
    encounter = _admit(service)
    assert encounter.state == "admitted"
    assert encounter.filing_category == "retiree_resettled"
    stored = service.upload_fees(BOBAI, encounter.id, _lines(at(21)))
    assert len(stored) == 23
    assert sum((line.amount for line in stored), Money.zero()) == TOTAL
    assert service.discharge(BOBAI, encounter.id, at(30, 10)).state == "discharged"
    pre = service.pre_settle(BOBAI, encounter.id, TOTAL)
    settled = service.settle(BOBAI, encounter.id, TOTAL)
    assert {name: str(settled.amounts[name]) for name in C01} == C01
    assert settled.amounts == pre.amounts
    assert settled.amounts["owed_to_treatment_region"] == Money("8019.13")
    ytd = service.year_to_date(encounter.person_id, InsuranceType.EMPLOYEE, 2026)
    assert ytd.admissions_count == 1
    assert ytd.pooled_fund_paid == Money("8019.13")
    assert ytd.deductible_used == Money("600.00")
    assert db.encounters[encounter.id].state == "settled"
    assert db.facts[settled.settlement_id].setl_id == settled.settlement_id
    assert [e.action for e in db.audit][-1] == "hospital.settle"


def test_a_reversal_negates_every_amount_and_restores_the_year_to_date(
    service: HospitalService, db: FakeDatabase
) -> None:
    encounter, settled = _settled(service)
    reversal = service.reverse(BOBAI, encounter.id, settled.settlement_id)
    assert reversal.kind == "reversal"
    assert {name: str(-reversal.amounts[name]) for name in C01} == C01
    ytd = service.year_to_date(encounter.person_id, InsuranceType.EMPLOYEE, 2026)
    assert ytd.admissions_count == 0
    assert ytd.pooled_fund_paid == Money.zero()
    assert db.encounters[encounter.id].state == "discharged"
    assert db.settlements[settled.settlement_id].state == "reversed"
    again = service.settle(BOBAI, encounter.id, TOTAL)
    assert again.amounts == settled.amounts
    with pytest.raises(Conflict) as twice:
        service.reverse(BOBAI, encounter.id, settled.settlement_id)
    assert twice.value.code == "SETTLEMENT_ALREADY_REVERSED"


def test_the_same_request_key_settles_once(service: HospitalService, db: FakeDatabase) -> None:
    encounter = _admit(service)
    service.upload_fees(BOBAI, encounter.id, _lines(at(21)))
    service.discharge(BOBAI, encounter.id, at(30, 10))
    key = request_key("2304:H45092300001", "MSG-1", {"mdtrt_id": encounter.id})
    first = service.settle(BOBAI, encounter.id, TOTAL, key)
    second = service.settle(BOBAI, encounter.id, TOTAL, key)
    assert second.settlement_id == first.settlement_id
    assert len(db.settlements) == 1
    assert str(second.amounts["patient_share"]) == "3792.11"


def test_a_refused_settlement_leaves_nothing_behind(
    service: HospitalService, db: FakeDatabase
) -> None:
    encounter = _admit(service)
    service.upload_fees(BOBAI, encounter.id, _lines(at(21)))
    service.discharge(BOBAI, encounter.id, at(30, 10))
    with pytest.raises(Refused) as raised:
        service.settle(BOBAI, encounter.id, Money("11811.25"))
    assert raised.value.code == "MEDFEE_SUMAMT_MISMATCH"
    assert db.settlements == {} and db.facts == {} and db.year_to_date == {}
    assert db.encounters[encounter.id].state == "discharged"


def test_the_state_machine_refuses_out_of_order_steps_with_stable_codes(
    service: HospitalService,
) -> None:
    encounter = _admit(service)
    with pytest.raises(Conflict) as early:
        service.settle(BOBAI, encounter.id, TOTAL)
    assert early.value.code == "ENCOUNTER_NOT_DISCHARGED"
    assert "须先办理出院（2402）再结算" in early.value.message
    with pytest.raises(Conflict) as reopen:
        service.cancel_discharge(BOBAI, encounter.id)
    assert reopen.value.code == "ENCOUNTER_NOT_DISCHARGED"
    service.upload_fees(BOBAI, encounter.id, _lines(at(21)))
    with pytest.raises(InvalidInput) as before_lines:
        service.discharge(BOBAI, encounter.id, at(21, 8))
    assert before_lines.value.code == "DISCHARGE_BEFORE_FEE_LINES"
    with pytest.raises(Conflict) as cancel:
        service.cancel_admission(BOBAI, encounter.id)
    assert cancel.value.code == "ENCOUNTER_CANNOT_CANCEL"
    service.discharge(BOBAI, encounter.id, at(30, 10))
    service.settle(BOBAI, encounter.id, TOTAL)
    with pytest.raises(Conflict) as settled:
        service.upload_fees(BOBAI, encounter.id, _lines(at(22)))
    assert settled.value.code == "ENCOUNTER_NOT_OPEN"
    with pytest.raises(Conflict) as again:
        service.settle(BOBAI, encounter.id, TOTAL)
    assert again.value.code == "ENCOUNTER_ALREADY_SETTLED"


def test_an_unfiled_patient_is_refused_with_the_agency_phone(
    service: HospitalService, db: FakeDatabase
) -> None:
    with pytest.raises(Refused) as raised:
        _admit(service, card=UNFILED_CARD)
    assert raised.value.code == "FILING_NOT_VALID"
    assert raised.value.details["insured_region_code"] == "430421"
    phones = [agency["phone"] for agency in raised.value.details["agencies"]]
    assert phones and all(phones)
    assert phones[0] in raised.value.message  # the phone to call is in the refusal itself
    assert db.encounters == {}


def test_an_emergency_admitted_after_the_national_window_is_excluded(
    service: HospitalService,
) -> None:
    with pytest.raises(Refused) as raised:
        _admit(service, med_type="24", emergency_started_at=at(17, 7))  # 73 hours before
    assert raised.value.code == "EMERGENCY_ADMISSION_AFTER_72H"
    encounter = _admit(service, med_type="24", emergency_started_at=at(17, 8))  # 72 hours
    assert encounter.emergency_started_at is not None
