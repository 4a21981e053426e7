"""Designated retail pharmacy over REST: pre-settle (2101), settle (2102, idempotent by key) and
cancel (2103 through the settlement reversal) a purchase, for the 博白 pharmacy's cashier.

Amounts: the hand computation of ``tests/e2e/test_pharmacy_gateway.py`` (module docstring),
here without the personal account: total 173.20, fully self-paid 50.00, in scope 123.20, no
fund, cash 173.20.
"""

from __future__ import annotations

from decimal import Decimal

from fastapi.testclient import TestClient

from hospital_support import BOBAI_CASHIER, XIE_CARD, token_for
from yidi.bootstrap import Container
from yidi.kernel.access import Principal, Role

PHARMACY_CASHIER = Principal("bbyf", Role.HOSPITAL_CASHIER, hospital_code="P45092300001")
DRUGS = [
    ("XC08CAA010A001010100009", "苯磺酸氨氯地平片", "28", "1.20", "33.60"),
    ("XC10AAA200A001010101234", "阿托伐他汀钙片", "28", "3.20", "89.60"),
    ("XA11GAV001A001010100010", "维生素C泡腾片", "2", "25.00", "50.00"),
]


def _body(total: str = "173.20") -> dict[str, object]:
    return {
        "cert_type": "03",
        "cert_no": XIE_CARD,
        "purchased_at": "2026-11-20T10:00:00+08:00",
        "total_charges": total,
        "prescription_numbers": ["RX450923202611200001"],
        "lines": [
            {
                "serial": f"YD{index + 1}",
                "catalog_code": code,
                "name": name,
                "quantity": quantity,
                "unit_price": price,
                "amount": amount,
                "occurred_at": "2026-11-20T10:00:00+08:00",
            }
            for index, (code, name, quantity, price, amount) in enumerate(DRUGS)
        ],
    }


def test_a_pharmacy_cashier_settles_a_purchase_and_cancels_it(
    client: TestClient, container: Container, world: None
) -> None:
    headers = token_for(container, PHARMACY_CASHIER)
    pre = client.post("/api/hospital/purchases/pre-settle", json=_body(), headers=headers)
    assert pre.status_code == 200, pre.text
    assert pre.json()["kind"] == "pre_settle" and pre.json()["setl_id"] is None
    keyed = headers | {"Idempotency-Key": "bbyf-purchase-1"}
    settled = client.post("/api/hospital/purchases", json=_body(), headers=keyed)
    assert settled.status_code == 201, settled.text
    result = settled.json()
    amounts = {
        k: Decimal(str(result["amounts"][k]))
        for k in ("total_charges", "fully_self_paid", "cash_paid")
    }
    assert amounts == {
        "total_charges": Decimal("173.20"),
        "fully_self_paid": Decimal("50.00"),
        "cash_paid": Decimal("173.20"),
    }
    again = client.post("/api/hospital/purchases", json=_body(), headers=keyed)
    assert again.status_code == 201 and again.json()["setl_id"] == result["setl_id"]
    mdtrt_id = result["mdtrt_id"]
    listed = client.get("/api/hospital/encounters", headers=headers).json()
    assert [(row["mdtrt_id"], row["med_type"]) for row in listed] == [(mdtrt_id, "41")]
    reversal = client.post(
        f"/api/hospital/encounters/{mdtrt_id}/settlements/{result['setl_id']}/reversal",
        headers=headers,
    )
    assert reversal.status_code == 200, reversal.text
    assert Decimal(str(reversal.json()["amounts"]["total_charges"])) == Decimal("-173.20")
    detail = client.get(f"/api/hospital/encounters/{mdtrt_id}", headers=headers).json()
    assert detail["encounter"]["state"] == "cancelled"


def test_a_hospital_cashier_is_told_purchases_belong_to_pharmacies(
    client: TestClient, container: Container, world: None
) -> None:
    headers = token_for(container, BOBAI_CASHIER)
    refused = client.post("/api/hospital/purchases", json=_body(), headers=headers)
    assert refused.status_code in (409, 422), refused.text
    error = refused.json()["error"]
    assert error["code"] == "INSTITUTION_NOT_PHARMACY" and "定点医疗机构" in error["message"]
    assert client.get("/api/hospital/encounters", headers=headers).json() == []


def test_a_purchase_paid_from_the_bound_relatives_account(
    client: TestClient, container: Container, world: None
) -> None:
    """家庭共济 over REST: refused (nothing written) until 李某某 registers her spouse 谢某某;
    then her account pays his purchase up to its balance (the pharmacy scheme of 430400
    allows family payment from 2022)."""
    import datetime as dt

    from hospital_support import PERSON_ID, UNFILED_ID
    from yidi.accounts import commands as accounts

    headers = token_for(container, PHARMACY_CASHIER)
    family = _body() | {"family_account": True}
    unbound = client.post("/api/hospital/purchases", json=family, headers=headers)
    assert unbound.status_code == 422, unbound.text
    assert unbound.json()["error"]["code"] == "ACCOUNT_FAMILY_NOT_BOUND"
    assert client.get("/api/hospital/encounters", headers=headers).json() == []
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
        amount="60.00",
        reference="HN-LI",
        source="单位缴费划入",
        actor="test",
    )
    paid = client.post("/api/hospital/purchases", json=family, headers=headers)
    assert paid.status_code == 201, paid.text
    amounts = paid.json()["amounts"]
    assert Decimal(str(amounts["personal_account_paid"])) == Decimal("60.00")
    assert Decimal(str(amounts["cash_paid"])) == Decimal("113.20")
