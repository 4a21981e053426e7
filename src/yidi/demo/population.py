"""Synthetic insured persons for demos, load tests and benchmarks.

Everything here is made up: names are drawn from common surnames and given-name
characters, identity numbers are valid in form (GB 11643 check character,
real region codes) but belong to nobody, phone numbers use real mobile
prefixes with random digits, and social security card numbers (社会保障卡号)
follow only the visible shape of real ones (a letter and eight digits, e.g.
``H43123456``: letter, province code, six digits).

The generator is pure and deterministic: the same ``seed`` and arguments give
the same persons, in the same order. All per-day and per-region work is done
once up front so a person costs only a handful of random draws.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from datetime import date
from typing import Final, NamedTuple

from yidi.kernel.identity import Gender, ResidentId
from yidi.kernel.insurance import InsuranceType, PersonType
from yidi.kernel.regions import DivisionLevel, DivisionRegistry, default_registry

EARLIEST_BIRTH_ON: Final = date(1930, 1, 1)
LATEST_BIRTH_ON: Final = date(2020, 12, 31)
DEFAULT_AS_OF: Final = date(2024, 12, 31)

# Statutory retirement ages before the 2025 gradual reform (国发〔1978〕104号):
# men 60, women 50 (workers) or 55 (cadres).
MALE_RETIREMENT_AGE: Final = 60
FEMALE_RETIREMENT_AGES: Final = (50, 55)
ELDERLY_RESIDENT_AGE: Final = 60
ADULT_AGE: Final = 18
STUDENT_AGE_LIMIT: Final = 23  # 大中专学生 are 18-22 here

# Shares that make the mix look like a Chinese city; they are demo knobs, not facts.
EMPLOYEE_SHARE_WORKING_AGE: Final = 0.45
EMPLOYEE_SHARE_RETIREMENT_AGE: Final = 0.35
STUDENT_SHARE_YOUNG_ADULTS: Final = 0.6
EMPLOYEE_SHARE_YOUNG_ADULTS: Final = 0.25

_COMMON_SURNAMES: Final = (
    "王李张刘陈杨黄赵吴周",  # the ten most common, drawn four times as often
    "徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈",
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤",
)
_SURNAMES: Final = _COMMON_SURNAMES[0] * 4 + _COMMON_SURNAMES[1] * 2 + _COMMON_SURNAMES[2]
_GIVEN_MALE: Final = (
    "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林洋志国建文东海峰成亮晨博"
)
_GIVEN_FEMALE: Final = (
    "芳娜敏静丽艳娟霞燕玲桂丹萍红琳倩雪婷慧颖琴云莉洁梅兰英秀娇月欣悦怡佳晶璐瑶蕾薇"
)
_GIVEN_EITHER: Final = "文华明玉春晓子思雨诗嘉一宇安小天新永德"
_ROADS: Final = (
    "人民路", "解放路", "建设路", "中山路", "和平路", "新华路", "光明路", "文化路",
    "胜利路", "长江路", "黄河路", "五一路", "车站路", "学府路", "迎宾路", "东风路",
)  # fmt: skip
_MOBILE_PREFIXES: Final = tuple(
    str(p)
    for p in (
        *range(130, 140), 145, 147, 149, *range(150, 154), *range(155, 160), 162, 165, 166,
        167, 170, 171, 172, 173, *range(175, 179), *range(180, 190), 191, 193, 195, 196, 197, 198, 199,
    )
)  # fmt: skip
_CARD_LETTERS: Final = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # I and O left out, as on printed cards
_CARD_BLOCK: Final = 1_000_000
_CARD_STEP: Final = 7919  # prime, coprime with 10**6: k -> k*7919 mod 10**6 is a permutation

_WEIGHTS: Final = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK: Final = "10X98765432"


class SyntheticPerson(NamedTuple):
    """One made-up insured person (参保人员)."""

    resident_id: ResidentId
    name: str
    gender: Gender
    birth_on: date
    age: int
    address: str
    mobile: str
    insured_region_code: str
    insurance_type: InsuranceType
    person_type: PersonType
    retired: bool
    social_security_card_number: str


def _weighted_sum(digits: str, first_position: int) -> int:
    return sum(int(d) * _WEIGHTS[first_position + i] for i, d in enumerate(digits))


class _HomeCounty(NamedTuple):
    """A county people of a region live in, with what their IDs and addresses need."""

    code: str
    check_sum: int  # weighted sum of the six address-code digits
    address_prefix: str
    id_base: int  # offset of this county's block in the identity-number uniqueness space


class _Region(NamedTuple):
    insured_code: str
    card_prefix: str
    homes: tuple[_HomeCounty, ...]


def _home_codes(registry: DivisionRegistry, code: str) -> list[str]:
    """The counties people insured under ``code`` live in."""
    division = registry.get(code)
    # A pool code (…99) stands for its prefecture; people live in real divisions.
    if registry.is_pool(code) and division.parent_code:
        division = registry.get(division.parent_code)
    if division.level is DivisionLevel.COUNTY:
        return [division.code]
    return _descendant_counties(registry, division.code) or [division.code]


def _descendant_counties(registry: DivisionRegistry, code: str) -> list[str]:
    found: list[str] = []
    for child in registry.children(code):
        if child.level is DivisionLevel.COUNTY:
            found.append(child.code)
        else:
            found.extend(_descendant_counties(registry, child.code))
    return found


# (upper bound of the roll, insurance type, person type) in order; the first bound above the roll wins.
_Outcomes = tuple[tuple[float, InsuranceType, PersonType], ...]


def _outcomes_for(age: int, retirement_age: int) -> _Outcomes:
    resident, employee = InsuranceType.RESIDENT, InsuranceType.EMPLOYEE
    if age < ADULT_AGE:
        return ((1.0, resident, PersonType.RESIDENT_CHILD),)
    resident_adult = (
        (1.0, resident, PersonType.RESIDENT_ELDERLY)
        if age >= ELDERLY_RESIDENT_AGE
        else (1.0, resident, PersonType.RESIDENT_ADULT)
    )
    if age < STUDENT_AGE_LIMIT:
        return (
            (STUDENT_SHARE_YOUNG_ADULTS, resident, PersonType.RESIDENT_STUDENT),
            (
                STUDENT_SHARE_YOUNG_ADULTS + EMPLOYEE_SHARE_YOUNG_ADULTS,
                employee,
                PersonType.EMPLOYEE_ACTIVE,
            ),
            resident_adult,
        )
    if age < retirement_age:
        return ((EMPLOYEE_SHARE_WORKING_AGE, employee, PersonType.EMPLOYEE_ACTIVE), resident_adult)
    return ((EMPLOYEE_SHARE_RETIREMENT_AGE, employee, PersonType.EMPLOYEE_RETIRED), resident_adult)


def generate_persons(
    count: int,
    *,
    seed: int,
    insured_region_codes: Sequence[str],
    as_of: date = DEFAULT_AS_OF,
    registry: DivisionRegistry | None = None,
) -> Iterator[SyntheticPerson]:
    """Yield ``count`` distinct synthetic persons insured in the given regions.

    Regions may be counties (people live there), prefectures, provinces or
    pool codes like 430499 (people live in one of their current counties).
    Ages, retirement and insurance type are as of ``as_of``; birth dates are
    uniform over 1930-2020 but never after ``as_of``. Identity numbers are
    unique within one call (the call remembers one integer per person).
    """
    if count < 0:
        raise ValueError("count must be >= 0")
    if not insured_region_codes:
        raise ValueError("insured_region_codes must not be empty")
    registry = registry or default_registry()

    # Every possible birth day, with its ID digits, their weighted sum and the age on as_of.
    first_ordinal = EARLIEST_BIRTH_ON.toordinal()
    last_ordinal = min(LATEST_BIRTH_ON, as_of).toordinal()
    if last_ordinal < first_ordinal:
        raise ValueError("as_of is before the earliest birth date")
    day_count = last_ordinal - first_ordinal + 1
    id_space = day_count * 1000  # (birth day, sequence) pairs per county
    birth_days: list[date] = []
    birth_texts: list[str] = []
    birth_sums: list[int] = []
    ages: list[int] = []
    for ordinal in range(first_ordinal, last_ordinal + 1):
        born = date.fromordinal(ordinal)
        text = f"{born.year:04d}{born.month:02d}{born.day:02d}"
        birth_days.append(born)
        birth_texts.append(text)
        birth_sums.append(_weighted_sum(text, 6))
        ages.append(as_of.year - born.year - ((as_of.month, as_of.day) < (born.month, born.day)))
    sequence_texts = [f"{s:03d}" for s in range(1000)]
    sequence_sums = [_weighted_sum(t, 14) for t in sequence_texts]

    home_index: dict[str, _HomeCounty] = {}
    regions: list[_Region] = []
    for code in insured_region_codes:
        homes = []
        for home_code in _home_codes(registry, code):
            if home_code not in home_index:
                home_index[home_code] = _HomeCounty(
                    home_code,
                    _weighted_sum(home_code, 0),
                    registry.get(home_code).full_name,
                    len(home_index) * id_space,
                )
            homes.append(home_index[home_code])
        regions.append(_Region(code, code[:2], tuple(homes)))
    if count > len(home_index) * id_space // 2:
        raise ValueError("too many persons for these regions to keep identity numbers unique")

    # Outcome tables by age and retirement variant (0: man, 1 and 2: woman retiring at 50 or 55).
    retirement_ages = (MALE_RETIREMENT_AGE, *FEMALE_RETIREMENT_AGES)
    max_age = max(ages)
    outcome_table = [
        _outcomes_for(age, retirement_age)
        for age in range(max_age + 1)
        for retirement_age in retirement_ages
    ]

    rng = random.Random(seed)  # noqa: S311 - reproducible synthetic data, not secrets
    draw = rng.random
    card_letter_offset = int(draw() * len(_CARD_LETTERS))
    card_digit_offset = int(draw() * _CARD_BLOCK)
    card_counters: dict[str, int] = {}
    used_ids: set[int] = set()
    surnames = _SURNAMES
    given_pools = (_GIVEN_FEMALE + _GIVEN_EITHER, _GIVEN_MALE + _GIVEN_EITHER)
    surname_total, region_total = len(surnames), len(regions)
    road_choices = len(_ROADS) * 400
    mobile_choices = len(_MOBILE_PREFIXES) * 100_000_000
    letter_total = len(_CARD_LETTERS)
    male, female = Gender.MALE, Gender.FEMALE
    check_characters = _CHECK

    for _ in range(count):
        region = regions[int(draw() * region_total)]
        homes_of_region = region.homes
        home = homes_of_region[int(draw() * len(homes_of_region))]
        while True:
            pair = int(draw() * id_space)
            key = home.id_base + pair
            if key not in used_ids:
                used_ids.add(key)
                break
        day_index, sequence = divmod(pair, 1000)
        number = (
            home.code
            + birth_texts[day_index]
            + sequence_texts[sequence]
            + check_characters[
                (home.check_sum + birth_sums[day_index] + sequence_sums[sequence]) % 11
            ]
        )
        is_male = sequence & 1
        age = ages[day_index]

        given_pool = given_pools[is_male]
        pool_size = len(given_pool)
        given = given_pool[int(draw() * pool_size)]
        if draw() < 0.7:
            given += given_pool[int(draw() * pool_size)]
        name = surnames[int(draw() * surname_total)] + given

        # Women's retirement age (50 or 55) follows a bit of the sequence: fixed per person.
        variant = 0 if is_male else 1 + ((sequence >> 1) & 1)
        roll = draw()
        for outcome in outcome_table[age * 3 + variant]:
            if roll < outcome[0]:
                break
        _, insurance_type, person_type = outcome

        road, house = divmod(int(draw() * road_choices), 400)
        prefix, subscriber = divmod(int(draw() * mobile_choices), 100_000_000)

        card_prefix = region.card_prefix
        card_index = card_counters.get(card_prefix, 0)
        card_counters[card_prefix] = card_index + 1
        block, within = divmod(card_index, _CARD_BLOCK)

        yield SyntheticPerson(
            ResidentId(number),
            name,
            male if is_male else female,
            birth_days[day_index],
            age,
            f"{home.address_prefix}{_ROADS[road]}{house + 1}号",
            f"{_MOBILE_PREFIXES[prefix]}{subscriber:08d}",
            region.insured_code,
            insurance_type,
            person_type,
            person_type is PersonType.EMPLOYEE_RETIRED,
            f"{_CARD_LETTERS[(card_letter_offset + block) % letter_total]}{card_prefix}"
            f"{(within * _CARD_STEP + card_digit_offset) % _CARD_BLOCK:06d}",
        )
