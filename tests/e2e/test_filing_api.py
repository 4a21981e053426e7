from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from filing_support import (
    BOBAI,
    CASHIER,
    HENAN,
    HENGYANG,
    HUNAN,
    PDF_BYTES,
    PERSON,
    PERSON_ID,
    STRANGER,
    ZHENGZHOU,
    api_headers,
    load_agencies,
    record_body,
)
from yidi.bootstrap import Container
from yidi.demo.population import generate_persons
from yidi.filing.model.annex import ANNEX2_COLUMNS
from yidi.kernel.access import Principal
from yidi.kernel.clock import CHINA_TZ, FixedClock
from yidi.kernel.insurance import FilingCategory
from yidi.reports.annex2_xlsx import ANNEX2_TITLE


@pytest.fixture
def api(client: TestClient, container: Container) -> TestClient:
    load_agencies(container.uow)
    return client


def _create(api: TestClient, container: Container, principal: Principal = HENGYANG) -> str:
    response = api.post(
        "/api/filings", json={"record": record_body()}, headers=api_headers(container, principal)
    )
    assert response.status_code == 201, response.text
    return str(response.json()["filing_id"])


def _upload_household(api: TestClient, container: Container, filing_id: str) -> dict[str, Any]:
    response = api.post(
        f"/api/filings/{filing_id}/evidence",
        data={
            "kind": "household_registration",
            "document_number": "户-0001",
            "issuer": "博白县公安局",
            "issued_on": "2016-05-01",
            "issuer_region_code": BOBAI,
        },
        files={"file": ("hukou.pdf", PDF_BYTES, "application/pdf")},
        headers=api_headers(container, HENGYANG),
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def _approved(api: TestClient, container: Container) -> str:
    filing_id = _create(api, container)
    _upload_household(api, container, filing_id)
    headers = api_headers(container, HENGYANG)
    assert api.post(f"/api/filings/{filing_id}/submit", headers=headers).status_code == 200
    approved = api.post(f"/api/filings/{filing_id}/approve", headers=headers)
    assert approved.status_code == 200, approved.text
    return filing_id


def test_create_upload_submit_approve_through_the_api(
    api: TestClient, container: Container
) -> None:
    filing_id = _create(api, container)
    uploaded = _upload_household(api, container, filing_id)
    assert uploaded["evidence"][0]["file"]["media_type"] == "application/pdf"
    headers = api_headers(container, HENGYANG)
    api.post(f"/api/filings/{filing_id}/submit", headers=headers)
    body = api.post(f"/api/filings/{filing_id}/approve", headers=headers, json={}).json()
    assert body["state"] == "approved" and body["state_label"] == "已备案"
    assert body["record"]["filing_number"] == "BA430421-2026-000001"
    assert body["record"]["social_security_number"] == PERSON_ID
    assert [e["action"] for e in body["events"]] == ["create", "revise", "submit", "approve"]


def test_reject_then_cancel_through_the_api(api: TestClient, container: Container) -> None:
    filing_id = _create(api, container, PERSON)
    person = api_headers(container, PERSON)
    assert api.post(f"/api/filings/{filing_id}/submit", headers=person).status_code == 200
    handler = api_headers(container, HENGYANG)
    no_reason = api.post(f"/api/filings/{filing_id}/reject", headers=handler, json={"reason": ""})
    assert no_reason.status_code == 422
    rejected = api.post(
        f"/api/filings/{filing_id}/reject", headers=handler, json={"reason": "缺少户口证明"}
    ).json()
    assert rejected["state"] == "rejected" and rejected["state_reason"] == "缺少户口证明"
    cancelled = api.post(
        f"/api/filings/{filing_id}/cancel", headers=person, json={"reason": "不再需要"}
    ).json()
    assert cancelled["state"] == "cancelled"
    again = api.post(f"/api/filings/{filing_id}/approve", headers=handler)
    assert again.status_code == 409 and again.json()["error"]["code"] == "FILING_STATE"


def test_change_through_the_api_keeps_both_versions(api: TestClient, container: Container) -> None:
    filing_id = _approved(api, container)
    response = api.post(
        f"/api/filings/{filing_id}/change",
        headers=api_headers(container, HENGYANG),
        json={"record": record_body(mobile="13900001111"), "reason": "手机号变更"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert [(v["version"], v["state"]) for v in body["versions"]] == [
        (1, "superseded"),
        (2, "approved"),
    ]
    assert body["record"]["mobile"] == "13900001111"


def _emergency_draft(
    api: TestClient, container: Container, admitted_on: dt.date, now: dt.datetime
) -> tuple[dict[str, Any], dict[str, str], FixedClock]:
    """An emergency draft created by the Hengyang agency at ``now``; its JSON, headers, clock."""
    clock = container.clock
    assert isinstance(clock, FixedClock)
    clock.set(now)
    body = record_body(
        category=FilingCategory.EMERGENCY, admitted_on=admitted_on, filled_on=now.date()
    )
    headers = api_headers(container, HENGYANG)
    created = api.post("/api/filings", json={"record": body}, headers=headers)
    assert created.status_code == 201, created.text
    return created.json(), headers, clock


def test_emergency_submission_after_the_deadline_is_refused_with_a_chinese_message(
    api: TestClient, container: Container
) -> None:
    created, headers, _ = _emergency_draft(
        api, container, dt.date(2026, 9, 30), dt.datetime(2026, 10, 14, 9, tzinfo=CHINA_TZ)
    )
    # 10月1-7日放假，10月10日（周六）调休上班: the third working day after admission.
    assert created["emergency_deadline"] == "2026-10-10"
    refused = api.post(f"/api/filings/{created['filing_id']}/submit", headers=headers)
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == "FILING_EMERGENCY_LATE" and "2026-10-10" in error["message"]


def test_bad_input_is_422_with_a_code_and_writes_nothing(
    api: TestClient, container: Container
) -> None:
    headers = api_headers(container, HENGYANG)
    bad_id = record_body(social_security_number="430421195503081230")
    response = api.post("/api/filings", json={"record": bad_id}, headers=headers)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "VALIDATION_FAILED"
    assert "社会保障号码" in response.json()["error"]["message"]
    assert (
        api.post("/api/filings", json={"record": {"name": 1}}, headers=headers).status_code == 422
    )
    assert api.get("/api/filings", headers=headers).json()["total"] == 0


def test_idempotency_key_returns_the_first_draft(api: TestClient, container: Container) -> None:
    headers = {**api_headers(container, HENGYANG), "Idempotency-Key": "create-001"}
    first = api.post("/api/filings", json={"record": record_body()}, headers=headers)
    second = api.post("/api/filings", json={"record": record_body()}, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json()["filing_id"] == second.json()["filing_id"]
    other = api.post(
        "/api/filings", json={"record": record_body(mobile="13900001111")}, headers=headers
    )
    assert other.status_code == 409
    listing = api.get("/api/filings", headers=api_headers(container, HENGYANG)).json()
    assert listing["total"] == 1


def test_agency_of_another_region_gets_the_same_404_as_for_a_missing_filing(
    api: TestClient, container: Container
) -> None:
    filing_id = _approved(api, container)
    zhengzhou = api_headers(container, ZHENGZHOU)
    foreign = api.get(f"/api/filings/{filing_id}", headers=zhengzhou)
    missing = api.get(f"/api/filings/{'f' * 32}", headers=zhengzhou)
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()
    for action in ("submit", "approve"):
        assert api.post(f"/api/filings/{filing_id}/{action}", headers=zhengzhou).json() == (
            missing.json()
        )


def test_cashier_cannot_list_or_read_filings(api: TestClient, container: Container) -> None:
    filing_id = _approved(api, container)
    cashier = api_headers(container, CASHIER)
    assert api.get("/api/filings", headers=cashier).status_code == 403
    assert api.get(f"/api/filings/{filing_id}", headers=cashier).status_code == 403
    assert (
        api.get(
            "/api/filings/export/annex2.xlsx?region=430400&from=2026-01-01&to=2026-12-31",
            headers=cashier,
        ).status_code
        == 403
    )


def test_insured_person_sees_only_their_own_filings(api: TestClient, container: Container) -> None:
    filing_id = _approved(api, container)
    mine = api.get("/api/filings", headers=api_headers(container, PERSON)).json()
    assert [i["filing_id"] for i in mine["items"]] == [filing_id]
    assert (
        api.get(f"/api/filings/{filing_id}", headers=api_headers(container, PERSON)).status_code
        == 200
    )
    stranger = api_headers(container, STRANGER)
    assert api.get("/api/filings", headers=stranger).json()["total"] == 0
    assert api.get(f"/api/filings/{filing_id}", headers=stranger).status_code == 404


def test_anonymous_callers_get_401(api: TestClient) -> None:
    assert api.get("/api/filings").status_code == 401
    assert api.get(f"/api/filings/{'a' * 32}").status_code == 401
    assert api.post("/api/filings", json={"record": record_body()}).status_code == 401


def test_lists_are_masked_and_the_detail_read_is_audited(
    api: TestClient, container: Container
) -> None:
    filing_id = _approved(api, container)
    listing = api.get(
        f"/api/filings?id_number={PERSON_ID}", headers=api_headers(container, HENGYANG)
    )
    assert PERSON_ID not in listing.text and "13807341234" not in listing.text
    item = listing.json()["items"][0]
    assert item["id_number_masked"] == PERSON_ID[:6] + "********" + PERSON_ID[14:]
    assert item["mobile_masked"] == "138****1234"
    api.get(f"/api/filings/{filing_id}", headers=api_headers(container, HUNAN))
    with container.uow() as uow:
        reads = [c.entry for c in uow.audit.walk() if c.entry.action == "filing.read"]
    assert [(r.actor, r.subject) for r in reads] == [("hunan", f"filing:{filing_id}")]


def test_evidence_without_a_scan_is_kept_and_an_empty_scan_is_refused(
    api: TestClient, container: Container
) -> None:
    filing_id = _create(api, container)
    headers = api_headers(container, HENGYANG)
    empty = api.post(
        f"/api/filings/{filing_id}/evidence",
        data={"kind": "household_registration"},
        files={"file": ("empty.pdf", b"", "application/pdf")},
        headers=headers,
    )
    assert empty.status_code == 422
    assert empty.json()["error"]["code"] == "UPLOAD_EMPTY"
    assert api.get(f"/api/filings/{filing_id}", headers=headers).json()["evidence"] == []
    described = api.post(
        f"/api/filings/{filing_id}/evidence",
        data={"kind": "household_registration", "document_number": "户-0002"},
        headers=headers,
    )
    assert described.status_code == 200, described.text
    [evidence] = described.json()["evidence"]
    assert evidence["document_number"] == "户-0002" and evidence["file"] is None


def test_evidence_upload_checks_the_file_type_by_content(
    api: TestClient, container: Container
) -> None:
    filing_id = _create(api, container)
    response = api.post(
        f"/api/filings/{filing_id}/evidence",
        data={"kind": "household_registration"},
        files={"file": ("fake.pdf", b"MZ\x90\x00 not a pdf", "application/pdf")},
        headers=api_headers(container, HENGYANG),
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "EVIDENCE_FILE_TYPE"
    detail = api.get(f"/api/filings/{filing_id}", headers=api_headers(container, HENGYANG)).json()
    assert detail["evidence"] == []


def test_evidence_pdf_with_an_open_action_script_is_refused(
    api: TestClient, container: Container
) -> None:
    filing_id = _create(api, container)
    pdf = (
        b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R /OpenAction 3 0 R >>\nendobj\n"
        b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
        b"3 0 obj\n<< /S /JavaScript /JS (app.alert\\(1\\)) >>\nendobj\n"
        b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
    )
    response = api.post(
        f"/api/filings/{filing_id}/evidence",
        data={"kind": "household_registration"},
        files={"file": ("scan.pdf", pdf, "application/pdf")},
        headers=api_headers(container, HENGYANG),
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "EVIDENCE_PDF_ACTIVE_CONTENT"
    detail = api.get(f"/api/filings/{filing_id}", headers=api_headers(container, HENGYANG)).json()
    assert detail["evidence"] == []


def test_annex2_export_opens_with_the_notice_headings(
    api: TestClient, container: Container
) -> None:
    _approved(api, container)
    response = api.get(
        "/api/filings/export/annex2.xlsx?region=430400&from=2026-11-01&to=2026-11-30",
        headers=api_headers(container, HUNAN),
    )
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    assert sheet["A1"].value == ANNEX2_TITLE
    assert tuple(c.value for c in sheet[3])[: len(ANNEX2_COLUMNS)] == ANNEX2_COLUMNS
    assert sheet["F4"].value == PERSON_ID


def test_import_then_quarterly_list_per_prefecture(api: TestClient, container: Container) -> None:
    persons = list(generate_persons(4, seed=3, insured_region_codes=["410100", "410300"]))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(ANNEX2_COLUMNS)
    for n, p in enumerate(persons, start=1):
        writer.writerow(
            [n, p.insured_region_code, "", p.name, p.gender.label_zh, p.resident_id.number,
             p.insurance_type.annex_code, "", p.social_security_card_number, p.address, "", p.mobile, "1"]
        )  # fmt: skip
    writer.writerow([5, "410100", "", "张三", "男", "123", "1", "", "", "", "", "", "1"])
    henan = api_headers(container, HENAN)
    files = {"file": ("henan.csv", out.getvalue().encode(), "text/csv")}
    submitted = api.post("/api/filings/import", files=files, headers=henan)
    assert submitted.status_code == 202
    job = submitted.json()
    assert job["state"] == "done"  # the test settings run jobs inline
    polled = api.get(f"/api/filings/import-jobs/{job['job_id']}", headers=henan).json()
    report = polled["report"]
    assert (report["imported"], report["rejected"]) == (4, 1)
    assert report["errors"][0]["row"] == 6 and report["errors"][0]["column"] == "身份证号"
    again = api.post("/api/filings/import", files=files, headers=henan).json()["report"]
    assert again["replayed"] is True and again["imported"] == 4
    # A job is its submitter's own: another account gets the same answer as a missing id.
    other = api.get(
        f"/api/filings/import-jobs/{job['job_id']}", headers=api_headers(container, HUNAN)
    )
    missing = api.get("/api/filings/import-jobs/JNONE", headers=api_headers(container, HUNAN))
    assert other.status_code == missing.status_code == 404
    assert other.json() == missing.json()
    listing = api.get(
        "/api/filings/quarterly?region=410000&year=2026&quarter=4", headers=henan
    ).json()
    assert sum(len(p["rows"]) for p in listing["prefectures"]) == 4
    xlsx = api.get(
        "/api/filings/quarterly?region=410000&year=2026&quarter=4&format=xlsx", headers=henan
    )
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    bad = api.get("/api/filings/quarterly?region=410000&year=2026&quarter=7", headers=henan)
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "REQUEST_INVALID"


def test_emergency_deadline_running_into_an_unannounced_year_says_it_is_provisional(
    api: TestClient, container: Container
) -> None:
    filing, headers, clock = _emergency_draft(
        api, container, dt.date(2026, 12, 29), dt.datetime(2026, 12, 30, 9, tzinfo=CHINA_TZ)
    )
    # 2027 has no notice yet: 元旦 (Fri) and the weekend are skipped, Mon 4 Jan is the third day.
    assert filing["emergency_deadline"] == "2027-01-04"
    assert filing["emergency_deadline_source"] == "provisional"
    assert (
        filing["emergency_deadline_note"] == "按法定节假日推算，国务院公布当年放假安排后以公布为准"
    )
    due = api.get("/api/filings/follow-up/emergency", headers=headers).json()
    assert [(d["deadline"], d["deadline_source"]) for d in due] == [("2027-01-04", "provisional")]
    assert due[0]["deadline_note"] == filing["emergency_deadline_note"]
    clock.set(dt.datetime(2027, 1, 5, 9, tzinfo=CHINA_TZ))
    headers = api_headers(container, HENGYANG)  # a new day, a new session
    refused = api.post(f"/api/filings/{filing['filing_id']}/submit", headers=headers)
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == "FILING_EMERGENCY_LATE"
    assert "2027-01-04（按法定节假日推算" in error["message"]


def test_emergency_deadline_inside_a_library_year_has_no_note(
    api: TestClient, container: Container
) -> None:
    filing, _, _ = _emergency_draft(
        api, container, dt.date(2026, 10, 12), dt.datetime(2026, 10, 14, 9, tzinfo=CHINA_TZ)
    )
    assert filing["emergency_deadline"] == "2026-10-15"
    assert filing["emergency_deadline_source"] == "library"
    assert filing["emergency_deadline_note"] is None
