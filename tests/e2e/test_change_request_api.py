"""The change-request API (变更申请): create, list, read, withdraw, approve, reject over HTTP."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from filing_support import (
    BOBAI,
    CASHIER,
    HENGYANG,
    PDF_BYTES,
    PERSON,
    PERSON_ID,
    STRANGER,
    ZHENGZHOU,
    api_headers,
    household_registration,
    load_agencies,
    record,
    record_body,
)
from yidi.bootstrap import Container
from yidi.filing.commands import FilingService
from yidi.kernel.insurance import FilingCategory

NEW_MOBILE = "13907349999"


@pytest.fixture
def api(client: TestClient, container: Container) -> TestClient:
    load_agencies(container.uow)
    return client


@pytest.fixture
def filing_id(container: Container) -> str:
    service = FilingService(container.uow, container.clock)
    draft = service.create_draft(HENGYANG, record(), evidence=[household_registration()])
    service.submit(HENGYANG, draft.filing_id)
    return service.approve(HENGYANG, draft.filing_id).filing_id


def _ask(api: TestClient, container: Container, filing_id: str, **extra: Any) -> Any:
    body = {"record": record_body(mobile=NEW_MOBILE), "reason": "换了手机号码"} | extra
    return api.post(
        f"/api/filings/{filing_id}/change-requests",
        json=body,
        headers=api_headers(container, PERSON),
    )


def test_the_person_asks_the_agency_approves_and_the_filing_has_version_two(
    api: TestClient, container: Container, filing_id: str
) -> None:
    asked = _ask(api, container, filing_id)
    assert asked.status_code == 201, asked.text
    body = asked.json()
    assert body["state"] == "pending" and body["state_label"] == "待审核"
    changed = [c for c in body["changes"] if c["changed"]]
    assert changed == [
        {
            "field": "mobile",
            "label": "手机",
            "old": "13807341234",
            "new": NEW_MOBILE,
            "changed": True,
        }
    ]
    agency = api_headers(container, HENGYANG)
    queue = api.get("/api/change-requests", headers=agency).json()
    assert queue["total"] == 1
    [line] = queue["items"]
    assert PERSON_ID not in str(line) and line["changed_fields"] == ["手机"]

    approved = api.post(f"/api/change-requests/{body['request_id']}/approve", headers=agency)
    assert approved.status_code == 200, approved.text
    assert approved.json()["state"] == "approved"
    filing = api.get(f"/api/filings/{filing_id}", headers=api_headers(container, PERSON)).json()
    assert filing["record"]["mobile"] == NEW_MOBILE and filing["record"]["version"] == 2
    assert filing["version_id"] == approved.json()["result_version_id"]
    assert [(v["version"], v["state"]) for v in filing["versions"]] == [
        (1, "superseded"),
        (2, "approved"),
    ]
    # A retried approval answers the same and makes no third version.
    again = api.post(f"/api/change-requests/{body['request_id']}/approve", headers=agency)
    assert again.status_code == 200 and again.json() == approved.json()
    after = api.get(f"/api/filings/{filing_id}", headers=agency).json()
    assert len(after["versions"]) == 2
    assert api.get("/api/change-requests", headers=agency).json()["total"] == 0


def test_a_second_pending_request_is_a_conflict_with_a_stable_code(
    api: TestClient, container: Container, filing_id: str
) -> None:
    assert _ask(api, container, filing_id).status_code == 201
    second = _ask(api, container, filing_id, reason="再改一次")
    assert second.status_code == 409
    error = second.json()["error"]
    assert error["code"] == "CHANGE_REQUEST_PENDING" and "待审核" in error["message"]


def test_a_retry_with_the_same_idempotency_key_returns_the_first_request(
    api: TestClient, container: Container, filing_id: str
) -> None:
    key = {"Idempotency-Key": "change-1"}
    body = {"record": record_body(mobile=NEW_MOBILE), "reason": "换了手机号码"}
    headers = api_headers(container, PERSON) | key
    first = api.post(f"/api/filings/{filing_id}/change-requests", json=body, headers=headers)
    again = api.post(f"/api/filings/{filing_id}/change-requests", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json()["request_id"] == again.json()["request_id"]
    own = api.get("/api/change-requests", headers=api_headers(container, PERSON)).json()
    assert own["total"] == 1


def test_the_person_withdraws_and_the_agency_can_no_longer_approve(
    api: TestClient, container: Container, filing_id: str
) -> None:
    request_id = _ask(api, container, filing_id).json()["request_id"]
    person = api_headers(container, PERSON)
    assert (
        api.post(
            f"/api/change-requests/{request_id}/withdraw", headers=api_headers(container, HENGYANG)
        )
    ).status_code == 403
    withdrawn = api.post(f"/api/change-requests/{request_id}/withdraw", headers=person)
    assert withdrawn.status_code == 200 and withdrawn.json()["state"] == "withdrawn"
    refused = api.post(
        f"/api/change-requests/{request_id}/approve", headers=api_headers(container, HENGYANG)
    )
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "CHANGE_REQUEST_STATE"


def test_rejection_needs_a_reason_and_the_person_reads_it(
    api: TestClient, container: Container, filing_id: str
) -> None:
    request_id = _ask(api, container, filing_id).json()["request_id"]
    agency = api_headers(container, HENGYANG)
    empty = api.post(
        f"/api/change-requests/{request_id}/reject", json={"reason": " "}, headers=agency
    )
    assert empty.status_code == 422
    assert empty.json()["error"]["code"] == "CHANGE_REQUEST_REASON_REQUIRED"
    rejected = api.post(
        f"/api/change-requests/{request_id}/reject", json={"reason": "号码未实名"}, headers=agency
    )
    assert rejected.status_code == 200
    mine = api.get(f"/api/change-requests/{request_id}", headers=api_headers(container, PERSON))
    assert mine.json()["state"] == "rejected" and mine.json()["decision_reason"] == "号码未实名"


def test_refused_changes_answer_with_chinese_field_errors(
    api: TestClient, container: Container, filing_id: str
) -> None:
    region = _ask(api, container, filing_id, record=record_body(insured_region_code="430400"))
    assert region.status_code == 422
    assert region.json()["error"]["code"] == "FILING_CHANGE_REGION"
    assert region.json()["error"]["field"] == "insured_region_code"
    category = _ask(
        api,
        container,
        filing_id,
        record=record_body(category=FilingCategory.LONG_TERM_RESIDENT),
        evidence=[],
    )
    assert category.status_code == 422
    assert category.json()["error"]["code"] == "FILING_EVIDENCE_MISSING"
    assert "居住证" in category.json()["error"]["message"]
    with_permit = _ask(
        api,
        container,
        filing_id,
        record=record_body(category=FilingCategory.LONG_TERM_RESIDENT),
        evidence=[
            {
                "kind": "residence_permit",
                "document_number": "居-1",
                "issuer": "博白县公安局",
                "issued_on": "2026-03-01",
                "issuer_region_code": BOBAI,
            }
        ],
    )
    assert with_permit.status_code == 201, with_permit.text
    assert with_permit.json()["evidence"][0]["kind"] == "residence_permit"


def test_another_region_gets_the_same_404_as_a_missing_request(
    api: TestClient, container: Container, filing_id: str
) -> None:
    request_id = _ask(api, container, filing_id).json()["request_id"]
    missing = request_id[:-1] + ("0" if request_id[-1] != "0" else "1")
    for principal in (ZHENGZHOU, STRANGER):
        headers = api_headers(container, principal)
        theirs = api.get(f"/api/change-requests/{request_id}", headers=headers)
        nothing = api.get(f"/api/change-requests/{missing}", headers=headers)
        assert theirs.status_code == nothing.status_code == 404
        assert theirs.content == nothing.content
    zhengzhou = api_headers(container, ZHENGZHOU)
    for action in ("approve", "withdraw"):
        assert (
            api.post(f"/api/change-requests/{request_id}/{action}", headers=zhengzhou).content
            == api.post(f"/api/change-requests/{missing}/{action}", headers=zhengzhou).content
        )
    assert api.get("/api/change-requests", headers=zhengzhou).json()["total"] == 0
    cashier = api.get(f"/api/change-requests/{request_id}", headers=api_headers(container, CASHIER))
    assert cashier.status_code == 403


def test_the_person_adds_a_scan_to_a_pending_request_and_the_agency_opens_it(
    api: TestClient, container: Container, filing_id: str
) -> None:
    request_id = _ask(api, container, filing_id).json()["request_id"]
    form = {
        "kind": "residence_permit",
        "document_number": "居-1",
        "issuer": "博白县公安局",
        "issued_on": "2026-03-01",
        "issuer_region_code": BOBAI,
    }
    scan = {"file": ("permit.pdf", PDF_BYTES, "application/pdf")}
    agency = api_headers(container, HENGYANG)
    refused = api.post(
        f"/api/change-requests/{request_id}/evidence", data=form, files=scan, headers=agency
    )
    assert refused.status_code == 403
    added = api.post(
        f"/api/change-requests/{request_id}/evidence",
        data=form,
        files=scan,
        headers=api_headers(container, PERSON),
    )
    assert added.status_code == 200, added.text
    [document] = added.json()["evidence"]
    assert document["file"]["filename"] == "permit.pdf"
    service = FilingService(container.uow, container.clock)
    media_type, content = service.evidence_file(HENGYANG, filing_id, document["file"]["sha256"])
    assert (media_type, content) == ("application/pdf", PDF_BYTES)
    not_a_scan = api.post(
        f"/api/change-requests/{request_id}/evidence",
        data=form,
        files={"file": ("x.txt", b"hello", "text/plain")},
        headers=api_headers(container, PERSON),
    )
    assert not_a_scan.status_code == 422
    assert not_a_scan.json()["error"]["code"] == "EVIDENCE_FILE_TYPE"
