"""The wording of each step: a result record in, its Chinese and English sentences out.

Kept apart from the arithmetic (:mod:`yidi.settlement.steps`): every number here comes
from a record, every parameter is cited with the reference of its value in force.
"""

from __future__ import annotations

from decimal import Decimal

from yidi.kernel.insurance import UNFILED_KEY
from yidi.kernel.money import Money
from yidi.policy.model import (
    DeductibleBasis,
    LimitBasis,
    Policy,
    ScaleBase,
    ScaleMode,
    SupplementaryStart,
)
from yidi.settlement.claims import Claim
from yidi.settlement.result import ExplanationStep
from yidi.settlement.steps import (
    AccountRecord,
    AssistanceRecord,
    ChronicRecord,
    DeductibleRecord,
    DiseaseLimitRecord,
    PooledRecord,
    Portion,
    State,
    SupplementaryRecord,
    TiltRecord,
)

_ONE = Decimal(1)
_ZERO_D = Decimal("0.00")


def percent(rate: Decimal) -> str:
    return f"{(rate * 100).normalize():f}%"


def yuan(amount: Decimal | Money) -> str:
    value = amount.yuan if isinstance(amount, Money) else amount
    return f"{value:,.2f}"


def _portions(portions: tuple[Portion, ...], sep: str, times: str) -> str:
    return sep.join(
        f"{yuan(p.amount)} {times} {percent(p.rate)} = {yuan(p.paid)}" for p in portions
    )


def lines(
    claim: Claim, state: State, count: int, grouped: dict[str, int], citation: str
) -> ExplanationStep:
    names = "、".join(f"{name} {n} 条" for name, n in grouped.items())
    group_zh = f"；参保地项目组：{names}（{citation}）" if grouped else ""
    group_en = f"; insured region's item groups: {', '.join(grouped)}" if grouped else ""
    return ExplanationStep(
        "lines",
        f"医疗费总额 {yuan(state.total)} 元（{count} 条明细，按就医地 {claim.treatment_region} 目录{group_zh}）："
        f"全自费 {yuan(state.fully)} 元，超限价自费 {yuan(state.over)} 元，先行自付 {yuan(state.upfront)} 元，"
        f"符合政策范围 {yuan(state.eligible)} 元",
        f"Total charges {yuan(state.total)} ({count} lines, treatment catalogue "
        f"{claim.treatment_region}{group_en}): fully self-paid {yuan(state.fully)}, above price limit "
        f"{yuan(state.over)}, upfront self-pay {yuan(state.upfront)}, eligible {yuan(state.eligible)}",
        Money.exact(state.eligible),
    )


def deductible(
    record: DeductibleRecord, claim: Claim, policy: Policy, state: State
) -> ExplanationStep:
    step = record.step
    level = claim.hospital_level
    notes_zh = [level.label_zh]
    notes_en = [f"level {level.value} hospital"]
    if record.ordinal is not None:
        notes_zh.append(f"本年度第{record.ordinal}次住院")
        notes_en.append(f"admission {record.ordinal} this year")
        if record.ordinal_factor != _ONE:
            notes_zh.append(f"第{record.ordinal}次住院按 {percent(record.ordinal_factor)}")
            notes_en.append(f"admission {record.ordinal} at {percent(record.ordinal_factor)}")
    else:
        notes_zh.append(f"{state.scheme.label_zh}（不计入住院次数）")
        notes_en.append(f"{state.scheme.value} (not counted as an admission)")
    if record.person_factor != _ONE:
        notes_zh.append(f"{claim.person_type.label_zh}按 {percent(record.person_factor)}")
        notes_en.append(f"{claim.person_type.value} at {percent(record.person_factor)}")
    if record.floor_applied:
        notes_zh.append(f"不低于最低起付线 {yuan(step.floor or _ZERO_D)} 元")
        notes_en.append(f"raised to the floor {yuan(step.floor or _ZERO_D)}")
    citation = step.cite("by_hospital_level", "amount")
    if record.cross_region_standard:
        key = UNFILED_KEY if claim.filing_category is None else claim.filing_category.value
        notes_zh[0] = "异地就医住院起付标准（不分医院级别）"
        notes_en[0] = "the filing category's cross-region inpatient deductible"
        citation = policy.cite(f"cross_region.{key}.inpatient_deductible") or citation
    extra_zh = extra_en = ""
    if step.basis is DeductibleBasis.PER_YEAR:
        extra_zh += (
            f"；年度起付线，本年已付 {yuan(record.used_before)} 元，本次尚需 {yuan(record.due)} 元"
        )
        extra_en += f"; yearly deductible, {yuan(record.used_before)} used, {yuan(record.due)} due"
    if record.annual_cap_applied:
        extra_zh += (
            f"；年度累计起付线上限 {yuan(step.annual_cap or _ZERO_D)} 元（{step.cite('annual_cap')}），"
            f"本次按 {yuan(record.due)} 元"
        )
        extra_en += (
            f"; annual deductible cap {yuan(step.annual_cap or _ZERO_D)} leaves {yuan(record.due)}"
        )
    return ExplanationStep(
        step.id if step.id != "deductible" else "deductible",
        f"起付线 {yuan(record.computed)} 元（{'，'.join(notes_zh)}，{citation}）{extra_zh}；"
        f"实际支付起付线 {yuan(record.applied)} 元",
        f"Deductible {yuan(record.computed)} ({', '.join(notes_en)}; {citation}){extra_en}; "
        f"applied {yuan(record.applied)}",
        Money.exact(record.applied),
    )


def cross_region(record: PooledRecord, claim: Claim, policy: Policy) -> ExplanationStep | None:
    if record.cross_key is None:
        return None
    points = record.cross_points
    label = "未备案" if claim.filing_category is None else claim.filing_category.label_zh
    direction = "不调整（执行参保地本地比例）" if points == 0 else f"调整 {percent(points)}"
    key = UNFILED_KEY if claim.filing_category is None else claim.filing_category.value
    citation = policy.cite(f"cross_region.{key}.rate_points") or "参保地政策未规定该类别的调整"
    return ExplanationStep(
        "cross_region",
        f"异地就医（{label}）：支付比例{direction}（{citation}）",
        f"Cross-region care ({key}): rate adjusted by {percent(points)}",
    )


def pooled(record: PooledRecord, claim: Claim, policy: Policy, state: State) -> ExplanationStep:
    step = record.step
    level = claim.hospital_level
    rate_citation = step.cite("rate_by_hospital_level", "rate")
    notes_zh = [level.label_zh, claim.person_type.label_zh]
    if record.cross_rate:
        notes_zh[0] = "异地就医住院支付比例（不分医院级别）"
        rate_citation = (
            policy.cite(f"cross_region.{record.cross_key}.inpatient_rate") or rate_citation
        )
    notes_en: list[str] = []
    if record.age is not None:
        notes_zh.append(
            f"{record.age}周岁" + (f"加 {percent(record.age_points)}" if record.age_points else "")
        )
        notes_en.append(
            f"age {record.age}" + (f" +{percent(record.age_points)}" if record.age_points else "")
        )
    notes_zh.append(rate_citation)
    head_zh = f"起付线以上 {yuan(record.payable)} 元"
    head_en = f"{yuan(record.payable)} above the deductible"
    if record.entry_cap == "claim":
        head_zh += f"，每次纳入统筹支付上限 {yuan(step.entry_cap_per_claim or _ZERO_D)} 元（{step.cite('entry_cap_per_claim')}）"
        head_en += f", at most {yuan(record.entry)} enters the fund per claim"
    elif record.entry_cap == "year":
        head_zh += f"，年度纳入统筹支付上限 {yuan(step.entry_cap_per_year or _ZERO_D)} 元尚余 {yuan(record.entry)} 元（{step.cite('entry_cap_per_year')}）"
        head_en += f", {yuan(record.entry)} left of the yearly amount that may enter the fund"
    if step.scale is not None:
        mode_zh = "累进" if record.mode is ScaleMode.MARGINAL else "全额"
        head_zh += f"，按{record.base.label_zh}分段（{mode_zh}，{step.cite('scale')}）"
        head_en += f", scale on {record.base.value} ({record.mode.value})"
        if (
            record.base in (ScaleBase.YEAR_ELIGIBLE, ScaleBase.YEAR_ABOVE_DEDUCTIBLE)
            and record.portions
        ):
            head_zh += (
                f"，本次计入区间 {yuan(record.portions[0].low)}–{yuan(record.portions[-1].high)} 元"
            )
    capped = record.paid < record.computed
    capped_zh = (
        f"；年度封顶线 {yuan(step.annual_cap)} 元，尚可支付 {yuan(record.cap_left)} 元，按封顶支付"
        f"（{step.cite('annual_cap')}）"
        if capped
        else ""
    )
    capped_en = f"; capped at the {yuan(record.cap_left)} left of the annual cap" if capped else ""
    fund_zh = "统筹基金" if state.scheme.counts_as_admission else f"{state.scheme.label_zh}统筹基金"
    return ExplanationStep(
        "pooled_fund",
        f"{fund_zh}支付 {yuan(record.paid)} 元：{head_zh}，"
        f"{_portions(record.portions, '；', '×') or '无'}（{'、'.join(notes_zh[:-1])}，{notes_zh[-1]}）{capped_zh}",
        f"Pooled fund pays {yuan(record.paid)}: {head_en}, "
        f"{_portions(record.portions, '; ', 'x') or 'nothing'}"
        + (f" ({', '.join(notes_en)})" if notes_en else "")
        + capped_en,
        Money.exact(record.paid),
    )


def disease_limit(record: DiseaseLimitRecord) -> ExplanationStep:
    step = record.step
    name = step.names.get(record.code, record.code)
    left = max(Decimal(0), record.limit - record.used_before)
    limited = record.paid < record.before
    return ExplanationStep(
        step.id,
        f"门诊慢特病（{name}）年度支付限额 {yuan(record.limit)} 元，本年已付 {yuan(record.used_before)} 元，"
        f"尚余 {yuan(left)} 元"
        + (
            f"，统筹支付由 {yuan(record.before)} 元限为 {yuan(record.paid)} 元"
            if limited
            else "，未超过限额"
        )
        + f"（{step.cite('annual_limit')}）",
        f"Chronic disease {record.code}: annual limit {yuan(record.limit)}, {yuan(record.used_before)} used"
        + (
            f"; fund payment limited from {yuan(record.before)} to {yuan(record.paid)}"
            if limited
            else ""
        ),
        Money.exact(record.paid),
    )


def supplementary(record: SupplementaryRecord) -> ExplanationStep:
    step = record.step
    label = step.fund.label_zh
    capped = record.paid < record.computed
    if step.start is SupplementaryStart.BASIC_CAP:
        base_zh = (
            f"统筹基金封顶线以上政策范围内费用累计 {yuan(record.before)} → {yuan(record.after)} 元"
        )
    else:
        parts = ["合规自付"]
        if step.include_upfront:
            parts.append("含先行自付")
        if not step.include_deductible:
            parts.append("不含起付线")
        base_zh = f"本年{'，'.join(parts)}累计 {yuan(record.before)} → {yuan(record.after)} 元"
    return ExplanationStep(
        step.fund.value,
        f"{label}支付 {yuan(record.paid)} 元：{base_zh}，{label}起付线 {yuan(step.deductible)} 元"
        + (f"，{_portions(record.portions, '；', '×')}" if record.portions else "，未超过起付线")
        + (f"，按年度限额余额 {yuan(record.left)} 元支付" if capped else "")
        + f"（{step.cite('deductible', 'tiers')}）",
        f"{step.fund.value} pays {yuan(record.paid)}: accumulated base "
        f"{yuan(record.before)} -> {yuan(record.after)}, threshold {yuan(step.deductible)}"
        + (" (capped)" if capped else ""),
        Money.exact(record.paid),
    )


def assistance(record: AssistanceRecord) -> ExplanationStep:
    group = record.group
    if record.rate is None:
        return ExplanationStep(
            "medical_assistance",
            f"{group.label_zh}：参保地政策未规定该类人员的医疗救助",
            f"{group.value}: the insured region's policy lists no assistance for this group",
        )
    step = record.step
    return ExplanationStep(
        "medical_assistance",
        f"医疗救助支付 {yuan(record.paid)} 元（{group.label_zh}，政策范围内个人负担 {yuan(record.remainder)} 元 × "
        f"{percent(record.rate)}，年度救助限额余额 {yuan(record.left)} 元，{step.cite('rate_by_group')}）",
        f"Medical assistance pays {yuan(record.paid)} ({group.value}: {yuan(record.remainder)} x "
        f"{percent(record.rate)}, {yuan(record.left)} left of the annual limit)",
        Money.exact(record.paid),
    )


def tilt(record: TiltRecord) -> ExplanationStep:
    step = record.step
    capped = record.paid < record.computed
    return ExplanationStep(
        step.id,
        f"倾斜救助支付 {yuan(record.paid)} 元（{record.group.label_zh}：本年救助后政策范围内个人负担累计 "
        f"{yuan(record.before)} → {yuan(record.after)} 元，超过 {yuan(step.threshold)} 元部分 × {percent(step.rate)}"
        + (f"，按年度限额余额 {yuan(record.left)} 元支付" if capped else "")
        + f"，{step.cite('threshold', 'rate')}）",
        f"Tilt assistance pays {yuan(record.paid)} ({record.group.value}: accumulated "
        f"{yuan(record.before)} -> {yuan(record.after)}, above {yuan(step.threshold)} x {percent(step.rate)}"
        + (", capped" if capped else "")
        + ")",
        Money.exact(record.paid),
    )


def account(record: AccountRecord) -> ExplanationStep:
    return ExplanationStep(
        "patient_share",
        f"基金支付合计 {yuan(record.fund_total)} 元；个人负担 {yuan(record.patient_share)} 元，"
        f"其中个人账户 {yuan(record.account)} 元，现金 {yuan(record.cash)} 元",
        f"Funds pay {yuan(record.fund_total)} in all; patient share {yuan(record.patient_share)}: "
        f"personal account {yuan(record.account)}, cash {yuan(record.cash)}",
        Money.exact(record.patient_share),
    )


MANUAL = ExplanationStep(
    "manual",
    "本结果为回参保地手工报销的测算（按参保地规定），不在就医地直接结算",
    "Computed for manual reimbursement at the insured region, not settled directly",
)


def chronic_disease(record: ChronicRecord) -> ExplanationStep:
    """门诊慢特病: the disease, its terms and source, and each yuan of the limit."""
    terms = record.terms
    step = record.step
    rate = percent(record.rate)
    source = (
        f"参保地{' ' + step.list_region + ' ' if step.list_region else ''}门诊慢特病病种目录"
        f" {terms.effective_on.isoformat()} 起：{terms.reference}"
    )
    marked = terms.illustrative and "示例" not in terms.reference
    limit_zh = (
        "未设年度限额"
        if terms.annual_limit is None
        else f"{terms.limit_on.label_zh} {yuan(terms.annual_limit)} 元"
    )
    limit_en = (
        "no annual limit"
        if terms.annual_limit is None
        else f"annual limit {yuan(terms.annual_limit)} on "
        + ("fund payments" if terms.limit_on is LimitBasis.FUND_PAID else "in-scope expenses")
    )
    deductible_zh = deductible_en = ""
    if terms.deductible:
        deductible_zh = (
            f"；病种起付线 {yuan(terms.deductible)} 元，本年尚余 {yuan(record.deductible_left)} 元，"
            f"本次计入起付线 {yuan(record.deductible)} 元，起付线以上 {yuan(record.payable)} 元"
        )
        deductible_en = (
            f"; disease deductible {yuan(terms.deductible)}, {yuan(record.deductible_left)} left this "
            f"year, {yuan(record.deductible)} applied, {yuan(record.payable)} above it"
        )
    if record.left_before is None:
        limit_step_zh = f"；按 {rate} 计 {yuan(record.computed)} 元"
        limit_step_en = f"; at {rate}: {yuan(record.computed)}"
    elif terms.limit_on is LimitBasis.ELIGIBLE:
        limit_step_zh = (
            f"；本年该病种费用限额结算前已用 {yuan(record.used_before)} 元、尚余 {yuan(record.left_before)} 元，"
            f"按 {rate} 支付限额内的 {yuan(record.counted)} 元，计 {yuan(record.computed)} 元"
        )
        limit_step_en = (
            f"; {yuan(record.used_before)} of the limit used before, {yuan(record.left_before)} left: "
            f"{rate} of {yuan(record.counted)} within it = {yuan(record.computed)}"
        )
    else:
        limit_step_zh = (
            f"；按 {rate} 计 {yuan(record.computed)} 元；本年该病种限额结算前已用 {yuan(record.used_before)} 元、"
            f"尚余 {yuan(record.left_before)} 元"
        )
        limit_step_en = (
            f"; at {rate}: {yuan(record.computed)}; {yuan(record.used_before)} of the limit used "
            f"before, {yuan(record.left_before)} left"
        )
    shared_zh = shared_en = ""
    if record.shared_left is not None:
        shared_zh = f"；同时计入普通门诊统筹年度限额（结算前尚余 {yuan(record.shared_left)} 元）"
        shared_en = f"; also counted against the general-outpatient annual cap ({yuan(record.shared_left)} left)"
    after_zh = after_en = ""
    if record.left_after is not None:
        after_zh = f"，结算后尚余 {yuan(record.left_after)} 元"
        after_en = f", {yuan(record.left_after)} left after"
    over = record.payable - record.covered
    over_zh = over_en = ""
    if over > 0:
        over_zh = f"；超出剩余限额的 {yuan(over)} 元由个人负担"
        over_en = f"; {yuan(over)} beyond the limit left is the patient's"
    points_zh = points_en = ""
    if record.cross_points:
        points_zh = (
            f"（病种比例 {percent(terms.rate)}，异地就医调整 {percent(record.cross_points)}）"
        )
        points_en = (
            f" (disease rate {percent(terms.rate)}, cross-region {percent(record.cross_points)})"
        )
    return ExplanationStep(
        step.id,
        f"门诊慢特病 {terms.name}（{terms.code}）：支付比例 {rate}{points_zh}，{limit_zh}（{source}"
        f"{'，示例值' if marked else ''}）；本次政策范围内 {yuan(record.eligible)} 元"
        f"{deductible_zh}{limit_step_zh}{shared_zh}；本次统筹支付 {yuan(record.paid)} 元{after_zh}{over_zh}",
        f"Chronic disease {terms.code} ({terms.name}): rate {rate}{points_en}, {limit_en} (insured region's "
        f"list from {terms.effective_on.isoformat()}{', illustrative' if terms.illustrative else ''}); "
        f"in-scope {yuan(record.eligible)}{deductible_en}{limit_step_en}{shared_en}; the fund pays "
        f"{yuan(record.paid)}{after_en}{over_en}",
        Money.exact(record.paid),
    )
