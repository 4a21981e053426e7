"""National cross-region filing rules (全国异地就医备案规则) as dated, cited data.

The rules live in ``yidi/data/national/filing_rules.yaml``: one *era* per national model
(the 2017 seeds' model, the 2022 model of 医保发〔2022〕22号 and the 经办规程), each in force
from its ``effective_from`` until the next era's. :func:`national_rules_on` answers "which
filing classes and types exist on this date, and what does each need"; a region's
``filing.*`` parameters (its cross_region.yaml) override what the national rule leaves to
the 参保地 through :meth:`FilingModel.for_region`.

Pure: reads a packaged file, no I/O beyond that, no storage.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from types import MappingProxyType
from typing import Any

from ruamel.yaml import YAML

from yidi.filing.model.evidence import EvidenceKind
from yidi.kernel.errors import InvalidInput, Refused
from yidi.kernel.insurance import FilingCategory


class FilingClass(enum.StrEnum):
    """2022 备案人员大类."""

    LONG_TERM = "long_term"  # 跨省异地长期居住人员
    TEMPORARY = "temporary"  # 跨省临时外出就医人员


class ValidityKind(enum.StrEnum):
    OPEN_ENDED = "open_ended"  # 长期有效（或与证明材料有效期一致）
    MONTHS = "months"  # 自备案之日起若干个月
    PROOF = "proof"  # 与证明材料（如居住证）有效期一致


#: Region parameter keys a region's cross_region.yaml may set (``filing.<key>``).
REGION_PARAMETERS: tuple[str, ...] = (
    "temporary_validity_months",
    "long_term_validity",
    "long_term_cancel_lock_months",
    "promise_documents_due_days",
    "online_review_working_days",
)


class InjuryRule(enum.StrEnum):
    """How an injury (外伤) admission settles under an era's rules."""

    NEVER = "never"  # 2017：意外伤害住院不纳入直接结算
    WITH_NO_THIRD_PARTY_PROMISE = "with_no_third_party_promise"  # 2022：无第三方责任承诺


@dataclass(frozen=True, slots=True)
class Validity:
    kind: ValidityKind
    months: int | None = None
    repeated_visits: bool = False
    region_parameter: bool = False


@dataclass(frozen=True, slots=True)
class LocalValidity:
    """A filing type's default validity where the era's documents fix none (2017): a local,
    illustrative choice an agency should replace. ``days`` None: valid until changed or cancelled."""

    days: int | None
    note: str
    source: str
    illustrative: bool


@dataclass(frozen=True, slots=True)
class FilingTypeRule:
    """One filing type (备案类型) of an era and what it needs."""

    category: FilingCategory
    filing_class: FilingClass
    label_zh: str
    proof: tuple[EvidenceKind, ...]
    promise_allowed: bool
    validity: Validity | None  # None: the era does not fix it (2017: local choice)
    cancel_lock_months: int
    source: str
    cancel_lock_region_parameter: bool = False
    local_validity: LocalValidity | None = None


@dataclass(frozen=True, slots=True)
class FilingModel:
    """The national filing model in force on one date (optionally with a region's choices)."""

    era: str
    label_zh: str
    effective_from: dt.date
    effective_until: dt.date | None  # exclusive; None while in force
    sources: tuple[str, ...]
    class_labels: Mapping[FilingClass, str]
    types: Mapping[FilingCategory, FilingTypeRule]
    credentials: tuple[str, ...]
    promise_allowed: bool
    promise_documents_due_days: int | None
    promise_lapse_to: FilingCategory | None
    promise_source: str
    emergency_flag_counts_as_filed: bool
    emergency_filing_deadline_working_days: int | None
    emergency_source: str
    late_filing_settles_directly: bool
    late_filing_source: str
    rate_reduction_ceilings: Mapping[FilingCategory, Decimal]
    rate_reduction_source: str
    online_review_working_days: int | None = None  # None: the era fixes no review period
    online_review_source: str = ""
    online_review_region_parameter: bool = False
    online_review_verified: bool = False
    online_review_note: str = ""
    # 补办备案: a filing made after the care may cover it (manual reimbursement at filed rates).
    late_filing_allowed: bool = False
    late_filing_rule_source: str = ""
    # 外伤: whether an injury admission may settle directly (and on what condition).
    injury_rule: InjuryRule = InjuryRule.NEVER
    injury_source: str = ""
    # 双向享受: a filed long-term resident may also settle at the insured place.
    both_ways: bool = False
    both_ways_not_while_promise_outstanding: bool = False
    both_ways_source: str = ""
    region_overrides: Mapping[str, object] = field(default_factory=dict)

    def both_ways_for(self, category: FilingCategory, promise_outstanding: bool) -> bool:
        """Whether a filing of ``category`` leaves care at the insured place open (双向享受)."""
        if self.types.get(category) is None:
            return False
        if self.types[category].filing_class is not FilingClass.LONG_TERM:
            return True  # a temporary filing never touched care at home
        if not self.both_ways:
            return False
        return not (promise_outstanding and self.both_ways_not_while_promise_outstanding)

    def type_rule(self, category: FilingCategory) -> FilingTypeRule:
        """The rule of ``category``, or ``FILING_TYPE_NOT_IN_FORCE`` if the era has no such type."""
        rule = self.types.get(category)
        if rule is None:
            available = "、".join(r.label_zh for r in self.types.values())
            raise Refused(
                "FILING_TYPE_NOT_IN_FORCE",
                f"“{category.label_zh}”在{self.label_zh}中不存在；可选类型：{available}",
                f"filing type {category.value} does not exist in the {self.era} model",
                field="category",
            )
        return rule

    def class_of(self, category: FilingCategory) -> FilingClass:
        return self.type_rule(category).filing_class

    def promise_allowed_for(self, category: FilingCategory) -> bool:
        return self.promise_allowed and self.type_rule(category).promise_allowed

    def cancel_lock_months(self, category: FilingCategory) -> int:
        return self.type_rule(category).cancel_lock_months

    def cancel_locked_until(self, category: FilingCategory, filed_on: dt.date) -> dt.date | None:
        """The first day a filing of ``category`` filed on ``filed_on`` may be changed or cancelled."""
        months = self.cancel_lock_months(category)
        return add_months(filed_on, months) if months else None

    def valid_until(self, category: FilingCategory, valid_from: dt.date) -> dt.date | None:
        """Inclusive last valid day by this era's rule; ``None``: open-ended or not fixed."""
        validity = self.type_rule(category).validity
        if validity is None or validity.kind is not ValidityKind.MONTHS or not validity.months:
            return None
        return add_months(valid_from, validity.months) - dt.timedelta(days=1)

    def promise_documents_due(self, promised_on: dt.date) -> dt.date:
        if self.promise_documents_due_days is None:
            raise Refused(
                "FILING_PROMISE_NOT_IN_FORCE",
                f"{self.label_zh}不实行告知承诺制，须提交证明材料",
                f"the {self.era} model has no personal promise; proof documents are required",
                field="promise_signed",
            )
        return promised_on + dt.timedelta(days=self.promise_documents_due_days)

    def for_region(self, overrides: Mapping[str, object]) -> FilingModel:
        """This model with a region's choices applied where the national rule leaves them open."""
        unknown = sorted(set(overrides) - set(REGION_PARAMETERS))
        if unknown:
            raise InvalidInput(
                "NATIONAL_RULE_OVERRIDE_UNKNOWN",
                f"参保地不能设定以下全国规则参数：{', '.join(unknown)}",
                f"regions cannot override: {', '.join(unknown)}",
            )
        types = dict(self.types)
        for category, rule in self.types.items():
            validity = rule.validity
            lock = rule.cancel_lock_months
            if rule.filing_class is FilingClass.TEMPORARY and validity is not None:
                months = overrides.get("temporary_validity_months")
                if months is not None:
                    national_floor = validity.months or 0
                    if not isinstance(months, int) or months < national_floor:
                        raise InvalidInput(
                            "NATIONAL_RULE_VALIDITY_FLOOR",
                            f"临时外出就医备案有效期不得少于{national_floor}个月（参保地设定为{months}）",
                            f"temporary filings must be valid at least {national_floor} months",
                            field="filing.temporary_validity_months",
                        )
                    validity = replace(validity, months=months)
            if rule.filing_class is FilingClass.LONG_TERM:
                kind = overrides.get("long_term_validity")
                if kind is not None and validity is not None:
                    validity = replace(validity, kind=ValidityKind(str(kind)))
                lock_override = overrides.get("long_term_cancel_lock_months")
                if isinstance(lock_override, int) and rule.cancel_lock_region_parameter:
                    lock = lock_override
            types[category] = replace(rule, validity=validity, cancel_lock_months=lock)
        due = overrides.get("promise_documents_due_days")
        # 线上备案审核时限: a region's value applies only where the era leaves it to the 参保地
        # (2022 model); on an earlier date the national rule (none) stands.
        review = overrides.get("online_review_working_days")
        if review is not None and not self.online_review_region_parameter:
            review = None
        if review is not None and (
            isinstance(review, bool) or not isinstance(review, int) or review < 1
        ):
            raise InvalidInput(
                "NATIONAL_RULE_OVERRIDE_INVALID",
                f"线上备案审核时限须为正整数个工作日（参保地设定为{review}）",
                "the online review period must be a positive number of working days",
                field="filing.online_review_working_days",
            )
        return replace(
            self,
            online_review_working_days=(
                review if isinstance(review, int) else self.online_review_working_days
            ),
            types=MappingProxyType(types),
            promise_documents_due_days=(
                due
                if isinstance(due, int) and self.promise_allowed
                else self.promise_documents_due_days
            ),
            region_overrides=MappingProxyType(dict(overrides)),
        )


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus ``months`` calendar months, clamped to the month's last day."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    next_first = dt.date(year + month // 12, month % 12 + 1, 1)
    last_day = (next_first - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last_day))


# --------------------------------------------------------------------------- loading


def _value(raw: object) -> Any:
    return raw.get("value") if isinstance(raw, Mapping) else raw


def _era(raw: Mapping[str, Any], until: dt.date | None) -> FilingModel:
    class_labels = {
        FilingClass(key): str(value["label_zh"]) for key, value in raw["classes"].items()
    }
    types: dict[FilingCategory, FilingTypeRule] = {}
    for key, entry in raw["types"].items():
        validity_raw = entry.get("validity")
        validity = (
            Validity(
                kind=ValidityKind(validity_raw["kind"]),
                months=validity_raw.get("months"),
                repeated_visits=bool(validity_raw.get("repeated_visits", False)),
                region_parameter=bool(validity_raw.get("region_parameter", False)),
            )
            if validity_raw
            else None
        )
        category = FilingCategory(key)
        types[category] = FilingTypeRule(
            category=category,
            filing_class=FilingClass(entry["class"]),
            label_zh=str(entry["label_zh"]),
            proof=tuple(EvidenceKind(kind) for kind in entry.get("proof", ())),
            promise_allowed=bool(entry.get("promise_allowed", False)),
            validity=validity,
            cancel_lock_months=int(_value(entry["cancel_lock_months"])),
            cancel_lock_region_parameter=bool(
                isinstance(entry.get("cancel_lock_months"), Mapping)
                and entry["cancel_lock_months"].get("region_parameter")
            ),
            source=str(entry.get("source", "；".join(raw["sources"]))),
            local_validity=_local_validity(raw, key, entry.get("local_validity")),
        )
    promise = raw.get("promise") or {}
    emergency = raw["emergency"]
    lapse = promise.get("lapse_to")
    late = raw.get("late_filing") or {}
    injury = raw.get("injury") or {}
    both = raw.get("both_ways") or {}
    return FilingModel(
        era=str(raw["id"]),
        label_zh=str(raw["label_zh"]),
        effective_from=raw["effective_from"],
        effective_until=until,
        sources=tuple(str(s) for s in raw["sources"]),
        class_labels=MappingProxyType(class_labels),
        types=MappingProxyType(types),
        credentials=tuple(raw["credentials"]),
        promise_allowed=bool(raw["promise_allowed"]),
        promise_documents_due_days=_value(promise.get("documents_due_days")),
        promise_lapse_to=FilingCategory(lapse) if lapse else None,
        promise_source=str(promise.get("source", "")),
        emergency_flag_counts_as_filed=bool(emergency["hospital_flag_counts_as_filed"]),
        emergency_filing_deadline_working_days=emergency.get("filing_deadline_working_days"),
        emergency_source=str(emergency["source"]),
        late_filing_settles_directly=bool(raw["late_filing_settles_directly"]),
        late_filing_source=str(raw["late_filing_source"]),
        rate_reduction_ceilings=MappingProxyType(
            {
                FilingCategory(key): Decimal(str(value))
                for key, value in (raw.get("rate_reduction_ceilings") or {}).items()
            }
        ),
        rate_reduction_source=str(raw.get("rate_reduction_source", "")),
        online_review_working_days=_review_days(raw),
        online_review_source=str(raw["online_review"]["source"]),
        online_review_region_parameter=bool(raw["online_review"].get("region_parameter")),
        online_review_verified=bool(raw["online_review"].get("verified")),
        online_review_note=str(raw["online_review"].get("verification_note", "")),
        late_filing_allowed=bool(late.get("allowed", False)),
        late_filing_rule_source=str(late.get("source", "")),
        injury_rule=InjuryRule(str(injury.get("direct_settlement", InjuryRule.NEVER.value))),
        injury_source=str(injury.get("source", "")),
        both_ways=bool(both.get("long_term_at_insured_place", False)),
        both_ways_not_while_promise_outstanding=bool(
            both.get("not_while_promise_outstanding", False)
        ),
        both_ways_source=str(both.get("source", "")),
    )


def _local_validity(
    raw: Mapping[str, Any], key: str, entry: Mapping[str, Any] | None
) -> LocalValidity | None:
    """A type's local validity (days, note, the era's statement that no source fixes it)."""
    if entry is None:
        return None
    days = entry.get("days")
    note = str(entry.get("note") or "")
    source = str(raw.get("local_validity_source") or "")
    if (days is not None and (isinstance(days, bool) or not isinstance(days, int) or days < 1)) or (
        not note or not source
    ):
        raise InvalidInput(
            "NATIONAL_RULE_INVALID",
            f"{raw['id']}年模式“{key}”的本地有效期须为正整数天数（或空）并附说明与依据（{days}）",
            f"era {raw['id']} {key}: local validity must be positive days or null, "
            f"with a note and a source: {days!r}",
            field=f"types.{key}.local_validity",
        )
    return LocalValidity(days, note, source, bool(entry.get("illustrative", False)))


def _review_days(raw: Mapping[str, Any]) -> int | None:
    """The era's review period for online filings (working days), validated; None: not fixed."""
    days = raw["online_review"]["working_days"]
    if days is None:
        return None
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ValueError(
            f"era {raw['id']}: online_review.working_days must be a positive integer or null, "
            f"got {days!r}"
        )
    return days


def parse_national_rules(text: str) -> tuple[FilingModel, ...]:
    """All eras of a national-rules YAML text, oldest first."""
    data = YAML(typ="safe").load(text)
    eras = sorted(data["eras"], key=lambda era: era["effective_from"])
    models = []
    for index, era in enumerate(eras):
        until = eras[index + 1]["effective_from"] if index + 1 < len(eras) else None
        models.append(_era(era, until))
    return tuple(models)


@lru_cache(maxsize=1)
def national_eras() -> tuple[FilingModel, ...]:
    text = (resources.files("yidi") / "data" / "national" / "filing_rules.yaml").read_text("utf-8")
    return parse_national_rules(text)


def national_era(era_id: str) -> FilingModel:
    """The national filing model with ``id`` ``era_id`` in filing_rules.yaml (e.g. ``"2017"``)."""
    for model in national_eras():
        if model.era == era_id:
            return model
    raise KeyError(era_id)


def national_rules_on(on_date: dt.date, eras: tuple[FilingModel, ...] | None = None) -> FilingModel:
    """The national filing model in force on ``on_date``."""
    for model in reversed(eras or national_eras()):
        if model.effective_from <= on_date:
            return model
    raise Refused(
        "NATIONAL_RULES_NOT_IN_FORCE",
        f"{on_date.isoformat()} 没有生效的全国异地就医备案规则",
        f"no national filing rules in force on {on_date.isoformat()}",
        field="on_date",
    )


def national_model(
    on_date: dt.date, region_filing: Mapping[str, object] | None = None
) -> FilingModel:
    """The model on ``on_date`` with a region's choices; dates before the first era use it."""
    eras = national_eras()
    model = national_rules_on(on_date) if on_date >= eras[0].effective_from else eras[0]
    return model.for_region(region_filing) if region_filing else model


def model_2022_from() -> dt.date:
    """The first day of the newest era (the 2022 model's effective date)."""
    return national_eras()[-1].effective_from


# --------------------------------------------------------------------------- prepayment warnings


@dataclass(frozen=True, slots=True)
class PrepaymentWarningRule:
    """预付金预警线: usage at or above ``yellow`` warns (黄色预警), at or above ``red``
    triggers the emergency top-up (红色预警); from ``effective_from`` (data/national/
    prepayment_rules.yaml, with its source)."""

    effective_from: dt.date
    yellow: Decimal
    red: Decimal
    reference: str


def _ratio(raw: object, name: str) -> Decimal:
    value = Decimal(str(raw))
    if not Decimal(0) < value <= Decimal(1):
        raise InvalidInput(
            "NATIONAL_RULE_INVALID",
            f"预付金预警线{name}须在0与1之间（{raw}）",
            f"prepayment warning line {name} must lie in (0, 1]: {raw}",
            field=f"prepayment_warning.{name}",
        )
    return value


def parse_prepayment_rules(text: str) -> tuple[PrepaymentWarningRule, ...]:
    """The dated warning lines of a prepayment-rules YAML text, oldest first."""
    data = YAML(typ="safe").load(text)
    rules = []
    for day, entry in sorted(data["prepayment_warning"]["values"].items()):
        yellow, red = _ratio(entry["yellow"], "yellow"), _ratio(entry["red"], "red")
        if not yellow < red:
            raise InvalidInput(
                "NATIONAL_RULE_INVALID",
                f"黄色预警线（{yellow}）须低于红色预警线（{red}）",
                f"the yellow line ({yellow}) must lie below the red line ({red})",
                field="prepayment_warning",
            )
        reference = str(entry.get("reference") or "")
        if not reference:
            raise InvalidInput(
                "NATIONAL_RULE_INVALID",
                f"预付金预警线（{day}）缺少依据",
                f"the prepayment warning lines of {day} cite no source",
                field="prepayment_warning.reference",
            )
        rules.append(PrepaymentWarningRule(day, yellow, red, reference))
    return tuple(rules)


def _prepayment_rules_text() -> str:
    path = resources.files("yidi") / "data" / "national" / "prepayment_rules.yaml"
    return path.read_text("utf-8")


@lru_cache(maxsize=1)
def prepayment_rules() -> tuple[PrepaymentWarningRule, ...]:
    return parse_prepayment_rules(_prepayment_rules_text())


def parse_prepayment_months(text: str) -> int:
    """The months of average spend a prepayment proposal covers (1 to 12), with its source."""
    entry = YAML(typ="safe").load(text)["prepayment_proposal"]
    months = entry["months"]
    if not isinstance(months, int) or not 1 <= months <= 12 or not entry.get("reference"):
        raise InvalidInput(
            "NATIONAL_RULE_INVALID",
            f"预付金建议月数须为1至12的整数并注明依据（{months}）",
            f"the prepayment proposal months must be 1 to 12 and cite a source: {months}",
            field="prepayment_proposal.months",
        )
    return months


@lru_cache(maxsize=1)
def default_prepayment_months() -> int:
    """预付金建议额的默认月数 (data/national/prepayment_rules.yaml, an illustrative value)."""
    return parse_prepayment_months(_prepayment_rules_text())


def prepayment_warning_on(
    on_date: dt.date, rules: tuple[PrepaymentWarningRule, ...] | None = None
) -> PrepaymentWarningRule:
    """The prepayment warning lines in force on ``on_date``."""
    for rule in reversed(rules or prepayment_rules()):
        if rule.effective_from <= on_date:
            return rule
    raise Refused(
        "NATIONAL_RULES_NOT_IN_FORCE",
        f"{on_date.isoformat()} 没有生效的预付金预警规则",
        f"no prepayment warning lines in force on {on_date.isoformat()}",
        field="on_date",
    )
