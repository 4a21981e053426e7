"""Regions are entered and shown by name: the estimate, the filing form's 出具单位所在地 and
read-only 参保地, user administration's region, and the tree the picker script reads."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import httpx2
import pytest
from fastapi.testclient import TestClient

from yidi.bootstrap import Container
from yidi.demo.loader import load_demo_filings

sys.path.insert(0, str(Path(__file__).parent))
from test_web_filing_form import PNG, XIE, _long_term_resident

from web_helpers import PAGE, csrf_token, sign_in


@pytest.fixture(autouse=True)
def _world(container: Container, hospital_demo_world: None) -> None:
    load_demo_filings(container.uow, container.clock, container.filings)


def _post(
    web: TestClient, path: str, data: dict[str, str], page: str = "", **kw: object
) -> httpx2.Response:
    token = csrf_token(web, page or path)
    return web.post(
        path, data={"csrf_token": token, **data}, headers=PAGE, follow_redirects=False, **kw
    )


PLAN = {
    "hospital_level": "2",
    "planned_total": "20000.00",
    "class_b_amount": "0",
    "class_c_amount": "0",
}


def test_the_estimate_takes_the_treatment_region_by_name(web: TestClient) -> None:
    sign_in(web, "laoxie")
    form = web.get("/me/estimate", headers=PAGE).text
    assert "data-region-picker" in form and 'list="region-names"' in form
    assert '<datalist id="region-names">' in form and "广西壮族自治区玉林市" in form
    assert (
        "6 位" not in form
        and 'inputmode="numeric"' not in form.split("treatment_region_code")[1][:400]
    )
    by_name = _post(web, "/me/estimate", PLAN | {"treatment_region_code": "博白县"})
    by_code = _post(web, "/me/estimate", PLAN | {"treatment_region_code": "450923"})
    assert by_name.status_code == by_code.status_code == 200
    total = re.compile(r'id="estimate-patient">([^<]+)<')
    assert total.search(by_name.text).group(1) == total.search(by_code.text).group(1)  # type: ignore[union-attr]
    assert 'value="广西壮族自治区玉林市博白县"' in by_code.text  # a code is shown as its name
    ambiguous = _post(web, "/me/estimate", PLAN | {"treatment_region_code": "朝阳区"})
    assert ambiguous.status_code == 422
    assert 'id="treatment_region_code-error"' in ambiguous.text and "北京市朝阳区" in ambiguous.text
    empty = _post(web, "/me/estimate", PLAN | {"treatment_region_code": ""})
    assert empty.status_code == 422 and "请选择就医地" in empty.text


def test_the_filing_form_offers_the_insured_region_by_name_and_takes_the_issuer_place_by_name(
    web: TestClient,
) -> None:
    sign_in(web, "hengyang")
    form = web.get("/filings/new", headers=PAGE).text
    assert re.search(r'<option value="430421"[^>]*>衡阳县</option>', form)
    assert "data-region-cascade" in form and "data-region-refresh" in form
    created = _post(
        web,
        "/filings/new",
        _long_term_resident(intent="submit", evidence_region="玉林市博白县", **XIE),
        files={"evidence_file": ("permit.png", PNG, "image/png")},
    )
    assert created.status_code == 303, created.text
    detail = web.get(created.headers["location"], headers=PAGE).text
    assert "博白县" in detail.split("permit.png")[0]
    unknown = _post(
        web,
        "/filings/new",
        _long_term_resident(intent="submit", evidence_region="火星县", **XIE),
    )
    assert unknown.status_code == 422 and 'id="evidence_region-error"' in unknown.text


def test_the_administrator_gives_an_office_its_region_by_name(web: TestClient) -> None:
    sign_in(web, "admin")
    created = _post(
        web,
        "/admin/users",
        {
            "username": "hengyang.clerk",
            "password": "lantern-orchard-47",
            "role": "agency_handler",
            "region_code": "湖南省衡阳市",
        },
    )
    assert created.status_code == 303, created.text
    page = web.get("/admin/users/hengyang.clerk", headers=PAGE).text
    assert "湖南省衡阳市" in page and "430400" in page
    refused = _post(
        web,
        "/admin/users",
        {
            "username": "x.clerk",
            "password": "lantern-orchard-47",
            "role": "agency_handler",
            "region_code": "朝阳区",
        },
    )
    assert refused.status_code == 422 and "北京市朝阳区" in refused.text


def test_the_region_tree_is_public_cached_json(web: TestClient) -> None:
    response = web.get("/static/data/regions.json")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("cache-control", "")
    rows = json.loads(response.content)
    assert ["430421", "衡阳县", "430400", "c"] in rows
