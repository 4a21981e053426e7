from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from filing_helpers import DELEGATE_ID, REGIONS, valid_record

from filing_support import PERSON_ID
from yidi.filing.model.record import (
    Delegate,
    FilingNumber,
    FilingRecord,
    SignedBy,
    filing_warnings,
    format_filing_number,
    parse_filing_number,
    validate_filing_record,
)
from yidi.kernel.errors import InvalidInput, ValidationFailed
from yidi.kernel.identity import Gender
from yidi.kernel.insurance import FilingCategory, InsuranceType, PersonType


def errors_of(record: FilingRecord) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as caught:
        validate_filing_record(record, REGIONS, today=date(2024, 9, 10))
    return {e.code: e.message for e in caught.value.errors}


def test_a_complete_record_passes_validation() -> None:
    validate_filing_record(valid_record(), REGIONS, today=date(2024, 9, 10))


def test_filing_number_formats_and_parses_back() -> None:
    text = format_filing_number("430400", 2026, 123)
    assert text == "BA430400-2026-000123"
    assert parse_filing_number(text) == FilingNumber("430400", 2026, 123)
    assert str(parse_filing_number(" ba430421-2024-000001 ")) == "BA430421-2024-000001"


@pytest.mark.parametrize(
    "text", ["BA4304-2026-000123", "BA430400-26-000123", "BA430400-2026-000000", "430400-2026-1"]
)
def test_malformed_filing_numbers_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_filing_number(text)
    assert caught.value.code == "FILING_NUMBER_FORMAT"


def test_filing_number_refuses_out_of_range_sequence() -> None:
    with pytest.raises(ValueError):
        format_filing_number("430400", 2026, 1_000_000)


def test_validation_collects_every_faulty_field_with_chinese_messages() -> None:
    record = valid_record(
        name=" ",
        phone="8867038",
        mobile="23807341234",
        home_address="",
        designated_institutions=(),
        destination_county_code="430422",  # 衡南县 is not in 玉林市
    )
    errors = errors_of(record)
    assert errors["FILING_NAME_REQUIRED"] == "姓名不能为空"
    assert errors["FILING_MOBILE_FORMAT"] == "手机号码格式不正确：应为11位数字，以1开头"
    assert "联系电话" in errors["FILING_PHONE_FORMAT"]
    assert "参保地家庭住址" in errors["FILING_HOME_ADDRESS_REQUIRED"]
    assert "医疗机构" in errors["FILING_HOSPITAL_REQUIRED"]
    assert (
        "衡南县" in errors["FILING_DEST_INCONSISTENT"]
        and "玉林市" in errors["FILING_DEST_INCONSISTENT"]
    )
    assert len(errors) == 6


def test_each_field_error_names_its_field() -> None:
    with pytest.raises(ValidationFailed) as caught:
        validate_filing_record(valid_record(name="", mobile="123"), REGIONS)
    fields = {e.code: e.field for e in caught.value.errors}
    assert fields == {"FILING_NAME_REQUIRED": "name", "FILING_MOBILE_FORMAT": "mobile"}
    assert caught.value.as_dict()["details"]["errors"][0]["field"] == "name"


def test_social_security_number_check_digit_is_verified() -> None:
    wrong = PERSON_ID[:17] + ("0" if PERSON_ID[17] != "0" else "1")
    errors = errors_of(valid_record(social_security_number=wrong))
    assert "ID_NUMBER_CHECK_DIGIT" in errors
    assert errors["ID_NUMBER_CHECK_DIGIT"].startswith("社会保障号码：")


def test_gender_must_match_the_id_number() -> None:
    assert "FILING_GENDER_MISMATCH" in errors_of(valid_record(gender=Gender.FEMALE))


@pytest.mark.parametrize(
    "phone", ["0734-8867038", "0371—65742316", "010-62345678-801", "07348867038", "13807341234"]
)
def test_landlines_and_mobiles_are_accepted_as_phone(phone: str) -> None:
    validate_filing_record(valid_record(phone=phone), REGIONS)


def test_either_phone_or_mobile_is_enough_but_not_neither() -> None:
    validate_filing_record(valid_record(phone=None), REGIONS)
    validate_filing_record(valid_record(mobile=None), REGIONS)
    assert "FILING_CONTACT_REQUIRED" in errors_of(valid_record(phone="", mobile=None))


def test_unknown_destination_codes_are_reported_per_field() -> None:
    with pytest.raises(ValidationFailed) as caught:
        validate_filing_record(
            valid_record(destination_prefecture_code="459900", destination_county_code="450999"),
            REGIONS,
        )
    assert {(e.code, e.field) for e in caught.value.errors} == {
        ("FILING_DEST_UNKNOWN", "destination_prefecture_code"),
        ("FILING_DEST_UNKNOWN", "destination_county_code"),
    }


def test_province_field_must_hold_a_province() -> None:
    assert "FILING_DEST_UNKNOWN" in errors_of(
        valid_record(destination_province_code=BOBAI_PREFECTURE)
    )


BOBAI_PREFECTURE = "450900"


def test_destination_inside_the_insured_county_is_refused() -> None:
    record = valid_record(
        destination_province_code="430000",
        destination_prefecture_code="430400",
        destination_county_code="430421",
    )
    assert "FILING_DEST_SAME_AS_INSURED" in errors_of(record)


def test_another_county_of_the_same_prefecture_counts_as_outside_a_county_pool() -> None:
    record = valid_record(
        destination_province_code="430000",
        destination_prefecture_code="430400",
        destination_county_code="430422",  # 衡南县, insured in 衡阳县
    )
    validate_filing_record(record, REGIONS)


def test_a_destination_containing_the_insured_pool_is_refused() -> None:
    record = valid_record(
        destination_province_code="430000",
        destination_prefecture_code="430400",
        destination_county_code=None,
    )
    assert "FILING_DEST_SAME_AS_INSURED" in errors_of(record)


def test_city_level_pool_treats_its_whole_prefecture_as_inside() -> None:
    record = valid_record(
        insured_region_code="430499",
        destination_province_code="430000",
        destination_prefecture_code="430400",
        destination_county_code="430422",
    )
    assert "FILING_DEST_SAME_AS_INSURED" in errors_of(record)


def test_unknown_insured_region_is_reported() -> None:
    assert "FILING_INSURED_REGION_UNKNOWN" in errors_of(valid_record(insured_region_code="439999"))


def test_delegate_needs_name_relation_and_a_valid_id() -> None:
    record = valid_record(
        signed_by=SignedBy.DELEGATE, delegate=Delegate(name="", relation=None, id_number="123")
    )
    errors = errors_of(record)
    assert set(errors) == {
        "FILING_DELEGATE_NAME_REQUIRED",
        "FILING_DELEGATE_RELATION_REQUIRED",
        "FILING_DELEGATE_ID",
    }
    assert errors["FILING_DELEGATE_ID"].startswith("被委托人身份证号")


def test_a_proper_delegate_signature_passes() -> None:
    record = valid_record(
        signed_by=SignedBy.DELEGATE, delegate=Delegate("谢某", "女儿", DELEGATE_ID)
    )
    validate_filing_record(record, REGIONS)


def test_delegate_cannot_be_the_person_themself() -> None:
    record = valid_record(
        signed_by=SignedBy.DELEGATE, delegate=Delegate("谢某某", "本人", PERSON_ID)
    )
    assert "FILING_DELEGATE_ID" in errors_of(record)


def test_posted_worker_is_for_employee_insurance_only() -> None:
    record = valid_record(
        category=FilingCategory.POSTED_WORKER,
        insurance_type=InsuranceType.RESIDENT,
        person_type=PersonType.RESIDENT_ADULT,
    )
    errors = errors_of(record)
    assert "FILING_CATEGORY_INSURANCE_TYPE" in errors
    assert "常驻异地工作人员" in errors["FILING_CATEGORY_INSURANCE_TYPE"]


def test_resettlement_is_for_retired_people_only() -> None:
    errors = errors_of(valid_record(person_type=PersonType.EMPLOYEE_ACTIVE))
    assert "退休人员" in errors["FILING_CATEGORY_PERSON_TYPE"]


def test_emergency_filing_needs_the_admission_date() -> None:
    assert "FILING_ADMITTED_ON_REQUIRED" in errors_of(
        valid_record(category=FilingCategory.EMERGENCY)
    )


def test_filled_on_cannot_be_in_the_future_and_validity_must_be_ordered() -> None:
    errors = errors_of(
        valid_record(
            filled_on=date(2024, 9, 11), valid_from=date(2024, 9, 5), valid_until=date(2024, 9, 4)
        )
    )
    assert {"FILING_FILLED_ON_FUTURE", "FILING_VALIDITY_RANGE"} <= set(errors)


def test_people_without_a_second_generation_card_are_flagged() -> None:
    assert filing_warnings(valid_record()) == []
    for flag in (False, None):
        (warning,) = filing_warnings(
            dataclasses.replace(valid_record(), has_second_generation_card=flag)
        )
        assert warning.code == "FILING_NO_SECOND_GEN_CARD"
        assert "二代社会保障卡" in warning.message


def test_card_number_is_optional_but_checked_when_given() -> None:
    validate_filing_record(valid_record(social_security_card_number=None), REGIONS)
    assert "FILING_CARD_NUMBER_FORMAT" in errors_of(
        valid_record(social_security_card_number="AB-12")
    )
