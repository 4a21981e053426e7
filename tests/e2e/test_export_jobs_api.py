"""附件2 and the quarterly list as background export jobs through the REST API: start (with an
idempotency key), poll, download; the job service, checks and audit of the web pages."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from filing_support import (
    CASHIER,
    HENGYANG,
    HUNAN,
    PERSON,
    ZHENGZHOU,
    annex2_csv,
    api_headers,
    load_agencies,
)
from yidi.bootstrap import Container
from yidi.filing.imports import FilingImports
from yidi.filing.jobs import QUARTERLY_EXPORT
from yidi.kernel.identity import Gender, make_resident_id

JOBS = "/api/filings/export-jobs"
PERIOD = {"from": "2026-01-01", "to": "2026-12-31"}


@pytest.fixture
def api(client: TestClient, container: Container) -> TestClient:
    load_agencies(container.uow)
    rows = [
        (
            "430421",
            "导出" + "甲乙丙"[n],
            make_resident_id(
                "430421", dt.date(1950, 1, 1) + dt.timedelta(days=n), 100 + n, Gender.MALE
            ).number,
        )
        for n in range(3)
    ]
    FilingImports(container.uow, container.clock).import_annex2(
        HENGYANG, annex2_csv(rows), "seed.csv"
    )
    return client


def _quarter(container: Container) -> dict[str, int]:
    today = container.clock.today()
    return {"year": today.year, "quarter": (today.month - 1) // 3 + 1}


def _rows(content: bytes) -> list[tuple[Any, ...]]:
    book = load_workbook(io.BytesIO(content))
    return [
        row
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
        if row and str(row[0] or "").isdigit()
    ]


def _actions(container: Container) -> list[tuple[str, str]]:
    with container.uow() as uow:
        return [(c.entry.action, c.entry.actor) for c in uow.audit.walk()]


def test_an_annex2_job_is_started_polled_and_downloaded(
    api: TestClient, container: Container
) -> None:
    headers = api_headers(container, HENGYANG)
    started = api.post(f"{JOBS}/annex2", json=PERIOD, headers=headers)
    assert started.status_code == 202, started.text
    job = started.json()
    assert job["kind"] == "annex2_export" and job["state"] == "done"  # inline in the tests
    assert (job["percent"], job["processed_rows"], job["total_rows"]) == (100, 3, 3)
    assert job["result"] == {"rows": 3, "masked": True}  # an agency's file is masked
    assert job["download_url"] == f"{JOBS}/{job['job_id']}/download"
    polled = api.get(f"{JOBS}/{job['job_id']}", headers=headers)
    assert polled.status_code == 200 and polled.json() == job
    download = api.get(job["download_url"], headers=headers)
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in download.headers["content-disposition"]
    names = [row[3] for row in _rows(download.content)]
    assert names == sorted(["导出甲", "导出乙", "导出丙"])  # 附件2's order: … then name
    actions = _actions(container)
    assert ("filing.export", "hengyang") in actions and ("job.download", "hengyang") in actions
    # the full file, for an office that reads full records (audited as 明文)
    full = api.post(f"{JOBS}/annex2", json={**PERIOD, "full": True}, headers=headers).json()
    assert full["result"] == {"rows": 3, "masked": False}


def test_a_retry_with_the_idempotency_key_returns_the_first_job(
    api: TestClient, container: Container
) -> None:
    headers = {**api_headers(container, HUNAN), "Idempotency-Key": "quarterly-1"}
    body = {"region": "430400", **_quarter(container)}
    first = api.post(f"{JOBS}/quarterly", json=body, headers=headers)
    assert first.status_code == 202 and first.json()["state"] == "done"
    assert first.json()["result"] == {"rows": 3, "masked": False}  # the province: full
    again = api.post(f"{JOBS}/quarterly", json=body, headers=headers)
    assert again.status_code == 202 and again.json()["job_id"] == first.json()["job_id"]
    # without the key a finished export is started anew
    fresh = api.post(f"{JOBS}/quarterly", json=body, headers=api_headers(container, HUNAN))
    assert fresh.json()["job_id"] != first.json()["job_id"]
    # the key with another request is refused, and starts nothing
    other = api.post(f"{JOBS}/quarterly", json={**body, "quarter": 1}, headers=headers)
    assert other.status_code == 409 and other.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert len(container.import_jobs.recent(HUNAN)) == 2


def test_another_regions_user_is_refused_the_job_and_the_region(
    api: TestClient, container: Container
) -> None:
    mine = api_headers(container, HENGYANG)
    job = api.post(f"{JOBS}/annex2", json=PERIOD, headers=mine).json()
    theirs = api_headers(container, ZHENGZHOU)
    for path in (f"{JOBS}/{job['job_id']}", job["download_url"]):
        refused = api.get(path, headers=theirs)
        assert refused.status_code == 404 and refused.json()["error"]["code"] == "JOB_NOT_FOUND"
        assert refused.json()["error"]["message"] == "未找到该导出任务"
    body = {"region": "430400", **_quarter(container)}
    quarterly = api.post(f"{JOBS}/quarterly", json=body, headers=theirs)
    assert quarterly.status_code == 403
    assert quarterly.json()["error"]["code"] == "FILING_REGION_OUT_OF_SCOPE"
    annex2 = api.post(f"{JOBS}/annex2", json={**PERIOD, "region": "430400"}, headers=theirs)
    assert annex2.status_code == 403
    assert container.import_jobs.recent(ZHENGZHOU) == []
    assert ("job.download", "zhengzhou") not in _actions(container)


def test_roles_without_exports_and_anonymous_callers_are_refused(
    api: TestClient, container: Container
) -> None:
    for principal in (CASHIER, PERSON):
        answer = api.post(f"{JOBS}/annex2", json=PERIOD, headers=api_headers(container, principal))
        assert answer.status_code == 403 and answer.json()["error"]["code"] == "ACCESS_DENIED"
        polled = api.get(f"{JOBS}/J{'0' * 24}", headers=api_headers(container, principal))
        assert polled.status_code == 403
    assert api.post(f"{JOBS}/annex2", json=PERIOD).status_code == 401
    bad = api.post(
        f"{JOBS}/annex2",
        json={"from": "2026-05-01", "to": "2026-04-01"},
        headers=api_headers(container, HENGYANG),
    )
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "PERIOD_INVALID"
    odd = api.post(
        f"{JOBS}/quarterly",
        json={"region": "430400", "year": 2026, "quarter": 5},
        headers=api_headers(container, HENGYANG),
    )
    assert odd.status_code == 422 and odd.json()["error"]["code"] == "REQUEST_INVALID"


def test_an_unknown_job_an_unfinished_one_and_a_failed_one_say_so(
    api: TestClient, container: Container
) -> None:
    headers = api_headers(container, HENGYANG)
    unknown = api.get(f"{JOBS}/J{'0' * 24}", headers=headers)
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "JOB_NOT_FOUND"
    jobs = container.import_jobs
    params = {"region": "430400", **_quarter(container), "full": None}
    queued = jobs.submit_export(HENGYANG, QUARTERLY_EXPORT, params, "q.xlsx", inline=False)
    polled = api.get(f"{JOBS}/{queued.id}", headers=headers).json()
    assert polled["state"] == "queued" and polled["finished"] is False
    assert polled["download_url"] is None and polled["percent"] == 0
    early = api.get(f"{JOBS}/{queued.id}/download", headers=headers)
    assert early.status_code == 409 and early.json()["error"]["code"] == "JOB_NOT_FINISHED"
    # a job whose region the runner refuses fails; its download says why there is no file
    broken = {**params, "region": "410100"}
    failing = jobs.submit_export(HENGYANG, QUARTERLY_EXPORT, broken, "x.xlsx", inline=False)
    jobs.run_pending()
    assert api.get(f"{JOBS}/{queued.id}/download", headers=headers).status_code == 200
    failed = api.get(f"{JOBS}/{failing.id}", headers=headers).json()
    assert failed["state"] == "failed" and failed["error"]["code"] == "FILING_REGION_OUT_OF_SCOPE"
    gone = api.get(f"{JOBS}/{failing.id}/download", headers=headers)
    assert gone.status_code == 409 and gone.json()["error"]["code"] == "JOB_FAILED"
    # an import job is not an export job
    imported = jobs.submit_import(HENGYANG, annex2_csv([]), "empty.csv", inline=True)
    assert api.get(f"{JOBS}/{imported.id}", headers=headers).status_code == 404


def test_the_export_job_routes_are_documented_with_their_schemas(api: TestClient) -> None:
    spec = api.get("/openapi.json").json()
    start = spec["paths"][f"{JOBS}/annex2"]["post"]
    assert start["responses"]["202"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ExportJobOut"
    }
    assert {"403", "404", "409"} <= set(start["responses"])
    assert any(p["name"] == "Idempotency-Key" for p in start["parameters"])
    poll = spec["paths"][f"{JOBS}/{{job_id}}"]["get"]
    assert poll["responses"]["404"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorOut"
    }
    state = spec["components"]["schemas"]["ExportJobOut"]["properties"]["state"]
    assert state["enum"] == ["queued", "running", "done", "failed"]
    assert f"{JOBS}/{{job_id}}/download" in spec["paths"]
