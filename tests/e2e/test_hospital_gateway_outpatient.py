"""General outpatient (普通门诊) through the national gateway: one visit in one short call
sequence, 1101 → 2201 → 2203 → 2204 → 2206 → 2207 → 2208 (and 2205, 2202), on the database,
and the 2601 冲正 of a 2207 whose answer was lost.

The amounts are the hand computation of ``tests/unit/test_outpatient_use_cases.py`` (its module
docstring): the 博白 visit of the filed 衡阳县 retiree, 408.60 in total, 341.60 within the
policy's scope, the year's outpatient deductible 200.00, the outpatient pooled fund
141.60 × 0.65 = 92.04, the person 316.56.
"""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from test_hospital_gateway import (
    PATH,
    _ready_to_settle,
    _reverse,
    _table_counts,
    admit,
    call,
    ok,
    person_no,
    refused,
    settle_input,
)

from hospital_support import UNFILED_CARD, UNFILED_ID, XIE_CARD, XIE_LINES, nhsa_fee_rows
from yidi.bootstrap import Container
from yidi.funds.model import Fund, ledger_is_balanced
from yidi.kernel.money import Money
from yidi.platform.tables import encounters, settlements, year_to_date

VISIT_LINES = [
    ("002501000010000", "血细胞分析（血常规）", "1", "20.00"),
    ("002301000010000", "常规心电图检查", "2", "25.00"),
    ("002302010010000", "X线计算机体层（CT）平扫", "1", "280.00"),
    ("XC08CAA010A001010100009", "苯磺酸氨氯地平片", "28", "1.20"),
    ("XA11GAV001A001010100010", "维生素C泡腾片", "1", "25.00"),
]


def register(
    client: TestClient, psn_no: str, msgid: str | None = None, **changes: Any
) -> dict[str, Any]:
    return call(client, "2201", {"mdtrtinfo": visit_info(psn_no, **changes)}, msgid=msgid)


def visit_info(psn_no: str, **changes: Any) -> dict[str, Any]:
    info = {
        "psn_no": psn_no,
        "insutype": "310",
        "begntime": "2026-11-20 09:30:00",
        "mdtrt_cert_type": "03",
        "mdtrt_cert_no": XIE_CARD,
        "ipt_otp_no": "MZ20261120001",
        "atddr_no": "D001",
        "dr_name": "张医生",
        "dept_code": "A03",
        "dept_name": "心内科门诊",
        "caty": "A03",
    }
    info.update(changes)
    return info


def visit_data(mdtrt_id: str, psn_no: str) -> dict[str, Any]:
    return {
        "mdtrtinfo": {
            "mdtrt_id": mdtrt_id,
            "psn_no": psn_no,
            "med_type": "11",
            "begntime": "2026-11-20 09:30:00",
            "main_cond_dscr": "头晕",
        },
        "diseinfo": [
            {
                "diag_type": "1",
                "diag_srt_no": "1",
                "diag_code": "I10",
                "diag_name": "特发性（原发性）高血压",
                "diag_dept": "A03",
                "dise_dor_no": "D001",
                "dise_dor_name": "张医生",
                "diag_time": "2026-11-20 09:40:00",
                "vali_flag": "1",
                "maindiag_flag": "1",
            }
        ],
    }


def fee_rows(mdtrt_id: str, psn_no: str) -> list[dict[str, Any]]:
    rows = nhsa_fee_rows(VISIT_LINES, mdtrt_id, psn_no, "2026-11-20 10:00:00", prefix="MZ")
    return [row | {"med_type": "11", "chrg_bchno": "CB0001"} for row in rows]


def outpatient_settle_input(mdtrt_id: str, psn_no: str, total: str) -> dict[str, Any]:
    data = settle_input(mdtrt_id, psn_no, total)["data"]
    return {"mdtrtinfo": data | {"chrg_bchno": "CB0001", "med_type": "11", "mdtrt_mode": "0"}}


def test_a_whole_visit_2201_2203_2204_2206_2207_2208_to_the_fen(
    client: TestClient, world: None, container: Container
) -> None:
    psn_no = person_no(client)
    registered = ok(register(client, psn_no))["data"]
    mdtrt_id = registered["mdtrt_id"]
    assert registered["psn_no"] == psn_no and registered["ipt_otp_no"] == "MZ20261120001"
    assert ok(call(client, "2203", visit_data(mdtrt_id, psn_no))) in (None, {})
    uploaded = ok(call(client, "2204", {"feedetail": fee_rows(mdtrt_id, psn_no)}))["result"]
    assert [row["feedetl_sn"] for row in uploaded] == ["MZ1", "MZ2", "MZ3", "MZ4", "MZ5"]
    ct = next(row for row in uploaded if row["feedetl_sn"] == "MZ3")
    assert ct["preselfpay_amt"] == Decimal("42.00") and ct["inscp_scp_amt"] == Decimal("238.00")
    pre = ok(call(client, "2206", outpatient_settle_input(mdtrt_id, psn_no, "408.60")))["setlinfo"]
    assert "setl_id" not in pre
    msgid = "H450923000012026112000007777"
    reply = call(client, "2207", outpatient_settle_input(mdtrt_id, psn_no, "408.60"), msgid=msgid)
    info = ok(reply)["setlinfo"]
    expected = {
        "medfee_sumamt": "408.60",
        "fulamt_ownpay_amt": "25.00",
        "overlmt_selfpay": "0.00",
        "preselfpay_amt": "42.00",
        "inscp_scp_amt": "341.60",
        "act_pay_dedc": "200.00",
        "hifp_pay": "92.04",
        "fund_pay_sumamt": "92.04",
        "psn_part_amt": "316.56",
        "acct_pay": "0.00",
        "psn_cash_pay": "316.56",
    }
    assert {name: str(info[name]) for name in expected} == expected
    assert info["med_type"] == "11" and info["setl_id"]
    assert {name: str(pre[name]) for name in expected} == expected
    # The same msgid again: the first answer, one settlement.
    again = ok(
        call(client, "2207", outpatient_settle_input(mdtrt_id, psn_no, "408.60"), msgid=msgid)
    )
    assert again["setlinfo"]["setl_id"] == info["setl_id"]
    with container.uow() as uow:
        kinds = uow.session.execute(
            select(settlements.c.kind).where(settlements.c.encounter_id == mdtrt_id)
        ).all()
        assert [k for (k,) in kinds] == ["settle"]
        admissions = uow.session.execute(select(year_to_date.c.admissions_count)).scalar_one()
        assert admissions == 0  # a visit is never an admission
    cancel = {"data": {"setl_id": info["setl_id"], "mdtrt_id": mdtrt_id, "psn_no": psn_no}}
    reversal = ok(call(client, "2208", cancel))["setlinfo"]
    assert reversal["medfee_sumamt"] == Decimal("-408.60")
    assert reversal["hifp_pay"] == Decimal("-92.04")
    assert reversal["setl_id"] == info["setl_id"]
    # Back to registered: cancel the fees (2205) and the registration (2202).
    ref = {"mdtrt_id": mdtrt_id, "psn_no": psn_no}
    refused(call(client, "2202", {"data": ref}), "VISIT_CANNOT_CANCEL")
    ok(call(client, "2205", {"data": ref | {"chrg_bchno": "CB0001"}}))
    ok(call(client, "2202", {"data": ref | {"ipt_otp_no": "MZ20261120001"}}))
    with container.uow() as uow:
        state = uow.session.execute(
            select(encounters.c.state).where(encounters.c.id == mdtrt_id)
        ).scalar_one()
    assert state == "cancelled"


def test_outpatient_and_inpatient_transactions_are_not_mixed(
    client: TestClient, world: None, container: Container
) -> None:
    psn_no = person_no(client)
    stay = ok(admit(client, psn_no))["result"]["mdtrt_id"]
    rows = [row | {"mdtrt_id": stay} for row in fee_rows(stay, psn_no)]
    refused(call(client, "2204", {"feedetail": rows}), "VISIT_NOT_OUTPATIENT")
    refused(
        call(client, "2207", outpatient_settle_input(stay, psn_no, "408.60")),
        "VISIT_NOT_OUTPATIENT",
    )
    visit = ok(register(client, psn_no))["data"]["mdtrt_id"]
    inpatient_rows = nhsa_fee_rows(XIE_LINES[:2], visit, psn_no, "2026-11-20 10:00:00")
    refused(call(client, "2301", {"feedetail": inpatient_rows}), "VISIT_NOT_INPATIENT")
    ok(call(client, "2204", {"feedetail": fee_rows(visit, psn_no)}))
    refused(call(client, "2304", settle_input(visit, psn_no, "408.60")), "VISIT_NOT_INPATIENT")
    chronic = outpatient_settle_input(visit, psn_no, "408.60")
    chronic["mdtrtinfo"]["med_type"] = "14"  # the visit was recorded as 11 by 2201
    refused(call(client, "2207", chronic), "VISIT_MED_TYPE_MISMATCH")
    chronic["mdtrtinfo"]["med_type"] = "13"
    refused(call(client, "2207", chronic), "MED_TYPE_NOT_DIRECT")
    with container.uow() as uow:
        assert uow.session.execute(select(settlements.c.id)).all() == []


def test_an_unfiled_patient_cannot_register_a_visit(
    client: TestClient, world: None, container: Container
) -> None:
    with container.uow() as uow:
        person = uow.reference.person_by_id_number(UNFILED_ID)
    assert person is not None
    message = refused(
        register(client, person.psn_no, mdtrt_cert_no=UNFILED_CARD), "FILING_NOT_VALID"
    )
    assert "衡阳县职工医保 0734-6653009" in message
    with container.uow() as uow:
        assert uow.session.execute(select(encounters.c.id)).all() == []


# --------------------------------------------------------------------------- 2601 冲正 of a 2207

#: The envelope fields that differ from one answer to the next (receiver id and times).
_PER_ANSWER = ("inf_refmsgid", "refmsg_time", "respond_time")


def _same_answer(reply: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in reply.items() if name not in _PER_ANSWER}


def _visit_ready_to_settle(client: TestClient, fees_msgid: str | None = None) -> tuple[str, str]:
    psn_no = person_no(client)
    mdtrt_id = ok(register(client, psn_no))["data"]["mdtrt_id"]
    ok(call(client, "2203", visit_data(mdtrt_id, psn_no)))
    ok(call(client, "2204", {"feedetail": fee_rows(mdtrt_id, psn_no)}, msgid=fees_msgid))
    return psn_no, mdtrt_id


def _settle_visit_and_lose_the_reply(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, mdtrt_id: str, psn_no: str, msgid: str
) -> None:
    """The server commits the 2207, then the answer never reaches the hospital."""
    from yidi.integrations.nhsa import adapter

    def connection_dropped(view: Any) -> Any:
        raise ConnectionResetError("connection reset by peer")

    with monkeypatch.context() as patch:
        patch.setattr(adapter, "output_2304", connection_dropped)
        reply = call(
            client, "2207", outpatient_settle_input(mdtrt_id, psn_no, "408.60"), msgid=msgid
        )
    assert reply["infcode"] == -1 and reply["output"] is None  # all the hospital sees


def _net_by_account(container: Container) -> dict[str, int]:
    with container.uow() as uow:
        net: Counter[str] = Counter()
        for entry in uow.funds.entries():
            net[str(entry.account)] += entry.signed_fen
    return dict(net)


def test_a_lost_2207_answer_is_reversed_with_2601_and_the_ledger_nets_to_zero(
    client: TestClient, world: None, container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    psn_no, mdtrt_id = _visit_ready_to_settle(client)
    _settle_visit_and_lose_the_reply(client, monkeypatch, mdtrt_id, psn_no, "LOST-2207")
    with container.uow() as uow:
        (settled,) = uow.session.execute(
            select(settlements).where(settlements.c.encounter_id == mdtrt_id)
        ).all()
        fact = uow.funds.fact(settled.id)
    assert settled.state == "active" and fact is not None  # committed on the server
    assert fact.fund_amounts[Fund.POOLED] == Money("92.04")
    assert any(_net_by_account(container).values())

    first = _reverse(client, psn_no, "LOST-2207", "2207", msgid="RVS-2207")
    assert ok(first) == {}
    # The 2601 resent with its own msgid: the same answer, nothing reversed twice.
    again = _reverse(client, psn_no, "LOST-2207", "2207", msgid="RVS-2207")
    assert _same_answer(again) == _same_answer(first)
    # Another 2601 of the same omsgid: accepted, changes nothing.
    assert ok(_reverse(client, psn_no, "LOST-2207", "2207", msgid="RVS-2207-B")) == {}

    with container.uow() as uow:
        rows = uow.session.execute(
            select(settlements.c.kind, settlements.c.state, settlements.c.total_charges_fen)
            .where(settlements.c.encounter_id == mdtrt_id)
            .order_by(settlements.c.kind)
        ).all()
        reversal = uow.funds.reversal_of(settled.id)
        balanced = ledger_is_balanced(uow.funds.entries())
        state = uow.session.execute(
            select(encounters.c.state).where(encounters.c.id == mdtrt_id)
        ).scalar_one()
        ytd = uow.session.execute(select(year_to_date)).one()
    assert [tuple(row) for row in rows] == [
        ("reversal", "done", -40860),
        ("settle", "reversed", 40860),
    ]
    assert reversal is not None and reversal.person_times == -1
    assert reversal.fund_amounts[Fund.POOLED] == Money("-92.04")
    assert reversal.fund_total == -fact.fund_total
    assert balanced and not any(_net_by_account(container).values())
    assert state == "registered"  # the visit can be corrected and settled again
    assert ytd.admissions_count == 0 and ytd.deductible_used_fen == 0
    assert not any(json.loads(ytd.counters_json).values())  # the outpatient counters restored

    # The original msgid is answered MESSAGE_REVERSED; a new msgid settles the same amounts.
    resent = call(
        client, "2207", outpatient_settle_input(mdtrt_id, psn_no, "408.60"), msgid="LOST-2207"
    )
    assert "2601" in refused(resent, "MESSAGE_REVERSED")
    anew = call(
        client, "2207", outpatient_settle_input(mdtrt_id, psn_no, "408.60"), msgid="NEW-2207"
    )
    info = ok(anew)["setlinfo"]
    assert (info["act_pay_dedc"], info["hifp_pay"]) == (Decimal("200.00"), Decimal("92.04"))


def test_2601_of_a_2207_never_received_refuses_it_when_it_comes_late(
    client: TestClient, world: None, container: Container
) -> None:
    psn_no, mdtrt_id = _visit_ready_to_settle(client)
    assert ok(_reverse(client, psn_no, "NEVER-ARRIVED", "2207")) == {}
    late = call(
        client, "2207", outpatient_settle_input(mdtrt_id, psn_no, "408.60"), msgid="NEVER-ARRIVED"
    )
    refused(late, "MESSAGE_REVERSED")
    with container.uow() as uow:
        assert uow.session.execute(select(settlements.c.id)).all() == []


def test_2601_names_the_settlement_transaction_of_the_right_kind(
    client: TestClient, world: None, container: Container
) -> None:
    psn_no, visit = _visit_ready_to_settle(client, fees_msgid="FEES-1")
    ok(call(client, "2207", outpatient_settle_input(visit, psn_no, "408.60"), msgid="VISIT-1"))
    stay_psn_no, stay = _ready_to_settle(client)
    ok(call(client, "2304", settle_input(stay, stay_psn_no, "11811.24"), msgid="STAY-1"))
    before = _table_counts(container)
    # 2206 pre-settles without writing anything: the interface offers no 2601 of it.
    refused(_reverse(client, psn_no, "VISIT-1", "2206"), "REVERSAL_INFNO_UNSUPPORTED")
    refused(_reverse(client, psn_no, "VISIT-1", "2304"), "REVERSAL_OINFNO_MISMATCH")
    refused(_reverse(client, psn_no, "VISIT-1", "2305"), "REVERSAL_OINFNO_MISMATCH")
    refused(_reverse(client, stay_psn_no, "STAY-1", "2207"), "REVERSAL_OINFNO_MISMATCH")
    # A message yidi received that settled nothing (the visit's fee upload) is no 2207.
    refused(_reverse(client, psn_no, "FEES-1", "2207"), "REVERSAL_OINFNO_MISMATCH")
    assert _table_counts(container) == before


def test_2601_of_a_2208_restores_the_visit_settlement_unless_the_visit_changed(
    client: TestClient, world: None, container: Container
) -> None:
    psn_no, mdtrt_id = _visit_ready_to_settle(client)
    info = ok(call(client, "2207", outpatient_settle_input(mdtrt_id, psn_no, "408.60")))["setlinfo"]
    cancel = {"data": {"setl_id": info["setl_id"], "mdtrt_id": mdtrt_id, "psn_no": psn_no}}
    ok(call(client, "2208", cancel, msgid="CANCEL-V1"))
    ok(_reverse(client, psn_no, "CANCEL-V1", "2208"))
    with container.uow() as uow:
        active = uow.session.execute(
            select(settlements).where(
                settlements.c.encounter_id == mdtrt_id, settlements.c.state == "active"
            )
        ).one()
        state = uow.session.execute(
            select(encounters.c.state).where(encounters.c.id == mdtrt_id)
        ).scalar_one()
        balanced = ledger_is_balanced(uow.funds.entries())
    assert active.total_charges_fen == 40860 and active.id != info["setl_id"]
    assert state == "settled" and balanced
    refused(call(client, "2208", cancel, msgid="CANCEL-V1"), "MESSAGE_REVERSED")
    refused(_reverse(client, psn_no, "CANCEL-V1", "2305"), "REVERSAL_OINFNO_MISMATCH")

    # Cancelled again and a line cancelled: the old settlement no longer fits the visit.
    restored = {"data": {"setl_id": active.id, "mdtrt_id": mdtrt_id, "psn_no": psn_no}}
    ok(call(client, "2208", restored, msgid="CANCEL-V2"))
    ok(call(client, "2205", {"data": {"mdtrt_id": mdtrt_id, "psn_no": psn_no}}))
    before = _table_counts(container)
    refused(_reverse(client, psn_no, "CANCEL-V2", "2208"), "REVERSAL_CANNOT_RESTORE")
    assert _table_counts(container) == before


def test_outpatient_transactions_that_change_state_need_a_msgid_and_a_resent_2201_is_one_visit(
    client: TestClient, world: None, container: Container
) -> None:
    psn_no = person_no(client)
    before = _table_counts(container)
    envelope = {
        "infno": "2201",
        "fixmedins_code": "H45092300001",
        "mdtrtarea_admvs": "450923",
        "insuplc_admdvs": "430421",
        "inf_time": "2026-11-20 09:30:00",
        "input": {"mdtrtinfo": visit_info(psn_no)},
    }
    response = client.post(PATH, json=envelope)
    assert response.status_code == 200
    refused(response.json(), "NHSA_MSGID_MISSING")
    assert _table_counts(container) == before

    first = ok(register(client, psn_no, msgid="H4509230000120261120R1"))
    again = ok(register(client, psn_no, msgid="H4509230000120261120R1"))
    assert again["data"]["mdtrt_id"] == first["data"]["mdtrt_id"]
    with container.uow() as uow:
        visits = uow.session.execute(
            select(encounters.c.id).where(encounters.c.med_type == "11")
        ).all()
    assert len(visits) == 1


def test_a_registration_naming_another_insurance_type_is_refused_and_writes_nothing(
    client: TestClient, world: None, container: Container
) -> None:
    psn_no = person_no(client)
    before = _table_counts(container)
    refused(register(client, psn_no, insutype="390"), "INSUTYPE_MISMATCH")
    assert _table_counts(container) == before
