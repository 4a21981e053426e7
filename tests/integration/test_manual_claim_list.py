"""The agency's list of manual reimbursement claims (手工报销申请列表): region scope, filters,
masked ID numbers, amounts from the stored fen, pagination and the audited read."""

from __future__ import annotations

import datetime as dt

import pytest

from filing_support import HENGYANG, HUNAN, PERSON_ID, ZHENGZHOU
from hospital_support import (
    BOBAI_CASHIER,
    NINGXIA,
    PENG_ID,
    UNFILED_ID,
    XIE_LINES,
    XIE_TOTAL,
    build_world,
    fee_inputs,
)
from yidi.bootstrap import Container
from yidi.kernel.access import Principal
from yidi.kernel.clock import CHINA_TZ, FixedClock
from yidi.kernel.errors import Forbidden, InvalidInput
from yidi.kernel.insurance import EncounterType, HospitalLevel
from yidi.settlement.manual import (
    APPROVED,
    CHECKLIST,
    DRAFT,
    ManualClaimService,
    ManualClaimSummary,
    ManualClaimView,
    Material,
)


@pytest.fixture
def service(container: Container) -> ManualClaimService:
    build_world(container)
    return ManualClaimService(container.uow, container.clock)


def _open(
    service: ManualClaimService,
    principal: Principal,
    id_number: str,
    hospital: str = "博白县人民医院",
) -> ManualClaimView:
    return service.create(
        principal,
        id_number=id_number,
        treatment_region="450923",
        hospital_name=hospital,
        hospital_level=HospitalLevel.LEVEL_2,
        encounter_type=EncounterType.INPATIENT,
        admitted_on=dt.date(2026, 10, 1),
        discharged_on=dt.date(2026, 10, 10),
        reason="未办理异地就医备案",
    )


def _on(clock: FixedClock, month: int, day: int, hour: int = 10) -> None:
    clock.set(dt.datetime(2026, month, day, hour, 0, tzinfo=CHINA_TZ))


def _ids(items: list[ManualClaimSummary]) -> list[str]:
    return [item.claim_id for item in items]


def test_a_handler_lists_only_the_claims_of_their_own_region(
    service: ManualClaimService,
) -> None:
    hengyang = _open(service, HENGYANG, UNFILED_ID).claim.id
    ningxia = _open(service, NINGXIA, PENG_ID).claim.id
    assert _ids(service.search(HENGYANG).items) == [hengyang]
    assert _ids(service.search(NINGXIA).items) == [ningxia]
    assert service.search(ZHENGZHOU).total == 0
    # Searching another region's person by the whole number finds nothing either.
    assert service.search(HENGYANG, id_number=PENG_ID).total == 0
    assert service.search(HENGYANG, claim_id=ningxia).total == 0


def test_only_agency_handlers_may_list_claims(service: ManualClaimService) -> None:
    _open(service, HENGYANG, UNFILED_ID)
    for principal in (HUNAN, BOBAI_CASHIER):
        with pytest.raises(Forbidden):
            service.search(principal)


def test_the_list_masks_id_numbers_and_shows_the_checklist(service: ManualClaimService) -> None:
    claim_id = _open(service, HENGYANG, UNFILED_ID).claim.id
    service.record_materials(HENGYANG, claim_id, [Material.RECEIPT, Material.DIAGNOSIS_CERTIFICATE])
    (item,) = service.search(HENGYANG).items
    assert item.id_number_masked != UNFILED_ID and "*" in item.id_number_masked
    assert item.id_number_masked[:6] == UNFILED_ID[:6]
    assert UNFILED_ID not in repr(item)
    assert item.person_name == "李某某" and item.state == DRAFT
    assert item.materials_received == (Material.RECEIPT, Material.DIAGNOSIS_CERTIFICATE)
    assert item.missing_materials == (Material.DISCHARGE_RECORD, Material.FEE_LIST)
    assert not item.materials_complete
    assert item.total_amount is None and item.fund_paid_amount is None


def test_an_approved_claim_lists_its_amounts_from_the_stored_fen(
    service: ManualClaimService,
) -> None:
    claim_id = _open(service, HENGYANG, UNFILED_ID).claim.id
    service.set_fee_lines(
        HENGYANG,
        claim_id,
        fee_inputs(XIE_LINES, dt.datetime(2026, 10, 3, 9, 0, tzinfo=CHINA_TZ)),
    )
    service.record_materials(HENGYANG, claim_id, list(CHECKLIST))
    approved = service.approve(HENGYANG, claim_id)
    (item,) = service.search(HENGYANG, state=APPROVED).items
    assert item.materials_complete
    assert item.total_amount == XIE_TOTAL
    assert item.fund_paid_amount == approved.amounts["fund_paid_total"]
    assert item.patient_share_amount == approved.amounts["patient_share"]
    assert item.fund_paid_amount is not None and item.patient_share_amount is not None
    assert item.fund_paid_amount.yuan + item.patient_share_amount.yuan == XIE_TOTAL.yuan
    assert service.search(HENGYANG, state=DRAFT).total == 0


def test_the_list_filters_by_intake_date_in_beijing_time(
    service: ManualClaimService, clock: FixedClock
) -> None:
    _on(clock, 11, 1, hour=0)  # 00:00 Beijing is still 31 October in UTC
    early = _open(service, HENGYANG, UNFILED_ID).claim.id
    _on(clock, 11, 10)
    middle = _open(service, HENGYANG, PERSON_ID).claim.id
    _on(clock, 11, 20, hour=23)
    late = _open(service, HENGYANG, UNFILED_ID).claim.id
    first = dt.date(2026, 11, 1)
    assert _ids(service.search(HENGYANG, received_from=first, received_to=first).items) == [early]
    assert _ids(service.search(HENGYANG, received_from=dt.date(2026, 11, 2)).items) == [
        late,
        middle,
    ]
    assert set(_ids(service.search(HENGYANG, received_to=dt.date(2026, 11, 20)).items)) == {
        early,
        middle,
        late,
    }
    with pytest.raises(InvalidInput) as backwards:
        service.search(HENGYANG, received_from=dt.date(2026, 11, 5), received_to=first)
    assert backwards.value.field == "received_to"


def test_search_by_claim_number_name_and_whole_id_number(service: ManualClaimService) -> None:
    unfiled = _open(service, HENGYANG, UNFILED_ID).claim.id
    xie = _open(service, HENGYANG, PERSON_ID).claim.id
    assert _ids(service.search(HENGYANG, claim_id=unfiled.lower()).items) == [unfiled]
    assert _ids(service.search(HENGYANG, name="谢某某").items) == [xie]
    assert _ids(service.search(HENGYANG, id_number=PERSON_ID.lower()).items) == [xie]
    with pytest.raises(InvalidInput) as partial:
        service.search(HENGYANG, id_number=PERSON_ID[:10])
    assert partial.value.code == "CLAIM_SEARCH_ID_INCOMPLETE"
    assert partial.value.field == "id_number"
    with pytest.raises(InvalidInput) as unknown_state:
        service.search(HENGYANG, state="lost")
    assert unknown_state.value.field == "state"


def test_the_list_pages_newest_first(service: ManualClaimService, clock: FixedClock) -> None:
    made = []
    for day in (3, 4, 5, 6, 7):
        _on(clock, 11, day)
        made.append(_open(service, HENGYANG, UNFILED_ID).claim.id)
    first = service.search(HENGYANG, limit=2)
    second = service.search(HENGYANG, limit=2, offset=2)
    last = service.search(HENGYANG, limit=2, offset=4)
    assert first.total == second.total == last.total == 5
    assert _ids(first.items) + _ids(second.items) + _ids(last.items) == made[::-1]
    assert (first.limit, second.offset) == (2, 2)
    assert service.search(HENGYANG, limit=10_000).limit == 200
    assert service.search(HENGYANG, offset=-3).offset == 0


def test_each_list_read_is_audited_with_the_id_number_masked(
    service: ManualClaimService, container: Container
) -> None:
    _open(service, HENGYANG, UNFILED_ID)
    service.search(HENGYANG, id_number=UNFILED_ID, state=DRAFT)
    with container.uow() as uow:
        entries = [e for e in uow.audit.walk() if e.entry.action == "manual_claim.list"]
    assert len(entries) == 1
    entry = entries[0].entry
    assert entry.actor == HENGYANG.user_id and entry.subject == "manual_claims:430400"
    assert "state=draft" in entry.reason and "1/1" in entry.reason
    assert UNFILED_ID not in entry.reason and UNFILED_ID[:6] in entry.reason
