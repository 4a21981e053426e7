"""报盘 uploads: a zip-bomb XLSX is refused before any XML is parsed, and imports run as
background jobs with progress, safe across a restart."""

from __future__ import annotations

import datetime as dt
import io
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import Engine, func, select

from filing_support import HENGYANG, annex2_csv
from hospital_support import committed_container
from yidi.bootstrap import Container
from yidi.filing.imports import FilingImports
from yidi.filing.jobs import DONE, FAILED, ImportJobs, JobWorker
from yidi.filing.model.annex import ANNEX2_COLUMNS
from yidi.kernel.errors import YidiError
from yidi.kernel.identity import Gender, make_resident_id
from yidi.platform import xlsx_guard
from yidi.platform.tables import filings, jobs

SCHEMA = "import_jobs_test"


def _workbook(rows: int = 0) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(list(ANNEX2_COLUMNS))
    for n in range(rows):
        number = make_resident_id("430421", dt.date(1950, 1, 1), 11 + 2 * n, Gender.MALE).number
        sheet.append(
            [
                str(n + 1),
                "430421",
                "",
                "某某",
                "男",
                number,
                "1",
                number,
                "",
                "某地",
                "",
                "13807341234",
                "2",
            ]
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _with_sheet(xlsx: bytes, chunks: Iterator[bytes]) -> bytes:
    """``xlsx`` with its first sheet's XML replaced by ``chunks`` (deflated as they stream)."""
    source = zipfile.ZipFile(io.BytesIO(xlsx))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for info in source.infolist():
            if info.filename == "xl/worksheets/sheet1.xml":
                with target.open(info.filename, "w", force_zip64=True) as handle:
                    for chunk in chunks:
                        handle.write(chunk)
            else:
                target.writestr(info, source.read(info.filename))
    return out.getvalue()


def _bomb(total_bytes: int, dimension: str = "A1:M2") -> Iterator[bytes]:
    yield (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<dimension ref="' + dimension.encode() + b'"/><sheetData>'
    )
    row = b'<row><c t="inlineStr"><is><t>x</t></is></c></row>'
    block = row * (1024 * 1024 // len(row))
    written = 0
    while written < total_bytes:
        yield block
        written += len(block)
    yield b"</sheetData></worksheet>"


@pytest.fixture
def imports(container: Container) -> FilingImports:
    return FilingImports(container.uow, container.clock)


def test_a_112_mb_zip_bomb_under_5_mb_is_refused_in_well_under_a_second(
    imports: FilingImports, container: Container
) -> None:
    bomb = _with_sheet(_workbook(), _bomb(112 * 1024 * 1024))
    assert len(bomb) < 5 * 1024 * 1024
    started = time.perf_counter()
    with pytest.raises(YidiError) as caught:
        imports.import_annex2(HENGYANG, bomb, "bomb.xlsx")
    elapsed = time.perf_counter() - started
    assert caught.value.code == "IMPORT_XLSX_TOO_LARGE"
    assert elapsed < 1.0, elapsed
    # Through the job queue it is refused at submission: no job row, nothing stored.
    with pytest.raises(YidiError) as again:
        ImportJobs(container.uow, container.clock).submit(HENGYANG, bomb, "bomb.xlsx")
    assert again.value.code == "IMPORT_XLSX_TOO_LARGE"
    with container.uow() as uow:
        assert uow.session.execute(select(func.count()).select_from(jobs)).scalar_one() == 0


def test_a_highly_compressed_sheet_is_refused_by_its_ratio(imports: FilingImports) -> None:
    bomb = _with_sheet(_workbook(), _bomb(3 * 1024 * 1024))
    with pytest.raises(YidiError) as caught:
        imports.import_annex2(HENGYANG, bomb, "ratio.xlsx")
    assert caught.value.code == "IMPORT_XLSX_TOO_LARGE"
    assert "sheet1.xml" in caught.value.message


@pytest.mark.parametrize("dimension", ["A1:M5000000", "A1:XFD10"])
def test_a_sheet_declaring_too_many_rows_or_columns_is_refused(
    imports: FilingImports, dimension: str
) -> None:
    data = _with_sheet(_workbook(), _bomb(1000, dimension))
    with pytest.raises(YidiError) as caught:
        imports.import_annex2(HENGYANG, data, "wide.xlsx")
    assert caught.value.code == "IMPORT_XLSX_TOO_LARGE"


def test_rows_past_the_limit_are_refused_while_reading(
    imports: FilingImports, container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(xlsx_guard, "MAX_ROWS", 5)
    data = _with_sheet(_workbook(), _bomb(0, dimension="A1:M1"))  # no rows declared
    ok = _workbook(rows=4)
    report = imports.import_annex2(HENGYANG, ok, "four.xlsx")
    assert report.imported == 4
    many = _workbook(rows=30)
    with pytest.raises(YidiError) as caught:
        imports.import_annex2(HENGYANG, many, "thirty.xlsx")
    assert caught.value.code == "IMPORT_XLSX_TOO_LARGE"
    assert data  # a sheet without rows is not refused by the limit
    with container.uow() as uow:
        assert uow.session.execute(select(func.count()).select_from(filings)).scalar_one() == 4


def _rows(count: int, seed: int) -> bytes:
    return annex2_csv(
        [
            (
                "430421",
                "某某",
                make_resident_id("430421", dt.date(1960, 1, 1), seed + 2 * n, Gender.MALE).number,
            )
            for n in range(count)
        ]
    )


def test_the_same_file_queued_twice_is_one_job_and_a_job_is_its_submitters(
    container: Container,
) -> None:
    queue = ImportJobs(container.uow, container.clock)
    first = queue.submit(HENGYANG, _rows(3, 1), "a.csv")
    second = queue.submit(HENGYANG, _rows(3, 1), "a.csv")
    assert first.id == second.id and first.state == "queued"
    assert queue.run_pending() == 1
    done = queue.get(HENGYANG, first.id)
    assert done.state == DONE and done.result is not None and done.result["imported"] == 3
    assert done.processed_rows == 3
    with container.uow() as uow:
        assert uow.jobs.get(first.id).payload is None  # the upload is not kept


@pytest.fixture
def committed(database_url: str, tmp_path: Path, migrated_engine: Engine) -> Iterator[Container]:
    with committed_container(database_url, migrated_engine, tmp_path, SCHEMA) as container:
        yield container


def test_the_worker_thread_runs_jobs_off_the_request_path(committed: Container) -> None:
    queue = ImportJobs(committed.uow, committed.clock)
    worker = JobWorker(queue)
    worker.start()
    try:
        job = queue.submit(HENGYANG, _rows(12, 100), "thread.csv")
        deadline = time.monotonic() + 30
        while not queue.get(HENGYANG, job.id).finished and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        worker.stop()
    finished = queue.get(HENGYANG, job.id)
    assert finished.state == DONE
    assert finished.result is not None and finished.result["imported"] == 12


def test_a_job_interrupted_by_a_restart_fails_and_can_be_submitted_again(
    committed: Container,
) -> None:
    data = _rows(5, 200)
    before = ImportJobs(committed.uow, committed.clock)
    job = before.submit(HENGYANG, data, "restart.csv")
    assert before._claim() is not None  # the server died right after taking the job
    committed.clock.advance(dt.timedelta(minutes=5))  # type: ignore[attr-defined]
    after = ImportJobs(committed.uow, committed.clock)  # the restarted server
    assert after.recover() == 1
    failed = after.get(HENGYANG, job.id)
    assert failed.state == FAILED and failed.error is not None
    assert failed.error["code"] == "JOB_INTERRUPTED"
    again = after.submit(HENGYANG, data, "restart.csv")
    assert again.id != job.id
    after.run_pending()
    assert after.get(HENGYANG, again.id).result["imported"] == 5  # type: ignore[index]
    third = after.submit(HENGYANG, data, "restart.csv")
    after.run_pending()
    replay = after.get(HENGYANG, third.id).result
    assert replay is not None and replay["replayed"] is True
    with committed.uow() as uow:
        assert uow.session.execute(select(func.count()).select_from(filings)).scalar_one() == 5
