"""变更申请 through the services: the insured person asks, the insured-place agency decides."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from filing_support import (
    HENGYANG,
    HUNAN,
    PERSON,
    PERSON_ID,
    PNG_BYTES,
    STRANGER,
    ZHENGZHOU,
    household_registration,
    load_agencies,
    record,
)
from yidi.bootstrap import Container
from yidi.filing.change_requests import ChangeRequestService, EvidenceUpload
from yidi.filing.commands import FilingService
from yidi.filing.model.change_requests import ChangeRequestState
from yidi.filing.model.evidence import Evidence, EvidenceKind
from yidi.filing.model.lifecycle import FilingState
from yidi.filing.model.record import RegistrationType
from yidi.filing.model.rules import DEFAULT_FILING_RULES, EvidenceRequirement
from yidi.kernel.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    Refused,
    ValidationFailed,
)
from yidi.kernel.insurance import FilingCategory

NEW_MOBILE = "13907349999"


@pytest.fixture
def service(container: Container) -> ChangeRequestService:
    load_agencies(container.uow)
    return ChangeRequestService(container.uow, container.clock)


def _approved(service: FilingService) -> str:
    draft = service.create_draft(HENGYANG, record(), evidence=[household_registration()])
    service.submit(HENGYANG, draft.filing_id)
    return service.approve(HENGYANG, draft.filing_id).filing_id


def _asked(service: ChangeRequestService, filing_id: str, **changes: object) -> str:
    detail = service.request_change(
        PERSON, filing_id, record(mobile=NEW_MOBILE, **changes), "换了手机号码"
    )
    return detail.request.request_id


def _audit_actions(container: Container) -> list[str]:
    with container.uow() as uow:
        return [c.entry.action for c in uow.audit.walk()]


def test_approval_makes_version_two_with_the_same_number_and_supersedes_the_old(
    service: ChangeRequestService, container: Container
) -> None:
    filing_id = _approved(service)
    before = service.get(PERSON, filing_id)
    request_id = _asked(service, filing_id)
    pending = service.get_request(HENGYANG, request_id)
    assert [c.label_zh for c in pending.changed] == ["手机"]
    assert pending.changed[0].old == "13807341234" and pending.changed[0].new == NEW_MOBILE
    # Nothing changes on the filing until the agency decides.
    assert service.get(PERSON, filing_id).record.mobile == "13807341234"

    decided = service.approve_request(HENGYANG, request_id)

    assert decided.request.state is ChangeRequestState.APPROVED
    assert decided.request.decided_by == HENGYANG.user_id
    after = service.get(PERSON, filing_id)
    assert after.state is FilingState.APPROVED
    assert after.version_id == decided.request.result_version_id != before.version_id
    assert after.record.version == 2 and after.record.mobile == NEW_MOBILE
    assert after.record.filing_number == before.record.filing_number
    assert after.record.registration_type is RegistrationType.CHANGE
    assert [(v.version, v.state) for v in after.versions] == [
        (1, FilingState.SUPERSEDED),
        (2, FilingState.APPROVED),
    ]
    assert after.evidence == before.evidence  # the documents carry over
    actions = _audit_actions(container)
    for action in (
        "filing.change_request",
        "filing.change_request.read",
        "filing.change",
        "filing.change_request.approve",
    ):
        assert action in actions


def test_approving_again_returns_the_same_result_and_makes_no_third_version(
    service: ChangeRequestService,
) -> None:
    filing_id = _approved(service)
    request_id = _asked(service, filing_id)
    first = service.approve_request(HENGYANG, request_id)
    again = service.approve_request(HENGYANG, request_id)
    assert again.request == first.request
    assert [v.version for v in service.get(HENGYANG, filing_id).versions] == [1, 2]
    with pytest.raises(Conflict) as caught:
        service.reject_request(HENGYANG, request_id, "重复")
    assert caught.value.code == "CHANGE_REQUEST_STATE"


def test_a_change_refused_by_the_domain_leaves_the_request_pending_and_the_filing_unchanged(
    service: ChangeRequestService, container: Container
) -> None:
    filing_id = _approved(service)
    request_id = _asked(service, filing_id)
    # The rules were tightened between the request and the decision (a policy update).
    rule = DEFAULT_FILING_RULES[FilingCategory.RETIREE_RESETTLED]
    stricter = {
        **DEFAULT_FILING_RULES,
        FilingCategory.RETIREE_RESETTLED: dataclasses.replace(
            rule,
            evidence=(*rule.evidence, EvidenceRequirement((EvidenceKind.POSTING_CERTIFICATE,))),
        ),
    }
    strict = ChangeRequestService(container.uow, container.clock, rules=stricter)
    with pytest.raises(Refused) as caught:
        strict.approve_request(HENGYANG, request_id)
    assert caught.value.code == "FILING_EVIDENCE_MISSING"
    assert service.get_request(HENGYANG, request_id).request.state is ChangeRequestState.PENDING
    filing = service.get(HENGYANG, filing_id)
    assert [v.version for v in filing.versions] == [1]
    assert filing.record.mobile == "13807341234"
    assert "filing.change_request.approve" not in _audit_actions(container)


def test_a_cancelled_filing_cannot_be_changed_and_the_request_stays_pending(
    service: ChangeRequestService,
) -> None:
    filing_id = _approved(service)
    request_id = _asked(service, filing_id)
    service.cancel(HENGYANG, filing_id, "参保人员已回参保地居住")
    with pytest.raises(Conflict) as caught:
        service.approve_request(HENGYANG, request_id)
    assert caught.value.code == "FILING_STATE"
    assert service.get_request(PERSON, request_id).request.state is ChangeRequestState.PENDING
    rejected = service.reject_request(HENGYANG, request_id, "备案已撤销")
    assert rejected.request.state is ChangeRequestState.REJECTED


def test_only_one_pending_request_per_filing(service: ChangeRequestService) -> None:
    filing_id = _approved(service)
    first = _asked(service, filing_id)
    with pytest.raises(Conflict) as caught:
        service.request_change(PERSON, filing_id, record(phone="0775-8221000"), "换了座机")
    assert caught.value.code == "CHANGE_REQUEST_PENDING"
    assert "待审核的变更申请" in caught.value.message
    service.withdraw(PERSON, first)
    second = service.request_change(PERSON, filing_id, record(phone="0775-8221000"), "换了座机")
    assert second.request.state is ChangeRequestState.PENDING
    states = [s.state for s in service.for_filing(PERSON, filing_id)]
    assert sorted(s.value for s in states) == ["pending", "withdrawn"]


def test_the_person_withdraws_a_pending_request_and_a_retry_changes_nothing(
    service: ChangeRequestService, container: Container
) -> None:
    filing_id = _approved(service)
    request_id = _asked(service, filing_id)
    with pytest.raises(Forbidden) as caught:
        service.withdraw(HENGYANG, request_id)
    assert caught.value.code == "CHANGE_REQUEST_ASKER_ONLY"
    withdrawn = service.withdraw(PERSON, request_id)
    assert withdrawn.request.state is ChangeRequestState.WITHDRAWN
    assert service.withdraw(PERSON, request_id).request == withdrawn.request
    with pytest.raises(Conflict) as refused:
        service.approve_request(HENGYANG, request_id)
    assert refused.value.code == "CHANGE_REQUEST_STATE"
    assert "filing.change_request.withdraw" in _audit_actions(container)


def test_rejection_needs_a_reason_that_the_person_then_reads(
    service: ChangeRequestService,
) -> None:
    filing_id = _approved(service)
    request_id = _asked(service, filing_id)
    with pytest.raises(InvalidInput) as caught:
        service.reject_request(HENGYANG, request_id, "  ")
    assert caught.value.code == "CHANGE_REQUEST_REASON_REQUIRED"
    service.reject_request(HENGYANG, request_id, "请携带新手机号实名证明")
    [mine] = service.for_filing(PERSON, filing_id)
    assert mine.state is ChangeRequestState.REJECTED
    assert mine.decision_reason == "请携带新手机号实名证明"
    assert service.reject_request(HENGYANG, request_id, "另一个原因").request.decision_reason == (
        "请携带新手机号实名证明"
    )


def test_another_region_and_another_person_get_the_same_not_found_as_a_missing_request(
    service: ChangeRequestService,
) -> None:
    filing_id = _approved(service)
    request_id = _asked(service, filing_id)
    calls = (
        lambda p, r: service.get_request(p, r),
        lambda p, r: service.approve_request(p, r),
        lambda p, r: service.reject_request(p, r, "不是本区"),
    )
    for call in calls:
        for principal, ref in ((ZHENGZHOU, request_id), (HENGYANG, "0" * 32)):
            with pytest.raises(NotFound) as caught:
                call(principal, ref)
            assert caught.value.code == "CHANGE_REQUEST_NOT_FOUND"
    for ref in (request_id, "0" * 32):
        with pytest.raises(NotFound):
            service.get_request(STRANGER, ref)
    with pytest.raises(NotFound) as stranger:
        service.request_change(STRANGER, filing_id, record(), "不是我的")
    assert stranger.value.code == "FILING_NOT_FOUND"
    # The province reads its province's requests but does not decide them.
    assert service.get_request(HUNAN, request_id).request.request_id == request_id
    with pytest.raises(Forbidden):
        service.approve_request(HUNAN, request_id)
    assert service.list_requests(ZHENGZHOU) == (0, [])


def test_lists_are_masked_and_the_desk_counts_the_pending_requests(
    service: ChangeRequestService,
) -> None:
    filing_id = _approved(service)
    _asked(service, filing_id)
    total, [line] = service.list_requests(HENGYANG)
    assert total == 1 and line.filing_id == filing_id
    assert line.id_number_masked != PERSON_ID and "*" in line.id_number_masked
    assert line.changed_fields == ("手机",)
    assert service.pending_count(HENGYANG) == 1 and service.pending_count(ZHENGZHOU) == 0
    assert service.list_requests(PERSON, state=None)[0] == 1
    assert service.list_requests(STRANGER, state=None)[0] == 0


def test_the_person_and_the_insured_region_cannot_be_changed(
    service: ChangeRequestService,
) -> None:
    filing_id = _approved(service)
    with pytest.raises(InvalidInput) as region:
        service.request_change(PERSON, filing_id, record(insured_region_code="430400"), "迁移")
    assert region.value.code == "FILING_CHANGE_REGION"
    other = record(social_security_number="410102195007010884")
    with pytest.raises(Refused) as person:
        service.request_change(PERSON, filing_id, other, "换人")
    assert person.value.code == "FILING_CHANGE_PERSON"
    with pytest.raises(InvalidInput) as nothing:
        service.request_change(PERSON, filing_id, record(), "没改")
    assert nothing.value.code == "CHANGE_REQUEST_NOTHING_CHANGED"
    with pytest.raises(ValidationFailed) as invalid:
        service.request_change(PERSON, filing_id, record(mobile="12345"), "手机")
    assert invalid.value.errors[0].field == "mobile"


def test_a_new_category_needs_its_evidence_and_the_scan_comes_with_the_new_version(
    service: ChangeRequestService,
) -> None:
    filing_id = _approved(service)
    changed = record(category=FilingCategory.LONG_TERM_RESIDENT)
    with pytest.raises(Refused) as caught:
        service.request_change(PERSON, filing_id, changed, "户口迁回，改为长期居住")
    assert caught.value.code == "FILING_EVIDENCE_MISSING" and "居住证" in caught.value.message
    permit = Evidence(
        EvidenceKind.RESIDENCE_PERMIT,
        "居-450923-0001",
        "博白县公安局",
        dt.date(2026, 3, 1),
        issuer_region_code="450923",
    )
    asked = service.request_change(
        PERSON,
        filing_id,
        changed,
        "户口迁回，改为长期居住",
        uploads=[EvidenceUpload(permit, PNG_BYTES, "permit.png")],
    )
    [scan] = asked.request.evidence
    assert scan.file is not None and scan.file.filename == "permit.png"
    media_type, content = service.evidence_file(HENGYANG, filing_id, scan.file.sha256)
    assert (media_type, content) == ("image/png", PNG_BYTES)
    service.approve_request(HENGYANG, asked.request.request_id)
    after = service.get(PERSON, filing_id)
    assert after.record.category is FilingCategory.LONG_TERM_RESIDENT
    assert {e.kind for e in after.evidence} == {
        EvidenceKind.HOUSEHOLD_REGISTRATION,
        EvidenceKind.RESIDENCE_PERMIT,
    }
    assert after.record.valid_until is not None  # the new category's one-year validity


def test_a_counter_change_after_the_request_makes_it_outdated(
    service: ChangeRequestService,
) -> None:
    filing_id = _approved(service)
    request_id = _asked(service, filing_id)
    service.change(HENGYANG, filing_id, record(phone="0775-8220000"), reason="窗口变更")
    assert service.get_request(HENGYANG, request_id).outdated
    with pytest.raises(Conflict) as caught:
        service.approve_request(HENGYANG, request_id)
    assert caught.value.code == "CHANGE_REQUEST_OUTDATED"
    assert [v.version for v in service.get(HENGYANG, filing_id).versions] == [1, 2]


def test_only_the_insured_person_asks_online_and_a_retry_with_the_same_key_asks_once(
    service: ChangeRequestService,
) -> None:
    filing_id = _approved(service)
    with pytest.raises(Forbidden) as caught:
        service.request_change(HENGYANG, filing_id, record(mobile=NEW_MOBILE), "代办")
    assert caught.value.code == "CHANGE_REQUEST_INSURED_ONLY"
    key = ("key-1", "fingerprint")
    first = service.request_change(
        PERSON, filing_id, record(mobile=NEW_MOBILE), "换号", idempotency=key
    )
    again = service.request_change(
        PERSON, filing_id, record(mobile=NEW_MOBILE), "换号", idempotency=key
    )
    assert again.request.request_id == first.request.request_id
    assert len(service.for_filing(PERSON, filing_id)) == 1


def test_a_filing_not_yet_approved_cannot_be_changed_by_request(
    service: ChangeRequestService,
) -> None:
    draft = service.create_draft(PERSON, record(), evidence=[household_registration()])
    with pytest.raises(Conflict) as caught:
        service.request_change(PERSON, draft.filing_id, record(mobile=NEW_MOBILE), "换号")
    assert caught.value.code == "CHANGE_REQUEST_FILING_STATE"
