"""Request dependencies: the container, the unit of work, the calling principal."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from yidi.bootstrap import Container
from yidi.domain.access import Principal
from yidi.services.auth import principal_from_token
from yidi.storage.uow import SqlUnitOfWork

SESSION_COOKIE = "yidi_session"


def get_container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated[Container, Depends(get_container)]


def get_uow(container: ContainerDep) -> SqlUnitOfWork:
    return container.uow()


UowDep = Annotated[SqlUnitOfWork, Depends(get_uow)]


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_principal(request: Request, container: ContainerDep) -> Principal:
    """Bearer token (API clients) or the signed session cookie (web pages); else anonymous.

    The cookie is not accepted for state-changing JSON API calls: those need the bearer
    token, so a page on another site can never make a signed-in browser change anything
    through the API (the web forms carry their own CSRF token).
    """
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        token: str | None = header[7:].strip()
    elif request.method in SAFE_METHODS or not request.url.path.startswith("/api/"):
        token = request.cookies.get(SESSION_COOKIE)
    else:
        token = None
    if not token:
        return Principal.anonymous()
    return principal_from_token(container.uow(), container.settings.secret_key, token)


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
