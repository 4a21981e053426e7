"""What is stored and rendered of an encounter: the rows the repository answers with, and a
settlement's result as kept (amount columns + result JSON) and as every transport renders it
(:class:`SettlementRecord`). The settlement amount vocabulary lives here, in one place.

Pure: no storage, no I/O.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from yidi.encounter.model import local
from yidi.kernel.audit import as_utc
from yidi.kernel.money import Money
from yidi.reference.model import Hospital, Person
from yidi.settlement.amounts import OWED_TO_TREATMENT_REGION, STORED_AMOUNT_NAMES
from yidi.settlement.claims import YearToDate
from yidi.settlement.result import SettlementResult

# --------------------------------------------------------------------------- rows


@dataclass(frozen=True, slots=True)
class CatalogVersionRow:
    id: int
    treatment_region: str
    version_label: str
    effective_on: dt.date
    content_hash: str
    item_count: int
    source_name: str
    imported_at: dt.datetime


@dataclass(frozen=True, slots=True)
class EncounterRow:
    """就诊 as stored (``id`` is the mdtrt_id)."""

    id: str
    hospital_code: str
    person_id: int
    insured_region_code: str
    treatment_region_code: str
    insurance_type: str
    person_type: str
    filing_id: str | None
    filing_number: str | None
    filing_category: str | None
    med_type: str
    inpatient_number: str
    department_code: str
    department_name: str
    admitted_at: dt.datetime
    discharged_at: dt.datetime | None
    diagnosis_codes: str
    accidental_injury: bool
    emergency_started_at: dt.datetime | None
    state: str
    created_at: dt.datetime
    updated_at: dt.datetime
    credential_type: str | None = None
    #: 外配处方: the prescription numbers a pharmacy purchase was dispensed on (comma list)
    prescription_numbers: str = ""
    #: 门诊慢特病 (med_type 14): the disease code the visit is for (None: not a chronic visit)
    disease_code: str | None = None
    #: 外伤无第三方责任承诺 recorded at admission (an injury admission settled directly)
    injury_promise: bool = False

    @property
    def diagnoses(self) -> list[str]:
        return [code for code in self.diagnosis_codes.split(",") if code]


@dataclass(frozen=True, slots=True)
class FeeLineRow:
    """One stored fee line with its split under the treatment catalogue."""

    id: int
    encounter_id: str
    serial: str
    catalog_code: str
    hospital_item_code: str
    name: str
    quantity: Decimal
    unit_price: Decimal
    amount: Money
    occurred_at: dt.datetime
    emergency_pre_admission: bool
    fingerprint: str
    item_class: str
    fee_category: str
    self_pay_rate: Decimal
    price_limit: Decimal | None
    fully_self_paid: Money
    over_limit_self_paid: Money
    upfront_self_paid: Money
    eligible_amount: Money
    cancelled: bool
    settlement_id: str | None
    charge_batch: str | None = None


def fee_line_row(line_id: int, values: dict[str, Any]) -> FeeLineRow:
    """The stored line of ``values`` (the columns an upload writes) and its id: an upload
    answers with what it has just written instead of reading it back."""
    from_fen = Money.from_fen
    price_limit = values.get("price_limit")
    return FeeLineRow(
        id=line_id,
        encounter_id=values["encounter_id"],
        serial=values["serial"],
        catalog_code=values["catalog_code"],
        hospital_item_code=values["hospital_item_code"],
        name=values["name"],
        quantity=Decimal(values["quantity"]),
        unit_price=Decimal(values["unit_price"]),
        amount=from_fen(values["amount_fen"]),
        occurred_at=as_utc(values["occurred_at"]),
        emergency_pre_admission=bool(values["emergency_pre_admission"]),
        fingerprint=values["fingerprint"],
        item_class=values["item_class"],
        fee_category=values["fee_category"],
        self_pay_rate=Decimal(values["self_pay_rate"]),
        price_limit=Decimal(price_limit) if price_limit else None,
        fully_self_paid=from_fen(values["fully_self_paid_fen"]),
        over_limit_self_paid=from_fen(values["over_limit_self_paid_fen"]),
        upfront_self_paid=from_fen(values["upfront_self_paid_fen"]),
        eligible_amount=from_fen(values["eligible_amount_fen"]),
        cancelled=bool(values.get("cancelled", False)),
        settlement_id=values.get("settlement_id"),
        charge_batch=values.get("charge_batch"),
    )


@dataclass(frozen=True, slots=True)
class ClaimLineRow:
    """What a settlement reads of a stored, active fee line: what the claim is built from
    (the stored split is for display; the engine splits the line again)."""

    serial: str
    catalog_code: str
    hospital_item_code: str
    name: str
    quantity: Decimal
    unit_price: Decimal
    amount: Money
    occurred_at: dt.datetime
    emergency_pre_admission: bool


@dataclass(frozen=True, slots=True)
class EncounterContext:
    """A stay with its person and hospital, read together (one statement)."""

    encounter: EncounterRow
    person: Person
    hospital: Hospital


#: Amount columns of ``settlements`` (``<name>_fen``): the money vocabulary and what is owed.
SETTLEMENT_AMOUNT_COLUMNS = STORED_AMOUNT_NAMES


@dataclass(frozen=True, slots=True)
class SettlementRow:
    id: str
    encounter_id: str
    kind: str
    state: str
    reverses_id: str | None
    person_id: int
    insurance_type: str
    year: int
    hospital_code: str
    insured_region_code: str
    treatment_region_code: str
    amounts: dict[str, Money]
    result_json: str
    year_to_date_delta_json: str
    policy_version: str
    catalog_version: str
    msgid: str | None
    settled_at: dt.datetime
    settled_by: str


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class SettlementRecord:
    """A settlement, pre-settlement or reversal as every transport renders it."""

    kind: str  # pre_settle | settle | reversal
    encounter_id: str
    psn_no: str
    person: Person
    insurance_type: str
    med_type: str
    settled_at: dt.datetime
    amounts: dict[str, Money]
    pooled_fund_rate: Decimal
    explanation_zh: list[str]
    explanation_en: list[str]
    lines: list[dict[str, str]]
    policy_version: str
    catalog_version: str
    settlement_id: str | None = None
    reverses_id: str | None = None
    msgid: str | None = None
    state: str | None = None
    year_to_date_after: dict[str, Any] = field(default_factory=dict)
    #: 个人账户余额 after this settlement (None: the person keeps no account)
    account_balance_after: Money | None = None
    #: mdtrt_cert_type of the admission, and the day whose policy applied (discharge day).
    credential_type: str | None = None
    policy_on: dt.date | None = None


# --------------------------------------------------------------------------- result JSON


def result_amounts(result: SettlementResult) -> dict[str, Money]:
    """The stored amounts of a result, by vocabulary name (and what is owed)."""
    amounts = result.amounts()
    amounts[OWED_TO_TREATMENT_REGION.name] = result.fund_paid_total + result.personal_account_paid
    return amounts


def result_json(result: SettlementResult) -> dict[str, Any]:
    """What is kept of a result besides the amount columns: explanation and line breakdown."""
    return {
        "mode": result.mode.value,
        "pooled_fund_rate": str(result.pooled_fund_rate),
        "explanation_zh": result.explanation_zh(),
        "explanation_en": result.explanation_en(),
        "steps": [
            {"key": s.key, "amount": None if s.amount is None else str(s.amount)}
            for s in result.steps
        ],
        "lines": [
            {
                "serial": line.serial,
                "name": line.name,
                "catalog_code": line.catalog_code,
                "item_class": "" if line.item_class is None else line.item_class.value,
                "line_amount": str(line.line_amount),
                "fully_self_paid": str(line.fully_self_paid),
                "over_limit_self_paid": str(line.over_limit_self_paid),
                "upfront_self_paid": str(line.upfront_self_paid),
                "eligible_amount": str(line.eligible_amount),
                "reason_zh": line.reason_zh,
                "reason_en": line.reason_en,
            }
            for line in result.lines
        ],
        "policy_version": result.policy_version,
        "catalog_version": result.catalog_version,
        "year_to_date_after": result.year_to_date_after.as_dict(),
    }


def ytd_from_json(data: dict[str, Any]) -> YearToDate:
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key in ("year", "admissions_count"):
            values[key] = int(value)
        elif key == "counters":
            values[key] = {name: Money(amount) for name, amount in value.items()}
        else:
            values[key] = Money(value)
    return YearToDate(**values)


def settlement_record(
    kind: str,
    encounter: EncounterRow,
    person: Person,
    settled_at: dt.datetime,
    amounts: dict[str, Money],
    data: dict[str, Any],
    *,
    row: SettlementRow | None = None,
) -> SettlementRecord:
    return SettlementRecord(
        kind=kind,
        encounter_id=encounter.id,
        psn_no=person.psn_no,
        person=person,
        insurance_type=encounter.insurance_type,
        med_type=encounter.med_type,
        settled_at=settled_at,
        amounts=amounts,
        pooled_fund_rate=Decimal(data["pooled_fund_rate"]),
        explanation_zh=list(data["explanation_zh"]),
        explanation_en=list(data["explanation_en"]),
        lines=list(data["lines"]),
        policy_version=data["policy_version"],
        catalog_version=data["catalog_version"],
        settlement_id=row.id if row else None,
        reverses_id=row.reverses_id if row else None,
        msgid=row.msgid if row else None,
        state=row.state if row else None,
        year_to_date_after=dict(data.get("year_to_date_after", {})),
        account_balance_after=(
            Money(data["account_balance_after"])
            if data.get("account_balance_after") is not None
            else None
        ),
        credential_type=encounter.credential_type,
        policy_on=local(encounter.discharged_at).date() if encounter.discharged_at else None,
    )
