"""Alembic environment: run by ``yidi db upgrade`` with a connection handed over in config."""

from __future__ import annotations

from alembic import context

from yidi.platform.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - yidi always passes a connection
    raise RuntimeError("run migrations through `yidi db upgrade`")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
