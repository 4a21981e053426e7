"""补充预付金 in a real browser: 河南's officer requests the top-up from the usage table (the
amount prefilled), the clearing centre approves it from its desk, and the usage returns under
the yellow line; at 1366 and 375 px, with no horizontal scroll and no script error."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from yidi.bootstrap import build_container
from yidi.funds.commands import record_settlement_fact, run_clearing, set_prepayment
from yidi.funds.model import ClearingLevel, Prepayment
from yidi.kernel.clock import CHINA_TZ
from yidi.kernel.money import Money
from yidi.settings import Settings

sys.path.insert(0, str(Path(__file__).parents[1] / "unit"))
from funds_helpers import make_fact

pytestmark = pytest.mark.browser

Shot = Callable[[Page, str], Path]
#: one treatment province per width, so the two runs do not share a request
TREATMENT = {1366: ("110101", "110000", "北京市"), 375: ("310101", "310000", "上海市")}


@pytest.fixture(scope="module")
def warned(server_database_url: str) -> Iterator[None]:
    """This year, 郑州's insured drew 75 % of 河南's prepayment with two provinces."""
    container = build_container(Settings(database_url=server_database_url, demo_mode=True))
    today = dt.datetime.now(CHINA_TZ).date()
    month = today.replace(day=1) - dt.timedelta(days=1)  # last month: a month clearing can run
    if month.year != today.year:
        pytest.skip("in January no month of this year has been cleared yet")
    with container.uow() as uow:
        for county, _, _ in TREATMENT.values():
            record_settlement_fact(
                uow,
                make_fact(
                    f"TOPUP-{county}", insured="410100", treatment=county, on=month, pooled="750.00"
                ),
                dt.datetime.now(dt.UTC),
            )
        uow.commit()
    for _, province, _ in TREATMENT.values():
        set_prepayment(
            container.uow(),
            Prepayment(
                ClearingLevel.PROVINCE,
                "410000",
                province,
                Money.of("1000.00"),
                today.replace(month=1, day=1),
            ),
        )
    run_clearing(container.uow(), container.clock, month.strftime("%Y-%m"), ClearingLevel.PROVINCE)
    container.engine.dispose()
    yield


def _sign_in(page: Page, username: str) -> None:
    page.context.clear_cookies()
    page.goto("/signin")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(f"{username}-demo-2017")
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()


def _no_sideways_scroll(page: Page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("width", [1366, 375])
def test_a_province_requests_a_top_up_and_the_clearing_centre_approves_it(
    page: Page, shot: Shot, warned: None, width: int
) -> None:
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.set_viewport_size({"width": width, "height": 900})
    _, _, name = TREATMENT[width]
    _sign_in(page, "henan")
    page.goto("/funds/prepayment")
    row = page.locator("#usage-table tr", has_text=name)
    expect(row).to_contain_text("黄色预警")
    expect(row.get_by_label("补充金额（元）")).to_have_value("71.43")
    _no_sideways_scroll(page, width)
    shot(page, f"top-up-request-{width}")
    row.get_by_role("button", name="申请补充预付金").click()
    expect(page.locator("#top-up-done")).to_contain_text("等待清算中心审批")
    mine = page.locator("#top-ups-table tr", has_text=name)
    expect(mine).to_contain_text("待审批")
    _no_sideways_scroll(page, width)
    _sign_in(page, "clearing")
    page.goto("/clearing")
    page.locator("main").get_by_role("link", name="补充预付金审批").first.click()
    expect(page.locator("h1")).to_have_text("补充预付金申请与审批")
    pending = page.locator("#top-ups-table tr", has_text=name).filter(has_text="待审批")
    expect(pending.get_by_label("批准金额（元）")).to_have_value("71.43")
    _no_sideways_scroll(page, width)
    shot(page, f"top-up-decision-{width}")
    pending.get_by_role("button", name="批准").click()
    expect(page.locator("#top-up-done")).to_contain_text("已审批")
    expect(page.locator("#top-ups-table tr", has_text=name).first).to_contain_text("已批准")
    page.goto("/funds/prepayment/top-ups?lang=en")
    expect(page.locator("h1")).to_have_text("Prepayment top-up requests")
    _no_sideways_scroll(page, width)
    _sign_in(page, "henan")
    page.goto("/funds/prepayment")
    expect(page.locator("#usage-table tr", has_text=name)).to_contain_text("1,071.43")
    assert problems == []
