"""Outpatient cashier (门诊收费) and pharmacy till (药店收银) pages.

A visit: card → kind (普通门诊, or 门诊慢特病 with the disease picked by name from the person's
recognitions valid today) → registration → fee lines → settle, with the personal account
offered when the person has one; the amount due is shown large and the existing receipt,
statement and reversal pages print and undo it. A pharmacy sale: card → drug lines (and the
外配处方 numbers) → pre-settle → settle in one form. Every page is bound to the cashier's own
institution, and the wrong kind of institution or encounter is refused with its code: a
pharmacy gets no hospital pages, a hospital no pharmacy till, an inpatient stay no outpatient
fees.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import Response

from yidi.chronic.commands import GatewayRecognitions
from yidi.encounter.commands import (
    AdmissionCheck,
    Credential,
    EncounterDetail,
    FamilyUse,
    PharmacyPurchase,
    SettlementRecord,
    VisitRegistration,
)
from yidi.encounter.model import CHRONIC_MED_TYPE, OUTPATIENT_MED_TYPE, Encounter, EncounterKind
from yidi.entrypoints.http.requests import container_of
from yidi.entrypoints.web import cashier_lists
from yidi.entrypoints.web.fee_text import MAX_TEXT_BYTES, parse_fee_text
from yidi.entrypoints.web.guards import redirect
from yidi.entrypoints.web.hospital_pages import (
    CsrfToken,
    FormKey,
    _active_settlement,
    _caller,
    _common,
    _form_caller,
    _form_key,
    _key,
    _now_local,
    _parse_local,
    _reraise_scope,
    _service,
    institution_refusal,
    refused_page,
)
from yidi.entrypoints.web.i18n import translate
from yidi.entrypoints.web.refusals import refusal_message
from yidi.entrypoints.web.render import page_lang, render
from yidi.kernel.access import Action, Caller
from yidi.kernel.errors import Conflict, ErrorKind, YidiError
from yidi.kernel.money import Money, money_sum

#: The visit kinds the registration form offers, by the med_type they register.
VISIT_KINDS = {"general": OUTPATIENT_MED_TYPE, "chronic": CHRONIC_MED_TYPE}


def _kind_refusal(detail: EncounterDetail, kind: EncounterKind) -> Conflict | None:
    try:
        Encounter(detail.encounter).require_kind(kind)
    except Conflict as exc:
        return exc
    return None


# --- visit registration --------------------------------------------------------------------


def _recognitions(request: Request, caller: Caller, check: AdmissionCheck) -> GatewayRecognitions:
    return container_of(request).chronic.for_hospital(
        caller.hospital_code, caller.actor, check.psn_no
    )


def _visit_new_page(
    request: Request,
    *,
    card: str = "",
    check: AdmissionCheck | None = None,
    recognitions: GatewayRecognitions | None = None,
    refusal: str = "",
    refusal_code: str = "",
    errors: dict[str, str] | None = None,
    visit: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    lang = page_lang(request)
    diseases = [
        {
            "code": r.disease_code,
            "name": (entry.name if entry else r.disease_name) or r.disease_code,
            "until": r.end_on,
        }
        for r, entry in (recognitions.items if recognitions else [])
    ]
    values = {
        "kind": "chronic" if diseases else "general",
        "disease_code": diseases[0]["code"] if len(diseases) == 1 else "",
        "department": "",
        "outpatient_number": "",
        "registered_at": _now_local(request),
    } | (visit or {})
    return render(
        request,
        "hospital_visit_new.html",
        {
            "card": card,
            "check": check,
            "diseases": diseases,
            "refusal": refusal,
            "refusal_code": refusal_code,
            "errors": errors or {},
            "visit": values,
            "kinds": tuple(VISIT_KINDS),
            "form_key": _form_key(),
            "lang": lang,
            **_common(request),
        },
        status_code=status_code,
    )


def _visit_form(request: Request) -> Response:
    caller = _caller(request, Action.ADMISSION_CHECK)
    return institution_refusal(request, caller, pharmacy_page=False) or _visit_new_page(request)


def _card_check(
    request: Request, caller: Caller, card: str
) -> tuple[AdmissionCheck | None, GatewayRecognitions | None, YidiError | None]:
    try:
        check = _service(request).admission_check(caller, Credential("03", card))
        return check, _recognitions(request, caller, check), None
    except YidiError as exc:
        _reraise_scope(exc)
        return None, None, exc


def _visit_check(
    request: Request,
    card: Annotated[str, Form(max_length=50)] = "",
    csrf_token: CsrfToken = "",
) -> Response:
    caller = _form_caller(request, csrf_token)
    refused = institution_refusal(request, caller, pharmacy_page=False)
    if refused is not None:
        return refused
    lang = page_lang(request)
    card = card.strip().upper()
    if not card:
        errors = {"card": translate(lang, "cashier.card_required")}
        return _visit_new_page(request, errors=errors, status_code=422)
    check, recognitions, exc = _card_check(request, caller, card)
    if exc is not None:
        if exc.kind is ErrorKind.REFUSED:
            return _visit_new_page(
                request, card=card, refusal=refusal_message(exc, lang), refusal_code=exc.code
            )
        errors = {"card": refusal_message(exc, lang)}
        return _visit_new_page(request, card=card, errors=errors, status_code=422)
    return _visit_new_page(request, card=card, check=check, recognitions=recognitions)


def _register(
    request: Request,
    card: Annotated[str, Form(max_length=50)] = "",
    kind: Annotated[str, Form(max_length=10)] = "general",
    disease_code: Annotated[str, Form(max_length=30)] = "",
    department: Annotated[str, Form(max_length=30)] = "",
    outpatient_number: Annotated[str, Form(max_length=30)] = "",
    registered_at: Annotated[str, Form(max_length=40)] = "",
    form_key: FormKey = "",
    csrf_token: CsrfToken = "",
) -> Response:
    caller = _form_caller(request, csrf_token)
    refused = institution_refusal(request, caller, pharmacy_page=False)
    if refused is not None:
        return refused
    lang = page_lang(request)
    card = card.strip().upper()
    values = {
        "kind": kind,
        "disease_code": disease_code.strip().upper(),
        "department": department.strip(),
        "outpatient_number": outpatient_number.strip(),
        "registered_at": registered_at,
    }
    errors: dict[str, str] = {}
    if not card:
        errors["card"] = translate(lang, "cashier.card_required")
    if kind not in VISIT_KINDS:
        errors["kind"] = translate(lang, "funds.choose_one")
    if kind == "chronic" and not values["disease_code"]:
        errors["disease_code"] = translate(lang, "visit.disease_required")
    when = _parse_local(registered_at)
    if when is None:
        errors["registered_at"] = translate(lang, "cashier.invalid_time")
    picked = cashier_lists.department(values["department"])
    check, recognitions, exc = _card_check(request, caller, card) if card else (None, None, None)
    if exc is not None:
        errors.setdefault("card", refusal_message(exc, lang))
    if errors:
        return _visit_new_page(
            request,
            card=card,
            check=check,
            recognitions=recognitions,
            errors=errors,
            visit=values,
            status_code=422,
        )
    assert when is not None
    chronic = kind == "chronic"
    try:
        row = _service(request).register_visit(
            caller,
            VisitRegistration(
                credential=Credential("03", card),
                registered_at=when,
                outpatient_number=values["outpatient_number"],
                department_code=picked.code if picked else "",
                department_name=picked.name_zh if picked else "",
                med_type=VISIT_KINDS[kind],
                disease_code=values["disease_code"] if chronic else None,
            ),
            _key(caller, form_key, "visit", {"card": card, **values}),
        )
    except YidiError as exc:
        _reraise_scope(exc)
        field = "disease_code" if exc.field == "dise_codg" else "visit_form"
        return _visit_new_page(
            request,
            card=card,
            check=check,
            recognitions=recognitions,
            errors={field: refusal_message(exc, lang) + f"（{exc.code}）"},
            visit=values,
            status_code=409 if exc.kind is ErrorKind.CONFLICT else 422,
        )
    return redirect(request, f"/hospital/visits/{row.id}?done=register")


# --- one visit: fees, pre-settlement, settlement ---------------------------------------------


def _visit_page(
    request: Request,
    detail: EncounterDetail,
    *,
    errors: dict[str, str] | None = None,
    fee_text: str = "",
    unknown_codes: list[str] | None = None,
    problems: list[str] | None = None,
    preview: SettlementRecord | None = None,
    uploaded: list[str] | None = None,
    use_account: bool | None = None,
    family_account: bool = False,
    status_code: int = 200,
) -> Response:
    caller = _caller(request, Action.ENCOUNTER_READ)
    active_lines = [line for line in detail.lines if not line.cancelled]
    total = money_sum([line.amount for line in active_lines]) if active_lines else Money.zero()
    balance = _service(request).account_balance(caller, detail.encounter.id)
    chronic = detail.encounter.med_type == CHRONIC_MED_TYPE
    disease_name = ""
    if chronic and detail.encounter.disease_code:
        found = (
            container_of(request)
            .chronic.lists.for_region(detail.encounter.insured_region_code)
            .find(detail.encounter.disease_code)
        )
        disease_name = found[0].name if found else ""
    return render(
        request,
        "hospital_visit.html",
        {
            "detail": detail,
            "encounter": detail.encounter,
            "lines": detail.lines,
            "total": total,
            "active_count": len(active_lines),
            "active": _active_settlement(detail),
            "preview": preview,
            "errors": errors or {},
            "fee_text": fee_text,
            "unknown_codes": unknown_codes or [],
            "problems": problems or [],
            "uploaded": set(uploaded or []),
            "balance": balance,
            "use_account": (balance is not None and balance.fen > 0)
            if use_account is None
            else use_account,
            "family_account": family_account,
            "disease_name": disease_name,
            "done": request.query_params.get("done", ""),
            "form_key": _form_key(),
            **_common(request),
        },
        status_code=status_code,
    )


def _visit_detail(request: Request, caller: Caller, visit_id: str) -> EncounterDetail:
    return _service(request).encounter_detail(caller, visit_id)


def _visit(request: Request, visit_id: str) -> Response:
    caller = _caller(request, Action.ENCOUNTER_READ)
    detail = _service(request).encounter_detail(caller, visit_id, audited=True)
    refusal = _kind_refusal(detail, EncounterKind.OUTPATIENT)
    if refusal is not None:
        return refused_page(request, refusal)
    return _visit_page(request, detail)


def _visit_failed(
    request: Request, caller: Caller, visit_id: str, exc: YidiError, field: str, **page: Any
) -> Response:
    _reraise_scope(exc)
    detail = _visit_detail(request, caller, visit_id)
    if exc.code in ("VISIT_NOT_OUTPATIENT", "VISIT_NOT_INPATIENT"):
        return refused_page(request, exc)
    message = refusal_message(exc, page_lang(request)) + f"（{exc.code}）"
    if exc.code == "IDEMPOTENCY_KEY_REUSED":
        message = translate(page_lang(request), "cashier.form_reused")
    status = 409 if exc.kind is ErrorKind.CONFLICT else 422
    return _visit_page(request, detail, errors={field: message}, status_code=status, **page)


def _visit_fees(
    request: Request,
    visit_id: str,
    fee_text: Annotated[str, Form(max_length=MAX_TEXT_BYTES)] = "",
    form_key: FormKey = "",
    csrf_token: CsrfToken = "",
) -> Response:
    caller = _form_caller(request, csrf_token)
    lang = page_lang(request)
    if not fee_text.strip():
        detail = _visit_detail(request, caller, visit_id)
        errors = {"fee_text": translate(lang, "cashier.fees_required")}
        return _visit_page(request, detail, errors=errors, status_code=422)
    parsed = parse_fee_text(fee_text)
    if parsed.problems:
        detail = _visit_detail(request, caller, visit_id)
        errors = {"fee_text": translate(lang, "cashier.fees_invalid")}
        return _visit_page(
            request,
            detail,
            errors=errors,
            problems=parsed.problems,
            fee_text=fee_text,
            status_code=422,
        )
    payload = [(x.serial, x.catalog_code, str(x.quantity), str(x.amount)) for x in parsed.lines]
    service = _service(request)
    try:
        rows = service.upload_fees(
            caller,
            visit_id,
            parsed.lines,
            _key(caller, form_key, "visit-fees", payload),
            kind=EncounterKind.OUTPATIENT,
        )
    except YidiError as exc:
        details = exc.details or {}
        return _visit_failed(
            request,
            caller,
            visit_id,
            exc,
            "fee_text",
            fee_text=fee_text,
            unknown_codes=list(details.get("unknown_codes", [])),
            problems=list(details.get("problems", [])),
        )
    detail = _visit_detail(request, caller, visit_id)
    return _visit_page(request, detail, uploaded=[row.serial for row in rows])


def _amount(text: str) -> Money | None:
    try:
        return Money(text.strip().replace(",", ""))
    except (ValueError, ArithmeticError, YidiError):
        return None


def _visit_pre_settle(
    request: Request,
    visit_id: str,
    use_account: Annotated[str, Form(max_length=10)] = "",
    family_account: Annotated[str, Form(max_length=10)] = "",
    csrf_token: CsrfToken = "",
) -> Response:
    caller = _form_caller(request, csrf_token)
    account = use_account == "yes"
    family = family_account == "yes"
    try:
        preview = _service(request).pre_settle(
            caller,
            visit_id,
            use_account=account,
            kind=EncounterKind.OUTPATIENT,
            family=FamilyUse() if family else None,
        )
    except YidiError as exc:
        return _visit_failed(
            request,
            caller,
            visit_id,
            exc,
            "settle_form",
            use_account=account,
            family_account=family,
        )
    detail = _visit_detail(request, caller, visit_id)
    return _visit_page(request, detail, preview=preview, use_account=account, family_account=family)


def _visit_settle(
    request: Request,
    visit_id: str,
    total_charges: Annotated[str, Form(max_length=20)] = "",
    use_account: Annotated[str, Form(max_length=10)] = "",
    family_account: Annotated[str, Form(max_length=10)] = "",
    form_key: FormKey = "",
    csrf_token: CsrfToken = "",
) -> Response:
    caller = _form_caller(request, csrf_token)
    account = use_account == "yes"
    family = family_account == "yes"
    total = _amount(total_charges)
    if total is None:
        detail = _visit_detail(request, caller, visit_id)
        errors = {"total_charges": translate(page_lang(request), "cashier.invalid_amount")}
        return _visit_page(
            request,
            detail,
            errors=errors,
            status_code=422,
            use_account=account,
            family_account=family,
        )
    try:
        _service(request).settle(
            caller,
            visit_id,
            total,
            _key(caller, form_key, "visit-settle", [str(total), account, family]),
            use_account=account,
            kind=EncounterKind.OUTPATIENT,
            family=FamilyUse() if family else None,
        )
    except YidiError as exc:
        return _visit_failed(
            request,
            caller,
            visit_id,
            exc,
            "settle_form",
            use_account=account,
            family_account=family,
        )
    return redirect(request, f"/hospital/visits/{visit_id}?done=settle")


def _visit_cancel(
    request: Request,
    visit_id: str,
    confirm: Annotated[str, Form(max_length=10)] = "",
    form_key: FormKey = "",
    csrf_token: CsrfToken = "",
) -> Response:
    """2202: cancel a registration with no fee lines; the resent form is done already."""
    caller = _form_caller(request, csrf_token)
    if confirm != "yes":
        detail = _visit_detail(request, caller, visit_id)
        errors = {
            "cancel_confirm": translate(page_lang(request), "cashier.cancel_confirm_required")
        }
        return _visit_page(request, detail, errors=errors, status_code=422)
    try:
        _service(request).cancel_registration(
            caller,
            visit_id,
            _key(caller, form_key, "visit-cancel", visit_id),
            reason="收费处撤销挂号",
        )
    except YidiError as exc:
        return _visit_failed(request, caller, visit_id, exc, "cancel_form")
    return redirect(request, f"/hospital/visits/{visit_id}?done=cancel_registration")


# --- the pharmacy till -------------------------------------------------------------------------


def _sale_page(
    request: Request,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    problems: list[str] | None = None,
    unknown_codes: list[str] | None = None,
    preview: SettlementRecord | None = None,
    total: Money | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "pharmacy_sale.html",
        {
            "sale": {
                "card": "",
                "fee_text": "",
                "prescriptions": "",
                "use_account": "yes",
                "family_account": "",
            }
            | (values or {}),
            "errors": errors or {},
            "problems": problems or [],
            "unknown_codes": unknown_codes or [],
            "preview": preview,
            "total": total,
            "form_key": _form_key(),
            **_common(request),
        },
        status_code=status_code,
    )


def _sale_form(request: Request) -> Response:
    caller = _caller(request, Action.ENCOUNTER_WRITE)
    return institution_refusal(request, caller, pharmacy_page=True) or _sale_page(request)


def _purchase(
    request: Request, values: dict[str, str]
) -> tuple[PharmacyPurchase | None, dict[str, str], list[str], Money | None]:
    """The purchase the form describes, or the errors by field (and the rows' problems)."""
    lang = page_lang(request)
    errors: dict[str, str] = {}
    if not values["card"]:
        errors["card"] = translate(lang, "cashier.card_required")
    parsed = parse_fee_text(values["fee_text"]) if values["fee_text"].strip() else None
    if parsed is None:
        errors["fee_text"] = translate(lang, "cashier.fees_required")
    elif parsed.problems:
        errors["fee_text"] = translate(lang, "cashier.fees_invalid")
    prescriptions = tuple(
        dict.fromkeys(
            p.strip()[:30]
            for p in values["prescriptions"].replace("，", ",").split(",")
            if p.strip()
        )
    )
    if errors or parsed is None:
        return None, errors, parsed.problems if parsed else [], None
    total = money_sum([line.amount for line in parsed.lines])
    purchase = PharmacyPurchase(
        credential=Credential("03", values["card"]),
        purchased_at=container_of(request).clock.now(),
        lines=tuple(parsed.lines),
        total_charges=total,
        prescription_numbers=prescriptions,
        use_account=values["use_account"] == "yes",
        family_account=values["family_account"] == "yes",
    )
    return purchase, {}, [], total


def _sale_values(
    card: Annotated[str, Form(max_length=50)] = "",
    fee_text: Annotated[str, Form(max_length=MAX_TEXT_BYTES)] = "",
    prescriptions: Annotated[str, Form(max_length=300)] = "",
    use_account: Annotated[str, Form(max_length=10)] = "",
    family_account: Annotated[str, Form(max_length=10)] = "",
) -> dict[str, str]:
    """The sale form's fields, tidied: the one form both sale posts read."""
    return {
        "card": card.strip().upper(),
        "fee_text": fee_text,
        "prescriptions": prescriptions.strip(),
        "use_account": "yes" if use_account == "yes" else "",
        "family_account": "yes" if family_account == "yes" else "",
    }


def _sale_refused(
    request: Request, exc: YidiError, values: dict[str, str], total: Money | None
) -> Response:
    _reraise_scope(exc)
    lang = page_lang(request)
    details = exc.details or {}
    field = {"psn_no": "card", "mdtrt_cert_no": "card"}.get(exc.field or "", "sale_form")
    if exc.code in ("PERSON_NOT_FOUND",):
        field = "card"
    return _sale_page(
        request,
        values=values,
        errors={field: refusal_message(exc, lang) + f"（{exc.code}）"},
        unknown_codes=list(details.get("unknown_codes", [])),
        problems=list(details.get("problems", [])),
        total=total,
        status_code=409 if exc.kind is ErrorKind.CONFLICT else 422,
    )


SaleValues = Annotated[dict[str, str], Depends(_sale_values)]


@dataclass(frozen=True, slots=True)
class _SaleForm:
    """A sale form that passed the checks: who sells, what was typed, what it describes."""

    caller: Caller
    values: dict[str, str]
    purchase: PharmacyPurchase
    total: Money | None


def _read_sale(request: Request, csrf_token: str, values: dict[str, str]) -> _SaleForm | Response:
    """The sale form of a pharmacy's cashier, or the page that refuses it (the institution, or
    the fields and rows in error)."""
    caller = _form_caller(request, csrf_token)
    refused = institution_refusal(request, caller, pharmacy_page=True)
    if refused is not None:
        return refused
    purchase, errors, problems, total = _purchase(request, values)
    if purchase is None:
        return _sale_page(request, values=values, errors=errors, problems=problems, status_code=422)
    return _SaleForm(caller, values, purchase, total)


def _sale_pre_settle(
    request: Request,
    values: SaleValues,
    csrf_token: CsrfToken = "",
) -> Response:
    form = _read_sale(request, csrf_token, values)
    if isinstance(form, Response):
        return form
    try:
        done = _service(request).pre_settle_purchase(form.caller, form.purchase)
    except YidiError as exc:
        return _sale_refused(request, exc, form.values, form.total)
    return _sale_page(request, values=form.values, preview=done.record, total=form.total)


def _sale_settle(
    request: Request,
    values: SaleValues,
    form_key: FormKey = "",
    csrf_token: CsrfToken = "",
) -> Response:
    form = _read_sale(request, csrf_token, values)
    if isinstance(form, Response):
        return form
    try:
        done = _service(request).settle_purchase(
            form.caller, form.purchase, _key(form.caller, form_key, "sale", dict(form.values))
        )
    except YidiError as exc:
        return _sale_refused(request, exc, form.values, form.total)
    return redirect(request, f"/pharmacy/sales/{done.record.encounter_id}?done=settle")


def _sale(request: Request, sale_id: str) -> Response:
    caller = _caller(request, Action.ENCOUNTER_READ)
    refused = institution_refusal(request, caller, pharmacy_page=True)
    if refused is not None:
        return refused
    detail = _service(request).encounter_detail(caller, sale_id, audited=True)
    refusal = _kind_refusal(detail, EncounterKind.PHARMACY)
    if refusal is not None:
        return refused_page(request, refusal)
    return render(
        request,
        "pharmacy_sold.html",
        {
            "detail": detail,
            "encounter": detail.encounter,
            "active": _active_settlement(detail),
            "done": request.query_params.get("done", ""),
            "form_key": _form_key(),
            "prescriptions": [
                p for p in (detail.encounter.prescription_numbers or "").split(",") if p
            ],
            **_common(request),
        },
    )


def add_visit_routes(router: APIRouter) -> None:
    router.add_api_route("/hospital/visits/new", _visit_form, methods=["GET"])
    router.add_api_route("/hospital/visits/check", _visit_check, methods=["POST"])
    router.add_api_route("/hospital/visits", _register, methods=["POST"])
    router.add_api_route("/hospital/visits/{visit_id}", _visit, methods=["GET"])
    router.add_api_route("/hospital/visits/{visit_id}/fees", _visit_fees, methods=["POST"])
    router.add_api_route(
        "/hospital/visits/{visit_id}/pre-settle", _visit_pre_settle, methods=["POST"]
    )
    router.add_api_route("/hospital/visits/{visit_id}/settle", _visit_settle, methods=["POST"])
    router.add_api_route("/hospital/visits/{visit_id}/cancel", _visit_cancel, methods=["POST"])
    router.add_api_route("/pharmacy/sale", _sale_form, methods=["GET"])
    router.add_api_route("/pharmacy/sale/pre-settle", _sale_pre_settle, methods=["POST"])
    router.add_api_route("/pharmacy/sale", _sale_settle, methods=["POST"])
    router.add_api_route("/pharmacy/sales/{sale_id}", _sale, methods=["GET"])


__all__ = ["add_visit_routes"]
