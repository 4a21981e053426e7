"""No export writes data as a live spreadsheet formula (CSV/XLSX injection)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile

import pytest
from openpyxl import Workbook, load_workbook

from filing_support import (
    HENGYANG,
    HUNAN,
    household_registration,
    load_agencies,
    record,
)
from yidi.bootstrap import Container
from yidi.entrypoints.web.province_pages import SubmissionsTable, submissions_csv, submissions_xlsx
from yidi.filing.commands import FilingService
from yidi.filing.reports import FilingReports
from yidi.funds.model import FUNDS
from yidi.funds.statistics import (
    Dimension,
    Direction,
    StatisticsQuery,
    StatisticsReport,
    StatisticsRow,
)
from yidi.reports import statistics
from yidi.reports.annex2_xlsx import annex2_xlsx, quarterly_xlsx
from yidi.reports.cells import csv_cell, is_formula_like, workbook_bytes

EVIL = '=HYPERLINK("http://evil.example","点我")'
PAYLOADS = (EVIL, "+1+2", "-2+3", "@SUM(A1:A2)", "\t=1+1", "\r=1+1")


def _formulas(data: bytes) -> list[str]:
    """Every <f> (formula) element in the workbook's sheets."""
    found: list[str] = []
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                text = archive.read(name).decode("utf-8")
                if "<f>" in text or "<f " in text:
                    found.append(name)
    return found


def _text_cells(data: bytes) -> list[object]:
    workbook = load_workbook(io.BytesIO(data))
    return [c.value for s in workbook.worksheets for row in s.iter_rows() for c in row]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_the_one_helper_escapes_each_formula_trigger(payload: str) -> None:
    assert is_formula_like(payload)
    assert csv_cell(payload) == "'" + payload
    assert csv_cell("-12.50") == "-12.50" and csv_cell("谢某某") == "谢某某"
    assert csv_cell(-5) == -5
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append([payload, "普通文字", 3])
    data = workbook_bytes(workbook)
    assert _formulas(data) == []
    # the text itself is kept (XML reads a lone CR back as LF)
    assert _text_cells(data)[0] == payload.replace("\r", "\n")


def test_annex2_and_quarterly_xlsx_write_a_formula_like_name_as_text(container: Container) -> None:
    load_agencies(container.uow)
    service = FilingService(container.uow, container.clock)
    draft = service.create_draft(HENGYANG, record(name=EVIL), evidence=[household_registration()])
    service.submit(HENGYANG, draft.filing_id)
    service.approve(HENGYANG, draft.filing_id)
    reports = FilingReports(container.uow, container.clock)
    table = reports.annex2(HUNAN, "430400", dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    assert any(EVIL in row for row in table.rows)
    annex2 = annex2_xlsx(table)
    assert _formulas(annex2) == []
    assert EVIL in _text_cells(annex2)
    listing = reports.quarterly(HUNAN, "430400", 2026, 4)
    quarterly = quarterly_xlsx(listing)
    assert _formulas(quarterly) == []
    assert EVIL in _text_cells(quarterly)


def test_submissions_csv_and_xlsx_escape_text_cells() -> None:
    table = SubmissionsTable(
        headings=["地区", "人数"],
        rows=[[EVIL, 3], ["-2+3", 1]],
        total=["合计", 4],
        codes=["1", "2"],
    )
    rows = list(csv.reader(io.StringIO(submissions_csv(table).decode("utf-8-sig"))))
    assert rows[1][0] == "'" + EVIL and rows[2][0] == "'-2+3" and rows[1][1] == "3"
    data = submissions_xlsx(table, "报送情况")
    assert _formulas(data) == [] and EVIL in _text_cells(data)


def test_statistics_csv_and_xlsx_escape_text_cells() -> None:
    query = StatisticsQuery("430400", Direction.OUTBOUND, Dimension.TREATMENT_REGION)
    report = StatisticsReport(
        query, (StatisticsRow("450900", EVIL, 1, 100, tuple(0 for _ in FUNDS)),)
    )
    text = statistics.to_csv(report)
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[1][1] == "'" + EVIL
    data = statistics.to_xlsx(report)
    assert _formulas(data) == [] and EVIL in _text_cells(data)


def test_funds_workbooks_are_saved_through_the_helper() -> None:
    from yidi.reports import funds_xlsx

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.cell(1, 1, EVIL)
    assert _formulas(funds_xlsx.workbook_bytes(workbook)) == []
