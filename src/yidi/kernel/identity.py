"""Resident identity numbers (公民身份号码, GB 11643-1999).

An 18-character number: 6-digit address code (行政区划代码), 8-digit birth date
(YYYYMMDD), 3-digit sequence whose last digit is odd for men and even for
women, and a check character computed with ISO 7064 MOD 11-2. Numbers issued
before 1999 had 15 digits (two-digit year, no check character); they are
converted to the 18-character form by inserting "19" and computing the check.
"""

from __future__ import annotations

import enum
import operator
from dataclasses import dataclass
from datetime import date
from typing import Final

from yidi.kernel.errors import InvalidInput

# ISO 7064 MOD 11-2 as written in GB 11643-1999 §7.
_WEIGHTS: Final = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARACTERS: Final = "10X98765432"
# Weighting the ASCII bytes and subtracting 48 ("0") times the weight sum is the
# same as weighting the digits, and several times faster (generators make millions).
_ASCII_ZERO_OFFSET: Final = ord("0") * sum(_WEIGHTS)

# Province-level codes of GB/T 2260 (first two digits of every address code):
# the 31 mainland provinces, Taiwan (71), Hong Kong (81) and Macao (82).
PROVINCE_PREFIXES: Final = frozenset(
    {
        "11", "12", "13", "14", "15",
        "21", "22", "23",
        "31", "32", "33", "34", "35", "36", "37",
        "41", "42", "43", "44", "45", "46",
        "50", "51", "52", "53", "54",
        "61", "62", "63", "64", "65",
        "71", "81", "82",
    }
)  # fmt: skip

# A birth year before this is certainly a typing error (the oldest people alive
# when the standard was introduced were born in the 1880s-1890s).
EARLIEST_BIRTH_YEAR: Final = 1800

_FIELD: Final = "id_number"


class Gender(enum.Enum):
    """Gender (性别) with the national code values (``gend``: 1 male, 2 female)."""

    MALE = "1"
    FEMALE = "2"

    @property
    def label_zh(self) -> str:
        return "男" if self is Gender.MALE else "女"


def check_digit(first17: str) -> str:
    """The check character (校验码) for the first 17 digits: ISO 7064 MOD 11-2."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError("check_digit needs exactly 17 ASCII digits")
    return _check_character(first17)


def _check_character(first17: str) -> str:
    """check_digit without the argument check, for strings already known to be 17 digits."""
    total = sum(map(operator.mul, first17.encode("ascii"), _WEIGHTS)) - _ASCII_ZERO_OFFSET
    return _CHECK_CHARACTERS[total % 11]


def _invalid(code: str, message: str, message_en: str) -> InvalidInput:
    return InvalidInput(code, message, message_en, field=_FIELD)


@dataclass(frozen=True, slots=True)
class ResidentId:
    """A valid 18-character resident identity number (身份证号码).

    Build one with :meth:`parse` (text from people) or :func:`make_resident_id`
    (generators); the constructor only re-checks length and check character.
    """

    number: str

    def __post_init__(self) -> None:
        number = self.number
        if (
            len(number) != 18
            or not number.isascii()
            or not number[:17].isdigit()
            or _check_character(number[:17]) != number[17]
        ):
            raise ValueError(f"not a valid 18-character resident id: {number!r}")

    @classmethod
    def parse(cls, text: str, *, today: date | None = None) -> ResidentId:
        """Read an 18- or legacy 15-digit number; ``today`` enables the future-birth check."""
        number = "".join(text.split()).upper()
        if len(number) not in (15, 18):
            raise _invalid(
                "ID_NUMBER_LENGTH",
                f"身份证号码应为 18 位（或旧版 15 位），实为 {len(number)} 位",
                f"An identity number has 18 characters (or 15 for the old format), got {len(number)}",
            )
        body = number if len(number) == 15 else number[:17]
        if not (body.isascii() and body.isdigit()) or (
            len(number) == 18 and not (number[17].isdigit() or number[17] == "X")
        ):
            raise _invalid(
                "ID_NUMBER_CHARACTERS",
                "身份证号码只能由数字组成，最后一位可以是 X",
                "An identity number consists of digits; only the last character may be X",
            )
        if len(number) == 15:
            first17 = number[:6] + "19" + number[6:]
            number = first17 + check_digit(first17)
        if number[:2] not in PROVINCE_PREFIXES:
            raise _invalid(
                "ID_NUMBER_REGION",
                f"身份证号码前两位 {number[:2]} 不是有效的省级行政区划代码",
                f"The first two digits {number[:2]} are not a province-level division code",
            )
        birth_text = number[6:14]
        try:
            birth_on = date(int(birth_text[:4]), int(birth_text[4:6]), int(birth_text[6:8]))
        except ValueError:
            birth_on = None
        if birth_on is None or birth_on.year < EARLIEST_BIRTH_YEAR:
            raise _invalid(
                "ID_NUMBER_BIRTH_DATE",
                f"身份证号码中的出生日期 {birth_text} 不是有效日期",
                f"The birth date {birth_text} in the identity number is not a valid date",
            )
        if today is not None and birth_on > today:
            raise _invalid(
                "ID_NUMBER_BIRTH_DATE",
                f"身份证号码中的出生日期 {birth_on.isoformat()} 晚于今天",
                f"The birth date {birth_on.isoformat()} in the identity number is in the future",
            )
        expected = check_digit(number[:17])
        if number[17] != expected:
            raise _invalid(
                "ID_NUMBER_CHECK_DIGIT",
                f"身份证号码校验位错误：应为 {expected}，实为 {number[17]}",
                f"Wrong check character: expected {expected}, got {number[17]}",
            )
        return cls(number)

    @property
    def region_code(self) -> str:
        """Address code (户籍地行政区划代码) at the time the number was issued."""
        return self.number[:6]

    @property
    def birth_on(self) -> date:
        n = self.number
        return date(int(n[6:10]), int(n[10:12]), int(n[12:14]))

    @property
    def gender(self) -> Gender:
        return Gender.MALE if int(self.number[16]) % 2 == 1 else Gender.FEMALE

    def masked(self) -> str:
        """For screens and logs: region and last four kept, birth date hidden."""
        return self.number[:6] + "*" * 8 + self.number[14:]

    def age_on(self, on: date) -> int:
        """Age in whole years (周岁) on the given day."""
        born = self.birth_on
        return on.year - born.year - ((on.month, on.day) < (born.month, born.day))

    def __str__(self) -> str:
        return self.number


def make_resident_id(
    region_code: str, birth_on: date, sequence: int, gender: Gender | None = None
) -> ResidentId:
    """Build a valid number; with ``gender``, the sequence's last digit is nudged to match it."""
    if len(region_code) != 6 or not region_code.isdigit():
        raise ValueError(f"region code must be 6 digits: {region_code!r}")
    if not 0 <= sequence <= 999:
        raise ValueError(f"sequence must be 0-999: {sequence}")
    if gender is not None and (sequence % 2 == 1) != (gender is Gender.MALE):
        sequence = sequence + 1 if sequence % 2 == 0 else sequence - 1
    first17 = (
        f"{region_code}{birth_on.year:04d}{birth_on.month:02d}{birth_on.day:02d}{sequence:03d}"
    )
    return ResidentId(first17 + check_digit(first17))
