"""The agency queue shows each online submission's review deadline (审核期限, two working days
in the 2022 model) and marks the overdue ones and the ones due today; window filings have none."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from filing_support import HENGYANG, PERSON, api_headers, household_registration, record
from yidi.bootstrap import Container
from yidi.filing.commands import FilingService
from yidi.kernel.access import Principal, Role
from yidi.kernel.clock import CHINA_TZ, FixedClock
from yidi.kernel.identity import Gender, make_resident_id

sys.path.insert(0, str(Path(__file__).parent))
from web_helpers import PAGE, sign_in

pytestmark = pytest.mark.usefixtures("demo_world")


def _person(serial: int) -> Principal:
    """Another 衡阳县 insured person, signed in to file online."""
    number = make_resident_id("430421", dt.date(1956, 4, 9), serial, Gender.MALE).number
    return Principal(f"person-{serial}", Role.INSURED_PERSON, id_number=number)


def _submitted(container: Container, by: Principal, day: dt.date, id_number: str = "") -> str:
    service = FilingService(container.uow, container.clock)
    changes = {"social_security_number": id_number or by.id_number, "filled_on": day}
    draft = service.create_draft(by, record(**changes), evidence=[household_registration()])
    service.submit(by, draft.filing_id)
    return draft.filing_id


def _queue(container: Container, clock: FixedClock) -> tuple[str, str, str]:
    """An online filing submitted before 国庆 2026 (due 9 October), a later one (due 12 October)
    and a window filing; returns their ids."""
    clock.set(dt.datetime(2026, 9, 30, 10, tzinfo=CHINA_TZ))
    early = _submitted(container, PERSON, dt.date(2026, 9, 30))
    window = _submitted(container, HENGYANG, dt.date(2026, 9, 30), _person(301).id_number or "")
    clock.set(dt.datetime(2026, 10, 9, 10, tzinfo=CHINA_TZ))
    later = _submitted(container, _person(302), dt.date(2026, 10, 9))
    return early, later, window


def test_the_api_queue_shows_the_review_deadline_and_marks(
    client: TestClient, container: Container, clock: FixedClock
) -> None:
    early, later, window = _queue(container, clock)
    clock.set(dt.datetime(2026, 10, 12, 9, tzinfo=CHINA_TZ))
    response = client.get(
        "/api/filings", params={"state": "submitted"}, headers=api_headers(container, HENGYANG)
    )
    assert response.status_code == 200, response.text
    items = {item["filing_id"]: item for item in response.json()["items"]}
    assert (items[early]["review_due"], items[early]["review_overdue"]) == ("2026-10-09", True)
    assert items[early]["review_due_today"] is False
    assert (items[later]["review_due"], items[later]["review_due_today"]) == ("2026-10-12", True)
    assert items[later]["review_overdue"] is False
    assert (items[window]["review_due"], items[window]["review_overdue"]) == (None, False)
    order = [item["filing_id"] for item in response.json()["items"]]
    assert order.index(early) < order.index(later) < order.index(window)  # most urgent first


def test_the_web_queue_shows_the_review_deadline_and_the_overdue_mark(
    web: TestClient, container: Container, clock: FixedClock
) -> None:
    early, later, window = _queue(container, clock)
    clock.set(dt.datetime(2026, 10, 12, 9, tzinfo=CHINA_TZ))
    sign_in(web, "hengyang")
    page = web.get("/filings", headers=PAGE)
    assert page.status_code == 200
    text = page.text
    assert "审核期限" in text
    rows = {
        fid: text[text.index(f'data-filing="{fid}"') :].split("</tr>", 1)[0]
        for fid in (early, later, window)
    }
    assert 'data-review-due="2026-10-09"' in rows[early] and "已超期" in rows[early]
    assert 'data-review-due="2026-10-12"' in rows[later] and "今日到期" in rows[later]
    assert "已超期" not in rows[later]
    assert 'data-review-due=""' in rows[window]
    assert "已超期" not in rows[window] and "今日到期" not in rows[window]
    assert text.index(f'data-filing="{early}"') < text.index(f'data-filing="{window}"')
