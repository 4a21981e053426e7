"""Checks every page handler makes: signed in, the right role, a form's CSRF token."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import RedirectResponse, Response

from yidi.entrypoints.http.requests import container_of
from yidi.entrypoints.web import csrf
from yidi.entrypoints.web.render import finish
from yidi.kernel.access import Principal, Role
from yidi.kernel.errors import Forbidden, Unauthenticated


def require_signed_in(principal: Principal) -> None:
    if principal.role is Role.ANONYMOUS:
        raise Unauthenticated("AUTH_REQUIRED", "请先登录", "sign-in required")


def require_role(principal: Principal, role: Role) -> None:
    require_signed_in(principal)
    if principal.role is not role:
        raise Forbidden(
            "ACCESS_DENIED",
            f"{principal.role.label_zh}无权打开此页面",
            f"role {principal.role.value} may not open this page",
        )


def csrf_valid(request: Request, token: str) -> bool:
    """Does the form's token match this browser's CSRF cookie?"""
    return csrf.token_matches(
        container_of(request).settings.secret_key, request.cookies.get(csrf.CSRF_COOKIE), token
    )


def require_csrf(request: Request, token: str) -> None:
    """A form POST without a matching token is refused (403) before anything changes."""
    if not csrf_valid(request, token):
        raise Forbidden(
            "CSRF_MISMATCH",
            "页面已过期，请刷新页面后重新提交",
            "the form expired; reload the page and submit again",
        )


def redirect(request: Request, path: str) -> Response:
    return finish(request, RedirectResponse(path, status_code=303))
