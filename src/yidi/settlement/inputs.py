"""Claims and year-to-date totals from plain mappings (claim JSON files, golden-case YAML).

Amounts are strings (``"25.00"``); a line's ``line_amount`` may be omitted and is then
quantity × unit price rounded to the fen. The format is documented in docs/claim-files.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from yidi.kernel.errors import InvalidInput, YidiError
from yidi.kernel.insurance import (
    AssistanceGroup,
    EncounterType,
    FilingCategory,
    HospitalLevel,
    InsuranceType,
    PersonType,
)
from yidi.kernel.money import Money
from yidi.settlement.claims import Claim, FeeLine, YearToDate

T = TypeVar("T")


def _bad(field: str, message: str, message_en: str) -> InvalidInput:
    return InvalidInput(
        "CLAIM_FIELD_INVALID", f"{field}：{message}", f"{field}: {message_en}", field=field
    )


def _required(data: Mapping[str, Any], key: str) -> Any:
    if key not in data or data[key] is None:
        raise _bad(key, "必填", "is required")
    return data[key]


def _convert(field: str, value: Any, convert: Callable[[Any], T]) -> T:
    try:
        return convert(value)
    except YidiError:
        raise
    except (ValueError, KeyError, InvalidOperation, TypeError):
        raise _bad(field, f"取值“{value}”无效", f"invalid value {value!r}") from None


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def _datetime(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time())
    return dt.datetime.fromisoformat(str(value))


def _decimal(value: Any) -> Decimal:
    if isinstance(value, (float, bool)):
        raise ValueError("quote decimals as strings")
    return Decimal(str(value))


def _money(value: Any) -> Money:
    if isinstance(value, (float, bool)):
        raise ValueError("quote amounts as strings")
    return Money.of(value)


def _enum_lookup(enum_type: type[T]) -> Callable[[Any], T]:
    def convert(value: Any) -> T:
        for member in enum_type:  # type: ignore[attr-defined]
            if str(value) in (str(member.value), member.name.lower(), member.name):
                return member  # type: ignore[no-any-return]
        raise ValueError(value)

    return convert


def parse_fee_line(data: Mapping[str, Any], index: int) -> FeeLine:
    where = f"fee_lines[{index}]"
    quantity = _convert(f"{where}.quantity", _required(data, "quantity"), _decimal)
    unit_price = _convert(f"{where}.unit_price", _required(data, "unit_price"), _decimal)
    if "line_amount" in data and data["line_amount"] is not None:
        amount = _convert(f"{where}.line_amount", data["line_amount"], _money)
    else:
        amount = Money.rounded(quantity * unit_price)
    return FeeLine(
        serial=str(data.get("serial", index + 1)),
        catalog_code=str(_required(data, "catalog_code")),
        hospital_item_code=str(data.get("hospital_item_code", data["catalog_code"])),
        name=str(data.get("name", "")),
        quantity=quantity,
        unit_price=unit_price,
        line_amount=amount,
        occurred_at=_convert(f"{where}.occurred_at", _required(data, "occurred_at"), _datetime),
        is_emergency_pre_admission=bool(data.get("is_emergency_pre_admission", False)),
    )


def _birth_date(data: Mapping[str, Any]) -> dt.date | None:
    """``birth_date``, or the birth date inside an 18-digit ``id_number`` (digits 7–14)."""
    if data.get("birth_date") not in (None, ""):
        return _convert("birth_date", data["birth_date"], _date)
    number = data.get("id_number")
    if number in (None, ""):
        return None
    text = str(number).strip().upper()
    if len(text) != 18 or not text[:17].isdigit():
        raise _bad("id_number", "须为18位身份证号码", "must be an 18-digit ID number")
    return _convert(
        "id_number", text[6:14], lambda v: dt.date(int(v[:4]), int(v[4:6]), int(v[6:8]))
    )


def parse_claim(data: Mapping[str, Any]) -> Claim:
    """A :class:`Claim` from a mapping; raises :class:`InvalidInput` naming the bad field."""
    filing = data.get("filing_category")
    group = data.get("assistance_group")
    lines = _required(data, "fee_lines")
    if not isinstance(lines, list):
        raise _bad("fee_lines", "须为列表", "must be a list")
    return Claim(
        insured_region=str(_required(data, "insured_region")),
        treatment_region=str(_required(data, "treatment_region")),
        insurance_type=_convert(
            "insurance_type", _required(data, "insurance_type"), InsuranceType.parse
        ),
        person_type=_convert(
            "person_type", _required(data, "person_type"), _enum_lookup(PersonType)
        ),
        hospital_level=_convert(
            "hospital_level", _required(data, "hospital_level"), lambda v: HospitalLevel(int(v))
        ),
        filing_category=None
        if filing in (None, "", "unfiled")
        else _convert("filing_category", filing, _enum_lookup(FilingCategory)),
        admitted_on=_convert("admitted_on", _required(data, "admitted_on"), _date),
        discharged_on=_convert("discharged_on", _required(data, "discharged_on"), _date),
        encounter_type=_convert(
            "encounter_type", data.get("encounter_type", "inpatient"), _enum_lookup(EncounterType)
        ),
        fee_lines=tuple(parse_fee_line(line, index) for index, line in enumerate(lines)),
        assistance_group=None
        if group in (None, "")
        else _convert("assistance_group", group, _enum_lookup(AssistanceGroup)),
        use_personal_account=bool(data.get("use_personal_account", False)),
        personal_account_family=bool(data.get("personal_account_family", False)),
        personal_account_balance=_convert(
            "personal_account_balance", data.get("personal_account_balance", "0.00"), _money
        ),
        birth_date=_birth_date(data),
        disease_code=None if data.get("disease_code") in (None, "") else str(data["disease_code"]),
    )


def parse_year_to_date(data: Mapping[str, Any] | None, year: int) -> YearToDate:
    """Year-to-date totals; missing fields are zero, a missing mapping is an empty year."""
    if not data:
        return YearToDate.empty(year)
    values: dict[str, Any] = {"year": int(data.get("year", year))}
    for key, raw in data.items():
        if key == "year":
            continue
        if key == "admissions_count":
            values[key] = _convert(key, raw, int)
        elif key == "counters":
            if not isinstance(raw, Mapping):
                raise _bad(key, "须为映射（累计项名称: 金额）", "must map counter names to amounts")
            values[key] = {
                str(name): _convert(f"counters.{name}", amount, _money)
                for name, amount in raw.items()
            }
        elif key in YearToDate.__dataclass_fields__:
            values[key] = _convert(key, raw, _money)
        else:
            raise _bad(key, "未知字段", "unknown field")
    return YearToDate(**values)
