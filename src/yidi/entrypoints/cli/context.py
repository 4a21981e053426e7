"""The container a ``yidi`` command works on, built once per command by the composition root.

Commands never migrate the database as a side effect: ``yidi db upgrade`` does that (and
``yidi serve`` and ``yidi demo load``, which set a database up). A command that needs the
data refuses to run on a database whose schema is not the newest, and says what to do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from yidi.kernel.errors import YidiError

if TYPE_CHECKING:
    from yidi.bootstrap import Container


def open_container(*, demo: bool = False, require_current_schema: bool = True) -> Container:
    """Settings from ``YIDI_*`` (``demo`` forces demo mode), then every service, built once.

    Exits with status 2 on a configuration error, or when ``require_current_schema`` and the
    database has not been migrated to the newest revision.
    """
    from yidi.bootstrap import build_container
    from yidi.platform.migrate import current_revision, head_revision
    from yidi.settings import Settings

    try:
        settings = Settings(demo_mode=True) if demo else Settings()
    except ValueError as exc:
        typer.echo(f"配置错误 configuration error: {exc}", err=True)
        raise typer.Exit(2) from None
    try:
        container = build_container(settings)
    except YidiError as error:  # e.g. an invalid holiday arrangement file
        typer.echo(f"配置错误 configuration error [{error.code}]: {error.message}", err=True)
        raise typer.Exit(2) from None
    if require_current_schema:
        current, head = current_revision(container.engine), head_revision()
        if current != head:
            container.engine.dispose()
            typer.echo(
                f"数据库结构不是最新（当前 {current or '空库'}，最新 {head}），请先运行 "
                f"`yidi db upgrade`。The database schema is at {current or 'nothing'}, not "
                f"{head}: run `yidi db upgrade` first.",
                err=True,
            )
            raise typer.Exit(2)
    return container
