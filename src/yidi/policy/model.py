"""The insured region's policy in force on one day (参保地政策), as a frozen domain object.

Built by :mod:`yidi.policy.loader` from dated, cited YAML files. A policy is a set of
**benefit schemes** (待遇方案), one per encounter kind — 住院, 普通门诊, 门诊慢特病,
定点药店 — and each scheme is an ordered list of **steps**. A step is one named rule
(line split, deductible, pooled fund, 大病/大额, disease limit, assistance, tilt
assistance, personal account) with the parameters in force on the day, each with the
reference it came from. The engine reads only this object.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from yidi.kernel.insurance import (
    UNFILED_KEY,
    AssistanceGroup,
    EncounterType,
    FilingCategory,
    HospitalLevel,
    InsuranceType,
    PersonType,
)
from yidi.kernel.money import Money


class SupplementaryKind(enum.StrEnum):
    """Which fund pays above the basic fund."""

    SERIOUS_ILLNESS = "serious_illness"  # 城乡居民大病保险 -> hifmi_pay
    LARGE_EXPENSE = "large_expense"  # 职工大额医疗费用补助 -> hifob_pay

    @property
    def label_zh(self) -> str:
        return "大病保险" if self is SupplementaryKind.SERIOUS_ILLNESS else "大额医疗补助"

    @property
    def counter(self) -> str:
        """The year-to-date total its annual cap is counted in."""
        return (
            "serious_illness_paid"
            if self is SupplementaryKind.SERIOUS_ILLNESS
            else "large_expense_paid"
        )


class AccountScope(enum.StrEnum):
    """What the personal account (个人账户) may pay."""

    PATIENT_SHARE = "patient_share"  # the whole patient share, self-paid items included
    IN_SCOPE_ONLY = "in_scope_only"  # only 先行自付 and the in-scope patient share


class Rounding(enum.StrEnum):
    """舍入: the unit a region rounds each step's amount to (half up)."""

    FEN = "fen"
    JIAO = "jiao"
    YUAN = "yuan"

    @property
    def quantum(self) -> Decimal:
        return {"fen": Decimal("0.01"), "jiao": Decimal("0.1"), "yuan": Decimal(1)}[self.value]

    @property
    def label_zh(self) -> str:
        return {"fen": "分", "jiao": "角", "yuan": "元"}[self.value]


class SchemeKind(enum.StrEnum):
    """待遇方案: the encounter kinds a region publishes separate benefit rules for."""

    INPATIENT = "inpatient"  # 住院
    OUTPATIENT = "outpatient"  # 普通门诊（门诊统筹）
    CHRONIC = "chronic"  # 门诊慢特病
    PHARMACY = "pharmacy"  # 定点零售药店

    @property
    def label_zh(self) -> str:
        return _SCHEME_ZH[self]

    @property
    def counts_as_admission(self) -> bool:
        """Only an inpatient stay is a 住院 for the admission ordinal of the year."""
        return self is SchemeKind.INPATIENT

    @classmethod
    def for_encounter(cls, encounter: EncounterType) -> SchemeKind:
        return _SCHEME_OF_ENCOUNTER[encounter]


_SCHEME_ZH = {
    SchemeKind.INPATIENT: "住院",
    SchemeKind.OUTPATIENT: "普通门诊",
    SchemeKind.CHRONIC: "门诊慢特病",
    SchemeKind.PHARMACY: "定点药店购药",
}

_SCHEME_OF_ENCOUNTER = {
    EncounterType.INPATIENT: SchemeKind.INPATIENT,
    EncounterType.INJURY_INPATIENT: SchemeKind.INPATIENT,
    EncounterType.EMERGENCY_TO_INPATIENT: SchemeKind.INPATIENT,
    EncounterType.OUTPATIENT: SchemeKind.OUTPATIENT,
    EncounterType.CHRONIC_OUTPATIENT: SchemeKind.CHRONIC,
    EncounterType.PHARMACY: SchemeKind.PHARMACY,
}


class StepKind(enum.StrEnum):
    """The rule kinds a scheme is built from (see docs/policy-files.md)."""

    LINE_SPLIT = "line_split"
    DEDUCTIBLE = "deductible"
    POOLED_FUND = "pooled_fund"
    DISEASE_LIMIT = "disease_limit"
    CHRONIC_DISEASE = "chronic_disease"
    SUPPLEMENTARY = "supplementary"
    MEDICAL_ASSISTANCE = "medical_assistance"
    TILT_ASSISTANCE = "tilt_assistance"
    PERSONAL_ACCOUNT = "personal_account"


class ScaleBase(enum.StrEnum):
    """The amount a pooled-fund scale's thresholds are measured on."""

    ABOVE_DEDUCTIBLE = "above_deductible"  # this claim's in-scope amount above the deductible
    ELIGIBLE = "eligible"  # this claim's in-scope amount (the deductible is its first part)
    YEAR_ELIGIBLE = "year_eligible"  # the year's accumulated in-scope amount, this claim included
    YEAR_ABOVE_DEDUCTIBLE = (
        "year_above_deductible"  # the year's accumulated amount above deductibles
    )

    @property
    def label_zh(self) -> str:
        return {
            "above_deductible": "起付线以上金额",
            "eligible": "政策范围内金额",
            "year_eligible": "年度累计政策范围内金额",
            "year_above_deductible": "年度累计起付线以上金额",
        }[self.value]


class ScaleMode(enum.StrEnum):
    """Marginal (累进: each bracket's rate on the part inside it) or whole (全额: the rate of
    the bracket the base falls in applies to the whole amount), as in OpenFisca scales."""

    MARGINAL = "marginal"
    WHOLE = "whole"


class DeductibleBasis(enum.StrEnum):
    PER_CLAIM = "per_claim"  # each admission / visit pays its own deductible
    PER_YEAR = "per_year"  # one deductible for the year, used up across claims


class SupplementaryStart(enum.StrEnum):
    OWN_DEDUCTIBLE = "own_deductible"  # pays above its own deductible on its base
    BASIC_CAP = "basic_cap"  # pays the in-scope amount the basic fund left after its cap


@dataclass(frozen=True, slots=True)
class Reference:
    """Where a value comes from: document and article, and the day it took effect."""

    text: str
    effective_on: dt.date
    illustrative: bool = False


@dataclass(frozen=True, slots=True)
class Bracket:
    """One bracket of a scale: from ``threshold`` (yuan) on, ``rate`` — or ``points`` added
    to the step's base rate (exactly one of the two)."""

    threshold: Decimal
    rate: Decimal | None = None
    points: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Scale:
    base: ScaleBase
    mode: ScaleMode
    brackets: tuple[Bracket, ...]


@dataclass(frozen=True, slots=True)
class AgeBand:
    """From ``from_age`` full years of age on, add ``points`` to the rate."""

    from_age: int
    points: Decimal


@dataclass(frozen=True, slots=True)
class ItemGroup:
    """An item group the insured region treats specially (e.g. 植入类医用耗材): lines whose
    catalogue code starts with one of ``codes`` get ``upfront_rate`` (先行自付) instead of
    the catalogue's, and/or a per-unit ceiling ``unit_limit`` above which the rest is
    self-paid like an over-price-limit amount."""

    name: str
    codes: tuple[str, ...]
    upfront_rate: Decimal | None = None
    unit_limit: Decimal | None = None


@dataclass(frozen=True)
class StepBase:
    id: str
    description: str
    #: parameter name -> the reference of its value in force
    refs: Mapping[str, Reference]

    def cite(self, *names: str) -> str:
        for name in names:
            reference = self.refs.get(name)
            if reference is not None:
                return reference.text
        return "政策参数"


@dataclass(frozen=True)
class LineSplitStep(StepBase):
    item_groups: tuple[ItemGroup, ...] = ()


@dataclass(frozen=True)
class DeductibleStep(StepBase):
    counter: str
    by_level: Mapping[HospitalLevel, Decimal]
    basis: DeductibleBasis = DeductibleBasis.PER_CLAIM
    #: factor by admission ordinal: index 0 = 1st admission; the last applies to later ones
    ordinal_rate: tuple[Decimal, ...] = (Decimal(1),)
    person_rate: Mapping[PersonType, Decimal] = field(default_factory=dict)
    floor: Decimal | None = None
    annual_cap: Decimal | None = None


@dataclass(frozen=True)
class PooledFundStep(StepBase):
    counter: str
    rate_by_level: Mapping[HospitalLevel, Decimal]
    annual_cap: Decimal
    person_points: Mapping[PersonType, Decimal] = field(default_factory=dict)
    age_bands: tuple[AgeBand, ...] = ()
    scale: Scale | None = None
    entry_cap_per_claim: Decimal | None = None
    entry_cap_per_year: Decimal | None = None
    entry_counter: str = ""
    base_counter: str = ""  # accumulates the scale's year base


@dataclass(frozen=True)
class DiseaseLimitStep(StepBase):
    counter_prefix: str
    annual_limit: Mapping[str, Decimal]
    names: Mapping[str, str] = field(default_factory=dict)


class LimitBasis(enum.StrEnum):
    """What a chronic disease's annual limit (年度限额) counts, as the region's list says."""

    FUND_PAID = "fund_paid"  # 统筹基金年度支付限额: the fund's payments for the disease
    ELIGIBLE = "eligible"  # 年度费用限额: the in-scope expenses the rate is applied to

    @property
    def label_zh(self) -> str:
        return "统筹基金年度支付限额" if self is LimitBasis.FUND_PAID else "年度政策范围内费用限额"


@dataclass(frozen=True, slots=True)
class DiseaseTerms:
    """One disease's terms in force on the day, from the insured region's dated chronic list
    (``policies/<区划>/chronic_diseases.yaml``): its rate, annual limit and deductible."""

    code: str
    name: str
    rate: Decimal
    #: None: the region sets no annual limit for the disease
    annual_limit: Decimal | None
    limit_on: LimitBasis
    deductible: Decimal
    effective_on: dt.date
    reference: str
    illustrative: bool
    #: on the national cross-province list (跨省直接结算病种) that day; a region's own disease
    #: settles directly only within its province
    cross_province: bool = True


@dataclass(frozen=True)
class ChronicDiseaseStep(StepBase):
    """门诊慢特病 per-disease benefit: the terms of the claim's disease from the region's list.

    Year-to-date per (person, disease, year) in the counters ``<prefix>.<code>.*``; the
    scheme's total in ``<prefix>.pooled_fund_paid``. ``shares_outpatient_cap``: the region
    counts chronic payments against the general-outpatient annual cap too (its counter and
    cap filled in from the outpatient scheme's pooled fund step).
    """

    counter_prefix: str
    diseases: Mapping[str, DiseaseTerms]
    list_region: str | None
    shares_outpatient_cap: bool = False
    outpatient_counter: str = ""
    outpatient_cap: Decimal | None = None

    def counter(self, code: str, what: str) -> str:
        return f"{self.counter_prefix}.{code.lower()}.{what}"


@dataclass(frozen=True)
class SupplementaryStep(StepBase):
    fund: SupplementaryKind
    counter: str
    base_counter: str
    tiers: tuple[Bracket, ...]
    annual_cap: Decimal
    start: SupplementaryStart = SupplementaryStart.OWN_DEDUCTIBLE
    deductible: Decimal = Decimal(0)
    mode: ScaleMode = ScaleMode.MARGINAL
    include_upfront: bool = False
    include_deductible: bool = True


@dataclass(frozen=True)
class AssistanceStep(StepBase):
    counter: str
    rate_by_group: Mapping[AssistanceGroup, Decimal]
    annual_cap: Decimal


@dataclass(frozen=True)
class TiltAssistanceStep(StepBase):
    counter: str
    base_counter: str
    groups: frozenset[AssistanceGroup]
    threshold: Decimal
    rate: Decimal
    annual_cap: Decimal


@dataclass(frozen=True)
class PersonalAccountStep(StepBase):
    enabled: bool
    scope: AccountScope
    #: 家庭共济: may a bound relative's account pay under this scheme (same scope)
    family_mutual_aid: bool = False


Step = (
    LineSplitStep
    | DeductibleStep
    | PooledFundStep
    | DiseaseLimitStep
    | ChronicDiseaseStep
    | SupplementaryStep
    | AssistanceStep
    | TiltAssistanceStep
    | PersonalAccountStep
)


@dataclass(frozen=True)
class Scheme:
    """One encounter kind's benefit rules in force on the day: its steps, in order."""

    kind: SchemeKind
    label_zh: str
    description: str
    steps: tuple[Step, ...]

    def step(self, kind: type[Step]) -> Step | None:
        return next((s for s in self.steps if isinstance(s, kind)), None)


@dataclass(frozen=True, slots=True)
class CrossRegionRule:
    """异地就医调整 for one filing category (or unfiled care)."""

    rate_points: Decimal
    direct_settlement: bool
    #: 住院: one deductible and one rate for every hospital level replacing the scheme's
    #: tables for this category (e.g. 转往市域外就医起付标准3000元、支付比例55%)
    inpatient_deductible: Decimal | None = None
    inpatient_rate: Decimal | None = None


@dataclass(frozen=True)
class Policy:
    """Every benefit scheme of one region and insurance type in force on ``on_date``."""

    region_code: str
    region_name: str
    insurance_type: InsuranceType
    on_date: dt.date
    version_hash: str
    illustrative: bool
    rounding: Rounding
    schemes: Mapping[SchemeKind, Scheme]
    cross_region: Mapping[str, CrossRegionRule]
    emergency_pre_admission_hours: int
    #: How many days a fee line uploaded before discharge may lie after the upload time.
    fee_time_future_days: int
    direct_settlement_encounter_types: frozenset[EncounterType]
    references: Mapping[str, Reference]
    #: The region's choices where the national filing rules leave them to the 参保地
    #: (``cross_region.filing.*``: validity, lock periods, promise deadline).
    filing_rules: Mapping[str, object] = field(default_factory=dict)

    def cross_region_rule(self, category: FilingCategory | None) -> CrossRegionRule:
        """The adjustment of ``category`` (``None``: unfiled care); the loader states every one."""
        return self.cross_region[UNFILED_KEY if category is None else category.value]

    def cite(self, path: str) -> str:
        """The reference text of a top-level parameter, for explanations (empty if none)."""
        reference = self.references.get(path)
        if reference is None:
            return ""
        return reference.text

    def scheme_for(self, encounter: EncounterType) -> Scheme | None:
        return self.schemes.get(SchemeKind.for_encounter(encounter))

    @property
    def annual_cap(self) -> Money | None:
        """The inpatient pooled fund's annual cap (统筹基金年度最高支付限额), if any."""
        scheme = self.schemes.get(SchemeKind.INPATIENT)
        step = None if scheme is None else scheme.step(PooledFundStep)
        return Money(step.annual_cap) if isinstance(step, PooledFundStep) else None
