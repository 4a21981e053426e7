from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from filing_helpers import CLERK, PERSON, REGIONS, at, evidence_for, record_for, valid_record

from yidi.filing.model.evidence import Evidence, EvidenceKind
from yidi.filing.model.lifecycle import (
    Filing,
    FilingAction,
    FilingState,
    approve,
    cancel,
    change,
    create_draft,
    expire_due,
    reject,
    revise,
    submit,
)
from yidi.filing.model.record import FilingRecord, RegistrationType
from yidi.kernel.errors import Conflict, InvalidInput, Refused, ValidationFailed
from yidi.kernel.insurance import FilingCategory, HospitalLevel

NUMBER = "BA430421-2024-000007"


def submitted(
    record: FilingRecord, evidence: tuple[Evidence, ...] = (), when: date = date(2024, 9, 2)
) -> Filing:
    draft = create_draft(
        "f-1", record, PERSON, at(when.year, when.month, when.day), evidence=evidence
    )
    return submit(draft, PERSON, at(when.year, when.month, when.day, 11), REGIONS)


def approved(category: FilingCategory = FilingCategory.RETIREE_RESETTLED) -> Filing:
    record = record_for(category)
    filing = submitted(record, evidence_for(category), record.filled_on or date(2024, 9, 2))
    return approve(
        filing,
        CLERK,
        at(2024, 10, 10),
        REGIONS,
        filing_number=NUMBER,
        handling_agency="衡阳县医保中心",
    )


def test_draft_submit_approve_records_every_step() -> None:
    filing = approved()
    assert filing.state is FilingState.APPROVED
    assert [(e.action, e.from_state, e.to_state) for e in filing.events] == [
        (FilingAction.CREATE, None, FilingState.DRAFT),
        (FilingAction.SUBMIT, FilingState.DRAFT, FilingState.SUBMITTED),
        (FilingAction.APPROVE, FilingState.SUBMITTED, FilingState.APPROVED),
    ]
    assert (
        filing.events[-1].actor_id == "clerk-1" and filing.events[-1].actor_role == "agency_clerk"
    )
    record = filing.record
    assert record.filing_number == NUMBER
    assert (record.handling_agency, record.handler, record.handled_on) == (
        "衡阳县医保中心",
        "张经办",
        date(2024, 10, 10),
    )
    # resettlement filings are open-ended in the default rules
    assert (record.valid_from, record.valid_until) == (date(2024, 10, 10), None)


def test_drafts_may_be_incomplete_but_cannot_be_submitted_so() -> None:
    draft = create_draft("f-1", FilingRecord(name="谢某某"), PERSON, at(2024, 9, 2))
    with pytest.raises(ValidationFailed) as caught:
        submit(draft, PERSON, at(2024, 9, 2), REGIONS)
    assert len(caught.value.errors) > 5


def test_approval_refuses_missing_evidence_naming_it_in_chinese() -> None:
    filing = submitted(valid_record())
    with pytest.raises(Refused) as caught:
        approve(
            filing,
            CLERK,
            at(2024, 9, 3),
            REGIONS,
            filing_number=NUMBER,
            handling_agency="衡阳县医保中心",
        )
    assert caught.value.code == "FILING_EVIDENCE_MISSING"
    assert "安置地户口" in caught.value.message


def test_filing_number_must_belong_to_the_agency_region() -> None:
    filing = submitted(valid_record(), evidence_for(FilingCategory.RETIREE_RESETTLED))
    with pytest.raises(InvalidInput) as caught:
        approve(
            filing,
            CLERK,
            at(2024, 9, 3),
            REGIONS,
            filing_number="BA430400-2024-000001",
            handling_agency="x",
        )
    assert caught.value.code == "FILING_NUMBER_REGION"


def test_rejection_needs_a_reason_and_can_be_resubmitted_after_revision() -> None:
    filing = submitted(valid_record())
    with pytest.raises(InvalidInput):
        reject(filing, CLERK, at(2024, 9, 3), "  ")
    rejected = reject(filing, CLERK, at(2024, 9, 3), "缺少安置地户口")
    assert rejected.state is FilingState.REJECTED and rejected.state_reason == "缺少安置地户口"
    revised = revise(
        rejected, PERSON, at(2024, 9, 4), evidence=evidence_for(FilingCategory.RETIREE_RESETTLED)
    )
    again = submit(revised, PERSON, at(2024, 9, 4), REGIONS)
    done = approve(
        again,
        CLERK,
        at(2024, 9, 5),
        REGIONS,
        filing_number=NUMBER,
        handling_agency="衡阳县医保中心",
    )
    assert [e.to_state for e in done.events] == [
        FilingState.DRAFT,
        FilingState.SUBMITTED,
        FilingState.REJECTED,
        FilingState.REJECTED,
        FilingState.SUBMITTED,
        FilingState.APPROVED,
    ]
    assert done.events[2].reason == "缺少安置地户口"


def test_illegal_transition_raises_conflict_with_chinese_state_name() -> None:
    cancelled = cancel(approved(), CLERK, at(2024, 11, 1), "本人申请撤销")
    with pytest.raises(Conflict) as caught:
        approve(
            cancelled, CLERK, at(2024, 11, 2), REGIONS, filing_number=NUMBER, handling_agency="x"
        )
    assert caught.value.code == "FILING_STATE"
    assert caught.value.message == "备案当前状态为“已撤销”，不能审核"
    with pytest.raises(Conflict):
        revise(approved(), CLERK, at(2024, 11, 2))
    with pytest.raises(Conflict):
        reject(approved(), CLERK, at(2024, 11, 2), "x")


def test_cancellation_keeps_the_filing_and_its_history() -> None:
    filing = approved()
    cancelled = cancel(filing, CLERK, at(2024, 11, 1), "本人申请撤销")
    assert cancelled.state is FilingState.CANCELLED
    assert cancelled.record == filing.record
    assert cancelled.events[:-1] == filing.events
    assert cancelled.events[-1].reason == "本人申请撤销"


def test_change_creates_a_new_version_and_keeps_the_old_one() -> None:
    old = approved()
    new_address = dataclasses.replace(old.record, contact_address="广西博白县新址3号")
    superseded, current = change(
        old,
        CLERK,
        at(2025, 3, 1),
        REGIONS,
        new_filing_id="f-2",
        record=new_address,
        reason="现住址变更",
    )
    assert superseded.state is FilingState.SUPERSEDED and superseded.superseded_by == "f-2"
    assert superseded.record == old.record and superseded.events[:-1] == old.events
    assert current.state is FilingState.APPROVED
    assert current.supersedes == "f-1" and current.lineage_id == old.lineage_id
    assert current.record.version == 2
    assert current.record.registration_type is RegistrationType.CHANGE
    assert current.record.filing_number == NUMBER
    assert current.record.contact_address == "广西博白县新址3号"
    assert (
        current.events[0].action is FilingAction.CHANGE and current.events[0].reason == "现住址变更"
    )
    # a changed version can be changed again; the first one cannot
    _, third = change(
        current, CLERK, at(2025, 4, 1), REGIONS, new_filing_id="f-3", record=current.record
    )
    assert third.record.version == 3
    with pytest.raises(Conflict):
        change(superseded, CLERK, at(2025, 4, 1), REGIONS, new_filing_id="f-4", record=old.record)


def test_change_cannot_move_a_filing_to_another_person() -> None:
    old = approved()
    other = dataclasses.replace(old.record, social_security_number="110101199003074514")
    with pytest.raises(Refused) as caught:
        change(old, CLERK, at(2025, 3, 1), REGIONS, new_filing_id="f-2", record=other)
    assert caught.value.code == "FILING_CHANGE_PERSON"


def test_change_is_validated_like_a_new_filing() -> None:
    old = approved()
    with pytest.raises(ValidationFailed):
        change(
            old,
            CLERK,
            at(2025, 3, 1),
            REGIONS,
            new_filing_id="f-2",
            record=dataclasses.replace(old.record, mobile="12"),
        )


def test_expire_due_expires_only_approved_filings_past_their_validity() -> None:
    long_term = approved(FilingCategory.LONG_TERM_RESIDENT)
    assert long_term.record.valid_until == date(2025, 10, 9)  # one year from 2024-10-10, inclusive
    open_ended = approved(FilingCategory.RETIREE_RESETTLED)
    draft = create_draft("f-9", valid_record(), PERSON, at(2024, 9, 1))
    assert expire_due([long_term, open_ended, draft], at(2025, 10, 9)) == []
    (expired,) = expire_due([long_term, open_ended, draft], at(2025, 10, 10))
    assert expired.state is FilingState.EXPIRED
    assert expired.events[-1].actor_role == "system"
    assert expired.events[-1].from_state is FilingState.APPROVED


def test_explicit_validity_overrides_the_default() -> None:
    filing = submitted(valid_record(), evidence_for(FilingCategory.RETIREE_RESETTLED))
    done = approve(
        filing,
        CLERK,
        at(2024, 9, 3),
        REGIONS,
        filing_number=NUMBER,
        handling_agency="x",
        valid_from=date(2024, 9, 1),
        valid_until=date(2026, 8, 31),
    )
    assert (done.record.valid_from, done.record.valid_until) == (
        date(2024, 9, 1),
        date(2026, 8, 31),
    )
    with pytest.raises(InvalidInput):
        approve(
            filing,
            CLERK,
            at(2024, 9, 3),
            REGIONS,
            filing_number=NUMBER,
            handling_agency="x",
            valid_from=date(2024, 9, 1),
            valid_until=date(2024, 8, 31),
        )


# --- emergency deadline: 3 working days on the real holiday calendar -------------------------


def emergency(admitted_on: date, filled_on: date) -> FilingRecord:
    return record_for(FilingCategory.EMERGENCY, admitted_on=admitted_on, filled_on=filled_on)


def test_emergency_deadline_skips_national_day_week() -> None:
    # 2024: 10月1日至7日放假调休，9月29日（周日）、10月12日（周六）上班.
    # Admitted Monday 30 September: the three working days are 8, 9 and 10 October.
    admitted = date(2024, 9, 30)
    on_time = submitted(emergency(admitted, date(2024, 10, 10)), when=date(2024, 10, 10))
    assert on_time.state is FilingState.SUBMITTED
    with pytest.raises(Refused) as caught:
        submitted(emergency(admitted, date(2024, 10, 11)), when=date(2024, 10, 11))
    assert caught.value.code == "FILING_EMERGENCY_LATE"
    assert "2024-10-10" in caught.value.message
    assert caught.value.details["deadline"] == "2024-10-10"


def test_emergency_deadline_counts_make_up_working_days_in_spring_festival() -> None:
    # 2024: 2月10日至17日放假调休，2月4日（周日）、2月18日（周日）上班.
    # Admitted Thursday 8 February: working days 9 Feb, 18 Feb (Sunday, make-up), 19 Feb.
    admitted = date(2024, 2, 8)
    assert (
        submitted(emergency(admitted, date(2024, 2, 19)), when=date(2024, 2, 19)).state
        is FilingState.SUBMITTED
    )
    with pytest.raises(Refused) as caught:
        submitted(emergency(admitted, date(2024, 2, 20)), when=date(2024, 2, 20))
    assert "2024-02-19" in caught.value.message


def test_approved_emergency_filing_is_valid_from_admission() -> None:
    filing = approved(FilingCategory.EMERGENCY)
    assert filing.record.valid_from == date(2024, 9, 30)
    # 2024 is under the 2022 model: temporary filings at least 6 months (the local table's
    # 90 days is shorter); the 2017-era 90 days: tests/unit/test_filing_promise.py
    assert filing.record.valid_until == date(2025, 3, 29)


# --- each category's evidence rule ------------------------------------------------------------


@pytest.mark.parametrize("category", list(FilingCategory))
def test_each_category_is_approved_with_its_evidence(category: FilingCategory) -> None:
    assert approved(category).state is FilingState.APPROVED


@pytest.mark.parametrize(
    "category", [c for c in FilingCategory if c is not FilingCategory.OTHER_TEMPORARY]
)
def test_each_category_is_refused_without_its_evidence(category: FilingCategory) -> None:
    record = record_for(category)
    filing = submitted(record, when=record.filled_on or date(2024, 9, 2))
    with pytest.raises(Refused) as caught:
        approve(filing, CLERK, at(2024, 10, 10), REGIONS, filing_number=NUMBER, handling_agency="x")
    assert caught.value.code == "FILING_EVIDENCE_MISSING"


def test_residence_permit_must_be_issued_at_the_destination() -> None:
    permit = Evidence(
        EvidenceKind.RESIDENCE_PERMIT,
        "居-1",
        "长沙市公安局",
        date(2024, 1, 1),
        issuer_region_code="430102",
    )
    filing = submitted(record_for(FilingCategory.LONG_TERM_RESIDENT), (permit,))
    with pytest.raises(Refused) as caught:
        approve(filing, CLERK, at(2024, 9, 3), REGIONS, filing_number=NUMBER, handling_agency="x")
    assert "居住证（须由就医地（安置地、居住地）出具）" in caught.value.message


def test_household_registration_elsewhere_does_not_prove_resettlement() -> None:
    hukou = dataclasses.replace(
        evidence_for(FilingCategory.RETIREE_RESETTLED)[0], issuer_region_code="430421"
    )
    filing = submitted(valid_record(), (hukou,))
    with pytest.raises(Refused):
        approve(filing, CLERK, at(2024, 9, 3), REGIONS, filing_number=NUMBER, handling_agency="x")


def test_referral_form_must_come_from_a_tertiary_or_top_specialist_hospital_of_the_insured_city() -> (
    None
):
    good = evidence_for(FilingCategory.REFERRAL)[0]
    record = record_for(FilingCategory.REFERRAL)
    secondary = dataclasses.replace(good, issuer_hospital_level=HospitalLevel.LEVEL_2)
    specialist = dataclasses.replace(
        good, issuer_hospital_level=HospitalLevel.LEVEL_2, issuer_is_top_specialist=True
    )
    elsewhere = dataclasses.replace(good, issuer_region_code="430102")  # a Changsha hospital
    for document, ok in ((good, True), (secondary, False), (specialist, True), (elsewhere, False)):
        filing = submitted(record, (document,))
        if ok:
            approve(
                filing, CLERK, at(2024, 9, 3), REGIONS, filing_number=NUMBER, handling_agency="x"
            )
        else:
            with pytest.raises(Refused):
                approve(
                    filing,
                    CLERK,
                    at(2024, 9, 3),
                    REGIONS,
                    filing_number=NUMBER,
                    handling_agency="x",
                )


def test_emergency_accepts_either_the_emergency_record_or_the_admission_notice() -> None:
    notice = evidence_for(FilingCategory.EMERGENCY)[0]
    record_document = dataclasses.replace(notice, kind=EvidenceKind.EMERGENCY_RECORD)
    record = record_for(FilingCategory.EMERGENCY)
    for document in (notice, record_document):
        filing = submitted(record, (document,), when=date(2024, 9, 30))
        approve(filing, CLERK, at(2024, 10, 8), REGIONS, filing_number=NUMBER, handling_agency="x")
