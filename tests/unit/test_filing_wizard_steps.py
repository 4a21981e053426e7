"""Which filing types the step-by-step filing offers, and which fields each step shows, on a
2017-model day and a 2022-model day — read from the national rule data, not from the code."""

from __future__ import annotations

import datetime as dt

import pytest

from yidi.entrypoints.web.filing_wizard import (
    DESTINATION,
    PROMISE_CONFIRM,
    PROOF_PATH,
    institution_rows,
    offered_types,
    step_fields,
)
from yidi.filing.model.evidence import EvidenceKind
from yidi.filing.model.needs import TypeNeeds, filing_classes_on, filing_types_on, type_needs
from yidi.kernel.insurance import FilingCategory as C
from yidi.kernel.insurance import InsuranceType, PersonType
from yidi.policy.national import FilingClass, national_rules_on

DAY_2017 = dt.date(2019, 5, 6)
DAY_2022 = dt.date(2026, 11, 20)


def _needs(category: C, day: dt.date = DAY_2022) -> TypeNeeds:
    needs = type_needs(category, day)
    assert needs is not None
    return needs


def test_the_types_offered_are_those_of_the_days_national_model() -> None:
    for day in (DAY_2017, DAY_2022):
        model = national_rules_on(day)
        assert [n.category for n in filing_types_on(day)] == list(model.types)
        assert {n.era for n in filing_types_on(day)} == {model.era}
    assert C.OTHER_TEMPORARY not in [n.category for n in filing_types_on(DAY_2017)]
    assert C.OTHER_TEMPORARY in [n.category for n in filing_types_on(DAY_2022)]
    assert type_needs(C.OTHER_TEMPORARY, DAY_2017) is None


def test_the_types_are_grouped_by_the_days_classes_with_their_names() -> None:
    classes = filing_classes_on(DAY_2022)
    assert [(c, name) for c, name, _ in classes] == [
        (FilingClass.LONG_TERM, "跨省异地长期居住人员"),
        (FilingClass.TEMPORARY, "跨省临时外出就医人员"),
    ]
    assert [c for c, _, _ in filing_classes_on(DAY_2017)] == [
        FilingClass.LONG_TERM,
        FilingClass.TEMPORARY,
    ]
    assert filing_classes_on(DAY_2017)[0][1] == "异地居住人员"


def test_a_promise_may_replace_the_proof_only_where_the_days_model_allows_it() -> None:
    model = national_rules_on(DAY_2022)
    for needs in filing_types_on(DAY_2022):
        assert needs.promise_allowed is model.promise_allowed_for(needs.category)
        assert (needs.promise_documents_due_days is not None) is needs.promise_allowed
    assert _needs(C.LONG_TERM_RESIDENT).promise_allowed
    assert not _needs(C.REFERRAL).promise_allowed
    assert not any(n.promise_allowed for n in filing_types_on(DAY_2017))
    promised = _needs(C.LONG_TERM_RESIDENT)
    assert promised.promise_documents_due_days == model.promise_documents_due_days


def test_a_regions_own_promise_period_is_what_the_wizard_says() -> None:
    needs = type_needs(C.RETIREE_RESETTLED, DAY_2022, {"promise_documents_due_days": 90})
    assert needs is not None and needs.promise_documents_due_days == 90


def test_the_documents_asked_for_are_the_rules_tables_own() -> None:
    assert _needs(C.RETIREE_RESETTLED).evidence_kinds == (EvidenceKind.HOUSEHOLD_REGISTRATION,)
    assert _needs(C.EMERGENCY).evidence_kinds == (
        EvidenceKind.EMERGENCY_RECORD,
        EvidenceKind.ADMISSION_NOTICE,
    )
    assert _needs(C.OTHER_TEMPORARY).evidence_kinds == ()
    assert _needs(C.POSTED_WORKER).issuer_place_needed is False  # issued anywhere
    assert _needs(C.LONG_TERM_RESIDENT).issuer_place_needed  # by the destination's police


def test_only_the_types_open_to_the_person_are_offered() -> None:
    retired = offered_types(DAY_2022, None, InsuranceType.EMPLOYEE, PersonType.EMPLOYEE_RETIRED)
    assert C.POSTED_WORKER not in [n.category for n in retired]
    assert C.RETIREE_RESETTLED in [n.category for n in retired]
    working = offered_types(DAY_2022, None, InsuranceType.EMPLOYEE, PersonType.EMPLOYEE_ACTIVE)
    assert C.POSTED_WORKER in [n.category for n in working]
    assert C.RETIREE_RESETTLED not in [n.category for n in working]
    resident = offered_types(DAY_2022, None, InsuranceType.RESIDENT, PersonType.RESIDENT_ADULT)
    assert C.POSTED_WORKER not in [n.category for n in resident]  # employers post employees


@pytest.mark.parametrize("day", [DAY_2017, DAY_2022])
def test_the_details_step_asks_the_admission_day_of_an_emergency_only(day: dt.date) -> None:
    for needs in filing_types_on(day):
        asks = "admitted_on" in step_fields("details", needs)
        assert asks is (needs.category is C.EMERGENCY)
        assert {"contact_address", "mobile", "institution_0_name"} <= set(
            step_fields("details", needs)
        )


def test_a_type_that_covers_its_named_hospital_asks_for_that_one_only() -> None:
    assert institution_rows(_needs(C.REFERRAL)) == 1
    assert institution_rows(_needs(C.EMERGENCY)) == 1
    assert institution_rows(_needs(C.LONG_TERM_RESIDENT)) == 3
    assert "institution_1_name" not in step_fields("details", _needs(C.REFERRAL))


def test_the_documents_step_on_a_2022_day() -> None:
    promise = step_fields("documents", _needs(C.LONG_TERM_RESIDENT))
    assert promise[0] == PROOF_PATH and PROMISE_CONFIRM in promise
    assert "evidence_region" in promise  # the residence permit comes from the destination
    referral = step_fields("documents", _needs(C.REFERRAL))
    assert PROOF_PATH not in referral and "evidence_file" in referral
    assert step_fields("documents", _needs(C.OTHER_TEMPORARY)) == ()


def test_the_documents_step_on_a_2017_day_never_offers_a_promise() -> None:
    for needs in filing_types_on(DAY_2017):
        fields = step_fields("documents", needs)
        assert PROOF_PATH not in fields and PROMISE_CONFIRM not in fields
        assert "evidence_kind" in fields  # every 2017 type needs its document


def test_the_first_two_steps_ask_one_thing_each() -> None:
    assert step_fields("type", None) == ("category",)
    assert step_fields("destination", None) == (DESTINATION,)
    assert step_fields("details", None) == ()
