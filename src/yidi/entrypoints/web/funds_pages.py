"""Pages of the money side (资金): 附件3/附件4 estimates, clearing statements, statistics.

Province officers estimate and clear, clearing officers clear, agency handlers
see their own region. The handlers call the services directly (the JSON API
serves the same data to programs); every number on a chart is also printed
beside it.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import secrets
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import Response

from yidi.bootstrap import Container
from yidi.entrypoints.http.requests import container_of
from yidi.entrypoints.web.guards import redirect, require_csrf, require_signed_in
from yidi.entrypoints.web.i18n import Lang, translate
from yidi.entrypoints.web.refusals import refusal_message
from yidi.entrypoints.web.render import file_response, page_lang, page_principal, render
from yidi.funds import commands as service
from yidi.funds.model import (
    CLEARING_KINDS,
    FUNDS,
    ClearingKind,
    ClearingLevel,
    KindDue,
    parse_month,
)
from yidi.funds.prepayment import (
    COLUMN_COUNT,
    Annex,
    AnnexRow,
    EstimateMethod,
    PrepaymentEstimate,
    TopUpStatus,
)
from yidi.funds.statistics import (
    Dimension,
    Direction,
    StatisticsQuery,
    StatisticsReport,
    outbound_sentence,
)
from yidi.kernel.access import Action, Principal
from yidi.kernel.clock import format_beijing
from yidi.kernel.errors import Conflict, InvalidInput, NotFound, Refused, YidiError
from yidi.kernel.money import Money
from yidi.kernel.regions import DivisionLevel, annex3_henan_rows, default_registry
from yidi.policy.national import default_prepayment_months
from yidi.reference import queries as directory
from yidi.reports.funds_xlsx import annex_workbook, statement_workbook, workbook_bytes
from yidi.reports.statistics import MEDIA_TYPES
from yidi.reports.statistics import render as render_statistics

HENAN = "410000"
MIN_YEAR, MAX_YEAR = 2000, 2100


def yuan_text(fen: int) -> str:
    """Fen as yuan with thousands separators: 123456 -> "1,234.56"."""
    return f"{Decimal(fen).scaleb(-2):,.2f}"


def _yuan_plain(fen: int) -> str:
    """Fen as a plain decimal string for the charts' data: 123456 -> "1234.56"."""
    return str(Decimal(fen).scaleb(-2).quantize(Decimal("0.01")))


# --- which regions a principal may choose -------------------------------------------


@functools.cache
def _regions_within(code: str) -> tuple[str, ...]:
    """The region itself and, for a province, the pools below it (Henan: 附件3's rows)."""
    registry = default_registry()
    if not code.endswith("0000") or not registry.exists(code):
        return (code,)
    if code == HENAN:
        below = [d.code for d in annex3_henan_rows(registry, include_jiyuan=True)]
    else:
        below = [d.code for d in registry.children(code) if d.level is DivisionLevel.PREFECTURE]
    return (code, *below)


@functools.cache
def _all_provinces() -> tuple[str, ...]:
    registry = default_registry()
    return tuple(
        d.code for d in registry.all(include_retired=False) if d.level is DivisionLevel.PROVINCE
    )


def region_choices(principal: Principal) -> tuple[str, ...]:
    """Regions this principal may look at: its own and those inside it; every province for
    a principal bound to no region (the administrator)."""
    if principal.region_code is None:
        return _all_provinces()
    return _regions_within(principal.region_code)


def _region_options(codes: Sequence[str], lang: Lang) -> list[tuple[str, str]]:
    english = lang == "en"
    return [(code, directory.region_name(code, english=english)) for code in codes]


def _chosen_region(
    principal: Principal, asked: str, errors: dict[str, str], lang: Lang
) -> str | None:
    choices = region_choices(principal)
    if not choices:
        return None
    if not asked:
        return principal.region_code or choices[0]
    if asked in choices:
        return asked
    errors["region"] = translate(lang, "funds.invalid_region")
    return principal.region_code or choices[0]


# --- 附件3 / 附件4 ---------------------------------------------------------------------


def _annex_cells(row: AnnexRow) -> list[str]:
    """Odd columns person-times, even columns amounts in yuan."""
    return [
        str(row.column(n)) if n % 2 == 1 else yuan_text(row.column(n))
        for n in range(1, COLUMN_COUNT + 1)
    ]


def _history_rows(estimate: PrepaymentEstimate) -> list[dict[str, Any]]:
    """Rows with any history, and the 合计 row: each year's 合计 columns beside the estimate."""
    proposal = {line.code: line.prepayment_fen for line in estimate.proposal}
    rows: list[dict[str, Any]] = []
    for index, chosen in enumerate((*estimate.chosen.rows, estimate.chosen.total)):
        is_total = index == len(estimate.chosen.rows)
        past = [table.total if is_total else table.rows[index] for table in estimate.history]
        if not is_total and not any(r.column(1) or r.column(2) for r in past):
            continue
        rows.append(
            {
                "label": chosen.label,
                "total": is_total,
                "years": [(r.column(1), yuan_text(r.column(2))) for r in past],
                "estimate": (chosen.column(1), yuan_text(chosen.column(2))),
                "prepayment": yuan_text(
                    estimate.proposal_total_fen if is_total else proposal.get(chosen.code, 0)
                ),
            }
        )
    return rows


def _checked_prepayment(
    request: Request, values: dict[str, str]
) -> tuple[Principal, dict[str, Any], dict[str, str]]:
    """The estimator (page and download alike) and the parameters asked for, checked."""
    principal = page_principal(request)
    principal.require(Action.PREPAYMENT_ESTIMATE)
    lang = page_lang(request)
    errors: dict[str, str] = {}
    today = container_of(request).clock.today()
    region = _chosen_region(principal, values.get("region", ""), errors, lang)
    year_text = values.get("year", "") or str(today.year + 1)
    year = today.year + 1
    if year_text.isdigit() and MIN_YEAR <= int(year_text) <= MAX_YEAR:
        year = int(year_text)
    else:
        errors["year"] = translate(lang, "prepayment.invalid_year", low=MIN_YEAR, high=MAX_YEAR)
    annex_text = values.get("annex", "") or "3"
    annex = Annex.IN_PROVINCE
    if annex_text in {"3", "4"}:
        annex = Annex(int(annex_text))
    else:
        errors["annex"] = translate(lang, "funds.choose_one")
    method_text = values.get("method", "") or EstimateMethod.AVERAGE.value
    method = EstimateMethod.AVERAGE
    if method_text in {m.value for m in EstimateMethod}:
        method = EstimateMethod(method_text)
    else:
        errors["method"] = translate(lang, "funds.choose_one")
    months = default_prepayment_months()
    months_text = values.get("months", "") or str(months)
    if months_text.isdigit() and 1 <= int(months_text) <= 12:
        months = int(months_text)
    else:
        errors["months"] = translate(lang, "prepayment.invalid_months")
    params = {"region": region, "year": year, "annex": annex, "method": method, "months": months}
    return principal, params, errors


def _prepayment_query(
    region: str = "", year: str = "", annex: str = "", method: str = "", months: str = ""
) -> dict[str, str]:
    """The estimate's query string as typed; ``_checked_prepayment`` checks it."""
    return {"region": region, "year": year, "annex": annex, "method": method, "months": months}


PrepaymentQuery = Annotated[dict[str, str], Depends(_prepayment_query)]


def _estimate(request: Request, params: dict[str, Any]) -> PrepaymentEstimate:
    return service.estimate_prepayment(
        container_of(request).uow(),
        params["annex"],
        params["region"],
        params["year"],
        method=params["method"],
        prepayment_months=params["months"],
    )


def _prepayment_page(request: Request, asked: PrepaymentQuery) -> Response:
    principal, params, errors = _checked_prepayment(request, asked)
    lang = page_lang(request)
    estimate: PrepaymentEstimate | None = None
    form_error: str | None = None
    if not errors and params["region"] is not None:
        try:
            estimate = _estimate(request, params)
        except YidiError as exc:
            form_error = refusal_message(exc, lang)
    context: dict[str, Any] = {
        "params": params,
        "errors": errors,
        "form_error": form_error,
        "estimate": estimate,
        "region_options": _region_options(region_choices(principal), lang),
        "method_options": [(m.value, translate(lang, f"method.{m.value}")) for m in EstimateMethod],
    }
    if estimate is not None:
        table = estimate.chosen
        context["table_rows"] = [
            (row.label, _annex_cells(row), row is table.total) for row in (*table.rows, table.total)
        ]
        context["history_rows"] = _history_rows(estimate)
        years = [t.year for t in estimate.history]
        totals = [t.total for t in estimate.history] + [table.total]
        labels = [str(y) for y in years] + [
            translate(lang, "prepayment.estimate_year", year=estimate.target_year)
        ]
        context["by_year"] = [
            (label, total.column(1), yuan_text(total.column(2)))
            for label, total in zip(labels, totals, strict=True)
        ]
        context["chart"] = {
            "labels": labels,
            "values": [_yuan_plain(total.column(2)) for total in totals],
            "label": translate(lang, "prepayment.fund_spend"),
        }
        context["download_query"] = (
            f"region={params['region']}&year={params['year']}&annex={int(params['annex'])}"
            f"&method={params['method'].value}&months={params['months']}"
        )
        context["has_history"] = any(
            t.total.column(1) or t.total.column(2) for t in estimate.history
        )
    context["usage"] = _usage_section(request, principal, lang)
    return render(request, "prepayment.html", context, status_code=422 if errors else 200)


def _usage_section(request: Request, principal: Principal, lang: Lang) -> dict[str, Any]:
    """预付金使用率与预警 of this year, both levels, as the viewer may see them."""
    container = container_of(request)
    rule = service.prepayment_warning_rule(container.clock)
    can_request = principal.may(Action.PREPAYMENT_TOP_UP)
    rows = [
        {
            "level": translate(lang, f"clearing.level_{level.value}"),
            "insured": directory.region_name(usage.insured_region_code),
            "treatment": directory.region_name(usage.treatment_region_code),
            "held": yuan_text(usage.held.fen),
            "drawn": yuan_text(usage.drawn.fen),
            "ratio": usage.ratio_percent,
            "warning": usage.warning.value,
            "warning_label": translate(lang, f"prepayment_usage.{usage.warning.value}"),
            "top_up": yuan_text(usage.suggested_top_up.fen) if usage.suggested_top_up.fen else "",
            "top_up_plain": _yuan_plain(usage.suggested_top_up.fen),
            "level_value": level.value,
            "insured_code": usage.insured_region_code,
            "treatment_code": usage.treatment_region_code,
            "can_request": can_request and usage.warning.value != "none",
        }
        for level in ClearingLevel
        for usage in service.prepayment_usages(
            container.uow(), container.clock, level, actor=principal
        )
    ]
    return {
        "year": container.clock.today().year,
        "yellow": f"{rule.yellow * 100:.0f}%",
        "red": f"{rule.red * 100:.0f}%",
        "rows": rows,
        "can_request": can_request,
        # one key per rendered form: submitting it twice records one request
        "request_key": secrets.token_hex(16),
    }


# --- 补充预付金申请与审批 (top-up requests and their decision) ------------------------


def _top_ups_page(
    request: Request, *, form_error: str | None = None, status_code: int = 200
) -> Response:
    principal = page_principal(request)
    require_signed_in(principal)
    lang = page_lang(request)
    rows = []
    for found in service.top_up_requests(container_of(request).uow(), principal):
        ratio = Decimal(found.drawn_fen) / Decimal(found.held_fen) if found.held_fen else None
        rows.append(
            {
                "id": found.id,
                "level": translate(lang, f"clearing.level_{found.level}"),
                "insured": directory.region_name(found.insured_region_code),
                "treatment": directory.region_name(found.treatment_region_code),
                "ratio": "—" if ratio is None else f"{ratio * 100:.1f}%",
                "warning": found.warning,
                "warning_label": translate(lang, f"prepayment_usage.{found.warning}"),
                "suggested": yuan_text(found.suggested_fen),
                "suggested_plain": _yuan_plain(found.suggested_fen),
                "status": found.status.value,
                "status_label": translate(lang, f"top_ups.{found.status.value}"),
                "approved": "" if found.approved_fen is None else yuan_text(found.approved_fen),
                "reason": found.decision_reason or "",
                "decided_by": found.decided_by or "",
                "open": found.status is TopUpStatus.REQUESTED,
            }
        )
    done = ""
    if request.query_params.get("requested", "").isdigit():
        done = translate(lang, "top_ups.done_requested", id=request.query_params["requested"])
    elif request.query_params.get("decided", "").isdigit():
        done = translate(lang, "top_ups.done_decided", id=request.query_params["decided"])
    return render(
        request,
        "top_ups.html",
        {
            "rows": rows,
            "can_decide": principal.may(Action.PREPAYMENT_APPROVE),
            "done": done,
            "form_error": form_error,
            "decision_key": secrets.token_hex(16),
        },
        status_code=status_code,
    )


def _top_ups_get(request: Request) -> Response:
    return _top_ups_page(request)


def _form_idempotency(key: str, fields: dict[str, str]) -> tuple[str, str] | None:
    if not key or len(key) > 64:
        return None
    return key, hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


def _top_up_request_form(
    request: Request,
    level: Annotated[str, Form()] = "",
    insured_region_code: Annotated[str, Form()] = "",
    treatment_region_code: Annotated[str, Form()] = "",
    request_key: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    principal = page_principal(request)
    require_signed_in(principal)
    principal.require(Action.PREPAYMENT_TOP_UP)
    require_csrf(request, csrf_token)
    container = container_of(request)
    lang = page_lang(request)
    if level not in {choice.value for choice in ClearingLevel}:
        return _top_ups_page(
            request, form_error=translate(lang, "funds.choose_one"), status_code=422
        )
    fields = {"level": level, "insured": insured_region_code, "treatment": treatment_region_code}
    try:
        answer = service.request_top_up(
            container.uow(),
            container.clock,
            principal,
            ClearingLevel(level),
            insured_region_code,
            treatment_region_code,
            idempotency=_form_idempotency(request_key, fields),
        )
    except (InvalidInput, Refused, NotFound) as error:
        return _top_ups_page(request, form_error=refusal_message(error, lang), status_code=422)
    return redirect(request, f"/funds/prepayment/top-ups?requested={answer['request_id']}")


def _top_up_decision_form(
    request: Request,
    request_id: str,
    decision: Annotated[str, Form()] = "",
    amount: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    decision_key: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    principal = page_principal(request)
    require_signed_in(principal)
    principal.require(Action.PREPAYMENT_APPROVE)
    require_csrf(request, csrf_token)
    if not request_id.isdigit() or len(request_id) > 18:
        raise NotFound(
            "PREPAYMENT_TOP_UP_NOT_FOUND", "未找到该补充预付金申请", "top-up request not found"
        )
    number = int(request_id)
    container = container_of(request)
    lang = page_lang(request)
    approved: Money | None = None
    if decision == "approve" and amount.strip():
        try:
            value = Decimal(amount.strip().replace(",", ""))
        except ArithmeticError:
            value = Decimal(-1)
        if not value.is_finite() or value <= 0 or value != value.quantize(Decimal("0.01")):
            return _top_ups_page(
                request, form_error=translate(lang, "top_ups.invalid_amount"), status_code=422
            )
        approved = Money(value)
    if decision not in {"approve", "reject"}:
        return _top_ups_page(
            request, form_error=translate(lang, "funds.choose_one"), status_code=422
        )
    fields = {"id": request_id, "decision": decision, "amount": amount, "reason": reason}
    try:
        service.decide_top_up(
            container.uow(),
            container.clock,
            principal,
            number,
            approve=decision == "approve",
            amount=approved,
            reason=reason,
            idempotency=_form_idempotency(decision_key, fields),
        )
    except (InvalidInput, Conflict, NotFound) as error:
        return _top_ups_page(request, form_error=refusal_message(error, lang), status_code=422)
    return redirect(request, f"/funds/prepayment/top-ups?decided={number}")


def _prepayment_download(request: Request, asked: PrepaymentQuery) -> Response:
    _, params, errors = _checked_prepayment(request, asked)
    if errors or params["region"] is None:
        raise NotFound("REGION_NOT_FOUND", "未找到该地区", "region not found")
    estimate = _estimate(request, params)
    today = container_of(request).clock.today()
    content = workbook_bytes(annex_workbook(estimate, prepared_on=today))
    filename = f"annex{int(params['annex'])}-{params['region']}-{params['year']}.xlsx"
    return file_response(request, content, MEDIA_TYPES["xlsx"], filename)


# --- clearing statements ------------------------------------------------------------


def _previous_month(today: dt.date) -> str:
    first = today.replace(day=1) - dt.timedelta(days=1)
    return f"{first.year:04d}-{first.month:02d}"


def _clearing_params(
    request: Request, month: str, level: str
) -> tuple[str, ClearingLevel, dict[str, str]]:
    lang = page_lang(request)
    errors: dict[str, str] = {}
    month = month.strip() or _previous_month(container_of(request).clock.today())
    try:
        parse_month(month)
    except YidiError:
        errors["month"] = translate(lang, "clearing.invalid_month")
    chosen = ClearingLevel.PROVINCE
    if level in {v.value for v in ClearingLevel}:
        chosen = ClearingLevel(level)
    elif level:
        errors["level"] = translate(lang, "funds.choose_one")
    return month, chosen, errors


def _clearing_page(
    request: Request,
    month: str = "",
    level: str = "",
    *,
    errors: dict[str, str] | None = None,
    ran: bool = False,
) -> Response:
    principal = page_principal(request)
    principal.require(Action.CLEARING_READ)
    month, chosen, field_errors = _clearing_params(request, month, level)
    choice_valid = not field_errors
    field_errors.update(errors or {})
    result = None
    if choice_valid:
        try:
            result = service.clearing_statement(
                container_of(request).uow(), month, chosen, principal
            )
        except NotFound:
            result = None
    lines = []
    if result is not None:
        for line in result.statement.lines:
            lines.append(
                {
                    "insured": line.insured_region_name,
                    "treatment": line.treatment_region_name,
                    "person_times": line.person_times,
                    "funds": [yuan_text(line.due_by_fund[f].fen) for f in FUNDS],
                    "due_total": yuan_text(line.due_total.fen),
                    "adjustment": yuan_text(line.adjustment_total.fen),
                    "applied": yuan_text(line.prepayment_applied.fen),
                    "balance": yuan_text(line.balance_to_pay.fen),
                    "mine": principal.region_code is not None
                    and (
                        principal.covers_region(line.insured_region_code)
                        or principal.covers_region(line.treatment_region_code)
                    ),
                }
            )
    adjustments = [
        {
            "dispute_id": a.dispute_id,
            "pair": f"{a.insured_region_code} → {a.treatment_region_code}",
            "hospital": a.hospital_code,
            "concerns": a.concerns_month,
            "settlement": a.settlement_id or "—",
            "refund": a.refund,
            "amount": yuan_text(a.amount.fen),
            "decided": f"{a.decided_by} {format_beijing(a.decided_at)}",
            "reason": a.reason,
        }
        for a in (result.statement.adjustments if result is not None else ())
    ]
    by_kind = result.statement.by_kind if result is not None else None
    return render(
        request,
        "clearing.html",
        {
            "kinds": _clearing_kind_rows(by_kind) if by_kind is not None else None,
            "month": month,
            "level": chosen,
            "levels": list(ClearingLevel),
            "errors": field_errors,
            "result": result,
            "lines": lines,
            "adjustments": adjustments,
            "funds": FUNDS,
            "fund_totals": [
                yuan_text(sum(line.due_by_fund[f].fen for line in result.statement.lines))
                for f in FUNDS
            ]
            if result
            else [],
            "yuan": yuan_text,
            "can_run": principal.may(Action.CLEARING_RUN),
            "can_close": principal.may(Action.CLEARING_CLOSE),
            "ran": ran or request.query_params.get("ran") == "1",
            "reopened": request.query_params.get("reopened") == "1",
            # 对账差异 of the month still open (a flag, not a block: docs/reconciliation-disputes.md)
            "open_disputes": container_of(request).disputes.open_count(principal, month)
            if choice_valid
            else 0,
        },
        status_code=422 if field_errors else 200,
    )


def _clearing_kind_rows(by_kind: Mapping[ClearingKind, KindDue]) -> list[dict[str, Any]]:
    """The statement's person-times and due per clearing kind, every kind listed."""
    rows = []
    for kind in CLEARING_KINDS:
        due = by_kind.get(kind, KindDue(0, Money.zero()))
        rows.append(
            {
                "kind": kind.name.lower(),
                "code": kind.value,
                "person_times": due.person_times,
                "due_total": yuan_text(due.due_total.fen),
            }
        )
    return rows


def _clearing_get(request: Request, month: str = "", level: str = "") -> Response:
    return _clearing_page(request, month, level)


def _clearing_form(
    request: Request,
    csrf_token: str,
    month: str,
    level: str,
    *,
    action: Action,
    run: Callable[[Container, str, ClearingLevel, Principal], object],
    refusal: type[YidiError],
    field: str,
    done: str,
) -> Response:
    """A form on the clearing page (run, reopen): the month and level checked, a ``refusal``
    shown by ``field``, success back on the statement with ``done=1``."""
    principal = page_principal(request)
    require_signed_in(principal)
    principal.require(action)
    require_csrf(request, csrf_token)
    month, chosen, errors = _clearing_params(request, month, level or "province")
    if errors:
        return _clearing_page(request, month, chosen.value, errors=errors)
    try:
        run(container_of(request), month, chosen, principal)
    except refusal as error:
        return _clearing_page(request, month, chosen.value, errors={field: error.message})
    return redirect(request, f"/funds/clearing?month={month}&level={chosen.value}&{done}=1")


def _clearing_run(
    request: Request,
    month: Annotated[str, Form()] = "",
    level: Annotated[str, Form()] = "",
    close: Annotated[str, Form()] = "",
    confirm_close: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    if close == "1" and confirm_close != "1":  # closing a month is final: confirm it first
        principal = page_principal(request)
        require_signed_in(principal)
        principal.require(Action.CLEARING_CLOSE)
        require_csrf(request, csrf_token)
        message = translate(page_lang(request), "clearing.confirm_close_required")
        return _clearing_page(
            request, month, level or "province", errors={"confirm_close": message}
        )
    return _clearing_form(
        request,
        csrf_token,
        month,
        level,
        action=Action.CLEARING_RUN,
        run=lambda container, month, chosen, principal: service.run_clearing(
            container.uow(), container.clock, month, chosen, close=close == "1", actor=principal
        ),
        refusal=Refused,  # the month has not ended yet
        field="month",
        done="ran",
    )


def _clearing_reopen(
    request: Request,
    month: Annotated[str, Form()] = "",
    level: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    return _clearing_form(
        request,
        csrf_token,
        month,
        level,
        action=Action.CLEARING_CLOSE,
        run=lambda container, month, chosen, principal: service.reopen_clearing(
            container.uow(), container.clock, month, chosen, reason, actor=principal
        ),
        refusal=InvalidInput,
        field="reason",
        done="reopened",
    )


def _clearing_download(
    request: Request, month: str = "", level: str = "", format: str = "xlsx"
) -> Response:
    principal = page_principal(request)
    principal.require(Action.CLEARING_READ)
    month, chosen, errors = _clearing_params(request, month, level)
    if errors or format not in {"xlsx", "json"}:
        raise NotFound("CLEARING_RUN_NOT_FOUND", "未找到该清算单", "no such clearing statement")
    result = service.clearing_statement(container_of(request).uow(), month, chosen, principal)
    name = f"clearing-{month}-{chosen.value}.{format}"
    if format == "json":
        body = result.statement.to_json().encode("utf-8")
        return file_response(request, body, "application/json", name)
    content = workbook_bytes(statement_workbook(result.statement, status=result.status))
    return file_response(request, content, MEDIA_TYPES["xlsx"], name)


# --- statistics dashboard -----------------------------------------------------------


def date_or_error(text: str, name: str, errors: dict[str, str], lang: Lang) -> dt.date | None:
    """The day typed in a field (None if empty), or None with the field's error recorded."""
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        errors[name] = translate(lang, "statistics.invalid_date")
        return None


def _checked_statistics(
    request: Request, region: str, direction: str
) -> tuple[Principal, dict[str, Any], dict[str, str]]:
    """The reader (dashboard and download alike) and the parameters asked for, checked."""
    principal = page_principal(request)
    principal.require(Action.STATISTICS_READ)
    lang = page_lang(request)
    start = request.query_params.get("from", "")  # "from" is a Python keyword
    end = request.query_params.get("to", "")
    errors: dict[str, str] = {}
    chosen_region = _chosen_region(principal, region, errors, lang)
    chosen_direction = Direction.OUTBOUND
    if direction in {d.value for d in Direction}:
        chosen_direction = Direction(direction)
    elif direction:
        errors["direction"] = translate(lang, "funds.choose_one")
    settled_from = date_or_error(start, "from", errors, lang)
    settled_to = date_or_error(end, "to", errors, lang)
    if settled_from and settled_to and settled_to < settled_from:
        errors["to"] = translate(lang, "statistics.end_before_start")
    params = {
        "region": chosen_region,
        "direction": chosen_direction,
        "from": settled_from,
        "to": settled_to,
    }
    return principal, params, errors


def _region_dimension(direction: Direction) -> Dimension:
    """Outbound: where our people were treated; inbound: where the patients come from."""
    if direction is Direction.OUTBOUND:
        return Dimension.TREATMENT_PROVINCE
    return Dimension.INSURED_PROVINCE


def _report(request: Request, params: dict[str, Any], group_by: Dimension) -> StatisticsReport:
    query = StatisticsQuery(
        params["region"], params["direction"], group_by, params["from"], params["to"]
    )
    return service.statistics(container_of(request).uow(), query)


def _series(report: StatisticsReport, label: str) -> dict[str, Any]:
    return {
        "labels": [row.label for row in report.rows],
        "values": [row.person_times for row in report.rows],
        "label": label,
    }


def _spend_series(report: StatisticsReport, label: str) -> dict[str, Any]:
    return {
        "labels": [row.label for row in report.rows],
        "values": [_yuan_plain(row.fund_total_fen) for row in report.rows],
        "label": label,
    }


def _statistics_rows(report: StatisticsReport) -> list[tuple[str, int, str, str]]:
    """Label, person-times, charges, fund spend: the numbers printed beside the charts."""
    return [
        (
            row.label,
            row.person_times,
            yuan_text(row.total_charges_fen),
            yuan_text(row.fund_total_fen),
        )
        for row in (*report.rows, report.total)
    ]


def _statistics_kind_rows(report: StatisticsReport) -> list[tuple[str, str, int, str, str]]:
    """Per clearing kind (every kind listed): word key, code, person-times, charges, spend."""
    by_code = {row.key: row for row in report.kinds}
    rows = []
    for kind in CLEARING_KINDS:
        row = by_code.get(kind.value)
        rows.append(
            (
                kind.name.lower(),
                kind.value,
                row.person_times if row else 0,
                yuan_text(row.total_charges_fen if row else 0),
                yuan_text(row.fund_total_fen if row else 0),
            )
        )
    return rows


def _statistics_page(
    request: Request,
    region: str = "",
    direction: str = "",
) -> Response:
    principal, params, errors = _checked_statistics(request, region, direction)
    lang = page_lang(request)
    context: dict[str, Any] = {
        "params": params,
        "errors": errors,
        "region_options": _region_options(region_choices(principal), lang),
        "directions": list(Direction),
        # What was typed, echoed back even when it is not a date.
        "values": {key: request.query_params.get(key, "") for key in ("from", "to")},
        "empty": True,
    }
    if not errors and params["region"] is not None:
        by_month = _report(request, params, Dimension.MONTH)
        by_region = _report(request, params, _region_dimension(params["direction"]))
        context["empty"] = not by_month.rows
        if by_month.rows:
            times_label = translate(lang, "statistics.person_times")
            spend_label = translate(lang, "statistics.fund_spend")
            context.update(
                month_rows=_statistics_rows(by_month),
                kind_rows=_statistics_kind_rows(by_month),
                kind_total=_statistics_rows(by_month)[-1],
                region_rows=_statistics_rows(by_region),
                charts={
                    "month-times": _series(by_month, times_label),
                    "month-spend": _spend_series(by_month, spend_label),
                    "region-times": _series(by_region, times_label),
                    "region-spend": _spend_series(by_region, spend_label),
                },
            )
            if params["direction"] is Direction.OUTBOUND:
                as_of = params["to"] or container_of(request).clock.today()
                subject = directory.region_name(params["region"])
                context["sentence"] = outbound_sentence(by_region, as_of, subject=subject)
            query = f"region={params['region']}&direction={params['direction'].value}"
            if params["from"]:
                query += f"&from={params['from'].isoformat()}"
            if params["to"]:
                query += f"&to={params['to'].isoformat()}"
            context["download_query"] = query
            context["region_dimension"] = _region_dimension(params["direction"]).value
    return render(request, "statistics.html", context, status_code=422 if errors else 200)


def _statistics_download(
    request: Request,
    region: str = "",
    direction: str = "",
    group_by: str = "month",
    format: str = "xlsx",
) -> Response:
    _, params, errors = _checked_statistics(request, region, direction)
    dimensions = {d.value for d in Dimension}
    if errors or params["region"] is None or group_by not in dimensions:
        raise NotFound("REGION_NOT_FOUND", "未找到该地区", "region not found")
    if format not in {"xlsx", "csv"}:
        raise NotFound("FORMAT_NOT_FOUND", "不支持该格式", "unsupported format")
    report = _report(request, params, Dimension(group_by))
    content = render_statistics(report, format)
    name = f"statistics-{params['region']}-{group_by}.{format}"
    return file_response(request, content, MEDIA_TYPES[format], name)


def add_funds_routes(router: APIRouter) -> None:
    router.add_api_route("/funds/prepayment", _prepayment_page, methods=["GET"])
    router.add_api_route("/funds/prepayment/download", _prepayment_download, methods=["GET"])
    router.add_api_route("/funds/prepayment/top-up", _top_up_request_form, methods=["POST"])
    router.add_api_route("/funds/prepayment/top-ups", _top_ups_get, methods=["GET"])
    router.add_api_route(
        "/funds/prepayment/top-ups/{request_id}/decision", _top_up_decision_form, methods=["POST"]
    )
    router.add_api_route("/funds/clearing", _clearing_get, methods=["GET"])
    router.add_api_route("/funds/clearing", _clearing_run, methods=["POST"])
    router.add_api_route("/funds/clearing/reopen", _clearing_reopen, methods=["POST"])
    router.add_api_route("/funds/clearing/download", _clearing_download, methods=["GET"])
    router.add_api_route("/funds/statistics", _statistics_page, methods=["GET"])
    router.add_api_route("/funds/statistics/download", _statistics_download, methods=["GET"])
