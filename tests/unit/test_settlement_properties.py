"""Properties of the settlement engine that must hold for every input and encounter kind.

The policies are the shipped ones (2017 dates) and the test region 990100 of
tests/cases/policies (2024 dates), which uses every step and parameter kind; claims are
住院, 普通门诊, 门诊慢特病 and 定点药店 claims of whatever schemes each policy has.

Monotonicity (adding a fee line never lowers the patient's share) holds under these
conditions, which the test fixes: the same claim (person, hospital level, filing category,
encounter), the same insured policy, the same treatment catalogue and the same year-to-date
totals; the added line has a non-negative amount; the scheme's scales are **marginal**. It
holds because every stage pays a non-decreasing share, rounded half-up per portion, of an
input that grows by no more than the added amount. It does **not** hold for a whole-amount
scale (``mode: whole``, 全额累进: crossing a threshold raises the rate of the whole amount,
so the patient pays less — that is the published rule, see
``test_a_whole_amount_scale_can_lower_the_patient_share``), across claims with different
year-to-date totals (a later admission has a lower deductible), or with a rate above 1
(the loader forbids that).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from yidi.catalog.files import sample_catalog
from yidi.integrations.nhsa.fields import setlinfo_amounts
from yidi.kernel.insurance import (
    AssistanceGroup,
    EncounterType,
    FilingCategory,
    HospitalLevel,
    InsuranceType,
    PersonType,
    SettlementMode,
)
from yidi.kernel.money import Money
from yidi.policy.loader import PolicyLibrary, load_policy_library, policy_at
from yidi.policy.model import (
    AssistanceStep,
    DeductibleStep,
    DiseaseLimitStep,
    Policy,
    PooledFundStep,
    ScaleMode,
    SchemeKind,
    SupplementaryStep,
    TiltAssistanceStep,
)
from yidi.policy.national import national_model
from yidi.settlement import SettlementResult, reverse, settle
from yidi.settlement.claims import Claim, FeeLine, YearToDate, resolve_fee_lines

TEST_TREE = load_policy_library(Path(__file__).parents[1] / "cases" / "policies")
SHIPPED_REGIONS = ("430400", "410100", "410300", "640000")
TREATMENT = "430400"
CATALOG = sample_catalog(TREATMENT)
CODES = (*sorted(CATALOG.items), "X00NOTINCATALOG")
ENCOUNTER = {
    SchemeKind.INPATIENT: EncounterType.INPATIENT,
    SchemeKind.OUTPATIENT: EncounterType.OUTPATIENT,
    SchemeKind.CHRONIC: EncounterType.CHRONIC_OUTPATIENT,
    SchemeKind.PHARMACY: EncounterType.PHARMACY,
}


def _policy(region: str, insurance_type: InsuranceType) -> tuple[Policy, PolicyLibrary | None]:
    if region == "990100":
        return policy_at(region, insurance_type, dt.date(2024, 6, 10), TEST_TREE), TEST_TREE
    return policy_at(region, insurance_type, dt.date(2017, 6, 10)), None


PEOPLE = [
    (region, insurance_type)
    for region in (*SHIPPED_REGIONS, "990100")
    for insurance_type in InsuranceType
]


@st.composite
def fee_lines(draw: st.DrawFn, day: dt.date, serial_start: int = 0) -> list[FeeLine]:
    count = draw(st.integers(min_value=1, max_value=12))
    lines = []
    for index in range(count):
        quantity = Decimal(draw(st.integers(min_value=1, max_value=40)))
        unit_price = Decimal(draw(st.integers(min_value=1, max_value=2_000_000))).scaleb(-2)
        lines.append(
            FeeLine(
                serial=str(serial_start + index),
                catalog_code=draw(st.sampled_from(CODES)),
                hospital_item_code="H",
                name="项目",
                quantity=quantity,
                unit_price=unit_price,
                line_amount=Money.rounded(quantity * unit_price),
                occurred_at=dt.datetime.combine(day, dt.time(9)),
            )
        )
    return lines


@st.composite
def claims(
    draw: st.DrawFn,
    person: tuple[str, InsuranceType] | None = None,
    kind: SchemeKind | None = None,
) -> Claim:
    region, insurance_type = person or draw(st.sampled_from(PEOPLE))
    policy, _ = _policy(region, insurance_type)
    scheme = kind or draw(st.sampled_from(sorted(policy.schemes)))
    if scheme not in policy.schemes:
        scheme = SchemeKind.INPATIENT
    day = policy.on_date
    person_type = draw(
        st.sampled_from([p for p in PersonType if p.insurance_type is insurance_type])
    )
    limits = policy.schemes[scheme].step(DiseaseLimitStep)
    disease = (
        draw(st.sampled_from(sorted(limits.annual_limit)))
        if isinstance(limits, DiseaseLimitStep)
        else None
    )
    stay = dt.timedelta(days=5 if scheme is SchemeKind.INPATIENT else 0)
    return Claim(
        insured_region=region,
        treatment_region=TREATMENT,
        insurance_type=insurance_type,
        person_type=person_type,
        hospital_level=draw(st.sampled_from(list(HospitalLevel))),
        # filed care only (a category of the day's national filing model: 其他临时外出就医人员
        # only from the 2022 model on), so every region settles directly
        filing_category=draw(
            st.sampled_from([c for c in FilingCategory if c in national_model(day).types])
        ),
        admitted_on=day,
        discharged_on=day + stay,
        encounter_type=ENCOUNTER[scheme],
        fee_lines=tuple(draw(fee_lines(day))),
        assistance_group=draw(st.none() | st.sampled_from(list(AssistanceGroup))),
        use_personal_account=draw(st.booleans()),
        personal_account_balance=Money.from_fen(draw(st.integers(0, 2_000_000))),
        birth_date=dt.date(draw(st.integers(1930, 2010)), draw(st.integers(1, 12)), 1),
        disease_code=disease,
    )


def _counter_names(policy: Policy) -> list[str]:
    names = []
    for scheme in policy.schemes.values():
        for step in scheme.steps:
            if isinstance(step, (DeductibleStep, PooledFundStep, SupplementaryStep)):
                names.append(step.counter)
            if isinstance(step, (PooledFundStep, SupplementaryStep, TiltAssistanceStep)):
                names.append(step.base_counter)
            if isinstance(step, (AssistanceStep, TiltAssistanceStep)):
                names.append(step.counter)
            if isinstance(step, DiseaseLimitStep):
                names.extend(f"{step.counter_prefix}.{code}" for code in step.annual_limit)
    return sorted({name for name in names if name})


@st.composite
def years_to_date(draw: st.DrawFn, claim: Claim) -> YearToDate:
    def money(top: int) -> Money:
        return Money.from_fen(draw(st.integers(min_value=0, max_value=top * 100)))

    policy, _ = _policy(claim.insured_region, claim.insurance_type)
    fixed = {
        "deductible_used",
        "pooled_fund_paid",
        "serious_illness_paid",
        "large_expense_paid",
        "assistance_paid",
        "eligible_amount_accumulated",
    }
    counters = {
        name: money(60_000)
        for name in _counter_names(policy)
        if name not in fixed and draw(st.booleans())
    }
    return YearToDate(
        year=claim.settlement_year,
        admissions_count=draw(st.integers(0, 6)),
        deductible_used=money(5_000),
        pooled_fund_paid=money(320_000),
        serious_illness_paid=money(320_000),
        large_expense_paid=money(420_000),
        assistance_paid=money(45_000),
        eligible_amount_accumulated=money(800_000),
        counters=counters,
    )


@st.composite
def claims_with_year(draw: st.DrawFn) -> tuple[Claim, YearToDate]:
    claim = draw(claims())
    return claim, draw(years_to_date(claim))


def _settle(claim: Claim, year_to_date: YearToDate) -> SettlementResult:
    policy, _ = _policy(claim.insured_region, claim.insurance_type)
    resolved = resolve_fee_lines(claim, CATALOG)
    direct = claim.encounter_type in policy.direct_settlement_encounter_types
    mode = SettlementMode.DIRECT if direct else SettlementMode.MANUAL
    return settle(claim, policy, resolved, year_to_date, mode=mode)


def test_every_encounter_kind_is_generated() -> None:
    kinds = {kind for region, t in PEOPLE for kind in _policy(region, t)[0].schemes}
    assert kinds == set(SchemeKind)


@settings(max_examples=400, deadline=None)
@given(claims_with_year())
def test_payers_sum_exactly_and_nothing_is_negative_or_sub_fen(
    case: tuple[Claim, YearToDate],
) -> None:
    claim, year_to_date = case
    result = _settle(claim, year_to_date)
    total = result.total_charges
    assert (
        total
        == result.fully_self_paid
        + result.over_limit_self_paid
        + result.upfront_self_paid
        + result.eligible_amount
    )
    assert total == result.fund_paid_total + result.patient_share
    assert result.fund_paid_total == (
        result.pooled_fund_paid
        + result.serious_illness_paid
        + result.large_expense_paid
        + result.medical_assistance_paid
    )
    assert result.patient_share == result.personal_account_paid + result.cash_paid
    assert result.personal_account_paid <= claim.personal_account_balance
    assert result.deductible_applied <= result.eligible_amount
    assert Decimal(0) <= result.pooled_fund_rate <= Decimal(1)
    for name, amount in result.amounts().items():
        assert not amount.is_negative(), name
        assert amount.yuan.as_tuple().exponent == -2, name
    for line in result.lines:
        assert line.line_amount == (
            line.fully_self_paid
            + line.over_limit_self_paid
            + line.upfront_self_paid
            + line.eligible_amount
        )
    assert result.year_to_date_delta.admissions_count == (
        1 if claim.encounter_type is EncounterType.INPATIENT else 0
    )
    assert set(setlinfo_amounts(result)) >= {"medfee_sumamt", "hifp_pay", "psn_cash_pay"}


def _caps(policy: Policy) -> list[tuple[str, Money]]:
    caps: list[tuple[str, Money]] = []
    for scheme in policy.schemes.values():
        for step in scheme.steps:
            if isinstance(step, DeductibleStep) and step.annual_cap is not None:
                caps.append((step.counter, Money(step.annual_cap)))
            if isinstance(step, PooledFundStep):
                caps.append((step.counter, Money(step.annual_cap)))
                if step.entry_cap_per_year is not None:
                    caps.append((step.entry_counter, Money(step.entry_cap_per_year)))
            if isinstance(step, (SupplementaryStep, AssistanceStep, TiltAssistanceStep)):
                caps.append((step.counter, Money(step.annual_cap)))
            if isinstance(step, DiseaseLimitStep):
                caps.extend(
                    (f"{step.counter_prefix}.{code}", Money(limit))
                    for code, limit in step.annual_limit.items()
                )
    return caps


@st.composite
def sequences(draw: st.DrawFn) -> list[Claim]:
    person = draw(st.sampled_from(PEOPLE))
    policy, _ = _policy(*person)
    kinds = draw(st.lists(st.sampled_from(sorted(policy.schemes)), min_size=1, max_size=10))
    first = draw(claims(person, kinds[0]))
    sequence = [first]
    for kind in kinds[1:]:
        other = draw(claims(person, kind))
        # the same person throughout: person type, age and assistance group stay
        sequence.append(
            replace(
                other,
                person_type=first.person_type,
                birth_date=first.birth_date,
                assistance_group=first.assistance_group,
            )
        )
    return sequence


@settings(max_examples=120, deadline=None)
@given(sequences())
def test_no_cap_is_exceeded_over_any_sequence_of_mixed_kinds(sequence: list[Claim]) -> None:
    first = sequence[0]
    policy, _ = _policy(first.insured_region, first.insurance_type)
    caps = _caps(policy)
    assert caps
    year_to_date = YearToDate.empty(first.settlement_year)
    for claim in sequence:
        result = _settle(claim, year_to_date)
        year_to_date = result.year_to_date_after
        for counter, cap in caps:
            assert year_to_date.counter(counter) <= cap, counter
    inpatient = sum(claim.encounter_type is EncounterType.INPATIENT for claim in sequence)
    assert year_to_date.admissions_count == inpatient


@settings(max_examples=250, deadline=None)
@given(claims_with_year())
def test_settle_then_reverse_restores_the_year_to_date_totals(
    case: tuple[Claim, YearToDate],
) -> None:
    claim, year_to_date = case
    result = _settle(claim, year_to_date)
    assert reverse(result.year_to_date_after, result) == year_to_date


def _marginal_only(claim: Claim) -> bool:
    policy, _ = _policy(claim.insured_region, claim.insurance_type)
    scheme = policy.scheme_for(claim.encounter_type)
    assert scheme is not None
    for step in scheme.steps:
        if isinstance(step, PooledFundStep) and step.scale and step.scale.mode is ScaleMode.WHOLE:
            return False
        if isinstance(step, SupplementaryStep) and step.mode is ScaleMode.WHOLE:
            return False
    return True


@st.composite
def claims_with_extra(draw: st.DrawFn) -> tuple[Claim, YearToDate, list[FeeLine]]:
    claim = draw(claims().filter(_marginal_only))
    return claim, draw(years_to_date(claim)), draw(fee_lines(claim.admitted_on, serial_start=100))


@settings(max_examples=400, deadline=None)
@given(claims_with_extra())
def test_adding_fee_lines_never_lowers_the_patient_share(
    case: tuple[Claim, YearToDate, list[FeeLine]],
) -> None:
    claim, year_to_date, extra = case
    before = _settle(claim, year_to_date)
    after = _settle(claim.with_fee_lines(claim.fee_lines + tuple(extra)), year_to_date)
    assert after.patient_share >= before.patient_share
    assert after.fund_paid_total >= before.fund_paid_total


def test_a_whole_amount_scale_can_lower_the_patient_share() -> None:
    # 990100 门诊慢特病: once the year's in-scope total passes 10,000 the whole amount is paid
    # at 80 % instead of 70 % (全额): the published rule, not an engine fault.
    policy, _ = _policy("990100", InsuranceType.EMPLOYEE)
    day = policy.on_date

    def line(serial: str, price: str) -> FeeLine:
        return FeeLine(
            serial,
            "XA10BAE054A001010101234",
            "H",
            "盐酸二甲双胍片",
            Decimal(1),
            Decimal(price),
            Money(price),
            dt.datetime.combine(day, dt.time(9)),
        )

    claim = Claim(
        "990100",
        TREATMENT,
        InsuranceType.EMPLOYEE,
        PersonType.EMPLOYEE_ACTIVE,
        HospitalLevel.LEVEL_2,
        FilingCategory.LONG_TERM_RESIDENT,
        day,
        day,
        EncounterType.CHRONIC_OUTPATIENT,
        (line("1", "4999.00"),),
        disease_code="diabetes",
    )
    year = YearToDate(
        2024,
        counters={
            "chronic.deductible_used": Money("500.00"),
            "chronic.pooled_fund.year_eligible": Money("5000.00"),
        },
    )
    below = _settle(claim, year)
    crossing = _settle(claim.with_fee_lines((*claim.fee_lines, line("2", "2.00"))), year)
    assert below.pooled_fund_paid == Money("3499.30")  # 4999 x 70 %
    assert crossing.pooled_fund_paid == Money("4000.80")  # 5001 x 80 %
    assert crossing.patient_share == Money("1000.20") < below.patient_share == Money("1499.70")


@settings(max_examples=100, deadline=None)
@given(claims_with_year())
def test_settlement_is_reproducible_from_its_inputs(case: tuple[Claim, YearToDate]) -> None:
    claim, year_to_date = case
    first, second = _settle(claim, year_to_date), _settle(claim, year_to_date)
    assert first == second
    assert len(first.policy_version) == len(first.catalog_version) == 64


def test_split_line_with_the_item_groups_agrees_with_the_settlement() -> None:
    from yidi.policy.model import LineSplitStep
    from yidi.settlement import split_line

    policy, _ = _policy("990100", InsuranceType.EMPLOYEE)
    step = policy.schemes[SchemeKind.INPATIENT].steps[0]
    assert isinstance(step, LineSplitStep) and step.item_groups
    day = policy.on_date
    stent = FeeLine(
        "1",
        "C0310030010100000003",
        "H",
        "冠状动脉药物洗脱支架",
        Decimal(1),
        Decimal("9000.00"),
        Money("9000.00"),
        dt.datetime.combine(day, dt.time(9)),
    )
    claim = Claim(
        "990100",
        TREATMENT,
        InsuranceType.EMPLOYEE,
        PersonType.EMPLOYEE_ACTIVE,
        HospitalLevel.LEVEL_3,
        FilingCategory.LONG_TERM_RESIDENT,
        day,
        day,
        EncounterType.INPATIENT,
        (stent,),
        birth_date=dt.date(1974, 5, 1),
    )
    settled = _settle(claim, YearToDate.empty(day.year)).lines[0]
    alone = split_line(stent, CATALOG.lookup(stent.catalog_code, day), step.item_groups)
    assert alone == settled
    assert alone.upfront_self_paid == Money("2400.00") and alone.group_name == "植入类高值耗材"
