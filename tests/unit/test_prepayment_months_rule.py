"""The months of spend a prepayment proposal covers are rule data with a source, not a literal."""

from __future__ import annotations

import pytest

from yidi.kernel.errors import InvalidInput
from yidi.policy.national import default_prepayment_months, parse_prepayment_months


def test_the_shipped_rule_data_proposes_two_months() -> None:
    assert default_prepayment_months() == 2


@pytest.mark.parametrize(
    "entry",
    [
        "months: 0\n  reference: x",
        "months: 13\n  reference: x",
        "months: '2'\n  reference: x",
        "months: 2",
    ],
)
def test_months_outside_1_to_12_or_without_a_source_are_refused(entry: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_prepayment_months(f"prepayment_proposal:\n  {entry}\n")
    assert refused.value.code == "NATIONAL_RULE_INVALID"
