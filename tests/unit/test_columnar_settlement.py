"""The columnar engine equals the per-claim engine, to the fen, for every payer amount.

Golden-case claims, then random claims (hypothesis) of random people over a year on
every shipped policy and the test regions 990100 (all features) and 990200 (门诊慢特病 by
a disease list with a deductible, an expense limit and the shared outpatient cap), with
random changes to the policies' deductibles, rates and caps.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from yidi.catalog.files import sample_catalog
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
    ChronicDiseaseStep,
    DeductibleStep,
    Policy,
    PooledFundStep,
    Rounding,
    SupplementaryStep,
)
from yidi.settlement.claims import Claim, FeeLine, YearToDate
from yidi.settlement.columnar import (
    AMOUNT_FIELDS,
    BatchClaim,
    ColumnarResult,
    build_columns,
    settle_batch,
    settle_sequential,
)
from yidi.settlement.inputs import parse_claim, parse_year_to_date
from yidi.settlement.result import SettlementResult

CASES = Path(__file__).parent.parent / "cases"
TEST_LIBRARY = load_policy_library(CASES / "policies")
SHIPPED = load_policy_library()
TREATMENT = ("430400", "450000", "640000")


def _catalog(region: str) -> Any:
    return sample_catalog(region)


_POLICIES: dict[tuple[int, str, InsuranceType, dt.date], Policy] = {}


def _policy(library: PolicyLibrary, region: str, kind: InsuranceType, day: dt.date) -> Policy:
    key = (id(library), region, kind, day)
    if key not in _POLICIES:
        _POLICIES[key] = policy_at(region, kind, day, library)
    return _POLICIES[key]


TEST_REGIONS = (
    "990100",
    "990200",
)  # all features; 门诊慢特病 deductible, expense limit, shared cap


def _library_for(region: str) -> PolicyLibrary:
    return TEST_LIBRARY if region in TEST_REGIONS else SHIPPED


def _resolver(transform: Any = None) -> Any:
    def policy_for(claim: Claim) -> Policy:
        policy = _policy(
            _library_for(claim.insured_region),
            claim.insured_region,
            claim.insurance_type,
            claim.discharged_on,
        )
        return policy if transform is None else transform(policy)

    return policy_for


def assert_same(
    batch: list[BatchClaim],
    policy_for: Any,
    mode: SettlementMode = SettlementMode.DIRECT,
) -> ColumnarResult:
    reference = settle_sequential(batch, policy_for, _catalog, mode=mode)
    columnar = settle_batch(batch, policy_for, _catalog, mode=mode)
    for index, expected in enumerate(reference):
        if isinstance(expected, str):
            assert columnar.status[index] == expected, (index, batch[index].claim)
            continue
        assert columnar.status[index] is None, (index, columnar.status[index])
        assert isinstance(expected, SettlementResult)
        for name in AMOUNT_FIELDS:
            assert columnar.amount(name, index) == getattr(expected, name), (
                index,
                name,
                batch[index].claim,
            )
    return columnar


# --------------------------------------------------------------------------- golden claims


def _golden() -> list[tuple[BatchClaim, SettlementMode, PolicyLibrary]]:
    yaml = YAML(typ="safe", pure=True)
    out = []
    for path in sorted(CASES.glob("*.yaml")):
        case = yaml.load(path.read_text(encoding="utf-8"))
        claim = parse_claim(case["claim"])
        ytd = parse_year_to_date(case.get("year_to_date"), claim.settlement_year)
        library = TEST_LIBRARY if "policy_root" in case else SHIPPED
        out.append(
            (BatchClaim(path.stem, claim, ytd), SettlementMode(case.get("mode", "direct")), library)
        )
    return out


def test_golden_case_claims_settle_the_same_in_columns() -> None:
    cases = _golden()
    fallbacks = chronic_in_columns = chronic_fallbacks = 0
    for mode in SettlementMode:
        for library in (SHIPPED, TEST_LIBRARY):
            batch = [entry for entry, m, lib in cases if m is mode and lib is library]
            if not batch:
                continue

            def policy_for(claim: Claim, library: PolicyLibrary = library) -> Policy:
                return _policy(
                    library, claim.insured_region, claim.insurance_type, claim.discharged_on
                )

            result = assert_same(batch, policy_for, mode)
            fallbacks += result.fallback_claims
            assert result.columnar_claims > 0
            cols = build_columns(batch, policy_for, _catalog, mode=mode)
            for index, entry in enumerate(batch):
                if entry.claim.encounter_type is EncounterType.CHRONIC_OUTPATIENT:
                    settled = cols.status[index] is None
                    chronic_in_columns += int(settled and cols.scheme[index] >= 0)
                    chronic_fallbacks += int(
                        bool(cols.fallback is not None and cols.fallback[index])
                    )
    # 门诊慢特病 (disease_limit, chronic_disease) is computed in columns, not by the fallback;
    # c02's fee line (a quantity with more than four decimals) still falls back, and is counted
    assert chronic_in_columns >= 5
    assert chronic_fallbacks == 0
    assert fallbacks == 1


# --------------------------------------------------------------------------- random claims


REGIONS = sorted({region for region, _ in SHIPPED.sources} | set(TEST_REGIONS))
KEYS = [(region, kind) for region in REGIONS for kind in InsuranceType]
KEYS = [k for k in KEYS if k in SHIPPED.sources or k in TEST_LIBRARY.sources]
CODES = [*sorted(sample_catalog("430400").items), "999999NOTINCATALOGUE"]
PERSONS = {
    InsuranceType.EMPLOYEE: [p for p in PersonType if p.value.startswith("employee")],
    InsuranceType.RESIDENT: [p for p in PersonType if p.value.startswith("resident")],
}
ENCOUNTERS = [
    EncounterType.INPATIENT,
    EncounterType.INPATIENT,
    EncounterType.EMERGENCY_TO_INPATIENT,
    EncounterType.OUTPATIENT,
    EncounterType.PHARMACY,
    # 门诊慢特病: disease_limit (to 2021-08) and the region's disease list (chronic_disease)
    EncounterType.CHRONIC_OUTPATIENT,
    EncounterType.CHRONIC_OUTPATIENT,
]
# the 2017 scheme's own codes, and codes of the dated disease lists (upper and lower case)
DISEASES = [
    None,
    "",
    "diabetes",
    "hypertension",
    "uremia_dialysis",
    "asthma",
    "M03900",
    "m01600",
    "M00503",
    "M07803",
]
money = st.integers(min_value=1, max_value=3_000_000).map(lambda f: Decimal(f) / 100)


@st.composite
def fee_lines(draw: Any, admitted: dt.date) -> tuple[FeeLine, ...]:
    count = draw(st.integers(min_value=1, max_value=6))
    lines = []
    for index in range(count):
        price = draw(money)
        quantity = Decimal(draw(st.sampled_from(["1", "2", "3", "0.5", "10"])))
        lines.append(
            FeeLine(
                serial=str(index + 1),
                catalog_code=draw(st.sampled_from(CODES)),
                hospital_item_code="H",
                name="",
                quantity=quantity,
                unit_price=price,
                line_amount=Money.rounded(quantity * price),
                occurred_at=dt.datetime.combine(admitted, dt.time(10)),
            )
        )
    return tuple(lines)


@st.composite
def people(draw: Any) -> list[BatchClaim]:
    """Claims of a few people, each person's in date order, interleaved."""
    batch: list[tuple[dt.date, int, BatchClaim]] = []
    for person in range(draw(st.integers(min_value=1, max_value=4))):
        region, kind = draw(st.sampled_from(KEYS))
        person_type = draw(st.sampled_from(PERSONS[kind]))
        year = draw(st.sampled_from([2017, 2018, 2023, 2024, 2025, 2025, 2026]))
        group = draw(st.one_of(st.none(), st.sampled_from(list(AssistanceGroup))))
        born = dt.date(draw(st.integers(min_value=1940, max_value=2015)), 3, 1)
        treatment = draw(st.sampled_from(TREATMENT))
        filing = draw(st.sampled_from([None, *FilingCategory, *FilingCategory]))
        opening = YearToDate.empty(year)
        if draw(st.booleans()):
            opening = YearToDate(
                year=year,
                admissions_count=draw(st.integers(min_value=0, max_value=3)),
                deductible_used=Money.rounded(draw(money) / 10),
                pooled_fund_paid=Money.of(draw(money) * 10),
                eligible_amount_accumulated=Money.of(draw(money)),
                large_expense_paid=Money.of(draw(money)),
            )
        for number in range(draw(st.integers(min_value=1, max_value=5))):
            admitted = dt.date(year, 1 + number * 2, draw(st.integers(min_value=1, max_value=20)))
            claim = Claim(
                insured_region=region,
                treatment_region=treatment,
                insurance_type=kind,
                person_type=person_type,
                hospital_level=draw(st.sampled_from(list(HospitalLevel))),
                filing_category=filing,
                admitted_on=admitted,
                discharged_on=admitted + dt.timedelta(days=draw(st.integers(0, 5))),
                encounter_type=draw(st.sampled_from(ENCOUNTERS)),
                fee_lines=draw(fee_lines(admitted)),
                assistance_group=group,
                use_personal_account=draw(st.booleans()),
                personal_account_balance=Money.of(draw(money)),
                birth_date=born if draw(st.integers(0, 9)) else None,
                disease_code=draw(st.sampled_from(DISEASES)),
            )
            batch.append(
                (
                    admitted,
                    len(batch),
                    BatchClaim(f"p{person}", claim, opening if not number else None),
                )
            )
    batch.sort(key=lambda item: (item[0], item[1]))
    return [entry for _, _, entry in batch]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(people())
def test_random_claims_of_a_year_settle_the_same(batch: list[BatchClaim]) -> None:
    assert_same(batch, _resolver(), SettlementMode.DIRECT)
    assert_same(batch, _resolver(), SettlementMode.MANUAL)


# --------------------------------------------------------------------------- random parameters


@st.composite
def tweaks(draw: Any) -> Any:
    """A random change to every deductible and its admission-ordinal table, pooled-fund rate
    and cap, tier cap, and the rounding unit."""
    deductible = draw(st.integers(min_value=0, max_value=500_000)) / Decimal(100)
    rate = draw(st.integers(min_value=0, max_value=10_000)) / Decimal(10_000)
    cap = draw(st.integers(min_value=0, max_value=5_000_000)) / Decimal(100)
    tier_cap = draw(st.integers(min_value=0, max_value=5_000_000)) / Decimal(100)
    rounding = draw(st.sampled_from(list(Rounding)))
    ordinals = tuple(
        Decimal(v) / 100
        for v in draw(st.lists(st.integers(min_value=0, max_value=150), min_size=1, max_size=4))
    )

    def change(step: Any) -> Any:
        if isinstance(step, DeductibleStep):
            return dataclasses.replace(
                step, by_level={lvl: deductible for lvl in step.by_level}, ordinal_rate=ordinals
            )
        if isinstance(step, PooledFundStep):
            return dataclasses.replace(
                step, rate_by_level={lvl: rate for lvl in step.rate_by_level}, annual_cap=cap
            )
        if isinstance(step, SupplementaryStep):
            return dataclasses.replace(step, annual_cap=tier_cap)
        return step

    done: dict[int, Policy] = {}

    def transform(policy: Policy) -> Policy:
        if id(policy) in done:
            return done[id(policy)]
        schemes = {
            kind: dataclasses.replace(scheme, steps=tuple(change(s) for s in scheme.steps))
            for kind, scheme in policy.schemes.items()
        }
        done[id(policy)] = dataclasses.replace(policy, schemes=schemes, rounding=rounding)
        return done[id(policy)]

    return transform


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(people(), tweaks())
def test_random_claims_under_random_parameters_settle_the_same(
    batch: list[BatchClaim], transform: Any
) -> None:
    assert_same(batch, _resolver(transform), SettlementMode.DIRECT)


def test_a_claim_the_columns_cannot_compute_falls_back_and_is_counted() -> None:
    claim = parse_claim(
        {
            "insured_region": "990100",
            "treatment_region": "430400",
            "insurance_type": "employee",
            "person_type": "employee_active",
            "hospital_level": 3,
            "filing_category": "long_term_resident",
            "admitted_on": "2024-05-10",
            "discharged_on": "2024-05-15",
            "birth_date": "1970-01-01",
            "fee_lines": [
                {
                    "catalog_code": "003311000010000",
                    "quantity": "1.00001",  # more than four decimals
                    "unit_price": "1000.00",
                    "occurred_at": "2024-05-11T10:00:00",
                }
            ],
        }
    )
    batch = [BatchClaim("a", claim), BatchClaim("a", claim)]
    result = assert_same(batch, _resolver())
    assert result.fallback_claims == 2
    # the second admission pays a lower deductible (ordinal), carried through the fallback
    assert result.amount("deductible_applied", 1) < result.amount("deductible_applied", 0)


# --------------------------------------------------------------------------- 门诊慢特病

#: regions with a 门诊慢特病 scheme, the codes it knows and the years to draw from
CHRONIC_KEYS = [
    ("990100", InsuranceType.EMPLOYEE, ["diabetes", "hypertension"], [2024, 2025]),
    ("990200", InsuranceType.EMPLOYEE, ["M01600", "m01600"], [2024, 2025]),
    ("430400", InsuranceType.RESIDENT, ["M03900", "M01600", "M00503"], [2022, 2024, 2025]),
    ("430400", InsuranceType.EMPLOYEE, ["M03900", "M01600", "M07803"], [2022, 2024]),
    (
        "430400",
        InsuranceType.EMPLOYEE,
        ["diabetes", "hypertension", "uremia_dialysis"],
        [2017, 2019],
    ),
]


@st.composite
def chronic_people(draw: Any) -> list[BatchClaim]:
    """A year of 门诊慢特病 visits (with some outpatient and inpatient claims) of a few people."""
    batch: list[tuple[dt.date, int, BatchClaim]] = []
    for person in range(draw(st.integers(min_value=1, max_value=3))):
        region, kind, codes, years = draw(st.sampled_from(CHRONIC_KEYS))
        year = draw(st.sampled_from(years))
        person_type = draw(st.sampled_from(PERSONS[kind]))
        treatment = draw(st.sampled_from(["430400", "430400", "450000"]))
        filing = draw(st.sampled_from([None, FilingCategory.LONG_TERM_RESIDENT]))
        for number in range(draw(st.integers(min_value=1, max_value=6))):
            admitted = dt.date(year, 1 + number * 2, draw(st.integers(min_value=1, max_value=20)))
            encounter = draw(
                st.sampled_from(
                    [EncounterType.CHRONIC_OUTPATIENT] * 4
                    + [EncounterType.OUTPATIENT, EncounterType.INPATIENT]
                )
            )
            claim = Claim(
                insured_region=region,
                treatment_region=treatment,
                insurance_type=kind,
                person_type=person_type,
                hospital_level=draw(st.sampled_from(list(HospitalLevel))),
                filing_category=filing,
                admitted_on=admitted,
                discharged_on=admitted,
                encounter_type=encounter,
                fee_lines=draw(fee_lines(admitted)),
                use_personal_account=draw(st.booleans()),
                personal_account_balance=Money.of(draw(money)),
                birth_date=dt.date(1960, 3, 1),
                disease_code=draw(st.sampled_from(codes)),
            )
            batch.append((admitted, len(batch), BatchClaim(f"p{person}", claim)))
    batch.sort(key=lambda item: (item[0], item[1]))
    return [entry for _, _, entry in batch]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(chronic_people())
def test_random_chronic_years_settle_the_same_without_fallback(batch: list[BatchClaim]) -> None:
    for mode in SettlementMode:
        result = assert_same(batch, _resolver(), mode)
        assert result.fallback_claims == 0


def _visit(
    region: str, kind: InsuranceType, day: str, encounter: EncounterType, amount: str, **more: Any
) -> Claim:
    person = (
        PersonType.EMPLOYEE_ACTIVE if kind is InsuranceType.EMPLOYEE else PersonType.RESIDENT_ADULT
    )
    return parse_claim(
        {
            "insured_region": region,
            "treatment_region": more.pop("treatment_region", "430400"),
            "insurance_type": kind.value,
            "person_type": person.value,
            "hospital_level": 2,
            "filing_category": "long_term_resident",
            "admitted_on": day,
            "discharged_on": day,
            "encounter_type": encounter.value,
            "fee_lines": [
                {
                    "catalog_code": "XA10BAE054A001010101234",
                    "quantity": "1",
                    "unit_price": amount,
                    "occurred_at": f"{day}T09:00:00",
                }
            ],
            **more,
        }
    )


def test_chronic_claims_of_a_year_are_priced_in_columns_as_by_the_engine() -> None:
    """Per-disease deductible, expense limit (eligible) and the shared outpatient cap (990200),
    the fund-paid limit per disease (430400 resident), codes in either case, refusals (no code,
    not on the list, a region's own disease across provinces): equal to the fen, no fallback."""
    chronic, outpatient = EncounterType.CHRONIC_OUTPATIENT, EncounterType.OUTPATIENT
    employee, resident = InsuranceType.EMPLOYEE, InsuranceType.RESIDENT
    a = [
        _visit("990200", employee, "2024-02-01", chronic, "200.00", disease_code="M01600"),
        _visit("990200", employee, "2024-03-01", outpatient, "1500.00"),
        _visit("990200", employee, "2024-04-01", chronic, "2600.00", disease_code="m01600"),
        _visit("990200", employee, "2024-05-01", chronic, "2600.00", disease_code="M01600"),
        _visit("990200", employee, "2024-06-01", chronic, "900.00", disease_code="M01600"),
        _visit("990200", employee, "2024-07-01", chronic, "100.00"),
    ]
    b = [
        _visit("430400", resident, "2024-02-03", chronic, "900.00", disease_code="M03900"),
        _visit("430400", resident, "2024-03-03", chronic, "700.00", disease_code="M01600"),
        _visit("430400", resident, "2024-04-03", chronic, "900.00", disease_code="M03900"),
        _visit("430400", resident, "2024-05-03", chronic, "500.00", disease_code="M03900"),
        _visit("430400", resident, "2024-06-03", chronic, "100.00", disease_code="Z99999"),
    ]
    scheme = _policy(SHIPPED, "430400", resident, dt.date(2024, 7, 3)).scheme_for(chronic)
    step = scheme.step(ChronicDiseaseStep) if scheme is not None else None
    assert isinstance(step, ChronicDiseaseStep)
    own = next(code for code, terms in step.diseases.items() if not terms.cross_province)
    c = [
        _visit(
            "430400",
            resident,
            "2024-07-03",
            chronic,
            "300.00",
            disease_code=own,
            treatment_region="450000",
        ),
        _visit("430400", resident, "2024-07-04", chronic, "300.00", disease_code=own),
    ]
    batch = [BatchClaim("a", claim) for claim in a]
    batch += [BatchClaim("b", claim) for claim in b] + [BatchClaim("c", claim) for claim in c]
    for mode in SettlementMode:
        result = assert_same(batch, _resolver(), mode)
        assert result.fallback_claims == 0
    direct = assert_same(batch, _resolver(), SettlementMode.DIRECT)
    assert direct.status[5] == "CLAIM_DISEASE_REQUIRED"
    assert direct.status[10] == "CHRONIC_DISEASE_NOT_COVERED"
    # a region's own disease: not direct across provinces (430400 → 450000), settled at home
    assert direct.status[11] == "CHRONIC_DISEASE_NOT_DIRECT"
    assert direct.status[12] is None
    # the expense limit (5,000.00) and the shared cap ran out: the last visits paid less than 70%
    paid = [direct.amount("pooled_fund_paid", i) for i in range(5)]
    assert paid[4] < Money.of(Decimal("900.00") * Decimal("0.70"))
    # hypertension's fund-paid limit (1,500.00) is the person's, separate from diabetes
    assert direct.amount("pooled_fund_paid", 9) < Money.of(Decimal("500.00") * Decimal("0.80"))
    assert direct.amount("pooled_fund_paid", 7) == Money.of(Decimal("560.00"))
