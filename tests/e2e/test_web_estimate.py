"""The insured person's admission estimate page over HTTP: result, CSRF, roles, field errors."""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

import httpx2
import pytest
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).parent))
from web_helpers import PAGE, csrf_token, sign_in

pytestmark = pytest.mark.usefixtures("hospital_demo_world")


PLAN = {
    "treatment_region_code": "450923",
    "hospital_level": "2",
    "planned_total": "20000.00",
    "class_b_amount": "3000.00",
    "class_c_amount": "1500.00",
}


def _post(web: TestClient, data: dict[str, str]) -> httpx2.Response:
    token = csrf_token(web, "/me/estimate")
    return web.post(
        "/me/estimate", data={"csrf_token": token, **data}, headers=PAGE, follow_redirects=False
    )


def _amount(html: str, element_id: str) -> str:
    start = html.index(f'id="{element_id}">') + len(f'id="{element_id}">')
    return html[start : html.index("<", start)]


def test_an_insured_person_sees_the_estimate_with_its_steps(web: TestClient) -> None:
    sign_in(web, "laoxie")
    form = web.get("/me/estimate", headers=PAGE)
    assert form.status_code == 200 and 'for="planned_total"' in form.text
    page = _post(web, PLAN)
    assert page.status_code == 200
    assert "估算结果（非结算）" in page.text and "可在就医地直接结算" in page.text
    total, fund, patient = (
        _amount(page.text, name) for name in ("estimate-total", "estimate-fund", "estimate-patient")
    )
    assert Decimal(total) == Decimal(fund) + Decimal(patient) == Decimal("20000.00")
    assert Decimal(patient) >= Decimal("1500.00")
    assert "起付" in page.text  # the engine's step-by-step explanation


def test_the_estimate_form_needs_its_csrf_token(web: TestClient) -> None:
    sign_in(web, "laoxie")
    refused = web.post(
        "/me/estimate", data={"csrf_token": "forged", **PLAN}, headers=PAGE, follow_redirects=False
    )
    assert refused.status_code == 403
    assert "估算结果" not in refused.text


def test_a_negative_amount_is_named_next_to_its_field(web: TestClient) -> None:
    sign_in(web, "laoxie")
    page = _post(web, PLAN | {"class_c_amount": "-10"})
    assert page.status_code == 422
    assert "丙类（全自费）金额不能为负数" in page.text
    assert 'id="class_c_amount-error"' in page.text
    assert "估算结果" not in page.text


def test_other_roles_may_not_open_the_estimate(web: TestClient) -> None:
    sign_in(web, "bobai")
    assert web.get("/me/estimate", headers=PAGE, follow_redirects=False).status_code == 403
