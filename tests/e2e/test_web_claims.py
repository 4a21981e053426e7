"""Manual reimbursement intake pages over HTTP: the checklist blocks approval until every
paper is in, fee lines as CSV, compute, approve, payment; scope, CSRF and field errors."""

from __future__ import annotations

import datetime as dt
import re
import sys
from decimal import Decimal
from pathlib import Path

import httpx2
import pytest
from fastapi.testclient import TestClient

from filing_support import HENGYANG
from hospital_support import UNFILED_ID, XIE_LINES
from yidi.bootstrap import Container
from yidi.kernel.insurance import EncounterType, HospitalLevel
from yidi.settlement.manual import ManualClaimService

sys.path.insert(0, str(Path(__file__).parent))
from web_helpers import PAGE, csrf_token, sign_in

pytestmark = pytest.mark.usefixtures("hospital_demo_world")


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


def test_the_claims_list_shows_the_regions_claims_masked_and_links_to_each(
    web: TestClient,
) -> None:
    sign_in(web, "hengyang")
    assert 'href="/claims"' in web.get("/agency", headers=PAGE).text  # a card on the desk
    first = _create(web)
    second = _create(web)
    listed = web.get("/claims", headers=PAGE)
    assert listed.status_code == 200
    text = listed.text
    assert f'href="/claims/{first}"' in text and f'href="/claims/{second}"' in text
    assert UNFILED_ID not in text and UNFILED_ID[:6] + "********" in text
    assert text.count('data-materials="missing"') == 2 and "已收 0/4" in text
    assert text.count('data-state="draft"') == 2
    assert "共 2 件" in text
    detail = web.get(f"/claims/{first}", headers=PAGE).text
    assert 'id="claims-list-link"' in detail

    by_number = web.get("/claims", params={"q": first.lower()}, headers=PAGE).text
    assert f'data-claim="{first}"' in by_number and f'data-claim="{second}"' not in by_number
    by_id = web.get("/claims", params={"q": UNFILED_ID}, headers=PAGE).text
    assert "共 2 件" in by_id
    by_name = web.get("/claims", params={"q": "李某某", "state": "paid"}, headers=PAGE).text
    assert 'id="no-claims"' in by_name
    partial = web.get("/claims", params={"q": UNFILED_ID[:8]}, headers=PAGE)
    assert partial.status_code == 422 and 'id="q-error"' in partial.text
    assert "完整的18位身份证号" in partial.text
    bad = web.get("/claims", params={"received_from": "soon", "state": "lost"}, headers=PAGE)
    assert bad.status_code == 422
    assert 'id="received_from-error"' in bad.text and 'id="state-error"' in bad.text
    backwards = web.get(
        "/claims",
        params={"received_from": "2026-11-20", "received_to": "2026-11-01"},
        headers=PAGE,
    )
    assert backwards.status_code == 422 and 'id="received_to-error"' in backwards.text
    today = web.get(
        "/claims",
        params={"received_from": "2026-11-20", "received_to": "2026-11-20"},
        headers=PAGE,
    )
    assert "共 2 件" in today.text
    english = web.get("/claims?lang=en", headers=PAGE).text
    assert "Manual reimbursement claims of my region" in english and "2 claims" in english
    web.get("/claims?lang=zh", headers=PAGE)

    web.post("/signout", data={"csrf_token": csrf_token(web, "/agency")}, headers=PAGE)
    sign_in(web, "zhengzhou")
    theirs = web.get("/claims", headers=PAGE)
    assert (
        theirs.status_code == 200 and first not in theirs.text and 'id="no-claims"' in theirs.text
    )
    web.post("/signout", data={"csrf_token": csrf_token(web, "/agency")}, headers=PAGE)
    sign_in(web, "bobai")
    assert web.get("/claims", headers=PAGE).status_code == 403


def test_the_claims_list_pages_by_fifty_keeping_the_filters(
    web: TestClient, container: Container
) -> None:
    service = ManualClaimService(container.uow, container.clock)
    for _ in range(51):
        service.create(
            HENGYANG,
            id_number=UNFILED_ID,
            treatment_region="450923",
            hospital_name="博白县人民医院",
            hospital_level=HospitalLevel.LEVEL_2,
            encounter_type=EncounterType.INPATIENT,
            admitted_on=dt.date(2026, 10, 1),
            discharged_on=dt.date(2026, 10, 10),
            reason="未办理异地就医备案",
        )
    sign_in(web, "hengyang")
    first = web.get("/claims", params={"state": "draft"}, headers=PAGE).text
    assert first.count("data-claim=") == 50 and "第 1/2 页" in first
    match = re.search(r'href="([^"]+)" rel="next"', first)
    assert match and "state=draft" in match.group(1)
    second = web.get(match.group(1).replace("&amp;", "&"), headers=PAGE).text
    assert second.count("data-claim=") == 1 and 'rel="prev"' in second
    assert 'rel="next"' not in second
