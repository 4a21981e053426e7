from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import pytest

from yidi.filing.model.eligibility import (
    REIMBURSEMENT_MATERIALS,
    RULES,
    CareType,
    EligibilityAnswer,
    EligibilityQuestion,
    Verdict,
    check_eligibility,
)
from yidi.kernel.errors import InvalidInput
from yidi.kernel.insurance import FilingCategory

# The seeds sit in shared/ beside the repository (locally and in CI).
SEED = Path(__file__).resolve().parents[3] / "shared" / "seeds" / "hengyang-news-2017.txt"


def _ask(
    category: FilingCategory | None,
    care: CareType,
    *,
    accident: bool = False,
    filed: bool = True,
) -> tuple[Verdict, list[str]]:
    answer = check_eligibility(EligibilityQuestion(category, care, accident, filed))
    return answer.verdict, [rule.code for rule in answer.rules]


def test_a_filed_retiree_admitted_to_hospital_settles_directly() -> None:
    verdict, rules = _ask(FilingCategory.RETIREE_RESETTLED, CareType.INPATIENT)
    assert verdict is Verdict.DIRECT
    assert "CONNECTED_HOSPITAL" in rules


def test_an_accidental_injury_admission_is_never_settled_directly_even_when_filed() -> None:
    for category in FilingCategory:
        for care in (CareType.INPATIENT, CareType.EMERGENCY_ADMITTED_72H):
            verdict, rules = _ask(category, care, accident=True, filed=True)
            assert verdict is Verdict.NOT_DIRECT
            assert rules[0] == "ACCIDENT_EXCLUDED"


def test_accident_answer_lists_the_four_reimbursement_materials() -> None:
    answer = check_eligibility(
        EligibilityQuestion(FilingCategory.LONG_TERM_RESIDENT, CareType.INPATIENT, True, True)
    )
    assert answer.show_reimbursement_materials
    assert [zh for zh, _ in REIMBURSEMENT_MATERIALS] == [
        "住院收据原件",
        "出院记录或住院病案首页",
        "疾病诊断证明书",
        "住院医疗费用总清单",
    ]


@pytest.mark.parametrize("care", [CareType.OUTPATIENT, CareType.EMERGENCY])
def test_ordinary_outpatient_and_emergency_visits_are_excluded_for_everyone(
    care: CareType,
) -> None:
    for category, filed in itertools.product([*FilingCategory, None], [True, False]):
        if category is None and filed:
            continue
        verdict, rules = _ask(category, care, filed=filed)
        assert verdict is Verdict.NOT_DIRECT
        assert rules[0] == "OUTPATIENT_EXCLUDED"


def test_emergency_admitted_within_72_hours_settles_directly_once_filed() -> None:
    verdict, rules = _ask(FilingCategory.EMERGENCY, CareType.EMERGENCY_ADMITTED_72H, filed=True)
    assert verdict is Verdict.DIRECT
    assert "EMERGENCY_72H_ADMISSION" in rules


def test_an_unfiled_emergency_admission_can_still_settle_if_filed_within_three_working_days() -> (
    None
):
    verdict, rules = _ask(FilingCategory.EMERGENCY, CareType.EMERGENCY_ADMITTED_72H, filed=False)
    assert verdict is Verdict.DIRECT_IF_FILED_IN_TIME
    assert "EMERGENCY_FILING_3_WORKING_DAYS" in rules


def test_a_traveller_in_none_of_the_groups_admitted_after_an_emergency_counts_as_emergency() -> (
    None
):
    answer = check_eligibility(
        EligibilityQuestion(None, CareType.EMERGENCY_ADMITTED_72H, False, False)
    )
    assert answer.verdict is Verdict.DIRECT_IF_FILED_IN_TIME
    assert answer.treated_as_category is FilingCategory.EMERGENCY
    assert answer.rules[0].code == "EMERGENCY_DEFINITION"


def test_an_unfiled_planned_admission_outside_the_four_groups_is_reimbursed_back_home() -> None:
    verdict, rules = _ask(None, CareType.INPATIENT, filed=False)
    assert verdict is Verdict.NOT_DIRECT
    assert rules[:2] == ["FOUR_GROUPS", "FILING_REQUIRED"]


@pytest.mark.parametrize(
    ("category", "evidence"),
    [
        (FilingCategory.RETIREE_RESETTLED, "安置地户口"),
        (FilingCategory.LONG_TERM_RESIDENT, "居住证"),
        (FilingCategory.POSTED_WORKER, "单位派驻证明"),
        (FilingCategory.REFERRAL, "转诊转院审批表"),
    ],
)
def test_an_unfiled_admission_is_not_direct_and_says_what_to_file_with_next_time(
    category: FilingCategory, evidence: str
) -> None:
    answer = check_eligibility(EligibilityQuestion(category, CareType.INPATIENT, False, False))
    assert answer.verdict is Verdict.NOT_DIRECT
    assert "FILING_REQUIRED" in [rule.code for rule in answer.rules]
    assert any(evidence in step.text_zh for step in answer.steps)


def test_claiming_to_be_filed_without_a_category_is_an_error_on_the_category_field() -> None:
    with pytest.raises(InvalidInput) as caught:
        check_eligibility(EligibilityQuestion(None, CareType.INPATIENT, False, True))
    assert caught.value.field == "category"
    assert "人员类别" in caught.value.message


def test_every_question_gets_an_answer_with_at_least_one_rule_and_one_step() -> None:
    for category, care, accident, filed in itertools.product(
        [*FilingCategory, None], CareType, [True, False], [True, False]
    ):
        if category is None and filed:
            continue
        answer = check_eligibility(EligibilityQuestion(category, care, accident, filed))
        assert answer.rules and answer.steps


@pytest.mark.skipif(not SEED.exists(), reason="the seed documents are not on this machine")
def test_every_rule_quotes_the_hengyang_seed_word_for_word() -> None:
    seed = SEED.read_text(encoding="utf-8")
    for rule in RULES.values():
        for fragment in rule.quote.split("……"):
            assert fragment in seed, rule.code


# --- 双向享受: care at the insured place, on both sides of the 2022 rules' first day -------


def _home(on: dt.date, *, promise_outstanding: bool = False) -> EligibilityAnswer:
    return check_eligibility(
        EligibilityQuestion(
            FilingCategory.RETIREE_RESETTLED,
            CareType.INPATIENT,
            False,
            True,
            at_insured_place=True,
            on_date=on,
            promise_outstanding=promise_outstanding,
        )
    )


def test_a_filed_long_term_resident_settles_at_home_from_the_2022_rules() -> None:
    before, after = _home(dt.date(2022, 7, 31)), _home(dt.date(2022, 8, 1))
    assert before.verdict is Verdict.NOT_DIRECT
    assert before.rules[0].code == "BOTH_WAYS_CLOSED" and "2017" in before.rules[0].source
    assert after.verdict is Verdict.DIRECT and after.rules[0].code == "BOTH_WAYS"
    assert "readke.com" in after.rules[0].quote


def test_outstanding_promised_documents_close_home_care() -> None:
    answer = _home(dt.date(2024, 10, 10), promise_outstanding=True)
    assert answer.verdict is Verdict.NOT_DIRECT
    assert "补齐" in answer.steps[0].text_zh


def test_care_at_home_needs_its_date() -> None:
    with pytest.raises(InvalidInput) as error:
        check_eligibility(
            EligibilityQuestion(None, CareType.INPATIENT, False, False, at_insured_place=True)
        )
    assert error.value.code == "ELIGIBILITY_DATE_REQUIRED"
