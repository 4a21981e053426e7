from decimal import Decimal

from yidi.integrations.nhsa.codes import (
    ChrgitmLv,
    FundPayType,
    MedType,
    label_zh,
    parse_code,
)
from yidi.integrations.nhsa.transactions import Input2302, Input2304, Input9001


def test_code_members_carry_the_national_code_and_chinese_label() -> None:
    assert MedType("24") is MedType.EMERGENCY_TO_INPATIENT
    assert MedType.EMERGENCY_TO_INPATIENT.label_zh == "急诊转住院"
    assert FundPayType.LARGE_EXPENSE_SUBSIDY.label_zh == "大额医疗费用补助基金"
    assert ChrgitmLv.CLASS_C.label_zh == "丙类"


def test_every_member_of_every_table_has_a_label() -> None:
    from yidi.integrations.nhsa import codes

    tables = [
        t
        for t in vars(codes).values()
        if isinstance(t, type) and issubclass(t, codes.CodeTable) and t is not codes.CodeTable
    ]
    assert len(tables) >= 15
    for table in tables:
        for member in table:
            assert member.label_zh, f"{table.__name__}.{member.name}"


def test_regional_codes_are_not_rejected_but_have_no_label() -> None:
    assert parse_code(MedType, "2101") is None
    assert label_zh(MedType, "2101") is None
    assert label_zh(MedType, " 21 ") == "普通住院"


def test_settlement_input_accepts_numbers_as_codes_and_strings_as_amounts() -> None:
    data = {
        "psn_no": 1234,
        "mdtrt_id": "M",
        "medfee_sumamt": "11,811.24",
        "insutype": 310,
        "acct_used_flag": 0,
        "invono": "",
        "unknown": "ignored",
    }
    parsed = Input2304.model_validate({"data": data}).data
    assert parsed.psn_no == "1234"
    assert parsed.insutype == "310"
    assert parsed.acct_used_flag == "0"
    assert parsed.invono is None
    assert parsed.medfee_sumamt == Decimal("11811.24")


def test_fee_cancel_accepts_a_single_object_where_the_spec_has_rows() -> None:
    parsed = Input2302.model_validate(
        {"data": {"feedetl_sn": "0000", "mdtrt_id": "M", "psn_no": "P"}}
    )
    assert [row.feedetl_sn for row in parsed.data] == ["0000"]


def test_sign_in_node_keeps_its_camel_case_name() -> None:
    assert Input9001.model_validate({"signIn": {"opter_no": "001"}}).sign_in.opter_no == "001"
