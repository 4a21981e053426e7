# ruff: noqa: F811  (the world fixture ``db`` is imported from test_encounter_use_cases)
"""General outpatient (普通门诊) direct settlement on the in-memory unit of work: 2201 register,
2203 visit data, 2204/2205 fee lines, 2206/2207 settle, 2208 cancel, 2202 cancel registration.

The world is the seed's (see ``test_encounter_use_cases``): a 衡阳县 employee retiree, filed as
resettled to 博白县, visits 博白县人民医院 (level 2) on 2026-11-20.

The visit of this module, computed by hand from the shipped policy
``policies/430400/employee/outpatient.yaml`` (illustrative values) and the 广西 sample catalogue:

====  ========================  ======  =========  ==============================
 sn   item                       amount  class      split
====  ========================  ======  =========  ==============================
 1    血细胞分析 1 × 20.00         20.00  甲 01      eligible 20.00
 2    常规心电图 2 × 25.00         50.00  甲 01      eligible 50.00
 3    CT 平扫 1 × 280.00          280.00  乙 02 15%  upfront 42.00, eligible 238.00
 4    氨氯地平片 28 × 1.20         33.60  甲 01      eligible 33.60
 5    维生素C泡腾片 1 × 25.00      25.00  丙 03      fully self-paid 25.00
====  ========================  ======  =========  ==============================

total 408.60; eligible 341.60; the year's outpatient deductible 200.00 (per_year, nothing used
yet); above it 141.60 × (level_2 0.55 + retiree 0.10 + resettled 0.00 = 0.65) = 92.04 from the
outpatient pooled fund (annual cap 2000.00 not reached); patient share 408.60 − 92.04 = 316.56,
all cash (the account is not asked to pay).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from fakes import FakeDatabase, fake_unit_of_work, record_fact
from test_encounter_use_cases import (
    BOBAI,
    NOW,
    XIE_CARD,
    _admit,
    _lines,
    at,
    db,  # noqa: F401 (the world fixture)
)

from yidi.encounter.commands import (
    Credential,
    FeeLineInput,
    HospitalService,
    VisitData,
    VisitRegistration,
)
from yidi.encounter.model import EncounterKind
from yidi.kernel.clock import FixedClock
from yidi.kernel.errors import Conflict, InvalidInput, Refused
from yidi.kernel.idempotency import request_key
from yidi.kernel.insurance import InsuranceType
from yidi.kernel.money import Money

VISIT_LINES = [
    ("002501000010000", "血细胞分析（血常规）", "1", "20.00"),
    ("002301000010000", "常规心电图检查", "2", "25.00"),
    ("002302010010000", "X线计算机体层（CT）平扫", "1", "280.00"),
    ("XC08CAA010A001010100009", "苯磺酸氨氯地平片", "28", "1.20"),
    ("XA11GAV001A001010100010", "维生素C泡腾片", "1", "25.00"),
]
VISIT_TOTAL = Money("408.60")
#: The hand computation of the module docstring.
EXPECTED = {
    "total_charges": "408.60",
    "fully_self_paid": "25.00",
    "over_limit_self_paid": "0.00",
    "upfront_self_paid": "42.00",
    "eligible_amount": "341.60",
    "deductible_applied": "200.00",
    "pooled_fund_paid": "92.04",
    "fund_paid_total": "92.04",
    "patient_share": "316.56",
    "personal_account_paid": "0.00",
    "cash_paid": "316.56",
}
OUTPATIENT = EncounterKind.OUTPATIENT


@pytest.fixture
def service(db: FakeDatabase) -> HospitalService:
    return HospitalService(lambda: fake_unit_of_work(db), FixedClock(NOW), record_fact=record_fact)


def _register(service: HospitalService, key: object = None):  # type: ignore[no-untyped-def]
    return service.register_visit(
        BOBAI,
        VisitRegistration(
            Credential("03", XIE_CARD),
            registered_at=dt.datetime(2026, 11, 20, 9, 30, tzinfo=NOW.tzinfo),
            outpatient_number="MZ0001",
            department_code="A03",
        ),
        key,  # type: ignore[arg-type]
    )


def _visit_lines(lines: list[tuple[str, str, str, str]] = VISIT_LINES) -> list[FeeLineInput]:
    return [
        FeeLineInput(
            serial=f"MZ{index + 1}",
            catalog_code=code,
            name=name,
            quantity=Decimal(quantity),
            unit_price=Decimal(price),
            amount=Money.rounded(Decimal(quantity) * Decimal(price)),
            occurred_at=dt.datetime(2026, 11, 20, 10, 0, tzinfo=NOW.tzinfo),
        )
        for index, (code, name, quantity, price) in enumerate(lines)
    ]


def _ready(service: HospitalService):  # type: ignore[no-untyped-def]
    visit = _register(service)
    service.record_visit(BOBAI, visit.id, VisitData(("I10",)))
    service.upload_fees(BOBAI, visit.id, _visit_lines(), kind=OUTPATIENT)
    return visit


def test_a_filed_retiree_settles_a_visit_with_the_outpatient_scheme_to_the_fen(
    service: HospitalService, db: FakeDatabase
) -> None:
    visit = _register(service)
    assert visit.state == "registered" and visit.med_type == "11"
    assert visit.filing_category == "retiree_resettled"
    assert service.record_visit(BOBAI, visit.id, VisitData(("I10",))).diagnosis_codes == "I10"
    stored = service.upload_fees(BOBAI, visit.id, _visit_lines(), kind=OUTPATIENT)
    assert sum((line.amount for line in stored), Money.zero()) == VISIT_TOTAL
    pre = service.pre_settle(BOBAI, visit.id, VISIT_TOTAL, kind=OUTPATIENT)
    settled = service.settle(BOBAI, visit.id, VISIT_TOTAL, kind=OUTPATIENT)
    assert {name: str(settled.amounts[name]) for name in EXPECTED} == EXPECTED
    assert pre.amounts == settled.amounts
    assert db.encounters[visit.id].state == "settled"
    ytd = service.year_to_date(visit.person_id, InsuranceType.EMPLOYEE, 2026)
    assert ytd.admissions_count == 0  # a visit is never an admission
    assert db.facts[settled.settlement_id].setl_id == settled.settlement_id


def test_cancelling_the_settlement_negates_it_and_reopens_the_visit(
    service: HospitalService, db: FakeDatabase
) -> None:
    visit = _ready(service)
    settled = service.settle(BOBAI, visit.id, VISIT_TOTAL, kind=OUTPATIENT)
    key = request_key("2208:H45092300001", "MSG-8", {"setl_id": settled.settlement_id})
    reversal = service.reverse(BOBAI, visit.id, settled.settlement_id, key, kind=OUTPATIENT)
    again = service.reverse(BOBAI, visit.id, settled.settlement_id, key, kind=OUTPATIENT)
    assert again.settlement_id == reversal.settlement_id  # the same msgid: one reversal
    assert {name: str(-reversal.amounts[name]) for name in EXPECTED} == EXPECTED
    assert db.encounters[visit.id].state == "registered"
    ytd = service.year_to_date(visit.person_id, InsuranceType.EMPLOYEE, 2026)
    assert ytd.pooled_fund_paid == Money.zero() and ytd.deductible_used == Money.zero()
    # Fees cancelled (2205), the registration can be cancelled (2202).
    with pytest.raises(Conflict) as busy:
        service.cancel_registration(BOBAI, visit.id)
    assert busy.value.code == "VISIT_CANNOT_CANCEL"
    assert len(service.cancel_fees(BOBAI, visit.id, ["0000"], kind=OUTPATIENT)) == 5
    assert service.cancel_registration(BOBAI, visit.id).state == "cancelled"
    assert db.encounters[visit.id].state == "cancelled"


def test_the_same_msgid_registers_and_settles_once(
    service: HospitalService, db: FakeDatabase
) -> None:
    key = request_key("2201:H45092300001", "MSG-1", {"psn": XIE_CARD})
    first = _register(service, key)
    assert _register(service, key).id == first.id
    service.upload_fees(BOBAI, first.id, _visit_lines(), kind=OUTPATIENT)
    settle_key = request_key("2207:H45092300001", "MSG-7", {"mdtrt_id": first.id})
    one = service.settle(BOBAI, first.id, VISIT_TOTAL, settle_key, kind=OUTPATIENT)
    two = service.settle(BOBAI, first.id, VISIT_TOTAL, settle_key, kind=OUTPATIENT)
    assert one.settlement_id == two.settlement_id and len(db.settlements) == 1
    assert len([e for e in db.encounters.values() if e.med_type == "11"]) == 1


def test_outpatient_and_inpatient_transactions_do_not_mix(
    service: HospitalService, db: FakeDatabase
) -> None:
    visit = _ready(service)
    with pytest.raises(Conflict) as discharge:
        service.discharge(BOBAI, visit.id, at(20, 18))
    assert discharge.value.code == "VISIT_NOT_INPATIENT"
    with pytest.raises(Conflict) as cancel_admission:
        service.cancel_admission(BOBAI, visit.id)
    assert cancel_admission.value.code == "VISIT_NOT_INPATIENT"
    with pytest.raises(Conflict) as inpatient_settle:
        service.settle(BOBAI, visit.id, VISIT_TOTAL, kind=EncounterKind.INPATIENT)
    assert inpatient_settle.value.code == "VISIT_NOT_INPATIENT"
    stay = _admit(service)
    with pytest.raises(Conflict) as fees_on_stay:
        service.upload_fees(BOBAI, stay.id, _visit_lines(), kind=OUTPATIENT)
    assert fees_on_stay.value.code == "VISIT_NOT_OUTPATIENT"
    assert db.fee_lines_of(stay.id) == [] if hasattr(db, "fee_lines_of") else True
    with pytest.raises(Conflict) as visit_data_on_stay:
        service.record_visit(BOBAI, stay.id, VisitData(("I10",)))
    assert visit_data_on_stay.value.code == "VISIT_NOT_OUTPATIENT"


def test_bad_visit_data_is_refused_and_changes_nothing(
    service: HospitalService, db: FakeDatabase
) -> None:
    visit = _register(service)
    with pytest.raises(InvalidInput) as bad:
        service.record_visit(BOBAI, visit.id, VisitData(("HYPERTENSION",)))
    assert bad.value.code == "DIAGNOSIS_CODE_INVALID"
    with pytest.raises(Refused) as emergency:
        service.record_visit(BOBAI, visit.id, VisitData(("I10",), med_type="13"))
    assert emergency.value.code == "MED_TYPE_NOT_DIRECT"
    with pytest.raises(Refused) as chronic:  # this hospital is not connected for 门诊慢特病
        service.record_visit(BOBAI, visit.id, VisitData(("I10",), med_type="14"))
    assert chronic.value.code == "INSTITUTION_KIND_NOT_CONNECTED"
    assert db.encounters[visit.id].diagnosis_codes == ""
    with pytest.raises(Refused) as empty:
        service.settle(BOBAI, visit.id, Money("0.00"), kind=OUTPATIENT)
    assert empty.value.code == "FEE_LINES_EMPTY"


def test_an_outpatient_visit_then_an_admission_the_admission_is_the_years_first(
    service: HospitalService, db: FakeDatabase
) -> None:
    """The example of the outpatient work: a 50.00 outpatient claim, then a real admission;
    the admission's deductible is the first admission's of the year, and it says so."""
    visit = _register(service)
    service.upload_fees(
        BOBAI, visit.id, _visit_lines([VISIT_LINES[1]]), kind=OUTPATIENT
    )  # 心电图 2 × 25.00 = 50.00
    outpatient = service.settle(BOBAI, visit.id, Money("50.00"), kind=OUTPATIENT)
    assert outpatient.amounts["total_charges"] == Money("50.00")
    assert outpatient.amounts["fund_paid_total"] == Money.zero()  # under the 200.00 deductible
    ytd = service.year_to_date(visit.person_id, InsuranceType.EMPLOYEE, 2026)
    assert ytd.admissions_count == 0
    stay = _admit(service)
    service.upload_fees(BOBAI, stay.id, _lines(at(21)))
    service.discharge(BOBAI, stay.id, at(30, 10))
    settled = service.settle(BOBAI, stay.id, Money("11811.24"))
    # The same 600.00 as golden case c01, where the admission is the year's only one.
    assert settled.amounts["deductible_applied"] == Money("600.00")
    assert settled.amounts["pooled_fund_paid"] == Money("8019.13")
    assert any("本年度第1次住院" in sentence for sentence in settled.explanation_zh)
    ytd = service.year_to_date(visit.person_id, InsuranceType.EMPLOYEE, 2026)
    assert ytd.admissions_count == 1
