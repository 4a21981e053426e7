"""对账差异 over REST, on the database (SQLite, and PostgreSQL with YIDI_TEST_DATABASE_URL).

博白县人民医院 (H45092300001, region 450923) settled ten stays of 谢某某 (insured in 衡阳县
430421) through the national gateway; its HIS keyed one of them 0.01 yuan too high. The
cashier raises the difference, the clearing centre answers and resolves, the cashier re-opens.
The 衡阳 agency (the insured place) sees the dispute; 郑州's agency and 南华 (another
hospital) do not; the province, an insured person and the anonymous are refused.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from test_hospital_gateway import _a_month_of_settlements

from filing_support import HENGYANG, HUNAN, PERSON, ZHENGZHOU
from hospital_support import BOBAI_CASHIER, BOBAI_CODE, NANHUA_CASHIER, build_world, token_for
from yidi.bootstrap import Container
from yidi.kernel.access import Principal, Role
from yidi.platform.tables import (
    audit_log,
    reconciliation_dispute_events,
    reconciliation_disputes,
)

BASE = "/api/reconciliation/disputes"
CLEARING = Principal("clearing", Role.CLEARING_OFFICER, "430000", display_name="清算中心")


@pytest.fixture
def ledger(client: TestClient, container: Container) -> list[dict[str, Any]]:
    build_world(container)
    _psn_no, rows = _a_month_of_settlements(client, container.clock)
    return rows


def amounts(row: dict[str, Any], plus: str = "0") -> dict[str, str]:
    return {
        "total_charges": str(row["medfee_sumamt"] + Decimal(plus)),
        "fund_paid_total": str(row["fund_pay_sumamt"]),
        "personal_account_paid": str(row["acct_pay"]),
    }


def count(container: Container, table: Any, **where: str) -> int:
    with container.uow() as uow:
        query = select(func.count()).select_from(table)
        for column, value in where.items():
            query = query.where(table.c[column] == value)
        return int(uow.session.execute(query).scalar_one())


def raise_typo(
    client: TestClient, container: Container, row: dict[str, Any], **headers: str
) -> Any:
    return client.post(
        f"{BASE}/from-statement",
        json={"settlement_id": row["setl_id"], "institution": amounts(row, "0.01")},
        headers={**token_for(container, BOBAI_CASHIER), **headers},
    )


def error_code(response: Any) -> str:
    code: str = response.json()["error"]["code"]
    return code


def test_raise_answer_resolve_and_reopen_with_every_step_recorded_and_audited(
    client: TestClient, container: Container, ledger: list[dict[str, Any]]
) -> None:
    cashier, centre = token_for(container, BOBAI_CASHIER), token_for(container, CLEARING)
    created = raise_typo(client, container, ledger[5])
    assert created.status_code == 201, created.text
    dispute = created.json()
    assert dispute["created"] is True and dispute["kind"] == "amount"
    assert dispute["state"] == "raised" and dispute["raised_by"] == "hospital"
    assert dispute["centre"]["total_charges"] == str(ledger[5]["medfee_sumamt"])
    assert Decimal(dispute["institution"]["total_charges"]) == ledger[5]["medfee_sumamt"] + Decimal(
        "0.01"
    )
    assert dispute["insured_region_code"] == "430421" and dispute["month"] in ("2026-11", "2026-12")
    assert dispute["next_actions"] == []  # the raiser waits for the other party
    path = f"{BASE}/{dispute['dispute_id']}"

    own_answer = client.post(f"{path}/answer", json={"text": "自己答复"}, headers=cashier)
    assert own_answer.status_code == 422 and error_code(own_answer) == "DISPUTE_NOT_YOUR_TURN"
    early = client.post(
        f"{path}/resolve", json={"outcome": "accepted", "text": "直接解决"}, headers=centre
    )
    assert early.status_code == 409 and error_code(early) == "DISPUTE_STATE"

    answered = client.post(
        f"{path}/answer",
        json={
            "text": "中心记录为准，请医院更正",
            "corrected_total": str(ledger[5]["medfee_sumamt"]),
        },
        headers=centre,
    )
    assert answered.status_code == 200, answered.text
    assert answered.json()["state"] == "answered"
    assert answered.json()["next_actions"] == ["resolve", "reopen"]
    hospital_view = client.get(path, headers=cashier).json()
    assert hospital_view["next_actions"] == ["reopen"]

    by_hospital = client.post(
        f"{path}/resolve", json={"outcome": "accepted", "text": "接受"}, headers=cashier
    )
    assert error_code(by_hospital) == "DISPUTE_NOT_YOUR_TURN"
    no_amount = client.post(
        f"{path}/resolve", json={"outcome": "adjusted", "text": "调整"}, headers=centre
    )
    assert error_code(no_amount) == "DISPUTE_AMOUNT_FOR_ADJUSTED"
    resolved = client.post(
        f"{path}/resolve", json={"outcome": "rejected", "text": "以中心记录为准"}, headers=centre
    )
    assert resolved.json()["state"] == "resolved" and resolved.json()["outcome"] == "rejected"
    again = client.post(
        f"{path}/resolve", json={"outcome": "rejected", "text": "以中心记录为准"}, headers=centre
    )
    assert again.status_code == 200 and len(again.json()["events"]) == 3  # a resend, not a step

    reopened = client.post(f"{path}/reopen", json={"text": "发票另有记录"}, headers=cashier)
    body = reopened.json()
    assert body["state"] == "raised" and body["outcome"] is None
    assert [e["action"] for e in body["events"]] == ["raise", "answer", "resolve", "reopen"]
    assert [e["side"] for e in body["events"]] == ["hospital", "centre", "centre", "hospital"]
    assert body["events"][1]["amount"] == str(ledger[5]["medfee_sumamt"])
    assert count(container, reconciliation_dispute_events) == 4
    for action in ("raise", "answer", "resolve", "reopen", "read"):
        assert count(container, audit_log, action=f"reconciliation.dispute_{action}") >= 1


def test_raising_the_same_difference_again_finds_the_first(
    client: TestClient, container: Container, ledger: list[dict[str, Any]]
) -> None:
    first = raise_typo(client, container, ledger[5])
    second = raise_typo(client, container, ledger[5])
    assert second.status_code == 200 and second.json()["created"] is False
    assert second.json()["dispute_id"] == first.json()["dispute_id"]
    # The centre raising the same line by hand finds it too: one dispute per line.
    by_hand = client.post(
        BASE,
        json={
            "hospital_code": BOBAI_CODE,
            "month": "2026-11",
            "settlement_id": ledger[5]["setl_id"],
            "text": "同一笔",
        },
        headers=token_for(container, CLEARING),
    )
    assert by_hand.json()["dispute_id"] == first.json()["dispute_id"]
    keyed = [raise_typo(client, container, ledger[6], **{"Idempotency-Key": "k-6"})]
    keyed.append(raise_typo(client, container, ledger[6], **{"Idempotency-Key": "k-6"}))
    assert keyed[0].status_code == 201 and keyed[1].status_code == 200
    assert keyed[0].json()["dispute_id"] == keyed[1].json()["dispute_id"]
    assert count(container, reconciliation_disputes) == 2
    assert count(container, reconciliation_dispute_events) == 2
    assert count(container, audit_log, action="reconciliation.dispute_raise") == 2


def test_refusals_write_nothing(
    client: TestClient, container: Container, ledger: list[dict[str, Any]]
) -> None:
    cashier = token_for(container, BOBAI_CASHIER)
    cases = [
        ({"settlement_id": ledger[2]["setl_id"], "institution": amounts(ledger[2])}, 422,
         "DISPUTE_NO_DIFFERENCE"),
        ({"settlement_id": "S-NOT-KNOWN", "institution": amounts(ledger[2])}, 422,
         "DISPUTE_MONTH_INVALID"),
        ({"settlement_id": "S-NOT-KNOWN", "institution": None}, 422, "DISPUTE_NO_DIFFERENCE"),
        ({"settlement_id": ledger[2]["setl_id"], "institution": {"total_charges": 1.5}}, 422,
         "REQUEST_INVALID"),
        ({"settlement_id": "x" * 33, "institution": None}, 422, "REQUEST_INVALID"),
    ]  # fmt: skip
    for body, status, code in cases:
        response = client.post(f"{BASE}/from-statement", json=body, headers=cashier)
        assert response.status_code == status, (body, response.text)
        assert error_code(response) == code, response.text
        assert response.json()["error"]["message"]  # a Chinese message for each
    unknown = client.post(
        BASE,
        json={"hospital_code": "H00000000000", "month": "2026-11", "text": "本月总额不符"},
        headers=token_for(container, CLEARING),
    )
    assert unknown.status_code == 404 and error_code(unknown) == "HOSPITAL_NOT_FOUND"
    assert count(container, reconciliation_disputes) == 0
    assert count(container, reconciliation_dispute_events) == 0
    assert count(container, audit_log, action="reconciliation.dispute_raise") == 0

    dispute = raise_typo(client, container, ledger[5]).json()
    bad = client.post(
        f"{BASE}/{dispute['dispute_id']}/answer",
        json={"text": "x"},
        headers=token_for(container, CLEARING),
    )
    assert bad.status_code == 422
    assert count(container, reconciliation_dispute_events) == 1
    stored = client.get(f"{BASE}/{dispute['dispute_id']}", headers=cashier).json()
    assert stored["state"] == "raised"


def test_who_sees_and_who_is_refused(
    client: TestClient, container: Container, ledger: list[dict[str, Any]]
) -> None:
    dispute_id = raise_typo(client, container, ledger[5]).json()["dispute_id"]
    path = f"{BASE}/{dispute_id}"
    for principal in (HENGYANG, CLEARING, BOBAI_CASHIER):  # insured place, centre, hospital
        headers = token_for(container, principal)
        assert client.get(path, headers=headers).status_code == 200, principal.user_id
        assert client.get(BASE, headers=headers).json()["total"] == 1
    for principal in (ZHENGZHOU, NANHUA_CASHIER):  # neither region nor hospital: not found
        headers = token_for(container, principal)
        missing = client.get(path, headers=headers)
        assert missing.status_code == 404 and error_code(missing) == "DISPUTE_NOT_FOUND"
        assert client.get(BASE, headers=headers).json()["total"] == 0
        answer = client.post(f"{path}/answer", json={"text": "答复"}, headers=headers)
        assert answer.status_code == 404
    for principal in (HUNAN, PERSON):  # the province and an insured person have no disputes
        headers = token_for(container, principal)
        for response in (
            client.get(BASE, headers=headers),
            client.get(path, headers=headers),
            client.post(f"{path}/reopen", json={"text": "重新提出"}, headers=headers),
        ):
            assert response.status_code == 403 and error_code(response) == "ACCESS_DENIED"
    anonymous = client.get(BASE)
    assert anonymous.status_code == 401
    # 郑州's agency cannot raise for a hospital outside its region, even by its code.
    outside = client.post(
        BASE,
        json={"hospital_code": BOBAI_CODE, "month": "2026-11", "text": "本月总额不符"},
        headers=token_for(container, ZHENGZHOU),
    )
    assert outside.status_code == 404 and error_code(outside) == "HOSPITAL_NOT_FOUND"


def test_the_list_filters_by_state_hospital_and_month_and_pages(
    client: TestClient, container: Container, ledger: list[dict[str, Any]]
) -> None:
    centre = token_for(container, CLEARING)
    ids = [raise_typo(client, container, row).json()["dispute_id"] for row in ledger[:4]]
    clock: Any = container.clock
    clock.set(clock.now() + dt.timedelta(minutes=1))  # the answer is the latest step
    client.post(f"{BASE}/{ids[0]}/answer", json={"text": "已核实"}, headers=centre)
    month = client.get(f"{BASE}/{ids[0]}", headers=centre).json()["month"]
    assert client.get(BASE, params={"state": "answered"}, headers=centre).json()["total"] == 1
    assert client.get(BASE, params={"state": "open"}, headers=centre).json()["total"] == 4
    assert client.get(BASE, params={"state": "resolved"}, headers=centre).json()["total"] == 0
    by_hospital = client.get(BASE, params={"hospital_code": BOBAI_CODE}, headers=centre)
    assert by_hospital.json()["total"] == 4
    other = client.get(BASE, params={"hospital_code": "H43040000001"}, headers=centre)
    assert other.json()["total"] == 0
    in_month = client.get(BASE, params={"month": month}, headers=centre).json()
    assert in_month["total"] >= 1 and all(d["month"] == month for d in in_month["items"])
    first = client.get(BASE, params={"limit": 3}, headers=centre).json()
    rest = client.get(BASE, params={"limit": 3, "offset": 3}, headers=centre).json()
    assert first["total"] == 4 and len(first["items"]) == 3 and len(rest["items"]) == 1
    seen = {d["dispute_id"] for d in first["items"] + rest["items"]}
    assert seen == set(ids)
    assert first["items"][0]["dispute_id"] == ids[0]  # the latest step first
    bad = client.get(BASE, params={"state": "closed"}, headers=centre)
    assert bad.status_code == 422


def test_the_openapi_document_describes_the_dispute_endpoints(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {
        "/api/reconciliation/disputes",
        "/api/reconciliation/disputes/from-statement",
        "/api/reconciliation/disputes/{dispute_id}",
        "/api/reconciliation/disputes/{dispute_id}/answer",
        "/api/reconciliation/disputes/{dispute_id}/resolve",
        "/api/reconciliation/disputes/{dispute_id}/reopen",
    } <= set(paths)
    resolve = paths["/api/reconciliation/disputes/{dispute_id}/resolve"]["post"]
    assert "经办机构或清算中心" in resolve["summary"]
