"""The hospital REST API for cashiers, bound to their own hospital."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient

from filing_support import HENGYANG
from hospital_support import (
    BOBAI_CASHIER,
    NANHUA_CASHIER,
    PENG_CARD,
    UNFILED_CARD,
    XIE_CARD,
    XIE_LINES,
    token_for,
)
from yidi.bootstrap import Container


def _lines(rows: list[tuple[str, str, str, str]], occurred_at: str) -> list[dict[str, Any]]:
    return [
        {
            "serial": str(index + 1),
            "catalog_code": code,
            "name": name,
            "quantity": quantity,
            "unit_price": price,
            "amount": str((Decimal(quantity) * Decimal(price)).quantize(Decimal("0.01"))),
            "occurred_at": occurred_at,
        }
        for index, (code, name, quantity, price) in enumerate(rows)
    ]


def _admit(client: TestClient, headers: dict[str, str], card: str, **changes: Any) -> Any:
    body = {
        "cert_type": "03",
        "cert_no": card,
        "med_type": "21",
        "admitted_at": "2026-11-20T08:00:00+08:00",
        "department_code": "A03",
        "department_name": "心内科",
        "diagnosis_codes": ["I21.900"],
    } | changes
    return client.post("/api/hospital/encounters", json=body, headers=headers)


def test_the_ningxia_patient_settles_at_nanhua_and_takes_home_the_explanation(
    client: TestClient, container: Container, world: None
) -> None:
    headers = token_for(container, NANHUA_CASHIER)
    check = client.post(
        "/api/hospital/admission-check",
        json={"cert_type": "03", "cert_no": PENG_CARD},
        headers=headers,
    )
    assert check.status_code == 200, check.text
    assert check.json()["filing"]["category"] == "long_term_resident"
    assert "*" in check.json()["id_number_masked"]
    admitted = _admit(client, headers, PENG_CARD)
    assert admitted.status_code == 201, admitted.text
    mdtrt_id = admitted.json()["mdtrt_id"]
    uploaded = client.post(
        f"/api/hospital/encounters/{mdtrt_id}/fees",
        json={"lines": _lines(XIE_LINES[:12], "2026-11-21T09:00:00+08:00")},
        headers=headers,
    )
    assert uploaded.status_code == 200, uploaded.text
    total = sum(Decimal(line["amount"]) for line in uploaded.json())
    discharged = client.post(
        f"/api/hospital/encounters/{mdtrt_id}/discharge",
        json={"discharged_at": "2026-11-28T10:00:00+08:00"},
        headers=headers,
    )
    assert discharged.json()["state"] == "discharged"
    keyed = headers | {"Idempotency-Key": "nanhua-settle-1"}
    first = client.post(
        f"/api/hospital/encounters/{mdtrt_id}/settle",
        json={"total_charges": str(total)},
        headers=keyed,
    )
    assert first.status_code == 200, first.text
    second = client.post(
        f"/api/hospital/encounters/{mdtrt_id}/settle",
        json={"total_charges": str(total)},
        headers=keyed,
    )
    assert second.json() == first.json()
    settlement = first.json()
    assert Decimal(settlement["amounts"]["total_charges"]) == total
    assert any("起付线" in text for text in settlement["explanation_zh"])
    statement = client.get(f"/api/hospital/encounters/{mdtrt_id}/statement", headers=headers)
    assert statement.status_code == 200
    assert settlement["setl_id"] in statement.text and "计算过程" in statement.text
    detail = client.get(f"/api/hospital/encounters/{mdtrt_id}", headers=headers).json()
    assert [s["kind"] for s in detail["settlements"]] == ["settle"]
    assert all(line["settlement_id"] == settlement["setl_id"] for line in detail["lines"])
    listed = client.get("/api/hospital/encounters?state=settled", headers=headers).json()
    assert [e["mdtrt_id"] for e in listed] == [mdtrt_id]


def test_unfiled_patient_gets_a_422_naming_the_agency_to_call(
    client: TestClient, container: Container, world: None
) -> None:
    headers = token_for(container, BOBAI_CASHIER)
    response = client.post(
        "/api/hospital/admission-check",
        json={"cert_type": "03", "cert_no": UNFILED_CARD},
        headers=headers,
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "FILING_NOT_VALID"
    assert error["details"]["agencies"][0]["phone"] == "0734-6653009"


def test_a_cashier_of_another_hospital_gets_not_found(
    client: TestClient, container: Container, world: None
) -> None:
    bobai = token_for(container, BOBAI_CASHIER)
    nanhua = token_for(container, NANHUA_CASHIER)
    mdtrt_id = _admit(client, bobai, XIE_CARD).json()["mdtrt_id"]
    theirs = client.get(f"/api/hospital/encounters/{mdtrt_id}", headers=nanhua)
    missing = client.get("/api/hospital/encounters/M-NOPE", headers=nanhua)
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == missing.json()


def test_other_roles_and_anonymous_callers_are_kept_out(
    client: TestClient, container: Container, world: None
) -> None:
    body = {"cert_type": "03", "cert_no": XIE_CARD}
    assert client.post("/api/hospital/admission-check", json=body).status_code == 401
    agency = token_for(container, HENGYANG)
    assert (
        client.post("/api/hospital/admission-check", json=body, headers=agency).status_code == 403
    )


def test_bad_input_gets_a_chinese_4xx_never_a_500(
    client: TestClient, container: Container, world: None
) -> None:
    headers = token_for(container, BOBAI_CASHIER)
    bad_icd = _admit(client, headers, XIE_CARD, diagnosis_codes=["not-icd"])
    assert (
        bad_icd.status_code == 422 and bad_icd.json()["error"]["code"] == "DIAGNOSIS_CODE_INVALID"
    )
    mdtrt_id = _admit(client, headers, XIE_CARD).json()["mdtrt_id"]
    wrong_amount = _lines(XIE_LINES[:1], "2026-11-21T09:00:00+08:00")
    wrong_amount[0]["amount"] = "1.00"
    response = client.post(
        f"/api/hospital/encounters/{mdtrt_id}/fees", json={"lines": wrong_amount}, headers=headers
    )
    assert response.status_code == 422 and "不符" in response.json()["error"]["message"]
    early = client.post(
        f"/api/hospital/encounters/{mdtrt_id}/settle",
        json={"total_charges": "1.00"},
        headers=headers,
    )
    assert early.status_code == 409 and early.json()["error"]["code"] == "ENCOUNTER_NOT_DISCHARGED"


def test_a_discharge_is_undone_and_an_empty_admission_cancelled_with_its_reason_audited(
    client: TestClient, container: Container, world: None
) -> None:
    headers = token_for(container, BOBAI_CASHIER)
    mdtrt_id = _admit(client, headers, XIE_CARD).json()["mdtrt_id"]
    base = f"/api/hospital/encounters/{mdtrt_id}"
    # Nothing to undo yet: the encounter is still admitted.
    early = client.post(f"{base}/discharge/cancel", headers=headers)
    assert early.status_code == 409
    discharged = client.post(
        f"{base}/discharge",
        json={"discharged_at": "2026-11-20T09:00:00+08:00"},
        headers=headers,
    )
    assert discharged.status_code == 200 and discharged.json()["state"] == "discharged"
    retry = {**headers, "Idempotency-Key": "undo-1"}
    undone = client.post(f"{base}/discharge/cancel", headers=retry)
    assert undone.status_code == 200 and undone.json()["state"] == "admitted"
    # The same key again gets the first answer, not "not discharged".
    again = client.post(f"{base}/discharge/cancel", headers=retry)
    assert again.status_code == 200 and again.json() == undone.json()

    no_reason = client.post(f"{base}/cancel", json={"reason": ""}, headers=headers)
    assert no_reason.status_code == 422
    cancelled = client.post(f"{base}/cancel", json={"reason": "患者转院"}, headers=headers)
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    with container.uow() as uow:
        entries = [
            c.entry for c in uow.audit.walk() if c.entry.action == "hospital.cancel_admission"
        ]
    assert [(e.subject, e.reason) for e in entries] == [(f"encounter:{mdtrt_id}", "患者转院")]


def test_an_admission_with_uploaded_fees_cannot_be_cancelled(
    client: TestClient, container: Container, world: None
) -> None:
    headers = token_for(container, BOBAI_CASHIER)
    mdtrt_id = _admit(client, headers, XIE_CARD).json()["mdtrt_id"]
    base = f"/api/hospital/encounters/{mdtrt_id}"
    uploaded = client.post(
        f"{base}/fees",
        json={"lines": _lines(XIE_LINES[:1], "2026-11-20T09:00:00+08:00")},
        headers=headers,
    )
    assert uploaded.status_code == 200, uploaded.text
    refused = client.post(f"{base}/cancel", json={"reason": "误登记"}, headers=headers)
    assert refused.status_code == 409 and refused.json()["error"]["message"]
    assert client.get(base, headers=headers).json()["encounter"]["state"] == "admitted"
