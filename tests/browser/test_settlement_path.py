"""The main path clicked through in a real browser: the insured person files online with a
scan → the agency approves → the cashier checks the card, admits, uploads fee lines,
pre-settles, discharges and settles → the printable statement → the province's statistics
show the settlement. Access: another hospital's cashier gets the not-found page, the insured
person cannot open another person's filing.

(The file name sorts after test_money_pages.py: that module checks the empty dashboard of
the same demo server before this one adds a settlement.)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from conftest import sign_in

pytestmark = pytest.mark.browser

Shot = Callable[[Page, str], Path]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
LAOXIE_CARD = "H43042100031"
# Items of the Guangxi sample catalogue (博白 is in 450000's catalogue region).
FEE_ROWS = [
    ("1", "001101000010000", "普通病房床位费（三人间）", "5", "45.00"),
    ("2", "XJ01DDA110B002010104371", "注射用头孢曲松钠", "10", "35.60"),
    ("3", "002302010010000", "X线计算机体层（CT）平扫", "1", "280.00"),
    ("4", "XA11GAV001A001010100010", "维生素C泡腾片", "2", "25.00"),
]


def _new_page(chromium: Browser, base_url: str, *, width: int = 1280) -> Page:
    context = chromium.new_context(
        base_url=base_url, locale="zh-CN", viewport={"width": width, "height": 900}
    )
    context.set_default_timeout(10_000)
    return context.new_page()


def _wizard_next(person: Page) -> None:
    with person.expect_navigation():
        person.locator("#wizard-next").click()


def _file_online(person: Page, shot: Shot) -> str:
    """xiedeming (谢德明) files through the wizard as a long-term resident of 博白 with his
    residence permit scanned."""
    person.get_by_role("link", name="在线办理备案").first.click()
    expect(person.locator("h1")).to_have_text("选择备案类型")
    person.get_by_label("异地长期居住人员", exact=True).check()
    _wizard_next(person)
    expect(person.locator(".region-picker.enhanced")).to_have_count(1)
    person.get_by_label("转往地区（省、市、县）").select_option(label="广西壮族自治区")
    person.get_by_label("市（州、盟）或直管区县").select_option(label="玉林市")
    person.get_by_label("县（市、区）").select_option(label="博白县")
    _wizard_next(person)
    expect(person.locator("h1")).to_have_text("填写联系方式和医院")
    person.get_by_label("异地联系地址").fill("广西壮族自治区博白县博白镇城南路6号")
    person.get_by_label("定点医疗机构1名称").fill("博白县人民医院")
    person.get_by_label("定点医疗机构1级别").select_option(label="二级医院")
    _wizard_next(person)
    expect(person.locator("h1")).to_have_text("证明材料或承诺")
    person.get_by_label("上传证明材料").check()
    person.get_by_label("材料", exact=True).select_option(label="居住证")
    evidence = person.locator("#evidence-part")
    evidence.get_by_label("出具单位所在地").select_option(label="广西壮族自治区")
    evidence.get_by_label("市（州、盟）或直管区县").select_option(label="玉林市")
    evidence.get_by_label("县（市、区）").select_option(label="博白县")
    person.get_by_label("出具单位", exact=True).fill("博白县公安局")
    person.get_by_label("扫描件").set_input_files(
        {"name": "permit.png", "mimeType": "image/png", "buffer": PNG}
    )
    wide = person.evaluate(
        "[...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right > 376).map(e => e.tagName + '#' + e.id).slice(0, 5)"
    )
    assert person.evaluate("document.documentElement.scrollWidth") <= 375, wide
    shot(person, "insured-filing-form")
    _wizard_next(person)
    expect(person.locator("h1")).to_have_text("核对并提交")
    _wizard_next(person)
    person.wait_for_url("**/filings/*?done=submit")
    expect(person.locator("[data-state]").first).to_have_attribute("data-state", "submitted")
    match = re.search(r"/filings/([0-9a-f]+)", person.url)
    assert match
    return match.group(1)


def test_file_approve_admit_upload_settle_statement_statistics(
    chromium: Browser, base_url: str, shot: Shot
) -> None:
    person = _new_page(chromium, base_url, width=375)
    sign_in(person, "xiedeming")
    filing_id = _file_online(person, shot)

    agency = _new_page(chromium, base_url)
    sign_in(agency, "hengyang")
    agency.goto(f"/filings/{filing_id}")
    agency.get_by_label("我已核对备案信息和证明材料，确认审核通过").check()
    agency.get_by_role("button", name="审核通过（备案）").click()
    expect(agency.locator("#done")).to_contain_text("已审核通过")
    agency.context.close()

    cashier = _new_page(chromium, base_url)
    sign_in(cashier, "bobai")
    cashier.get_by_role("link", name="入院登记（身份与备案校验）").first.click()
    cashier.get_by_label("社会保障卡号").fill(LAOXIE_CARD)
    cashier.get_by_role("button", name="查询").click()
    expect(cashier.locator("[data-verdict]")).to_have_attribute("data-verdict", "direct")
    expect(cashier.locator("#person-id")).to_have_text("430421********0315")
    shot(cashier, "cashier-admission-check")
    admitted_at = cashier.get_by_label("入院时间").input_value()
    cashier.get_by_label("科室", exact=True).select_option("A04.01")  # 普通外科专业, by name
    cashier.get_by_label("主要诊断").fill("K80.100 胆囊结石伴有其他胆囊炎")
    cashier.get_by_role("button", name="办理入院").click()
    expect(cashier.locator("#done")).to_have_text("已办理入院")
    encounter_url = cashier.url.split("?")[0]

    when = admitted_at.replace("T", " ")
    cashier.get_by_label("费用明细（CSV）").fill(
        "\n".join(
            f"{serial},{code},{name},{qty},{price},,{when}"
            for serial, code, name, qty, price in FEE_ROWS
        )
    )
    cashier.get_by_role("button", name="上传费用明细").click()
    expect(cashier.locator("#upload-done")).to_contain_text("已上传 4 条")
    expect(cashier.locator("#fee-total")).to_have_text("911.00")
    # A line keyed twice by mistake is uploaded, then cancelled before settlement (2302).
    cashier.get_by_label("费用明细（CSV）").fill(
        f"5,002302010010000,X线计算机体层（CT）平扫,1,280.00,,{when}"
    )
    cashier.get_by_role("button", name="上传费用明细").click()
    expect(cashier.locator("#fee-total")).to_have_text("1191.00")
    cashier.get_by_role("button", name="撤销勾选的明细").click()  # nothing ticked yet
    expect(cashier.locator("#fee_cancel-error")).to_have_text("请先勾选要撤销的费用明细")
    cashier.get_by_label("选择流水号 5").check()
    cashier.get_by_role("button", name="撤销勾选的明细").click()  # not confirmed yet
    expect(cashier.locator("#fee_cancel_confirm-error")).to_have_text("请勾选确认后再撤销")
    expect(cashier.get_by_label("选择流水号 5")).to_be_checked()
    cashier.get_by_label("我已核对，确认撤销这些费用明细").check()
    shot(cashier, "cashier-fee-cancel-confirm")
    cashier.get_by_role("button", name="撤销勾选的明细").click()
    expect(cashier.locator("#done")).to_have_text("已撤销所选费用明细")
    expect(cashier.locator("#fee-total")).to_have_text("911.00")
    expect(cashier.locator("#fee-table tr[data-serial='5']")).to_have_class("cancelled")
    shot(cashier, "cashier-fee-cancelled")
    cashier.get_by_role("button", name="预结算（不提交）").click()
    expect(cashier.locator("#preview-steps li").first).to_be_visible()
    shot(cashier, "cashier-pre-settlement")
    cashier.get_by_role("button", name="办理出院").click()
    expect(cashier.locator("#done")).to_have_text("已办理出院")
    cashier.get_by_role("button", name="确认结算").click()
    expect(cashier.locator("#done")).to_have_text("结算成功")
    expect(cashier.locator("[data-amount='total_charges']").first).to_have_text("911.00")
    expect(cashier.locator("#settlement-lines")).to_contain_text("维生素C泡腾片")
    shot(cashier, "cashier-settlement")
    cashier.get_by_role("link", name="打印结算说明（患者留存）").click()
    expect(cashier.locator("#policy-version")).not_to_be_empty()
    expect(cashier.locator("#catalog-version")).not_to_be_empty()
    cashier.emulate_media(media="print")
    expect(cashier.locator(".site-header")).to_be_hidden()
    shot(cashier, "cashier-statement-print")
    cashier.context.close()

    other = _new_page(chromium, base_url)
    sign_in(other, "nhfy1")
    response = other.goto(encounter_url)
    assert response is not None and response.status == 404
    expect(other.locator("h1")).to_have_text("页面不存在")
    other.context.close()

    province = _new_page(chromium, base_url)
    sign_in(province, "hunan")
    province.get_by_role("link", name="异地就医统计").first.click()
    expect(province.locator("#no-data")).to_have_count(0)
    expect(province.locator("#sentence")).to_be_visible()
    expect(province.locator("main")).to_contain_text("广西")
    shot(province, "statistics-with-settlement")
    province.context.close()

    # The insured person's own list, and nobody else's filing.
    person.goto("/me/filings")
    expect(person.locator("#filing-table [data-state='approved']").first).to_be_visible()
    response = person.goto("/filings/0123456789abcdef0123456789abcdef")
    assert response is not None and response.status == 404
    person.context.close()
