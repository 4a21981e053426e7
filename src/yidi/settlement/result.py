"""What a settlement produces: the amounts (named in :mod:`yidi.settlement.amounts`),
line breakdown, explanation."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from yidi.catalog.model import CatalogItem, ItemClass
from yidi.kernel.insurance import SettlementMode
from yidi.kernel.money import Money
from yidi.settlement.amounts import AMOUNT_NAMES
from yidi.settlement.claims import YearToDate


@dataclass(frozen=True, slots=True)
class LineBreakdown:
    """How one fee line splits into 全自费 / 超限价 / 先行自付 / 符合政策范围, and why.

    The reason texts are built on demand from the catalogue entry, so settling a long
    claim does not format hundreds of sentences nobody reads.
    """

    serial: str
    name: str
    catalog_code: str
    item: CatalogItem | None  # None: not in the treatment region's catalogue that day
    unit_price: Decimal
    line_amount: Money
    fully_self_paid: Money
    over_limit_self_paid: Money
    upfront_self_paid: Money
    eligible_amount: Money
    #: the insured region's item group the line fell in (its share replaced the catalogue's)
    group_name: str = ""

    @property
    def item_class(self) -> ItemClass | None:
        return None if self.item is None else self.item.item_class

    @property
    def reason_zh(self) -> str:
        item = self.item
        if item is None:
            return "不在就医地目录内（或不在有效期内），全自费"
        if item.item_class is ItemClass.C:
            return "丙类项目，全自费"
        parts = [item.item_class.label_zh]
        if item.price_limit is not None and not self.over_limit_self_paid.is_zero():
            parts.append(
                f"单价 {self.unit_price:f} 元超过限价 {item.price_limit} 元，"
                f"超出部分 {self.over_limit_self_paid} 元自费"
            )
        if self.group_name:
            parts.append(f"属参保地项目组“{self.group_name}”")
        if not self.upfront_self_paid.is_zero():
            parts.append(f"先行自付 {_percent(self._upfront_rate)} 即 {self.upfront_self_paid} 元")
        parts.append(f"符合政策范围 {self.eligible_amount} 元")
        return "；".join(parts)

    @property
    def reason_en(self) -> str:
        item = self.item
        if item is None:
            return "not in the treatment region's catalogue on that day: fully self-paid"
        if item.item_class is ItemClass.C:
            return "class C item: fully self-paid"
        parts = [f"class {item.item_class.name}"]
        if item.price_limit is not None and not self.over_limit_self_paid.is_zero():
            parts.append(
                f"unit price {self.unit_price:f} above the limit {item.price_limit}: "
                f"{self.over_limit_self_paid} self-paid"
            )
        if self.group_name:
            parts.append(f"item group {self.group_name}")
        if not self.upfront_self_paid.is_zero():
            parts.append(
                f"upfront self-pay {_percent(self._upfront_rate)} = {self.upfront_self_paid}"
            )
        parts.append(f"eligible {self.eligible_amount}")
        return "; ".join(parts)

    @property
    def _upfront_rate(self) -> Decimal:
        allowed = self.upfront_self_paid.yuan + self.eligible_amount.yuan
        if not self.group_name and self.item is not None:
            return self.item.upfront_self_pay_rate
        return (
            (self.upfront_self_paid.yuan / allowed).quantize(Decimal("0.0001"))
            if allowed
            else Decimal(0)
        )


def _percent(rate: Decimal) -> str:
    return f"{(rate * 100).normalize():f}%"


@dataclass(frozen=True, slots=True)
class ExplanationStep:
    """One step of the calculation in plain words (Chinese first, English beside it)."""

    key: str
    text_zh: str
    text_en: str
    amount: Money | None = None


@dataclass(frozen=True)
class SettlementResult:
    """The outcome of :func:`yidi.settlement.settle`, reproducible from its two hashes."""

    mode: SettlementMode
    total_charges: Money
    fully_self_paid: Money
    over_limit_self_paid: Money
    upfront_self_paid: Money
    eligible_amount: Money
    deductible_applied: Money
    pooled_fund_paid: Money
    serious_illness_paid: Money
    large_expense_paid: Money
    medical_assistance_paid: Money
    fund_paid_total: Money
    patient_share: Money
    personal_account_paid: Money
    cash_paid: Money
    #: The basic fund's share of the amount above the deductible as really paid
    #: (pool_prop_selfpay): pooled / (in-scope − deductible), or the nominal rate when
    #: nothing is above the deductible.
    pooled_fund_rate: Decimal
    lines: tuple[LineBreakdown, ...]
    steps: tuple[ExplanationStep, ...]
    policy_version: str
    catalog_version: str
    year_to_date_delta: YearToDate
    year_to_date_after: YearToDate
    #: the benefit scheme that settled the claim (inpatient, outpatient, chronic, pharmacy)
    scheme: str = "inpatient"

    def amounts(self) -> dict[str, Money]:
        """Every amount under its vocabulary name, in vocabulary order."""
        return {name: getattr(self, name) for name in AMOUNT_NAMES}

    def explanation_zh(self) -> list[str]:
        return [step.text_zh for step in self.steps]

    def explanation_en(self) -> list[str]:
        return [step.text_en for step in self.steps]
