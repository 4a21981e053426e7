"""Money payloads of the REST API: one documented field per amount of the money vocabulary.

Field names are the vocabulary's (:mod:`yidi.settlement.amounts`), each described in
Chinese and English from the same list, so ``/openapi.json`` documents every amount.
Amounts are yuan with two decimals (JSON strings, as every ``Decimal`` of this API).
``tests/unit/test_money_vocabulary.py`` checks that these models and the vocabulary agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from yidi.kernel.money import Money
from yidi.settlement.amounts import amount_named


def _amount(name: str) -> Any:
    """A required amount field, described by its vocabulary entry."""
    entry = amount_named(name)
    return Field(description=f"{entry.label_zh}（元）{entry.label_en} (yuan)")


class SettlementAmountsOut(BaseModel):
    """结算金额：每项金额一个字段（元）。The amounts of one settlement, in yuan."""

    model_config = ConfigDict(extra="forbid")

    total_charges: Decimal = _amount("total_charges")
    fully_self_paid: Decimal = _amount("fully_self_paid")
    over_limit_self_paid: Decimal = _amount("over_limit_self_paid")
    upfront_self_paid: Decimal = _amount("upfront_self_paid")
    eligible_amount: Decimal = _amount("eligible_amount")
    deductible_applied: Decimal = _amount("deductible_applied")
    pooled_fund_paid: Decimal = _amount("pooled_fund_paid")
    serious_illness_paid: Decimal = _amount("serious_illness_paid")
    large_expense_paid: Decimal = _amount("large_expense_paid")
    medical_assistance_paid: Decimal = _amount("medical_assistance_paid")
    fund_paid_total: Decimal = _amount("fund_paid_total")
    patient_share: Decimal = _amount("patient_share")
    personal_account_paid: Decimal = _amount("personal_account_paid")
    cash_paid: Decimal = _amount("cash_paid")
    owed_to_treatment_region: Decimal = _amount("owed_to_treatment_region")

    @classmethod
    def of(cls, amounts: Mapping[str, Money]) -> SettlementAmountsOut:
        return cls.model_validate({name: amount.yuan for name, amount in amounts.items()})


class SettlementLineOut(BaseModel):
    """一条费用明细的结算拆分及理由。How one fee line split, and why."""

    serial: str = Field(description="费用明细流水号 fee line serial")
    name: str = Field(default="", description="项目名称 item name")
    catalog_code: str = Field(default="", description="医疗目录编码 catalogue code")
    item_class: str = Field(
        default="", description="收费项目等级 01 甲类、02 乙类、03 丙类 item class"
    )
    line_amount: Decimal = Field(description="明细金额（元）line amount (yuan)")
    fully_self_paid: Decimal = _amount("fully_self_paid")
    over_limit_self_paid: Decimal = _amount("over_limit_self_paid")
    upfront_self_paid: Decimal = _amount("upfront_self_paid")
    eligible_amount: Decimal = _amount("eligible_amount")
    reason_zh: str = Field(default="", description="拆分理由 reason (Chinese)")
    reason_en: str = Field(default="", description="reason (English)")
