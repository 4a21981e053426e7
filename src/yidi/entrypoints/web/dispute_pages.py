"""对账差异 pages: the list of a caller's disputes (filters: state, hospital, month; paged), the
form that raises one (from a 3202 difference or by hand), and the detail with its history and
the forms of the steps the caller's side may take (answer; resolve and re-open, each confirmed).

The same use cases and scope as the REST routes (``yidi.reconciliation.commands``): a cashier
sees its hospital's disputes, an agency its region's, the clearing centre every one; a dispute
outside one's scope is "not found". The raise form carries a one-time form key, so a resent
form returns the first answer; raising a line that has a dispute shows that dispute.
"""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation
from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from yidi.entrypoints.http.requests import container_of
from yidi.entrypoints.web.guards import redirect, require_csrf, require_signed_in
from yidi.entrypoints.web.i18n import Lang, translate
from yidi.entrypoints.web.refusals import field_errors, shown_refusal
from yidi.entrypoints.web.render import page_lang, page_principal, pager, render
from yidi.kernel.access import Action, Principal
from yidi.kernel.errors import YidiError
from yidi.kernel.idempotency import request_fingerprint
from yidi.kernel.money import Money
from yidi.reconciliation.commands import DisputeService, RaiseRequest, Step, side_of
from yidi.reconciliation.model import (
    Dispute,
    DisputeAction,
    DisputeState,
    LineAmounts,
    Outcome,
    Side,
    allowed_actions,
)
from yidi.reference import queries as directory

PAGE_SIZE = 20
BASE = "/reconciliation/disputes"
STATE_CHOICES = ("", "open", "raised", "answered", "resolved")
DONE = frozenset({"raised", "found", "answer", "resolve", "reopen"})

Text = Annotated[str, Form(max_length=400)]
Short = Annotated[str, Form(max_length=40)]


def _service(request: Request) -> DisputeService:
    return container_of(request).disputes


def _signed_in(request: Request) -> Principal:
    principal = page_principal(request)
    require_signed_in(principal)
    principal.require(Action.RECONCILIATION_DISPUTE)
    return principal


def _region_name(lang: Lang, code: str | None) -> str:
    return directory.region_name(code, english=lang == "en") if code else ""


def _yuan(amount: Money | None) -> str:
    return "—" if amount is None else f"{amount.yuan:,.2f}"


def _money(text: str) -> Money | None:
    """A yuan amount typed on a form (two decimals at most), None when it is not one."""
    try:
        value = Decimal(text.strip().replace(",", ""))
    except InvalidOperation:
        return None
    if not value.is_finite() or value != value.quantize(Decimal("0.01")) or abs(value) >= 10**12:
        return None
    return Money(value)


def _row(lang: Lang, dispute: Dispute) -> dict[str, object]:
    return {
        "d": dispute,
        "kind": translate(lang, f"disputes.kind_{dispute.kind.value}"),
        "state": translate(lang, f"disputes.state_{dispute.state.value}"),
        "raised_by": translate(lang, f"disputes.side_{dispute.raised_by.value}"),
        "treatment": _region_name(lang, dispute.treatment_region_code),
    }


# --- the list ---------------------------------------------------------------------------------


def _list(request: Request) -> Response:
    principal = _signed_in(request)
    lang = page_lang(request)
    query = request.query_params
    state = query.get("state", "")
    state = state if state in STATE_CHOICES else ""
    hospital = query.get("hospital", "").strip()[:30]
    month = query.get("month", "").strip()[:7]
    page_text = query.get("page", "1")
    page_number = int(page_text) if page_text.isdigit() and 0 < int(page_text) < 10**6 else 1
    errors: dict[str, str] = {}
    total, items = 0, list[Dispute]()
    try:
        total, items = _service(request).list_disputes(
            principal,
            state=DisputeState(state) if state not in ("", "open") else None,
            open_only=state == "open",
            hospital_code=hospital or None,
            month=month or None,
            limit=PAGE_SIZE,
            offset=(page_number - 1) * PAGE_SIZE,
        )
    except YidiError as exc:
        errors.update(field_errors(exc, lang, "month"))
    params = {"state": state, "hospital": hospital, "month": month}
    return render(
        request,
        "disputes.html",
        {
            "rows": [_row(lang, d) for d in items],
            "total": total,
            "chosen": params,
            "errors": errors,
            "state_options": [
                (value, translate(lang, f"disputes.filter_{value or 'all'}"))
                for value in STATE_CHOICES
            ],
            "centre": side_of(principal) is Side.CENTRE,
            "pager": pager(BASE, params, page_number, PAGE_SIZE, total),
        },
        status_code=422 if errors else 200,
    )


# --- raising ----------------------------------------------------------------------------------


def _form_page(
    request: Request,
    principal: Principal,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "dispute_new.html",
        {
            "values": values,
            "errors": errors or {},
            "centre": side_of(principal) is Side.CENTRE,
            "form_key": values.get("form_key") or uuid.uuid4().hex,
        },
        status_code=status_code,
    )


def _new(request: Request) -> Response:
    principal = _signed_in(request)
    query = request.query_params
    values = {
        "source": "statement",
        "settlement_id": query.get("settlement_id", "")[:32],
        "month": query.get("month", "")[:7],
        "hospital_code": query.get("hospital", "")[:30],
    }
    return _form_page(request, principal, values)


def _raise(
    request: Request,
    csrf_token: Annotated[str, Form()] = "",
    form_key: Annotated[str, Form(max_length=64)] = "",
    source: Short = "",
    hospital_code: Short = "",
    settlement_id: Short = "",
    refund: Short = "",
    has_line: Short = "",
    total: Short = "",
    fund: Short = "",
    account: Short = "",
    month: Short = "",
    text: Text = "",
) -> Response:
    principal = page_principal(request)
    require_signed_in(principal)
    require_csrf(request, csrf_token)
    principal = _signed_in(request)
    lang = page_lang(request)
    values = {
        "form_key": form_key,
        "source": source if source in ("statement", "manual") else "statement",
        "hospital_code": hospital_code.strip(),
        "settlement_id": settlement_id.strip(),
        "refund": "1" if refund else "",
        "has_line": "1" if has_line else "",
        "total": total.strip(),
        "fund": fund.strip(),
        "account": account.strip() or "0.00",
        "month": month.strip(),
        "text": text.strip(),
    }
    errors: dict[str, str] = {}
    statement = values["source"] == "statement"
    institution: LineAmounts | None = None
    if statement and not values["settlement_id"]:
        errors["settlement_id"] = translate(lang, "disputes.settlement_required")
    if statement and values["has_line"]:
        total_, fund_, account_ = (_money(values[n]) for n in ("total", "fund", "account"))
        for name, amount in (("total", total_), ("fund", fund_), ("account", account_)):
            if amount is None:
                errors[name] = translate(lang, "disputes.amount_invalid")
        if total_ is not None and fund_ is not None and account_ is not None:
            institution = LineAmounts(total_, fund_, account_)
    if errors:
        return _form_page(request, principal, values, errors, 422)
    asked = RaiseRequest(
        hospital_code=values["hospital_code"] or None,
        month=values["month"],
        text=values["text"],
        settlement_id=values["settlement_id"] or None,
        refund=bool(values["refund"]),
        from_statement=statement,
        institution=institution,
    )
    key = form_key[:64]
    fingerprint = request_fingerprint({k: v for k, v in values.items() if k != "form_key"})
    try:
        dispute, created = _service(request).raise_dispute(
            principal, asked, idempotency=(f"web:{key}", fingerprint) if key else None
        )
    except YidiError as exc:
        if exc.code == "HOSPITAL_NOT_FOUND":  # said at the field, like a mistyped code
            errors["hospital_code"] = f"{exc.message_en if lang == 'en' else exc.message}"
            return _form_page(request, principal, values, errors, 422)
        message, status = shown_refusal(exc, lang)
        field = exc.field if exc.field in values else "form"
        errors[field or "form"] = (
            f"{message}（{exc.code}）" if lang == "zh" else f"{message} ({exc.code})"
        )
        return _form_page(request, principal, values, errors, status)
    return redirect(request, f"{BASE}/{dispute.id}?done={'raised' if created else 'found'}")


# --- the detail and the steps -----------------------------------------------------------------


def _detail_page(
    request: Request,
    dispute: Dispute,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    principal = page_principal(request)
    lang = page_lang(request)
    side = side_of(principal)
    actions = {a.value for a in allowed_actions(dispute, side)}
    done = request.query_params.get("done", "")
    return render(
        request,
        "dispute_detail.html",
        {
            **_row(lang, dispute),
            "insured": _region_name(lang, dispute.insured_region_code),
            "events": [
                {
                    "e": e,
                    "action": translate(lang, f"disputes.action_{e.action.value}"),
                    "side": translate(lang, f"disputes.side_{e.side.value}"),
                    "outcome": translate(lang, f"disputes.outcome_{e.outcome.value}")
                    if e.outcome
                    else "",
                    "amount": _yuan(e.amount) if e.amount is not None else "",
                    "adjustment": _yuan(e.adjustment) if e.adjustment is not None else "",
                }
                for e in dispute.events
            ],
            "carried": [
                {"month": a.clearing_month, "amount": _yuan(a.amount)} for a in dispute.carried
            ],
            "lines": [
                (
                    translate(lang, f"disputes.amount_{name}"),
                    _yuan(getattr(dispute.centre, attr) if dispute.centre else None),
                    _yuan(getattr(dispute.institution, attr) if dispute.institution else None),
                )
                for name, attr in (("total", "total"), ("fund", "fund"), ("account", "account"))
            ],
            "outcome": translate(lang, f"disputes.outcome_{dispute.outcome.value}")
            if dispute.outcome
            else "",
            "settled": _yuan(dispute.settled_amount) if dispute.settled_amount else "",
            "actions": actions,
            "outcomes": [
                (o.value, translate(lang, f"disputes.outcome_{o.value}")) for o in Outcome
            ],
            "errors": errors or {},
            "values": values or {},
            "done": done if done in DONE else "",
        },
        status_code=status_code,
    )


def _detail(request: Request, dispute_id: str) -> Response:
    principal = _signed_in(request)
    return _detail_page(request, _service(request).get(principal, dispute_id))


def _step(
    request: Request,
    dispute_id: str,
    action: DisputeAction,
    csrf_token: str,
    values: dict[str, str],
    *,
    confirmed: bool = True,
) -> Response:
    principal = page_principal(request)
    require_signed_in(principal)
    require_csrf(request, csrf_token)
    principal = _signed_in(request)
    lang = page_lang(request)
    service = _service(request)
    prefix = action.value
    errors: dict[str, str] = {}
    amount: Money | None = None
    if values.get("amount"):
        amount = _money(values["amount"])
        if amount is None:
            errors[f"{prefix}_amount"] = translate(lang, "disputes.amount_invalid")
    adjustment: Money | None = None
    if values.get("adjustment"):
        adjustment = _money(values["adjustment"])
        if adjustment is None:
            errors[f"{prefix}_adjustment"] = translate(lang, "disputes.amount_invalid")
    if not confirmed:
        errors[f"{prefix}_confirm"] = translate(lang, "disputes.confirm_required")
    outcome_text = values.get("outcome", "")
    outcome = Outcome(outcome_text) if outcome_text in {o.value for o in Outcome} else None
    if action is DisputeAction.RESOLVE and outcome is None:
        errors[f"{prefix}_outcome"] = translate(lang, "disputes.outcome_required")
    if not errors:
        try:
            moved = service.act(
                principal,
                dispute_id,
                Step(action, values.get("text", ""), amount, outcome, adjustment),
            )
            return redirect(request, f"{BASE}/{moved.id}?done={action.value}")
        except YidiError as exc:
            message, status = shown_refusal(exc, lang)
            errors[f"{prefix}_form"] = (
                f"{message}（{exc.code}）" if lang == "zh" else f"{message} ({exc.code})"
            )
            current = service.get(principal, dispute_id)
            return _detail_page(request, current, errors=errors, values=values, status_code=status)
    current = service.get(principal, dispute_id)
    return _detail_page(request, current, errors=errors, values=values, status_code=422)


def _answer(
    request: Request,
    dispute_id: str,
    csrf_token: Annotated[str, Form()] = "",
    text: Text = "",
    answer_amount: Short = "",
) -> Response:
    values = {"text": text, "amount": answer_amount.strip()}
    return _step(request, dispute_id, DisputeAction.ANSWER, csrf_token, values)


def _resolve(
    request: Request,
    dispute_id: str,
    csrf_token: Annotated[str, Form()] = "",
    text: Text = "",
    resolve_outcome: Short = "",
    resolve_amount: Short = "",
    resolve_adjustment: Short = "",
    confirm: Short = "",
) -> Response:
    values = {
        "text": text,
        "outcome": resolve_outcome,
        "amount": resolve_amount.strip(),
        "adjustment": resolve_adjustment.strip(),
    }
    return _step(
        request, dispute_id, DisputeAction.RESOLVE, csrf_token, values, confirmed=confirm == "yes"
    )


def _reopen(
    request: Request,
    dispute_id: str,
    csrf_token: Annotated[str, Form()] = "",
    text: Text = "",
    confirm: Short = "",
) -> Response:
    return _step(
        request,
        dispute_id,
        DisputeAction.REOPEN,
        csrf_token,
        {"text": text},
        confirmed=confirm == "yes",
    )


def add_dispute_routes(router: APIRouter) -> None:
    router.add_api_route(BASE, _list, methods=["GET"])
    router.add_api_route(f"{BASE}/new", _new, methods=["GET"])
    router.add_api_route(f"{BASE}/new", _raise, methods=["POST"])
    router.add_api_route(f"{BASE}/{{dispute_id}}", _detail, methods=["GET"])
    router.add_api_route(f"{BASE}/{{dispute_id}}/answer", _answer, methods=["POST"])
    router.add_api_route(f"{BASE}/{{dispute_id}}/resolve", _resolve, methods=["POST"])
    router.add_api_route(f"{BASE}/{{dispute_id}}/reopen", _reopen, methods=["POST"])
