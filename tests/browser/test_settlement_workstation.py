"""The cashier workstation in a real browser, at 1366 and 375 px: the card field focused on
load, a settlement done from the keyboard (card → department → diagnosis → HIS paste →
discharge → settle → amount tendered → receipt), the amount due large and first, the
print pages (receipt, 医疗保障基金结算清单, reversal slip), an injury refusal without the
green banner, the self-pay registration of a refused patient; labels and focus order.

(The file name sorts after test_settlement_path.py and test_money_pages.py, whose checks
of the demo's dashboards come before this settlement.)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from conftest import demo_server

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server of this module's own: its tests admit and settle the demo's 谢某某 at 博白, and
    must not depend on what the other modules' tests did to him on the shared server."""
    with demo_server(tmp_path_factory) as url:
        yield url


Shot = Callable[[Page, str], Path]
XIE_CARD = "A12345678"  # 谢某某: approved filing for 博白县人民医院 (demo story)
PENG_CARD = "N64010400001"  # 彭某某: filed for 衡阳, not for 博白
FEE_ROWS = [
    ("1", "001101000010000", "普通病房床位费（三人间）", "5", "45.00"),
    ("2", "XJ01DDA110B002010104371", "注射用头孢曲松钠", "10", "35.60"),
    ("3", "002302010010000", "X线计算机体层（CT）平扫", "1", "280.00"),
]

UNLABELLED = """() => [...document.querySelectorAll('main input, main select, main textarea')]
  .filter(e => e.type !== 'hidden')
  .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
  .map(e => e.name || e.id)"""


def _page(chromium: Browser, base_url: str, width: int) -> Page:
    context = chromium.new_context(
        base_url=base_url, locale="zh-CN", viewport={"width": width, "height": 900}
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto("/signin")
    page.get_by_label("用户名").fill("bobai")
    page.get_by_label("密码").fill("bobai-demo-2017")
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()
    return page


def _focused(page: Page) -> str:
    return str(page.evaluate("document.activeElement && document.activeElement.id"))


def _no_sideways_scroll(page: Page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_a_settlement_done_from_the_keyboard_with_its_print_pages(
    chromium: Browser, base_url: str, shot: Shot
) -> None:
    page = _page(chromium, base_url, 1366)
    page.goto("/hospital/check")
    assert _focused(page) == "card"
    assert page.evaluate(UNLABELLED) == []
    expect(page.locator("#shortcut-legend")).to_contain_text("Alt")
    nav = page.locator(".main-nav").bounding_box()
    assert nav is not None and nav["height"] <= 100
    page.keyboard.press("Tab")  # focus order: card, then its hint-free submit button
    assert page.evaluate("document.activeElement.textContent.trim()") == "查询"
    page.locator("#card").focus()
    shot(page, "cashier-ws-check-1366")
    page.keyboard.type(XIE_CARD)
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    expect(page.locator("[data-verdict]")).to_have_attribute("data-verdict", "direct")
    expect(page.locator("#patient-banner")).to_contain_text("谢某某")
    expect(page.locator("#banner-id")).to_have_text(re.compile(r"\*{8}"))
    assert _focused(page) == "department"
    assert page.evaluate(UNLABELLED) == []
    page.keyboard.press("ArrowDown")  # the first department in the list
    chosen = page.locator("#department").input_value()
    assert chosen
    page.locator("#diagnosis_main").focus()
    page.keyboard.type("K80.100 胆囊结石伴有其他胆囊炎")
    admitted_at = page.locator("#admitted_at").input_value().replace("T", " ")
    page.keyboard.press("Enter")
    expect(page.locator("#done")).to_have_text("已办理入院")
    expect(page.locator("#patient-banner")).to_contain_text("谢某某")
    encounter_url = page.url.split("?")[0]

    # The fee lines pasted from the HIS, tab-separated; the textarea is focused.
    assert _focused(page) == "fee_text"
    paste = "\n".join(
        "\t".join([serial, code, name, qty, price, "", admitted_at])
        for serial, code, name, qty, price in FEE_ROWS
    )
    page.keyboard.insert_text(paste + "\n4\tXA11GAV001A001010100010\t维生素C\ttwo\t25.00\t\tsoon")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator("#fee-problems")).to_contain_text("第 4 行")
    expect(page.locator("#no-fees")).to_be_visible()  # nothing saved
    page.locator("#fee_text").fill(paste)
    page.locator("#fee_text").focus()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator("#upload-done")).to_contain_text("已上传 3 条")
    page.goto(encounter_url)
    assert _focused(page) == "discharged_at"
    page.keyboard.press("Enter")
    expect(page.locator("#done")).to_have_text("已办理出院")
    assert _focused(page) == "total_charges"
    page.keyboard.press("Enter")
    expect(page.locator("#done")).to_have_text("结算成功")

    # The amount due: first and large; the other amounts grouped below.
    due_text = page.locator("#settlement-due-value").inner_text()
    due = Decimal(due_text)
    due_box = page.locator("#settlement-due").bounding_box()
    total_box = page.locator("#settlement-amounts [data-amount='total_charges']").bounding_box()
    assert due_box is not None and total_box is not None and due_box["y"] < total_box["y"]
    big = page.evaluate(
        "parseFloat(getComputedStyle(document.querySelector('#settlement-due-value')).fontSize)"
    )
    small = page.evaluate(
        "parseFloat(getComputedStyle(document.querySelector(\"#settlement-amounts [data-amount='total_charges']\")).fontSize)"
    )
    assert big >= 2 * small
    assert _focused(page) == "tendered"
    assert page.evaluate(UNLABELLED) == []
    shot(page, "cashier-ws-settled-1366")
    tendered = due + Decimal("20")
    page.keyboard.type(f"{tendered:.2f}")
    page.keyboard.press("Enter")
    expect(page.locator("#receipt-change")).to_have_text("20.00")
    expect(page.locator("#receipt-method")).to_have_text("现金")
    page.emulate_media(media="print")
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.locator("#print-button")).to_be_hidden()
    shot(page, "cashier-ws-receipt-print")
    page.emulate_media(media="screen")
    page.go_back()
    page.locator("#settlement-list-link").click()
    expect(page.locator("h1")).to_have_text("医疗保障基金结算清单")
    expect(page.locator("#slist-id")).to_have_text(re.compile(r"\*{8}"))
    page.emulate_media(media="print")
    shot(page, "cashier-ws-settlement-list-print")
    page.emulate_media(media="screen")
    page.go_back()

    # Reversal from the keyboard: tick, submit, then the slip link is focused.
    page.get_by_label(re.compile("确认撤销这笔结算")).focus()
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator("#done")).to_have_text("结算已撤销")
    assert _focused(page) == "reversal-slip-link"
    page.keyboard.press("Enter")
    expect(page.locator("#slip-refund")).to_contain_text(f"{due:.2f}")
    page.emulate_media(media="print")
    shot(page, "cashier-ws-reversal-slip-print")
    page.context.close()


def test_an_injury_refusal_shows_no_green_banner_and_a_refused_patient_is_self_pay(
    chromium: Browser, base_url: str, shot: Shot
) -> None:
    page = _page(chromium, base_url, 1366)
    page.goto("/hospital/check")
    # the card field takes the focus on load; type only once it has it
    expect(page.locator("#card")).to_be_focused()
    page.keyboard.type(XIE_CARD)
    page.keyboard.press("Enter")
    page.locator("#department").select_option(index=1)
    page.locator("#diagnosis_main").fill("S72.000 股骨颈骨折")
    page.locator("#accidental_injury").check()
    page.get_by_role("button", name="办理入院").click()
    expect(page.locator("[data-verdict='not_direct']")).to_be_visible()
    expect(page.locator("[data-verdict='direct']")).to_have_count(0)
    expect(page.locator(".verdict-direct")).to_have_count(0)
    # 2026: the 2022 rules settle an injury directly only with the no-third-party promise
    expect(page.locator("#refusal")).to_contain_text("外伤")
    expect(page.locator("#self-pay-form")).to_be_visible()
    shot(page, "cashier-ws-injury-refusal")

    page.goto("/hospital/check")
    expect(page.locator("#card")).to_be_focused()
    page.keyboard.type(PENG_CARD)
    page.keyboard.press("Enter")
    expect(page.locator("#refusal")).to_be_visible()
    expect(page.locator("#admit-form")).to_have_count(0)
    page.get_by_role("button", name="登记为自费就医并打印告知单").click()
    expect(page.locator("#done")).to_contain_text("已登记为自费就医")
    expect(page.locator("#patient-banner")).to_contain_text("彭某某")
    expect(page.locator("#banner-filing")).to_have_attribute("data-filing", "unfiled")
    page.emulate_media(media="print")
    shot(page, "cashier-ws-self-pay-print")
    page.context.close()


def test_the_workstation_on_a_phone(chromium: Browser, base_url: str, shot: Shot) -> None:
    page = _page(chromium, base_url, 375)
    page.goto("/hospital/check")
    assert _focused(page) == "card"
    _no_sideways_scroll(page, 375)
    page.keyboard.type(XIE_CARD)
    page.keyboard.press("Enter")
    expect(page.locator("#patient-banner")).to_be_visible()
    _no_sideways_scroll(page, 375)
    shot(page, "cashier-ws-check-375")
    page.goto("/hospital/encounters?state=settled")
    page.locator("#encounter-table a").first.click()  # the demo story's settled stay
    expect(page.locator("#patient-banner")).to_be_visible()
    expect(page.locator("#settlement-due-value")).to_be_visible()
    _no_sideways_scroll(page, 375)
    shot(page, "cashier-ws-encounter-375")
    page.context.close()
