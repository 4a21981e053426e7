"""政策调整测算 downloads: the report as CSV (the breakdown and the claims that change most)
and as an XLSX workbook (one sheet each), amounts in yuan, every text cell neutralised."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

from openpyxl import Workbook
from openpyxl.styles import Font

from yidi.reports.cells import csv_text, workbook_bytes
from yidi.reports.whatif import DIMENSIONS, FUND_FIELDS, ClaimChange, WhatIfReport

T = TypeVar("T")

#: column heads, Chinese first (the files are read by provincial 医保 staff)
FIELD_HEADS = {
    "fund_paid_total": "基金支付总额 fund paid total",
    "pooled_fund_paid": "统筹基金 pooled fund",
    "serious_illness_paid": "大病保险 serious illness",
    "large_expense_paid": "大额医疗补助 large expense",
    "medical_assistance_paid": "医疗救助 medical assistance",
    "patient_share": "个人负担 patient share",
}
DIMENSION_HEADS = {
    "total": "合计 total",
    "region": "参保地 insured region",
    "hospital_level": "医院级别 hospital level",
    "encounter": "就医类型 encounter kind",
    "month": "出院月份 discharge month",
}


def _yuan(fen: int) -> Decimal:
    return Decimal(fen).scaleb(-2).quantize(Decimal("0.01"))


def change_cells(change: ClaimChange, yuan: Callable[[int], T]) -> list[str | T]:
    """A changed claim as the report lists it: who and when, then the fund paid before and
    after the candidate policy and the change, each written by ``yuan``."""
    return [
        change.claim_id,
        change.person,
        change.region,
        change.month,
        yuan(change.current_fund),
        yuan(change.candidate_fund),
        yuan(change.delta),
    ]


def breakdown_rows(report: WhatIfReport) -> list[list[Any]]:
    head = ["维度 dimension", "分组 group", "结算数 claims"]
    for name in FUND_FIELDS:
        head += [f"现行 current {FIELD_HEADS[name]}", f"调整后 candidate {FIELD_HEADS[name]}"]
        head.append(f"变化 delta {FIELD_HEADS[name]}")
    rows: list[list[Any]] = [head]
    groups = [("total", "", report.total)] + [
        (dim, key, bucket) for dim in DIMENSIONS for key, bucket in sorted(report.by[dim].items())
    ]
    for dim, key, bucket in groups:
        row: list[Any] = [DIMENSION_HEADS[dim], key, bucket.claims]
        for name in FUND_FIELDS:
            row += [
                _yuan(bucket.current[name]),
                _yuan(bucket.candidate[name]),
                _yuan(bucket.delta(name)),
            ]
        rows.append(row)
    return rows


def change_rows(report: WhatIfReport) -> list[list[Any]]:
    rows: list[list[Any]] = [
        [
            "结算编号 claim",
            "人员（已遮蔽）person (masked)",
            "参保地 region",
            "出院月份 month",
            "现行基金支付 current fund",
            "调整后基金支付 candidate fund",
            "变化 delta",
            "现行状态 current status",
            "调整后状态 candidate status",
        ]
    ]
    for change in report.top:
        rows.append(
            [
                *change_cells(change, _yuan),
                change.current_status or "ok",
                change.candidate_status or "ok",
            ]
        )
    return rows


def report_csv(report: WhatIfReport) -> bytes:
    """Both tables in one CSV (a blank line between), UTF-8 with BOM so Excel reads Chinese."""
    text = csv_text(breakdown_rows(report)) + "\r\n" + csv_text(change_rows(report))
    return ("\ufeff" + text).encode("utf-8")


def report_xlsx(report: WhatIfReport, *, title: str = "") -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "测算汇总 breakdown"
    if title:
        sheet.append([title])
        sheet["A1"].font = Font(bold=True)
    for row in breakdown_rows(report):
        sheet.append(row)
    changes = workbook.create_sheet("变化最大 top changes")
    for row in change_rows(report):
        changes.append(row)
    return workbook_bytes(workbook)


__all__ = ["breakdown_rows", "change_rows", "report_csv", "report_xlsx"]
