"""Backup and restore: SQLite's online backup API, or pg_dump / pg_restore for PostgreSQL."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from yidi.kernel.errors import InvalidInput


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    if candidates:
        return str(candidates[-1])
    raise InvalidInput(
        "BACKUP_TOOL_MISSING", f"未找到 {name}，请安装 PostgreSQL 客户端", f"{name} not found"
    )


def _pg_args(engine: Engine) -> tuple[list[str], dict[str, str]]:
    url = make_url(engine.url)
    args = [
        "-h",
        url.host or "127.0.0.1",
        "-p",
        str(url.port or 5432),
        "-U",
        url.username or "postgres",
    ]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return args, env


def backup(engine: Engine, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    if engine.dialect.name == "sqlite":
        source = sqlite3.connect(str(make_url(engine.url).database))
        try:
            destination = sqlite3.connect(str(target))
            with destination:
                source.backup(destination)  # consistent even while the server writes
            destination.close()
        finally:
            source.close()
        return target
    args, env = _pg_args(engine)
    database = make_url(engine.url).database or ""
    subprocess.run(  # noqa: S603 - fixed tool, arguments from our own settings
        [_pg_tool("pg_dump"), *args, "-Fc", "-f", str(target), database], check=True, env=env
    )
    return target


def restore(engine: Engine, source: Path) -> None:
    if not source.exists():
        raise InvalidInput("BACKUP_NOT_FOUND", f"备份文件不存在：{source}", "backup file not found")
    engine.dispose()
    if engine.dialect.name == "sqlite":
        backup_db = sqlite3.connect(str(source))
        try:
            live = sqlite3.connect(str(make_url(engine.url).database))
            with live:
                backup_db.backup(live)
            live.close()
        finally:
            backup_db.close()
        return
    args, env = _pg_args(engine)
    database = make_url(engine.url).database or ""
    subprocess.run(  # noqa: S603
        [
            _pg_tool("pg_restore"),
            *args,
            "--clean",
            "--if-exists",
            "--no-owner",
            "-d",
            database,
            str(source),
        ],
        check=True,
        env=env,
    )
