from collections import Counter
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yidi.demo.population import (
    EARLIEST_BIRTH_ON,
    LATEST_BIRTH_ON,
    SyntheticPerson,
    generate_persons,
)
from yidi.kernel.identity import Gender, ResidentId
from yidi.kernel.insurance import InsuranceType, PersonType
from yidi.kernel.regions import default_registry, hengyang_county_codes

HENGYANG = hengyang_county_codes()
AS_OF = date(2024, 12, 31)


def people(count: int, seed: int = 7, codes: list[str] | None = None) -> list[SyntheticPerson]:
    return list(generate_persons(count, seed=seed, insured_region_codes=codes or HENGYANG))


def test_same_seed_gives_the_same_people_in_the_same_order() -> None:
    assert people(500, seed=42) == people(500, seed=42)


def test_different_seeds_give_different_people() -> None:
    assert people(50, seed=1) != people(50, seed=2)


@pytest.mark.parametrize("count", [0, 1, 17, 2000])
def test_count_is_exact(count: int) -> None:
    assert len(people(count)) == count


def test_every_identity_number_is_valid_and_unique() -> None:
    persons = people(5000)
    for person in persons:
        assert ResidentId.parse(person.resident_id.number, today=AS_OF) == person.resident_id
    assert len({p.resident_id.number for p in persons}) == len(persons)
    assert len({p.social_security_card_number for p in persons}) == len(persons)


def test_people_live_and_are_insured_in_the_given_regions() -> None:
    registry = default_registry()
    persons = people(3000)
    assert {p.insured_region_code for p in persons} == set(HENGYANG)
    for person in persons:
        home = registry.get(person.resident_id.region_code)
        assert registry.is_within(home.code, person.insured_region_code)
        assert person.address.startswith(home.full_name)
        assert person.address.endswith("号")


def test_pool_codes_place_people_in_the_prefectures_counties() -> None:
    registry = default_registry()
    for person in people(200, codes=["430499"]):
        assert person.insured_region_code == "430499"
        home_parent = registry.parent(person.resident_id.region_code)
        assert home_parent is not None
        assert home_parent.code == "430400"


def test_children_and_students_are_residents_and_only_employees_retire() -> None:
    for person in people(5000):
        if person.age < 18:
            assert person.person_type is PersonType.RESIDENT_CHILD
        if person.person_type in (PersonType.RESIDENT_CHILD, PersonType.RESIDENT_STUDENT):
            assert person.insurance_type is InsuranceType.RESIDENT
        if person.retired:
            assert person.insurance_type is InsuranceType.EMPLOYEE
            assert person.age >= (60 if person.gender is Gender.MALE else 50)
        if person.insurance_type is InsuranceType.EMPLOYEE and person.age >= 60:
            assert person.retired


def test_the_mix_contains_every_kind_of_person() -> None:
    kinds = Counter(p.person_type for p in people(5000))
    assert set(kinds) == set(PersonType)
    genders = Counter(p.gender for p in people(5000))
    assert 0.45 < genders[Gender.MALE] / 5000 < 0.55


def test_mobiles_and_card_numbers_have_the_expected_shape() -> None:
    for person in people(1000):
        assert len(person.mobile) == 11
        assert person.mobile[0] == "1"
        assert person.mobile[1] in "3456789"
        card = person.social_security_card_number
        assert len(card) == 9
        assert card[0].isalpha()
        assert card[1:3] == "43"
        assert card[1:].isdigit()


def test_birth_dates_never_fall_after_the_reference_day() -> None:
    early = list(
        generate_persons(500, seed=3, insured_region_codes=HENGYANG, as_of=date(2017, 6, 1))
    )
    assert all(p.birth_on <= date(2017, 6, 1) for p in early)


def test_refuses_an_empty_region_list() -> None:
    with pytest.raises(ValueError):
        list(generate_persons(1, seed=1, insured_region_codes=[]))


@settings(max_examples=25, deadline=None)
@given(
    st.integers(min_value=0, max_value=2**32),
    st.lists(
        st.sampled_from(["430421", "410181", "640000", "450923", "430400", "430499"]),
        min_size=1,
        max_size=3,
    ),
)
def test_gender_age_and_birth_date_agree_with_the_identity_number(
    seed: int, codes: list[str]
) -> None:
    for person in generate_persons(60, seed=seed, insured_region_codes=codes):
        rid = person.resident_id
        assert person.gender is rid.gender
        assert person.birth_on == rid.birth_on
        assert EARLIEST_BIRTH_ON <= person.birth_on <= LATEST_BIRTH_ON
        assert person.age == rid.age_on(AS_OF)
        assert 2 <= len(person.name) <= 3
        assert person.retired == (person.person_type is PersonType.EMPLOYEE_RETIRED)
