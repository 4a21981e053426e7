"""The JSON API (``/api/…``), the national-platform gateway (``/fsi/…``) and the health check,
installed on the app the entrypoints assemble (:mod:`yidi.entrypoints.app`)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI, Request
from sqlalchemy import text

from yidi import __version__
from yidi.bootstrap import Container, build_gateway_authenticator
from yidi.entrypoints.api.errors import install_error_handlers
from yidi.entrypoints.api.routes import (
    accounts,
    auth,
    change_requests,
    chronic,
    disputes,
    export_jobs,
    filings,
    funds,
    hospital,
    manual_claims,
    users,
)
from yidi.integrations.nhsa.adapter import HospitalGateway
from yidi.integrations.nhsa.envelope import GatewayRequest
from yidi.integrations.nhsa.router import Authenticator, build_gateway_router


def _gateway_hook(container: Container) -> Authenticator | None:
    """The router's ``authenticate`` hook from ``YIDI_GATEWAY_AUTH`` (None: headers unchecked)."""
    authenticator = build_gateway_authenticator(container)
    if authenticator is None:
        return None
    verify = authenticator

    def authenticate(request: Request, body: bytes) -> Callable[[GatewayRequest], None]:
        return verify(request.headers)

    return authenticate


def install_api(app: FastAPI, container: Container) -> None:
    install_error_handlers(app)
    app.include_router(auth.router)
    app.include_router(accounts.router)
    app.include_router(users.router)
    app.include_router(funds.router)
    app.include_router(export_jobs.router)  # before /api/filings/{filing_id}
    app.include_router(filings.router)
    app.include_router(change_requests.router)
    app.include_router(hospital.router)
    app.include_router(manual_claims.router)
    app.include_router(chronic.router)
    app.include_router(disputes.router)

    def gateway_port(request: Request) -> HospitalGateway:
        return container.gateway

    app.include_router(
        build_gateway_router(
            gateway_port,
            clock=container.clock,
            max_body_bytes=container.settings.gateway_max_request_bytes,
            authenticate=_gateway_hook(container),
        )
    )

    @app.get("/api/health", tags=["运维 operations"], summary="健康检查 health check")
    def health() -> dict[str, str]:
        with container.uow() as uow:
            uow.session.execute(text("SELECT 1"))
        return {"status": "ok", "version": __version__, "database": container.engine.dialect.name}
