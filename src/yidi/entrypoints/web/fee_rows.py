"""Receipts (费用明细) typed as rows of a form: one row per item, every fault shown at once.

The claim page posts the rows as repeated fields (``serial``, ``catalog_code``, ``name``,
``quantity``, ``unit_price``, ``amount``, ``occurred_on``), one value per row in order.
Each row is checked field by field; a row left entirely blank is skipped. A blank receipt
number is numbered by the row; a blank amount is quantity × unit price (rounded to the
fen). Without JavaScript the 添加一行 / 删除 buttons post the form back with a row added
or taken out, nothing saved; with it they act in the page.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Final

from yidi.encounter.commands import FeeLineInput
from yidi.entrypoints.web.fee_text import MAX_LINES
from yidi.kernel.money import Money

ROW_FIELDS: Final = (
    "serial",
    "catalog_code",
    "name",
    "quantity",
    "unit_price",
    "amount",
    "occurred_on",
)
MAX_CELL: Final = 100


@dataclass
class FeeRows:
    rows: list[dict[str, str]]  # what was typed, row by row (blank rows kept for display)
    lines: list[FeeLineInput] = field(default_factory=list)
    errors: dict[int, dict[str, str]] = field(default_factory=dict)  # row index → field → message

    @property
    def problems(self) -> list[tuple[int, str, str]]:
        """(row index, field, message) in row order, for the summary above the table."""
        return [
            (i, name, text)
            for i, faults in sorted(self.errors.items())
            for name, text in faults.items()
        ]


def _decimal(text: str) -> Decimal | None:
    try:
        value = Decimal(text.replace(",", "").strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def typed_rows(columns: dict[str, list[str]]) -> list[dict[str, str]]:
    """The posted columns as rows (the longest column sets the count; cells cut to size)."""
    count = min(max((len(v) for v in columns.values()), default=0), MAX_LINES)
    return [
        {
            name: (columns.get(name, [])[i] if i < len(columns.get(name, [])) else "")[
                :MAX_CELL
            ].strip()
            for name in ROW_FIELDS
        }
        for i in range(count)
    ]


def rows_of_lines(lines: list[dict[str, str]]) -> list[dict[str, str]]:
    """Stored fee lines as form rows."""
    return [
        {
            "serial": line["serial"],
            "catalog_code": line["catalog_code"],
            "name": line["name"],
            "quantity": line["quantity"],
            "unit_price": line["unit_price"],
            "amount": line["amount"],
            "occurred_on": line["occurred_at"][:10],
        }
        for line in lines
    ]


def check_rows(rows: list[dict[str, str]], first_day: dt.date, last_day: dt.date) -> FeeRows:
    """Every row checked; the fee lines of the good rows. ``first_day``–``last_day`` is the
    stay (a receipt dated outside it is a typing error)."""
    checked = FeeRows(rows)
    serials: dict[str, int] = {}
    for index, row in enumerate(rows):
        if not any(row.values()):
            continue
        faults: dict[str, str] = {}
        serial = row["serial"] or str(index + 1)
        if serial in serials:
            faults["serial"] = f"收据号“{serial}”与第 {serials[serial] + 1} 行重复"
        serials.setdefault(serial, index)
        if not row["catalog_code"]:
            faults["catalog_code"] = "请填写目录编码"
        quantity = _decimal(row["quantity"])
        if quantity is None or quantity <= 0:
            faults["quantity"] = "数量应为大于0的数字"
        price = _decimal(row["unit_price"])
        if price is None or price < 0:
            faults["unit_price"] = "单价应为不小于0的数字（元）"
        amount: Money | None = None
        if row["amount"]:
            value = _decimal(row["amount"])
            if value is None or value < 0:
                faults["amount"] = "金额应为不小于0的数字（元），可留空"
            else:
                amount = Money.rounded(value)
        day: dt.date | None = None
        try:
            day = dt.date.fromisoformat(row["occurred_on"])
        except ValueError:
            faults["occurred_on"] = "请填写发生日期，如 2026-11-21"
        if day is not None and not first_day <= day <= last_day:
            faults["occurred_on"] = f"发生日期应在住院期间（{first_day} 至 {last_day}）"
        if faults:
            checked.errors[index] = faults
            continue
        assert quantity is not None and price is not None and day is not None
        checked.lines.append(
            FeeLineInput(
                serial=serial,
                catalog_code=row["catalog_code"],
                name=row["name"],
                quantity=quantity,
                unit_price=price,
                amount=amount if amount is not None else Money.rounded(quantity * price),
                occurred_at=dt.datetime.combine(day, dt.time()),
            )
        )
    return checked


def blank_row() -> dict[str, str]:
    return dict.fromkeys(ROW_FIELDS, "")
