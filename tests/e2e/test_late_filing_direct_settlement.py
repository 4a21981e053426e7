"""补办备案 during the stay (2022 model): a patient refused at admission for want of a filing
files afterwards, before the discharge settlement; the hospital registers the admission again
with its original time and the stay settles directly at the filing's rates (gateway and REST).
A filing made without the care's first day does not reach back to the admission."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from test_hospital_gateway import admit, call, discharge, ok, refused, settle_input
from test_hospital_rest import _lines as rest_lines

from filing_support import HENGYANG, api_headers, record_body
from hospital_support import (
    BOBAI_CASHIER,
    UNFILED_CARD,
    UNFILED_ID,
    XIE_LINES,
    at,
    build_world,
    nhsa_fee_rows,
)
from yidi.bootstrap import Container
from yidi.kernel.clock import FixedClock
from yidi.kernel.identity import Gender
from yidi.kernel.insurance import FilingCategory, PersonType

ADMITTED = "2026-11-18 08:00:00"
ADMITTED_ISO = "2026-11-18T08:00:00+08:00"
TOTAL = sum(
    (Decimal(quantity) * Decimal(price)).quantize(Decimal("0.01"))
    for _, _, quantity, price in XIE_LINES
)


@pytest.fixture
def world(container: Container, clock: FixedClock) -> None:
    build_world(container)
    clock.set(at(18, 9))  # the admission day: 李某某 has no filing


def _file(client: TestClient, container: Container, **late: Any) -> dict[str, Any]:
    """The 衡阳 agency files and approves 李某某's 其他临时外出就医 filing at its window."""
    body = record_body(
        name="李某某",
        gender=Gender.FEMALE,
        social_security_number=UNFILED_ID,
        social_security_card_number=UNFILED_CARD,
        category=FilingCategory.OTHER_TEMPORARY,
        person_type=PersonType.EMPLOYEE_ACTIVE,
        filled_on=dt.date(2026, 11, 19),
        **late,
    )
    headers = api_headers(container, HENGYANG)
    created = client.post("/api/filings", json={"record": body}, headers=headers)
    assert created.status_code == 201, created.text
    filing_id = created.json()["filing_id"]
    assert client.post(f"/api/filings/{filing_id}/submit", headers=headers).status_code == 200
    approved = client.post(f"/api/filings/{filing_id}/approve", headers=headers)
    assert approved.status_code == 200, approved.text
    result: dict[str, Any] = approved.json()
    return result


def _refused_on_admission_day(client: TestClient) -> None:
    reply = call(client, "1101", {"data": {"mdtrt_cert_type": "03", "mdtrt_cert_no": UNFILED_CARD}})
    message = refused(reply, "FILING_NOT_VALID")
    # The phone to call first, then what a 补办 before the discharge settlement achieves.
    assert "0734-6653009" in message and "重新办理入院登记即可直接结算" in message
    assert len(message) <= 200


def _psn_no(client: TestClient) -> str:
    reply = call(client, "1101", {"data": {"mdtrt_cert_type": "03", "mdtrt_cert_no": UNFILED_CARD}})
    psn_no: str = ok(reply)["baseinfo"]["psn_no"]
    return psn_no


def test_a_filing_made_during_the_stay_settles_the_stay_directly_through_the_gateway(
    client: TestClient, container: Container, clock: FixedClock, world: None
) -> None:
    _refused_on_admission_day(client)
    clock.set(at(19, 10))  # the next day the person files; the stay goes on (no discharge day)
    filing = _file(client, container, late_care_from=dt.date(2026, 11, 18))
    assert filing["record"]["valid_from"] == "2026-11-18"
    assert "late_care_until" not in filing["record"]
    psn_no = _psn_no(client)
    # The hospital registers the admission again, with its original time.
    mdtrt_id = ok(admit(client, psn_no, begntime=ADMITTED))["result"]["mdtrt_id"]
    rows = nhsa_fee_rows(XIE_LINES, mdtrt_id, psn_no, "2026-11-19 09:00:00")
    ok(call(client, "2301", {"feedetail": rows}))
    clock.set(at(25, 10))
    discharge(client, mdtrt_id, psn_no, endtime="2026-11-25 10:00:00")
    settled = ok(call(client, "2304", settle_input(mdtrt_id, psn_no, str(TOTAL))))
    setlinfo = settled["setlinfo"]
    assert setlinfo["medfee_sumamt"] == TOTAL
    assert setlinfo["hifp_pay"] > 0
    with container.uow() as uow:
        encounter = uow.hospital.encounter(mdtrt_id, for_update=False)
    assert encounter is not None
    assert encounter.filing_number == filing["record"]["filing_number"]
    assert encounter.filing_category == "other_temporary"


def test_a_filing_that_does_not_reach_back_to_the_admission_does_not_settle_it(
    client: TestClient, container: Container, clock: FixedClock, world: None
) -> None:
    _refused_on_admission_day(client)
    clock.set(at(19, 10))
    filing = _file(client, container)  # an ordinary filing: valid from the day it is approved
    assert filing["record"]["valid_from"] == "2026-11-19"
    psn_no = _psn_no(client)
    refused(admit(client, psn_no, begntime=ADMITTED), "FILING_NOT_VALID")


def test_a_filing_made_during_the_stay_settles_it_directly_through_rest(
    client: TestClient, container: Container, clock: FixedClock, world: None
) -> None:
    headers = api_headers(container, BOBAI_CASHIER)
    check = {"cert_type": "03", "cert_no": UNFILED_CARD}
    first = client.post("/api/hospital/admission-check", json=check, headers=headers)
    assert first.status_code == 422 and first.json()["error"]["code"] == "FILING_NOT_VALID"
    assert first.json()["error"]["details"]["late_filing_settles_directly"] is True
    clock.set(at(19, 10))
    filing = _file(client, container, late_care_from=dt.date(2026, 11, 18))
    headers = api_headers(container, BOBAI_CASHIER)
    admission = check | {
        "med_type": "21",
        "admitted_at": ADMITTED_ISO,
        "department_code": "A03",
        "department_name": "普外科",
        "diagnosis_codes": ["K80.101"],
    }
    admitted = client.post("/api/hospital/encounters", json=admission, headers=headers)
    assert admitted.status_code == 201, admitted.text
    mdtrt_id = admitted.json()["mdtrt_id"]
    assert admitted.json()["filing_number"] == filing["record"]["filing_number"]
    lines = rest_lines(XIE_LINES, "2026-11-19T09:00:00+08:00")
    uploaded = client.post(
        f"/api/hospital/encounters/{mdtrt_id}/fees", json={"lines": lines}, headers=headers
    )
    assert uploaded.status_code == 200, uploaded.text
    clock.set(at(25, 10))
    headers = api_headers(container, BOBAI_CASHIER)
    discharged = client.post(
        f"/api/hospital/encounters/{mdtrt_id}/discharge",
        json={"discharged_at": "2026-11-25T10:00:00+08:00"},
        headers=headers,
    )
    assert discharged.status_code == 200, discharged.text
    settled = client.post(
        f"/api/hospital/encounters/{mdtrt_id}/settle",
        json={"total_charges": str(TOTAL)},
        headers=headers,
    )
    assert settled.status_code == 200, settled.text
    amounts = settled.json()["amounts"]
    assert Decimal(amounts["total_charges"]) == TOTAL
    assert Decimal(amounts["fund_paid_total"]) > 0
    # 430421 employees, level-2 hospital: 85% (其他临时外出, no reduction set by the region)
    assert settled.json()["pooled_fund_rate"] == "0.8500"
    assert any("其他临时外出就医人员" in line for line in settled.json()["explanation_zh"])


def test_a_stay_under_the_2017_rules_is_not_promised_a_late_filing(
    client: TestClient, container: Container, world: None
) -> None:
    headers = api_headers(container, BOBAI_CASHIER)
    admission = {
        "cert_type": "03",
        "cert_no": UNFILED_CARD,
        "med_type": "21",
        "admitted_at": "2022-07-20T08:00:00+08:00",
        "department_code": "A03",
        "department_name": "普外科",
        "diagnosis_codes": ["K80.101"],
    }
    answer = client.post("/api/hospital/encounters", json=admission, headers=headers)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == "FILING_NOT_VALID"
    assert error["details"]["era"] == "2017"
    assert error["details"]["late_filing_settles_directly"] is False
    assert "重新办理入院登记" not in error["message"]
