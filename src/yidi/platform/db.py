"""Engine creation for SQLite (embedded, default) and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from yidi.kernel.errors import InvalidInput


def make_engine(database_url: str, **kwargs: Any) -> Engine:
    """An engine that never puts bound parameters (ID numbers, names) into the text of an
    error or a log line: ``hide_parameters``."""
    url = make_url(database_url)
    kwargs.setdefault("hide_parameters", True)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling defers BEGIN; take it over so that
        # SAVEPOINTs (per-test rollback) and BEGIN IMMEDIATE (serialised writers) work.
        event.listen(engine, "begin", _sqlite_begin)
        event.listen(engine, "before_cursor_execute", refuse_nul_characters)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("pool_pre_ping", True)
    engine = create_engine(url, **kwargs)
    event.listen(engine, "before_cursor_execute", refuse_nul_characters)
    return engine


def _has_nul(value: Any) -> bool:
    if value.__class__ is str:
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(item) for item in value.values())
    if isinstance(value, (list, tuple)):
        return any(_has_nul(item) for item in value)
    return False


def refuse_nul_characters(
    _conn: Any, _cursor: Any, _statement: str, parameters: Any, _context: Any, _many: bool
) -> None:
    """No text with a NUL character is stored, whatever the entry point (API, gateway, import).

    PostgreSQL cannot store it (the driver fails, which would be a 500) and SQLite would
    store it silently; no name, number or address legitimately contains one. Binary
    columns (evidence files) are bytes and are not looked at.
    """
    if parameters and _has_nul(parameters):
        raise InvalidInput(
            "TEXT_CONTAINS_NUL",
            "输入内容含有不允许的控制字符（NUL），请检查后重新提交",
            "text contains a NUL character",
        )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


#: Execution option of a connection that only reads (a long export): on SQLite its
#: transaction takes no write lock, so it never holds up the writers while it streams.
READ_ONLY = "yidi_read_only"


def _sqlite_begin(connection: Any) -> None:
    if connection.get_execution_options().get(READ_ONLY):
        connection.exec_driver_sql("BEGIN")  # deferred: a WAL reader blocks no writer
        return
    # IMMEDIATE takes the write lock at BEGIN, so two writers never both read
    # year-to-date totals and then both update them (SQLite's answer to SELECT … FOR UPDATE).
    connection.exec_driver_sql("BEGIN IMMEDIATE")


# Rows SQLite samples per index when gathering statistics: bounded, so refreshing them costs
# milliseconds at any table size (https://sqlite.org/lang_analyze.html#approx).
SQLITE_ANALYSIS_LIMIT = 1000


def refresh_statistics(connection: Any, tables: tuple[str, ...] = ()) -> None:
    """Gather the planner's statistics, after migrations and bulk imports.

    Without them SQLite's planner guesses index selectivity and, for the admission check,
    chose an index on a five-valued state column over the ID number. On SQLite every table
    is sampled (bounded by ``SQLITE_ANALYSIS_LIMIT``); on PostgreSQL autovacuum keeps the
    statistics, and only the named tables are analysed at once after a bulk load.
    """
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(f"PRAGMA analysis_limit={SQLITE_ANALYSIS_LIMIT}")
        connection.exec_driver_sql("ANALYZE")
        return
    for table in tables:
        connection.exec_driver_sql(f'ANALYZE "{table}"')
