"""双向享受 on both sides of the 2022 rules' first day: a long-term filing closes care at the
insured place under the 2017 rules, leaves it open under the 2022 rules (not while promised
documents are outstanding); temporary filings never close it."""

from __future__ import annotations

from datetime import date

from filing_helpers import CLERK, PERSON, REGIONS, at, evidence_for, record_for

from yidi.filing.model.lifecycle import (
    Filing,
    approve,
    create_draft,
    filing_closing_insured_place,
    submit,
)
from yidi.filing.model.record import FilingRecord
from yidi.kernel.insurance import FilingCategory as C

NUMBER = "BA430421-2022-000011"


def _approved(record: FilingRecord, evidence: tuple = (), day: date = date(2022, 7, 1)) -> Filing:  # type: ignore[type-arg]
    draft = create_draft(
        "f-bw", record, PERSON, at(day.year, day.month, day.day), evidence=evidence
    )
    sent = submit(draft, PERSON, at(day.year, day.month, day.day, 11), REGIONS)
    return approve(
        sent,
        CLERK,
        at(day.year, day.month, day.day, 15),
        REGIONS,
        filing_number=NUMBER,
        handling_agency="衡阳县医保中心",
    )


def test_a_long_term_filing_closes_home_care_until_the_2022_rules() -> None:
    filing = _approved(
        record_for(C.RETIREE_RESETTLED, filled_on=date(2022, 7, 1)),
        evidence_for(C.RETIREE_RESETTLED),
    )
    assert filing_closing_insured_place([filing], date(2022, 7, 31)) is filing
    assert filing_closing_insured_place([filing], date(2022, 8, 1)) is None


def test_a_temporary_filing_never_closes_home_care() -> None:
    filing = _approved(record_for(C.REFERRAL, filled_on=date(2022, 7, 1)), evidence_for(C.REFERRAL))
    assert filing_closing_insured_place([filing], date(2022, 7, 31)) is None


def test_outstanding_promised_documents_close_home_care_under_the_2022_rules() -> None:
    day = date(2024, 10, 10)
    promised = _approved(
        record_for(C.LONG_TERM_RESIDENT, promise_signed=True, filled_on=day), day=day
    )
    assert promised.record.promise_outstanding
    assert filing_closing_insured_place([promised], day) is promised
    with_proof = _approved(
        record_for(C.LONG_TERM_RESIDENT, promise_signed=True, filled_on=day),
        evidence_for(C.LONG_TERM_RESIDENT),
        day=day,
    )
    assert filing_closing_insured_place([with_proof], day) is None


def test_a_filing_outside_its_validity_closes_nothing() -> None:
    filing = _approved(
        record_for(C.RETIREE_RESETTLED, filled_on=date(2022, 7, 1)),
        evidence_for(C.RETIREE_RESETTLED),
    )
    assert filing_closing_insured_place([filing], date(2022, 6, 30)) is None
