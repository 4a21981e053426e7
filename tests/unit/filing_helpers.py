"""Builders shared by the filing tests: a valid record and the documents each category needs."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from typing import Any

from yidi.clock import CHINA_TZ
from yidi.domain.evidence import Evidence, EvidenceFile, EvidenceKind
from yidi.domain.filing_lifecycle import Actor
from yidi.domain.filings import DesignatedInstitution, FilingRecord, SignedBy
from yidi.domain.identity import Gender, make_resident_id
from yidi.domain.insurance import FilingCategory, HospitalLevel, InsuranceType, PersonType
from yidi.domain.regions import default_registry

REGIONS = default_registry()
HENGYANG_COUNTY = "430421"  # 衡阳县, a county-level pool in 2017
BOBAI = "450923"  # 广西玉林市博白县 (the seed's first direct settlement)
YULIN = "450900"
GUANGXI = "450000"
PERSON_ID = make_resident_id("430421", date(1955, 3, 8), 123, Gender.MALE).number
DELEGATE_ID = make_resident_id("430421", date(1982, 6, 1), 456, Gender.FEMALE).number
BOBAI_HOSPITAL = DesignatedInstitution("博白县人民医院", HospitalLevel.LEVEL_2, "H45092300001")
CLERK = Actor("clerk-1", "agency_clerk", "张经办")
PERSON = Actor("person-1", "insured_person")


def at(year: int, month: int, day: int, hour: int = 10) -> datetime:
    return datetime(year, month, day, hour, tzinfo=CHINA_TZ)


def valid_record(**changes: Any) -> FilingRecord:
    record = FilingRecord(
        insured_region_code=HENGYANG_COUNTY,
        name="谢某某",
        gender=Gender.MALE,
        insurance_type=InsuranceType.EMPLOYEE,
        category=FilingCategory.RETIREE_RESETTLED,
        person_type=PersonType.EMPLOYEE_RETIRED,
        social_security_number=PERSON_ID,
        social_security_card_number="A12345678",
        has_second_generation_card=True,
        home_address="湖南省衡阳县西渡镇某路1号",
        contact_address="广西博白县博白镇某街2号",
        phone="0734-8867038",
        mobile="13807341234",
        destination_province_code=GUANGXI,
        destination_prefecture_code=YULIN,
        destination_county_code=BOBAI,
        designated_institutions=(BOBAI_HOSPITAL,),
        signed_by=SignedBy.PERSON,
        filled_on=date(2024, 9, 2),
    )
    return dataclasses.replace(record, **changes)


def evidence_for(category: FilingCategory) -> tuple[Evidence, ...]:
    scan = EvidenceFile("a" * 64, "scan.pdf", "application/pdf")
    if category is FilingCategory.RETIREE_RESETTLED:
        return (
            Evidence(
                EvidenceKind.HOUSEHOLD_REGISTRATION,
                "户-0001",
                "博白县公安局",
                date(2016, 5, 1),
                issuer_region_code=BOBAI,
                file=scan,
            ),
        )
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
    return (
        Evidence(
            EvidenceKind.ADMISSION_NOTICE,
            "入-5",
            "博白县人民医院",
            date(2024, 9, 30),
            issuer_region_code=BOBAI,
        ),
    )


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
