"""The JSON form of a filing record (附件1): how a version's record is stored and shown.

Every field, JSON-ready (enums by value, dates ISO); the 2022 承诺制 fields only when
set, so a 2017 record's JSON stays as it was. The storage (:mod:`yidi.filing.sql`), the
import and the API's record model all use this one mapping.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from yidi.filing.model.record import (
    Delegate,
    DesignatedInstitution,
    FilingRecord,
    RegistrationType,
    SignedBy,
)
from yidi.kernel.identity import Gender
from yidi.kernel.insurance import FilingCategory, HospitalLevel, InsuranceType, PersonType


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def _day(text: Any) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def record_to_dict(record: FilingRecord) -> dict[str, Any]:
    """Every field of the record as JSON-ready values (enums by value, dates ISO)."""
    delegate = record.delegate
    return {
        "insured_region_code": record.insured_region_code,
        "name": record.name,
        "gender": record.gender.value if record.gender else None,
        "insurance_type": record.insurance_type.value if record.insurance_type else None,
        "category": record.category.value if record.category else None,
        "person_type": record.person_type.value if record.person_type else None,
        "registration_type": record.registration_type.value,
        "social_security_number": record.social_security_number,
        "social_security_card_number": record.social_security_card_number,
        "has_second_generation_card": record.has_second_generation_card,
        "home_address": record.home_address,
        "contact_address": record.contact_address,
        "phone": record.phone,
        "mobile": record.mobile,
        "destination_province_code": record.destination_province_code,
        "destination_prefecture_code": record.destination_prefecture_code,
        "destination_county_code": record.destination_county_code,
        "designated_institutions": [
            {"name": i.name, "level": int(i.level) if i.level else None, "code": i.code}
            for i in record.designated_institutions
        ],
        "signed_by": record.signed_by.value if record.signed_by else None,
        "delegate": (
            {"name": delegate.name, "relation": delegate.relation, "id_number": delegate.id_number}
            if delegate
            else None
        ),
        "filled_on": _iso(record.filled_on),
        "admitted_on": _iso(record.admitted_on),
        "filing_number": record.filing_number,
        "handling_agency": record.handling_agency,
        "handler": record.handler,
        "handled_on": _iso(record.handled_on),
        "valid_from": _iso(record.valid_from),
        "valid_until": _iso(record.valid_until),
        "version": record.version,
    } | _promise_fields(record)


def _promise_fields(record: FilingRecord) -> dict[str, Any]:
    """The 2022 承诺制 and 补办 fields, written only when set: a 2017 record's JSON stays as it was."""
    fields: dict[str, Any] = {
        "promise_signed": record.promise_signed or None,
        "promise_documents_due_on": _iso(record.promise_documents_due_on),
        "promise_documents_supplied_on": _iso(record.promise_documents_supplied_on),
        "promise_lapsed_from": (
            record.promise_lapsed_from.value if record.promise_lapsed_from else None
        ),
        "false_promise_on": _iso(record.false_promise_on),
        "fund_recovery_required": record.fund_recovery_required or None,
        "late_care_from": _iso(record.late_care_from),
        "late_care_until": _iso(record.late_care_until),
    }
    return {key: value for key, value in fields.items() if value is not None}


def record_from_dict(data: dict[str, Any]) -> FilingRecord:
    delegate = data.get("delegate")
    return FilingRecord(
        insured_region_code=data.get("insured_region_code"),
        name=data.get("name"),
        gender=Gender(data["gender"]) if data.get("gender") else None,
        insurance_type=InsuranceType(data["insurance_type"])
        if data.get("insurance_type")
        else None,
        category=FilingCategory(data["category"]) if data.get("category") else None,
        person_type=PersonType(data["person_type"]) if data.get("person_type") else None,
        registration_type=RegistrationType(data.get("registration_type") or "1"),
        social_security_number=data.get("social_security_number"),
        social_security_card_number=data.get("social_security_card_number"),
        has_second_generation_card=data.get("has_second_generation_card"),
        home_address=data.get("home_address"),
        contact_address=data.get("contact_address"),
        phone=data.get("phone"),
        mobile=data.get("mobile"),
        destination_province_code=data.get("destination_province_code"),
        destination_prefecture_code=data.get("destination_prefecture_code"),
        destination_county_code=data.get("destination_county_code"),
        designated_institutions=tuple(
            DesignatedInstitution(
                i["name"], HospitalLevel(i["level"]) if i.get("level") else None, i.get("code")
            )
            for i in data.get("designated_institutions") or ()
        ),
        signed_by=SignedBy(data["signed_by"]) if data.get("signed_by") else None,
        delegate=Delegate(**delegate) if delegate else None,
        filled_on=_day(data.get("filled_on")),
        admitted_on=_day(data.get("admitted_on")),
        filing_number=data.get("filing_number"),
        handling_agency=data.get("handling_agency"),
        handler=data.get("handler"),
        handled_on=_day(data.get("handled_on")),
        valid_from=_day(data.get("valid_from")),
        valid_until=_day(data.get("valid_until")),
        version=int(data.get("version") or 1),
        promise_signed=bool(data.get("promise_signed")),
        promise_documents_due_on=_day(data.get("promise_documents_due_on")),
        promise_documents_supplied_on=_day(data.get("promise_documents_supplied_on")),
        promise_lapsed_from=(
            FilingCategory(data["promise_lapsed_from"]) if data.get("promise_lapsed_from") else None
        ),
        false_promise_on=_day(data.get("false_promise_on")),
        fund_recovery_required=bool(data.get("fund_recovery_required")),
        late_care_from=_day(data.get("late_care_from")),
        late_care_until=_day(data.get("late_care_until")),
    )


def record_json(record: FilingRecord) -> str:
    return json.dumps(record_to_dict(record), ensure_ascii=False, separators=(",", ":"))


def record_from_json(text: str) -> FilingRecord:
    return record_from_dict(json.loads(text))
