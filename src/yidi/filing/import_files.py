"""报盘 files: reading a 附件2 batch (CSV or XLSX) and validating its rows.

A file is read row by row (:func:`annex2_table_rows`); its rows are validated in chunks
(:func:`parsed_chunks`), in a second process for large files, and come back as
:class:`ParsedRow` values ready to store. Nothing here touches the database.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import multiprocessing
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Final, NamedTuple

from openpyxl import load_workbook

from yidi.filing.model.annex import (
    ANNEX2_COLUMNS,
    RowError,
    missing_mandatory_fields,
    parse_annex2_row,
)
from yidi.filing.model.record import FilingRecord, RegistrationType
from yidi.filing.record_json import record_json
from yidi.kernel.errors import InvalidInput
from yidi.kernel.regions import default_registry
from yidi.platform import xlsx_guard
from yidi.platform.xlsx_guard import check_xlsx_archive, xlsx_unreadable

IMPORT_BATCH_ROWS: Final = 5000
PARSE_WORKERS: Final = 2
PARSE_WINDOW: Final = 6  # chunks in flight: bounded memory, both processes kept busy
INSURED_REGION_COLUMN: Final = "参保地行政区划代码"
VERSION_COLUMN: Final = "版本号"  # optional: a prefecture's own version of the person's filing


def _heading(text: object) -> str:
    return "".join(str(text or "").split())


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()[:10]
    return str(value)


def _csv_rows(data: bytes) -> Iterator[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")  # files saved by Excel on Chinese Windows
        except UnicodeDecodeError:
            raise InvalidInput(
                "IMPORT_ENCODING",
                "文件编码无法识别：请保存为UTF-8或GB18030编码的CSV",
                "the CSV must be UTF-8 or GB18030",
                field="file",
            ) from None
    yield from csv.reader(io.StringIO(text, newline=""))


def _xlsx_rows(data: bytes) -> Iterator[list[str]]:
    check_xlsx_archive(data)  # sizes from the zip directory, before any XML is parsed
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a damaged or foreign file
        raise xlsx_unreadable() from None
    try:
        sheet = workbook.worksheets[0]
        for count, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            if count > xlsx_guard.MAX_ROWS + 10:
                raise xlsx_guard.too_many_rows()
            yield [_cell_text(v) for v in values]
    finally:
        workbook.close()


def is_xlsx(data: bytes, filename: str) -> bool:
    return data[:4] == b"PK\x03\x04" or filename.lower().endswith(".xlsx")


def annex2_table_rows(
    data: bytes, filename: str
) -> tuple[dict[str, int], Iterator[tuple[int, list[str]]]]:
    """(heading -> column index, data rows with their 1-based line numbers) of a batch file.

    Title lines before the heading row (序号 …) and the 注 lines after the
    table are skipped, so an exported 附件2 imports as it is.
    """
    rows = _xlsx_rows(data) if is_xlsx(data, filename) else _csv_rows(data)
    for line, cells in enumerate(rows, start=1):
        if cells and _heading(cells[0]) == "序号":
            header = {_heading(c): i for i, c in enumerate(cells) if _heading(c)}
            missing = [h for h in ANNEX2_COLUMNS[1:12] if h not in header]
            if missing:
                raise InvalidInput(
                    "IMPORT_MISSING_COLUMNS",
                    "缺少附件2的列：" + "、".join(missing),
                    "missing annex-2 columns: " + ", ".join(missing),
                    field="file",
                )
            return header, _data_rows(rows, line)
    raise InvalidInput(
        "IMPORT_NO_HEADER",
        "未找到附件2表头（以“序号”开头的一行）",
        "no annex-2 heading row (starting with 序号) found",
        field="file",
    )


def _data_rows(rows: Iterator[list[str]], line: int) -> Iterator[tuple[int, list[str]]]:
    for cells in rows:
        line += 1
        if not any(c.strip() for c in cells[1:]):
            continue  # blank lines and the 注 lines below the table
        yield line, cells


def import_key(record: FilingRecord, version: int) -> str:
    category = record.category.value if record.category else ""
    return f"{record.social_security_number}|{record.insured_region_code}|{category}|{version}"


class ParsedRow(NamedTuple):
    """One batch-file row after validation: errors, or the values to store (cheap to pickle)."""

    line: int
    errors: list[RowError] | None
    serial: str = ""  # the row's 序号 and 姓名 as written: how the sender finds the row
    person: str = ""
    region: str = ""
    id_number: str = ""
    name: str = ""
    category: str | None = None
    version: int = 1
    registration_type: str = "1"
    record_json: str = ""
    key: str = ""
    missing_fields: int = 0  # mandatory 附件1 fields the row lacks (待补充的历史备案)


def _parse_chunk(
    columns: list[tuple[str, int]], version_index: int | None, chunk: list[tuple[int, list[str]]]
) -> list[ParsedRow]:
    """Validate a chunk of rows (runs in a worker process for large files)."""
    regions = default_registry()
    parsed_rows: list[ParsedRow] = []
    for line, cells in chunk:
        width = len(cells)
        mapping = {h: (cells[i] if i < width else "") for h, i in columns}
        parsed = parse_annex2_row(mapping, line, regions)
        serial = (cells[0] if cells else "").strip()[:20]
        person = mapping.get("姓名", "").strip()[:50]
        if isinstance(parsed, list):
            parsed_rows.append(ParsedRow(line, parsed, serial, person))
            continue
        version = 1
        if version_index is not None and version_index < width:
            text = cells[version_index].strip()
            if text and (not text.isdigit() or not 1 <= int(text) <= 999):
                error = RowError(
                    line, VERSION_COLUMN, "IMPORT_VERSION_FORMAT", "版本号应为1至999的整数"
                )
                parsed_rows.append(ParsedRow(line, [error], serial, person))
                continue
            version = int(text) if text else 1
        if version != 1:
            parsed = _with_version(parsed, version)
        parsed_rows.append(
            ParsedRow(
                line,
                None,
                serial,
                person,
                parsed.insured_region_code or "",
                parsed.social_security_number or "",
                parsed.name or "",
                parsed.category.value if parsed.category else None,
                version,
                parsed.registration_type.value,
                record_json(parsed),
                import_key(parsed, version),
                len(missing_mandatory_fields(parsed)),
            )
        )
    return parsed_rows


def _chunks(
    rows: Iterator[tuple[int, list[str]]], size: int
) -> Iterator[list[tuple[int, list[str]]]]:
    chunk: list[tuple[int, list[str]]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def parsed_chunks(
    columns: list[tuple[str, int]],
    version_index: int | None,
    rows: Iterator[tuple[int, list[str]]],
    *,
    parallel: bool,
) -> Iterator[list[ParsedRow]]:
    """Parsed chunks in file order. Large files are validated in a second process while
    this one writes to the database (the machine has two cores)."""
    chunks = _chunks(rows, IMPORT_BATCH_ROWS)
    if not parallel:
        for chunk in chunks:
            yield _parse_chunk(columns, version_index, chunk)
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=PARSE_WORKERS, mp_context=context) as pool:
        pending: deque[Future[list[ParsedRow]]] = deque()
        for chunk in chunks:
            pending.append(pool.submit(_parse_chunk, columns, version_index, chunk))
            if len(pending) >= PARSE_WINDOW:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _with_version(record: FilingRecord, version: int) -> FilingRecord:
    return dataclasses.replace(record, version=version, registration_type=RegistrationType.CHANGE)


# --- XLSX ------------------------------------------------------------------------------------
