"""Legacy completeness check and the 附件2 summary-table row (豫人社办函〔2017〕63号).

* §2: 先期已办理异地就医备案人员……按附件1要求重新整理登记，必填信息缺失的，要及时告知备案人员进行补充。
  :func:`missing_mandatory_fields` lists what a (possibly imported, partial)
  record lacks; :func:`completeness_row` is one line of the follow-up list.
* §3/§5: 附件2 基本医疗保险异地居住人员备案信息汇总表. :func:`annex2_row` gives
  the columns in the notice's order (plus 人员类别 from the table's note), with
  ID numbers and phones masked unless the caller may see them;
  :func:`parse_annex2_row` reads one row of a batch file (报盘) back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from yidi.filing.model.record import (
    FIELD_LABELS,
    FilingRecord,
    RegionLookup,
    blank_to_none,
    check_card_number,
    check_gender,
    check_insured_region,
    check_name,
    check_phones,
    check_social_security_number,
    normalize_phone,
)
from yidi.kernel.errors import InvalidInput, YidiError
from yidi.kernel.identity import Gender, ResidentId
from yidi.kernel.insurance import FilingCategory, InsuranceType
from yidi.kernel.privacy import mask_id_number, mask_phone

# --- completeness (必填信息) -----------------------------------------------------------------

# Fields the insured person supplies on 附件1 and must not be blank. The
# social security card number is marked optional (可选) on the form; the
# handling fields are the agency's, filled at approval.
MANDATORY_FIELDS: Final = (
    "insured_region_code",
    "name",
    "gender",
    "insurance_type",
    "category",
    "social_security_number",
    "home_address",
    "contact_address",
    "contact_phone",
    "destination_province_code",
    "designated_institutions",
    "signed_by",
    "filled_on",
)


def _is_missing(record: FilingRecord, field: str) -> bool:
    if field == "contact_phone":
        return blank_to_none(record.phone) is None and blank_to_none(record.mobile) is None
    value = getattr(record, field)
    if isinstance(value, str):
        return blank_to_none(value) is None
    if isinstance(value, tuple):
        return len(value) == 0
    return value is None


def missing_mandatory_fields(record: FilingRecord) -> list[str]:
    """Chinese labels of the mandatory fields ``record`` lacks, in form order."""
    return [FIELD_LABELS[field] for field in MANDATORY_FIELDS if _is_missing(record, field)]


def _mask_id(text: str | None) -> str:
    value = blank_to_none(text)
    return "" if value is None else mask_id_number(value)


def _shown_id(text: str | None, mask: bool) -> str:
    return _mask_id(text) if mask else (blank_to_none(text) or "")


def _shown_phone(text: str | None, mask: bool) -> str:
    value = blank_to_none(text)
    if value is None:
        return ""
    return mask_phone(value) if mask else normalize_phone(value)


@dataclass(frozen=True, slots=True)
class CompletenessRow:
    """One line of the re-collection list (待补充备案信息清单)."""

    filing_number: str
    name: str
    social_security_number: str
    phone: str
    mobile: str
    missing_fields: tuple[str, ...]
    needs_second_generation_card: bool

    @property
    def missing_text(self) -> str:
        return "、".join(self.missing_fields)


def completeness_row(record: FilingRecord, *, mask: bool = True) -> CompletenessRow:
    return CompletenessRow(
        filing_number=record.filing_number or "",
        name=blank_to_none(record.name) or "",
        social_security_number=_shown_id(record.social_security_number, mask),
        phone=_shown_phone(record.phone, mask),
        mobile=_shown_phone(record.mobile, mask),
        missing_fields=tuple(missing_mandatory_fields(record)),
        needs_second_generation_card=record.has_second_generation_card is not True,
    )


def completeness_report(
    records: Sequence[FilingRecord], *, mask: bool = True
) -> list[CompletenessRow]:
    """Rows for the records that lack mandatory fields or a second-generation card."""
    rows = (completeness_row(record, mask=mask) for record in records)
    return [row for row in rows if row.missing_fields or row.needs_second_generation_card]


# --- 附件2 -----------------------------------------------------------------------------------

ANNEX2_COLUMNS: Final = (
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
    "人员类别",
)
"""Headings of 附件2 in the notice's order; 人员类别 comes from the table's note 2."""


def annex2_row(
    record: FilingRecord, serial: int, regions: RegionLookup, *, mask: bool = True
) -> tuple[str, ...]:
    """One 附件2 row as text cells, in :data:`ANNEX2_COLUMNS` order."""
    region = blank_to_none(record.insured_region_code) or ""
    region_name = regions.get(region).name if region and regions.exists(region) else ""
    return (
        str(serial),
        region,
        region_name,
        blank_to_none(record.name) or "",
        record.gender.label_zh if record.gender else "",
        _shown_id(record.social_security_number, mask),
        record.insurance_type.annex_code if record.insurance_type else "",
        _shown_id(record.social_security_number, mask),
        blank_to_none(record.social_security_card_number) or "",
        blank_to_none(record.contact_address) or "",
        _shown_phone(record.phone, mask),
        _shown_phone(record.mobile, mask),
        record.category.annex_code if record.category else "",
    )


@dataclass(frozen=True, slots=True)
class RowError:
    """A problem in one cell of a batch file (报盘) row."""

    row_number: int
    column: str
    code: str
    message: str


_FIELD_COLUMNS: Final = {
    "insured_region_code": "参保地行政区划代码",
    "name": "姓名",
    "gender": "性别",
    "social_security_number": "身份证号",
    "social_security_card_number": "社会保障卡号",
    "contact_phone": "联系电话",
    "phone": "联系电话",
    "mobile": "手机",
}

_GENDERS: Final = {"男": Gender.MALE, "1": Gender.MALE, "女": Gender.FEMALE, "2": Gender.FEMALE}


def _cells_by_heading(cells: Sequence[str] | Mapping[str, str]) -> dict[str, str]:
    if isinstance(cells, Mapping):
        return {str(k).strip(): ("" if v is None else str(v)) for k, v in cells.items()}
    values = ["" if v is None else str(v) for v in cells]
    return dict(zip(ANNEX2_COLUMNS, values, strict=False))


def parse_annex2_row(
    cells: Sequence[str] | Mapping[str, str], row_number: int, regions: RegionLookup
) -> FilingRecord | list[RowError]:
    """Read one 附件2 row (positional cells or heading -> text) into a partial record.

    附件2 carries no destination, institution or signature, so the record is
    partial by design (see :func:`missing_mandatory_fields`). Every faulty cell
    is reported; masked cells (with ``*``) are refused because they cannot be
    imported.
    """
    row = {heading: text.strip() for heading, text in _cells_by_heading(cells).items()}
    errors: list[RowError] = []

    def add(column: str, error: YidiError) -> None:
        errors.append(RowError(row_number, column, error.code, error.message))

    def field_errors(found: list[YidiError]) -> None:
        for error in found:
            add(_FIELD_COLUMNS.get(error.field or "", "姓名"), error)

    region = row.get("参保地行政区划代码", "")
    field_errors(check_insured_region(region, regions))
    name = row.get("姓名", "")
    field_errors(check_name(name))

    id_text = row.get("身份证号", "")
    ssn_text = row.get("社会保障号码", "") or id_text
    resident_id, id_errors = check_social_security_number(id_text)
    for error in id_errors:
        add("身份证号", error)
    if resident_id is not None and ssn_text.upper() != resident_id.number and ssn_text != id_text:
        try:
            same = ResidentId.parse(ssn_text) == resident_id
        except InvalidInput:
            same = False
        if not same:
            add(
                "社会保障号码",
                InvalidInput(
                    "FILING_SSN_MISMATCH", "社会保障号码应与身份证号一致", "SSN must equal the ID"
                ),
            )

    gender_text = row.get("性别", "")
    gender = _GENDERS.get(gender_text)
    if gender is None:
        add(
            "性别",
            InvalidInput(
                "FILING_GENDER_FORMAT",
                f"性别“{gender_text}”不正确：应为“男”或“女”（或代码1、2）",
                "Gender must be 男/女 or 1/2",
            ),
        )
    else:
        field_errors(check_gender(gender, resident_id))

    insurance_text = row.get("险种类型", "")
    insurance_type: InsuranceType | None = None
    try:
        insurance_type = InsuranceType.from_annex_code(insurance_text)
    except KeyError:
        add(
            "险种类型",
            InvalidInput(
                "FILING_INSURANCE_TYPE_FORMAT",
                f"险种类型“{insurance_text}”不正确：应为1（职工医保）或2（城乡居民医保）",
                "Insurance type must be 1 or 2",
            ),
        )

    category_text = row.get("人员类别", "")
    category: FilingCategory | None = None
    if category_text:
        try:
            category = FilingCategory.from_annex_code(category_text)
        except KeyError:
            category = None
        if category is None or not category.is_residence_based:
            # 附件2 注2 (豫人社办函〔2017〕63号): 人员类别 1.异地安置退休人员 2.异地长期居住人员
            # 3.常驻异地工作人员 — the summary lists 异地居住 persons only.
            category = None
            add(
                "人员类别",
                InvalidInput(
                    "FILING_CATEGORY_FORMAT",
                    f"人员类别“{category_text}”不正确：应为1至3"
                    "（1.异地安置退休人员，2.异地长期居住人员，3.常驻异地工作人员）",
                    "Category must be 1-3 (1 resettled retiree, 2 long-term resident,"
                    " 3 posted worker)",
                ),
            )

    card = row.get("社会保障卡号", "")
    field_errors(check_card_number(card))
    phone, mobile = row.get("联系电话", ""), row.get("手机", "")
    field_errors(check_phones(phone, mobile))
    for column in ("身份证号", "社会保障号码", "联系电话", "手机"):
        if "*" in row.get(column, ""):
            add(
                column,
                InvalidInput(
                    "FILING_MASKED_VALUE",
                    f"{column}为脱敏数据，不能导入",
                    "Masked values cannot be imported",
                ),
            )

    if errors:
        return errors
    assert resident_id is not None
    return FilingRecord(
        insured_region_code=region,
        name=name,
        gender=gender,
        insurance_type=insurance_type,
        category=category,
        social_security_number=resident_id.number,
        social_security_card_number=card.upper() or None,
        contact_address=row.get("现住址", "") or None,
        phone=normalize_phone(phone) or None,
        mobile=normalize_phone(mobile) or None,
    )
