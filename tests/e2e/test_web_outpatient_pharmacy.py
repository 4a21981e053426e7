"""The outpatient cashier and the pharmacy till over HTTP: a general visit registered by card,
its fees pasted and settled with the personal account, the amount due first and the receipt;
a 门诊慢特病 visit whose disease is picked by name from the person's recognitions (and an
unknown disease refused); a pharmacy sale pre-settled and settled in one form; and the
refusals with their codes: outpatient fees on an inpatient stay, a pharmacy on the hospital
pages, a hospital at the pharmacy till.

Amounts: the hand computations of ``test_hospital_gateway_outpatient.py`` (408.60, the fund
92.04, the person 316.56, of which the account pays 100.00 here), of
``test_hospital_gateway_chronic.py`` (高血压: the fund 273.28) and of
``test_pharmacy_gateway.py`` (173.20, all the person's: the account 100.00, cash 73.20).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from hospital_support import PERSON_ID, XIE_CARD, build_world
from yidi.accounts import commands as accounts
from yidi.bootstrap import Container
from yidi.chronic.model import Evidence, NewRecognition
from yidi.demo.loader import load_reference_world
from yidi.entrypoints.app import create_app
from yidi.platform.tables import encounters, fee_lines, hospitals, settlements

sys.path.insert(0, str(Path(__file__).parent))
from filing_support import HENGYANG
from web_helpers import PAGE, csrf_token, hash_once, sign_in

VISIT_ROWS = [
    ("1", "002501000010000", "血细胞分析（血常规）", "1", "20.00"),
    ("2", "002301000010000", "常规心电图检查", "2", "25.00"),
    ("3", "002302010010000", "X线计算机体层（CT）平扫", "1", "280.00"),
    ("4", "XC08CAA010A001010100009", "苯磺酸氨氯地平片", "28", "1.20"),
    ("5", "XA11GAV001A001010100010", "维生素C泡腾片", "1", "25.00"),
]
DRUG_ROWS = [
    ("YD1", "XC08CAA010A001010100009", "苯磺酸氨氯地平片", "28", "1.20"),
    ("YD2", "XC10AAA200A001010101234", "阿托伐他汀钙片", "28", "3.20"),
    ("YD3", "XA11GAV001A001010100010", "维生素C泡腾片", "2", "25.00"),
]


def _text(rows: list[tuple[str, str, str, str, str]], when: str = "2026-11-20 10:00") -> str:
    return "\n".join(
        ",".join(
            [s, code, name, q, p, str((Decimal(q) * Decimal(p)).quantize(Decimal("0.01"))), when]
        )
        for s, code, name, q, p in rows
    )


@pytest.fixture(autouse=True)
def _world(container: Container, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("yidi.demo.loader.hash_password", hash_once)
    build_world(container)
    load_reference_world(container.uow())
    accounts.credit(
        container.uow(),
        container.clock,
        id_number=PERSON_ID,
        year=2026,
        amount="100.00",
        reference="HN-2026-WEB",
        source="单位缴费划入",
        actor="test",
    )


@pytest.fixture
def web(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container), base_url="http://127.0.0.1:8000") as client:
        yield client


def _post(web: TestClient, path: str, page: str, **data: str) -> httpx2.Response:
    token = csrf_token(web, page)
    return web.post(path, data={"csrf_token": token, **data}, headers=PAGE, follow_redirects=False)


def _register(web: TestClient, **data: str) -> httpx2.Response:
    fields = {"card": XIE_CARD, "kind": "general", "registered_at": "2026-11-20T09:30"}
    return _post(web, "/hospital/visits", "/hospital/visits/new", **(fields | data))


def _visit_id(response: httpx2.Response) -> str:
    assert response.status_code == 303, response.text
    found = re.search(r"/hospital/visits/([A-Z0-9]+)\?done=register", response.headers["location"])
    assert found, response.headers["location"]
    return found.group(1)


def _due(html: str) -> str:
    found = re.search(r'id="settlement-due-value">([0-9.\-]+)<', html)
    assert found, "the amount due is on the page"
    return found.group(1)


def _count(container: Container, table: object) -> int:
    with container.uow() as uow:
        return int(uow.session.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def test_a_general_visit_from_card_to_receipt_with_the_personal_account(
    web: TestClient, container: Container
) -> None:
    sign_in(web, "bobai")
    form = web.get("/hospital/visits/new")
    assert form.status_code == 200 and re.search(r'id="card"[^>]*autofocus', form.text)
    checked = _post(web, "/hospital/visits/check", "/hospital/visits/new", card=XIE_CARD)
    assert checked.status_code == 200 and 'data-verdict="direct"' in checked.text
    assert re.search(r'id="account-balance">100.00<', checked.text)
    visit_id = _visit_id(_register(web, department="A03"))
    page = web.get(f"/hospital/visits/{visit_id}?done=register")
    assert page.status_code == 200 and "普通门诊（11）" in page.text
    assert re.search(r'id="fee_text"[^>]*autofocus', page.text)
    uploaded = _post(
        web,
        f"/hospital/visits/{visit_id}/fees",
        f"/hospital/visits/{visit_id}",
        fee_text=_text(VISIT_ROWS),
    )
    assert uploaded.status_code == 200 and uploaded.text.count('data-uploaded="1"') == 5
    assert re.search(r'id="total_charges"[^>]*value="408.60"[^>]*autofocus', uploaded.text)
    assert re.search(r'id="use_account"[^>]*checked', uploaded.text)
    preview = _post(
        web,
        f"/hospital/visits/{visit_id}/pre-settle",
        f"/hospital/visits/{visit_id}",
        use_account="yes",
    )
    assert preview.status_code == 200 and 'id="preview-due-value">216.56<' in preview.text
    assert _count(container, settlements) == 0  # the pre-settlement writes nothing
    settled = _post(
        web,
        f"/hospital/visits/{visit_id}/settle",
        f"/hospital/visits/{visit_id}",
        total_charges="408.60",
        use_account="yes",
    )
    assert settled.status_code == 303
    shown = web.get(settled.headers["location"])
    assert _due(shown.text) == "216.56"
    assert re.search(r'data-amount="personal_account_paid">100.00<', shown.text)
    assert re.search(r'data-amount="pooled_fund_paid">92.04<', shown.text)
    assert re.search(r'id="account-balance">0.00<', shown.text)
    setl = re.search(r'id="settlement-id">([A-Z0-9]+)<', shown.text)
    assert setl
    receipt = web.get(
        f"/hospital/encounters/{visit_id}/settlements/{setl.group(1)}/receipt",
        params={"method": "cash", "tendered": "300"},
    )
    assert receipt.status_code == 200 and 'id="receipt-change">83.44<' in receipt.text
    # The inpatient page of a visit is the visit's page.
    moved = web.get(f"/hospital/encounters/{visit_id}", follow_redirects=False)
    assert moved.status_code == 303 and moved.headers["location"] == f"/hospital/visits/{visit_id}"


def test_a_chronic_visit_takes_the_disease_by_name_and_refuses_an_unknown_one(
    web: TestClient, container: Container
) -> None:
    container.chronic.recognise(
        HENGYANG,
        PERSON_ID,
        NewRecognition(
            "M03900",
            container.clock.today().replace(month=1, day=1),
            None,
            Evidence(reference="JD-1"),
        ),
    )
    with container.uow() as uow:
        uow.session.execute(
            update(hospitals)
            .where(hospitals.c.fixmedins_code == "H45092300001")
            .values(connected_kinds="inpatient,outpatient,chronic")
        )
        uow.commit()
    sign_in(web, "bobai")
    checked = _post(web, "/hospital/visits/check", "/hospital/visits/new", card=XIE_CARD)
    assert '<option value="M03900" selected>高血压（M03900）</option>' in checked.text
    assert re.search(r'id="kind-chronic"[^>]*checked', checked.text)
    unknown = _register(web, kind="chronic", disease_code="M01600")
    assert unknown.status_code == 422 and "CHRONIC_NOT_RECOGNISED" in unknown.text
    missing = _register(web, kind="chronic", disease_code="")
    assert missing.status_code == 422 and "门诊慢特病须选择病种" in missing.text
    assert _count(container, encounters) == 0
    visit_id = _visit_id(_register(web, kind="chronic", disease_code="M03900"))
    page = web.get(f"/hospital/visits/{visit_id}")
    assert "门诊慢特病（14）" in page.text and "高血压（M03900）" in page.text
    _post(
        web,
        f"/hospital/visits/{visit_id}/fees",
        f"/hospital/visits/{visit_id}",
        fee_text=_text(VISIT_ROWS),
    )
    settled = _post(
        web,
        f"/hospital/visits/{visit_id}/settle",
        f"/hospital/visits/{visit_id}",
        total_charges="408.60",
    )
    shown = web.get(settled.headers["location"])
    assert re.search(r'data-amount="pooled_fund_paid">273.28<', shown.text)
    assert _due(shown.text) == "135.32"


def test_outpatient_fees_on_an_inpatient_stay_are_refused_and_nothing_is_written(
    web: TestClient, container: Container
) -> None:
    sign_in(web, "bobai")
    admitted = _post(
        web,
        "/hospital/encounters",
        "/hospital/check",
        card=XIE_CARD,
        department="A04.01",
        admitted_at="2026-11-20T08:00",
        diagnosis_main="K80.100",
        med_type="21",
    )
    assert admitted.status_code == 303
    stay = admitted.headers["location"].split("/")[-1].split("?")[0]
    refused = _post(
        web,
        f"/hospital/visits/{stay}/fees",
        f"/hospital/encounters/{stay}",
        fee_text=_text(VISIT_ROWS),
    )
    assert refused.status_code == 409
    assert 'id="refusal-code">VISIT_NOT_OUTPATIENT<' in refused.text and "住院" in refused.text
    assert _count(container, fee_lines) == 0
    page = web.get(f"/hospital/visits/{stay}")
    assert page.status_code == 409 and "VISIT_NOT_OUTPATIENT" in page.text


def test_a_pharmacy_sale_pre_settled_and_settled_in_one_form(
    web: TestClient, container: Container
) -> None:
    sign_in(web, "bobaiyaofang")
    till = web.get("/pharmacy/sale")
    assert till.status_code == 200 and re.search(r'id="card"[^>]*autofocus', till.text)
    fields = {
        "card": XIE_CARD,
        "fee_text": _text(DRUG_ROWS),
        "prescriptions": "RX450923202611200001",
        "use_account": "yes",
    }
    preview = _post(web, "/pharmacy/sale/pre-settle", "/pharmacy/sale", **fields)
    assert preview.status_code == 200 and 'id="preview-due-value">73.20<' in preview.text
    assert re.search(r'id="settle-submit"[^>]*autofocus', preview.text)
    assert _count(container, settlements) == 0
    sold = _post(web, "/pharmacy/sale", "/pharmacy/sale", form_key="K1", **fields)
    assert sold.status_code == 303, sold.text
    again = _post(web, "/pharmacy/sale", "/pharmacy/sale", form_key="K1", **fields)
    assert again.headers["location"] == sold.headers["location"]  # a resent form: one sale
    assert _count(container, settlements) == 1
    shown = web.get(sold.headers["location"])
    assert _due(shown.text) == "73.20" and "RX450923202611200001" in shown.text
    assert re.search(r'data-amount="personal_account_paid">100.00<', shown.text)
    # An unknown drug code: every one listed, nothing written.
    bad = fields | {"fee_text": _text([("YD9", "X0000000", "未知药", "1", "9.00")])}
    refused = _post(web, "/pharmacy/sale/pre-settle", "/pharmacy/sale", **bad)
    assert refused.status_code == 422 and "X0000000" in refused.text
    assert _count(container, settlements) == 1


def test_each_institution_is_refused_the_other_kind_of_page(web: TestClient) -> None:
    sign_in(web, "bobaiyaofang")
    for path in ("/hospital/check", "/hospital/visits/new"):
        page = web.get(path)
        assert (
            page.status_code == 403 and 'id="refusal-code">INSTITUTION_NOT_HOSPITAL<' in page.text
        )
    admit = _post(web, "/hospital/encounters", "/pharmacy/sale", card=XIE_CARD, department="A03")
    assert admit.status_code == 403 and "INSTITUTION_NOT_HOSPITAL" in admit.text
    web.post("/signout", headers=PAGE)
    hospital = TestClient(web.app, base_url="http://127.0.0.1:8000")
    sign_in(hospital, "bobai")
    till = hospital.get("/pharmacy/sale")
    assert till.status_code == 403 and 'id="refusal-code">INSTITUTION_NOT_PHARMACY<' in till.text
    sale = _post(hospital, "/pharmacy/sale", "/hospital/visits/new", card=XIE_CARD)
    assert sale.status_code == 403 and "INSTITUTION_NOT_PHARMACY" in sale.text


def test_the_till_pays_from_a_registered_relatives_account(
    web: TestClient, container: Container
) -> None:
    """家庭共济 at the till: refused with its code until 李某某 registers her spouse 谢某某;
    then her account pays his purchase (his own 100.00 stays)."""
    import datetime as dt

    from hospital_support import UNFILED_ID

    sign_in(web, "bobaiyaofang")
    fields = {"card": XIE_CARD, "fee_text": _text(DRUG_ROWS), "family_account": "yes"}
    refused = _post(web, "/pharmacy/sale", "/pharmacy/sale", **fields)
    assert refused.status_code == 422 and "ACCOUNT_FAMILY_NOT_BOUND" in refused.text
    assert re.search(r'id="family_account"[^>]*checked', refused.text)
    accounts.bind_family(
        container.uow(),
        container.clock,
        holder_id_number=UNFILED_ID,
        member_id_number=PERSON_ID,
        relation="spouse",
        valid_from=dt.date(2026, 1, 1),
        reference="JT-1",
        actor="hengyang",
    )
    accounts.credit(
        container.uow(),
        container.clock,
        id_number=UNFILED_ID,
        year=2026,
        amount="50.00",
        reference="HN-LI",
        source="单位缴费划入",
        actor="test",
    )
    sold = _post(web, "/pharmacy/sale", "/pharmacy/sale", **fields)
    assert sold.status_code == 303, sold.text
    shown = web.get(sold.headers["location"])
    assert re.search(r'data-amount="personal_account_paid">50.00<', shown.text)
    assert _due(shown.text) == "123.20"
