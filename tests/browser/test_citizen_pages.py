"""The insured person's side in Chromium at 375 and 1366 px: registering with a one-time code
(read from the demo server's log, as a demo user would), regions picked by name, and the
guided check's way to registration. Every control labelled; focus where it should be."""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

pytestmark = pytest.mark.browser

Shot = Callable[[Page, str], Path]
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1366, "height": 768}
VIEWPORTS = [(PHONE, "phone"), (DESKTOP, "desktop")]
GOOD = "lantern-orchard-47"

UNLABELLED = """() => Array.from(document.querySelectorAll('input, select, textarea'))
  .filter(c => c.type !== 'hidden' && c.type !== 'submit' && c.type !== 'button')
  .filter(c => c.offsetParent !== null)
  .filter(c => !(c.labels && c.labels.length) && !c.getAttribute('aria-label')
               && !c.getAttribute('aria-labelledby'))
  .map(c => c.outerHTML.slice(0, 120))"""


@pytest.fixture
def open_context(chromium: Browser, base_url: str) -> Iterator[Callable[..., BrowserContext]]:
    contexts: list[BrowserContext] = []

    def make(viewport: dict[str, int], **options: object) -> BrowserContext:
        context = chromium.new_context(
            base_url=base_url,
            viewport=viewport,  # type: ignore[arg-type]
            locale="zh-CN",
            **options,  # type: ignore[arg-type]
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


def _people_without_account(database: Path, count: int) -> list[tuple[str, str, str]]:
    """Persons of the demo register with a mobile and no account: (name, ID, mobile)."""
    with sqlite3.connect(database) as db:
        rows = db.execute(
            "SELECT name, id_number, mobile FROM persons WHERE mobile != '' AND id_number NOT IN "
            "(SELECT id_number FROM users WHERE id_number IS NOT NULL) ORDER BY id LIMIT ?",
            (count + 4,),
        ).fetchall()
    assert len(rows) >= count, "the demo register holds persons to register"
    return [(str(a), str(b), str(c)) for a, b, c in rows]


def _code_for(log: Path, mobile: str, seen: int) -> str:
    """The newest code the console sender logged for this mobile (shown masked)."""
    masked = f"{mobile[:3]}****{mobile[-4:]}"
    pattern = re.compile(r"one-time code (\d{6}) for " + re.escape(masked))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        codes = pattern.findall(log.read_text(errors="replace"))
        if len(codes) > seen:
            return str(codes[-1])
        time.sleep(0.1)
    raise AssertionError(f"no code logged for {masked}")


def _codes_logged(log: Path, mobile: str) -> int:
    masked = f"{mobile[:3]}****{mobile[-4:]}"
    return log.read_text(errors="replace").count(f"for {masked} ")


def _nav_height(page: Page) -> float:
    return float(page.locator(".main-nav").evaluate("e => e.getBoundingClientRect().height"))


@pytest.mark.parametrize(("viewport", "label"), VIEWPORTS)
def test_an_insured_person_registers_from_the_sign_in_page_with_a_one_time_code(
    open_context: Callable[..., BrowserContext],
    demo_server_files: tuple[Path, Path],
    shot: Shot,
    viewport: dict[str, int],
    label: str,
) -> None:
    database, log = demo_server_files
    people = _people_without_account(database, 2)
    name, id_number, mobile = people[0 if label == "phone" else 1]
    page = open_context(viewport).new_page()
    page.goto("/signin")
    expect(page.locator("#citizen-hint")).to_contain_text("在线办理备案")
    assert "参保人员无需登录" not in page.locator("main").inner_text()
    page.locator("#register-link").click()
    page.wait_for_url("**/register")
    assert page.evaluate(UNLABELLED) == []
    # an empty submit: every field says what it needs, and the focus goes to the first
    page.get_by_role("button", name="获取验证码").click()
    expect(page.locator("#name-error")).to_have_text("请填写姓名")
    expect(page.locator("#mobile-error")).to_have_text("请填写手机号码")
    expect(page.locator("#name")).to_be_focused()
    shot(page, f"citizen-register-empty-{label}")
    page.get_by_label("姓名").fill(name)
    page.get_by_label("公民身份号码").fill(id_number)
    page.get_by_label("手机号码").fill(mobile)
    seen = _codes_logged(log, mobile)
    page.get_by_role("button", name="获取验证码").click()
    expect(page.locator("#code-sent")).to_be_visible()
    expect(page.locator("#code")).to_be_focused()
    assert page.evaluate(UNLABELLED) == []
    assert id_number not in log.read_text(errors="replace")  # never the full ID or mobile
    assert mobile not in log.read_text(errors="replace")
    code = _code_for(log, mobile, seen)
    shot(page, f"citizen-register-code-{label}")
    # a wrong code first: said next to the field, which gets the focus
    wrong = "000000" if code != "000000" else "111111"
    username = f"citizen.{label}"
    page.get_by_label("验证码").fill(wrong)
    page.get_by_label("用户名（登录用）").fill(username)
    page.get_by_label("新密码", exact=True).fill(GOOD)
    page.get_by_label("再次输入新密码").fill(GOOD)
    page.get_by_role("button", name="注册并登录").click()
    expect(page.locator("#code-error")).to_contain_text("验证码错误")
    expect(page.locator("#code")).to_be_focused()
    page.get_by_label("验证码").fill(code)
    page.get_by_label("新密码", exact=True).fill(GOOD)
    page.get_by_label("再次输入新密码").fill(GOOD)
    page.get_by_role("button", name="注册并登录").click()
    page.wait_for_url("**/me")
    expect(page.locator(".who")).to_contain_text(name)
    if label == "desktop":
        assert _nav_height(page) <= 100
    shot(page, f"citizen-registered-desk-{label}")
    page.goto("/me/filings/new")  # the one-page form's old address: the step-by-step filing
    page.wait_for_url("**/me/filings/wizard")
    expect(page.locator("#wizard-progress")).to_be_visible()


def test_the_region_picker_cascades_by_name_on_the_estimate(
    open_context: Callable[..., BrowserContext], shot: Shot
) -> None:
    for viewport, label in VIEWPORTS:
        page = open_context(viewport).new_page()
        _sign_in(page, "laoxie")
        page.goto("/me/estimate")
        province = page.get_by_label("就医地（省、市、县）")
        expect(province).to_be_visible()
        assert page.evaluate(UNLABELLED) == []
        province.select_option(label="广西壮族自治区")
        page.get_by_label("市（州、盟）或直管区县").select_option(label="玉林市")
        page.get_by_label("县（市、区）").select_option(label="博白县")
        assert page.locator("input[name=treatment_region_code]").input_value() == "450923"
        page.get_by_label("预计医疗费总额", exact=False).fill("20000")
        shot(page, f"region-picker-estimate-{label}")
        page.locator("#estimate-form button[type=submit]").click()
        expect(page.locator("#estimate-result")).to_be_visible()
        # the answer page keeps the choice, as names
        expect(page.get_by_label("县（市、区）")).to_have_value("450923")
        box = page.locator(".region-selects").evaluate("e => e.getBoundingClientRect().right")
        assert box <= viewport["width"], "the selects fit the screen"


def test_without_script_the_region_is_typed_by_name(
    open_context: Callable[..., BrowserContext], shot: Shot
) -> None:
    page = open_context(PHONE, java_script_enabled=False).new_page()
    _sign_in(page, "laoxie")
    page.goto("/me/estimate")
    box = page.get_by_label("就医地（省、市、县）")
    expect(box).to_have_attribute("list", "region-names")
    box.fill("朝阳区")
    page.get_by_label("预计医疗费总额", exact=False).fill("20000")
    page.locator("#estimate-form button[type=submit]").click()
    expect(page.locator("#treatment_region_code-error")).to_contain_text("北京市朝阳区")
    page.get_by_label("就医地（省、市、县）").fill("博白县")
    page.locator("#estimate-form button[type=submit]").click()
    expect(page.locator("#estimate-result")).to_be_visible()
    expect(page.get_by_label("就医地（省、市、县）")).to_have_value("广西壮族自治区玉林市博白县")
    shot(page, "region-picker-no-script-phone")


@pytest.mark.parametrize(("viewport", "label"), VIEWPORTS)
def test_the_filing_form_destination_cascades_in_the_browser_and_errors_take_the_focus(
    open_context: Callable[..., BrowserContext],
    shot: Shot,
    viewport: dict[str, int],
    label: str,
) -> None:
    page = open_context(viewport).new_page()
    _sign_in(page, "hengyang")  # the one-page form is the agency's (a person files step by step)
    page.goto("/filings/new")
    expect(page.locator("#insured_region_code option", has_text="衡阳县")).to_have_count(1)
    expect(page.locator("#refresh-regions")).to_be_hidden()
    url = page.url
    page.locator("#destination_province_code").select_option(label="河南省")
    expect(page.locator("#destination_prefecture_code option", has_text="郑州市")).to_have_count(1)
    page.locator("#destination_prefecture_code").select_option(label="郑州市")
    expect(page.locator("#destination_county_code option", has_text="中原区")).to_have_count(1)
    assert page.url == url  # no round-trip
    issuer = page.get_by_label("出具单位所在地")
    expect(issuer).to_be_visible()
    assert page.evaluate(UNLABELLED) == []
    shot(page, f"filing-form-regions-{label}")
    page.locator("#submit-filing").click()
    page.wait_for_load_state()
    focused = page.evaluate("() => document.activeElement.getAttribute('aria-invalid')")
    assert focused == "true", "the first field in error has the focus"


def test_the_guided_check_offers_registration_to_a_visitor(
    open_context: Callable[..., BrowserContext], shot: Shot
) -> None:
    page = open_context(PHONE).new_page()
    page.goto("/check?asked=1&category=retiree_resettled&care=inpatient&accident=no&filed=no")
    expect(page.locator("#file-online").get_by_role("link", name="在线办理备案")).to_be_visible()
    register = page.locator("#check-register").get_by_role("link", name="注册账户")
    expect(register).to_be_visible()
    shot(page, "check-register-phone")
    register.click()
    page.wait_for_url("**/register")


def _sign_in(page: Page, username: str) -> None:
    page.goto("/signin")
    page.locator("#username").fill(username)
    page.locator("#password").fill(f"{username}-demo-2017")
    page.locator("form.stack button[type=submit]").click()
    page.wait_for_load_state()
