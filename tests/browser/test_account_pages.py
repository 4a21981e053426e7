"""User administration and the forced password change in a real browser."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

Shot = Callable[[Page, str], Path]


def _sign_in(page: Page, username: str, password: str) -> None:
    page.goto("/signin")
    page.locator("#username").fill(username)
    page.locator("#password").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()


def _sign_out(page: Page) -> None:
    page.get_by_role("button", name="退出登录").click()
    page.wait_for_url("**/signin")


def test_an_administrator_creates_a_user_who_changes_the_password_then_resets_it(
    page: Page, shot: Shot
) -> None:
    _sign_in(page, "admin", "admin-demo-2017")
    page.get_by_role("link", name="用户管理").first.click()
    page.wait_for_url("**/admin/users")
    expect(page.locator('tr[data-username="hengyang"]')).to_be_visible()
    page.locator("#new-username").fill("zhou.browser")
    page.locator("#new-password").fill("zhou")  # too short: the rule is named
    page.locator("#new-role").select_option("agency_handler")
    # the region by name: province, then prefecture (the picker carries the code)
    page.locator("#new-region_code-province").select_option(label="湖南省")
    page.locator("#new-region_code-prefecture").select_option(label="衡阳市")
    assert page.locator("input[name=region_code]").input_value() == "430400"
    page.get_by_role("button", name="新建", exact=True).click()
    expect(page.locator("#new-password-error")).to_contain_text("至少 12 个字符")
    page.locator("#new-password").fill("lantern-orchard-47")
    page.get_by_role("button", name="新建", exact=True).click()
    page.wait_for_url("**/admin/users/zhou.browser?done=created")
    expect(page.locator("#done")).to_be_visible()
    shot(page, "admin-user-created")
    _sign_out(page)

    # First sign-in: the new user must choose a password before anything else.
    _sign_in(page, "zhou.browser", "lantern-orchard-47")
    page.wait_for_url("**/account/password")
    expect(page.locator("#forced-change")).to_be_visible()
    page.goto("/filings")
    page.wait_for_url("**/account/password")
    page.locator("#current_password").fill("lantern-orchard-47")
    page.locator("#new_password").fill("river-stone-lamp-88")
    page.locator("#confirm_password").fill("river-stone-lamp-88")
    shot(page, "forced-password-change")
    page.get_by_role("button", name="保存新密码").click()
    page.wait_for_url("**/agency")
    expect(page.locator('[data-role="agency_handler"]')).to_be_visible()
    _sign_out(page)

    # The administrator issues a one-time reset link; the user sets a password through it.
    _sign_in(page, "admin", "admin-demo-2017")
    page.goto("/admin/users/zhou.browser")
    page.locator("#issue-reset").click()
    link = page.locator("#reset-url").input_value()
    assert re.search(r"/password-reset\?token=[\w-]{40,}$", link)
    _sign_out(page)
    page.goto(link)
    page.locator("#new_password").fill("amber-field-1977")
    page.locator("#confirm_password").fill("amber-field-1977")
    page.get_by_role("button", name="设置新密码").click()
    expect(page.locator("#reset-done")).to_be_visible()
    page.goto(link)
    expect(page.locator("#token-error")).to_be_visible()  # used once, never again
    _sign_in(page, "zhou.browser", "river-stone-lamp-88")
    expect(page.locator("#password-error")).to_be_visible()  # the old password is gone
    _sign_in(page, "zhou.browser", "amber-field-1977")
    page.wait_for_url("**/agency")
