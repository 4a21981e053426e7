from __future__ import annotations

import datetime as dt

import pytest

from filing_support import (
    BOBAI_HOSPITAL,
    CASHIER,
    HENAN,
    HENGYANG,
    HUNAN,
    PERSON,
    PERSON_ID,
    STRANGER,
    ZHENGZHOU,
    admission_notice,
    household_registration,
    load_agencies,
    record,
    zhengzhou_record,
)
from yidi.bootstrap import Container
from yidi.filing.commands import FilingService
from yidi.filing.model.lifecycle import FilingState
from yidi.kernel.access import Principal
from yidi.kernel.audit import reset_client_address, set_client_address
from yidi.kernel.clock import CHINA_TZ, FixedClock
from yidi.kernel.errors import Conflict, Forbidden, NotFound, Refused, Unauthenticated
from yidi.kernel.insurance import FilingCategory, PersonType


@pytest.fixture
def service(container: Container) -> FilingService:
    load_agencies(container.uow)
    return FilingService(container.uow, container.clock)


def _approved(service: FilingService, **changes: object) -> str:
    draft = service.create_draft(HENGYANG, record(**changes), evidence=[household_registration()])
    service.submit(HENGYANG, draft.filing_id)
    return service.approve(HENGYANG, draft.filing_id).filing_id


def _audit_actions(container: Container) -> list[tuple[str, str, str]]:
    with container.uow() as uow:
        return [(c.entry.action, c.entry.actor, c.entry.subject) for c in uow.audit.walk()]


def test_draft_submit_approve_allocates_a_regional_filing_number_and_validity(
    service: FilingService,
) -> None:
    filing_id = _approved(service)
    detail = service.get(HENGYANG, filing_id)
    assert detail.state is FilingState.APPROVED
    assert detail.record.filing_number == "BA430421-2026-000001"
    assert detail.record.handled_on == dt.date(2026, 11, 20)
    assert detail.record.valid_from == dt.date(2026, 11, 20)
    assert [e.action.value for e in detail.events] == ["create", "submit", "approve"]


def test_approval_without_the_category_evidence_is_refused_and_uses_no_number(
    service: FilingService,
) -> None:
    draft = service.create_draft(HENGYANG, record())
    service.submit(HENGYANG, draft.filing_id)
    with pytest.raises(Refused) as caught:
        service.approve(HENGYANG, draft.filing_id)
    assert caught.value.code == "FILING_EVIDENCE_MISSING"
    assert len(service.get(HENGYANG, draft.filing_id).missing_evidence) == 1
    service.reject(HENGYANG, draft.filing_id, "缺少安置地户口")
    service.add_evidence(HENGYANG, draft.filing_id, household_registration())
    service.submit(HENGYANG, draft.filing_id)
    approved = service.approve(HENGYANG, draft.filing_id)
    assert approved.record.filing_number == "BA430421-2026-000001"
    assert approved.evidence[0].document_number == "户-0001"


def test_rejection_needs_a_reason_and_a_rejected_filing_can_be_resubmitted(
    service: FilingService,
) -> None:
    draft = service.create_draft(PERSON, record(), evidence=[household_registration()])
    service.submit(PERSON, draft.filing_id)
    rejected = service.reject(HENGYANG, draft.filing_id, "户口簿复印件不清晰")
    assert rejected.state is FilingState.REJECTED
    assert rejected.state_reason == "户口簿复印件不清晰"
    again = service.submit(PERSON, draft.filing_id)
    assert again.state is FilingState.SUBMITTED


def test_change_creates_a_new_version_and_keeps_the_old_one(service: FilingService) -> None:
    filing_id = _approved(service)
    changed = service.change(
        HENGYANG,
        filing_id,
        record(mobile="13900001111", contact_address="广西博白县新地址5号"),
        reason="联系方式变更",
    )
    assert changed.filing_id == filing_id
    assert changed.record.version == 2
    assert changed.record.registration_type.value == "2"
    assert changed.record.filing_number == "BA430421-2026-000001"
    assert [(v.version, v.state) for v in changed.versions] == [
        (1, FilingState.SUPERSEDED),
        (2, FilingState.APPROVED),
    ]
    assert changed.versions[0].record.mobile == "13807341234"
    assert changed.versions[1].record.mobile == "13900001111"
    assert "change" in [e.action.value for e in changed.events]


def test_insured_person_cannot_change_at_home_but_may_cancel_own_filing(
    service: FilingService,
) -> None:
    filing_id = _approved(service)
    with pytest.raises(Forbidden):
        service.change(PERSON, filing_id, record(mobile="13900001111"))
    cancelled = service.cancel(PERSON, filing_id, "已回参保地居住")
    assert cancelled.state is FilingState.CANCELLED


def test_emergency_filing_after_three_working_days_over_national_day_is_refused(
    container: Container, service: FilingService
) -> None:
    clock = container.clock
    assert isinstance(clock, FixedClock)
    clock.set(dt.datetime(2026, 9, 30, 9, tzinfo=CHINA_TZ))
    emergency = record(
        category=FilingCategory.EMERGENCY,
        admitted_on=dt.date(2026, 9, 30),
        filled_on=dt.date(2026, 9, 30),
    )
    late = service.create_draft(
        HENGYANG, emergency, evidence=[admission_notice(dt.date(2026, 9, 30))]
    )
    assert late.emergency_deadline is not None and late.emergency_deadline > dt.date(2026, 10, 8)
    due = service.emergency_due(HENGYANG)
    assert [d.summary.filing_id for d in due] == [late.filing_id] and not due[0].late
    clock.set(dt.datetime.combine(late.emergency_deadline, dt.time(16), CHINA_TZ))
    on_time = service.submit(HENGYANG, late.filing_id)
    assert on_time.state is FilingState.SUBMITTED
    service.cancel(HENGYANG, late.filing_id, "重新办理")
    again = service.create_draft(
        HENGYANG, emergency, evidence=[admission_notice(dt.date(2026, 9, 30))]
    )
    clock.set(
        dt.datetime.combine(late.emergency_deadline + dt.timedelta(days=1), dt.time(9), CHINA_TZ)
    )
    assert service.emergency_due(HENGYANG)[0].late
    with pytest.raises(Refused) as caught:
        service.submit(HENGYANG, again.filing_id)
    assert caught.value.code == "FILING_EMERGENCY_LATE"
    assert service.get(HENGYANG, again.filing_id).state is FilingState.DRAFT


def test_every_read_and_change_is_in_the_audit_chain(
    container: Container, service: FilingService
) -> None:
    filing_id = _approved(service)
    token = set_client_address("10.0.0.7")  # as the API's middleware sets it for a request
    try:
        service.get(HENGYANG, filing_id)
    finally:
        reset_client_address(token)
    actions = _audit_actions(container)
    subject = f"filing:{filing_id}"
    mine = [a for a in actions if a[2] == subject]
    assert [a[0] for a in mine] == [
        "filing.create",
        "filing.submit",
        "filing.approve",
        "filing.read",
    ]
    with container.uow() as uow:
        last = list(uow.audit.walk())[-1].entry
    assert last.address == "10.0.0.7" and last.region_code == "430400"
    assert PERSON_ID not in str(actions)


def test_out_of_region_agency_gets_the_same_not_found_as_for_a_missing_filing(
    service: FilingService,
) -> None:
    filing_id = _approved(service)
    with pytest.raises(NotFound) as foreign:
        service.get(ZHENGZHOU, filing_id)
    with pytest.raises(NotFound) as missing:
        service.get(ZHENGZHOU, "0" * 32)
    assert foreign.value.as_dict() == missing.value.as_dict()
    number = service.get(HENGYANG, filing_id).record.filing_number
    assert number is not None
    with pytest.raises(NotFound):
        service.approve(ZHENGZHOU, number)
    with pytest.raises(NotFound):
        service.get(HENAN, filing_id)  # Henan province does not see Hunan's filings
    assert service.get(HUNAN, number).filing_id == filing_id


def test_agency_cannot_create_for_another_region_and_a_person_only_for_self(
    service: FilingService,
) -> None:
    with pytest.raises(Forbidden):
        service.create_draft(ZHENGZHOU, record())
    with pytest.raises(Forbidden):
        service.create_draft(STRANGER, record())
    with pytest.raises(Forbidden):
        service.create_draft(CASHIER, record())
    with pytest.raises(Unauthenticated):
        service.create_draft(Principal.anonymous(), record())


def test_lists_are_masked_and_scoped_per_role(service: FilingService) -> None:
    _approved(service)
    theirs = service.create_draft(ZHENGZHOU, zhengzhou_record())
    page = service.search(HENGYANG)
    assert page.total == 1
    item = page.items[0]
    assert item.id_number_masked == PERSON_ID[:6] + "********" + PERSON_ID[14:]
    assert item.mobile_masked == "138****1234"
    assert item.phone_masked is not None and "8867038" not in item.phone_masked
    assert service.search(ZHENGZHOU).total == 1
    assert service.search(ZHENGZHOU, region="430400").total == 0
    assert service.search(HENAN).total == 1
    assert service.search(PERSON).total == 1
    assert [i.filing_id for i in service.search(STRANGER).items] == [theirs.filing_id]
    with pytest.raises(Forbidden):
        service.search(CASHIER)
    with pytest.raises(Unauthenticated):
        service.search(Principal.anonymous())
    assert service.search(HENGYANG, id_number=PERSON_ID).total == 1
    assert service.search(HENGYANG, name="谢某某", state=FilingState.APPROVED).total == 1
    assert service.search(HENGYANG, category=FilingCategory.EMERGENCY).total == 0


def test_a_second_live_filing_of_the_same_category_is_refused(service: FilingService) -> None:
    service.create_draft(HENGYANG, record())
    with pytest.raises(Conflict) as caught:
        service.create_draft(PERSON, record())
    assert caught.value.code == "FILING_DUPLICATE"


def test_hospital_admission_check_finds_the_valid_filing_only(service: FilingService) -> None:
    filing_id = _approved(service)
    today = dt.date(2026, 11, 21)
    found = service.find_valid_filing(PERSON_ID, "450923", BOBAI_HOSPITAL, today, principal=CASHIER)
    assert found is not None and found.lineage_id == filing_id
    assert service.find_valid_filing(PERSON_ID, "430421", BOBAI_HOSPITAL, today) is None
    with pytest.raises(Forbidden):
        service.find_valid_filing(PERSON_ID, "450923", None, today, principal=HENGYANG)


def test_expiry_marks_filings_past_their_validity(
    container: Container, service: FilingService
) -> None:
    filing_id = _approved(
        service, person_type=PersonType.EMPLOYEE_RETIRED, category=FilingCategory.RETIREE_RESETTLED
    )
    draft = service.create_draft(
        HENGYANG,
        record(category=FilingCategory.LONG_TERM_RESIDENT),
    )
    assert service.expire_due() == []
    # Open-ended filings never expire; give one an end date through a change.
    service.change(HENGYANG, filing_id, record(), valid_until=dt.date(2026, 11, 30), reason="定期")
    clock = container.clock
    assert isinstance(clock, FixedClock)
    clock.set(dt.datetime(2026, 12, 1, 8, tzinfo=CHINA_TZ))
    assert service.expire_due() == [filing_id]
    assert service.get(HENGYANG, filing_id).state is FilingState.EXPIRED
    assert service.get(HENGYANG, draft.filing_id).state is FilingState.DRAFT


def test_follow_up_lists_find_missing_cards_and_cross_prefecture_duplicates(
    service: FilingService,
) -> None:
    _approved(service, has_second_generation_card=None)
    # The same person also filed by Zhengzhou: a conflict to report, not to merge.
    service.create_draft(
        ZHENGZHOU,
        zhengzhou_record(social_security_number=PERSON_ID, name="谢某某", gender=record().gender),
    )
    cards = service.without_second_generation_card(HUNAN)
    assert len(cards) == 1 and cards[0].social_security_number.count("*") == 8
    conflicts = service.duplicates(HENAN)
    assert len(conflicts) == 1
    assert {f[1] for f in conflicts[0].filings} == {"430421", "410102"}
    assert PERSON_ID not in conflicts[0].id_number_masked
    assert service.duplicates(HUNAN) == conflicts
    assert service.incomplete(HUNAN) == []


def test_an_internal_id_that_happens_to_begin_with_ba_is_not_mistaken_for_a_filing_number(
    service: FilingService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression: uuid4 hex ids start with "ba" one time in 256; such filings were reported missing."""
    import uuid

    from yidi.filing import commands as filings_module

    counter = iter(range(1, 1000))
    monkeypatch.setattr(
        filings_module.uuid, "uuid4", lambda: uuid.UUID(int=(0xBA << 120) + next(counter))
    )
    filing_id = _approved(service)
    assert filing_id.startswith("ba")
    assert service.get(HENGYANG, filing_id).state is FilingState.APPROVED
