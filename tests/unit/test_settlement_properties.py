"""Properties of the settlement engine that must hold for every input.

Monotonicity (adding a fee line never lowers the patient's share) holds under these
conditions, which the test fixes: the same claim (person, hospital level, filing category,
encounter), the same insured policy, the same treatment catalogue and the same year-to-date
totals; the added line has a non-negative amount. It holds because every stage pays a
non-decreasing share, rounded half-up per portion, of an input that grows by no more than
the added amount; so no stage can pay out more than the new line adds. It does **not**
hold across claims with different year-to-date totals (a later admission has a lower
deductible) or if a policy had a rate above 1 (the loader forbids that).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from yidi.domain.claims import Claim, FeeLine, YearToDate, resolve_fee_lines
from yidi.domain.insurance import (
    AssistanceGroup,
    EncounterType,
    FilingCategory,
    HospitalLevel,
    InsuranceType,
    PersonType,
    SettlementMode,
)
from yidi.domain.money import Money
from yidi.policy.catalog_files import sample_catalog
from yidi.policy.loader import policy_at
from yidi.settlement import SettlementResult, reverse, settle

REGIONS = ("430400", "410100", "410300", "640000")
TREATMENT = "430400"
CODES = (*sorted(sample_catalog(TREATMENT).items), "X00NOTINCATALOG")
DAY = dt.date(2017, 6, 10)


@st.composite
def fee_lines(draw: st.DrawFn, serial_start: int = 0) -> list[FeeLine]:
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
                occurred_at=dt.datetime.combine(DAY, dt.time(9)),
            )
        )
    return lines


@st.composite
def claims(draw: st.DrawFn) -> Claim:
    insurance_type = draw(st.sampled_from(list(InsuranceType)))
    person = draw(st.sampled_from([p for p in PersonType if p.insurance_type is insurance_type]))
    return Claim(
        insured_region=draw(st.sampled_from(REGIONS)),
        treatment_region=TREATMENT,
        insurance_type=insurance_type,
        person_type=person,
        hospital_level=draw(st.sampled_from(list(HospitalLevel))),
        # filed care only, so every region settles directly
        filing_category=draw(st.sampled_from(list(FilingCategory))),
        admitted_on=DAY,
        discharged_on=DAY + dt.timedelta(days=5),
        encounter_type=EncounterType.INPATIENT,
        fee_lines=tuple(draw(fee_lines())),
        assistance_group=draw(st.none() | st.sampled_from(list(AssistanceGroup))),
        use_personal_account=draw(st.booleans()),
        personal_account_balance=Money.from_fen(draw(st.integers(0, 2_000_000))),
    )


@st.composite
def years_to_date(draw: st.DrawFn) -> YearToDate:
    def money(top: int) -> Money:
        return Money.from_fen(draw(st.integers(min_value=0, max_value=top * 100)))

    return YearToDate(
        year=2017,
        admissions_count=draw(st.integers(0, 6)),
        deductible_used=money(5_000),
        pooled_fund_paid=money(320_000),
        serious_illness_paid=money(320_000),
        large_expense_paid=money(420_000),
        assistance_paid=money(45_000),
        eligible_amount_accumulated=money(800_000),
    )


def _settle(claim: Claim, year_to_date: YearToDate) -> SettlementResult:
    policy = policy_at(claim.insured_region, claim.insurance_type, claim.discharged_on)
    resolved = resolve_fee_lines(claim, sample_catalog(claim.treatment_region))
    return settle(claim, policy, resolved, year_to_date, mode=SettlementMode.DIRECT)


@settings(max_examples=300, deadline=None)
@given(claims(), years_to_date())
def test_payers_sum_exactly_and_nothing_is_negative_or_sub_fen(
    claim: Claim, year_to_date: YearToDate
) -> None:
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
    assert set(result.to_nhsa()) >= {"medfee_sumamt", "hifp_pay", "psn_cash_pay"}


@settings(max_examples=60, deadline=None)
@given(claims(), st.lists(fee_lines(), min_size=1, max_size=8))
def test_annual_caps_are_never_exceeded_across_admissions(
    first: Claim, later_lines: list[list[FeeLine]]
) -> None:
    policy = policy_at(first.insured_region, first.insurance_type, first.discharged_on)
    year_to_date = YearToDate.empty(2017)
    for lines in [list(first.fee_lines), *later_lines]:
        result = _settle(first.with_fee_lines(tuple(lines)), year_to_date)
        year_to_date = result.year_to_date_after
        assert year_to_date.pooled_fund_paid <= policy.annual_cap
        if policy.supplementary is not None:
            assert year_to_date.serious_illness_paid + year_to_date.large_expense_paid <= (
                policy.supplementary.annual_cap
            )
        if policy.medical_assistance is not None:
            assert year_to_date.assistance_paid <= policy.medical_assistance.annual_cap
    assert year_to_date.admissions_count == len(later_lines) + 1


@settings(max_examples=200, deadline=None)
@given(claims(), years_to_date())
def test_settle_then_reverse_restores_the_year_to_date_totals(
    claim: Claim, year_to_date: YearToDate
) -> None:
    result = _settle(claim, year_to_date)
    assert reverse(result.year_to_date_after, result) == year_to_date


@settings(max_examples=300, deadline=None)
@given(claims(), years_to_date(), fee_lines(serial_start=100))
def test_adding_fee_lines_never_lowers_the_patient_share(
    claim: Claim, year_to_date: YearToDate, extra: list[FeeLine]
) -> None:
    before = _settle(claim, year_to_date)
    after = _settle(claim.with_fee_lines(claim.fee_lines + tuple(extra)), year_to_date)
    assert after.patient_share >= before.patient_share
    assert after.fund_paid_total >= before.fund_paid_total


@settings(max_examples=100, deadline=None)
@given(claims(), years_to_date())
def test_settlement_is_reproducible_from_its_inputs(claim: Claim, year_to_date: YearToDate) -> None:
    first, second = _settle(claim, year_to_date), _settle(claim, year_to_date)
    assert first == second
    assert len(first.policy_version) == len(first.catalog_version) == 64
