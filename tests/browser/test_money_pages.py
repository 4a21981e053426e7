"""The money pages in a real browser: a province officer's 附件3, clearing run and dashboard."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from conftest import sign_in

pytestmark = pytest.mark.browser

Shot = Callable[[Page, str], Path]


def _console_errors(page: Page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return errors


def test_a_province_officer_estimates_annex3_and_sees_the_chart_beside_the_numbers(
    page: Page, shot: Shot
) -> None:
    errors = _console_errors(page)
    sign_in(page, "henan")
    page.get_by_role("link", name="附件3/附件4 预付金测算").first.click()
    page.get_by_label("地区").select_option("410100")
    page.get_by_label("测算年度").fill("2018")
    page.get_by_label("测算方法").select_option("trend")
    page.get_by_role("button", name="测算").click()
    page.wait_for_url(re.compile(r"/funds/prepayment\?region=410100&year=2018"))
    expect(page.locator("#annex-title")).to_contain_text("2018年度省内异地就医费用支出测算表")
    expect(page.locator("#annex-table thead .colno")).to_have_count(18)
    expect(page.locator('table[data-numbers="year-chart"] tbody tr')).to_have_count(4)
    assert page.evaluate(
        "Boolean(window.Chart.getChart(document.querySelector('canvas[data-chart-source=\"year-chart\"]')))"
    )
    with page.expect_download() as download:
        page.get_by_role("link", name="下载XLSX").click()
    assert download.value.suggested_filename == "annex3-410100-2018.xlsx"
    assert errors == []
    shot(page, "province-annex3")


def test_a_clearing_officer_runs_a_month_from_the_form(page: Page, shot: Shot) -> None:
    sign_in(page, "clearing")
    page.get_by_role("link", name="清算单").first.click()
    page.get_by_label("清算月份").fill("2017-09")
    page.get_by_role("button", name="查看").click()
    expect(page.locator("#not-run")).to_have_text("本月尚未清算。")
    page.get_by_role("button", name="运行2017-09清算").click()
    page.wait_for_url(re.compile(r"ran=1"))
    expect(page.get_by_role("status")).to_have_text("清算已完成。")
    expect(page.locator("[data-status]")).to_have_attribute("data-status", "open")
    shot(page, "clearing-statement")


def test_the_dashboard_shows_the_demo_settlements_with_the_numbers_beside_the_charts(
    page: Page, shot: Shot
) -> None:
    """The demo scenario settled real encounters; the agency sees its own region's figures.
    (The empty state, "暂无结算数据", is checked over HTTP on an empty database.)"""
    sign_in(page, "hengyang")
    page.get_by_role("link", name="异地就医统计").first.click()
    expect(page.locator("#no-data")).to_have_count(0)
    expect(page.locator("#sentence")).to_contain_text("人次")
    expect(page.locator("#sentence")).to_contain_text("万元")
    expect(page.get_by_label("地区", exact=True)).to_have_value("430400")
    expect(page.get_by_role("img", name="各地区医保基金支出")).to_be_visible()
    assert page.locator("#region option").count() == 1  # an agency sees only its own region
    shot(page, "statistics")


def test_the_money_pages_fit_375_px_without_inline_script(chromium: Browser, base_url: str) -> None:
    context = chromium.new_context(
        base_url=base_url, viewport={"width": 375, "height": 812}, locale="zh-CN"
    )
    page = context.new_page()
    errors = _console_errors(page)
    try:
        sign_in(page, "henan")
        for path in (
            "/funds/statistics",
            "/funds/clearing?month=2017-09",
            "/funds/prepayment?region=410100&year=2018&annex=3",
            "/funds/prepayment?region=410000&year=2018&annex=4",
        ):
            response = page.goto(path)
            assert response is not None and response.status == 200, path
            assert "<script>" not in response.text() and " style=" not in response.text(), path
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 375, f"{path} is {width}px wide at a 375px viewport"
    finally:
        context.close()
    assert errors == []
