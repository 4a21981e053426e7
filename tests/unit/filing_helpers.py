"""Builders shared by the filing unit tests: a valid record and the documents each category
needs. The record and the documents are those of ``filing_support``, dated 2024."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from typing import Any

from filing_support import (
    BOBAI,
    admission_notice,
    household_registration,
    record,
)
from yidi.filing.model.evidence import Evidence, EvidenceFile, EvidenceKind
from yidi.filing.model.lifecycle import Actor
from yidi.filing.model.record import FilingRecord
from yidi.kernel.clock import CHINA_TZ
from yidi.kernel.identity import Gender, make_resident_id
from yidi.kernel.insurance import FilingCategory, HospitalLevel, PersonType
from yidi.kernel.regions import default_registry

REGIONS = default_registry()
DELEGATE_ID = make_resident_id("430421", date(1982, 6, 1), 456, Gender.FEMALE).number
CLERK = Actor("clerk-1", "agency_clerk", "张经办")
PERSON = Actor("person-1", "insured_person")


def at(year: int, month: int, day: int, hour: int = 10) -> datetime:
    return datetime(year, month, day, hour, tzinfo=CHINA_TZ)


def valid_record(**changes: Any) -> FilingRecord:
    """The 衡阳县 retiree resettled in 博白县 of ``filing_support.record``, filled on 2024-09-02."""
    return record(**({"filled_on": date(2024, 9, 2)} | changes))


def evidence_for(category: FilingCategory) -> tuple[Evidence, ...]:
    scan = EvidenceFile("a" * 64, "scan.pdf", "application/pdf")
    if category is FilingCategory.RETIREE_RESETTLED:
        return (dataclasses.replace(household_registration(), file=scan),)
    if category is FilingCategory.LONG_TERM_RESIDENT:
        return (
            Evidence(
                EvidenceKind.RESIDENCE_PERMIT,
                "居-0002",
                "博白县公安局",
                date(2024, 1, 5),
                issuer_region_code=BOBAI,
            ),
        )
    if category is FilingCategory.POSTED_WORKER:
        return (Evidence(EvidenceKind.POSTING_CERTIFICATE, "派-3", "衡阳某公司", date(2024, 8, 1)),)
    if category is FilingCategory.REFERRAL:
        return (
            Evidence(
                EvidenceKind.REFERRAL_APPROVAL,
                "转-4",
                "南华大学附属第一医院",
                date(2024, 8, 30),
                issuer_region_code="430407",
                issuer_hospital_level=HospitalLevel.LEVEL_3,
            ),
        )
    if category is FilingCategory.OTHER_TEMPORARY:
        return ()  # 2022 model: the credential only
    return (admission_notice(date(2024, 9, 30)),)


def record_for(category: FilingCategory, **changes: Any) -> FilingRecord:
    """A valid record of ``category`` (person type and dates adjusted to the rule)."""
    extra: dict[str, Any] = {"category": category}
    if category is FilingCategory.POSTED_WORKER:
        extra["person_type"] = PersonType.EMPLOYEE_ACTIVE
    if category is FilingCategory.EMERGENCY:
        extra["admitted_on"] = date(2024, 9, 30)
        extra["filled_on"] = date(2024, 9, 30)
    extra.update(changes)
    return valid_record(**extra)
