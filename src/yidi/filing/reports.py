"""Read side of the provincial filing database: 附件2, the quarterly list, the submissions.

* :meth:`FilingReports.annex2` — 附件2 基本医疗保险异地居住人员备案信息汇总表 for a region
  and a period (rendered as XLSX by :mod:`yidi.reports.annex2_xlsx`, as JSON by
  :func:`table_as_dicts`).
* :meth:`FilingReports.quarterly` — 每季度末新增（变更）备案人员信息, per prefecture.
* :meth:`FilingReports.current_layout` — 备案记录（现行版式）: every class and type of the
  2022 model, with promise, validity, lock and deadlines (CSV/XLSX by
  :mod:`yidi.reports.annex2_xlsx`), beside the 2017 Henan 附件2.
* :meth:`FilingReports.submissions` — 地市报送情况; :meth:`FilingReports.import_batches` and
  :meth:`FilingReports.import_batch_report` — the stored 报盘 batches.

Exports and batch reports name persons: each is audited.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Final

from yidi.filing.model.annex import ANNEX2_COLUMNS, annex2_row
from yidi.filing.model.current_layout import CURRENT_LAYOUT_COLUMNS, current_layout_row
from yidi.filing.model.lifecycle import FilingState, emergency_deadline
from yidi.filing.model.record import FilingRecord
from yidi.filing.model.rules import rule_for
from yidi.filing.ports import (
    REPORTED_STATES,
    FilingQuery,
    FilingRow,
    ImportBatchRow,
    ImportReport,
    RegionActivity,
)
from yidi.filing.region_rules import region_filing_rules
from yidi.filing.scope import FilingUseCases, require_region
from yidi.kernel.access import Action, Principal, Role, hidden
from yidi.kernel.clock import CHINA_TZ
from yidi.kernel.errors import Forbidden, InvalidInput, YidiError
from yidi.kernel.insurance import FilingCategory
from yidi.kernel.privacy import mask_id_number
from yidi.kernel.regions import DivisionLevel, region_prefix
from yidi.kernel.workdays import CalendarYearUnsupported, WorkingDayCalendar
from yidi.policy.national import FilingModel, national_model

#: The states of a handled filing (the current-layout record lists them with their state).
HANDLED_STATES: Final = (FilingState.APPROVED, FilingState.EXPIRED, FilingState.CANCELLED)


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


#: 附件2 lists 异地居住人员 (its note 2: categories 1-3), and rows imported without a category.
ANNEX2_CATEGORIES: Final = tuple(c.value for c in FilingCategory if c.is_residence_based)


@dataclass(frozen=True)
class Annex2Stream:
    """附件2's head (``table`` without rows), how many rows follow, and the rows."""

    table: Annex2Table
    total: int
    rows: Iterator[tuple[str, ...]]


@dataclass(frozen=True)
class QuarterlyStream:
    """The quarterly list as (prefecture, row) pairs, prefecture by prefecture;
    ``table(code)`` is a prefecture's head. ``total`` bounds the rows (the versions filed)."""

    region_code: str
    year: int
    quarter: int
    first_day: dt.date
    last_day: dt.date
    masked: bool
    total: int
    rows: Iterator[tuple[str, tuple[str, ...]]]
    table: Callable[[str], Annex2Table]


@dataclass(frozen=True)
class QuarterlyPage:
    """One page of the quarterly list on screen (always masked): the page's rows under their
    prefecture's table head, each prefecture with its whole count; ``total`` is the list's."""

    region_code: str
    year: int
    quarter: int
    first_day: dt.date
    last_day: dt.date
    total: int
    offset: int
    tables: list[tuple[Annex2Table, int]]  # (a prefecture's table with its rows here, its count)


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


def _listed_in_annex2(record: FilingRecord) -> bool:
    # 附件2 lists 异地居住人员 (its note 2: categories 1-3); rows imported without a category too.
    return record.category is None or record.category.is_residence_based


def may_export_full(principal: Principal) -> bool:
    """Whether a role may ask 附件2 in full (明文, audited): offices that read full records."""
    return principal.role in (
        Role.AGENCY_HANDLER,
        Role.PROVINCE_OFFICER,
    ) and principal.may(Action.FILING_READ)


class FilingReports(FilingUseCases):
    """附件2, the quarterly list, 地市报送情况 and the stored 报盘 batches."""

    def _require_region(self, principal: Principal, region: str) -> None:
        require_region(self._regions, principal, region)

    def require_export(self, principal: Principal, region: str) -> None:
        """What an export job checks before it is queued: the role may export and the region
        is a known one within the caller's scope (``REGION_UNKNOWN``, ``ACCESS_DENIED`` …)."""
        principal.require(Action.FILING_EXPORT)
        self._require_region(principal, region)

    def _region_name(self, region: str) -> str:
        return self._regions.get(region).name if self._regions.exists(region) else "全部"

    def _full(self, principal: Principal, full: bool | None) -> bool:
        # Province officers build the provincial database: full by default. Agencies see masked
        # data unless they ask for full data (报盘 to the province), which is audited like any export.
        return principal.role is Role.PROVINCE_OFFICER if full is None else full

    def annex2(
        self,
        principal: Principal,
        region: str,
        from_on: dt.date,
        to_on: dt.date,
        *,
        full: bool | None = None,
    ) -> Annex2Table:
        """Approved 异地居住 filings of ``region`` filed between the two days (inclusive)."""
        stream = self.annex2_stream(principal, region, from_on, to_on, full=full)
        return dataclasses.replace(stream.table, rows=list(stream.rows))

    def annex2_stream(
        self,
        principal: Principal,
        region: str,
        from_on: dt.date,
        to_on: dt.date,
        *,
        full: bool | None = None,
    ) -> Annex2Stream:
        """:meth:`annex2` as rows read one by one (an export job: memory stays flat).

        The export is audited when it starts, with the number of rows it will write."""
        principal.require(Action.FILING_EXPORT)
        self._require_region(principal, region)
        if to_on < from_on:
            raise InvalidInput(
                "PERIOD_INVALID", "截止日期不能早于起始日期", "to is before from", field="to"
            )
        show_full = self._full(principal, full)
        terms = (region_prefix(region), from_on, to_on, ANNEX2_CATEGORIES)
        with self._uow() as uow:
            total = uow.filings.count_annex2_records(*terms)
            self._audit(
                uow,
                principal,
                "filing.export",
                f"annex2:{region}",
                f"{from_on}~{to_on} {total}行 {'明文' if show_full else '脱敏'}",
            )
            uow.commit()

        def rows() -> Iterator[tuple[str, ...]]:
            with self._uow() as uow:
                for serial, record in enumerate(uow.filings.annex2_records(*terms), start=1):
                    yield annex2_row(record, serial, self._regions, mask=not show_full)

        table = Annex2Table(
            region,
            self._region_name(region),
            f"{from_on.isoformat()} 至 {to_on.isoformat()}",
            ANNEX2_COLUMNS,
            [],
            not show_full,
        )
        return Annex2Stream(table, total, rows())

    def current_layout(
        self,
        principal: Principal,
        region: str,
        from_on: dt.date,
        to_on: dt.date,
        *,
        full: bool | None = None,
    ) -> Annex2Table:
        """备案记录（现行版式）: the filings of ``region`` handled between the two days
        (inclusive), of every class and type, approved, expired or cancelled, each under the
        national model (and the insured region's choices) of its handling day."""
        principal.require(Action.FILING_EXPORT)
        self._require_region(principal, region)
        if to_on < from_on:
            raise InvalidInput(
                "PERIOD_INVALID", "截止日期不能早于起始日期", "to is before from", field="to"
            )
        show_full = self._full(principal, full)
        # The list's ordered read: it carries each filing's latest submission (the channel).
        query = FilingQuery(
            states=HANDLED_STATES, region_prefix=region_prefix(region), sort="region"
        )
        today = self._clock.today()
        with self._uow() as uow:
            found = [
                (row, record)
                for row, record in uow.filings.iter_ordered(query)
                if record.handled_on is not None and from_on <= record.handled_on <= to_on
            ]
            found.sort(key=lambda f: (f[1].insured_region_code or "", f[1].handled_on, f[0].id))
            rows = [
                current_layout_row(
                    record,
                    serial,
                    self._regions,
                    _model_of(record),
                    state=row.state,
                    online=_online(row),
                    today=today,
                    mask=not show_full,
                )
                for serial, (row, record) in enumerate(found, start=1)
            ]
            self._audit(
                uow,
                principal,
                "filing.export",
                f"current_layout:{region}",
                f"{from_on}~{to_on} {len(rows)}行 {'明文' if show_full else '脱敏'}",
            )
            uow.commit()
        return Annex2Table(
            region,
            self._region_name(region),
            f"经办日期 {from_on.isoformat()} 至 {to_on.isoformat()}",
            CURRENT_LAYOUT_COLUMNS,
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
    ) -> QuarterlyList:
        """每季度末新增（变更）备案人员信息: versions filed in the quarter, one table per prefecture."""
        stream = self.quarterly_stream(principal, region, year, quarter, full=full)
        groups: dict[str, list[tuple[str, ...]]] = {}
        for prefecture, row in stream.rows:
            groups.setdefault(prefecture, []).append(row)
        tables = [
            dataclasses.replace(stream.table(code), rows=rows)
            for code, rows in sorted(groups.items())
        ]
        return QuarterlyList(
            region, year, quarter, stream.first_day, stream.last_day, tables, stream.masked
        )

    def quarterly_stream(
        self,
        principal: Principal,
        region: str,
        year: int,
        quarter: int,
        *,
        full: bool | None = None,
    ) -> QuarterlyStream:
        """:meth:`quarterly` as (prefecture, row) pairs in prefecture order, read one by one;
        the serial starts again at 1 in each prefecture. Audited when it starts."""
        principal.require(Action.FILING_EXPORT)
        first, last = quarter_bounds(year, quarter)
        self._require_region(principal, region)
        show_full = self._full(principal, full)
        prefix = region_prefix(region)
        with self._uow() as uow:
            # The versions of the period, listed or not: the count bounds the progress bar.
            total = uow.filings.count_filed_versions(prefix, first, last)
            self._audit(
                uow,
                principal,
                "filing.export",
                f"quarterly:{region}",
                f"{year}Q{quarter} ≤{total}行 {'明文' if show_full else '脱敏'}",
            )
            uow.commit()

        def rows() -> Iterator[tuple[str, tuple[str, ...]]]:
            serials: dict[str, int] = {}
            with self._uow() as uow:
                for _state, record, _filed in uow.filings.filed_versions(prefix, first, last):
                    if not _listed_in_annex2(record):
                        continue
                    code = self._prefecture(record.insured_region_code or "")
                    serials[code] = serial = serials.get(code, 0) + 1
                    row = annex2_row(record, serial, self._regions, mask=not show_full)
                    yield code, (*row, record.registration_type.label_zh)

        def table(code: str) -> Annex2Table:
            return Annex2Table(
                code,
                self._region_name(code),
                f"{year}年第{quarter}季度新增（变更）备案人员",
                (*ANNEX2_COLUMNS, "登记类别"),
                [],
                not show_full,
            )

        return QuarterlyStream(
            region, year, quarter, first, last, not show_full, total, rows(), table
        )

    def quarterly_page(
        self,
        principal: Principal,
        region: str,
        year: int,
        quarter: int,
        *,
        limit: int,
        offset: int,
    ) -> QuarterlyPage:
        """One page of :meth:`quarterly` (masked), paged by the database: a grouped count
        and the page's rows, two statements whatever the number of versions. An offset past
        the end gives the last page. The serials are the download's (per prefecture)."""
        principal.require(Action.FILING_EXPORT)
        first, last = quarter_bounds(year, quarter)
        self._require_region(principal, region)
        prefix = region_prefix(region)
        limit = max(1, min(limit, 500))
        with self._uow() as uow:
            counts = uow.filings.listed_version_counts(prefix, first, last, ANNEX2_CATEGORIES)
            total = sum(count for _code, count in counts)
            if offset >= total:
                offset = max(0, (total - 1) // limit * limit)
            offset = max(0, offset)
            records = (
                uow.filings.listed_versions_page(
                    prefix, first, last, ANNEX2_CATEGORIES, limit=limit, offset=offset
                )
                if total
                else []
            )
            self._audit(
                uow,
                principal,
                "filing.export",  # a page of the list names persons, like its download
                f"quarterly:{region}",
                f"{year}Q{quarter} 页面 第{offset + 1}起{len(records)}行 脱敏",
            )
            uow.commit()
        # The serial of the page's first row: the listed versions before it in its prefecture.
        per_prefecture: dict[str, int] = {}
        before: dict[str, int] = {}
        seen = 0
        for code, count in counts:
            prefecture = self._prefecture(code)
            if seen < offset:
                before[prefecture] = before.get(prefecture, 0) + min(count, offset - seen)
            per_prefecture[prefecture] = per_prefecture.get(prefecture, 0) + count
            seen += count
        tables: dict[str, list[tuple[str, ...]]] = {}
        for record in records:
            code = self._prefecture(record.insured_region_code or "")
            before[code] = serial = before.get(code, 0) + 1
            row = annex2_row(record, serial, self._regions, mask=True)
            tables.setdefault(code, []).append((*row, record.registration_type.label_zh))
        heading = f"{year}年第{quarter}季度新增（变更）备案人员"
        return QuarterlyPage(
            region,
            year,
            quarter,
            first,
            last,
            total,
            offset,
            [
                (
                    Annex2Table(
                        code,
                        self._region_name(code),
                        heading,
                        (*ANNEX2_COLUMNS, "登记类别"),
                        rows,
                        True,
                    ),
                    per_prefecture.get(code, len(rows)),
                )
                for code, rows in tables.items()
            ],
        )

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

    def import_batch_report(self, principal: Principal, batch_id: int) -> ImportBatchReport:
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
            )
            uow.commit()
        report = dataclasses.replace(stored)  # a copy: the masked lists replace the stored ones
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


def _model_of(record: FilingRecord) -> FilingModel | None:
    """The national model of the handling day, with the insured region's choices that day."""
    day = record.handled_on
    if day is None:
        return None
    try:
        return national_model(day, region_filing_rules(record, day))
    except YidiError:  # a region file the check would refuse: the national rule stands
        return national_model(day)


def _online(row: FilingRow) -> bool | None:
    return None if row.submitted_at is None else row.submitted_online


def table_as_dicts(table: Annex2Table) -> list[dict[str, str]]:
    return [dict(zip(table.columns, row, strict=True)) for row in table.rows]
