from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yidi.kernel.errors import InvalidInput
from yidi.kernel.identity import (
    PROVINCE_PREFIXES,
    Gender,
    ResidentId,
    check_digit,
    make_resident_id,
)
from yidi.kernel.privacy import mask_phone

region_codes = st.builds(
    lambda prefix, rest: prefix + f"{rest:04d}",
    st.sampled_from(sorted(PROVINCE_PREFIXES)),
    st.integers(min_value=0, max_value=9999),
)
birth_dates = st.dates(min_value=date(1900, 1, 1), max_value=date(2024, 12, 31))
genders = st.sampled_from(list(Gender))


@st.composite
def valid_ids(draw: st.DrawFn) -> ResidentId:
    return make_resident_id(
        draw(region_codes),
        draw(birth_dates),
        draw(st.integers(min_value=0, max_value=999)),
        draw(genders),
    )


def test_public_vector_for_a_woman_born_on_new_years_eve_1949() -> None:
    rid = ResidentId.parse("11010519491231002X")
    assert rid.gender is Gender.FEMALE
    assert rid.gender.label_zh == "女"
    assert rid.birth_on == date(1949, 12, 31)
    assert rid.region_code == "110105"
    assert rid.masked() == "110105********002X"


def test_public_vector_for_a_man_born_in_1880() -> None:
    rid = ResidentId.parse("440524188001010014")
    assert rid.gender is Gender.MALE
    assert rid.gender.label_zh == "男"
    assert rid.birth_on == date(1880, 1, 1)


def test_check_digit_follows_iso_7064_mod_11_2() -> None:
    assert check_digit("11010519491231002") == "X"
    assert check_digit("44052418800101001") == "4"
    with pytest.raises(ValueError):
        check_digit("1234")


def test_legacy_fifteen_digit_number_is_converted_to_eighteen() -> None:
    assert ResidentId.parse("110105491231002").number == "11010519491231002X"


def test_spaces_and_lowercase_x_are_accepted() -> None:
    assert ResidentId.parse(" 110105 19491231 002x ").number == "11010519491231002X"


def test_age_is_counted_in_whole_years() -> None:
    rid = ResidentId.parse("11010519491231002X")
    assert rid.age_on(date(2017, 12, 30)) == 67
    assert rid.age_on(date(2017, 12, 31)) == 68


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("1101051949123100", "ID_NUMBER_LENGTH"),
        ("", "ID_NUMBER_LENGTH"),
        ("1101051949123100XX", "ID_NUMBER_CHARACTERS"),
        ("11010519491231002A", "ID_NUMBER_CHARACTERS"),
        ("１１０１０５１９４９１２３１００２X", "ID_NUMBER_CHARACTERS"),
        ("110105194913310020", "ID_NUMBER_BIRTH_DATE"),
        ("110105190002290020", "ID_NUMBER_BIRTH_DATE"),
        ("110105170001010020", "ID_NUMBER_BIRTH_DATE"),
        ("110105194912310023", "ID_NUMBER_CHECK_DIGIT"),
        ("990105194912310020", "ID_NUMBER_REGION"),
        ("000105194912310020", "ID_NUMBER_REGION"),
    ],
)
def test_malformed_numbers_are_rejected_with_a_specific_code(text: str, code: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        ResidentId.parse(text)
    assert caught.value.code == code
    assert caught.value.field == "id_number"


def test_check_digit_error_names_the_expected_and_actual_character() -> None:
    with pytest.raises(InvalidInput) as caught:
        ResidentId.parse("110105194912310023")
    assert caught.value.message == "身份证号码校验位错误：应为 X，实为 3"


def test_birth_date_after_today_is_rejected_when_today_is_given() -> None:
    number = make_resident_id("430421", date(2030, 1, 1), 11).number
    assert ResidentId.parse(number).birth_on == date(2030, 1, 1)
    with pytest.raises(InvalidInput) as caught:
        ResidentId.parse(number, today=date(2029, 12, 31))
    assert caught.value.code == "ID_NUMBER_BIRTH_DATE"


def test_constructor_refuses_a_wrong_check_character() -> None:
    with pytest.raises(ValueError):
        ResidentId("110105194912310023")


def test_make_resident_id_nudges_the_sequence_to_match_gender() -> None:
    assert make_resident_id("430421", date(1980, 5, 1), 0, Gender.MALE).gender is Gender.MALE
    assert make_resident_id("430421", date(1980, 5, 1), 999, Gender.FEMALE).gender is Gender.FEMALE
    assert make_resident_id("430421", date(1980, 5, 1), 998).gender is Gender.FEMALE


@given(region_codes, birth_dates, st.integers(min_value=0, max_value=999), genders)
def test_generated_ids_parse_and_keep_gender_birth_date_and_region(
    region: str, born: date, sequence: int, gender: Gender
) -> None:
    rid = make_resident_id(region, born, sequence, gender)
    parsed = ResidentId.parse(rid.number, today=date(2025, 1, 1))
    assert parsed == rid
    assert parsed.gender is gender
    assert parsed.birth_on == born
    assert parsed.region_code == region


@given(valid_ids(), st.integers(min_value=0, max_value=17), st.integers(min_value=1, max_value=10))
def test_changing_any_single_character_is_always_rejected(
    rid: ResidentId, position: int, shift: int
) -> None:
    alphabet = "0123456789X" if position == 17 else "0123456789"
    original = rid.number[position]
    replacement = alphabet[(alphabet.index(original) + shift) % len(alphabet)]
    if replacement == original:  # shift == len(alphabet) for body digits
        replacement = alphabet[(alphabet.index(original) + 1) % len(alphabet)]
    mutated = rid.number[:position] + replacement + rid.number[position + 1 :]
    with pytest.raises(InvalidInput):
        ResidentId.parse(mutated)


@given(valid_ids())
def test_fifteen_digit_form_converts_back_to_the_same_number(rid: ResidentId) -> None:
    if rid.number[6:8] != "19":
        return
    legacy = rid.number[:6] + rid.number[8:17]
    assert ResidentId.parse(legacy) == rid


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13812345678", "138****5678"),
        ("138 1234 5678", "138****5678"),
        ("+8613812345678", "138****5678"),
        ("0734-8867038", "0734-***7038"),
        ("010-12345678", "010-****5678"),
        ("07348867038", "0734-***7038"),
        ("12345", "*2345"),
        ("123", "***"),
    ],
)
def test_phone_numbers_are_masked_in_the_middle(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_masked_mobile_keeps_only_first_three_and_last_four_digits(phone: str) -> None:
    masked = mask_phone(phone)
    assert masked == phone[:3] + "****" + phone[-4:]


@pytest.mark.parametrize(
    "number", ["ABCDEFGHIJKLMNOPQX", "１１０１０５１９４９１２３１００２X", "1101051949123100"]
)
def test_constructor_refuses_anything_but_seventeen_ascii_digits_and_a_check(number: str) -> None:
    with pytest.raises(ValueError):
        ResidentId(number)


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_fast_check_digit_agrees_with_the_textbook_formula(first17: str) -> None:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(d) * w for d, w in zip(first17, weights, strict=True))
    assert check_digit(first17) == "10X98765432"[total % 11]
