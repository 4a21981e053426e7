"""Candidate policies for 政策调整测算: a shipped region's policy with some parameters changed
from a date, or an uploaded policy tree.

A change is a new dated value of an existing parameter (``schemes.inpatient.deductible.
by_hospital_level`` and the like) from ``effective_on``: the policy before that date is the
shipped one, from it on the changed one, exactly as if the policy file had a new dated entry.
A candidate value is illustrative by nature: it cites no document.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from yidi.kernel.errors import InvalidInput, NotFound
from yidi.kernel.insurance import HospitalLevel, InsuranceType
from yidi.policy.loader import DatedValue, PolicyLibrary, PolicySource, policy_at

#: the parameters the web form offers, per inpatient scheme: path suffix -> kind
ADJUSTABLE: dict[str, str] = {
    "schemes.inpatient.deductible.by_hospital_level": "levels_money",
    "schemes.inpatient.pooled_fund.rate_by_hospital_level": "levels_rate",
    "schemes.inpatient.pooled_fund.annual_cap": "money",
}


def _bad(path: str, text: str, why_zh: str, why_en: str) -> InvalidInput:
    return InvalidInput(
        "WHATIF_PARAMETER_INVALID",
        f"参数 {path} 的值“{text}”无效：{why_zh}",
        f"parameter {path}: {text!r} is not valid: {why_en}",
        field=path,
    )


def parse_value(path: str, kind: str, text: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise _bad(path, text, "须为数字", "must be a number") from None
    if not value.is_finite() or value < 0:
        raise _bad(path, text, "须为非负数", "must not be negative")
    if kind.endswith("rate"):
        if value > 1:
            raise _bad(path, text, "比例须在 0 到 1 之间", "a rate is between 0 and 1")
        if value != value.quantize(Decimal("0.0001")):
            raise _bad(path, text, "比例最多 4 位小数", "at most four decimals")
    elif value != value.quantize(Decimal("0.01")):
        raise _bad(path, text, "金额最多 2 位小数", "at most two decimals (fen)")
    return value


def _source(library: PolicyLibrary, region: str, insurance_type: InsuranceType) -> PolicySource:
    """The region's policy source, or ``POLICY_REGION_UNKNOWN``."""
    source = library.sources.get((region, insurance_type))
    if source is None:
        raise NotFound(
            "POLICY_REGION_UNKNOWN",
            f"没有 {region} 的{insurance_type.label_zh}政策文件",
            f"no policy files for region {region}",
            field="region",
        )
    return source


def current_values(
    library: PolicyLibrary, region: str, insurance_type: InsuranceType, on_date: dt.date
) -> dict[str, Any]:
    """The adjustable parameters' values in force on ``on_date`` (absent ones left out)."""
    source = _source(library, region, insurance_type)
    out: dict[str, Any] = {}
    for path in ADJUSTABLE:
        found = source.value_on(path, on_date)
        if found is not None:
            out[path] = found.value
    return out


def adjusted_library(
    base: PolicyLibrary,
    region: str,
    insurance_type: InsuranceType,
    effective_on: dt.date,
    changes: Mapping[str, Any],
) -> PolicyLibrary:
    """``base`` with the region's ``changes`` (path -> new value) in force from ``effective_on``.

    The changed policy is built once on ``effective_on`` so a value the policy model rejects
    is refused here, with the loader's message."""
    source = _source(base, region, insurance_type)
    parameters = dict(source.parameters)
    for path, value in changes.items():
        if path not in parameters:
            raise _bad(
                path, str(value), "该地区政策没有这个参数", "the region has no such parameter"
            )
        kept = tuple(entry for entry in parameters[path] if entry.effective_on < effective_on)
        parameters[path] = (*kept, DatedValue(effective_on, value, None))
    changed = dataclasses.replace(source, parameters=parameters, illustrative=True)
    library = dataclasses.replace(base, sources={**base.sources, (region, insurance_type): changed})
    policy_at(region, insurance_type, effective_on, library)
    return library


def levels(values: Mapping[int, Decimal]) -> dict[HospitalLevel, Decimal]:
    return {HospitalLevel(level): value for level, value in values.items()}


__all__ = ["ADJUSTABLE", "adjusted_library", "current_values", "levels", "parse_value"]
