"""Rendering a page: templates from the package, the page's language, the signed-in principal,
the CSRF cookie and the cookies' security flags."""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import jinja2
from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import RedirectResponse, Response

from yidi.auth.commands import open_session, principal_from_token
from yidi.entrypoints.http.requests import (
    PASSWORD_CHANGE_PATHS,
    SESSION_COOKIE,
    container_of,
    password_change_required,
)
from yidi.entrypoints.web import csrf
from yidi.entrypoints.web.i18n import DEFAULT_LANG, LANG_COOKIE, Lang, parse_lang, translator
from yidi.entrypoints.web.nav import HOME_BY_ROLE, nav_for
from yidi.entrypoints.web.region_picker import datalist_names, region_full_name
from yidi.kernel.access import Principal
from yidi.kernel.clock import format_beijing
from yidi.kernel.errors import Unauthenticated

LANG_COOKIE_MAX_AGE = 365 * 24 * 3600
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@functools.cache
def templates() -> Jinja2Templates:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("yidi.entrypoints.web", "templates"),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["beijing"] = format_beijing
    environment.globals["region_full_name"] = region_full_name
    environment.globals["region_datalist_names"] = datalist_names
    return Jinja2Templates(env=environment)


def page_lang(request: Request) -> Lang:
    return (
        parse_lang(request.query_params.get("lang"))
        or parse_lang(request.cookies.get(LANG_COOKIE))
        or DEFAULT_LANG
    )


def page_principal(request: Request, *, enforce: bool = True) -> Principal:
    """The session cookie's principal; anonymous when there is none or it no longer holds.

    A principal who must change their password is stopped (PASSWORD_CHANGE_REQUIRED, which
    sends a browser to /account/password) everywhere but there and sign-out; ``enforce``
    False only reads it (the page layout).
    """
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is None:
        principal = Principal.anonymous()
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            container = container_of(request)
            try:
                principal = principal_from_token(
                    container.uow(), container.clock, token, policy=container.session_policy
                )
            except Unauthenticated:
                request.state.stale_session = True
        request.state.principal = principal
    if (
        enforce
        and principal.password_change_required
        and request.url.path not in PASSWORD_CHANGE_PATHS
    ):
        raise password_change_required()
    return principal


def is_loopback_http(request: Request) -> bool:
    if request.url.scheme != "http":
        return False
    host = request.url.hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def cookie_secure(request: Request) -> bool:
    """Secure cookies everywhere except plain http on the loopback address (local runs)."""
    return not is_loopback_http(request)


def csrf_cookie_value(request: Request) -> str:
    """The browser's CSRF value, minting one (set on the response by :func:`render`) if absent."""
    value: str | None = getattr(request.state, "csrf_value", None)
    if value:
        return value
    value = request.cookies.get(csrf.CSRF_COOKIE) or csrf.new_cookie_value()
    request.state.csrf_value = value
    return value


def set_csrf_cookie(request: Request, response: Response, value: str) -> None:
    response.set_cookie(
        csrf.CSRF_COOKIE,
        value,
        max_age=csrf.CSRF_MAX_AGE_SECONDS,
        httponly=True,
        samesite="lax",
        secure=cookie_secure(request),
        path="/",
    )


def signed_in_redirect(
    request: Request, principal: Principal, target: str | None = None
) -> Response:
    """Open a session for ``principal`` and send the browser to ``target`` (or its desk) with
    the session cookie and a fresh CSRF value: one planted before sign-in is worth nothing after."""
    container = container_of(request)
    policy = container.session_policy
    token = open_session(container.uow(), container.clock, principal, policy=policy)
    response = RedirectResponse(target or HOME_BY_ROLE.get(principal.role, "/"), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=policy.hours * 3600,
        httponly=True,
        samesite="lax",
        secure=cookie_secure(request),
        path="/",
    )
    set_csrf_cookie(request, response, csrf.new_cookie_value())
    return response


def lang_switch_url(request: Request, lang: Lang) -> str:
    other = "en" if lang == "zh" else "zh"
    kept = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    return request.url.path + "?" + urlencode([*kept, ("lang", other)])


def page_context(request: Request) -> dict[str, Any]:
    lang = page_lang(request)
    principal = page_principal(request, enforce=False)
    secret_key = container_of(request).settings.secret_key
    return {
        "request": request,
        "lang": lang,
        "t": translator(lang),
        "principal": principal,
        "signed_in": principal.role.value != "anonymous",
        "nav": nav_for(principal),
        "home_path": HOME_BY_ROLE.get(principal.role),
        "current_path": request.url.path,
        "lang_switch_url": lang_switch_url(request, lang),
        "csrf_field": csrf.CSRF_FIELD,
        "csrf_token": csrf.form_token(secret_key, csrf_cookie_value(request)),
    }


def finish(request: Request, response: Response) -> Response:
    """Cookies every page response carries: the CSRF value, the chosen language."""
    value: str | None = getattr(request.state, "csrf_value", None)
    if value and request.cookies.get(csrf.CSRF_COOKIE) != value:
        set_csrf_cookie(request, response, value)
    chosen = parse_lang(request.query_params.get("lang"))
    if chosen and request.cookies.get(LANG_COOKIE) != chosen:
        response.set_cookie(
            LANG_COOKIE,
            chosen,
            max_age=LANG_COOKIE_MAX_AGE,
            httponly=True,
            samesite="lax",
            secure=cookie_secure(request),
            path="/",
        )
    if getattr(request.state, "stale_session", False):
        response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def render(
    request: Request,
    template: str,
    values: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> Response:
    context = page_context(request)
    context.update(values or {})
    response = templates().TemplateResponse(request, template, context, status_code=status_code)
    response.headers["cache-control"] = "no-store"
    return finish(request, response)


def file_response(
    request: Request, content: bytes, media_type: str, filename: str, *, inline: bool = False
) -> Response:
    """A file answer (an export, a printable form): saved under ``filename``, or shown in the
    browser when ``inline``."""
    disposition = "inline" if inline else "attachment"
    response = Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f"{disposition}; filename*=UTF-8''{filename}"},
    )
    return finish(request, response)


@dataclass(frozen=True, slots=True)
class Pager:
    """Where one page of a list stands: its rows' range, the page count and the links."""

    page: int
    pages: int
    total: int
    first_row: int
    last_row: int
    previous_url: str | None
    next_url: str | None


def pager(path: str, params: Mapping[str, str], page: int, size: int, total: int) -> Pager:
    """The pager of a list page; ``params`` are the list's own filters, kept in each link."""
    pages = max(1, -(-total // size))
    page = min(page, pages)
    kept = {k: v for k, v in params.items() if v}

    def url(number: int) -> str:
        return f"{path}?{urlencode({**kept, 'page': str(number)})}"

    first = (page - 1) * size + 1 if total else 0
    return Pager(
        page=page,
        pages=pages,
        total=total,
        first_row=first,
        last_row=min(total, page * size),
        previous_url=url(page - 1) if page > 1 else None,
        next_url=url(page + 1) if page < pages else None,
    )
