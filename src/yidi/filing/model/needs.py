"""What each filing type needs on a given day (备案类型所需材料): the answer a step-by-step
filing asks before it shows a single field.

The national model of the day (:mod:`yidi.policy.national`: 2017 — four categories plus
emergency, evidence only; 2022 — two classes, six types, a personal promise for some) says
which types exist, their class, and whether a promise (承诺制) may stand in for the proof;
the agency's rules table (:mod:`yidi.filing.model.rules`) says which documents satisfy the
proof, who may file, and whether the type needs an admission date or names its hospital.
Nothing here is a literal of its own: it joins the two.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from yidi.filing.model.evidence import EvidenceKind
from yidi.filing.model.rules import EvidenceRequirement, FilingRule, IssuerPlace, rule_for
from yidi.kernel.insurance import FilingCategory, InsuranceType, PersonType
from yidi.policy.national import FilingClass, FilingModel, national_model


@dataclass(frozen=True, slots=True)
class TypeNeeds:
    """One filing type as offered on one day."""

    category: FilingCategory
    filing_class: FilingClass
    class_label_zh: str
    label_zh: str  # the era's own name of the type
    who_may_file_zh: str
    evidence: tuple[EvidenceRequirement, ...]
    promise_allowed: bool
    promise_documents_due_days: int | None
    admission_date_required: bool
    names_its_hospital: bool  # the filing covers the hospital named on the form only
    insurance_types: frozenset[InsuranceType]
    person_types: frozenset[PersonType] | None
    era: str

    @property
    def needs_proof(self) -> bool:
        return bool(self.evidence)

    @property
    def evidence_kinds(self) -> tuple[EvidenceKind, ...]:
        """The kinds of document that satisfy one of the requirements, in rule order."""
        return tuple(dict.fromkeys(kind for req in self.evidence for kind in req.kinds))

    @property
    def issuer_place_needed(self) -> bool:
        """Whether the issuer's place is checked (so the form must ask for it)."""
        return any(req.issuer_place is not IssuerPlace.ANYWHERE for req in self.evidence)

    def open_to(self, insurance_type: InsuranceType | None, person_type: PersonType | None) -> bool:
        """Whether a person of this insurance and person type may file as this type (an
        unknown value is not held against them: the agency's check decides)."""
        if insurance_type is not None and insurance_type not in self.insurance_types:
            return False
        return not (
            self.person_types is not None
            and person_type is not None
            and person_type not in self.person_types
        )


def _needs(model: FilingModel, category: FilingCategory, rule: FilingRule) -> TypeNeeds:
    type_rule = model.type_rule(category)
    return TypeNeeds(
        category=category,
        filing_class=type_rule.filing_class,
        class_label_zh=model.class_labels[type_rule.filing_class],
        label_zh=type_rule.label_zh,
        who_may_file_zh=rule.who_may_file_zh,
        evidence=rule.evidence,
        promise_allowed=model.promise_allowed_for(category),
        promise_documents_due_days=(
            model.promise_documents_due_days if model.promise_allowed_for(category) else None
        ),
        admission_date_required=rule.requires_admission_date,
        names_its_hospital=rule.restricted_to_named_institutions,
        insurance_types=rule.insurance_types,
        person_types=rule.person_types,
        era=model.era,
    )


def filing_types_on(
    on_date: dt.date,
    region_filing: Mapping[str, object] | None = None,
    rules: Mapping[FilingCategory, FilingRule] | None = None,
) -> tuple[TypeNeeds, ...]:
    """Every filing type that exists on ``on_date`` (with the insured region's choices), in
    the national data's order: long-term classes first as the data lists them."""
    model = national_model(on_date, region_filing)
    return tuple(_needs(model, category, rule_for(category, rules)) for category in model.types)


def type_needs(
    category: FilingCategory,
    on_date: dt.date,
    region_filing: Mapping[str, object] | None = None,
    rules: Mapping[FilingCategory, FilingRule] | None = None,
) -> TypeNeeds | None:
    """The needs of ``category`` on ``on_date``; None when the day's model has no such type."""
    for needs in filing_types_on(on_date, region_filing, rules):
        if needs.category is category:
            return needs
    return None


def filing_classes_on(
    on_date: dt.date,
    region_filing: Mapping[str, object] | None = None,
    rules: Mapping[FilingCategory, FilingRule] | None = None,
) -> tuple[tuple[FilingClass, str, tuple[TypeNeeds, ...]], ...]:
    """The day's types grouped by class: (class, its name, its types)."""
    types = filing_types_on(on_date, region_filing, rules)
    classes = dict.fromkeys(needs.filing_class for needs in types)
    return tuple(
        (
            filing_class,
            next(n.class_label_zh for n in types if n.filing_class is filing_class),
            tuple(n for n in types if n.filing_class is filing_class),
        )
        for filing_class in classes
    )
