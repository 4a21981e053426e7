"""The agency reviewer's tools in a real browser at 1366 and 375 px: the queue (assign to me,
sort by a column, the export links), the review page (scan preview, the approve confirmation),
and the confirmation before a clearing month is closed. Screenshots are saved by the run."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from conftest import sign_in
from filing_support import HENGYANG, household_registration, record
from yidi.bootstrap import build_container
from yidi.filing.commands import FilingService
from yidi.filing.model.record import FilingRecord
from yidi.kernel.identity import Gender, make_resident_id
from yidi.settings import Settings

pytestmark = pytest.mark.browser

Shot = Callable[[Page, str], Path]
WIDTHS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 375, "height": 812}}
NAMES = {"desktop": "欧阳甲", "phone": "欧阳乙"}


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (240, 160), (40, 90, 160)).save(out, format="PNG")
    return out.getvalue()


def _record(name: str, serial: int) -> FilingRecord:
    number = make_resident_id("430421", dt.date(1951, 2, serial), 21, Gender.MALE).number
    return record(name=name, social_security_number=number, filled_on=dt.date.today())


@pytest.fixture(scope="module")
def queued(server_database_url: str) -> Iterator[dict[str, str]]:
    """Two filings awaiting review in the demo server's 衡阳 queue, each with a scanned
    household register (a PNG image), added through the filing use cases."""
    container = build_container(Settings(database_url=server_database_url, demo_mode=True))
    service = FilingService(container.uow, container.clock)
    household = household_registration()
    ids = {}
    for serial, (width, name) in enumerate(NAMES.items(), start=3):
        draft = service.create_draft(HENGYANG, _record(name, serial), evidence=[household])
        service.add_evidence(
            HENGYANG, draft.filing_id, household, content=_png(), filename="户口簿"
        )
        service.submit(HENGYANG, draft.filing_id)
        ids[width] = draft.filing_id
    yield ids
    container.engine.dispose()


def _fits(page: Page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_the_reviewer_takes_a_filing_from_the_queue_and_sorts_it(
    chromium: Browser, base_url: str, queued: dict[str, str], shot: Shot, size: str
) -> None:
    viewport = WIDTHS[size]
    page = chromium.new_context(base_url=base_url, locale="zh-CN", viewport=viewport).new_page()
    sign_in(page, "hengyang")
    page.goto("/filings?q=欧阳")
    row = page.locator(f"#filing-table tr[data-filing='{queued[size]}']")
    expect(row.locator(".assignee")).to_contain_text("未分配审核人")
    expect(row.locator(".submitted-at time")).to_have_count(1)
    row.get_by_role("button", name="分配给我").click()
    expect(page.locator("#assigned")).to_have_text("审核人已更新。")
    row = page.locator(f"#filing-table tr[data-filing='{queued[size]}']")
    expect(row.locator(".assignee")).to_have_attribute("data-assignee", "hengyang")
    if size == "desktop":  # sort the whole list by a column heading
        page.locator("#filing-table th a[data-sort='name']").click()
    else:  # phones show cards without headings: the form's sort choice
        page.get_by_label("排序").select_option("name")
        page.get_by_role("button", name="查询").click()
    expect(page.locator("th[aria-sort='ascending']")).to_contain_text("姓名")
    expect(page.locator("#export-csv")).to_be_visible()
    mine = page.goto("/filings?assignee=mine")
    assert mine is not None and mine.status == 200
    expect(page.locator(f"#filing-table tr[data-filing='{queued[size]}']")).to_have_count(1)
    if size == "desktop":
        height = page.locator(".site-header").evaluate("e => e.getBoundingClientRect().height")
        assert height <= 100, height
    _fits(page, viewport["width"])
    shot(page, f"review-queue-{size}")
    page.context.close()


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_the_review_page_previews_the_scan_and_approves_only_when_confirmed(
    chromium: Browser, base_url: str, queued: dict[str, str], shot: Shot, size: str
) -> None:
    viewport = WIDTHS[size]
    page = chromium.new_context(base_url=base_url, locale="zh-CN", viewport=viewport).new_page()
    sign_in(page, "hengyang")
    page.goto(f"/filings/{queued[size]}")
    preview = page.locator("#scan-previews img")
    expect(preview).to_have_count(1)
    preview.scroll_into_view_if_needed()
    assert preview.evaluate("img => img.complete && img.naturalWidth") == 240  # shown in the page
    expect(preview).to_have_attribute("alt", "材料 户口簿 的预览")
    page.get_by_role("button", name="审核通过（备案）").click()  # not ticked: asked to confirm
    expect(page.locator("#approve-confirm-error")).to_have_text("请先勾选确认")
    expect(page.locator("h1 [data-state]")).to_have_attribute("data-state", "submitted")
    _fits(page, viewport["width"])
    shot(page, f"review-approve-confirm-{size}")
    page.get_by_label("我已核对备案信息和证明材料，确认审核通过").check()
    page.get_by_role("button", name="审核通过（备案）").click()
    expect(page.locator("#done")).to_contain_text("已审核通过")
    expect(page.locator("h1 [data-state]")).to_have_attribute("data-state", "approved")
    page.context.close()


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_closing_a_clearing_month_asks_for_a_confirmation(
    chromium: Browser, base_url: str, shot: Shot, size: str
) -> None:
    viewport = WIDTHS[size]
    page = chromium.new_context(base_url=base_url, locale="zh-CN", viewport=viewport).new_page()
    sign_in(page, "clearing")
    page.goto("/funds/clearing?month=2017-08")
    page.get_by_label("同时关闭本月清算（关闭后不再重算）").check()
    page.get_by_role("button", name="运行2017-08清算").click()
    expect(page.locator("#confirm_close-error")).to_have_text("关闭本月清算前请勾选确认")
    expect(page.get_by_label("同时关闭本月清算（关闭后不再重算）")).to_be_checked()
    expect(page.locator("[data-status='closed']")).to_have_count(0)
    _fits(page, viewport["width"])
    shot(page, f"clearing-close-confirm-{size}")
    page.context.close()
