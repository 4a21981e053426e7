import datetime as dt
import json
import logging
from decimal import Decimal
from typing import Any

import pytest
from nhsa_fake import UNFILED_CARD, FakePort, raising, settlement_view

from yidi.integrations.nhsa.builders import output_2304
from yidi.integrations.nhsa.envelope import ReplyFactory, encode_reply, parse_request
from yidi.integrations.nhsa.port import HospitalGatewayPort, dispatch, handle
from yidi.integrations.nhsa.transactions import Input2301, validation_message
from yidi.kernel.clock import FixedClock
from yidi.kernel.errors import Conflict

CLOCK = FixedClock(dt.datetime(2024, 3, 5, 9, 30, 1))


def replies() -> ReplyFactory:
    return ReplyFactory(CLOCK, default_area="430000")


def body(infno: str, input_: dict[str, Any], msgid: str | None = "MSG0001") -> bytes:
    envelope: dict[str, Any] = {
        "infno": infno,
        "mdtrtarea_admvs": "430400",
        "insuplc_admdvs": "640100",
        "fixmedins_code": "H43028100255",
        "opter": "001",
        "input": input_,
    }
    if msgid is not None:
        envelope["msgid"] = msgid
    return json.dumps(envelope, ensure_ascii=False).encode("utf-8")


FEE_LINE = {
    "feedetl_sn": "XM5129673",
    "mdtrt_id": "MDTRT0001",
    "psn_no": "PSN0001",
    "med_type": "21",
    "fee_ocur_time": "2024-03-01 10:00:00",
    "med_list_codg": "XA01",
    "medins_list_codg": "H-001",
    "det_item_fee_sumamt": "120.00",
    "cnt": 2,
    "pric": "60.000000",
}


def test_the_fake_port_satisfies_the_protocol() -> None:
    port: HospitalGatewayPort = FakePort()
    assert port is not None


def test_person_query_reaches_the_port_with_context_and_renders_output() -> None:
    port = FakePort()
    reply = handle(
        body("1101", {"data": {"mdtrt_cert_type": "03", "mdtrt_cert_no": "A1234"}}, msgid=None),
        port,
        replies(),
    )
    assert reply["infcode"] == 0
    method, request, context = port.calls[0]
    assert method == "query_person"
    assert request.data.mdtrt_cert_no == "A1234"
    assert context.fixmedins_code == "H43028100255"
    assert context.insuplc_admdvs == "640100"
    assert context.operator == "001"
    assert reply["output"]["baseinfo"]["psn_no"] == "PSN0001"
    assert reply["output"]["insuinfo"][0]["balc"] == Decimal("1300.00")
    assert b'"balc":1300.00' in encode_reply(reply)
    assert b'"brdy":"1956-04-01"' in encode_reply(reply)


def test_business_refusal_becomes_infcode_minus_one_with_its_code() -> None:
    port = FakePort()
    reply = handle(
        body("1101", {"data": {"mdtrt_cert_type": "03", "mdtrt_cert_no": UNFILED_CARD}}),
        port,
        replies(),
    )
    assert reply["infcode"] == -1
    assert reply["err_msg"].startswith("[FILING_NOT_FOUND] 未查询到有效的异地就医备案")
    assert reply["output"] is None


def test_conflict_raised_by_the_port_is_reported_in_err_msg() -> None:
    port = raising(Conflict("VISIT_ALREADY_SETTLED", "该次住院已结算", "already settled"))
    reply = handle(
        body("2304", {"data": {"psn_no": "P", "mdtrt_id": "M", "medfee_sumamt": 1}}),
        port,
        replies(),
    )
    assert reply["err_msg"] == "[VISIT_ALREADY_SETTLED] 该次住院已结算"


def test_fee_upload_splits_each_line_and_keeps_serials() -> None:
    port = FakePort()
    second = dict(FEE_LINE, feedetl_sn="XM5129674", det_item_fee_sumamt=35.5, cnt="1")
    reply = handle(body("2301", {"feedetail": [FEE_LINE, second]}), port, replies())
    assert reply["infcode"] == 0, reply["err_msg"]
    rows = reply["output"]["result"]
    assert [r["feedetl_sn"] for r in rows] == ["XM5129673", "XM5129674"]
    assert rows[1]["det_item_fee_sumamt"] == Decimal("35.50")
    for row in rows:
        parts = (
            row["fulamt_ownpay_amt"]
            + row["overlmt_amt"]
            + row["preselfpay_amt"]
            + row["inscp_scp_amt"]
        )
        assert parts == row["det_item_fee_sumamt"]
        assert row["chrgitm_lv"] == "02"


def test_bad_fee_lines_are_refused_naming_each_field_path() -> None:
    port = FakePort()
    bad = dict(FEE_LINE, det_item_fee_sumamt="十二元")
    reply = handle(body("2301", {"feedetail": [FEE_LINE, FEE_LINE, bad]}), port, replies())
    assert reply["infcode"] == -1
    assert (
        reply["err_msg"]
        == "[NHSA_INPUT_INVALID] input.feedetail[2].det_item_fee_sumamt 不是有效金额"
    )
    assert port.calls == []


def test_validation_message_lists_missing_and_empty_fields() -> None:
    line = {k: v for k, v in FEE_LINE.items() if k != "mdtrt_id"}
    line["cnt"] = ""
    with pytest.raises(Exception) as caught:
        Input2301.model_validate({"feedetail": [line]})
    message = validation_message(caught.value)  # type: ignore[arg-type]
    assert "input.feedetail[0].mdtrt_id 为必填项" in message
    assert "input.feedetail[0].cnt 不能为空" in message


def test_settlement_reply_carries_setl_id_and_adds_up() -> None:
    port = FakePort()
    data = {
        "psn_no": "PSN0001",
        "mdtrt_id": "MDTRT0001",
        "medfee_sumamt": "23442.46",
        "dscgTime": "2024-03-05",
    }
    reply = handle(body("2304", {"data": data}), port, replies())
    info = reply["output"]["setlinfo"]
    assert info["setl_id"] == "SETL0001"
    assert (
        info["medfee_sumamt"]
        == info["fund_pay_sumamt"] + info["psn_part_amt"] + info["hosp_part_amt"]
    )
    assert {row["fund_pay_type"] for row in reply["output"]["setldetail"]} >= {"310100", "330100"}
    assert port.calls[0][1].data.dscg_time == dt.datetime(2024, 3, 5)
    assert b'"medfee_sumamt":23442.46' in encode_reply(reply)
    assert b'"setl_time":"2024-03-05 09:30:00"' in encode_reply(reply)


def test_pre_settlement_reply_has_no_setl_id() -> None:
    reply = handle(
        body("2303", {"data": {"psn_no": "P", "mdtrt_id": "M", "medfee_sumamt": 1}}, msgid=None),
        FakePort(),
        replies(),
    )
    assert reply["infcode"] == 0
    assert "setl_id" not in reply["output"]["setlinfo"]


def test_reversal_reply_carries_negative_amounts() -> None:
    data = {"mdtrt_id": "MDTRT0001", "setl_id": "SETL0001", "psn_no": "PSN0001"}
    reply = handle(body("2305", {"data": data}), FakePort(), replies())
    assert reply["output"]["setlinfo"]["medfee_sumamt"] == Decimal("-23442.46")
    assert b'"fund_pay_sumamt":-18785.39' in encode_reply(reply)


@pytest.mark.parametrize(
    ("infno", "input_", "method"),
    [
        (
            "2402",
            {
                "dscginfo": {
                    "mdtrt_id": "M",
                    "psn_no": "P",
                    "endtime": "2024-03-05 08:00:00",
                    "dscg_way": 1,
                }
            },
            "discharge",
        ),
        ("2302", {"data": {"feedetl_sn": "0000", "mdtrt_id": "M", "psn_no": "P"}}, "cancel_fees"),
        ("2404", {"data": {"mdtrt_id": "M", "psn_no": "P"}}, "cancel_admission"),
        ("2405", {"data": {"mdtrt_id": "M", "psn_no": "P"}}, "cancel_discharge"),
        ("2601", {"data": {"psn_no": "P", "omsgid": "MSG0000", "oinfno": 2304}}, "reverse_message"),
    ],
)
def test_transactions_without_output_reply_with_an_empty_object(
    infno: str, input_: dict[str, Any], method: str
) -> None:
    port = FakePort()
    reply = handle(body(infno, input_), port, replies())
    assert reply["infcode"] == 0, reply["err_msg"]
    assert reply["output"] == {}
    assert port.calls[0][0] == method


def test_admission_returns_the_visit_id() -> None:
    mdtrtinfo = {
        "psn_no": "PSN0001",
        "insutype": 310,
        "begntime": "2024-03-01 08:00:00",
        "mdtrt_cert_type": "03",
        "med_type": "21",
        "ipt_no": "ZY001",
        "adm_dept_codg": "A03",
        "dscg_maindiag_code": "I63.900",
        "exp_content": '{"IPT_TYPE":"1","TRUM_FLAG":"0"}',
    }
    port = FakePort()
    diseinfo = {"diag_type": "1", "maindiag_flag": "1", "diag_code": "I63.900", "diag_srt_no": 1}
    reply = handle(body("2401", {"mdtrtinfo": mdtrtinfo, "diseinfo": diseinfo}), port, replies())
    assert reply["output"] == {"result": {"mdtrt_id": "MDTRT0001", "exp_content": None}}
    request = port.calls[0][1]
    assert request.mdtrtinfo.insutype == "310"
    assert request.mdtrtinfo.exp_content == {"IPT_TYPE": "1", "TRUM_FLAG": "0"}
    assert request.diseinfo[0].diag_srt_no == "1"


def test_unknown_infno_is_refused_by_code() -> None:
    reply = handle(body("9103", {}), FakePort(), replies())  # no such national transaction
    assert reply["err_msg"] == "[NHSA_INFNO_UNSUPPORTED] 不支持的交易编号：9103"


def test_unexpected_exception_gives_a_generic_reply_and_logs_no_personal_data(
    caplog: pytest.LogCaptureFixture,
) -> None:
    port = raising(RuntimeError("张三 430402195604011234 broke it"))
    with caplog.at_level(logging.ERROR):
        reply = handle(
            body(
                "2402",
                {
                    "dscginfo": {
                        "mdtrt_id": "M",
                        "psn_no": "P",
                        "endtime": "2024-03-05",
                        "dscg_way": "1",
                    }
                },
            ),
            port,
            replies(),
        )
    assert reply["infcode"] == -1
    assert reply["err_msg"].startswith("[NHSA_INTERNAL_ERROR] 系统内部错误")
    assert "RuntimeError" in caplog.text and reply["inf_refmsgid"] in caplog.text
    assert "430402195604011234" not in caplog.text and "张三" not in caplog.text


def test_envelope_errors_come_back_as_replies_not_exceptions() -> None:
    reply = handle(b"{not json", FakePort(), replies())
    assert reply["infcode"] == -1 and reply["err_msg"].startswith("[NHSA_BODY_NOT_JSON]")


def test_dispatch_uses_the_request_area_in_the_reference_id() -> None:
    request = parse_request(
        body("9001", {"signIn": {"opter_no": "001", "mac": "m", "ip": "1.2.3.4"}})
    )
    reply = dispatch(request, FakePort(), replies())
    assert reply["inf_refmsgid"].startswith("430400")
    assert reply["output"]["signinoutb"]["sign_no"] == "SIGN0001"


def test_settlement_builder_refuses_amounts_that_do_not_add_up() -> None:
    from dataclasses import replace

    from yidi.kernel.money import Money

    broken = replace(
        settlement_view(settlement_id="S"), unpaid_amounts={"hosp_part_amt": Money("0.01")}
    )
    with pytest.raises(ValueError, match="medfee_sumamt = fund_pay_sumamt"):
        output_2304(broken)
