"""Request and response bodies of the 对账差异 (reconciliation dispute) API.

Amounts are yuan with two decimals (JSON strings, as every ``Decimal`` of this API), named as
the money vocabulary names them (``total_charges``, ``fund_paid_total``,
``personal_account_paid``); a refund line's amounts are negative.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from yidi.kernel.money import Money
from yidi.reconciliation.commands import RaiseRequest, Step
from yidi.reconciliation.model import (
    Dispute,
    DisputeAction,
    DisputeEvent,
    LineAmounts,
    Outcome,
    Side,
    allowed_actions,
)


class LineAmountsBody(BaseModel):
    """一方记录的一笔结算（退费为负数）。One side's amounts of a settlement line."""

    model_config = ConfigDict(extra="forbid")

    total_charges: Decimal = Field(
        max_digits=14, decimal_places=2, description="医疗费总额（元）total charges"
    )
    fund_paid_total: Decimal = Field(
        max_digits=14, decimal_places=2, description="基金支付总额（元）funds paid"
    )
    personal_account_paid: Decimal = Field(
        default=Decimal("0.00"),
        max_digits=14,
        decimal_places=2,
        description="个人账户支出（元）personal account",
    )

    def to_amounts(self) -> LineAmounts:
        return LineAmounts(
            Money(self.total_charges),
            Money(self.fund_paid_total),
            Money(self.personal_account_paid),
        )


class RaiseFromStatement(BaseModel):
    """从 3202 明细对账的一处差异提出：结算ID、是否退费，以及医疗机构一侧的金额（没有这笔记录时为
    null）。中心一侧的金额由 yidi 读取，两侧一致时拒绝。Raise the 3202 difference of one line."""

    model_config = ConfigDict(extra="forbid")

    hospital_code: str | None = Field(
        default=None,
        max_length=30,
        description="定点医疗机构编号（医院收费员不填，即本院）hospital (centre side only)",
    )
    settlement_id: str = Field(min_length=1, max_length=32, description="结算ID setl_id")
    refund: bool = Field(default=False, description="退费结算（冲销）行 refd_setl_flag = 1")
    institution: LineAmountsBody | None = Field(
        description="医疗机构记录的金额；null：医疗机构没有这一笔 the hospital's amounts"
    )
    month: str = Field(
        default="",
        max_length=7,
        description="清算月份 yyyy-MM；中心有这一笔时取其结算月份，否则必填 clearing month",
    )
    text: str = Field(default="", max_length=400, description="说明（可空）explanation")

    def to_request(self) -> RaiseRequest:
        return RaiseRequest(
            hospital_code=self.hospital_code,
            month=self.month,
            text=self.text,
            settlement_id=self.settlement_id,
            refund=self.refund,
            from_statement=True,
            institution=self.institution.to_amounts() if self.institution else None,
        )


class RaiseByHand(BaseModel):
    """手工提出差异（不是 3202 的一处差异）：关于一笔结算，或关于整个月份。Raise by hand."""

    model_config = ConfigDict(extra="forbid")

    hospital_code: str | None = Field(
        default=None, max_length=30, description="定点医疗机构编号（医院收费员不填）hospital"
    )
    month: str = Field(min_length=7, max_length=7, description="清算月份 yyyy-MM month")
    settlement_id: str | None = Field(
        default=None, max_length=32, description="结算ID（可空）settlement, if any"
    )
    refund: bool = Field(default=False, description="退费结算行 refund line")
    text: str = Field(min_length=2, max_length=400, description="说明 explanation")

    def to_request(self) -> RaiseRequest:
        return RaiseRequest(
            hospital_code=self.hospital_code,
            month=self.month,
            text=self.text,
            settlement_id=self.settlement_id,
            refund=self.refund,
        )


class AnswerBody(BaseModel):
    """答复（由未提出的一方）：说明，可附更正后的医疗费总额。Answer (the other party)."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=2, max_length=400, description="答复 answer")
    corrected_total: Decimal | None = Field(
        default=None,
        max_digits=14,
        decimal_places=2,
        description="更正后的医疗费总额（元，可空）corrected total",
    )

    def to_step(self) -> Step:
        amount = None if self.corrected_total is None else Money(self.corrected_total)
        return Step(DisputeAction.ANSWER, self.text, amount)


class ResolveBody(BaseModel):
    """解决（经办机构或清算中心）：accepted 接受、adjusted 调整（须给调整后的医疗费总额）、
    rejected 驳回。Resolve (the centre side)."""

    model_config = ConfigDict(extra="forbid")

    outcome: Literal["accepted", "adjusted", "rejected"] = Field(description="处理结果 outcome")
    text: str = Field(min_length=2, max_length=400, description="说明 explanation")
    adjusted_total: Decimal | None = Field(
        default=None,
        max_digits=14,
        decimal_places=2,
        description="调整后的医疗费总额（元；仅 adjusted）agreed total",
    )

    clearing_adjustment: Decimal | None = Field(
        default=None,
        max_digits=14,
        decimal_places=2,
        description="清算调整（元，可空；仅 accepted / adjusted）：正数为参保地向就医地追补，负数为扣减；"
        "计入该月之后第一个未关账月份的清算单。clearing adjustment: + the insured region pays "
        "the treatment region more, − less; carried by the next open month's clearing",
    )

    def to_step(self) -> Step:
        amount = None if self.adjusted_total is None else Money(self.adjusted_total)
        adjustment = None if self.clearing_adjustment is None else Money(self.clearing_adjustment)
        return Step(DisputeAction.RESOLVE, self.text, amount, Outcome(self.outcome), adjustment)


class ReopenBody(BaseModel):
    """重新提出（任一方）：答复或处理结果不能解决差异时。Re-open (either party)."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=2, max_length=400, description="理由 reason")

    def to_step(self) -> Step:
        return Step(DisputeAction.REOPEN, self.text)


class LineAmountsOut(BaseModel):
    total_charges: Decimal = Field(description="医疗费总额（元）")
    fund_paid_total: Decimal = Field(description="基金支付总额（元）")
    personal_account_paid: Decimal = Field(description="个人账户支出（元）")


class DisputeEventOut(BaseModel):
    action: str = Field(description="raise 提出 / answer 答复 / resolve 解决 / reopen 重新提出")
    action_label: str = Field(description="步骤（中文）")
    from_state: str | None = Field(description="原状态")
    to_state: str = Field(description="新状态")
    side: str = Field(description="hospital 医疗机构 / centre 经办机构或清算中心")
    actor: str = Field(description="操作人")
    actor_role: str = Field(description="操作人角色")
    at: dt.datetime = Field(description="时间（UTC；网页显示北京时间）")
    text: str = Field(description="说明")
    amount: Decimal | None = Field(description="金额（答复的更正额或调整额，元）")
    outcome: str | None = Field(description="处理结果")
    clearing_adjustment: Decimal | None = Field(
        default=None, description="解决时商定的清算调整（元，正数追补、负数扣减）"
    )


class ClearingAdjustmentOut(BaseModel):
    """差异的一笔清算调整：计入哪个月份的清算、金额、谁何时决定。"""

    adjustment_id: str = Field(description="清算调整ID")
    clearing_month: str = Field(description="计入的清算月份 yyyy-MM")
    amount: Decimal = Field(description="本笔调整（元，正数追补、负数扣减）")
    agreed: Decimal = Field(description="当时商定的调整总额（元）")
    insured_region_code: str = Field(description="参保地区划")
    treatment_region_code: str = Field(description="就医地区划")
    decided_by: str = Field(description="决定人")
    decided_at: dt.datetime = Field(description="决定时间")


class DisputeSummaryOut(BaseModel):
    dispute_id: str = Field(description="差异ID")
    hospital_code: str = Field(description="定点医疗机构编号")
    treatment_region_code: str = Field(description="就医地区划")
    insured_region_code: str | None = Field(description="参保地区划（中心没有这一笔时为空）")
    month: str = Field(description="清算月份 yyyy-MM")
    kind: str = Field(description="centre_only / institution_only / amount / manual")
    kind_label: str = Field(description="差异类型（中文）")
    settlement_id: str | None = Field(description="结算ID")
    refund: bool = Field(description="退费结算行")
    raised_by: str = Field(description="提出方 hospital / centre")
    state: str = Field(description="raised 已提出 / answered 已答复 / resolved 已解决")
    state_label: str = Field(description="状态（中文）")
    outcome: str | None = Field(description="处理结果 accepted / adjusted / rejected")
    raised_at: dt.datetime = Field(description="提出时间")
    updated_at: dt.datetime = Field(description="最后一步的时间")


class DisputeOut(DisputeSummaryOut):
    """One dispute with both sides' amounts, its history and what the caller may do next."""

    centre: LineAmountsOut | None = Field(description="中心记录的金额")
    institution: LineAmountsOut | None = Field(description="医疗机构记录的金额")
    adjusted_total: Decimal | None = Field(description="调整后的医疗费总额（元）")
    clearing_adjustment: Decimal | None = Field(
        default=None, description="现行解决商定的清算调整（元，正数追补、负数扣减）"
    )
    clearing_adjustments: list[ClearingAdjustmentOut] = Field(
        default_factory=list, description="已计入清算的调整（未撤回的）"
    )
    events: list[DisputeEventOut] = Field(description="全部步骤，按时间顺序")
    next_actions: list[str] = Field(description="调用者下一步可执行的操作")
    created: bool = Field(default=False, description="本次请求新建（false：已有或重试）")


class DisputePageOut(BaseModel):
    total: int
    items: list[DisputeSummaryOut]


def _amounts(amounts: LineAmounts | None) -> LineAmountsOut | None:
    if amounts is None:
        return None
    return LineAmountsOut(
        total_charges=amounts.total.yuan,
        fund_paid_total=amounts.fund.yuan,
        personal_account_paid=amounts.account.yuan,
    )


def _event(event: DisputeEvent) -> DisputeEventOut:
    return DisputeEventOut(
        action=event.action.value,
        action_label=event.action.verb_zh,
        from_state=event.from_state.value if event.from_state else None,
        to_state=event.to_state.value,
        side=event.side.value,
        actor=event.actor_id,
        actor_role=event.actor_role,
        at=event.at,
        text=event.text,
        amount=None if event.amount is None else event.amount.yuan,
        outcome=event.outcome.value if event.outcome else None,
        clearing_adjustment=None if event.adjustment is None else event.adjustment.yuan,
    )


def _summary_fields(d: Dispute) -> dict[str, object]:
    return {
        "dispute_id": d.id,
        "hospital_code": d.hospital_code,
        "treatment_region_code": d.treatment_region_code,
        "insured_region_code": d.insured_region_code,
        "month": d.month,
        "kind": d.kind.value,
        "kind_label": d.kind.label_zh,
        "settlement_id": d.settlement_id,
        "refund": d.refund,
        "raised_by": d.raised_by.value,
        "state": d.state.value,
        "state_label": d.state.label_zh,
        "outcome": d.outcome.value if d.outcome else None,
        "raised_at": d.raised.at,
        "updated_at": d.last.at,
    }


def summary_out(d: Dispute) -> DisputeSummaryOut:
    return DisputeSummaryOut.model_validate(_summary_fields(d))


def dispute_out(d: Dispute, side: Side, *, created: bool = False) -> DisputeOut:
    return DisputeOut.model_validate(
        {
            **_summary_fields(d),
            "centre": _amounts(d.centre),
            "institution": _amounts(d.institution),
            "adjusted_total": None if d.settled_amount is None else d.settled_amount.yuan,
            "clearing_adjustment": (
                None if d.clearing_adjustment is None else d.clearing_adjustment.yuan
            ),
            "clearing_adjustments": [
                ClearingAdjustmentOut(
                    adjustment_id=a.id,
                    clearing_month=a.clearing_month,
                    amount=a.amount.yuan,
                    agreed=a.agreed.yuan,
                    insured_region_code=a.insured_region_code,
                    treatment_region_code=a.treatment_region_code,
                    decided_by=a.decided_by,
                    decided_at=a.decided_at,
                )
                for a in d.carried
            ],
            "events": [_event(e) for e in d.events],
            "next_actions": [a.value for a in allowed_actions(d, side)],
            "created": created,
        }
    )
