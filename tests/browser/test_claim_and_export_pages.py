"""手工报销 forms and the 附件2 export job in a real browser, at 1366 and 375 px:

- the handler looks the person up from the ID number (name, 参保地, filings; the number
  masked), picks the hospital from the directory (the typed-hospital fields step aside),
  enters the payee, opens the claim; types receipts as rows, adds and removes rows in the
  page, sees every faulty cell at once, saves, computes, and prints the notice;
- the province starts the 附件2 export, watches the job's progress bar and downloads the file.
No script error on any page."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from filing_support import record
from yidi.bootstrap import build_container
from yidi.filing.ports import ImportedBy, ImportedFiling
from yidi.filing.record_json import record_json
from yidi.kernel.clock import CHINA_TZ
from yidi.kernel.identity import Gender, make_resident_id
from yidi.settings import Settings

pytestmark = pytest.mark.browser

Shot = Callable[[Page, str], Path]
# 谢某某 of the demo world: insured in 衡阳县, filed for 博白 (the Hengyang seed's story).
XIE_ID = "430421195503081233"


def _sign_in(page: Page, username: str) -> None:
    page.goto("/signin")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(f"{username}-demo-2017")
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()


# A refused form answers 422 with the page and its messages: the browser logs that status.
REFUSED = "the server responded with a status of 422"


def _problems(page: Page) -> list[str]:
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "console",
        lambda m: problems.append(m.text) if m.type == "error" and REFUSED not in m.text else None,
    )
    return problems


#: Filings of 2016 in 驻马店 added to the demo server: enough rows for the bar to move.
MANY = 15_000
FILED_2016 = dt.date(2016, 6, 1)


@pytest.fixture(scope="module")
def many_filings(server_database_url: str) -> int:
    """MANY approved filings of 驻马店, filed in 2016 (a year no other page test reads)."""
    container = build_container(Settings(database_url=server_database_url, demo_mode=True))
    template = record()
    rows = []
    for n in range(MANY):
        number = make_resident_id(
            "411702", dt.date(1940, 1, 1) + dt.timedelta(days=n // 50), n % 50 + 1, Gender.MALE
        ).number
        filed = dataclasses.replace(
            template,
            insured_region_code="411702",
            name="驻马店测试",
            social_security_number=number,
        )
        rows.append(
            ImportedFiling(
                lineage_id=f"BX{n:08d}",
                version_id=f"BV{n:08d}",
                version=1,
                insured_region_code="411702",
                id_number=number,
                name="驻马店测试",
                category=template.category.value if template.category else None,
                registration_type=template.registration_type.value,
                record_json=record_json(filed),
                import_key=f"browser-export:{n}",
            )
        )
    by = ImportedBy(
        "henan", "province_officer", dt.datetime(2016, 6, 1, 9, tzinfo=CHINA_TZ), FILED_2016, "批量"
    )
    with container.uow() as uow:
        uow.filings.bulk_insert_imported(rows, by)
        uow.commit()
    container.engine.dispose()
    return MANY


def _fits(page: Page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("width", [1366, 375])
def test_the_handler_opens_a_manual_claim_with_rows_and_prints_the_notice(
    page: Page, shot: Shot, width: int
) -> None:
    problems = _problems(page)
    page.set_viewport_size({"width": width, "height": 900})
    _sign_in(page, "hengyang")
    page.goto("/claims/new")
    id_field = page.locator("#id_number")
    expect(id_field).to_be_focused()
    id_field.fill(XIE_ID)
    page.locator("#lookup-button").click()
    expect(page.locator("#person-name")).to_contain_text("谢某某")
    expect(page.locator("#person-id")).to_have_text(re.compile(r"^430421\*+1233$"))
    expect(page.locator("#person-filings tbody tr").first).to_be_visible()
    assert page.url.endswith("/claims/new")  # looked up in place, nothing posted
    page.locator("#hospital_name").fill("博白县人民医院")
    expect(page.locator("#hospital-listed")).to_be_visible()
    expect(page.locator("#hospital-fallback")).to_be_hidden()
    page.locator("#encounter_type").select_option("21")
    page.locator("#admitted_on").fill("2026-10-01")
    page.locator("#discharged_on").fill("2026-10-10")
    page.locator("#reason").fill("外出探亲突发疾病，未办理备案")
    page.locator("#payee_name").fill("谢某某")
    page.locator("#payee_bank").fill("中国工商银行衡阳分行")
    page.locator("#payee_account").fill("6222021234567890123")
    page.locator("#payee_account_confirm").fill("6222021234567890")
    _fits(page, width)
    shot(page, f"claim-new-lookup-{width}")
    page.locator("#create-claim").click()
    expect(page.locator("#payee_account_confirm-error")).to_contain_text("不一致")
    expect(page.locator("#payee_account")).to_have_value("")  # never echoed back
    page.locator("#payee_account").fill("6222021234567890123")
    page.locator("#payee_account_confirm").fill("6222 0212 3456 7890 123")
    page.locator("#create-claim").click()
    expect(page.locator("#claim-id")).to_have_text(re.compile(r"^MC430421"))
    expect(page.locator("#claim-hospital-code")).to_have_text("H45092300001")

    # Receipts as rows: two rows typed, a third added and removed in the page.
    page.locator("#row-0-catalog_code").fill("001101000010000")
    page.locator("#row-0-name").fill("普通病房床位费")
    page.locator("#row-0-quantity").fill("9")
    page.locator("#row-0-unit_price").fill("45.00")
    page.locator("#row-0-occurred_on").fill("2026-10-02")
    page.locator("#add-row").click()
    expect(page.locator("#row-1-serial")).to_be_focused()
    page.locator("#row-1-catalog_code").fill("002501000010000")
    page.locator("#row-1-quantity").fill("two")
    page.locator("#row-1-unit_price").fill("20")
    page.locator("#row-1-occurred_on").fill("2026-12-01")
    page.locator("#add-row").click()
    expect(page.locator("#fee-rows tbody tr")).to_have_count(3)
    page.locator('#fee-rows tbody tr[data-row="2"] [data-remove-row]').click()
    expect(page.locator("#fee-rows tbody tr")).to_have_count(2)
    page.locator("#save-rows").click()
    expect(page.locator("#row-1-quantity-error")).to_be_visible()
    expect(page.locator("#row-1-occurred_on-error")).to_contain_text("住院期间")
    expect(page.locator("#row-problems li")).to_have_count(2)
    _fits(page, width)
    shot(page, f"claim-rows-errors-{width}")
    page.locator("#row-1-quantity").fill("2")
    page.locator("#row-1-occurred_on").fill("2026-10-03")
    page.locator("#save-rows").click()
    expect(page.locator("#done")).to_be_visible()
    expect(page.locator("#lines-title")).to_contain_text("2")
    page.locator("#compute-form button").click()
    expect(page.locator("h1 .state")).to_have_attribute("data-state", "computed")
    page.locator("#notice-link").click()
    expect(page.locator("#notice")).to_be_visible()
    expect(page.locator("#print-button")).to_be_focused()
    expect(page.locator("#notice-account")).to_have_text("**** 0123")
    expect(page.locator("#notice-draft")).to_be_visible()
    expect(page.locator('#notice-amounts [data-amount="total_charges"]')).to_have_text("445.00")
    _fits(page, width)
    shot(page, f"claim-notice-{width}")
    page.emulate_media(media="print")
    expect(page.locator("#print-button")).to_be_hidden()
    expect(page.locator(".site-header")).to_be_hidden()
    shot(page, f"claim-notice-print-{width}")
    page.emulate_media(media="screen")
    assert problems == []


@pytest.mark.parametrize("width", [1366, 375])
def test_the_province_exports_annex2_as_a_job_and_downloads_it(
    page: Page, shot: Shot, width: int
) -> None:
    problems = _problems(page)
    page.set_viewport_size({"width": width, "height": 900})
    _sign_in(page, "hunan")
    page.goto("/filings/annex2")
    page.locator("#from").fill("2017-01-01")
    page.locator("#to").fill("2026-12-31")
    page.locator("#annex2-start").click()
    expect(page).to_have_url(re.compile(r"/filings/jobs/J[0-9A-F]{24}$"))
    panel = page.locator("#export-job")
    expect(panel).to_have_attribute("data-state", "done", timeout=60_000)
    expect(page.locator("#job-written")).to_contain_text("行")
    _fits(page, width)
    shot(page, f"export-job-done-{width}")
    with page.expect_download() as download:
        page.locator("#job-download").click()
    assert download.value.suggested_filename.startswith("annex2-430000-2017-01-01")
    assert problems == []


@pytest.mark.parametrize("width", [1366, 375])
def test_the_export_jobs_progress_bar_moves_until_the_file_is_ready(
    page: Page, shot: Shot, width: int, many_filings: int
) -> None:
    problems = _problems(page)
    page.set_viewport_size({"width": width, "height": 900})
    _sign_in(page, "henan")
    page.goto("/filings/annex2")
    page.locator("#from").fill("2016-01-01")
    page.locator("#to").fill("2016-12-31")
    page.locator("#annex2-start").click()
    expect(page).to_have_url(re.compile(r"/filings/jobs/J[0-9A-F]{24}$"))
    bar = page.locator("#job-progress")
    expect(bar).to_be_visible()
    # The page's script follows the job: the bar moves before the file is ready.
    page.wait_for_function(
        "() => { const b = document.querySelector('#job-progress');"
        " return b && b.value > 0 && b.value < 100; }",
        timeout=60_000,
    )
    expect(page.locator("#job-rows")).to_contain_text(f"/ {many_filings} 行")
    _fits(page, width)
    shot(page, f"export-job-progress-{width}")
    expect(page.locator("#export-job")).to_have_attribute("data-state", "done", timeout=120_000)
    expect(page.locator("#job-written")).to_contain_text(f"共 {many_filings} 行")
    shot(page, f"export-job-ready-{width}")
    with page.expect_download() as download:
        page.locator("#job-download").click()
    assert download.value.suggested_filename == "annex2-410000-2016-01-01-2016-12-31.xlsx"
    assert problems == []
