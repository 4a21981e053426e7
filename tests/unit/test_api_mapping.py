"""Reply models built from a use case's result by field name (``from_attributes``)."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from pydantic import BaseModel, ValidationError

from yidi.entrypoints.api.schemas.mapping import from_attributes
from yidi.kernel.money import Money


@dataclasses.dataclass(frozen=True)
class _Row:
    id: str
    label: str
    amount: Money
    refund: Money | None
    extra: str = "not in the reply"


class _Reply(BaseModel):
    code: str
    label: str
    amount: Decimal
    refund: Decimal | None


def test_fields_are_copied_by_name_and_amounts_answered_in_yuan() -> None:
    reply = from_attributes(_Reply, _Row("c1", "甲", Money.from_fen(12345), None), code="X-1")

    assert reply.model_dump() == {
        "code": "X-1",
        "label": "甲",
        "amount": Decimal("123.45"),
        "refund": None,
    }
    assert list(reply.model_dump()) == list(_Reply.model_fields)


def test_given_values_win_over_attributes_of_the_same_name() -> None:
    row = _Row("c1", "甲", Money.from_fen(100), Money.from_fen(5))

    reply = from_attributes(_Reply, row, code="c1", label="乙")

    assert reply.label == "乙"
    assert reply.refund == Decimal("0.05")


def test_a_field_the_source_lacks_is_an_error_not_a_default() -> None:
    with pytest.raises(AttributeError):
        from_attributes(_Reply, _Row("c1", "甲", Money.from_fen(1), None))


def test_the_model_still_validates_what_it_is_given() -> None:
    with pytest.raises(ValidationError):
        from_attributes(_Reply, _Row("c1", "甲", Money.from_fen(1), None), code=None)
