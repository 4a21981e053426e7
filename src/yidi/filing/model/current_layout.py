"""备案记录（现行版式）: one row per filing in the 2022 model's terms, beside 附件2.

附件1/附件2 keep the 2017 Henan layout (:mod:`yidi.filing.model.annex`). This layout says what
an agency needs under today's rules: the class (跨省异地长期居住 / 跨省临时外出就医), the
type, whether a signed promise stands in for the proof and where the promised documents
stand, the validity, the change and cancellation lock and the 补办 care. A filing handled
under the 2017 model is shown under that model (its type, no class, no lock).

ID numbers and phones are masked unless the caller may see them.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

from yidi.filing.model.annex import _shown_id, _shown_phone
from yidi.filing.model.lifecycle import FilingState
from yidi.filing.model.record import (
    FilingRecord,
    PromiseStanding,
    RegionLookup,
    blank_to_none,
)
from yidi.policy.national import FilingModel

CURRENT_LAYOUT_TITLE: Final = "跨省异地就医备案记录（现行版式）"
CURRENT_LAYOUT_COLUMNS: Final = (
    "序号",
    "备案编号",
    "姓名",
    "性别",
    "身份证号",
    "参保地行政区划代码",
    "参保地行政区划名称",
    "险种类型",
    "适用规则",
    "备案人员大类",
    "备案类型",
    "备案方式",
    "所需证明材料",
    "承诺补齐期限",
    "承诺材料情况",
    "就医地行政区划代码",
    "就医地行政区划名称",
    "有效期起",
    "有效期止",
    "变更撤销锁定至",
    "补办所补就医",
    "办理渠道",
    "经办机构",
    "经办日期",
    "备案状态",
    "联系电话",
)
CURRENT_LAYOUT_NOTES: Final = (
    "注：1、适用规则按经办日期：2022年8月1日前为2017年模式，当日起为2022年模式（医保发〔2022〕22号）",
    "2、备案方式“个人承诺”：以《个人承诺书》代替证明材料，逾期未补齐按其他临时外出就医人员处理",
    "3、有效期止为空白的写“长期有效”；锁定期内不能变更、撤销（参保地设定）",
)


def _day(value: dt.date | None) -> str:
    return value.isoformat() if value else ""


def _region_name(code: str, regions: RegionLookup) -> str:
    return regions.get(code).name if code and regions.exists(code) else ""


def promise_status(record: FilingRecord, today: dt.date) -> str:
    """Where a promise stands: due, supplied, lapsed into 其他临时外出, or false."""
    standing = record.promise_standing(today)
    if standing is PromiseStanding.FALSE:
        assert record.false_promise_on is not None
        recovery = "，需追回医保基金" if record.fund_recovery_required else ""
        return f"虚假承诺（{record.false_promise_on.isoformat()}），已撤销备案{recovery}"
    if standing is PromiseStanding.LAPSED:
        assert record.promise_lapsed_from is not None
        return f"逾期未补齐，按其他临时外出就医人员处理（原类型：{record.promise_lapsed_from.label_zh}）"
    if standing is PromiseStanding.SUPPLIED:
        assert record.promise_documents_supplied_on is not None
        return f"已补齐（{record.promise_documents_supplied_on.isoformat()}）"
    if standing is PromiseStanding.OVERDUE:
        return "逾期未补齐"
    return "待补齐" if standing is PromiseStanding.DUE else ""


def current_layout_row(
    record: FilingRecord,
    serial: int,
    regions: RegionLookup,
    model: FilingModel | None,
    *,
    state: FilingState,
    online: bool | None,
    today: dt.date,
    mask: bool = True,
) -> tuple[str, ...]:
    """One row in :data:`CURRENT_LAYOUT_COLUMNS` order. ``model``: the national model (with the
    insured region's choices) of the filing's handling day; ``online``: submitted by the insured
    person (None: never submitted, e.g. imported)."""
    insured = blank_to_none(record.insured_region_code) or ""
    destination = record.destination_code or ""
    rule = model.types.get(record.category) if model and record.category else None
    lock = (
        model.cancel_locked_until(record.category, record.handled_on)
        if model and rule and record.category and record.handled_on
        else None
    )
    late = ""
    if record.late_care_from is not None:
        until = record.late_care_until.isoformat() if record.late_care_until else "在院"
        late = f"{record.late_care_from.isoformat()}至{until}"
    channel = "" if online is None else ("线上" if online else "窗口")
    valid_until = _day(record.valid_until) or ("长期有效" if record.valid_from else "")
    phone = record.mobile or record.phone
    return (
        str(serial),
        record.filing_number or "",
        blank_to_none(record.name) or "",
        record.gender.label_zh if record.gender else "",
        _shown_id(record.social_security_number, mask),
        insured,
        _region_name(insured, regions),
        record.insurance_type.label_zh if record.insurance_type else "",
        f"{model.era}年模式" if model else "",
        model.class_labels[rule.filing_class] if model and rule else "",
        rule.label_zh if rule else (record.category.label_zh if record.category else ""),
        "个人承诺" if record.promise_signed or record.promise_lapsed_from else "证明材料",
        "、".join(kind.label_zh for kind in rule.proof) if rule else "",
        _day(record.promise_documents_due_on),
        promise_status(record, today),
        destination,
        _region_name(destination, regions),
        _day(record.valid_from),
        valid_until,
        _day(lock) if lock else ("不限" if rule else ""),
        late,
        channel,
        record.handling_agency or "",
        _day(record.handled_on),
        state.label_zh,
        _shown_phone(phone, mask),
    )
