"""Personal accounts (个人账户) of employee-insured persons: pure rules, no storage.

One account per person, insurance type and year. Money moves only by movements:

* ``credit`` (划入): the insured region's agency pays in, with a source and a reference;
* ``debit`` (账户支付): a direct settlement paid part of the patient share from the account;
* ``restore`` (撤销退回): reversing that settlement gives back exactly what it took.

The balance is always credits − debits + restorations and never negative. Family mutual aid
(家庭共济) is not modelled here.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from yidi.kernel.errors import InvalidInput, Refused
from yidi.kernel.insurance import InsuranceType
from yidi.kernel.money import Money


class MovementKind(enum.Enum):
    CREDIT = "credit"
    DEBIT = "debit"
    RESTORE = "restore"

    @property
    def label_zh(self) -> str:
        return {"credit": "划入", "debit": "结算支付", "restore": "撤销退回"}[self.value]


@dataclass(frozen=True, slots=True)
class Movement:
    kind: MovementKind
    amount: Money
    reference: str

    def signed(self) -> Money:
        return -self.amount if self.kind is MovementKind.DEBIT else self.amount


def account_eligible(insurance_type: InsuranceType) -> bool:
    """Only employee insurance (职工医保) keeps a personal account."""
    return insurance_type is InsuranceType.EMPLOYEE


def parse_amount(value: object, *, field: str = "amount") -> Money:
    """A movement amount: positive whole fen, else a clear error."""
    text = str(value).strip()
    try:
        decimal = Decimal(text)
    except ArithmeticError:
        decimal = None
    if decimal is None or not decimal.is_finite():
        raise InvalidInput(
            "ACCOUNT_AMOUNT_INVALID",
            f"金额“{text}”不是有效的数字",
            f"amount {text!r} is not a number",
            field=field,
        )
    if decimal != decimal.quantize(Decimal("0.01")):
        raise InvalidInput(
            "ACCOUNT_AMOUNT_NOT_FEN",
            f"金额 {text} 元不是整分，个人账户只记到分",
            f"amount {text} is not whole fen",
            field=field,
        )
    if decimal <= 0:
        raise InvalidInput(
            "ACCOUNT_AMOUNT_NOT_POSITIVE",
            f"金额须大于 0，收到 {text} 元",
            f"amount must be positive, got {text}",
            field=field,
        )
    return Money(decimal.quantize(Decimal("0.01")))


def require_reference(reference: str) -> str:
    ref = reference.strip()
    if not ref or len(ref) > 64:
        raise InvalidInput(
            "ACCOUNT_REFERENCE_INVALID",
            "划入须填写凭证号（1–64 个字符），同一凭证号只划入一次",
            "a credit needs a reference of 1-64 characters",
            field="reference",
        )
    return ref


def apply(balance: Money, movement: Movement) -> Money:
    """The balance after one movement; a debit over the balance is refused."""
    if movement.amount.is_negative() or movement.amount.is_zero():
        raise InvalidInput(
            "ACCOUNT_AMOUNT_NOT_POSITIVE",
            f"金额须大于 0，收到 {movement.amount} 元",
            f"amount must be positive, got {movement.amount}",
            field="amount",
        )
    after = balance + movement.signed()
    if after.is_negative():
        raise Refused(
            "ACCOUNT_OVERDRAWN",
            f"个人账户余额 {balance} 元，不足支付 {movement.amount} 元",
            f"account balance {balance} cannot pay {movement.amount}",
            field="personal_account_paid",
        )
    return after


def balance_of(movements: Iterable[Movement]) -> Money:
    """credits − debits + restorations, checked movement by movement."""
    balance = Money.zero()
    for movement in movements:
        balance = apply(balance, movement)
    return balance
