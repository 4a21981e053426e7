"""承诺制 through the REST API: a promise-based filing from submission to the documents'
deadline and its treatment as 其他临时外出就医, supplied documents, and a false promise."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient

from filing_support import BOBAI, HENGYANG, PERSON, api_headers, load_agencies, record_body
from yidi.bootstrap import Container
from yidi.kernel.clock import FixedClock
from yidi.kernel.insurance import FilingCategory

HOUSEHOLD = {
    "kind": "household_registration",
    "document_number": "户-0001",
    "issuer": "博白县公安局",
    "issued_on": "2016-05-01",
    "issuer_region_code": BOBAI,
}


@pytest.fixture
def api(client: TestClient, container: Container) -> TestClient:
    load_agencies(container.uow)
    return client


def _promised(api: TestClient, container: Container) -> str:
    """The insured person files online with a signed promise instead of the 户口簿; approved."""
    person = api_headers(container, PERSON)
    created = api.post(
        "/api/filings", json={"record": record_body(promise_signed=True)}, headers=person
    )
    assert created.status_code == 201, created.text
    filing_id = str(created.json()["filing_id"])
    assert api.post(f"/api/filings/{filing_id}/submit", headers=person).status_code == 200
    approved = api.post(
        f"/api/filings/{filing_id}/approve", headers=api_headers(container, HENGYANG)
    )
    assert approved.status_code == 200, approved.text
    return filing_id


def test_promise_based_filing_is_approved_without_proof(
    api: TestClient, container: Container, clock: FixedClock
) -> None:
    filing_id = _promised(api, container)
    body = api.get(f"/api/filings/{filing_id}", headers=api_headers(container, PERSON)).json()
    assert body["state"] == "approved" and body["evidence"] == []
    assert body["record"]["promise_signed"] is True
    due = clock.today() + dt.timedelta(days=180)
    assert body["promise_documents_due_on"] == due.isoformat()
    assert body["rule_model"] == "2022"
    assert body["filing_class"] == "long_term"
    assert body["filing_class_label"] == "跨省异地长期居住人员"
    assert body["missing_evidence"]  # the promised 户口簿 is still outstanding


def test_overdue_promise_becomes_other_temporary_once(
    api: TestClient, container: Container, clock: FixedClock
) -> None:
    filing_id = _promised(api, container)
    handler = api_headers(container, HENGYANG)
    before = api.post("/api/filings/promises-due", headers=handler)
    assert before.status_code == 200 and before.json() == {"moved": []}
    clock.advance(dt.timedelta(days=181))
    handler = api_headers(container, HENGYANG)  # a fresh sign-in half a year later
    moved = api.post("/api/filings/promises-due", headers=handler)
    assert moved.status_code == 200 and moved.json() == {"moved": [filing_id]}
    again = api.post("/api/filings/promises-due", headers=handler)
    assert again.json() == {"moved": []}  # idempotent
    body = api.get(f"/api/filings/{filing_id}", headers=handler).json()
    assert body["state"] == "approved"
    assert body["record"]["category"] == "other_temporary"
    assert body["record"]["promise_lapsed_from"] == "retiree_resettled"
    assert body["filing_class"] == "temporary"
    assert [(v["version"], v["state"]) for v in body["versions"]] == [
        (1, "superseded"),
        (2, "approved"),
    ]
    assert body["events"][-1]["action"] == "promise_lapse"
    start = clock.today()
    assert body["record"]["valid_from"] == start.isoformat()
    assert dt.date.fromisoformat(body["record"]["valid_until"]) >= start + dt.timedelta(days=180)


def test_supplied_documents_keep_the_long_term_filing(
    api: TestClient, container: Container, clock: FixedClock
) -> None:
    filing_id = _promised(api, container)
    person = api_headers(container, PERSON)
    wrong = api.post(
        f"/api/filings/{filing_id}/promise-documents",
        headers=person,
        json={"evidence": [HOUSEHOLD | {"kind": "posting_certificate"}]},
    )
    assert wrong.status_code == 422, wrong.text
    assert wrong.json()["error"]["code"] == "FILING_EVIDENCE_MISSING"
    unchanged = api.get(f"/api/filings/{filing_id}", headers=person).json()
    assert (
        unchanged["evidence"] == [] and "promise_documents_supplied_on" not in (unchanged["record"])
    )
    supplied = api.post(
        f"/api/filings/{filing_id}/promise-documents",
        headers=person,
        json={"evidence": [HOUSEHOLD]},
    )
    assert supplied.status_code == 200, supplied.text
    body = supplied.json()
    assert body["record"]["promise_documents_supplied_on"] == clock.today().isoformat()
    assert body["missing_evidence"] == []
    assert body["events"][-1]["action"] == "supply"
    clock.advance(dt.timedelta(days=400))
    person = api_headers(container, PERSON)  # a fresh sign-in a year later
    moved = api.post("/api/filings/promises-due", headers=api_headers(container, HENGYANG))
    assert moved.json() == {"moved": []}
    twice = api.post(
        f"/api/filings/{filing_id}/promise-documents",
        headers=person,
        json={"evidence": [HOUSEHOLD]},
    )
    assert twice.status_code == 409
    assert twice.json()["error"]["code"] == "FILING_NO_PROMISE_OUTSTANDING"


def test_false_promise_cancels_and_records_recovery(api: TestClient, container: Container) -> None:
    filing_id = _promised(api, container)
    person = api_headers(container, PERSON)
    refused = api.post(
        f"/api/filings/{filing_id}/false-promise", headers=person, json={"reason": "x"}
    )
    assert refused.status_code == 403
    handler = api_headers(container, HENGYANG)
    response = api.post(
        f"/api/filings/{filing_id}/false-promise",
        headers=handler,
        json={"reason": "经核查未在博白县居住"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["state"] == "cancelled"
    assert body["record"]["fund_recovery_required"] is True
    assert "追回" in body["state_reason"] and "经核查未在博白县居住" in body["state_reason"]


def test_promise_refused_for_a_temporary_type(api: TestClient, container: Container) -> None:
    person = api_headers(container, PERSON)
    created = api.post(
        "/api/filings",
        json={"record": record_body(promise_signed=True, category=FilingCategory.OTHER_TEMPORARY)},
        headers=person,
    )
    assert created.status_code == 201, created.text
    filing_id = created.json()["filing_id"]
    response = api.post(f"/api/filings/{filing_id}/submit", headers=person)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "FILING_PROMISE_NOT_ALLOWED" and "承诺书" in error["message"]
    # nothing half-written: still a draft
    still = api.get(f"/api/filings/{filing_id}", headers=person).json()
    assert still["state"] == "draft"
