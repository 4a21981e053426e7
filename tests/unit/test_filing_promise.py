"""2022 model in the filing lifecycle: 承诺制, the lapse to 其他临时外出, false promises,
validity floors and lock periods — each beside its 2017-dated counterpart."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest
from filing_helpers import CLERK, PERSON, REGIONS, admission_notice, at, evidence_for, record_for

from yidi.filing.model.lifecycle import (
    Filing,
    FilingAction,
    FilingState,
    approve,
    cancel,
    change,
    check_submitted_record,
    create_draft,
    is_promise_overdue,
    lapse_promise,
    record_false_promise,
    submit,
    supply_documents,
)
from yidi.filing.model.record import FilingRecord, PromiseStanding, RegistrationType
from yidi.kernel.errors import Conflict, InvalidInput, Refused
from yidi.kernel.insurance import FilingCategory as C

NUMBER = "BA430421-2024-000007"


def _approve(record: FilingRecord, evidence: tuple = (), day: date = date(2024, 10, 10), **kw):  # type: ignore[no-untyped-def]
    filed = record.filled_on or day
    draft = create_draft(
        "f-1", record, PERSON, at(filed.year, filed.month, filed.day), evidence=evidence
    )
    sent = submit(draft, PERSON, at(filed.year, filed.month, filed.day, 11), REGIONS, **kw)
    return approve(
        sent,
        CLERK,
        at(day.year, day.month, day.day),
        REGIONS,
        filing_number=NUMBER,
        handling_agency="衡阳县医保中心",
        **kw,
    )


def promised(category: C = C.RETIREE_RESETTLED) -> Filing:
    return _approve(record_for(category, promise_signed=True))


def test_promise_replaces_proof_and_sets_documents_due_day() -> None:
    filing = promised()
    assert filing.state is FilingState.APPROVED and filing.evidence == ()
    # national default 180 days (illustrative, region parameter)
    assert filing.record.promise_documents_due_on == date(2024, 10, 10) + timedelta(days=180)
    assert filing.record.promise_outstanding


def test_region_sets_its_own_promise_deadline() -> None:
    filing = _approve(
        record_for(C.RETIREE_RESETTLED, promise_signed=True),
        region_filing={"promise_documents_due_days": 30},
    )
    assert filing.record.promise_documents_due_on == date(2024, 11, 9)


def test_promise_with_proof_leaves_nothing_outstanding() -> None:
    filing = _approve(
        record_for(C.RETIREE_RESETTLED, promise_signed=True), evidence_for(C.RETIREE_RESETTLED)
    )
    assert filing.record.promise_documents_due_on is None
    assert not filing.record.promise_outstanding


def test_promise_refused_for_2017_dates() -> None:
    record = record_for(C.RETIREE_RESETTLED, promise_signed=True, filled_on=date(2022, 7, 20))
    draft = create_draft("f-1", record, PERSON, at(2022, 7, 20))
    with pytest.raises(Refused) as caught:
        submit(draft, PERSON, at(2022, 7, 20, 11), REGIONS)
    assert caught.value.code == "FILING_PROMISE_NOT_ALLOWED"
    assert "承诺书" in caught.value.message


def test_promise_refused_for_temporary_types() -> None:
    record = record_for(C.REFERRAL, promise_signed=True)
    draft = create_draft("f-1", record, PERSON, at(2024, 9, 2))
    with pytest.raises(Refused) as caught:
        submit(draft, PERSON, at(2024, 9, 2, 11), REGIONS)
    assert caught.value.code == "FILING_PROMISE_NOT_ALLOWED"


def test_other_temporary_exists_only_from_2022() -> None:
    old = record_for(C.OTHER_TEMPORARY, filled_on=date(2022, 7, 20))
    with pytest.raises(Refused) as caught:
        submit(
            create_draft("f-1", old, PERSON, at(2022, 7, 20)), PERSON, at(2022, 7, 20, 11), REGIONS
        )
    assert caught.value.code == "FILING_TYPE_NOT_IN_FORCE"
    filing = _approve(record_for(C.OTHER_TEMPORARY))
    # no proof needed; valid 6 months from approval
    assert filing.record.valid_from == date(2024, 10, 10)
    assert filing.record.valid_until == date(2025, 4, 9)


def test_supplied_documents_fulfil_the_promise() -> None:
    filing = supply_documents(
        promised(), CLERK, at(2024, 12, 1), REGIONS, evidence_for(C.RETIREE_RESETTLED)
    )
    assert filing.record.promise_documents_supplied_on == date(2024, 12, 1)
    assert not filing.record.promise_outstanding
    assert filing.events[-1].action is FilingAction.SUPPLY
    assert filing.state is FilingState.APPROVED
    assert not is_promise_overdue(filing, date(2026, 1, 1))


def test_supplying_the_wrong_document_is_refused_and_changes_nothing() -> None:
    filing = promised()
    with pytest.raises(Refused) as caught:
        supply_documents(filing, CLERK, at(2024, 12, 1), REGIONS, evidence_for(C.POSTED_WORKER))
    assert caught.value.code == "FILING_EVIDENCE_MISSING"


def test_unfulfilled_promise_lapses_to_other_temporary_after_the_deadline() -> None:
    filing = promised()
    due = filing.record.promise_documents_due_on
    assert due is not None
    assert not is_promise_overdue(filing, due)
    with pytest.raises(Conflict) as early:
        lapse_promise(filing, at(due.year, due.month, due.day), new_filing_id="f-2")
    assert early.value.code == "FILING_PROMISE_NOT_DUE"
    day = due + timedelta(days=1)
    assert is_promise_overdue(filing, day)
    old, new = lapse_promise(filing, at(day.year, day.month, day.day), new_filing_id="f-2")
    assert old.state is FilingState.SUPERSEDED and old.superseded_by == "f-2"
    assert old.events[-1].action is FilingAction.LAPSE and "其他临时外出就医人员" in (
        old.events[-1].reason or ""
    )
    assert new.state is FilingState.APPROVED and new.supersedes == old.filing_id
    assert new.record.category is C.OTHER_TEMPORARY
    assert new.record.promise_lapsed_from is C.RETIREE_RESETTLED
    assert new.record.registration_type is RegistrationType.CHANGE
    assert new.record.version == old.record.version + 1
    assert new.record.filing_number == NUMBER
    assert new.record.valid_from == day and new.record.valid_until == date(2025, 10, 8)


def test_false_promise_cancels_and_records_recovery() -> None:
    filing = record_false_promise(promised(), CLERK, at(2024, 11, 1), "居住证系伪造")
    assert filing.state is FilingState.CANCELLED
    assert filing.record.fund_recovery_required and filing.record.false_promise_on == date(
        2024, 11, 1
    )
    assert "追回" in (filing.state_reason or "")
    with pytest.raises(InvalidInput) as no_reason:
        record_false_promise(promised(), CLERK, at(2024, 11, 1), " ")
    assert no_reason.value.code == "FILING_REASON_REQUIRED"


def test_false_promise_needs_a_promise() -> None:
    filing = _approve(record_for(C.RETIREE_RESETTLED), evidence_for(C.RETIREE_RESETTLED))
    with pytest.raises(Conflict) as caught:
        record_false_promise(filing, CLERK, at(2024, 11, 1), "x")
    assert caught.value.code == "FILING_NO_PROMISE"


def test_long_term_lock_is_a_region_parameter() -> None:
    lock = {"long_term_cancel_lock_months": 6}
    filing = _approve(
        record_for(C.RETIREE_RESETTLED), evidence_for(C.RETIREE_RESETTLED), region_filing=lock
    )
    with pytest.raises(Refused) as caught:
        cancel(filing, PERSON, at(2025, 4, 9), "回原籍", region_filing=lock)
    assert caught.value.code == "FILING_LOCKED"
    assert caught.value.details["locked_until"] == "2025-04-10"
    with pytest.raises(Refused):
        change(
            filing,
            CLERK,
            at(2025, 1, 1),
            REGIONS,
            new_filing_id="f-2",
            record=dataclasses.replace(filing.record, contact_address="新址"),
            region_filing=lock,
        )
    assert cancel(filing, PERSON, at(2025, 4, 10), "回原籍", region_filing=lock).state is (
        FilingState.CANCELLED
    )
    # without the region's lock (national default: none) cancellation is immediate
    assert cancel(filing, PERSON, at(2024, 10, 11), "回原籍").state is FilingState.CANCELLED


def test_temporary_filings_cancellable_at_any_time_even_with_a_lock() -> None:
    lock = {"long_term_cancel_lock_months": 6}
    filing = _approve(record_for(C.OTHER_TEMPORARY), region_filing=lock)
    assert cancel(filing, PERSON, at(2024, 10, 11), "不去了", region_filing=lock).state is (
        FilingState.CANCELLED
    )


def test_no_lock_for_2017_era_filings() -> None:
    lock = {"long_term_cancel_lock_months": 6}
    record = record_for(C.RETIREE_RESETTLED)
    filing = _approve(record, evidence_for(C.RETIREE_RESETTLED), day=date(2024, 10, 10))
    old = dataclasses.replace(
        filing, record=dataclasses.replace(filing.record, handled_on=date(2021, 3, 1))
    )
    assert cancel(old, PERSON, at(2021, 3, 2), "x", region_filing=lock).state is (
        FilingState.CANCELLED
    )


def test_region_lengthens_temporary_validity() -> None:
    filing = _approve(
        record_for(C.OTHER_TEMPORARY), region_filing={"temporary_validity_months": 12}
    )
    assert filing.record.valid_until == date(2025, 10, 9)


def test_emergency_validity_2017_local_90_days_vs_2022_six_months() -> None:
    day = date(2021, 9, 30)
    record = record_for(C.EMERGENCY, admitted_on=day, filled_on=day)
    old = _approve(record, (admission_notice(day),), day=date(2021, 10, 8))
    assert (old.record.valid_from, old.record.valid_until) == (day, date(2021, 12, 28))
    new = _approve(record_for(C.EMERGENCY), evidence_for(C.EMERGENCY))
    assert new.record.valid_until == date(2025, 3, 29)


def test_promise_standing_follows_the_promise_from_due_to_overdue_supplied_and_lapsed() -> None:
    filing = promised()
    due = filing.record.promise_documents_due_on
    assert due is not None
    assert filing.record.promise_standing(due) is PromiseStanding.DUE
    assert filing.record.promise_standing(due + timedelta(days=1)) is PromiseStanding.OVERDUE
    supplied = supply_documents(
        filing, CLERK, at(2024, 12, 1), REGIONS, evidence_for(C.RETIREE_RESETTLED)
    )
    assert supplied.record.promise_standing(due + timedelta(days=1)) is PromiseStanding.SUPPLIED
    after = due + timedelta(days=1)
    _, lapsed = lapse_promise(filing, at(after.year, after.month, after.day), new_filing_id="f-9")
    assert lapsed.record.promise_standing(due) is PromiseStanding.LAPSED
    assert record_for(C.RETIREE_RESETTLED).promise_standing(due) is None


def test_the_submission_check_of_a_record_refuses_what_submit_refuses() -> None:
    """A form asks it before storing anything: the same refusal as the submit itself."""
    wrong = record_for(C.OTHER_TEMPORARY, promise_signed=True)
    with pytest.raises(Refused) as checked:
        check_submitted_record(wrong, REGIONS, date(2024, 10, 10))
    draft = create_draft("f-2", wrong, PERSON, at(2024, 10, 10))
    with pytest.raises(Refused) as submitted:
        submit(draft, PERSON, at(2024, 10, 10, 11), REGIONS)
    assert checked.value.code == submitted.value.code == "FILING_PROMISE_NOT_ALLOWED"
    future = record_for(C.RETIREE_RESETTLED, late_care_from=date(2024, 10, 12))
    with pytest.raises(InvalidInput) as late:
        check_submitted_record(future, REGIONS, date(2024, 10, 10))
    assert late.value.code == "FILING_LATE_CARE_FUTURE" and late.value.field == "late_care_from"
    check_submitted_record(record_for(C.RETIREE_RESETTLED), REGIONS, date(2024, 10, 10))
