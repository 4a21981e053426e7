"""The one-page filing form (附件1) over HTTP: the agency handler files for its region with a
scan, field errors create nothing, the region selects are filtered on the server, access and
CSRF; the insured person's old address of the form leads to the step-by-step filing."""

from __future__ import annotations

import datetime as dt
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient

from yidi.bootstrap import Container
from yidi.entrypoints.app import create_app
from yidi.kernel.identity import Gender, make_resident_id

sys.path.insert(0, str(Path(__file__).parent))
from web_helpers import PAGE, csrf_token, load_demo_world, sign_in

ZHENGZHOU_PERSON = make_resident_id("410102", dt.date(1980, 1, 1), 12, Gender.FEMALE).number
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def _demo_world(container: Container, monkeypatch: pytest.MonkeyPatch) -> None:
    # 谢德明 (xiedeming) in the register, with one submitted filing.
    load_demo_world(container, monkeypatch, filings=True)


@pytest.fixture
def web(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container), base_url="http://127.0.0.1:8000") as client:
        yield client


def _long_term_resident(**changes: str) -> dict[str, str]:
    return {
        "name": "谢德明",
        "gender": "1",
        "insurance_type": "310",
        "person_type": "employee_retired",
        "category": "long_term_resident",
        "social_security_card_number": "H43042100031",
        "has_second_generation_card": "yes",
        "home_address": "湖南省衡阳县西渡镇蒸阳路18号",
        "contact_address": "广西壮族自治区博白县博白镇城南路6号",
        "phone": "0775-8221234",
        "mobile": "13807340315",
        "destination_province_code": "450000",
        "destination_prefecture_code": "450900",
        "destination_county_code": "450923",
        "institution_0_name": "博白县人民医院",
        "institution_0_level": "2",
        "signed_by": "person",
        "filled_on": "2026-11-20",
        "evidence_kind": "residence_permit",
        "evidence_number": "居-450923-0001",
        "evidence_issuer": "博白县公安局",
        "evidence_issued_on": "2026-03-01",
        "evidence_region": "450923",
    } | changes


def _post_form(
    web: TestClient,
    path: str,
    data: dict[str, str],
    files: dict[str, Any] | None = None,
) -> httpx2.Response:
    token = csrf_token(web, path)
    return web.post(
        path,
        data={"csrf_token": token, **data},
        files=files,
        headers=PAGE,
        follow_redirects=False,
    )


XIE = {"social_security_number": "430421195206180315", "insured_region_code": "430421"}


def _filing_count(web: TestClient) -> int:
    return web.get("/filings", headers=PAGE).text.count("data-state=")


def test_the_insured_persons_old_form_address_leads_to_the_step_by_step_filing(
    web: TestClient,
) -> None:
    sign_in(web, "xiedeming")
    plain = web.get("/me/filings/new", headers=PAGE, follow_redirects=False)
    assert plain.status_code == 303 and plain.headers["location"] == "/me/filings/wizard"
    typed = web.get("/me/filings/new?category=referral", headers=PAGE, follow_redirects=False)
    assert typed.status_code == 303
    assert typed.headers["location"] == "/me/filings/wizard?category=referral"
    wizard = web.get(typed.headers["location"], headers=PAGE).text
    assert 'value="referral" checked' in wizard  # the type it named is already chosen
    assert 'href="/me/filings/new"' not in web.get("/me/filings", headers=PAGE).text
    posted = web.post("/me/filings/new", data=_long_term_resident(), headers=PAGE)
    assert posted.status_code == 405  # the person files only step by step


def test_the_agency_handler_files_with_a_scan_and_sees_it_submitted(web: TestClient) -> None:
    sign_in(web, "hengyang")
    form = web.get("/filings/new", headers=PAGE)
    assert form.status_code == 200
    assert 'data-category="retiree_resettled"' in form.text and "安置地户口" in form.text
    created = _post_form(
        web,
        "/filings/new",
        _long_term_resident(intent="submit", **XIE),
        files={"evidence_file": ("permit.png", PNG, "image/png")},
    )
    assert created.status_code == 303, created.text
    assert re.fullmatch(r"/filings/([0-9a-f]+)\?done=submit", created.headers["location"])
    detail = web.get(created.headers["location"], headers=PAGE).text
    assert 'data-state="submitted"' in detail
    assert "permit.png" in detail and "居住证" in detail


def test_a_faulty_form_shows_each_error_by_its_field_and_creates_nothing(
    web: TestClient,
) -> None:
    sign_in(web, "hengyang")
    before = _filing_count(web)
    faulty = _post_form(
        web,
        "/filings/new",
        _long_term_resident(intent="submit", category="", phone="12", mobile="", **XIE),
    )
    assert faulty.status_code == 422
    assert 'id="category-error"' in faulty.text
    assert 'id="phone-error"' in faulty.text
    assert 'id="error-summary"' in faulty.text
    not_a_scan = _post_form(
        web,
        "/filings/new",
        _long_term_resident(intent="submit", **XIE),
        files={"evidence_file": ("permit.png", b"plain text", "image/png")},
    )
    assert not_a_scan.status_code == 422
    assert 'id="evidence_file-error"' in not_a_scan.text
    assert "PDF、JPEG或PNG" in not_a_scan.text
    assert _filing_count(web) == before


def test_the_county_select_is_filtered_by_the_chosen_prefecture(web: TestClient) -> None:
    sign_in(web, "hengyang")
    refreshed = _post_form(
        web,
        "/filings/new",
        {"intent": "refresh", "destination_province_code": "450000"},
    )
    assert refreshed.status_code == 200
    assert '<option value="450900"' in refreshed.text  # 玉林市
    assert '<option value="450923"' not in refreshed.text  # no prefecture chosen yet
    county = _post_form(
        web,
        "/filings/new",
        {
            "intent": "refresh",
            "destination_province_code": "450000",
            "destination_prefecture_code": "450900",
        },
    )
    assert '<option value="450923"' in county.text  # 博白县


def test_the_agency_handler_files_for_its_region_with_the_same_form(web: TestClient) -> None:
    sign_in(web, "hengyang")
    form = web.get("/filings/new", headers=PAGE)
    assert form.status_code == 200 and '<option value="430421"' in form.text
    draft = _post_form(
        web,
        "/filings/new",
        _long_term_resident(
            intent="draft",
            social_security_number="430421195206180315",
            insured_region_code="430421",
        ),
    )
    assert draft.status_code == 303, draft.text
    assert draft.headers["location"].endswith("?done=draft")
    page = web.get(draft.headers["location"], headers=PAGE).text
    assert 'data-state="draft"' in page and 'id="evidence-form"' in page
    outside = _post_form(
        web,
        "/filings/new",
        _long_term_resident(
            intent="draft",
            social_security_number=ZHENGZHOU_PERSON,
            insured_region_code="410100",
        ),
    )
    assert outside.status_code == 403
    assert "只能为本统筹区参保人员办理备案" in outside.text


def test_each_role_opens_only_its_own_form_and_posts_need_the_token(web: TestClient) -> None:
    sign_in(web, "xiedeming")
    assert web.get("/filings/new", headers=PAGE).status_code == 403
    web.post("/signout", data={"csrf_token": csrf_token(web, "/me")}, headers=PAGE)
    sign_in(web, "hengyang")
    forged = web.post(
        "/filings/new",
        data={"csrf_token": "forged", **_long_term_resident(intent="submit", **XIE)},
        headers=PAGE,
    )
    assert forged.status_code == 403
    web.post("/signout", data={"csrf_token": csrf_token(web, "/me")}, headers=PAGE)
    sign_in(web, "bobai")
    assert web.get("/me/filings/new", headers=PAGE).status_code == 403
    assert web.get("/filings/new", headers=PAGE).status_code == 403


def test_a_document_added_on_a_draft_shows_each_fault_by_its_field(web: TestClient) -> None:
    sign_in(web, "hengyang")
    draft = _post_form(
        web,
        "/filings/new",
        _long_term_resident(intent="draft", evidence_kind="", **XIE),
    )
    assert draft.status_code == 303, draft.text
    page = draft.headers["location"].split("?")[0]
    assert 'id="evidence-form"' in web.get(page, headers=PAGE).text
    document = {"evidence_kind": "residence_permit", "evidence_number": "居-450923-0002"}
    path = f"{page}/evidence"
    not_a_scan = _post_form(
        web, path, document, files={"evidence_file": ("permit.png", b"plain", "image/png")}
    )
    assert not_a_scan.status_code == 422
    assert re.search(r'id="evidence_file-error" role="alert">[^<]*PDF、JPEG或PNG', not_a_scan.text)
    assert 'value="居-450923-0002"' in not_a_scan.text  # what was typed stays
    no_kind = _post_form(
        web, path, {"evidence_kind": ""}, files={"evidence_file": ("permit.png", PNG, "image/png")}
    )
    assert no_kind.status_code == 422
    assert re.search(r'id="evidence_kind-error" role="alert">请选择材料种类<', no_kind.text)
    added = _post_form(
        web, path, document, files={"evidence_file": ("permit.png", PNG, "image/png")}
    )
    assert added.status_code == 303, added.text
    assert added.headers["location"].endswith("?done=evidence")
    table = re.search(
        r'<table id="evidence-table">.*?</table>',
        web.get(added.headers["location"], headers=PAGE).text,
        re.S,
    )
    assert table is not None and "permit.png" in table.group(0)
