"""The pages' words in Chinese (the default) and English: one catalogue, one lookup.

Domain objects carry their own Chinese ``label_zh`` (and some a ``label_en``); the
English of the others is :data:`ENUM_EN`, so every option, history verb and document
name a page shows has both languages. The catalogue holds what belongs to the pages
themselves (titles, buttons, hints); its words are data, in ``words/*.toml``. In a
template ``t(key)`` reads the catalogue and ``t.label(member)`` names a domain value in
the page's language.
"""

from __future__ import annotations

import enum
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from importlib import resources
from typing import Final, Literal

from yidi.filing.model.record import FIELD_LABELS
from yidi.filing.model.rules import EvidenceRequirement, IssuerPlace

Lang = Literal["zh", "en"]
LANGS: Final[tuple[Lang, ...]] = ("zh", "en")
DEFAULT_LANG: Final[Lang] = "zh"
LANG_COOKIE: Final = "yidi_lang"

# The words themselves are data: one entry per key, the Chinese and the English side by side,
# in words/*.toml (pages.toml for most pages; the 政策调整测算 (what-if) pages, the
# reconciliation disputes, the step-by-step filing, the export jobs, the manual
# reimbursement forms and the 2022 model's promises keep their own).
WORD_FILES: Final[tuple[str, ...]] = (
    "pages.toml",
    "whatif.toml",
    "disputes.toml",
    "wizard.toml",
    "jobs.toml",
    "manual.toml",
    "promise.toml",
)


def _entries(
    table: Mapping[str, object], prefix: str, source: str
) -> Iterator[tuple[str, tuple[str, str]]]:
    for name, value in table.items():
        key = prefix + name
        if isinstance(value, dict):
            yield from _entries(value, key + ".", source)
        elif isinstance(value, list) and len(value) == 2 and all(isinstance(s, str) for s in value):
            yield key, (value[0], value[1])
        else:
            raise ValueError(f"{source}: {key} is not a pair of words [Chinese, English]")


def add_words(catalogue: dict[str, tuple[str, str]], text: str, source: str) -> None:
    """Add one word file's entries (TOML; a [section] is its keys' first part) to
    ``catalogue``; a key stated twice, or an entry that is not [Chinese, English], is an error."""
    for key, words in _entries(tomllib.loads(text), "", source):
        if key in catalogue:
            raise ValueError(f"{source}: {key} is already in the catalogue")
        catalogue[key] = words


def load_catalogue(names: Iterable[str] = WORD_FILES) -> dict[str, tuple[str, str]]:
    """Every key's (Chinese, English), read from the word files in ``names``' order."""
    catalogue: dict[str, tuple[str, str]] = {}
    folder = resources.files("yidi.entrypoints.web") / "words"
    for name in names:
        add_words(catalogue, (folder / name).read_text(encoding="utf-8"), name)
    return catalogue


CATALOGUE: Final[dict[str, tuple[str, str]]] = load_catalogue()


# English names of the domain's enumerations, by class name then member value. The
# Chinese is the member's own ``label_zh`` (or ``verb_zh``); a test checks that every member
# of these classes has its English here.
ENUM_EN: Final[Mapping[str, Mapping[str, str]]] = {
    "Gender": {"1": "Male", "2": "Female"},
    "PersonType": {
        "employee_active": "Working employee",
        "employee_retired": "Retired employee",
        "resident_adult": "Adult resident",
        "resident_child": "Child",
        "resident_student": "Student",
        "resident_elderly": "Elderly resident",
    },
    "HospitalLevel": {"1": "Level 1 hospital", "2": "Level 2 hospital", "3": "Level 3 hospital"},
    "EncounterType": {
        "21": "Ordinary inpatient stay",
        "22": "Inpatient stay for an injury",
        "24": "Emergency, then admitted",
        "11": "Ordinary outpatient visit",
        "14": "Outpatient chronic or special disease",
        "41": "Medicine from a designated pharmacy",
    },
    "EvidenceKind": {
        "household_registration": "Household registration at the resettlement place",
        "residence_permit": "Residence permit",
        "posting_certificate": "Employer's posting certificate",
        "referral_approval": "Referral approval form",
        "emergency_record": "Outpatient or emergency record",
        "admission_notice": "Admission notice",
        "delegation_letter": "Letter of authorisation",
    },
    "RegistrationType": {"1": "New", "2": "Change"},
    "FilingAction": {
        "create": "Created",
        "revise": "Revised",
        "submit": "Submitted",
        "approve": "Reviewed",
        "reject": "Reviewed",
        "change": "Changed",
        "cancel": "Cancelled",
        "expire": "Set to expired",
        "supply": "Documents supplied",
        "promise_lapse": "Treated as other temporary travel",
        "false_promise": "False promise found",
    },
    "Material": {
        "inpatient_receipt": "Original inpatient receipt",
        "discharge_record": "Discharge record or front page of the medical record",
        "diagnosis_certificate": "Diagnosis certificate",
        "itemised_fee_list": "Itemised list of inpatient fees",
    },
    "ChangeRequestState": {
        "pending": "Pending review",
        "approved": "Approved",
        "rejected": "Returned",
        "withdrawn": "Withdrawn",
    },
    "InsuranceType": {"310": "Employee insurance", "390": "Resident insurance"},
}

# English of the 附件1 field names (the Chinese is the domain's FIELD_LABELS), by field.
FIELD_EN: Final[Mapping[str, str]] = {
    "insured_region_code": "Insured region",
    "name": "Name",
    "gender": "Gender",
    "insurance_type": "Insurance",
    "category": "Category",
    "person_type": "Person type",
    "registration_type": "Registration type",
    "social_security_number": "Social security number",
    "social_security_card_number": "Social security card number",
    "home_address": "Home address (insured place)",
    "contact_address": "Contact address (where you live now)",
    "phone": "Phone",
    "mobile": "Mobile",
    "contact_phone": "Phone or mobile",
    "destination_province_code": "Destination province",
    "destination_prefecture_code": "Destination prefecture",
    "destination_county_code": "Destination county",
    "designated_institutions": "Hospitals",
    "signed_by": "Signature (you or your delegate)",
    "delegate": "Delegate",
    "filled_on": "Date filled in",
    "admitted_on": "Admission date",
    "valid_until": "Valid until",
}
# English of the 附件2 column headings (the Chinese is the notice's own, ANNEX2_COLUMNS, and
# the quarterly list's 登记类别).
ANNEX2_COLUMN_EN: Final[Mapping[str, str]] = {
    "序号": "No.",
    "参保地行政区划代码": "Insured region code",
    "参保地行政区划名称": "Insured region",
    "姓名": "Name",
    "性别": "Gender",
    "身份证号": "ID number",
    "险种类型": "Insurance",
    "社会保障号码": "Social security number",
    "社会保障卡号": "Social security card number",
    "现住址": "Current address",
    "联系电话": "Phone",
    "手机": "Mobile",
    "人员类别": "Category",
    "登记类别": "Registration type",  # the quarterly list's extra column
}
_FIELD_BY_ZH: Final[Mapping[str, str]] = {zh: field for field, zh in FIELD_LABELS.items()}

_ISSUER_PLACE_EN: Final[Mapping[IssuerPlace, str]] = {
    IssuerPlace.ANYWHERE: "",
    IssuerPlace.DESTINATION: " (issued at the place of care: resettlement or residence place)",
    IssuerPlace.INSURED_PLACE: " (issued at the insured place)",
}


def label(lang: Lang, member: object) -> str:
    """A domain value's name in ``lang``: an enum member, or a document requirement."""
    if isinstance(member, EvidenceRequirement):
        return requirement_label(lang, member)
    zh = getattr(member, "label_zh", None) or getattr(member, "verb_zh", None)
    if lang == "zh" and zh:
        return str(zh)
    if isinstance(member, enum.Enum):
        english = ENUM_EN.get(type(member).__name__, {}).get(str(member.value))
        if english is None:
            english = getattr(member, "label_en", None)
        if english:
            return str(english)
    return str(zh) if zh else str(member)


def requirement_label(lang: Lang, requirement: EvidenceRequirement) -> str:
    """One evidence requirement of a filing rule: the documents, where they come from, who issues."""
    if lang == "zh":
        return requirement.label_zh
    names = " or ".join(label(lang, kind) for kind in requirement.kinds)
    issuer = ""
    if requirement.issuer_levels:
        levels = ", ".join(label(lang, level) for level in requirement.issuer_levels)
        issuer = f" (from a designated {levels}"
        issuer += " or the top specialist hospital)" if requirement.top_specialist_allowed else ")"
    return names + _ISSUER_PLACE_EN[requirement.issuer_place] + issuer


def field_label(lang: Lang, zh: str) -> str:
    """A 附件1 field named by its Chinese label (as the domain reports it), in ``lang``."""
    if lang == "zh":
        return zh
    field = _FIELD_BY_ZH.get(zh)
    return FIELD_EN.get(field, zh) if field else zh


def translate(lang: Lang, key: str, **values: object) -> str:
    zh, en = CATALOGUE[key]
    text = en if lang == "en" else zh
    return text.format(**values) if values else text


class Translator:
    """The templates' ``t``: ``t(key, **values)`` from the catalogue, ``t.label(member)``."""

    __slots__ = ("lang",)

    def __init__(self, lang: Lang) -> None:
        self.lang: Lang = lang

    def __call__(self, key: str, **values: object) -> str:
        return translate(self.lang, key, **values)

    def label(self, member: object) -> str:
        return label(self.lang, member)

    def field(self, zh: str) -> str:
        return field_label(self.lang, zh)

    def heading(self, zh: str) -> str:
        """A 附件2 column heading in the page's language."""
        return zh if self.lang == "zh" else ANNEX2_COLUMN_EN.get(zh, zh)

    def fields(self, zh_labels: Iterable[str]) -> str:
        """Several 附件1 fields as one line: 、 in Chinese, a comma in English."""
        separator = "、" if self.lang == "zh" else ", "
        return separator.join(field_label(self.lang, zh) for zh in zh_labels)


def translator(lang: Lang) -> Translator:
    return Translator(lang)


def parse_lang(value: str | None) -> Lang | None:
    if value == "en":
        return "en"
    if value == "zh":
        return "zh"
    return None
