"""The ASGI application: the JSON API and the web pages on one app, around a container the
composition root built (:func:`yidi.bootstrap.build_container`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from starlette.types import ASGIApp

from yidi import __version__
from yidi.bootstrap import Container
from yidi.entrypoints.api.install import install_api
from yidi.entrypoints.http.security import SecurityMiddleware
from yidi.entrypoints.web.pages import install_web
from yidi.filing.jobs import JobWorker
from yidi.platform.audit_head import HeadPublisher


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


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The import worker thread runs while the server runs (setting ``import_jobs``)."""
    container: Container = app.state.container
    settings = container.settings
    worker: JobWorker | None = None
    if settings.import_jobs == "thread":
        worker = JobWorker(container.import_jobs)
        worker.start()
    publisher: HeadPublisher | None = None
    if settings.audit_head_publish_minutes and settings.audit_head_key:
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
    install_api(app, container)
    install_web(app)  # last: its catch-all error pages wrap the JSON handlers above
    return app
