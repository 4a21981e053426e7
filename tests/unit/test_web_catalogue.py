from __future__ import annotations

import re
from importlib import resources

import pytest

from yidi.entrypoints.web.change_fields import FIELD_LABEL_KEYS, field_labeller
from yidi.entrypoints.web.i18n import CATALOGUE, add_words, translate
from yidi.entrypoints.web.nav import NAV_ENTRIES
from yidi.filing.model.change_requests import COMPARED_FIELDS, compare_records
from yidi.filing.model.eligibility import Verdict
from yidi.filing.model.record import FilingRecord
from yidi.kernel.access import Role
from yidi.kernel.insurance import FilingCategory, HospitalLevel, InsuranceType

LITERAL_KEY = re.compile(r"""\bt\(\s*'([a-z0-9_.]*[a-z0-9_])'(?!\s*~)""")


def _templates() -> dict[str, str]:
    folder = resources.files("yidi.entrypoints.web") / "templates"
    return {item.name: item.read_text(encoding="utf-8") for item in folder.iterdir()}


# The language switch is written in the language it switches to.
IN_THE_OTHER_LANGUAGE = {"lang.switch", "lang.switch_label"}


def test_every_catalogue_entry_has_both_chinese_and_english() -> None:
    for key, (zh, en) in CATALOGUE.items():
        assert zh.strip() and en.strip(), key
        if key in IN_THE_OTHER_LANGUAGE:
            continue
        assert re.search(r"[\u4e00-\u9fff]", zh), f"{key}: the Chinese text has no Chinese"


def test_every_key_a_template_asks_for_is_in_the_catalogue() -> None:
    used = {key for text in _templates().values() for key in LITERAL_KEY.findall(text)}
    assert used, "the pattern finds the templates' keys"
    assert sorted(used - CATALOGUE.keys()) == []


def test_every_label_built_from_a_domain_value_is_in_the_catalogue() -> None:
    keys = (
        [f"role.{r.value}" for r in Role]
        + [f"category.{c.value}" for c in FilingCategory]
        + [f"level.{int(lv)}" for lv in HospitalLevel]
        + [f"insurance.{i.value}" for i in InsuranceType]
        + [f"verdict.{v.value}" for v in Verdict]
        + [entry.label_key for entry in NAV_ENTRIES]
    )
    assert [k for k in keys if k not in CATALOGUE] == []


def test_the_catalogue_chinese_labels_agree_with_the_domain_labels() -> None:
    for role in Role:
        assert translate("zh", f"role.{role.value}") == role.label_zh
    for category in FilingCategory:
        assert translate("zh", f"category.{category.value}") == category.label_zh
    for level in HospitalLevel:
        assert translate("zh", f"level.{int(level)}") == level.label_zh
    for insurance in InsuranceType:
        assert translate("zh", f"insurance.{insurance.value}") == insurance.label_zh


def test_placeholders_are_filled_in_both_languages() -> None:
    assert translate("zh", "hospitals.count", count=7) == "共 7 家"
    assert translate("en", "hospitals.count", count=7) == "7 hospitals"


def test_every_field_a_change_comparison_shows_has_a_chinese_and_an_english_label() -> None:
    changes = compare_records(FilingRecord(), FilingRecord())
    assert [change.field for change in changes] == list(COMPARED_FIELDS)
    chinese, english = field_labeller("zh"), field_labeller("en")
    for change in changes:
        zh, en = chinese(change), english(change)
        assert re.search(r"[\u4e00-\u9fff]", zh), f"{change.field}: no Chinese label"
        assert en.strip() and en.isascii(), f"{change.field}: no English label ({en})"
    # No label is kept for a field the comparison no longer shows.
    assert sorted(FIELD_LABEL_KEYS) == sorted(COMPARED_FIELDS)


def test_a_word_file_states_each_key_once_as_a_chinese_english_pair() -> None:
    catalogue: dict[str, tuple[str, str]] = {}
    add_words(catalogue, 'top = ["顶", "Top"]\n[a]\nb = ["乙", "B"]\nc.d = ["丁", "D"]\n', "one")
    assert catalogue == {"top": ("顶", "Top"), "a.b": ("乙", "B"), "a.c.d": ("丁", "D")}
    with pytest.raises(ValueError, match=r"a\.b is already in the catalogue"):
        add_words(catalogue, '[a]\nb = ["乙", "B again"]\n', "two")
    with pytest.raises(ValueError, match=r"x\.y is not a pair of words"):
        add_words({}, '[x]\ny = ["只有中文"]\n', "three")
