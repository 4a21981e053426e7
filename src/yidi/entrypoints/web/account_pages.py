"""Account pages: change one's own password (forced at first sign-in and after a reset), set a
password through a one-time reset link, and user administration for the administrator
(用户管理: create, disable/enable, reset link, role and scope, clear failed sign-ins)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from yidi.auth.commands import change_password, complete_reset, reset_link_account
from yidi.auth.passwords import MAX_PASSWORD_LENGTH
from yidi.auth.users import ASSIGNABLE_ROLES, Assignment, ResetLink, UserAdminService
from yidi.entrypoints.http.requests import container_of
from yidi.entrypoints.web.citizen_account_pages import add_citizen_account_routes
from yidi.entrypoints.web.guards import redirect, require_csrf, require_role, require_signed_in
from yidi.entrypoints.web.i18n import Lang, translate
from yidi.entrypoints.web.password_form import NewPasswordForm, field_errors, password_rule
from yidi.entrypoints.web.refusals import refusal_message
from yidi.entrypoints.web.region_picker import MAX_REGION_TEXT, resolve_region
from yidi.entrypoints.web.render import (
    page_lang,
    page_principal,
    render,
    signed_in_redirect,
)
from yidi.kernel.access import Action, Principal, Role
from yidi.kernel.errors import ErrorKind, YidiError

T = TypeVar("T")


def _field_errors(exc: YidiError, lang: Lang, default: str) -> dict[str, str]:
    # Not signed in or not allowed: the guard's page, not a field error.
    if exc.kind in (ErrorKind.FORBIDDEN, ErrorKind.UNAUTHENTICATED):
        raise exc
    return field_errors(exc, lang, default)


# --- one's own password --------------------------------------------------------------------


def _password_page(
    request: Request, errors: dict[str, str] | None = None, status_code: int = 200
) -> Response:
    principal = page_principal(request)
    return render(
        request,
        "account_password.html",
        {
            "errors": errors or {},
            "rule": password_rule(request),
            "forced": principal.password_change_required,
        },
        status_code=status_code,
    )


def _password_get(request: Request) -> Response:
    principal = page_principal(request)
    require_signed_in(principal)
    principal.require(Action.ACCOUNT_SELF)
    return _password_page(request)


def _password_post(
    request: Request,
    new_password: NewPasswordForm,
    current_password: Annotated[str, Form(max_length=MAX_PASSWORD_LENGTH)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    principal = page_principal(request)
    require_signed_in(principal)
    principal.require(Action.ACCOUNT_SELF)
    require_csrf(request, csrf_token)
    lang = page_lang(request)
    container = container_of(request)
    if mismatch := new_password.mismatch(lang):
        return _password_page(request, mismatch, 422)
    try:
        change_password(
            container.uow(),
            container.clock,
            principal,
            current_password,
            new_password.value,
            min_length=container.settings.password_min_length,
        )
    except YidiError as exc:
        return _password_page(request, _field_errors(exc, lang, "new_password"), 422)
    # Every session of the account has ended; this browser gets a fresh one.
    return signed_in_redirect(request, replace(principal, password_change_required=False))


# --- the one-time reset link -----------------------------------------------------------------


def _reset_page(
    request: Request,
    token: str,
    username: str | None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    done: bool = False,
) -> Response:
    return render(
        request,
        "password_reset.html",
        {
            "token": token,
            "account": username,
            "errors": errors or {},
            "rule": password_rule(request),
            "done": done,
        },
        status_code=status_code,
    )


def _reset_get(request: Request, token: str = "") -> Response:
    container = container_of(request)
    try:
        username = reset_link_account(container.uow(), container.clock, token)
    except YidiError as exc:
        return _reset_page(
            request, "", None, {"token": refusal_message(exc, page_lang(request))}, 410
        )
    return _reset_page(request, token, username)


def _reset_post(
    request: Request,
    new_password: NewPasswordForm,
    token: Annotated[str, Form(max_length=100)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    require_csrf(request, csrf_token)
    lang = page_lang(request)
    container = container_of(request)
    try:
        username = reset_link_account(container.uow(), container.clock, token)
    except YidiError as exc:
        return _reset_page(request, "", None, {"token": refusal_message(exc, lang)}, 410)
    if mismatch := new_password.mismatch(lang):
        return _reset_page(request, token, username, mismatch, 422)
    try:
        complete_reset(
            container.uow(),
            container.clock,
            token,
            new_password.value,
            min_length=container.settings.password_min_length,
        )
    except YidiError as exc:
        status = 410 if exc.code == "RESET_LINK_INVALID" else 422
        return _reset_page(
            request, token, username, _field_errors(exc, lang, "new_password"), status
        )
    return _reset_page(request, "", username, done=True)


# --- user administration -------------------------------------------------------------------


def _region(text: str) -> str:
    """The region field by name or code (refused with field ``region_code``)."""
    try:
        return resolve_region(text)
    except YidiError as exc:
        exc.field = "region_code"
        raise


def _admin(request: Request) -> Any:
    principal = page_principal(request)
    require_role(principal, Role.ADMINISTRATOR)
    principal.require(Action.USER_ADMIN)
    return principal


def _role_options(lang: Lang) -> list[tuple[str, str]]:
    return [(r.value, translate(lang, f"role.{r.value}")) for r in ASSIGNABLE_ROLES]


def _users_page(
    request: Request,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    admin = _admin(request)
    users = container_of(request).users.users(admin)
    return render(
        request,
        "admin_users.html",
        {
            "users": users,
            "errors": errors or {},
            "form": form or {},
            "roles": _role_options(page_lang(request)),
            "rule": password_rule(request),
            "created": request.query_params.get("created", ""),
        },
        status_code=status_code,
    )


def _users_get(request: Request) -> Response:
    return _users_page(request)


def _users_post(
    request: Request,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=MAX_PASSWORD_LENGTH)] = "",
    role: Annotated[str, Form(max_length=32)] = "",
    display_name: Annotated[str, Form(max_length=100)] = "",
    region_code: Annotated[str, Form(max_length=MAX_REGION_TEXT)] = "",
    hospital_code: Annotated[str, Form(max_length=30)] = "",
    id_number: Annotated[str, Form(max_length=18)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    admin = _admin(request)
    require_csrf(request, csrf_token)
    lang = page_lang(request)
    form = {
        "username": username,
        "role": role,
        "display_name": display_name,
        "region_code": region_code,
        "hospital_code": hospital_code,
        "id_number": id_number,
    }
    try:
        container_of(request).users.create(
            admin,
            username,
            password,
            Assignment(role, display_name, _region(region_code), hospital_code, id_number),
        )
    except YidiError as exc:
        return _users_page(request, _field_errors(exc, lang, "username"), form, 422)
    return redirect(request, f"/admin/users/{username.strip()}?done=created")


def _user_page(
    request: Request,
    username: str,
    *,
    errors: dict[str, str] | None = None,
    reset_url: str | None = None,
    status_code: int = 200,
) -> Response:
    admin = _admin(request)
    summary = container_of(request).users.user(admin, username)
    return render(
        request,
        "admin_user.html",
        {
            "user": summary,
            "errors": errors or {},
            "roles": _role_options(page_lang(request)),
            "reset_url": reset_url,
            "done": request.query_params.get("done", ""),
            "is_self": admin.user_id == summary.username,
        },
        status_code=status_code,
    )


def _user_get(request: Request, username: str) -> Response:
    return _user_page(request, username)


def _user_form(
    request: Request,
    username: str,
    csrf_token: str,
    run: Callable[[Principal, UserAdminService], T],
    then: Callable[[T], Response],
    *,
    field: str = "form",
    status_code: int = 409,
) -> Response:
    """One administrator form on a user's page: a refusal is shown there (an unknown user is
    "not found"), success is answered by ``then``."""
    admin = _admin(request)
    require_csrf(request, csrf_token)
    try:
        result = run(admin, container_of(request).users)
    except YidiError as exc:
        if exc.kind is ErrorKind.NOT_FOUND:
            raise
        return _user_page(
            request,
            username,
            errors=_field_errors(exc, page_lang(request), field),
            status_code=status_code,
        )
    return then(result)


_USER_ACTS: dict[str, Callable[[Principal, UserAdminService, str], object]] = {
    "disable": lambda admin, users, username: users.set_active(admin, username, False),
    "enable": lambda admin, users, username: users.set_active(admin, username, True),
    "unlock": lambda admin, users, username: users.unlock(admin, username),
}


def _act(act: str) -> Callable[..., Response]:
    """The endpoint of one of the user page's plain buttons (disable, enable, unlock)."""
    run = _USER_ACTS[act]

    def endpoint(
        request: Request, username: str, csrf_token: Annotated[str, Form()] = ""
    ) -> Response:
        return _user_form(
            request,
            username,
            csrf_token,
            lambda admin, users: run(admin, users, username),
            lambda _: redirect(request, f"/admin/users/{username}?done={act}"),
        )

    return endpoint


_disable = _act("disable")
_enable = _act("enable")
_unlock = _act("unlock")


def _reset(request: Request, username: str, csrf_token: Annotated[str, Form()] = "") -> Response:
    def shown_once(link: ResetLink) -> Response:
        url = str(request.base_url).rstrip("/") + f"/password-reset?token={link.token}"
        # Shown once, on this answer only (no-store): the link is never stored in clear.
        return _user_page(request, username, reset_url=url)

    return _user_form(
        request,
        username,
        csrf_token,
        lambda admin, users: users.issue_reset(admin, username),
        shown_once,
    )


def _role(
    request: Request,
    username: str,
    role: Annotated[str, Form(max_length=32)] = "",
    display_name: Annotated[str, Form(max_length=100)] = "",
    region_code: Annotated[str, Form(max_length=MAX_REGION_TEXT)] = "",
    hospital_code: Annotated[str, Form(max_length=30)] = "",
    id_number: Annotated[str, Form(max_length=18)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    def assign(admin: Principal, users: UserAdminService) -> object:
        assignment = Assignment(role, display_name, _region(region_code), hospital_code, id_number)
        return users.assign(admin, username, assignment)

    return _user_form(
        request,
        username,
        csrf_token,
        assign,
        lambda _: redirect(request, f"/admin/users/{username}?done=role"),
        field="role",
        status_code=422,
    )


def add_account_routes(router: APIRouter) -> None:
    router.add_api_route("/account/password", _password_get, methods=["GET"])
    router.add_api_route("/account/password", _password_post, methods=["POST"])
    router.add_api_route("/password-reset", _reset_get, methods=["GET"])
    router.add_api_route("/password-reset", _reset_post, methods=["POST"])
    router.add_api_route("/admin/users", _users_get, methods=["GET"])
    router.add_api_route("/admin/users", _users_post, methods=["POST"])
    router.add_api_route("/admin/users/{username}", _user_get, methods=["GET"])
    router.add_api_route("/admin/users/{username}/disable", _disable, methods=["POST"])
    router.add_api_route("/admin/users/{username}/enable", _enable, methods=["POST"])
    router.add_api_route("/admin/users/{username}/unlock", _unlock, methods=["POST"])
    router.add_api_route("/admin/users/{username}/reset", _reset, methods=["POST"])
    router.add_api_route("/admin/users/{username}/role", _role, methods=["POST"])
    add_citizen_account_routes(router)


__all__ = ["add_account_routes"]
