"""The change request (变更申请) state machine and its field comparison, without storage."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from filing_helpers import CLERK, PERSON, REGIONS, at, evidence_for, valid_record
from hypothesis import given
from hypothesis import strategies as st

from yidi.filing.model import change_requests as requests
from yidi.filing.model.change_requests import ChangeRequestState, compare_records
from yidi.filing.model.evidence import Evidence, EvidenceKind
from yidi.filing.model.lifecycle import (
    Filing,
    FilingState,
    approve,
    cancel,
    change,
    create_draft,
    submit,
)
from yidi.filing.model.record import RegistrationType
from yidi.filing.model.rules import DEFAULT_FILING_RULES, EvidenceRequirement
from yidi.kernel.errors import Conflict, InvalidInput, Refused
from yidi.kernel.insurance import FilingCategory

NUMBER = "BA430421-2024-000001"
ASKED_AT = at(2024, 11, 1)


def approved_filing() -> Filing:
    category = FilingCategory.RETIREE_RESETTLED
    draft = create_draft(
        "v1", valid_record(), PERSON, at(2024, 9, 2), evidence=evidence_for(category)
    )
    filing = submit(draft, PERSON, at(2024, 9, 2, 11), REGIONS)
    return approve(
        filing,
        CLERK,
        at(2024, 10, 10),
        REGIONS,
        filing_number=NUMBER,
        handling_agency="衡阳县医保中心",
    )


def asked(filing: Filing | None = None, **changes: object) -> requests.ChangeRequest:
    return requests.request_change(
        "r-1",
        filing or approved_filing(),
        valid_record(**({"mobile": "13907349999"} | changes)),
        "换了手机号码",
        PERSON,
        ASKED_AT,
        REGIONS,
    )


def test_a_request_is_pending_and_carries_the_record_as_version_two() -> None:
    request = asked()
    assert request.state is ChangeRequestState.PENDING
    assert request.base_version_id == "v1" and request.filing_id == "v1"
    assert request.record.version == 2
    assert request.record.registration_type is RegistrationType.CHANGE
    assert request.record.filing_number == NUMBER


def test_approval_makes_version_two_with_the_same_number_and_supersedes_the_old() -> None:
    filing = approved_filing()
    decided, old, new = requests.approve(
        asked(filing),
        filing,
        CLERK,
        at(2024, 11, 5),
        REGIONS,
        new_filing_id="v2",
        handling_agency="衡阳县医保中心",
    )
    assert decided.state is ChangeRequestState.APPROVED and decided.result_version_id == "v2"
    assert old.state is FilingState.SUPERSEDED and old.superseded_by == "v2"
    assert new.state is FilingState.APPROVED and new.supersedes == "v1"
    assert new.record.version == 2 and new.record.filing_number == NUMBER
    assert new.record.mobile == "13907349999" and new.record.handled_on == date(2024, 11, 5)
    assert new.lineage_id == filing.lineage_id and new.evidence == filing.evidence


def test_a_refused_change_raises_and_the_request_value_stays_pending() -> None:
    filing = approved_filing()
    request = asked(filing)
    rule = DEFAULT_FILING_RULES[FilingCategory.RETIREE_RESETTLED]
    stricter = {
        **DEFAULT_FILING_RULES,
        FilingCategory.RETIREE_RESETTLED: dataclasses.replace(
            rule, evidence=(*rule.evidence, EvidenceRequirement((EvidenceKind.DELEGATION_LETTER,)))
        ),
    }
    with pytest.raises(Refused) as caught:
        requests.approve(
            request,
            filing,
            CLERK,
            at(2024, 11, 5),
            REGIONS,
            new_filing_id="v2",
            handling_agency="x",
            rules=stricter,
        )
    assert caught.value.code == "FILING_EVIDENCE_MISSING"
    assert request.state is ChangeRequestState.PENDING


def test_a_cancelled_filing_cannot_be_changed_through_its_request() -> None:
    filing = approved_filing()
    request = asked(filing)
    cancelled = cancel(filing, CLERK, at(2024, 11, 2), "回参保地居住")
    with pytest.raises(Conflict) as caught:
        requests.approve(
            request,
            cancelled,
            CLERK,
            at(2024, 11, 5),
            REGIONS,
            new_filing_id="v2",
            handling_agency="x",
        )
    assert caught.value.code == "FILING_STATE"


def test_a_filing_changed_at_the_counter_since_the_request_is_outdated() -> None:
    filing = approved_filing()
    request = asked(filing)
    _, newer = change(
        filing,
        CLERK,
        at(2024, 11, 2),
        REGIONS,
        new_filing_id="v2",
        record=valid_record(phone="0775-8220000"),
    )
    with pytest.raises(Conflict) as caught:
        requests.approve(
            request, newer, CLERK, at(2024, 11, 5), REGIONS, new_filing_id="v3", handling_agency="x"
        )
    assert caught.value.code == "CHANGE_REQUEST_OUTDATED"


def test_withdraw_and_reject_end_a_pending_request_once() -> None:
    withdrawn = requests.withdraw(asked(), PERSON, at(2024, 11, 2))
    assert withdrawn.state is ChangeRequestState.WITHDRAWN and withdrawn.decided_by == PERSON.id
    with pytest.raises(Conflict) as caught:
        requests.reject(withdrawn, CLERK, at(2024, 11, 3), "迟了")
    assert caught.value.code == "CHANGE_REQUEST_STATE" and "已撤回" in caught.value.message
    with pytest.raises(InvalidInput) as empty:
        requests.reject(asked(), CLERK, at(2024, 11, 3), " ")
    assert empty.value.field == "reason"
    rejected = requests.reject(asked(), CLERK, at(2024, 11, 3), "号码未实名")
    assert rejected.decision_reason == "号码未实名"


def test_the_person_and_the_insured_region_cannot_change() -> None:
    with pytest.raises(InvalidInput) as region:
        asked(insured_region_code="430400")
    assert region.value.code == "FILING_CHANGE_REGION"
    with pytest.raises(Refused) as person:
        asked(social_security_number="11010519491231002X")
    assert person.value.code == "FILING_CHANGE_PERSON"


def test_only_an_approved_filing_with_a_number_can_be_asked_about() -> None:
    draft = create_draft("v1", valid_record(), PERSON, at(2024, 9, 2))
    with pytest.raises(Conflict) as caught:
        asked(draft)
    assert caught.value.code == "CHANGE_REQUEST_FILING_STATE"


def test_a_new_category_needs_its_documents_with_the_request() -> None:
    filing = approved_filing()
    with pytest.raises(Refused) as caught:
        asked(filing, category=FilingCategory.LONG_TERM_RESIDENT)
    assert caught.value.code == "FILING_EVIDENCE_MISSING" and "居住证" in caught.value.message
    permit = Evidence(
        EvidenceKind.RESIDENCE_PERMIT,
        "居-1",
        "博白县公安局",
        date(2024, 3, 1),
        issuer_region_code="450923",
    )
    request = requests.request_change(
        "r-1",
        filing,
        valid_record(category=FilingCategory.LONG_TERM_RESIDENT),
        "改为长期居住",
        PERSON,
        ASKED_AT,
        REGIONS,
        evidence=[permit],
    )
    assert request.evidence == (permit,)


def test_a_request_that_changes_nothing_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        asked(mobile="13807341234")
    assert caught.value.code == "CHANGE_REQUEST_NOTHING_CHANGED"


def test_the_comparison_labels_fields_in_chinese_and_marks_only_what_changed() -> None:
    old = valid_record()
    new = valid_record(mobile="13907349999", has_second_generation_card=False)
    changed = [(c.label_zh, c.old, c.new) for c in compare_records(old, new) if c.changed]
    assert changed == [("是否持二代社会保障卡", "是", "否"), ("手机", "13807341234", "13907349999")]
    institutions = next(
        c for c in compare_records(old, new) if c.field == "designated_institutions"
    )
    assert institutions.old == "博白县人民医院（二级医院）" and not institutions.changed
    signed = next(c for c in compare_records(old, new) if c.field == "signed_by")
    assert signed.old == "本人"


@given(st.text(alphabet="0123456789", min_size=11, max_size=11), st.text(min_size=1, max_size=40))
def test_a_record_compared_with_itself_has_no_change(mobile: str, address: str) -> None:
    record = valid_record(mobile=mobile, contact_address=address)
    assert not any(c.changed for c in compare_records(record, record))
    other = dataclasses.replace(record, contact_address=address + "号")
    assert [c.field for c in compare_records(record, other) if c.changed] == ["contact_address"]
