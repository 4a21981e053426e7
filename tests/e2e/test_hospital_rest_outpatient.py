"""General outpatient (普通门诊) over REST: register a visit, its diagnoses, fees, pre-settle,
settle, cancel the settlement, cancel fees and the registration, for the 博白 cashier.

Amounts: the hand computation of ``tests/unit/test_outpatient_use_cases.py`` (module
docstring): total 408.60, deductible 200.00, outpatient pooled fund 92.04, person 316.56.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import update
from test_hospital_rest import _lines

from filing_support import HENGYANG, PERSON_ID
from hospital_support import BOBAI_CASHIER, XIE_CARD, token_for
from yidi.bootstrap import Container
from yidi.chronic.model import Evidence, NewRecognition
from yidi.platform.tables import hospitals

VISIT_LINES = [
    ("002501000010000", "血细胞分析（血常规）", "1", "20.00"),
    ("002301000010000", "常规心电图检查", "2", "25.00"),
    ("002302010010000", "X线计算机体层（CT）平扫", "1", "280.00"),
    ("XC08CAA010A001010100009", "苯磺酸氨氯地平片", "28", "1.20"),
    ("XA11GAV001A001010100010", "维生素C泡腾片", "1", "25.00"),
]


def test_a_cashier_settles_a_general_outpatient_visit_and_cancels_it(
    client: TestClient, container: Container, world: None
) -> None:
    headers = token_for(container, BOBAI_CASHIER)
    keyed = headers | {"Idempotency-Key": "bobai-visit-1"}
    body = {
        "cert_type": "03",
        "cert_no": XIE_CARD,
        "registered_at": "2026-11-20T09:30:00+08:00",
        "outpatient_number": "MZ0001",
        "department_code": "A03",
    }
    registered = client.post("/api/hospital/visits", json=body, headers=keyed)
    assert registered.status_code == 201, registered.text
    again = client.post("/api/hospital/visits", json=body, headers=keyed)
    assert again.json()["mdtrt_id"] == registered.json()["mdtrt_id"]
    visit = registered.json()
    assert visit["state"] == "registered" and visit["state_zh"] == "已挂号"
    assert visit["med_type"] == "11"
    mdtrt_id = visit["mdtrt_id"]
    base = f"/api/hospital/encounters/{mdtrt_id}"
    diagnosed = client.post(
        f"/api/hospital/visits/{mdtrt_id}/diagnoses",
        json={"diagnosis_codes": ["I10"]},
        headers=headers,
    )
    assert diagnosed.status_code == 200 and diagnosed.json()["diagnosis_codes"] == ["I10"]
    uploaded = client.post(
        f"{base}/fees",
        json={"lines": _lines(VISIT_LINES, "2026-11-20T10:00:00+08:00")},
        headers=headers,
    )
    assert uploaded.status_code == 200, uploaded.text
    pre = client.post(f"{base}/pre-settle", json={"total_charges": "408.60"}, headers=headers)
    assert pre.status_code == 200, pre.text
    settled = client.post(f"{base}/settle", json={"total_charges": "408.60"}, headers=headers)
    assert settled.status_code == 200, settled.text
    amounts = settled.json()["amounts"]
    assert {k: Decimal(amounts[k]) for k in ("deductible_applied", "pooled_fund_paid")} == {
        "deductible_applied": Decimal("200.00"),
        "pooled_fund_paid": Decimal("92.04"),
    }
    assert Decimal(amounts["patient_share"]) == Decimal("316.56")
    assert pre.json()["amounts"] == amounts
    listed = client.get("/api/hospital/encounters?state=settled", headers=headers).json()
    assert mdtrt_id in [e["mdtrt_id"] for e in listed]
    setl_id = settled.json()["setl_id"]
    reversed_ = client.post(f"{base}/settlements/{setl_id}/reversal", json={}, headers=headers)
    assert reversed_.status_code == 200, reversed_.text
    busy = client.post(
        f"/api/hospital/visits/{mdtrt_id}/cancel", json={"reason": "误挂号"}, headers=headers
    )
    assert busy.status_code == 409 and busy.json()["error"]["code"] == "VISIT_CANNOT_CANCEL"
    cancelled = client.post(f"{base}/fees/cancel", json={"serials": ["0000"]}, headers=headers)
    assert cancelled.status_code == 200 and len(cancelled.json()["cancelled"]) == 5
    done = client.post(
        f"/api/hospital/visits/{mdtrt_id}/cancel", json={"reason": "误挂号"}, headers=headers
    )
    assert done.status_code == 200 and done.json()["state"] == "cancelled"


def test_a_stay_is_not_a_visit(client: TestClient, container: Container, world: None) -> None:
    headers = token_for(container, BOBAI_CASHIER)
    stay = client.post(
        "/api/hospital/encounters",
        json={
            "cert_type": "03",
            "cert_no": XIE_CARD,
            "med_type": "21",
            "admitted_at": "2026-11-20T08:00:00+08:00",
            "department_code": "A03",
            "diagnosis_codes": ["K80.101"],
        },
        headers=headers,
    ).json()
    answer = client.post(
        f"/api/hospital/visits/{stay['mdtrt_id']}/diagnoses",
        json={"diagnosis_codes": ["I10"]},
        headers=headers,
    )
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "VISIT_NOT_OUTPATIENT"


def test_a_cashier_registers_and_settles_a_chronic_disease_visit_by_kind_and_disease(
    client: TestClient, container: Container, world: None
) -> None:
    """门诊慢特病 over REST: ``kind: chronic`` and the disease code on the visit endpoints. 高血压
    (Hengyang list, illustrative): 341.60 in scope × 80% = 273.28 from the fund."""
    headers = token_for(container, BOBAI_CASHIER)
    body = {
        "cert_type": "03",
        "cert_no": XIE_CARD,
        "registered_at": "2026-11-20T09:30:00+08:00",
        "kind": "chronic",
        "disease_code": "M03900",
    }
    unconnected = client.post("/api/hospital/visits", json=body, headers=headers)
    assert unconnected.status_code == 422
    assert unconnected.json()["error"]["code"] == "INSTITUTION_KIND_NOT_CONNECTED"
    with container.uow() as uow:
        uow.session.execute(
            update(hospitals)
            .where(hospitals.c.fixmedins_code == "H45092300001")
            .values(connected_kinds="inpatient,outpatient,chronic")
        )
        uow.commit()
    unrecognised = client.post("/api/hospital/visits", json=body, headers=headers)
    assert unrecognised.status_code == 422
    error = unrecognised.json()["error"]
    assert error["code"] == "CHRONIC_NOT_RECOGNISED" and error["message"] and error["message_en"]
    container.chronic.recognise(
        HENGYANG,
        PERSON_ID,
        NewRecognition("M03900", dt.date(2026, 1, 1), None, Evidence(reference="JD-1")),
    )
    registered = client.post("/api/hospital/visits", json=body, headers=headers)
    assert registered.status_code == 201, registered.text
    visit = registered.json()
    assert (visit["med_type"], visit["disease_code"]) == ("14", "M03900")
    mdtrt_id = visit["mdtrt_id"]
    base = f"/api/hospital/encounters/{mdtrt_id}"
    diagnosed = client.post(
        f"/api/hospital/visits/{mdtrt_id}/diagnoses",
        json={"diagnosis_codes": ["I10"], "kind": "chronic"},
        headers=headers,
    )
    assert diagnosed.status_code == 200, diagnosed.text
    assert diagnosed.json()["disease_code"] == "M03900"
    uploaded = client.post(
        f"{base}/fees",
        json={"lines": _lines(VISIT_LINES, "2026-11-20T10:00:00+08:00")},
        headers=headers,
    )
    assert uploaded.status_code == 200, uploaded.text
    settled = client.post(f"{base}/settle", json={"total_charges": "408.60"}, headers=headers)
    assert settled.status_code == 200, settled.text
    amounts = settled.json()["amounts"]
    assert Decimal(amounts["pooled_fund_paid"]) == Decimal("273.28")
    assert Decimal(amounts["patient_share"]) == Decimal("135.32")
