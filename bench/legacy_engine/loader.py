"""Load dated, cited policy files (OpenFisca style) and answer ``policy_at(region, type, day)``.

Layout: ``policies/<region_code>/<employee|resident>/*.yaml`` (package data). Each
parameter is a mapping with ``values`` keyed by the ISO date it takes effect; every dated
entry has ``value`` and ``reference``; ``value: null`` ends the rule from that date. Money
and rates are quoted decimal strings: a bare number in such a position is an error, as are
duplicate keys (ruamel.yaml refuses them) and keys the schema does not know.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from yidi.domain.errors import InvalidInput, NotFound, Refused, ValidationFailed, YidiError
from yidi.domain.insurance import (
    UNFILED_KEY,
    AssistanceGroup,
    EncounterType,
    FilingCategory,
    HospitalLevel,
    InsuranceType,
    PersonType,
)
from yidi.domain.money import Money

from legacy_engine.model import (
    AccountScope,
    AssistanceRule,
    CrossRegionRule,
    PersonalAccountRule,
    Policy,
    RateBand,
    Reference,
    SupplementaryKind,
    SupplementaryRule,
    Tier,
)

# --------------------------------------------------------------------------- schema

Parsed = Any  # Money | Decimal | bool | int | str | tuple


class _Type:
    """A leaf value type: a name for messages and a parser that raises ValueError."""

    def __init__(self, name: str, parse: Callable[[object], Parsed]) -> None:
        self.name = name
        self.parse = parse


def _decimal_text(value: object, what: str) -> Decimal:
    if not isinstance(value, str):
        raise ValueError(
            f'{what}必须写成带引号的字符串（如 "0.85"），不能是裸数字 {value!r}'
            f" | {what} must be a quoted string, not a bare {type(value).__name__}"
        )
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        raise ValueError(f"“{value}”不是有效数字 | {value!r} is not a number") from None
    if not number.is_finite():
        raise ValueError(f"“{value}”不是有效数字 | {value!r} is not a number")
    return number


def _money(value: object) -> Money:
    number = _decimal_text(value, "金额")
    if number < 0 or number != number.quantize(Decimal("0.01")):
        raise ValueError(
            f"金额“{value}”须为非负且最多两位小数 | amount must be non-negative with at most two decimals"
        )
    return Money(number)


def _rate(value: object) -> Decimal:
    number = _decimal_text(value, "比例")
    if not Decimal(0) <= number <= Decimal(1):
        raise ValueError(f"比例“{value}”须在 0 到 1 之间 | a rate is a fraction between 0 and 1")
    return number


def _points(value: object) -> Decimal:
    number = _decimal_text(value, "调整百分点")
    if not Decimal(-1) <= number <= Decimal(1):
        raise ValueError(
            f"调整“{value}”须在 -1 到 1 之间 | rate points are a fraction between -1 and 1"
        )
    return number


def _bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"须为 true 或 false，而不是 {value!r} | must be true or false")
    return value


def _int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"须为非负整数，而不是 {value!r} | must be a non-negative integer")
    return value


def _enum(choices: tuple[str, ...]) -> Callable[[object], str]:
    def parse(value: object) -> str:
        if value not in choices:
            raise ValueError(
                f"取值 {value!r} 不在 {', '.join(choices)} 之中 | must be one of {', '.join(choices)}"
            )
        return str(value)

    return parse


def _segments(second_key: str, second: Callable[[object], Decimal]) -> Callable[[object], Parsed]:
    def parse(value: object) -> tuple[tuple[Money, Decimal], ...]:
        if not isinstance(value, list) or not value:
            raise ValueError("须为非空列表 | must be a non-empty list")
        rows: list[tuple[Money, Decimal]] = []
        for row in value:
            if not isinstance(row, Mapping) or set(row) != {"from_amount", second_key}:
                raise ValueError(
                    f"每段须且只须有 from_amount 和 {second_key} | each segment needs exactly from_amount and {second_key}"
                )
            rows.append((_money(row["from_amount"]), second(row[second_key])))
        starts = [start for start, _ in rows]
        if starts[0] != Money.zero() or any(a >= b for a, b in itertools.pairwise(starts)):
            raise ValueError(
                "分段须从 0.00 开始并严格递增 | segments must start at 0.00 and increase strictly"
            )
        return tuple(rows)

    return parse


def _encounter_list(value: object) -> frozenset[EncounterType]:
    keys = {member.policy_key: member for member in EncounterType}
    if not isinstance(value, list) or not all(item in keys for item in value):
        raise ValueError(
            f"须为列表，取值于 {', '.join(keys)} | must be a list of {', '.join(keys)}"
        )
    return frozenset(keys[item] for item in value)


MONEY = _Type("money", _money)
RATE = _Type("rate", _rate)
POINTS = _Type("points", _points)
BOOL = _Type("bool", _bool)
INT = _Type("int", _int)


def _leaf_schema() -> dict[str, _Type]:
    levels = [level.key for level in HospitalLevel]
    people = [person.value for person in PersonType]
    categories = [category.value for category in FilingCategory] + [UNFILED_KEY]
    groups = [group.value for group in AssistanceGroup]
    schema: dict[str, _Type] = {}
    for level in levels:
        schema[f"deductible.by_hospital_level.{level}"] = MONEY
        schema[f"reimbursement.by_hospital_level.{level}"] = RATE
    schema["deductible.subsequent_admission_rate"] = RATE
    for person in people:
        schema[f"deductible.person_type_rate.{person}"] = RATE
        schema[f"reimbursement.person_type_points.{person}"] = POINTS
    schema["reimbursement.bands"] = _Type("bands", _segments("points", _points))
    schema["annual_cap"] = MONEY
    for category in categories:
        schema[f"cross_region.{category}.rate_points"] = POINTS
        schema[f"cross_region.{category}.direct_settlement"] = BOOL
    schema["cross_region.emergency_pre_admission_hours"] = INT
    schema["cross_region.direct_settlement_encounter_types"] = _Type(
        "encounter types", _encounter_list
    )
    schema["supplementary.kind"] = _Type(
        "kind", _enum(tuple(kind.value for kind in SupplementaryKind))
    )
    schema["supplementary.deductible"] = MONEY
    schema["supplementary.tiers"] = _Type("tiers", _segments("rate", _rate))
    schema["supplementary.annual_cap"] = MONEY
    for group in groups:
        schema[f"medical_assistance.rate_by_group.{group}"] = RATE
    schema["medical_assistance.annual_cap"] = MONEY
    schema["personal_account.enabled"] = BOOL
    schema["personal_account.scope"] = _Type(
        "scope", _enum(tuple(scope.value for scope in AccountScope))
    )
    return schema


LEAF_SCHEMA: dict[str, _Type] = _leaf_schema()
_BRANCHES: frozenset[str] = frozenset(
    ".".join(path.split(".")[:depth])
    for path in LEAF_SCHEMA
    for depth in range(1, path.count(".") + 1)
)
_LEAF_KEYS = frozenset({"description", "values"})
_ENTRY_KEYS = frozenset({"value", "reference", "illustrative"})
_METADATA_KEYS = frozenset({"region_name", "insurance_type", "illustrative", "description"})

# Required in force for a usable policy; the rest have neutral defaults.
REQUIRED = (
    *(f"deductible.by_hospital_level.{level.key}" for level in HospitalLevel),
    *(f"reimbursement.by_hospital_level.{level.key}" for level in HospitalLevel),
    "annual_cap",
)

# --------------------------------------------------------------------------- parsed files


@dataclass(frozen=True, slots=True)
class DatedValue:
    effective_on: dt.date
    value: Parsed | None  # None ends the rule
    reference: Reference | None


@dataclass(frozen=True)
class PolicyIssue:
    """One problem found in a policy file, with where it is."""

    file: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.path or '(文件)'}: {self.message}"


@dataclass
class PolicySource:
    """All parameters of one region and insurance type, with their dated values."""

    region_code: str
    insurance_type: InsuranceType
    region_name: str = ""
    illustrative: bool = False
    parameters: dict[str, tuple[DatedValue, ...]] = field(default_factory=dict)

    def value_on(self, path: str, on_date: dt.date) -> DatedValue | None:
        current: DatedValue | None = None
        for entry in self.parameters.get(path, ()):
            if entry.effective_on <= on_date:
                current = entry
        if current is None or current.value is None:
            return None
        return current


def _yaml() -> YAML:
    loader = YAML(typ="safe", pure=True)
    loader.allow_duplicate_keys = False
    return loader


def _as_date(key: object) -> dt.date | None:
    if isinstance(key, dt.datetime):
        return None
    if isinstance(key, dt.date):
        return key
    if isinstance(key, str):
        try:
            return dt.date.fromisoformat(key)
        except ValueError:
            return None
    return None


def _parse_leaf(
    node: object, path: str, file: str, issues: list[PolicyIssue], illustrative: bool
) -> tuple[DatedValue, ...]:
    kind = LEAF_SCHEMA[path]
    if not isinstance(node, Mapping) or "values" not in node:
        issues.append(PolicyIssue(file, path, "参数须有 values | a parameter needs `values`"))
        return ()
    for key in node:
        if key not in _LEAF_KEYS:
            issues.append(PolicyIssue(file, f"{path}.{key}", "未知的键 | unknown key"))
    values = node["values"]
    if not isinstance(values, Mapping) or not values:
        issues.append(
            PolicyIssue(file, path, "values 须为按日期排列的映射 | values must map dates")
        )
        return ()
    entries: list[DatedValue] = []
    for raw_date, entry in values.items():
        where = f"{path}.values.{raw_date}"
        day = _as_date(raw_date)
        if day is None:
            issues.append(PolicyIssue(file, where, "日期须为 YYYY-MM-DD | dates are YYYY-MM-DD"))
            continue
        if not isinstance(entry, Mapping) or "value" not in entry:
            issues.append(
                PolicyIssue(file, where, "须有 value 和 reference | needs value and reference")
            )
            continue
        for key in entry:
            if key not in _ENTRY_KEYS:
                issues.append(PolicyIssue(file, f"{where}.{key}", "未知的键 | unknown key"))
        reference_text = entry.get("reference")
        raw_value = entry["value"]
        if raw_value is not None and (
            not isinstance(reference_text, str) or not reference_text.strip()
        ):
            issues.append(
                PolicyIssue(
                    file, where, "每个取值须注明依据（文件及条款）| every value needs a reference"
                )
            )
            continue
        value: Parsed | None = None
        if raw_value is not None:
            try:
                value = kind.parse(raw_value)
            except ValueError as error:
                issues.append(PolicyIssue(file, where, str(error)))
                continue
        entry_illustrative = entry.get("illustrative", illustrative)
        if not isinstance(entry_illustrative, bool):
            issues.append(PolicyIssue(file, f"{where}.illustrative", "须为 true 或 false"))
            entry_illustrative = illustrative
        reference = (
            Reference(reference_text.strip(), day, entry_illustrative)
            if isinstance(reference_text, str)
            else None
        )
        entries.append(DatedValue(day, value, reference))
    entries.sort(key=lambda item: item.effective_on)
    return tuple(entries)


def _walk(
    node: Mapping[Any, Any], prefix: str, file: str, issues: list[PolicyIssue]
) -> Iterator[tuple[str, object]]:
    for key, child in node.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if path in LEAF_SCHEMA:
            yield path, child
        elif path in _BRANCHES and isinstance(child, Mapping):
            yield from _walk(child, path, file, issues)
        elif path in _BRANCHES:
            issues.append(PolicyIssue(file, path, "须为映射 | must be a mapping"))
        else:
            issues.append(PolicyIssue(file, path, "未知的键 | unknown key"))


def parse_policy_directory(
    files: list[tuple[str, str]], region_code: str, insurance_type: InsuranceType
) -> tuple[PolicySource, list[PolicyIssue]]:
    """Parse the YAML texts ``(file name, text)`` of one region and insurance type."""
    source = PolicySource(region_code, insurance_type)
    issues: list[PolicyIssue] = []
    seen_metadata = ""
    for name, text in files:
        try:
            document = _yaml().load(text)
        except YAMLError as error:  # includes duplicate keys
            issues.append(
                PolicyIssue(name, "", f"YAML 无法解析（含重复键）| {error}".replace("\n", " "))
            )
            continue
        if document is None:
            continue
        if not isinstance(document, Mapping):
            issues.append(PolicyIssue(name, "", "文件须为映射 | the file must be a mapping"))
            continue
        body = dict(document)
        metadata = body.pop("metadata", None)
        illustrative = source.illustrative
        if metadata is not None:
            if seen_metadata:
                issues.append(
                    PolicyIssue(name, "metadata", f"metadata 已在 {seen_metadata} 中定义")
                )
            seen_metadata = name
            if not isinstance(metadata, Mapping):
                issues.append(PolicyIssue(name, "metadata", "须为映射 | must be a mapping"))
            else:
                for key in metadata:
                    if key not in _METADATA_KEYS:
                        issues.append(
                            PolicyIssue(name, f"metadata.{key}", "未知的键 | unknown key")
                        )
                if metadata.get("insurance_type") != insurance_type.policy_folder:
                    issues.append(
                        PolicyIssue(
                            name,
                            "metadata.insurance_type",
                            f"须为 {insurance_type.policy_folder}（与目录一致）| must match the folder",
                        )
                    )
                region_name = metadata.get("region_name")
                if not isinstance(region_name, str) or not region_name:
                    issues.append(PolicyIssue(name, "metadata.region_name", "须填写地区名称"))
                else:
                    source.region_name = region_name
                flag = metadata.get("illustrative", False)
                source.illustrative = illustrative = flag is True
        for path, leaf in _walk(body, "", name, issues):
            if path in source.parameters:
                issues.append(PolicyIssue(name, path, "参数重复定义 | parameter defined twice"))
                continue
            source.parameters[path] = _parse_leaf(leaf, path, name, issues, illustrative)
    if not seen_metadata:
        issues.append(
            PolicyIssue(
                f"{region_code}/{insurance_type.policy_folder}", "metadata", "缺少 metadata"
            )
        )
    for path in REQUIRED:
        if path not in source.parameters:
            issues.append(
                PolicyIssue(
                    f"{region_code}/{insurance_type.policy_folder}", path, "缺少必需参数 | required"
                )
            )
    return source, issues


# --------------------------------------------------------------------------- library


@dataclass(frozen=True)
class PolicyLibrary:
    """Every region's parsed policy sources, plus every issue found while parsing."""

    sources: Mapping[tuple[str, InsuranceType], PolicySource]
    issues: tuple[PolicyIssue, ...]

    def regions(self) -> list[tuple[str, InsuranceType]]:
        return sorted(self.sources, key=lambda key: (key[0], key[1].value))


def _read_tree(root: Traversable) -> PolicyLibrary:
    sources: dict[tuple[str, InsuranceType], PolicySource] = {}
    issues: list[PolicyIssue] = []
    for region_dir in sorted(root.iterdir(), key=lambda item: item.name):
        if not region_dir.is_dir() or region_dir.name.startswith(("_", ".")):
            continue
        if not (region_dir.name.isdigit() and len(region_dir.name) == 6):
            issues.append(
                PolicyIssue(region_dir.name, "", "地区目录须为6位区划代码 | six-digit code")
            )
            continue
        for type_dir in sorted(region_dir.iterdir(), key=lambda item: item.name):
            if not type_dir.is_dir():
                continue
            try:
                insurance_type = InsuranceType.parse(type_dir.name)
            except ValueError:
                issues.append(
                    PolicyIssue(
                        f"{region_dir.name}/{type_dir.name}", "", "须为 employee 或 resident"
                    )
                )
                continue
            files = [
                (f"{region_dir.name}/{type_dir.name}/{item.name}", item.read_text(encoding="utf-8"))
                for item in sorted(type_dir.iterdir(), key=lambda item: item.name)
                if item.name.endswith((".yaml", ".yml"))
            ]
            source, found = parse_policy_directory(files, region_dir.name, insurance_type)
            sources[(region_dir.name, insurance_type)] = source
            issues.extend(found)
    return PolicyLibrary(sources, tuple(issues))


def load_policy_library(root: Path | Traversable | None = None) -> PolicyLibrary:
    """Parse a policy tree (default: the shipped ``yidi/policies``), collecting all issues."""
    if root is None:
        return shipped_policy_library()
    return _read_tree(root)


@lru_cache(maxsize=1)
def shipped_policy_library() -> PolicyLibrary:
    return _read_tree(Path(__file__).parent / "policies")


# --------------------------------------------------------------------------- policy_at


def _version_hash(source: PolicySource, in_force: Mapping[str, DatedValue]) -> str:
    def canonical(value: Parsed) -> object:
        if isinstance(value, (tuple, frozenset, list)):
            items = [canonical(item) for item in value]
            return sorted(items, key=str) if isinstance(value, frozenset) else items
        if isinstance(value, bool):
            return value
        return str(value)

    payload = {
        "region": source.region_code,
        "insurance_type": source.insurance_type.value,
        "parameters": {
            path: {
                "value": canonical(entry.value),
                "reference": entry.reference.text if entry.reference else "",
            }
            for path, entry in sorted(in_force.items())
        },
    }
    text = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def build_policy(source: PolicySource, on_date: dt.date) -> Policy:
    """The frozen :class:`Policy` of ``source`` in force on ``on_date``."""
    in_force: dict[str, DatedValue] = {}
    for path in source.parameters:
        entry = source.value_on(path, on_date)
        if entry is not None:
            in_force[path] = entry
    missing = [path for path in REQUIRED if path not in in_force]
    if missing:
        raise Refused(
            "POLICY_NOT_IN_FORCE",
            f"{source.region_code} {source.insurance_type.label_zh} 在 {on_date.isoformat()} 没有有效的政策参数：{', '.join(missing)}",
            f"no policy in force for {source.region_code} on {on_date.isoformat()}: {', '.join(missing)}",
            field="on_date",
        )

    def get(path: str, default: Parsed) -> Parsed:
        entry = in_force.get(path)
        return default if entry is None else entry.value

    levels = {
        level: get(f"deductible.by_hospital_level.{level.key}", None) for level in HospitalLevel
    }
    rates = {
        level: get(f"reimbursement.by_hospital_level.{level.key}", None) for level in HospitalLevel
    }
    cross_region: dict[str, CrossRegionRule] = {}
    for key in [category.value for category in FilingCategory] + [UNFILED_KEY]:
        cross_region[key] = CrossRegionRule(
            rate_points=get(f"cross_region.{key}.rate_points", Decimal(0)),
            direct_settlement=get(f"cross_region.{key}.direct_settlement", key != UNFILED_KEY),
        )
    supplementary = None
    if "supplementary.kind" in in_force:
        supplementary = SupplementaryRule(
            kind=SupplementaryKind(get("supplementary.kind", None)),
            deductible=get("supplementary.deductible", Money.zero()),
            tiers=tuple(
                Tier(start, rate)
                for start, rate in get("supplementary.tiers", ((Money.zero(), Decimal(0)),))
            ),
            annual_cap=get("supplementary.annual_cap", Money.zero()),
        )
    assistance_rates = {
        group: get(f"medical_assistance.rate_by_group.{group.value}", None)
        for group in AssistanceGroup
    }
    assistance = None
    if any(rate is not None for rate in assistance_rates.values()):
        assistance = AssistanceRule(
            rate_by_group={g: r for g, r in assistance_rates.items() if r is not None},
            annual_cap=get("medical_assistance.annual_cap", Money.zero()),
        )
    return Policy(
        region_code=source.region_code,
        region_name=source.region_name,
        insurance_type=source.insurance_type,
        on_date=on_date,
        version_hash=_version_hash(source, in_force),
        illustrative=source.illustrative
        or any(
            entry.reference is not None and entry.reference.illustrative
            for entry in in_force.values()
        ),
        deductible_by_level=levels,
        subsequent_admission_rate=get("deductible.subsequent_admission_rate", Decimal(1)),
        deductible_person_rate={
            person: get(f"deductible.person_type_rate.{person.value}", Decimal(1))
            for person in PersonType
        },
        rate_by_level=rates,
        person_type_points={
            person: get(f"reimbursement.person_type_points.{person.value}", Decimal(0))
            for person in PersonType
        },
        bands=tuple(
            RateBand(start, points)
            for start, points in get("reimbursement.bands", ((Money.zero(), Decimal(0)),))
        ),
        annual_cap=get("annual_cap", None),
        cross_region=cross_region,
        emergency_pre_admission_hours=get("cross_region.emergency_pre_admission_hours", 72),
        direct_settlement_encounter_types=get(
            "cross_region.direct_settlement_encounter_types",
            frozenset({EncounterType.INPATIENT, EncounterType.EMERGENCY_TO_INPATIENT}),
        ),
        supplementary=supplementary,
        medical_assistance=assistance,
        personal_account=PersonalAccountRule(
            enabled=get("personal_account.enabled", False),
            scope=AccountScope(get("personal_account.scope", AccountScope.IN_SCOPE_ONLY.value)),
        ),
        references={
            path: entry.reference for path, entry in in_force.items() if entry.reference is not None
        },
    )


def policy_at(
    region_code: str,
    insurance_type: InsuranceType,
    on_date: dt.date,
    library: PolicyLibrary | None = None,
) -> Policy:
    """The insured region's policy (参保地政策) in force on ``on_date``."""
    library = library or shipped_policy_library()
    source = library.sources.get((region_code, insurance_type))
    if source is None:
        raise NotFound(
            "POLICY_REGION_UNKNOWN",
            f"没有 {region_code} 的{insurance_type.label_zh}政策文件",
            f"no policy files for region {region_code}, {insurance_type.policy_folder}",
            field="insured_region",
        )
    own_issues = [
        issue
        for issue in library.issues
        if issue.file.startswith(f"{region_code}/{insurance_type.policy_folder}")
    ]
    if own_issues:
        raise ValidationFailed(
            [InvalidInput("POLICY_FILE_INVALID", str(issue), str(issue)) for issue in own_issues]
        )
    return build_policy(source, on_date)


def check_policies(root: Path | Traversable | None = None) -> list[PolicyIssue]:
    """Every issue in a policy tree, including values that cannot be built on their dates."""
    library = load_policy_library(root)
    issues = list(library.issues)
    for (region, insurance_type), source in library.sources.items():
        days = sorted(
            {entry.effective_on for entries in source.parameters.values() for entry in entries}
        )
        buildable = False
        for day in days:
            try:
                build_policy(source, day)
                buildable = True
            except YidiError as error:
                if error.code != "POLICY_NOT_IN_FORCE":
                    issues.append(
                        PolicyIssue(f"{region}/{insurance_type.policy_folder}", "", error.message)
                    )
        if days and not buildable:
            issues.append(
                PolicyIssue(
                    f"{region}/{insurance_type.policy_folder}",
                    "",
                    "任何日期都没有完整的必需参数 | no date has every required parameter in force",
                )
            )
    return issues
