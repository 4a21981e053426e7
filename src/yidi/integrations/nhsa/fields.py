"""The one mapping between yidi's money vocabulary and the national field names.

Inside yidi every amount has its English name from :mod:`yidi.settlement.amounts`;
the national interface names the same amounts ``medfee_sumamt``, ``hifp_pay`` … (setlinfo
of 2303/2304/2305, NHSA-INTERFACE.md §4.8) and, per fee line, ``fulamt_ownpay_amt`` …
(result[] of 2301, §4.6). This module is the only place the two vocabularies meet; it is
used in both directions (:func:`to_national` / :func:`from_national`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, TypeVar

from yidi.settlement.result import LineBreakdown, SettlementResult

V = TypeVar("V")

#: vocabulary name -> setlinfo field, one row per amount of the
#: vocabulary, in its order (tests/unit/test_money_vocabulary.py checks both).
SETLINFO_FIELDS: Final[Mapping[str, str]] = {
    "total_charges": "medfee_sumamt",
    "fully_self_paid": "fulamt_ownpay_amt",
    "over_limit_self_paid": "overlmt_selfpay",
    "upfront_self_paid": "preselfpay_amt",
    "eligible_amount": "inscp_scp_amt",
    "deductible_applied": "act_pay_dedc",
    "pooled_fund_paid": "hifp_pay",
    "serious_illness_paid": "hifmi_pay",
    "large_expense_paid": "hifob_pay",
    "medical_assistance_paid": "maf_pay",
    "fund_paid_total": "fund_pay_sumamt",
    "patient_share": "psn_part_amt",
    "personal_account_paid": "acct_pay",
    "cash_paid": "psn_cash_pay",
}

#: setlinfo money fields yidi never pays (its engine has no such fund or share): always
#: 0.00 in a reply, and they take part in the national identities (§4.8) as zero.
#: 公务员医疗补助, 企业补充医保, 其他支出, 医院负担金额, 账户共济支付.
UNPAID_SETLINFO_FIELDS: Final[tuple[str, ...]] = (
    "cvlserv_pay",
    "hifes_pay",
    "oth_pay",
    "hosp_part_amt",
    "acct_mulaid_pay",
)

#: the rate beside the amounts: pool_prop_selfpay, 统筹支付比例 (four decimals).
POOLED_FUND_RATE_FIELD: Final = "pool_prop_selfpay"

#: vocabulary name -> field of a 2301 result[] line (the per-line split).
FEE_LINE_FIELDS: Final[Mapping[str, str]] = {
    "fully_self_paid": "fulamt_ownpay_amt",
    "over_limit_self_paid": "overlmt_amt",
    "upfront_self_paid": "preselfpay_amt",
    "eligible_amount": "inscp_scp_amt",
}

_NATIONAL_TO_NAME: Final[Mapping[str, str]] = {v: k for k, v in SETLINFO_FIELDS.items()}


def national_name(name: str) -> str:
    """The setlinfo field of the vocabulary amount ``name``."""
    return SETLINFO_FIELDS[name]


def to_national(amounts: Mapping[str, V]) -> dict[str, V]:
    """Amounts keyed by vocabulary name, re-keyed by setlinfo field (unknown names dropped)."""
    return {
        SETLINFO_FIELDS[name]: value for name, value in amounts.items() if name in SETLINFO_FIELDS
    }


def from_national(fields: Mapping[str, V]) -> dict[str, V]:
    """setlinfo-style fields re-keyed by vocabulary name (other fields dropped)."""
    return {
        _NATIONAL_TO_NAME[field]: value
        for field, value in fields.items()
        if field in _NATIONAL_TO_NAME
    }


def setlinfo_amounts(result: SettlementResult) -> dict[str, str]:
    """A result's setlinfo money fields under their national names, as two-decimal strings,
    with the pooled-fund rate (the analyst's and the golden cases' national view)."""
    out = to_national({name: str(amount) for name, amount in result.amounts().items()})
    out[POOLED_FUND_RATE_FIELD] = f"{result.pooled_fund_rate:.4f}"
    return out


def fee_line_fields(line: LineBreakdown) -> dict[str, str]:
    """One line's split under the 2301 result[] names, as two-decimal strings."""
    return {
        "feedetl_sn": line.serial,
        "det_item_fee_sumamt": str(line.line_amount),
        "chrgitm_lv": "" if line.item is None else line.item.item_class.value,
        **{field: str(getattr(line, name)) for name, field in FEE_LINE_FIELDS.items()},
    }
