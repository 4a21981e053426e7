from __future__ import annotations

import pytest

from yidi.kernel.errors import InvalidInput
from yidi.kernel.money import Money
from yidi.settlement.claims import YearToDate


def test_year_to_date_plus_then_minus_restores_exactly() -> None:
    start = YearToDate(2017, 1, Money("1300.00"), Money("2960.00"))
    delta = YearToDate(2017, 1, Money("650.00"), Money("3480.01"))
    assert start.plus(delta).minus(delta) == start


def test_year_to_date_refuses_to_go_negative() -> None:
    with pytest.raises(InvalidInput) as raised:
        YearToDate.empty(2017).minus(YearToDate(2017, 1))
    assert raised.value.code == "YEAR_TO_DATE_NEGATIVE"


def test_year_to_date_of_different_years_do_not_combine() -> None:
    with pytest.raises(InvalidInput):
        YearToDate.empty(2017).plus(YearToDate.empty(2018))
