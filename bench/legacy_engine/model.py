"""The insured region's policy in force on one day (参保地政策), as a frozen domain object.

Built by :mod:`yidi.policy.loader` from dated, cited YAML files. The engine reads only
this object; every number it applies is a field here, with a reference behind it.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from yidi.domain.insurance import (
    UNFILED_KEY,
    AssistanceGroup,
    EncounterType,
    FilingCategory,
    HospitalLevel,
    InsuranceType,
    PersonType,
)
from yidi.domain.money import Money


class SupplementaryKind(enum.StrEnum):
    """Which fund pays above the basic fund."""

    SERIOUS_ILLNESS = "serious_illness"  # 城乡居民大病保险 -> hifmi_pay
    LARGE_EXPENSE = "large_expense"  # 职工大额医疗费用补助 -> hifob_pay

    @property
    def label_zh(self) -> str:
        return "大病保险" if self is SupplementaryKind.SERIOUS_ILLNESS else "大额医疗补助"


class AccountScope(enum.StrEnum):
    """What the personal account (个人账户) may pay."""

    PATIENT_SHARE = "patient_share"  # the whole patient share, self-paid items included
    IN_SCOPE_ONLY = "in_scope_only"  # only 先行自付 and the in-scope patient share


@dataclass(frozen=True, slots=True)
class Reference:
    """Where a value comes from: document and article, and the day it took effect."""

    text: str
    effective_on: dt.date
    illustrative: bool = False


@dataclass(frozen=True, slots=True)
class RateBand:
    """分段: from ``from_amount`` (of the amount payable after the deductible) add ``points``."""

    from_amount: Money
    points: Decimal


@dataclass(frozen=True, slots=True)
class Tier:
    """大病/大额分段: from ``from_amount`` above the supplementary deductible, pay ``rate``."""

    from_amount: Money
    rate: Decimal


@dataclass(frozen=True, slots=True)
class CrossRegionRule:
    """异地就医调整 for one filing category (or unfiled care)."""

    rate_points: Decimal
    direct_settlement: bool


@dataclass(frozen=True, slots=True)
class SupplementaryRule:
    kind: SupplementaryKind
    deductible: Money
    tiers: tuple[Tier, ...]
    annual_cap: Money


@dataclass(frozen=True, slots=True)
class AssistanceRule:
    rate_by_group: Mapping[AssistanceGroup, Decimal]
    annual_cap: Money


@dataclass(frozen=True, slots=True)
class PersonalAccountRule:
    enabled: bool
    scope: AccountScope


@dataclass(frozen=True)
class Policy:
    """Every benefit parameter of one region and insurance type in force on ``on_date``."""

    region_code: str
    region_name: str
    insurance_type: InsuranceType
    on_date: dt.date
    version_hash: str
    illustrative: bool
    deductible_by_level: Mapping[HospitalLevel, Money]
    subsequent_admission_rate: Decimal
    deductible_person_rate: Mapping[PersonType, Decimal]
    rate_by_level: Mapping[HospitalLevel, Decimal]
    person_type_points: Mapping[PersonType, Decimal]
    bands: tuple[RateBand, ...]
    annual_cap: Money
    cross_region: Mapping[str, CrossRegionRule]
    emergency_pre_admission_hours: int
    direct_settlement_encounter_types: frozenset[EncounterType]
    supplementary: SupplementaryRule | None
    medical_assistance: AssistanceRule | None
    personal_account: PersonalAccountRule
    references: Mapping[str, Reference]

    def cross_region_rule(self, category: FilingCategory | None) -> CrossRegionRule:
        key = UNFILED_KEY if category is None else category.value
        return self.cross_region.get(
            key, CrossRegionRule(Decimal(0), direct_settlement=category is not None)
        )

    def cite(self, path: str) -> str:
        """The reference text of a parameter, for explanations (empty if none)."""
        reference = self.references.get(path)
        if reference is None:
            return ""
        return reference.text
