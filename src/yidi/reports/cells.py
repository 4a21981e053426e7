"""Spreadsheet cell text that cannot run as a formula (CSV and XLSX injection).

A text cell that begins with ``=``, ``+``, ``-`` or ``@`` (or with a tab or carriage
return, which some programs skip before looking for one of those) is read as a formula
by Excel, WPS and LibreOffice. A filed name such as ``=HYPERLINK("http://…")`` would then
run on the desk of the officer who opens 附件2. Every exporter writes its cells through
this module:

* CSV: such a text gets a leading apostrophe (``'=…``), the usual neutral prefix that
  spreadsheet programs show as text;
* XLSX: the cell keeps its exact text but is stored as a string with the *quote prefix*
  style, so it is shown as text and stays text when edited.

A text that is a plain number (``-12.50``) is left alone: it cannot be a formula.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from typing import Any, Final

from openpyxl import Workbook

#: Characters that make a spreadsheet program read a cell as a formula (OWASP CSV injection).
FORMULA_TRIGGERS: Final = ("=", "+", "-", "@", "\t", "\r")

_PLAIN_NUMBER: Final = re.compile(r"^[+-]?\d+(\.\d+)?$")


def is_formula_like(value: object) -> bool:
    """True when ``value`` is a text a spreadsheet would evaluate."""
    return (
        isinstance(value, str)
        and value.startswith(FORMULA_TRIGGERS)
        and not _PLAIN_NUMBER.match(value)
    )


def csv_cell(value: Any) -> Any:
    """The value to write into a CSV cell: formula-like text gets a leading apostrophe."""
    if is_formula_like(value):
        return "'" + value
    return value


def csv_row(values: Iterable[Any]) -> list[Any]:
    return [csv_cell(v) for v in values]


def csv_text(rows: Iterable[Sequence[Any]], *, lineterminator: str = "\r\n") -> str:
    """Rows as CSV text, every cell escaped."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=lineterminator)
    for row in rows:
        writer.writerow(csv_row(row))
    return out.getvalue()


def neutralise_workbook(workbook: Workbook) -> Workbook:
    """Make every formula-like text cell of ``workbook`` a literal string (in place).

    openpyxl stores an assigned text that begins with ``=`` as a formula; this turns it
    back into a string cell and sets the quote prefix on every formula-like text, so the
    file contains no ``<f>`` element from data. yidi never writes formulas itself."""
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if is_formula_like(cell.value):
                    cell.data_type = "s"
                    cell.quotePrefix = True
    return workbook


def workbook_bytes(workbook: Workbook) -> bytes:
    """The XLSX file of ``workbook``, every text cell neutralised first."""
    buffer = io.BytesIO()
    neutralise_workbook(workbook).save(buffer)
    return buffer.getvalue()


def save_workbook(workbook: Workbook, path: Any) -> None:
    """Write ``workbook`` to ``path`` (a file name), every text cell neutralised first."""
    neutralise_workbook(workbook).save(path)
