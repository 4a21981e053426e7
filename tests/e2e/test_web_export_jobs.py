"""附件2 and the quarterly list as background export jobs: the page starts a job, its
progress is counted against the rows announced, the file is downloaded by the one who
started it (audited), and nobody else sees the job."""

from __future__ import annotations

import datetime as dt
import io
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from filing_support import HENAN, HENGYANG, ZHENGZHOU, annex2_csv
from yidi.bootstrap import Container
from yidi.entrypoints.app import create_app
from yidi.filing import jobs as jobs_module
from yidi.filing.imports import FilingImports
from yidi.filing.jobs import ANNEX2_EXPORT, ImportJobs
from yidi.kernel.identity import Gender, make_resident_id
from yidi.reports import annex2_xlsx as writer

sys.path.insert(0, str(Path(__file__).parent))
from web_helpers import PAGE, csrf_token, load_demo_world, sign_in

NAMES = "甲乙丙丁戊己庚辛"
PERIOD = {"from": "2026-01-01", "to": "2026-12-31"}


@pytest.fixture(autouse=True)
def _demo_world(container: Container, monkeypatch: pytest.MonkeyPatch) -> None:
    load_demo_world(container, monkeypatch)


@pytest.fixture
def web(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container), base_url="http://127.0.0.1:8000") as client:
        yield client


def _ids(count: int, region: str) -> list[tuple[str, str, str]]:
    return [
        (region, "导出" + NAMES[n], make_resident_id(region, _day(n), 100 + n, Gender.MALE).number)
        for n in range(count)
    ]


def _day(n: int) -> dt.date:
    return dt.date(1950, 1, 1) + dt.timedelta(days=n)


def _imported(container: Container, rows: list[tuple[str, str, str]]) -> None:
    FilingImports(container.uow, container.clock).import_annex2(
        HENAN if rows[0][0].startswith("41") else HENGYANG, annex2_csv(rows), "seed.csv"
    )


def _start(web: TestClient, path: str, **data: str) -> str:
    token = csrf_token(web, "/filings/annex2")
    answer = web.post(
        path, data={"csrf_token": token, **data}, headers=PAGE, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text
    location = answer.headers["location"]
    assert re.fullmatch(r"/filings/jobs/J[0-9A-F]{24}", location), location
    return location


def _sheet_values(content: bytes) -> list[list[Any]]:
    book = load_workbook(io.BytesIO(content))
    return [[c for c in row] for s in book.worksheets for row in s.iter_rows(values_only=True)]


def test_the_annex2_form_starts_a_job_whose_file_the_starter_downloads(
    web: TestClient, container: Container
) -> None:
    rows = _ids(3, "430421")
    _imported(container, rows)
    sign_in(web, "hengyang")
    form = web.get("/filings/annex2", headers=PAGE)
    assert 'action="/filings/annex2/jobs"' in form.text and 'method="post"' in form.text
    job_path = _start(web, "/filings/annex2/jobs", **PERIOD)
    page = web.get(job_path, headers=PAGE)
    assert page.status_code == 200 and 'data-state="done"' in page.text, page.text[
        page.text.find("export-job") :
    ][:1500]
    assert 'id="job-download"' in page.text and "共 3 行" in page.text, page.text[
        page.text.find("export-job") :
    ][:1500]
    progress = web.get(job_path + "/progress", headers=PAGE).json()
    assert progress == {
        "state": "done",
        "percent": 100,
        "processed_rows": 3,
        "total_rows": 3,
        "finished": True,
    }
    download = web.get(job_path + "/download", headers=PAGE)
    assert download.status_code == 200
    assert "attachment" in download.headers["content-disposition"]
    values = _sheet_values(download.content)
    assert values[0][0] == writer.ANNEX2_TITLE
    names = [row[3] for row in values[3:6]]
    assert names == sorted(name for _r, name, _n in rows)  # 附件2's order: region, day, name
    # An agency's file is masked: no whole ID number in it.
    flat = " ".join(str(c) for row in values for c in row if c)
    assert all(number not in flat for _r, _n, number in rows)
    with container.uow() as uow:
        actions = [(c.entry.action, c.entry.actor) for c in uow.audit.walk()]
    assert ("filing.export", "hengyang") in actions and ("job.download", "hengyang") in actions


def test_a_job_is_seen_only_by_the_one_who_started_it(
    web: TestClient, container: Container
) -> None:
    _imported(container, _ids(2, "430421"))
    sign_in(web, "hengyang")
    job_path = _start(web, "/filings/annex2/jobs", **PERIOD)
    web.post("/signout", data={"csrf_token": csrf_token(web, "/")}, headers=PAGE)
    sign_in(web, "zhengzhou")
    for suffix in ("", "/progress", "/download"):
        assert web.get(job_path + suffix, headers=PAGE).status_code == 404
    web.cookies.clear()
    assert web.get(job_path, headers=PAGE, follow_redirects=False).status_code in (303, 401)
    sign_in(web, "nhfy1")  # a cashier may not export filings
    assert web.get(job_path, headers=PAGE).status_code == 403


def test_a_bad_period_is_refused_on_the_form_without_a_job(
    web: TestClient, container: Container
) -> None:
    sign_in(web, "hengyang")
    token = csrf_token(web, "/filings/annex2")
    bad = web.post(
        "/filings/annex2/jobs",
        data={"csrf_token": token, "from": "2026-12-31", "to": "2026-01-01"},
        headers=PAGE,
    )
    assert bad.status_code == 422 and 'id="to-error"' in bad.text
    forged = web.post("/filings/annex2/jobs", data={"csrf_token": "x", **PERIOD}, headers=PAGE)
    assert forged.status_code == 403
    assert container.import_jobs.recent(HENGYANG) == []


def test_the_quarterly_list_downloads_one_sheet_per_prefecture(
    web: TestClient, container: Container
) -> None:
    _imported(container, _ids(2, "410102") + _ids(1, "410322"))
    sign_in(web, "henan")
    page = web.get("/filings/quarterly?year=2026&quarter=4", headers=PAGE)
    assert 'action="/filings/quarterly/jobs"' in page.text
    job_path = _start(web, "/filings/quarterly/jobs", region="410000", year="2026", quarter="4")
    download = web.get(job_path + "/download", headers=PAGE)
    book = load_workbook(io.BytesIO(download.content))
    assert len(book.worksheets) == 2
    serials = [row[0] for s in book.worksheets for row in s.iter_rows(min_row=4, values_only=True)]
    assert serials[:2] == ["1", "2"] and "1" in serials[2:]  # numbered per prefecture
    assert all(
        row[-1] == "新增"
        for s in book.worksheets
        for row in s.iter_rows(min_row=4, max_row=s.max_row - 2, values_only=True)
    )


def test_progress_is_written_to_the_job_row_while_the_export_runs(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jobs_module, "PROGRESS_SECONDS", 0.0)  # write every count
    seen: list[tuple[int, int, str]] = []

    def runner(principal: Any, params: Any, path: Path, progress: Any) -> dict[str, Any]:
        progress.total(5)
        for _ in range(5):
            progress.advance(1)
            with container.uow() as uow:
                row = uow.jobs.get(job_ids[0])
                assert row is not None
                seen.append((row.processed_rows, row.total_rows, row.state))
        path.write_bytes(b"PK")
        return {"rows": 5, "masked": True}

    job_ids: list[str] = []
    jobs = ImportJobs(
        container.uow,
        container.clock,
        exports={ANNEX2_EXPORT: runner},
        result_directory=container.settings.job_result_directory,
    )
    job = jobs.submit_export(HENGYANG, ANNEX2_EXPORT, {"n": 1}, "x.xlsx")
    assert job.state == "queued" and job.percent == 0
    job_ids.append(job.id)
    # The same export asked for again while it waits is the same job.
    assert jobs.submit_export(HENGYANG, ANNEX2_EXPORT, {"n": 1}, "x.xlsx").id == job.id
    jobs.run_pending()
    # Another process reading the row sees the count advance, against the announced total.
    assert seen == [(n, 5, "running") for n in range(1, 6)]
    done = jobs.get(HENGYANG, job.id)
    assert (done.state, done.processed_rows, done.percent) == ("done", 5, 100)
    path, name = jobs.result_file(HENGYANG, job.id)
    assert path.read_bytes() == b"PK" and name == "x.xlsx"
    with pytest.raises(Exception) as missing:
        jobs.get(ZHENGZHOU, job.id)
    assert getattr(missing.value, "code", "") == "JOB_NOT_FOUND"


def test_a_failing_export_leaves_no_file(container: Container) -> None:
    def runner(principal: Any, params: Any, path: Path, progress: Any) -> dict[str, Any]:
        path.write_bytes(b"half")
        raise RuntimeError("disk full")

    directory = container.settings.job_result_directory
    jobs = ImportJobs(
        container.uow, container.clock, exports={ANNEX2_EXPORT: runner}, result_directory=directory
    )
    job = jobs.submit_export(HENGYANG, ANNEX2_EXPORT, {}, "x.xlsx", inline=True)
    assert job.state == "failed" and job.error and job.error["code"] == "JOB_FAILED"
    assert list(directory.iterdir()) == []


def test_the_streamed_writer_reports_progress_every_few_rows(
    container: Container, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _imported(container, _ids(5, "430421"))
    monkeypatch.setattr(writer, "PROGRESS_EVERY", 2)
    stream = container.filing_reports.annex2_stream(
        HENGYANG, "430400", dt.date(2026, 1, 1), dt.date(2026, 12, 31), full=True
    )
    calls: list[int] = []
    assert stream.total == 5
    written = writer.write_annex2_xlsx(stream, tmp_path / "a.xlsx", calls.append)
    assert written == 5 and calls == [2, 2, 1]
    values = _sheet_values((tmp_path / "a.xlsx").read_bytes())
    table = container.filing_reports.annex2(
        HENGYANG, "430400", dt.date(2026, 1, 1), dt.date(2026, 12, 31), full=True
    )
    # The streamed file holds the rows of the one-shot table, in the same order.
    cells = [tuple(v or "" for v in r[: len(table.columns)]) for r in values[3:8]]
    assert cells == table.rows
