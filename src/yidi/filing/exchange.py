"""The provincial filing database (省级异地居住备案人员信息库, 豫人社办函〔2017〕63号 §3, §5).

* :meth:`FilingExchange.import_annex2` — 报盘: a CSV or XLSX file in the 附件2
  layout. Every row is validated; good rows are imported, bad rows come back
  in a row-by-row report. Importing the same file again replays the first
  report (by file sha256); importing the same rows in another file changes
  nothing either (each row's key: ID number, insured region, category,
  version). Persons filed by more than one prefecture are listed as
  conflicts and never merged. Rows are written with executemany in batches:
  a million-row file takes well under two minutes on SQLite.
* :meth:`FilingExchange.annex2` — 附件2 基本医疗保险异地居住人员备案信息汇总表
  for a region and a period, as rows or as XLSX with the notice's headings.
* :meth:`FilingExchange.quarterly` — 每季度末新增（变更）备案人员信息, per prefecture.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import hashlib
import io
import multiprocessing
import re
import secrets
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Final, NamedTuple

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font
from sqlalchemy.exc import IntegrityError

from yidi.filing.commands import LIVE_STATES, SYSTEM_REGION
from yidi.filing.model.annex import ANNEX2_COLUMNS, RowError, annex2_row, parse_annex2_row
from yidi.filing.model.lifecycle import FilingState, emergency_deadline
from yidi.filing.model.record import FilingRecord, RegistrationType
from yidi.filing.model.rules import rule_for
from yidi.filing.sql import (
    REPORTED_STATES,
    FilingQuery,
    ImportBatchRow,
    RegionActivity,
    record_json,
)
from yidi.kernel.access import Action, Principal, Role, hidden
from yidi.kernel.audit import AuditEntry, as_utc
from yidi.kernel.clock import CHINA_TZ, Clock
from yidi.kernel.errors import Conflict, Forbidden, InvalidInput
from yidi.kernel.insurance import FilingCategory
from yidi.kernel.privacy import mask_id_number
from yidi.kernel.regions import DivisionLevel, DivisionRegistry, default_registry, region_prefix
from yidi.kernel.workdays import CalendarYearUnsupported, WorkingDayCalendar
from yidi.platform import xlsx_guard
from yidi.platform.uow import SqlUnitOfWork
from yidi.platform.xlsx_guard import check_xlsx_archive
from yidi.reports.cells import workbook_bytes

ANNEX2_TITLE: Final = "基本医疗保险异地居住人员备案信息汇总表"
ANNEX2_NOTES: Final = (
    "注：1、险种类型：1.职工医保，2.城乡居民医保",
    "2、人员类别：1.异地安置退休人员，2.异地长期居住人员，3.常驻异地工作人员",
)
IMPORT_BATCH_ROWS: Final = 5000
MAX_REPORTED_ERRORS: Final = 10_000
MAX_REPORTED_CONFLICTS: Final = 1_000
PARALLEL_MIN_BYTES: Final = (
    4 * 1024 * 1024
)  # about 25,000 rows: below this a worker costs more than it saves
PARSE_WORKERS: Final = 2
PARSE_WINDOW: Final = 6  # chunks in flight: bounded memory, both processes kept busy
INSURED_REGION_COLUMN: Final = "参保地行政区划代码"
VERSION_COLUMN: Final = "版本号"  # optional: a prefecture's own version of the person's filing


def _heading(text: object) -> str:
    return "".join(str(text or "").split())


# --- reading batch files -----------------------------------------------------------------


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
        raise InvalidInput(
            "IMPORT_XLSX_UNREADABLE",
            "XLSX文件无法读取，请确认文件完好且为Excel 2007及以上格式",
            "the XLSX file cannot be read",
            field="file",
        ) from None
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


# --- reports --------------------------------------------------------------------------------


@dataclass
class ImportReport:
    """The row-by-row answer to one batch file."""

    file_sha256: str
    filename: str
    total_rows: int = 0
    imported: int = 0
    duplicates: int = 0
    rejected: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    conflict_count: int = 0
    replayed: bool = False

    @property
    def all_good(self) -> bool:
        return self.rejected == 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "file_sha256": self.file_sha256,
            "filename": self.filename,
            "total_rows": self.total_rows,
            "imported": self.imported,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "errors": self.errors,
            "conflicts": self.conflicts,
            "conflict_count": self.conflict_count,
            "replayed": self.replayed,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, replayed: bool) -> ImportReport:
        report = cls(**{k: v for k, v in data.items() if k != "replayed"})
        report.replayed = replayed
        return report


@dataclass(frozen=True)
class Annex2Table:
    region_code: str
    region_name: str
    subtitle: str
    columns: tuple[str, ...]
    rows: list[tuple[str, ...]]
    masked: bool


@dataclass(frozen=True)
class QuarterlyList:
    region_code: str
    year: int
    quarter: int
    first_day: dt.date
    last_day: dt.date
    prefectures: list[Annex2Table]
    masked: bool


def quarter_bounds(year: int, quarter: int) -> tuple[dt.date, dt.date]:
    if not 1 <= quarter <= 4 or not 2000 <= year <= 2100:
        raise InvalidInput(
            "QUARTER_INVALID",
            "季度应为1至4，年份应为2000至2100",
            "quarter must be 1-4 and year 2000-2100",
            field="quarter",
        )
    first = dt.date(year, 3 * quarter - 2, 1)
    last = dt.date(year + 1, 1, 1) if quarter == 4 else dt.date(year, 3 * quarter + 1, 1)
    return first, last - dt.timedelta(days=1)


# An emergency filing this many working days (or fewer) before its deadline is "near".
EMERGENCY_NEAR_WORKING_DAYS: Final = 1
PROVINCE_LEVEL_NAME: Final = "省直"  # the row of the province's own pool (and its own code)
_ID_NUMBER_TEXT = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])|(?<![0-9])[0-9]{15}(?![0-9])")


def period_bounds(year: int, quarter: int | None) -> tuple[dt.date, dt.date]:
    """A quarter, or the whole year when ``quarter`` is None (first and last day)."""
    if quarter is None:
        quarter_bounds(year, 1)  # the same year check
        return dt.date(year, 1, 1), dt.date(year, 12, 31)
    return quarter_bounds(year, quarter)


def mask_id_numbers_in(text: str) -> str:
    """Any ID number written inside a message, masked like the lists mask it."""
    return _ID_NUMBER_TEXT.sub(lambda m: mask_id_number(m.group(0)), text)


@dataclass(frozen=True)
class SubmissionsRow:
    """One prefecture (or the province's own 省直 pool) in the submissions table."""

    region_code: str
    region_name: str
    by_state: dict[FilingState, int]
    counter: int
    imported: int
    new: int
    changed: int
    last_submitted_at: dt.datetime | None
    last_imported_at: dt.datetime | None
    emergency_near: int
    emergency_late: int

    @property
    def total(self) -> int:
        return sum(self.by_state.values())


@dataclass(frozen=True)
class SubmissionsReport:
    """地市报送情况: per prefecture, what was filed in the period, and the total."""

    region_code: str
    region_name: str
    first_day: dt.date
    last_day: dt.date
    as_of: dt.date
    rows: list[SubmissionsRow]
    total: SubmissionsRow


@dataclass(frozen=True)
class ImportBatchPage:
    total: int
    items: list[ImportBatchRow]


@dataclass(frozen=True)
class ImportBatchReport:
    """A stored batch and its report, ID numbers masked."""

    batch: ImportBatchRow
    report: ImportReport


def _latest(values: list[dt.datetime | None]) -> dt.datetime | None:
    known = [v for v in values if v is not None]
    return max(known) if known else None


def _sum_rows(code: str, name: str, rows: Sequence[SubmissionsRow]) -> SubmissionsRow:
    return SubmissionsRow(
        code,
        name,
        {state: sum(r.by_state[state] for r in rows) for state in _STATES},
        sum(r.counter for r in rows),
        sum(r.imported for r in rows),
        sum(r.new for r in rows),
        sum(r.changed for r in rows),
        _latest([r.last_submitted_at for r in rows]),
        _latest([r.last_imported_at for r in rows]),
        sum(r.emergency_near for r in rows),
        sum(r.emergency_late for r in rows),
    )


_STATES: Final = tuple(FilingState(state) for state in REPORTED_STATES)


def _key(record: FilingRecord, version: int) -> str:
    category = record.category.value if record.category else ""
    return f"{record.social_security_number}|{record.insured_region_code}|{category}|{version}"


def _listed_in_annex2(record: FilingRecord) -> bool:
    # 附件2 lists 异地居住人员 (its note 2: categories 1-3); rows imported without a category too.
    return record.category is None or record.category.is_residence_based


class FilingExchange:
    """Batch import, 附件2 export and the quarterly list."""

    def __init__(
        self,
        uow_factory: Callable[[], SqlUnitOfWork],
        clock: Clock,
        *,
        regions: DivisionRegistry | None = None,
        calendar: WorkingDayCalendar | None = None,
    ) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._regions = regions or default_registry()
        self._calendar = calendar or WorkingDayCalendar(today=clock.today)

    def _audit(
        self,
        uow: SqlUnitOfWork,
        principal: Principal,
        action: str,
        subject: str,
        reason: str,
        address: str,
    ) -> None:
        uow.audit.append(
            AuditEntry(
                self._clock.now(),
                principal.user_id,
                principal.role.value,
                principal.region_code,
                action,
                subject,
                reason[:500],
                address[:64],
            )
        )

    def _require_region(
        self, principal: Principal, region: str, *, importing: bool = False
    ) -> None:
        """A known region within the caller's scope; the system's 000000 ("all") only for
        reading, since a batch must be submitted for a real division."""
        if not (region.isascii() and region.isdigit() and len(region) == 6) or not (
            self._regions.exists(region) or (region == SYSTEM_REGION and not importing)
        ):
            raise InvalidInput(
                "REGION_UNKNOWN",
                f"行政区划代码“{region}”不存在",
                f"unknown region {region!r}",
                field="region",
            )
        if not principal.covers_region(region):
            raise Forbidden(
                *(
                    (
                        "IMPORT_REGION_FORBIDDEN",
                        "不能为本机构管辖范围以外的地区报盘",
                        "you may not import for a region outside your scope",
                    )
                    if importing
                    else (
                        "FILING_REGION_OUT_OF_SCOPE",
                        "无权查看或导出其他地区的备案信息",
                        "this region is outside your scope",
                    )
                ),
                field="region",
            )

    def _region_name(self, region: str) -> str:
        return self._regions.get(region).name if self._regions.exists(region) else "全部"

    def _full(self, principal: Principal, full: bool | None) -> bool:
        # Province officers build the provincial database: full by default. Agencies see masked
        # data unless they ask for full data (报盘 to the province), which is audited like any export.
        return principal.role is Role.PROVINCE_OFFICER if full is None else full

    # --- import --------------------------------------------------------------------------

    def import_annex2(
        self,
        principal: Principal,
        data: bytes,
        filename: str,
        *,
        progress: Callable[[int], None] | None = None,
        address: str = "",
        region: str | None = None,
    ) -> ImportReport:
        """Import a 报盘 file submitted for ``region`` (default: the caller's own region).

        The batch records that region: the submitting agency's pooling region, or the
        province's code for the province's own imports. Rows insured outside it are
        rejected. The system operator (command line) has no region of its own; without
        ``region`` it is inferred when every row is insured within one prefecture.
        """
        principal.require(Action.FILING_IMPORT)
        if region:
            self._require_region(principal, region, importing=True)
        digest = hashlib.sha256(data).hexdigest()
        now = self._clock.now()
        with self._uow() as uow:
            previous = uow.filings.import_batch(digest)
            if previous is not None:
                self._audit(
                    uow,
                    principal,
                    "filing.import_replay",
                    f"import:{digest[:16]}",
                    filename,
                    address,
                )
                uow.commit()
                return ImportReport.from_dict(previous.report, replayed=True)
            submitted_for = self._submission_region(principal, region, data, filename)
            header, rows = annex2_table_rows(data, filename)
            report = ImportReport(digest, filename)
            try:
                with uow.session.begin_nested():
                    self._import_rows(
                        uow,
                        dataclasses.replace(principal, region_code=submitted_for),
                        header,
                        rows,
                        report,
                        now,
                        progress,
                        parallel=len(data) >= PARALLEL_MIN_BYTES,
                    )
            except IntegrityError:
                # A concurrent import wrote the same rows (import keys) first and committed.
                return self._concurrent_import(uow, principal, digest, filename, address)
            counts = (report.total_rows, report.imported, report.duplicates, report.rejected)
            try:
                with uow.session.begin_nested():
                    uow.filings.record_import_batch(
                        digest,
                        filename,
                        now,
                        principal.user_id,
                        counts,
                        report.as_dict(),
                        submitted_for,
                    )
            except IntegrityError:
                raise Conflict(
                    "IMPORT_IN_PROGRESS",
                    "同一文件正在被另一个任务导入，请稍后查看结果",
                    "the same file is being imported concurrently",
                ) from None
            self._audit(
                uow,
                principal,
                "filing.import",
                f"import:{digest[:16]}",
                f"{filename} 共{report.total_rows}行 导入{report.imported} 重复{report.duplicates} 退回{report.rejected}",
                address,
            )
            uow.commit()
        return report

    def _concurrent_import(
        self, uow: SqlUnitOfWork, principal: Principal, digest: str, filename: str, address: str
    ) -> ImportReport:
        """The answer when another import stored the same rows while this one ran: that
        import's report if it was this very file (a retry), else a clear conflict."""
        previous = uow.filings.import_batch(digest)
        if previous is None:
            raise Conflict(
                "IMPORT_ROWS_CONCURRENT",
                "另一个同时进行的导入已写入本文件中的部分记录，本次未导入任何记录；请稍后重新导入本文件，已导入的记录将计为重复",
                "a concurrent import stored some of these rows first; nothing was imported, "
                "import the file again (the stored rows then count as duplicates)",
            )
        self._audit(
            uow, principal, "filing.import_replay", f"import:{digest[:16]}", filename, address
        )
        uow.commit()
        return ImportReport.from_dict(previous.report, replayed=True)

    def _submission_region(
        self, principal: Principal, region: str | None, data: bytes, filename: str
    ) -> str:
        """The region a batch is submitted for (报盘所属地区), checked against the caller."""
        if region:
            return region  # checked by _require_region before anything is read
        own = principal.region_code
        if own and own != SYSTEM_REGION:
            return own
        units = self._prefectures_in(data, filename)
        if len(units) == 1:
            return units.pop()
        listed = "、".join(sorted(units)) or "无"
        raise InvalidInput(
            "IMPORT_REGION_REQUIRED",
            f"无法从文件确定报盘所属地区（参保地所属地市：{listed}），请指定报盘所属地区",
            f"cannot tell which region the file is submitted for (prefectures: {listed}); "
            "name the region",
            field="region",
        )

    def _prefectures_in(self, data: bytes, filename: str) -> set[str]:
        """The prefectures of the rows' known insured regions (a county run by the province,
        such as 济源, or the province itself counts as its own); unknown codes are left
        to the row checks."""
        header, rows = annex2_table_rows(data, filename)
        column = header.get(INSURED_REGION_COLUMN)
        units: set[str] = set()
        if column is None:
            return units
        for _, cells in rows:
            code = cells[column].strip() if column < len(cells) else ""
            if not self._regions.exists(code):
                continue
            prefecture = self._regions.prefecture_of(code)
            units.add(prefecture.code if prefecture is not None else code)
        return units

    def _import_rows(
        self,
        uow: SqlUnitOfWork,
        principal: Principal,
        header: dict[str, int],
        rows: Iterator[tuple[int, list[str]]],
        report: ImportReport,
        now: dt.datetime,
        progress: Callable[[int], None] | None,
        *,
        parallel: bool = False,
    ) -> None:
        columns = [(h, i) for h, i in header.items() if h in ANNEX2_COLUMNS]
        version_index = header.get(VERSION_COLUMN)
        seen_keys: set[str] = set()
        first_place: dict[str, tuple[str, int]] = {}  # id number -> (prefecture, first line)
        conflicted: set[str] = set()
        batch: list[ParsedRow] = []
        utc_now = as_utc(now)
        today = now.date()
        reason = f"报盘导入：{report.filename}"[:500]

        def reject(errors: Sequence[RowError]) -> None:
            report.rejected += 1
            for error in errors:
                if len(report.errors) < MAX_REPORTED_ERRORS:
                    report.errors.append(
                        {
                            "row": error.row_number,
                            "column": error.column,
                            "code": error.code,
                            "message": error.message,
                        }
                    )

        def conflict(number: str, places: list[str], lines: list[int]) -> None:
            report.conflict_count += 1
            if len(report.conflicts) < MAX_REPORTED_CONFLICTS:
                report.conflicts.append(
                    {
                        "id_number": mask_id_number(number),
                        "regions": sorted(set(places)),
                        "rows": lines,
                    }
                )

        stored_keys = uow.filings.all_import_keys()
        stored_places = uow.filings.live_prefectures_by_id_number(LIVE_STATES)
        new_id = _ordered_ids(now)

        def flush() -> None:
            if not batch:
                return
            fresh = [row for row in batch if row.key not in stored_keys]
            report.duplicates += len(batch) - len(fresh)
            for row in fresh:
                places = stored_places.get(row.id_number)
                if places is None or row.id_number in conflicted:
                    continue
                others = sorted(p for p in places if p[:4] != row.region[:4])
                if others:
                    conflicted.add(row.id_number)
                    conflict(row.id_number, [row.region, *others], [row.line])
            lineage_rows, version_rows, event_rows = [], [], []
            approved = FilingState.APPROVED.value
            for row in fresh:
                lineage_id, version_id = next(new_id), next(new_id)
                lineage_rows.append(
                    {
                        "id": lineage_id,
                        "filing_number": None,
                        "current_version_id": version_id,
                        "state": approved,
                        "version": row.version,
                        "insured_region_code": row.region,
                        "id_number": row.id_number,
                        "name": row.name,
                        "category": row.category,
                        "source": "import",
                        "import_key": row.key,
                        "created_at": utc_now,
                        "updated_at": utc_now,
                    }
                )
                version_rows.append(
                    {
                        "id": version_id,
                        "filing_id": lineage_id,
                        "version": row.version,
                        "state": approved,
                        "registration_type": row.registration_type,
                        "record_json": row.record_json,
                        "state_reason": None,
                        "supersedes": None,
                        "superseded_by": None,
                        "filed_on": today,
                        "created_at": utc_now,
                    }
                )
                event_rows.append(
                    {
                        "filing_id": lineage_id,
                        "version_id": version_id,
                        "seq": 1,
                        "action": "create",
                        "from_state": None,
                        "to_state": approved,
                        "actor_id": principal.user_id,
                        "actor_role": principal.role.value,
                        "at": utc_now,
                        "reason": reason,
                        "version": row.version,
                    }
                )
            uow.filings.bulk_insert_imported(lineage_rows, version_rows, event_rows)
            report.imported += len(fresh)
            batch.clear()

        for parsed_chunk in _parsed_chunks(columns, version_index, rows, parallel=parallel):
            for row in parsed_chunk:
                report.total_rows += 1
                if row.errors:
                    reject(row.errors)
                    continue
                if not principal.covers_region(row.region):
                    reject(
                        [
                            RowError(
                                row.line,
                                "参保地行政区划代码",
                                "IMPORT_REGION_OUT_OF_SCOPE",
                                f"参保地{row.region}不在本机构管辖范围内，不能导入",
                            )
                        ]
                    )
                    continue
                if row.key in seen_keys:
                    report.duplicates += 1
                    continue
                seen_keys.add(row.key)
                prefecture = row.region[:4]
                known = first_place.get(row.id_number)
                if known is None:
                    first_place[row.id_number] = (prefecture, row.line)
                elif known[0] != prefecture and row.id_number not in conflicted:
                    conflicted.add(row.id_number)
                    conflict(
                        row.id_number, [known[0] + "00", prefecture + "00"], [known[1], row.line]
                    )
                batch.append(row)
            flush()
            if progress is not None:
                progress(len(parsed_chunk))

    # --- 附件2 and the quarterly list ----------------------------------------------------

    def annex2(
        self,
        principal: Principal,
        region: str,
        from_on: dt.date,
        to_on: dt.date,
        *,
        full: bool | None = None,
        address: str = "",
    ) -> Annex2Table:
        """Approved 异地居住 filings of ``region`` filed between the two days (inclusive)."""
        principal.require(Action.FILING_EXPORT)
        self._require_region(principal, region)
        if to_on < from_on:
            raise InvalidInput(
                "PERIOD_INVALID", "截止日期不能早于起始日期", "to is before from", field="to"
            )
        show_full = self._full(principal, full)
        query = FilingQuery(states=(FilingState.APPROVED,), region_prefix=region_prefix(region))
        with self._uow() as uow:
            found = [
                (row.insured_region_code, row.filed_on, record.name or "", record)
                for row, record in uow.filings.iter_records(query)
                if row.filed_on is not None
                and from_on <= row.filed_on <= to_on
                and _listed_in_annex2(record)
            ]
            found.sort(key=lambda f: (f[0], f[1], f[2]))
            rows = [
                annex2_row(record, serial, self._regions, mask=not show_full)
                for serial, (_r, _f, _n, record) in enumerate(found, start=1)
            ]
            self._audit(
                uow,
                principal,
                "filing.export",
                f"annex2:{region}",
                f"{from_on}~{to_on} {len(rows)}行 {'明文' if show_full else '脱敏'}",
                address,
            )
            uow.commit()
        return Annex2Table(
            region,
            self._region_name(region),
            f"{from_on.isoformat()} 至 {to_on.isoformat()}",
            ANNEX2_COLUMNS,
            rows,
            not show_full,
        )

    def quarterly(
        self,
        principal: Principal,
        region: str,
        year: int,
        quarter: int,
        *,
        full: bool | None = None,
        address: str = "",
    ) -> QuarterlyList:
        """每季度末新增（变更）备案人员信息: versions filed in the quarter, one table per prefecture."""
        principal.require(Action.FILING_EXPORT)
        first, last = quarter_bounds(year, quarter)
        self._require_region(principal, region)
        show_full = self._full(principal, full)
        groups: dict[str, list[FilingRecord]] = {}
        with self._uow() as uow:
            for _state, record, _filed in uow.filings.filed_versions(
                region_prefix(region), first, last
            ):
                if not _listed_in_annex2(record):
                    continue
                groups.setdefault(self._prefecture(record.insured_region_code or ""), []).append(
                    record
                )
            total = sum(len(v) for v in groups.values())
            self._audit(
                uow,
                principal,
                "filing.export",
                f"quarterly:{region}",
                f"{year}Q{quarter} {total}行 {'明文' if show_full else '脱敏'}",
                address,
            )
            uow.commit()
        columns = (*ANNEX2_COLUMNS, "登记类别")
        tables = [
            Annex2Table(
                code,
                self._region_name(code),
                f"{year}年第{quarter}季度新增（变更）备案人员",
                columns,
                [
                    (
                        *annex2_row(record, serial, self._regions, mask=not show_full),
                        record.registration_type.label_zh,
                    )
                    for serial, record in enumerate(records, start=1)
                ],
                not show_full,
            )
            for code, records in sorted(groups.items())
        ]
        return QuarterlyList(region, year, quarter, first, last, tables, not show_full)

    # --- 地市报送情况 and the 报盘 batches ---------------------------------------------------

    def _require_office(self, principal: Principal) -> str:
        """The offices' pages: the caller's region, or Forbidden for every other role."""
        principal.require(Action.FILING_EXPORT)
        if principal.role not in (Role.AGENCY_HANDLER, Role.PROVINCE_OFFICER) or not (
            principal.region_code
        ):
            raise Forbidden(
                "ACCESS_DENIED",
                f"{principal.role.label_zh}无权查看报送情况",
                f"role {principal.role.value} may not read the submissions",
            )
        return principal.region_code

    def report_rows(self, principal: Principal) -> list[tuple[str, str]]:
        """(code, name) of the table's rows: a province officer's prefectures (Henan: the 17
        省辖市 and 济源, then 省直); an agency handler's own region only."""
        region = self._require_office(principal)
        if principal.role is not Role.PROVINCE_OFFICER or not self._is_province(region):
            return [(region, self._region_name(region))]
        below = [
            d
            for d in self._regions.children(region)
            if d.level is DivisionLevel.PREFECTURE
            or (d.level is DivisionLevel.COUNTY and not self._regions.children(d.code))
        ]
        rows = [(d.code, d.name) for d in below]
        rows.append((region, PROVINCE_LEVEL_NAME))
        return rows

    def _is_province(self, region: str) -> bool:
        return (
            self._regions.exists(region)
            and self._regions.get(region).level is DivisionLevel.PROVINCE
        )

    def _row_of(self, principal: Principal, insured_region: str, codes: set[str]) -> str:
        """Which row of the table an insured region is counted in."""
        region = principal.region_code or ""
        if len(codes) == 1:
            return region
        if insured_region in codes:
            return insured_region  # a county run by the province (济源)
        if self._regions.exists(insured_region):
            prefecture = self._regions.prefecture_of(insured_region)
            if prefecture is not None and prefecture.code in codes:
                return prefecture.code
        return region  # the province itself, its 9900 pool, or a code the list no longer has

    def submissions(
        self, principal: Principal, first_day: dt.date, last_day: dt.date
    ) -> SubmissionsReport:
        """地市报送情况 for the period: per prefecture, the filings by state and by source, the
        new and changed ones, the last submission and import, open emergency filings near or
        past their deadline (as of today). Numbers only: nothing personal, no audit entry."""
        rows_wanted = self.report_rows(principal)
        region = principal.region_code or ""
        if last_day < first_day:
            raise InvalidInput(
                "PERIOD_INVALID", "截止日期不能早于起始日期", "to is before from", field="period"
            )
        start_at = dt.datetime.combine(first_day, dt.time(), CHINA_TZ)
        end_at = dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time(), CHINA_TZ)
        prefix = region_prefix(region)
        today = self._clock.today()
        emergency = FilingQuery(
            states=(FilingState.DRAFT, FilingState.REJECTED),
            category=FilingCategory.EMERGENCY,
            region_prefix=prefix,
        )
        with self._uow() as uow:
            activity = uow.filings.activity_by_region(prefix, start_at, end_at, first_day, last_day)
            open_emergency = [
                (row.insured_region_code, record)
                for row, record in uow.filings.iter_records(emergency)
            ]
        codes = {code for code, _name in rows_wanted}
        grouped: dict[str, list[RegionActivity]] = {code: [] for code in codes}
        for found in activity:
            grouped[self._row_of(principal, found.region_code, codes)].append(found)
        near: dict[str, int] = dict.fromkeys(codes, 0)
        late: dict[str, int] = dict.fromkeys(codes, 0)
        for insured_region, record in open_emergency:
            status = _deadline_status(record, today, self._calendar)
            if status == "near":
                near[self._row_of(principal, insured_region, codes)] += 1
            elif status == "late":
                late[self._row_of(principal, insured_region, codes)] += 1
        rows = [
            _activity_row(code, name, grouped[code], near[code], late[code])
            for code, name in rows_wanted
        ]
        return SubmissionsReport(
            region,
            self._region_name(region),
            first_day,
            last_day,
            today,
            rows,
            _sum_rows(region, "合计", rows),
        )

    def import_batches(
        self,
        principal: Principal,
        *,
        region: str | None = None,
        from_on: dt.date | None = None,
        to_on: dt.date | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> ImportBatchPage:
        """Past 报盘 batches by the region they were submitted for, newest first: a province
        officer's whole province (or one prefecture, or the province's own batches when
        ``region`` is the province), an agency handler's own region. Command-line batches
        count like any other."""
        own = self._require_office(principal)
        region_filter: str | None = None
        exact: str | None = None
        if region:
            self._require_region(principal, region)
            if region == own and principal.role is Role.PROVINCE_OFFICER:
                exact = region
            else:
                region_filter = region_prefix(region)
        if from_on and to_on and to_on < from_on:
            raise InvalidInput(
                "PERIOD_INVALID", "截止日期不能早于起始日期", "to is before from", field="to"
            )
        start_at = dt.datetime.combine(from_on, dt.time(), CHINA_TZ) if from_on else None
        end_at = (
            dt.datetime.combine(to_on + dt.timedelta(days=1), dt.time(), CHINA_TZ)
            if to_on
            else None
        )
        with self._uow() as uow:
            total, items = uow.filings.import_batches(
                region_prefix(own),
                region_prefix=region_filter,
                exact_region=exact,
                start_at=start_at,
                end_at=end_at,
                limit=max(1, min(limit, 200)),
                offset=max(0, offset),
            )
        return ImportBatchPage(total, items)

    def import_batch_report(
        self, principal: Principal, batch_id: int, *, address: str = ""
    ) -> ImportBatchReport:
        """One batch's stored report (audited ``filing.import_report_read``: its rows name
        persons). Another region's batch answers like a missing one; ID numbers are masked."""
        self._require_office(principal)
        with self._uow() as uow:
            found = uow.filings.import_batch_by_id(batch_id)
            if found is None or not principal.covers_region(found[0].region_code):
                raise hidden("报盘批次", "import_batch")
            batch, stored = found
            self._audit(
                uow,
                principal,
                "filing.import_report_read",
                f"import:{batch.file_sha256[:16]}",
                batch.filename,
                address,
            )
            uow.commit()
        report = ImportReport.from_dict(stored, replayed=False)
        report.errors = [
            {**error, "message": mask_id_numbers_in(str(error.get("message") or ""))}
            for error in report.errors
        ]
        report.conflicts = [
            {**conflict, "id_number": mask_id_number(str(conflict.get("id_number") or ""))}
            if "*" not in str(conflict.get("id_number") or "")
            else conflict
            for conflict in report.conflicts
        ]
        return ImportBatchReport(batch, report)

    def _prefecture(self, code: str) -> str:
        if not self._regions.exists(code):
            return code[:4] + "00"
        prefecture = self._regions.prefecture_of(code)
        return prefecture.code if prefecture is not None else code


def _deadline_status(record: FilingRecord, today: dt.date, calendar: WorkingDayCalendar) -> str:
    """ "late", "near" or "" for an open emergency filing (the 3-working-day rule)."""
    if record.admitted_on is None:
        return ""
    try:
        deadline = emergency_deadline(record, rule_for(FilingCategory.EMERGENCY), calendar)
        if deadline is None:
            return ""
        if deadline < today:
            return "late"
        left = calendar.working_days_between(today, deadline)
    except CalendarYearUnsupported:
        return ""
    return "near" if left <= EMERGENCY_NEAR_WORKING_DAYS else ""


def _activity_row(
    code: str, name: str, found: Sequence[RegionActivity], near: int, late: int
) -> SubmissionsRow:
    return SubmissionsRow(
        code,
        name,
        {state: sum(a.by_state[state.value] for a in found) for state in _STATES},
        sum(a.by_source["counter"] for a in found),
        sum(a.by_source["import"] for a in found),
        sum(a.new for a in found),
        sum(a.changed for a in found),
        _latest([a.last_submitted_at for a in found]),
        _latest([a.last_imported_at for a in found]),
        near,
        late,
    )


class ParsedRow(NamedTuple):
    """One batch-file row after validation: errors, or the values to store (cheap to pickle)."""

    line: int
    errors: list[RowError] | None
    region: str = ""
    id_number: str = ""
    name: str = ""
    category: str | None = None
    version: int = 1
    registration_type: str = "1"
    record_json: str = ""
    key: str = ""


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
        if isinstance(parsed, list):
            parsed_rows.append(ParsedRow(line, parsed))
            continue
        version = 1
        if version_index is not None and version_index < width:
            text = cells[version_index].strip()
            if text and (not text.isdigit() or not 1 <= int(text) <= 999):
                error = RowError(
                    line, VERSION_COLUMN, "IMPORT_VERSION_FORMAT", "版本号应为1至999的整数"
                )
                parsed_rows.append(ParsedRow(line, [error]))
                continue
            version = int(text) if text else 1
        if version != 1:
            parsed = _with_version(parsed, version)
        parsed_rows.append(
            ParsedRow(
                line,
                None,
                parsed.insured_region_code or "",
                parsed.social_security_number or "",
                parsed.name or "",
                parsed.category.value if parsed.category else None,
                version,
                parsed.registration_type.value,
                record_json(parsed),
                _key(parsed, version),
            )
        )
    return parsed_rows


def _ordered_ids(now: dt.datetime) -> Iterator[str]:
    """32-hex ids that grow in insertion order (time prefix + counter + random tail).

    Index pages then fill at the end instead of at random places, which keeps a
    million-row import fast; the random tail keeps concurrent imports apart.
    """
    prefix = f"{int(now.timestamp() * 1000):012x}"
    tail = secrets.token_hex(5)
    counter = 0
    while True:
        counter += 1
        yield f"{prefix}{counter:010x}{tail}"


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


def _parsed_chunks(
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


def table_as_dicts(table: Annex2Table) -> list[dict[str, str]]:
    return [dict(zip(table.columns, row, strict=True)) for row in table.rows]
