from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yidi.kernel.errors import InvalidInput
from yidi.kernel.money import Money, money_sum

fen_values = st.integers(min_value=-(10**12), max_value=10**12)


def test_money_parses_exact_yuan_and_keeps_two_decimals() -> None:
    assert str(Money("11811.24")) == "11811.24"
    assert str(Money(5)) == "5.00"
    assert Money("1,300").formatted() == "1,300.00"


def test_money_refuses_float_so_no_binary_fraction_sneaks_in() -> None:
    with pytest.raises(TypeError):
        Money(0.1)  # type: ignore[arg-type]


def test_money_refuses_sub_fen_amounts_unless_rounded_explicitly() -> None:
    with pytest.raises(InvalidInput) as caught:
        Money("1.005")
    assert caught.value.code == "MONEY_SUB_FEN"
    assert Money.rounded(Decimal("1.005")) == Money("1.01")  # ROUND_HALF_UP, not banker's
    assert Money.rounded(Decimal("-1.005")) == Money("-1.01")


def test_money_rejects_text_that_is_not_a_number_with_a_chinese_message() -> None:
    with pytest.raises(InvalidInput) as caught:
        Money("十元")
    assert "不是有效数字" in caught.value.message


def test_rate_multiplication_rounds_half_up_at_the_named_step() -> None:
    assert Money("100.05").times(Decimal("0.5"), step="demo") == Money("50.03")
    with pytest.raises(TypeError):
        Money("1").times(0.5, step="demo")  # type: ignore[arg-type]


@given(fen_values)
def test_fen_round_trip_is_exact(fen: int) -> None:
    assert Money.from_fen(fen).fen == fen


@given(st.lists(fen_values, max_size=50))
def test_sum_of_money_equals_sum_of_fen(fens: list[int]) -> None:
    assert money_sum([Money.from_fen(f) for f in fens]).fen == sum(fens)


@given(fen_values, fen_values)
def test_addition_and_subtraction_are_inverse(a: int, b: int) -> None:
    x, y = Money.from_fen(a), Money.from_fen(b)
    assert (x + y) - y == x
    negated = -x
    assert -negated == x


@given(fen_values)
def test_exact_equals_the_parsed_amount_and_refuses_sub_fen(fen: int) -> None:
    value = Decimal(fen).scaleb(-2)
    assert Money.exact(value) == Money(value)
    assert str(Money.exact(Decimal(fen))) == str(Money(Decimal(fen)))
    with pytest.raises(InvalidInput):
        Money.exact(value + Decimal("0.001"))
