"""Every domain value a page names (options, history verbs, documents, 附件1 fields) has English."""

from __future__ import annotations

import enum
import re

import pytest

from yidi.entrypoints.web.i18n import (
    ANNEX2_COLUMN_EN,
    ENUM_EN,
    FIELD_EN,
    field_label,
    label,
    translator,
)
from yidi.filing.model.annex import ANNEX2_COLUMNS
from yidi.filing.model.change_requests import ChangeRequestState
from yidi.filing.model.evidence import EvidenceKind
from yidi.filing.model.lifecycle import FilingAction
from yidi.filing.model.record import FIELD_LABELS, RegistrationType
from yidi.filing.model.rules import DEFAULT_FILING_RULES
from yidi.kernel.identity import Gender
from yidi.kernel.insurance import EncounterType, HospitalLevel, InsuranceType, PersonType
from yidi.settlement.manual import Material

HAN = re.compile(r"[\u3400-\u9fff]")
NAMED = [
    Gender,
    PersonType,
    HospitalLevel,
    EncounterType,
    EvidenceKind,
    RegistrationType,
    FilingAction,
    Material,
    ChangeRequestState,
    InsuranceType,
]


@pytest.mark.parametrize("kind", NAMED, ids=lambda k: k.__name__)
def test_each_member_has_english_and_keeps_its_own_chinese(kind: type[enum.Enum]) -> None:
    assert sorted(ENUM_EN[kind.__name__]) == sorted(str(m.value) for m in kind)
    for member in kind:
        english = label("en", member)
        assert english.strip() and not HAN.search(english), (member, english)
        chinese = label("zh", member)
        own = getattr(member, "label_zh", None) or getattr(member, "verb_zh", None)
        assert chinese == own


def test_every_annex1_field_has_english_and_unknown_labels_pass_through() -> None:
    assert sorted(FIELD_EN) == sorted(FIELD_LABELS)
    for zh in FIELD_LABELS.values():
        assert field_label("zh", zh) == zh
        assert not HAN.search(field_label("en", zh)), zh
    assert field_label("en", "不存在的字段") == "不存在的字段"


def test_the_evidence_each_rule_asks_for_reads_in_english() -> None:
    for rule in DEFAULT_FILING_RULES.values():
        for requirement in rule.evidence:
            english = label("en", requirement)
            assert english and not HAN.search(english), english
            assert label("zh", requirement) == requirement.label_zh


def test_the_templates_translator_reads_the_catalogue_and_names_domain_values() -> None:
    t = translator("en")
    assert t("hospitals.count", count=3) == "3 hospitals"
    assert t.label(Gender.FEMALE) == "Female"
    assert t.fields(["姓名", "手机"]) == "Name, Mobile"
    assert translator("zh").fields(["姓名", "手机"]) == "姓名、手机"


def test_every_annex2_column_heading_has_english() -> None:
    assert sorted(ANNEX2_COLUMN_EN) == sorted((*ANNEX2_COLUMNS, "登记类别"))  # + the quarterly's
    t = translator("en")
    assert all(not HAN.search(t.heading(column)) for column in ANNEX2_COLUMNS)
    assert translator("zh").heading("序号") == "序号"
