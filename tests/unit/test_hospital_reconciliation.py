"""The pure comparison behind 3201/3202."""

import pytest

from yidi.kernel.errors import InvalidInput
from yidi.kernel.money import Money
from yidi.settlement.reconciliation import DifferenceKind, LedgerLine, compare, totals


def line(setl_id: str, total: str, *, refund: bool = False, fund: str = "0") -> LedgerLine:
    return LedgerLine(setl_id, refund, Money(total), Money(fund), Money.zero())


def test_every_kind_of_difference_is_listed_once_and_in_order() -> None:
    centre = [line("S1", "100.00"), line("S2", "50.00"), line("S2", "-50.00", refund=True)]
    hospital = [line("S2", "50.01"), line("S3", "9.00"), line("S1", "100.00")]
    found = compare(centre, hospital)
    assert [(d.kind, d.line.settlement_id, d.line.refund) for d in found] == [
        (DifferenceKind.AMOUNT, "S2", False),
        (DifferenceKind.CENTRE_ONLY, "S2", True),
        (DifferenceKind.INSTITUTION_ONLY, "S3", False),
    ]
    assert compare(centre, centre) == []


def test_a_line_twice_in_the_statement_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        compare([], [line("S1", "1.00"), line("S1", "1.00")])
    assert caught.value.code == "STATEMENT_LINE_DUPLICATE"


def test_totals_add_refunds_as_negative() -> None:
    summed = totals([line("S1", "100.00", fund="60.00"), line("S1", "-100.00", refund=True)])
    assert (summed.count, summed.total, summed.fund) == (2, Money.zero(), Money("60.00"))
