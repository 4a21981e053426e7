"""A request's container, session token and client address, for the API and the pages."""

from __future__ import annotations

from fastapi import Request

from yidi.bootstrap import Container
from yidi.kernel.errors import Forbidden

SESSION_COOKIE = "yidi_session"

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# What a caller who must change their password may still reach (API and pages).
PASSWORD_CHANGE_PATHS = frozenset(
    {"/api/auth/password", "/api/auth/logout", "/api/auth/me", "/account/password", "/signout"}
)


def container_of(request: Request) -> Container:
    """The container the app was created with (built once by the composition root)."""
    container: Container = request.app.state.container
    return container


def password_change_required() -> Forbidden:
    return Forbidden(
        "PASSWORD_CHANGE_REQUIRED",
        "请先修改密码（首次登录或密码重置后须设置新密码）",
        "change your password first (required at first sign-in and after a reset)",
    )


def session_token(request: Request) -> str | None:
    """Bearer token (API clients) or the session cookie (web pages, and API reads).

    The cookie is not accepted for state-changing JSON API calls: those need the bearer
    token, so a page on another site can never make a signed-in browser change anything
    through the API (the web forms carry their own CSRF token).
    """
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    if request.method in SAFE_METHODS or not request.url.path.startswith("/api/"):
        return request.cookies.get(SESSION_COOKIE) or None
    return None


def client_address(request: Request) -> str:
    return request.client.host if request.client else ""
