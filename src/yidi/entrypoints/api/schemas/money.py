"""Money payloads of the REST API: one documented field per amount of the money vocabulary.

Field names are the vocabulary's (:mod:`yidi.settlement.amounts`), each described in
Chinese and English from the same list, so ``/openapi.json`` documents every amount.
Amounts are yuan with two decimals (JSON strings, as every ``Decimal`` of this API).
``tests/unit/test_money_vocabulary.py`` checks that these models and the vocabulary agree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from yidi.kernel.money import Money
from yidi.settlement.amounts import FUND_AMOUNTS, amount_named


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


# --------------------------------------------------------------------------- personal account


class AccountMovementOut(BaseModel):
    """个人账户的一笔变动。One movement of a personal account."""

    kind: str = Field(description="类别 credit 划入 / debit 结算支付 / restore 撤销退回 kind")
    kind_zh: str = Field(description="类别（中文）kind in Chinese")
    amount: Decimal = Field(description="金额（元）amount (yuan)")
    balance_after: Decimal = Field(description="变动后余额（元）balance after (yuan)")
    source: str = Field(description="来源 source")
    reference: str = Field(description="凭证号 reference")
    settlement_id: str | None = Field(description="结算ID settlement id")
    occurred_at: str = Field(description="发生时间（ISO 8601）occurred at")


class AccountOut(BaseModel):
    """个人账户余额与变动（身份证号脱敏）。A personal account's balance and movements."""

    psn_no: str = Field(description="人员编号 person number")
    name: str = Field(description="姓名 name")
    id_number_masked: str = Field(description="身份证号（脱敏）ID number, masked")
    insurance_type: str = Field(description="险种 insurance type")
    year: int = Field(description="年度 year")
    balance: Decimal = Field(description="余额（元）balance (yuan)")
    movements: list[AccountMovementOut]


# --------------------------------------------------------------------------- clearing


def _fund(code: str) -> Any:
    """A fund's amount due, described by the vocabulary entry whose ledger code it is."""
    entry = next(a for a in FUND_AMOUNTS if a.fund_code == code)
    return Field(description=f"{entry.fund_label_zh}应付（元）due to {entry.label_en} (yuan)")


class DueByFundOut(BaseModel):
    """按基金的应付金额，键为基金在清算台账中的代码。Amounts due by fund (ledger fund codes)."""

    model_config = ConfigDict(extra="forbid")

    pooled: Decimal = _fund("pooled")
    serious_illness: Decimal = _fund("serious_illness")
    large_expense: Decimal = _fund("large_expense")
    medical_assistance: Decimal = _fund("medical_assistance")


class ClearingLineOut(BaseModel):
    """清算单的一行：一对参保地与就医地。One (insured, treatment) pair of a statement."""

    insured_region_code: str = Field(description="参保地区划 insured region")
    insured_region_name: str
    treatment_region_code: str = Field(description="就医地区划 treatment region")
    treatment_region_name: str
    person_times: int = Field(description="人次（冲正记 -1）person-times")
    due_by_fund: DueByFundOut
    due_total: Decimal = Field(description="应付合计（元）due in total (yuan)")
    prepayment_held: Decimal = Field(description="已拨预付金（元）prepayment held (yuan)")
    prepayment_applied: Decimal = Field(description="本月抵扣预付金（元）prepayment applied")
    adjustment_total: Decimal = Field(
        description="清算调整合计（元，对账差异解决后商定，正数追补、负数扣减）adjustments"
    )
    cleared_total: Decimal = Field(
        description="本月清算合计＝应付合计＋清算调整（元）cleared in total (due + adjustments)"
    )
    balance_to_pay: Decimal = Field(description="应拨付差额（元）balance to pay (yuan)")
    prepayment_remaining: Decimal = Field(description="预付金余额（元）prepayment remaining")


class ClearingAdjustmentOut(BaseModel):
    """清算调整：对账差异解决时商定的金额，计入之后第一个未关账月份，单列一行并说明来源。
    A clearing adjustment agreed in resolving a reconciliation dispute."""

    id: str = Field(description="清算调整ID")
    dispute_id: str = Field(description="对账差异ID")
    clearing_month: str = Field(description="计入的清算月份")
    concerns_month: str = Field(description="差异所属月份")
    insured_region_code: str = Field(description="参保地（本清算单层级）")
    treatment_region_code: str = Field(description="就医地（本清算单层级）")
    hospital_code: str = Field(description="定点医疗机构编号")
    settlement_ids: list[str] = Field(description="所涉结算ID")
    refund: bool = Field(description="退费结算行")
    amount: Decimal = Field(description="调整金额（元）：正数参保地追补，负数扣减")
    agreed: Decimal = Field(description="商定的调整总额（元）")
    decided_by: str = Field(description="决定人")
    decided_role: str = Field(description="决定人角色")
    decided_at: dt.datetime = Field(description="决定时间（UTC）")
    reason: str = Field(description="解决说明")


class ClearingStatementOut(BaseModel):
    """清算单（按省或统筹区）。A month's clearing statement at one level."""

    month: str = Field(description="清算月份 yyyy-MM")
    level: str = Field(description="province 省级 / prefecture 统筹区级")
    person_times: int
    due_total: Decimal = Field(description="应付合计（元，本月结算）due in total (yuan)")
    adjustment_total: Decimal = Field(description="清算调整合计（元）adjustments in total")
    cleared_total: Decimal = Field(
        description="本月清算合计＝应付合计＋清算调整（元）cleared in total"
    )
    balance_to_pay: Decimal = Field(description="应拨付差额合计（元）balance to pay (yuan)")
    lines: list[ClearingLineOut]
    adjustments: list[ClearingAdjustmentOut] = Field(
        description="清算调整（每一项对账差异的解决结果）adjustments, each explained"
    )


class ClearingRunOut(BaseModel):
    """清算运行结果：状态、内容哈希与清算单。A clearing run: status, content hash, statement."""

    status: str = Field(description="open 未关账 / closed 已关账")
    content_hash: str = Field(description="清算单内容 SHA-256 content hash of the statement")
    statement: ClearingStatementOut
