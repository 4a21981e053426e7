"""政策调整测算 in a real browser: the Ningxia agency raises its pooled-fund rates, waits for the
job, reads the fund impact with its chart, downloads the report; at 1366 and 375 px, with no
script error."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from conftest import script_problems, sign_in

pytestmark = pytest.mark.browser

Shot = Callable[[Page, str], Path]


@pytest.mark.parametrize("width", [1366, 375])
def test_the_ningxia_agency_tries_higher_rates_and_reads_the_impact(
    page: Page, shot: Shot, width: int
) -> None:
    problems = script_problems(page)
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, "ningxia")
    page.goto("/agency")
    page.locator("main").get_by_role("link", name="政策调整测算").first.click()
    expect(page.locator("h1")).to_have_text("政策调整测算")
    page.get_by_label("调整哪个地区的政策").select_option("640000:390")
    page.locator("#whatif-load-policy").click()
    expect(page.locator("#rate1")).to_have_value("0.85")
    page.locator("#start").fill("2017-01-01")
    page.locator("#end").fill("2026-12-31")
    page.locator("#effective").fill("2017-01-01")
    page.locator("#rate1").fill("0.95")
    page.locator("#rate2").fill("0.80")
    page.locator("#rate3").fill("0.65")
    page.locator("#whatif-submit").click()
    expect(page.locator("#whatif-job")).to_have_attribute("data-state", "done", timeout=60_000)
    expect(page.locator("#whatif-baseline")).to_contain_text("0 条不一致")
    expect(page.locator("#whatif-summary")).to_contain_text("重算")
    chart = page.locator("#whatif-chart")
    expect(chart).to_be_visible()
    assert chart.locator("rect").count() > 2
    expect(page.locator("#by-month tbody tr").first).to_be_visible()
    expect(page.locator("#whatif-top tbody tr").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    shot(page, f"whatif-report-{width}")
    with page.expect_download() as download:
        page.locator("#download-xlsx").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    page.goto(page.url + "?lang=en")
    expect(page.locator("#whatif-total-title")).to_have_text("Fund impact")
    assert problems == []


def test_a_cashier_has_no_what_if_entry(page: Page) -> None:
    sign_in(page, "nhfy1")
    expect(page.locator('a[href="/funds/whatif"]')).to_have_count(0)
