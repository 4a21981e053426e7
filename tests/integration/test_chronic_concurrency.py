"""Two overlapping recognitions of one disease for one person sent at the same moment: one is
stored, the other refused (CHRONIC_RECOGNITION_OVERLAP), never two.

Real concurrent transactions (PostgreSQL: the person's row lock in its own schema; SQLite:
serialised writers in its own file), committed for real.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from filing_support import HENGYANG, PERSON_ID
from hospital_support import committed_container, load_reference
from yidi.bootstrap import Container
from yidi.chronic.model import Evidence, NewRecognition
from yidi.kernel.errors import YidiError
from yidi.platform.tables import chronic_recognitions

SCHEMA = "chronic_concurrency"


@pytest.fixture
def committed(database_url: str, tmp_path: Path, migrated_engine: Engine) -> Iterator[Container]:
    with committed_container(database_url, migrated_engine, tmp_path, SCHEMA) as container:
        load_reference(container)
        yield container


def _at_once(calls: list[Callable[[], object]]) -> tuple[list[object], list[BaseException]]:
    results: list[object] = []
    errors: list[BaseException] = []
    start = threading.Barrier(len(calls))

    def run(call: Callable[[], object]) -> None:
        start.wait()
        try:
            results.append(call())
        except YidiError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors


def test_two_overlapping_recognitions_at_once_store_one(committed: Container) -> None:
    def ask(begin: dt.date) -> Callable[[], object]:
        request = NewRecognition("M03900", begin, None, Evidence(reference="JD-1"))
        return lambda: committed.chronic.recognise(HENGYANG, PERSON_ID, request)

    results, errors = _at_once([ask(dt.date(2026, 1, 1)), ask(dt.date(2026, 2, 1))])
    assert len(results) == 1 and len(errors) == 1
    assert getattr(errors[0], "code", None) == "CHRONIC_RECOGNITION_OVERLAP"
    with committed.uow() as uow:
        count = uow.session.execute(
            select(func.count()).select_from(chronic_recognitions)
        ).scalar_one()
    assert count == 1
