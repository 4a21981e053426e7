"""Workbooks for the money side: 附件3/附件4 in the notice's layout, clearing statements.

附件3/附件4 follow 豫人社办函〔2017〕63号: title, the 市(县、市) line, the
two-level merged header (地区 | 合计 / 职工医疗 / 城乡居民医疗 -> 合计 (小计) /
异地备案 / 转诊转院等 -> 人数 / 金额), the column-number row 1..18, the rows, the
合计 row, the signature line and the 备注 lines. Person-times are integers,
amounts are yuan with two decimals. The identities are checked before a
single cell is written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Final

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from yidi.funds.model import (
    CLEARING_KINDS,
    FUNDS,
    ClearingKind,
    ClearingLevel,
    ClearingStatement,
    KindDue,
)
from yidi.funds.prepayment import COLUMN_COUNT, IDENTITIES, AnnexTable, PrepaymentEstimate
from yidi.kernel.clock import beijing
from yidi.kernel.money import Money
from yidi.reports.cells import workbook_bytes as _safe_workbook_bytes

AMOUNT_FORMAT: Final = "#,##0.00"
HEADER_ROW: Final = 4  # first header row; data start after the column-number row
FIRST_DATA_ROW: Final = 8
GROUPS: Final = ("合计", "职工医疗", "城乡居民医疗")
SUBGROUPS: Final = (
    ("合计", "异地备案", "转诊转院等"),
    ("小计", "异地备案", "转诊转院等"),
    ("小计", "异地备案", "转诊转院等"),
)
REMARKS: Final = (
    "备注: 1、转诊转院是指市(县、市)外转诊转院人员。",
    "2、表中人数单位为人次，金额单位为元。",
    "3、" + "  ".join(f"{a}={b}+{c}" for a, b, c in IDENTITIES) + "。",
)
_THIN = Side(style="thin")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)


def yuan(fen: int) -> Decimal:
    return Decimal(fen).scaleb(-2).quantize(Decimal("0.01"))


def _cell_value(column: int, value: int) -> int | Decimal:
    """Odd columns are person-times, even columns amounts (fen -> yuan)."""
    return value if column % 2 == 1 else yuan(value)


def write_annex_sheet(
    sheet: Worksheet, table: AnnexTable, *, prepared_on: dt.date | None = None
) -> int:
    """Write one 附件 in the notice's layout; returns the last row used."""
    table.validate()  # never output a table that breaks the printed identities
    last_col = 1 + COLUMN_COUNT
    sheet["A1"] = f"附件{int(table.annex)}"
    sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=last_col)
    sheet["A2"] = table.annex.title(table.year)
    sheet["A2"].font = Font(bold=True, size=14)
    sheet["A2"].alignment = _CENTER
    sheet["A3"] = f"市(县、市)：{table.insured_region_name}"

    top, middle, bottom, numbers = HEADER_ROW, HEADER_ROW + 1, HEADER_ROW + 2, HEADER_ROW + 3
    sheet.merge_cells(start_row=top, start_column=1, end_row=bottom, end_column=1)
    sheet.cell(top, 1, "地区")
    for g, group in enumerate(GROUPS):
        first = 2 + 6 * g
        sheet.merge_cells(start_row=top, start_column=first, end_row=top, end_column=first + 5)
        sheet.cell(top, first, group)
        for s, sub in enumerate(SUBGROUPS[g]):
            col = first + 2 * s
            sheet.merge_cells(
                start_row=middle, start_column=col, end_row=middle, end_column=col + 1
            )
            sheet.cell(middle, col, sub)
            sheet.cell(bottom, col, "人数")
            sheet.cell(bottom, col + 1, "金额")
    for n in range(1, COLUMN_COUNT + 1):
        sheet.cell(numbers, 1 + n, n)

    row_index = FIRST_DATA_ROW
    for row in (*table.rows, table.total):
        sheet.cell(row_index, 1, row.label)
        for n in range(1, COLUMN_COUNT + 1):
            cell = sheet.cell(row_index, 1 + n, _cell_value(n, row.column(n)))
            if n % 2 == 0:
                cell.number_format = AMOUNT_FORMAT
        row_index += 1
    last_table_row = row_index - 1
    for r in range(top, last_table_row + 1):
        for c in range(1, last_col + 1):
            cell = sheet.cell(r, c)
            cell.border = _BOX
            if r <= numbers:
                cell.alignment = _CENTER
    for r in range(top, numbers + 1):
        for c in range(1, last_col + 1):
            sheet.cell(r, c).font = Font(bold=True)

    signature_row = last_table_row + 2
    labels = table.annex.signature_labels
    for label, column in zip(labels, (1, 8, 14), strict=True):
        text = label
        if label.startswith("制表日期") and prepared_on is not None:
            text = f"{label}{prepared_on.year}年{prepared_on.month}月{prepared_on.day}日"
        sheet.cell(signature_row, column, text)
    for offset, remark in enumerate(REMARKS):
        sheet.cell(signature_row + 2 + offset, 1, remark)

    sheet.column_dimensions["A"].width = 14
    for c in range(2, last_col + 1):
        sheet.column_dimensions[get_column_letter(c)].width = 8 if c % 2 == 0 else 13
    sheet.freeze_panes = sheet.cell(FIRST_DATA_ROW, 2)
    return signature_row + 1 + len(REMARKS)


def _write_basis_sheet(sheet: Worksheet, estimate: PrepaymentEstimate) -> None:
    """测算依据: the history beside both estimates and the prepayment proposal."""
    years = [table.year for table in estimate.history]
    sheet["A1"] = (
        f"{estimate.annex.title(estimate.target_year)}测算依据（{estimate.insured_region_name}）"
    )
    sheet["A1"].font = Font(bold=True)
    header: list[str] = ["地区"]
    for year in years:
        header += [f"{year}年人次", f"{year}年金额"]
    header += [
        "三年平均人次",
        "三年平均金额",
        "线性趋势人次",
        "线性趋势金额",
        f"预付金建议（{estimate.prepayment_months}个月）",
    ]
    for c, title in enumerate(header, start=1):
        sheet.cell(3, c, title).font = Font(bold=True)
    proposal = {line.code: line.prepayment_fen for line in estimate.proposal}
    rows = [
        *zip(
            *(t.rows for t in estimate.history),
            estimate.average.rows,
            estimate.trend.rows,
            strict=True,
        )
    ]
    totals = (*(t.total for t in estimate.history), estimate.average.total, estimate.trend.total)
    for r, cells in enumerate([*rows, totals], start=4):
        sheet.cell(r, 1, cells[0].label)
        values: list[Any] = []
        for table_row in cells:
            values += [table_row.column(1), yuan(table_row.column(2))]
        values.append(yuan(proposal.get(cells[0].code, estimate.proposal_total_fen)))
        for c, value in enumerate(values, start=2):
            cell = sheet.cell(r, c, value)
            if isinstance(value, Decimal):
                cell.number_format = AMOUNT_FORMAT
    notes_row = 4 + len(rows) + 2
    sheet.cell(notes_row, 1, f"附件{int(estimate.annex)}采用：{estimate.method.label_zh}。")
    sheet.cell(
        notes_row + 1,
        1,
        "三年平均 = 前三年各栏之和除以3；线性趋势 = 前三年最小二乘直线外推一年（不小于0）；"
        "逐项（职工/居民 × 异地备案/转诊转院等）测算后按表内关系汇总。",
    )
    sheet.cell(
        notes_row + 2,
        1,
        f"预付金建议 = 测算金额 ÷ 12 × {estimate.prepayment_months}（月数为本地选择，可配置）。",
    )
    sheet.column_dimensions["A"].width = 14


def annex_workbook(estimate: PrepaymentEstimate, *, prepared_on: dt.date | None = None) -> Workbook:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = f"附件{int(estimate.annex)}"
    write_annex_sheet(sheet, estimate.chosen, prepared_on=prepared_on)
    _write_basis_sheet(workbook.create_sheet("测算依据"), estimate)
    for table in estimate.history:
        write_annex_sheet(workbook.create_sheet(f"{table.year}年实际"), table)
    return workbook


def workbook_bytes(workbook: Workbook) -> bytes:
    """The XLSX file, every text cell neutralised (no formula from data)."""
    return _safe_workbook_bytes(workbook)


# --- clearing statements ----------------------------------------------------------

STATEMENT_HEADER: Final = (
    "参保地代码",
    "参保地",
    "就医地代码",
    "就医地",
    "人次",
    *(fund.label_zh for fund in FUNDS),
    "应付合计",
    "预付金余额",
    "预付金冲抵",
    "应付差额",
    "预付金结余",
)


def statement_workbook(statement: ClearingStatement, *, status: str = "") -> Workbook:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "清算单"
    level = "省级" if statement.level is ClearingLevel.PROVINCE else "市级"
    sheet["A1"] = f"{statement.month} 异地就医直接结算{level}清算单"
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A2"] = f"状态：{status}" if status else ""
    for c, title in enumerate(STATEMENT_HEADER, start=1):
        sheet.cell(3, c, title).font = Font(bold=True)
    r = 4
    for line in statement.lines:
        values: list[Any] = [
            line.insured_region_code,
            line.insured_region_name,
            line.treatment_region_code,
            line.treatment_region_name,
            line.person_times,
            *(line.due_by_fund[f].yuan for f in FUNDS),
            line.due_total.yuan,
            line.prepayment_held.yuan,
            line.prepayment_applied.yuan,
            line.balance_to_pay.yuan,
            line.prepayment_remaining.yuan,
        ]
        for c, value in enumerate(values, start=1):
            cell = sheet.cell(r, c, value)
            if isinstance(value, Decimal):
                cell.number_format = AMOUNT_FORMAT
        r += 1
    sheet.cell(r, 1, "合计")
    sheet.cell(r, 5, statement.person_times)
    for i, fund in enumerate(FUNDS):
        amount = sum((line.due_by_fund[fund].yuan for line in statement.lines), Decimal("0.00"))
        sheet.cell(r, 6 + i, amount).number_format = AMOUNT_FORMAT
    sheet.cell(r, 6 + len(FUNDS), statement.due_total.yuan).number_format = AMOUNT_FORMAT
    sheet.cell(r, 9 + len(FUNDS), statement.balance_to_pay.yuan).number_format = AMOUNT_FORMAT
    if statement.adjustments:
        # 应付合计 is the settlements'; the balance above already includes the adjustments
        sheet.cell(r + 1, 1, "清算调整合计（见“清算调整”）")
        sheet.cell(
            r + 1, 6 + len(FUNDS), statement.adjustment_total.yuan
        ).number_format = AMOUNT_FORMAT
        sheet.cell(r + 2, 1, "本月清算合计（含调整）")
        sheet.cell(
            r + 2, 6 + len(FUNDS), statement.cleared_total.yuan
        ).number_format = AMOUNT_FORMAT
        r += 2
    sheet.cell(r + 2, 1, f"内容校验 sha256: {statement.content_hash}")
    _kinds_sheet(workbook, statement)
    if statement.adjustments:
        _adjustments_sheet(workbook, statement)
    return workbook


ADJUSTMENT_HEADER: Final = (
    "清算调整ID",
    "对账差异ID",
    "差异月份",
    "参保地代码",
    "就医地代码",
    "定点医疗机构",
    "结算ID",
    "退费",
    "调整金额（正数追补、负数扣减）",
    "商定调整总额",
    "决定人",
    "决定人角色",
    "决定时间（北京时间）",
    "说明",
)


def _adjustments_sheet(workbook: Workbook, statement: ClearingStatement) -> None:
    """Sheet 清算调整: each adjustment the month carries, with where it comes from."""
    sheet = workbook.create_sheet("清算调整")
    sheet["A1"] = f"{statement.month} 清算调整（对账差异解决后商定，计入本月清算）"
    sheet["A1"].font = Font(bold=True)
    for c, title in enumerate(ADJUSTMENT_HEADER, start=1):
        sheet.cell(3, c, title).font = Font(bold=True)
    r = 4
    for adjustment in statement.adjustments:
        values: list[Any] = [
            adjustment.id,
            adjustment.dispute_id,
            adjustment.concerns_month,
            adjustment.insured_region_code,
            adjustment.treatment_region_code,
            adjustment.hospital_code,
            adjustment.settlement_id or "",
            "是" if adjustment.refund else "",
            adjustment.amount.yuan,
            adjustment.agreed.yuan,
            adjustment.decided_by,
            adjustment.decided_role,
            f"{beijing(adjustment.decided_at):%Y-%m-%d %H:%M}",
            adjustment.reason,
        ]
        for c, value in enumerate(values, start=1):
            cell = sheet.cell(r, c, value)
            if isinstance(value, Decimal):
                cell.number_format = AMOUNT_FORMAT
        r += 1
    sheet.cell(r, 1, "合计")
    sheet.cell(r, 9, statement.adjustment_total.yuan).number_format = AMOUNT_FORMAT


def _kinds_sheet(workbook: Workbook, statement: ClearingStatement) -> None:
    """Sheet 按清算类别: each line's person-times and due per clearing kind, then the totals."""
    sheet = workbook.create_sheet("按清算类别")
    sheet["A1"] = f"{statement.month} 清算单按清算类别（住院 21、门诊 11、药店购药 41）"
    sheet["A1"].font = Font(bold=True)
    by_kind = statement.by_kind
    if by_kind is None:
        sheet["A2"] = "本清算单生成时尚未按清算类别记账，重新运行本月清算后显示。"
        return
    header = ["参保地", "就医地"]
    for kind in CLEARING_KINDS:
        header += [f"{kind.label_zh}人次", f"{kind.label_zh}应付（元）"]
    for c, title in enumerate(header, start=1):
        sheet.cell(3, c, title).font = Font(bold=True)
    rows: list[tuple[str, str, Mapping[ClearingKind, KindDue]]] = [
        (line.insured_region_name, line.treatment_region_name, line.by_kind or {})
        for line in statement.lines
    ]
    rows.append(("合计", "", by_kind))
    for r, (insured, treatment, kinds) in enumerate(rows, start=4):
        values: list[Any] = [insured, treatment]
        for kind in CLEARING_KINDS:
            due = kinds.get(kind, KindDue(0, Money.zero()))
            values += [due.person_times, due.due_total.yuan]
        for c, value in enumerate(values, start=1):
            cell = sheet.cell(r, c, value)
            if isinstance(value, Decimal):
                cell.number_format = AMOUNT_FORMAT
