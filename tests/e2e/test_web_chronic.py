"""The 门诊慢特病认定 pages over HTTP: the 衡阳 agency records a recognition of 谢德明 on the
form (diseases by name from the list valid on the begin date), a resent form records once, an
overlapping one and a disease not on the list are refused in Chinese with the stable code and
write nothing; the detail (audited) ends it; the list masks ID numbers and filters by disease
and state; 湖南省 reads it, 郑州 does not see it; 谢德明 sees his own, read-only."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from yidi.bootstrap import Container
from yidi.platform.tables import audit_log, chronic_recognitions

sys.path.insert(0, str(Path(__file__).parent))
from web_helpers import PAGE, csrf_token, load_demo_world, signed_in_browsers

XIE_ID = "430421195206180315"
Browser = Callable[[str], TestClient]


@pytest.fixture(autouse=True)
def _demo_world(container: Container, monkeypatch: pytest.MonkeyPatch) -> None:
    load_demo_world(container, monkeypatch, filings=True)


@pytest.fixture
def browser(container: Container) -> Iterator[Browser]:
    yield from signed_in_browsers(container)


def _count(container: Container, table: object, *where: object) -> int:
    with container.uow() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(table).where(*where)))  # type: ignore[arg-type]


def _form_key(page: str) -> str:
    match = re.search(r'name="form_key" value="([0-9a-f]+)"', page)
    assert match
    return match.group(1)


def _record(agency: TestClient, **fields: str) -> tuple[str, dict[str, str]]:
    page = agency.get("/chronic/new", headers=PAGE)
    assert page.status_code == 200
    data = {
        "csrf_token": csrf_token(agency, "/chronic/new"),
        "form_key": _form_key(page.text),
        "id_number": XIE_ID,
        "disease_code": "M03900",
        "begin_on": "2026-03-02",
        "end_on": "",
        "hospital_code": "H43040000001",
        "doctor_name": "李医生",
        "reference": "HY-2026-0001",
    } | fields
    response = agency.post("/chronic/new", data=data, headers=PAGE, follow_redirects=False)
    return response.headers.get("location", "") if response.status_code == 303 else (
        f"{response.status_code}:{response.text}"
    ), data


def test_the_agency_records_once_ends_and_lists_a_recognition(
    browser: Browser, container: Container
) -> None:
    agency = browser("hengyang")
    form = agency.get("/chronic/new", headers=PAGE).text
    assert '<option value="M03900" lang="zh-CN">高血压</option>' in form  # names, not bare codes
    assert "认定门诊慢特病" in form
    assert "/chronic" in agency.get("/agency", headers=PAGE).text  # the nav entry

    location, data = _record(agency)
    assert location.startswith("/chronic/CR") and location.endswith("?done=recorded"), location
    # the same form sent again (a double click, a resend) answers the first recognition
    again = agency.post("/chronic/new", data=data, headers=PAGE, follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"] == location
    assert _count(container, chronic_recognitions) == 1

    reads = _count(container, audit_log, audit_log.c.action == "chronic.read")
    detail = agency.get(location, headers=PAGE)
    assert detail.status_code == 200
    assert XIE_ID in detail.text and "高血压" in detail.text and "HY-2026-0001" in detail.text
    assert _count(container, audit_log, audit_log.c.action == "chronic.read") == reads + 1

    listing = agency.get("/chronic", headers=PAGE).text
    assert "谢德明" in listing and XIE_ID not in listing
    assert re.search(r"<code>4304\*+0315</code>|<code>430421\*+\d*</code>", listing), listing
    assert "谢德明" in agency.get("/chronic?disease=M03900&state=active", headers=PAGE).text
    assert "谢德明" not in agency.get("/chronic?state=ended", headers=PAGE).text
    assert "谢德明" not in agency.get("/chronic?disease=M01600", headers=PAGE).text

    path = location.split("?")[0]
    ended = agency.post(
        f"{path}/end",
        data={
            "csrf_token": csrf_token(agency, path),
            "end_on": "2026-10-31",
            "reason": "病情好转，复评不符合",
        },
        headers=PAGE,
        follow_redirects=False,
    )
    assert ended.status_code == 303 and ended.headers["location"] == f"{path}?done=ended"
    page = agency.get(ended.headers["location"], headers=PAGE).text
    assert "已终止" in page and "2026-10-31" in page and 'id="end-form"' not in page
    assert "谢德明" in agency.get("/chronic?state=ended", headers=PAGE).text
    assert "谢德明" not in agency.get("/chronic?state=active", headers=PAGE).text

    english = agency.get(f"{path}?lang=en", headers=PAGE).text
    assert "Recognition detail" in english and "ended" in english


def test_an_overlap_and_a_disease_not_listed_are_refused_and_write_nothing(
    browser: Browser, container: Container
) -> None:
    agency = browser("hengyang")
    first, _ = _record(agency)
    assert first.startswith("/chronic/CR")
    audits = _count(container, audit_log)

    overlap, _ = _record(agency, begin_on="2026-06-01", reference="HY-2026-0002")
    assert overlap.startswith("409:"), overlap[:200]
    assert "CHRONIC_RECOGNITION_OVERLAP" in overlap and "重叠" in overlap

    unlisted, _ = _record(agency, begin_on="2020-01-01", reference="HY-2026-0003")
    assert unlisted.startswith("422:"), unlisted[:200]
    assert "CHRONIC_DISEASE_NOT_LISTED_ON_DATE" in unlisted
    unknown, _ = _record(agency, disease_code="M99999", reference="HY-2026-0004")
    assert unknown.startswith("422:") and "CHRONIC_DISEASE_UNKNOWN" in unknown

    # the list of another begin date: before September 2021 no disease settles across provinces
    refreshed, _ = _record(agency, begin_on="2021-08-31", intent="refresh")
    assert refreshed.startswith("200:") and 'value="M03900"' not in refreshed
    assert "2021-08-31" in refreshed

    stranger, _ = _record(agency, id_number="110101199003078515")
    assert stranger.startswith("422:") and "PERSON_NOT_FOUND" in stranger

    assert _count(container, chronic_recognitions) == 1
    assert _count(container, audit_log) == audits

    english = agency.post(
        "/chronic/new?lang=en",
        data={
            "csrf_token": csrf_token(agency, "/chronic/new"),
            "id_number": XIE_ID,
            "disease_code": "M03900",
            "begin_on": "2026-05-01",
            "reference": "HY-2026-0005",
        },
        headers=PAGE,
    )
    assert english.status_code == 409 and "CHRONIC_RECOGNITION_OVERLAP" in english.text
    assert "Record a recognition" in english.text


def test_a_bad_end_is_refused_on_the_detail_page(browser: Browser, container: Container) -> None:
    agency = browser("hengyang")
    location, _ = _record(agency, end_on="2026-12-31")
    path = location.split("?")[0]
    token = csrf_token(agency, path)
    late = agency.post(
        f"{path}/end",
        data={"csrf_token": token, "end_on": "2027-06-30", "reason": "迁出本统筹区"},
        headers=PAGE,
    )
    assert late.status_code == 422 and "CHRONIC_RECOGNITION_END_AFTER_PERIOD" in late.text
    no_reason = agency.post(
        f"{path}/end", data={"csrf_token": token, "end_on": "2026-10-31"}, headers=PAGE
    )
    assert no_reason.status_code == 422 and "CHRONIC_END_REASON_REQUIRED" in no_reason.text
    assert _count(container, audit_log, audit_log.c.action == "chronic.end") == 0


def test_the_province_reads_the_person_sees_his_own_and_other_regions_see_nothing(
    browser: Browser,
) -> None:
    agency = browser("hengyang")
    location, _ = _record(agency)
    path = location.split("?")[0]

    province = browser("hunan")
    listing = province.get("/chronic", headers=PAGE).text
    assert "谢德明" in listing and 'id="new-recognition"' not in listing
    detail = province.get(path, headers=PAGE)
    assert detail.status_code == 200 and 'id="end-form"' not in detail.text
    assert province.get("/chronic/new", headers=PAGE).status_code == 403

    other = browser("zhengzhou")
    assert "谢德明" not in other.get("/chronic", headers=PAGE).text
    assert other.get(path, headers=PAGE).status_code == 404

    person = browser("xiedeming")
    mine = person.get("/me/chronic", headers=PAGE)
    assert mine.status_code == 200 and "高血压" in mine.text and path in mine.text
    assert "/me/chronic" in person.get("/me", headers=PAGE).text
    own = person.get(path, headers=PAGE)
    assert own.status_code == 200 and 'id="end-form"' not in own.text
    assert (
        person.get("/chronic", headers=PAGE, follow_redirects=False).headers["location"]
        == "/me/chronic"
    )
    assert browser("laoxie").get(path, headers=PAGE).status_code == 404
    assert "My chronic-disease recognitions" in person.get("/me/chronic?lang=en", headers=PAGE).text
