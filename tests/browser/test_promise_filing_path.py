"""承诺制 from submission to the deadline and the downgrade, in a real browser: the 衡阳 window
files a promise-based 异地安置退休 filing (the API, as a counter system would), the agency
approves it on the review page with the household register still owed, the promise deadline
job runs half a year later (``yidi filing promises-due`` on the server's database, its clock
moved past the deadline), and the agency's page shows version 2 as 其他临时外出就医人员."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from typer.testing import CliRunner

from filing_support import record_body
from yidi.bootstrap import build_container
from yidi.entrypoints.cli.main import app
from yidi.kernel.clock import CHINA_TZ, FixedClock
from yidi.kernel.identity import Gender, make_resident_id
from yidi.settings import Settings

pytestmark = pytest.mark.browser

Shot = Callable[[Page, str], Path]
NAME = "承诺甲"


def _signed_in(page: Page, username: str) -> None:
    page.goto("/signin")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(f"{username}-demo-2017")
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()


def _window_filing(page: Page) -> str:
    """The counter's system files and submits the promise-based filing through the API."""
    login = page.request.post(
        "/api/auth/login", data={"username": "hengyang", "password": "hengyang-demo-2017"}
    )
    assert login.ok, login.text()
    bearer = {"Authorization": f"Bearer {login.json()['token']}"}
    serial = random.randint(100, 899)  # a person of this run only (the server is shared)
    person = make_resident_id("430421", dt.date(1953, 4, 9), serial, Gender.MALE).number
    body: dict[str, Any] = record_body(
        name=NAME,
        social_security_number=person,
        promise_signed=True,
        filled_on=dt.datetime.now(CHINA_TZ).date(),
    )
    created = page.request.post("/api/filings", data={"record": body}, headers=bearer)
    assert created.status == 201, created.text()
    filing_id: str = created.json()["filing_id"]
    submitted = page.request.post(f"/api/filings/{filing_id}/submit", headers=bearer)
    assert submitted.ok, submitted.text()
    return filing_id


def _run_the_deadline_job(database_url: str, on: dt.date, monkeypatch: pytest.MonkeyPatch) -> str:
    """``yidi filing promises-due`` on the server's database, its clock on ``on``."""
    clock = FixedClock(dt.datetime.combine(on, dt.time(1, 30), CHINA_TZ))
    container = build_container(Settings(database_url=database_url, demo_mode=True), clock=clock)
    monkeypatch.setattr("yidi.entrypoints.cli.filing.open_container", lambda: container)
    try:
        result = CliRunner().invoke(app, ["filing", "promises-due"])
    finally:
        container.engine.dispose()
    assert result.exit_code == 0, result.output
    return result.output


def test_a_promise_based_filing_is_downgraded_after_its_deadline(
    chromium: Browser,
    base_url: str,
    server_database_url: str,
    shot: Shot,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    page = chromium.new_context(base_url=base_url, locale="zh-CN").new_page()
    filing_id = _window_filing(page)
    _signed_in(page, "hengyang")
    page.goto(f"/filings/{filing_id}")
    expect(page.locator("h1 [data-state]")).to_have_attribute("data-state", "submitted")
    expect(page.locator("#missing-evidence")).to_contain_text("安置地户口")  # promised, not given
    page.get_by_label("我已核对备案信息和证明材料，确认审核通过").check()
    page.get_by_role("button", name="审核通过（备案）").click()
    expect(page.locator("#done")).to_contain_text("已审核通过")
    expect(page.locator("h1 [data-state]")).to_have_attribute("data-state", "approved")
    # approved on the promise: the household register is still owed, by the deadline
    expect(page.locator("#missing-evidence")).to_contain_text("安置地户口")
    expect(page.locator("main")).to_contain_text("异地安置退休人员")
    shot(page, "promise-filing-approved")
    detail = page.request.get(f"/api/filings/{filing_id}").json()
    assert detail["record"]["promise_signed"] is True and detail["filing_class"] == "long_term"
    due = dt.date.fromisoformat(detail["promise_documents_due_on"])
    assert due > dt.datetime.now(CHINA_TZ).date()

    on_time = _run_the_deadline_job(server_database_url, due, monkeypatch)
    assert filing_id not in on_time  # the deadline day itself is still in time
    late = _run_the_deadline_job(server_database_url, due + dt.timedelta(days=1), monkeypatch)
    assert filing_id in late
    again = _run_the_deadline_job(server_database_url, due + dt.timedelta(days=2), monkeypatch)
    assert filing_id not in again  # done once

    page.reload()
    expect(page.locator("h1 [data-state]")).to_have_attribute("data-state", "approved")
    expect(page.locator("#filing-version")).to_have_attribute("data-version", "2")
    expect(page.locator("main")).to_contain_text("其他临时外出就医人员")
    expect(page.locator("main")).to_contain_text("按其他临时外出就医人员处理")  # the history
    shot(page, "promise-filing-downgraded")
    after = page.request.get(f"/api/filings/{filing_id}").json()
    assert after["record"]["category"] == "other_temporary"
    assert after["record"]["promise_lapsed_from"] == "retiree_resettled"
    assert after["filing_class"] == "temporary"
    # the current-layout record names the downgrade
    period = f"from={due.isoformat()}&to={(due + dt.timedelta(days=1)).isoformat()}"
    export = page.request.get(
        f"/api/filings/export/current-layout?region=430400&{period}&format=json"
    ).json()
    row = next(r for r in export["rows"] if r["姓名"] == NAME)
    assert row["备案类型"] == "其他临时外出就医人员"
    assert "按其他临时外出就医人员处理（原类型：异地安置退休人员）" in row["承诺材料情况"]
    page.context.close()
