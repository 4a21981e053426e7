"""Personal account rules: amounts, movements, balance never negative."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yidi.accounts.model import (
    Movement,
    MovementKind,
    account_eligible,
    apply,
    balance_of,
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
