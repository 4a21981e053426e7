"""Money: Decimal yuan, quantised to the fen; stored as integer fen. No float, ever.

Rounding happens only at named steps (``Money.times(rate, step=...)``) with
ROUND_HALF_UP, the rule Chinese medical-insurance settlement uses, so every
fen in a settlement can be traced to the step that produced it.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Final

from yidi.kernel.errors import InvalidInput

FEN: Final = Decimal("0.01")


def _to_decimal(value: object) -> Decimal:
    if isinstance(value, (bool, float)):
        # Floats cannot represent 0.1 yuan exactly; refusing them keeps every fen honest.
        raise TypeError("Money refuses float and bool; pass str, int or Decimal")
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        text = value.strip().replace(",", "")
        try:
            parsed = Decimal(text)
        except InvalidOperation:
            raise InvalidInput(
                "MONEY_NOT_A_NUMBER",
                f"金额“{value}”不是有效数字",
                f"amount {value!r} is not a number",
            ) from None
        if not parsed.is_finite():
            raise InvalidInput("MONEY_NOT_A_NUMBER", f"金额“{value}”不是有效数字", "not finite")
        return parsed
    raise TypeError(f"cannot make Money from {type(value).__name__}")


class Money:
    """An amount in yuan with exactly two decimals."""

    __slots__ = ("_yuan",)

    def __init__(self, value: object = 0) -> None:
        amount = _to_decimal(value)
        quantised = amount.quantize(FEN, rounding=ROUND_HALF_UP)
        if quantised != amount:
            raise InvalidInput(
                "MONEY_SUB_FEN",
                f"金额“{value}”精度超过分（最多两位小数）",
                f"amount {value} has more than two decimals",
            )
        self._yuan = quantised

    # construction -------------------------------------------------------
    @classmethod
    def zero(cls) -> Money:
        return cls(0)

    @classmethod
    def of(cls, value: object) -> Money:
        """Parse an exact amount (at most two decimals)."""
        return cls(value)

    @classmethod
    def rounded(cls, value: object) -> Money:
        """Round any Decimal amount to the fen, ROUND_HALF_UP."""
        return cls(_to_decimal(value).quantize(FEN, rounding=ROUND_HALF_UP))

    @classmethod
    def exact(cls, value: Decimal) -> Money:
        """A Decimal that is already whole fen (a sum of amounts, a rounded portion): the
        settlement engine builds thousands of these, so skip the generic parse of
        ``__init__``; anything finer than a fen is still refused."""
        quantised = value.quantize(FEN)
        if quantised != value:
            raise InvalidInput(
                "MONEY_SUB_FEN",
                f"金额“{value}”精度超过分（最多两位小数）",
                f"amount {value} has more than two decimals",
            )
        money = object.__new__(cls)
        money._yuan = quantised
        return money

    @classmethod
    def from_fen(cls, fen: int) -> Money:
        if not isinstance(fen, int) or isinstance(fen, bool):
            raise TypeError("fen must be int")
        # Whole fen scaled by 10^-2 is already exact at two decimals: skip the parse and
        # quantise of __init__ (stored rows are read back by the thousand).
        money = object.__new__(cls)
        money._yuan = Decimal(fen).scaleb(-2)
        return money

    # views --------------------------------------------------------------
    @property
    def yuan(self) -> Decimal:
        return self._yuan

    @property
    def fen(self) -> int:
        return int(self._yuan.scaleb(2))

    def is_zero(self) -> bool:
        return self._yuan == 0

    def is_negative(self) -> bool:
        return self._yuan < 0

    # arithmetic ---------------------------------------------------------
    def __add__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        return Money(self._yuan + other._yuan)

    def __radd__(self, other: object) -> Money:
        if other == 0:  # lets sum() start from int 0
            return self
        return NotImplemented

    def __sub__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        return Money(self._yuan - other._yuan)

    def __neg__(self) -> Money:
        return Money(-self._yuan)

    def times(self, factor: Decimal | int, *, step: str) -> Money:
        """Multiply by a quantity or rate and round to the fen at the named ``step``.

        ``step`` is not used in the arithmetic; it documents, at every call site,
        where rounding happens (and is what explanations cite).
        """
        if isinstance(factor, float):
            raise TypeError("rates are Decimal fractions, never float")
        del step
        return Money.rounded(self._yuan * Decimal(factor))

    def min(self, other: Money) -> Money:
        return self if self._yuan <= other._yuan else other

    def max(self, other: Money) -> Money:
        return self if self._yuan >= other._yuan else other

    def clamp_non_negative(self) -> Money:
        return self if self._yuan >= 0 else Money.zero()

    # comparison ---------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        return isinstance(other, Money) and self._yuan == other._yuan

    def __hash__(self) -> int:
        return hash(self._yuan)

    def __lt__(self, other: Money) -> bool:
        return self._yuan < other._yuan

    def __le__(self, other: Money) -> bool:
        return self._yuan <= other._yuan

    def __gt__(self, other: Money) -> bool:
        return self._yuan > other._yuan

    def __ge__(self, other: Money) -> bool:
        return self._yuan >= other._yuan

    # text ---------------------------------------------------------------
    def __str__(self) -> str:
        """Plain two-decimal yuan, as the national interface sends it: ``1300.00``."""
        return f"{self._yuan:.2f}"

    def __repr__(self) -> str:
        return f"Money('{self._yuan:.2f}')"

    def formatted(self) -> str:
        """Thousands separators for people: ``1,300.00``."""
        return f"{self._yuan:,.2f}"


def money_sum(amounts: list[Money] | tuple[Money, ...]) -> Money:
    total = Money.zero()
    for amount in amounts:
        total = total + amount
    return total
