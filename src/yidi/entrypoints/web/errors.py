"""Errors as pages for browsers, as JSON for everyone else.

The API's JSON handlers stay in charge; these wrap them and answer a browser
(a page request, ``Accept: text/html``) with a page in its language: 401 sends
it to sign-in and back, 403/404/500 explain themselves in Chinese.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import RedirectResponse, Response

from yidi.entrypoints.http.requests import SESSION_COOKIE
from yidi.entrypoints.web.refusals import refusal_message
from yidi.entrypoints.web.render import finish, page_lang, render
from yidi.kernel.errors import ErrorKind, YidiError

log = logging.getLogger("yidi.entrypoints.web")

Handler = Callable[[Request, Exception], Awaitable[Response] | Response]

_PAGE_KEYS = {403: "error.403", 404: "error.404", 500: "error.500"}


def wants_page(request: Request) -> bool:
    path = request.url.path
    if path.startswith("/api/") or path == "/api" or path == "/openapi.json":
        return False
    return "text/html" in request.headers.get("accept", "")


def safe_next(path: str | None) -> str | None:
    """Only local paths: never an open redirect to another site."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return None
    return path


def signin_redirect(request: Request) -> Response:
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    query = urlencode({"next": target}) if request.method == "GET" else ""
    response = RedirectResponse("/signin" + ("?" + query if query else ""), status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return finish(request, response)


def error_page(request: Request, status_code: int, message: str | None = None) -> Response:
    key = _PAGE_KEYS.get(status_code)
    return render(
        request,
        "error.html",
        {
            "status_code": status_code,
            "title_key": f"{key}.title" if key else "error.generic.title",
            "text_key": f"{key}.text" if key else None,
            "message": message,
        },
        status_code=status_code,
    )


async def _call(handler: Handler, request: Request, exc: Exception) -> Response:
    result = handler(request, exc)
    if isinstance(result, Response):
        return result
    return await result


def install_error_pages(app: FastAPI) -> None:
    """Wrap the JSON error handlers already installed on ``app``."""
    json_yidi: Handler = app.exception_handlers[YidiError]
    json_http: Handler = app.exception_handlers[StarletteHTTPException]
    json_unexpected: Handler = app.exception_handlers[Exception]

    async def yidi_error(request: Request, exc: Exception) -> Response:
        if not wants_page(request) or not isinstance(exc, YidiError):
            return await _call(json_yidi, request, exc)
        if exc.kind is ErrorKind.UNAUTHENTICATED:
            return signin_redirect(request)
        if exc.code == "PASSWORD_CHANGE_REQUIRED":
            return finish(request, RedirectResponse("/account/password", status_code=303))
        status = {ErrorKind.FORBIDDEN: 403, ErrorKind.NOT_FOUND: 404}.get(exc.kind, 400)
        return error_page(request, status, refusal_message(exc, page_lang(request)))

    async def http_error(request: Request, exc: Exception) -> Response:
        if not wants_page(request) or not isinstance(exc, StarletteHTTPException):
            return await _call(json_http, request, exc)
        if exc.status_code == 401:
            return signin_redirect(request)
        return error_page(request, exc.status_code)

    async def unexpected(request: Request, exc: Exception) -> Response:
        if not wants_page(request):
            return await _call(json_unexpected, request, exc)
        log.error("unexpected error on a page %s", type(exc).__name__, exc_info=False)
        try:
            return error_page(request, 500)
        except Exception:  # the page itself needs the database; fall back to plain JSON
            return await _call(json_unexpected, request, exc)

    app.add_exception_handler(YidiError, yidi_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)
