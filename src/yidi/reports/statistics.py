"""One statistics report, four renderings: HTML, JSON, CSV, XLSX (the same numbers in each)."""

from __future__ import annotations

import functools
import json
from decimal import Decimal
from typing import Any

import jinja2
from openpyxl import Workbook
from openpyxl.styles import Font

from yidi.funds.statistics import STATISTICS_COLUMNS, StatisticsReport
from yidi.reports.cells import csv_text
from yidi.reports.funds_xlsx import AMOUNT_FORMAT, workbook_bytes

FORMATS = ("json", "csv", "xlsx", "html")
MEDIA_TYPES = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html; charset=utf-8",
}


def _title(report: StatisticsReport) -> str:
    query = report.query
    period = ""
    if query.settled_from or query.settled_to:
        period = f"（{query.settled_from or '…'} 至 {query.settled_to or '…'}）"
    return (
        f"{query.region_code} {query.direction.label_zh}，按{query.group_by.label_zh}统计{period}"
    )


def to_json(report: StatisticsReport) -> str:
    query = report.query
    body: dict[str, Any] = {
        "region_code": query.region_code,
        "direction": query.direction.value,
        "group_by": query.group_by.value,
        "settled_from": query.settled_from.isoformat() if query.settled_from else None,
        "settled_to": query.settled_to.isoformat() if query.settled_to else None,
        "columns": [{"key": k, "title": t} for k, t in STATISTICS_COLUMNS],
        "rows": [
            {k: str(v) if isinstance(v, Decimal) else v for k, v in record.items()}
            for record in report.records(with_total=False)
        ],
        "total": {
            k: str(v) if isinstance(v, Decimal) else v for k, v in report.records()[-1].items()
        },
        "by_clearing_type": [
            {k: str(v) if isinstance(v, Decimal) else v for k, v in record.items()}
            for record in report.kind_records()
        ],
    }
    return json.dumps(body, ensure_ascii=False, indent=2)


def to_csv(report: StatisticsReport) -> str:
    """UTF-8 with a BOM so spreadsheet programs on Chinese Windows read it right (the rows and
    the total; the same selection per clearing kind is the report grouped by clearing type)."""
    rows: list[list[object]] = [[title for _, title in STATISTICS_COLUMNS]]
    rows += [[record[key] for key, _ in STATISTICS_COLUMNS] for record in report.records()]
    return "\ufeff" + csv_text(rows)


def to_xlsx(report: StatisticsReport) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "统计"
    sheet["A1"] = _title(report)
    sheet["A1"].font = Font(bold=True)
    for c, (_, title) in enumerate(STATISTICS_COLUMNS, start=1):
        sheet.cell(2, c, title).font = Font(bold=True)
    _write_records(sheet, report.records())
    kinds = workbook.create_sheet("按清算类别")
    kinds["A1"] = f"{_title(report)}：按清算类别（住院、门诊、药店购药）"
    kinds["A1"].font = Font(bold=True)
    _write_records(kinds, report.kind_records())
    return workbook_bytes(workbook)


def _write_records(sheet: Any, records: list[dict[str, Any]]) -> None:
    """The column titles on row 2, one record a row below them."""
    for c, (_, title) in enumerate(STATISTICS_COLUMNS, start=1):
        sheet.cell(2, c, title).font = Font(bold=True)
    for r, record in enumerate(records, start=3):
        for c, (key, _) in enumerate(STATISTICS_COLUMNS, start=1):
            cell = sheet.cell(r, c, record[key])
            if isinstance(record[key], Decimal):
                cell.number_format = AMOUNT_FORMAT


@functools.cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("yidi.reports", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )


def to_html(report: StatisticsReport) -> str:
    template = _environment().get_template("statistics_table.html")
    return template.render(
        title=_title(report),
        columns=STATISTICS_COLUMNS,
        rows=report.records(with_total=False),
        total=report.records()[-1],
        kinds=report.kind_records(),
    )


def render(report: StatisticsReport, fmt: str) -> bytes:
    if fmt == "xlsx":
        return to_xlsx(report)
    text = {"json": to_json, "csv": to_csv, "html": to_html}[fmt](report)
    return text.encode("utf-8")
