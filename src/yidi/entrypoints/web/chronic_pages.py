"""门诊慢特病认定 pages: the agency's list of its region's recognitions, the form that records
one, the detail (audited, like every full read) with the form that ends it; the province's
read-only list; an insured person's own recognitions.

The same use cases and scope rules as the REST routes (``yidi.chronic.commands``): a
recognition outside the caller's region is "not found". The record form carries the CSRF
token and a one-time form key: a resent form returns the first answer instead of recording
twice (and an identical recognition is never recorded twice anyway).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from yidi.chronic.commands import ChronicService, RecognitionDetail
from yidi.chronic.model import Evidence, NewRecognition, RecognitionState
from yidi.entrypoints.http.requests import container_of
from yidi.entrypoints.web.guards import redirect, require_csrf, require_role, require_signed_in
from yidi.entrypoints.web.i18n import Lang, translate
from yidi.entrypoints.web.refusals import refusal_message, shown_refusal
from yidi.entrypoints.web.render import page_lang, page_principal, render
from yidi.kernel.access import Action, Principal, Role
from yidi.kernel.errors import YidiError
from yidi.kernel.idempotency import request_fingerprint
from yidi.kernel.privacy import mask_id_number
from yidi.reference import queries as directory

PAGE_SIZE = 50
STATES = ("active", "ended")
DONE = frozenset({"recorded", "ended"})

FormText = Annotated[str, Form(max_length=100)]


def _service(request: Request) -> ChronicService:
    return container_of(request).chronic


def _today(request: Request) -> dt.date:
    return container_of(request).clock.today()


def _region_name(lang: Lang, code: str) -> str:
    return directory.region_name(code, english=lang == "en") if code else ""


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        return None


def _state_label(lang: Lang, state: RecognitionState) -> str:
    return translate(lang, f"chronic.state_{state.value}")


def _refusal(exc: YidiError, lang: Lang) -> tuple[str, int]:
    message, status = shown_refusal(exc, lang)
    return f"{message}（{exc.code}）" if lang == "zh" else f"{message} ({exc.code})", status


# --- the lists ---------------------------------------------------------------------------------


def _list(request: Request) -> Response:
    principal = page_principal(request)
    require_signed_in(principal)
    principal.require(Action.CHRONIC_READ)
    if principal.role is Role.INSURED_PERSON:
        return redirect(request, "/me/chronic")
    lang = page_lang(request)
    today = _today(request)
    disease = request.query_params.get("disease", "").strip()[:30]
    state = request.query_params.get("state", "")
    state = state if state in STATES else ""
    # The state filter is part of the query: the count and the page are of matching rows.
    total, rows = _service(request).list_recognitions(
        principal,
        disease_code=disease or None,
        over=(state == "ended") if state else None,
        limit=PAGE_SIZE,
    )
    region = principal.region_code or ""
    diseases = _service(request).diseases(region if len(region) == 6 else None).diseases
    return render(
        request,
        "chronic_list.html",
        {
            "total": total,
            "rows": [
                {
                    "r": r,
                    "masked": mask_id_number(p.id_number),
                    "name": p.name,
                    "region": _region_name(lang, r.insured_region_code),
                    "valid": r.valid_on(today),
                }
                for r, p in rows
            ],
            "disease_options": [
                ("", translate(lang, "chronic.all_diseases")),
                *sorted({(d.code, d.name) for d in diseases}),
            ],
            "state_options": [
                ("", translate(lang, "chronic.all_states")),
                ("active", translate(lang, "chronic.filter_active")),
                ("ended", translate(lang, "chronic.filter_ended")),
            ],
            "chosen": {"disease": disease, "state": state},
            "can_record": principal.may(Action.CHRONIC_RECOGNISE),
        },
    )


def _mine(request: Request) -> Response:
    principal = page_principal(request)
    require_role(principal, Role.INSURED_PERSON)
    today = _today(request)
    _total, items = _service(request).list_recognitions(principal, limit=200)
    return render(
        request,
        "chronic_mine.html",
        {"rows": [{"r": r, "valid": r.valid_on(today)} for r, _p in items]},
    )


# --- recording ----------------------------------------------------------------------------------


def _agency(request: Request) -> Principal:
    principal = page_principal(request)
    require_role(principal, Role.AGENCY_HANDLER)
    principal.require(Action.CHRONIC_RECOGNISE)
    return principal


def _agency_post(request: Request, csrf_token: str) -> Principal:
    """The agency behind a form post: signed in, then the CSRF token, then the role."""
    require_signed_in(page_principal(request))
    require_csrf(request, csrf_token)
    return _agency(request)


def _form_page(
    request: Request,
    principal: Principal,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    lang = page_lang(request)
    on = _date(values.get("begin_on", "")) or _today(request)
    diseases = _service(request).diseases(principal.region_code).on(on)
    return render(
        request,
        "chronic_form.html",
        {
            "values": values,
            "errors": errors or {},
            "disease_options": [("", translate(lang, "chronic.choose_disease"))]
            + [(d.code, d.name) for d in diseases],
            "list_on": on.isoformat(),
            "form_key": values.get("form_key") or uuid.uuid4().hex,
        },
        status_code=status_code,
    )


def _new(request: Request) -> Response:
    principal = _agency(request)
    on = request.query_params.get("on", "")
    values = {"begin_on": on if _date(on) else _today(request).isoformat()}
    return _form_page(request, principal, values)


def _record(
    request: Request,
    csrf_token: Annotated[str, Form()] = "",
    form_key: Annotated[str, Form(max_length=64)] = "",
    intent: Annotated[str, Form(max_length=20)] = "",
    id_number: Annotated[str, Form(max_length=40)] = "",
    disease_code: Annotated[str, Form(max_length=30)] = "",
    begin_on: Annotated[str, Form(max_length=20)] = "",
    end_on: Annotated[str, Form(max_length=20)] = "",
    hospital_code: FormText = "",
    doctor_name: FormText = "",
    reference: FormText = "",
) -> Response:
    principal = _agency_post(request, csrf_token)
    lang = page_lang(request)
    values = {
        "form_key": form_key,
        "id_number": id_number.strip(),
        "disease_code": disease_code.strip(),
        "begin_on": begin_on.strip(),
        "end_on": end_on.strip(),
        "hospital_code": hospital_code.strip(),
        "doctor_name": doctor_name.strip(),
        "reference": reference.strip(),
    }
    if intent == "refresh":  # the disease list of another begin date
        return _form_page(request, principal, values)
    errors: dict[str, str] = {}
    begin = _date(values["begin_on"])
    end = _date(values["end_on"]) if values["end_on"] else None
    if not values["id_number"]:
        errors["id_number"] = translate(lang, "chronic.id_required")
    if not values["disease_code"]:
        errors["disease_code"] = translate(lang, "chronic.disease_required")
    if begin is None:
        errors["begin_on"] = translate(lang, "chronic.date_invalid")
    if values["end_on"] and end is None:
        errors["end_on"] = translate(lang, "chronic.date_invalid")
    if errors or begin is None:
        return _form_page(request, principal, values, errors, 422)
    asked = NewRecognition(
        disease_code=values["disease_code"],
        begin_on=begin,
        end_on=end,
        evidence=Evidence(values["hospital_code"], values["doctor_name"], values["reference"]),
    )
    key = form_key[:64]
    idempotency = (
        (f"web:{key}", request_fingerprint({k: v for k, v in values.items() if k != "form_key"}))
        if key
        else None
    )
    try:
        detail = _service(request).recognise(
            principal, values["id_number"], asked, idempotency=idempotency
        )
    except YidiError as exc:
        if exc.code == "PERSON_NOT_FOUND" or exc.code.startswith("ID_NUMBER"):
            # no such person in this region, like a mistyped number: said at the field
            errors["id_number"] = f"{refusal_message(exc, lang)} ({exc.code})"
            return _form_page(request, principal, values, errors, 422)
        message, status = _refusal(exc, lang)
        errors.setdefault("form", message)
        return _form_page(request, principal, values, errors, status)
    return redirect(request, f"/chronic/{detail.recognition.id}?done=recorded")


# --- the detail and ending ----------------------------------------------------------------------


def _detail_page(
    request: Request,
    detail: RecognitionDetail,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    principal = page_principal(request)
    lang = page_lang(request)
    r = detail.recognition
    return render(
        request,
        "chronic_detail.html",
        {
            "r": r,
            "person": detail.person,
            "disease": detail.disease,
            "region": _region_name(lang, r.insured_region_code),
            "state": _state_label(lang, r.state),
            "valid": r.valid_on(_today(request)),
            "errors": errors or {},
            "values": values or {"end_on": _today(request).isoformat()},
            "done": done if (done := request.query_params.get("done", "")) in DONE else "",
            "can_end": r.state is RecognitionState.ACTIVE
            and principal.may(Action.CHRONIC_RECOGNISE),
            "back": "/me/chronic" if principal.role is Role.INSURED_PERSON else "/chronic",
        },
        status_code=status_code,
    )


def _detail(request: Request, recognition_id: str) -> Response:
    principal = page_principal(request)
    require_signed_in(principal)
    return _detail_page(request, _service(request).get(principal, recognition_id))


def _end(
    request: Request,
    recognition_id: str,
    csrf_token: Annotated[str, Form()] = "",
    end_on: Annotated[str, Form(max_length=20)] = "",
    reason: Annotated[str, Form(max_length=400)] = "",
) -> Response:
    principal = _agency_post(request, csrf_token)
    lang = page_lang(request)
    service = _service(request)
    values = {"end_on": end_on.strip(), "reason": reason.strip()}
    day = _date(values["end_on"])
    if day is None:
        current = service.get(principal, recognition_id)
        errors = {"end_on": translate(lang, "chronic.date_invalid")}
        return _detail_page(request, current, errors=errors, values=values, status_code=422)
    try:
        detail = service.end(principal, recognition_id, day, values["reason"])
    except YidiError as exc:
        message, status = _refusal(exc, lang)
        current = service.get(principal, recognition_id)
        errors = {"end_form": message}
        return _detail_page(request, current, errors=errors, values=values, status_code=status)
    return redirect(request, f"/chronic/{detail.recognition.id}?done=ended")


def add_chronic_routes(router: APIRouter) -> None:
    router.add_api_route("/chronic", _list, methods=["GET"])
    router.add_api_route("/chronic/new", _new, methods=["GET"])
    router.add_api_route("/chronic/new", _record, methods=["POST"])
    router.add_api_route("/chronic/{recognition_id}", _detail, methods=["GET"])
    router.add_api_route("/chronic/{recognition_id}/end", _end, methods=["POST"])
    router.add_api_route("/me/chronic", _mine, methods=["GET"])
