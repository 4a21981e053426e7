"""Test fixtures: one migrated database per run (SQLite, or PostgreSQL when
YIDI_TEST_DATABASE_URL is set), and a transaction rolled back after every test."""

from __future__ import annotations

import datetime as dt
import logging
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import sessionmaker

from hospital_support import build_world
from web_helpers import hash_once, load_demo_world
from yidi.bootstrap import Container, build_container
from yidi.demo.loader import load_reference_world
from yidi.entrypoints.app import create_app
from yidi.kernel.clock import CHINA_TZ, FixedClock
from yidi.platform.db import make_engine
from yidi.platform.migrate import upgrade
from yidi.settings import Settings

TEST_NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=CHINA_TZ)


def _database_url(tmp_dir: Path) -> str:
    return os.environ.get("YIDI_TEST_DATABASE_URL") or f"sqlite:///{tmp_dir / 'yidi-test.sqlite3'}"


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """``yidi serve`` under CliRunner points the root logger at the runner's stream, which is
    closed after the call; put the root logger back so later tests do not log into it."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return _database_url(tmp_path_factory.mktemp("db"))


@pytest.fixture(scope="session")
def migrated_engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    if engine.dialect.name == "postgresql":
        # A throw-away cluster, but be explicit: start every run from an empty schema.
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def fresh_engine(tmp_path: Path) -> Iterator[Engine]:
    """An empty database of the suite's kind: a new SQLite file, or a new PostgreSQL schema."""
    url = os.environ.get("YIDI_TEST_DATABASE_URL")
    if url is None:
        engine = make_engine(f"sqlite:///{tmp_path / 'migration.sqlite3'}")
        yield engine
        engine.dispose()
        return
    schema = f"migration_{uuid.uuid4().hex[:12]}"
    admin = make_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def connection(migrated_engine: Engine) -> Iterator[Connection]:
    with migrated_engine.connect() as connection:
        outer = connection.begin()
        try:
            yield connection
        finally:
            outer.rollback()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(TEST_NOW)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        demo_mode=True,
        import_jobs="inline",
        job_result_directory=tmp_path / "job-results",
    )


@pytest.fixture
def container(
    settings: Settings, connection: Connection, clock: FixedClock, migrated_engine: Engine
) -> Container:
    factory = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    return build_container(settings, clock=clock, session_factory=factory, engine=migrated_engine)


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container)) as test_client:
        yield test_client


@pytest.fixture
def web(container: Container) -> Iterator[TestClient]:
    """A browser-like client on loopback http, the address the demo is served on."""
    with TestClient(create_app(container), base_url="http://127.0.0.1:8000") as client:
        yield client


@pytest.fixture
def demo_world(container: Container, monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo's institutions and accounts; page tests ask for it with ``usefixtures``."""
    load_demo_world(container, monkeypatch)


@pytest.fixture
def world(container: Container) -> None:
    """The hospital-settlement world of ``hospital_support``."""
    build_world(container)


@pytest.fixture
def hospital_demo_world(container: Container, monkeypatch: pytest.MonkeyPatch) -> None:
    """The hospital-settlement world and the demo's institutions and accounts (their passwords
    hashed once per run): the page tests of cashiers and agencies ask for it with
    ``usefixtures``."""
    monkeypatch.setattr("yidi.demo.loader.hash_password", hash_once)
    build_world(container)
    load_reference_world(container.uow())
