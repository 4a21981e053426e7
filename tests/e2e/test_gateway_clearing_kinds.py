"""Clearing types (清算类别 clr_type: 11 门诊, 21 住院, 41 药店购药) from settlement to
reconciliation, clearing application, statistics and the monthly clearing statement.

One day (2026-11-20) at 博白: the filed 衡阳县 retiree settles a stay (2304, 11811.24) and a
general outpatient visit (2207, 408.60) at the hospital H45092300001 and buys drugs (2102,
173.20) at the pharmacy P45092300001. Each settlement clears as its encounter's kind; a
request naming a clr_type counts only that kind, one without it counts them all.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from test_hospital_gateway import (
    _ready_to_settle,
    call,
    ok,
    person_no,
    refused,
    settle_input,
)
from test_hospital_gateway_outpatient import _visit_ready_to_settle, outpatient_settle_input
from test_pharmacy_gateway import PHARMACY, credit, pharmacy_call, purchase

from yidi.bootstrap import Container
from yidi.funds import commands as funds
from yidi.funds.model import ClearingKind, ClearingLevel
from yidi.funds.statistics import Dimension, Direction, StatisticsQuery
from yidi.kernel.clock import CHINA_TZ
from yidi.kernel.money import Money

HOSPITAL = "H45092300001"


def _settle_one_of_each(client: TestClient, container: Container) -> dict[str, dict[str, Any]]:
    """The three settlements' 2304/2207/2102 setlinfo, by clearing type."""
    stay_psn, stay = _ready_to_settle(client)
    inpatient = ok(call(client, "2304", settle_input(stay, stay_psn, "11811.24"), msgid="STAY-1"))
    visit_psn, visit = _visit_ready_to_settle(client)
    outpatient = ok(
        call(client, "2207", outpatient_settle_input(visit, visit_psn, "408.60"), msgid="VISIT-1")
    )
    credit(container)
    buyer = person_no(client, hospital=PHARMACY)
    pharmacy = ok(pharmacy_call(client, "2102", purchase(buyer), msgid="BUY-1"))
    return {
        "21": inpatient["setlinfo"],
        "11": outpatient["setlinfo"],
        "41": pharmacy["setlinfo"],
    }


def _totals(rows: list[dict[str, Any]], clr_type: str | None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "stmt_begndate": "2026-11-01",
        "stmt_enddate": "2026-11-30",
        "medfee_sumamt": str(sum(Decimal(r["medfee_sumamt"]) for r in rows)),
        "fund_pay_sumamt": str(sum(Decimal(r["fund_pay_sumamt"]) for r in rows)),
        "acct_pay": str(sum(Decimal(r["acct_pay"]) for r in rows)),
        "fixmedins_setl_cnt": len(rows),
    }
    if clr_type is not None:
        data["clr_type"] = clr_type
    return {"data": data}


def _statement(client: TestClient, input_: dict[str, Any], hospital: str) -> dict[str, Any]:
    result: dict[str, Any] = ok(call(client, "3201", input_, hospital=hospital))["stmtinfo"]
    return result


def test_each_settlement_clears_as_its_kind_and_3201_compares_one_kind_at_a_time(
    client: TestClient, world: None, container: Container
) -> None:
    answered = _settle_one_of_each(client, container)
    assert {kind: info["clr_type"] for kind, info in answered.items()} == {
        "21": "21",
        "11": "11",
        "41": "41",
    }
    with container.uow() as uow:
        kinds = {
            fact.clearing_kind.value: fact.setl_id
            for fact in uow.funds.facts(clearing_month="2026-11")
        }
    assert kinds == {kind: info["setl_id"] for kind, info in answered.items()}

    stay, visit, drugs = answered["21"], answered["11"], answered["41"]
    # Without clr_type the hospital's two settlements are counted together, as before.
    both = _statement(client, _totals([stay, visit], None), HOSPITAL)
    assert both["stmt_rslt"] == "000000", both["stmt_rslt_dscr"]
    assert _statement(client, _totals([stay], "21"), HOSPITAL)["stmt_rslt"] == "000000"
    assert _statement(client, _totals([visit], "11"), HOSPITAL)["stmt_rslt"] == "000000"
    assert _statement(client, _totals([], "41"), HOSPITAL)["stmt_rslt"] == "000000"
    # Declaring both kinds' totals under 21 does not balance: 21 is the stay alone.
    mixed = _statement(client, _totals([stay, visit], "21"), HOSPITAL)
    assert mixed["stmt_rslt"] == "000103"
    assert "结算笔数：中心 1笔，医药机构 2笔" in mixed["stmt_rslt_dscr"]
    # The pharmacy's purchase is clearing type 41, and nothing else.
    assert _statement(client, _totals([drugs], "41"), PHARMACY)["stmt_rslt"] == "000000"
    assert _statement(client, _totals([], "21"), PHARMACY)["stmt_rslt"] == "000000"
    assert _statement(client, _totals([drugs], "11"), PHARMACY)["stmt_rslt"] == "000103"
    # A region's own clearing type (99xxx) has no settlement in yidi.
    assert _statement(client, _totals([], "99901"), HOSPITAL)["stmt_rslt"] == "000000"
    # The reply keeps the keys real clients read, in their order.
    reply = call(client, "3201", _totals([stay], "21"), hospital=HOSPITAL)
    assert list(reply["output"]["stmtinfo"]) == ["setl_optins", "stmt_rslt", "stmt_rslt_dscr"]


def _application(rows: list[dict[str, Any]], clr_type: str, cash: list[str]) -> dict[str, Any]:
    return {
        "data": {
            "clr_type": clr_type,
            "clr_way": "1",
            "setlym": "202611",
            "psntime": len(rows),
            "medfee_sumamt": str(sum(Decimal(r["medfee_sumamt"]) for r in rows)),
            "med_sumfee": str(sum(Decimal(r["medfee_sumamt"]) for r in rows)),
            "fund_appy_sum": str(sum(Decimal(r["fund_pay_sumamt"]) for r in rows)),
            "cash_payamt": str(sum(Decimal(c) for c in cash)),
            "acct_pay": str(sum(Decimal(r["acct_pay"]) for r in rows)),
            "begndate": "2026-11-01",
            "enddate": "2026-11-30",
        }
    }


def test_3203_applies_per_clearing_type_with_that_types_totals(
    client: TestClient, world: None, container: Container
) -> None:
    answered = _settle_one_of_each(client, container)
    container.clock.set(dt.datetime(2026, 12, 2, 9, tzinfo=CHINA_TZ))  # type: ignore[attr-defined]
    stay, visit, drugs = answered["21"], answered["11"], answered["41"]
    cash = {kind: [info["psn_cash_pay"]] for kind, info in answered.items()}

    # The stay's totals declared as outpatient: the centre's outpatient month is the visit.
    wrong = refused(
        call(client, "3203", _application([stay], "11", cash["21"]), msgid="C-0"),
        "CLEARING_TOTALS_DIFFER",
    )
    assert "医疗费总额 中心 408.60 元、申报 11811.24 元" in wrong
    refused(
        call(client, "3203", _application([], "99901", []), msgid="C-00"),
        "CLEARING_TYPE_UNSUPPORTED",
    )
    inpatient = ok(call(client, "3203", _application([stay], "21", cash["21"]), msgid="C-1"))
    outpatient = ok(call(client, "3203", _application([visit], "11", cash["11"]), msgid="C-2"))
    # One standing application per month and clearing type: the two kinds stand side by side.
    assert inpatient["result"]["clr_appy_evt_id"] != outpatient["result"]["clr_appy_evt_id"]
    refused(
        call(client, "3203", _application([stay], "21", cash["21"]), msgid="C-3"),
        "CLEARING_ALREADY_APPLIED",
    )
    pharmacy = call(
        client, "3203", _application([drugs], "41", cash["41"]), msgid="C-4", hospital=PHARMACY
    )
    assert list(ok(pharmacy)) == ["result"]
    assert list(ok(pharmacy)["result"]) == ["clr_appy_evt_id"]


def test_statistics_and_the_clearing_statement_split_their_totals_by_clearing_type(
    client: TestClient, world: None, container: Container
) -> None:
    answered = _settle_one_of_each(client, container)
    query = StatisticsQuery("450000", Direction.INBOUND, Dimension.MONTH)
    report = funds.statistics(container.uow(), query)
    assert [row.key for row in report.kinds] == ["21", "11", "41"]
    assert [row.person_times for row in report.kinds] == [1, 1, 1]
    assert [row.total_charges_fen for row in report.kinds] == [
        Money(answered[kind]["medfee_sumamt"]).fen for kind in ("21", "11", "41")
    ]
    total = report.total
    assert sum(row.total_charges_fen for row in report.kinds) == total.total_charges_fen
    assert sum(row.fund_total_fen for row in report.kinds) == total.fund_total_fen
    by_type = funds.statistics(
        container.uow(), StatisticsQuery("450000", Direction.INBOUND, Dimension.CLEARING_TYPE)
    )
    assert [(row.key, row.label) for row in by_type.rows] == [
        ("11", "门诊"),
        ("21", "住院"),
        ("41", "药店购药"),
    ]

    container.clock.set(dt.datetime(2026, 12, 2, 9, tzinfo=CHINA_TZ))  # type: ignore[attr-defined]
    run = funds.run_clearing(
        container.uow(), container.clock, "2026-11", ClearingLevel.PROVINCE, close=True
    )
    by_kind = run.statement.by_kind
    assert by_kind is not None
    assert list(by_kind) == [ClearingKind.INPATIENT, ClearingKind.OUTPATIENT, ClearingKind.PHARMACY]
    assert {kind.value: due.due_total for kind, due in by_kind.items()} == {
        kind: Money(answered[kind]["fund_pay_sumamt"]) for kind in ("21", "11", "41")
    }
    assert sum(due.person_times for due in by_kind.values()) == run.statement.person_times
    assert sum(due.due_total.fen for due in by_kind.values()) == run.statement.due_total.fen
    # The stored, closed statement reads back with the same split.
    stored = funds.clearing_statement(container.uow(), "2026-11", ClearingLevel.PROVINCE)
    assert stored.statement == run.statement and stored.content_hash == run.content_hash
