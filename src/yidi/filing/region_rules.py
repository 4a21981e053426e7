"""The insured region's choices where the national filing rules leave them to the 参保地."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping

from yidi.filing.model.record import FilingRecord
from yidi.kernel.errors import YidiError
from yidi.policy.loader import policy_at


def region_filing_rules(record: FilingRecord, on_date: dt.date) -> Mapping[str, object]:
    """The insured region's ``cross_region.filing.*`` choices in force on ``on_date``.

    Looked up for the pool, then its prefecture; a region without policy files (or without
    a scheme that day) has made no choices, so the national defaults apply.
    """
    region = record.insured_region_code or ""
    if record.insurance_type is None or len(region) != 6:
        return {}
    for code in dict.fromkeys((region, region[:4] + "00")):
        try:
            return policy_at(code, record.insurance_type, on_date).filing_rules
        except YidiError:
            continue
    return {}


RegionRules = Callable[[FilingRecord, dt.date], Mapping[str, object]]


def region_rules_memo() -> RegionRules:
    """``region_filing_rules`` remembered for one request: the rows of a list page share a
    few regions and days, so each (region, insurance type, day) is looked up once."""
    seen: dict[tuple[str, object, dt.date], Mapping[str, object]] = {}

    def rules(record: FilingRecord, on_date: dt.date) -> Mapping[str, object]:
        key = (record.insured_region_code or "", record.insurance_type, on_date)
        if key not in seen:
            seen[key] = region_filing_rules(record, on_date)
        return seen[key]

    return rules
