"""Render yidi results (English names, Money) as national outputs (national names).

The services behind the gateway compute with :class:`~yidi.kernel.money.Money` and the
money vocabulary's names (:mod:`yidi.settlement.amounts`); these views are the small,
explicit shape the gateway needs from them, and :mod:`yidi.integrations.nhsa.fields`
turns their amounts into national fields.
The settlement builder checks the amount identities a real Chongqing 2304 reply
satisfies (NHSA-INTERFACE.md §4.8, OH sample) and refuses to render a result that
breaks them: a reply that does not add up is worse than an error.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from yidi.integrations.nhsa.codes import ChrgitmLv, ClrType, FundPayType, MedChrgitmType
from yidi.integrations.nhsa.fields import (
    FEE_LINE_FIELDS,
    POOLED_FUND_RATE_FIELD,
    UNPAID_SETLINFO_FIELDS,
    to_national,
)
from yidi.integrations.nhsa.transactions import (
    FeeLineResult,
    FundPaymentRow,
    Output2301,
    Output2303,
    Output2304,
    Output2305,
    PreSettlementInfo,
    ReversalInfo,
    SettlementInfo,
)
from yidi.kernel.money import Money, money_sum
from yidi.settlement.amounts import FUND_AMOUNTS


@dataclass(frozen=True, slots=True)
class FeeLineSplit:
    """How one uploaded fee line (费用明细) splits under the treatment region's catalogue."""

    line_serial: str
    line_amount: Money
    quantity: Decimal
    unit_price: Decimal
    self_pay_rate: Decimal
    #: the four parts of the line (money vocabulary names)
    fully_self_paid: Money
    over_limit_self_paid: Money
    upfront_self_paid: Money
    eligible_amount: Money
    item_class: ChrgitmLv
    fee_category: MedChrgitmType
    price_ceiling: Decimal | None = None
    restricted_use: bool = False
    note: str | None = None


def fee_line_result(line: FeeLineSplit) -> FeeLineResult:
    parts = {field: getattr(line, name).yuan for name, field in FEE_LINE_FIELDS.items()}
    return FeeLineResult.model_validate(
        {
            "feedetl_sn": line.line_serial,
            "det_item_fee_sumamt": line.line_amount.yuan,
            "cnt": line.quantity,
            "pric": line.unit_price,
            "pric_uplmt_amt": line.price_ceiling,
            "selfpay_prop": line.self_pay_rate,
            **parts,
            "chrgitm_lv": line.item_class.value,
            "med_chrgitm_type": line.fee_category.value,
            "lmt_used_flag": "1" if line.restricted_use else "0",
            "memo": line.note,
        }
    )


def output_2301(lines: Sequence[FeeLineSplit]) -> Output2301:
    return Output2301(result=[fee_line_result(line) for line in lines])


@dataclass(frozen=True, slots=True)
class FundPayment:
    """One fund's share of a settlement (setldetail row)."""

    fund: FundPayType
    paid_amount: Money
    in_policy_amount: Money
    payable_limit_amount: Money | None = None
    process_info: str | None = None


#: setldetail rows that are not fund money (account and hospital advance; OH samples).
_NOT_IN_FUND_TOTAL = frozenset(
    {FundPayType.EMPLOYEE_PERSONAL_ACCOUNT, FundPayType.HOSPITAL_ADVANCE}
)


@dataclass(frozen=True, slots=True)
class SettlementView:
    """A settlement (结算) or pre-settlement as the gateway renders it."""

    visit_id: str
    person_no: str
    insurance_type: str
    medical_type: str
    #: every amount of the money vocabulary, by its name (``total_charges`` …)
    amounts: Mapping[str, Money]
    settled_at: dt.datetime
    funds: Sequence[FundPayment] = field(default_factory=tuple)
    settlement_id: str | None = None
    institution_settlement_id: str | None = None
    #: setlinfo amounts yidi never pays (UNPAID_SETLINFO_FIELDS, by national name): 0.00
    #: unless given, e.g. a hospital's share in a sample reply
    unpaid_amounts: Mapping[str, Money] = field(default_factory=dict)
    account_balance_amount: Money | None = None
    pooled_fund_rate: Decimal | None = None
    person_name: str | None = None
    person_cert_type: str | None = None
    person_cert_no: str | None = None
    gender: str | None = None
    ethnicity: str | None = None
    birth_on: dt.date | None = None
    age: Decimal | None = None
    person_type: str | None = None
    civil_servant: bool = False
    credential_type: str | None = None
    clearing_agency: str | None = None
    clearing_way: str | None = None
    clearing_type: str = ClrType.INPATIENT.value

    def unpaid(self, national_field: str) -> Money:
        return self.unpaid_amounts.get(national_field, Money.zero())

    def check_identities(self) -> None:
        """Raise ValueError unless the amounts add up as real replies do (§4.8)."""
        a = self.amounts
        named_funds = money_sum(
            [a[fund.name] for fund in FUND_AMOUNTS]
            + [self.unpaid(name) for name in ("cvlserv_pay", "hifes_pay", "oth_pay")]
        )
        checks = {
            "medfee_sumamt = fund_pay_sumamt + psn_part_amt + hosp_part_amt": a["total_charges"]
            == a["fund_paid_total"] + a["patient_share"] + self.unpaid("hosp_part_amt"),
            "psn_part_amt = acct_pay + psn_cash_pay": a["patient_share"]
            == a["personal_account_paid"] + a["cash_paid"],
            "fund_pay_sumamt = sum of named funds": a["fund_paid_total"] == named_funds,
            "medfee_sumamt = fulamt_ownpay + overlmt_selfpay + preselfpay + inscp_scp": (
                a["total_charges"]
                == a["fully_self_paid"]
                + a["over_limit_self_paid"]
                + a["upfront_self_paid"]
                + a["eligible_amount"]
            ),
        }
        fund_rows = [f.paid_amount for f in self.funds if f.fund not in _NOT_IN_FUND_TOTAL]
        if self.funds:
            checks["fund_pay_sumamt = sum of setldetail fund rows"] = (
                money_sum(fund_rows) == a["fund_paid_total"]
            )
        broken = [name for name, holds in checks.items() if not holds]
        if broken:
            raise ValueError("settlement amounts do not add up: " + "; ".join(broken))


def _amounts(view: SettlementView) -> dict[str, Any]:
    # The field order of the reply is the order of the transaction models, not of this dict.
    return {
        **{field: view.unpaid(field).yuan for field in UNPAID_SETLINFO_FIELDS},
        **{field: amount.yuan for field, amount in to_national(view.amounts).items()},
        POOLED_FUND_RATE_FIELD: view.pooled_fund_rate,
        "balc": (
            view.account_balance_amount.yuan if view.account_balance_amount is not None else None
        ),
        "medins_setl_id": view.institution_settlement_id,
        "clr_optins": view.clearing_agency,
        "clr_way": view.clearing_way,
        "clr_type": view.clearing_type,
        "mdtrt_id": view.visit_id,
        "setl_time": view.settled_at.replace(tzinfo=None),
    }


def _person(view: SettlementView) -> dict[str, Any]:
    return {
        "psn_no": view.person_no,
        "psn_name": view.person_name,
        "psn_cert_type": view.person_cert_type,
        "certno": view.person_cert_no,
        "gend": view.gender,
        "naty": view.ethnicity,
        "brdy": view.birth_on,
        "age": view.age,
        "insutype": view.insurance_type,
        "psn_type": view.person_type,
        "cvlserv_flag": "1" if view.civil_servant else "0",
        "mdtrt_cert_type": view.credential_type,
        "med_type": view.medical_type,
    }


def setldetail(view: SettlementView) -> list[FundPaymentRow]:
    return [
        FundPaymentRow(
            fund_pay_type=f.fund.value,
            inscp_scp_amt=f.in_policy_amount.yuan,
            crt_payb_lmt_amt=(
                f.payable_limit_amount.yuan if f.payable_limit_amount is not None else None
            ),
            fund_payamt=f.paid_amount.yuan,
            fund_pay_type_name=f.fund.label_zh,
            setl_proc_info=f.process_info,
        )
        for f in view.funds
    ]


def output_2303(view: SettlementView) -> Output2303:
    """2303 预结算: no setl_id, nothing committed."""
    view.check_identities()
    info = PreSettlementInfo.model_validate(_amounts(view) | _person(view))
    return Output2303(setlinfo=info, setldetail=setldetail(view))


def _setl_id(view: SettlementView, missing: str) -> dict[str, str]:
    """The setl_id of a committed settlement or of the one a reversal names."""
    if not view.settlement_id:
        raise ValueError(missing)
    return {"setl_id": view.settlement_id}


def output_2304(view: SettlementView) -> Output2304:
    view.check_identities()
    setl_id = _setl_id(view, "a committed settlement needs its settlement_id (setl_id)")
    info = SettlementInfo.model_validate(_amounts(view) | _person(view) | setl_id)
    return Output2304(setlinfo=info, setldetail=setldetail(view))


def output_2305(view: SettlementView) -> Output2305:
    """2305 结算撤销: the view holds the reversed (negative) amounts."""
    view.check_identities()
    setl_id = _setl_id(view, "a reversal names the settlement it reverses (setl_id)")
    info = ReversalInfo.model_validate(_amounts(view) | setl_id)
    return Output2305(setlinfo=info, setldetail=setldetail(view))
