from __future__ import annotations

import dataclasses

import pytest
from filing_helpers import REGIONS, valid_record

from filing_support import PERSON_ID
from yidi.filing.model.annex import (
    ANNEX2_COLUMNS,
    RowError,
    annex2_row,
    completeness_report,
    completeness_row,
    missing_mandatory_fields,
    parse_annex2_row,
)
from yidi.filing.model.record import FilingRecord


def test_complete_record_has_no_missing_fields() -> None:
    assert missing_mandatory_fields(valid_record()) == []


def test_legacy_record_lists_missing_fields_in_chinese_form_order() -> None:
    legacy = FilingRecord(
        insured_region_code="430421",
        name="王某",
        social_security_number=PERSON_ID,
        mobile="13807341234",
    )
    missing = missing_mandatory_fields(legacy)
    assert missing[:3] == ["性别", "险种", "人员类别"]
    assert "联系电话或手机" not in missing
    assert {
        "参保地家庭住址",
        "异地联系地址（现住址）",
        "转往省（市、区）",
        "医疗机构",
        "填表日期",
    } <= set(missing)
    blank_phone = dataclasses.replace(legacy, mobile=" ")
    assert "联系电话或手机" in missing_mandatory_fields(blank_phone)


def test_completeness_report_lists_incomplete_or_cardless_people_masked() -> None:
    complete = valid_record()
    cardless = valid_record(has_second_generation_card=False)
    legacy = FilingRecord(name="王某", social_security_number=PERSON_ID, phone="0734-8867038")
    rows = completeness_report([complete, cardless, legacy])
    assert [row.name for row in rows] == ["谢某某", "王某"]
    assert rows[0].missing_fields == () and rows[0].needs_second_generation_card
    assert rows[1].social_security_number == PERSON_ID[:6] + "********" + PERSON_ID[14:]
    assert rows[1].phone == "0734-***7038"
    assert "姓名" not in rows[1].missing_text and "性别" in rows[1].missing_text
    assert completeness_row(legacy, mask=False).social_security_number == PERSON_ID


def test_annex2_row_follows_the_notice_column_order() -> None:
    assert ANNEX2_COLUMNS[:12] == (
        "序号",
        "参保地行政区划代码",
        "参保地行政区划名称",
        "姓名",
        "性别",
        "身份证号",
        "险种类型",
        "社会保障号码",
        "社会保障卡号",
        "现住址",
        "联系电话",
        "手机",
    )
    row = annex2_row(valid_record(), 1, REGIONS, mask=False)
    assert dict(zip(ANNEX2_COLUMNS, row, strict=True)) == {
        "序号": "1",
        "参保地行政区划代码": "430421",
        "参保地行政区划名称": "衡阳县",
        "姓名": "谢某某",
        "性别": "男",
        "身份证号": PERSON_ID,
        "险种类型": "1",
        "社会保障号码": PERSON_ID,
        "社会保障卡号": "A12345678",
        "现住址": "广西博白县博白镇某街2号",
        "联系电话": "0734-8867038",
        "手机": "13807341234",
        "人员类别": "1",
    }


def test_annex2_row_masks_ids_and_phones_by_default() -> None:
    row = dict(zip(ANNEX2_COLUMNS, annex2_row(valid_record(), 7, REGIONS), strict=True))
    assert row["身份证号"] == row["社会保障号码"] == PERSON_ID[:6] + "********" + PERSON_ID[14:]
    assert row["手机"] == "138****1234" and row["联系电话"] == "0734-***7038"


def test_annex2_round_trip_keeps_every_column() -> None:
    record = valid_record()
    row = annex2_row(record, 1, REGIONS, mask=False)
    parsed = parse_annex2_row(row, 2, REGIONS)
    assert isinstance(parsed, FilingRecord)
    assert annex2_row(parsed, 1, REGIONS, mask=False) == row
    by_heading = parse_annex2_row(dict(zip(ANNEX2_COLUMNS, row, strict=True)), 2, REGIONS)
    assert by_heading == parsed


def test_annex2_parser_reports_every_bad_cell_with_its_row() -> None:
    row = list(annex2_row(valid_record(), 1, REGIONS, mask=False))
    row[1] = "439999"  # region
    row[4] = "未知"  # gender
    row[6] = "3"  # insurance type
    row[11] = "1380734"  # mobile
    row[12] = "9"  # category
    errors = parse_annex2_row(row, 17, REGIONS)
    assert isinstance(errors, list)
    assert all(isinstance(e, RowError) and e.row_number == 17 for e in errors)
    assert {(e.column, e.code) for e in errors} == {
        ("参保地行政区划代码", "FILING_INSURED_REGION_UNKNOWN"),
        ("性别", "FILING_GENDER_FORMAT"),
        ("险种类型", "FILING_INSURANCE_TYPE_FORMAT"),
        ("手机", "FILING_MOBILE_FORMAT"),
        ("人员类别", "FILING_CATEGORY_FORMAT"),
    }


def test_annex2_parser_refuses_masked_exports_and_mismatched_numbers() -> None:
    masked = annex2_row(valid_record(), 1, REGIONS, mask=True)
    errors = parse_annex2_row(masked, 3, REGIONS)
    assert isinstance(errors, list)
    assert {"FILING_MASKED_VALUE", "ID_NUMBER_CHARACTERS"} <= {e.code for e in errors}
    row = list(annex2_row(valid_record(), 1, REGIONS, mask=False))
    row[7] = "110101199003074514"
    mismatch = parse_annex2_row(row, 4, REGIONS)
    assert isinstance(mismatch, list) and mismatch[0].code == "FILING_SSN_MISMATCH"


def test_annex2_parser_accepts_gender_codes_and_a_missing_category() -> None:
    row = list(annex2_row(valid_record(), 1, REGIONS, mask=False))[:12]
    row[4] = "1"
    parsed = parse_annex2_row(row, 5, REGIONS)
    assert isinstance(parsed, FilingRecord)
    assert parsed.category is None and parsed.gender is not None and parsed.gender.label_zh == "男"


@pytest.mark.parametrize("code", ["4", "5", "6", "0"])
def test_annex2_accepts_only_the_three_residence_categories_of_its_note(code: str) -> None:
    row = list(annex2_row(valid_record(), 1, REGIONS, mask=False))
    row[12] = code  # 附件2 注2: 1.异地安置退休人员 2.异地长期居住人员 3.常驻异地工作人员
    errors = parse_annex2_row(row, 9, REGIONS)
    assert isinstance(errors, list) and [e.code for e in errors] == ["FILING_CATEGORY_FORMAT"]
    assert "应为1至3" in errors[0].message and "1至5" not in errors[0].message
