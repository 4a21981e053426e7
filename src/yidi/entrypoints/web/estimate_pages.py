"""The insured person's estimate of a planned admission (住院费用估算), on the real engine.

The page is labelled an estimate throughout: the amounts come from the settlement
engine under the person's own policy and year-to-date totals, but nothing is settled
or stored, and the hospital's actual fee lines decide the real settlement.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from yidi.encounter.commands import local
from yidi.entrypoints.http.requests import container_of
from yidi.entrypoints.web.guards import require_csrf, require_role
from yidi.entrypoints.web.i18n import Lang, translate
from yidi.entrypoints.web.refusals import refusal_message
from yidi.entrypoints.web.region_picker import MAX_REGION_TEXT, region_or_error
from yidi.entrypoints.web.render import page_lang, page_principal, render
from yidi.kernel.access import Principal, Role
from yidi.kernel.errors import ErrorKind, YidiError
from yidi.kernel.insurance import HospitalLevel, SettlementMode
from yidi.kernel.money import Money
from yidi.settlement.estimate import EstimateRequest, estimate_admission
from yidi.settlement.result import SettlementResult

FIELDS = (
    "treatment_region_code",
    "hospital_level",
    "planned_total",
    "class_b_amount",
    "class_c_amount",
)


def _insured(request: Request) -> Principal:
    principal = page_principal(request)
    require_role(principal, Role.INSURED_PERSON)
    return principal


def _page(
    request: Request,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    result: SettlementResult | None = None,
    status_code: int = 200,
) -> Response:
    lang = page_lang(request)
    defaults = dict.fromkeys(FIELDS, "") | {
        "hospital_level": "2",
        "class_b_amount": "0",
        "class_c_amount": "0",
    }
    return render(
        request,
        "estimate.html",
        {
            "values": defaults | (values or {}),
            "errors": errors or {},
            "levels": [(str(int(lv)), translate(lang, f"level.{int(lv)}")) for lv in HospitalLevel],
            "result": result,
            "direct": result is not None and result.mode is SettlementMode.DIRECT,
            "steps": []
            if result is None
            else (result.explanation_en() if lang == "en" else result.explanation_zh()),
        },
        status_code=status_code,
    )


def _estimate_form(request: Request) -> Response:
    _insured(request)
    return _page(request)


def _amount(text: str, field: str, lang: Lang, errors: dict[str, str]) -> Money:
    try:
        value = Decimal(text or "0")
        if not value.is_finite():
            raise InvalidOperation
        return Money.rounded(value)
    except (InvalidOperation, ValueError):
        errors[field] = translate(lang, "estimate.bad_amount")
        return Money.zero()


def _estimate(
    request: Request,
    treatment_region_code: Annotated[str, Form(max_length=MAX_REGION_TEXT)] = "",
    hospital_level: Annotated[str, Form(max_length=2)] = "",
    planned_total: Annotated[str, Form(max_length=16)] = "",
    class_b_amount: Annotated[str, Form(max_length=16)] = "",
    class_c_amount: Annotated[str, Form(max_length=16)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    principal = _insured(request)
    require_csrf(request, csrf_token)
    lang = page_lang(request)
    values = {
        "treatment_region_code": treatment_region_code.strip(),
        "hospital_level": hospital_level,
        "planned_total": planned_total.strip(),
        "class_b_amount": class_b_amount.strip(),
        "class_c_amount": class_c_amount.strip(),
    }
    errors: dict[str, str] = {}
    if not values["treatment_region_code"]:
        errors["treatment_region_code"] = translate(lang, "estimate.region_required")
    region = region_or_error(values["treatment_region_code"], "treatment_region_code", errors, lang)
    if region:
        values["treatment_region_code"] = region  # shown again by its full name
    if not values["planned_total"]:
        errors["planned_total"] = translate(lang, "cashier.required")
    amounts = {
        name: _amount(values[name], name, lang, errors)
        for name in ("planned_total", "class_b_amount", "class_c_amount")
    }
    try:
        level = HospitalLevel(int(hospital_level))
    except ValueError:
        errors["hospital_level"] = translate(lang, "estimate.bad_level")
        level = HospitalLevel.LEVEL_2
    if errors:
        return _page(request, values, errors, status_code=422)
    container = container_of(request)
    estimate = EstimateRequest(
        treatment_region_code=region,
        hospital_level=level,
        planned_total=amounts["planned_total"],
        class_c_amount=amounts["class_c_amount"],
        class_b_amount=amounts["class_b_amount"],
        on_date=local(container.clock.now()).date(),
    )
    try:
        with container.uow() as uow:
            result = estimate_admission(uow, principal, estimate, catalogs=container.catalogs)
    except YidiError as exc:
        if exc.kind in (ErrorKind.FORBIDDEN, ErrorKind.UNAUTHENTICATED):
            raise
        errors[exc.field if exc.field in FIELDS else "treatment_region_code"] = refusal_message(
            exc, lang
        )
        return _page(request, values, errors, status_code=422)
    return _page(request, values, result=result)


def add_estimate_routes(router: APIRouter) -> None:
    router.add_api_route("/me/estimate", _estimate_form, methods=["GET"])
    router.add_api_route("/me/estimate", _estimate, methods=["POST"])
