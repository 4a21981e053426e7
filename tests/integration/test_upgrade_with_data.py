"""Upgrading a database that already holds people and their stays (SQLite copies a table to
alter it; the copy must not trip over the foreign keys that point at it)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import Boolean, Date, DateTime, Integer, MetaData, Numeric, inspect, text

from yidi.platform.db import make_engine
from yidi.platform.migrate import current_revision, head_revision, upgrade


def _filler(column: Any) -> Any:
    kind = column.type
    if isinstance(kind, Boolean):
        return False
    if isinstance(kind, DateTime):
        return dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    if isinstance(kind, Date):
        return dt.date(2026, 11, 1)
    if isinstance(kind, (Integer, Numeric)):
        return 1
    return "1"


def _insert(connection: Any, metadata: MetaData, table: str, **given: Any) -> None:
    columns = metadata.tables[table].columns
    values = {
        c.name: given.get(c.name, _filler(c))
        for c in columns
        if c.name in given or (not c.nullable and c.server_default is None and not c.primary_key)
    }
    connection.execute(metadata.tables[table].insert().values(**values))


def test_a_database_with_people_and_stays_upgrades_from_0007_to_head(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    upgrade(engine, "0007")
    metadata = MetaData()
    metadata.reflect(engine)
    with engine.begin() as connection:
        _insert(connection, metadata, "persons", id=1, id_number="430421195503081233")
        _insert(connection, metadata, "encounters", id="M1", person_id=1, state="settled")
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM encounters")).scalar_one() == 1
        assert connection.execute(text("SELECT psn_no FROM persons")).scalar_one()
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
        assert connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
    assert "psn_no" in {c["name"] for c in inspect(engine).get_columns("persons")}
    engine.dispose()
