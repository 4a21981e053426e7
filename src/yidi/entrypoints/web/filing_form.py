"""The one-page filing form (附件1 异地就医登记备案表) for the agency handler, and evidence upload
on an open filing.

An agency handler files for anyone insured in their region. An insured person files step by
step (:mod:`yidi.entrypoints.web.filing_wizard`, which offers the personal promise); their old
address of this form leads there. The same template serves the person's change request, with
name, ID number and insured region from the insurance register, shown read-only. The destination selects work without
JavaScript: the prefecture and county lists are filtered on the server by the chosen
province and prefecture ("更新地区选项" re-renders the form with what was typed).

"Submit" checks every 附件1 field first, so a faulty form creates nothing and shows each
error next to its field; the evidence scan is type-checked by content by the service.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.datastructures import FormData, UploadFile
from starlette.responses import Response

from yidi.entrypoints.http.requests import container_of
from yidi.entrypoints.web.filing_pages import _detail_page, _service
from yidi.entrypoints.web.funds_pages import date_or_error
from yidi.entrypoints.web.guards import redirect, require_csrf, require_signed_in
from yidi.entrypoints.web.i18n import Lang, label, translate
from yidi.entrypoints.web.refusals import field_errors, refusal_message
from yidi.entrypoints.web.region_picker import region_or_error
from yidi.entrypoints.web.render import page_lang, page_principal, render
from yidi.filing.commands import (
    MAX_EVIDENCE_BYTES,
    FilingService,
    evidence_media_type,
)
from yidi.filing.model.evidence import Evidence, EvidenceKind
from yidi.filing.model.needs import filing_types_on
from yidi.filing.model.record import (
    Delegate,
    DesignatedInstitution,
    FilingRecord,
    SignedBy,
)
from yidi.filing.model.rules import DEFAULT_FILING_RULES
from yidi.filing.queries import FilingDetail
from yidi.filing.region_rules import region_filing_rules
from yidi.kernel.access import Action, Principal, Role
from yidi.kernel.errors import ErrorKind, Forbidden, YidiError
from yidi.kernel.identity import Gender
from yidi.kernel.insurance import FilingCategory, HospitalLevel, InsuranceType, PersonType
from yidi.kernel.regions import DivisionLevel, default_registry

INSTITUTION_ROWS = 3
TEXT_FIELDS = (
    "insured_region_code",
    "name",
    "gender",
    "insurance_type",
    "category",
    "person_type",
    "social_security_number",
    "social_security_card_number",
    "has_second_generation_card",
    "home_address",
    "contact_address",
    "phone",
    "mobile",
    "destination_province_code",
    "destination_prefecture_code",
    "destination_county_code",
    "signed_by",
    "delegate_name",
    "delegate_relation",
    "delegate_id_number",
    "filled_on",
    "admitted_on",
    "evidence_kind",
    "evidence_number",
    "evidence_issuer",
    "evidence_issued_on",
    "evidence_region",
    *(f"institution_{i}_{part}" for i in range(INSTITUTION_ROWS) for part in ("name", "level")),
)
MAX_FIELD_LENGTH = 200
# The agency desk's own inputs (the 2022 model): the insured person signed a 个人承诺书 in place
# of the proof, and 补办备案's first and last day of the care it covers. Not change-request
# fields: a change keeps the filing's promise and 补办 as they are.
DESK_FIELDS: Final[tuple[str, ...]] = ("promise_signed", "late_care_from", "late_care_until")

T = TypeVar("T")


# --- choices ---------------------------------------------------------------------------------


@functools.cache
def _provinces() -> tuple[tuple[str, str], ...]:
    registry = default_registry()
    return tuple(
        (d.code, d.name)
        for d in registry.all(include_retired=False)
        if d.level is DivisionLevel.PROVINCE
    )


@functools.cache
def _children(code: str, level: DivisionLevel) -> tuple[tuple[str, str], ...]:
    registry = default_registry()
    if not code or not registry.exists(code):
        return ()
    return tuple((d.code, d.name) for d in registry.children(code) if d.level is level)


def _insured_regions(principal: Principal) -> list[tuple[str, str]]:
    """The pools an agency handler may file for: its own region and the counties in it."""
    code = principal.region_code or ""
    registry = default_registry()
    if not registry.exists(code):
        return [(code, code)] if code else []
    own = [(code, registry.get(code).name)]
    return own + list(_children(code, DivisionLevel.COUNTY))


def _evidence_needs(lang: Lang) -> list[tuple[str, str, list[str]]]:
    """Per category: who may file and the evidence its rule asks for (from the rules table)."""
    return [
        (
            category.value,
            translate(lang, f"category.{category.value}"),
            [label(lang, requirement) for requirement in rule.evidence],
        )
        for category, rule in DEFAULT_FILING_RULES.items()
    ]


# --- reading the form ------------------------------------------------------------------------


def _values(form: FormData) -> dict[str, str]:
    values: dict[str, str] = {}
    for name in TEXT_FIELDS:
        raw = form.get(name)
        values[name] = raw.strip()[:MAX_FIELD_LENGTH] if isinstance(raw, str) else ""
    return values


def _blank(text: str) -> str | None:
    return text or None


def _enum(kind: Any, values: dict[str, str], name: str, errors: dict[str, str], lang: Lang) -> Any:
    text = values[name]
    if not text:
        return None
    try:
        return kind(int(text) if kind is HospitalLevel else text)
    except ValueError:
        errors[name] = translate(lang, "funds.choose_one")
        return None


def _record(values: dict[str, str], lang: Lang) -> tuple[FilingRecord, dict[str, str]]:
    errors: dict[str, str] = {}
    institutions = []
    for index in range(INSTITUTION_ROWS):
        name = values[f"institution_{index}_name"]
        level = _enum(HospitalLevel, values, f"institution_{index}_level", errors, lang)
        if name:
            institutions.append(DesignatedInstitution(name, level))
    second = values["has_second_generation_card"]
    delegate = None
    if values["delegate_name"] or values["delegate_id_number"]:
        delegate = Delegate(
            _blank(values["delegate_name"]),
            _blank(values["delegate_relation"]),
            _blank(values["delegate_id_number"].upper()),
        )
    record = FilingRecord(
        insured_region_code=_blank(values["insured_region_code"]),
        name=_blank(values["name"]),
        gender=_enum(Gender, values, "gender", errors, lang),
        insurance_type=_enum(InsuranceType, values, "insurance_type", errors, lang),
        category=_enum(FilingCategory, values, "category", errors, lang),
        person_type=_enum(PersonType, values, "person_type", errors, lang),
        social_security_number=_blank(values["social_security_number"].upper()),
        social_security_card_number=_blank(values["social_security_card_number"].upper()),
        has_second_generation_card={"yes": True, "no": False}.get(second),
        home_address=_blank(values["home_address"]),
        contact_address=_blank(values["contact_address"]),
        phone=_blank(values["phone"]),
        mobile=_blank(values["mobile"]),
        destination_province_code=_blank(values["destination_province_code"]),
        destination_prefecture_code=_blank(values["destination_prefecture_code"]),
        destination_county_code=_blank(values["destination_county_code"]),
        designated_institutions=tuple(institutions),
        signed_by=_enum(SignedBy, values, "signed_by", errors, lang),
        delegate=delegate,
        filled_on=date_or_error(values["filled_on"], "filled_on", errors, lang),
        admitted_on=date_or_error(values["admitted_on"], "admitted_on", errors, lang),
    )
    return record, errors


def _desk_values(form: FormData, values: dict[str, str]) -> dict[str, str]:
    """``values`` with the desk's promise and 补办 inputs as posted."""
    found = dict(values)
    for name in DESK_FIELDS:
        raw = form.get(name)
        found[name] = raw.strip()[:MAX_FIELD_LENGTH] if isinstance(raw, str) else ""
    return found


def _desk_record(
    record: FilingRecord, values: dict[str, str], errors: dict[str, str], lang: Lang
) -> FilingRecord:
    """The record with the desk's promise and 补办 care; whether the day's rules allow them is
    the submission check's answer (FILING_PROMISE_NOT_ALLOWED, FILING_LATE_*)."""
    return dataclasses.replace(
        record,
        promise_signed=values["promise_signed"] == "yes",
        late_care_from=date_or_error(values["late_care_from"], "late_care_from", errors, lang),
        late_care_until=date_or_error(values["late_care_until"], "late_care_until", errors, lang),
    )


def _promise_types(values: dict[str, str], today: dt.date, lang: Lang) -> list[tuple[str, int]]:
    """The types a signed promise may stand for on ``today`` (the insured region's choices
    once the form names the region and insurance), with the days the documents are due in."""
    record, _ = _record(values, lang)
    return [
        (
            needs.label_zh if lang == "zh" else translate(lang, f"category.{needs.category.value}"),
            needs.promise_documents_due_days or 0,
        )
        for needs in filing_types_on(today, region_filing_rules(record, today))
        if needs.promise_allowed
    ]


def _evidence(values: dict[str, str], errors: dict[str, str], lang: Lang) -> Evidence | None:
    kind = _enum(EvidenceKind, values, "evidence_kind", errors, lang)
    if kind is None:
        return None
    region = region_or_error(values["evidence_region"], "evidence_region", errors, lang)
    if region:
        values["evidence_region"] = region  # shown again by its full name
    return Evidence(
        kind,
        _blank(values["evidence_number"]),
        _blank(values["evidence_issuer"]),
        date_or_error(values["evidence_issued_on"], "evidence_issued_on", errors, lang),
        issuer_region_code=_blank(region),
    )


def _message_fields(exc: YidiError, lang: Lang) -> dict[str, str]:
    found = field_errors(exc, lang, "form")
    # The record's combined contact check names no single input: show it by the phone.
    if "contact_phone" in found:
        found.setdefault("phone", found.pop("contact_phone"))
    if "designated_institutions" in found:
        found.setdefault("institution_0_name", found.pop("designated_institutions"))
    if "delegate" in found:
        found.setdefault("delegate_name", found.pop("delegate"))
    return found


async def with_form(
    request: Request, handle: Callable[[FormData], Awaitable[Response]]
) -> Response:
    """Read a multipart form, refuse it without its CSRF token, hand it on, close its uploads."""
    form = await request.form()
    try:
        token = form.get("csrf_token")
        require_csrf(request, token if isinstance(token, str) else "")
        return await handle(form)
    finally:
        await form.close()


async def _upload_bytes(upload: Any) -> tuple[bytes | None, str]:
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None, ""
    return await upload.read(MAX_EVIDENCE_BYTES + 1), upload.filename


async def read_evidence_upload(
    form: FormData, values: dict[str, str], errors: dict[str, str], lang: Lang
) -> tuple[Evidence | None, bytes | None, str]:
    """The evidence fields and scan of a form, each fault put next to its field in ``errors``.

    The scan's type and size are checked by content before anything is saved; a scan needs
    the kind of document it is.
    """
    evidence = _evidence(values, errors, lang)
    content, filename = await _upload_bytes(form.get("evidence_file"))
    if content is not None and evidence is None:
        errors["evidence_kind"] = translate(lang, "newfiling.kind_required")
    if content is not None:
        try:
            evidence_media_type(content)
        except YidiError as exc:
            errors["evidence_file"] = refusal_message(exc, lang)
    return evidence, content, filename


@dataclass(frozen=True, slots=True)
class DocumentForm:
    """A form that adds one document to a filing or a change request, as read."""

    values: dict[str, str]
    errors: dict[str, str]  # by input name; empty when the document can be handed on
    evidence: Evidence | None
    content: bytes | None
    filename: str


async def read_document_form(form: FormData, lang: Lang) -> DocumentForm:
    """The document's fields and scan; here the kind of document is required."""
    values = _values(form)
    errors: dict[str, str] = {}
    evidence, content, filename = await read_evidence_upload(form, values, errors, lang)
    if evidence is None:
        errors.setdefault("evidence_kind", translate(lang, "newfiling.kind_required"))
    return DocumentForm(values, errors, evidence, content, filename)


# The services name the scan "file" and the document "evidence".
_EVIDENCE_INPUTS: Final[Mapping[str, str]] = {"file": "evidence_file", "evidence": "evidence_kind"}


def document_errors(exc: YidiError, lang: Lang) -> dict[str, str]:
    """A service's refusal of a document, by the input it names (else by the whole form)."""
    found = field_errors(exc, lang, "evidence_form")
    return {_EVIDENCE_INPUTS.get(name, name): text for name, text in found.items()}


def attach_document(
    document: DocumentForm,
    lang: Lang,
    attach: Callable[[Evidence, bytes | None, str], T],
) -> tuple[T | None, dict[str, str], bool]:
    """Hand the document read from a form to ``attach`` (evidence, content, filename): what it
    returned, or None with the errors to show and whether the refusal was a conflict. Access
    errors are re-raised for the error page."""
    if document.evidence is None or document.errors:
        return None, document.errors, False
    try:
        return attach(document.evidence, document.content, document.filename), {}, False
    except YidiError as exc:
        if exc.kind in (ErrorKind.FORBIDDEN, ErrorKind.NOT_FOUND, ErrorKind.UNAUTHENTICATED):
            raise
        return None, document_errors(exc, lang), exc.kind is ErrorKind.CONFLICT


# --- the pages -------------------------------------------------------------------------------


def _defaults(request: Request, principal: Principal) -> dict[str, str]:
    values = dict.fromkeys((*TEXT_FIELDS, *DESK_FIELDS), "")
    values["filled_on"] = container_of(request).clock.today().isoformat()
    values["signed_by"] = SignedBy.PERSON.value
    if principal.role is Role.INSURED_PERSON:
        values["social_security_number"] = principal.id_number or ""
        values["name"] = principal.display_name
        with container_of(request).uow() as uow:
            person = uow.reference.person_by_id_number(principal.id_number or "")
        if person is not None:
            values |= {
                "name": person.name,
                "gender": person.gender,
                "insured_region_code": person.insured_region_code,
                "insurance_type": person.insurance_type.value,
                "person_type": person.person_type.value,
                "social_security_card_number": person.card_number or "",
                "has_second_generation_card": "yes" if person.has_second_generation_card else "",
                "home_address": person.home_address or "",
                "mobile": person.mobile or "",
            }
    elif principal.region_code:
        values["insured_region_code"] = principal.region_code
    return values


def values_of(record: FilingRecord) -> dict[str, str]:
    """The form's values for a stored record (a change request starts from the current version)."""
    values = dict.fromkeys(TEXT_FIELDS, "")
    delegate = record.delegate
    second = record.has_second_generation_card
    values |= {
        "insured_region_code": record.insured_region_code or "",
        "name": record.name or "",
        "gender": record.gender.value if record.gender else "",
        "insurance_type": record.insurance_type.value if record.insurance_type else "",
        "category": record.category.value if record.category else "",
        "person_type": record.person_type.value if record.person_type else "",
        "social_security_number": record.social_security_number or "",
        "social_security_card_number": record.social_security_card_number or "",
        "has_second_generation_card": "" if second is None else ("yes" if second else "no"),
        "home_address": record.home_address or "",
        "contact_address": record.contact_address or "",
        "phone": record.phone or "",
        "mobile": record.mobile or "",
        "destination_province_code": record.destination_province_code or "",
        "destination_prefecture_code": record.destination_prefecture_code or "",
        "destination_county_code": record.destination_county_code or "",
        "signed_by": record.signed_by.value if record.signed_by else "",
        "delegate_name": (delegate.name or "") if delegate else "",
        "delegate_relation": (delegate.relation or "") if delegate else "",
        "delegate_id_number": (delegate.id_number or "") if delegate else "",
        "filled_on": record.filled_on.isoformat() if record.filled_on else "",
        "admitted_on": record.admitted_on.isoformat() if record.admitted_on else "",
    }
    for index, institution in enumerate(record.designated_institutions[:INSTITUTION_ROWS]):
        values[f"institution_{index}_name"] = institution.name
        values[f"institution_{index}_level"] = (
            str(int(institution.level)) if institution.level else ""
        )
    return values


def form_page(
    request: Request,
    values: dict[str, str],
    *,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    change_of: str | None = None,
    reason: str = "",
) -> Response:
    """The 附件1 form: a new filing, or (``change_of`` a filing id) a change request on it."""
    principal = page_principal(request)
    lang = page_lang(request)
    own = principal.role is Role.INSURED_PERSON
    region_choices = (
        [(values["insured_region_code"], values["insured_region_code"])]
        if own
        else _insured_regions(principal)
    )
    return render(
        request,
        "filing_form.html",
        {
            "values": values,
            "errors": errors or {},
            "own": own,
            "action": (
                f"/me/filings/{change_of}/change"
                if change_of
                else "/filings/new"  # a person files step by step (filing_wizard)
            ),
            "back": (
                f"/filings/{change_of}" if change_of else ("/me/filings" if own else "/filings")
            ),
            "change_of": change_of,
            "reason": reason,
            "region_choices": region_choices,
            "provinces": _provinces(),
            "prefectures": _children(values["destination_province_code"], DivisionLevel.PREFECTURE),
            "counties": _children(values["destination_prefecture_code"], DivisionLevel.COUNTY),
            "genders": [(g.value, label(lang, g)) for g in Gender],
            "insurance_types": [
                (i.value, translate(lang, f"insurance.{i.value}")) for i in InsuranceType
            ],
            "categories": [
                (c.value, translate(lang, f"category.{c.value}")) for c in FilingCategory
            ],
            "person_types": [(p.value, label(lang, p)) for p in PersonType],
            "levels": [(str(int(lv)), translate(lang, f"level.{int(lv)}")) for lv in HospitalLevel],
            "evidence_kinds": [(k.value, label(lang, k)) for k in EvidenceKind],
            "evidence_needs": _evidence_needs(lang),
            "institution_rows": range(INSTITUTION_ROWS),
            "max_mb": MAX_EVIDENCE_BYTES // (1024 * 1024),
            "promise_types": []
            if own or change_of
            else _promise_types(values, container_of(request).clock.today(), lang),
        },
        status_code=status_code,
    )


def _require_filer(request: Request, role: Role) -> Principal:
    principal = page_principal(request)
    require_signed_in(principal)
    principal.require(Action.FILING_CREATE)
    if principal.role is not role:
        # Each role has its own address for the same form.
        raise _wrong_form(principal)
    return principal


def _wrong_form(principal: Principal) -> YidiError:
    return Forbidden(
        "ACCESS_DENIED",
        f"{principal.role.label_zh}无权打开此页面",
        f"role {principal.role.value} may not open this page",
    )


def _new_form(request: Request) -> Response:
    principal = _require_filer(request, Role.AGENCY_HANDLER)
    return form_page(request, _defaults(request, principal))


def _my_new_form(request: Request) -> Response:
    """The person files step by step (the one-page form has no promise): an old link or
    bookmark goes to the step-by-step filing, with the type it named."""
    _require_filer(request, Role.INSURED_PERSON)
    category = request.query_params.get("category", "")
    query = f"?{urlencode({'category': category})}" if category else ""
    return redirect(request, f"/me/filings/wizard{query}")


async def _create(request: Request, role: Role) -> Response:
    principal = _require_filer(request, role)
    return await with_form(request, lambda form: _create_from(request, principal, form))


async def _create_from(request: Request, principal: Principal, form: FormData) -> Response:
    lang = page_lang(request)
    values = _desk_values(form, _values(form))
    intent = form.get("intent")
    if intent == "refresh":
        return form_page(request, values)
    record, errors = _record(values, lang)
    record = _desk_record(record, values, errors, lang)
    evidence, content, filename = await read_evidence_upload(form, values, errors, lang)
    service = _service(request)
    if intent == "submit" and not errors:
        try:
            # The submission's own check of the record, before anything is stored.
            service.check_submittable(record)
        except YidiError as exc:
            if exc.kind is ErrorKind.UNAUTHENTICATED:
                raise
            errors.update(_message_fields(exc, lang))
    if errors:
        return form_page(request, values, errors=errors, status_code=422)
    try:
        detail = service.create_draft(
            principal,
            record,
            evidence=[evidence] if evidence is not None and content is None else [],
        )
    except YidiError as exc:
        if exc.kind is ErrorKind.UNAUTHENTICATED:
            raise
        status = 409 if exc.kind is ErrorKind.CONFLICT else 422
        if exc.kind is ErrorKind.FORBIDDEN:
            status = 403
        return form_page(request, values, errors=_message_fields(exc, lang), status_code=status)
    if evidence is not None and content is not None:
        try:
            detail = service.add_evidence(
                principal,
                detail.filing_id,
                evidence,
                content=content,
                filename=filename,
            )
        except YidiError as exc:
            # The draft exists; say what was wrong with the scan on its page.
            return _detail_page(
                request,
                detail,
                errors={"evidence_form": refusal_message(exc, lang)},
                status_code=422,
            )
    if intent == "submit":
        return _submit_after_create(request, service, principal, detail, lang)
    return redirect(request, f"/filings/{detail.filing_id}?done=draft")


def _submit_after_create(
    request: Request,
    service: FilingService,
    principal: Principal,
    detail: FilingDetail,
    lang: Lang,
) -> Response:
    try:
        service.submit(principal, detail.filing_id)
    except YidiError as exc:
        if exc.kind in (ErrorKind.FORBIDDEN, ErrorKind.NOT_FOUND, ErrorKind.UNAUTHENTICATED):
            raise
        fresh = service.get(principal, detail.filing_id)
        return _detail_page(
            request, fresh, errors={"submit_form": refusal_message(exc, lang)}, done="draft"
        )
    return redirect(request, f"/filings/{detail.filing_id}?done=submit")


async def _create_agency(request: Request) -> Response:
    return await _create(request, Role.AGENCY_HANDLER)


async def _add_evidence(request: Request, ref: str) -> Response:
    """Another document (and its scan) on a draft or rejected filing."""
    principal = page_principal(request)
    require_signed_in(principal)
    principal.require(Action.FILING_CREATE)
    return await with_form(request, lambda form: _add_evidence_from(request, principal, ref, form))


async def _add_evidence_from(
    request: Request, principal: Principal, ref: str, form: FormData
) -> Response:
    lang = page_lang(request)
    service = _service(request)
    document = await read_document_form(form, lang)
    _, errors, _ = attach_document(
        document,
        lang,
        lambda evidence, content, filename: service.add_evidence(
            principal, ref, evidence, content=content, filename=filename
        ),
    )
    detail = service.get(principal, ref)
    if errors:
        return _detail_page(
            request, detail, errors=errors, evidence_values=document.values, status_code=422
        )
    return redirect(request, f"/filings/{detail.filing_id}?done=evidence")


def add_filing_form_routes(router: APIRouter) -> None:
    """Registered before the filing pages' ``/filings/{ref}`` so ``new`` is not taken for a ref."""
    router.add_api_route("/filings/new", _new_form, methods=["GET"])
    router.add_api_route("/filings/new", _create_agency, methods=["POST"])
    router.add_api_route("/me/filings/new", _my_new_form, methods=["GET"])
    router.add_api_route("/filings/{ref}/evidence", _add_evidence, methods=["POST"])
