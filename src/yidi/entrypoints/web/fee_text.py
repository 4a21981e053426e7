"""Fee lines typed or pasted as CSV text (or uploaded as a CSV file) on the pages.

One line per fee item: ``serial, catalogue code, name, quantity, unit price, amount, time``.
A heading row (流水号 / serial) is skipped; a blank amount is quantity × unit price; the
time is ``2026-11-21 09:00`` or ISO 8601 (Beijing time when no offset is given). Every
faulty row is reported with its line number, so the cashier corrects them all at once.

Rows copied from a HIS screen or a spreadsheet arrive tab-separated: text with a tab in
it is read with the tab as the separator. An XLSX file's first sheet is read as the same
seven columns (:func:`xlsx_rows_as_text`).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Final

from yidi.encounter.commands import FeeLineInput
from yidi.kernel.money import Money

COLUMNS: Final = ("serial", "catalog_code", "name", "quantity", "unit_price", "amount", "time")
MAX_LINES: Final = 2000
MAX_TEXT_BYTES: Final = 1024 * 1024


@dataclass(frozen=True, slots=True)
class ParsedFees:
    lines: list[FeeLineInput]
    problems: list[str]  # "第 3 行：…" in Chinese, one per faulty row


def _decimal(text: str) -> Decimal | None:
    try:
        value = Decimal(text.replace(",", "").strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _when(text: str) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return None


def parse_fee_text(text: str) -> ParsedFees:
    lines: list[FeeLineInput] = []
    problems: list[str] = []
    text = text.lstrip("\ufeff")
    delimiter = "\t" if "\t" in text else ","
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    for number, raw in enumerate(rows, start=1):
        row = [cell.strip() for cell in raw]
        if not any(row):
            continue
        if number == 1 and row[0].lower() in ("serial", "流水号", "feedetl_sn"):
            continue
        if len(lines) + len(problems) >= MAX_LINES:
            problems.append(f"超过 {MAX_LINES} 行，请分批上传")
            break
        if len(row) != len(COLUMNS):
            problems.append(
                f"第 {number} 行：应有 {len(COLUMNS)} 列（流水号,目录编码,名称,数量,单价,金额,发生时间），实有 {len(row)} 列"
            )
            continue
        serial, code, name, quantity_text, price_text, amount_text, time_text = row
        faults: list[str] = []
        quantity = _decimal(quantity_text)
        price = _decimal(price_text)
        if not serial:
            faults.append("流水号不能为空")
        if not code:
            faults.append("目录编码不能为空")
        if quantity is None:
            faults.append(f"数量“{quantity_text}”不是数字")
        if price is None:
            faults.append(f"单价“{price_text}”不是数字")
        amount: Money | None = None
        if amount_text:
            value = _decimal(amount_text)
            if value is None:
                faults.append(f"金额“{amount_text}”不是数字")
            else:
                amount = Money.rounded(value)
        occurred = _when(time_text)
        if occurred is None:
            faults.append(f"发生时间“{time_text}”格式应为 2026-11-21 09:00")
        if faults:
            problems.append(f"第 {number} 行：" + "；".join(faults))
            continue
        assert quantity is not None and price is not None and occurred is not None
        lines.append(
            FeeLineInput(
                serial=serial,
                catalog_code=code,
                name=name,
                quantity=quantity,
                unit_price=price,
                amount=amount if amount is not None else Money.rounded(quantity * price),
                occurred_at=occurred,
            )
        )
    return ParsedFees(lines, problems)


def xlsx_rows_as_text(data: bytes) -> str:
    """The first sheet of an XLSX file as tab-separated text for :func:`parse_fee_text`
    (dates and times as ``2026-11-21 09:00``); the archive is checked before parsing."""
    from openpyxl import load_workbook

    from yidi.platform.xlsx_guard import check_xlsx_archive

    check_xlsx_archive(data)
    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        sheet = book.worksheets[0]
        out: list[str] = []
        for values in sheet.iter_rows(values_only=True, max_col=len(COLUMNS)):
            if len(out) > MAX_LINES + 1:
                break
            out.append("\t".join(_cell(value) for value in values))
        return "\n".join(out)
    finally:
        book.close()


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, float):
        return format(Decimal(repr(value)).normalize(), "f")
    return str(value).replace("\t", " ").replace("\n", " ")
