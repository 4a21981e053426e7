"""The 对账差异 pages over HTTP: the clearing centre raises a dispute by hand about 博白县人民医院's
month, the hospital's cashier answers it on the detail page, the clearing centre resolves it
(confirmed), the list filters by state, hospital and month and pages; a refused step shows the
Chinese message with its code and writes nothing; the clearing page flags the open dispute;
南华's cashier does not see it and the province has no dispute pages."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from yidi.bootstrap import Container
from yidi.platform.tables import audit_log, reconciliation_dispute_events

sys.path.insert(0, str(Path(__file__).parent))
from web_helpers import PAGE, csrf_token, load_demo_world, signed_in_browsers

BOBAI = "H45092300001"
NEW = "/reconciliation/disputes/new"
Browser = Callable[[str], TestClient]


@pytest.fixture(autouse=True)
def _demo_world(container: Container, monkeypatch: pytest.MonkeyPatch) -> None:
    load_demo_world(container, monkeypatch)


@pytest.fixture
def browser(container: Container) -> Iterator[Browser]:
    yield from signed_in_browsers(container)


def _count(container: Container, table: object, *where: object) -> int:
    with container.uow() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(table).where(*where)))  # type: ignore[arg-type]


def _raise(client: TestClient, **fields: str) -> httpx2.Response:
    page = client.get(NEW, headers=PAGE)
    assert page.status_code == 200
    key = re.search(r'name="form_key" value="([0-9a-f]+)"', page.text)
    assert key
    data = {
        "csrf_token": csrf_token(client, NEW),
        "form_key": key.group(1),
        "source": "manual",
        "hospital_code": BOBAI,
        "month": "2026-11",
        "text": "本月住院结算总额与医院申报差 0.01 元",
        **fields,
    }
    return client.post(NEW, data=data, headers=PAGE, follow_redirects=False)


def _detail_path(response: httpx2.Response) -> str:
    location: str = response.headers["location"]
    return location.split("?")[0]


def test_raise_answer_and_resolve_on_the_pages(container: Container, browser: Browser) -> None:
    clearing, cashier = browser("clearing"), browser("bobai")
    raised = _raise(clearing)
    assert raised.status_code == 303 and "done=raised" in raised.headers["location"]
    path = _detail_path(raised)

    detail = cashier.get(path, headers=PAGE).text
    assert "已提出" in detail and "本月住院结算总额与医院申报差 0.01 元" in detail
    assert 'id="answer-form"' in detail and 'id="resolve-form"' not in detail
    answered = cashier.post(
        f"{path}/answer",
        data={"csrf_token": csrf_token(cashier, path), "text": "已核对，本院少记 0.01 元"},
        headers=PAGE,
        follow_redirects=False,
    )
    assert answered.status_code == 303 and answered.headers["location"].endswith("done=answer")

    page = clearing.get(path, headers=PAGE).text
    assert "已答复" in page and 'id="resolve-form"' in page and 'id="reopen-form"' in page
    token = csrf_token(clearing, path)
    unconfirmed = clearing.post(
        f"{path}/resolve",
        data={"csrf_token": token, "resolve_outcome": "accepted", "text": "按中心记录"},
        headers=PAGE,
    )
    assert unconfirmed.status_code == 422 and "请勾选确认" in unconfirmed.text
    no_amount = clearing.post(
        f"{path}/resolve",
        data={
            "csrf_token": token,
            "resolve_outcome": "adjusted",
            "text": "按商定金额",
            "confirm": "yes",
        },
        headers=PAGE,
    )
    assert no_amount.status_code == 422 and "DISPUTE_AMOUNT_FOR_ADJUSTED" in no_amount.text
    assert _count(container, reconciliation_dispute_events) == 2  # nothing written
    resolved = clearing.post(
        f"{path}/resolve",
        data={
            "csrf_token": token,
            "resolve_outcome": "adjusted",
            "resolve_amount": "812.40",
            "text": "双方按 812.40 元更正",
            "confirm": "yes",
        },
        headers=PAGE,
        follow_redirects=False,
    )
    assert resolved.status_code == 303
    final = cashier.get(path, headers=PAGE).text
    assert "已解决" in final and "812.40" in final and 'id="reopen-form"' in final
    assert final.count('data-action="') == 3
    assert _count(container, audit_log, audit_log.c.action == "reconciliation.dispute_read") >= 3


def test_the_list_filters_and_the_clearing_page_flags_the_month(
    container: Container, browser: Browser
) -> None:
    clearing = browser("clearing")
    for month in ("2026-10", "2026-11"):
        assert _raise(clearing, month=month).status_code == 303
    listed = clearing.get("/reconciliation/disputes", headers=PAGE).text
    assert listed.count("data-dispute=") == 2 and "共 2 项" in listed
    november = clearing.get(
        "/reconciliation/disputes", params={"month": "2026-11", "state": "open"}, headers=PAGE
    ).text
    assert november.count("data-dispute=") == 1
    other = clearing.get(
        "/reconciliation/disputes", params={"hospital": "H43040000001"}, headers=PAGE
    ).text
    assert 'id="no-disputes"' in other
    bad = clearing.get("/reconciliation/disputes", params={"month": "2026-13"}, headers=PAGE)
    assert bad.status_code == 422 and "yyyy-MM" in bad.text

    flag = clearing.get("/funds/clearing", params={"month": "2026-11"}, headers=PAGE).text
    assert 'id="open-disputes"' in flag and "有 1 项对账差异尚未解决" in flag
    quiet = clearing.get("/funds/clearing", params={"month": "2026-09"}, headers=PAGE).text
    assert 'id="open-disputes"' not in quiet

    nanhua = browser("nhfy1")
    assert 'id="no-disputes"' in nanhua.get("/reconciliation/disputes", headers=PAGE).text
    province = browser("hunan")
    assert province.get("/reconciliation/disputes", headers=PAGE).status_code == 403


def test_a_statement_raise_without_a_difference_is_refused_in_chinese(
    container: Container, browser: Browser
) -> None:
    cashier = browser("bobai")
    refused = _raise(cashier, source="statement", settlement_id="S-NOBODY", text="")
    assert refused.status_code == 422
    assert "没有差异可提出" in refused.text and "DISPUTE_NO_DIFFERENCE" in refused.text
    missing = _raise(cashier, source="statement", settlement_id="", text="")
    assert "请填写结算ID" in missing.text
    assert _count(container, reconciliation_dispute_events) == 0


def test_the_resolve_form_takes_a_clearing_adjustment_and_names_its_refusal(
    container: Container, browser: Browser
) -> None:
    clearing, cashier = browser("clearing"), browser("bobai")
    path = _detail_path(_raise(clearing))
    cashier.post(
        f"{path}/answer",
        data={"csrf_token": csrf_token(cashier, path), "text": "已核对"},
        headers=PAGE,
    )
    page = clearing.get(path, headers=PAGE).text
    assert 'id="resolve_adjustment"' in page and "正数为参保地向就医地追补" in page
    token = csrf_token(clearing, path)
    base = {"csrf_token": token, "resolve_outcome": "accepted", "text": "追补", "confirm": "yes"}
    typo = clearing.post(
        f"{path}/resolve", data={**base, "resolve_adjustment": "5.001"}, headers=PAGE
    )
    assert typo.status_code == 422 and 'id="resolve_adjustment-error"' in typo.text
    # a dispute by hand about the month: the centre has no insured region to clear against
    unknown = clearing.post(
        f"{path}/resolve", data={**base, "resolve_adjustment": "5.00"}, headers=PAGE
    )
    assert unknown.status_code == 422 and "DISPUTE_ADJUSTMENT_REGION_UNKNOWN" in unknown.text
    assert _count(container, reconciliation_dispute_events) == 2  # nothing written
