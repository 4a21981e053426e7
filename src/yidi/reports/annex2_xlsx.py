"""附件2 as XLSX: the notice's title, the 市(县、市) line, headings, rows and 注 lines.

One query (:mod:`yidi.filing.reports`), several renderings: this module writes the
workbooks of :class:`~yidi.filing.reports.Annex2Table` and
:class:`~yidi.filing.reports.QuarterlyList`, and the current-layout filing record
(备案记录（现行版式）) as XLSX and CSV; it streams the 附件2 layout row by row
(openpyxl write-only) for the export jobs, whose memory stays flat for any count. Cells
are text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Final

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from yidi.filing.model.current_layout import CURRENT_LAYOUT_NOTES, CURRENT_LAYOUT_TITLE
from yidi.filing.reports import Annex2Stream, Annex2Table, QuarterlyList, QuarterlyStream
from yidi.reports.cells import csv_text, is_formula_like, workbook_bytes

ANNEX2_TITLE: Final = "基本医疗保险异地居住人员备案信息汇总表"
ANNEX2_NOTES: Final = (
    "注：1、险种类型：1.职工医保，2.城乡居民医保",
    "2、人员类别：1.异地安置退休人员，2.异地长期居住人员，3.常驻异地工作人员",
)


def _write_table(sheet: Any, table: Annex2Table) -> None:
    width = len(table.columns)
    sheet.append([ANNEX2_TITLE] + [None] * (width - 1))
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    sheet.cell(1, 1).font = Font(bold=True, size=14)
    sheet.cell(1, 1).alignment = Alignment(horizontal="center")
    sheet.append(
        [
            f"市(县、市)：{table.region_name}（{table.region_code}）",
            None,
            None,
            None,
            None,
            table.subtitle,
        ]
    )
    sheet.append(list(table.columns))
    for cell in sheet[3]:
        cell.font = Font(bold=True)
    for row in table.rows:
        sheet.append(list(row))
    for note in ANNEX2_NOTES:
        sheet.append([note])
    for letter, size in zip(
        "ABCDEFGHIJKLMN", (6, 12, 16, 10, 6, 20, 8, 20, 14, 30, 16, 14, 8, 8), strict=False
    ):
        sheet.column_dimensions[letter].width = size


def annex2_xlsx(table: Annex2Table) -> bytes:
    """附件2 as an XLSX workbook: title, 市(县、市) line, headings, rows, 注 lines. Cells are text."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "附件2"
    _write_table(sheet, table)
    return workbook_bytes(workbook)


def quarterly_xlsx(listing: QuarterlyList) -> bytes:
    """One sheet per prefecture, each in the 附件2 layout (plus 登记类别)."""
    workbook = Workbook()
    first = workbook.active
    assert first is not None
    workbook.remove(first)
    if not listing.prefectures:
        sheet = workbook.create_sheet("无新增变更")
        sheet.append([f"{listing.year}年第{listing.quarter}季度无新增（变更）备案人员"])
    for table in listing.prefectures:
        _write_table(workbook.create_sheet(f"{table.region_name}{table.region_code}"[:31]), table)
    return workbook_bytes(workbook)


def current_layout_xlsx(table: Annex2Table) -> bytes:
    """备案记录（现行版式）: title, region and period line, headings, rows, 注 lines."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "备案记录"
    width = len(table.columns)
    sheet.append([CURRENT_LAYOUT_TITLE] + [None] * (width - 1))
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    sheet.cell(1, 1).font = Font(bold=True, size=14)
    sheet.cell(1, 1).alignment = Alignment(horizontal="center")
    masked = "（脱敏）" if table.masked else ""
    sheet.append(
        [f"参保地：{table.region_name}（{table.region_code}）", None, table.subtitle + masked]
    )
    sheet.append(list(table.columns))
    for cell in sheet[3]:
        cell.font = Font(bold=True)
    for row in table.rows:
        sheet.append(list(row))
    for note in CURRENT_LAYOUT_NOTES:
        sheet.append([note])
    sheet.freeze_panes = "C4"
    return workbook_bytes(workbook)


def current_layout_csv(table: Annex2Table) -> bytes:
    """The same record as CSV (UTF-8 with BOM, so spreadsheet programs read the Chinese)."""
    return ("\ufeff" + csv_text([table.columns, *table.rows])).encode("utf-8")


# --- streamed: export jobs write any number of rows with flat memory ------------------------

#: How many rows a streamed export writes between two progress reports.
PROGRESS_EVERY: Final = 2000

_WIDTHS: Final = (6, 12, 16, 10, 6, 20, 8, 20, 14, 30, 16, 14, 8, 8)


def _text_cell(sheet: Any, value: Any) -> Any:
    """A formula-like text written as a literal string (as :mod:`yidi.reports.cells` does)."""
    if not is_formula_like(value):
        return value
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"
    cell.quotePrefix = True
    return cell


def _bold(sheet: Any, value: Any, size: int | None = None) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=value)
    cell.font = Font(bold=True, size=size) if size else Font(bold=True)
    return cell


def _open_sheet(workbook: Workbook, title: str, table: Annex2Table) -> Any:
    """A write-only sheet with 附件2's title, 市(县、市) line and headings written."""
    sheet = workbook.create_sheet(title[:31])
    for letter, size in zip("ABCDEFGHIJKLMN", _WIDTHS, strict=False):
        sheet.column_dimensions[letter].width = size
    width = len(table.columns)
    title_cell = _bold(sheet, ANNEX2_TITLE, 14)
    title_cell.alignment = Alignment(horizontal="center")
    sheet.merged_cells.add(f"A1:{get_column_letter(width)}1")
    sheet.append([title_cell])
    place = f"市(县、市)：{table.region_name}（{table.region_code}）"
    sheet.append([place, None, None, None, None, table.subtitle])
    sheet.append([_bold(sheet, c) for c in table.columns])
    return sheet


def _close_sheet(sheet: Any) -> None:
    for note in ANNEX2_NOTES:
        sheet.append([note])


def _rows_into(
    sheet: Any, rows: Iterable[Sequence[Any]], progress: Callable[[int], None], done: int
) -> int:
    for row in rows:
        sheet.append([_text_cell(sheet, v) for v in row])
        done += 1
        if done % PROGRESS_EVERY == 0:
            progress(PROGRESS_EVERY)
    return done


def write_annex2_xlsx(
    stream: Annex2Stream, path: Path, progress: Callable[[int], None] = lambda n: None
) -> int:
    """附件2 written row by row to ``path`` (openpyxl write-only); the rows written."""
    workbook = Workbook(write_only=True)
    sheet = _open_sheet(workbook, "附件2", stream.table)
    done = _rows_into(sheet, stream.rows, progress, 0)
    _close_sheet(sheet)
    workbook.save(path)
    progress(done % PROGRESS_EVERY)
    return done


def write_quarterly_xlsx(
    stream: QuarterlyStream, path: Path, progress: Callable[[int], None] = lambda n: None
) -> int:
    """The quarterly list written prefecture by prefecture, one sheet each, to ``path``."""
    workbook = Workbook(write_only=True)
    sheet: Any = None
    current = ""
    done = 0
    for code, row in stream.rows:
        if sheet is None or code != current:
            if sheet is not None:
                _close_sheet(sheet)
            table = stream.table(code)
            sheet = _open_sheet(workbook, f"{table.region_name}{table.region_code}", table)
            current = code
        done = _rows_into(sheet, (row,), progress, done)
    if sheet is None:
        empty = workbook.create_sheet("无新增变更")
        empty.append([f"{stream.year}年第{stream.quarter}季度无新增（变更）备案人员"])
    else:
        _close_sheet(sheet)
    workbook.save(path)
    progress(done % PROGRESS_EVERY)
    return done
