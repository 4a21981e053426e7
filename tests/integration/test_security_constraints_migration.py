"""Migration 0008: the one-open-stay and one-live-filing indexes refuse to go onto a database
that already breaks them, naming what to resolve; once resolved, the upgrade goes through."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Engine,
    Integer,
    MetaData,
    Table,
    insert,
    update,
)
from sqlalchemy.types import BigInteger

from yidi.platform.migrate import _config, current_revision, head_revision, upgrade

AT = dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)
# The revision this migration follows (wherever the chain puts it).
_before = ScriptDirectory.from_config(_config()).get_revision("0008").down_revision
assert isinstance(_before, str)
BEFORE: str = _before


def _row(table: Table, **values: Any) -> dict[str, Any]:
    """Every NOT NULL column filled with a plain value of its type, then ``values``."""
    row: dict[str, Any] = {}
    for column in table.columns:
        if column.nullable or column.server_default is not None or column.autoincrement is True:
            continue
        if isinstance(column.type, (Integer, BigInteger)):
            row[column.name] = 1
        elif isinstance(column.type, Boolean):
            row[column.name] = False
        elif isinstance(column.type, DateTime):
            row[column.name] = AT
        elif isinstance(column.type, Date):
            row[column.name] = AT.date()
        else:
            row[column.name] = "1"
    row.update(values)
    return row


def test_two_open_stays_of_one_person_stop_the_upgrade_until_one_is_cancelled(
    fresh_engine: Engine,
) -> None:
    upgrade(fresh_engine, BEFORE)
    old = MetaData()
    old.reflect(fresh_engine, only=["persons", "encounters"])
    persons, encounters = old.tables["persons"], old.tables["encounters"]
    with fresh_engine.begin() as connection:
        connection.execute(insert(persons).values(_row(persons, id=7)))
        for mdtrt_id in ("M1", "M2"):
            connection.execute(
                insert(encounters).values(
                    _row(
                        encounters,
                        id=mdtrt_id,
                        person_id=7,
                        hospital_code="H43040000001",
                        state="admitted",
                    )
                )
            )
    with pytest.raises(RuntimeError, match="several open stays"):
        upgrade(fresh_engine)
    assert current_revision(fresh_engine) == BEFORE  # nothing half-applied
    with fresh_engine.begin() as connection:
        connection.execute(
            update(encounters).where(encounters.c.id == "M2").values(state="cancelled")
        )
    upgrade(fresh_engine)
    assert current_revision(fresh_engine) == head_revision()
