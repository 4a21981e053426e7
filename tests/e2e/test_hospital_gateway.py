"""The national-interface gateway end to end: envelope in, yidi services, envelope out."""

from __future__ import annotations

import itertools
import json
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from filing_support import PERSON_ID
from hospital_support import (
    BOBAI_CASHIER,
    BOBAI_CODE,
    NANHUA_CODE,
    PENG_CARD,
    UNFILED_CARD,
    XIE_CARD,
    XIE_LINES,
    build_world,
    nhsa_fee_rows,
    token_for,
)
from yidi.bootstrap import Container
from yidi.kernel.money import Money
from yidi.platform.tables import settlements, year_to_date

PATH = "/fsi/api/rsfComIfsService/callService"
DISPUTES = "/api/reconciliation/disputes"
_ids = itertools.count(1)


def call(
    client: TestClient,
    infno: str,
    input_: dict[str, Any],
    *,
    msgid: str | None = None,
    hospital: str = BOBAI_CODE,
) -> dict[str, Any]:
    envelope = {
        "infno": infno,
        "msgid": msgid or f"{hospital}20261120{next(_ids):010d}",
        "mdtrtarea_admvs": "450923" if hospital == BOBAI_CODE else "430400",
        "insuplc_admdvs": "430421",
        "recer_sys_code": "FSI_LOCAL",
        "infver": "V1.0",
        "opter_type": "1",
        "opter": "C01",
        "opter_name": "收费员",
        "inf_time": "2026-11-20 10:00:00",
        "fixmedins_code": hospital,
        "fixmedins_name": "医院",
        "sign_no": "",
        "input": input_,
    }
    response = client.post(PATH, json=envelope)
    assert response.status_code == 200
    reply: dict[str, Any] = json.loads(response.content, parse_float=Decimal)
    return reply


def ok(reply: dict[str, Any]) -> dict[str, Any]:
    assert reply["infcode"] == 0, reply["err_msg"]
    output: dict[str, Any] = reply["output"]
    return output


def refused(reply: dict[str, Any], code: str) -> str:
    assert reply["infcode"] == -1
    assert reply["err_msg"].startswith(f"[{code}]"), reply["err_msg"]
    message: str = reply["err_msg"]
    return message


@pytest.fixture
def world(container: Container) -> None:
    build_world(container)


def person_no(client: TestClient, card: str = XIE_CARD, hospital: str = BOBAI_CODE) -> str:
    output = ok(
        call(
            client,
            "1101",
            {"data": {"mdtrt_cert_type": "03", "mdtrt_cert_no": card, "card_sn": "X1"}},
            hospital=hospital,
        )
    )
    psn_no: str = output["baseinfo"]["psn_no"]
    return psn_no


def admit(
    client: TestClient,
    psn_no: str,
    *,
    med_type: str = "21",
    begntime: str = "2026-11-20 08:00:00",
    exp_content: Any = None,
    hospital: str = BOBAI_CODE,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return call(
        client,
        "2401",
        {
            "mdtrtinfo": {
                "psn_no": psn_no,
                "insutype": "310",
                "begntime": begntime,
                "mdtrt_cert_type": "03",
                "mdtrt_cert_no": XIE_CARD,
                "med_type": med_type,
                "ipt_no": "ZY0001",
                "atddr_no": "D001",
                "chfpdr_name": "张医生",
                "adm_diag_dscr": "胆囊结石",
                "adm_dept_codg": "A03",
                "adm_dept_name": "普外科",
                "adm_bed": "12",
                "dscg_maindiag_code": "K80.101",
                "dscg_maindiag_name": "胆囊结石伴急性胆囊炎",
                "exp_content": exp_content,
            }
            | (extra or {}),
            "diseinfo": [
                {
                    "psn_no": psn_no,
                    "diag_type": "1",
                    "maindiag_flag": "1",
                    "diag_srt_no": "1",
                    "diag_code": "K80.101",
                    "diag_name": "胆囊结石伴急性胆囊炎",
                    "diag_dept": "普外科",
                    "dise_dor_no": "D001",
                    "dise_dor_name": "张医生",
                    "diag_time": begntime,
                }
            ],
        },
        hospital=hospital,
    )


def discharge(
    client: TestClient, mdtrt_id: str, psn_no: str, endtime: str = "2026-11-30 10:00:00"
) -> None:
    ok(
        call(
            client,
            "2402",
            {
                "dscginfo": {
                    "mdtrt_id": mdtrt_id,
                    "psn_no": psn_no,
                    "insutype": "310",
                    "endtime": endtime,
                    "dscg_dept_codg": "A03",
                    "dscg_way": "1",
                },
                "diseinfo": [],
            },
        )
    )


def settle_input(mdtrt_id: str, psn_no: str, total: str) -> dict[str, Any]:
    return {
        "data": {
            "psn_no": psn_no,
            "mdtrt_cert_type": "03",
            "mdtrt_cert_no": XIE_CARD,
            "medfee_sumamt": total,
            "psn_setlway": "01",
            "mdtrt_id": mdtrt_id,
            "insutype": "310",
            "acct_used_flag": "0",
            "mid_setl_flag": "0",
        }
    }


def test_happy_path_1101_2401_2301_2402_2303_2304_2305_and_resettlement(
    client: TestClient, world: None
) -> None:
    psn_no = person_no(client)
    mdtrt_id = ok(admit(client, psn_no))["result"]["mdtrt_id"]
    uploaded = ok(
        call(
            client,
            "2301",
            {"feedetail": nhsa_fee_rows(XIE_LINES, mdtrt_id, psn_no, "2026-11-21 09:00:00")},
        )
    )
    assert len(uploaded["result"]) == 23
    class_c = next(r for r in uploaded["result"] if r["feedetl_sn"] == "20")  # 特需病房床位费
    assert class_c["chrgitm_lv"] == "03" and class_c["fulamt_ownpay_amt"] == Decimal("1000.00")
    discharge(client, mdtrt_id, psn_no)
    pre = ok(call(client, "2303", settle_input(mdtrt_id, psn_no, "11811.24")))
    assert "setl_id" not in pre["setlinfo"]
    msgid = "H450923000012026112000009999"
    settled = ok(call(client, "2304", settle_input(mdtrt_id, psn_no, "11811.24"), msgid=msgid))
    info = settled["setlinfo"]
    assert info["medfee_sumamt"] == Decimal("11811.24") and info["psn_part_amt"] == Decimal(
        "3792.11"
    )
    assert info["medins_setl_id"] == msgid and info["setl_id"]
    assert pre["setlinfo"]["hifp_pay"] == info["hifp_pay"]
    reversal = ok(
        call(
            client,
            "2305",
            {"data": {"mdtrt_id": mdtrt_id, "setl_id": info["setl_id"], "psn_no": psn_no}},
        )
    )
    assert reversal["setlinfo"]["medfee_sumamt"] == Decimal("-11811.24")
    assert reversal["setlinfo"]["setl_id"] == info["setl_id"]
    ok(
        call(
            client, "2302", {"data": [{"feedetl_sn": "20", "mdtrt_id": mdtrt_id, "psn_no": psn_no}]}
        )
    )
    again = ok(call(client, "2304", settle_input(mdtrt_id, psn_no, "10811.24")))
    assert again["setlinfo"]["medfee_sumamt"] == Decimal("10811.24")
    assert again["setlinfo"]["setl_id"] != info["setl_id"]
    assert again["setlinfo"]["psn_part_amt"] == Decimal(
        "2792.11"
    )  # the class-C bed was all self-paid


def test_the_same_msgid_ten_times_settles_exactly_once(
    client: TestClient, world: None, container: Container
) -> None:
    psn_no = person_no(client)
    mdtrt_id = ok(admit(client, psn_no))["result"]["mdtrt_id"]
    rows = nhsa_fee_rows(XIE_LINES, mdtrt_id, psn_no, "2026-11-21 09:00:00")
    for _ in range(3):  # a resent upload changes nothing
        ok(call(client, "2301", {"feedetail": rows}, msgid="UPLOAD-1"))
    ok(call(client, "2301", {"feedetail": rows}))  # the same lines under a new msgid: no-op
    discharge(client, mdtrt_id, psn_no)
    replies = [
        ok(call(client, "2304", settle_input(mdtrt_id, psn_no, "11811.24"), msgid="SETTLE-1"))
        for _ in range(10)
    ]
    assert len({r["setlinfo"]["setl_id"] for r in replies}) == 1
    assert all(r == replies[0] for r in replies)
    with container.uow() as uow:
        count = uow.session.execute(select(func.count()).select_from(settlements)).scalar_one()
        admissions = uow.session.execute(select(year_to_date.c.admissions_count)).scalars().all()
    assert count == 1 and admissions == [1]
    other = call(client, "2304", settle_input(mdtrt_id, psn_no, "1.00"), msgid="SETTLE-1")
    refused(other, "IDEMPOTENCY_KEY_REUSED")
    refused(
        call(client, "2304", settle_input(mdtrt_id, psn_no, "11811.24")),
        "ENCOUNTER_ALREADY_SETTLED",
    )


def test_unknown_catalogue_codes_are_all_listed(client: TestClient, world: None) -> None:
    psn_no = person_no(client)
    mdtrt_id = ok(admit(client, psn_no))["result"]["mdtrt_id"]
    rows = nhsa_fee_rows(
        [*XIE_LINES[:3], ("X-NOT-1", "?", "1", "1.00"), ("X-NOT-2", "?", "2", "1.00")],
        mdtrt_id,
        psn_no,
        "2026-11-21 09:00:00",
    )
    message = refused(call(client, "2301", {"feedetail": rows}), "FEE_CATALOG_CODE_UNKNOWN")
    assert "X-NOT-1" in message and "X-NOT-2" in message


def test_unfiled_patient_is_refused_with_the_agency_phone(client: TestClient, world: None) -> None:
    reply = call(client, "1101", {"data": {"mdtrt_cert_type": "03", "mdtrt_cert_no": UNFILED_CARD}})
    message = refused(reply, "FILING_NOT_VALID")
    assert "衡阳县职工医保 0734-6653009" in message


def test_another_hospital_gets_the_same_answer_as_for_a_missing_encounter(
    client: TestClient, world: None
) -> None:
    psn_no = person_no(client)
    mdtrt_id = ok(admit(client, psn_no))["result"]["mdtrt_id"]
    theirs = call(client, "2303", settle_input(mdtrt_id, psn_no, "0"), hospital=NANHUA_CODE)
    missing = call(client, "2303", settle_input("M-NO-SUCH", psn_no, "0"), hospital=NANHUA_CODE)
    assert refused(theirs, "ENCOUNTER_NOT_FOUND") == refused(missing, "ENCOUNTER_NOT_FOUND")


@pytest.mark.parametrize(
    ("med_type", "exp_content", "code"),
    [
        ("12", None, "ENCOUNTER_OUTPATIENT_NOT_DIRECT"),
        ("13", None, "ENCOUNTER_OUTPATIENT_NOT_DIRECT"),
        # 2026 (2022 rules): an injury needs the no-third-party promise (rel_ttp_flag)
        ("22", None, "ENCOUNTER_INJURY_PROMISE_REQUIRED"),
        ("21", {"TRUM_FLAG": "1"}, "ENCOUNTER_INJURY_PROMISE_REQUIRED"),
        (
            "21",
            '{"IPT_TYPE":"1","TRUM_FLAG":"1","REL_TTP_FLAG":"1"}',
            "ENCOUNTER_INJURY_THIRD_PARTY",
        ),
        ("52", None, "MED_TYPE_NOT_DIRECT"),
    ],
)
def test_excluded_care_is_refused_with_the_reason(
    client: TestClient, world: None, med_type: str, exp_content: Any, code: str
) -> None:
    psn_no = person_no(client)
    message = refused(admit(client, psn_no, med_type=med_type, exp_content=exp_content), code)
    if code == "ENCOUNTER_INJURY_PROMISE_REQUIRED":
        assert "外伤无第三方责任承诺书" in message and "rel_ttp_flag" in message
    elif code != "MED_TYPE_NOT_DIRECT":
        assert "回参保地" in message and "0734-6653009" in message


def test_an_injury_with_the_no_third_party_promise_is_recorded_and_settles_directly(
    client: TestClient, world: None, container: Container
) -> None:
    psn_no = person_no(client)
    promise = {"trum_flag": "1", "rel_ttp_flag": "0"}
    mdtrt_id = ok(admit(client, psn_no, med_type="22", extra=promise))["result"]["mdtrt_id"]
    with container.uow() as uow:
        stored = uow.hospital.encounter(mdtrt_id, for_update=False)
    assert stored is not None and stored.accidental_injury and stored.injury_promise
    ok(
        call(
            client,
            "2301",
            {"feedetail": nhsa_fee_rows(XIE_LINES, mdtrt_id, psn_no, "2026-11-21 09:00:00")},
        )
    )
    discharge(client, mdtrt_id, psn_no)
    settled = ok(call(client, "2304", settle_input(mdtrt_id, psn_no, "11811.24")))
    assert settled["setlinfo"]["medfee_sumamt"] == Decimal("11811.24")
    assert settled["setlinfo"]["fund_pay_sumamt"] > 0


@pytest.mark.parametrize(
    ("flags", "code"),
    [
        ({"trum_flag": "1", "rel_ttp_flag": "1"}, "ENCOUNTER_INJURY_THIRD_PARTY"),
        ({"trum_flag": "1"}, "ENCOUNTER_INJURY_PROMISE_REQUIRED"),
        ({"trum_flag": "1", "rel_ttp_flag": "Y"}, "NHSA_REL_TTP_FLAG_INVALID"),
    ],
)
def test_an_injury_without_the_promise_is_refused_and_nothing_is_stored(
    client: TestClient, world: None, container: Container, flags: dict[str, str], code: str
) -> None:
    psn_no = person_no(client)
    refused(admit(client, psn_no, extra=flags), code)
    with container.uow() as uow:
        person_id = uow.hospital.person_id(PERSON_ID)
        assert person_id is not None
        assert uow.hospital.stays_of_person_at(person_id, BOBAI_CODE) == []


def _emergency_lines(mdtrt_id: str, psn_no: str) -> list[dict[str, Any]]:
    emergency = nhsa_fee_rows(
        [("002501000010000", "血细胞分析（血常规）", "1", "20.00")],
        mdtrt_id,
        psn_no,
        "2026-11-20 21:00:00",
        prefix="E",
    )
    inpatient = nhsa_fee_rows(XIE_LINES[:6], mdtrt_id, psn_no, "2026-11-24 09:00:00")
    return emergency + inpatient


def test_emergency_turned_into_admission_within_72_hours_settles_with_the_emergency_costs(
    client: TestClient, world: None
) -> None:
    psn_no = person_no(client)
    emergency_at = "2026-11-20 20:00:00"
    reply = admit(
        client,
        psn_no,
        med_type="24",
        begntime="2026-11-23 19:00:00",  # T + 71 h
        exp_content={"EMER_BEGNTIME": emergency_at},
    )
    mdtrt_id = ok(reply)["result"]["mdtrt_id"]
    ok(call(client, "2301", {"feedetail": _emergency_lines(mdtrt_id, psn_no)}))
    discharge(client, mdtrt_id, psn_no)
    total = "1350.00"  # 20.00 emergency + 1330.00 inpatient
    settled = ok(call(client, "2304", settle_input(mdtrt_id, psn_no, total)))
    assert settled["setlinfo"]["medfee_sumamt"] == Decimal(total)
    assert settled["setlinfo"]["med_type"] == "24"


def test_emergency_admission_after_72_hours_is_refused(client: TestClient, world: None) -> None:
    psn_no = person_no(client)
    reply = admit(
        client,
        psn_no,
        med_type="24",
        begntime="2026-11-23 21:00:00",  # T + 73 h
        exp_content={"EMER_BEGNTIME": "2026-11-20 20:00:00"},
    )
    message = refused(reply, "EMERGENCY_ADMISSION_AFTER_72H")
    assert "73.0 小时" in message


def test_settlement_and_reversal_post_balanced_clearing_entries_in_the_same_transaction(
    client: TestClient, world: None, container: Container
) -> None:
    from yidi.funds.model import Fund, ledger_is_balanced

    psn_no = person_no(client)
    mdtrt_id = ok(admit(client, psn_no))["result"]["mdtrt_id"]
    ok(
        call(
            client,
            "2301",
            {"feedetail": nhsa_fee_rows(XIE_LINES, mdtrt_id, psn_no, "2026-11-21 09:00:00")},
        )
    )
    discharge(client, mdtrt_id, psn_no)
    info = ok(call(client, "2304", settle_input(mdtrt_id, psn_no, "11811.24")))["setlinfo"]
    with container.uow() as uow:
        fact = uow.funds.fact(info["setl_id"])
        assert fact is not None
        assert (
            fact.insured_region_code.startswith("4304") and fact.treatment_region_code == "450923"
        )
        assert fact.fund_amounts[Fund.POOLED].yuan == info["hifp_pay"]
        assert fact.fund_total.yuan == info["fund_pay_sumamt"]
        assert ledger_is_balanced(uow.funds.entries())
    ok(
        call(
            client,
            "2305",
            {"data": {"mdtrt_id": mdtrt_id, "setl_id": info["setl_id"], "psn_no": psn_no}},
        )
    )
    with container.uow() as uow:
        reversal = uow.funds.reversal_of(info["setl_id"])
        assert reversal is not None and reversal.person_times == -1
        assert reversal.fund_total.yuan == -info["fund_pay_sumamt"]
        assert ledger_is_balanced(uow.funds.entries())


# --------------------------------------------------------------------------- defects fixed


def _admitted(client: TestClient) -> tuple[str, str]:
    psn_no = person_no(client)
    return psn_no, ok(admit(client, psn_no))["result"]["mdtrt_id"]


def _line_count(container: Container) -> int:
    from yidi.platform.tables import fee_lines

    with container.uow() as uow:
        return int(uow.session.execute(select(func.count()).select_from(fee_lines)).scalar_one())


def test_a_fee_line_dated_400_days_ahead_is_refused_and_nothing_is_stored(
    client: TestClient, world: None, container: Container
) -> None:
    psn_no, mdtrt_id = _admitted(client)
    rows = nhsa_fee_rows(XIE_LINES[:2], mdtrt_id, psn_no, "2026-11-21 09:00:00")
    rows[1]["fee_ocur_time"] = "2027-12-25 09:00:00"  # 400 days after the upload
    message = refused(call(client, "2301", {"feedetail": rows}), "FEE_LINES_INVALID")
    assert "流水号 2" in message and "不在就诊期间" in message and "流水号 1 " not in message
    assert _line_count(container) == 0
    before = nhsa_fee_rows(XIE_LINES[:1], mdtrt_id, psn_no, "2026-11-19 09:00:00")
    refused(call(client, "2301", {"feedetail": before}), "FEE_LINES_INVALID")
    assert _line_count(container) == 0


def test_a_discharge_before_uploaded_fee_lines_is_refused(
    client: TestClient, world: None, container: Container
) -> None:
    psn_no, mdtrt_id = _admitted(client)
    rows = nhsa_fee_rows(XIE_LINES[:3], mdtrt_id, psn_no, "2026-11-25 09:00:00")
    ok(call(client, "2301", {"feedetail": rows}))
    reply = call(
        client,
        "2402",
        {
            "dscginfo": {
                "mdtrt_id": mdtrt_id,
                "psn_no": psn_no,
                "endtime": "2026-11-24 10:00:00",
                "dscg_way": "1",
            }
        },
    )
    message = refused(reply, "DISCHARGE_BEFORE_FEE_LINES")
    assert "1、2、3" in message
    with container.uow() as uow:
        encounter = uow.hospital.encounter(mdtrt_id)
        assert encounter is not None and encounter.state == "admitted"
    discharge(client, mdtrt_id, psn_no, "2026-11-25 09:00:00")  # the same minute is fine


def test_a_general_outpatient_admission_is_sent_to_the_outpatient_transactions(
    client: TestClient, world: None
) -> None:
    message = refused(
        admit(client, person_no(client), med_type="11"), "ENCOUNTER_OUTPATIENT_NOT_DIRECT"
    )
    assert "2201" in message and "2207" in message


@pytest.mark.parametrize("med_type", ["12", "13"])
def test_err_msg_keeps_the_interface_200_characters_and_the_code(
    client: TestClient, world: None, med_type: str
) -> None:
    message = refused(
        admit(client, person_no(client), med_type=med_type), "ENCOUNTER_OUTPATIENT_NOT_DIRECT"
    )
    assert len(message) <= 200
    assert "回参保地" in message and "0734-6653009" in message


def _full_fee_row(index: int, mdtrt_id: str, psn_no: str) -> dict[str, Any]:
    code, name, quantity, price = XIE_LINES[index % len(XIE_LINES)]
    return {
        "feedetl_sn": f"L{index:07d}",
        "init_feedetl_sn": "",
        "mdtrt_id": mdtrt_id,
        "drord_no": f"YZ{index:010d}",
        "psn_no": psn_no,
        "med_type": "21",
        "fee_ocur_time": "2026-11-20 09:30:00",
        "med_list_codg": code,
        "medins_list_codg": f"H-{code}",
        "det_item_fee_sumamt": str(Money.rounded(Decimal(quantity) * Decimal(price))),
        "cnt": quantity,
        "pric": price,
        "bilg_dept_codg": "A03",
        "bilg_dept_name": "普外科",
        "bilg_dr_codg": "D001",
        "bilg_dr_name": "张医生",
        "acord_dept_codg": "A03",
        "acord_dept_name": "普外科",
        "orders_dr_code": "D001",
        "orders_dr_name": "张医生",
        "hosp_appr_flag": "1",
        "tcmdrug_used_way": "",
        "etip_flag": "0",
        "etip_hosp_code": "",
        "dscg_tkdrug_flag": "0",
        "matn_fee_flag": "0",
        "memo": f"{name}，医嘱 {index}",
        "comb_no": f"C{index:06d}",
        "exp_content": {"note": "住院费用明细"},
    }


def test_a_10000_line_upload_of_6_mib_is_accepted_and_8_mib_is_the_limit(
    client: TestClient, world: None, container: Container
) -> None:
    from yidi.integrations.nhsa.envelope import DEFAULT_MAX_BODY_BYTES

    assert container.settings.gateway_max_request_bytes == DEFAULT_MAX_BODY_BYTES == 8 << 20
    psn_no, mdtrt_id = _admitted(client)
    rows = [_full_fee_row(i, mdtrt_id, psn_no) for i in range(10_000)]
    envelope = {"infno": "2301", "msgid": "BIG-UPLOAD-1", "fixmedins_code": BOBAI_CODE}
    body = json.dumps(
        {**envelope, "input": {"feedetail": rows}}, ensure_ascii=False, separators=(",", ":")
    ).encode()
    assert 6 << 20 < len(body) < 8 << 20  # 6.x MiB
    reply = json.loads(client.post(PATH, content=body).content, parse_float=Decimal)
    assert len(ok(reply)["result"]) == 10_000
    assert _line_count(container) == 10_000
    too_big = body + b" " * ((8 << 20) - len(body) + 1)
    refused(json.loads(client.post(PATH, content=too_big).content), "NHSA_BODY_TOO_LARGE")


@pytest.mark.parametrize(
    "input_",
    [
        {"signIn": {"opter_no": "C01", "mac": "00-1A", "ip": "10.0.0.8"}},
        {"opter_no": "C01", "mac": "00-1A", "ip": "10.0.0.8"},
    ],
)
def test_9001_sign_in_is_accepted_with_or_without_the_wrapper(
    client: TestClient, world: None, input_: dict[str, Any]
) -> None:
    output = ok(call(client, "9001", input_))
    assert output["signinoutb"]["sign_no"] and output["signinoutb"]["sign_time"]


def test_settlement_replies_fill_the_fields_clients_read(client: TestClient, world: None) -> None:
    psn_no, mdtrt_id = _admitted(client)
    rows = nhsa_fee_rows(XIE_LINES, mdtrt_id, psn_no, "2026-11-21 09:00:00")
    ok(call(client, "2301", {"feedetail": rows}))
    discharge(client, mdtrt_id, psn_no)
    pre = ok(call(client, "2303", settle_input(mdtrt_id, psn_no, "11811.24"), msgid="PRE-1"))
    settled = ok(call(client, "2304", settle_input(mdtrt_id, psn_no, "11811.24"), msgid="SET-1"))
    for output, msgid in ((pre, "PRE-1"), (settled, "SET-1")):
        info = output["setlinfo"]
        assert info["mdtrt_cert_type"] == "03"  # as 2401 sent it
        assert info["medins_setl_id"] == msgid
        assert info["balc"] == Decimal("0.00") and info["hosp_part_amt"] == Decimal("0.00")
        pooled = output["setldetail"][0]
        # The Hengyang employee cap (illustrative policy) left before a first settlement.
        assert pooled["crt_payb_lmt_amt"] is not None
        assert pooled["crt_payb_lmt_amt"] >= pooled["fund_payamt"] > 0
        assert all(row["crt_payb_lmt_amt"] is not None for row in output["setldetail"])
    assert pre["setldetail"] == settled["setldetail"]


# --------------------------------------------------------------------------- psn_no and mdtrt_id


def _table_counts(container: Container) -> dict[str, int]:
    from yidi.platform.tables import encounters, fee_lines, idempotency_keys

    with container.uow() as uow:
        return {
            table.name: int(
                uow.session.execute(select(func.count()).select_from(table)).scalar_one()
            )
            for table in (encounters, fee_lines, settlements, idempotency_keys)
        }


def test_another_persons_psn_no_with_this_mdtrt_id_is_refused_and_nothing_is_written(
    client: TestClient, world: None, container: Container
) -> None:
    xie, mdtrt_id = _admitted(client)
    peng = person_no(client, PENG_CARD, NANHUA_CODE)
    assert peng != xie
    ok(call(client, "2301", {"feedetail": nhsa_fee_rows(XIE_LINES, mdtrt_id, xie, "2026-11-21")}))
    before = _table_counts(container)
    for other in (peng, "PSN0999999999"):
        requests: list[tuple[str, dict[str, Any]]] = [
            (
                "2301",
                {"feedetail": nhsa_fee_rows(XIE_LINES[:1], mdtrt_id, other, "2026-11-22", "P")},
            ),
            ("2302", {"data": [{"feedetl_sn": "1", "mdtrt_id": mdtrt_id, "psn_no": other}]}),
            (
                "2402",
                {
                    "dscginfo": {
                        "mdtrt_id": mdtrt_id,
                        "psn_no": other,
                        "endtime": "2026-11-30 10:00:00",
                        "dscg_way": "1",
                    }
                },
            ),
            ("2404", {"data": {"mdtrt_id": mdtrt_id, "psn_no": other}}),
            ("2405", {"data": {"mdtrt_id": mdtrt_id, "psn_no": other}}),
            ("2303", settle_input(mdtrt_id, other, "11811.24")),
            ("2304", settle_input(mdtrt_id, other, "11811.24")),
            ("2305", {"data": {"mdtrt_id": mdtrt_id, "setl_id": "S1", "psn_no": other}}),
        ]
        for infno, input_ in requests:
            message = refused(call(client, infno, input_), "PSN_NO_MISMATCH")
            assert mdtrt_id in message, infno
    mixed = nhsa_fee_rows(XIE_LINES[:2], mdtrt_id, xie, "2026-11-22", "Q")
    mixed[1]["psn_no"] = peng
    refused(call(client, "2301", {"feedetail": mixed}), "NHSA_MIXED_PSN_NO")
    assert _table_counts(container) == before
    discharge(client, mdtrt_id, xie)
    settled = ok(call(client, "2304", settle_input(mdtrt_id, xie, "11811.24")))
    assert settled["setlinfo"]["psn_no"] == xie


# --------------------------------------------------------------------------- 2601 冲正


def _settled_counts(container: Container) -> tuple[int, list[int], bool]:
    from yidi.funds.model import ledger_is_balanced

    with container.uow() as uow:
        active = uow.session.execute(
            select(func.count()).select_from(settlements).where(settlements.c.state == "active")
        ).scalar_one()
        admissions = list(uow.session.execute(select(year_to_date.c.admissions_count)).scalars())
        balanced = ledger_is_balanced(uow.funds.entries())
    return int(active), admissions, balanced


def _ready_to_settle(client: TestClient) -> tuple[str, str]:
    psn_no, mdtrt_id = _admitted(client)
    rows = nhsa_fee_rows(XIE_LINES, mdtrt_id, psn_no, "2026-11-21 09:00:00")
    ok(call(client, "2301", {"feedetail": rows}))
    discharge(client, mdtrt_id, psn_no)
    return psn_no, mdtrt_id


def _settle_and_lose_the_reply(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, mdtrt_id: str, psn_no: str, msgid: str
) -> None:
    """The server commits the 2304, then the answer never reaches the hospital."""
    from yidi.integrations.nhsa import adapter as hospital_gateway

    def connection_dropped(view: Any) -> Any:
        raise ConnectionResetError("connection reset by peer")

    with monkeypatch.context() as patch:
        patch.setattr(hospital_gateway, "output_2304", connection_dropped)
        reply = call(client, "2304", settle_input(mdtrt_id, psn_no, "11811.24"), msgid=msgid)
    assert reply["infcode"] == -1 and reply["output"] is None  # all the hospital sees


def _reverse(client: TestClient, psn_no: str, omsgid: str, oinfno: str, **kw: Any) -> Any:
    return call(
        client, "2601", {"data": {"psn_no": psn_no, "omsgid": omsgid, "oinfno": oinfno}}, **kw
    )


def test_a_lost_2304_answer_is_recovered_with_2601(
    client: TestClient, world: None, container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    psn_no, mdtrt_id = _ready_to_settle(client)
    _settle_and_lose_the_reply(client, monkeypatch, mdtrt_id, psn_no, "LOST-2304")
    assert _settled_counts(container) == (1, [1], True)  # committed on the server
    for _ in range(2):  # the 2601 itself resent: one reversal
        assert ok(_reverse(client, psn_no, "LOST-2304", "2304", msgid="RVS-1")) == {}
    assert ok(_reverse(client, psn_no, "LOST-2304", "2304", msgid="RVS-2")) == {}
    assert _settled_counts(container) == (0, [0], True)
    with container.uow() as uow:
        kinds = sorted(uow.session.execute(select(settlements.c.kind)).scalars())
    assert kinds == ["reversal", "settle"]
    resent = call(client, "2304", settle_input(mdtrt_id, psn_no, "11811.24"), msgid="LOST-2304")
    assert "2601" in refused(resent, "MESSAGE_REVERSED")
    again = ok(call(client, "2304", settle_input(mdtrt_id, psn_no, "11811.24"), msgid="NEW-2304"))
    assert again["setlinfo"]["medfee_sumamt"] == Decimal("11811.24")
    assert _settled_counts(container) == (1, [1], True)


def test_a_lost_2304_answer_is_recovered_by_resending_the_same_msgid(
    client: TestClient, world: None, container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    psn_no, mdtrt_id = _ready_to_settle(client)
    _settle_and_lose_the_reply(client, monkeypatch, mdtrt_id, psn_no, "LOST-2304")
    first = ok(call(client, "2304", settle_input(mdtrt_id, psn_no, "11811.24"), msgid="LOST-2304"))
    second = ok(call(client, "2304", settle_input(mdtrt_id, psn_no, "11811.24"), msgid="LOST-2304"))
    assert first == second and first["setlinfo"]["medins_setl_id"] == "LOST-2304"
    assert _settled_counts(container) == (1, [1], True)


def test_2601_of_a_2305_restores_the_settlement(
    client: TestClient, world: None, container: Container
) -> None:
    psn_no, mdtrt_id = _ready_to_settle(client)
    info = ok(call(client, "2304", settle_input(mdtrt_id, psn_no, "11811.24")))["setlinfo"]
    cancel = {"data": {"mdtrt_id": mdtrt_id, "setl_id": info["setl_id"], "psn_no": psn_no}}
    ok(call(client, "2305", cancel, msgid="CANCEL-1"))
    assert _settled_counts(container) == (0, [0], True)
    ok(_reverse(client, psn_no, "CANCEL-1", "2305"))
    assert _settled_counts(container) == (1, [1], True)
    with container.uow() as uow:
        restored = uow.session.execute(
            select(settlements).where(settlements.c.state == "active")
        ).one()
        encounter = uow.hospital.encounter(mdtrt_id)
    assert restored.total_charges_fen == 1181124 and restored.id != info["setl_id"]
    assert encounter is not None and encounter.state == "settled"
    refused(call(client, "2305", cancel, msgid="CANCEL-1"), "MESSAGE_REVERSED")


def test_2601_of_a_2305_is_refused_once_the_encounter_changed(
    client: TestClient, world: None, container: Container
) -> None:
    psn_no, mdtrt_id = _ready_to_settle(client)
    info = ok(call(client, "2304", settle_input(mdtrt_id, psn_no, "11811.24")))["setlinfo"]
    cancel = {"data": {"mdtrt_id": mdtrt_id, "setl_id": info["setl_id"], "psn_no": psn_no}}
    ok(call(client, "2305", cancel, msgid="CANCEL-1"))
    ok(
        call(
            client, "2302", {"data": [{"feedetl_sn": "20", "mdtrt_id": mdtrt_id, "psn_no": psn_no}]}
        )
    )
    before = _table_counts(container)
    refused(_reverse(client, psn_no, "CANCEL-1", "2305"), "REVERSAL_CANNOT_RESTORE")
    assert _table_counts(container) == before


def test_2601_of_a_2301_cancels_the_lines_it_stored(
    client: TestClient, world: None, container: Container
) -> None:
    psn_no, mdtrt_id = _admitted(client)
    ok(
        call(
            client,
            "2301",
            {"feedetail": nhsa_fee_rows(XIE_LINES[:3], mdtrt_id, psn_no, "2026-11-20")},
        )
    )
    rows = nhsa_fee_rows(XIE_LINES[:5], mdtrt_id, psn_no, "2026-11-20")  # 1-3 again, 4-5 new
    ok(call(client, "2301", {"feedetail": rows}, msgid="UPLOAD-2"))
    ok(_reverse(client, psn_no, "UPLOAD-2", "2301"))
    with container.uow() as uow:
        active = sorted(line.serial for line in uow.hospital.fee_lines(mdtrt_id))
    assert active == ["1", "2", "3"]
    refused(call(client, "2301", {"feedetail": rows}, msgid="UPLOAD-2"), "MESSAGE_REVERSED")


def test_2601_of_a_message_never_received_refuses_it_when_it_comes_late(
    client: TestClient, world: None, container: Container
) -> None:
    psn_no, mdtrt_id = _ready_to_settle(client)
    ok(_reverse(client, psn_no, "NEVER-ARRIVED", "2304"))
    late = call(client, "2304", settle_input(mdtrt_id, psn_no, "11811.24"), msgid="NEVER-ARRIVED")
    refused(late, "MESSAGE_REVERSED")
    assert _settled_counts(container) == (0, [], True)


def test_2601_refusals_write_nothing(client: TestClient, world: None, container: Container) -> None:
    psn_no, mdtrt_id = _ready_to_settle(client)
    ok(call(client, "2304", settle_input(mdtrt_id, psn_no, "11811.24"), msgid="SET-1"))
    peng = person_no(client, PENG_CARD, NANHUA_CODE)
    before = _table_counts(container)
    refused(_reverse(client, psn_no, "SET-1", "2401"), "REVERSAL_INFNO_UNSUPPORTED")
    refused(_reverse(client, psn_no, "SET-1", "2305"), "REVERSAL_OINFNO_MISMATCH")
    refused(_reverse(client, psn_no, "SET-1", "2301"), "REVERSAL_OINFNO_MISMATCH")
    refused(_reverse(client, peng, "SET-1", "2304"), "PSN_NO_MISMATCH")
    refused(_reverse(client, "PSN0000000000", "SET-1", "2304"), "PERSON_NOT_FOUND")
    assert _table_counts(container) == before
    # Another hospital's msgids are its own: its "SET-1" never arrived, Bobai's stays settled.
    ok(_reverse(client, psn_no, "SET-1", "2304", hospital=NANHUA_CODE))
    assert _settled_counts(container) == (1, [1], True)


# --------------------------------------------------------------------------- 5201 / 5203 / 5204


def test_after_a_lost_answer_the_hospital_finds_the_visit_settlement_and_lines(
    client: TestClient, world: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    psn_no, mdtrt_id = _ready_to_settle(client)
    _settle_and_lose_the_reply(client, monkeypatch, mdtrt_id, psn_no, "LOST-2304")
    visit = ok(call(client, "5201", {"data": {"psn_no": psn_no, "mdtrt_id": mdtrt_id}}))
    (row,) = visit["mdtrtinfo"]
    assert row["mdtrt_id"] == mdtrt_id and row["psn_no"] == psn_no
    assert row["begntime"] == "2026-11-20 08:00:00" and row["endtime"] == "2026-11-30 10:00:00"
    assert row["ipt_days"] == 10 and row["mdtrt_cert_type"] == "03" and row["inhosp_stas"] == "0"
    (setl_id,) = row["exp_content"]["setl_ids"]
    by_setl = ok(call(client, "5201", {"data": {"psn_no": psn_no, "setl_id": setl_id}}))
    assert by_setl == visit
    lookup = {"data": {"psn_no": psn_no, "setl_id": setl_id, "mdtrt_id": mdtrt_id}}
    settlement = ok(call(client, "5203", lookup))
    info = settlement["setlinfo"]
    assert info["setl_id"] == setl_id and info["medins_setl_id"] == "LOST-2304"
    assert info["medfee_sumamt"] == Decimal("11811.24") and info["psn_part_amt"] == Decimal(
        "3792.11"
    )
    assert info["exp_content"]["setl_stas"] == "active"
    fees = ok(call(client, "5204", lookup))["feedetail"]
    assert len(fees) == 23 and {f["setl_id"] for f in fees} == {setl_id}
    assert sum(f["det_item_fee_sumamt"] for f in fees) == Decimal("11811.24")
    bed = next(f for f in fees if f["feedetl_sn"] == "20")
    assert bed["chrgitm_lv"] == "03" and bed["fulamt_ownpay_amt"] == Decimal("1000.00")
    ok(_reverse(client, psn_no, "LOST-2304", "2304"))
    assert ok(call(client, "5203", lookup))["setlinfo"]["exp_content"]["setl_stas"] == "reversed"


def test_queries_refuse_another_person_another_hospital_and_a_missing_key(
    client: TestClient, world: None
) -> None:
    psn_no, mdtrt_id = _ready_to_settle(client)
    setl_id = ok(call(client, "2304", settle_input(mdtrt_id, psn_no, "11811.24")))["setlinfo"][
        "setl_id"
    ]
    peng = person_no(client, PENG_CARD, NANHUA_CODE)
    lookup = {"psn_no": peng, "setl_id": setl_id, "mdtrt_id": mdtrt_id}
    for infno in ("5201", "5203", "5204"):
        refused(call(client, infno, {"data": lookup}), "PSN_NO_MISMATCH")
        theirs = call(client, infno, {"data": {**lookup, "psn_no": psn_no}}, hospital=NANHUA_CODE)
        refused(theirs, "ENCOUNTER_NOT_FOUND")
    refused(call(client, "5201", {"data": {"psn_no": psn_no}}), "NHSA_5201_KEY_REQUIRED")
    refused(
        call(
            client, "5201", {"data": {"psn_no": psn_no, "setl_id": setl_id}}, hospital=NANHUA_CODE
        ),
        "SETTLEMENT_NOT_FOUND",
    )
    wrong = {"data": {"psn_no": psn_no, "setl_id": "S-NONE", "mdtrt_id": mdtrt_id}}
    refused(call(client, "5203", wrong), "SETTLEMENT_NOT_FOUND")
    refused(call(client, "5204", wrong), "SETTLEMENT_NOT_FOUND")


# --------------------------------------------------------------------------- 2403


def _change(mdtrt_id: str, psn_no: str, **fields: Any) -> dict[str, Any]:
    diseinfo = fields.pop("diseinfo", [])
    return {"adminfo": {"mdtrt_id": mdtrt_id, "psn_no": psn_no, **fields}, "diseinfo": diseinfo}


def _visit(client: TestClient, mdtrt_id: str, psn_no: str) -> dict[str, Any]:
    output = ok(call(client, "5201", {"data": {"psn_no": psn_no, "mdtrt_id": mdtrt_id}}))
    row: dict[str, Any] = output["mdtrtinfo"][0]
    return row


def test_2403_changes_the_admission_idempotently(
    client: TestClient, world: None, container: Container
) -> None:
    psn_no, mdtrt_id = _admitted(client)
    change = _change(
        mdtrt_id,
        psn_no,
        begntime="2026-11-19 22:00:00",
        med_type="21",
        ipt_otp_no="ZY0002",
        adm_dept_codg="A05",
        adm_dept_name="肝胆外科",
        dscg_maindiag_code="K80.001",
        diseinfo=[{"diag_type": "1", "maindiag_flag": "1", "diag_code": "K80.001"}],
    )
    for _ in range(2):
        assert ok(call(client, "2403", change, msgid="CHANGE-1")) == {}
    visit = _visit(client, mdtrt_id, psn_no)
    assert visit["begntime"] == "2026-11-19 22:00:00" and visit["ipt_otp_no"] == "ZY0002"
    assert visit["adm_dept_codg"] == "A05" and visit["dscg_maindiag_code"] == "K80.001"
    with container.uow() as uow:
        actions = [
            c.entry.action
            for c in uow.audit.walk()
            if c.entry.action == "hospital.change_admission"
        ]
    assert actions == ["hospital.change_admission"]
    other = _change(mdtrt_id, psn_no, adm_dept_codg="A06")
    refused(call(client, "2403", other, msgid="CHANGE-1"), "IDEMPOTENCY_KEY_REUSED")


def test_2403_refusals_change_nothing(client: TestClient, world: None) -> None:
    psn_no, mdtrt_id = _admitted(client)
    ok(
        call(
            client,
            "2301",
            {"feedetail": nhsa_fee_rows(XIE_LINES[:2], mdtrt_id, psn_no, "2026-11-21")},
        )
    )
    before = _visit(client, mdtrt_id, psn_no)
    peng = person_no(client, PENG_CARD, NANHUA_CODE)
    cases = [
        (_change(mdtrt_id, psn_no, med_type="52"), "ADMISSION_MED_TYPE_CHANGE"),
        (_change(mdtrt_id, psn_no, begntime="2026-11-22 08:00:00"), "ADMISSION_AFTER_FEE_LINES"),
        (_change(mdtrt_id, psn_no, dscg_maindiag_code="胆囊炎"), "DIAGNOSIS_CODE_INVALID"),
        (_change(mdtrt_id, peng, adm_dept_codg="A06"), "PSN_NO_MISMATCH"),
        (_change(mdtrt_id, psn_no, ipt_otp_no="Z" * 31), "NHSA_INPUT_INVALID"),
    ]
    for change, code in cases:
        refused(call(client, "2403", change), code)
    assert _visit(client, mdtrt_id, psn_no) == before
    discharge(client, mdtrt_id, psn_no)
    ok(call(client, "2304", settle_input(mdtrt_id, psn_no, "600.00")))
    refused(
        call(client, "2403", _change(mdtrt_id, psn_no, adm_dept_codg="A06")), "ENCOUNTER_NOT_OPEN"
    )


# --------------------------------------------------------------------------- 3201 / 3202 对账


def _a_month_of_settlements(client: TestClient, clock: Any) -> tuple[str, list[dict[str, Any]]]:
    """Ten stays of the same person in a month, each settled on its discharge day; the
    hospital's own record of each settlement, as its HIS keeps it from the 2304 answers."""
    import datetime as dt

    from yidi.kernel.clock import CHINA_TZ

    psn_no = person_no(client)
    ledger: list[dict[str, Any]] = []
    for index in range(10):
        day = dt.date(2026, 11, 20) + dt.timedelta(days=3 * index)  # the filing starts 11-20
        clock.set(dt.datetime.combine(day, dt.time(12), tzinfo=CHINA_TZ))
        mdtrt_id = ok(admit(client, psn_no, begntime=f"{day} 08:00:00"))["result"]["mdtrt_id"]
        lines = XIE_LINES[index : index + 3]
        rows = nhsa_fee_rows(lines, mdtrt_id, psn_no, f"{day} 09:00:00")
        ok(call(client, "2301", {"feedetail": rows}))
        discharge(client, mdtrt_id, psn_no, f"{day} 11:00:00")
        total = str(sum(Decimal(r["det_item_fee_sumamt"]) for r in rows))
        msgid = f"SETTLE-{index:02d}"
        info = ok(call(client, "2304", settle_input(mdtrt_id, psn_no, total), msgid=msgid))[
            "setlinfo"
        ]
        ledger.append(
            {
                "psn_no": psn_no,
                "mdtrt_id": mdtrt_id,
                "setl_id": info["setl_id"],
                "msgid": msgid,
                "medfee_sumamt": info["medfee_sumamt"],
                "fund_pay_sumamt": info["fund_pay_sumamt"],
                "acct_pay": info["acct_pay"],
                "refd_setl_flag": "0",
            }
        )
    return psn_no, ledger


def _period(**extra: Any) -> dict[str, Any]:
    if "detail" in extra:  # amounts go out as the HIS writes them: text with two decimals
        extra["detail"] = [
            {k: str(v) if isinstance(v, Decimal) else v for k, v in row.items()}
            for row in extra["detail"]
        ]
    return {"stmt_begndate": "2026-11-20", "stmt_enddate": "2026-12-19", "clr_type": "21", **extra}


def _totals_input(ledger: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "data": _period(
            insutype="310",
            medfee_sumamt=str(sum(row["medfee_sumamt"] for row in ledger)),
            fund_pay_sumamt=str(sum(row["fund_pay_sumamt"] for row in ledger)),
            acct_pay=str(sum(row["acct_pay"] for row in ledger)),
            fixmedins_setl_cnt=len(ledger),
        )
    }


def test_a_month_reconciles_and_lists_exactly_the_injected_differences(
    client: TestClient, world: None, container: Container
) -> None:
    _, ledger = _a_month_of_settlements(client, container.clock)
    totals = ok(call(client, "3201", _totals_input(ledger)))["stmtinfo"]
    assert totals["stmt_rslt"] == "000000", totals["stmt_rslt_dscr"]
    clean = ok(call(client, "3202", {"data": _period(detail=ledger)}))
    assert clean["result"] == [] and clean["stmtinfo"]["stmt_rslt"] == "000000"

    # The centre reverses settlement 7; the hospital never recorded the reversal.
    reversed_row = ledger[7]
    cancel = {"data": {k: reversed_row[k] for k in ("mdtrt_id", "setl_id", "psn_no")}}
    ok(call(client, "2305", cancel, msgid="CANCEL-07"))
    # The hospital lost settlement 3, and keyed settlement 5 0.01 too high.
    hospital = [dict(row) for i, row in enumerate(ledger) if i != 3]
    off = next(row for row in hospital if row["setl_id"] == ledger[5]["setl_id"])
    off["medfee_sumamt"] += Decimal("0.01")

    totals = ok(call(client, "3201", _totals_input(hospital)))["stmtinfo"]
    assert totals["stmt_rslt"] == "000103"
    assert "结算笔数：中心 11笔，医药机构 9笔" in totals["stmt_rslt_dscr"]
    assert len(totals["stmt_rslt_dscr"]) <= 200

    found = ok(call(client, "3202", {"data": _period(detail=hospital)}))
    differences = {(r["setl_id"], r["refd_setl_flag"]): r for r in found["result"]}
    assert set(differences) == {
        (ledger[3]["setl_id"], "0"),
        (ledger[5]["setl_id"], "0"),
        (ledger[7]["setl_id"], "1"),
    }
    missing = differences[(ledger[3]["setl_id"], "0")]
    assert missing["stmt_rslt"] == "000101" and missing["msgid"] == "SETTLE-03"
    assert missing["medfee_sumamt"] == ledger[3]["medfee_sumamt"]
    amount = differences[(ledger[5]["setl_id"], "0")]
    assert amount["stmt_rslt"] == "000103"
    centre_total = ledger[5]["medfee_sumamt"]
    assert f"中心 {centre_total} 元、医药机构 {centre_total + Decimal('0.01')} 元" in amount["memo"]
    refund = differences[(ledger[7]["setl_id"], "1")]
    assert refund["stmt_rslt"] == "000101" and refund["msgid"] == "CANCEL-07"
    assert refund["medfee_sumamt"] == -ledger[7]["medfee_sumamt"]
    assert found["stmtinfo"]["stmt_rslt"] == "000103"
    # The same differences as a result file for 9102 (tests/e2e/test_gateway_files.py).
    assert found["fileinfo"]["file_qury_no"] and found["fileinfo"]["filename"].endswith(".zip")

    # The cashier raises each listed difference as a dispute (对账差异), twice: the second
    # pass is a retry and finds the first. Exactly those three disputes stand.
    cashier = token_for(container, BOBAI_CASHIER)
    ours = {(row["setl_id"], row["refd_setl_flag"]): row for row in hospital}
    for expected in (201, 200):
        for row in found["result"]:
            line = ours.get((row["setl_id"], row["refd_setl_flag"]))
            body = {
                "settlement_id": row["setl_id"],
                "refund": row["refd_setl_flag"] == "1",
                "institution": None
                if line is None
                else {
                    "total_charges": str(line["medfee_sumamt"]),
                    "fund_paid_total": str(line["fund_pay_sumamt"]),
                    "personal_account_paid": str(line["acct_pay"]),
                },
            }
            raised = client.post(DISPUTES + "/from-statement", json=body, headers=cashier)
            assert raised.status_code == expected, raised.text
    listed = client.get(DISPUTES, headers=cashier).json()
    assert listed["total"] == 3
    assert {(d["settlement_id"], d["refund"], d["kind"]) for d in listed["items"]} == {
        (ledger[3]["setl_id"], False, "centre_only"),
        (ledger[5]["setl_id"], False, "amount"),
        (ledger[7]["setl_id"], True, "centre_only"),
    }

    # Once the hospital records the reversal and the lost settlement, only the typo is left.
    hospital.append({**ledger[3]})
    hospital.append(
        {
            **reversed_row,
            "msgid": "CANCEL-07",
            "refd_setl_flag": "1",
            **{k: -reversed_row[k] for k in ("medfee_sumamt", "fund_pay_sumamt", "acct_pay")},
        }
    )
    left = ok(call(client, "3202", {"data": _period(detail=hospital)}))["result"]
    assert [(r["setl_id"], r["stmt_rslt"]) for r in left] == [(ledger[5]["setl_id"], "000103")]


def test_reconciliation_refusals(client: TestClient, world: None, container: Container) -> None:
    _, ledger = _a_month_of_settlements(client, container.clock)
    refused(
        call(
            client,
            "3201",
            {"data": {**_totals_input(ledger)["data"], "stmt_enddate": "2026-10-01"}},
        ),
        "STATEMENT_PERIOD_INVALID",
    )
    refused(
        call(client, "3202", {"data": _period(detail=[ledger[0], ledger[0]])}),
        "STATEMENT_LINE_DUPLICATE",
    )
    refused(call(client, "3202", {"data": _period(file_qury_no="F0001")}), "NHSA_FILE_NOT_FOUND")
    refused(call(client, "3201", {"data": _period()}), "NHSA_INPUT_INVALID")
    # Another hospital sees none of these settlements: its month is empty and balanced.
    other = call(
        client,
        "3202",
        {"data": _period(detail=[])},
        hospital=NANHUA_CODE,
    )
    assert ok(other)["result"] == [] and ok(other)["stmtinfo"]["stmt_rslt"] == "000000"
    theirs = call(client, "3202", {"data": _period(detail=ledger[:1])}, hospital=NANHUA_CODE)
    assert [r["stmt_rslt"] for r in ok(theirs)["result"]] == ["000102"]


# --------------------------------------------------------------------------- 3203 / 3204


def _application(ledger: list[dict[str, Any]], **changes: Any) -> dict[str, Any]:
    november = [row for row in ledger if row["msgid"] in {f"SETTLE-{i:02d}" for i in range(4)}]
    data = {
        "clr_type": "21",
        "clr_way": "1",
        "setlym": "202611",
        "psntime": len(november),
        "medfee_sumamt": str(sum(r["medfee_sumamt"] for r in november)),
        "med_sumfee": str(sum(r["medfee_sumamt"] for r in november)),
        "fund_appy_sum": str(sum(r["fund_pay_sumamt"] for r in november)),
        "cash_payamt": str(sum(r["cash"] for r in november)),
        "acct_pay": str(sum(r["acct_pay"] for r in november)),
        "begndate": "2026-11-01",
        "enddate": "2026-11-30",
    }
    return {"data": {**data, **changes}}


def test_3203_applies_for_a_months_clearing_once_and_3204_withdraws_it(
    client: TestClient, world: None, container: Container
) -> None:
    from yidi.platform.tables import clearing_applications

    _, ledger = _a_month_of_settlements(client, container.clock)
    for row in ledger:  # the cash each 2304 answered, as the HIS keeps it
        lookup = {k: row[k] for k in ("psn_no", "setl_id", "mdtrt_id")}
        row["cash"] = ok(call(client, "5203", {"data": lookup}))["setlinfo"]["psn_cash_pay"]
    # Settlements 0-3 fell in November (20, 23, 26, 29); the clock is now mid-December.
    refused(call(client, "3203", _application(ledger, setlym="202612")), "CLEARING_MONTH_NOT_ENDED")
    wrong = _application(ledger, psntime=5)
    message = refused(call(client, "3203", wrong), "CLEARING_TOTALS_DIFFER")
    assert "清算人次 中心 4、申报 5" in message
    refused(
        call(client, "3203", _application(ledger, clr_type="99901")), "CLEARING_TYPE_UNSUPPORTED"
    )
    refused(call(client, "3203", _application(ledger, setlym="2026-1")), "NHSA_SETLYM_INVALID")
    with container.uow() as uow:
        assert (
            uow.session.execute(select(func.count()).select_from(clearing_applications)).scalar()
            == 0
        )

    first = ok(call(client, "3203", _application(ledger), msgid="CLR-1"))["result"]
    again = ok(call(client, "3203", _application(ledger), msgid="CLR-1"))["result"]
    assert first == again and first["clr_appy_evt_id"].startswith("CA202611")
    refused(call(client, "3203", _application(ledger), msgid="CLR-2"), "CLEARING_ALREADY_APPLIED")

    cancel = {"data": {"clr_appy_evt_id": first["clr_appy_evt_id"]}}
    ok(call(client, "3204", cancel, msgid="CLR-CANCEL-1"))
    ok(call(client, "3204", cancel, msgid="CLR-CANCEL-1"))  # resent: the same answer
    refused(call(client, "3204", cancel, msgid="CLR-CANCEL-2"), "CLEARING_APPLICATION_CANCELLED")
    refused(call(client, "3204", cancel, hospital=NANHUA_CODE), "CLEARING_APPLICATION_NOT_FOUND")
    # Withdrawn, the month may be applied for again.
    renewed = ok(call(client, "3203", _application(ledger), msgid="CLR-3"))["result"]
    assert renewed["clr_appy_evt_id"] != first["clr_appy_evt_id"]
    with container.uow() as uow:
        states = sorted(
            str(r.active) for r in uow.session.execute(select(clearing_applications.c.active))
        )
    assert states == ["1", "None"]
