"""Fixtures of the tests whose transactions really commit."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from hospital_support import committed_container
from yidi.bootstrap import Container


@pytest.fixture
def committed(
    request: pytest.FixtureRequest, database_url: str, tmp_path: Path, migrated_engine: Engine
) -> Iterator[Container]:
    """A container whose transactions commit, in a schema (PostgreSQL) or file (SQLite) of its
    own, named after the test module so that modules never share one."""
    schema = request.module.__name__.rpartition(".")[2].removeprefix("test_")
    with committed_container(database_url, migrated_engine, tmp_path, schema) as container:
        yield container
