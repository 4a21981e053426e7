"""The agency desk's filing form under the 2022 model, over HTTP: a signed 个人承诺书 in place
of the proof, and 补办备案's care days; a refused promise or care range creates nothing; the
filing's page shows the promise's due day and what happens when it passes, to the agency and
to the insured person."""

from __future__ import annotations

import datetime as dt
import re
import sys
from pathlib import Path

import httpx2
import pytest
from fastapi.testclient import TestClient

from yidi.bootstrap import Container
from yidi.entrypoints.app import create_app
from yidi.kernel.clock import FixedClock
from yidi.policy.national import national_model

sys.path.insert(0, str(Path(__file__).parent))
from web_helpers import PAGE, csrf_token, load_demo_world, sign_in

XIE = {"social_security_number": "430421195206180315", "insured_region_code": "430421"}


@pytest.fixture(autouse=True)
def _demo_world(container: Container, monkeypatch: pytest.MonkeyPatch) -> None:
    # 谢德明 (xiedeming) in the register, with one submitted filing of another type.
    load_demo_world(container, monkeypatch, filings=True)


def _desk_form(**changes: str) -> dict[str, str]:
    """A 异地长期居住 filing by the 衡阳县 desk with no document: the promise stands for it."""
    return {
        **XIE,
        "name": "谢德明",
        "gender": "1",
        "insurance_type": "310",
        "person_type": "employee_retired",
        "category": "long_term_resident",
        "has_second_generation_card": "yes",
        "home_address": "湖南省衡阳县西渡镇蒸阳路18号",
        "contact_address": "广西壮族自治区博白县博白镇城南路6号",
        "mobile": "13807340315",
        "destination_province_code": "450000",
        "destination_prefecture_code": "450900",
        "destination_county_code": "450923",
        "institution_0_name": "博白县人民医院",
        "institution_0_level": "2",
        "signed_by": "person",
        "filled_on": "2026-11-20",
        "promise_signed": "yes",
        "intent": "submit",
    } | changes


def _post(web: TestClient, path: str, data: dict[str, str]) -> httpx2.Response:
    token = csrf_token(web, "/filings/new")
    return web.post(path, data={"csrf_token": token, **data}, headers=PAGE, follow_redirects=False)


def _filed(response: httpx2.Response) -> str:
    assert response.status_code == 303, response.text
    match = re.fullmatch(r"/filings/([0-9a-f]+)\?done=submit", response.headers["location"])
    assert match, response.headers["location"]
    return match.group(1)


def _filing_count(web: TestClient) -> int:
    return web.get("/filings", headers=PAGE).text.count("data-state=")


def test_the_desk_files_on_a_promise_and_both_sides_see_its_due_day(
    web: TestClient, container: Container, clock: FixedClock
) -> None:
    sign_in(web, "hengyang")
    form = web.get("/filings/new", headers=PAGE).text
    assert 'id="promise_signed"' in form and 'id="late_care_from"' in form
    # The types a promise may stand for today come from the 2022 rules (180 days: the data).
    assert "异地长期居住人员（审核通过后180天内补齐）" in form
    filing_id = _filed(_post(web, "/filings/new", _desk_form()))
    submitted = web.get(f"/filings/{filing_id}", headers=PAGE).text
    assert 'data-state="submitted"' in submitted
    assert 'data-promise="due"' in submitted and 'id="promise-due-later"' in submitted
    assert "其他临时外出就医人员" in submitted.split('id="promise-consequence"', 1)[1][:200]

    approved = _post(web, f"/filings/{filing_id}/approve", {"confirm": "1"})
    assert approved.status_code == 303, approved.text
    due = national_model(clock.today()).promise_documents_due(clock.today())
    page = web.get(f"/filings/{filing_id}", headers=PAGE).text
    assert 'data-state="approved"' in page and 'data-promise="due"' in page
    assert f'<time id="promise-due" datetime="{due.isoformat()}">' in page

    # The insured person reads the same due day on their own page.
    with TestClient(create_app(container), base_url="http://127.0.0.1:8000") as own:
        sign_in(own, "xiedeming")
        mine = own.get(f"/filings/{filing_id}", headers=PAGE).text
        assert f'datetime="{due.isoformat()}"' in mine and "已签署，证明材料待补齐" in mine

    # A day past the due day: overdue, and what it will become.
    clock.set(dt.datetime.combine(due + dt.timedelta(days=1), dt.time(9), clock.now().tzinfo))
    sign_in(web, "hengyang")  # half a year on, the session has long ended
    late = web.get(f"/filings/{filing_id}", headers=PAGE).text
    assert 'data-promise="overdue"' in late and "已逾期未补齐" in late
    assert "期限已过：备案将按“其他临时外出就医人员”处理" in late


def test_a_promise_for_a_type_without_one_is_refused_and_creates_nothing(
    web: TestClient,
) -> None:
    sign_in(web, "hengyang")
    before = _filing_count(web)
    refused = _post(web, "/filings/new", _desk_form(category="other_temporary"))
    assert refused.status_code == 422
    assert 'id="promise_signed-error"' in refused.text
    assert "不能以个人承诺书代替证明材料" in refused.text
    assert 'name="promise_signed" value="yes" checked' in refused.text  # kept as typed
    assert _filing_count(web) == before
    web.cookies.set("yidi_lang", "en")
    english = _post(web, "/filings/new", _desk_form(category="other_temporary"))
    assert english.status_code == 422 and "a personal promise cannot replace proof" in english.text
    assert "Personal promise (in place of the documents)" in english.text


def test_a_late_filing_during_the_stay_records_its_care_on_the_page(web: TestClient) -> None:
    sign_in(web, "hengyang")
    filing_id = _filed(
        _post(web, "/filings/new", _desk_form(promise_signed="", late_care_from="2026-11-18"))
    )
    page = web.get(f"/filings/{filing_id}", headers=PAGE).text
    assert 'id="late-care"' in page and "2026-11-18 — 仍在住院" in page
    assert 'id="promise-facts"' not in page  # no promise on this one


@pytest.mark.parametrize(
    ("care", "field", "message"),
    [
        ({"late_care_from": "2026-11-25"}, "late_care_from", "只能覆盖已发生的就医"),
        (
            {"late_care_from": "2026-11-10", "late_care_until": "2026-11-05"},
            "late_care_until",
            "不得早于首日",
        ),
        ({"late_care_until": "2026-11-05"}, "late_care_from", "须填写所补就医的首日"),
        ({"late_care_from": "2026-02-30"}, "late_care_from", "请输入有效日期"),
    ],
)
def test_a_faulty_late_care_range_is_refused_by_its_field_and_creates_nothing(
    web: TestClient, care: dict[str, str], field: str, message: str
) -> None:
    sign_in(web, "hengyang")
    before = _filing_count(web)
    refused = _post(web, "/filings/new", _desk_form(**care))
    assert refused.status_code == 422
    error = re.search(rf'id="{field}-error" role="alert">([^<]+)<', refused.text)
    assert error, refused.text
    assert message in error.group(1)
    assert _filing_count(web) == before
