"""Manual reimbursement, the admission estimate and the centre's statement on the
in-memory units of work (``fakes_settlement``): no database, the real policies, catalogues
and engine.

The world is the seed's: a 衡阳县 retiree filed for 博白县 and an unfiled 衡阳 patient
whose care at 博白 is reimbursed by hand at the 衡阳 agency.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from fakes_settlement import (
    FakeSettlementUnitOfWork,
    SettlementFakeDatabase,
    catalog_unit,
    manual_claim_unit,
    reconciliation_unit,
)

from filing_support import HENGYANG, PERSON_ID, ZHENGZHOU
from hospital_support import UNFILED_ID, XIE_LINES, XIE_TOTAL, seed_fake_world
from yidi.catalog.commands import store_catalog
from yidi.catalog.files import SAMPLE_REGIONS, sample_catalog
from yidi.kernel.access import Caller, Principal, Role
from yidi.kernel.clock import CHINA_TZ, FixedClock
from yidi.kernel.errors import Conflict, Forbidden, NotFound, Refused
from yidi.kernel.insurance import (
    EncounterType,
    HospitalLevel,
    InsuranceType,
    SettlementMode,
)
from yidi.kernel.money import Money
from yidi.settlement.claim_builder import FeeLineInput
from yidi.settlement.estimate import EstimateRequest, estimate_admission
from yidi.settlement.manual import APPROVED, COMPUTED, DRAFT, PAID, ManualClaimService, Material
from yidi.settlement.reconciliation import ReconciliationService

NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=CHINA_TZ)
BOBAI_COUNTY = "450923"


@pytest.fixture
def db() -> SettlementFakeDatabase:
    db = SettlementFakeDatabase()
    seed_fake_world(db)
    return db


@pytest.fixture
def manual(db: SettlementFakeDatabase) -> ManualClaimService:
    return ManualClaimService(lambda: manual_claim_unit(db), FixedClock(NOW))


def _lines(day: dt.date) -> list[FeeLineInput]:
    occurred_at = dt.datetime.combine(day, dt.time(9), tzinfo=CHINA_TZ)
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
        for index, (code, name, quantity, price) in enumerate(XIE_LINES)
    ]


def _create(manual: ManualClaimService, admitted_on: dt.date = dt.date(2026, 10, 1)):  # type: ignore[no-untyped-def]
    return manual.create(
        HENGYANG,
        id_number=UNFILED_ID,
        treatment_region=BOBAI_COUNTY,
        hospital_name="博白县人民医院",
        hospital_level=HospitalLevel.LEVEL_2,
        encounter_type=EncounterType.INPATIENT,
        admitted_on=admitted_on,
        discharged_on=admitted_on + dt.timedelta(days=9),
        reason="未办理异地就医备案",
    )


def _approved(manual: ManualClaimService, admitted_on: dt.date = dt.date(2026, 10, 1)):  # type: ignore[no-untyped-def]
    claim = _create(manual, admitted_on)
    manual.set_fee_lines(HENGYANG, claim.claim.id, _lines(admitted_on + dt.timedelta(days=2)))
    manual.record_materials(HENGYANG, claim.claim.id, list(Material))
    return manual.approve(HENGYANG, claim.claim.id)


# --------------------------------------------------------------------------- manual claims


def test_a_manual_claim_is_submitted_approved_and_paid_and_writes_the_year_to_date(
    manual: ManualClaimService, db: SettlementFakeDatabase
) -> None:
    created = _create(manual)
    claim_id = created.claim.id
    assert created.claim.state == DRAFT
    assert created.missing_materials == list(Material)
    assert created.id_number_masked != UNFILED_ID and created.id_number_masked.endswith(
        UNFILED_ID[-4:]
    )
    with_lines = manual.set_fee_lines(HENGYANG, claim_id, _lines(dt.date(2026, 10, 3)))
    assert len(with_lines.fee_lines) == 23
    with pytest.raises(Refused) as missing:
        manual.approve(HENGYANG, claim_id)
    assert missing.value.code == "MANUAL_MATERIALS_MISSING"
    assert db.manual_claims[claim_id].state == DRAFT  # the refused approval wrote nothing
    manual.record_materials(HENGYANG, claim_id, [Material.RECEIPT, Material.FEE_LIST])
    with pytest.raises(Refused) as still:
        manual.approve(HENGYANG, claim_id)
    assert still.value.details["missing"] == ["discharge_record", "diagnosis_certificate"]
    manual.record_materials(
        HENGYANG, claim_id, [Material.DISCHARGE_RECORD, Material.DIAGNOSIS_CERTIFICATE]
    )

    preview = manual.compute(HENGYANG, claim_id)
    assert preview.claim.state == COMPUTED
    assert preview.amounts["total_charges"] == XIE_TOTAL
    assert db.year_to_date == {}  # a preview never touches the year-to-date totals

    approved = manual.approve(HENGYANG, claim_id)
    amounts = approved.amounts
    assert approved.claim.state == APPROVED
    assert amounts == preview.amounts
    assert amounts["fund_paid_total"] + amounts["patient_share"] == XIE_TOTAL
    assert amounts["fund_paid_total"] > Money.zero()
    assert approved.result is not None and approved.result["mode"] == SettlementMode.MANUAL.value
    stored = db.manual_claims[claim_id]
    assert stored.fund_paid_total_fen == amounts["fund_paid_total"].fen
    assert stored.total_charges_fen == XIE_TOTAL.fen
    assert stored.approved_by == HENGYANG.user_id
    person_id = stored.person_id
    ytd = db.year_to_date[(person_id, InsuranceType.EMPLOYEE.value, 2026)]
    assert ytd.admissions_count == 1
    assert ytd.pooled_fund_paid == amounts["pooled_fund_paid"]
    assert ytd.deductible_used == amounts["deductible_applied"]

    paid = manual.record_payment(HENGYANG, claim_id, "  ZF-2026-0001 ")
    assert paid.claim.state == PAID
    assert db.manual_claims[claim_id].payment_reference == "ZF-2026-0001"
    with pytest.raises(Conflict):
        manual.compute(HENGYANG, claim_id)
    assert [e.action for e in db.audit] == [
        "manual_claim.create",
        "manual_claim.fee_lines",
        "manual_claim.materials",
        "manual_claim.materials",
        "manual_claim.compute",
        "manual_claim.approve",
        "manual_claim.pay",
    ]


def test_a_second_manual_claim_of_the_year_counts_as_a_second_admission(
    manual: ManualClaimService, db: SettlementFakeDatabase
) -> None:
    first = _approved(manual, dt.date(2026, 3, 1))
    second = _approved(manual, dt.date(2026, 6, 1))
    # The policy's deductible of a later admission in the year is lower than the first's:
    # the second claim sees the first in the year-to-date totals.
    assert first.amounts["deductible_applied"] > second.amounts["deductible_applied"]
    assert second.amounts["pooled_fund_paid"] > first.amounts["pooled_fund_paid"]
    person_id = db.manual_claims[first.claim.id].person_id
    ytd = db.year_to_date[(person_id, InsuranceType.EMPLOYEE.value, 2026)]
    assert ytd.admissions_count == 2
    assert ytd.deductible_used == (
        first.amounts["deductible_applied"] + second.amounts["deductible_applied"]
    )
    assert (
        ytd.pooled_fund_paid
        == first.amounts["pooled_fund_paid"] + second.amounts["pooled_fund_paid"]
    )


def test_a_handler_of_another_region_neither_sees_nor_lists_the_claim(
    manual: ManualClaimService,
) -> None:
    claim_id = _approved(manual).claim.id
    with pytest.raises(NotFound):
        manual.get(ZHENGZHOU, claim_id)
    assert manual.search(ZHENGZHOU).total == 0
    page = manual.search(HENGYANG, state=APPROVED)
    assert [item.claim_id for item in page.items] == [claim_id]
    assert page.items[0].fund_paid_amount is not None and page.items[0].materials_complete
    assert manual.search(HENGYANG, state=PAID).total == 0


def test_a_failed_approval_leaves_nothing_half_written(
    manual: ManualClaimService, db: SettlementFakeDatabase
) -> None:
    claim_id = _create(manual).claim.id
    manual.record_materials(HENGYANG, claim_id, list(Material))
    audit_before = len(db.audit)
    with pytest.raises(Refused) as empty:
        manual.approve(HENGYANG, claim_id)
    assert empty.value.code == "MANUAL_FEE_LINES_EMPTY"
    assert db.manual_claims[claim_id].state == DRAFT
    assert db.year_to_date == {} and len(db.audit) == audit_before


# --------------------------------------------------------------------------- the estimate


def _estimate(db: SettlementFakeDatabase, principal: Principal, total: str, class_b: str = "0"):  # type: ignore[no-untyped-def]
    request = EstimateRequest(
        BOBAI_COUNTY,
        HospitalLevel.LEVEL_2,
        Money(total),
        Money("1500.00"),
        Money(class_b),
        dt.date(2026, 11, 25),
    )
    with FakeSettlementUnitOfWork(db) as uow:
        return estimate_admission(uow, principal, request)


def test_an_estimate_is_direct_for_the_filed_person_manual_for_the_unfiled_and_writes_nothing(
    db: SettlementFakeDatabase,
) -> None:
    xie = Principal("laoxie", Role.INSURED_PERSON, id_number=PERSON_ID)
    unfiled = Principal("unfiled", Role.INSURED_PERSON, id_number=UNFILED_ID)
    direct = _estimate(db, xie, "20000.00", class_b="3000.00")
    manual = _estimate(db, unfiled, "20000.00", class_b="3000.00")
    assert direct.mode is SettlementMode.DIRECT and manual.mode is SettlementMode.MANUAL
    for result in (direct, manual):
        assert result.total_charges == Money("20000.00")
        assert result.fund_paid_total + result.patient_share == result.total_charges
        assert result.fully_self_paid == Money("1500.00")  # the class C part
    assert direct.patient_share <= manual.patient_share
    assert db.commits == 0 and db.audit == [] and db.year_to_date == {}
    with pytest.raises(Forbidden):
        _estimate(db, HENGYANG, "20000.00")


# --------------------------------------------------------------------------- reconciliation


def test_the_centre_lists_no_lines_for_a_hospital_without_settlements_and_audits_the_read(
    db: SettlementFakeDatabase,
) -> None:
    service = ReconciliationService(lambda: reconciliation_unit(db), FixedClock(NOW))
    bobai = Caller("H45092300001", "bobai")
    lines = service.centre_lines(bobai, dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    assert lines == []
    assert db.audit[-1].action == "hospital.reconciliation_read"
    with pytest.raises(NotFound):
        service.centre_lines(
            Caller("H00000000000", "x"), dt.date(2026, 11, 1), dt.date(2026, 11, 2)
        )


def test_a_catalogue_imported_twice_is_stored_once(db: SettlementFakeDatabase) -> None:
    catalog = sample_catalog(SAMPLE_REGIONS[0])
    db.catalogs = []
    with catalog_unit(db) as uow:
        first = store_catalog(uow, catalog, source_name="a.csv", at=NOW)
        again = store_catalog(uow, catalog, source_name="b.csv", at=NOW)
        uow.commit()
    assert first.created and not again.created
    assert again.version == first.version
    assert [row.source_name for row, _ in db.catalogs] == ["a.csv"]
    assert first.version.effective_on == catalog.effective_on
