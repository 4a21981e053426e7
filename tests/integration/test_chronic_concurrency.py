"""Two overlapping recognitions of one disease for one person sent at the same moment: one is
stored, the other refused (CHRONIC_RECOGNITION_OVERLAP), never two.

Real concurrent transactions (PostgreSQL: the person's row lock in its own schema; SQLite:
serialised writers in its own file), committed for real.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from concurrency_support import at_once
from filing_support import HENGYANG, PERSON_ID
from hospital_support import load_reference
from yidi.bootstrap import Container
from yidi.chronic.model import Evidence, NewRecognition
from yidi.platform.tables import chronic_recognitions


@pytest.fixture
def committed(committed: Container) -> Container:
    load_reference(committed)
    return committed


def test_two_overlapping_recognitions_at_once_store_one(committed: Container) -> None:
    def ask(begin: dt.date) -> Callable[[], object]:
        request = NewRecognition("M03900", begin, None, Evidence(reference="JD-1"))
        return lambda: committed.chronic.recognise(HENGYANG, PERSON_ID, request)

    results, errors = at_once([ask(dt.date(2026, 1, 1)), ask(dt.date(2026, 2, 1))])
    assert len(results) == 1 and len(errors) == 1
    assert getattr(errors[0], "code", None) == "CHRONIC_RECOGNITION_OVERLAP"
    with committed.uow() as uow:
        count = uow.session.execute(
            select(func.count()).select_from(chronic_recognitions)
        ).scalar_one()
    assert count == 1
