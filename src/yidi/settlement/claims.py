"""Claims (结算申请): an encounter's fee lines (费用明细), the person's year-to-date totals.

A :class:`Claim` carries what the hospital knows at discharge. The catalogue lookup of each
line is a separate step (:func:`resolve_fee_lines`) against the **treatment** region's
catalogue, so the engine receives both halves explicitly and cannot mix them up.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal
from types import MappingProxyType

from yidi.catalog.model import CatalogItem, CatalogVersion
from yidi.kernel.errors import InvalidInput
from yidi.kernel.insurance import (
    AssistanceGroup,
    EncounterType,
    FilingCategory,
    HospitalLevel,
    InsuranceType,
    PersonType,
)
from yidi.kernel.money import Money


def emergency_window_opens(admitted_at: dt.datetime, hours: int) -> dt.datetime:
    """急诊抢救72小时内转住院 (the national rule, ``data/national/settlement_rules.yaml``): emergency
    care joins the inpatient settlement when it started at most ``hours`` before the
    admission instant. The one definition of the window, for the admission check and the
    engine alike."""
    return admitted_at - dt.timedelta(hours=hours)


@dataclass(frozen=True, slots=True)
class FeeLine:
    """费用明细: one charged item of the encounter (national 2301 ``feedetail``)."""

    serial: str  # feedetl_sn, unique within the encounter
    catalog_code: str  # med_list_codg, the national code
    hospital_item_code: str  # medins_list_codg
    name: str
    quantity: Decimal
    unit_price: Decimal  # up to six decimals, as the interface allows
    line_amount: Money  # det_item_fee_sumamt
    occurred_at: dt.datetime
    #: 急诊抢救72小时内转住院: the emergency care that led to this admission.
    is_emergency_pre_admission: bool = False

    def __post_init__(self) -> None:
        if self.line_amount.is_negative() or self.quantity < 0 or self.unit_price < 0:
            raise InvalidInput(
                "FEE_LINE_NEGATIVE",
                f"费用明细 {self.serial} 的数量、单价或金额为负数",
                f"fee line {self.serial} has a negative quantity, price or amount",
                field="fee_lines",
            )


@dataclass(frozen=True)
class Claim:
    """One encounter to settle: who, where, what kind of care, and the fee lines."""

    insured_region: str  # 参保地 (pooling region code)
    treatment_region: str  # 就医地
    insurance_type: InsuranceType
    person_type: PersonType
    hospital_level: HospitalLevel
    filing_category: FilingCategory | None  # None: no filing (未备案)
    admitted_on: dt.date
    discharged_on: dt.date
    encounter_type: EncounterType
    fee_lines: tuple[FeeLine, ...]
    assistance_group: AssistanceGroup | None = None  # 医疗救助对象
    use_personal_account: bool = False  # acct_used_flag
    personal_account_balance: Money = field(default_factory=Money.zero)
    #: acct_used_flag 2 (家庭共济): the balance is a bound relative's account, which pays
    #: only where the scheme allows family payment
    personal_account_family: bool = False
    #: 出生日期, for age bands (age in full years on the admission / visit date)
    birth_date: dt.date | None = None
    #: 门诊慢特病 disease code of the insured region's list (chronic outpatient claims)
    disease_code: str | None = None
    #: 入院时间 (China time, naive) when known; a claim that gives only the admission day is
    #: taken as admitted at the start of that day (:attr:`admission_instant`).
    admitted_at: dt.datetime | None = None

    def __post_init__(self) -> None:
        if self.birth_date is not None and self.birth_date > self.admitted_on:
            raise InvalidInput(
                "CLAIM_BIRTH_DATE_INVALID",
                "出生日期晚于就诊日期",
                "birth date is after the date of service",
                field="birth_date",
            )
        if self.discharged_on < self.admitted_on:
            raise InvalidInput(
                "CLAIM_DISCHARGE_BEFORE_ADMISSION",
                "出院日期早于入院日期",
                "discharge date is before admission date",
                field="discharged_on",
            )
        if self.person_type.insurance_type is not self.insurance_type:
            raise InvalidInput(
                "CLAIM_PERSON_TYPE_MISMATCH",
                f"人员类别“{self.person_type.label_zh}”与险种“{self.insurance_type.label_zh}”不符",
                "person type does not belong to the insurance type",
                field="person_type",
            )
        serials = [line.serial for line in self.fee_lines]
        if len(set(serials)) != len(serials):
            raise InvalidInput(
                "CLAIM_DUPLICATE_FEE_SERIAL",
                "费用明细流水号重复",
                "fee line serial numbers must be unique within a claim",
                field="fee_lines",
            )

    @property
    def admission_instant(self) -> dt.datetime:
        """The instant the emergency window is measured back from (naive China time)."""
        if self.admitted_at is not None:
            return self.admitted_at.replace(tzinfo=None)
        return dt.datetime.combine(self.admitted_on, dt.time())

    def age_on(self, day: dt.date) -> int | None:
        """Age in full years on ``day`` (周岁), or None without a birth date."""
        born = self.birth_date
        if born is None:
            return None
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))

    @property
    def settlement_year(self) -> int:
        """Year-to-date totals belong to the year of discharge (settlement)."""
        return self.discharged_on.year

    def with_fee_lines(self, fee_lines: tuple[FeeLine, ...]) -> Claim:
        return replace(self, fee_lines=fee_lines)


@dataclass(frozen=True)
class ResolvedFeeLines:
    """Each fee line's catalogue entry from the **treatment** region's catalogue (or None)."""

    treatment_region: str
    catalog_version_hash: str
    items_by_serial: Mapping[str, CatalogItem | None]

    def __post_init__(self) -> None:
        object.__setattr__(self, "items_by_serial", MappingProxyType(dict(self.items_by_serial)))


def resolve_fee_lines(claim: Claim, catalog: CatalogVersion) -> ResolvedFeeLines:
    """Look every fee line up in the treatment region's catalogue as of the day it occurred."""
    if catalog.treatment_region != claim.treatment_region:
        raise InvalidInput(
            "CATALOG_WRONG_REGION",
            f"目录属于 {catalog.treatment_region}，但就医地是 {claim.treatment_region}（应执行就医地目录）",
            "the catalogue must be the treatment region's",
            field="treatment_region",
        )
    return ResolvedFeeLines(
        treatment_region=catalog.treatment_region,
        catalog_version_hash=catalog.content_hash,
        items_by_serial={
            line.serial: catalog.lookup(line.catalog_code, line.occurred_at.date())
            for line in claim.fee_lines
        },
    )


@dataclass(frozen=True, slots=True)
class YearToDate:
    """The person's totals so far in one calendar year (年度累计), per insurance type."""

    year: int
    admissions_count: int = 0
    deductible_used: Money = field(default_factory=Money.zero)
    pooled_fund_paid: Money = field(default_factory=Money.zero)  # 统筹基金
    serious_illness_paid: Money = field(default_factory=Money.zero)  # 大病保险
    large_expense_paid: Money = field(default_factory=Money.zero)  # 职工大额医疗补助
    assistance_paid: Money = field(default_factory=Money.zero)  # 医疗救助
    #: 合规自付累计: in-scope amount left to the patient after the basic fund, the base
    #: of 大病保险 / 大额补助.
    eligible_amount_accumulated: Money = field(default_factory=Money.zero)
    #: Further totals named by the policy's steps (outpatient deductible and fund, each
    #: 门诊慢特病 disease's fund payments, scale bases, tilt assistance …); absent = 0.00.
    counters: Mapping[str, Money] = field(default_factory=lambda: _NO_COUNTERS)

    def __post_init__(self) -> None:
        counters = self.counters
        if counters and (
            not isinstance(counters, MappingProxyType)
            or any(v.is_zero() for v in counters.values())
        ):
            object.__setattr__(
                self,
                "counters",
                MappingProxyType(
                    {
                        name: amount
                        for name, amount in sorted(counters.items())
                        if not amount.is_zero()
                    }
                ),
            )

    @classmethod
    def empty(cls, year: int) -> YearToDate:
        return cls(year=year)

    def plus(self, delta: YearToDate) -> YearToDate:
        return self._combine(delta, 1)

    def minus(self, delta: YearToDate) -> YearToDate:
        """Undo ``delta`` (a reversal, 结算撤销); refuses to go below zero."""
        result = self._combine(delta, -1)
        for name, amount in result.counters.items():
            if amount.is_negative():
                raise InvalidInput(
                    "YEAR_TO_DATE_NEGATIVE",
                    "撤销后年度累计为负数，撤销的结算不属于该累计",
                    "reversal would make a year-to-date total negative",
                    field=name,
                )
        for f in fields(result):
            value = getattr(result, f.name)
            if (isinstance(value, Money) and value.is_negative()) or (
                f.name == "admissions_count" and value < 0
            ):
                raise InvalidInput(
                    "YEAR_TO_DATE_NEGATIVE",
                    "撤销后年度累计为负数，撤销的结算不属于该累计",
                    "reversal would make a year-to-date total negative",
                    field=f.name,
                )
        return result

    def _combine(self, delta: YearToDate, sign: int) -> YearToDate:
        if delta.year != self.year:
            raise InvalidInput(
                "YEAR_TO_DATE_WRONG_YEAR",
                f"年度不一致：{self.year} 与 {delta.year}",
                "year-to-date totals of different years cannot be combined",
                field="year",
            )
        values: dict[str, object] = {"year": self.year}
        for name in _SUMMED_FIELDS:
            mine, theirs = getattr(self, name), getattr(delta, name)
            if theirs == 0 if isinstance(theirs, int) else theirs.is_zero():
                values[name] = mine  # nothing to add: most totals of most claims
            else:
                values[name] = mine + theirs if sign > 0 else mine - theirs
        if self.counters or delta.counters:
            counters = dict(self.counters)
            zero = Money.zero()
            for name, amount in delta.counters.items():
                mine = counters.get(name, zero)
                counters[name] = mine + amount if sign > 0 else mine - amount
            values["counters"] = MappingProxyType(
                {name: amount for name, amount in sorted(counters.items()) if not amount.is_zero()}
            )
        return YearToDate(**values)  # type: ignore[arg-type]

    def counter(self, name: str) -> Money:
        """A total by name: a field above (``pooled_fund_paid``) or a named counter."""
        if name in _MONEY_FIELDS:
            value: Money = getattr(self, name)
            return value
        return self.counters.get(name, _ZERO)

    def as_dict(self) -> dict[str, object]:
        """Plain values; ``counters`` only when there are any (keeps old records unchanged)."""
        out: dict[str, object] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "counters":
                if value:
                    out["counters"] = {name: str(amount) for name, amount in value.items()}
                continue
            out[f.name] = value if isinstance(value, int) else str(value)
        return out


_NO_COUNTERS: Mapping[str, Money] = MappingProxyType({})
_SUMMED_FIELDS = tuple(f.name for f in fields(YearToDate) if f.name not in ("year", "counters"))
_ZERO = Money.zero()
_MONEY_FIELDS = frozenset(
    f.name for f in fields(YearToDate) if f.name not in ("year", "admissions_count", "counters")
)
