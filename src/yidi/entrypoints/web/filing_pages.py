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
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, File, Form, Request, UploadFile
from openpyxl import Workbook
from starlette.responses import Response

from yidi.entrypoints.http.requests import container_of
from yidi.entrypoints.web.change_fields import changed_labeller
from yidi.entrypoints.web.guards import redirect, require_csrf, require_signed_in
from yidi.entrypoints.web.i18n import Lang, label, translate
from yidi.entrypoints.web.province_pages import region_codes
from yidi.entrypoints.web.refusals import decide, field_errors, shown_refusal
from yidi.entrypoints.web.render import (
    XLSX_MEDIA_TYPE,
    file_response,
    page_lang,
    page_principal,
    pager,
    render,
)
from yidi.filing.commands import MAX_EVIDENCE_BYTES, FilingService
from yidi.filing.jobs import ImportJobs
from yidi.filing.model.annex import ANNEX2_COLUMNS
from yidi.filing.model.change_requests import ChangeRequestState
from yidi.filing.model.evidence import EvidenceKind
from yidi.filing.model.lifecycle import FilingState
from yidi.filing.ports import SORT_KEYS, FilingQuery, ImportReport
from yidi.filing.queries import FilingDetail, FilingPage
from yidi.filing.region_rules import region_filing_rules
from yidi.filing.reports import Annex2Table, FilingReports
from yidi.kernel.access import Action, Principal, Role
from yidi.kernel.clock import beijing
from yidi.kernel.errors import ErrorKind, Forbidden, InvalidInput, YidiError
from yidi.kernel.insurance import FilingCategory
from yidi.policy.national import national_model
from yidi.reference import queries as directory
from yidi.reports.annex2_xlsx import annex2_xlsx, quarterly_xlsx
from yidi.reports.cells import csv_text, workbook_bytes
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


@dataclass(frozen=True, slots=True)
class ListChoice:
    """What the filing list was asked for: filters, order and page, checked."""

    q: str
    state: str  # as shown in the form ("all", a state value)
    chosen_state: FilingState | None
    category: str
    assignee: str  # "", "mine" or "none"
    sort: str
    direction: str  # "asc" or "desc"
    page: int
    size: int
    errors: dict[str, str]

    def params(self) -> dict[str, str]:
        """The choice as query parameters (the pager's and the export links' own)."""
        return {
            "q": self.q,
            "state": self.state,
            "category": self.category,
            "assignee": self.assignee,
            "sort": self.sort,
            "dir": self.direction if self.sort else "",
            "size": str(self.size),
        }

    def query(self, principal: Principal) -> FilingQuery:
        terms = partial_search_terms(self.q)
        return FilingQuery(
            states=(self.chosen_state,) if self.chosen_state else (),
            category=FilingCategory(self.category) if self.category else None,
            assignee=self._assignee(principal),
            sort=self.sort,
            descending=self.direction == "desc",
            id_number=terms.get("id_number"),
            id_number_tail=terms.get("id_number_tail"),
            name_prefix=terms.get("name_prefix"),
            filing_number=terms.get("filing_number"),
            filing_number_prefix=terms.get("filing_number_prefix"),
        )

    def _assignee(self, principal: Principal) -> str | None:
        if self.assignee == "mine":
            return principal.user_id
        return "" if self.assignee == "none" else None


ASSIGNEE_CHOICES = ("", "mine", "none")


def _list_choice(request: Request, lang: Lang) -> ListChoice:
    params = request.query_params
    q, state = params.get("q", ""), params.get("state", "")
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
    category = params.get("category", "")
    if category and category not in {c.value for c in FilingCategory}:
        errors["category"] = translate(lang, "funds.choose_one")
    assignee = params.get("assignee", "")
    if assignee not in ASSIGNEE_CHOICES:
        errors["assignee"] = translate(lang, "funds.choose_one")
    sort = params.get("sort", "")
    if sort and sort not in SORT_KEYS:
        errors["sort"] = translate(lang, "funds.choose_one")
    direction = params.get("dir", "") or "asc"
    if direction not in ("asc", "desc"):
        errors["sort"] = translate(lang, "funds.choose_one")
    size, page = params.get("size", ""), params.get("page", "1")
    return ListChoice(
        q=q,
        state=state or ("all" if chosen_state is None else chosen_state.value),
        chosen_state=chosen_state,
        category=category if "category" not in errors else "",
        assignee=assignee if "assignee" not in errors else "",
        sort=sort if "sort" not in errors else "",
        direction=direction if "sort" not in errors else "asc",
        page=int(page) if page.isdigit() and 0 < int(page) < 1_000_000 else 1,
        size=int(size) if size.isdigit() and int(size) in PAGE_SIZES else PAGE_SIZE,
        errors=errors,
    )


def _sort_links(choice: ListChoice) -> dict[str, tuple[str, str]]:
    """Each sortable column's link (the other direction when it is the current order) and its
    aria-sort value."""
    links: dict[str, tuple[str, str]] = {}
    base = {k: v for k, v in choice.params().items() if v and k not in ("sort", "dir")}
    for key in SORT_KEYS:
        current = choice.sort == key
        direction = "desc" if current and choice.direction == "asc" else "asc"
        url = "/filings?" + urlencode({**base, "sort": key, "dir": direction})
        shown = ("ascending" if choice.direction == "asc" else "descending") if current else "none"
        links[key] = (url, shown)
    return links


def _filings_list(request: Request) -> Response:
    principal = page_principal(request)
    require_signed_in(principal)
    principal.require(Action.FILING_LIST)
    if principal.role is Role.INSURED_PERSON:
        return redirect(request, "/me/filings")
    lang = page_lang(request)
    choice = _list_choice(request, lang)
    errors = dict(choice.errors)
    page_number, page_size = choice.page, choice.size
    found = None
    if not errors:
        try:
            query = choice.query(principal)

            def one_page(number: int) -> FilingPage:
                return _service(request).search(
                    principal,
                    state=query.states[0] if query.states else None,
                    category=query.category,
                    assignee=query.assignee,
                    sort=query.sort,
                    descending=query.descending,
                    limit=page_size,
                    offset=(number - 1) * page_size,
                    id_number=query.id_number,
                    id_number_tail=query.id_number_tail,
                    name_prefix=query.name_prefix,
                    filing_number=query.filing_number,
                    filing_number_prefix=query.filing_number_prefix,
                )

            found = one_page(page_number)
            if not found.items and found.total:  # past the end (the list shrank): the last page
                page_number = -(-found.total // page_size)
                found = one_page(page_number)
        except YidiError as exc:
            errors.update(field_errors(exc, lang, "q"))
    may_assign = principal.may(Action.FILING_REVIEW)
    params = choice.params()
    return render(
        request,
        "filings.html",
        {
            "q": choice.q,
            "state": choice.state,
            "states": list(FilingState),
            "choice": choice,
            "categories": [
                (c.value, translate(lang, "category." + c.value)) for c in FilingCategory
            ],
            "assignee_choices": ASSIGNEE_CHOICES if may_assign else (),
            "page": found,
            "errors": errors,
            "region_label": _region_label(lang),
            "pager": pager("/filings", params, page_number, page_size, found.total if found else 0),
            "page_sizes": PAGE_SIZES,
            "page_size": page_size,
            "sort_links": _sort_links(choice),
            "sort_options": [(key, translate(lang, f"filings.sort_{key}")) for key in SORT_KEYS],
            "export_query": urlencode({k: v for k, v in params.items() if v and k != "size"}),
            "may_export_full": principal.role in OFFICES,
            "may_assign": may_assign,
            "reviewers": container_of(request).filing_assignments.reviewers(principal)
            if may_assign
            else [],
            "back_to": str(request.url.path)
            + ("?" + str(request.url.query) if request.url.query else ""),
        },
        status_code=422 if errors else 200,
    )


EXPORT_COLUMNS = (
    ("filings.number", "filing_number"),
    ("filings.name", "name"),
    ("filings.id_number", "id_number"),
    ("filings.category", "category"),
    ("filings.insured_region", "insured_region"),
    ("filings.destination", "destination"),
    ("filings.state", "state"),
    ("filings.submitted_at", "submitted_at"),
    ("filings.review_due", "review_due"),
    ("filings.assignee", "assignee"),
    ("filings.phone", "phone"),
)


def _filings_export(request: Request) -> Response:
    """The filtered list (every page, in its order) as CSV or XLSX: masked, or in full for an
    office role that asks for it (``full=1``). Audited as ``filing.list_export``."""
    principal = page_principal(request)
    require_signed_in(principal)
    _require_office(principal)
    lang = page_lang(request)
    choice = _list_choice(request, lang)
    fmt = request.query_params.get("format", "csv")
    if choice.errors or fmt not in ("csv", "xlsx"):
        raise InvalidInput(
            "FILING_EXPORT_CHOICE", "导出条件不正确", "the export's filters are not valid"
        )
    query = choice.query(principal)
    full = request.query_params.get("full") == "1" and principal.role in OFFICES
    rows = _service(request).export_rows(principal, query, full=full)
    region = _region_label(lang)
    lines: list[list[str]] = [[translate(lang, key) for key, _ in EXPORT_COLUMNS]]
    for summary, record in rows:
        phone = (
            (record.mobile or record.phone or "")
            if record is not None
            else (summary.mobile_masked or summary.phone_masked or "")
        )
        lines.append(
            [
                summary.filing_number or "",
                summary.name,
                (record.social_security_number or "") if record else summary.id_number_masked,
                translate(lang, "category." + summary.category.value) if summary.category else "",
                region(summary.insured_region_code),
                region(summary.destination_code),
                translate(lang, "state." + summary.state.value),
                beijing_text(summary.submitted_at),
                summary.review_due.isoformat() if summary.review_due else "",
                summary.assignee_name or summary.assignee or "",
                phone,
            ]
        )
    stamp = container_of(request).clock.today().isoformat()
    name = f"filings-{stamp}{'-full' if full else ''}.{fmt}"
    if fmt == "csv":
        content = ("\ufeff" + csv_text(lines)).encode("utf-8")
        return file_response(request, content, "text/csv; charset=utf-8", name)
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "备案"
    for line in lines:
        sheet.append(line)
    return file_response(request, workbook_bytes(workbook), XLSX_MEDIA_TYPE, name)


def beijing_text(at: dt.datetime | None) -> str:
    return beijing(at).strftime("%Y-%m-%d %H:%M") if at else ""


def _assign(
    request: Request,
    ref: str,
    csrf_token: Annotated[str, Form()] = "",
    assignee: Annotated[str, Form(max_length=64)] = "",
    back: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Assign a filing awaiting review to oneself or a colleague ("" releases it); back to the
    list (or the filing) it was done from."""
    principal = page_principal(request)
    require_signed_in(principal)
    require_csrf(request, csrf_token)
    principal.require(Action.FILING_REVIEW)
    chosen = principal.user_id if assignee == "me" else assignee
    try:
        lineage = container_of(request).filing_assignments.assign(principal, ref, chosen)
    except YidiError as exc:
        message, status = shown_refusal(exc, page_lang(request))  # access errors re-raised
        detail = _service(request).get(principal, ref)
        return _detail_page(request, detail, errors={"assign_form": message}, status_code=status)
    target = back if back.startswith("/filings") and "//" not in back else f"/filings/{lineage}"
    joiner = "&" if "?" in target else "?"
    return redirect(request, f"{target}{joiner}assigned={lineage}")


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


def _page_and_size(request: Request) -> tuple[int, int]:
    page, size = request.query_params.get("page", "1"), request.query_params.get("size", "")
    return (
        int(page) if page.isdigit() and 0 < int(page) < 1_000_000 else 1,
        int(size) if size.isdigit() and int(size) in PAGE_SIZES else PAGE_SIZE,
    )


def _incomplete(request: Request) -> Response:
    """待补充的历史备案, one page at a time with the total."""
    principal = page_principal(request)
    _require_office(principal)
    number, size = _page_and_size(request)
    # Paged by the database; a page past the end (the list shrank) gives the last page.
    found = _service(request).incomplete_page(principal, limit=size, offset=(number - 1) * size)
    number = found.offset // size + 1
    pages = pager("/filings/incomplete", {"size": str(size)}, number, size, found.total)
    return render(
        request,
        "filings_incomplete.html",
        {
            "rows": found.items,
            "total": found.total,
            "pager": pages,
            "page_sizes": PAGE_SIZES,
            "page_size": size,
        },
    )


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
    today = container_of(request).clock.today()
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
            "existing_approved": _service(request).existing_approved(principal, detail)
            if submitted
            else [],
            "may_assign": submitted and principal.may(Action.FILING_REVIEW),
            "reviewers": container_of(request).filing_assignments.reviewers(principal)
            if submitted and principal.may(Action.FILING_REVIEW)
            else [],
            "assignee": _service(request).assignee_of(principal, detail.filing_id)
            if submitted and principal.role in OFFICES
            else None,
            "promise_standing": detail.record.promise_standing(today),
            # What an unfulfilled promise becomes (the day's national rules, region choices).
            "promise_lapse_to": national_model(
                today, region_filing_rules(detail.record, today)
            ).promise_lapse_to,
            "previews": [
                (e.file, "image" if e.file.media_type.startswith("image/") else "pdf")
                for e in detail.evidence
                if e.file and e.file.media_type in _EXTENSIONS
            ],
        },
        status_code=status_code,
    )


def _filing_detail(request: Request, ref: str) -> Response:
    principal = page_principal(request)
    require_signed_in(principal)
    detail = _service(request).get(principal, ref)
    return _detail_page(request, detail)


#: Consequential decisions: the form's "I have checked" box must be ticked (a server-side
#: confirmation, so it works without scripts and is testable).
CONFIRMED_ACTIONS = frozenset({"approve", "cancel"})


def _transition(
    request: Request,
    ref: str,
    csrf_token: str,
    action: str,
    reason: str = "",
    confirm: str = "",
) -> Response:
    service = _service(request)
    if action in CONFIRMED_ACTIONS and confirm != "1":
        principal = page_principal(request)
        require_signed_in(principal)
        require_csrf(request, csrf_token)
        lang = page_lang(request)
        return _detail_page(
            request,
            service.get(principal, ref),
            errors={f"{action}_confirm": translate(lang, "detail.confirm_required")},
            reason=reason,
            status_code=422,
        )

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


def _approve(
    request: Request,
    ref: str,
    csrf_token: Annotated[str, Form()] = "",
    confirm: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    return _transition(request, ref, csrf_token, "approve", confirm=confirm)


def _with_reason(action: str) -> Callable[..., Response]:
    """The endpoint of a decision that takes a reason (reject, cancel)."""

    def endpoint(
        request: Request,
        ref: str,
        csrf_token: Annotated[str, Form()] = "",
        reason: Annotated[str, Form(max_length=500)] = "",
        confirm: Annotated[str, Form(max_length=8)] = "",
    ) -> Response:
        return _transition(request, ref, csrf_token, action, reason, confirm)

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


_EXTENSIONS = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}


def _evidence_file(request: Request, ref: str, sha256: str) -> Response:
    """A scan, saved with its own name and the extension of its type, or shown in the page
    (``?inline=1``: the reviewer's preview). Audited as ``filing.evidence_read``."""
    principal = page_principal(request)
    require_signed_in(principal)
    media_type, content, name = _service(request).evidence_scan(principal, ref, sha256)
    extension = _EXTENSIONS.get(media_type, ".bin")
    stem = re.sub(r"[^\w.\-]+", "_", name.rsplit(".", 1)[0] if "." in name else name)[:80]
    return file_response(
        request,
        content,
        media_type,
        quote(f"{stem or sha256[:16]}{extension}"),
        inline=request.query_params.get("inline") == "1",
    )


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
    # The official file (明文) for a role that may read full records, when asked; a province
    # officer's export is full by default (the service decides), an agency's masked.
    may_full = principal.role in OFFICES and principal.may(Action.FILING_READ)
    full = True if may_full and request.query_params.get("full") == "1" else None
    if asked and not errors:
        try:
            table = _reports(request).annex2(
                principal,
                principal.region_code or "",
                dates["from"],
                dates["to"],
                full=full,
            )
        except InvalidInput as exc:
            errors.update(field_errors(exc, lang, "to"))
        else:
            kind = "masked" if table.masked else "full"
            name = f"annex2-{table.region_code}-{dates['from']}-{dates['to']}-{kind}.xlsx"
            return file_response(request, annex2_xlsx(table), XLSX_MEDIA_TYPE, name)
    return render(
        request,
        "filings_annex2.html",
        {
            "values": {
                "from": start or dates.get("from", today).isoformat(),
                "to": end or dates.get("to", today).isoformat(),
                "full": full,
            },
            "errors": errors,
            "may_full": may_full,
            "region": principal.region_code or "",
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
    number, size = _page_and_size(request)
    if not errors:
        if "download" in request.query_params:
            # The downloaded report, complete, full or masked as the service decides for the role.
            whole = exchange.quarterly(principal, region, year, quarter)
            name = f"quarterly-{whole.region_code}-{year}Q{quarter}.xlsx"
            return file_response(request, quarterly_xlsx(whole), XLSX_MEDIA_TYPE, name)
        # On screen one page, masked, paged by the database (a page past the end: the last).
        listing = exchange.quarterly_page(
            principal, region, year, quarter, limit=size, offset=(number - 1) * size
        )
        number = listing.offset // size + 1
    total = listing.total if listing else 0
    pages = pager(
        "/filings/quarterly",
        {"region": region, "year": year_text, "quarter": quarter_text, "size": str(size)},
        number,
        size,
        total,
    )
    shown: list[tuple[Any, list[Any], int]] = []  # (table, its rows on this page, its total)
    if listing is not None:
        shown = [(table, table.rows, count) for table, count in listing.tables]
    region_label = _region_label(lang)
    return render(
        request,
        "filings_quarterly.html",
        {
            "values": {"year": year_text, "quarter": quarter_text, "region": region},
            "regions": [(code, region_label(code)) for code in codes],
            "errors": errors,
            "listing": listing,
            "shown": shown,
            "total": total,
            "pager": pages,
            "page_sizes": PAGE_SIZES,
            "page_size": size,
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


def _import_template(request: Request) -> Response:
    """An empty 附件2 (title, 市(县、市) line, headings, 注 lines): the layout the import reads."""
    principal = page_principal(request)
    require_signed_in(principal)
    principal.require(Action.FILING_IMPORT)
    region = principal.region_code or ""
    name = directory.region_name(region) if region else ""
    table = Annex2Table(region, name, "", ANNEX2_COLUMNS, [], False)
    return file_response(
        request, annex2_xlsx(table), XLSX_MEDIA_TYPE, f"annex2-template-{region}.xlsx"
    )


def _import_errors(request: Request, job_id: str) -> Response:
    """The rejected rows of an import job as CSV: 序号, 姓名, column, problem, file line."""
    principal = page_principal(request)
    require_signed_in(principal)
    principal.require(Action.FILING_IMPORT)
    job = _import_jobs(request).get(principal, job_id)
    report = (
        ImportReport.from_dict(job.result, replayed=bool(job.result.get("replayed")))
        if job.result
        else None
    )
    lines = [["序号", "姓名", "栏目", "问题", "文件行号"]]
    for error in report.errors if report else []:
        lines.append(
            [
                str(error.get("serial") or ""),
                str(error.get("name") or ""),
                str(error.get("column") or ""),
                str(error.get("message") or ""),
                str(error.get("row") or ""),
            ]
        )
    content = ("\ufeff" + csv_text(lines)).encode("utf-8")
    return file_response(
        request, content, "text/csv; charset=utf-8", f"import-errors-{job_id[:16]}.csv"
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
    router.add_api_route("/filings/export", _filings_export, methods=["GET"])
    router.add_api_route("/filings/emergency", _emergency, methods=["GET"])
    router.add_api_route("/filings/incomplete", _incomplete, methods=["GET"])
    router.add_api_route("/filings/annex2", _annex2, methods=["GET"])
    router.add_api_route("/filings/quarterly", _quarterly, methods=["GET"])
    router.add_api_route("/filings/import", _import_form, methods=["GET"])
    router.add_api_route("/filings/import", _import_upload, methods=["POST"])
    router.add_api_route("/filings/import/template.xlsx", _import_template, methods=["GET"])
    router.add_api_route("/filings/import/jobs/{job_id}", _import_job, methods=["GET"])
    router.add_api_route(
        "/filings/import/jobs/{job_id}/errors.csv", _import_errors, methods=["GET"]
    )
    router.add_api_route("/filings/{ref}", _filing_detail, methods=["GET"])
    router.add_api_route("/filings/{ref}/assign", _assign, methods=["POST"])
    router.add_api_route("/filings/{ref}/approve", _approve, methods=["POST"])
    router.add_api_route("/filings/{ref}/reject", _reject, methods=["POST"])
    router.add_api_route("/filings/{ref}/cancel", _cancel, methods=["POST"])
    router.add_api_route("/filings/{ref}/submit", _submit, methods=["POST"])
    router.add_api_route("/filings/{ref}/annex1.pdf", _annex1, methods=["GET"])
    router.add_api_route("/filings/{ref}/evidence/{sha256}", _evidence_file, methods=["GET"])
    router.add_api_route("/me/filings", _my_filings, methods=["GET"])
