"""settle(): 参保地政策 applied to 就医地目录, line by line, to the fen.

The claim's encounter kind selects one benefit scheme of the insured region's policy
(住院, 普通门诊, 门诊慢特病, 定点药店); its steps run in the order the policy lists them,
each one computing a small record (:mod:`yidi.settlement.steps`) that
:mod:`yidi.settlement.explain` turns into one explanation line:

1. ``line_split``: each fee line splits into 全自费 (class C, or not in the treatment
   catalogue), 超限价 (above the price limit), 先行自付 (class B × upfront share, or an
   item group's share) and the in-scope remainder 符合政策范围金额.
2. ``deductible`` 起付线 by hospital level, admission ordinal (inpatient only: outpatient
   visits never count as admissions), person type, floor, per-year basis, annual cap.
3. ``pooled_fund`` 统筹基金: the rate (level + person type + age band + cross-region
   adjustment), a scale on a named base, entry caps, the annual cap.
4. ``disease_limit``: 门诊慢特病 per-disease annual limit on the fund's payment (a limit the
   scheme file states); ``chronic_disease``: 门诊慢特病 by the insured region's dated disease
   list — the disease's deductible, rate and annual limit, year-to-date per (person,
   disease, year); the part of the visit beyond the limit left is the patient's.
5. ``supplementary``: 大病保险 / 大额医疗补助 tiers on their base, to their cap.
6. ``medical_assistance`` and ``tilt_assistance`` (倾斜救助) for listed groups.
7. ``personal_account``: the account pays what the region allows, up to the balance;
   cash the rest.

Rounding: half up to the region's unit (``rounding``: fen by default) at each named step
(deductible, each bracket or tier portion, assistance); a line's upfront share and price
limit are always rounded to the fen. Sums are exact.
"""

from __future__ import annotations

from decimal import Decimal

from yidi.catalog.model import CatalogItem
from yidi.kernel.errors import InvalidInput, Refused
from yidi.kernel.insurance import SettlementMode
from yidi.kernel.money import Money
from yidi.policy.model import (
    AssistanceStep,
    ChronicDiseaseStep,
    DeductibleStep,
    DiseaseLimitStep,
    ItemGroup,
    LineSplitStep,
    PersonalAccountStep,
    Policy,
    PooledFundStep,
    Scheme,
    SchemeKind,
    SupplementaryStep,
    TiltAssistanceStep,
)
from yidi.settlement import explain
from yidi.settlement.claims import (
    Claim,
    FeeLine,
    ResolvedFeeLines,
    YearToDate,
    emergency_window_opens,
)
from yidi.settlement.result import ExplanationStep, LineBreakdown, SettlementResult
from yidi.settlement.steps import (
    ZERO,
    State,
    group_of,
    require_disease,
    run_account,
    run_assistance,
    run_chronic_disease,
    run_deductible,
    run_disease_limit,
    run_pooled_fund,
    run_supplementary,
    run_tilt,
    split_amounts,
)

_ZERO_MONEY = Money.zero()
_RATE_PLACES = Decimal("0.0001")
_FIXED_COUNTERS = frozenset(
    {
        "deductible_used",
        "pooled_fund_paid",
        "serious_illness_paid",
        "large_expense_paid",
        "assistance_paid",
        "eligible_amount_accumulated",
    }
)


def _money(value: Decimal) -> Money:
    return _ZERO_MONEY if not value else Money.exact(value)


def split_line(
    line: FeeLine, item: CatalogItem | None, groups: tuple[ItemGroup, ...] = ()
) -> LineBreakdown:
    """How one fee line splits under its catalogue entry (the 2301 per-line reply).

    The same split :func:`settle` applies; pass the insured region's ``item_groups``
    (its ``line_split`` step) so that a grouped line's reply agrees with the settlement.
    """
    group = group_of(line, groups) if groups and item is not None else None
    fully, over, upfront, eligible = split_amounts(line, item, group)
    return LineBreakdown(
        serial=line.serial,
        name=line.name,
        catalog_code=line.catalog_code,
        item=item,
        unit_price=line.unit_price,
        line_amount=line.line_amount,
        fully_self_paid=_money(fully),
        over_limit_self_paid=_money(over),
        upfront_self_paid=_money(upfront),
        eligible_amount=_money(eligible),
        group_name="" if group is None else group.name,
    )


# --------------------------------------------------------------------------- checks


def _check_inputs(
    claim: Claim,
    policy: Policy,
    resolved: ResolvedFeeLines,
    year_to_date: YearToDate,
    mode: SettlementMode,
) -> None:
    if policy.region_code != claim.insured_region or policy.insurance_type != claim.insurance_type:
        raise InvalidInput(
            "POLICY_NOT_INSURED_REGION",
            f"政策属于 {policy.region_code}，但参保地是 {claim.insured_region}（应执行参保地政策）",
            "the policy must be the insured region's, for the claim's insurance type",
            field="insured_region",
        )
    if resolved.treatment_region != claim.treatment_region:
        raise InvalidInput(
            "CATALOG_WRONG_REGION",
            f"目录属于 {resolved.treatment_region}，但就医地是 {claim.treatment_region}（应执行就医地目录）",
            "fee lines must be resolved against the treatment region's catalogue",
            field="treatment_region",
        )
    if set(resolved.items_by_serial) != {line.serial for line in claim.fee_lines}:
        raise InvalidInput(
            "CATALOG_LINES_MISMATCH",
            "目录对照结果与费用明细不一致",
            "resolved catalogue lines do not match the claim's fee lines",
            field="fee_lines",
        )
    if year_to_date.year != claim.settlement_year:
        raise InvalidInput(
            "YEAR_TO_DATE_WRONG_YEAR",
            f"年度累计属于 {year_to_date.year} 年，结算属于 {claim.settlement_year} 年",
            "year-to-date totals must be of the settlement (discharge) year",
            field="year",
        )
    if mode is not SettlementMode.DIRECT:
        return
    rule = policy.cross_region_rule(claim.filing_category)
    if claim.insured_region != claim.treatment_region and not rule.direct_settlement:
        raise Refused(
            "SETTLEMENT_NOT_DIRECT",
            "未办理异地就医备案，不能直接结算；请全额垫付后回参保地按规定报销"
            if claim.filing_category is None
            else f"{claim.filing_category.label_zh}按参保地规定不能直接结算，请回参保地报销",
            "this care is not settled directly; reimburse manually at the insured region",
            field="filing_category",
        )
    if claim.encounter_type not in policy.direct_settlement_encounter_types:
        raise Refused(
            "ENCOUNTER_NOT_DIRECT",
            f"{claim.encounter_type.label_zh}的医疗费用不纳入异地就医直接结算，请回参保地报销",
            "this kind of encounter is not settled directly",
            field="encounter_type",
        )
    earliest = emergency_window_opens(claim.admission_instant, policy.emergency_pre_admission_hours)
    for line in claim.fee_lines:
        if line.occurred_at.date() >= claim.admitted_on:
            continue
        when = line.occurred_at.replace(tzinfo=None)
        if not line.is_emergency_pre_admission or when < earliest:
            raise Refused(
                "FEE_LINE_BEFORE_ADMISSION",
                f"费用明细 {line.serial} 发生在入院前，且不是入院前{policy.emergency_pre_admission_hours}小时内的急诊抢救费用，不纳入直接结算",
                "a fee line before admission is settled directly only if it is emergency care "
                "within the allowed hours before admission",
                field="fee_lines",
            )


def _scheme(claim: Claim, policy: Policy) -> Scheme:
    scheme = policy.scheme_for(claim.encounter_type)
    if scheme is None:
        kind = SchemeKind.for_encounter(claim.encounter_type)
        raise Refused(
            "POLICY_NO_SCHEME",
            f"参保地 {policy.region_code} 的政策在 {policy.on_date.isoformat()} 没有{kind.label_zh}待遇方案，"
            f"不能结算{claim.encounter_type.label_zh}费用",
            f"the insured region's policy has no {kind.value} scheme in force on {policy.on_date.isoformat()}",
            field="encounter_type",
        )
    return scheme


# --------------------------------------------------------------------------- settle


def settle(
    claim: Claim,
    policy: Policy,
    resolved: ResolvedFeeLines,
    year_to_date: YearToDate,
    *,
    mode: SettlementMode = SettlementMode.DIRECT,
) -> SettlementResult:
    """Settle one claim. Pure: the same inputs always give the same result.

    ``policy`` is the insured region's (参保地政策); ``resolved`` holds each fee line's entry
    in the treatment region's catalogue (就医地目录). ``mode`` says whether this is direct
    settlement at the hospital or a manual reimbursement at the insured region (the latter
    computes unfiled or excluded care by the insured region's rules instead of refusing).
    The claim's encounter type picks the scheme (住院, 普通门诊, 门诊慢特病, 定点药店).
    """
    _check_inputs(claim, policy, resolved, year_to_date, mode)
    scheme = _scheme(claim, policy)
    chronic_step = scheme.step(ChronicDiseaseStep)
    if isinstance(chronic_step, ChronicDiseaseStep) and mode is SettlementMode.DIRECT:
        terms = require_disease(chronic_step, claim)
        if not terms.cross_province and claim.insured_region[:2] != claim.treatment_region[:2]:
            raise Refused(
                "CHRONIC_DISEASE_NOT_DIRECT",
                f"病种 {terms.code}（{terms.name}）是参保地自定的门诊慢特病病种，不纳入跨省直接结算，"
                "请全额垫付后回参保地按规定报销",
                "a region's own chronic disease is not settled directly across provinces",
                field="disease_code",
            )
    state = State(scheme=scheme.kind, quantum=policy.rounding.quantum)
    steps: list[ExplanationStep] = []
    lines: list[LineBreakdown] = []
    account_step: PersonalAccountStep | None = None
    payable_for_rate = ZERO

    for step in scheme.steps:
        if isinstance(step, LineSplitStep):
            lines = _split_lines(claim, resolved, step, state, steps)
        elif isinstance(step, DeductibleStep):
            record = run_deductible(step, claim, policy, year_to_date, state)
            steps.append(explain.deductible(record, claim, policy, state))
        elif isinstance(step, PooledFundStep):
            pooled = run_pooled_fund(step, claim, policy, year_to_date, state)
            payable_for_rate = pooled.payable
            cross = explain.cross_region(pooled, claim, policy)
            if cross is not None:
                steps.append(cross)
            steps.append(explain.pooled(pooled, claim, policy, state))
        elif isinstance(step, DiseaseLimitStep):
            steps.append(explain.disease_limit(run_disease_limit(step, claim, year_to_date, state)))
        elif isinstance(step, ChronicDiseaseStep):
            chronic = run_chronic_disease(step, claim, policy, year_to_date, state)
            payable_for_rate = chronic.payable
            steps.append(explain.chronic_disease(chronic))
        elif isinstance(step, SupplementaryStep):
            steps.append(explain.supplementary(run_supplementary(step, year_to_date, state)))
        elif isinstance(step, AssistanceStep):
            assisted = run_assistance(step, claim, year_to_date, state)
            if assisted is not None:
                steps.append(explain.assistance(assisted))
        elif isinstance(step, TiltAssistanceStep):
            tilted = run_tilt(step, claim, year_to_date, state)
            if tilted is not None:
                steps.append(explain.tilt(tilted))
        else:
            account_step = step

    if claim.assistance_group is not None and scheme.step(AssistanceStep) is None:
        steps.append(
            ExplanationStep(
                "medical_assistance",
                f"{claim.assistance_group.label_zh}：参保地政策未规定该类人员的{scheme.label_zh}医疗救助",
                f"{claim.assistance_group.value}: the insured region's policy lists no assistance for this scheme",
            )
        )
    paid = run_account(account_step, claim, state, direct=mode is SettlementMode.DIRECT)
    steps.append(explain.account(paid))
    if mode is SettlementMode.MANUAL:
        steps.append(explain.MANUAL)

    if scheme.kind.counts_as_admission:
        state.add("eligible_amount_accumulated", state.eligible - state.pooled)
    delta = _delta(claim, scheme, state)
    if payable_for_rate > 0:
        rate = (state.pooled / payable_for_rate).quantize(_RATE_PLACES)
    else:
        rate = state.nominal_rate if state.nominal_rate is not None else ZERO
    return SettlementResult(
        mode=mode,
        total_charges=_money(state.total),
        fully_self_paid=_money(state.fully),
        over_limit_self_paid=_money(state.over),
        upfront_self_paid=_money(state.upfront),
        eligible_amount=_money(state.eligible),
        deductible_applied=_money(state.deductible),
        pooled_fund_paid=_money(state.pooled),
        serious_illness_paid=_money(state.serious),
        large_expense_paid=_money(state.large),
        medical_assistance_paid=_money(state.assistance),
        fund_paid_total=_money(paid.fund_total),
        patient_share=_money(paid.patient_share),
        personal_account_paid=_money(paid.account),
        cash_paid=_money(paid.cash),
        pooled_fund_rate=rate,
        lines=tuple(lines),
        steps=tuple(steps),
        policy_version=policy.version_hash,
        catalog_version=resolved.catalog_version_hash,
        year_to_date_delta=delta,
        year_to_date_after=year_to_date.plus(delta),
        scheme=scheme.kind.value,
    )


def _split_lines(
    claim: Claim,
    resolved: ResolvedFeeLines,
    step: LineSplitStep,
    state: State,
    steps: list[ExplanationStep],
) -> list[LineBreakdown]:
    lines: list[LineBreakdown] = []
    total = fully = over = upfront = eligible = ZERO
    groups = step.item_groups
    grouped: dict[str, int] = {}
    items = resolved.items_by_serial
    zero = _ZERO_MONEY
    exact = Money.exact
    for line in claim.fee_lines:
        item = items[line.serial]
        group = group_of(line, groups) if groups and item is not None else None
        if group is not None:
            grouped[group.name] = grouped.get(group.name, 0) + 1
        f, o, u, e = split_amounts(line, item, group)
        money = line.line_amount
        amount = money.yuan
        total += amount
        fully += f
        over += o
        upfront += u
        eligible += e
        lines.append(
            LineBreakdown(
                line.serial,
                line.name,
                line.catalog_code,
                item,
                line.unit_price,
                money,
                money if f is amount else zero if not f else exact(f),
                zero if not o else exact(o),
                zero if not u else exact(u),
                money if e is amount else zero if not e else exact(e),
                "" if group is None else group.name,
            )
        )
    state.total, state.fully, state.over, state.upfront, state.eligible = (
        total,
        fully,
        over,
        upfront,
        eligible,
    )
    steps.append(explain.lines(claim, state, len(lines), grouped, step.cite("item_groups")))
    return lines


def _delta(claim: Claim, scheme: Scheme, state: State) -> YearToDate:
    fixed = {name: _money(state.delta.get(name, ZERO)) for name in _FIXED_COUNTERS}
    counters = {
        name: Money(amount)
        for name, amount in sorted(state.delta.items())
        if name not in _FIXED_COUNTERS and amount
    }
    return YearToDate(
        year=claim.settlement_year,
        admissions_count=1 if scheme.kind.counts_as_admission else 0,
        counters=counters,
        **fixed,
    )


def reverse(year_to_date: YearToDate, result: SettlementResult) -> YearToDate:
    """结算撤销: take a settlement's effect back out of the year-to-date totals."""
    return year_to_date.minus(result.year_to_date_delta)
