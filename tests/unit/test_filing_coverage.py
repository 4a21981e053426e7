from __future__ import annotations

import dataclasses
from datetime import date

from filing_helpers import CLERK, PERSON, REGIONS, at, evidence_for, record_for

from filing_support import BOBAI_HOSPITAL
from yidi.filing.model.lifecycle import (
    Filing,
    approve,
    cancel,
    change,
    create_draft,
    expire_due,
    submit,
    valid_filing_for,
)
from yidi.filing.model.record import DesignatedInstitution, FilingRecord
from yidi.filing.model.rules import DEFAULT_FILING_RULES
from yidi.kernel.insurance import FilingCategory, HospitalLevel

OTHER_HOSPITAL = DesignatedInstitution("玉林市第一人民医院", HospitalLevel.LEVEL_3)


def approved_filing(record: FilingRecord, filing_id: str = "f-1") -> Filing:
    assert record.category is not None
    filled = record.filled_on or date(2024, 9, 2)
    draft = create_draft(
        filing_id,
        record,
        PERSON,
        at(filled.year, filled.month, filled.day),
        evidence=evidence_for(record.category),
    )
    filing = submit(draft, PERSON, at(filled.year, filled.month, filled.day, 11), REGIONS)
    return approve(
        filing,
        CLERK,
        at(2024, 10, 10),
        REGIONS,
        filing_number="BA430421-2024-000001",
        handling_agency="x",
    )


def retiree(**changes: object) -> Filing:
    return approved_filing(record_for(FilingCategory.RETIREE_RESETTLED, **changes))


ON = date(2024, 11, 1)


def test_county_filing_covers_that_county_only() -> None:
    filing = retiree()
    assert valid_filing_for([filing], "450923", BOBAI_HOSPITAL, ON, REGIONS) == filing
    assert valid_filing_for([filing], "450921", None, ON, REGIONS) is None  # 容县, same prefecture


def test_prefecture_filing_covers_its_counties() -> None:
    filing = retiree(destination_county_code=None)
    assert valid_filing_for([filing], "450921", OTHER_HOSPITAL, ON, REGIONS) == filing
    assert valid_filing_for([filing], "450102", OTHER_HOSPITAL, ON, REGIONS) is None  # 南宁


def test_province_filing_covers_all_its_prefectures() -> None:
    filing = retiree(destination_prefecture_code=None, destination_county_code=None)
    assert valid_filing_for([filing], "450102", None, ON, REGIONS) == filing
    assert valid_filing_for([filing], "450900", None, ON, REGIONS) == filing
    assert valid_filing_for([filing], "440305", None, ON, REGIONS) is None  # 深圳南山


def test_filing_is_not_valid_before_approval_date_or_when_cancelled_or_expired() -> None:
    filing = approved_filing(record_for(FilingCategory.LONG_TERM_RESIDENT))
    assert valid_filing_for([filing], "450923", None, date(2024, 10, 9), REGIONS) is None
    assert valid_filing_for([filing], "450923", None, date(2025, 10, 9), REGIONS) == filing
    assert valid_filing_for([filing], "450923", None, date(2025, 10, 10), REGIONS) is None
    (expired,) = expire_due([filing], at(2025, 10, 10))
    assert valid_filing_for([expired], "450923", None, date(2025, 10, 9), REGIONS) is None
    cancelled = cancel(filing, CLERK, at(2024, 10, 20), "迁回参保地")
    assert valid_filing_for([cancelled], "450923", None, ON, REGIONS) is None


def test_residence_categories_cover_any_hospital_of_the_destination() -> None:
    assert (
        DEFAULT_FILING_RULES[FilingCategory.RETIREE_RESETTLED].restricted_to_named_institutions
        is False
    )
    filing = retiree(destination_county_code=None)
    assert valid_filing_for([filing], "450921", OTHER_HOSPITAL, ON, REGIONS) == filing


def test_referral_and_emergency_cover_only_the_named_hospital() -> None:
    for category in (FilingCategory.REFERRAL, FilingCategory.EMERGENCY):
        filing = approved_filing(record_for(category, filled_on=date(2024, 9, 30)))
        day = date(2024, 10, 15)
        assert valid_filing_for([filing], "450923", BOBAI_HOSPITAL, day, REGIONS) == filing
        same_by_name = DesignatedInstitution(" 博白县 人民医院", HospitalLevel.LEVEL_2)
        assert valid_filing_for([filing], "450923", same_by_name, day, REGIONS) == filing
        other = DesignatedInstitution("博白县中医医院", HospitalLevel.LEVEL_2)
        assert valid_filing_for([filing], "450923", other, day, REGIONS) is None
        assert valid_filing_for([filing], "450923", None, day, REGIONS) is None


def test_superseded_version_no_longer_counts_the_new_one_does() -> None:
    old = retiree()
    moved = dataclasses.replace(
        old.record, destination_county_code="450921", contact_address="容县某地"
    )
    superseded, current = change(
        old,
        CLERK,
        at(2025, 1, 5),
        REGIONS,
        new_filing_id="f-2",
        record=moved,
        evidence=(
            dataclasses.replace(
                evidence_for(FilingCategory.RETIREE_RESETTLED)[0], issuer_region_code="450921"
            ),
        ),
    )
    day = date(2025, 2, 1)
    assert valid_filing_for([superseded, current], "450923", None, day, REGIONS) is None
    assert valid_filing_for([superseded, current], "450921", None, day, REGIONS) == current


def test_unknown_treatment_region_finds_nothing() -> None:
    assert valid_filing_for([retiree()], "999999", None, ON, REGIONS) is None


def test_every_rule_cites_a_seed_and_marks_local_choices() -> None:
    for category in FilingCategory:
        rule = DEFAULT_FILING_RULES[category]
        assert rule.category is category
        if category is FilingCategory.OTHER_TEMPORARY:
            # a 2022-model type: cites the 2022 list of materials, needs no proof
            assert "http" in rule.source and not rule.evidence
            continue
        assert "2017" in rule.source and rule.evidence
        assert "本地设定" in rule.validity_note
