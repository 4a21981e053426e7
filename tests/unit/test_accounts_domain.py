"""Personal account rules: amounts, movements, balance never negative."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yidi.accounts.model import (
    FamilyBinding,
    FamilyRelation,
    Movement,
    MovementKind,
    account_eligible,
    apply,
    balance_of,
    binding_for,
    check_binding,
    parse_amount,
)
from yidi.kernel.errors import InvalidInput, Refused
from yidi.kernel.insurance import InsuranceType
from yidi.kernel.money import Money


def test_credit_debit_restore() -> None:
    moves = [
        Movement(MovementKind.CREDIT, Money("1000.00"), "V1"),
        Movement(MovementKind.DEBIT, Money("300.50"), "S1"),
        Movement(MovementKind.RESTORE, Money("300.50"), "R1"),
        Movement(MovementKind.DEBIT, Money("999.99"), "S2"),
    ]
    assert balance_of(moves) == Money("0.01")


def test_debit_over_balance_refused() -> None:
    with pytest.raises(Refused) as err:
        apply(Money("10.00"), Movement(MovementKind.DEBIT, Money("10.01"), "S1"))
    assert err.value.code == "ACCOUNT_OVERDRAWN"
    assert "不足" in str(err.value.message)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("-5.00", "ACCOUNT_AMOUNT_NOT_POSITIVE"),
        ("0", "ACCOUNT_AMOUNT_NOT_POSITIVE"),
        ("1.005", "ACCOUNT_AMOUNT_NOT_FEN"),
        ("abc", "ACCOUNT_AMOUNT_INVALID"),
        ("NaN", "ACCOUNT_AMOUNT_INVALID"),
    ],
)
def test_bad_amounts(text: str, code: str) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_amount(text)
    assert err.value.code == code


def test_parse_amount_ok() -> None:
    assert parse_amount("1200.5") == Money("1200.50")


def test_only_employee_accounts() -> None:
    assert account_eligible(InsuranceType.EMPLOYEE)
    assert not account_eligible(InsuranceType.RESIDENT)


ops = st.lists(
    st.tuples(
        st.sampled_from(["credit", "settle", "reverse"]),
        st.integers(min_value=1, max_value=500_000),
    ),
    max_size=40,
)


@given(ops)
def test_balance_is_credits_minus_debits_plus_restorations(sequence: list[tuple[str, int]]) -> None:
    """Settlements pay min(wanted, balance) as the engine does; reversals restore exactly
    what a still-active settlement took."""
    balance = Money.zero()
    credits = debits = restores = 0
    active: list[int] = []
    for op, fen in sequence:
        if op == "credit":
            balance = apply(balance, Movement(MovementKind.CREDIT, Money.from_fen(fen), "V"))
            credits += fen
        elif op == "settle":
            paid = min(fen, balance.fen)
            if paid:
                balance = apply(balance, Movement(MovementKind.DEBIT, Money.from_fen(paid), "S"))
                debits += paid
                active.append(paid)
            # Asking for more than the balance is always refused, never overdrawn.
            with pytest.raises(Refused):
                apply(balance, Movement(MovementKind.DEBIT, balance + Money("0.01"), "X"))
        elif active:
            paid = active.pop(fen % len(active))
            balance = apply(balance, Movement(MovementKind.RESTORE, Money.from_fen(paid), "R"))
            restores += paid
        assert not balance.is_negative()
        assert balance.fen == credits - debits + restores


# --- 家庭共济 bindings ------------------------------------------------------------------


def _binding(holder: int, start: dt.date, end: dt.date | None = None) -> FamilyBinding:
    return FamilyBinding(f"FB{holder}{start}", holder, 9, FamilyRelation.PARENT, start, end, "R")


def test_the_binding_valid_on_the_day_is_found_and_none_is_refused() -> None:
    spring = _binding(1, dt.date(2026, 1, 1), dt.date(2026, 6, 30))
    autumn = _binding(2, dt.date(2026, 9, 1))
    bindings = [spring, autumn]
    assert binding_for(bindings, dt.date(2026, 6, 30), None) is spring  # the end day included
    assert binding_for(bindings, dt.date(2026, 11, 20), None) is autumn
    with pytest.raises(Refused) as gap:
        binding_for(bindings, dt.date(2026, 7, 15), None)
    assert gap.value.code == "ACCOUNT_FAMILY_NOT_BOUND"
    both = [spring, _binding(3, dt.date(2026, 3, 1))]
    with pytest.raises(Refused) as ambiguous:
        binding_for(both, dt.date(2026, 4, 1), None)
    assert ambiguous.value.code == "ACCOUNT_FAMILY_HOLDER_AMBIGUOUS"
    assert binding_for(both, dt.date(2026, 4, 1), 3).holder_person_id == 3


@pytest.mark.parametrize(
    ("holder_insurance", "holder", "start", "end", "code"),
    [
        (InsuranceType.RESIDENT, 1, dt.date(2027, 1, 1), None, "ACCOUNT_NOT_EMPLOYEE"),
        (InsuranceType.EMPLOYEE, 9, dt.date(2027, 1, 1), None, "ACCOUNT_FAMILY_SELF"),
        (
            InsuranceType.EMPLOYEE,
            1,
            dt.date(2027, 1, 1),
            dt.date(2026, 1, 1),
            "ACCOUNT_FAMILY_DATES_INVALID",
        ),
        (InsuranceType.EMPLOYEE, 1, dt.date(2026, 5, 1), None, "ACCOUNT_FAMILY_BINDING_OVERLAPS"),
    ],
)
def test_a_bad_binding_is_refused_with_its_code(
    holder_insurance: InsuranceType,
    holder: int,
    start: dt.date,
    end: dt.date | None,
    code: str,
) -> None:
    existing = [_binding(1, dt.date(2026, 1, 1), dt.date(2026, 6, 30))]
    with pytest.raises((InvalidInput, Refused)) as refused:
        check_binding(
            holder_insurance=holder_insurance,
            holder_id=holder,
            member_id=9,
            valid_from=start,
            valid_until=end,
            existing=existing,
        )
    assert refused.value.code == code


def test_relations_by_code_or_chinese_name() -> None:
    assert FamilyRelation.parse("配偶") is FamilyRelation.SPOUSE
    assert FamilyRelation.parse(" Child ") is FamilyRelation.CHILD
    with pytest.raises(InvalidInput):
        FamilyRelation.parse("兄弟")


payers = st.lists(
    st.tuples(
        st.sampled_from(["credit", "own", "family", "reverse"]),
        st.integers(min_value=1, max_value=300_000),
    ),
    max_size=40,
)


@given(payers)
def test_one_account_paying_for_its_holder_and_a_relative_never_goes_negative(
    sequence: list[tuple[str, int]],
) -> None:
    """The holder's own settlements and a bound relative's draw on one balance: each pays
    min(wanted, balance); a reversal gives back exactly what that settlement took, to the same
    account. balance = credits − debits + restorations, never negative."""
    balance = Money.zero()
    credits = debits = restores = 0
    active: list[tuple[str, int]] = []
    for op, fen in sequence:
        if op == "credit":
            balance = apply(balance, Movement(MovementKind.CREDIT, Money.from_fen(fen), "V"))
            credits += fen
        elif op in ("own", "family"):
            paid = min(fen, balance.fen)
            if paid:
                balance = apply(balance, Movement(MovementKind.DEBIT, Money.from_fen(paid), op))
                debits += paid
                active.append((op, paid))
        elif active:
            _, paid = active.pop(fen % len(active))
            balance = apply(balance, Movement(MovementKind.RESTORE, Money.from_fen(paid), "R"))
            restores += paid
        assert not balance.is_negative()
        assert balance.fen == credits - debits + restores
