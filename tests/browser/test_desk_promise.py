"""The agency desk files on a signed 个人承诺书 in a real browser: the one-page form without a
document, the promise ticked; the filing's page shows the promise outstanding and, once
approved, the day the documents are due and what an unfulfilled promise becomes."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from yidi.kernel.clock import CHINA_TZ
from yidi.kernel.identity import Gender, make_resident_id
from yidi.policy.national import national_model

pytestmark = pytest.mark.browser

Shot = Callable[[Page, str], Path]


def test_the_desk_files_on_a_promise_and_the_page_shows_its_due_day(
    chromium: Browser, base_url: str, shot: Shot
) -> None:
    page = chromium.new_context(base_url=base_url, locale="zh-CN").new_page()
    page.goto("/signin")
    page.get_by_label("用户名").fill("hengyang")
    page.get_by_label("密码").fill("hengyang-demo-2017")
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()

    serial = random.randint(100, 899)  # a person of this run only (the server is shared)
    person = make_resident_id("430421", dt.date(1954, 6, 9), serial, Gender.MALE).number
    page.goto("/filings/new")
    page.locator("#social_security_number").fill(person)
    page.locator("#insured_region_code").select_option("430421")
    page.locator("#name").fill("承诺乙")
    page.locator("#gender").select_option("1")
    page.locator("#insurance_type").select_option("310")
    page.locator("#person_type").select_option("employee_retired")
    page.locator("#category").select_option("long_term_resident")
    page.locator("#has_second_generation_card").select_option("yes")
    page.locator("#home_address").fill("湖南省衡阳县西渡镇蒸阳路20号")
    page.locator("#contact_address").fill("广西壮族自治区博白县博白镇城南路8号")
    page.locator("#mobile").fill("13807340316")
    page.locator("#destination_province_code").select_option(label="广西壮族自治区")
    page.locator("#destination_prefecture_code").select_option(label="玉林市")
    page.locator("#destination_county_code").select_option(label="博白县")
    page.locator("#institution_0_name").fill("博白县人民医院")
    page.locator("#institution_0_level").select_option("2")
    expect(page.locator("#promise-types")).to_contain_text("异地长期居住人员")
    page.get_by_label("参保人已签署个人承诺书，证明材料以后补齐").check()
    shot(page, "desk-promise-form")
    page.locator("#submit-filing").click()
    page.wait_for_load_state()

    expect(page.locator("h1 [data-state]")).to_have_attribute("data-state", "submitted")
    expect(page.locator("#promise-facts")).to_have_attribute("data-promise", "due")
    expect(page.locator("#promise-due-later")).to_be_visible()
    expect(page.locator("#promise-consequence")).to_contain_text("其他临时外出就医人员")
    page.get_by_label("我已核对备案信息和证明材料，确认审核通过").check()
    page.get_by_role("button", name="审核通过（备案）").click()
    expect(page.locator("h1 [data-state]")).to_have_attribute("data-state", "approved")
    today = dt.datetime.now(CHINA_TZ).date()
    due = national_model(today).promise_documents_due(today)
    expect(page.locator("#promise-due")).to_have_attribute("datetime", due.isoformat())
    expect(page.locator("#promise-state")).to_have_text("已签署，证明材料待补齐")
    shot(page, "desk-promise-approved")
    page.context.close()
