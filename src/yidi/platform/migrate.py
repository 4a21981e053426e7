"""Apply Alembic migrations programmatically (``yidi db upgrade``)."""

from __future__ import annotations

from importlib import resources

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

from yidi.platform.db import refresh_statistics


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("yidi.platform") / "migrations"))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    config = _config()
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # SQLite alters a table by copying it and dropping the old one, which foreign keys
            # from other tables forbid while they are enforced; they are checked instead below,
            # after every step, before the transaction commits. The pragma must be set outside
            # a transaction, so on the driver connection, before BEGIN.
            _driver_execute(connection, "PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                config.attributes["connection"] = connection
                command.upgrade(config, revision)
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(
                            f"migration left rows whose foreign keys point nowhere: {broken[:5]}"
                        )
                refresh_statistics(connection)
        finally:
            if sqlite:
                _driver_execute(connection, "PRAGMA foreign_keys=ON")


def _driver_execute(connection: Connection, statement: str) -> None:
    raw = connection.connection.dbapi_connection
    assert raw is not None
    cursor = raw.cursor()
    try:
        cursor.execute(statement)
    finally:
        cursor.close()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_config()).get_current_head()


def schema_is_current(engine: Engine) -> bool:
    """Is the database at the newest revision (``yidi db upgrade`` has nothing to do)?"""
    return current_revision(engine) == head_revision()
