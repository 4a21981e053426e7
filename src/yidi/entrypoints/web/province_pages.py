"""The offices' overview of filing work (地市报送情况) and the 报盘 batches.

* ``/province/submissions`` — per prefecture, for a quarter or a year: filings by
  state and by source, new and changed ones, the last submission and import, and
  open emergency filings near or past their deadline; as CSV or XLSX with the
  same cells. A province officer sees the prefectures of the province; an agency
  handler its own region's row only.
* ``/province/imports`` — past 报盘 batches, filtered by region and date, and
  ``/province/imports/{batch_id}`` — one batch's stored report (an audited read).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from fastapi import APIRouter, Request
from openpyxl import Workbook
from openpyxl.styles import Font
from starlette.responses import Response

from yidi.entrypoints.http.requests import container_of
from yidi.entrypoints.web.funds_pages import date_or_error
from yidi.entrypoints.web.guards import require_signed_in
from yidi.entrypoints.web.i18n import Lang, translate
from yidi.entrypoints.web.refusals import refusal_message
from yidi.entrypoints.web.render import (
    XLSX_MEDIA_TYPE,
    file_response,
    page_lang,
    page_principal,
    render,
)
from yidi.filing.model.lifecycle import FilingState
from yidi.filing.reports import (
    PROVINCE_LEVEL_NAME,
    FilingReports,
    SubmissionsReport,
    SubmissionsRow,
    period_bounds,
)
from yidi.kernel.access import Principal, Role, hidden
from yidi.kernel.clock import format_beijing
from yidi.kernel.errors import InvalidInput
from yidi.reference import queries as directory
from yidi.reports.cells import csv_text, workbook_bytes

BATCH_PAGE_SIZE = 20
MAX_PAGE_NUMBER = 10_000
YEAR_PERIOD = "year"
PERIOD_CHOICES = ("1", "2", "3", "4", YEAR_PERIOD)
STATE_COLUMNS = (
    FilingState.SUBMITTED,
    FilingState.APPROVED,
    FilingState.REJECTED,
    FilingState.SUPERSEDED,
    FilingState.CANCELLED,
    FilingState.EXPIRED,
)


def _reports(request: Request) -> FilingReports:
    return container_of(request).filing_reports


def _office(request: Request) -> Principal:
    principal = page_principal(request)
    require_signed_in(principal)
    return principal


def _time_text(at: dt.datetime | None) -> str:
    return format_beijing(at)


def region_codes(exchange: FilingReports, principal: Principal) -> list[str]:
    """The regions an office may choose: a province officer the province and each prefecture
    (济源 included for Henan), an agency handler only its own region."""
    rows = [code for code, _name in exchange.report_rows(principal)]
    own = principal.region_code or ""
    return [own, *(code for code in rows if code != own)]


# --- the submissions table ------------------------------------------------------------------


@dataclass(frozen=True)
class SubmissionsTable:
    """The table as it is shown and downloaded: one list of cells per row, the total last."""

    headings: list[str]
    rows: list[list[str | int]]
    total: list[str | int]
    codes: list[str]


def _row_name(row: SubmissionsRow, lang: Lang) -> str:
    if row.region_name == PROVINCE_LEVEL_NAME:
        return translate(lang, "submissions.province_level")
    return directory.region_name(row.region_code, english=lang == "en") or row.region_name


def _cells(row: SubmissionsRow, name: str) -> list[str | int]:
    return [
        row.region_code,
        name,
        *(row.by_state[state] for state in STATE_COLUMNS),
        row.total,
        row.counter,
        row.imported,
        row.new,
        row.changed,
        _time_text(row.last_submitted_at),
        _time_text(row.last_imported_at),
        row.emergency_near,
        row.emergency_late,
    ]


def submissions_table(report: SubmissionsReport, lang: Lang) -> SubmissionsTable:
    headings = [
        translate(lang, "submissions.code"),
        translate(lang, "submissions.region"),
        *(translate(lang, f"state.{state.value}") for state in STATE_COLUMNS),
        translate(lang, "submissions.total"),
        translate(lang, "submissions.counter"),
        translate(lang, "submissions.imported"),
        translate(lang, "submissions.new"),
        translate(lang, "submissions.changed"),
        translate(lang, "submissions.last_submitted"),
        translate(lang, "submissions.last_imported"),
        translate(lang, "submissions.emergency_near"),
        translate(lang, "submissions.emergency_late"),
    ]
    total = _cells(report.total, translate(lang, "submissions.sum"))
    total[0] = ""
    return SubmissionsTable(
        headings,
        [_cells(row, _row_name(row, lang)) for row in report.rows],
        total,
        [row.region_code for row in report.rows],
    )


def submissions_csv(table: SubmissionsTable) -> bytes:
    text = csv_text([table.headings, *table.rows, table.total])
    return text.encode("utf-8-sig")  # with a BOM: Excel opens it as UTF-8


def submissions_xlsx(table: SubmissionsTable, title: str) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "报送情况"
    sheet.append([title])
    sheet.cell(1, 1).font = Font(bold=True, size=14)
    sheet.append(table.headings)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for row in table.rows:
        sheet.append(row)
    sheet.append(table.total)
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    sheet.column_dimensions["B"].width = 16
    return workbook_bytes(workbook)


def _period(
    request: Request, lang: Lang, errors: dict[str, str]
) -> tuple[str, str, int, int | None]:
    """(year text, period text, year, quarter or None for the whole year); today's quarter
    by default."""
    today = container_of(request).clock.today()
    current = str((today.month - 1) // 3 + 1)
    year_text = request.query_params.get("year", "") or str(today.year)
    period_text = request.query_params.get("period", "") or current
    year = today.year
    if year_text.isdigit() and 2000 <= int(year_text) <= 2100:
        year = int(year_text)
    else:
        errors["year"] = translate(lang, "prepayment.invalid_year", low=2000, high=2100)
    quarter: int | None = int(current)
    if period_text == YEAR_PERIOD:
        quarter = None
    elif period_text in PERIOD_CHOICES:
        quarter = int(period_text)
    else:
        errors["period"] = translate(lang, "funds.choose_one")
    return year_text, period_text, year, quarter


def _submissions(request: Request) -> Response:
    principal = _office(request)
    lang = page_lang(request)
    exchange = _reports(request)
    exchange.report_rows(principal)  # refuses every role but the offices, before any work
    errors: dict[str, str] = {}
    year_text, period_text, year, quarter = _period(request, lang, errors)
    download = request.query_params.get("download", "")
    if download and download not in ("csv", "xlsx"):
        errors["download"] = translate(lang, "funds.choose_one")
    table = report = None
    if not errors:
        first_day, last_day = period_bounds(year, quarter)
        report = exchange.submissions(principal, first_day, last_day)
        table = submissions_table(report, lang)
        if download:
            label = f"{year}" if quarter is None else f"{year}Q{quarter}"
            name = f"submissions-{report.region_code}-{label}.{download}"
            title = translate(
                lang,
                "submissions.file_title",
                region=report.region_name,
                first=first_day.isoformat(),
                last=last_day.isoformat(),
            )
            content = (
                submissions_csv(table) if download == "csv" else submissions_xlsx(table, title)
            )
            media_type = "text/csv; charset=utf-8" if download == "csv" else XLSX_MEDIA_TYPE
            return file_response(request, content, media_type, name)
    periods = [(str(q), translate(lang, "submissions.quarter_n", n=q)) for q in range(1, 5)]
    periods.append((YEAR_PERIOD, translate(lang, "submissions.whole_year")))
    return render(
        request,
        "province_submissions.html",
        {
            "values": {"year": year_text, "period": period_text},
            "periods": periods,
            "errors": errors,
            "report": report,
            "table": table,
            "query": f"year={year}&period={period_text}",
        },
        status_code=422 if errors else 200,
    )


# --- 报盘 batches -------------------------------------------------------------------------------


def _imports(request: Request) -> Response:
    principal = _office(request)
    lang = page_lang(request)
    exchange = _reports(request)
    options = [("", translate(lang, "imports.all_regions"))]
    codes = region_codes(exchange, principal)
    english = lang == "en"
    for code in codes:
        label = directory.region_name(code, english=english)
        if principal.role is Role.PROVINCE_OFFICER and code == principal.region_code:
            label = translate(lang, "imports.province_accounts", region=label)
        options.append((code, label))
    errors: dict[str, str] = {}
    region = request.query_params.get("region", "")
    if region and region not in codes:
        errors["region"] = translate(lang, "funds.invalid_region")
    from_on = date_or_error(request.query_params.get("from", ""), "from", errors, lang)
    to_on = date_or_error(request.query_params.get("to", ""), "to", errors, lang)
    page_text = request.query_params.get("page", "") or "1"
    number = 1
    if page_text.isdigit() and 1 <= int(page_text) <= MAX_PAGE_NUMBER:
        number = int(page_text)
    else:
        errors["page"] = translate(lang, "imports.invalid_page")
    page = None
    if not errors:
        try:
            page = exchange.import_batches(
                principal,
                region=region or None,
                from_on=from_on,
                to_on=to_on,
                limit=BATCH_PAGE_SIZE,
                offset=(number - 1) * BATCH_PAGE_SIZE,
            )
        except InvalidInput as exc:
            errors[exc.field or "to"] = refusal_message(exc, lang)
    kept = "&".join(
        f"{key}={value}"
        for key, value in (
            ("region", region),
            ("from", request.query_params.get("from", "")),
            ("to", request.query_params.get("to", "")),
        )
        if value
    )
    pages = max(1, -(-page.total // BATCH_PAGE_SIZE)) if page else 1
    return render(
        request,
        "province_imports.html",
        {
            "options": options,
            "values": {
                "region": region,
                "from": request.query_params.get("from", ""),
                "to": request.query_params.get("to", ""),
            },
            "errors": errors,
            "page": page,
            "number": number,
            "pages": pages,
            "kept": kept,
            "region_label": lambda code: directory.region_name(code, english=english),
            "time_text": _time_text,
        },
        status_code=422 if errors else 200,
    )


def _import_batch(request: Request, batch_id: str) -> Response:
    principal = _office(request)
    exchange = _reports(request)
    exchange.report_rows(principal)  # the offices only
    if not batch_id.isdigit() or len(batch_id) > 12:
        raise hidden("报盘批次", "import_batch")
    found = exchange.import_batch_report(principal, int(batch_id))
    english = page_lang(request) == "en"
    return render(
        request,
        "province_import_batch.html",
        {
            "batch": found.batch,
            "report": found.report,
            "region_label": lambda code: directory.region_name(code, english=english),
            "time_text": _time_text,
        },
    )


def add_province_routes(router: APIRouter) -> None:
    router.add_api_route("/province/submissions", _submissions, methods=["GET"])
    router.add_api_route("/province/imports", _imports, methods=["GET"])
    router.add_api_route("/province/imports/{batch_id}", _import_batch, methods=["GET"])
