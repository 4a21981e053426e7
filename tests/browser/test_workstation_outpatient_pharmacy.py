"""The outpatient cashier and the pharmacy till in a real browser, at 1366 and 375 px, on the
shared demo server: a general visit of the demo's 谢某某 at 博白县人民医院 from the keyboard
(card → register → HIS paste → pre-settle → settle → amount tendered → receipt) and a sale at 博白县某大药房
(card → drug lines → pre-settle → settle → receipt); the amount due first and large, nothing
wider than the screen, every control labelled; a pharmacy refused the hospital's pages.

(The file name sorts last: the dashboards other modules check are read before these
settlements are added.)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from yidi.kernel.clock import CHINA_TZ

pytestmark = pytest.mark.browser

Shot = Callable[[Page, str], Path]
XIE_CARD = "A12345678"  # 谢某某: approved filing for 博白 (demo story)
VISIT_ROWS = [
    ("1", "002501000010000", "血细胞分析（血常规）", "1", "20.00"),
    ("2", "002301000010000", "常规心电图检查", "2", "25.00"),
    ("3", "XC08CAA010A001010100009", "苯磺酸氨氯地平片", "28", "1.20"),
]
DRUG_ROWS = [
    ("YD1", "XC08CAA010A001010100009", "苯磺酸氨氯地平片", "28", "1.20"),
    ("YD2", "XA11GAV001A001010100010", "维生素C泡腾片", "2", "25.00"),
]
UNLABELLED = """() => [...document.querySelectorAll('main input, main select, main textarea')]
  .filter(e => e.type !== 'hidden')
  .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
  .map(e => e.name || e.id)"""


def _page(chromium: Browser, base_url: str, width: int, username: str) -> Page:
    context = chromium.new_context(
        base_url=base_url, locale="zh-CN", viewport={"width": width, "height": 900}
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto("/signin")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(f"{username}-demo-2017")
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()
    return page


def _paste(rows: list[tuple[str, str, str, str, str]], when: str) -> str:
    return "\n".join("\t".join([s, code, name, q, p, "", when]) for s, code, name, q, p in rows)


def _due_is_first_and_large(page: Page, width: int) -> Decimal:
    due = Decimal(page.locator("#settlement-due-value").inner_text())
    due_box = page.locator("#settlement-due").bounding_box()
    total = page.locator("#settlement-amounts [data-amount='total_charges']")
    total_box = total.bounding_box()
    assert due_box is not None and total_box is not None and due_box["y"] < total_box["y"]
    sizes = page.evaluate(
        """() => [document.querySelector('#settlement-due-value'),
                  document.querySelector("#settlement-amounts [data-amount='total_charges']")]
                 .map(e => parseFloat(getComputedStyle(e).fontSize))"""
    )
    assert sizes[0] >= 2 * sizes[1]
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    return due


def _pay_and_print(page: Page, due: Decimal) -> None:
    expect(page.locator("#tendered")).to_be_focused()
    page.keyboard.type(f"{due + Decimal('10'):.2f}")
    page.keyboard.press("Enter")
    expect(page.locator("#receipt-change")).to_have_text("10.00")
    expect(page.locator("#print-button")).to_be_focused()


@pytest.mark.parametrize("width", [1366, 375])
def test_a_general_outpatient_visit_from_the_keyboard(
    chromium: Browser, base_url: str, shot: Shot, width: int
) -> None:
    page = _page(chromium, base_url, width, "bobai")
    page.goto("/hospital/visits/new")
    expect(page.locator("#card")).to_be_focused()
    assert page.evaluate(UNLABELLED) == []
    page.keyboard.type(XIE_CARD)
    page.keyboard.press("Enter")
    expect(page.locator("[data-verdict]")).to_have_attribute("data-verdict", "direct")
    expect(page.locator("#patient-banner")).to_contain_text("谢某某")
    assert page.evaluate(UNLABELLED) == []
    shot(page, f"outpatient-check-{width}")
    expect(page.locator("#register-submit")).to_be_focused()
    if page.locator("#kind-general").is_checked() is False:
        page.locator("#kind-general").check()  # 谢某某 may hold a recognition: a general visit
        page.locator("#register-submit").focus()
    when = page.locator("#registered_at").input_value().replace("T", " ")
    page.keyboard.press("Enter")
    expect(page.locator("#done")).to_have_text("已挂号，请录入费用明细")
    expect(page.locator("#visit-kind")).to_have_text("普通门诊（11）")
    expect(page.locator("#fee_text")).to_be_focused()
    page.keyboard.insert_text(_paste(VISIT_ROWS, when))
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator("#upload-done")).to_contain_text("已上传 3 条")
    expect(page.locator("#total_charges")).to_have_value("103.60")
    expect(page.locator("#total_charges")).to_be_focused()
    page.keyboard.press("Enter")  # the form's first button: the pre-settlement, nothing written
    expect(page.locator("#pre-settlement")).to_be_visible()
    expect(page.locator("#settle-submit")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#done")).to_have_text("结算成功")
    due = _due_is_first_and_large(page, width)
    paid = [
        Decimal(page.locator(f"#settlement-amounts [data-amount='{name}']").inner_text())
        for name in ("total_charges", "fund_paid_total", "personal_account_paid")
    ]
    assert due == paid[0] - paid[1] - paid[2]
    assert page.evaluate(UNLABELLED) == []
    shot(page, f"outpatient-settled-{width}")
    _pay_and_print(page, due)
    shot(page, f"outpatient-receipt-{width}")
    page.context.close()


@pytest.mark.parametrize("width", [1366, 375])
def test_a_pharmacy_sale_from_the_keyboard(
    chromium: Browser, base_url: str, shot: Shot, width: int
) -> None:
    page = _page(chromium, base_url, width, "bobaiyaofang")
    page.goto("/hospital/check")  # a pharmacy is refused the hospital's pages, with the code
    expect(page.locator("#refusal-code")).to_have_text("INSTITUTION_NOT_HOSPITAL")
    page.goto("/pharmacy/sale")
    expect(page.locator("#card")).to_be_focused()
    assert page.evaluate(UNLABELLED) == []
    page.keyboard.type(XIE_CARD)
    when = dt.datetime.now(CHINA_TZ).strftime("%Y-%m-%d 08:00")
    page.locator("#fee_text").focus()
    page.keyboard.insert_text(_paste(DRUG_ROWS, when))
    page.locator("#prescriptions").focus()
    page.keyboard.type("RX450923000001")
    page.keyboard.press("Enter")  # the form's first button: the pre-settlement
    expect(page.locator("#pre-settlement")).to_be_visible()
    expect(page.locator("#sale-total")).to_contain_text("83.60")
    expect(page.locator("#settle-submit")).to_be_focused()
    shot(page, f"pharmacy-pre-settled-{width}")
    page.keyboard.press("Enter")
    expect(page.locator("#done")).to_have_text("结算成功")
    expect(page.locator("#sale-prescriptions")).to_have_text("RX450923000001")
    due = _due_is_first_and_large(page, width)
    assert page.evaluate(UNLABELLED) == []
    shot(page, f"pharmacy-settled-{width}")
    _pay_and_print(page, due)
    shot(page, f"pharmacy-receipt-{width}")
    page.context.close()
