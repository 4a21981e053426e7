# ruff: noqa: F811  (the world fixture ``db`` is imported from test_encounter_use_cases)
"""Designated retail pharmacy (定点零售药店) purchases and connection flags per kind of care, on
the in-memory unit of work.

The purchase of this module (hand computation; the same case as the gateway test
``tests/e2e/test_pharmacy_gateway.py``, here with an empty personal account): the filed 衡阳县
retiree buys at 博白县某大药房 on 2026-11-20; treatment catalogue 450000:
氨氯地平片 28 × 1.20 = 33.60 (甲), 阿托伐他汀钙片 28 × 3.20 = 89.60 (甲 in 广西),
维生素C泡腾片 2 × 25.00 = 50.00 (丙, fully self-paid). Total 173.20, in scope 123.20; the
insured region's pharmacy scheme (430400 职工, illustrative) pays no fund: patient share 173.20,
the account (balance 0.00) pays 0.00, cash 173.20.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from fakes import FakeDatabase, fake_unit_of_work, record_fact
from test_encounter_use_cases import (
    BOBAI,
    NOW,
    XIE_CARD,
    _admit,
    db,  # noqa: F401 (the world fixture)
)

import yidi
from yidi.encounter.commands import (
    AdmissionRequest,
    Credential,
    FeeLineInput,
    HospitalService,
    PharmacyPurchase,
    VisitRegistration,
)
from yidi.encounter.model import (
    PHARMACY_TRANSITIONS,
    EncounterAction,
    EncounterKind,
    EncounterState,
    next_state,
)
from yidi.kernel.access import Caller
from yidi.kernel.clock import FixedClock
from yidi.kernel.errors import Conflict, InvalidInput, Refused, YidiError
from yidi.kernel.idempotency import request_key
from yidi.kernel.insurance import EncounterType, HospitalLevel, InsuranceType
from yidi.kernel.money import Money
from yidi.policy.loader import load_policy_library, policy_at
from yidi.reference.model import (
    ConnectionKind,
    Hospital,
    InstitutionType,
    format_connections,
    parse_connections,
)

PHARMACY = Caller("P45092300001", "pharmacy")
UNCONNECTED = Caller("P45092300002", "pharmacy2")
DRUGS = [
    ("XC08CAA010A001010100009", "苯磺酸氨氯地平片", "28", "1.20"),
    ("XC10AAA200A001010101234", "阿托伐他汀钙片", "28", "3.20"),
    ("XA11GAV001A001010100010", "维生素C泡腾片", "2", "25.00"),
]
EXPECTED = {
    "total_charges": "173.20",
    "fully_self_paid": "50.00",
    "over_limit_self_paid": "0.00",
    "upfront_self_paid": "0.00",
    "eligible_amount": "123.20",
    "pooled_fund_paid": "0.00",
    "fund_paid_total": "0.00",
    "patient_share": "173.20",
    "personal_account_paid": "0.00",
    "cash_paid": "173.20",
}


@pytest.fixture
def service(db: FakeDatabase) -> HospitalService:
    return HospitalService(lambda: fake_unit_of_work(db), FixedClock(NOW), record_fact=record_fact)


def _purchase(total: str = "173.20", **changes: object) -> PharmacyPurchase:
    values: dict[str, object] = {
        "credential": Credential("03", XIE_CARD),
        "purchased_at": dt.datetime(2026, 11, 20, 9, 50, tzinfo=NOW.tzinfo),
        "lines": tuple(
            FeeLineInput(
                serial=f"YD{index + 1}",
                catalog_code=code,
                name=name,
                quantity=Decimal(quantity),
                unit_price=Decimal(price),
                amount=Money.rounded(Decimal(quantity) * Decimal(price)),
                occurred_at=dt.datetime(2026, 11, 20, 9, 55, tzinfo=NOW.tzinfo),
            )
            for index, (code, name, quantity, price) in enumerate(DRUGS)
        ),
        "total_charges": Money(total),
        "prescription_numbers": ("RX0001",),
        "use_account": True,
    }
    values.update(changes)
    return PharmacyPurchase(**values)  # type: ignore[arg-type]


def _amounts(record: object) -> dict[str, str]:
    amounts = record.amounts  # type: ignore[attr-defined]
    return {name: str(amounts[name]) for name in EXPECTED}


# --- the model -----------------------------------------------------------------------------


def test_med_type_41_is_a_pharmacy_purchase_settled_on_its_day() -> None:
    assert EncounterKind.of("41") is EncounterKind.PHARMACY
    assert EncounterKind.PHARMACY.label_zh == "定点药店购药"


def test_a_purchase_settles_once_and_its_cancellation_ends_it() -> None:
    assert PHARMACY_TRANSITIONS == {
        (EncounterState.REGISTERED, EncounterAction.SETTLE): EncounterState.SETTLED,
        (EncounterState.SETTLED, EncounterAction.REVERSE): EncounterState.CANCELLED,
        # only a 2601 of the cancellation (2103) settles the purchase again
        (EncounterState.CANCELLED, EncounterAction.RESTORE): EncounterState.SETTLED,
    }
    kind = EncounterKind.PHARMACY
    with pytest.raises(Conflict) as twice:
        next_state("settled", EncounterAction.SETTLE, kind)
    assert twice.value.code == "ENCOUNTER_ALREADY_SETTLED"
    with pytest.raises(Conflict) as discharge:
        next_state("registered", EncounterAction.DISCHARGE, kind)
    assert discharge.value.code == "VISIT_NOT_INPATIENT" and "2101–2103" in discharge.value.message


def test_connection_flags_default_by_institution_type_and_round_trip() -> None:
    hospital = Hospital("H1", "医院", HospitalLevel.LEVEL_2, "450923")
    pharmacy = Hospital(
        "P1", "药房", HospitalLevel.LEVEL_1, "450923", institution_type=InstitutionType.PHARMACY
    )
    assert hospital.connected_kinds == {ConnectionKind.INPATIENT, ConnectionKind.OUTPATIENT}
    assert pharmacy.connected_kinds == {ConnectionKind.PHARMACY}
    assert dataclasses.replace(hospital, cross_region_connected=False).connected_kinds == set()
    kinds = parse_connections("pharmacy, inpatient")
    assert format_connections(kinds) == "inpatient,pharmacy"
    assert parse_connections("") == frozenset()
    with pytest.raises(ValueError):
        parse_connections("dental")


# --- the use cases -------------------------------------------------------------------------


def test_2102_stores_and_settles_the_purchase_to_the_fen(
    service: HospitalService, db: FakeDatabase
) -> None:
    done = service.settle_purchase(PHARMACY, _purchase(), msgid="M1")
    assert _amounts(done.record) == EXPECTED
    assert done.record.settlement_id and done.record.med_type == "41"
    assert [line.serial for line in done.lines] == ["YD1", "YD2", "YD3"]
    encounter = db.encounters[done.record.encounter_id]
    assert encounter.state == "settled" and encounter.prescription_numbers == "RX0001"
    assert encounter.hospital_code == PHARMACY.hospital_code
    # The purchase is not an admission: the year's admission count is unchanged.
    assert all(ytd.admissions_count == 0 for ytd in db.year_to_date.values())


def test_2101_gives_the_same_result_and_writes_nothing(
    service: HospitalService, db: FakeDatabase
) -> None:
    before = (dict(db.encounters), dict(db.fee_lines), dict(db.settlements), db.commits)
    pre = service.pre_settle_purchase(PHARMACY, _purchase())
    assert _amounts(pre.record) == EXPECTED
    assert pre.record.settlement_id is None and pre.record.kind == "pre_settle"
    assert (dict(db.encounters), dict(db.fee_lines), dict(db.settlements), db.commits) == before


def test_a_retry_answers_the_first_settlement_and_other_content_is_refused(
    service: HospitalService, db: FakeDatabase
) -> None:
    purchase = _purchase()
    key = request_key("nhsa:P45092300001", "M1", {"lines": "three"})
    first = service.settle_purchase(PHARMACY, purchase, key, msgid="M1")
    again = service.settle_purchase(PHARMACY, purchase, key, msgid="M1")
    assert again.record.settlement_id == first.record.settlement_id
    assert len(db.encounters) == 1 and len(db.settlements) == 1
    other = request_key("nhsa:P45092300001", "M1", {"lines": "two"})
    with pytest.raises(YidiError) as reused:
        service.settle_purchase(PHARMACY, _purchase("123.20", lines=purchase.lines[:2]), other)
    assert reused.value.code == "IDEMPOTENCY_KEY_REUSED"
    assert len(db.encounters) == 1 and len(db.settlements) == 1


def test_2103_cancels_the_settlement_and_the_purchase(
    service: HospitalService, db: FakeDatabase
) -> None:
    done = service.settle_purchase(PHARMACY, _purchase(), msgid="M1")
    record = done.record
    assert record.settlement_id is not None
    reversal = service.reverse(
        PHARMACY, record.encounter_id, record.settlement_id, kind=EncounterKind.PHARMACY
    )
    assert reversal.amounts["total_charges"] == Money("-173.20")
    assert db.encounters[record.encounter_id].state == "cancelled"


def test_an_unknown_drug_or_a_wrong_total_writes_nothing(
    service: HospitalService, db: FakeDatabase
) -> None:
    lines = list(_purchase().lines)
    lines[0] = dataclasses.replace(lines[0], catalog_code="XZ99ZZZ999Z999999999999")
    with pytest.raises(InvalidInput) as unknown:
        service.settle_purchase(PHARMACY, _purchase(lines=tuple(lines)))
    assert unknown.value.code == "FEE_CATALOG_CODE_UNKNOWN"
    with pytest.raises(Refused) as total:
        service.settle_purchase(PHARMACY, _purchase("170.00"))
    assert total.value.code == "MEDFEE_SUMAMT_MISMATCH"
    assert db.encounters == {} and db.fee_lines == {} and db.settlements == {}


def test_a_hospital_settles_no_purchase_and_a_pharmacy_admits_nobody(
    service: HospitalService, db: FakeDatabase
) -> None:
    with pytest.raises(Refused) as hospital:
        service.settle_purchase(BOBAI, _purchase())
    assert hospital.value.code == "INSTITUTION_NOT_PHARMACY"
    with pytest.raises(Refused) as pharmacy:
        service.admit(
            PHARMACY,
            dataclasses.replace(_admission_request(), credential=Credential("03", XIE_CARD)),
        )
    assert pharmacy.value.code == "INSTITUTION_NOT_HOSPITAL"
    assert db.encounters == {}


def _admission_request() -> AdmissionRequest:
    return AdmissionRequest(
        credential=Credential("03", XIE_CARD),
        med_type="21",
        admitted_at=dt.datetime(2026, 11, 20, 8, 0, tzinfo=NOW.tzinfo),
        department_code="A03",
        diagnosis_codes=("K80.101",),
    )


def test_a_kind_not_connected_is_refused_with_the_agency_phone(
    service: HospitalService, db: FakeDatabase
) -> None:
    with pytest.raises(Refused) as pharmacy:
        service.settle_purchase(UNCONNECTED, _purchase())
    assert pharmacy.value.code == "INSTITUTION_KIND_NOT_CONNECTED"
    assert "0734-6653009" in pharmacy.value.message and "药店购药" in pharmacy.value.message
    # A hospital connected for inpatient care only: admissions go on, visits are refused.
    bobai = db.hospitals[BOBAI.hospital_code]
    db.hospitals[BOBAI.hospital_code] = dataclasses.replace(
        bobai, connections=frozenset({ConnectionKind.INPATIENT})
    )
    with pytest.raises(Refused) as visit:
        service.register_visit(
            BOBAI,
            VisitRegistration(
                Credential("03", XIE_CARD),
                registered_at=dt.datetime(2026, 11, 20, 9, 30, tzinfo=NOW.tzinfo),
            ),
        )
    assert visit.value.code == "INSTITUTION_KIND_NOT_CONNECTED"
    assert "普通门诊" in visit.value.message and "已开通：住院" in visit.value.message
    assert visit.value.details["connected"] == ["inpatient"]
    assert _admit(service).state == "admitted"


def test_the_demo_regions_ship_a_pharmacy_scheme_and_a_policy_without_one_is_refused() -> None:
    day = dt.date(2026, 11, 20)
    for region, insurance_type in (
        ("430400", InsuranceType.EMPLOYEE),
        ("430400", InsuranceType.RESIDENT),
        ("640000", InsuranceType.EMPLOYEE),
    ):
        scheme = policy_at(region, insurance_type, day).scheme_for(EncounterType.PHARMACY)
        assert scheme is not None, (region, insurance_type)
    assert (
        policy_at("640000", InsuranceType.RESIDENT, day).scheme_for(EncounterType.PHARMACY) is None
    )


def test_a_purchase_whose_insured_region_has_no_pharmacy_scheme_is_refused(
    db: FakeDatabase, tmp_path: Path
) -> None:
    shipped = Path(yidi.__file__).parent / "policies"
    root = tmp_path / "policies"
    shutil.copytree(shipped, root)
    outpatient = root / "430400" / "employee" / "outpatient.yaml"
    text = outpatient.read_text(encoding="utf-8")
    outpatient.write_text(text[: text.index("  pharmacy:\n")], encoding="utf-8")
    service = HospitalService(
        lambda: fake_unit_of_work(db),
        FixedClock(NOW),
        record_fact=record_fact,
        policies=load_policy_library(root),
    )
    with pytest.raises(Refused) as refused:
        service.settle_purchase(PHARMACY, _purchase())
    assert refused.value.code == "POLICY_NO_SCHEME" and "定点药店购药" in refused.value.message
    assert db.encounters == {} and db.settlements == {}
