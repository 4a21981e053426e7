"""Hospital cashier pages (定点医疗机构收费处): admission check by card, admission, the
encounter list, fee upload, discharge, pre-settlement, settlement with its explanation,
the printable take-home statement and reversal.

Every page is bound to the cashier's own hospital (``principal.hospital_code``): another
hospital's encounter is answered exactly like a missing one (the service's rule). Forms
that change something carry the CSRF token and a one-time form key, so a double click
or a resent form returns the first answer instead of acting twice.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Final

from fastapi import APIRouter, File, Form, Request, UploadFile
from starlette.responses import Response

from yidi.encounter.commands import (
    ADMITTED,
    CANCELLED,
    DISCHARGED,
    MANUAL_MATERIALS_ZH,
    SETTLED,
    AdmissionCheck,
    AdmissionRequest,
    Credential,
    EncounterDetail,
    HospitalService,
    SettlementRecord,
    local,
)
from yidi.encounter.model import Encounter, EncounterKind
from yidi.entrypoints.http.requests import container_of
from yidi.entrypoints.web import cashier_lists
from yidi.entrypoints.web.fee_text import MAX_TEXT_BYTES, parse_fee_text, xlsx_rows_as_text
from yidi.entrypoints.web.guards import redirect, require_csrf, require_role
from yidi.entrypoints.web.i18n import Lang, translate
from yidi.entrypoints.web.refusals import refusal_message
from yidi.entrypoints.web.render import page_lang, page_principal, render
from yidi.kernel.access import Action, Caller, Role
from yidi.kernel.clock import CHINA_TZ
from yidi.kernel.errors import (
    ErrorKind,
    InvalidInput,
    NotFound,
    Refused,
    YidiError,
)
from yidi.kernel.idempotency import request_key
from yidi.kernel.insurance import InsuranceType
from yidi.kernel.money import Money, money_sum
from yidi.kernel.privacy import mask_id_number
from yidi.reference import queries as directory
from yidi.reference.model import Hospital
from yidi.settlement.amounts import AMOUNT_NAMES

STATES = (ADMITTED, DISCHARGED, SETTLED, CANCELLED)
MED_TYPES = ("21", "24", "11", "22")  # 11 and 22 are offered so the refusal is explained
#: The amount columns a settlement shows: the money vocabulary, in its order.
AMOUNT_ROWS = AMOUNT_NAMES
#: The settlement's amounts in the groups the cashier reads them in, after the one the
#: patient pays now (个人现金支出, shown large and first).
AMOUNT_DUE = "cash_paid"
AMOUNT_GROUPS = (
    ("charges", ("total_charges", "fully_self_paid", "over_limit_self_paid", "upfront_self_paid")),
    (
        "funds",
        (
            "eligible_amount",
            "deductible_applied",
            "pooled_fund_paid",
            "serious_illness_paid",
            "large_expense_paid",
            "medical_assistance_paid",
            "fund_paid_total",
        ),
    ),
    ("patient", ("patient_share", "personal_account_paid")),
)
#: How the patient pays the cash part at the hospital's cash desk (kept on the receipt).
PAY_METHODS = ("cash", "bank_card", "mobile")
_REFUSAL_CODE = re.compile(r"[A-Z][A-Z0-9_]{2,59}")


def _service(request: Request) -> HospitalService:
    return container_of(request).hospital


def _caller(request: Request, action: Action) -> Caller:
    principal = page_principal(request)
    require_role(principal, Role.HOSPITAL_CASHIER)
    principal.require(action)
    return principal.hospital_caller()


def _form_caller(request: Request, csrf_token: str) -> Caller:
    """The cashier posting one of the encounter forms, with the form's CSRF token checked."""
    caller = _caller(request, Action.ENCOUNTER_WRITE)
    require_csrf(request, csrf_token)
    return caller


# Hidden fields every cashier form posts: the resend key and the CSRF token.
FormKey = Annotated[str, Form(max_length=64)]
CsrfToken = Annotated[str, Form()]


def _reraise_scope(exc: YidiError) -> None:
    """Access and missing records are pages of their own, not field errors."""
    if exc.kind in (ErrorKind.FORBIDDEN, ErrorKind.UNAUTHENTICATED) or (
        exc.kind is ErrorKind.NOT_FOUND and exc.code == "ENCOUNTER_NOT_FOUND"
    ):
        raise exc


def _form_key() -> str:
    return uuid.uuid4().hex


def _key(caller: Caller, form_key: str, what: str, payload: Any) -> Any:
    if not form_key or len(form_key) > 64:
        return None
    return request_key(f"web:{caller.hospital_code}", f"{what}:{form_key}", payload)


def _now_local(request: Request) -> str:
    return local(container_of(request).clock.now()).strftime("%Y-%m-%dT%H:%M")


def _parse_local(text: str) -> dt.datetime | None:
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=CHINA_TZ)


def _region_label(lang: Lang) -> Any:
    english = lang == "en"
    return lambda code: directory.region_name(code, english=english) if code else ""


def _common(request: Request) -> dict[str, Any]:
    lang = page_lang(request)
    return {
        "region_label": _region_label(lang),
        "mask": mask_id_number,
        "amount_due": AMOUNT_DUE,
        "amount_groups": AMOUNT_GROUPS,
        "departments": cashier_lists.departments(),
        "diagnoses": cashier_lists.diagnoses(),
        "insurance_label": lambda code: _insurance_label(code, lang),
        "amount_rows": AMOUNT_ROWS,
        "plain": lambda number: f"{number.normalize():f}",  # 10, not 1E+1
    }


def _insurance_label(code: str, lang: Lang) -> str:
    try:
        kind = InsuranceType(code)
    except ValueError:
        return code
    return translate(lang, f"insurance.{kind.value}")


# --- the institution and the encounter must be of the page's kind ---------------------------


def wrong_institution(hospital: Hospital, *, pharmacy_page: bool) -> YidiError | None:
    """A pharmacy on a hospital page, or a hospital at the pharmacy till: the refusal."""
    if pharmacy_page and not hospital.is_pharmacy:
        return Refused(
            "INSTITUTION_NOT_PHARMACY",
            f"{hospital.name}是定点医疗机构，不能使用药店收银页面（仅限定点零售药店）；"
            "住院请用“入院身份与备案校验”，门诊请用“门诊收费”",
            "the pharmacy till is for designated retail pharmacies only",
            field="fixmedins_code",
        )
    if not pharmacy_page and hospital.is_pharmacy:
        return Refused(
            "INSTITUTION_NOT_HOSPITAL",
            f"{hospital.name}是定点零售药店，不能使用医院的住院、门诊收费页面；"
            "药店购药请用“药店收银”",
            "a designated retail pharmacy uses the pharmacy till, not the hospital pages",
            field="fixmedins_code",
        )
    return None


def refused_page(request: Request, exc: YidiError, *, status_code: int = 409) -> Response:
    """The whole page refused: the reason in Chinese (or English) and its code."""
    return render(
        request,
        "cashier_refused.html",
        {"message": refusal_message(exc, page_lang(request)), "code": exc.code},
        status_code=status_code,
    )


def institution_refusal(
    request: Request, caller: Caller, *, pharmacy_page: bool
) -> Response | None:
    refusal = wrong_institution(_service(request).institution(caller), pharmacy_page=pharmacy_page)
    # The institution may not use the page at all: 403, with the reason and its code.
    return None if refusal is None else refused_page(request, refusal, status_code=403)


def encounter_page_for(detail: EncounterDetail) -> str | None:
    """Where a visit or a sale is shown (the inpatient page shows stays only)."""
    kind = Encounter(detail.encounter).kind
    if kind is EncounterKind.OUTPATIENT:
        return f"/hospital/visits/{detail.encounter.id}"
    if kind is EncounterKind.PHARMACY:
        return f"/pharmacy/sales/{detail.encounter.id}"
    return None


# --- admission check and admission ---------------------------------------------------------


def _check_page(
    request: Request,
    *,
    card: str = "",
    check: AdmissionCheck | None = None,
    refusal: str = "",
    refusal_code: str = "",
    errors: dict[str, str] | None = None,
    admit: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    values = {
        "department": "",
        "diagnosis_main": "",
        "department_code": "",
        "department_name": "",
        "admitted_at": _now_local(request),
        "diagnosis_codes": "",
        "med_type": "21",
        "emergency_started_at": "",
        "accidental_injury": "",
        "injury_third_party": "",
        "inpatient_number": "",
    } | (admit or {})
    return render(
        request,
        "hospital_check.html",
        {
            "card": card,
            "check": check,
            "refusal": refusal,
            "refusal_code": refusal_code,
            "errors": errors or {},
            "admit": values,
            "med_types": MED_TYPES,
            "form_key": _form_key(),
            **_common(request),
        },
        status_code=status_code,
    )


def _check_form(request: Request) -> Response:
    caller = _caller(request, Action.ADMISSION_CHECK)
    return institution_refusal(request, caller, pharmacy_page=False) or _check_page(request)


def _check_post(
    request: Request,
    card: Annotated[str, Form(max_length=50)] = "",
    csrf_token: CsrfToken = "",
) -> Response:
    caller = _caller(request, Action.ADMISSION_CHECK)
    require_csrf(request, csrf_token)
    refused = institution_refusal(request, caller, pharmacy_page=False)
    if refused is not None:
        return refused
    lang = page_lang(request)
    card = card.strip().upper()
    if not card:
        return _check_page(
            request, errors={"card": translate(lang, "cashier.card_required")}, status_code=422
        )
    try:
        check = _service(request).admission_check(caller, Credential("03", card))
    except YidiError as exc:
        _reraise_scope(exc)
        if exc.kind is ErrorKind.REFUSED:
            return _check_page(
                request, card=card, refusal=refusal_message(exc, lang), refusal_code=exc.code
            )
        return _check_page(
            request, card=card, errors={"card": refusal_message(exc, lang)}, status_code=422
        )
    return _check_page(request, card=card, check=check)


#: 涉及第三方标志 of an injury as the form asks it (2401 rel_ttp_flag): "no" — the patient signed
#: the 外伤无第三方责任承诺书 (0), "yes" — a third party is liable (1), "" — not asked.
INJURY_THIRD_PARTY: Final[Mapping[str, bool | None]] = {"": None, "no": False, "yes": True}


def _admit(
    request: Request,
    card: Annotated[str, Form(max_length=50)] = "",
    department: Annotated[str, Form(max_length=30)] = "",
    diagnosis_main: Annotated[str, Form(max_length=200)] = "",
    department_code: Annotated[str, Form(max_length=30)] = "",
    department_name: Annotated[str, Form(max_length=100)] = "",
    inpatient_number: Annotated[str, Form(max_length=30)] = "",
    admitted_at: Annotated[str, Form(max_length=40)] = "",
    diagnosis_codes: Annotated[str, Form(max_length=500)] = "",
    med_type: Annotated[str, Form(max_length=6)] = "",
    accidental_injury: Annotated[str, Form(max_length=10)] = "",
    injury_third_party: Annotated[str, Form(max_length=10)] = "",
    emergency_started_at: Annotated[str, Form(max_length=40)] = "",
    form_key: FormKey = "",
    csrf_token: CsrfToken = "",
) -> Response:
    caller = _form_caller(request, csrf_token)
    refused = institution_refusal(request, caller, pharmacy_page=False)
    if refused is not None:
        return refused
    lang = page_lang(request)
    service = _service(request)
    card = card.strip().upper()
    picked = cashier_lists.department(department.strip())
    if picked is not None and not department_code.strip():
        department_code, department_name = picked.code, picked.name_zh
    values = {
        "department": department.strip(),
        "diagnosis_main": diagnosis_main.strip(),
        "department_code": department_code.strip(),
        "department_name": department_name.strip(),
        "inpatient_number": inpatient_number.strip(),
        "admitted_at": admitted_at,
        "diagnosis_codes": diagnosis_codes,
        "med_type": med_type,
        "accidental_injury": accidental_injury,
        "injury_third_party": injury_third_party,
        "emergency_started_at": emergency_started_at,
    }
    errors: dict[str, str] = {}
    required = translate(lang, "cashier.required")
    if not card:
        errors["card"] = translate(lang, "cashier.card_required")
    if not values["department_code"]:
        errors["department_code"] = required
    admitted = _parse_local(admitted_at)
    if admitted is None:
        errors["admitted_at"] = translate(lang, "cashier.invalid_time")
    emergency = None
    if emergency_started_at.strip():
        emergency = _parse_local(emergency_started_at)
        if emergency is None:
            errors["emergency_started_at"] = translate(lang, "cashier.invalid_time")
    main_code = cashier_lists.diagnosis_code(diagnosis_main)
    others = [
        code.strip().upper()
        for code in diagnosis_codes.replace("，", ",").split(",")
        if code.strip()
    ]
    codes = tuple(dict.fromkeys([main_code, *others] if main_code else others))
    if not codes:
        errors["diagnosis_main"] = required
    if med_type not in MED_TYPES:
        errors["med_type"] = translate(lang, "funds.choose_one")
    if injury_third_party not in INJURY_THIRD_PARTY:
        errors["injury_third_party"] = translate(lang, "funds.choose_one")
    check: AdmissionCheck | None = None
    if card:
        try:
            check = service.admission_check(caller, Credential("03", card))
        except YidiError as exc:
            _reraise_scope(exc)
            errors.setdefault("card", refusal_message(exc, lang))
    if errors:
        return _check_page(
            request, card=card, check=check, errors=errors, admit=values, status_code=422
        )
    assert admitted is not None
    payload = {"card": card, **values}
    try:
        row = service.admit(
            caller,
            AdmissionRequest(
                credential=Credential("03", card),
                med_type=med_type,
                admitted_at=admitted,
                department_code=values["department_code"],
                department_name=values["department_name"],
                inpatient_number=values["inpatient_number"],
                diagnosis_codes=codes,
                accidental_injury=accidental_injury == "yes",
                injury_third_party=INJURY_THIRD_PARTY[injury_third_party],
                emergency_started_at=emergency,
            ),
            _key(caller, form_key, "admit", payload),
        )
    except YidiError as exc:
        _reraise_scope(exc)
        if exc.kind is ErrorKind.REFUSED and exc.field in (
            "med_type",
            "psn_no",
            "rel_ttp_flag",
            None,
        ):
            # Not settled directly (an injury, no filing): one red answer replaces the
            # green one, with the way to register the stay as self-pay.
            return _check_page(
                request,
                card=card,
                check=check,
                refusal=refusal_message(exc, lang),
                refusal_code=exc.code,
                admit=values,
                status_code=422,
            )
        field = {
            "med_type": "med_type",
            "diagnosis_codes": "diagnosis_codes",
            "emergency_started_at": "emergency_started_at",
        }.get(exc.field or "", "admit_form")
        return _check_page(
            request,
            card=card,
            check=check,
            errors={field: refusal_message(exc, lang)},
            admit=values,
            status_code=409 if exc.kind is ErrorKind.CONFLICT else 422,
        )
    return redirect(request, f"/hospital/encounters/{row.id}?done=admit")


# --- the encounter list --------------------------------------------------------------------


def _encounters(request: Request, state: str = "") -> Response:
    caller = _caller(request, Action.ENCOUNTER_READ)
    lang = page_lang(request)
    errors: dict[str, str] = {}
    chosen: str | None = None
    if state:
        if state in STATES:
            chosen = state
        else:
            errors["state"] = translate(lang, "funds.choose_one")
    rows = _service(request).encounters(caller, state=chosen, limit=200)
    return render(
        request,
        "hospital_encounters.html",
        {"rows": rows, "state": state, "states": STATES, "errors": errors, **_common(request)},
        status_code=422 if errors else 200,
    )


# --- one encounter -------------------------------------------------------------------------


def _active_settlement(detail: EncounterDetail) -> SettlementRecord | None:
    active = [s for s in detail.settlements if s.kind == "settle" and s.state == "active"]
    return active[-1] if active else None


def _encounter_page(
    request: Request,
    detail: EncounterDetail,
    *,
    errors: dict[str, str] | None = None,
    fee_text: str = "",
    unknown_codes: list[str] | None = None,
    problems: list[str] | None = None,
    preview: SettlementRecord | None = None,
    uploaded: list[str] | None = None,
    cancel_reason: str = "",
    chosen_serials: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    active_lines = [line for line in detail.lines if not line.cancelled]
    total = money_sum([line.amount for line in active_lines]) if active_lines else Money.zero()
    return render(
        request,
        "hospital_encounter.html",
        {
            "detail": detail,
            "encounter": detail.encounter,
            "lines": detail.lines,
            "total": total,
            "active": _active_settlement(detail),
            "preview": preview,
            "errors": errors or {},
            "fee_text": fee_text,
            "unknown_codes": unknown_codes or [],
            "problems": problems or [],
            "uploaded": set(uploaded or []),
            "active_count": len(active_lines),
            "cancel_reason": cancel_reason,
            "chosen_serials": set(chosen_serials or []),
            "done": request.query_params.get("done", ""),
            "discharge_default": _now_local(request),
            "form_key": _form_key(),
            **_common(request),
        },
        status_code=status_code,
    )


def _encounter(request: Request, encounter_id: str) -> Response:
    caller = _caller(request, Action.ENCOUNTER_READ)
    detail = _service(request).encounter_detail(caller, encounter_id)
    elsewhere = encounter_page_for(detail)
    if elsewhere is not None:  # a visit or a sale has its own page (which audits the read)
        done = request.query_params.get("done", "")
        return redirect(request, elsewhere + (f"?done={done}" if done.isidentifier() else ""))
    _service(request).encounter_detail(caller, encounter_id, audited=True)
    return _encounter_page(request, detail)


def _field_error(
    request: Request,
    caller: Caller,
    encounter_id: str,
    field: str,
    message_key: str,
    **page: Any,
) -> Response:
    """The encounter page again, with one form field's error next to it (422); ``page``
    carries what the cashier typed back into the form."""
    detail = _service(request).encounter_detail(caller, encounter_id)
    errors = {field: translate(page_lang(request), message_key)}
    return _encounter_page(request, detail, errors=errors, status_code=422, **page)


def _failed(
    request: Request,
    caller: Caller,
    encounter_id: str,
    exc: YidiError,
    default_field: str,
    **page: Any,
) -> Response:
    _reraise_scope(exc)
    lang = page_lang(request)
    detail = _service(request).encounter_detail(caller, encounter_id)
    field = default_field
    if exc.field in ("total_charges", "endtime", "diagnosis_codes", "setl_id"):
        field = {"endtime": "discharged_at", "setl_id": default_field}.get(exc.field, exc.field)
    message = refusal_message(exc, lang)
    if exc.code == "IDEMPOTENCY_KEY_REUSED":  # an old copy of the page was sent again
        message = translate(lang, "cashier.form_reused")
    errors = {field: message}
    status = 409 if exc.kind is ErrorKind.CONFLICT else 422
    return _encounter_page(request, detail, errors=errors, status_code=status, **page)


def _attempt(
    request: Request,
    caller: Caller,
    encounter_id: str,
    run: Callable[[HospitalService], object],
    *,
    form: str,
    done: str,
    **page: Any,
) -> Response:
    """Run one of the encounter's forms: a refusal is shown by ``form``'s field, success goes
    back to the encounter with ``done``."""
    try:
        run(_service(request))
    except YidiError as exc:
        return _failed(request, caller, encounter_id, exc, form, **page)
    return _done(request, encounter_id, done)


def _upload(
    request: Request,
    encounter_id: str,
    fee_text: Annotated[str, Form(max_length=MAX_TEXT_BYTES)] = "",
    file: Annotated[UploadFile | None, File()] = None,
    form_key: FormKey = "",
    csrf_token: CsrfToken = "",
) -> Response:
    caller = _form_caller(request, csrf_token)
    service = _service(request)
    text = fee_text
    if file is not None and file.filename:
        data = file.file.read(MAX_TEXT_BYTES + 1)
        if len(data) > MAX_TEXT_BYTES:
            return _failed(
                request,
                caller,
                encounter_id,
                InvalidInput("FEE_FILE_TOO_LARGE", "文件超过 1 MB", "file over 1 MB"),
                "fee_text",
            )
        if data[:2] == b"PK" or file.filename.lower().endswith(".xlsx"):
            try:
                text = xlsx_rows_as_text(data)
            except YidiError as exc:
                return _failed(request, caller, encounter_id, exc, "fee_text")
            except Exception:  # any unreadable workbook (zip, XML, openpyxl) is one answer
                return _field_error(
                    request, caller, encounter_id, "fee_text", "cashier.fee_file_unreadable"
                )
        else:
            try:
                text = data.decode("utf-8-sig")
            except UnicodeDecodeError:
                try:
                    text = data.decode("gb18030")
                except UnicodeDecodeError:
                    text = ""
    if not text.strip():
        return _field_error(request, caller, encounter_id, "fee_text", "cashier.fees_required")
    parsed = parse_fee_text(text)
    if parsed.problems:
        return _field_error(
            request,
            caller,
            encounter_id,
            "fee_text",
            "cashier.fees_invalid",
            problems=parsed.problems,
            fee_text=text,
        )
    payload = [
        (x.serial, x.catalog_code, str(x.quantity), str(x.unit_price), str(x.amount))
        for x in parsed.lines
    ]
    try:
        rows = service.upload_fees(
            caller, encounter_id, parsed.lines, _key(caller, form_key, "fees", payload)
        )
    except YidiError as exc:
        details = exc.details or {}
        return _failed(
            request,
            caller,
            encounter_id,
            exc,
            "fee_text",
            fee_text=text,
            unknown_codes=list(details.get("unknown_codes", [])),
            problems=list(details.get("problems", [])),
        )
    detail = service.encounter_detail(caller, encounter_id)
    return _encounter_page(request, detail, uploaded=[row.serial for row in rows])


def _discharge(
    request: Request,
    encounter_id: str,
    discharged_at: Annotated[str, Form(max_length=40)] = "",
    form_key: FormKey = "",
    csrf_token: CsrfToken = "",
) -> Response:
    caller = _form_caller(request, csrf_token)
    when = _parse_local(discharged_at)
    if when is None:
        return _field_error(request, caller, encounter_id, "discharged_at", "cashier.invalid_time")
    return _attempt(
        request,
        caller,
        encounter_id,
        lambda service: service.discharge(
            caller,
            encounter_id,
            when,
            key=_key(caller, form_key, "discharge", {"at": when.isoformat()}),
        ),
        form="discharged_at",
        done="discharge",
    )


def _pre_settle(request: Request, encounter_id: str, csrf_token: CsrfToken = "") -> Response:
    caller = _form_caller(request, csrf_token)
    service = _service(request)
    try:
        preview = service.pre_settle(caller, encounter_id)
    except YidiError as exc:
        return _failed(request, caller, encounter_id, exc, "pre_settle_form")
    detail = service.encounter_detail(caller, encounter_id)
    return _encounter_page(request, detail, preview=preview)


def _settle(
    request: Request,
    encounter_id: str,
    total_charges: Annotated[str, Form(max_length=20)] = "",
    form_key: FormKey = "",
    csrf_token: CsrfToken = "",
) -> Response:
    caller = _form_caller(request, csrf_token)
    try:
        total = Money(total_charges.strip().replace(",", ""))
    except (ValueError, ArithmeticError, YidiError):
        return _field_error(
            request, caller, encounter_id, "total_charges", "cashier.invalid_amount"
        )
    try:
        _service(request).settle(
            caller, encounter_id, total, _key(caller, form_key, "settle", str(total))
        )
    except YidiError as exc:
        return _failed(request, caller, encounter_id, exc, "settle_form")
    return redirect(request, f"/hospital/encounters/{encounter_id}?done=settle")


def _reverse(
    request: Request,
    encounter_id: str,
    settlement_id: str,
    confirm: Annotated[str, Form(max_length=10)] = "",
    form_key: FormKey = "",
    csrf_token: CsrfToken = "",
) -> Response:
    caller = _form_caller(request, csrf_token)
    if confirm != "yes":
        return _field_error(request, caller, encounter_id, "confirm", "cashier.confirm_required")
    return _attempt(
        request,
        caller,
        encounter_id,
        lambda service: service.reverse(
            caller, encounter_id, settlement_id, _key(caller, form_key, "reverse", settlement_id)
        ),
        form="confirm",
        done="reverse",
    )


# --- cancelling: fee lines (2302), the admission (2404), the discharge (2405) ---------------

MAX_CANCEL_SERIALS = 1000
ALL_LINES = "0000"  # the national feedetl_sn that cancels every unsettled line


def _done(request: Request, encounter_id: str, what: str) -> Response:
    return redirect(request, f"/hospital/encounters/{encounter_id}?done={what}")


def _now_in(service: HospitalService, caller: Caller, encounter_id: str, state: str) -> bool:
    """Is the encounter already where a repeated request wanted it (a resent form)?"""
    return service.encounter_detail(caller, encounter_id).encounter.state == state


def _cancel_fees(
    request: Request,
    encounter_id: str,
    serials: Annotated[list[str] | None, Form()] = None,
    scope: Annotated[str, Form(max_length=10)] = "selected",
    confirm: Annotated[str, Form(max_length=10)] = "",
    form_key: FormKey = "",
    csrf_token: CsrfToken = "",
) -> Response:
    """Cancel the ticked fee lines, or all unsettled ones, before settlement. Cancelling a
    line that is already cancelled changes nothing, so a resent form succeeds again."""
    caller = _form_caller(request, csrf_token)
    given = (serials or [])[:MAX_CANCEL_SERIALS]
    chosen = sorted({s.strip() for s in given if s.strip() and len(s.strip()) <= 30})
    wanted = [ALL_LINES] if scope == "all" else chosen
    if not wanted:
        return _field_error(request, caller, encounter_id, "fee_cancel", "cashier.choose_lines")
    if confirm != "yes":
        return _field_error(
            request,
            caller,
            encounter_id,
            "fee_cancel_confirm",
            "cashier.cancel_confirm_required",
            chosen_serials=chosen,
        )
    return _attempt(
        request,
        caller,
        encounter_id,
        lambda service: service.cancel_fees(
            caller, encounter_id, wanted, _key(caller, form_key, "fee-cancel", wanted)
        ),
        form="fee_cancel",
        done="fee_cancel",
        chosen_serials=chosen,
    )


def _confirmed_cancel(
    request: Request,
    caller: Caller,
    encounter_id: str,
    *,
    form: str,
    confirm: str,
    run: Callable[[HospitalService], object],
    done_code: str,
    done_state: str,
    **page: Any,
) -> Response:
    """The shared tail of the admission and discharge cancel forms: ask for the tick, run
    the cancel, and treat a resend whose effect is already in place as done."""
    if confirm != "yes":
        return _field_error(
            request,
            caller,
            encounter_id,
            f"{form}_confirm",
            "cashier.cancel_confirm_required",
            **page,
        )
    service = _service(request)
    try:
        run(service)
    except YidiError as exc:
        # Sent again from another copy of the page: what was asked for is already done.
        if exc.code == done_code and _now_in(service, caller, encounter_id, done_state):
            return _done(request, encounter_id, form)
        return _failed(request, caller, encounter_id, exc, form, **page)
    return _done(request, encounter_id, form)


def _cancel_admission(
    request: Request,
    encounter_id: str,
    cancel_reason: Annotated[str, Form(max_length=200)] = "",
    confirm: Annotated[str, Form(max_length=10)] = "",
    form_key: FormKey = "",
    csrf_token: CsrfToken = "",
) -> Response:
    """Cancel an admission with nothing uploaded or settled; the reason is audited."""
    caller = _form_caller(request, csrf_token)
    reason = cancel_reason.strip()
    if not reason:
        return _field_error(request, caller, encounter_id, "cancel_reason", "cashier.required")
    return _confirmed_cancel(
        request,
        caller,
        encounter_id,
        form="cancel_admission",
        confirm=confirm,
        run=lambda service: service.cancel_admission(
            caller,
            encounter_id,
            _key(caller, form_key, "cancel-admission", reason),
            reason=reason,
        ),
        done_code="ENCOUNTER_CANNOT_CANCEL",
        done_state=CANCELLED,
        cancel_reason=reason,
    )


def _cancel_discharge(
    request: Request,
    encounter_id: str,
    confirm: Annotated[str, Form(max_length=10)] = "",
    form_key: FormKey = "",
    csrf_token: CsrfToken = "",
) -> Response:
    """Undo a discharge that is not settled yet (the patient is in hospital again)."""
    caller = _form_caller(request, csrf_token)
    return _confirmed_cancel(
        request,
        caller,
        encounter_id,
        form="cancel_discharge",
        confirm=confirm,
        run=lambda service: service.cancel_discharge(
            caller, encounter_id, _key(caller, form_key, "cancel-discharge", encounter_id)
        ),
        done_code="ENCOUNTER_NOT_DISCHARGED",
        done_state=ADMITTED,
    )


def _statement(request: Request, encounter_id: str) -> Response:
    """The take-home statement (结算单): printable, with the policy and catalogue versions."""
    caller = _caller(request, Action.ENCOUNTER_READ)
    detail = _service(request).encounter_detail(
        caller, encounter_id, audited=True, reason="结算单 statement"
    )
    return render(
        request,
        "hospital_statement.html",
        {
            "detail": detail,
            "encounter": detail.encounter,
            "record": _active_settlement(detail),
            **_common(request),
        },
    )


def _settlement_of(detail: EncounterDetail, settlement_id: str, kind: str) -> SettlementRecord:
    for record in detail.settlements:
        if record.settlement_id == settlement_id and record.kind == kind:
            return record
    raise _no_settlement()


def _no_settlement() -> YidiError:
    return NotFound("SETTLEMENT_NOT_FOUND", "未找到该结算记录", "no such settlement")


def _tendered(text: str) -> Money | None:
    try:
        value = Decimal(text.strip().replace(",", ""))
    except InvalidOperation:
        return None
    if not value.is_finite() or value < 0 or value > Decimal("10000000"):
        return None
    return Money.rounded(value)


def _receipt(
    request: Request,
    encounter_id: str,
    settlement_id: str,
    method: str = "",
    tendered: str = "",
) -> Response:
    """The cash-desk receipt (收费凭证) of a settlement: the amount due, how it was paid and
    the change. The payment method and the amount tendered are the hospital's own till
    records: they are printed here, not stored with the insurance settlement."""
    caller = _caller(request, Action.ENCOUNTER_READ)
    lang = page_lang(request)
    detail = _service(request).encounter_detail(
        caller, encounter_id, audited=True, reason="收费凭证 receipt"
    )
    record = _settlement_of(detail, settlement_id, "settle")
    due = record.amounts[AMOUNT_DUE]
    errors: dict[str, str] = {}
    chosen = method if method in PAY_METHODS else "cash"
    if method and method not in PAY_METHODS:
        errors["method"] = translate(lang, "funds.choose_one")
    paid: Money | None = None
    change: Money | None = None
    if chosen == "cash" and tendered.strip():
        paid = _tendered(tendered)
        if paid is None:
            errors["tendered"] = translate(lang, "cashier.invalid_amount")
        elif paid < due:
            errors["tendered"] = translate(lang, "cashier.tendered_short", due=str(due))
            paid = None
        else:
            change = paid - due
    return render(
        request,
        "hospital_receipt.html",
        {
            "detail": detail,
            "encounter": detail.encounter,
            "record": record,
            "due": due,
            "method": chosen,
            "methods": PAY_METHODS,
            "tendered": tendered.strip()[:20],
            "paid": paid if chosen == "cash" else due,
            "change": change if chosen == "cash" else Money.zero(),
            "errors": errors,
            **_common(request),
        },
        status_code=422 if errors else 200,
    )


def _settlement_list(request: Request, encounter_id: str, settlement_id: str) -> Response:
    """医疗保障基金结算清单 as far as yidi knows its fields (the rest printed blank)."""
    caller = _caller(request, Action.ENCOUNTER_READ)
    detail = _service(request).encounter_detail(
        caller, encounter_id, audited=True, reason="结算清单 settlement list"
    )
    record = _settlement_of(detail, settlement_id, "settle")
    encounter = detail.encounter
    days = None
    if encounter.discharged_at is not None:
        days = max(
            (local(encounter.discharged_at).date() - local(encounter.admitted_at).date()).days, 1
        )
    classes: dict[str, Money] = {}
    for line in detail.lines:
        if not line.cancelled:
            classes[line.item_class] = classes.get(line.item_class, Money.zero()) + line.amount
    return render(
        request,
        "hospital_settlement_list.html",
        {
            "detail": detail,
            "encounter": encounter,
            "record": record,
            "days": days,
            "classes": classes,
            "classes_total": money_sum(list(classes.values())) if classes else Money.zero(),
            "self_paid": record.amounts["fully_self_paid"] + record.amounts["over_limit_self_paid"],
            "self_copay": record.amounts["patient_share"]
            - record.amounts["fully_self_paid"]
            - record.amounts["over_limit_self_paid"],
            "diagnosis_name": _diagnosis_name(page_lang(request)),
            **_common(request),
        },
    )


def _diagnosis_name(lang: Lang) -> Callable[[str], str]:
    names = {d.code: d.name(lang) for d in cashier_lists.diagnoses()}
    return lambda code: names.get(code, "")


def _reversal_slip(request: Request, encounter_id: str, settlement_id: str) -> Response:
    """The reversal slip (撤销结算凭证): what was reversed, what is given back."""
    caller = _caller(request, Action.ENCOUNTER_READ)
    detail = _service(request).encounter_detail(
        caller, encounter_id, audited=True, reason="撤销凭证 reversal slip"
    )
    reversal = next(
        (
            s
            for s in detail.settlements
            if s.kind == "reversal" and settlement_id in (s.settlement_id, s.reverses_id)
        ),
        None,
    )
    if reversal is None:
        original: SettlementRecord | None = _settlement_of(detail, settlement_id, "settle")
    else:
        original = next(
            (s for s in detail.settlements if s.settlement_id == reversal.reverses_id), None
        )
    return render(
        request,
        "hospital_reversal_slip.html",
        {
            "detail": detail,
            "encounter": detail.encounter,
            "reversal": reversal,
            "original": original,
            **_common(request),
        },
    )


def _self_pay(
    request: Request,
    card: Annotated[str, Form(max_length=50)] = "",
    refusal_code: Annotated[str, Form(max_length=60)] = "",
    csrf_token: CsrfToken = "",
) -> Response:
    """Register the stay as self-pay (自费) after direct settlement was refused: audited, and
    a printable notice of how to claim at the insured region by hand."""
    caller = _form_caller(request, csrf_token)
    lang = page_lang(request)
    card = card.strip().upper()
    if not card:
        return _check_page(
            request, errors={"card": translate(lang, "cashier.card_required")}, status_code=422
        )
    if not _REFUSAL_CODE.fullmatch(refusal_code):
        return _check_page(
            request,
            card=card,
            errors={"card": translate(lang, "cashier.self_pay_no_refusal")},
            status_code=422,
        )
    try:
        check, agencies = _service(request).register_self_pay(
            caller, Credential("03", card), refusal_code
        )
    except YidiError as exc:
        _reraise_scope(exc)
        return _check_page(
            request, card=card, errors={"card": refusal_message(exc, lang)}, status_code=422
        )
    return render(
        request,
        "hospital_self_pay.html",
        {
            "check": check,
            "agencies": agencies,
            "refusal_code": refusal_code,
            "materials": MANUAL_MATERIALS_ZH,
            "registered_at": container_of(request).clock.now(),
            **_common(request),
        },
    )


def add_hospital_routes(router: APIRouter) -> None:
    router.add_api_route("/hospital/check", _check_form, methods=["GET"])
    router.add_api_route("/hospital/check", _check_post, methods=["POST"])
    router.add_api_route("/hospital/encounters", _encounters, methods=["GET"])
    router.add_api_route("/hospital/encounters", _admit, methods=["POST"])
    router.add_api_route("/hospital/encounters/{encounter_id}", _encounter, methods=["GET"])
    router.add_api_route("/hospital/encounters/{encounter_id}/fees", _upload, methods=["POST"])
    router.add_api_route(
        "/hospital/encounters/{encounter_id}/discharge", _discharge, methods=["POST"]
    )
    router.add_api_route(
        "/hospital/encounters/{encounter_id}/pre-settle", _pre_settle, methods=["POST"]
    )
    router.add_api_route(
        "/hospital/encounters/{encounter_id}/fees/cancel", _cancel_fees, methods=["POST"]
    )
    router.add_api_route(
        "/hospital/encounters/{encounter_id}/cancel", _cancel_admission, methods=["POST"]
    )
    router.add_api_route(
        "/hospital/encounters/{encounter_id}/discharge/cancel",
        _cancel_discharge,
        methods=["POST"],
    )
    router.add_api_route("/hospital/encounters/{encounter_id}/settle", _settle, methods=["POST"])
    router.add_api_route(
        "/hospital/encounters/{encounter_id}/settlements/{settlement_id}/reverse",
        _reverse,
        methods=["POST"],
    )
    router.add_api_route(
        "/hospital/encounters/{encounter_id}/statement", _statement, methods=["GET"]
    )
    router.add_api_route("/hospital/self-pay", _self_pay, methods=["POST"])
    settlement = "/hospital/encounters/{encounter_id}/settlements/{settlement_id}"
    router.add_api_route(f"{settlement}/receipt", _receipt, methods=["GET"])
    router.add_api_route(f"{settlement}/settlement-list", _settlement_list, methods=["GET"])
    router.add_api_route(f"{settlement}/reversal-slip", _reversal_slip, methods=["GET"])
