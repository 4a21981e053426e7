"""The province officer's overview in a real browser: 地市报送情况 for the demo's filings, on a
desktop and on a 375 px phone, and the demo's 报盘 batch with its report."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from conftest import sign_in

pytestmark = pytest.mark.browser

Shot = Callable[[Page, str], Path]


def test_the_henan_officer_opens_the_prefecture_submissions_from_the_desk(
    page: Page, shot: Shot
) -> None:
    sign_in(page, "henan")
    page.locator("main").get_by_role("link", name="地市报送情况").click()
    table = page.locator("#submissions-table")
    expect(table.locator("tbody tr")).to_have_count(19)  # 17 省辖市, 济源, 省直
    zhengzhou = table.locator('tr[data-region="410100"]')
    expect(zhengzhou).to_contain_text("郑州市")
    # The demo scenario filed Zhengzhou filings during 2026: the year shows them.
    page.get_by_label("统计期间").select_option("year")
    page.get_by_role("button", name="查看").click()
    expect(page.locator("#period-text")).to_contain_text("2026-01-01 — 2026-12-31")
    total_cell = zhengzhou.locator('td[data-col="8"]')
    assert int(total_cell.inner_text()) > 0
    shot(page, "province-submissions")
    with page.expect_download() as download:
        page.locator("#download-xlsx").click()
    assert download.value.suggested_filename == "submissions-410000-2026.xlsx"
    page.set_viewport_size({"width": 375, "height": 812})
    page.reload()
    expect(page.locator("#submissions-table")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    shot(page, "province-submissions-375")


def test_the_hunan_officer_reads_the_demo_batch_report(page: Page, shot: Shot) -> None:
    sign_in(page, "hunan")
    page.goto("/province/imports")
    link = page.get_by_role("link", name="衡阳市2016年异地安置人员报盘.csv")
    expect(link).to_be_visible()
    link.click()
    expect(page.locator("#report-title")).to_contain_text("衡阳市2016年异地安置人员报盘.csv")
    expect(page.locator('dd[data-count="total"]')).not_to_have_text("0")
    shot(page, "province-import-batch")
