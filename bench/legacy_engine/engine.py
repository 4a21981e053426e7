"""settle(): 参保地政策 applied to 就医地目录, line by line, to the fen.

Order of the calculation (each step is one explanation line in the result):

1. Each fee line splits into 全自费 (class C, or not in the treatment catalogue),
   超限价 (the part above the price limit), 先行自付 (class B × upfront share) and the
   in-scope remainder 符合政策范围金额.
2. The deductible 起付线 (by hospital level, admission count in the year, person type)
   comes off the in-scope total.
3. The basic pooled fund 统筹基金 pays the rest at the reimbursement rate (hospital level +
   person type + cross-region adjustment, by band), up to what is left of the annual cap.
4. 大病保险 (residents) or 大额医疗补助 (employees) pays by tiers on the year's accumulated
   in-scope patient share above its own deductible, up to its annual cap.
5. 医疗救助 pays a share of what is left for listed low-income groups, up to its cap.
6. The personal account 个人账户 pays from the patient share up to the balance; cash the rest.

Rounding: ROUND_HALF_UP to the fen at each named step (line upfront share, price-limit
amount, deductible, each band or tier portion, assistance). Sums are exact.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from yidi.domain.catalog import CatalogItem, ItemClass
from yidi.domain.claims import Claim, FeeLine, ResolvedFeeLines, YearToDate
from yidi.domain.errors import InvalidInput, Refused
from yidi.domain.insurance import UNFILED_KEY, SettlementMode
from yidi.domain.money import Money

from legacy_engine.model import AccountScope, Policy, SupplementaryKind
from yidi.settlement.result import ExplanationStep, LineBreakdown, SettlementResult

_FEN = Decimal("0.01")
_ZERO = Decimal("0.00")
_ONE = Decimal(1)


def _round(value: Decimal) -> Decimal:
    return value.quantize(_FEN, rounding=ROUND_HALF_UP)


def _percent(rate: Decimal) -> str:
    return f"{(rate * 100).normalize():f}%"


def _yuan(amount: Decimal | Money) -> str:
    value = amount.yuan if isinstance(amount, Money) else amount
    return f"{value:,.2f}"


def _cited(policy: Policy, *paths: str) -> str:
    for path in paths:
        text = policy.cite(path)
        if text:
            return text
    return "政策参数"


# --------------------------------------------------------------------------- lines


_CLASS_B = ItemClass.B
_CLASS_C = ItemClass.C
_ZERO_MONEY = Money.zero()


def _split_line(
    line: FeeLine, item: CatalogItem | None
) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    """(全自费, 超限价, 先行自付, 符合政策范围) of one line; reasons are built on demand."""
    amount = line.line_amount.yuan
    if item is None or item.item_class is _CLASS_C:
        return amount, _ZERO, _ZERO, _ZERO
    over = _ZERO
    allowed = amount
    price_limit = item.price_limit
    if price_limit is not None and line.unit_price > price_limit.yuan:
        limited = _round(price_limit.yuan * line.quantity)
        over = max(_ZERO, amount - limited)
        allowed = amount - over
    upfront = _ZERO
    if item.item_class is _CLASS_B and item.upfront_self_pay_rate:
        upfront = _round(allowed * item.upfront_self_pay_rate)
    return _ZERO, over, upfront, allowed - upfront


def _money(value: Decimal) -> Money:
    return _ZERO_MONEY if not value else Money(value)


def split_line(line: FeeLine, item: CatalogItem | None) -> LineBreakdown:
    """How one fee line splits under its catalogue entry (the 2301 per-line reply).

    The same split :func:`settle` applies, so a line's upload reply and its part of
    the settlement always agree.
    """
    fully, over, upfront, eligible = _split_line(line, item)
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
    earliest = dt.datetime.combine(claim.admitted_on, dt.time()) - dt.timedelta(
        hours=policy.emergency_pre_admission_hours
    )
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
    """
    _check_inputs(claim, policy, resolved, year_to_date, mode)
    steps: list[ExplanationStep] = []

    # 1. line by line --------------------------------------------------------
    lines: list[LineBreakdown] = []
    total = fully = over = upfront = eligible = _ZERO
    for line in claim.fee_lines:
        item = resolved.items_by_serial[line.serial]
        f, o, u, e = _split_line(line, item)
        total += line.line_amount.yuan
        fully += f
        over += o
        upfront += u
        eligible += e
        lines.append(
            LineBreakdown(
                serial=line.serial,
                name=line.name,
                catalog_code=line.catalog_code,
                item=item,
                unit_price=line.unit_price,
                line_amount=line.line_amount,
                fully_self_paid=_money(f),
                over_limit_self_paid=_money(o),
                upfront_self_paid=_money(u),
                eligible_amount=_money(e),
            )
        )
    steps.append(
        ExplanationStep(
            "lines",
            f"医疗费总额 {_yuan(total)} 元（{len(lines)} 条明细，按就医地 {claim.treatment_region} 目录）："
            f"全自费 {_yuan(fully)} 元，超限价自费 {_yuan(over)} 元，先行自付 {_yuan(upfront)} 元，"
            f"符合政策范围 {_yuan(eligible)} 元",
            f"Total charges {_yuan(total)} ({len(lines)} lines, treatment catalogue "
            f"{claim.treatment_region}): fully self-paid {_yuan(fully)}, above price limit "
            f"{_yuan(over)}, upfront self-pay {_yuan(upfront)}, eligible {_yuan(eligible)}",
            Money(eligible),
        )
    )

    # 2. deductible ------------------------------------------------------------
    level = claim.hospital_level
    admission_number = year_to_date.admissions_count + 1
    standard = policy.deductible_by_level[level].yuan
    factor = policy.deductible_person_rate[claim.person_type]
    if admission_number > 1:
        factor *= policy.subsequent_admission_rate
    deductible = _round(standard * factor)
    deductible_applied = min(deductible, eligible)
    notes_zh = [level.label_zh, f"本年度第{admission_number}次住院"]
    notes_en = [f"level {level.value} hospital", f"admission {admission_number} this year"]
    if admission_number > 1 and policy.subsequent_admission_rate != _ONE:
        notes_zh.append(f"再次住院按 {_percent(policy.subsequent_admission_rate)}")
        notes_en.append(f"repeat admission at {_percent(policy.subsequent_admission_rate)}")
    person_rate = policy.deductible_person_rate[claim.person_type]
    if person_rate != _ONE:
        notes_zh.append(f"{claim.person_type.label_zh}按 {_percent(person_rate)}")
        notes_en.append(f"{claim.person_type.value} at {_percent(person_rate)}")
    citation = _cited(policy, f"deductible.by_hospital_level.{level.key}")
    steps.append(
        ExplanationStep(
            "deductible",
            f"起付线 {_yuan(deductible)} 元（{'，'.join(notes_zh)}，{citation}）；"
            f"实际支付起付线 {_yuan(deductible_applied)} 元",
            f"Deductible {_yuan(deductible)} ({', '.join(notes_en)}; {citation}); "
            f"applied {_yuan(deductible_applied)}",
            Money(deductible_applied),
        )
    )

    # 3. basic pooled fund -------------------------------------------------------
    is_cross_region = claim.insured_region != claim.treatment_region
    cross_points = _ZERO
    if is_cross_region:
        cross_key = UNFILED_KEY if claim.filing_category is None else claim.filing_category.value
        cross_points = policy.cross_region_rule(claim.filing_category).rate_points
        label = "未备案" if claim.filing_category is None else claim.filing_category.label_zh
        direction = (
            "不调整（执行参保地本地比例）"
            if cross_points == 0
            else f"调整 {_percent(cross_points)}"
        )
        steps.append(
            ExplanationStep(
                "cross_region",
                f"异地就医（{label}）：支付比例{direction}（{_cited(policy, f'cross_region.{cross_key}.rate_points')}）",
                f"Cross-region care ({cross_key}): rate adjusted by {_percent(cross_points)}",
            )
        )
    base_rate = (
        policy.rate_by_level[level] + policy.person_type_points[claim.person_type] + cross_points
    )
    payable = eligible - deductible_applied
    computed = _ZERO
    band_texts_zh: list[str] = []
    band_texts_en: list[str] = []
    bands = policy.bands
    for index, band in enumerate(bands):
        start = band.from_amount.yuan
        end = bands[index + 1].from_amount.yuan if index + 1 < len(bands) else None
        portion = payable - start if end is None else min(payable, end) - start
        if portion <= 0:
            continue
        rate = min(_ONE, max(_ZERO, base_rate + band.points))
        paid = _round(portion * rate)
        computed += paid
        band_texts_zh.append(f"{_yuan(portion)} × {_percent(rate)} = {_yuan(paid)}")
        band_texts_en.append(f"{_yuan(portion)} x {_percent(rate)} = {_yuan(paid)}")
    cap_left = max(_ZERO, policy.annual_cap.yuan - year_to_date.pooled_fund_paid.yuan)
    pooled = min(computed, cap_left)
    rate_citation = _cited(policy, f"reimbursement.by_hospital_level.{level.key}")
    capped_zh = (
        f"；年度封顶线 {_yuan(policy.annual_cap)} 元，本年已付 {_yuan(year_to_date.pooled_fund_paid)} 元，"
        f"尚可支付 {_yuan(cap_left)} 元，按封顶支付"
        if pooled < computed
        else ""
    )
    capped_en = (
        f"; capped at the {_yuan(cap_left)} left of the annual cap" if pooled < computed else ""
    )
    steps.append(
        ExplanationStep(
            "pooled_fund",
            f"统筹基金支付 {_yuan(pooled)} 元：起付线以上 {_yuan(payable)} 元，"
            f"{'；'.join(band_texts_zh) or '无'}（{level.label_zh}、{claim.person_type.label_zh}，{rate_citation}）{capped_zh}",
            f"Pooled fund pays {_yuan(pooled)}: {_yuan(payable)} above the deductible, "
            f"{'; '.join(band_texts_en) or 'nothing'}{capped_en}",
            Money(pooled),
        )
    )
    base_rate_clamped = min(_ONE, max(_ZERO, base_rate))

    # 4. serious illness / large expense ----------------------------------------
    patient_in_scope = eligible - pooled
    serious = large = _ZERO
    supplementary = policy.supplementary
    if supplementary is not None:
        before = year_to_date.eligible_amount_accumulated.yuan
        after = before + patient_in_scope
        threshold = supplementary.deductible.yuan
        over_before = max(_ZERO, before - threshold)
        over_after = max(_ZERO, after - threshold)
        supplementary_paid = _ZERO
        tiers = supplementary.tiers
        tier_texts: list[str] = []
        for index, tier in enumerate(tiers):
            start = tier.from_amount.yuan
            end = tiers[index + 1].from_amount.yuan if index + 1 < len(tiers) else None
            low = max(start, over_before)
            high = over_after if end is None else min(end, over_after)
            if high <= low:
                continue
            paid = _round((high - low) * tier.rate)
            supplementary_paid += paid
            tier_texts.append(f"{_yuan(high - low)} × {_percent(tier.rate)} = {_yuan(paid)}")
        already = (
            year_to_date.serious_illness_paid
            if supplementary.kind is SupplementaryKind.SERIOUS_ILLNESS
            else year_to_date.large_expense_paid
        ).yuan
        left = max(_ZERO, supplementary.annual_cap.yuan - already)
        capped = supplementary_paid > left
        supplementary_paid = min(supplementary_paid, left)
        if supplementary.kind is SupplementaryKind.SERIOUS_ILLNESS:
            serious = supplementary_paid
        else:
            large = supplementary_paid
        label = supplementary.kind.label_zh
        steps.append(
            ExplanationStep(
                supplementary.kind.value,
                f"{label}支付 {_yuan(supplementary_paid)} 元：本年合规自付累计 {_yuan(before)} → {_yuan(after)} 元，"
                f"{label}起付线 {_yuan(threshold)} 元"
                + (f"，{'；'.join(tier_texts)}" if tier_texts else "，未超过起付线")
                + (f"，按年度限额余额 {_yuan(left)} 元支付" if capped else "")
                + f"（{_cited(policy, 'supplementary.deductible')}）",
                f"{supplementary.kind.value} pays {_yuan(supplementary_paid)}: accumulated "
                f"patient in-scope share {_yuan(before)} -> {_yuan(after)}, threshold {_yuan(threshold)}"
                + (" (capped)" if capped else ""),
                Money(supplementary_paid),
            )
        )

    # 5. medical assistance -------------------------------------------------------
    assistance = _ZERO
    group = claim.assistance_group
    assistance_rule = policy.medical_assistance
    if group is not None:
        group_rate = None if assistance_rule is None else assistance_rule.rate_by_group.get(group)
        if assistance_rule is None or group_rate is None:
            steps.append(
                ExplanationStep(
                    "medical_assistance",
                    f"{group.label_zh}：参保地政策未规定该类人员的住院医疗救助",
                    f"{group.value}: the insured region's policy lists no assistance for this group",
                )
            )
        else:
            remainder = patient_in_scope - serious - large
            computed_assistance = _round(remainder * group_rate)
            left = max(_ZERO, assistance_rule.annual_cap.yuan - year_to_date.assistance_paid.yuan)
            assistance = min(computed_assistance, left)
            steps.append(
                ExplanationStep(
                    "medical_assistance",
                    f"医疗救助支付 {_yuan(assistance)} 元（{group.label_zh}，政策范围内个人负担 {_yuan(remainder)} 元 × "
                    f"{_percent(group_rate)}，年度救助限额余额 {_yuan(left)} 元，"
                    f"{_cited(policy, f'medical_assistance.rate_by_group.{group.value}')}）",
                    f"Medical assistance pays {_yuan(assistance)} ({group.value}: {_yuan(remainder)} x "
                    f"{_percent(group_rate)}, {_yuan(left)} left of the annual limit)",
                    Money(assistance),
                )
            )

    # 6. patient share: personal account, cash ------------------------------------
    fund_total = pooled + serious + large + assistance
    patient_share = total - fund_total
    account = _ZERO
    account_rule = policy.personal_account
    if (
        mode is SettlementMode.DIRECT
        and claim.use_personal_account
        and account_rule.enabled
        and claim.personal_account_balance.yuan > 0
    ):
        account_base = patient_share
        if account_rule.scope is AccountScope.IN_SCOPE_ONLY:
            account_base = max(_ZERO, patient_share - fully - over)
        account = min(account_base, claim.personal_account_balance.yuan)
    cash = patient_share - account
    steps.append(
        ExplanationStep(
            "patient_share",
            f"基金支付合计 {_yuan(fund_total)} 元；个人负担 {_yuan(patient_share)} 元，"
            f"其中个人账户 {_yuan(account)} 元，现金 {_yuan(cash)} 元",
            f"Funds pay {_yuan(fund_total)} in all; patient share {_yuan(patient_share)}: "
            f"personal account {_yuan(account)}, cash {_yuan(cash)}",
            Money(patient_share),
        )
    )
    if mode is SettlementMode.MANUAL:
        steps.append(
            ExplanationStep(
                "manual",
                "本结果为回参保地手工报销的测算（按参保地规定），不在就医地直接结算",
                "Computed for manual reimbursement at the insured region, not settled directly",
            )
        )

    delta = YearToDate(
        year=claim.settlement_year,
        admissions_count=1,
        deductible_used=Money(deductible_applied),
        pooled_fund_paid=Money(pooled),
        serious_illness_paid=Money(serious),
        large_expense_paid=Money(large),
        assistance_paid=Money(assistance),
        eligible_amount_accumulated=Money(patient_in_scope),
    )
    return SettlementResult(
        mode=mode,
        total_charges=Money(total),
        fully_self_paid=Money(fully),
        over_limit_self_paid=Money(over),
        upfront_self_paid=Money(upfront),
        eligible_amount=Money(eligible),
        deductible_applied=Money(deductible_applied),
        pooled_fund_paid=Money(pooled),
        serious_illness_paid=Money(serious),
        large_expense_paid=Money(large),
        medical_assistance_paid=Money(assistance),
        fund_paid_total=Money(fund_total),
        patient_share=Money(patient_share),
        personal_account_paid=Money(account),
        cash_paid=Money(cash),
        pooled_fund_rate=base_rate_clamped,
        lines=tuple(lines),
        steps=tuple(steps),
        policy_version=policy.version_hash,
        catalog_version=resolved.catalog_version_hash,
        year_to_date_delta=delta,
        year_to_date_after=year_to_date.plus(delta),
    )


def reverse(year_to_date: YearToDate, result: SettlementResult) -> YearToDate:
    """结算撤销: take a settlement's effect back out of the year-to-date totals."""
    return year_to_date.minus(result.year_to_date_delta)
