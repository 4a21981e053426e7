"""The step-by-step filing in Chromium at 1366 and 375 px: 谢德明 files as a long-term resident
(a 2022-model type) once on a personal promise and once with his residence permit; a faulty
step puts the focus on the error summary, whose links lead to the fields; the destination
cascades in the page without a round trip; every control is labelled. Each run cancels its
filing at the end, as the person could, so the next run may file the same type again."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

pytestmark = pytest.mark.browser

Shot = Callable[[Page, str], Path]

PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1366, "height": 768}
VIEWPORTS = [
    pytest.param(PHONE, "phone", id="phone"),
    pytest.param(DESKTOP, "desktop", id="desktop"),
]
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

UNLABELLED = """() => Array.from(document.querySelectorAll('input, select, textarea'))
  .filter(c => c.type !== 'hidden' && c.type !== 'submit' && c.type !== 'button')
  .filter(c => c.offsetParent !== null)
  .filter(c => !(c.labels && c.labels.length) && !c.getAttribute('aria-label')
               && !c.getAttribute('aria-labelledby'))
  .map(c => c.outerHTML.slice(0, 120))"""
# The elements that stick out to the right of the screen (none when the page fits).
WIDER_THAN_SCREEN = """() => Array.from(document.querySelectorAll('main *'))
  .filter(e => e.offsetParent !== null && e.getBoundingClientRect().right > window.innerWidth + 1)
  .map(e => e.tagName + '#' + e.id + '.' + e.className)"""


def _sign_in(page: Page) -> None:
    page.goto("/signin")
    page.locator("#username").fill("xiedeming")
    page.locator("#password").fill("xiedeming-demo-2017")
    page.locator("form.stack button[type=submit]").click()
    page.wait_for_url("**/me")


def _accessible(page: Page) -> None:
    assert page.evaluate(UNLABELLED) == [], "every visible control has a label"
    assert page.evaluate(WIDER_THAN_SCREEN) == [], "the step fits the screen"


def _next(page: Page) -> None:
    """Post the step and wait for the next page (not the current one's load state)."""
    with page.expect_navigation():
        page.locator("#wizard-next").click()


def _type_and_destination(page: Page, shot: Shot, label: str) -> None:
    page.goto("/me/filings/wizard")
    expect(page.locator("h1")).to_have_text("选择备案类型")
    expect(page.locator("#wizard-progress")).to_have_text("第 1 步，共 5 步")
    _accessible(page)
    page.get_by_label("异地长期居住人员", exact=True).check()
    shot(page, f"wizard-1-type-{label}")
    _next(page)
    expect(page.locator("h1")).to_have_text("选择转往地区")
    url = page.url
    expect(page.locator(".region-picker.enhanced")).to_have_count(1)  # the selects are in
    province = page.get_by_label("转往地区（省、市、县）")
    expect(province).to_be_visible()
    province.select_option(label="广西壮族自治区")
    page.get_by_label("市（州、盟）或直管区县").select_option(label="玉林市")
    page.get_by_label("县（市、区）").select_option(label="博白县")
    assert page.url == url  # the lower lists filled in the page, no round trip
    assert page.locator("input[name=destination]").input_value() == "450923"
    _accessible(page)
    shot(page, f"wizard-2-destination-{label}")
    _next(page)
    expect(page.locator("h1")).to_have_text("填写联系方式和医院")
    expect(page.locator("#admitted_on")).to_have_count(0)  # not an emergency
    expect(page.get_by_label("手机", exact=True)).to_have_value("13807340315")  # the register's
    page.get_by_label("异地联系地址").fill("广西壮族自治区博白县博白镇城南路6号")
    page.get_by_label("定点医疗机构1名称").fill("博白县人民医院")
    page.get_by_label("定点医疗机构1级别").select_option(label="二级医院")
    _accessible(page)
    shot(page, f"wizard-3-details-{label}")
    _next(page)
    expect(page.locator("h1")).to_have_text("证明材料或承诺")


def _submit_and_cancel(page: Page, shot: Shot, label: str, name: str) -> None:
    expect(page.locator("h1")).to_have_text("核对并提交")
    expect(page.locator("#review-destination")).to_contain_text("广西壮族自治区玉林市博白县")
    _accessible(page)
    shot(page, f"wizard-5-review-{name}-{label}")
    with page.expect_navigation():
        page.locator("#wizard-next").click()
    page.wait_for_url("**/filings/*?done=submit")
    expect(page.locator("[data-state]").first).to_have_attribute("data-state", "submitted")
    filing_id = page.url.split("/filings/")[1].split("?")[0]
    page.goto("/me")
    row = page.locator(f'#my-deadlines tr[data-filing="{filing_id}"]')
    expect(row.locator("[data-state]")).to_have_attribute("data-state", "submitted")
    expect(row.locator('[data-deadline="review"]')).to_be_visible()  # the agency's review day
    shot(page, f"wizard-desk-{name}-{label}")
    row.get_by_role("link", name="异地长期居住人员").click()
    page.get_by_label("撤销原因").fill("测试后撤销")
    page.locator("#cancel-confirm").check()
    page.locator("#cancel-form button[type=submit]").click()
    page.wait_for_url("**?done=cancel")


@pytest.mark.parametrize(("viewport", "label"), VIEWPORTS)
def test_a_long_term_resident_files_on_a_personal_promise(
    page: Page, shot: Shot, viewport: dict[str, int], label: str
) -> None:
    page.set_viewport_size(viewport)  # type: ignore[arg-type]
    _sign_in(page)
    _type_and_destination(page, shot, label)
    # without a choice: the summary takes the focus and its link leads to the choice
    _next(page)
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    assert page.title().startswith("错误：")
    page.keyboard.press("Tab")
    expect(summary.get_by_role("link").first).to_be_focused()  # the summary's link is next
    shot(page, f"wizard-4-error-{label}")
    summary.get_by_role("link").first.click()
    expect(page.locator("#proof_path-evidence")).to_be_focused()
    page.get_by_label("签署个人承诺书（告知承诺制），以后补齐材料").check()
    expect(page.locator("#evidence-part")).to_be_hidden()  # only the chosen way is shown
    expect(page.locator("#promise-text")).to_contain_text("谢德明")
    page.get_by_label("我已阅读并签署以上承诺").check()
    _accessible(page)
    shot(page, f"wizard-4-promise-{label}")
    _next(page)
    expect(page.locator("#review-promise")).to_be_visible()
    _submit_and_cancel(page, shot, label, "promise")


@pytest.mark.parametrize(("viewport", "label"), VIEWPORTS)
def test_a_long_term_resident_files_with_the_residence_permit(
    page: Page, shot: Shot, viewport: dict[str, int], label: str
) -> None:
    page.set_viewport_size(viewport)  # type: ignore[arg-type]
    _sign_in(page)
    _type_and_destination(page, shot, label)
    page.get_by_label("上传证明材料").check()
    expect(page.locator("#promise-part")).to_be_hidden()
    page.get_by_label("材料", exact=True).select_option(label="居住证")
    # no scan and no issuer's place: both in the summary, which has the focus
    _next(page)
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link")).to_have_count(2)
    shot(page, f"wizard-4-evidence-error-{label}")
    expect(page.locator(".region-picker.enhanced")).to_have_count(1)
    summary.get_by_role("link", name="请选择出具单位所在地").click()
    place = page.get_by_label("出具单位所在地")
    expect(place).to_be_focused()  # the first region select, which replaced the box
    place.select_option(label="广西壮族自治区")
    page.locator("#evidence-part").get_by_label("市（州、盟）或直管区县").select_option(
        label="玉林市"
    )
    page.locator("#evidence-part").get_by_label("县（市、区）").select_option(label="博白县")
    page.get_by_label("出具单位", exact=True).fill("博白县公安局")
    page.get_by_label("扫描件").set_input_files(
        {"name": "residence-permit.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    _accessible(page)
    _next(page)
    expect(page.locator("#review-documents")).to_contain_text("residence-permit.pdf")
    expect(page.locator("#review-missing")).to_have_count(0)  # the permit meets the rule
    _submit_and_cancel(page, shot, label, "evidence")


def test_without_script_the_steps_work_with_the_destination_typed_by_name(
    chromium: Browser, base_url: str, shot: Shot
) -> None:
    context = chromium.new_context(
        base_url=base_url,
        locale="zh-CN",
        viewport=PHONE,
        java_script_enabled=False,  # type: ignore[arg-type]
    )
    try:
        page = context.new_page()
        _sign_in(page)
        page.goto("/me/filings/wizard")
        page.get_by_label("其他临时外出就医人员", exact=True).check()
        _next(page)
        box = page.get_by_label("转往地区（省、市、县）")
        expect(box).to_have_attribute("list", "region-names")  # a text box with names offered
        box.fill("朝阳区")  # two places share the name: refused with both listed
        _next(page)
        expect(page.locator("#error-summary")).to_contain_text("北京市朝阳区")
        expect(page.locator("#destination-error")).to_be_visible()
        _accessible(page)
        shot(page, "wizard-2-destination-no-script-phone")
        page.get_by_label("转往地区（省、市、县）").fill("博白县")
        _next(page)
        expect(page.locator("h1")).to_have_text("填写联系方式和医院")
        with page.expect_navigation():
            page.locator("#wizard-back").click()
        expect(page.get_by_label("转往地区（省、市、县）")).to_have_value(
            "广西壮族自治区玉林市博白县"
        )
    finally:
        context.close()
