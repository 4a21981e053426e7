"""Personal accounts (个人账户) of employee-insured persons: pure rules, no storage.

One account per person, insurance type and year. Money moves only by movements:

* ``credit`` (划入): the insured region's agency pays in, with a source and a reference;
* ``debit`` (账户支付): a direct settlement paid part of the patient share from the account;
* ``restore`` (撤销退回): reversing that settlement gives back exactly what it took.

The balance is always credits − debits + restorations and never negative.

家庭共济 (family mutual aid): a :class:`FamilyBinding` lets a registered close relative
(spouse, parent, child) of an employee-insured holder pay from the holder's account from a
date on; the settlement debits the holder's account, as far as the member's scheme allows
family payment (its ``personal_account`` step's ``family_mutual_aid``).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Sequence
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


class FamilyRelation(enum.Enum):
    """The close relatives a holder may register (配偶、父母、子女)."""

    SPOUSE = "spouse"
    PARENT = "parent"
    CHILD = "child"

    @property
    def label_zh(self) -> str:
        return {"spouse": "配偶", "parent": "父母", "child": "子女"}[self.value]

    @classmethod
    def parse(cls, value: str) -> FamilyRelation:
        text = value.strip().lower()
        for relation in cls:
            if text in (relation.value, relation.label_zh):
                return relation
        raise InvalidInput(
            "ACCOUNT_FAMILY_RELATION_INVALID",
            f"家庭共济只限配偶、父母、子女（spouse、parent、child），收到“{value}”",
            "family mutual aid is for a spouse, parent or child",
            field="relation",
        )


@dataclass(frozen=True, slots=True)
class FamilyBinding:
    """The holder's account may pay for the member from ``valid_from`` until ``valid_until``
    (inclusive; None: open-ended)."""

    id: str
    holder_person_id: int
    member_person_id: int
    relation: FamilyRelation
    valid_from: dt.date
    valid_until: dt.date | None
    reference: str

    def valid_on(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_until is None or day <= self.valid_until)


def check_binding(
    *,
    holder_insurance: InsuranceType,
    holder_id: int,
    member_id: int,
    valid_from: dt.date,
    valid_until: dt.date | None,
    existing: Sequence[FamilyBinding],
) -> None:
    """A binding: an employee-insured holder, another person, dates in order, no overlap with
    another binding of the same two people."""
    if not account_eligible(holder_insurance):
        raise Refused(
            "ACCOUNT_NOT_EMPLOYEE",
            f"{holder_insurance.label_zh}不设个人账户，不能为家属办理家庭共济",
            "only an employee-insured person's account can pay for relatives",
            field="holder",
        )
    if holder_id == member_id:
        raise InvalidInput(
            "ACCOUNT_FAMILY_SELF",
            "家庭共济的账户持有人与共济人员不能是同一人",
            "the holder and the member must be different persons",
            field="member",
        )
    if valid_until is not None and valid_until < valid_from:
        raise InvalidInput(
            "ACCOUNT_FAMILY_DATES_INVALID",
            f"结束日期 {valid_until.isoformat()} 早于开始日期 {valid_from.isoformat()}",
            "the end date is before the start date",
            field="valid_until",
        )
    for other in existing:
        if other.holder_person_id != holder_id or other.member_person_id != member_id:
            continue
        if (other.valid_until is None or valid_from <= other.valid_until) and (
            valid_until is None or other.valid_from <= valid_until
        ):
            raise Refused(
                "ACCOUNT_FAMILY_BINDING_OVERLAPS",
                f"该家属已有自 {other.valid_from.isoformat()} 起的家庭共济登记，日期不能重叠",
                "a binding of the same two persons already covers these dates",
                field="valid_from",
            )


def binding_for(
    bindings: Sequence[FamilyBinding], day: dt.date, holder_person_id: int | None
) -> FamilyBinding:
    """The member's binding valid on ``day`` (to the named holder, when one is named); refused
    when there is none, or several and no holder is named."""
    valid = [
        b
        for b in bindings
        if b.valid_on(day) and (holder_person_id is None or b.holder_person_id == holder_person_id)
    ]
    if not valid:
        raise Refused(
            "ACCOUNT_FAMILY_NOT_BOUND",
            f"参保人在 {day.isoformat()} 没有有效的家庭共济登记，不能使用家属的个人账户；"
            "请账户持有人到参保地医保经办机构办理家庭共济登记，或用本人账户、现金支付",
            "no family mutual-aid binding is valid for the person on this day",
            field="acct_used_flag",
        )
    if len(valid) > 1:
        raise Refused(
            "ACCOUNT_FAMILY_HOLDER_AMBIGUOUS",
            f"参保人在 {day.isoformat()} 有 {len(valid)} 个有效的家庭共济登记，请指明使用哪位持有人的账户",
            "several bindings are valid; name the account holder",
            field="family_account_holder",
        )
    return valid[0]
