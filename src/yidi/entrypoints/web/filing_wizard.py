"""The insured person's step-by-step filing (在线备案向导): five short pages instead of the
whole 附件1 at once, each asking only what the chosen type needs.

1 type — the classes and types that exist on the day (the national model, 2017 or 2022,
  with the insured region's choices), each explained in plain words, only those open to the
  person's insurance and person type; 2 destination — province → prefecture → county by name
  (the region picker: cascading selects in the browser, a name typed without script);
  3 details — addresses, phones, hospitals, and the admission day only for an emergency;
  4 documents — the proof the type's rule asks for, or the signed personal promise (承诺制)
  where the day's model allows it, or nothing for a type that needs none; 5 review & submit.

State travels in one signed hidden field (the values so far, the wizard's id and, once made,
the draft's id), so back and forward lose nothing and nothing is kept in a session. The draft
is made when the details are complete (idempotently, by the wizard's id: a page re-posted
from the browser's history finds the same draft), the documents are attached to it, and the
review submits it. Each step checks its own fields; the error summary at the top links to
each field and takes the focus.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from fastapi import APIRouter, Request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.datastructures import FormData
from starlette.responses import Response

from yidi.entrypoints.http.requests import container_of
from yidi.entrypoints.web.filing_form import (
    INSTITUTION_ROWS,
    TEXT_FIELDS,
    _defaults,
    _message_fields,
    _record,
    read_evidence_upload,
    with_form,
)
from yidi.entrypoints.web.filing_pages import _service
from yidi.entrypoints.web.guards import redirect, require_role
from yidi.entrypoints.web.i18n import Lang, label, translate
from yidi.entrypoints.web.refusals import refusal_message
from yidi.entrypoints.web.region_picker import region_or_error
from yidi.entrypoints.web.render import page_lang, page_principal, render
from yidi.filing.commands import MAX_EVIDENCE_BYTES
from yidi.filing.model.lifecycle import FilingState
from yidi.filing.model.needs import TypeNeeds, filing_types_on
from yidi.filing.model.record import (
    FilingRecord,
    SignedBy,
    check_destination,
    filing_record_errors,
)
from yidi.filing.queries import FilingDetail
from yidi.filing.region_rules import region_filing_rules
from yidi.kernel.access import Principal, Role
from yidi.kernel.errors import ErrorKind, ValidationFailed, YidiError
from yidi.kernel.insurance import HospitalLevel, InsuranceType, PersonType
from yidi.kernel.regions import DivisionLevel, default_registry

PATH: Final = "/me/filings/wizard"
STEPS: Final[tuple[str, ...]] = ("type", "destination", "details", "documents", "review")
STATE_FIELD: Final = "wizard_state"
_SALT: Final = "yidi-filing-wizard"
STATE_MAX_AGE_SECONDS: Final = 8 * 3600
# The wizard's own inputs beside the 附件1 fields.
DESTINATION: Final = "destination"
PROOF_PATH: Final = "proof_path"  # "evidence" or "promise"
PROMISE_CONFIRM: Final = "promise_confirm"
DRAFT_PROMISE: Final = "draft_promise"  # what the draft holds: "promise" or ""
WIZARD_FIELDS: Final[tuple[str, ...]] = (DESTINATION, PROOF_PATH, PROMISE_CONFIRM, DRAFT_PROMISE)
EVIDENCE_FIELDS: Final[tuple[str, ...]] = (
    "evidence_kind",
    "evidence_number",
    "evidence_issuer",
    "evidence_issued_on",
)


# --- which fields a step shows (pure: the unit tests read these) -------------------------


def institution_rows(needs: TypeNeeds) -> int:
    """A type that covers the named hospital only (referral, emergency) names that one; the
    others may name up to the form's rows."""
    return 1 if needs.names_its_hospital else INSTITUTION_ROWS


def step_fields(step: str, needs: TypeNeeds | None) -> tuple[str, ...]:
    """The inputs step ``step`` shows (and checks) for a filing of ``needs``."""
    if step == "type":
        return ("category",)
    if step == "destination":
        return (DESTINATION,)
    if needs is None:
        return ()
    if step == "details":
        names: list[str] = ["home_address", "contact_address", "phone", "mobile"]
        for index in range(institution_rows(needs)):
            names += [f"institution_{index}_name", f"institution_{index}_level"]
        if needs.admission_date_required:
            names.append("admitted_on")
        return tuple(names)
    if step == "documents":
        if not needs.needs_proof:
            return ()
        names = [PROOF_PATH] if needs.promise_allowed else []
        names += list(EVIDENCE_FIELDS)
        if needs.issuer_place_needed:
            names.append("evidence_region")
        names.append("evidence_file")
        if needs.promise_allowed:
            names.append(PROMISE_CONFIRM)
        return tuple(names)
    return ()


def offered_types(
    on_date: dt.date,
    region_filing: Mapping[str, object] | None,
    insurance_type: InsuranceType | None,
    person_type: PersonType | None,
) -> tuple[TypeNeeds, ...]:
    """The types a person may choose on ``on_date``: those of the day's model open to them."""
    return tuple(
        needs
        for needs in filing_types_on(on_date, region_filing)
        if needs.open_to(insurance_type, person_type)
    )


# --- the signed state ------------------------------------------------------------------------


@dataclass(slots=True)
class WizardState:
    values: dict[str, str]
    wizard_id: str
    filing_id: str = ""
    reached: int = 0  # the furthest step the person has got to


def _serializer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(container_of(request).settings.secret_key, salt=_SALT)


def dump_state(request: Request, principal: Principal, state: WizardState) -> str:
    return str(
        _serializer(request).dumps(
            {
                "u": principal.user_id,
                "w": state.wizard_id,
                "f": state.filing_id,
                "r": state.reached,
                "v": {k: v for k, v in state.values.items() if v},
            }
        )
    )


def load_state(request: Request, principal: Principal, token: str) -> WizardState | None:
    """The state a page carried, or None if it is missing, altered, stale or someone else's."""
    try:
        data = _serializer(request).loads(token, max_age=STATE_MAX_AGE_SECONDS)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("u") != principal.user_id:
        return None
    values = dict.fromkeys((*TEXT_FIELDS, *WIZARD_FIELDS), "")
    stored = data.get("v")
    if isinstance(stored, dict):
        values |= {k: str(v) for k, v in stored.items() if k in values}
    return WizardState(
        values, str(data.get("w", "")), str(data.get("f", "")), int(data.get("r", 0))
    )


# --- reading and checking one step -----------------------------------------------------------


def _today(request: Request) -> dt.date:
    return container_of(request).clock.today()


def _record_of(values: dict[str, str], lang: Lang) -> tuple[FilingRecord, dict[str, str]]:
    record, errors = _record(values, lang)
    return dataclasses.replace(record, promise_signed=values.get(PROOF_PATH) == "promise"), errors


def _offered(request: Request, values: dict[str, str]) -> tuple[TypeNeeds, ...]:
    record, _ = _record_of(values, "zh")
    today = _today(request)
    return offered_types(
        today, region_filing_rules(record, today), record.insurance_type, record.person_type
    )


def _needs_of(request: Request, values: dict[str, str]) -> TypeNeeds | None:
    return next(
        (n for n in _offered(request, values) if n.category.value == values["category"]), None
    )


def destination_codes(code: str) -> tuple[str, str, str]:
    """The province, prefecture and county codes of a division (blank below its level)."""
    registry = default_registry()
    found: dict[DivisionLevel, str] = {}
    current: str | None = code
    while current and registry.exists(current):
        division = registry.get(current)
        found[division.level] = division.code
        current = division.parent_code
    return (
        found.get(DivisionLevel.PROVINCE, ""),
        found.get(DivisionLevel.PREFECTURE, ""),
        found.get(DivisionLevel.COUNTY, ""),
    )


def _read_step(form: FormData, state: WizardState, step: str, needs: TypeNeeds | None) -> None:
    """Copy the step's posted inputs into the state (what was typed is kept even if wrong)."""
    for name in step_fields(step, needs):
        if name == "evidence_file":
            continue
        raw = form.get(name)
        state.values[name] = raw.strip()[:200] if isinstance(raw, str) else ""


def _check_type(request: Request, state: WizardState, lang: Lang) -> dict[str, str]:
    if _needs_of(request, state.values) is None:
        return {"category": translate(lang, "wizard.choose_type")}
    return {}


def _check_destination(request: Request, state: WizardState, lang: Lang) -> dict[str, str]:
    errors: dict[str, str] = {}
    text = state.values[DESTINATION]
    if not text:
        return {DESTINATION: translate(lang, "wizard.choose_destination")}
    code = region_or_error(text, DESTINATION, errors, lang)
    if errors:
        return errors
    province, prefecture, county = destination_codes(code)
    state.values |= {
        DESTINATION: code,
        "destination_province_code": province,
        "destination_prefecture_code": prefecture,
        "destination_county_code": county,
    }
    record, _ = _record_of(state.values, lang)
    for error in check_destination(record, default_registry()):
        errors.setdefault(DESTINATION, refusal_message(error, lang))
    return errors


def _check_details(
    request: Request, state: WizardState, needs: TypeNeeds, lang: Lang
) -> dict[str, str]:
    """The details step's fields, checked by the record's own rules (the other steps' fields
    were checked on their pages; the register's are not the person's to correct here)."""
    record, errors = _record_of(state.values, lang)
    shown = set(step_fields("details", needs))
    found = filing_record_errors(record, _service(request).regions, today=_today(request))
    if found:
        for name, text in _message_fields(ValidationFailed(found), lang).items():
            errors.setdefault(name, text)
    return {name: text for name, text in errors.items() if name in shown}


# --- the draft -----------------------------------------------------------------------------


def _ensure_draft(
    request: Request, principal: Principal, state: WizardState, lang: Lang
) -> dict[str, str]:
    """Make the draft (once per wizard) or bring it up to the state's values."""
    service = _service(request)
    record, _ = _record_of(state.values, lang)
    try:
        if state.filing_id:
            detail = service.get(principal, state.filing_id)
            if detail.state in (FilingState.DRAFT, FilingState.REJECTED):
                service.revise(principal, state.filing_id, record)
                state.values[DRAFT_PROMISE] = "promise" if record.promise_signed else ""
                return {}
            return {"form": translate(lang, "wizard.already_submitted")}
        detail = service.create_draft(
            principal, record, idempotency=(f"wizard:{state.wizard_id}", "filing-wizard")
        )
        state.filing_id = detail.filing_id
        same = dataclasses.replace(
            record,
            social_security_number=detail.record.social_security_number,
            name=detail.record.name,
        )
        if detail.record != same:  # a draft found again by the wizard's key: bring it up
            service.revise(principal, detail.filing_id, record)
        state.values[DRAFT_PROMISE] = "promise" if record.promise_signed else ""
    except YidiError as exc:
        if exc.kind in (ErrorKind.UNAUTHENTICATED, ErrorKind.FORBIDDEN, ErrorKind.NOT_FOUND):
            raise
        found = _message_fields(exc, lang)
        existing = exc.details.get("filing_id") if exc.details else None
        if existing:
            state.values["existing_filing"] = str(existing)
        return {"form": next(iter(found.values()), refusal_message(exc, lang))}
    return {}


async def _attach_documents(
    request: Request,
    principal: Principal,
    form: FormData,
    state: WizardState,
    needs: TypeNeeds,
    lang: Lang,
) -> dict[str, str]:
    """Step 4: the promise (revising the draft), or the document and its scan on the draft."""
    if not needs.needs_proof:
        return {}
    service = _service(request)
    promise = needs.promise_allowed and state.values[PROOF_PATH] == "promise"
    if needs.promise_allowed and state.values[PROOF_PATH] not in ("promise", "evidence"):
        return {PROOF_PATH: translate(lang, "wizard.choose_proof_path")}
    if promise:
        if state.values[PROMISE_CONFIRM] != "yes":
            return {PROMISE_CONFIRM: translate(lang, "wizard.promise_required")}
        if state.values[DRAFT_PROMISE] != "promise":
            record, _ = _record_of(state.values, lang)
            service.revise(principal, state.filing_id, record)
            state.values[DRAFT_PROMISE] = "promise"
        return {}
    state.values[PROMISE_CONFIRM] = ""
    values = {name: state.values.get(name, "") for name in TEXT_FIELDS}
    errors: dict[str, str] = {}
    evidence, content, filename = await read_evidence_upload(form, values, errors, lang)
    if evidence is None:
        errors.setdefault("evidence_kind", translate(lang, "newfiling.kind_required"))
    elif evidence.kind not in needs.evidence_kinds:
        errors["evidence_kind"] = translate(lang, "funds.choose_one")
    if content is None and not errors:
        errors["evidence_file"] = translate(lang, "wizard.scan_required")
    if needs.issuer_place_needed and not state.values["evidence_region"]:
        errors.setdefault("evidence_region", translate(lang, "wizard.issuer_place_required"))
    if errors or evidence is None:
        return errors
    state.values["evidence_region"] = values["evidence_region"]
    try:
        if state.values[DRAFT_PROMISE]:  # the person chose the documents after all
            record, _ = _record_of(state.values, lang)
            service.revise(principal, state.filing_id, record)
            state.values[DRAFT_PROMISE] = ""
        service.add_evidence(
            principal, state.filing_id, evidence, content=content, filename=filename
        )
    except YidiError as exc:
        if exc.kind in (ErrorKind.UNAUTHENTICATED, ErrorKind.FORBIDDEN, ErrorKind.NOT_FOUND):
            raise
        message = refusal_message(exc, lang)
        return {"evidence_file" if exc.field == "file" else "evidence_kind": message}
    for name in (*EVIDENCE_FIELDS, "evidence_region"):
        state.values[name] = ""  # the document is on the draft now; the fields start empty
    return {}


# --- the page ------------------------------------------------------------------------------


def _type_choices(
    offered: tuple[TypeNeeds, ...], lang: Lang
) -> list[tuple[str, list[dict[str, Any]]]]:
    classes: dict[str, list[dict[str, Any]]] = {}
    for needs in offered:
        heading = translate(lang, f"wizard.class.{needs.filing_class.value}")
        if lang == "zh":
            heading = needs.class_label_zh
        classes.setdefault(heading, []).append(
            {
                "value": needs.category.value,
                "label": needs.label_zh
                if lang == "zh"
                else translate(lang, f"category.{needs.category.value}"),
                "explain": translate(lang, f"wizard.explain.{needs.category.value}"),
                "evidence": [label(lang, req) for req in needs.evidence],
                "promise": needs.promise_allowed,
                "promise_days": needs.promise_documents_due_days,
            }
        )
    return list(classes.items())


def _page(
    request: Request,
    principal: Principal,
    state: WizardState,
    step: str,
    *,
    errors: dict[str, str] | None = None,
    detail: FilingDetail | None = None,
) -> Response:
    lang = page_lang(request)
    index = STEPS.index(step)
    state.reached = max(state.reached, index)
    offered = _offered(request, state.values)
    needs = next((n for n in offered if n.category.value == state.values["category"]), None)
    if step == "review" and detail is None and state.filing_id:
        detail = _service(request).get(principal, state.filing_id)
    errors = errors or {}
    return render(
        request,
        "filing_wizard.html",
        {
            "step": step,
            "step_number": index + 1,
            "steps": STEPS,
            "state_token": dump_state(request, principal, state),
            "state_field": STATE_FIELD,
            "values": state.values,
            "errors": errors,
            "error_order": _error_order(
                errors, step, needs, offered[0].category.value if offered else ""
            ),
            "needs": needs,
            "fields": step_fields(step, needs),
            "type_choices": _type_choices(offered, lang),
            "institution_rows": range(institution_rows(needs)) if needs else range(0),
            "levels": [(str(int(lv)), translate(lang, f"level.{int(lv)}")) for lv in HospitalLevel],
            "evidence_kinds": [
                (k.value, label(lang, k)) for k in (needs.evidence_kinds if needs else ())
            ],
            "max_mb": MAX_EVIDENCE_BYTES // (1024 * 1024),
            "detail": detail,
            "record": detail.record if detail else None,
            "existing_filing": state.values.get("existing_filing", ""),
        },
        status_code=422 if errors else 200,
    )


def _error_order(
    errors: dict[str, str], step: str, needs: TypeNeeds | None, first_type: str
) -> list[tuple[str, str]]:
    """The summary's (anchor, message) in the order the fields stand on the page, the form's
    own message first; a choice links to its first option."""
    order = ["form", *step_fields(step, needs)]
    anchors = {
        "form": "wizard-form",
        "category": f"category-{first_type}",
        PROOF_PATH: f"{PROOF_PATH}-evidence",
    }
    ranked = sorted(
        errors.items(), key=lambda item: order.index(item[0]) if item[0] in order else len(order)
    )
    return [(anchors.get(name, name), text) for name, text in ranked]


def _start(request: Request) -> Response:
    principal = page_principal(request)
    require_role(principal, Role.INSURED_PERSON)
    values = dict.fromkeys((*TEXT_FIELDS, *WIZARD_FIELDS), "")
    values |= _defaults(request, principal)
    values["signed_by"] = SignedBy.PERSON.value  # online, the person signs for themselves
    state = WizardState(values, secrets.token_hex(16))
    chosen = request.query_params.get("category", "")
    if chosen and any(n.category.value == chosen for n in _offered(request, values)):
        values["category"] = chosen  # from the guided check: the type already known
    return _page(request, principal, state, "type")


async def _post(request: Request) -> Response:
    principal = page_principal(request)
    require_role(principal, Role.INSURED_PERSON)
    return await with_form(request, lambda form: _advance(request, principal, form))


def _fixed_identity(request: Request, principal: Principal, state: WizardState) -> None:
    """The person, the insured place and the register's facts are never the form's."""
    fixed = _defaults(request, principal)
    for name in (
        "social_security_number",
        "insured_region_code",
        "name",
        "gender",
        "insurance_type",
        "person_type",
        "social_security_card_number",
        "has_second_generation_card",
    ):
        state.values[name] = fixed[name]
    state.values["signed_by"] = SignedBy.PERSON.value
    state.values["filled_on"] = _today(request).isoformat()


async def _advance(request: Request, principal: Principal, form: FormData) -> Response:
    lang = page_lang(request)
    token = form.get(STATE_FIELD)
    state = load_state(request, principal, token if isinstance(token, str) else "")
    if state is None:
        return redirect(request, f"{PATH}?expired=1")
    _fixed_identity(request, principal, state)
    step = str(form.get("step", ""))
    if step not in STEPS:
        step = STEPS[0]
    go = str(form.get("go", "next"))
    needs = _needs_of(request, state.values)
    _read_step(form, state, step, needs)
    needs = _needs_of(request, state.values)  # the type may just have been chosen
    index = STEPS.index(step)
    if go == "back":
        return _page(request, principal, state, STEPS[max(0, index - 1)])
    if go.startswith("to:") and go[3:] in STEPS and STEPS.index(go[3:]) <= state.reached:
        return _page(request, principal, state, go[3:])
    errors: dict[str, str] = {}
    if step == "type":
        errors = _check_type(request, state, lang)
    elif step == "destination":
        errors = _check_destination(request, state, lang)
    elif needs is None:
        return _page(request, principal, state, "type", errors=_check_type(request, state, lang))
    elif step == "details":
        errors = _check_details(request, state, needs, lang) or _ensure_draft(
            request, principal, state, lang
        )
    elif step == "documents":
        if not state.filing_id:
            return _page(request, principal, state, "details")
        errors = await _attach_documents(request, principal, form, state, needs, lang)
    else:
        return _submit(request, principal, state, lang)
    if errors:
        return _page(request, principal, state, step, errors=errors)
    return _page(request, principal, state, STEPS[index + 1])


def _submit(request: Request, principal: Principal, state: WizardState, lang: Lang) -> Response:
    if not state.filing_id:
        return _page(request, principal, state, "details")
    service = _service(request)
    try:
        detail = service.submit(principal, state.filing_id)
    except YidiError as exc:
        if exc.kind in (ErrorKind.UNAUTHENTICATED, ErrorKind.FORBIDDEN, ErrorKind.NOT_FOUND):
            raise
        return _page(
            request, principal, state, "review", errors={"form": refusal_message(exc, lang)}
        )
    return redirect(request, f"/filings/{detail.filing_id}?done=submit")


def add_filing_wizard_routes(router: APIRouter) -> None:
    router.add_api_route(PATH, _start, methods=["GET"])
    router.add_api_route(PATH, _post, methods=["POST"])
