"""Request dependencies: the container, the unit of work, the calling principal."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from yidi.auth.commands import principal_from_token
from yidi.bootstrap import Container
from yidi.kernel.access import Principal
from yidi.kernel.errors import Forbidden
from yidi.platform.uow import SqlUnitOfWork

SESSION_COOKIE = "yidi_session"


def get_container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated[Container, Depends(get_container)]


def get_uow(container: ContainerDep) -> SqlUnitOfWork:
    return container.uow()


UowDep = Annotated[SqlUnitOfWork, Depends(get_uow)]


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


# What a caller who must change their password may still reach (API and pages).
PASSWORD_CHANGE_PATHS = frozenset(
    {"/api/auth/password", "/api/auth/logout", "/api/auth/me", "/account/password", "/signout"}
)


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


def get_principal(request: Request, container: ContainerDep) -> Principal:
    """The session's principal, else anonymous; a revoked or expired session is refused."""
    token = session_token(request)
    if not token:
        return Principal.anonymous()
    principal = principal_from_token(
        container.uow(), container.clock, token, policy=container.session_policy
    )
    if principal.password_change_required and request.url.path not in PASSWORD_CHANGE_PATHS:
        raise password_change_required()
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def client_address(request: Request) -> str:
    return request.client.host if request.client else ""


# A client's retry key: the same key (with the same body) returns the first answer and does
# nothing twice.
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=64,
        description="幂等键：重试时使用相同的键，返回首次结果且不重复处理 retries return the first result",
    ),
]
