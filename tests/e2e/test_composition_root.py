"""The composition root builds every service once; the app and its requests only use them."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from yidi.auth.users import UserAdminService
from yidi.bootstrap import Container, build_container
from yidi.catalog.commands import CatalogLookup
from yidi.encounter.commands import HospitalService
from yidi.entrypoints.app import create_app
from yidi.filing.commands import FilingService
from yidi.filing.imports import FilingImports
from yidi.filing.jobs import ImportJobs
from yidi.filing.reports import FilingReports
from yidi.integrations.nhsa.adapter import HospitalGateway
from yidi.settings import Settings
from yidi.settlement.manual import ManualClaimService
from yidi.settlement.reconciliation import ReconciliationService

SERVICES = (
    FilingService,  # and ChangeRequestService, a subclass
    FilingImports,
    FilingReports,
    ImportJobs,
    HospitalService,
    ManualClaimService,
    ReconciliationService,
    HospitalGateway,
    UserAdminService,
    CatalogLookup,
)


def test_the_app_and_its_requests_build_no_service(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[str] = []
    for service in SERVICES:
        original = service.__init__

        def counting(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> None:
            built.append(type(self).__name__)
            _original(self, *args, **kwargs)

        monkeypatch.setattr(service, "__init__", counting)
    with TestClient(create_app(container)) as client:
        assert client.get("/api/health").status_code == 200
        for page in ("/", "/signin", "/hospitals", "/agencies", "/check"):
            assert client.get(page, headers={"accept": "text/html"}).status_code == 200
        assert client.get("/api/filings").status_code == 401
        # A national-interface call goes through the container's adapter (an invalid one
        # here: the envelope is refused, answered with infcode -1).
        gateway = client.post("/fsi/api/rsfComIfsService/callService", content=b"{}")
        assert gateway.status_code == 200 and gateway.json()["infcode"] == -1
    assert built == []


def test_building_a_container_does_not_touch_the_schema(tmp_path: Path) -> None:
    database = tmp_path / "untouched.sqlite3"
    container = build_container(Settings(database_url=f"sqlite:///{database}", demo_mode=True))
    assert container.filings is not None and container.hospital is not None
    container.engine.dispose()
    if database.exists():
        with sqlite3.connect(database) as connection:
            tables = connection.execute("SELECT name FROM sqlite_master").fetchall()
        assert tables == []
