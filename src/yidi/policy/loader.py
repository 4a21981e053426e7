"""Load dated, cited policy files (OpenFisca style) and answer ``policy_at(region, type, day)``.

Layout: ``policies/<region_code>/<employee|resident>/*.yaml``. The files of one folder
together hold:

* ``metadata`` (region name, insurance type, illustrative flag), once;
* ``rounding``: the unit each step's amount is rounded to (``fen`` / ``jiao`` / ``yuan``);
* ``cross_region``: 异地就医 rate adjustments by filing category and what settles directly;
* ``schemes``: one benefit scheme per encounter kind (``inpatient``, ``outpatient``,
  ``chronic``, ``pharmacy``), each an ordered list of steps with their parameters.

Every parameter is a mapping with ``values`` keyed by the ISO date it takes effect; every
dated entry has ``value`` and ``reference``; ``value: null`` ends the parameter from that
date. Money and rates are quoted decimal strings: a bare number in such a position is an
error, as are duplicate keys (ruamel.yaml refuses them), keys the schema does not know and
a required parameter that is missing. The format is documented in docs/policy-files.md.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from yidi.chronic.lists import LIST_FILE as CHRONIC_LIST_FILE
from yidi.chronic.lists import DiseaseLists
from yidi.chronic.model import DiseaseList, ListScope
from yidi.kernel.errors import InvalidInput, NotFound, Refused, ValidationFailed, YidiError
from yidi.kernel.insurance import (
    UNFILED_KEY,
    AssistanceGroup,
    EncounterType,
    FilingCategory,
    HospitalLevel,
    InsuranceType,
    PersonType,
)
from yidi.policy.model import (
    AccountScope,
    AgeBand,
    AssistanceStep,
    Bracket,
    ChronicDiseaseStep,
    CrossRegionRule,
    DeductibleBasis,
    DeductibleStep,
    DiseaseLimitStep,
    DiseaseTerms,
    ItemGroup,
    LimitBasis,
    LineSplitStep,
    PersonalAccountStep,
    Policy,
    PooledFundStep,
    Reference,
    Rounding,
    Scale,
    ScaleBase,
    ScaleMode,
    Scheme,
    SchemeKind,
    Step,
    StepKind,
    SupplementaryKind,
    SupplementaryStart,
    SupplementaryStep,
    TiltAssistanceStep,
)
from yidi.policy.national import REGION_PARAMETERS as NATIONAL_REGION_PARAMETERS
from yidi.policy.national import national_eras, national_model

# --------------------------------------------------------------------------- value types

Parsed = Any


class _Type:
    """A value type: a name for messages and a parser that raises ValueError."""

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


def _money(value: object) -> Decimal:
    number = _decimal_text(value, "金额")
    if number < 0 or number != number.quantize(Decimal("0.01")):
        raise ValueError(
            f"金额“{value}”须为非负且最多两位小数 | amount must be non-negative with at most two decimals"
        )
    return number.quantize(Decimal("0.01"))


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


def _text(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("须为非空文字 | must be non-empty text")
    return value.strip()


def _enum(choices: tuple[str, ...]) -> Callable[[object], str]:
    def parse(value: object) -> str:
        if value not in choices:
            raise ValueError(
                f"取值 {value!r} 不在 {', '.join(choices)} 之中 | must be one of {', '.join(choices)}"
            )
        return str(value)

    return parse


def _encounter_list(value: object) -> frozenset[EncounterType]:
    keys = {member.policy_key: member for member in EncounterType}
    if not isinstance(value, list) or not all(item in keys for item in value):
        raise ValueError(
            f"须为列表，取值于 {', '.join(keys)} | must be a list of {', '.join(keys)}"
        )
    return frozenset(keys[item] for item in value)


def _key_parser(kind: str) -> Callable[[object], object]:
    levels = {level.key: level for level in HospitalLevel}
    people = {person.value: person for person in PersonType}
    groups = {group.value: group for group in AssistanceGroup}

    def pick(table: Mapping[str, object], what: str) -> Callable[[object], object]:
        def parse(key: object) -> object:
            if key not in table:
                raise ValueError(
                    f"{what} {key!r} 不在 {', '.join(table)} 之中 | unknown {what} {key!r}"
                )
            return table[str(key)]

        return parse

    def ordinal(key: object) -> object:
        number = int(key) if isinstance(key, int) or (isinstance(key, str) and key.isdigit()) else 0
        if number < 1 or isinstance(key, bool):
            raise ValueError(f"住院次序须为 1、2、3… 而不是 {key!r} | ordinals are 1, 2, 3…")
        return number

    def disease(key: object) -> object:
        if not isinstance(key, str) or not re.fullmatch(r"[A-Za-z0-9_.\-]{1,32}", key):
            raise ValueError(f"病种编码 {key!r} 无效 | invalid disease code")
        return key

    return {
        "hospital_level": pick(levels, "医院级别"),
        "person_type": pick(people, "人员类别"),
        "assistance_group": pick(groups, "救助对象类别"),
        "ordinal": ordinal,
        "disease": disease,
    }[kind]


def _table(key_kind: str, value: Callable[[object], Parsed]) -> Callable[[object], Parsed]:
    parse_key = _key_parser(key_kind)

    def parse(raw: object) -> dict[object, Parsed]:
        if not isinstance(raw, Mapping) or not raw:
            raise ValueError("须为非空映射 | must be a non-empty mapping")
        out: dict[object, Parsed] = {}
        for key, item in raw.items():
            out[parse_key(key)] = value(item)
        return out

    return parse


def _list_of(
    what: str, keys: frozenset[str], required: frozenset[str]
) -> Callable[[object], list[Mapping[str, object]]]:
    def parse(raw: object) -> list[Mapping[str, object]]:
        if not isinstance(raw, list) or not raw:
            raise ValueError(f"{what}须为非空列表 | must be a non-empty list")
        for row in raw:
            if not isinstance(row, Mapping) or not required <= set(row) or not set(row) <= keys:
                raise ValueError(
                    f"{what}每项须有 {', '.join(sorted(required))}，可有 {', '.join(sorted(keys - required))} "
                    f"| each entry needs {', '.join(sorted(required))}"
                )
        return raw

    return parse


def _brackets(raw: object, *, allow_points: bool) -> tuple[Bracket, ...]:
    keys = frozenset({"threshold", "rate", "points"} if allow_points else {"threshold", "rate"})
    rows = _list_of("分段", keys, frozenset({"threshold"}))(raw)
    brackets: list[Bracket] = []
    for row in rows:
        has_rate, has_points = "rate" in row, "points" in row
        if has_rate == has_points:
            raise ValueError(
                "每段须且只须有 rate 或 points 之一 | each bracket has exactly one of rate or points"
                if allow_points
                else "每段须有 rate | each bracket needs rate"
            )
        brackets.append(
            Bracket(
                threshold=_money(row["threshold"]),
                rate=_rate(row["rate"]) if has_rate else None,
                points=_points(row["points"]) if has_points else None,
            )
        )
    starts = [bracket.threshold for bracket in brackets]
    if starts[0] != 0 or any(a >= b for a, b in itertools.pairwise(starts)):
        raise ValueError(
            "分段须从 0.00 开始并严格递增 | brackets must start at 0.00 and increase strictly"
        )
    return tuple(brackets)


def _scale(raw: object) -> Scale:
    if (
        not isinstance(raw, Mapping)
        or set(raw) - {"base", "mode", "brackets"}
        or "brackets" not in raw
    ):
        raise ValueError(
            "scale 须有 brackets，可有 base 和 mode | a scale has brackets, and optionally base and mode"
        )
    base = _enum(tuple(b.value for b in ScaleBase))(raw.get("base", "above_deductible"))
    mode = _enum(tuple(m.value for m in ScaleMode))(raw.get("mode", "marginal"))
    return Scale(ScaleBase(base), ScaleMode(mode), _brackets(raw["brackets"], allow_points=True))


def _tiers(raw: object) -> tuple[Bracket, ...]:
    return _brackets(raw, allow_points=False)


def _age_bands(raw: object) -> tuple[AgeBand, ...]:
    rows = _list_of("年龄段", frozenset({"from_age", "points"}), frozenset({"from_age", "points"}))(
        raw
    )
    bands = tuple(AgeBand(_int(row["from_age"]), _points(row["points"])) for row in rows)
    ages = [band.from_age for band in bands]
    if ages[0] != 0 or any(a >= b for a, b in itertools.pairwise(ages)):
        raise ValueError(
            "年龄段须从 0 岁开始并严格递增 | age bands start at 0 and increase strictly"
        )
    return bands


def _item_groups(raw: object) -> tuple[ItemGroup, ...]:
    rows = _list_of(
        "项目组",
        frozenset({"name", "codes", "upfront_rate", "unit_limit"}),
        frozenset({"name", "codes"}),
    )(raw)
    groups: list[ItemGroup] = []
    for row in rows:
        codes = row["codes"]
        if (
            not isinstance(codes, list)
            or not codes
            or not all(isinstance(c, str) and c for c in codes)
        ):
            raise ValueError(
                "codes 须为目录编码（前缀）列表 | codes is a list of catalogue code prefixes"
            )
        if "upfront_rate" not in row and "unit_limit" not in row:
            raise ValueError(
                "项目组须有 upfront_rate 或 unit_limit | a group needs upfront_rate or unit_limit"
            )
        groups.append(
            ItemGroup(
                name=_text(row["name"]),
                codes=tuple(codes),
                upfront_rate=_rate(row["upfront_rate"]) if "upfront_rate" in row else None,
                unit_limit=_money(row["unit_limit"]) if "unit_limit" in row else None,
            )
        )
    return tuple(groups)


def _groups(raw: object) -> frozenset[AssistanceGroup]:
    parse = _key_parser("assistance_group")
    if not isinstance(raw, list) or not raw:
        raise ValueError("须为救助对象类别列表 | must be a list of assistance groups")
    return frozenset(parse(item) for item in raw)  # type: ignore[misc]


MONEY = _Type("money", _money)
RATE = _Type("rate", _rate)
POINTS = _Type("points", _points)
BOOL = _Type("bool", _bool)
INT = _Type("int", _int)

# --------------------------------------------------------------------------- schema


#: Top-level parameters (outside schemes).
def _leaf_schema() -> dict[str, _Type]:
    categories = [category.value for category in FilingCategory] + [UNFILED_KEY]
    schema: dict[str, _Type] = {
        "rounding": _Type("rounding", _enum(tuple(r.value for r in Rounding))),
    }
    for category in categories:
        schema[f"cross_region.{category}.rate_points"] = POINTS
        schema[f"cross_region.{category}.direct_settlement"] = BOOL
        schema[f"cross_region.{category}.inpatient_deductible"] = MONEY
        schema[f"cross_region.{category}.inpatient_rate"] = RATE
    schema["cross_region.emergency_pre_admission_hours"] = INT
    # What the national filing rules leave to the 参保地 (yidi.policy.national.REGION_PARAMETERS).
    for name in NATIONAL_REGION_PARAMETERS:
        schema[f"cross_region.filing.{name}"] = (
            _Type("validity kind", _enum(("open_ended", "proof")))
            if name == "long_term_validity"
            else INT
        )
    schema["cross_region.fee_time_future_days"] = INT
    schema["cross_region.direct_settlement_encounter_types"] = _Type(
        "encounter types", _encounter_list
    )
    return schema


LEAF_SCHEMA: dict[str, _Type] = _leaf_schema()
_BRANCHES: frozenset[str] = frozenset(
    ".".join(path.split(".")[:depth])
    for path in LEAF_SCHEMA
    for depth in range(1, path.count(".") + 1)
)
REQUIRED_TOP = ("rounding",)


@dataclass(frozen=True)
class ParamSpec:
    type: _Type
    required: bool = False
    meaning_zh: str = ""


def _p(
    name: str, parse: Callable[[object], Parsed], meaning: str, required: bool = False
) -> ParamSpec:
    return ParamSpec(_Type(name, parse), required, meaning)


#: Each step kind's parameters: name -> type, required, meaning (for `policy explain`).
STEP_PARAMS: dict[StepKind, dict[str, ParamSpec]] = {
    StepKind.LINE_SPLIT: {
        "item_groups": _p("item groups", _item_groups, "特定项目组的先行自付比例或单价支付上限"),
    },
    StepKind.DEDUCTIBLE: {
        "amount": _p("money", _money, "起付线（元，不分医院级别）"),
        "by_hospital_level": _p(
            "money by level", _table("hospital_level", _money), "起付线（元，按医院级别）"
        ),
        "basis": _p(
            "basis",
            _enum(tuple(b.value for b in DeductibleBasis)),
            "每次（per_claim）或每年一次（per_year）",
        ),
        "by_admission_ordinal": _p(
            "rate by ordinal", _table("ordinal", _rate), "按本年度住院次序的起付线比例"
        ),
        "person_type_rate": _p(
            "rate by person type", _table("person_type", _rate), "按人员类别的起付线比例"
        ),
        "floor": _p("money", _money, "最低起付线（元）"),
        "annual_cap": _p("money", _money, "年度累计起付线上限（元）"),
    },
    StepKind.POOLED_FUND: {
        "rate": _p("rate", _rate, "支付比例（不分医院级别）"),
        "rate_by_hospital_level": _p(
            "rate by level", _table("hospital_level", _rate), "支付比例（按医院级别）"
        ),
        "person_type_points": _p(
            "points by person type", _table("person_type", _points), "按人员类别增减比例"
        ),
        "age_band_points": _p("age bands", _age_bands, "按年龄段增减比例（年龄按出生日期计算）"),
        "scale": _p("scale", _scale, "分段支付（基数、累进或全额、各段比例）"),
        "entry_cap_per_claim": _p("money", _money, "每次纳入统筹支付的金额上限（元）"),
        "entry_cap_per_year": _p("money", _money, "年度纳入统筹支付的金额上限（元）"),
        "annual_cap": _p("money", _money, "统筹基金年度最高支付限额（元）", required=True),
    },
    StepKind.DISEASE_LIMIT: {
        "annual_limit": _p(
            "money by disease", _table("disease", _money), "各病种年度支付限额（元）", required=True
        ),
        "names": _p("names", _table("disease", _text), "病种名称"),
    },
    StepKind.CHRONIC_DISEASE: {
        "shares_outpatient_cap": _p(
            "bool",
            _bool,
            "门诊慢特病的统筹支付是否同时计入并受普通门诊统筹年度限额（各病种的比例、年度限额、"
            "起付线取自参保地病种目录 chronic_diseases.yaml）",
            required=True,
        ),
    },
    StepKind.SUPPLEMENTARY: {
        "start": _p(
            "start",
            _enum(tuple(s.value for s in SupplementaryStart)),
            "从自身起付线（own_deductible）或统筹封顶线以上（basic_cap）起付",
        ),
        "deductible": _p("money", _money, "大病/大额起付线（元）"),
        "tiers": _p("tiers", _tiers, "分段支付比例", required=True),
        "tiers_mode": _p(
            "mode", _enum(tuple(m.value for m in ScaleMode)), "分段累进（marginal）或全额（whole）"
        ),
        "include_upfront": _p("bool", _bool, "先行自付是否计入基数"),
        "include_deductible": _p("bool", _bool, "基本医保起付线是否计入基数"),
        "annual_cap": _p("money", _money, "年度最高支付限额（元）", required=True),
    },
    StepKind.MEDICAL_ASSISTANCE: {
        "rate_by_group": _p(
            "rate by group",
            _table("assistance_group", _rate),
            "各类救助对象的救助比例",
            required=True,
        ),
        "annual_cap": _p("money", _money, "医疗救助年度限额（元）", required=True),
    },
    StepKind.TILT_ASSISTANCE: {
        "groups": _p("groups", _groups, "倾斜救助对象类别", required=True),
        "threshold": _p(
            "money", _money, "年度政策范围内个人负担超过此额后救助（元）", required=True
        ),
        "rate": _p("rate", _rate, "倾斜救助比例", required=True),
        "annual_cap": _p("money", _money, "倾斜救助年度限额（元）", required=True),
    },
    StepKind.PERSONAL_ACCOUNT: {
        "enabled": _p("bool", _bool, "个人账户可否支付", required=True),
        "scope": _p(
            "scope",
            _enum(tuple(s.value for s in AccountScope)),
            "可支付范围（可支付时必填）：patient_share 全部个人负担，in_scope_only 仅先行自付及政策范围内个人负担",
        ),
        "family_mutual_aid": _p(
            "bool",
            _bool,
            "家庭共济：已登记的近亲属的个人账户可否支付本方案的个人负担（按同一范围）",
        ),
    },
}

#: Exactly one of these must be given.
_ONE_OF: dict[StepKind, tuple[str, str]] = {
    StepKind.DEDUCTIBLE: ("amount", "by_hospital_level"),
    StepKind.POOLED_FUND: ("rate", "rate_by_hospital_level"),
}

#: Steps run in this order; a scheme lists them in a non-decreasing rank.
_RANK = {kind: index for index, kind in enumerate(StepKind)}
_SINGLE = frozenset(
    {
        StepKind.LINE_SPLIT,
        StepKind.DEDUCTIBLE,
        StepKind.POOLED_FUND,
        StepKind.CHRONIC_DISEASE,
        StepKind.PERSONAL_ACCOUNT,
    }
)
_STEP_KEYS = frozenset({"id", "kind", "description", "params", "fund", "counter", "base_counter"})
_SCHEME_KEYS = frozenset({"label", "description", "steps"})
_LEAF_KEYS = frozenset({"description", "values"})
_ENTRY_KEYS = frozenset({"value", "reference", "illustrative"})
_METADATA_KEYS = frozenset({"region_name", "insurance_type", "illustrative", "description"})
_ID = re.compile(r"[a-z][a-z0-9_]{0,39}")
_COUNTER = re.compile(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)*")

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
class StepSource:
    id: str
    kind: StepKind
    description: str
    file: str
    fund: SupplementaryKind | None = None
    counter: str = ""
    base_counter: str = ""
    #: parameter name -> its path in :attr:`PolicySource.parameters`
    params: dict[str, str] = field(default_factory=dict)


@dataclass
class SchemeSource:
    kind: SchemeKind
    label: str
    description: str
    file: str
    steps: list[StepSource] = field(default_factory=list)


@dataclass
class PolicySource:
    """All parameters of one region and insurance type, with their dated values."""

    region_code: str
    insurance_type: InsuranceType
    region_name: str = ""
    illustrative: bool = False
    description: str = ""
    parameters: dict[str, tuple[DatedValue, ...]] = field(default_factory=dict)
    descriptions: dict[str, str] = field(default_factory=dict)
    schemes: dict[SchemeKind, SchemeSource] = field(default_factory=dict)
    #: the insured region's 门诊慢特病 list (national list + the region's own file), read when
    #: a scheme has a ``chronic_disease`` step
    chronic_list: DiseaseList | None = None

    def value_on(self, path: str, on_date: dt.date) -> DatedValue | None:
        current: DatedValue | None = None
        for entry in self.parameters.get(path, ()):
            if entry.effective_on <= on_date:
                current = entry
        if current is None or current.value is None:
            return None
        return current

    def change_dates(self) -> list[dt.date]:
        return sorted(
            {entry.effective_on for entries in self.parameters.values() for entry in entries}
        )


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
    node: object,
    kind: _Type,
    path: str,
    file: str,
    issues: list[PolicyIssue],
    illustrative: bool,
) -> tuple[tuple[DatedValue, ...], str]:
    if not isinstance(node, Mapping) or "values" not in node:
        issues.append(PolicyIssue(file, path, "参数须有 values | a parameter needs `values`"))
        return (), ""
    for key in node:
        if key not in _LEAF_KEYS:
            issues.append(PolicyIssue(file, f"{path}.{key}", "未知的键 | unknown key"))
    description = node.get("description", "")
    values = node["values"]
    if not isinstance(values, Mapping) or not values:
        issues.append(
            PolicyIssue(file, path, "values 须为按日期排列的映射 | values must map dates")
        )
        return (), ""
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
    return tuple(entries), str(description) if isinstance(description, str) else ""


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


def _parse_step(
    raw: object,
    scheme: SchemeKind,
    index: int,
    source: PolicySource,
    file: str,
    issues: list[PolicyIssue],
    illustrative: bool,
) -> StepSource | None:
    where = f"schemes.{scheme.value}.steps[{index}]"
    if not isinstance(raw, Mapping):
        issues.append(PolicyIssue(file, where, "步骤须为映射 | a step must be a mapping"))
        return None
    for key in raw:
        if key not in _STEP_KEYS:
            issues.append(PolicyIssue(file, f"{where}.{key}", "未知的键 | unknown key"))
    kinds = {kind.value: kind for kind in StepKind}
    kind = kinds.get(str(raw.get("kind")))
    if kind is None:
        issues.append(
            PolicyIssue(
                file,
                f"{where}.kind",
                f"步骤类型须为 {', '.join(kinds)} 之一 | kind must be one of {', '.join(kinds)}",
            )
        )
        return None
    step_id = raw.get("id", kind.value)
    if not isinstance(step_id, str) or not _ID.fullmatch(step_id):
        issues.append(
            PolicyIssue(file, f"{where}.id", "id 须为小写英文、数字、下划线 | id is a-z0-9_")
        )
        return None
    where = f"schemes.{scheme.value}.{step_id}"
    step = StepSource(step_id, kind, str(raw.get("description", "")), file)
    if kind is StepKind.SUPPLEMENTARY:
        funds = {fund.value: fund for fund in SupplementaryKind}
        if raw.get("fund") not in funds:
            issues.append(
                PolicyIssue(
                    file,
                    f"{where}.fund",
                    "大病/大额步骤须写 fund: serious_illness 或 large_expense | fund is required",
                )
            )
        else:
            step.fund = funds[str(raw["fund"])]
    elif "fund" in raw:
        issues.append(
            PolicyIssue(
                file, f"{where}.fund", "仅大病/大额步骤有 fund | only supplementary steps have fund"
            )
        )
    for key in ("counter", "base_counter"):
        if key in raw:
            name = raw[key]
            if not isinstance(name, str) or not _COUNTER.fullmatch(name):
                issues.append(
                    PolicyIssue(file, f"{where}.{key}", "累计项名称无效 | invalid counter name")
                )
            else:
                setattr(step, key, name)
    specs = STEP_PARAMS[kind]
    params = raw.get("params", {})
    if not isinstance(params, Mapping):
        issues.append(PolicyIssue(file, f"{where}.params", "须为映射 | must be a mapping"))
        params = {}
    for name, node in params.items():
        spec = specs.get(str(name))
        if spec is None:
            issues.append(
                PolicyIssue(
                    file,
                    f"{where}.params.{name}",
                    f"{kind.value} 步骤没有此参数（可用：{', '.join(specs)}）| unknown parameter",
                )
            )
            continue
        path = f"{where}.{name}"
        entries, description = _parse_leaf(node, spec.type, path, file, issues, illustrative)
        source.parameters[path] = entries
        source.descriptions[path] = description
        step.params[str(name)] = path
    for name, spec in specs.items():
        if spec.required and name not in step.params:
            issues.append(
                PolicyIssue(
                    file, f"{where}.params.{name}", "缺少必需参数 | required parameter missing"
                )
            )
    pair = _ONE_OF.get(kind)
    if pair is not None and sum(name in step.params for name in pair) != 1:
        issues.append(
            PolicyIssue(
                file,
                f"{where}.params",
                f"须且只须有 {pair[0]} 或 {pair[1]} 之一 | exactly one of {pair[0]}, {pair[1]}",
            )
        )
    if (
        kind in (StepKind.DISEASE_LIMIT, StepKind.CHRONIC_DISEASE)
        and scheme is not SchemeKind.CHRONIC
    ):
        issues.append(
            PolicyIssue(
                file,
                where,
                "病种限额只用于门诊慢特病方案 | disease limits belong to the chronic scheme",
            )
        )
    return step


def _parse_schemes(
    node: object,
    source: PolicySource,
    file: str,
    issues: list[PolicyIssue],
    illustrative: bool,
) -> None:
    if not isinstance(node, Mapping):
        issues.append(PolicyIssue(file, "schemes", "须为映射 | must be a mapping"))
        return
    kinds = {kind.value: kind for kind in SchemeKind}
    for key, raw in node.items():
        kind = kinds.get(str(key))
        where = f"schemes.{key}"
        if kind is None:
            issues.append(
                PolicyIssue(file, where, f"方案须为 {', '.join(kinds)} 之一 | unknown scheme")
            )
            continue
        if kind in source.schemes:
            issues.append(
                PolicyIssue(
                    file,
                    where,
                    f"方案已在 {source.schemes[kind].file} 中定义 | scheme defined twice",
                )
            )
            continue
        if (
            not isinstance(raw, Mapping)
            or not isinstance(raw.get("steps"), list)
            or not raw["steps"]
        ):
            issues.append(
                PolicyIssue(file, where, "方案须有非空 steps 列表 | a scheme needs a list of steps")
            )
            continue
        for sub in raw:
            if sub not in _SCHEME_KEYS:
                issues.append(PolicyIssue(file, f"{where}.{sub}", "未知的键 | unknown key"))
        scheme = SchemeSource(
            kind, str(raw.get("label", kind.label_zh)), str(raw.get("description", "")), file
        )
        for index, item in enumerate(raw["steps"]):
            step = _parse_step(item, kind, index, source, file, issues, illustrative)
            if step is not None:
                scheme.steps.append(step)
        ids = [step.id for step in scheme.steps]
        for step_id in {i for i in ids if ids.count(i) > 1}:
            issues.append(
                PolicyIssue(file, f"{where}.{step_id}", "步骤 id 重复 | duplicate step id")
            )
        ranks = [_RANK[step.kind] for step in scheme.steps]
        if ranks != sorted(ranks):
            issues.append(
                PolicyIssue(
                    file,
                    f"{where}.steps",
                    "步骤顺序须为 line_split → deductible → pooled_fund → disease_limit → chronic_disease → supplementary → "
                    "medical_assistance → tilt_assistance → personal_account | steps out of order",
                )
            )
        for kind_once in _SINGLE:
            if sum(step.kind is kind_once for step in scheme.steps) > 1:
                issues.append(
                    PolicyIssue(
                        file,
                        where,
                        f"{kind_once.value} 只能有一个 | only one {kind_once.value} step",
                    )
                )
        if not scheme.steps or scheme.steps[0].kind is not StepKind.LINE_SPLIT:
            issues.append(
                PolicyIssue(
                    file, f"{where}.steps", "第一步须为 line_split | the first step is line_split"
                )
            )
        source.schemes[kind] = scheme


def parse_policy_directory(
    files: list[tuple[str, str]], region_code: str, insurance_type: InsuranceType
) -> tuple[PolicySource, list[PolicyIssue]]:
    """Parse the YAML texts ``(file name, text)`` of one region and insurance type."""
    source = PolicySource(region_code, insurance_type)
    issues: list[PolicyIssue] = []
    seen_metadata = ""
    folder = f"{region_code}/{insurance_type.policy_folder}"
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
                source.description = str(metadata.get("description", ""))
                flag = metadata.get("illustrative", False)
                source.illustrative = illustrative = flag is True
        schemes = body.pop("schemes", None)
        if schemes is not None:
            _parse_schemes(schemes, source, name, issues, illustrative)
        for path, leaf in _walk(body, "", name, issues):
            if path in source.parameters:
                issues.append(PolicyIssue(name, path, "参数重复定义 | parameter defined twice"))
                continue
            entries, description = _parse_leaf(
                leaf, LEAF_SCHEMA[path], path, name, issues, illustrative
            )
            source.parameters[path] = entries
            source.descriptions[path] = description
    _with_national_rules(source)
    if not seen_metadata:
        issues.append(PolicyIssue(folder, "metadata", "缺少 metadata"))
    for path in REQUIRED_TOP:
        if path not in source.parameters:
            issues.append(PolicyIssue(folder, path, "缺少必需参数 | required"))
    if not source.schemes:
        issues.append(
            PolicyIssue(folder, "schemes", "至少须有一个待遇方案 | at least one benefit scheme")
        )
    return source, issues


# --------------------------------------------------------------------------- national rules

#: The national rule file (``yidi/data/national/settlement_rules.yaml``): rules every region
#: shares; a region's cross_region.yaml may set the same parameter to override it.
NATIONAL_RULES_FILE = "data/national/settlement_rules.yaml"
#: Parameters the national rule file sets (and only those). A policy without a value for one
#: of them on a date (neither national nor its own) is refused, never given a code default.
NATIONAL_PARAMETERS: tuple[str, ...] = (
    "cross_region.emergency_pre_admission_hours",
    "cross_region.fee_time_future_days",
    "cross_region.direct_settlement_encounter_types",
)
#: What every filing category of the day's national filing model, and unfiled care, must
#: state (``cross_region.<category>.<name>``): from the national file or the region's own.
CATEGORY_PARAMETERS: tuple[str, ...] = ("rate_points", "direct_settlement")
#: Per-category parameters the national rule file may set (a region may override them).
NATIONAL_CATEGORY_PARAMETERS: tuple[str, ...] = tuple(
    f"cross_region.{key}.{name}"
    for key in [category.value for category in FilingCategory] + [UNFILED_KEY]
    for name in CATEGORY_PARAMETERS
)


@dataclass(frozen=True)
class NationalRules:
    parameters: Mapping[str, tuple[DatedValue, ...]]
    descriptions: Mapping[str, str]
    issues: tuple[PolicyIssue, ...]


def parse_national_rules(text: str, name: str = NATIONAL_RULES_FILE) -> NationalRules:
    """Parse the national rule file (the leaf format of a region's cross_region.yaml)."""
    issues: list[PolicyIssue] = []
    parameters: dict[str, tuple[DatedValue, ...]] = {}
    descriptions: dict[str, str] = {}
    try:
        document = _yaml().load(text)
    except YAMLError as error:
        issues.append(
            PolicyIssue(name, "", f"YAML 无法解析（含重复键）| {error}".replace("\n", " "))
        )
        document = None
    if document is not None and not isinstance(document, Mapping):
        issues.append(PolicyIssue(name, "", "文件须为映射 | the file must be a mapping"))
    elif document is not None:
        for path, leaf in _walk(document, "", name, issues):
            if path not in NATIONAL_PARAMETERS and path not in NATIONAL_CATEGORY_PARAMETERS:
                issues.append(
                    PolicyIssue(name, path, "不是全国通用参数 | not a national parameter")
                )
                continue
            entries, description = _parse_leaf(leaf, LEAF_SCHEMA[path], path, name, issues, False)
            parameters[path] = entries
            descriptions[path] = description
    for path in NATIONAL_PARAMETERS:
        if path not in parameters:
            issues.append(PolicyIssue(name, path, "缺少全国通用参数 | national parameter missing"))
    return NationalRules(parameters, descriptions, tuple(issues))


@lru_cache(maxsize=1)
def national_rules() -> NationalRules:
    text = resources.files("yidi").joinpath(NATIONAL_RULES_FILE).read_text(encoding="utf-8")
    return parse_national_rules(text)


def _with_national_rules(source: PolicySource) -> None:
    """Start every national parameter from the national file; a region's own values win from
    their first date on."""
    rules = national_rules()
    for path, national in rules.parameters.items():
        own = source.parameters.get(path, ())
        first = own[0].effective_on if own else None
        source.parameters[path] = (
            tuple(entry for entry in national if first is None or entry.effective_on < first) + own
        )
        source.descriptions.setdefault(path, rules.descriptions.get(path, ""))


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
    if not root.is_dir():
        return PolicyLibrary(
            {}, (PolicyIssue(str(root), "", "政策目录不存在 | no such directory"),)
        )
    lists = DiseaseLists(policy_root=root)
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
            if any(
                step.kind is StepKind.CHRONIC_DISEASE
                for scheme in source.schemes.values()
                for step in scheme.steps
            ):
                try:
                    source.chronic_list = lists.for_region(region_dir.name)
                except YidiError as error:
                    found.append(
                        PolicyIssue(f"{region_dir.name}/{CHRONIC_LIST_FILE}", "", error.message)
                    )
            sources[(region_dir.name, insurance_type)] = source
            issues.extend(found)
    issues.extend(national_rules().issues)
    return PolicyLibrary(sources, tuple(issues))


def load_policy_library(root: Path | Traversable | None = None) -> PolicyLibrary:
    """Parse a policy tree (default: the shipped ``yidi/policies``), collecting all issues."""
    if root is None:
        return shipped_policy_library()
    if isinstance(root, Path):
        return _library_at(str(root.resolve()))
    return _read_tree(root)


@lru_cache(maxsize=8)
def _library_at(path: str) -> PolicyLibrary:
    return _read_tree(Path(path))


@lru_cache(maxsize=1)
def shipped_policy_library() -> PolicyLibrary:
    return _read_tree(resources.files("yidi").joinpath("policies"))


# --------------------------------------------------------------------------- build


def _canonical(value: Parsed) -> object:
    if isinstance(value, Mapping):
        return {
            str(key): _canonical(item)
            for key, item in sorted(value.items(), key=lambda kv: str(kv[0]))
        }
    if isinstance(value, (tuple, frozenset, list)):
        items = [_canonical(item) for item in value]
        return sorted(items, key=str) if isinstance(value, frozenset) else items
    if isinstance(value, (Bracket, AgeBand, ItemGroup, Scale)):
        return {name: _canonical(getattr(value, name)) for name in value.__slots__}
    if isinstance(value, bool) or value is None:
        return value
    return str(value)


def _version_hash(
    source: PolicySource,
    in_force: Mapping[str, DatedValue],
    chronic: Mapping[str, DiseaseTerms] | None = None,
) -> str:
    payload: dict[str, object] = {
        "region": source.region_code,
        "insurance_type": source.insurance_type.value,
        "schemes": {
            kind.value: [
                [step.id, step.kind.value, step.fund, step.counter, step.base_counter]
                for step in scheme.steps
            ]
            for kind, scheme in sorted(source.schemes.items())
        },
        "parameters": {
            path: {
                "value": _canonical(entry.value),
                "reference": entry.reference.text if entry.reference else "",
            }
            for path, entry in sorted(in_force.items())
        },
    }
    if chronic:
        payload["chronic_diseases"] = {
            code: {
                "rate": str(terms.rate),
                "annual_limit": None if terms.annual_limit is None else str(terms.annual_limit),
                "limit_on": terms.limit_on.value,
                "deductible": str(terms.deductible),
                "effective_on": terms.effective_on.isoformat(),
                "reference": terms.reference,
            }
            for code, terms in sorted(chronic.items())
        }
    text = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _chronic_terms(
    source: PolicySource, on_date: dt.date, missing: list[str]
) -> tuple[dict[str, DiseaseTerms], str | None] | None:
    """Each disease's terms in force on ``on_date`` from the region's chronic list (the
    diseases on the list that day with a rate); None when no scheme reads the list."""
    listed = source.chronic_list
    if listed is None:
        return None
    terms: dict[str, DiseaseTerms] = {}
    file = f"policies/{listed.region_code or source.region_code}/{CHRONIC_LIST_FILE}"
    for disease in listed.on(on_date):
        benefit = disease.benefit_on(on_date)
        if benefit is None or benefit.rate is None:
            continue
        if benefit.annual_limit is not None and not benefit.limit_on:
            if f"{file} metadata.limit_on" not in missing:
                missing.append(f"{file} metadata.limit_on")
            continue
        terms[disease.code] = DiseaseTerms(
            code=disease.code,
            name=disease.name,
            rate=benefit.rate,
            annual_limit=None if benefit.annual_limit is None else benefit.annual_limit.yuan,
            limit_on=LimitBasis(benefit.limit_on or LimitBasis.FUND_PAID.value),
            deductible=Decimal("0.00") if benefit.deductible is None else benefit.deductible.yuan,
            effective_on=benefit.effective_on,
            reference=benefit.reference,
            illustrative=benefit.illustrative,
            cross_province=disease.scope is ListScope.NATIONAL,
        )
    return terms, listed.region_code


def _chronic_in_use(schemes: Mapping[SchemeKind, Scheme]) -> Mapping[str, DiseaseTerms]:
    scheme = schemes.get(SchemeKind.CHRONIC)
    step = None if scheme is None else scheme.step(ChronicDiseaseStep)
    return step.diseases if isinstance(step, ChronicDiseaseStep) else {}


def _link_chronic(schemes: dict[SchemeKind, Scheme], label: str, on_date: dt.date) -> None:
    """A chronic scheme settles by its ``chronic_disease`` step alone (no scheme-wide pooled
    fund or disease limit beside it); when the region shares the general-outpatient annual
    cap, the step gets that scheme's counter and cap."""
    scheme = schemes.get(SchemeKind.CHRONIC)
    step = None if scheme is None else scheme.step(ChronicDiseaseStep)
    if scheme is None or not isinstance(step, ChronicDiseaseStep):
        return
    if scheme.step(PooledFundStep) is not None or scheme.step(DiseaseLimitStep) is not None:
        raise Refused(
            "POLICY_SCHEME_CONFLICT",
            f"{label} 在 {on_date.isoformat()} 的门诊慢特病方案同时有 chronic_disease 与 pooled_fund/"
            "disease_limit 步骤：按病种目录结算时不能另设统筹比例或病种限额",
            "a chronic scheme with a chronic_disease step has no pooled_fund or disease_limit step",
            field="on_date",
        )
    if not step.shares_outpatient_cap:
        return
    outpatient = schemes.get(SchemeKind.OUTPATIENT)
    pooled = None if outpatient is None else outpatient.step(PooledFundStep)
    if not isinstance(pooled, PooledFundStep) or pooled.annual_cap is None:
        raise Refused(
            "POLICY_PARAMETER_MISSING",
            f"{label} 在 {on_date.isoformat()} 规定门诊慢特病计入普通门诊年度限额，但没有普通门诊统筹的年度限额",
            "shares_outpatient_cap needs the outpatient scheme's pooled fund annual cap",
            field="on_date",
        )
    linked = replace(step, outpatient_counter=pooled.counter, outpatient_cap=pooled.annual_cap)
    schemes[SchemeKind.CHRONIC] = replace(
        scheme, steps=tuple(linked if s is step else s for s in scheme.steps)
    )


class _Missing(Exception):
    def __init__(self, paths: list[str]) -> None:
        self.paths = paths


def _levels(table: Mapping[HospitalLevel, Decimal], path: str) -> Mapping[HospitalLevel, Decimal]:
    missing = [level.key for level in HospitalLevel if level not in table]
    if missing:
        raise _Missing([f"{path}.{key}" for key in missing])
    return table


def _build_step(
    step: StepSource,
    scheme: SchemeKind,
    in_force: Mapping[str, DatedValue],
    *,
    first_supplementary: bool = True,
    chronic: tuple[Mapping[str, DiseaseTerms], str | None] | None = None,
) -> Step | None:
    """The step in force, None when none of its parameters is in force (ended or not begun)."""
    values = {name: in_force[path] for name, path in step.params.items() if path in in_force}
    if step.params and not values:
        return None
    specs = STEP_PARAMS[step.kind]
    missing = [
        step.params.get(name, f"schemes.{scheme.value}.{step.id}.{name}")
        for name, spec in specs.items()
        if spec.required and name not in values
    ]
    pair = _ONE_OF.get(step.kind)
    if pair is not None and not any(name in values for name in pair):
        missing.append(f"schemes.{scheme.value}.{step.id}.{pair[1]}")
    if missing:
        raise _Missing(missing)
    refs = {name: entry.reference for name, entry in values.items() if entry.reference is not None}

    def get(name: str, default: Parsed = None) -> Parsed:
        entry = values.get(name)
        return default if entry is None else entry.value

    where = f"schemes.{scheme.value}.{step.id}"
    inpatient = scheme is SchemeKind.INPATIENT
    prefix = scheme.value
    common: dict[str, Any] = {"id": step.id, "description": step.description, "refs": refs}
    if step.kind is StepKind.LINE_SPLIT:
        return LineSplitStep(**common, item_groups=get("item_groups", ()))
    if step.kind is StepKind.DEDUCTIBLE:
        amount = get("amount")
        by_level = (
            {level: amount for level in HospitalLevel}
            if amount is not None
            else _levels(get("by_hospital_level"), f"{where}.by_hospital_level")
        )
        ordinals = get("by_admission_ordinal", {1: Decimal(1)})
        if 1 not in ordinals:
            raise _Missing([f"{where}.by_admission_ordinal.1"])
        top = max(ordinals)
        ordinal_rate: list[Decimal] = []
        for number in range(1, top + 1):
            ordinal_rate.append(
                ordinals.get(number, ordinal_rate[-1] if ordinal_rate else Decimal(1))
            )
        return DeductibleStep(
            **common,
            counter=step.counter
            or ("deductible_used" if inpatient else f"{prefix}.deductible_used"),
            by_level=by_level,
            basis=DeductibleBasis(get("basis", DeductibleBasis.PER_CLAIM.value)),
            ordinal_rate=tuple(ordinal_rate),
            person_rate=get("person_type_rate", {}),
            floor=get("floor"),
            annual_cap=get("annual_cap"),
        )
    if step.kind is StepKind.POOLED_FUND:
        rate = get("rate")
        rates = (
            {level: rate for level in HospitalLevel}
            if rate is not None
            else _levels(get("rate_by_hospital_level"), f"{where}.rate_by_hospital_level")
        )
        scale: Scale | None = get("scale")
        base_counter = step.base_counter
        if scale is not None and not base_counter:
            if scale.base is ScaleBase.YEAR_ELIGIBLE:
                base_counter = f"{prefix}.{step.id}.year_eligible"
            elif scale.base is ScaleBase.YEAR_ABOVE_DEDUCTIBLE:
                base_counter = f"{prefix}.{step.id}.year_above_deductible"
        return PooledFundStep(
            **common,
            counter=step.counter
            or ("pooled_fund_paid" if inpatient else f"{prefix}.pooled_fund_paid"),
            rate_by_level=rates,
            annual_cap=get("annual_cap"),
            person_points=get("person_type_points", {}),
            age_bands=get("age_band_points", ()),
            scale=scale,
            entry_cap_per_claim=get("entry_cap_per_claim"),
            entry_cap_per_year=get("entry_cap_per_year"),
            entry_counter=f"{prefix}.{step.id}.entry",
            base_counter=base_counter,
        )
    if step.kind is StepKind.DISEASE_LIMIT:
        return DiseaseLimitStep(
            **common,
            counter_prefix=step.counter or f"{prefix}.{step.id}",
            annual_limit=get("annual_limit"),
            names=get("names", {}),
        )
    if step.kind is StepKind.CHRONIC_DISEASE:
        return ChronicDiseaseStep(
            **common,
            counter_prefix=step.counter or prefix,
            diseases=chronic[0] if chronic is not None else {},
            list_region=chronic[1] if chronic is not None else None,
            shares_outpatient_cap=get("shares_outpatient_cap"),
        )
    if step.kind is StepKind.SUPPLEMENTARY:
        assert step.fund is not None
        start = SupplementaryStart(get("start", SupplementaryStart.OWN_DEDUCTIBLE.value))
        deductible = get("deductible")
        if start is SupplementaryStart.OWN_DEDUCTIBLE and deductible is None:
            raise _Missing([f"{where}.deductible"])
        include_upfront = get("include_upfront", False)
        include_deductible = get("include_deductible", True)
        # the year's 合规自付 (eligible_amount_accumulated) is the base of the first 大病/大额
        # step only: a later one's base is net of what the earlier ones paid
        default_base = (
            first_supplementary
            and start is SupplementaryStart.OWN_DEDUCTIBLE
            and not include_upfront
            and include_deductible
        )
        return SupplementaryStep(
            **common,
            fund=step.fund,
            counter=step.counter or step.fund.counter,
            base_counter=step.base_counter
            or ("eligible_amount_accumulated" if default_base else f"{prefix}.{step.id}.base"),
            tiers=get("tiers"),
            annual_cap=get("annual_cap"),
            start=start,
            deductible=deductible if deductible is not None else Decimal(0),
            mode=ScaleMode(get("tiers_mode", ScaleMode.MARGINAL.value)),
            include_upfront=include_upfront,
            include_deductible=include_deductible,
        )
    if step.kind is StepKind.MEDICAL_ASSISTANCE:
        return AssistanceStep(
            **common,
            counter=step.counter or "assistance_paid",
            rate_by_group=get("rate_by_group"),
            annual_cap=get("annual_cap"),
        )
    if step.kind is StepKind.TILT_ASSISTANCE:
        return TiltAssistanceStep(
            **common,
            counter=step.counter or f"{step.id}.paid",
            base_counter=step.base_counter or f"{step.id}.base",
            groups=get("groups"),
            threshold=get("threshold"),
            rate=get("rate"),
            annual_cap=get("annual_cap"),
        )
    enabled = get("enabled")
    family = bool(get("family_mutual_aid", False))
    if (enabled or family) and get("scope") is None:
        raise _Missing([f"{where}.scope"])
    return PersonalAccountStep(
        **common,
        enabled=enabled,
        scope=AccountScope(get("scope", AccountScope.IN_SCOPE_ONLY.value)),
        family_mutual_aid=family,
    )


def build_policy(source: PolicySource, on_date: dt.date) -> Policy:
    """The frozen :class:`Policy` of ``source`` in force on ``on_date``.

    Raises ``POLICY_NOT_IN_FORCE`` when no scheme is in force that day and
    ``POLICY_PARAMETER_MISSING`` when a step is only partly in force (a required
    parameter has no value that day) — never a silent zero.
    """
    in_force: dict[str, DatedValue] = {}
    for path in source.parameters:
        entry = source.value_on(path, on_date)
        if entry is not None:
            in_force[path] = entry
    label = f"{source.region_code} {source.insurance_type.label_zh}"
    missing: list[str] = [path for path in REQUIRED_TOP if path not in in_force]
    chronic_terms = _chronic_terms(source, on_date, missing)
    schemes: dict[SchemeKind, Scheme] = {}
    for kind, scheme_source in source.schemes.items():
        steps: list[Step] = []
        active = False
        supplementary_seen = False
        for step_source in scheme_source.steps:
            try:
                built = _build_step(
                    step_source,
                    kind,
                    in_force,
                    first_supplementary=not supplementary_seen,
                    chronic=chronic_terms,
                )
            except _Missing as gap:
                missing.extend(gap.paths)
                continue
            if built is not None:
                supplementary_seen = supplementary_seen or isinstance(built, SupplementaryStep)
                steps.append(built)
                active = active or bool(step_source.params)
        if active:
            schemes[kind] = Scheme(
                kind, scheme_source.label, scheme_source.description, tuple(steps)
            )
    missing.extend(path for path in NATIONAL_PARAMETERS if path not in in_force)
    cross_region_keys = _cross_region_keys(on_date)
    missing.extend(
        f"cross_region.{key}.{name}"
        for key in cross_region_keys
        for name in CATEGORY_PARAMETERS
        if f"cross_region.{key}.{name}" not in in_force
    )
    if missing:
        raise Refused(
            "POLICY_PARAMETER_MISSING",
            f"{label} 在 {on_date.isoformat()} 缺少必需参数：{', '.join(missing)}",
            f"required parameters missing for {source.region_code} on {on_date.isoformat()}: {', '.join(missing)}",
            field="on_date",
        )
    _link_chronic(schemes, label, on_date)
    if not schemes:
        raise Refused(
            "POLICY_NOT_IN_FORCE",
            f"{label} 在 {on_date.isoformat()} 没有有效的待遇方案",
            f"no benefit scheme in force for {source.region_code} on {on_date.isoformat()}",
            field="on_date",
        )

    def get(path: str, default: Parsed) -> Parsed:
        entry = in_force.get(path)
        return default if entry is None else entry.value

    def required(path: str) -> Any:
        """A required parameter (checked above to be in force, national or the region's)."""
        return in_force[path].value

    stated = {
        key: CrossRegionRule(
            rate_points=required(f"cross_region.{key}.rate_points"),
            direct_settlement=required(f"cross_region.{key}.direct_settlement"),
            inpatient_deductible=get(f"cross_region.{key}.inpatient_deductible", None),
            inpatient_rate=get(f"cross_region.{key}.inpatient_rate", None),
        )
        for key in cross_region_keys
    }
    # A category the day's national filing model does not have cannot be filed: such care is
    # unfiled care (e.g. 其他临时外出就医人员 before the 2022 model).
    cross_region = {
        key: stated.get(key, stated[UNFILED_KEY])
        for key in [category.value for category in FilingCategory] + [UNFILED_KEY]
    }
    return Policy(
        region_code=source.region_code,
        region_name=source.region_name,
        insurance_type=source.insurance_type,
        on_date=on_date,
        version_hash=_version_hash(source, in_force, _chronic_in_use(schemes)),
        illustrative=source.illustrative
        or any(
            entry.reference is not None and entry.reference.illustrative
            for entry in in_force.values()
        )
        or any(terms.illustrative for terms in _chronic_in_use(schemes).values()),
        rounding=Rounding(get("rounding", Rounding.FEN.value)),
        schemes=schemes,
        cross_region=cross_region,
        emergency_pre_admission_hours=required("cross_region.emergency_pre_admission_hours"),
        filing_rules={
            name: in_force[f"cross_region.filing.{name}"].value
            for name in NATIONAL_REGION_PARAMETERS
            if f"cross_region.filing.{name}" in in_force
        },
        fee_time_future_days=required("cross_region.fee_time_future_days"),
        direct_settlement_encounter_types=required(
            "cross_region.direct_settlement_encounter_types"
        ),
        references={
            path: entry.reference
            for path, entry in in_force.items()
            if entry.reference is not None and not path.startswith("schemes.")
        },
    )


def _cross_region_keys(on_date: dt.date) -> list[str]:
    """The filing categories of the national filing model on ``on_date``, then unfiled care."""
    types = national_model(on_date).types
    return [category.value for category in FilingCategory if category in types] + [UNFILED_KEY]


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


def _check_dates(source: PolicySource) -> list[dt.date]:
    """Every day a source's values change, plus each national era's first day it spans."""
    own = {
        entry.effective_on
        for path, entries in source.parameters.items()
        if path not in NATIONAL_PARAMETERS and path not in NATIONAL_CATEGORY_PARAMETERS
        for entry in entries
    }
    # National rules start before many regions' own files: check from the region's first day.
    start = min(own) if own else None
    days = own | {day for day in source.change_dates() if start is not None and day >= start}
    if days:
        first = min(days)
        days |= {era.effective_from for era in national_eras() if era.effective_from > first}
    return sorted(days)


def national_ceiling_issues(policy: Policy) -> list[PolicyIssue]:
    """Rate reductions beyond the national ceilings in force on the policy's date.

    医保发〔2022〕22号 (see data/national/filing_rules.yaml): 转诊、急诊 at most 10 points,
    其他临时外出 at most 20 points below the insured region's rate.
    """
    issues: list[PolicyIssue] = []
    model = national_model(policy.on_date)
    for category, ceiling in model.rate_reduction_ceilings.items():
        points = policy.cross_region_rule(category).rate_points
        if points < -ceiling:
            issues.append(
                PolicyIssue(
                    f"{policy.region_code}/{policy.insurance_type.policy_folder}",
                    f"cross_region.{category.value}.rate_points",
                    f"{policy.on_date.isoformat()} 起{category.label_zh}降低"
                    f"{-points * 100:g}个百分点，超过全国规定的最多{ceiling * 100:g}个百分点"
                    f"（{model.rate_reduction_source}） | reduction {-points} exceeds the "
                    f"national ceiling {ceiling} from {model.effective_from.isoformat()}",
                )
            )
    return issues


def check_policies(root: Path | Traversable | None = None) -> list[PolicyIssue]:
    """Every issue in a policy tree, including steps only partly in force on some date."""
    library = load_policy_library(root)
    issues = list(library.issues)
    for (region, insurance_type), source in library.sources.items():
        buildable = False
        breached: set[tuple[str, str]] = set()  # a breach is reported from its first day only
        for day in _check_dates(source):
            try:
                policy = build_policy(source, day)
                buildable = True
                for issue in national_ceiling_issues(policy):
                    if (issue.file, issue.path) not in breached:
                        breached.add((issue.file, issue.path))
                        issues.append(issue)
            except YidiError as error:
                if error.code != "POLICY_NOT_IN_FORCE":
                    issues.append(
                        PolicyIssue(f"{region}/{insurance_type.policy_folder}", "", error.message)
                    )
        if source.parameters and not buildable:
            issues.append(
                PolicyIssue(
                    f"{region}/{insurance_type.policy_folder}",
                    "",
                    "任何日期都没有完整的待遇方案 | no date has a complete benefit scheme in force",
                )
            )
    return issues
