"""A policy's benefit schemes in plain Chinese (``yidi policy explain``), with citations."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from yidi.kernel.insurance import UNFILED_KEY, FilingCategory, HospitalLevel
from yidi.policy.model import (
    AssistanceStep,
    Bracket,
    ChronicDiseaseStep,
    DeductibleBasis,
    DeductibleStep,
    DiseaseLimitStep,
    LineSplitStep,
    PersonalAccountStep,
    Policy,
    PooledFundStep,
    ScaleMode,
    Scheme,
    SchemeKind,
    Step,
    SupplementaryStart,
    SupplementaryStep,
    TiltAssistanceStep,
)
from yidi.policy.national import national_model


def _pct(rate: Decimal) -> str:
    return f"{(rate * 100).normalize():f}%"


def _pts(points: Decimal) -> str:
    sign = "加" if points >= 0 else "减"
    return f"{sign} {(abs(points) * 100).normalize():f} 个百分点"


def _yuan(amount: Decimal) -> str:
    return f"{amount:,.2f} 元"


def _levels(table: Mapping[HospitalLevel, Decimal], fmt: type[str] | object) -> str:
    values = [table[level] for level in HospitalLevel]
    render = _yuan if fmt == "money" else _pct
    if len(set(values)) == 1:
        return f"不分医院级别 {render(values[0])}"
    return "、".join(f"{level.label_zh} {render(table[level])}" for level in HospitalLevel)


def _brackets(brackets: tuple[Bracket, ...], mode: ScaleMode) -> str:
    parts = []
    for index, bracket in enumerate(brackets):
        end = brackets[index + 1].threshold if index + 1 < len(brackets) else None
        span = (
            f"{_yuan(bracket.threshold)}以上"
            if end is None
            else f"{bracket.threshold:,.2f}–{end:,.2f} 元"
        )
        what = (
            _pct(bracket.rate) if bracket.rate is not None else _pts(bracket.points or Decimal(0))
        )
        parts.append(f"{span} {what}")
    how = "各段分别计算（累进）" if mode is ScaleMode.MARGINAL else "按所在段比例全额计算"
    return f"{'；'.join(parts)}（{how}）"


def _step_lines(step: Step, scheme: Scheme) -> list[str]:
    lines: list[str] = []
    if isinstance(step, LineSplitStep):
        lines.append(
            "按就医地目录拆分每条明细：丙类及目录外项目全自费；超过限价的部分自费；"
            "乙类项目按目录的先行自付比例个人先付；其余为政策范围内费用。"
        )
        for group in step.item_groups:
            rules = []
            if group.upfront_rate is not None:
                rules.append(f"先行自付 {_pct(group.upfront_rate)}")
            if group.unit_limit is not None:
                rules.append(f"每单位最高按 {_yuan(group.unit_limit)} 计入，超出自费")
            lines.append(
                f"  项目组“{group.name}”（编码以 {'、'.join(group.codes)} 开头）：{'，'.join(rules)}"
                f"（{step.cite('item_groups')}）"
            )
    elif isinstance(step, DeductibleStep):
        text = f"起付线：{_levels(step.by_level, 'money')}"
        if step.basis is DeductibleBasis.PER_YEAR:
            text += "，一年只付一次（跨次累计）"
        text += f"（{step.cite('by_hospital_level', 'amount')}）。"
        lines.append(text)
        if scheme.kind.counts_as_admission and step.ordinal_rate != (Decimal(1),):
            parts = [f"第{n}次 {_pct(rate)}" for n, rate in enumerate(step.ordinal_rate, start=1)]
            lines.append(
                f"  按本年度住院次序：{'、'.join(parts)}（以后各次同最后一项）（{step.cite('by_admission_ordinal')}）"
            )
        elif not scheme.kind.counts_as_admission:
            lines.append(f"  {scheme.kind.label_zh}不计入住院次数。")
        for person, rate in step.person_rate.items():
            lines.append(f"  {person.label_zh}按 {_pct(rate)}（{step.cite('person_type_rate')}）")
        if step.floor is not None:
            lines.append(f"  减免后最低起付线 {_yuan(step.floor)}（{step.cite('floor')}）")
        if step.annual_cap is not None:
            lines.append(
                f"  年度累计起付线不超过 {_yuan(step.annual_cap)}（{step.cite('annual_cap')}）"
            )
    elif isinstance(step, PooledFundStep):
        lines.append(
            f"统筹基金支付比例：{_levels(step.rate_by_level, 'rate')}"
            f"（{step.cite('rate_by_hospital_level', 'rate')}）。"
        )
        for person, points in step.person_points.items():
            lines.append(f"  {person.label_zh}{_pts(points)}（{step.cite('person_type_points')}）")
        for band in step.age_bands:
            if band.points:
                lines.append(
                    f"  {band.from_age}周岁起{_pts(band.points)}（{step.cite('age_band_points')}）"
                )
        if step.scale is not None:
            lines.append(
                f"  按{step.scale.base.label_zh}分段：{_brackets(step.scale.brackets, step.scale.mode)}"
                f"（{step.cite('scale')}）"
            )
        if step.entry_cap_per_claim is not None:
            lines.append(
                f"  每次纳入统筹支付的金额不超过 {_yuan(step.entry_cap_per_claim)}（{step.cite('entry_cap_per_claim')}）"
            )
        if step.entry_cap_per_year is not None:
            lines.append(
                f"  年度纳入统筹支付的金额不超过 {_yuan(step.entry_cap_per_year)}（{step.cite('entry_cap_per_year')}）"
            )
        lines.append(f"  年度最高支付限额 {_yuan(step.annual_cap)}（{step.cite('annual_cap')}）")
    elif isinstance(step, DiseaseLimitStep):
        parts = [
            f"{step.names.get(code, code)}（{code}）{_yuan(limit)}"
            for code, limit in sorted(step.annual_limit.items())
        ]
        lines.append(f"各病种年度支付限额：{'；'.join(parts)}（{step.cite('annual_limit')}）。")
    elif isinstance(step, ChronicDiseaseStep):
        source = f"参保地 {step.list_region} " if step.list_region else "参保地"
        lines.append(
            f"按{source}门诊慢特病病种目录中各病种当日有效的比例、年度限额与起付线结算，"
            "按人、病种、年度累计；超出剩余限额的部分个人负担。"
        )
        for terms in sorted(step.diseases.values(), key=lambda t: t.code):
            limit = (
                "不设年度限额"
                if terms.annual_limit is None
                else f"{terms.limit_on.label_zh} {_yuan(terms.annual_limit)}"
            )
            deductible = f"，起付线 {_yuan(terms.deductible)}" if terms.deductible else ""
            scope = "" if terms.cross_province else "，参保地自定病种（不跨省直接结算）"
            lines.append(
                f"  {terms.name}（{terms.code}）：{_pct(terms.rate)}，{limit}{deductible}{scope}"
                f"（{terms.effective_on.isoformat()} 起：{terms.reference}）"
            )
        shared = (
            "计入并受普通门诊统筹年度限额"
            if step.shares_outpatient_cap
            else "不占普通门诊统筹年度限额"
        )
        lines.append(f"  门诊慢特病{shared}（{step.cite('shares_outpatient_cap')}）。")
    elif isinstance(step, SupplementaryStep):
        label = step.fund.label_zh
        if step.start is SupplementaryStart.BASIC_CAP:
            base = "统筹基金封顶线以上的政策范围内费用"
        else:
            base = "年度合规自付（政策范围内费用减统筹基金支付"
            base += "，含先行自付" if step.include_upfront else ""
            base += "，不含起付线" if not step.include_deductible else ""
            base += "）"
        lines.append(
            f"{label}：{base}累计超过 {_yuan(step.deductible)} 的部分，{_brackets(step.tiers, step.mode)}；"
            f"年度最高支付 {_yuan(step.annual_cap)}（{step.cite('tiers', 'deductible')}）。"
        )
    elif isinstance(step, AssistanceStep):
        parts = [f"{group.label_zh} {_pct(rate)}" for group, rate in step.rate_by_group.items()]
        lines.append(
            f"医疗救助：经基本医保和大病/大额后的政策范围内个人负担，{'、'.join(parts)}；"
            f"年度限额 {_yuan(step.annual_cap)}（{step.cite('rate_by_group')}）。"
        )
    elif isinstance(step, TiltAssistanceStep):
        groups = "、".join(sorted(group.label_zh for group in step.groups))
        lines.append(
            f"倾斜救助（{groups}）：年度救助后政策范围内个人负担累计超过 {_yuan(step.threshold)} 的部分按 "
            f"{_pct(step.rate)} 救助，年度限额 {_yuan(step.annual_cap)}（{step.cite('threshold')}）。"
        )
    elif isinstance(step, PersonalAccountStep):
        if not step.enabled:
            lines.append(f"个人账户不支付（{step.cite('enabled')}）；个人负担现金支付。")
        else:
            scope = (
                "全部个人负担"
                if step.scope.value == "patient_share"
                else "先行自付及政策范围内个人负担"
            )
            lines.append(
                f"个人账户可支付{scope}（至账户余额），其余现金支付（{step.cite('scope', 'enabled')}）。"
            )
    return lines


def describe_scheme(scheme: Scheme) -> list[str]:
    lines = [f"【{scheme.label_zh}】" + (f"{scheme.description}" if scheme.description else "")]
    for number, step in enumerate(scheme.steps, start=1):
        body = _step_lines(step, scheme)
        title = step.description or step.id
        lines.append(f"{number}. {title}（{step.id}）")
        lines.extend(f"   {line}" for line in body)
    return lines


def describe_policy(policy: Policy, scheme: SchemeKind | None = None) -> list[str]:
    """Plain-Chinese lines describing the schemes in force on ``policy.on_date``."""
    head = (
        f"{policy.region_name}（{policy.region_code}）{policy.insurance_type.label_zh}，"
        f"{policy.on_date.isoformat()} 有效的待遇方案"
        + ("（含示例值 illustrative，非真实政策）" if policy.illustrative else "")
    )
    lines = [
        head,
        f"金额舍入：各步骤四舍五入到{policy.rounding.label_zh}（{policy.cite('rounding') or '政策参数'}）",
    ]
    kinds = [scheme] if scheme is not None else list(policy.schemes)
    for kind in kinds:
        found = policy.schemes.get(kind)
        lines.append("")
        if found is None:
            lines.append(f"【{kind.label_zh}】当日无有效方案，不能结算。")
            continue
        lines.extend(describe_scheme(found))
    lines.append("")
    lines.append("异地就医调整（按备案类别在支付比例上增减）：")
    types = national_model(policy.on_date).types
    for key in [category.value for category in FilingCategory] + [UNFILED_KEY]:
        rule = policy.cross_region[key]
        label = "未备案" if key == UNFILED_KEY else FilingCategory(key).label_zh
        if key != UNFILED_KEY and FilingCategory(key) not in types:
            lines.append(f"  {label}：当日全国备案规则无此类别，按未备案处理")
            continue
        direct = "可直接结算" if rule.direct_settlement else "不能直接结算，回参保地报销"
        parts = [_pts(rule.rate_points) if rule.rate_points else "不调整"]
        if rule.inpatient_deductible is not None:
            parts.append(f"住院起付标准 {_yuan(rule.inpatient_deductible)}（不分医院级别）")
        if rule.inpatient_rate is not None:
            parts.append(f"住院支付比例 {_pct(rule.inpatient_rate)}（不分医院级别）")
        lines.append(f"  {label}：{'，'.join(parts)}，{direct}")
    return lines
