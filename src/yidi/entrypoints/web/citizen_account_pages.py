"""An insured person's own account: self-registration (/register) and a forgotten password
(/password-forgot), both by the details the insured register holds and a one-time code.

Step 1 takes name, ID number and mobile and always answers the same way; step 2 takes the
code with the new password (and, to register, a user name). A registered person is signed in
at once; a reset asks them to sign in with the new password.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from yidi.auth.commands import authenticate
from yidi.auth.registration import CitizenAccounts, CodePurpose
from yidi.entrypoints.http.requests import container_of
from yidi.entrypoints.web.guards import require_csrf
from yidi.entrypoints.web.i18n import Lang, translate
from yidi.entrypoints.web.nav import HOME_BY_ROLE
from yidi.entrypoints.web.password_form import NewPasswordForm, field_errors, password_rule
from yidi.entrypoints.web.render import (
    page_lang,
    page_principal,
    render,
    signed_in_redirect,
)
from yidi.kernel.access import Role
from yidi.kernel.errors import ErrorKind, YidiError

_PATHS = {CodePurpose.REGISTER: "/register", CodePurpose.RESET: "/password-forgot"}


def _status(exc: YidiError) -> int:
    return {ErrorKind.TOO_MANY: 429, ErrorKind.CONFLICT: 409}.get(exc.kind, 422)


def _errors(exc: YidiError, lang: Lang, default: str) -> dict[str, str]:
    # "code" is this form's one-time-code field, so the refusal's code goes under "error_code".
    return field_errors(exc, lang, default, code_key="error_code")


def _page(
    request: Request,
    purpose: CodePurpose,
    *,
    step: int = 1,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    token: str = "",
    minutes: int = 0,
    done: str = "",
    status_code: int = 200,
) -> Response:
    citizens = container_of(request).citizens
    return render(
        request,
        "citizen_account.html",
        {
            "purpose": purpose.value,
            "action": _PATHS[purpose],
            "step": step,
            "values": values or {},
            "errors": errors or {},
            "token": token,
            "minutes": minutes or (citizens.policy.minutes if citizens else 0),
            "rule": password_rule(request),
            "done": done,
            "available": citizens is not None,
        },
        status_code=status_code,
    )


def _citizens(request: Request) -> CitizenAccounts | None:
    return container_of(request).citizens


def _get(purpose: CodePurpose) -> Callable[..., Response]:
    def endpoint(request: Request) -> Response:
        principal = page_principal(request)
        if purpose is CodePurpose.REGISTER and principal.role is not Role.ANONYMOUS:
            return RedirectResponse(HOME_BY_ROLE.get(principal.role, "/"), status_code=303)
        return _page(request, purpose)

    return endpoint


def _request_code(purpose: CodePurpose) -> Callable[..., Response]:
    def endpoint(
        request: Request,
        name: Annotated[str, Form(max_length=50)] = "",
        id_number: Annotated[str, Form(max_length=18)] = "",
        mobile: Annotated[str, Form(max_length=20)] = "",
        csrf_token: Annotated[str, Form()] = "",
    ) -> Response:
        require_csrf(request, csrf_token)
        lang = page_lang(request)
        values = {"name": name, "id_number": id_number, "mobile": mobile}
        citizens = _citizens(request)
        if citizens is None:
            return _page(request, purpose, values=values, status_code=503)
        missing = {
            field: translate(lang, f"citizen.{field}_required")
            for field in ("name", "id_number", "mobile")
            if not values[field].strip()
        }
        if missing:  # every empty field at once, each by its field
            return _page(request, purpose, values=values, errors=missing, status_code=422)
        try:
            challenge = citizens.request_code(purpose, name, id_number, mobile)
        except YidiError as exc:
            return _page(
                request,
                purpose,
                values=values,
                errors=_errors(exc, lang, "form"),
                status_code=_status(exc),
            )
        return _page(request, purpose, step=2, token=challenge.token)

    return endpoint


def _verify(purpose: CodePurpose) -> Callable[..., Response]:
    def endpoint(
        request: Request,
        new_password: NewPasswordForm,
        token: Annotated[str, Form(max_length=100)] = "",
        code: Annotated[str, Form(max_length=12)] = "",
        username: Annotated[str, Form(max_length=64)] = "",
        csrf_token: Annotated[str, Form()] = "",
    ) -> Response:
        require_csrf(request, csrf_token)
        lang = page_lang(request)
        citizens = _citizens(request)
        if citizens is None:
            return _page(request, purpose, status_code=503)
        values = {"username": username}

        def again(errors: dict[str, str], status: int) -> Response:
            if not citizens.challenge_live(token):
                # Nothing left to answer: back to step 1 with the reason.
                reason = {k: v for k, v in errors.items() if k == "error_code"}
                reason["form"] = next(v for k, v in errors.items() if k != "error_code")
                return _page(request, purpose, errors=reason, status_code=status)
            return _page(
                request,
                purpose,
                step=2,
                token=token,
                values=values,
                errors=errors,
                status_code=status,
            )

        if not code.strip():
            return again({"code": translate(lang, "citizen.code_required")}, 422)
        if mismatch := new_password.mismatch(lang):
            return again(mismatch, 422)
        try:
            if purpose is CodePurpose.REGISTER:
                done = citizens.register(token, code, username, new_password.value)
            else:
                done = citizens.reset_password(token, code, new_password.value)
        except YidiError as exc:
            return again(_errors(exc, lang, "code"), _status(exc))
        if purpose is CodePurpose.RESET:
            return _page(request, purpose, step=3, done=done)
        return _signed_in(request, done, new_password.value)

    return endpoint


def _signed_in(request: Request, username: str, password: str) -> Response:
    """A new account's first session: the person lands on their desk."""
    container = container_of(request)
    principal = authenticate(
        container.uow(), container.clock, username, password, policy=container.sign_in_policy
    )
    return signed_in_redirect(request, principal)


def add_citizen_account_routes(router: APIRouter) -> None:
    for purpose, path in _PATHS.items():
        router.add_api_route(path, _get(purpose), methods=["GET"])
        router.add_api_route(path, _request_code(purpose), methods=["POST"])
        router.add_api_route(path + "/verify", _verify(purpose), methods=["POST"])


__all__ = ["add_citizen_account_routes"]
