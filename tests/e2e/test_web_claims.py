"""Manual reimbursement intake pages over HTTP: the checklist blocks approval until every
paper is in, fee lines as CSV, compute, approve, payment; scope, CSRF and field errors."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx2
import pytest
from fastapi.testclient import TestClient

from hospital_support import UNFILED_ID, XIE_LINES, build_world
from yidi.api.app import create_app
from yidi.bootstrap import Container
from yidi.services.demo import load_reference_world

sys.path.insert(0, str(Path(__file__).parent))
from web_helpers import PAGE, csrf_token, hash_once, sign_in


@pytest.fixture(autouse=True)
def _world(container: Container, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("yidi.services.demo.hash_password", hash_once)
    build_world(container)
    load_reference_world(container.uow())


@pytest.fixture
def web(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container), base_url="http://127.0.0.1:8000") as client:
        yield client


def _post(web: TestClient, path: str, page: str, data: dict[str, object]) -> httpx2.Response:
    token = csrf_token(web, page)
    return web.post(path, data={"csrf_token": token, **data}, headers=PAGE, follow_redirects=False)


CLAIM = {
    "id_number": UNFILED_ID,
    "treatment_region": "450923",
    "hospital_name": "博白县人民医院",
    "hospital_level": "2",
    "encounter_type": "21",
    "filing_category": "",
    "admitted_on": "2026-10-01",
    "discharged_on": "2026-10-10",
    "reason": "未办理异地就医备案",
}


def _csv() -> str:
    return "\n".join(
        f"{i},{code},{name},{qty},{price},"
        f"{(Decimal(qty) * Decimal(price)).quantize(Decimal('0.01'))},2026-10-03 09:00"
        for i, (code, name, qty, price) in enumerate(XIE_LINES, start=1)
    )


def _create(web: TestClient) -> str:
    created = _post(web, "/claims", "/claims/new", CLAIM)
    assert created.status_code == 303, created.text
    match = re.fullmatch(r"/claims/(MC[0-9A-Z]+)", created.headers["location"])
    assert match
    return match.group(1)


def test_the_handler_takes_a_claim_through_checklist_compute_approve_and_payment(
    web: TestClient,
) -> None:
    sign_in(web, "hengyang")
    form = web.get("/claims/new", headers=PAGE)
    assert form.status_code == 200 and "住院医疗费用总清单" in form.text
    claim_id = _create(web)
    page = f"/claims/{claim_id}"
    fresh = web.get(page, headers=PAGE).text
    assert 'id="blockers"' in fresh and "疾病诊断证明书" in fresh
    assert fresh.count('data-material="') == 4 and fresh.count(">缺<") == 4

    bad_lines = _post(web, f"{page}/fee-lines", page, {"fee_text": "1,X,名称,abc,1,1,2026-10-03"})
    assert bad_lines.status_code == 422 and 'id="fee-problems"' in bad_lines.text
    assert "数量“abc”不是数字" in bad_lines.text
    assert _post(web, f"{page}/fee-lines", page, {"fee_text": _csv()}).status_code == 303

    blocked = _post(web, f"{page}/approve", page, {})
    assert blocked.status_code == 422
    assert 'id="approve-error"' in blocked.text and "材料不全" in blocked.text
    received = _post(
        web,
        f"{page}/materials",
        page,
        {"received": ["inpatient_receipt", "discharge_record", "diagnosis_certificate"]},
    )
    assert received.status_code == 303
    still = _post(web, f"{page}/approve", page, {})
    assert (
        "住院医疗费用总清单" in still.text
        and "住院收据原件" not in still.text.split('id="approve-error"')[1].split("</p>")[0]
    )
    _post(web, f"{page}/materials", page, {"received": ["itemised_fee_list"]})
    computed = _post(web, f"{page}/compute", page, {})
    assert computed.status_code == 303
    shown = web.get(page, headers=PAGE).text
    assert 'data-state="computed"' in shown and "11811.24" in shown
    assert 'id="blockers"' not in shown
    assert _post(web, f"{page}/approve", page, {}).status_code == 303
    no_reference = _post(web, f"{page}/payment", page, {"reference": " "})
    assert no_reference.status_code == 422 and 'id="reference-error"' in no_reference.text
    paid = _post(web, f"{page}/payment", page, {"reference": "ZF-2026-0001"})
    assert paid.status_code == 303
    final = web.get(page, headers=PAGE).text
    assert 'data-state="paid"' in final and "ZF-2026-0001" in final


def test_the_new_claim_form_reports_errors_by_field(web: TestClient) -> None:
    sign_in(web, "hengyang")
    faulty = _post(
        web,
        "/claims",
        "/claims/new",
        CLAIM | {"treatment_region": "45", "admitted_on": "soon", "reason": ""},
    )
    assert faulty.status_code == 422
    for field in ("treatment_region", "admitted_on", "reason"):
        assert f'id="{field}-error"' in faulty.text
    unknown = _post(web, "/claims", "/claims/new", CLAIM | {"id_number": "11010119900307777X"})
    assert unknown.status_code == 422 and 'id="id_number-error"' in unknown.text


def test_claims_are_the_agency_handlers_and_only_their_regions(web: TestClient) -> None:
    sign_in(web, "hengyang")
    claim_id = _create(web)
    assert web.post(f"/claims/{claim_id}/compute", headers=PAGE).status_code == 403  # no token
    web.post("/signout", data={"csrf_token": csrf_token(web, "/agency")}, headers=PAGE)
    sign_in(web, "zhengzhou")
    theirs = web.get(f"/claims/{claim_id}", headers=PAGE)
    missing = web.get("/claims/MC-NONE", headers=PAGE)
    assert theirs.status_code == missing.status_code == 404
    web.post("/signout", data={"csrf_token": csrf_token(web, "/agency")}, headers=PAGE)
    sign_in(web, "bobai")
    assert web.get("/claims/new", headers=PAGE).status_code == 403
