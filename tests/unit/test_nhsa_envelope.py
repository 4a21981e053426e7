import datetime as dt
import json
import re
from decimal import Decimal

import pytest

from yidi.integrations.nhsa.envelope import (
    EnvelopeError,
    ReplyFactory,
    encode_reply,
    parse_nhsa_datetime,
    parse_request,
)
from yidi.kernel.clock import FixedClock
from yidi.kernel.money import Money


def envelope(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "infno": "2304",
        "msgid": "H43028100255202403050930001234",
        "mdtrtarea_admvs": "430400",
        "insuplc_admdvs": "640100",
        "recer_sys_code": "FSI_LOCAL",
        "infver": "V1.0",
        "opter_type": "1",
        "opter": "001",
        "opter_name": "收费员",
        "inf_time": "2024-03-05 09:30:00",
        "fixmedins_code": "H43028100255",
        "fixmedins_name": "南华大学附属第一医院",
        "input": {"data": {"mdtrt_id": "M1"}},
    }
    body.update(overrides)
    return body


def raw(body: object) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


def error_code(body: bytes | str, **kwargs: object) -> str:
    with pytest.raises(EnvelopeError) as caught:
        parse_request(body, **kwargs)  # type: ignore[arg-type]
    return caught.value.code


def test_standard_envelope_is_parsed_into_a_typed_request() -> None:
    request = parse_request(raw(envelope()))
    assert request.infno == "2304"
    assert request.msgid == "H43028100255202403050930001234"
    assert request.fixmedins_code == "H43028100255"
    assert request.mdtrtarea_admvs == "430400"
    assert request.insuplc_admdvs == "640100"
    assert request.opter_name == "收费员"
    assert request.inf_time == dt.datetime(2024, 3, 5, 9, 30)
    assert request.input == {"data": {"mdtrt_id": "M1"}}


def test_utf8_bom_is_skipped() -> None:
    assert parse_request(b"\xef\xbb\xbf" + raw(envelope())).infno == "2304"


def test_input_sent_as_a_json_string_is_decoded() -> None:
    body = envelope(input=json.dumps({"data": {"mdtrt_id": "M1", "x": 1.5}}))
    request = parse_request(raw(body))
    assert request.input == {"data": {"mdtrt_id": "M1", "x": Decimal("1.5")}}


def test_infno_sent_as_a_number_becomes_text() -> None:
    assert parse_request(raw(envelope(infno=1101))).infno == "1101"


def test_fractions_in_the_body_become_decimal_never_float() -> None:
    body = envelope(input={"data": {"medfee_sumamt": 23442.46}})
    value = parse_request(raw(body)).input["data"]["medfee_sumamt"]
    assert value == Decimal("23442.46")
    assert isinstance(value, Decimal)


def test_infno_from_the_path_is_used_when_the_body_has_none() -> None:
    body = envelope()
    del body["infno"]
    assert parse_request(raw(body), path_infno="2304").infno == "2304"


def test_path_and_body_infno_that_agree_are_accepted() -> None:
    assert parse_request(raw(envelope(infno=2304)), path_infno="2304").infno == "2304"


def test_path_and_body_infno_that_differ_are_refused() -> None:
    assert error_code(raw(envelope(infno="2303")), path_infno="2304") == "NHSA_INFNO_MISMATCH"


def test_missing_infno_everywhere_is_refused() -> None:
    body = envelope()
    del body["infno"]
    assert error_code(raw(body)) == "NHSA_INFNO_MISSING"


def test_settlement_without_msgid_is_refused_with_a_chinese_message() -> None:
    body = envelope(msgid="")
    with pytest.raises(EnvelopeError) as caught:
        parse_request(raw(body))
    assert caught.value.code == "NHSA_MSGID_MISSING"
    assert "msgid" in caught.value.message and "2304" in caught.value.message


def test_person_query_without_msgid_is_accepted() -> None:
    body = envelope(infno="1101")
    del body["msgid"]
    assert parse_request(raw(body)).msgid is None


def test_msgid_longer_than_thirty_characters_is_refused() -> None:
    assert error_code(raw(envelope(msgid="X" * 31))) == "NHSA_MSGID_TOO_LONG"


def test_sdk_style_uuid_msgid_is_accepted() -> None:
    msgid = "3F2504E04F8941D39A0C0305E82C33"
    assert parse_request(raw(envelope(msgid=msgid))).msgid == msgid


def test_malformed_json_is_refused_with_position() -> None:
    with pytest.raises(EnvelopeError) as caught:
        parse_request(b'{"infno": "1101",')
    assert caught.value.code == "NHSA_BODY_NOT_JSON"
    assert "第 1 行" in caught.value.message


@pytest.mark.parametrize("body", [b"[1, 2]", b'"text"', b"42", b"null"])
def test_a_body_that_is_not_an_object_is_refused(body: bytes) -> None:
    assert error_code(body) == "NHSA_BODY_NOT_OBJECT"


def test_empty_body_is_refused() -> None:
    assert error_code(b"  ") == "NHSA_BODY_EMPTY"


def test_huge_body_is_refused_before_parsing() -> None:
    assert error_code(b"{" + b" " * 2000 + b"}", max_bytes=1000) == "NHSA_BODY_TOO_LARGE"


def test_encrypted_input_string_is_refused_as_not_json() -> None:
    assert error_code(raw(envelope(input="q83vEjRWeJBvzv8="))) == "NHSA_INPUT_NOT_JSON"


def test_input_that_is_a_list_is_refused() -> None:
    assert error_code(raw(envelope(input=[1]))) == "NHSA_INPUT_NOT_OBJECT"


def test_missing_institution_code_is_refused() -> None:
    assert error_code(raw(envelope(fixmedins_code=None))) == "NHSA_FIXMEDINS_CODE_MISSING"


def test_extra_envelope_fields_are_ignored() -> None:
    request = parse_request(raw(envelope(enc_type="", dev_safe_info="x", cainfo="sig")))
    assert request.infno == "2304"


def test_gb18030_body_is_read_when_it_is_not_utf8() -> None:
    body = json.dumps(envelope(), ensure_ascii=False).encode("gb18030")
    assert parse_request(body).fixmedins_name == "南华大学附属第一医院"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-05 09:30:00", dt.datetime(2024, 3, 5, 9, 30)),
        ("2024-03-05T09:30:00", dt.datetime(2024, 3, 5, 9, 30)),
        ("2024-03-05 09:30:00.123", dt.datetime(2024, 3, 5, 9, 30, 0, 123000)),
        ("20240305093000", dt.datetime(2024, 3, 5, 9, 30)),
        ("2024-03-05", dt.datetime(2024, 3, 5)),
        ("2024-03-05T01:30:00+00:00", dt.datetime(2024, 3, 5, 9, 30)),
    ],
)
def test_inf_time_is_read_leniently(text: str, expected: dt.datetime) -> None:
    assert parse_nhsa_datetime(text) == expected


def test_unreadable_inf_time_does_not_refuse_the_request() -> None:
    assert parse_request(raw(envelope(inf_time="yesterday"))).inf_time is None


# --------------------------------------------------------------------------- replies

CLOCK_AT = dt.datetime(2024, 3, 5, 9, 30, 1, 250000)


def factory() -> ReplyFactory:
    serials = iter(range(7, 100))
    return ReplyFactory(FixedClock(CLOCK_AT), default_area="430000", serials=serials.__next__)


def test_success_reply_has_the_exact_national_shape() -> None:
    received = dt.datetime(2024, 3, 5, 9, 30, 0, 5000, tzinfo=CLOCK_AT.tzinfo)
    reply = factory().success({"a": 1}, received_at=received, area="430400")
    assert list(reply) == [
        "infcode",
        "inf_refmsgid",
        "refmsg_time",
        "respond_time",
        "err_msg",
        "warn_msg",
        "cainfo",
        "signtype",
        "output",
    ]
    assert reply["infcode"] == 0 and type(reply["infcode"]) is int
    assert reply["inf_refmsgid"] == "430400" + "20240305093001" + "0000000007"
    assert len(reply["inf_refmsgid"]) == 30
    assert reply["refmsg_time"] == "20240305093000005"
    assert reply["respond_time"] == "20240305093001250"
    assert reply["err_msg"] is None and reply["output"] == {"a": 1}


def test_reply_uses_the_default_area_when_the_request_area_is_not_six_digits() -> None:
    reply = factory().success({}, received_at=CLOCK_AT, area="43")
    assert reply["inf_refmsgid"].startswith("430000")


def test_failure_reply_has_infcode_minus_one_and_a_bracketed_code() -> None:
    reply = factory().failure(
        "FILING_NOT_FOUND", "未查询到有效的异地就医备案", received_at=CLOCK_AT
    )
    assert reply["infcode"] == -1
    assert reply["err_msg"] == "[FILING_NOT_FOUND] 未查询到有效的异地就医备案"
    assert reply["output"] is None


def test_encoder_writes_money_and_decimal_digit_for_digit() -> None:
    reply = {
        "infcode": 0,
        "output": {
            "medfee_sumamt": Money("1300"),
            "hifp_pay": Decimal("23442.46"),
            "rate": Decimal("0.9000"),
            "setl_time": dt.datetime(2024, 3, 5, 9, 30),
            "brdy": dt.date(1956, 4, 1),
            "name": "张三",
            "rows": [None, True],
        },
    }
    text = encode_reply(reply).decode("utf-8")
    assert text == (
        '{"infcode":0,"output":{"medfee_sumamt":1300.00,"hifp_pay":23442.46,'
        '"rate":0.9000,"setl_time":"2024-03-05 09:30:00","brdy":"1956-04-01",'
        '"name":"张三","rows":[null,true]}}'
    )
    assert json.loads(text, parse_float=Decimal)["output"]["medfee_sumamt"] == Decimal("1300.00")


def test_encoder_refuses_float() -> None:
    with pytest.raises(TypeError):
        encode_reply({"x": 0.1})


def test_reply_times_match_the_national_patterns() -> None:
    reply = factory().success({}, received_at=CLOCK_AT)
    assert re.fullmatch(r"\d{17}", reply["refmsg_time"])
    assert re.fullmatch(r"\d{17}", reply["respond_time"])
    assert re.fullmatch(r"\d{30}", reply["inf_refmsgid"])


def test_err_msg_is_cut_to_200_characters_keeping_the_code() -> None:
    from yidi.integrations.nhsa.envelope import ERR_MSG_MAX_LENGTH, err_msg

    short = err_msg("X_CODE", "说明")
    assert short == "[X_CODE] 说明"
    long = err_msg("ENCOUNTER_OUTPATIENT_NOT_DIRECT", "很长的说明" * 60)
    assert len(long) == ERR_MSG_MAX_LENGTH == 200
    assert long.startswith("[ENCOUNTER_OUTPATIENT_NOT_DIRECT] 很长") and long.endswith("…")
