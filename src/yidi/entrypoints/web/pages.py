"""The web pages: sign-in, each role's desk, and the public services for insured persons."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.staticfiles import StaticFiles
from starlette.responses import RedirectResponse, Response

from yidi.auth.commands import authenticate, sign_out
from yidi.demo.loader import demo_accounts
from yidi.entrypoints.http.requests import SESSION_COOKIE, container_of
from yidi.entrypoints.web import csrf
from yidi.entrypoints.web.account_pages import add_account_routes
from yidi.entrypoints.web.change_request_pages import add_change_request_routes, change_service
from yidi.entrypoints.web.chronic_pages import add_chronic_routes
from yidi.entrypoints.web.claim_pages import add_claim_routes
from yidi.entrypoints.web.dispute_pages import add_dispute_routes
from yidi.entrypoints.web.errors import error_page, install_error_pages, safe_next
from yidi.entrypoints.web.estimate_pages import add_estimate_routes
from yidi.entrypoints.web.export_job_pages import add_export_job_routes
from yidi.entrypoints.web.filing_form import add_filing_form_routes
from yidi.entrypoints.web.filing_pages import add_filing_routes
from yidi.entrypoints.web.filing_wizard import add_filing_wizard_routes
from yidi.entrypoints.web.funds_pages import add_funds_routes
from yidi.entrypoints.web.guards import redirect, require_role, require_signed_in
from yidi.entrypoints.web.hospital_pages import add_hospital_routes
from yidi.entrypoints.web.i18n import translate
from yidi.entrypoints.web.nav import HOME_BY_ROLE, public_entries, work_entries
from yidi.entrypoints.web.province_pages import add_province_routes
from yidi.entrypoints.web.refusals import refusal_message
from yidi.entrypoints.web.render import (
    csrf_cookie_value,
    page_lang,
    page_principal,
    render,
    set_csrf_cookie,
    signed_in_redirect,
)
from yidi.entrypoints.web.visit_pages import add_visit_routes
from yidi.entrypoints.web.whatif_pages import add_whatif_routes
from yidi.filing.model.eligibility import (
    REIMBURSEMENT_MATERIALS,
    CareType,
    EligibilityAnswer,
    EligibilityQuestion,
    check_eligibility,
)
from yidi.kernel.access import Action, Principal, Role
from yidi.kernel.errors import ErrorKind, InvalidInput, Unauthenticated, YidiError
from yidi.kernel.insurance import FilingCategory, HospitalLevel
from yidi.reference import queries as directory

MAX_CREDENTIAL_LENGTH = 200


def _require(principal: Principal, action: Action) -> None:
    principal.require(action)


# ---------------------------------------------------------------------------------------
# Sign-in and sign-out


def _signin_page(
    request: Request,
    *,
    username: str = "",
    next_path: str | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    settings = container_of(request).settings
    accounts = demo_accounts() if settings.demo_mode else []
    return render(
        request,
        "signin.html",
        {
            "username": username,
            "next_path": next_path or "",
            "errors": errors or {},
            "demo_accounts": accounts,
        },
        status_code=status_code,
    )


def _signin_get(request: Request, next: str | None = None) -> Response:
    principal = page_principal(request)
    target = safe_next(next)
    if principal.role is not Role.ANONYMOUS:
        return redirect(request, target or HOME_BY_ROLE.get(principal.role, "/"))
    return _signin_page(request, next_path=target)


def _signin_post(
    request: Request,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    container = container_of(request)
    lang = page_lang(request)
    username = username.strip()
    target = safe_next(next)
    if not csrf.token_matches(
        container.settings.secret_key, request.cookies.get(csrf.CSRF_COOKIE), csrf_token
    ):
        return _signin_page(
            request,
            username=username,
            next_path=target,
            errors={"form": translate(lang, "signin.form_expired")},
            status_code=403,
        )
    errors: dict[str, str] = {}
    if not username:
        errors["username"] = translate(lang, "signin.username_required")
    if not password:
        errors["password"] = translate(lang, "signin.password_required")
    if errors:
        return _signin_page(
            request, username=username, next_path=target, errors=errors, status_code=422
        )
    try:
        if len(username) > MAX_CREDENTIAL_LENGTH or len(password) > MAX_CREDENTIAL_LENGTH:
            raise Unauthenticated("LOGIN_FAILED", "用户名或密码错误", "wrong username or password")
        principal = authenticate(
            container.uow(),
            container.clock,
            username,
            password,
            policy=container.sign_in_policy,
        )
    except YidiError as exc:
        message = refusal_message(exc, lang)
        status = 429 if exc.kind is ErrorKind.TOO_MANY else 401
        return _signin_page(
            request,
            username=username,
            next_path=target,
            errors={"password": message, "code": exc.code},
            status_code=status,
        )
    if principal.password_change_required:
        target = "/account/password"
    return signed_in_redirect(request, principal, target)


def _signout(request: Request, csrf_token: Annotated[str, Form()] = "") -> Response:
    container = container_of(request)
    if not csrf.token_matches(
        container.settings.secret_key, request.cookies.get(csrf.CSRF_COOKIE), csrf_token
    ):
        return error_page(request, 403, translate(page_lang(request), "signin.form_expired"))
    token = request.cookies.get(SESSION_COOKIE)
    if token:  # the session ends on the server: a copied cookie or token is worthless now
        sign_out(container.uow(), container.clock, token)
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    set_csrf_cookie(request, response, csrf.new_cookie_value())
    return response


# ---------------------------------------------------------------------------------------
# Landing and each role's desk


def _landing(request: Request) -> Response:
    principal = page_principal(request)
    if principal.role is not Role.ANONYMOUS:
        return redirect(request, HOME_BY_ROLE.get(principal.role, "/check"))
    return render(request, "landing.html", {"public_entries": public_entries()})


def _home(request: Request) -> Response:
    principal = page_principal(request)
    require_signed_in(principal)
    return redirect(request, HOME_BY_ROLE.get(principal.role, "/"))


DESK_FILINGS = 10  # the desk shows the newest few; 我的备案 lists them all


def _desk_page(role: Role) -> Callable[[Request], Response]:
    def desk(request: Request) -> Response:
        principal = page_principal(request)
        require_role(principal, role)
        container = container_of(request)
        english = page_lang(request) == "en"
        hospital_name = None
        if principal.hospital_code:
            with container.uow() as uow:
                hospital = uow.reference.hospital(principal.hospital_code)
            hospital_name = hospital.name if hospital else principal.hospital_code
        region = (
            directory.region_name(principal.region_code, english=english)
            if principal.region_code
            else None
        )
        # The desk's count of change requests waiting for this office.
        badges = (
            {"/change-requests": change_service(request).pending_count(principal)}
            if principal.role in (Role.AGENCY_HANDLER, Role.PROVINCE_OFFICER)
            else {}
        )
        # The insured person's desk: their own filings with state and deadlines.
        my_filings = (
            container.filings.search(principal, limit=DESK_FILINGS)
            if principal.role is Role.INSURED_PERSON
            else None
        )
        return render(
            request,
            "desk.html",
            {
                "my_filings": my_filings,
                "region_label": lambda code: (
                    directory.region_name(code, english=english) if code else ""
                ),
                "badges": badges,
                "region": region,
                "region_code": principal.region_code,
                "hospital_name": hospital_name,
                "work_entries": work_entries(principal),
                "public_entries": public_entries(),
            },
        )

    desk.__name__ = f"desk_{role.value}"
    return desk


# ---------------------------------------------------------------------------------------
# Public services


def _hospitals(request: Request, region: str = "", level: str = "") -> Response:
    _require(page_principal(request), Action.PUBLIC_DIRECTORY)
    lang = page_lang(request)
    errors: dict[str, str] = {}
    level_number: int | None = None
    if level:
        if level.isdigit() and int(level) in {int(v) for v in HospitalLevel}:
            level_number = int(level)
        else:
            errors["level"] = translate(lang, "hospitals.invalid_level")
    region_code = region or None
    try:
        listing = directory.connected_hospitals(
            container_of(request).uow(), region_code=region_code, level=level_number
        )
    except InvalidInput as exc:
        errors[exc.field or "region"] = translate(lang, "hospitals.invalid_region")
        region_code = None
        listing = directory.connected_hospitals(
            container_of(request).uow(), region_code=None, level=level_number
        )
    english = lang == "en"
    chart = {
        "labels": [translate(lang, f"level.{int(lv)}") for lv in listing.count_by_level],
        "values": list(listing.count_by_level.values()),
        "label": translate(lang, "hospitals.by_level"),
    }
    return render(
        request,
        "hospitals.html",
        {
            "listing": listing,
            "region": region_code or "",
            "level": str(level_number or ""),
            "errors": errors,
            "region_label": lambda code: directory.region_name(code, english=english),
            "levels": sorted(HospitalLevel, reverse=True),
            "chart": chart,
        },
        status_code=422 if errors else 200,
    )


def _agencies(request: Request) -> Response:
    _require(page_principal(request), Action.PUBLIC_DIRECTORY)
    english = page_lang(request) == "en"
    agencies = directory.agency_directory(container_of(request).uow())
    return render(
        request,
        "agencies.html",
        {
            "agencies": agencies,
            "region_label": lambda code: directory.region_name(code, english=english),
        },
    )


CATEGORY_CHOICES: tuple[str, ...] = (*(c.value for c in FilingCategory), "none")
YES_NO = ("yes", "no")
# Where the care is: away (at the filing's destination) or at home (参保地, 双向享受).
PLACES = ("away", "home")


def _check(
    request: Request,
    category: str = "",
    care: str = "",
    accident: str = "",
    filed: str = "",
    place: str = "",
    promise: str = "",
    asked: str = "",
) -> Response:
    _require(page_principal(request), Action.PUBLIC_DIRECTORY)
    lang = page_lang(request)
    # The form sends asked=1, so an empty submit is answered with the questions marked.
    asked_flag = asked == "1" or any((category, care, accident, filed))
    errors: dict[str, str] = {}
    answer: EligibilityAnswer | None = None
    if asked_flag:
        required = translate(lang, "check.required")
        if category not in CATEGORY_CHOICES:
            errors["category"] = required
        if care not in {c.value for c in CareType}:
            errors["care"] = required
        if accident not in YES_NO:
            errors["accident"] = required
        if filed not in YES_NO:
            errors["filed"] = required
        # Optional (an older link has neither): where the care is, and an outstanding promise.
        if place not in ("", *PLACES):
            errors["place"] = required
        if promise not in ("", *YES_NO):
            errors["promise"] = required
        if not errors:
            question = EligibilityQuestion(
                category=None if category == "none" else FilingCategory(category),
                care_type=CareType(care),
                accidental_injury=accident == "yes",
                filed=filed == "yes",
                at_insured_place=place == "home",
                on_date=container_of(request).clock.today(),
                promise_outstanding=promise == "yes",
            )
            try:
                answer = check_eligibility(question)
            except InvalidInput as exc:
                errors[exc.field or "category"] = refusal_message(exc, lang)
    return render(
        request,
        "check.html",
        {
            "category_options": [
                *((c.value, translate(lang, f"category.{c.value}")) for c in FilingCategory),
                ("none", translate(lang, "check.category_none")),
            ],
            "care_options": [
                (c.value, c.label_en if lang == "en" else c.label_zh) for c in CareType
            ],
            "yes_no": [("yes", translate(lang, "check.yes")), ("no", translate(lang, "check.no"))],
            "place_options": [(p, translate(lang, f"checkhome.place_{p}")) for p in PLACES],
            "chosen": {
                "category": category,
                "care": care,
                "accident": accident,
                "filed": filed,
                "place": place or "away",
                "promise": promise,
            },
            "errors": errors,
            "answer": answer,
            "materials": REIMBURSEMENT_MATERIALS,
        },
        status_code=422 if errors else 200,
    )


def build_web_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)
    router.add_api_route("/", _landing, methods=["GET"])
    router.add_api_route("/signin", _signin_get, methods=["GET"])
    router.add_api_route("/signin", _signin_post, methods=["POST"])
    router.add_api_route("/signout", _signout, methods=["POST"])
    router.add_api_route("/home", _home, methods=["GET"])
    for role, path in HOME_BY_ROLE.items():
        router.add_api_route(path, _desk_page(role), methods=["GET"])
    router.add_api_route("/hospitals", _hospitals, methods=["GET"])
    router.add_api_route("/agencies", _agencies, methods=["GET"])
    router.add_api_route("/check", _check, methods=["GET"])
    add_funds_routes(router)
    add_whatif_routes(router)
    add_change_request_routes(router)
    add_chronic_routes(router)
    add_dispute_routes(router)
    add_filing_form_routes(router)  # before /filings/{ref}
    add_filing_wizard_routes(router)
    add_export_job_routes(router)  # before /filings/{ref}
    add_filing_routes(router)
    add_hospital_routes(router)
    add_visit_routes(router)
    add_estimate_routes(router)
    add_claim_routes(router)
    add_province_routes(router)
    add_account_routes(router)
    return router


def install_web(app: FastAPI) -> None:
    """Pages, their static files (shipped in the package: no CDN) and browser error pages."""
    app.mount("/static", StaticFiles(packages=[("yidi.entrypoints.web", "static")]), name="static")
    app.include_router(build_web_router())
    install_error_pages(app)


__all__ = ["build_web_router", "csrf_cookie_value", "install_web"]
