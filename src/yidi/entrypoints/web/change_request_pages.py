"""Change-request pages (变更申请): the insured person's form on their approved filing, the
agency's queue, and the field-by-field comparison where the agency approves or rejects.

The person first ticks what should change (contact details, home address, destination,
hospitals, type, card), then edits only those items, prefilled from the current version;
everything else is carried over from that version. The person and the insured region are
never the form's (and the service refuses a change of either anyway). A post that carries
no choice (a script's, or the whole 附件1) changes the inputs it holds. A request outside the
caller's scope is "not found", like a missing one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Final

from fastapi import APIRouter, Form, Request
from starlette.datastructures import FormData
from starlette.responses import Response

from yidi.entrypoints.http.requests import container_of
from yidi.entrypoints.web.change_fields import changed_labeller, field_labeller
from yidi.entrypoints.web.filing_form import (
    INSTITUTION_ROWS,
    TEXT_FIELDS,
    _message_fields,
    _record,
    _values,
    attach_document,
    form_page,
    read_document_form,
    read_evidence_upload,
    values_of,
    with_form,
)
from yidi.entrypoints.web.filing_pages import OFFICES, _region_label
from yidi.entrypoints.web.filing_wizard import DESTINATION, destination_codes, offered_types
from yidi.entrypoints.web.guards import redirect, require_role, require_signed_in
from yidi.entrypoints.web.i18n import Lang, label, translate
from yidi.entrypoints.web.refusals import decide
from yidi.entrypoints.web.region_picker import region_or_error
from yidi.entrypoints.web.render import page_lang, page_principal, render
from yidi.filing.change_requests import ChangeRequestDetail, ChangeRequestService, EvidenceUpload
from yidi.filing.commands import MAX_EVIDENCE_BYTES
from yidi.filing.model.change_requests import ChangeRequestState
from yidi.filing.model.evidence import EvidenceKind
from yidi.filing.model.lifecycle import FilingState
from yidi.filing.model.record import validate_filing_record
from yidi.filing.region_rules import region_filing_rules
from yidi.kernel.access import Action, Principal, Role
from yidi.kernel.errors import ErrorKind, ValidationFailed, YidiError
from yidi.kernel.insurance import HospitalLevel

PAGE_SIZE = 50
# the notices after a redirect
DONE = frozenset({"requested", "evidence", "approve", "reject", "withdraw"})


def change_service(request: Request) -> ChangeRequestService:
    return container_of(request).change_requests


# --- the insured person's request ------------------------------------------------------------


#: What a person may ask to change, one choice per group of 附件1 inputs (the person, the
#: insured place and the register's facts are not theirs to change).
CHANGE_GROUPS: Final[Mapping[str, tuple[str, ...]]] = {
    "contact": ("contact_address", "mobile", "phone"),
    "home": ("home_address",),
    "destination": (DESTINATION,),
    "institutions": tuple(
        f"institution_{i}_{part}" for i in range(INSTITUTION_ROWS) for part in ("name", "level")
    ),
    "category": ("category", "admitted_on"),
    "card": ("social_security_card_number", "has_second_generation_card"),
}
# A new type or destination is judged by its documents (issued at the new place).
GROUPS_WITH_DOCUMENTS: Final = frozenset({"category", "destination"})


def chosen_groups(form: FormData) -> list[str]:
    """The groups ticked (or carried by the edit page), in the page's order."""
    asked = {str(v) for v in form.getlist("change_fields")}
    return [group for group in CHANGE_GROUPS if group in asked]


def changed_inputs(groups: list[str]) -> tuple[str, ...]:
    """The inputs the edit page shows for the chosen groups."""
    return tuple(name for group in groups for name in CHANGE_GROUPS[group])


def _require_approved(request: Request, ref: str) -> tuple[Principal, Any]:
    principal = page_principal(request)
    require_role(principal, Role.INSURED_PERSON)
    return principal, change_service(request).get(principal, ref)


def _choose_page(
    request: Request,
    filing_id: str,
    chosen: list[str],
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "change_choose.html",
        {
            "filing_id": filing_id,
            "groups": list(CHANGE_GROUPS),
            "chosen": chosen,
            "errors": errors or {},
        },
        status_code=status_code,
    )


def _edit_page(
    request: Request,
    current: Any,
    values: dict[str, str],
    groups: list[str],
    *,
    reason: str = "",
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    lang = page_lang(request)
    today = container_of(request).clock.today()
    record = current.record
    shown = changed_inputs(groups)
    types = offered_types(
        today, region_filing_rules(record, today), record.insurance_type, record.person_type
    )
    errors = errors or {}
    order = ["form", *shown, "evidence_kind", "evidence_file", "reason"]
    ranked = sorted(errors, key=lambda n: order.index(n) if n in order else len(order))
    return render(
        request,
        "change_edit.html",
        {
            "filing_id": current.filing_id,
            "values": values,
            "current": values_of(record),
            "groups": groups,
            "shown": shown,
            "with_documents": bool(GROUPS_WITH_DOCUMENTS & set(groups)),
            "reason": reason,
            "errors": errors,
            "error_order": [(name, errors[name]) for name in ranked],
            "categories": [
                (
                    n.category.value,
                    n.label_zh if lang == "zh" else translate(lang, f"category.{n.category.value}"),
                )
                for n in types
            ],
            "levels": [(str(int(lv)), translate(lang, f"level.{int(lv)}")) for lv in HospitalLevel],
            "evidence_kinds": [(kind.value, label(lang, kind)) for kind in EvidenceKind],
            "max_mb": MAX_EVIDENCE_BYTES // (1024 * 1024),
            "institution_rows": range(INSTITUTION_ROWS),
        },
        status_code=status_code,
    )


def _change_form(request: Request, ref: str) -> Response:
    """Step one of a change: tick what should change."""
    _, detail = _require_approved(request, ref)
    if detail.state is not FilingState.APPROVED:
        return redirect(request, f"/filings/{detail.filing_id}")
    return _choose_page(request, detail.filing_id, [])


async def _change_submit(request: Request, ref: str) -> Response:
    principal = page_principal(request)
    require_role(principal, Role.INSURED_PERSON)
    return await with_form(request, lambda form: _change_from(request, principal, ref, form))


def _merged_values(
    current: Any, form: FormData, lang: Lang
) -> tuple[dict[str, str], dict[str, str]]:
    """The current version's values with what the form carries on top: only the inputs it
    holds change (the edit page posts the chosen groups' inputs only)."""
    values = values_of(current.record)
    posted = _values(form)
    for name in TEXT_FIELDS:
        if name in form and name not in ("social_security_number", "insured_region_code"):
            values[name] = posted[name]
    errors: dict[str, str] = {}
    raw = form.get(DESTINATION)
    if isinstance(raw, str):
        values[DESTINATION] = raw.strip()[:60]
        code = region_or_error(raw, DESTINATION, errors, lang)
        if code:
            province, prefecture, county = destination_codes(code)
            values |= {
                DESTINATION: code,
                "destination_province_code": province,
                "destination_prefecture_code": prefecture,
                "destination_county_code": county,
            }
        elif not errors:
            errors[DESTINATION] = translate(lang, "wizard.choose_destination")
    return values, errors


async def _change_from(
    request: Request, principal: Principal, ref: str, form: FormData
) -> Response:
    lang = page_lang(request)
    service = change_service(request)
    current = service.get(principal, ref)
    groups = chosen_groups(form)
    if form.get("intent") == "choose":
        if not groups:
            errors = {"change_fields": translate(lang, "changepick.choose_one")}
            return _choose_page(request, current.filing_id, [], errors, 422)
        values = values_of(current.record)
        values[DESTINATION] = current.record.destination_code or ""
        return _edit_page(request, current, values, groups)
    values, errors = _merged_values(current, form, lang)
    raw_reason = form.get("reason")
    reason = raw_reason.strip()[:500] if isinstance(raw_reason, str) else ""

    def again(errors: dict[str, str] | None = None, status_code: int = 200) -> Response:
        if groups:
            shown = {*changed_inputs(groups), "evidence_kind", "evidence_file", "reason"}
            shown |= {"evidence_number", "evidence_issuer", "evidence_issued_on", "evidence_region"}
            found = dict(errors or {})
            if "destination_province_code" in found:
                found.setdefault(DESTINATION, found.pop("destination_province_code"))
            for name in [n for n in found if n not in shown]:
                found.setdefault("form", found.pop(name))  # a fault outside the chosen items
            return _edit_page(
                request,
                current,
                values,
                groups,
                reason=reason,
                errors=found,
                status_code=status_code,
            )
        return form_page(
            request,
            values,
            errors=errors,
            status_code=status_code,
            change_of=current.filing_id,
            reason=reason,
        )

    if form.get("intent") == "refresh":
        return again()
    record, record_errors = _record(values, lang)
    errors |= record_errors
    evidence, content, filename = await read_evidence_upload(form, values, errors, lang)
    if not reason:
        errors["reason"] = translate(lang, "change.reason_required")
    if errors:
        # Every field error at once: the record's own check alongside the form's.
        try:
            validate_filing_record(
                record, service.regions, today=container_of(request).clock.today()
            )
        except ValidationFailed as exc:
            errors = _message_fields(exc, lang) | errors
        return again(errors, 422)
    uploads = [EvidenceUpload(evidence, content, filename)] if evidence is not None else []
    try:
        asked = service.request_change(
            principal, current.filing_id, record, reason, uploads=uploads
        )
    except YidiError as exc:
        if exc.kind in (ErrorKind.UNAUTHENTICATED, ErrorKind.NOT_FOUND, ErrorKind.FORBIDDEN):
            raise
        found = _message_fields(exc, lang)
        if "evidence" in found:
            found.setdefault("evidence_kind", found.pop("evidence"))
        return again(found, 409 if exc.kind is ErrorKind.CONFLICT else 422)
    return redirect(request, f"/change-requests/{asked.request.request_id}?done=requested")


# --- the agency's queue and the comparison ---------------------------------------------------


def _queue(request: Request) -> Response:
    principal = page_principal(request)
    require_signed_in(principal)
    principal.require(Action.FILING_LIST)
    if principal.role not in OFFICES:
        return redirect(request, "/me/filings")
    total, items = change_service(request).list_requests(principal, limit=PAGE_SIZE)
    return render(
        request,
        "change_requests.html",
        {
            "total": total,
            "items": items,
            "changed_labels": changed_labeller(page_lang(request)),
            "region_label": _region_label(page_lang(request)),
        },
    )


def _request_page(
    request: Request,
    detail: ChangeRequestDetail,
    *,
    errors: dict[str, str] | None = None,
    reason: str = "",
    evidence_values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    principal = page_principal(request)
    pending = detail.request.state is ChangeRequestState.PENDING
    asker = principal.role is Role.INSURED_PERSON
    return render(
        request,
        "change_request.html",
        {
            "detail": detail,
            "cr": detail.request,
            "errors": errors or {},
            "reason": reason,
            "done": done if (done := request.query_params.get("done", "")) in DONE else "",
            "can_decide": pending and principal.may(Action.FILING_REVIEW),
            "can_withdraw": pending and asker,
            "can_add_evidence": pending and asker,
            "evidence_kinds": [
                (kind.value, label(page_lang(request), kind)) for kind in EvidenceKind
            ],
            "evidence_values": evidence_values or {},
            "max_mb": MAX_EVIDENCE_BYTES // (1024 * 1024),
            "back": "/change-requests" if principal.role in OFFICES else "/me/filings",
            "region_label": _region_label(page_lang(request)),
            "field_label": field_labeller(page_lang(request)),
        },
        status_code=status_code,
    )


def _request_detail(request: Request, request_id: str) -> Response:
    principal = page_principal(request)
    require_signed_in(principal)
    detail = change_service(request).get_request(principal, request_id)
    return _request_page(request, detail)


def _decide(
    request: Request, request_id: str, csrf_token: str, action: str, reason: str = ""
) -> Response:
    service = change_service(request)

    def perform(principal: Principal, reason: str) -> ChangeRequestDetail:
        if action == "approve":
            return service.approve_request(principal, request_id)
        if action == "reject":
            return service.reject_request(principal, request_id, reason)
        return service.withdraw(principal, request_id)

    return decide(
        request,
        csrf_token,
        action,
        reason,
        reason_required=action == "reject",
        current=lambda principal: service.get_request(principal, request_id),
        perform=perform,
        page=_request_page,
        done_path=lambda detail: f"/change-requests/{detail.request.request_id}",
    )


async def _add_evidence(request: Request, request_id: str) -> Response:
    """Another document (with its scan) on one's own pending request."""
    principal = page_principal(request)
    require_role(principal, Role.INSURED_PERSON)
    return await with_form(
        request, lambda form: _add_evidence_from(request, principal, request_id, form)
    )


async def _add_evidence_from(
    request: Request, principal: Principal, request_id: str, form: FormData
) -> Response:
    lang = page_lang(request)
    service = change_service(request)
    document = await read_document_form(form, lang)
    added, errors, conflict = attach_document(
        document,
        lang,
        lambda evidence, content, filename: service.add_evidence_to_request(
            principal, request_id, evidence, content=content, filename=filename
        ),
    )
    if added is not None:
        return redirect(request, f"/change-requests/{added.request.request_id}?done=evidence")
    status_code = 409 if conflict else 422
    detail = service.get_request(principal, request_id)
    return _request_page(
        request, detail, errors=errors, evidence_values=document.values, status_code=status_code
    )


def _approve(
    request: Request, request_id: str, csrf_token: Annotated[str, Form()] = ""
) -> Response:
    return _decide(request, request_id, csrf_token, "approve")


def _reject(
    request: Request,
    request_id: str,
    csrf_token: Annotated[str, Form()] = "",
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    return _decide(request, request_id, csrf_token, "reject", reason)


def _withdraw(
    request: Request, request_id: str, csrf_token: Annotated[str, Form()] = ""
) -> Response:
    return _decide(request, request_id, csrf_token, "withdraw")


def add_change_request_routes(router: APIRouter) -> None:
    router.add_api_route("/me/filings/{ref}/change", _change_form, methods=["GET"])
    router.add_api_route("/me/filings/{ref}/change", _change_submit, methods=["POST"])
    router.add_api_route("/change-requests", _queue, methods=["GET"])
    router.add_api_route("/change-requests/{request_id}", _request_detail, methods=["GET"])
    router.add_api_route("/change-requests/{request_id}/evidence", _add_evidence, methods=["POST"])
    router.add_api_route("/change-requests/{request_id}/approve", _approve, methods=["POST"])
    router.add_api_route("/change-requests/{request_id}/reject", _reject, methods=["POST"])
    router.add_api_route("/change-requests/{request_id}/withdraw", _withdraw, methods=["POST"])
