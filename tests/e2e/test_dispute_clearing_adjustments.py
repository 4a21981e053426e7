"""清算调整 over REST and on the clearing page, on the database (SQLite, and PostgreSQL with
YIDI_TEST_DATABASE_URL).

博白县人民医院 settled ten stays of 谢某某 (insured in 衡阳县 430421) from 20 November to 17
December 2026. November is closed on 20 December. A dispute about a November settlement is
resolved with an agreed clearing adjustment: the adjustment is carried by December's statement
as a line of its own (which dispute, which settlement, how much, who decided, when), its totals
include it, November's closed statement does not change and neither do the settlements'
statistics. Resending the resolution, or resolving with no adjustment, adds nothing; re-opening
withdraws what no closed month has cleared yet.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient
from test_hospital_gateway import _a_month_of_settlements
from test_reconciliation_disputes_api import BASE, CLEARING, amounts, count, error_code

from hospital_support import BOBAI_CASHIER, build_world, token_for
from web_helpers import PAGE, table_rows
from yidi.bootstrap import Container
from yidi.entrypoints.web.render import SESSION_COOKIE
from yidi.kernel.clock import CHINA_TZ
from yidi.platform.tables import clearing_adjustments


@pytest.fixture
def ledger(client: TestClient, container: Container) -> list[dict[str, Any]]:
    build_world(container)
    _psn_no, rows = _a_month_of_settlements(client, container.clock)
    container.clock.set(dt.datetime(2026, 12, 20, 10, tzinfo=CHINA_TZ))  # type: ignore[attr-defined]
    return rows


def run(client: TestClient, headers: dict[str, str], month: str, **params: str) -> Any:
    response = client.post(f"/api/clearing/{month}/run", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def answered_dispute(client: TestClient, container: Container, row: dict[str, Any]) -> str:
    """A 3202 amount difference on ``row`` raised by the hospital and answered by the centre."""
    raised = client.post(
        f"{BASE}/from-statement",
        json={"settlement_id": row["setl_id"], "institution": amounts(row, "0.01")},
        headers=token_for(container, BOBAI_CASHIER),
    )
    assert raised.status_code == 201, raised.text
    path = f"{BASE}/{raised.json()['dispute_id']}"
    answer = client.post(
        f"{path}/answer",
        json={"text": "中心核对后认可差额"},
        headers=token_for(container, CLEARING),
    )
    assert answer.status_code == 200, answer.text
    return path


def test_an_agreed_adjustment_is_carried_by_the_next_open_month_as_its_own_line(
    client: TestClient, container: Container, ledger: list[dict[str, Any]]
) -> None:
    centre = token_for(container, CLEARING)
    november = ledger[0]  # settled on 20 November
    closed = run(client, centre, "2026-11", close="true")
    assert closed["status"] == "closed"
    december_before = run(client, centre, "2026-12")["statement"]
    assert december_before["adjustments"] == []
    assert december_before["adjustment_total"] == "0.00"
    assert december_before["cleared_total"] == december_before["due_total"]

    path = answered_dispute(client, container, november)
    resolve = {
        "outcome": "accepted",
        "text": "按医院记录追补 0.01 元",
        "clearing_adjustment": "0.01",
    }
    resolved = client.post(f"{path}/resolve", json=resolve, headers=centre)
    assert resolved.status_code == 200, resolved.text
    body = resolved.json()
    assert body["clearing_adjustment"] == "0.01"
    assert [(a["clearing_month"], a["amount"]) for a in body["clearing_adjustments"]] == [
        ("2026-12", "0.01")
    ]
    assert body["events"][-1]["clearing_adjustment"] == "0.01"
    # the same resolution resent: one step, one adjustment
    again = client.post(f"{path}/resolve", json=resolve, headers=centre)
    assert again.status_code == 200 and len(again.json()["events"]) == 3
    assert count(container, clearing_adjustments) == 1

    # the closed month is never rewritten: running it again returns the stored statement
    november_after = run(client, centre, "2026-11")
    assert november_after["content_hash"] == closed["content_hash"]
    assert november_after["statement"]["adjustments"] == []

    december = run(client, centre, "2026-12")["statement"]
    assert [a["dispute_id"] for a in december["adjustments"]] == [path.rsplit("/", 1)[1]]
    line = december["adjustments"][0]
    assert line["settlement_ids"] == [november["setl_id"]] and line["amount"] == "0.01"
    assert line["concerns_month"] == "2026-11" and line["decided_by"] == "clearing"
    assert line["reason"] == "按医院记录追补 0.01 元"
    assert line["insured_region_code"] == "430000"  # the province, at the province level
    # the settlements' due is as before; the totals include the adjustment
    assert december["due_total"] == december_before["due_total"]
    assert december["person_times"] == december_before["person_times"]
    assert Decimal(december["adjustment_total"]) == Decimal("0.01")
    assert Decimal(december["cleared_total"]) == Decimal(december_before["due_total"]) + Decimal(
        "0.01"
    )
    assert Decimal(december["balance_to_pay"]) == Decimal(
        december_before["balance_to_pay"]
    ) + Decimal("0.01")
    pair = next(p for p in december["lines"] if p["adjustment_total"] != "0.00")
    assert Decimal(pair["cleared_total"]) == Decimal(pair["due_total"]) + Decimal("0.01")
    prefecture = run(client, centre, "2026-12", level="prefecture")["statement"]
    assert [a["insured_region_code"] for a in prefecture["adjustments"]] == ["430400"]

    # the workbook lists it on a sheet of its own, the page as a table under the statement
    xlsx = client.get("/api/clearing/2026-12/statement.xlsx", headers=centre)
    assert xlsx.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    sheet = book["清算调整"]
    assert sheet.cell(4, 2).value == line["dispute_id"]
    assert sheet.cell(4, 7).value == november["setl_id"]
    assert Decimal(str(sheet.cell(4, 9).value)) == Decimal("0.01")
    token = centre["Authorization"].split()[1]
    client.cookies.set(SESSION_COOKIE, token)
    page = client.get("/funds/clearing?month=2026-12&level=province", headers=PAGE)
    assert page.status_code == 200
    rows = table_rows(page.text, 'id="adjustments-table"')
    assert rows[0][0].startswith(line["dispute_id"]) and rows[0][4] == "0.01"
    assert november["setl_id"] in rows[0][3] and 'id="cleared-total"' in page.text


def test_no_adjustment_adds_nothing_and_reopening_withdraws_what_is_not_cleared(
    client: TestClient, container: Container, ledger: list[dict[str, Any]]
) -> None:
    centre = token_for(container, CLEARING)
    plain = answered_dispute(client, container, ledger[1])
    resolved = client.post(
        f"{plain}/resolve", json={"outcome": "rejected", "text": "以中心记录为准"}, headers=centre
    )
    assert resolved.status_code == 200 and resolved.json()["clearing_adjustments"] == []
    assert count(container, clearing_adjustments) == 0

    path = answered_dispute(client, container, ledger[2])
    refused = client.post(
        f"{path}/resolve",
        json={"outcome": "rejected", "text": "驳回", "clearing_adjustment": "5.00"},
        headers=centre,
    )
    assert refused.status_code == 422 and error_code(refused) == "DISPUTE_ADJUSTMENT_NOT_ALLOWED"
    zero = client.post(
        f"{path}/resolve",
        json={"outcome": "accepted", "text": "不调整", "clearing_adjustment": "0"},
        headers=centre,
    )
    assert error_code(zero) == "DISPUTE_ADJUSTMENT_ZERO"
    assert count(container, clearing_adjustments) == 0

    deducted = client.post(
        f"{path}/resolve",
        json={"outcome": "accepted", "text": "扣减 3.50 元", "clearing_adjustment": "-3.50"},
        headers=centre,
    )
    assert deducted.status_code == 200, deducted.text
    assert run(client, centre, "2026-12")["statement"]["adjustment_total"] == "-3.50"
    reopened = client.post(
        f"{path}/reopen", json={"text": "金额仍有争议"}, headers=token_for(container, BOBAI_CASHIER)
    )
    assert reopened.status_code == 200 and reopened.json()["clearing_adjustments"] == []
    assert count(container, clearing_adjustments) == 1  # kept, withdrawn
    assert run(client, centre, "2026-12")["statement"]["adjustments"] == []
