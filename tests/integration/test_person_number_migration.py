"""Migration 0010: every existing person gets a random person number; encounters keep
referring to the same person (they refer to persons.id, not to the number)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import Engine, MetaData, insert, select, text
from sqlalchemy.exc import IntegrityError

from yidi.platform.migrate import upgrade

PREVIOUS = "0013"  # the revision 0010 follows


def test_existing_persons_get_distinct_random_numbers(fresh_engine: Engine) -> None:
    upgrade(fresh_engine, PREVIOUS)
    old = MetaData()
    old.reflect(fresh_engine, only=["persons"])
    with fresh_engine.begin() as connection:
        connection.execute(
            insert(old.tables["persons"]),
            [
                {
                    "id_number": f"43042119550308{n:03d}X"[:18],
                    "name": "某某",
                    "gender": "1",
                    "birth_on": dt.date(1955, 3, 8),
                    "insured_region_code": "430421",
                    "insurance_type": "310",
                    "person_type": "employee_retired",
                    "card_number": f"A{n:08d}",
                    "has_second_generation_card": True,
                }
                for n in range(1, 1201)  # more than one backfill batch
            ],
        )
    upgrade(fresh_engine)
    new = MetaData()
    new.reflect(fresh_engine, only=["persons"])
    persons = new.tables["persons"]
    with fresh_engine.connect() as connection:
        rows = connection.execute(select(persons.c.id, persons.c.psn_no)).all()
    numbers = [psn for _, psn in rows]
    assert len(rows) == 1200 and len(set(numbers)) == 1200
    assert all(re.fullmatch(r"PSN\d{22}", psn) for psn in numbers)
    assert all(psn != f"PSN{person_id:010d}" for person_id, psn in rows)
    # The number is required and unique from now on.
    with pytest.raises(IntegrityError), fresh_engine.begin() as connection:
        connection.execute(
            text("UPDATE persons SET psn_no = :psn WHERE id = :id"),
            {"psn": numbers[0], "id": rows[1][0]},
        )
