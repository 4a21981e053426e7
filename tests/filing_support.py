"""Principals, records and evidence shared by the filing service, API and CLI tests."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

from yidi.filing.model.evidence import Evidence, EvidenceKind
from yidi.filing.model.record import DesignatedInstitution, FilingRecord, SignedBy
from yidi.kernel.access import Principal, Role
from yidi.kernel.identity import Gender, make_resident_id
from yidi.kernel.insurance import FilingCategory, HospitalLevel, InsuranceType, PersonType

HENGYANG_COUNTY = "430421"  # 衡阳县, inside the 衡阳 agency's region 430400
ZHENGZHOU_DISTRICT = "410102"  # 郑州市中原区
BOBAI = "450923"
PERSON_ID = make_resident_id("430421", date(1955, 3, 8), 123, Gender.MALE).number
OTHER_PERSON_ID = make_resident_id("410102", date(1950, 7, 1), 88, Gender.FEMALE).number
BOBAI_HOSPITAL = DesignatedInstitution("博白县人民医院", HospitalLevel.LEVEL_2, "H45092300001")

HENGYANG = Principal("hengyang", Role.AGENCY_HANDLER, "430400", display_name="衡阳市医保中心经办人")
ZHENGZHOU = Principal("zhengzhou", Role.AGENCY_HANDLER, "410100", display_name="郑州市经办人")
HENAN = Principal("henan", Role.PROVINCE_OFFICER, "410000", display_name="河南省社会保障局")
HUNAN = Principal("hunan", Role.PROVINCE_OFFICER, "430000", display_name="湖南省社会保障局")
CASHIER = Principal("nhfy1", Role.HOSPITAL_CASHIER, hospital_code="H43040000001")
PERSON = Principal("person-xie", Role.INSURED_PERSON, id_number=PERSON_ID, display_name="谢某某")
STRANGER = Principal(
    "person-other", Role.INSURED_PERSON, id_number=OTHER_PERSON_ID, display_name="王某某"
)


def record(**changes: Any) -> FilingRecord:
    """A complete 异地安置退休人员 filing of a 衡阳县 retiree settled in 博白县."""
    base = FilingRecord(
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
        destination_province_code="450000",
        destination_prefecture_code="450900",
        destination_county_code=BOBAI,
        designated_institutions=(BOBAI_HOSPITAL,),
        signed_by=SignedBy.PERSON,
        filled_on=date(2026, 11, 2),
    )
    return dataclasses.replace(base, **changes)


def zhengzhou_record(**changes: Any) -> FilingRecord:
    fields: dict[str, Any] = {
        "insured_region_code": ZHENGZHOU_DISTRICT,
        "name": "王某某",
        "gender": Gender.FEMALE,
        "social_security_number": OTHER_PERSON_ID,
        "home_address": "河南省郑州市中原区某路3号",
        "phone": "0371-65742316",
        "mobile": "13903711234",
    }
    fields.update(changes)
    return record(**fields)


def annex2_csv(rows: list[tuple[str, str, str]]) -> bytes:
    """A 报盘 file in the 附件2 layout; rows are (insured region, name, ID number)."""
    import csv
    import io

    from yidi.filing.model.annex import ANNEX2_COLUMNS

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(ANNEX2_COLUMNS)
    for serial, (region, name, number) in enumerate(rows, start=1):
        writer.writerow(
            [
                serial,
                region,
                "",
                name,
                "男",
                number,
                "1",
                number,
                "",
                "湖南省某地",
                "",
                "13807340000",
                "2",
            ]
        )
    return out.getvalue().encode("utf-8")


def household_registration() -> Evidence:
    return Evidence(
        EvidenceKind.HOUSEHOLD_REGISTRATION,
        "户-0001",
        "博白县公安局",
        date(2016, 5, 1),
        issuer_region_code=BOBAI,
    )


def admission_notice(issued_on: date) -> Evidence:
    return Evidence(
        EvidenceKind.ADMISSION_NOTICE,
        "入-5",
        "博白县人民医院",
        issued_on,
        issuer_region_code=BOBAI,
    )


PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def load_agencies(uow_factory: Any) -> None:
    """The demo agencies only (the demo accounts' password hashing is slow and not needed)."""
    from yidi.demo.world import load_world

    with uow_factory() as uow:
        for agency in load_world().agencies:
            uow.reference.add_agency(agency)
        uow.commit()


# Fields the agency sets (number, handling, validity, version): not part of a request body.
AGENCY_FIELDS = (
    "registration_type",
    "filing_number",
    "handling_agency",
    "handler",
    "handled_on",
    "valid_from",
    "valid_until",
    "version",
)


def record_body(**changes: Any) -> dict[str, Any]:
    """The API's 附件1 body for :func:`record` with ``changes``."""
    from yidi.filing.record_json import record_to_dict

    data = record_to_dict(record(**changes))
    for key in AGENCY_FIELDS:
        data.pop(key)
    return data


def api_headers(container: Any, principal: Principal) -> dict[str, str]:
    """A bearer token for ``principal`` (an account row is made once, as sign-in would need)."""
    from yidi.auth.commands import open_session

    with container.uow() as uow:
        if uow.users.by_username(principal.user_id) is None:
            uow.users.add(principal.user_id, "not-a-usable-hash", principal)
            uow.commit()
    token = open_session(container.uow(), container.clock, principal)
    return {"Authorization": f"Bearer {token}"}
