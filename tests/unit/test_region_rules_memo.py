"""A list page looks up the insured region's filing choices once per region, insurance type
and day, not once per row."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import pytest

from filing_support import record
from yidi.filing import region_rules
from yidi.filing.model.record import FilingRecord
from yidi.kernel.insurance import InsuranceType


def test_each_region_type_and_day_is_looked_up_once(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[tuple[str, dt.date]] = []

    def lookup(filing: FilingRecord, on_date: dt.date) -> Mapping[str, object]:
        asked.append((filing.insured_region_code, on_date))
        return {"region": filing.insured_region_code}

    monkeypatch.setattr(region_rules, "region_filing_rules", lookup)
    rules = region_rules.region_rules_memo()
    day, next_day = dt.date(2026, 11, 2), dt.date(2026, 11, 3)
    hengyang, zhengzhou = record(), record(insured_region_code="410102")
    resident = record(insurance_type=InsuranceType.RESIDENT)
    answers = [rules(r, d) for r, d in [(hengyang, day), (hengyang, day), (zhengzhou, day)]]
    answers += [rules(hengyang, next_day), rules(resident, day), rules(hengyang, day)]
    assert [a["region"] for a in answers] == ["430421", "430421", "410102"] + ["430421"] * 3
    assert asked == [
        ("430421", day),
        ("410102", day),
        ("430421", next_day),
        ("430421", day),  # the resident scheme is another lookup
    ]
    assert region_rules.region_rules_memo()(hengyang, day) == {"region": "430421"}
    assert len(asked) == 5  # a new request remembers nothing of the last
