"""The filing path in a real browser: xiedeming's demo filing approved by the 衡阳 agency, the
printable 附件1, and who may see what."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

pytestmark = pytest.mark.browser

Shot = Callable[[Page, str], Path]


def _sign_in(page: Page, username: str) -> None:
    page.goto("/signin")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(f"{username}-demo-2017")
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()


def test_the_agency_approves_xiedemings_filing_and_he_sees_it(
    chromium: Browser, base_url: str, shot: Shot
) -> None:
    agency = chromium.new_context(base_url=base_url, locale="zh-CN").new_page()
    _sign_in(agency, "hengyang")
    agency.get_by_role("link", name="备案审核与查询").first.click()
    row = agency.locator("#filing-table tr", has_text="谢德明")
    expect(row).to_contain_text("430421********0315")  # masked in the list
    shot(agency, "agency-queue")
    row.get_by_role("link").click()
    expect(agency.locator("h1 [data-state]")).to_have_attribute("data-state", "submitted")
    expect(agency.locator("#evidence-table")).to_contain_text("安置地户口")
    agency.get_by_role("button", name="退回").click()  # no reason: refused next to the field
    expect(agency.locator("#reject-reason-error")).to_have_text("请填写原因")
    agency.get_by_role("button", name="审核通过（备案）").click()  # not ticked: asked to confirm
    expect(agency.locator("#approve-confirm-error")).to_have_text("请先勾选确认")
    agency.get_by_label("我已核对备案信息和证明材料，确认审核通过").check()
    agency.get_by_role("button", name="审核通过（备案）").click()
    expect(agency.locator("#done")).to_contain_text("已审核通过")
    number = agency.locator("#filing-number").inner_text()
    assert re.fullmatch(r"BA430421-\d{4}-\d{6}", number)
    shot(agency, "agency-filing-approved")
    pdf = agency.request.get(agency.locator("#annex1-link").get_attribute("href") or "")
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    agency.goto(f"/filings?q={number}")
    expect(agency.locator("#filing-table tr", has_text="谢德明")).to_have_count(1)
    agency.context.close()

    person = chromium.new_context(
        base_url=base_url, locale="zh-CN", viewport={"width": 375, "height": 812}
    ).new_page()
    _sign_in(person, "xiedeming")
    person.get_by_role("link", name="我的备案").first.click()
    # his row of the approved filing (other tests of the same server may file for him too)
    mine = person.locator("#filing-table tr", has_text=number).locator("[data-state]")
    expect(mine).to_have_attribute("data-state", "approved")
    assert person.evaluate("document.documentElement.scrollWidth") <= 375
    shot(person, "insured-my-filings")
    response = person.goto("/filings/emergency")
    assert response is not None and response.status == 403  # not an agency page
    person.context.close()


def test_a_hospital_cashier_cannot_open_the_filings_list(page: Page) -> None:
    _sign_in(page, "nhfy1")
    response = page.goto("/filings")
    assert response is not None and response.status == 403
    expect(page.locator("h1")).to_have_text("无权访问")


def test_the_agency_takes_in_a_manual_claim_and_finds_it_in_the_claims_list(
    page: Page, shot: Shot
) -> None:
    _sign_in(page, "hengyang")
    page.get_by_role("link", name="手工报销申请列表").first.click()
    expect(page.locator("h1")).to_have_text("本统筹区手工报销申请")
    page.locator("#new-claim").click()
    page.get_by_label("社会保障号码（身份证号）").fill("430421195206180315")
    # the treatment region by name: province, prefecture, county
    page.get_by_label("就医地（医院所在地）").select_option(label="广西壮族自治区")
    page.get_by_label("市（州、盟）或直管区县").select_option(label="玉林市")
    page.get_by_label("县（市、区）").select_option(label="博白县")
    page.get_by_label("就医医院").fill("博白县人民医院")
    page.get_by_label("入院日期").fill("2026-10-01")
    page.get_by_label("出院日期").fill("2026-10-10")
    page.get_by_label("未直接结算的原因").fill("未办理异地就医备案")
    page.get_by_role("button", name="受理", exact=True).click()
    claim_id = page.locator("#claim-id").inner_text()
    assert re.fullmatch(r"MC430421\d{8}[0-9A-F]{10}", claim_id)
    page.locator("#claims-list-link").click()
    row = page.locator(f"#claims-table tr[data-claim='{claim_id}']")
    expect(row).to_contain_text("430421********0315")  # masked in the list
    expect(row.locator("[data-materials]")).to_have_text("已收 0/4")
    expect(row.locator("[data-state]")).to_have_attribute("data-state", "draft")
    page.get_by_label("申请编号、姓名或完整身份证号").fill("430421195206180315")
    page.get_by_role("button", name="查询").click()
    expect(page.locator("#claims-table tbody tr")).to_have_count(1)
    expect(page.get_by_label("申请编号、姓名或完整身份证号")).to_have_value("430421195206180315")
    shot(page, "agency-claims-list")
    page.get_by_label("申请编号、姓名或完整身份证号").fill("43042119")
    page.get_by_role("button", name="查询").click()
    expect(page.locator("#q-error")).to_contain_text("完整的18位身份证号")
    page.goto("/claims")
    page.locator(f"#claims-table tr[data-claim='{claim_id}'] a").click()
    expect(page.locator("#claim-id")).to_have_text(claim_id)


def test_xiedeming_asks_for_a_change_the_agency_approves_and_he_sees_version_two(
    chromium: Browser, base_url: str, shot: Shot
) -> None:
    agency = chromium.new_context(base_url=base_url, locale="zh-CN").new_page()
    _sign_in(agency, "hengyang")
    # The test above approves his demo filing; run alone, approve it here first.
    agency.goto("/filings?q=430421195206180315&state=all")
    row = agency.locator("#filing-table tr", has_text="谢德明").first
    if row.locator("[data-state]").get_attribute("data-state") == "submitted":
        row.get_by_role("link").click()
        agency.get_by_label("我已核对备案信息和证明材料，确认审核通过").check()
        agency.get_by_role("button", name="审核通过（备案）").click()
        expect(agency.locator("#done")).to_contain_text("已审核通过")

    person = chromium.new_context(
        base_url=base_url, locale="zh-CN", viewport={"width": 375, "height": 812}
    ).new_page()
    _sign_in(person, "xiedeming")
    person.get_by_role("link", name="我的备案").first.click()
    person.locator("#filing-table tr:has([data-state='approved'])").first.get_by_role(
        "link"
    ).click()
    number = person.locator("#filing-number").inner_text()
    expect(person.locator("#filing-version")).to_have_attribute("data-version", "1")
    person.get_by_role("link", name="申请变更").click()
    # first what changes, then only those items, prefilled from the current version
    expect(person.get_by_label("社会保障号码（身份证号）")).to_have_count(0)
    person.get_by_label("异地联系地址和电话").check()
    shot(person, "insured-change-request-choose")
    person.get_by_role("button", name="继续").click()
    expect(person.get_by_label("手机", exact=True)).to_have_value("13807340315")
    expect(person.get_by_label("参保地家庭住址")).to_have_count(0)  # not chosen
    person.get_by_label("手机", exact=True).fill("13907340315")
    person.get_by_label("异地联系地址").fill("广西壮族自治区博白县博白镇新城路8号")
    person.get_by_role("button", name="提交变更申请").click()  # no reason: refused at the field
    expect(person.locator("#reason-error")).to_have_text("请填写变更原因")
    expect(person.locator("#error-summary")).to_be_focused()
    expect(person.get_by_label("手机", exact=True)).to_have_value("13907340315")  # kept
    person.get_by_label("变更原因").fill("搬家并更换了手机号码")
    assert person.evaluate("document.documentElement.scrollWidth") <= 375
    shot(person, "insured-change-request-form")
    person.get_by_role("button", name="提交变更申请").click()
    expect(person.locator("#done")).to_contain_text("变更申请已提交")
    expect(person.locator("h1 [data-state]")).to_have_attribute("data-state", "pending")

    agency.goto("/agency")
    card = agency.locator("a.card[href='/change-requests']")
    expect(card.locator(".badge")).to_have_attribute("data-count", "1")
    card.click()
    queue_row = agency.locator("#change-request-table tr", has_text="谢德明")
    expect(queue_row).to_contain_text("430421********0315")
    queue_row.get_by_role("link").click()
    changed = agency.locator("#compare-table tr.changed th")
    expect(changed).to_have_count(2)
    expect(changed.first).to_contain_text("异地联系地址")
    expect(changed.nth(1)).to_contain_text("手机")
    shot(agency, "agency-change-request-compare")
    agency.get_by_role("button", name="同意变更").click()
    expect(agency.locator("#done")).to_contain_text("已同意")
    agency.context.close()

    person.reload()
    expect(person.locator("h1 [data-state]")).to_have_attribute("data-state", "approved")
    person.get_by_role("link", name="查看备案").click()
    expect(person.locator("#filing-version")).to_have_attribute("data-version", "2")
    expect(person.locator("#filing-number")).to_have_text(number)
    expect(person.locator("main")).to_contain_text("13907340315")
    expect(person.locator("#change-request-list [data-state]")).to_have_attribute(
        "data-state", "approved"
    )
    shot(person, "insured-filing-changed")
    person.context.close()


def test_an_import_runs_in_the_background_and_its_page_shows_the_report(
    page: Page, tmp_path: Path
) -> None:
    """`yidi serve` runs the worker thread: the upload answers at once with the job's page,
    which refreshes itself until the report is there."""
    from filing_support import annex2_csv
    from yidi.kernel.identity import Gender, make_resident_id

    number = make_resident_id("430421", dt.date(1949, 5, 6), 71, Gender.MALE).number
    batch = tmp_path / "batch.csv"
    batch.write_bytes(annex2_csv([("430421", "某某", number)]))
    _sign_in(page, "hengyang")
    page.goto("/filings/import")
    page.locator("#file").set_input_files(str(batch))
    page.locator("form[action='/filings/import'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/filings/import/jobs/J[0-9A-F]{24}$"))
    expect(page.locator("#import-job")).to_have_attribute("data-state", "done", timeout=20_000)
    expect(page.locator("#import-report")).to_contain_text("batch.csv")
