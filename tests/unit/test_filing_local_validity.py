"""The 2017 validity periods and emergency deadline of the filing rules are read from the
national rule data (filing_rules.yaml), not written in the rules table's code."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from importlib import resources

import pytest
from filing_helpers import CLERK, PERSON, REGIONS, at, evidence_for, record_for

from yidi.filing.model.lifecycle import Filing, approve, create_draft, submit
from yidi.filing.model.rules import DEFAULT_FILING_RULES, FilingRule, filing_rules
from yidi.kernel.errors import InvalidInput
from yidi.kernel.insurance import FilingCategory
from yidi.policy.national import FilingModel, national_era, parse_national_rules

_LOCAL_RESIDENT = (
    "local_validity: {days: 365, illustrative: true, "
    "note: 本地设定：一年，与居住证每年签注一次相衔接（两份文件均未规定期限）}"
)


def _rules_text() -> str:
    path = resources.files("yidi") / "data" / "national" / "filing_rules.yaml"
    return path.read_text("utf-8")


def _era_2017(text: str) -> FilingModel:
    return next(model for model in parse_national_rules(text) if model.era == "2017")


def _approved_resident(rules: Mapping[FilingCategory, FilingRule]) -> Filing:
    record = record_for(FilingCategory.LONG_TERM_RESIDENT)
    draft = create_draft(
        "f-1",
        record,
        PERSON,
        at(2024, 9, 2),
        evidence=evidence_for(FilingCategory.LONG_TERM_RESIDENT),
    )
    filing = submit(draft, PERSON, at(2024, 9, 2, 11), REGIONS)
    return approve(
        filing,
        CLERK,
        at(2024, 10, 10),
        REGIONS,
        filing_number="BA430421-2024-000001",
        handling_agency="x",
        rules=rules,
    )


def test_default_table_takes_days_and_notes_from_the_2017_era() -> None:
    era = national_era("2017")
    for category, type_rule in era.types.items():
        local = type_rule.local_validity
        assert local is not None and local.illustrative and "未规定" in local.source
        rule = DEFAULT_FILING_RULES[category]
        assert (rule.validity_days, rule.validity_note) == (local.days, local.note)
    assert DEFAULT_FILING_RULES[FilingCategory.EMERGENCY].submission_working_days == (
        era.emergency_filing_deadline_working_days
    )


def test_a_rule_file_with_other_days_changes_the_approved_validity() -> None:
    text = _rules_text()
    assert _LOCAL_RESIDENT in text
    other = _era_2017(text.replace(_LOCAL_RESIDENT, _LOCAL_RESIDENT.replace("365", "200")))
    default = _approved_resident(DEFAULT_FILING_RULES)
    changed = _approved_resident(filing_rules(other))
    start = date(2024, 10, 10)
    assert default.record.valid_from == changed.record.valid_from == start
    assert default.record.valid_until == start + timedelta(days=364)
    assert changed.record.valid_until == start + timedelta(days=199)


def test_a_rule_file_with_another_emergency_deadline_changes_the_table() -> None:
    text = _rules_text().replace(
        "filing_deadline_working_days: 3", "filing_deadline_working_days: 5", 1
    )
    table = filing_rules(_era_2017(text))
    assert table[FilingCategory.EMERGENCY].submission_working_days == 5


@pytest.mark.parametrize("days", ["0", "-3", "一年", "true"])
def test_local_validity_must_be_positive_days_or_null(days: str) -> None:
    text = _rules_text().replace(_LOCAL_RESIDENT, _LOCAL_RESIDENT.replace("365", days))
    with pytest.raises(InvalidInput) as raised:
        parse_national_rules(text)
    assert raised.value.code == "NATIONAL_RULE_INVALID"


def test_local_validity_must_say_why() -> None:
    bare = "local_validity: {days: 365, illustrative: true}"
    with pytest.raises(InvalidInput) as raised:
        parse_national_rules(_rules_text().replace(_LOCAL_RESIDENT, bare))
    assert raised.value.code == "NATIONAL_RULE_INVALID"


def test_an_era_without_local_validity_cannot_make_the_table() -> None:
    text = _rules_text().replace(" " * 8 + _LOCAL_RESIDENT + "\n", "")
    with pytest.raises(InvalidInput) as raised:
        filing_rules(_era_2017(text))
    assert raised.value.code == "NATIONAL_RULE_INVALID"
