"""Filing pages (备案): the agency's queue, review, search and follow-up lists, 附件2 and 报盘,
the printable 附件1, and the insured person's own filings.

Scope is the service's: an agency handler sees its own region, a province
officer the province, an insured person only their own filings; anything else
is "not found". Lists are masked; the detail page is the audited full read.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from starlette.responses import Response

from yidi.entrypoints.http.requests import container_of
from yidi.entrypoints.web.change_fields import changed_labeller
from yidi.entrypoints.web.guards import redirect, require_csrf, require_signed_in
from yidi.entrypoints.web.i18n import Lang, label, translate
from yidi.entrypoints.web.province_pages import region_codes
from yidi.entrypoints.web.refusals import decide, field_errors
from yidi.entrypoints.web.render import (
    XLSX_MEDIA_TYPE,
    file_response,
    finish,
    page_lang,
    page_principal,
    pager,
    render,
)
from yidi.filing.commands import MAX_EVIDENCE_BYTES, FilingService
from yidi.filing.jobs import ImportJobs
from yidi.filing.model.change_requests import ChangeRequestState
from yidi.filing.model.evidence import EvidenceKind
from yidi.filing.model.lifecycle import FilingState
from yidi.filing.ports import ImportReport
from yidi.filing.queries import FilingDetail, FilingPage
from yidi.filing.reports import FilingReports
from yidi.kernel.access import Action, Principal, Role
from yidi.kernel.errors import ErrorKind, Forbidden, InvalidInput, YidiError
from yidi.reference import queries as directory
from yidi.reports.annex2_xlsx import annex2_xlsx, quarterly_xlsx
from yidi.reports.filing_pdf import annex1_pdf

MAX_IMPORT_BYTES = 32 * 1024 * 1024
PAGE_SIZE = 50
_ID_LIKE = re.compile(r"[0-9]{6,17}[0-9Xx]?")
_ID_FULL = re.compile(r"[0-9]{17}[0-9X]|[0-9]{15}")
_ID_TAIL = re.compile(r"[0-9]{3,16}[0-9X]")
_FILING_NUMBER = re.compile(r"BA[0-9]{6}-[0-9]{4}-[0-9]{6}")
PAGE_SIZES = (20, 50, 100)


def _service(request: Request) -> FilingService:
    return container_of(request).filings


def _reports(request: Request) -> FilingReports:
    return container_of(request).filing_reports


def _region_label(lang: Lang) -> Any:
    english = lang == "en"
    return lambda code: directory.region_name(code, english=english) if code else ""


def search_terms(
    text: str, *, number_prefix: str = "BA", number_field: str = "filing_number"
) -> dict[str, str]:
    """One search box: a record number (filings BA…, claims MC…), an ID number (digits), or
    else a name."""
    text = text.strip()
    if not text:
        return {}
    if text.upper().startswith(number_prefix):
        return {number_field: text.upper()}
    if _ID_LIKE.fullmatch(text):
        return {"id_number": text.upper()}
    return {"name": text}


def partial_search_terms(text: str) -> dict[str, str]:
    """The filing list's search box, forgiving: a whole filing number or its beginning
    (BA430421-2026), a whole ID number or at least its last four characters, a name or its
    beginning. Whole values are looked up exactly; parts by prefix or tail."""
    text = text.strip()
    if not text:
        return {}
    upper = text.upper()
    if upper.startswith("BA"):
        whole = _FILING_NUMBER.fullmatch(upper) is not None
        return {"filing_number" if whole else "filing_number_prefix": upper}
    if _ID_FULL.fullmatch(upper):
        return {"id_number": upper}
    if _ID_TAIL.fullmatch(upper):
        return {"id_number_tail": upper}
    return {"name_prefix": text}


# --- the agency's list and search ---------------------------------------------------------


def _filings_list(
    request: Request, q: str = "", state: str = "", page: str = "1", size: str = ""
) -> Response:
    principal = page_principal(request)
    require_signed_in(principal)
    principal.require(Action.FILING_LIST)
    if principal.role is Role.INSURED_PERSON:
        return redirect(request, "/me/filings")
    lang = page_lang(request)
    errors: dict[str, str] = {}
    chosen_state: FilingState | None = FilingState.SUBMITTED
    if state == "all":
        chosen_state = None
    elif state:
        if state in {s.value for s in FilingState}:
            chosen_state = FilingState(state)
        else:
            errors["state"] = translate(lang, "funds.choose_one")
    if q.strip() and state == "":
        chosen_state = None  # a search looks at every state unless one is chosen
    if len(q) > 64:
        errors["q"] = translate(lang, "filings.query_too_long")
    page_size = int(size) if size.isdigit() and int(size) in PAGE_SIZES else PAGE_SIZE
    page_number = int(page) if page.isdigit() and 0 < int(page) < 1_000_000 else 1
    found = None
    if not errors:
        try:
            terms = partial_search_terms(q)

            def one_page(number: int) -> FilingPage:
                return _service(request).search(
                    principal,
                    state=chosen_state,
                    limit=page_size,
                    offset=(number - 1) * page_size,
                    id_number=terms.get("id_number"),
                    id_number_tail=terms.get("id_number_tail"),
                    name_prefix=terms.get("name_prefix"),
                    filing_number=terms.get("filing_number"),
                    filing_number_prefix=terms.get("filing_number_prefix"),
                )

            found = one_page(page_number)
            if not found.items and found.total:  # past the end (the list shrank): the last page
                page_number = -(-found.total // page_size)
                found = one_page(page_number)
        except YidiError as exc:
            errors.update(field_errors(exc, lang, "q"))
    shown_state = state or ("all" if chosen_state is None else chosen_state.value)
    return render(
        request,
        "filings.html",
        {
            "q": q,
            "state": shown_state,
            "states": list(FilingState),
            "page": found,
            "errors": errors,
            "region_label": _region_label(lang),
            "pager": pager(
                "/filings",
                {"q": q, "state": shown_state, "size": str(page_size)},
                page_number,
                page_size,
                found.total if found else 0,
            ),
            "page_sizes": PAGE_SIZES,
            "page_size": page_size,
        },
        status_code=422 if errors else 200,
    )


OFFICES = frozenset({Role.AGENCY_HANDLER, Role.PROVINCE_OFFICER})


def _require_office(principal: Principal) -> None:
    """The follow-up lists are the agency's and the province's work, not the insured person's."""
    principal.require(Action.FILING_LIST)
    if principal.role not in OFFICES:
        raise Forbidden(
            "ACCESS_DENIED",
            f"{principal.role.label_zh}无权打开此页面",
            f"role {principal.role.value} may not open this page",
        )


def _emergency(request: Request) -> Response:
    principal = page_principal(request)
    _require_office(principal)
    due = _service(request).emergency_due(principal)
    return render(
        request,
        "filings_emergency.html",
        {"due": due, "region_label": _region_label(page_lang(request))},
    )


def _incomplete(request: Request) -> Response:
    principal = page_principal(request)
    _require_office(principal)
    rows = _service(request).incomplete(principal)
    return render(request, "filings_incomplete.html", {"rows": rows})


# --- one filing: detail, review, cancel, the printable form ---------------------------------


def _detail_page(
    request: Request,
    detail: FilingDetail,
    *,
    errors: dict[str, str] | None = None,
    reason: str = "",
    done: str = "",
    evidence_values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    principal = page_principal(request)
    lang = page_lang(request)
    submitted = detail.state is FilingState.SUBMITTED
    change_requests = container_of(request).change_requests.for_filing(principal, detail.filing_id)
    pending = any(r.state is ChangeRequestState.PENDING for r in change_requests)
    return render(
        request,
        "filing_detail.html",
        {
            "detail": detail,
            "record": detail.record,
            "ref": detail.filing_id,
            "errors": errors or {},
            "reason": reason,
            "done": done or request.query_params.get("done", ""),
            "can_review": submitted and principal.may(Action.FILING_REVIEW),
            "can_cancel": principal.may(Action.FILING_CANCEL)
            and detail.state
            in (
                FilingState.DRAFT,
                FilingState.SUBMITTED,
                FilingState.REJECTED,
                FilingState.APPROVED,
            ),
            "can_submit": principal.may(Action.FILING_CREATE)
            and detail.state in (FilingState.DRAFT, FilingState.REJECTED),
            "region_label": _region_label(lang),
            "back": "/me/filings" if principal.role is Role.INSURED_PERSON else "/filings",
            "evidence_kinds": [(kind.value, label(lang, kind)) for kind in EvidenceKind],
            "evidence_values": evidence_values or {},
            "max_mb": MAX_EVIDENCE_BYTES // (1024 * 1024),
            "change_requests": change_requests,
            "changed_labels": changed_labeller(lang),
            "can_request_change": principal.role is Role.INSURED_PERSON
            and detail.state is FilingState.APPROVED
            and detail.record.filing_number is not None
            and not pending,
        },
        status_code=status_code,
    )


def _filing_detail(request: Request, ref: str) -> Response:
    principal = page_principal(request)
    require_signed_in(principal)
    detail = _service(request).get(principal, ref)
    return _detail_page(request, detail)


def _transition(
    request: Request,
    ref: str,
    csrf_token: str,
    action: str,
    reason: str = "",
) -> Response:
    service = _service(request)

    def perform(principal: Principal, reason: str) -> FilingDetail:
        if action == "approve":
            return service.approve(principal, ref)
        if action == "reject":
            return service.reject(principal, ref, reason)
        if action == "cancel":
            return service.cancel(principal, ref, reason)
        return service.submit(principal, ref)

    return decide(
        request,
        csrf_token,
        action,
        reason,
        reason_required=action in ("reject", "cancel"),
        current=lambda principal: service.get(principal, ref),
        perform=perform,
        page=_detail_page,
        done_path=lambda detail: f"/filings/{detail.filing_id}",
    )


def _approve(request: Request, ref: str, csrf_token: Annotated[str, Form()] = "") -> Response:
    return _transition(request, ref, csrf_token, "approve")


def _with_reason(action: str) -> Callable[..., Response]:
    """The endpoint of a decision that takes a reason (reject, cancel)."""

    def endpoint(
        request: Request,
        ref: str,
        csrf_token: Annotated[str, Form()] = "",
        reason: Annotated[str, Form(max_length=500)] = "",
    ) -> Response:
        return _transition(request, ref, csrf_token, action, reason)

    return endpoint


_reject = _with_reason("reject")
_cancel = _with_reason("cancel")


def _submit(request: Request, ref: str, csrf_token: Annotated[str, Form()] = "") -> Response:
    return _transition(request, ref, csrf_token, "submit")


def _annex1(request: Request, ref: str) -> Response:
    """The printable 附件1 of one filing (the audited full read)."""
    principal = page_principal(request)
    require_signed_in(principal)
    detail = _service(request).get(principal, ref)
    content = annex1_pdf(detail.record)
    name = f"annex1-{detail.record.filing_number or detail.filing_id}.pdf"
    return file_response(request, content, "application/pdf", name, inline=True)


def _evidence_file(request: Request, ref: str, sha256: str) -> Response:
    principal = page_principal(request)
    require_signed_in(principal)
    media_type, content = _service(request).evidence_file(principal, ref, sha256)
    response = Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f"attachment; filename={sha256[:16]}"},
    )
    return finish(request, response)


# --- 附件2 export and 报盘 import -------------------------------------------------------------


def _annex2(request: Request) -> Response:
    principal = page_principal(request)
    principal.require(Action.FILING_EXPORT)
    lang = page_lang(request)
    start = request.query_params.get("from", "")
    end = request.query_params.get("to", "")
    today = container_of(request).clock.today()
    errors: dict[str, str] = {}
    dates: dict[str, dt.date] = {}
    for name, text, default in (
        ("from", start, today.replace(month=1, day=1)),
        ("to", end, today),
    ):
        try:
            dates[name] = dt.date.fromisoformat(text) if text else default
        except ValueError:
            errors[name] = translate(lang, "statistics.invalid_date")
    asked = "download" in request.query_params
    if asked and not errors:
        try:
            table = _reports(request).annex2(
                principal,
                principal.region_code or "",
                dates["from"],
                dates["to"],
            )
        except InvalidInput as exc:
            errors.update(field_errors(exc, lang, "to"))
        else:
            name = f"annex2-{table.region_code}-{dates['from']}-{dates['to']}.xlsx"
            return file_response(request, annex2_xlsx(table), XLSX_MEDIA_TYPE, name)
    return render(
        request,
        "filings_annex2.html",
        {
            "values": {
                "from": start or dates.get("from", today).isoformat(),
                "to": end or dates.get("to", today).isoformat(),
            },
            "errors": errors,
        },
        status_code=422 if errors else 200,
    )


def _quarterly(request: Request) -> Response:
    """每季度末新增（变更）备案人员信息: one table per prefecture, shown and as XLSX.

    A province officer chooses the province or one prefecture; an agency handler's
    region is fixed to its own."""
    principal = page_principal(request)
    require_signed_in(principal)
    principal.require(Action.FILING_EXPORT)
    lang = page_lang(request)
    exchange = _reports(request)
    today = container_of(request).clock.today()
    default_quarter = (today.month - 1) // 3 + 1
    year_text = request.query_params.get("year", "") or str(today.year)
    quarter_text = request.query_params.get("quarter", "") or str(default_quarter)
    codes = region_codes(exchange, principal)
    region = request.query_params.get("region", "") or codes[0]
    errors: dict[str, str] = {}
    if region not in codes:
        errors["region"] = translate(lang, "funds.invalid_region")
    year = today.year
    if year_text.isdigit() and 2000 <= int(year_text) <= 2100:
        year = int(year_text)
    else:
        errors["year"] = translate(lang, "prepayment.invalid_year", low=2000, high=2100)
    quarter = default_quarter
    if quarter_text in {"1", "2", "3", "4"}:
        quarter = int(quarter_text)
    else:
        errors["quarter"] = translate(lang, "funds.choose_one")
    listing = None
    if not errors:
        download = "download" in request.query_params
        # On screen always masked; the downloaded report as the service decides for the role.
        listing = exchange.quarterly(
            principal,
            region,
            year,
            quarter,
            full=None if download else False,
        )
        if download:
            name = f"quarterly-{listing.region_code}-{year}Q{quarter}.xlsx"
            return file_response(request, quarterly_xlsx(listing), XLSX_MEDIA_TYPE, name)
    region_label = _region_label(lang)
    return render(
        request,
        "filings_quarterly.html",
        {
            "values": {"year": year_text, "quarter": quarter_text, "region": region},
            "regions": [(code, region_label(code)) for code in codes],
            "errors": errors,
            "listing": listing,
        },
        status_code=422 if errors else 200,
    )


def _import_form(request: Request) -> Response:
    page_principal(request).require(Action.FILING_IMPORT)
    return render(request, "filings_import.html", {"errors": {}, "report": None})


def _import_upload(
    request: Request,
    file: Annotated[UploadFile | None, File()] = None,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Queue the file as a background import job and show the job's page."""
    principal = page_principal(request)
    require_signed_in(principal)
    principal.require(Action.FILING_IMPORT)
    require_csrf(request, csrf_token)
    lang = page_lang(request)
    errors: dict[str, str] = {}
    data = file.file.read(MAX_IMPORT_BYTES + 1) if file is not None else b""
    if not data:
        errors["file"] = translate(lang, "import.file_required")
    elif len(data) > MAX_IMPORT_BYTES:
        errors["file"] = translate(lang, "import.too_large", mb=MAX_IMPORT_BYTES // (1024 * 1024))
    else:
        try:
            job = _import_jobs(request).submit_import(
                principal,
                data,
                (file.filename if file is not None else "") or "import.csv",
                inline=container_of(request).settings.import_jobs == "inline",
            )
        except YidiError as exc:
            if exc.kind in (ErrorKind.FORBIDDEN, ErrorKind.UNAUTHENTICATED):
                raise
            errors.update(field_errors(exc, lang, "file"))
        else:
            return redirect(request, f"/filings/import/jobs/{job.id}")
    return render(
        request, "filings_import.html", {"errors": errors, "report": None}, status_code=422
    )


def _import_jobs(request: Request) -> ImportJobs:
    return container_of(request).import_jobs


def _import_job(request: Request, job_id: str) -> Response:
    """A job's page: progress while it runs (the page refreshes itself), then the report,
    or the reason it failed next to the file field."""
    principal = page_principal(request)
    require_signed_in(principal)
    principal.require(Action.FILING_IMPORT)
    lang = page_lang(request)
    job = _import_jobs(request).get(principal, job_id)
    errors: dict[str, str] = {}
    report = None
    if job.error:
        errors["file"] = str(job.error["message" if lang == "zh" else "message_en"])
    if job.result:
        report = ImportReport.from_dict(job.result, replayed=bool(job.result.get("replayed")))
    return render(
        request,
        "filings_import.html",
        {"errors": errors, "report": report, "job": job},
        status_code=422 if errors else 200,
    )


# --- the insured person's own filings --------------------------------------------------------


def _my_filings(request: Request) -> Response:
    principal = page_principal(request)
    require_signed_in(principal)
    if principal.role is not Role.INSURED_PERSON:
        return redirect(request, "/filings")
    page = _service(request).search(principal, limit=PAGE_SIZE)
    return render(
        request,
        "my_filings.html",
        {"page": page, "region_label": _region_label(page_lang(request))},
    )


def add_filing_routes(router: APIRouter) -> None:
    router.add_api_route("/filings", _filings_list, methods=["GET"])
    router.add_api_route("/filings/emergency", _emergency, methods=["GET"])
    router.add_api_route("/filings/incomplete", _incomplete, methods=["GET"])
    router.add_api_route("/filings/annex2", _annex2, methods=["GET"])
    router.add_api_route("/filings/quarterly", _quarterly, methods=["GET"])
    router.add_api_route("/filings/import", _import_form, methods=["GET"])
    router.add_api_route("/filings/import", _import_upload, methods=["POST"])
    router.add_api_route("/filings/import/jobs/{job_id}", _import_job, methods=["GET"])
    router.add_api_route("/filings/{ref}", _filing_detail, methods=["GET"])
    router.add_api_route("/filings/{ref}/approve", _approve, methods=["POST"])
    router.add_api_route("/filings/{ref}/reject", _reject, methods=["POST"])
    router.add_api_route("/filings/{ref}/cancel", _cancel, methods=["POST"])
    router.add_api_route("/filings/{ref}/submit", _submit, methods=["POST"])
    router.add_api_route("/filings/{ref}/annex1.pdf", _annex1, methods=["GET"])
    router.add_api_route("/filings/{ref}/evidence/{sha256}", _evidence_file, methods=["GET"])
    router.add_api_route("/me/filings", _my_filings, methods=["GET"])
