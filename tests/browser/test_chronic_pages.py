"""门诊慢特病认定 in a real browser: the 衡阳 agency opens the list from its desk, records a
recognition of 谢德明 on the form (the disease chosen by name), reads the detail and ends it;
at 1366 and 375 px, with no horizontal scroll and no script error."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from conftest import script_problems, sign_in

pytestmark = pytest.mark.browser

Shot = Callable[[Page, str], Path]
XIE_ID = "430421195206180315"


def _no_sideways_scroll(page: Page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize(("width", "disease"), [(1366, "糖尿病"), (375, "冠心病")])
def test_the_hengyang_agency_records_and_ends_a_recognition(
    page: Page, shot: Shot, width: int, disease: str
) -> None:
    problems = script_problems(page)
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, "hengyang")
    page.goto("/agency")
    page.locator("main").get_by_role("link", name="门诊慢特病认定").first.click()
    expect(page.locator("h1")).to_have_text("门诊慢特病认定")
    expect(page.locator("#chronic-table")).to_contain_text("高血压")  # the demo's 老谢
    _no_sideways_scroll(page, width)
    page.locator("#new-recognition").click()
    expect(page.locator("h1")).to_have_text("认定门诊慢特病")
    page.get_by_label("身份证号").fill(XIE_ID)
    page.get_by_label("病种").select_option(label=disease)
    page.get_by_label("认定材料编号").fill(f"HY-B-{width}")
    _no_sideways_scroll(page, width)
    shot(page, f"chronic-form-{width}")
    page.locator("#record-button").click()
    expect(page.locator("#done")).to_have_text("已认定。")
    expect(page.locator("#disease")).to_contain_text(disease)
    expect(page.locator("#recognition")).to_contain_text(XIE_ID)
    page.get_by_label("终止原因").fill("复评不再符合认定标准")
    page.locator("#end-button").click()
    expect(page.locator("#done")).to_have_text("已终止。")
    expect(page.locator("#state")).to_contain_text("已终止")
    expect(page.locator("#end-form")).to_have_count(0)
    _no_sideways_scroll(page, width)
    shot(page, f"chronic-detail-{width}")
    page.goto("/chronic?state=ended")
    expect(page.locator("#chronic-table")).to_contain_text(disease)
    _no_sideways_scroll(page, width)
    page.goto("/chronic?lang=en")
    expect(page.locator("h1")).to_have_text("Chronic-disease recognitions")
    _no_sideways_scroll(page, width)
    assert problems == []
