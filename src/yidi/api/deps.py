"""Request dependencies: the container, the unit of work, the calling principal."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

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


def get_principal(request: Request, container: ContainerDep) -> Principal:
    """Bearer token (API clients) or the signed session cookie (web pages); else anonymous."""
    header = request.headers.get("authorization", "")
    token = (
        header[7:].strip()
        if header.lower().startswith("bearer ")
        else request.cookies.get(SESSION_COOKIE)
    )
    if not token:
        return Principal.anonymous()
    return principal_from_token(container.uow(), container.settings.secret_key, token)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def client_address(request: Request) -> str:
    return request.client.host if request.client else ""
