"""The pages in a real browser: sign-in per role, errors, the guided check, filters, phones."""

from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from conftest import sign_in

pytestmark = pytest.mark.browser

Shot = Callable[[Page, str], Path]

DEMO_DESKS = [
    ("admin", "admin-demo-2017", "/admin", "administrator"),
    ("hengyang", "hengyang-demo-2017", "/agency", "agency_handler"),
    ("henan", "henan-demo-2017", "/province", "province_officer"),
    ("nhfy1", "nhfy1-demo-2017", "/hospital", "hospital_cashier"),
    ("clearing", "clearing-demo-2017", "/clearing", "clearing_officer"),
]


def _answer_check(page: Page, category: str, care: str, accident: str, filed: str) -> None:
    page.goto("/check")
    page.get_by_role("radio", name=category, exact=True).check()
    page.get_by_role("radio", name=care, exact=True).check()
    page.locator("#q-accident").get_by_role("radio", name=accident, exact=True).check()
    page.locator("#q-filed").get_by_role("radio", name=filed, exact=True).check()
    page.get_by_role("button", name="查看结果").click()
    page.wait_for_url(re.compile(r"/check\?"))


@pytest.mark.parametrize(("username", "password", "desk", "role"), DEMO_DESKS)
def test_each_demo_role_signs_in_and_lands_on_its_desk(
    page: Page, shot: Shot, username: str, password: str, desk: str, role: str
) -> None:
    sign_in(page, username, password)
    page.wait_for_url(f"**{desk}")
    expect(page.locator(f'[data-role="{role}"]')).to_be_visible()
    expect(page.get_by_role("button", name="退出登录")).to_be_visible()
    shot(page, f"desk-{role}")


def test_the_sign_in_form_works_from_the_keyboard_alone(page: Page) -> None:
    page.goto("/signin")
    expect(page.locator("#username")).to_be_focused()  # autofocus
    page.keyboard.type("hengyang")
    page.keyboard.press("Tab")
    expect(page.locator("#password")).to_be_focused()
    page.keyboard.type("hengyang-demo-2017")
    page.keyboard.press("Enter")
    page.wait_for_url("**/agency")
    expect(page.locator("h1")).to_have_text("工作台")


def test_wrong_password_shows_the_chinese_error_next_to_the_password_field(
    page: Page, shot: Shot
) -> None:
    page.goto("/signin")
    shot(page, "signin")
    page.get_by_label("用户名").fill("henan")
    page.get_by_label("密码").fill("not-the-password")
    page.get_by_role("button", name="登录").click()
    error = page.locator(".field:has(#password) .field-error")
    expect(error).to_have_text("用户名或密码错误")
    expect(page.locator("#password")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("用户名")).to_have_value(
        "henan"
    )  # kept, so only the password is retyped
    shot(page, "signin-wrong-password")


def test_repeated_failures_hold_back_this_address_with_a_chinese_message(page: Page) -> None:
    for _ in range(5):
        sign_in(page, "zhengzhou", "wrong-password")
    sign_in(page, "zhengzhou", "zhengzhou-demo-2017")
    error = page.locator("#password-error")
    expect(error).to_contain_text("此账户在此地址登录失败次数过多")
    expect(error).to_have_attribute("data-code", "LOGIN_DELAYED")
    assert page.url.endswith("/signin")


def test_the_language_switch_turns_the_pages_english_and_stays(page: Page) -> None:
    page.goto("/check")
    expect(page.locator("h1")).to_have_text("能否直接结算？")
    page.get_by_role("link", name="English").click()
    expect(page.locator("h1")).to_have_text("Can I settle directly?")
    assert page.locator("html").get_attribute("lang") == "en"
    page.get_by_role("link", name="Connected hospitals").click()
    expect(page.locator("h1")).to_have_text("Hospitals connected for direct settlement")
    page.get_by_role("link", name="中文").click()
    expect(page.locator("h1")).to_have_text("跨省异地就医直接结算联网医院")


def test_guided_check_says_an_accident_admission_is_not_settled_directly(
    page: Page, shot: Shot
) -> None:
    _answer_check(page, "异地长期居住人员", "住院", "是", "是")
    verdict = page.locator("[data-verdict]")
    expect(verdict).to_have_attribute("data-verdict", "not_direct")
    expect(verdict).to_contain_text("不能直接结算")
    expect(page.locator('[data-rule="ACCIDENT_EXCLUDED"]')).to_contain_text("意外伤害住院")
    expect(page.locator(".materials li")).to_have_count(4)
    shot(page, "check-accident")


def test_guided_check_settles_an_emergency_admitted_within_72_hours(page: Page, shot: Shot) -> None:
    _answer_check(page, "异地急诊人员", "急诊抢救后72小时内转住院", "否", "是")
    expect(page.locator("[data-verdict]")).to_have_attribute("data-verdict", "direct")
    expect(page.locator('[data-rule="EMERGENCY_72H_ADMISSION"]')).to_be_visible()
    _answer_check(page, "异地急诊人员", "急诊抢救后72小时内转住院", "否", "否")
    verdict = page.locator("[data-verdict]")
    expect(verdict).to_have_attribute("data-verdict", "direct_if_filed_in_time")
    expect(verdict).to_contain_text("三个工作日内")
    shot(page, "check-emergency-72h")


def test_guided_check_marks_unanswered_questions(page: Page) -> None:
    page.goto("/check")
    page.get_by_role("radio", name="异地转诊人员").check()
    page.get_by_role("button", name="查看结果").click()
    expect(page.locator("#care-error")).to_have_text("请选择一项")
    expect(page.locator("#category-error")).to_have_count(0)
    expect(page.get_by_role("radio", name="异地转诊人员")).to_be_checked()


def test_hospital_list_filters_by_region_and_draws_the_level_chart(page: Page, shot: Shot) -> None:
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.goto("/hospitals")
    expect(page.locator("#hospital-count")).to_have_text("共 17 家")
    page.get_by_label("地区").select_option("430400")
    page.get_by_label("医院级别").select_option("2")
    page.get_by_role("button", name="筛选").click()
    page.wait_for_url("**/hospitals?region=430400&level=2")
    rows = page.locator("tbody tr[data-region]")
    expect(rows).to_have_count(8)  # the seed: "衡阳县人民医院等8家二级医院"
    assert all(
        r.startswith("4304") for r in rows.evaluate_all("rs => rs.map(r => r.dataset.region)")
    )
    expect(page.locator("table.hospitals")).not_to_contain_text("南华大学附属第一医院")  # level 3
    # The vendored Chart.js ran under the CSP and drew on the canvas.
    assert page.evaluate("typeof window.Chart") == "function"
    assert page.evaluate("Boolean(window.Chart.getChart(document.querySelector('canvas')))")
    assert problems == []
    shot(page, "hospitals")


def test_agency_directory_has_the_seed_phone_numbers(page: Page, shot: Shot) -> None:
    page.goto("/agencies")
    row = page.locator("tr", has_text="衡阳市医保中心")
    expect(row.get_by_role("link", name="0734-8867038")).to_have_attribute(
        "href", "tel:07348867038"
    )
    shot(page, "agencies")


def test_a_cashier_gets_the_403_page_for_an_agency_page(page: Page, shot: Shot) -> None:
    sign_in(page, "bobai", "bobai-demo-2017")
    page.wait_for_url("**/hospital")
    response = page.goto("/agency")
    assert response is not None and response.status == 403
    expect(page.locator("h1")).to_have_text("无权访问")
    shot(page, "forbidden")


def test_anonymous_is_sent_to_sign_in_and_back_to_the_page_asked_for(page: Page) -> None:
    page.goto("/agency")
    assert re.search(r"/signin\?next=%2Fagency$", page.url)
    page.get_by_label("用户名").fill("hengyang")
    page.get_by_label("密码").fill("hengyang-demo-2017")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/agency")


class _InlineScripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        if tag == "script" and "src" not in names and names.get("type") != "application/json":
            self.found.append(tag)
        self.found += [name for name in names if name.startswith("on") or name == "style"]


def test_every_page_sends_the_csp_has_no_inline_script_and_fits_375_px(
    chromium: Browser, base_url: str, shot: Shot
) -> None:
    context = chromium.new_context(
        base_url=base_url, viewport={"width": 375, "height": 812}, locale="zh-CN"
    )
    page = context.new_page()
    violations: list[str] = []

    def watch(message: ConsoleMessage) -> None:
        deliberate_404 = page.url.endswith("/no-such-page") and "404" in message.text
        if message.type == "error" and not deliberate_404:
            violations.append(f"{page.url}: {message.text}")

    page.on("console", watch)
    try:
        pages = [
            "/",
            "/signin",
            "/check",
            "/check?category=none&care=emergency_admitted_72h&accident=no&filed=no",
            "/hospitals",
            "/agencies",
            "/no-such-page",
        ]
        for path in pages:
            response = page.goto(path)
            assert response is not None
            csp = response.headers.get("content-security-policy", "")
            assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp, path
            assert response.headers.get("x-frame-options") == "DENY", path
            assert "server" not in response.headers, path
            parser = _InlineScripts()
            parser.feed(response.text())  # as served: scripts may style the live DOM via CSSOM
            assert parser.found == [], path
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 375, f"{path} is {width}px wide at a 375px viewport"
        shot(page, "mobile-check")
        sign_in(page, "nhfy1", "nhfy1-demo-2017")
        page.wait_for_url("**/hospital")
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        shot(page, "mobile-desk")
        page.goto("/check?category=emergency&care=emergency_admitted_72h&accident=no&filed=no")
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        shot(page, "mobile-check-answer")
    finally:
        context.close()
    assert violations == [], violations
