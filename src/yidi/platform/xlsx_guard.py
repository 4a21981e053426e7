"""Limits checked on an uploaded XLSX before any XML of it is parsed (zip bombs).

An XLSX file is a zip archive. A few megabytes can declare hundreds of megabytes of
sheet XML, which openpyxl would expand and parse for minutes. Before parsing, the
central directory is read (it lists each member's compressed and uncompressed size;
Python's zipfile never inflates a member past its declared size, so the declared size
is a real bound) and the file is refused when

* all members together would expand to more than :data:`MAX_UNCOMPRESSED_BYTES`;
* a member larger than :data:`RATIO_CHECK_MIN_BYTES` expands more than
  :data:`MAX_COMPRESSION_RATIO` times (sheet XML of real 报盘 files compresses about
  5–15 times; a bomb hundreds of times);
* the first sheet declares (``<dimension ref="A1:N…">``) more than :data:`MAX_ROWS` rows
  or more than :data:`MAX_COLUMNS` columns (openpyxl pads every row out to that width).

While reading, the rows are counted again (a sheet may omit or misstate its dimension)
and reading stops with the same refusal past :data:`MAX_ROWS`.
"""

from __future__ import annotations

import io
import re
import zipfile
from typing import Final

from yidi.kernel.errors import ErrorKind, InvalidInput, YidiError

MAX_UNCOMPRESSED_BYTES: Final = 64 * 1024 * 1024
MAX_COMPRESSION_RATIO: Final = 50
RATIO_CHECK_MIN_BYTES: Final = 1024 * 1024
MAX_ROWS: Final = 200_000
#: Columns a sheet may declare (附件2 has 13–15).
MAX_COLUMNS: Final = 64

_DIMENSION: Final = re.compile(rb'<(?:\w+:)?dimension\s+ref="[A-Z]+\d+:([A-Z]+)(\d+)"')


def _too_large(what_zh: str, what_en: str) -> YidiError:
    return YidiError(
        "IMPORT_XLSX_TOO_LARGE",
        f"XLSX文件解压后过大（{what_zh}），不予读取。请拆分为多个文件，或另存为CSV后导入",
        f"the XLSX file expands too much ({what_en}); split it or import it as CSV",
        field="file",
        kind=ErrorKind.TOO_LARGE,
    )


def too_many_rows() -> YidiError:
    return _too_large(f"超过{MAX_ROWS}行", f"more than {MAX_ROWS} rows")


def _first_sheet(archive: zipfile.ZipFile) -> str | None:
    names = sorted(n for n in archive.namelist() if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n))
    return min(names, key=lambda n: int(re.sub(r"\D", "", n)), default=None)


def xlsx_unreadable() -> InvalidInput:
    """The refusal of a file that is not a readable XLSX workbook."""
    return InvalidInput(
        "IMPORT_XLSX_UNREADABLE",
        "XLSX文件无法读取，请确认文件完好且为Excel 2007及以上格式",
        "the XLSX file cannot be read",
        field="file",
    )


def check_xlsx_archive(data: bytes) -> None:
    """Refuse an XLSX whose archive would expand past the limits (nothing is parsed)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError):
        raise xlsx_unreadable() from None
    with archive:
        total = 0
        for info in archive.infolist():
            total += info.file_size
            if total > MAX_UNCOMPRESSED_BYTES:
                limit_mb = MAX_UNCOMPRESSED_BYTES // (1024 * 1024)
                raise _too_large(f"超过{limit_mb}MB", f"more than {limit_mb} MB")
            if (
                info.file_size > RATIO_CHECK_MIN_BYTES
                and info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1)
            ):
                raise _too_large(
                    f"{info.filename} 压缩比超过{MAX_COMPRESSION_RATIO}倍",
                    f"{info.filename} is compressed more than {MAX_COMPRESSION_RATIO} times",
                )
        sheet = _first_sheet(archive)
        if sheet is None:
            return
        with archive.open(sheet) as handle:
            head = handle.read(4096)
        match = _DIMENSION.search(head)
        if match is None:
            return
        if int(match.group(2)) > MAX_ROWS + 10:  # + title and 注 lines
            raise too_many_rows()
        if _column_number(match.group(1).decode("ascii")) > MAX_COLUMNS:
            raise _too_large(f"超过{MAX_COLUMNS}列", f"more than {MAX_COLUMNS} columns")


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - ord("A") + 1
    return number
