"""The 门诊慢特病 list's state filter runs in the query: "ended" is a recognition ended (终止) or
past its last day, "active" every other one, and the count and the page are of matching rows
only — a page of one row still counts all of them (on both databases).

谢某某 (衡阳县) has four recognitions of 高血压 on 2026-11-20 (the test clock's day):
2025-01-01–2025-06-30 (past its last day: ended), 2025-07-01 open then ended on 2025-12-31
(ended), 2026-01-01–2026-11-20 (its last day is today: active), 2026-11-21 open (active).
"""

from __future__ import annotations

import datetime as dt

import pytest

from filing_support import HENGYANG, PERSON_ID
from yidi.bootstrap import Container
from yidi.chronic.model import Evidence, NewRecognition

TODAY = dt.date(2026, 11, 20)


@pytest.fixture
def recognitions(container: Container, world: None) -> dict[str, str]:
    chronic = container.chronic

    def recognise(name: str, begin: dt.date, end: dt.date | None) -> str:
        asked = NewRecognition("M03900", begin, end, Evidence(reference=f"JD-{name}"))
        return chronic.recognise(HENGYANG, PERSON_ID, asked).recognition.id

    ids = {
        "past": recognise("past", dt.date(2025, 1, 1), dt.date(2025, 6, 30)),
        "ended": recognise("ended", dt.date(2025, 7, 1), None),
    }
    chronic.end(HENGYANG, ids["ended"], dt.date(2025, 12, 31), "复查不再符合")
    ids["today"] = recognise("today", dt.date(2026, 1, 1), TODAY)
    ids["future"] = recognise("future", dt.date(2026, 11, 21), None)
    return ids


def test_the_over_filter_is_in_the_query_and_in_the_count(
    container: Container, recognitions: dict[str, str]
) -> None:
    chronic = container.chronic
    assert container.clock.today() == TODAY
    total, rows = chronic.list_recognitions(HENGYANG, over=True)
    assert total == 2
    assert {r.id for r, _p in rows} == {recognitions["past"], recognitions["ended"]}
    total, rows = chronic.list_recognitions(HENGYANG, over=False)
    assert total == 2
    assert {r.id for r, _p in rows} == {recognitions["today"], recognitions["future"]}
    # The model's rule and the query's agree on every row.
    _all, everything = chronic.list_recognitions(HENGYANG)
    assert _all == 4
    over = {r.id for r, _p in everything if r.over_on(TODAY)}
    assert over == {recognitions["past"], recognitions["ended"]}
    # A page of one: the count is still of all matching rows, so nothing is filtered after.
    first_total, first = chronic.list_recognitions(HENGYANG, over=True, limit=1)
    second_total, second = chronic.list_recognitions(HENGYANG, over=True, limit=1, offset=1)
    assert first_total == second_total == 2 and len(first) == len(second) == 1
    assert {first[0][0].id, second[0][0].id} == over
    # And with the disease as well (both conditions in one query).
    assert chronic.list_recognitions(HENGYANG, disease_code="M03900", over=False)[0] == 2
    assert chronic.list_recognitions(HENGYANG, disease_code="M01600", over=False)[0] == 0
