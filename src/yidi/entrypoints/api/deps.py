"""Request dependencies: the container, the unit of work, the calling principal."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header, Request

from yidi.auth.commands import principal_from_token
from yidi.bootstrap import Container
from yidi.entrypoints.http.requests import (
    PASSWORD_CHANGE_PATHS,
    client_address,
    container_of,
    password_change_required,
    session_token,
)
from yidi.kernel.access import Principal
from yidi.kernel.idempotency import request_fingerprint
from yidi.platform.uow import SqlUnitOfWork

__all__ = [
    "ContainerDep",
    "IdempotencyKey",
    "PrincipalDep",
    "UowDep",
    "client_address",
    "idempotency_of",
    "session_token",
]


def get_container(request: Request) -> Container:
    return container_of(request)


ContainerDep = Annotated[Container, Depends(get_container)]


def get_uow(container: ContainerDep) -> SqlUnitOfWork:
    return container.uow()


UowDep = Annotated[SqlUnitOfWork, Depends(get_uow)]


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


def idempotency_of(key: str | None, payload: dict[str, Any]) -> tuple[str, str] | None:
    """The retry key with the fingerprint of what the request asks (``None`` without a key):
    the same key with another request is refused."""
    return (key, request_fingerprint(payload)) if key else None
