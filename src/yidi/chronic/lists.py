"""Reading the dated disease lists: the national file and a region's own file.

``data/national/chronic_diseases.yaml`` holds the national cross-province list;
``policies/<区划>/chronic_diseases.yaml`` a region's own list with its limits and rates. A
person's list is the one of their insured region: the county's own file, else the
prefecture's, else the province's, merged into the national list (:func:`merge_lists`).
Errors in a file are reported with the file and the entry, never skipped.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

import yaml

from yidi.chronic.model import (
    Disease,
    DiseaseBenefit,
    DiseaseList,
    ListScope,
    merge_lists,
    normalise_code,
)
from yidi.kernel.errors import YidiError
from yidi.kernel.money import Money

LIST_FILE = "chronic_diseases.yaml"


class DiseaseListError(YidiError):
    def __init__(self, where: str, problem: str) -> None:
        super().__init__(
            "CHRONIC_LIST_INVALID",
            f"门诊慢特病病种目录 {where} 有误：{problem}",
            f"chronic-disease list {where} is invalid: {problem}",
        )


def _date(value: Any, where: str) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    raise DiseaseListError(where, f"日期 {value!r} 须写成 YYYY-MM-DD")


def _text(entry: Mapping[str, Any], key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise DiseaseListError(where, f"缺少 {key}")
    return value.strip()


def _check_keys(entry: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = set(entry) - allowed
    if unknown:
        raise DiseaseListError(where, f"未知的键 {sorted(unknown)}")


def parse_national(text: str, where: str = "national") -> tuple[Disease, ...]:
    body = yaml.safe_load(text) or {}
    if not isinstance(body, dict) or not isinstance(body.get("diseases"), list):
        raise DiseaseListError(where, "须有 diseases 列表")
    out: list[Disease] = []
    seen: set[str] = set()
    for index, entry in enumerate(body["diseases"]):
        at = f"{where} diseases[{index}]"
        if not isinstance(entry, dict):
            raise DiseaseListError(at, "须为映射")
        _check_keys(
            entry,
            {"code", "name", "national_name", "from", "until", "verified", "reference"},
            at,
        )
        code = normalise_code(_text(entry, "code", at))
        if code in seen:
            raise DiseaseListError(at, f"病种编码 {code} 重复")
        seen.add(code)
        until = entry.get("until")
        valid_from = _date(entry.get("from"), at)
        valid_until = None if until is None else _date(until, at)
        if valid_until is not None and valid_until <= valid_from:
            raise DiseaseListError(at, "until 须晚于 from")
        if not isinstance(entry.get("verified"), bool):
            raise DiseaseListError(at, "verified 须为 true 或 false")
        out.append(
            Disease(
                code=code,
                name=_text(entry, "name", at),
                scope=ListScope.NATIONAL,
                valid_from=valid_from,
                valid_until=valid_until,
                reference=_text(entry, "reference", at),
                verified=entry["verified"],
                national_name=str(entry.get("national_name") or ""),
            )
        )
    return tuple(out)


#: What a disease's annual limit counts (``metadata.limit_on`` of a regional list).
LIMIT_BASES = ("fund_paid", "eligible")


def _benefit(
    on: dt.date, raw: Any, illustrative: bool, at: str, limit_on: str = ""
) -> DiseaseBenefit:
    if raw is None or (isinstance(raw, dict) and raw.get("value", "") is None):
        return DiseaseBenefit(on, None, None, "", illustrative)
    if not isinstance(raw, dict):
        raise DiseaseListError(at, "须为映射 {annual_limit, rate, reference}")
    _check_keys(raw, {"annual_limit", "rate", "deductible", "reference", "illustrative"}, at)
    limit_raw, rate_raw = raw.get("annual_limit"), raw.get("rate")
    deductible_raw = raw.get("deductible")
    for name, value in (
        ("annual_limit", limit_raw),
        ("rate", rate_raw),
        ("deductible", deductible_raw),
    ):
        if value is not None and not isinstance(value, str):
            raise DiseaseListError(at, f'{name} 须加引号（如 "1500.00"）')
    try:
        limit = None if limit_raw is None else Money(limit_raw)
        rate = None if rate_raw is None else Decimal(rate_raw)
        deductible = None if deductible_raw is None else Money(deductible_raw)
    except (InvalidOperation, ValueError, YidiError) as exc:
        raise DiseaseListError(at, f"金额或比例无效（{exc}）") from None
    if rate is not None and not Decimal(0) <= rate <= Decimal(1):
        raise DiseaseListError(at, "rate 须为 0–1 的小数")
    if limit is not None and limit.is_negative():
        raise DiseaseListError(at, "annual_limit 不能为负")
    if deductible is not None and deductible.is_negative():
        raise DiseaseListError(at, "deductible 不能为负")
    return DiseaseBenefit(
        on,
        limit,
        rate,
        _text(raw, "reference", at),
        bool(raw.get("illustrative", illustrative)),
        deductible,
        limit_on,
    )


def parse_regional(text: str, region_code: str, where: str) -> tuple[Disease, ...]:
    body = yaml.safe_load(text) or {}
    if not isinstance(body, dict):
        raise DiseaseListError(where, "须为映射")
    _check_keys(body, {"metadata", "diseases"}, where)
    metadata = body.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise DiseaseListError(where, "metadata 须为映射")
    _check_keys(
        metadata, {"region_name", "illustrative", "limit_on", "reference"}, f"{where} metadata"
    )
    if not isinstance(metadata.get("illustrative"), bool):
        raise DiseaseListError(where, "metadata.illustrative 须为 true 或 false")
    illustrative = metadata["illustrative"]
    limit_on = metadata.get("limit_on", "")
    if limit_on not in ("", *LIMIT_BASES):
        raise DiseaseListError(where, f"metadata.limit_on 须为 {' 或 '.join(LIMIT_BASES)}")
    out: list[Disease] = []
    seen: set[str] = set()
    for index, entry in enumerate(body.get("diseases") or []):
        at = f"{where} diseases[{index}]"
        if not isinstance(entry, dict):
            raise DiseaseListError(at, "须为映射")
        _check_keys(entry, {"code", "name", "values"}, at)
        code = normalise_code(_text(entry, "code", at))
        if code in seen:
            raise DiseaseListError(at, f"病种编码 {code} 重复")
        seen.add(code)
        values = entry.get("values")
        if not isinstance(values, dict) or not values:
            raise DiseaseListError(at, "须有按日期的 values")
        benefits = tuple(
            _benefit(_date(on, at), raw, illustrative, f"{at} {on}", limit_on)
            for on, raw in sorted(values.items(), key=lambda item: str(item[0]))
        )
        first = benefits[0].effective_on
        last = benefits[-1]
        ended = last.annual_limit is None and last.rate is None
        out.append(
            Disease(
                code=code,
                name=_text(entry, "name", at),
                scope=ListScope.REGIONAL,
                valid_from=first,
                valid_until=last.effective_on if ended else None,
                reference=next((b.reference for b in benefits if b.reference), ""),
                verified=not illustrative,
                benefits=benefits,
            )
        )
    return tuple(out)


class DiseaseLists:
    """The shipped lists (or those under ``policy_root``), parsed once per instance."""

    def __init__(
        self, data_root: Traversable | None = None, policy_root: Traversable | None = None
    ):
        base = resources.files("yidi")
        self._data_root = data_root or base / "data" / "national"
        self._policy_root = policy_root or base / "policies"

    @functools.cached_property
    def national(self) -> tuple[Disease, ...]:
        file = self._data_root / LIST_FILE
        return parse_national(file.read_text("utf-8"), f"data/national/{LIST_FILE}")

    @functools.lru_cache(maxsize=64)  # noqa: B019 - one instance per container
    def _regional(self, region_code: str) -> tuple[Disease, ...] | None:
        file = self._policy_root / region_code / LIST_FILE
        if not file.is_file():
            return None
        return parse_regional(
            file.read_text("utf-8"), region_code, f"policies/{region_code}/{LIST_FILE}"
        )

    def list_region_of(self, insured_region_code: str) -> str | None:
        """The region whose own file applies: the code itself, its prefecture, its province."""
        code = insured_region_code
        for candidate in dict.fromkeys((code, code[:4] + "00", code[:2] + "0000")):
            if self._regional(candidate) is not None:
                return candidate
        return None

    def for_region(self, insured_region_code: str) -> DiseaseList:
        region = self.list_region_of(insured_region_code)
        regional = self._regional(region) if region is not None else None
        return merge_lists(self.national, regional or (), region)

    def national_list(self) -> DiseaseList:
        return DiseaseList(None, self.national)

    def check(self) -> list[str]:
        """Every list file parsed; the problems found (for ``yidi policy check`` and tests)."""
        problems: list[str] = []
        try:
            self.national  # noqa: B018
        except YidiError as error:
            problems.append(error.message)
        if self._policy_root.is_dir():
            for region_dir in sorted(self._policy_root.iterdir(), key=lambda item: item.name):
                if (region_dir / LIST_FILE).is_file():
                    try:
                        self._regional(region_dir.name)
                    except YidiError as error:
                        problems.append(error.message)
        return problems
