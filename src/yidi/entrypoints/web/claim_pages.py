"""Manual reimbursement intake (手工报销，回参保地报销) for the agency handler.

The seed's checklist — 住院收据原件、出院记录或住院病案首页、疾病诊断证明书、住院医疗费用总清单 —
is ticked as the papers arrive; the itemised fee list is typed or pasted as CSV (the
cashier pages' format); "compute" runs the engine under the insured region's policy;
the page lists what still blocks approval; approval and payment are recorded. Claims
outside the handler's region are answered as not found (the service's rule).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from yidi.entrypoints.http.requests import container_of
from yidi.entrypoints.web.fee_rows import (
    ROW_FIELDS,
    FeeRows,
    blank_row,
    check_rows,
    rows_of_lines,
    typed_rows,
)
from yidi.entrypoints.web.fee_text import MAX_LINES, MAX_TEXT_BYTES, parse_fee_text
from yidi.entrypoints.web.filing_pages import search_terms
from yidi.entrypoints.web.guards import redirect, require_csrf, require_role
from yidi.entrypoints.web.hospital_pages import AMOUNT_ROWS
from yidi.entrypoints.web.i18n import Lang, label, translate
from yidi.entrypoints.web.refusals import refusal_message
from yidi.entrypoints.web.region_picker import MAX_REGION_TEXT, region_or_error
from yidi.entrypoints.web.render import page_lang, page_principal, render
from yidi.kernel.access import Action, Principal, Role
from yidi.kernel.errors import ErrorKind, YidiError
from yidi.kernel.insurance import EncounterType, FilingCategory, HospitalLevel
from yidi.kernel.regions import region_prefix
from yidi.reference.model import Hospital
from yidi.settlement.manual import (
    APPROVED,
    CHECKLIST,
    DRAFT,
    PAID,
    STATES,
    ManualClaimService,
    ManualClaimView,
    Material,
    PersonLookup,
)
from yidi.settlement.payee import payee_of, payee_problems

CREATE_FIELDS = (
    "id_number",
    "hospital_name",
    "treatment_region",
    "hospital_level",
    "encounter_type",
    "filing_category",
    "admitted_on",
    "discharged_on",
    "reason",
    "payee_name",
    "payee_bank",
    "payee_account",
    "payee_account_confirm",
)


def _service(request: Request) -> ManualClaimService:
    return container_of(request).manual_claims


def _handler(request: Request) -> Principal:
    principal = page_principal(request)
    require_role(principal, Role.AGENCY_HANDLER)
    principal.require(Action.MANUAL_CLAIM)
    return principal


def _reraise_scope(exc: YidiError) -> None:
    if exc.kind in (ErrorKind.FORBIDDEN, ErrorKind.UNAUTHENTICATED) or (
        exc.kind is ErrorKind.NOT_FOUND and exc.code == "MANUAL_CLAIM_NOT_FOUND"
    ):
        raise exc


#: The amounts the printed notice always lists; the others only when they are not zero.
NOTICE_ALWAYS = ("total_charges", "fund_paid_total", "patient_share")

# --- the list of the office's claims ------------------------------------------------------

PAGE_SIZE = 50


def _day(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        return None


def _claims_list(
    request: Request,
    q: str = "",
    state: str = "",
    received_from: str = "",
    received_to: str = "",
    page: str = "1",
) -> Response:
    """The claims the handler's office has taken in (scope and audit: the service's)."""
    principal = _handler(request)
    lang = page_lang(request)
    errors: dict[str, str] = {}
    if len(q) > 64:
        errors["q"] = translate(lang, "filings.query_too_long")
    if state and state not in STATES:
        errors["state"] = translate(lang, "funds.choose_one")
    days: dict[str, dt.date | None] = {}
    for name, text in (("received_from", received_from), ("received_to", received_to)):
        days[name] = _day(text) if text.strip() else None
        if text.strip() and days[name] is None:
            errors[name] = translate(lang, "statistics.invalid_date")
    number = int(page) if page.isdigit() and 0 < int(page) < 100_000 else 1
    result = None
    if not errors:
        terms = search_terms(q, number_prefix="MC", number_field="claim_id")
        try:
            result = _service(request).search(
                principal,
                state=state or None,
                received_from=days["received_from"],
                received_to=days["received_to"],
                claim_id=terms.get("claim_id"),
                id_number=terms.get("id_number"),
                name=terms.get("name"),
                limit=PAGE_SIZE,
                offset=(number - 1) * PAGE_SIZE,
            )
        except YidiError as exc:
            _reraise_scope(exc)
            field = exc.field if exc.field in ("state", "received_to") else "q"
            errors[field] = refusal_message(exc, lang)
    filters = {
        "q": q,
        "state": state,
        "received_from": received_from,
        "received_to": received_to,
    }
    pages = max(1, math.ceil(result.total / PAGE_SIZE)) if result else 1

    def page_link(to: int) -> str:
        kept = {k: v for k, v in filters.items() if v} | {"page": str(to)}
        return "/claims?" + urlencode(kept)

    return render(
        request,
        "claims.html",
        {
            **filters,
            "states": STATES,
            "errors": errors,
            "result": result,
            "page": number,
            "pages": pages,
            "previous_link": page_link(number - 1) if number > 1 else "",
            "next_link": page_link(number + 1) if number < pages else "",
            "checklist_size": len(CHECKLIST),
        },
        status_code=422 if errors else 200,
    )


# --- a new claim ---------------------------------------------------------------------------


def _directory(request: Request, principal: Principal) -> list[Hospital]:
    return _service(request).hospital_directory(principal)


def _new_page(
    request: Request,
    principal: Principal,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    *,
    lookup: PersonLookup | None = None,
) -> Response:
    lang = page_lang(request)
    return render(
        request,
        "claim_new.html",
        {
            "values": dict.fromkeys(CREATE_FIELDS, "") | {"hospital_level": "2"} | (values or {}),
            "errors": errors or {},
            "levels": [(str(int(lv)), translate(lang, f"level.{int(lv)}")) for lv in HospitalLevel],
            "encounter_types": [(e.value, f"{e.value} {label(lang, e)}") for e in EncounterType],
            "categories": [
                (c.value, translate(lang, f"category.{c.value}")) for c in FilingCategory
            ],
            "materials": CHECKLIST,
            "directory": _directory(request, principal),
            "lookup": lookup,
        },
        status_code=status_code,
    )


def _new(request: Request) -> Response:
    return _new_page(request, _handler(request))


def _lookup(
    request: Request, principal: Principal, id_number: str, lang: Lang
) -> tuple[PersonLookup | None, str]:
    """The person the ID number names, or the message to show next to the field."""
    try:
        return _service(request).lookup_person(principal, id_number), ""
    except YidiError as exc:
        if exc.kind in (ErrorKind.FORBIDDEN, ErrorKind.UNAUTHENTICATED):
            raise
        return None, refusal_message(exc, lang)


def _person_lookup(
    request: Request,
    id_number: Annotated[str, Form(max_length=18)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """The lookup panel alone, for the form's script (a POST: the number stays out of logs)."""
    principal = _handler(request)
    require_csrf(request, csrf_token)
    lookup, error = _lookup(request, principal, id_number, page_lang(request))
    return render(
        request,
        "_claim_person.html",
        {"lookup": lookup, "lookup_error": error},
        status_code=200 if lookup else 422,
    )


def _hospital_choice(
    directory: list[Hospital], name: str, region: str
) -> tuple[Hospital | None, bool]:
    """(the directory hospital of that name, whether the name is ambiguous)."""
    named = [h for h in directory if h.name == name]
    if region:
        named = [h for h in named if h.region_code.startswith(region_prefix(region))]
    if len(named) == 1:
        return named[0], False
    return None, len(named) > 1


def _create(
    request: Request,
    id_number: Annotated[str, Form(max_length=18)] = "",
    hospital_name: Annotated[str, Form(max_length=100)] = "",
    treatment_region: Annotated[str, Form(max_length=MAX_REGION_TEXT)] = "",
    hospital_level: Annotated[str, Form(max_length=2)] = "",
    encounter_type: Annotated[str, Form(max_length=2)] = "",
    filing_category: Annotated[str, Form(max_length=30)] = "",
    admitted_on: Annotated[str, Form(max_length=10)] = "",
    discharged_on: Annotated[str, Form(max_length=10)] = "",
    reason: Annotated[str, Form(max_length=500)] = "",
    payee_name: Annotated[str, Form(max_length=60)] = "",
    payee_bank: Annotated[str, Form(max_length=120)] = "",
    payee_account: Annotated[str, Form(max_length=40)] = "",
    payee_account_confirm: Annotated[str, Form(max_length=40)] = "",
    op: Annotated[str, Form(max_length=10)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    principal = _handler(request)
    require_csrf(request, csrf_token)
    lang = page_lang(request)
    values = {
        "id_number": id_number.strip().upper(),
        "treatment_region": treatment_region.strip(),
        "hospital_name": hospital_name.strip(),
        "hospital_level": hospital_level,
        "encounter_type": encounter_type,
        "filing_category": filing_category,
        "admitted_on": admitted_on,
        "discharged_on": discharged_on,
        "reason": reason.strip(),
        "payee_name": payee_name.strip(),
        "payee_bank": payee_bank.strip(),
        "payee_account": payee_account.strip(),
        "payee_account_confirm": payee_account_confirm.strip(),
    }
    errors: dict[str, str] = {}
    # The lookup button (no JavaScript): the same form comes back with the person shown.
    lookup, lookup_error = _lookup(request, principal, values["id_number"], lang)
    if op == "lookup":
        errors = {"id_number": lookup_error} if lookup_error else {}
        return _new_page(request, principal, values, errors, 422 if errors else 200, lookup=lookup)
    if lookup_error:
        errors["id_number"] = lookup_error
    required = translate(lang, "cashier.required")
    for name in ("hospital_name", "reason"):
        if not values[name]:
            errors[name] = required
    region = ""
    if values["treatment_region"]:
        region = region_or_error(values["treatment_region"], "treatment_region", errors, lang)
        if region:
            values["treatment_region"] = region  # shown again by its full name
    listed, ambiguous = _hospital_choice(
        _directory(request, principal), values["hospital_name"], region
    )
    level = int(hospital_level) if hospital_level in {"1", "2", "3"} else None
    if ambiguous:
        errors["treatment_region"] = translate(lang, "claim_form.hospital_ambiguous")
    elif listed is None and values["hospital_name"]:
        # Not in the directory: the hospital as typed, with its region and level.
        if not region and "treatment_region" not in errors:
            errors["treatment_region"] = translate(lang, "claim_form.region_needed")
        if level is None:
            errors["hospital_level"] = translate(lang, "funds.choose_one")
    if encounter_type not in {e.value for e in EncounterType}:
        errors["encounter_type"] = translate(lang, "funds.choose_one")
    if filing_category and filing_category not in {c.value for c in FilingCategory}:
        errors["filing_category"] = translate(lang, "funds.choose_one")
    days: dict[str, dt.date] = {}
    for name in ("admitted_on", "discharged_on"):
        try:
            days[name] = dt.date.fromisoformat(values[name])
        except ValueError:
            errors[name] = translate(lang, "statistics.invalid_date")
    if len(days) == 2 and days["discharged_on"] < days["admitted_on"]:
        errors["discharged_on"] = translate(lang, "claim_form.discharge_before_admission")
    for name, problem in payee_problems(payee_name, payee_bank, payee_account).items():
        errors[name] = refusal_message(problem, lang)
    if "payee_account" not in errors and "".join(payee_account.split()) != "".join(
        payee_account_confirm.split()
    ):
        errors["payee_account_confirm"] = translate(lang, "claim_form.account_mismatch")
    if errors:
        return _new_page(request, principal, values, errors, 422, lookup=lookup)
    try:
        view = _service(request).create(
            principal,
            id_number=values["id_number"],
            treatment_region=listed.region_code if listed else region,
            hospital_name=values["hospital_name"],
            hospital_level=listed.level if listed else HospitalLevel(level or 2),
            encounter_type=EncounterType(encounter_type),
            admitted_on=days["admitted_on"],
            discharged_on=days["discharged_on"],
            reason=values["reason"],
            filing_category=FilingCategory(filing_category) if filing_category else None,
            hospital_code=listed.fixmedins_code if listed else None,
            payee=payee_of(payee_name, payee_bank, payee_account),
        )
    except YidiError as exc:
        if exc.kind in (ErrorKind.FORBIDDEN, ErrorKind.UNAUTHENTICATED):
            raise
        field = {"person": "id_number", "hospital": "hospital_name"}.get(
            exc.field or "", exc.field or ""
        )
        if exc.code == "PERSON_NOT_FOUND":
            field = "id_number"
        if field not in CREATE_FIELDS:
            field = "id_number"
        return _new_page(
            request, principal, values, {field: refusal_message(exc, lang)}, 422, lookup=lookup
        )
    return redirect(request, f"/claims/{view.claim.id}")


# --- one claim -----------------------------------------------------------------------------


def _blockers(view: ManualClaimView, lang: Lang) -> list[str]:
    """What stands between this claim and approval, in words."""
    found: list[str] = []
    if view.claim.state in (APPROVED, PAID):
        return found
    if view.missing_materials:
        found.append(
            translate(lang, "claims.blocked_materials")
            + "、".join(label(lang, m) for m in view.missing_materials)
        )
    if not view.fee_lines:
        found.append(translate(lang, "claims.blocked_lines"))
    elif view.claim.state == DRAFT:
        found.append(translate(lang, "claims.blocked_compute"))
    return found


def _claim_page(
    request: Request,
    view: ManualClaimView,
    *,
    errors: dict[str, str] | None = None,
    fee_text: str = "",
    problems: list[str] | None = None,
    status_code: int = 200,
    rows: FeeRows | None = None,
    payee_values: dict[str, str] | None = None,
) -> Response:
    lang = page_lang(request)
    if rows is None:
        rows = FeeRows(rows_of_lines(view.fee_lines) or [blank_row()])
    text = fee_text or "\n".join(
        ",".join(
            [
                line["serial"],
                line["catalog_code"],
                line["name"],
                line["quantity"],
                line["unit_price"],
                line["amount"],
                line["occurred_at"].replace("T", " ")[:16],
            ]
        )
        for line in view.fee_lines
    )
    return render(
        request,
        "claim_detail.html",
        {
            "view": view,
            "claim": view.claim,
            "errors": errors or {},
            "fee_text": text,
            "problems": problems or [],
            "materials": CHECKLIST,
            "blockers": _blockers(view, lang),
            "amount_rows": AMOUNT_ROWS,
            "done": request.query_params.get("done", ""),
            "editable": view.claim.state not in (APPROVED, PAID),
            "rows": rows,
            "row_fields": ROW_FIELDS,
            "payee_values": payee_values
            or {
                "payee_name": view.payee.name if view.payee else "",
                "payee_bank": view.payee.bank if view.payee else "",
            },
        },
        status_code=status_code,
    )


def _detail(request: Request, claim_id: str) -> Response:
    principal = _handler(request)
    return _claim_page(request, _service(request).get(principal, claim_id))


def _act(
    request: Request,
    claim_id: str,
    csrf_token: str,
    action: str,
    run: Any,
    field: str,
    **page: Any,
) -> Response:
    principal = _handler(request)
    require_csrf(request, csrf_token)
    lang = page_lang(request)
    try:
        run(principal)
    except YidiError as exc:
        _reraise_scope(exc)
        view = _service(request).get(principal, claim_id)
        status = 409 if exc.kind is ErrorKind.CONFLICT else 422
        return _claim_page(
            request, view, errors={field: refusal_message(exc, lang)}, status_code=status, **page
        )
    return redirect(request, f"/claims/{claim_id}?done={action}")


def _materials(
    request: Request,
    claim_id: str,
    received: Annotated[list[str] | None, Form()] = None,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    known = {m.value for m in Material}
    chosen = [Material(value) for value in (received or []) if value in known]
    return _act(
        request,
        claim_id,
        csrf_token,
        "materials",
        lambda p: _service(request).record_materials(p, claim_id, chosen),
        "materials",
    )


def _fee_lines(
    request: Request,
    claim_id: str,
    fee_text: Annotated[str, Form(max_length=MAX_TEXT_BYTES)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    principal = _handler(request)
    require_csrf(request, csrf_token)
    lang = page_lang(request)
    parsed = parse_fee_text(fee_text)
    if not fee_text.strip() or parsed.problems:
        view = _service(request).get(principal, claim_id)
        message = translate(
            lang, "cashier.fees_invalid" if parsed.problems else "cashier.fees_required"
        )
        return _claim_page(
            request,
            view,
            errors={"fee_text": message},
            fee_text=fee_text,
            problems=parsed.problems,
            status_code=422,
        )
    return _act(
        request,
        claim_id,
        csrf_token,
        "lines",
        lambda p: _service(request).set_fee_lines(p, claim_id, parsed.lines),
        "fee_text",
        fee_text=fee_text,
    )


def _fee_rows(
    request: Request,
    claim_id: str,
    serial: Annotated[list[str] | None, Form()] = None,
    catalog_code: Annotated[list[str] | None, Form()] = None,
    name: Annotated[list[str] | None, Form()] = None,
    quantity: Annotated[list[str] | None, Form()] = None,
    unit_price: Annotated[list[str] | None, Form()] = None,
    amount: Annotated[list[str] | None, Form()] = None,
    occurred_on: Annotated[list[str] | None, Form()] = None,
    op: Annotated[str, Form(max_length=16)] = "save",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """The receipts as rows: save them all (every faulty cell shown at once), or, without
    JavaScript, add or take out a row and show the form again (nothing saved)."""
    principal = _handler(request)
    require_csrf(request, csrf_token)
    lang = page_lang(request)
    typed = typed_rows(
        {
            "serial": serial or [],
            "catalog_code": catalog_code or [],
            "name": name or [],
            "quantity": quantity or [],
            "unit_price": unit_price or [],
            "amount": amount or [],
            "occurred_on": occurred_on or [],
        }
    )
    view = _service(request).get(principal, claim_id)
    if op == "add" and len(typed) < MAX_LINES:
        typed.append(blank_row())
        return _claim_page(request, view, rows=FeeRows(typed))
    if op.startswith("remove-") and op[7:].isdigit():
        index = int(op[7:])
        kept = [row for i, row in enumerate(typed) if i != index] or [blank_row()]
        return _claim_page(request, view, rows=FeeRows(kept))
    checked = check_rows(typed, view.claim.admitted_on, view.claim.discharged_on)
    if checked.errors or not checked.lines:
        message = translate(
            lang, "claim_form.rows_invalid" if checked.errors else "cashier.fees_required"
        )
        return _claim_page(request, view, errors={"rows": message}, rows=checked, status_code=422)
    return _act(
        request,
        claim_id,
        csrf_token,
        "lines",
        lambda p: _service(request).set_fee_lines(p, claim_id, checked.lines),
        "rows",
        rows=checked,
    )


def _payee(
    request: Request,
    claim_id: str,
    payee_name: Annotated[str, Form(max_length=60)] = "",
    payee_bank: Annotated[str, Form(max_length=120)] = "",
    payee_account: Annotated[str, Form(max_length=40)] = "",
    payee_account_confirm: Annotated[str, Form(max_length=40)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    principal = _handler(request)
    require_csrf(request, csrf_token)
    lang = page_lang(request)
    errors = {
        name: refusal_message(problem, lang)
        for name, problem in payee_problems(payee_name, payee_bank, payee_account).items()
    }
    if not (payee_name.strip() or payee_bank.strip() or payee_account.strip()):
        errors["payee_name"] = translate(lang, "cashier.required")
    if "payee_account" not in errors and "".join(payee_account.split()) != "".join(
        payee_account_confirm.split()
    ):
        errors["payee_account_confirm"] = translate(lang, "claim_form.account_mismatch")
    typed = {"payee_name": payee_name.strip(), "payee_bank": payee_bank.strip()}
    if errors:
        view = _service(request).get(principal, claim_id)
        return _claim_page(request, view, errors=errors, payee_values=typed, status_code=422)
    payee = payee_of(payee_name, payee_bank, payee_account)
    assert payee is not None
    return _act(
        request,
        claim_id,
        csrf_token,
        "payee",
        lambda p: _service(request).set_payee(p, claim_id, payee),
        "payee_name",
        payee_values=typed,
    )


def _notice(request: Request, claim_id: str) -> Response:
    """报销结算单: the printable notice of the computed or approved claim (audited)."""
    principal = _handler(request)
    lang = page_lang(request)
    try:
        view = _service(request).notice(principal, claim_id)
    except YidiError as exc:
        _reraise_scope(exc)
        view = _service(request).get(principal, claim_id)
        return _claim_page(
            request, view, errors={"notice": refusal_message(exc, lang)}, status_code=409
        )
    return render(
        request,
        "claim_notice.html",
        {
            "view": view,
            "claim": view.claim,
            "amount_rows": AMOUNT_ROWS,
            "always": NOTICE_ALWAYS,
            "approved": view.claim.state in (APPROVED, PAID),
        },
    )


def _button(
    action: str, run: Callable[[ManualClaimService, Principal, str], object]
) -> Callable[..., Response]:
    """The endpoint of a claim page button that sends no input but the CSRF token."""

    def endpoint(
        request: Request, claim_id: str, csrf_token: Annotated[str, Form()] = ""
    ) -> Response:
        return _act(
            request,
            claim_id,
            csrf_token,
            action,
            lambda p: run(_service(request), p, claim_id),
            f"{action}_form",
        )

    return endpoint


_compute = _button("compute", lambda service, p, claim_id: service.compute(p, claim_id))
_approve = _button("approve", lambda service, p, claim_id: service.approve(p, claim_id))


def _payment(
    request: Request,
    claim_id: str,
    reference: Annotated[str, Form(max_length=64)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    return _act(
        request,
        claim_id,
        csrf_token,
        "payment",
        lambda p: _service(request).record_payment(p, claim_id, reference),
        "reference",
    )


def add_claim_routes(router: APIRouter) -> None:
    router.add_api_route("/claims", _claims_list, methods=["GET"])
    router.add_api_route("/claims/new", _new, methods=["GET"])
    router.add_api_route("/claims", _create, methods=["POST"])
    router.add_api_route("/claims/person-lookup", _person_lookup, methods=["POST"])
    router.add_api_route("/claims/{claim_id}", _detail, methods=["GET"])
    router.add_api_route("/claims/{claim_id}/materials", _materials, methods=["POST"])
    router.add_api_route("/claims/{claim_id}/fee-lines", _fee_lines, methods=["POST"])
    router.add_api_route("/claims/{claim_id}/fee-rows", _fee_rows, methods=["POST"])
    router.add_api_route("/claims/{claim_id}/payee", _payee, methods=["POST"])
    router.add_api_route("/claims/{claim_id}/notice", _notice, methods=["GET"])
    router.add_api_route("/claims/{claim_id}/compute", _compute, methods=["POST"])
    router.add_api_route("/claims/{claim_id}/approve", _approve, methods=["POST"])
    router.add_api_route("/claims/{claim_id}/payment", _payment, methods=["POST"])
