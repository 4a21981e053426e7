"""The filing record (异地就医登记备案表, 附件1 of 豫人社办函〔2017〕63号) and its validation.

A :class:`FilingRecord` holds every field of the national form. Fields are
optional in the type because drafts are filled in steps and legacy filings
imported from older systems are often incomplete (the Henan notice §2 asks
agencies to find and re-collect them); :func:`validate_filing_record` is the
gate a record must pass before it is submitted, and it reports every faulty
field at once.

Decisions recorded here:

* **Insured region (参保地)** is the pooling region of the handling agency: a
  county (430421), a prefecture (430400), a prefecture's city-level pool
  (430499, "市本级") or a province. A ``..99`` pool is treated as its whole
  prefecture when comparing with the destination (conservative: a filing to
  another district of the same city is refused).
* **Destination ≠ insured region**: the destination must not overlap the
  insured pool in either direction. For a county-level pool, another county of
  the same prefecture is outside and allowed; the prefecture itself (which
  contains the insured county) is refused, so is any place inside the pool.
* **Mandatory fields** are those the insured person supplies; the handling
  fields (经办机构、经办人、经办日期) are set when the agency approves.
"""

from __future__ import annotations

import enum
import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Final, Protocol

from yidi.filing.model.rules import FilingRule, rule_for
from yidi.kernel.errors import InvalidInput, ValidationFailed, YidiError
from yidi.kernel.identity import Gender, ResidentId
from yidi.kernel.insurance import FilingCategory, HospitalLevel, InsuranceType, PersonType


class RegistrationType(enum.Enum):
    """登记类别 with the form's codes: 1 新增, 2 变更."""

    NEW = "1"
    CHANGE = "2"

    @property
    def label_zh(self) -> str:
        return "新增" if self is RegistrationType.NEW else "变更"


class SignedBy(enum.Enum):
    """Who signed the form: the insured person (本人) or a delegate (被委托人)."""

    PERSON = "person"
    DELEGATE = "delegate"


class Division(Protocol):
    @property
    def name(self) -> str: ...


class RegionLookup(Protocol):
    """What the filing rules need from the division registry (行政区划)."""

    def exists(self, code: str) -> bool: ...

    def is_within(self, code: str, ancestor_code: str) -> bool: ...

    def get(self, code: str) -> Division: ...


class PromiseStanding(enum.Enum):
    """Where a 个人承诺书 stands on a day: documents due, overdue (to be treated as 其他临时外出
    on the deadline run), supplied, lapsed (this version replaced the unfulfilled promise), or
    found false (cancelled, the fund's payments to be recovered)."""

    DUE = "due"
    OVERDUE = "overdue"
    SUPPLIED = "supplied"
    LAPSED = "lapsed"
    FALSE = "false"


@dataclass(frozen=True, slots=True)
class Delegate:
    """被委托人: the person who signs and files on the insured person's behalf."""

    name: str | None = None
    relation: str | None = None  # 与本人关系
    id_number: str | None = None


@dataclass(frozen=True, slots=True)
class DesignatedInstitution:
    """定点医疗机构 named on the form. ``code`` is the national institution code when known."""

    name: str
    level: HospitalLevel | None = None
    code: str | None = None

    def is_same_as(self, other: DesignatedInstitution) -> bool:
        """Same hospital: by code when both carry one, otherwise by name (ignoring spaces)."""
        if self.code and other.code:
            return self.code == other.code
        return _compact(self.name) == _compact(other.name)


@dataclass(frozen=True, slots=True)
class FilingRecord:
    """Every field of 附件1 异地就医登记备案表, plus validity and version.

    ``social_security_number`` (社会保障号码) is the resident ID number.
    ``has_second_generation_card`` is ``None`` when unknown (legacy data): the
    second-generation social security card (二代社会保障卡) is the only identity
    credential at hospitals, so anyone without a known card is flagged.
    ``admitted_on`` is the admission day for an emergency filing (急诊入院日期).
    """

    insured_region_code: str | None = None  # 参保地（经办机构所在统筹区）行政区划代码
    name: str | None = None  # 姓名
    gender: Gender | None = None  # 性别
    insurance_type: InsuranceType | None = None  # 险种
    category: FilingCategory | None = None  # 人员类别
    person_type: PersonType | None = None  # 在职/退休/居民…，决定能否按某类别备案
    registration_type: RegistrationType = RegistrationType.NEW  # 登记类别
    social_security_number: str | None = None  # 社会保障号码（身份证号）
    social_security_card_number: str | None = None  # 社会保障卡号（可选）
    has_second_generation_card: bool | None = None
    home_address: str | None = None  # 参保地家庭住址
    contact_address: str | None = None  # 异地联系地址（现住址）
    phone: str | None = None  # 联系电话
    mobile: str | None = None  # 手机
    destination_province_code: str | None = None  # 转往省（市、区）
    destination_prefecture_code: str | None = None  # 地区（市、州）
    destination_county_code: str | None = None  # 县（区）
    designated_institutions: tuple[DesignatedInstitution, ...] = ()  # 医疗机构名称、级别
    signed_by: SignedBy | None = None  # 本人（被委托人）签名
    delegate: Delegate | None = None
    filled_on: date | None = None  # 填表日期
    admitted_on: date | None = None
    filing_number: str | None = None  # 备案编号（审核通过时分配）
    handling_agency: str | None = None  # 参保地经办机构
    handler: str | None = None  # 经办人
    handled_on: date | None = None  # 经办日期
    valid_from: date | None = None
    valid_until: date | None = None  # inclusive; None = open-ended
    version: int = 1
    # 承诺制 (2022 model): a signed 个人承诺书 stands in for the proof documents until they are due.
    promise_signed: bool = False
    promise_documents_due_on: date | None = None  # 承诺补齐材料期限（审核通过时按参保地规则设定）
    promise_documents_supplied_on: date | None = None
    # Set on the version that replaced an unfulfilled promise: the type the person had filed as.
    promise_lapsed_from: FilingCategory | None = None
    # 虚假承诺: the day it was recorded; the fund's payments under this filing are to be recovered.
    false_promise_on: date | None = None
    fund_recovery_required: bool = False
    # 补办备案 (2022 model): a filing made after the care it covers (first and last day of
    # that care); the care is then reimbursed by hand at the filed rates.
    late_care_from: date | None = None
    late_care_until: date | None = None

    @property
    def is_late_filing(self) -> bool:
        """补办: the filing was made after the care it covers."""
        return self.late_care_from is not None

    @property
    def promise_outstanding(self) -> bool:
        """A promise stands in for documents not yet supplied (no 双向享受 meanwhile)."""
        return self.promise_signed and self.promise_documents_supplied_on is None

    def promise_standing(self, today: date) -> PromiseStanding | None:
        """Where the personal promise stands on ``today``; None when none was made."""
        if self.false_promise_on is not None:
            return PromiseStanding.FALSE
        if self.promise_lapsed_from is not None:
            return PromiseStanding.LAPSED
        if not self.promise_signed:
            return None
        if self.promise_documents_supplied_on is not None:
            return PromiseStanding.SUPPLIED
        due = self.promise_documents_due_on
        return PromiseStanding.OVERDUE if due is not None and due < today else PromiseStanding.DUE

    @property
    def destination_code(self) -> str | None:
        """The most specific destination division given (county, else prefecture, else province)."""
        return (
            blank_to_none(self.destination_county_code)
            or blank_to_none(self.destination_prefecture_code)
            or blank_to_none(self.destination_province_code)
        )


# --- filing numbers (备案编号) ------------------------------------------------------------

_FILING_NUMBER: Final = re.compile(r"BA(\d{6})-(\d{4})-(\d{6})")
MAX_FILING_SEQUENCE: Final = 999_999


@dataclass(frozen=True, slots=True)
class FilingNumber:
    """备案编号 ``BA<agency region>-<year>-<sequence>``, e.g. ``BA430400-2026-000123``.

    Sequences are allocated per agency region and year by storage; this type
    only formats and reads them.
    """

    region_code: str
    year: int
    sequence: int

    def __str__(self) -> str:
        return format_filing_number(self.region_code, self.year, self.sequence)


def format_filing_number(region_code: str, year: int, sequence: int) -> str:
    if len(region_code) != 6 or not region_code.isascii() or not region_code.isdigit():
        raise ValueError(f"region code must be 6 digits: {region_code!r}")
    if not 1000 <= year <= 9999:
        raise ValueError(f"year must have 4 digits: {year}")
    if not 1 <= sequence <= MAX_FILING_SEQUENCE:
        raise ValueError(f"sequence must be 1-{MAX_FILING_SEQUENCE}: {sequence}")
    return f"BA{region_code}-{year:04d}-{sequence:06d}"


def parse_filing_number(text: str) -> FilingNumber:
    match = _FILING_NUMBER.fullmatch(text.strip().upper())
    if match is None or int(match.group(3)) == 0:
        raise InvalidInput(
            "FILING_NUMBER_FORMAT",
            f"备案编号“{text}”格式不正确：应为 BA+6位行政区划代码-4位年份-6位序号，如 BA430400-2026-000123",
            f"Filing number {text!r} is malformed; expected e.g. BA430400-2026-000123",
            field="filing_number",
        )
    return FilingNumber(match.group(1), int(match.group(2)), int(match.group(3)))


# --- field checks --------------------------------------------------------------------------

FIELD_LABELS: Final[Mapping[str, str]] = {
    "insured_region_code": "参保地行政区划",
    "name": "姓名",
    "gender": "性别",
    "insurance_type": "险种",
    "category": "人员类别",
    "person_type": "人员身份",
    "registration_type": "登记类别",
    "social_security_number": "社会保障号码",
    "social_security_card_number": "社会保障卡号",
    "home_address": "参保地家庭住址",
    "contact_address": "异地联系地址（现住址）",
    "phone": "联系电话",
    "mobile": "手机",
    "contact_phone": "联系电话或手机",
    "destination_province_code": "转往省（市、区）",
    "destination_prefecture_code": "转往地区（市、州）",
    "destination_county_code": "转往县（区）",
    "designated_institutions": "医疗机构",
    "signed_by": "本人（被委托人）签名",
    "delegate": "被委托人",
    "filled_on": "填表日期",
    "admitted_on": "入院日期",
    "valid_until": "有效期",
}

_MOBILE: Final = re.compile(r"1[3-9]\d{9}")
# Area code (0 + 2-3 digits), 7-8 digit number, optional extension: 0734-8867038, 010-12345678-801.
_LANDLINE: Final = re.compile(r"0\d{2,3}-?[2-9]\d{6,7}(?:-\d{1,6})?")
_CARD_NUMBER: Final = re.compile(r"[0-9A-Z]{9,20}")
_DASHES: Final = str.maketrans({"—": "-", "–": "-", "－": "-", "―": "-", "‐": "-"})
MAX_NAME_LENGTH: Final = 50


def _compact(text: str) -> str:
    return "".join(text.split())


def blank_to_none(text: str | None) -> str | None:
    if text is None:
        return None
    stripped = text.strip()
    return stripped or None


def normalize_phone(text: str) -> str:
    """Unify dash variants (0371—65742316) and drop spaces."""
    return _compact(text.translate(_DASHES))


def is_mobile(text: str) -> bool:
    return _MOBILE.fullmatch(normalize_phone(text).replace("-", "")) is not None


def is_landline(text: str) -> bool:
    return _LANDLINE.fullmatch(normalize_phone(text)) is not None


def _error(code: str, field: str, message: str, message_en: str) -> InvalidInput:
    return InvalidInput(code, message, message_en, field=field)


def _required(code: str, field: str) -> InvalidInput:
    label = FIELD_LABELS[field]
    return _error(code, field, f"{label}不能为空", f"{field} is required")


def check_name(name: str | None, field: str = "name") -> list[YidiError]:
    value = blank_to_none(name)
    if value is None:
        return [_required("FILING_NAME_REQUIRED", field)]
    if len(value) > MAX_NAME_LENGTH or any(ch.isdigit() for ch in value):
        return [
            _error(
                "FILING_NAME_FORMAT",
                field,
                f"{FIELD_LABELS.get(field, '姓名')}格式不正确：不能含数字，且不超过{MAX_NAME_LENGTH}个字符",
                "Name must not contain digits and must be at most 50 characters",
            )
        ]
    return []


def check_social_security_number(
    number: str | None, today: date | None = None
) -> tuple[ResidentId | None, list[YidiError]]:
    """社会保障号码 is the resident ID: check digit and all (ID_NUMBER_* codes)."""
    value = blank_to_none(number)
    if value is None:
        return None, [_required("FILING_SSN_REQUIRED", "social_security_number")]
    try:
        return ResidentId.parse(value, today=today), []
    except InvalidInput as error:
        return None, [
            InvalidInput(
                error.code,
                f"社会保障号码：{error.message}",
                f"Social security number: {error.message_en}",
                field="social_security_number",
            )
        ]


def check_gender(gender: Gender | None, resident_id: ResidentId | None) -> list[YidiError]:
    if gender is None:
        return [_required("FILING_GENDER_REQUIRED", "gender")]
    if resident_id is not None and resident_id.gender is not gender:
        return [
            _error(
                "FILING_GENDER_MISMATCH",
                "gender",
                f"性别“{gender.label_zh}”与社会保障号码（身份证号）不符",
                "Gender does not match the ID number",
            )
        ]
    return []


def check_card_number(card_number: str | None) -> list[YidiError]:
    value = blank_to_none(card_number)
    if value is not None and _CARD_NUMBER.fullmatch(value.upper()) is None:
        return [
            _error(
                "FILING_CARD_NUMBER_FORMAT",
                "social_security_card_number",
                "社会保障卡号格式不正确：应为9至20位数字或大写字母",
                "Card number must be 9-20 digits or capital letters",
            )
        ]
    return []


def check_phones(phone: str | None, mobile: str | None) -> list[YidiError]:
    errors: list[YidiError] = []
    phone_value, mobile_value = blank_to_none(phone), blank_to_none(mobile)
    if phone_value is None and mobile_value is None:
        errors.append(
            _error(
                "FILING_CONTACT_REQUIRED",
                "contact_phone",
                "联系电话和手机至少填写一项",
                "Give a phone or a mobile number",
            )
        )
    if phone_value is not None and not (is_landline(phone_value) or is_mobile(phone_value)):
        errors.append(
            _error(
                "FILING_PHONE_FORMAT",
                "phone",
                "联系电话格式不正确：应为固定电话（区号-号码，如0734-8867038）或11位手机号码",
                "Phone must be a landline such as 0734-8867038 or an 11-digit mobile",
            )
        )
    if mobile_value is not None and not is_mobile(mobile_value):
        errors.append(
            _error(
                "FILING_MOBILE_FORMAT",
                "mobile",
                "手机号码格式不正确：应为11位数字，以1开头",
                "Mobile must be 11 digits starting with 1 (1[3-9]xxxxxxxxx)",
            )
        )
    return errors


def pool_area_code(insured_region_code: str) -> str:
    """The division whose area a pool covers: a 市本级 pool ``xxxx99`` counts as its prefecture."""
    if insured_region_code.endswith("99") and not insured_region_code.endswith("9999"):
        return insured_region_code[:4] + "00"
    return insured_region_code


def check_insured_region(code: str | None, regions: RegionLookup) -> list[YidiError]:
    value = blank_to_none(code)
    if value is None:
        return [_required("FILING_INSURED_REGION_REQUIRED", "insured_region_code")]
    if not (value.isascii() and value.isdigit() and len(value) == 6) or not regions.exists(
        pool_area_code(value)
    ):
        return [
            _error(
                "FILING_INSURED_REGION_UNKNOWN",
                "insured_region_code",
                f"参保地行政区划代码“{value}”不存在",
                f"Unknown insured region code {value!r}",
            )
        ]
    return []


def _is_province_code(code: str) -> bool:
    return code.endswith("0000")


def _is_prefecture_code(code: str) -> bool:
    return code.endswith("00") and not code.endswith("0000")


def covers(regions: RegionLookup, area_code: str, place_code: str) -> bool:
    """Whether ``place_code`` lies in ``area_code`` (a division covers itself)."""
    return area_code == place_code or regions.is_within(place_code, area_code)


def is_pool_code(code: str) -> bool:
    """``xxxx99`` / ``xx9900``: an insurance pool's own code (市本级/省本级), not a place."""
    return code.endswith("99") or code[2:] == "9900"


def _known_place(regions: RegionLookup, code: str) -> bool:
    return (
        code.isascii()
        and code.isdigit()
        and len(code) == 6
        and not is_pool_code(code)
        and regions.exists(code)
    )


def check_destination(record: FilingRecord, regions: RegionLookup) -> list[YidiError]:
    province = blank_to_none(record.destination_province_code)
    prefecture = blank_to_none(record.destination_prefecture_code)
    county = blank_to_none(record.destination_county_code)
    if province is None:
        return [_required("FILING_DEST_REQUIRED", "destination_province_code")]
    errors: list[YidiError] = []
    levels = (
        ("destination_province_code", province, _is_province_code),
        ("destination_prefecture_code", prefecture, _is_prefecture_code),
        ("destination_county_code", county, lambda c: not c.endswith("00")),
    )
    for field, code, right_level in levels:
        if code is not None and not (_known_place(regions, code) and right_level(code)):
            errors.append(
                _error(
                    "FILING_DEST_UNKNOWN",
                    field,
                    f"{FIELD_LABELS[field]}代码“{code}”不存在或级别不对",
                    f"{field} {code!r} is not a known division of that level",
                )
            )
    if errors:
        return errors
    chain = [c for c in (province, prefecture, county) if c is not None]
    for parent, child in itertools.pairwise(chain):
        if not covers(regions, parent, child):
            field = "destination_county_code" if child == county else "destination_prefecture_code"
            errors.append(
                _error(
                    "FILING_DEST_INCONSISTENT",
                    field,
                    f"{FIELD_LABELS[field]}“{regions.get(child).name}”不属于“{regions.get(parent).name}”",
                    f"{child} does not lie within {parent}",
                )
            )
    if errors:
        return errors
    insured = blank_to_none(record.insured_region_code)
    destination = record.destination_code
    if insured is not None and destination is not None and regions.exists(pool_area_code(insured)):
        pool = pool_area_code(insured)
        if covers(regions, pool, destination) or covers(regions, destination, pool):
            errors.append(
                _error(
                    "FILING_DEST_SAME_AS_INSURED",
                    "destination_province_code",
                    "就医地不能在参保地统筹区内，也不能包含参保地统筹区（请填写到统筹区以外的市或县）",
                    "The destination must lie outside the insured pooling region and not contain it",
                )
            )
    return errors


def check_institutions(institutions: tuple[DesignatedInstitution, ...]) -> list[YidiError]:
    if not institutions:
        return [
            _error(
                "FILING_HOSPITAL_REQUIRED",
                "designated_institutions",
                "医疗机构至少填写一家（名称及级别）",
                "Name at least one designated medical institution",
            )
        ]
    if any(blank_to_none(institution.name) is None for institution in institutions):
        return [
            _error(
                "FILING_HOSPITAL_NAME_REQUIRED",
                "designated_institutions",
                "医疗机构名称不能为空",
                "Institution name is required",
            )
        ]
    return []


def check_signature(record: FilingRecord, person: ResidentId | None) -> list[YidiError]:
    if record.signed_by is None:
        return [_required("FILING_SIGNATURE_REQUIRED", "signed_by")]
    if record.signed_by is SignedBy.PERSON:
        return []
    delegate = record.delegate or Delegate()
    errors: list[YidiError] = [
        InvalidInput(
            e.code.replace("FILING_NAME", "FILING_DELEGATE_NAME"),
            f"被委托人{e.message}",
            f"Delegate: {e.message_en}",
            field="delegate.name",
        )
        for e in check_name(delegate.name, "delegate")
    ]
    if blank_to_none(delegate.relation) is None:
        errors.append(
            _error(
                "FILING_DELEGATE_RELATION_REQUIRED",
                "delegate.relation",
                "被委托人与本人关系不能为空",
                "Delegate's relation to the insured person is required",
            )
        )
    id_text = blank_to_none(delegate.id_number)
    if id_text is None:
        errors.append(
            _error(
                "FILING_DELEGATE_ID",
                "delegate.id_number",
                "被委托人身份证号不能为空",
                "Delegate's ID number is required",
            )
        )
    else:
        try:
            delegate_id = ResidentId.parse(id_text)
        except InvalidInput as error:
            errors.append(
                InvalidInput(
                    "FILING_DELEGATE_ID",
                    f"被委托人身份证号：{error.message}",
                    f"Delegate ID number: {error.message_en}",
                    field="delegate.id_number",
                    details={"reason": error.code},
                )
            )
        else:
            if person is not None and delegate_id == person:
                errors.append(
                    _error(
                        "FILING_DELEGATE_ID",
                        "delegate.id_number",
                        "被委托人身份证号与本人相同：本人签名时请选择“本人”",
                        "The delegate's ID number is the insured person's own",
                    )
                )
    return errors


def check_category(record: FilingRecord, rule: FilingRule) -> list[YidiError]:
    errors: list[YidiError] = []
    label = rule.category.label_zh
    if record.insurance_type is not None and record.insurance_type not in rule.insurance_types:
        errors.append(
            _error(
                "FILING_CATEGORY_INSURANCE_TYPE",
                "category",
                f"{record.insurance_type.label_zh}参保人员不能按“{label}”备案：{rule.who_may_file_zh}",
                f"{record.insurance_type.name} insured persons cannot file as {rule.category.name}",
            )
        )
    if rule.person_types is not None:
        if record.person_type is None:
            errors.append(
                _error(
                    "FILING_PERSON_TYPE_REQUIRED",
                    "person_type",
                    f"按“{label}”备案须填写人员身份（{rule.who_may_file_zh}）",
                    f"Filing as {rule.category.name} needs the person type",
                )
            )
        elif record.person_type not in rule.person_types:
            allowed = "、".join(sorted(p.label_zh for p in rule.person_types))
            errors.append(
                _error(
                    "FILING_CATEGORY_PERSON_TYPE",
                    "person_type",
                    f"“{label}”仅限{allowed}，当前人员身份为{record.person_type.label_zh}",
                    f"{rule.category.name} is only for {allowed}",
                )
            )
    if rule.requires_admission_date and record.admitted_on is None:
        errors.append(_required("FILING_ADMITTED_ON_REQUIRED", "admitted_on"))
    return errors


def check_dates(record: FilingRecord, today: date | None) -> list[YidiError]:
    errors: list[YidiError] = []
    if record.filled_on is None:
        errors.append(_required("FILING_FILLED_ON_REQUIRED", "filled_on"))
    elif today is not None and record.filled_on > today:
        errors.append(
            _error(
                "FILING_FILLED_ON_FUTURE",
                "filled_on",
                "填表日期不能晚于今天",
                "filled_on is in the future",
            )
        )
    if today is not None and record.admitted_on is not None and record.admitted_on > today:
        errors.append(
            _error(
                "FILING_ADMITTED_ON_FUTURE",
                "admitted_on",
                "入院日期不能晚于今天",
                "admitted_on is in the future",
            )
        )
    if (
        record.valid_from is not None
        and record.valid_until is not None
        and record.valid_until < record.valid_from
    ):
        errors.append(
            _error(
                "FILING_VALIDITY_RANGE",
                "valid_until",
                "有效期截止日期不能早于起始日期",
                "valid_until is before valid_from",
            )
        )
    return errors


def filing_record_errors(
    record: FilingRecord,
    regions: RegionLookup,
    *,
    today: date | None = None,
    rules: Mapping[FilingCategory, FilingRule] | None = None,
) -> list[YidiError]:
    """Every field error of ``record``, one per faulty field, in form order."""
    errors: list[YidiError] = []
    errors += check_insured_region(record.insured_region_code, regions)
    errors += check_name(record.name)
    resident_id, ssn_errors = check_social_security_number(record.social_security_number, today)
    errors += check_gender(record.gender, resident_id)
    if record.insurance_type is None:
        errors.append(_required("FILING_INSURANCE_TYPE_REQUIRED", "insurance_type"))
    if record.category is None:
        errors.append(_required("FILING_CATEGORY_REQUIRED", "category"))
    else:
        errors += check_category(record, rule_for(record.category, rules))
    errors += ssn_errors
    errors += check_card_number(record.social_security_card_number)
    if blank_to_none(record.home_address) is None:
        errors.append(_required("FILING_HOME_ADDRESS_REQUIRED", "home_address"))
    if blank_to_none(record.contact_address) is None:
        errors.append(_required("FILING_CONTACT_ADDRESS_REQUIRED", "contact_address"))
    errors += check_phones(record.phone, record.mobile)
    errors += check_destination(record, regions)
    errors += check_institutions(record.designated_institutions)
    errors += check_signature(record, resident_id)
    errors += check_dates(record, today)
    return errors


def validate_filing_record(
    record: FilingRecord,
    regions: RegionLookup,
    *,
    today: date | None = None,
    rules: Mapping[FilingCategory, FilingRule] | None = None,
) -> None:
    """Raise :class:`ValidationFailed` listing every faulty field, or return quietly."""
    errors = filing_record_errors(record, regions, today=today, rules=rules)
    if errors:
        raise ValidationFailed(errors)


@dataclass(frozen=True, slots=True)
class FilingWarning:
    """Something to follow up that does not block the filing."""

    code: str
    message: str
    message_en: str


def filing_warnings(record: FilingRecord) -> list[FilingWarning]:
    warnings: list[FilingWarning] = []
    if record.has_second_generation_card is not True:
        # 豫人社办函〔2017〕63号 §2: 二代社会保障卡是参保人员异地就医身份识别和直接结算的唯一凭证，
        # 对尚未办理二代社会保障卡的要及时办理。
        state = "尚未办理" if record.has_second_generation_card is False else "未核实是否持有"
        warnings.append(
            FilingWarning(
                "FILING_NO_SECOND_GEN_CARD",
                f"{state}二代社会保障卡：二代社会保障卡是异地就医身份识别和直接结算的唯一凭证，请及时办理",
                "No second-generation social security card on record: it is the only "
                "identity credential for direct settlement",
            )
        )
    return warnings
