"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from sqlalchemy import text
from starlette.types import ASGIApp

from yidi import __version__
from yidi.bootstrap import Container, build_gateway_authenticator
from yidi.catalog.commands import CatalogLookup
from yidi.encounter.commands import HospitalService, LookupLimits
from yidi.entrypoints.api.errors import install_error_handlers
from yidi.entrypoints.api.routes import (
    accounts,
    auth,
    change_requests,
    filings,
    funds,
    hospital,
    manual_claims,
    users,
)
from yidi.entrypoints.api.security import SecurityMiddleware
from yidi.entrypoints.web.pages import install_web
from yidi.filing.jobs import ImportJobs, JobWorker
from yidi.integrations.nhsa.adapter import HospitalGateway
from yidi.integrations.nhsa.envelope import GatewayRequest
from yidi.integrations.nhsa.router import Authenticator, build_gateway_router
from yidi.platform.audit_head import HeadPublisher
from yidi.settlement.manual import ManualClaimService
from yidi.settlement.reconciliation import ReconciliationService


class _YidiApp(FastAPI):
    def build_middleware_stack(self) -> ASGIApp:
        # Outermost, around Starlette's ServerErrorMiddleware: the answer to an uncaught
        # error (500) gets the security headers too, and no middleware can drop them.
        return SecurityMiddleware(
            super().build_middleware_stack(),
            max_request_bytes=self.state.container.settings.max_request_bytes,
            own_limit_prefixes=("/fsi/",),
            hsts=self.state.container.settings.hsts,
            hsts_max_age_seconds=self.state.container.settings.hsts_max_age_seconds,
        )


def _gateway_hook(container: Container) -> Authenticator | None:
    """The router's ``authenticate`` hook from ``YIDI_GATEWAY_AUTH`` (None: headers unchecked)."""
    authenticator = build_gateway_authenticator(container)
    if authenticator is None:
        return None
    verify = authenticator

    def authenticate(request: Request, body: bytes) -> Callable[[GatewayRequest], None]:
        return verify(request.headers)

    return authenticate


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The import worker thread runs while the server runs (setting ``import_jobs``)."""
    settings = app.state.container.settings
    worker: JobWorker | None = None
    if settings.import_jobs == "thread":
        worker = JobWorker(app.state.import_jobs)
        worker.start()
    publisher: HeadPublisher | None = None
    if settings.audit_head_publish_minutes and settings.audit_head_key:
        container = app.state.container
        publisher = HeadPublisher(
            container.uow,
            container.clock,
            settings.audit_head_key,
            settings.audit_head_directory or Path("var/audit-heads"),
            settings.audit_head_publish_minutes,
        )
        publisher.start()
    try:
        yield
    finally:
        if worker is not None:
            worker.stop()
        if publisher is not None:
            publisher.stop()


def create_app(container: Container) -> FastAPI:
    app = _YidiApp(
        lifespan=_lifespan,
        title="yidi 异地就医备案与直接结算 API",
        version=__version__,
        description=(
            "异地就医登记备案、医院直接结算、手工报销、清算与统计的接口。"
            " Cross-region medical insurance filing, direct settlement, manual reimbursement, clearing and statistics."
        ),
        docs_url=None,  # Swagger UI loads assets from a CDN; government intranets are closed networks
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.container = container
    app.state.import_jobs = ImportJobs(container.uow, container.clock)
    install_error_handlers(app)
    app.include_router(auth.router)
    app.include_router(accounts.router)
    app.include_router(users.router)
    app.include_router(funds.router)
    app.include_router(filings.router)
    app.include_router(change_requests.router)
    # One service per app: its catalogue cache lives as long as the app.
    catalogs = CatalogLookup()
    app.state.hospital_service = HospitalService(
        container.uow,
        container.clock,
        catalogs=catalogs,
        lookup_limits=LookupLimits(
            per_hour=container.settings.person_lookups_per_hour,
            misses_per_hour=container.settings.person_lookup_misses_per_hour,
        ),
    )
    app.state.manual_claim_service = ManualClaimService(
        container.uow, container.clock, catalogs=catalogs
    )
    app.state.reconciliation_service = ReconciliationService(container.uow, container.clock)
    app.include_router(hospital.router)
    app.include_router(manual_claims.router)

    def gateway_port(request: Request) -> HospitalGateway:
        return HospitalGateway(
            request.app.state.hospital_service, request.app.state.reconciliation_service
        )

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

    install_web(app)  # last: its catch-all error pages wrap the JSON handlers above
    return app
