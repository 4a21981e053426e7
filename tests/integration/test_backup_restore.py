"""Back up, change more, restore: totals and the audit chain are those of the backup."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from yidi.clock import CHINA_TZ
from yidi.domain.audit import AuditEntry, verify_chain
from yidi.storage.backup import backup, restore
from yidi.storage.db import make_engine
from yidi.storage.migrate import upgrade
from yidi.storage.uow import SqlUnitOfWork


@pytest.fixture
def scratch_engine(tmp_path: Path, migrated_engine: Engine) -> Iterator[Engine]:
    """A database of its own: backup/restore replaces whole databases."""
    if migrated_engine.dialect.name == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'scratch.sqlite3'}")
        yield engine
        engine.dispose()
        return
    admin_url = make_url(migrated_engine.url)
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("DROP DATABASE IF EXISTS yidi_backup_scratch"))
        connection.execute(text("CREATE DATABASE yidi_backup_scratch"))
    engine = make_engine(
        admin_url.set(database="yidi_backup_scratch").render_as_string(hide_password=False)
    )
    yield engine
    engine.dispose()
    with admin.connect() as connection:
        connection.execute(text("DROP DATABASE IF EXISTS yidi_backup_scratch WITH (FORCE)"))
    admin.dispose()


def _append(engine: Engine, first: int, last: int) -> None:
    uow = SqlUnitOfWork(sessionmaker(bind=engine))
    with uow:
        for n in range(first, last + 1):
            uow.audit.append(
                AuditEntry(
                    dt.datetime(2026, 11, 20, 9, n, tzinfo=CHINA_TZ),
                    f"u{n}",
                    "agency_handler",
                    "430400",
                    "filing.read",
                    f"filing:{n}",
                )
            )
        uow.commit()


def _chain(engine: Engine) -> tuple[int, str | None]:
    uow = SqlUnitOfWork(sessionmaker(bind=engine))
    with uow:
        entries = list(uow.audit.walk())
        assert verify_chain(entries) is None
        return len(entries), entries[-1].entry_hash if entries else None


def test_restore_brings_back_exactly_the_backed_up_state(
    scratch_engine: Engine, tmp_path: Path
) -> None:
    upgrade(scratch_engine)
    _append(scratch_engine, 1, 5)
    at_backup = _chain(scratch_engine)
    backup(scratch_engine, tmp_path / "yidi.backup")
    _append(scratch_engine, 6, 9)
    assert _chain(scratch_engine)[0] == 9
    restore(scratch_engine, tmp_path / "yidi.backup")
    assert _chain(scratch_engine) == at_backup
    _append(scratch_engine, 10, 10)  # the restored chain keeps growing from the backup's head
    assert _chain(scratch_engine)[0] == 6
