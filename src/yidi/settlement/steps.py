"""The arithmetic of each step kind: numbers in, a small result record out, no wording.

Each ``run_*`` function reads the running amounts of the claim (:class:`State`), the
step's parameters in force and the year-to-date totals, updates the state and returns a
frozen record of what it computed. :mod:`yidi.settlement.explain` turns the records
into sentences; nothing here formats text.

Amounts are Decimal yuan while a claim is computed (the engine wraps the results in
:class:`~yidi.kernel.money.Money`). Rounding happens only in :func:`rounded`, at the
named steps: each deductible, each bracket or tier portion, each assistance amount, to
the region's rounding unit (``rounding`` in the policy files: fen, jiao or yuan, half up).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from yidi.catalog.model import CatalogItem, ItemClass
from yidi.kernel.errors import InvalidInput, Refused
from yidi.kernel.insurance import UNFILED_KEY, AssistanceGroup
from yidi.policy.model import (
    AccountScope,
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
    PersonalAccountStep,
    Policy,
    PooledFundStep,
    ScaleBase,
    ScaleMode,
    SchemeKind,
    SupplementaryKind,
    SupplementaryStart,
    SupplementaryStep,
    TiltAssistanceStep,
)
from yidi.settlement.claims import Claim, FeeLine, YearToDate

ZERO = Decimal("0.00")
ONE = Decimal(1)
FEN = Decimal("0.01")

_CLASS_B = ItemClass.B
_CLASS_C = ItemClass.C


def rounded(value: Decimal, quantum: Decimal = FEN) -> Decimal:
    """The one rounding rule: half up to ``quantum`` (the region's unit), kept at two decimals."""
    if quantum == FEN:
        return value.quantize(FEN, rounding=ROUND_HALF_UP)
    return value.quantize(quantum, rounding=ROUND_HALF_UP).quantize(FEN)


def clamp_rate(rate: Decimal) -> Decimal:
    return min(ONE, max(ZERO, rate))


# --------------------------------------------------------------------------- state


@dataclass(slots=True)
class State:
    """The running amounts of one claim while its scheme's steps run (Decimal yuan)."""

    scheme: SchemeKind
    quantum: Decimal
    total: Decimal = ZERO
    fully: Decimal = ZERO
    over: Decimal = ZERO
    upfront: Decimal = ZERO
    eligible: Decimal = ZERO
    deductible: Decimal = ZERO
    pooled: Decimal = ZERO
    pooled_counter: str = ""
    #: in-scope amount the basic fund did not cover because of its caps
    uncovered: Decimal = ZERO
    nominal_rate: Decimal | None = None
    serious: Decimal = ZERO
    large: Decimal = ZERO
    assistance: Decimal = ZERO
    account: Decimal = ZERO
    #: year-to-date changes by counter name
    delta: dict[str, Decimal] = field(default_factory=dict)

    def add(self, counter: str, amount: Decimal) -> None:
        if amount:
            self.delta[counter] = self.delta.get(counter, ZERO) + amount

    @property
    def fund_total(self) -> Decimal:
        return self.pooled + self.serious + self.large + self.assistance


def _before(year_to_date: YearToDate, name: str) -> Decimal:
    return year_to_date.counter(name).yuan


# --------------------------------------------------------------------------- lines


def group_of(line: FeeLine, groups: tuple[ItemGroup, ...]) -> ItemGroup | None:
    code = line.catalog_code
    for group in groups:
        if code.startswith(group.codes):
            return group
    return None


def split_amounts(
    line: FeeLine, item: CatalogItem | None, group: ItemGroup | None = None
) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    """(全自费, 超限价, 先行自付, 符合政策范围) of one line, to the fen.

    An unchanged amount is returned as the line's own Decimal (the engine reuses the
    line's Money for it instead of building a new one).
    """
    amount = line.line_amount.yuan
    if item is None or item.item_class is _CLASS_C:
        return amount, ZERO, ZERO, ZERO
    limit = item.price_limit
    price_limit = None if limit is None else limit.yuan
    upfront_rate = item.upfront_self_pay_rate if item.item_class is _CLASS_B else None
    if group is not None:
        if group.unit_limit is not None:
            price_limit = (
                group.unit_limit if price_limit is None else min(price_limit, group.unit_limit)
            )
        if group.upfront_rate is not None:
            upfront_rate = group.upfront_rate
    over = ZERO
    allowed = amount
    if price_limit is not None and line.unit_price > price_limit:
        limited = (price_limit * line.quantity).quantize(FEN, rounding=ROUND_HALF_UP)
        if amount > limited:
            over = amount - limited
            allowed = limited
    if not upfront_rate:
        return ZERO, over, ZERO, allowed
    upfront = (allowed * upfront_rate).quantize(FEN, rounding=ROUND_HALF_UP)
    return ZERO, over, upfront, allowed - upfront


# --------------------------------------------------------------------------- deductible


@dataclass(frozen=True, slots=True)
class DeductibleRecord:
    step: DeductibleStep
    cross_region_standard: bool  # the filing category's own 住院 deductible replaced the table
    standard: Decimal
    ordinal: int | None  # admission number this year (inpatient only)
    ordinal_factor: Decimal
    person_factor: Decimal
    computed: Decimal  # after factors and floor
    floor_applied: bool
    used_before: Decimal
    due: Decimal  # after the per-year basis and the annual cap
    annual_cap_applied: bool
    applied: Decimal


def _cross_override(claim: Claim, policy: Policy, state: State) -> CrossRegionRule | None:
    """The filing category's 住院 deductible/rate override for cross-region care, if any."""
    if claim.insured_region == claim.treatment_region or not state.scheme.counts_as_admission:
        return None
    return policy.cross_region_rule(claim.filing_category)


def run_deductible(
    step: DeductibleStep, claim: Claim, policy: Policy, year_to_date: YearToDate, state: State
) -> DeductibleRecord:
    standard = step.by_level[claim.hospital_level]
    override = _cross_override(claim, policy, state)
    cross_standard = override is not None and override.inpatient_deductible is not None
    if override is not None and override.inpatient_deductible is not None:
        standard = override.inpatient_deductible
    person_factor = step.person_rate.get(claim.person_type, ONE)
    ordinal: int | None = None
    ordinal_factor = ONE
    if state.scheme.counts_as_admission:
        ordinal = year_to_date.admissions_count + 1
        ordinal_factor = step.ordinal_rate[min(ordinal, len(step.ordinal_rate)) - 1]
    computed = rounded(standard * (person_factor * ordinal_factor), state.quantum)
    floor_applied = step.floor is not None and computed < step.floor
    if step.floor is not None and floor_applied:
        computed = step.floor
    used_before = _before(year_to_date, step.counter)
    due = computed
    if step.basis is DeductibleBasis.PER_YEAR:
        due = max(ZERO, computed - used_before)
    cap_applied = False
    if step.annual_cap is not None:
        room = max(ZERO, step.annual_cap - used_before)
        if room < due:
            due, cap_applied = room, True
    applied = min(due, state.eligible)
    state.deductible = applied
    state.add(step.counter, applied)
    return DeductibleRecord(
        step,
        cross_standard,
        standard,
        ordinal,
        ordinal_factor,
        person_factor,
        computed,
        floor_applied,
        used_before,
        due,
        cap_applied,
        applied,
    )


# --------------------------------------------------------------------------- pooled fund


@dataclass(frozen=True, slots=True)
class Portion:
    low: Decimal
    high: Decimal
    rate: Decimal
    paid: Decimal

    @property
    def amount(self) -> Decimal:
        return self.high - self.low


@dataclass(frozen=True, slots=True)
class PooledRecord:
    step: PooledFundStep
    cross_key: str | None  # filing category key when cross-region, else None
    cross_rate: bool  # the filing category's own 住院 rate replaced the level rate
    cross_points: Decimal
    base_rate: Decimal
    age: int | None
    age_points: Decimal
    payable: Decimal
    entry: Decimal  # the part of payable allowed into the fund
    entry_cap: str  # "", "claim" or "year"
    base: ScaleBase
    mode: ScaleMode
    portions: tuple[Portion, ...]
    computed: Decimal
    cap_left: Decimal
    paid: Decimal


def _bracket_rate(bracket: Bracket, base_rate: Decimal) -> Decimal:
    if bracket.rate is not None:
        return bracket.rate
    return clamp_rate(base_rate + (bracket.points or ZERO))


_FLAT = (Bracket(ZERO, points=ZERO),)


def apply_brackets(
    brackets: tuple[Bracket, ...],
    mode: ScaleMode,
    low: Decimal,
    high: Decimal,
    base_rate: Decimal,
    quantum: Decimal,
) -> tuple[Portion, ...]:
    """The part of ``[low, high]`` of the base in each bracket, times its rate (rounded).

    Marginal: each bracket's rate on the part inside it. Whole: the rate of the bracket
    that ``high`` falls in applies to all of ``[low, high]``.
    """
    if high <= low:
        return ()
    if mode is ScaleMode.WHOLE:
        chosen = brackets[0]
        for bracket in brackets[1:]:
            if bracket.threshold < high:
                chosen = bracket
        rate = _bracket_rate(chosen, base_rate)
        return (Portion(low, high, rate, rounded((high - low) * rate, quantum)),)
    portions: list[Portion] = []
    last = len(brackets) - 1
    for index, bracket in enumerate(brackets):
        start = bracket.threshold
        end = None if index == last else brackets[index + 1].threshold
        part_low = max(start, low)
        part_high = high if end is None else min(end, high)
        if part_high <= part_low:
            continue
        rate = _bracket_rate(bracket, base_rate)
        portions.append(
            Portion(part_low, part_high, rate, rounded((part_high - part_low) * rate, quantum))
        )
    return tuple(portions)


def _covered(portions: tuple[Portion, ...], paid: Decimal) -> Decimal:
    """The base amount whose payment ``paid`` is (the fund stopped at its cap)."""
    covered = ZERO
    left = paid
    for portion in portions:
        if left >= portion.paid:
            covered += portion.amount
            left -= portion.paid
            continue
        if portion.rate:
            covered += left / portion.rate
        break
    return rounded(covered)


def run_pooled_fund(
    step: PooledFundStep,
    claim: Claim,
    policy: Policy,
    year_to_date: YearToDate,
    state: State,
) -> PooledRecord:
    cross_key: str | None = None
    cross_points = ZERO
    if claim.insured_region != claim.treatment_region:
        cross_key = UNFILED_KEY if claim.filing_category is None else claim.filing_category.value
        cross_points = policy.cross_region_rule(claim.filing_category).rate_points
    age: int | None = None
    age_points = ZERO
    if step.age_bands:
        age = claim.age_on(claim.admitted_on)
        if age is None:
            raise InvalidInput(
                "CLAIM_BIRTH_DATE_REQUIRED",
                "参保地按年龄段确定支付比例，须提供出生日期（或身份证号）",
                "the insured region's rate depends on age: birth_date (or id_number) is required",
                field="birth_date",
            )
        for band in step.age_bands:
            if age >= band.from_age:
                age_points = band.points
    level_rate = step.rate_by_level[claim.hospital_level]
    override = _cross_override(claim, policy, state)
    cross_rate = override is not None and override.inpatient_rate is not None
    if override is not None and override.inpatient_rate is not None:
        level_rate = override.inpatient_rate
    base_rate = (
        level_rate + step.person_points.get(claim.person_type, ZERO) + age_points + cross_points
    )
    payable = state.eligible - state.deductible
    entry = payable
    entry_cap = ""
    if step.entry_cap_per_claim is not None and entry > step.entry_cap_per_claim:
        entry, entry_cap = step.entry_cap_per_claim, "claim"
    if step.entry_cap_per_year is not None:
        room = max(ZERO, step.entry_cap_per_year - _before(year_to_date, step.entry_counter))
        if room < entry:
            entry, entry_cap = room, "year"
        state.add(step.entry_counter, entry)
    scale = step.scale
    base = ScaleBase.ABOVE_DEDUCTIBLE if scale is None else scale.base
    mode = ScaleMode.MARGINAL if scale is None else scale.mode
    brackets = _FLAT if scale is None else scale.brackets
    if base is ScaleBase.ABOVE_DEDUCTIBLE:
        low = ZERO
    elif base is ScaleBase.ELIGIBLE:
        low = state.deductible
    elif base is ScaleBase.YEAR_ELIGIBLE:
        low = _before(year_to_date, step.base_counter) + state.deductible
        state.add(step.base_counter, state.eligible)
    else:
        low = _before(year_to_date, step.base_counter)
        state.add(step.base_counter, entry)
    portions = apply_brackets(brackets, mode, low, low + entry, base_rate, state.quantum)
    computed = sum((portion.paid for portion in portions), ZERO)
    cap_left = max(ZERO, step.annual_cap - _before(year_to_date, step.counter))
    paid = min(computed, cap_left)
    state.pooled = paid
    state.pooled_counter = step.counter
    state.add(step.counter, paid)
    covered = entry if paid == computed else _covered(portions, paid)
    state.uncovered = payable - covered
    state.nominal_rate = clamp_rate(
        _bracket_rate(brackets[0], base_rate) if portions == () else portions[0].rate
    )
    return PooledRecord(
        step,
        cross_key,
        cross_rate,
        cross_points,
        base_rate,
        age,
        age_points,
        payable,
        entry,
        entry_cap,
        base,
        mode,
        portions,
        computed,
        cap_left,
        paid,
    )


# --------------------------------------------------------------------------- disease limit


@dataclass(frozen=True, slots=True)
class DiseaseLimitRecord:
    step: DiseaseLimitStep
    code: str
    limit: Decimal
    used_before: Decimal
    before: Decimal  # pooled fund payment before the limit
    paid: Decimal


def run_disease_limit(
    step: DiseaseLimitStep, claim: Claim, year_to_date: YearToDate, state: State
) -> DiseaseLimitRecord:
    code = claim.disease_code
    if not code:
        raise InvalidInput(
            "CLAIM_DISEASE_REQUIRED",
            "门诊慢特病结算须填写病种编码（disease_code）",
            "a chronic-disease outpatient claim needs its disease_code",
            field="disease_code",
        )
    limit = step.annual_limit.get(code)
    if limit is None:
        raise Refused(
            "CHRONIC_DISEASE_NOT_COVERED",
            f"病种 {code} 不在参保地门诊慢特病病种目录内（可用：{', '.join(sorted(step.annual_limit))}）",
            f"disease {code} is not on the insured region's chronic-disease list",
            field="disease_code",
        )
    counter = f"{step.counter_prefix}.{code}"
    used_before = _before(year_to_date, counter)
    before = state.pooled
    paid = min(before, max(ZERO, limit - used_before))
    if paid != before:
        state.add(state.pooled_counter, paid - before)
        state.uncovered += before - paid
        state.pooled = paid
    state.add(counter, paid)
    return DiseaseLimitRecord(step, code, limit, used_before, before, paid)


# --------------------------------------------------------------------------- chronic disease


@dataclass(frozen=True, slots=True)
class ChronicRecord:
    """门诊慢特病: the disease's terms and what the year's limit left for this visit."""

    step: ChronicDiseaseStep
    terms: DiseaseTerms
    cross_points: Decimal  # the filing category's 异地就医 rate points (cross-region care)
    rate: Decimal  # the disease's rate with those points
    eligible: Decimal  # this visit's in-scope amount
    deductible_left: Decimal  # the disease's deductible not yet met this year
    deductible: Decimal  # applied on this visit
    payable: Decimal  # in-scope amount above the deductible
    #: the limit's year-to-date use before / after (fund payments or eligible amounts)
    used_before: Decimal
    used_after: Decimal
    left_before: Decimal | None  # None: no annual limit
    counted: Decimal  # the part of ``payable`` the rate was applied to
    computed: Decimal  # counted × rate (before a fund-paid limit or the shared cap)
    shared_left: Decimal | None  # general-outpatient cap left, when shared
    paid: Decimal

    covered: Decimal  # the part of ``payable`` the fund's payment covers at the rate

    @property
    def left_after(self) -> Decimal | None:
        limit = self.terms.annual_limit
        return None if limit is None else max(ZERO, limit - self.used_after)

    @property
    def patient_above_deductible(self) -> Decimal:
        """The in-scope amount above the deductible that is the patient's: the rate's share
        and what the limit (or the shared cap) left unpaid."""
        return self.payable - self.paid


def _covered_at(paid: Decimal, rate: Decimal, payable: Decimal) -> Decimal:
    """The in-scope amount a payment covers at ``rate`` (to the fen, at most ``payable``)."""
    if not rate:
        return ZERO
    return min(payable, (paid / rate).quantize(FEN, rounding=ROUND_HALF_UP))


def require_disease(step: ChronicDiseaseStep, claim: Claim) -> DiseaseTerms:
    """The claim's disease on the insured region's list that day, with its terms."""
    code = (claim.disease_code or "").strip().upper()
    if not code:
        raise InvalidInput(
            "CLAIM_DISEASE_REQUIRED",
            "门诊慢特病结算须填写病种编码（disease_code）",
            "a chronic-disease outpatient claim needs its disease_code",
            field="disease_code",
        )
    terms = step.diseases.get(code)
    if terms is None:
        listed = "、".join(f"{t.code} {t.name}" for t in step.diseases.values()) or "无"
        raise Refused(
            "CHRONIC_DISEASE_NOT_COVERED",
            f"病种 {code} 在参保地门诊慢特病病种目录中没有当日有效的待遇（可结算的病种：{listed}）",
            f"disease {code} has no chronic-disease benefit of the insured region on the day",
            field="disease_code",
        )
    return terms


def run_chronic_disease(
    step: ChronicDiseaseStep, claim: Claim, policy: Policy, year_to_date: YearToDate, state: State
) -> ChronicRecord:
    """Deductible, rate and annual limit of the claim's disease, per (person, disease, year).

    ``fund_paid`` limit: the fund pays ``payable × rate`` up to the limit left. ``eligible``
    limit: the rate applies to the part of ``payable`` within the limit left. The rest of
    the in-scope amount is the patient's.
    """
    terms = require_disease(step, claim)
    code = terms.code
    eligible = state.eligible
    deductible_counter = step.counter(code, "deductible_used")
    deductible_left = max(ZERO, terms.deductible - _before(year_to_date, deductible_counter))
    deductible = min(eligible, deductible_left)
    payable = eligible - deductible
    cross_points = ZERO
    if claim.insured_region != claim.treatment_region:
        cross_points = policy.cross_region_rule(claim.filing_category).rate_points
    rate = clamp_rate(terms.rate + cross_points)
    limit = terms.annual_limit
    basis_counter = step.counter(
        code, "fund_paid" if terms.limit_on is LimitBasis.FUND_PAID else "eligible"
    )
    used_before = _before(year_to_date, basis_counter)
    left_before = None if limit is None else max(ZERO, limit - used_before)
    if terms.limit_on is LimitBasis.ELIGIBLE and left_before is not None:
        counted = min(payable, left_before)
        computed = rounded(counted * rate, state.quantum)
        paid = computed
    else:
        counted = payable
        computed = rounded(payable * rate, state.quantum)
        paid = computed if left_before is None else min(computed, left_before)
    shared_left: Decimal | None = None
    if step.shares_outpatient_cap and step.outpatient_cap is not None:
        shared_left = max(
            ZERO, step.outpatient_cap - _before(year_to_date, step.outpatient_counter)
        )
        paid = min(paid, shared_left)
        state.add(step.outpatient_counter, paid)
    state.deductible += deductible
    state.add(deductible_counter, deductible)
    state.pooled = paid
    state.pooled_counter = f"{step.counter_prefix}.pooled_fund_paid"
    state.add(state.pooled_counter, paid)
    state.add(step.counter(code, "fund_paid"), paid)
    covered = counted if paid == computed else _covered_at(paid, rate, payable)
    if terms.limit_on is LimitBasis.ELIGIBLE:
        state.add(basis_counter, covered)
        used_after = used_before + covered
    else:
        used_after = used_before + paid
    state.uncovered = payable - covered
    state.nominal_rate = rate
    return ChronicRecord(
        step,
        terms,
        cross_points,
        rate,
        eligible,
        deductible_left,
        deductible,
        payable,
        used_before,
        used_after,
        left_before,
        counted,
        computed,
        shared_left,
        paid,
        covered,
    )


# --------------------------------------------------------------------------- 大病 / 大额


@dataclass(frozen=True, slots=True)
class SupplementaryRecord:
    step: SupplementaryStep
    base: Decimal  # this claim's contribution to the base
    before: Decimal
    after: Decimal
    portions: tuple[Portion, ...]
    computed: Decimal
    left: Decimal
    paid: Decimal


def run_supplementary(
    step: SupplementaryStep, year_to_date: YearToDate, state: State
) -> SupplementaryRecord:
    if step.start is SupplementaryStart.BASIC_CAP:
        base = state.uncovered
    else:
        base = state.eligible - state.pooled
        if step.include_upfront:
            base += state.upfront
        if not step.include_deductible:
            base -= state.deductible
    # what an earlier 大病/大额 step of this claim paid is no longer the patient's
    base = max(ZERO, base - state.serious - state.large)
    before = _before(year_to_date, step.base_counter)
    after = before + base
    threshold = step.deductible
    portions = apply_brackets(
        step.tiers,
        step.mode,
        max(ZERO, before - threshold),
        max(ZERO, after - threshold),
        ZERO,
        state.quantum,
    )
    computed = sum((portion.paid for portion in portions), ZERO)
    left = max(ZERO, step.annual_cap - _before(year_to_date, step.counter))
    paid = min(computed, left)
    if step.fund is SupplementaryKind.SERIOUS_ILLNESS:
        state.serious += paid
    else:
        state.large += paid
    state.add(step.counter, paid)
    if not (
        step.base_counter == "eligible_amount_accumulated" and state.scheme.counts_as_admission
    ):
        state.add(step.base_counter, base)
    return SupplementaryRecord(step, base, before, after, portions, computed, left, paid)


# --------------------------------------------------------------------------- assistance


@dataclass(frozen=True, slots=True)
class AssistanceRecord:
    step: AssistanceStep
    group: AssistanceGroup
    rate: Decimal | None  # None: the group is not listed
    remainder: Decimal
    computed: Decimal
    left: Decimal
    paid: Decimal


def run_assistance(
    step: AssistanceStep, claim: Claim, year_to_date: YearToDate, state: State
) -> AssistanceRecord | None:
    group = claim.assistance_group
    if group is None:
        return None
    rate = step.rate_by_group.get(group)
    remainder = max(ZERO, state.eligible - state.pooled - state.serious - state.large)
    if rate is None:
        return AssistanceRecord(step, group, None, remainder, ZERO, ZERO, ZERO)
    computed = rounded(remainder * rate, state.quantum)
    left = max(ZERO, step.annual_cap - _before(year_to_date, step.counter))
    paid = min(computed, left)
    state.assistance += paid
    state.add(step.counter, paid)
    return AssistanceRecord(step, group, rate, remainder, computed, left, paid)


@dataclass(frozen=True, slots=True)
class TiltRecord:
    step: TiltAssistanceStep
    group: AssistanceGroup
    base: Decimal
    before: Decimal
    after: Decimal
    computed: Decimal
    left: Decimal
    paid: Decimal


def run_tilt(
    step: TiltAssistanceStep, claim: Claim, year_to_date: YearToDate, state: State
) -> TiltRecord | None:
    group = claim.assistance_group
    if group is None or group not in step.groups:
        return None
    base = max(ZERO, state.eligible - state.pooled - state.serious - state.large - state.assistance)
    before = _before(year_to_date, step.base_counter)
    after = before + base
    over = max(ZERO, after - step.threshold) - max(ZERO, before - step.threshold)
    computed = rounded(over * step.rate, state.quantum)
    left = max(ZERO, step.annual_cap - _before(year_to_date, step.counter))
    paid = min(computed, left)
    state.assistance += paid
    state.add(step.counter, paid)
    state.add(step.base_counter, base)
    return TiltRecord(step, group, base, before, after, computed, left, paid)


# --------------------------------------------------------------------------- account, cash


@dataclass(frozen=True, slots=True)
class AccountRecord:
    step: PersonalAccountStep | None
    fund_total: Decimal
    patient_share: Decimal
    account_base: Decimal
    account: Decimal
    cash: Decimal


def run_account(
    step: PersonalAccountStep | None, claim: Claim, state: State, *, direct: bool
) -> AccountRecord:
    fund_total = state.fund_total
    patient_share = state.total - fund_total
    account_base = ZERO
    account = ZERO
    if (
        step is not None
        and direct
        and (step.family_mutual_aid if claim.personal_account_family else step.enabled)
        and claim.use_personal_account
        and claim.personal_account_balance.yuan > 0
    ):
        account_base = patient_share
        if step.scope is AccountScope.IN_SCOPE_ONLY:
            account_base = max(ZERO, patient_share - state.fully - state.over)
        account = min(account_base, claim.personal_account_balance.yuan)
    state.account = account
    return AccountRecord(
        step, fund_total, patient_share, account_base, account, patient_share - account
    )
