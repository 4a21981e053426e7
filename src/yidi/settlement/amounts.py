"""The money vocabulary: the one list of settlement amounts, their names and meanings.

Every amount a settlement produces is named here once, in English, with its Chinese
term. The engine's :class:`~yidi.settlement.result.SettlementResult` has one field per
name; storage keeps each as ``<name>_fen``; the funds ledger, reports, the web pages and
the REST API use the same names. National field names (``hifp_pay`` …) exist only at the
national-interface boundary (``yidi.integrations.nhsa.fields``), mapped from this list.

Adding a fund type: add its :class:`AmountName` here (``fund_code`` set), give the
engine a way to compute it, add the national field to the mapping in
``yidi.integrations.nhsa.fields`` and write the migration that adds its column; the
tests in ``tests/unit/test_money_vocabulary.py`` fail until every other place agrees.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class AmountName:
    """One settlement amount: its English name, Chinese term and English meaning."""

    name: str
    label_zh: str
    label_en: str
    #: set for an amount a fund pays and the insured region repays (基金): the stable code
    #: of that fund in the clearing ledger (ledger account names, clearing statements).
    fund_code: str | None = None
    #: the fund's own name (统筹基金), where ``label_zh`` names what it paid (统筹基金支出)
    fund_label_zh: str = ""
    #: the amount is also split per fee line (the four parts of a line's total)
    per_line: bool = False

    @property
    def column(self) -> str:
        """The storage column holding this amount in integer fen."""
        return f"{self.name}_fen"


#: The settlement amounts, in the order of the national settlement record (setlinfo).
SETTLEMENT_AMOUNTS: Final[tuple[AmountName, ...]] = (
    AmountName("total_charges", "医疗费总额", "total charges"),
    AmountName("fully_self_paid", "全自费金额", "fully self-paid (not covered)", per_line=True),
    AmountName(
        "over_limit_self_paid", "超限价自费", "self-paid above the price limit", per_line=True
    ),
    AmountName("upfront_self_paid", "先行自付金额", "upfront self-pay (class B)", per_line=True),
    AmountName("eligible_amount", "符合政策范围金额", "eligible (in-policy) amount", per_line=True),
    AmountName("deductible_applied", "实际支付起付线", "deductible applied"),
    AmountName(
        "pooled_fund_paid",
        "统筹基金支出",
        "paid by the pooled fund",
        fund_code="pooled",
        fund_label_zh="统筹基金",
    ),
    AmountName(
        "serious_illness_paid",
        "大病保险支出",
        "paid by serious-illness insurance (residents' or employees')",
        fund_code="serious_illness",
        fund_label_zh="大病保险",
    ),
    AmountName(
        "large_expense_paid",
        "职工大额医疗补助",
        "paid by the employees' large-expense subsidy",
        fund_code="large_expense",
        fund_label_zh="大额医疗补助",
    ),
    AmountName(
        "medical_assistance_paid",
        "医疗救助",
        "paid by medical assistance",
        fund_code="medical_assistance",
        fund_label_zh="医疗救助",
    ),
    AmountName("fund_paid_total", "基金支付总额", "total paid by the funds"),
    AmountName("patient_share", "个人负担总金额", "patient's total share"),
    AmountName("personal_account_paid", "个人账户支出", "paid from the personal account"),
    AmountName("cash_paid", "个人现金支出", "paid in cash by the patient"),
)

#: Stored beside each settlement, derived from the amounts above (not an engine output).
OWED_TO_TREATMENT_REGION: Final = AmountName(
    "owed_to_treatment_region",
    "参保地应付就医地金额",
    "owed by the insured region to the treatment region (funds + personal account)",
)

#: The names of :data:`SETTLEMENT_AMOUNTS`, in order.
AMOUNT_NAMES: Final[tuple[str, ...]] = tuple(a.name for a in SETTLEMENT_AMOUNTS)
#: The amounts kept for each settlement: the engine's amounts and what is owed.
STORED_AMOUNTS: Final[tuple[AmountName, ...]] = (*SETTLEMENT_AMOUNTS, OWED_TO_TREATMENT_REGION)
STORED_AMOUNT_NAMES: Final[tuple[str, ...]] = tuple(a.name for a in STORED_AMOUNTS)
#: The amounts the funds pay (the insured region repays them through clearing).
FUND_AMOUNTS: Final[tuple[AmountName, ...]] = tuple(
    a for a in SETTLEMENT_AMOUNTS if a.fund_code is not None
)
#: The four parts of a fee line's total (and of the settlement's total charges).
LINE_AMOUNTS: Final[tuple[AmountName, ...]] = tuple(a for a in SETTLEMENT_AMOUNTS if a.per_line)

_BY_NAME: Final[dict[str, AmountName]] = {a.name: a for a in STORED_AMOUNTS}


def amount_named(name: str) -> AmountName:
    """The vocabulary entry of ``name`` (KeyError for a name not in the vocabulary)."""
    return _BY_NAME[name]


def label_zh(name: str) -> str:
    return _BY_NAME[name].label_zh
