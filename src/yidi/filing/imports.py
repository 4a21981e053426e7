"""报盘 import (豫人社办函〔2017〕63号 §3, §5): a 附件2 batch file into the provincial database.

:meth:`FilingImports.import_annex2` — every row is validated; good rows are imported,
bad rows come back in a row-by-row report. Importing the same file again replays the
first report (by file sha256); importing the same rows in another file changes nothing
either (each row's key: ID number, insured region, category, version). Persons filed by
more than one prefecture are listed as conflicts and never merged. Rows are written
in batches (executemany on SQLite, COPY into a staging table and INSERT … SELECT on
PostgreSQL); stored rows are looked up by each batch's own keys.
Reading and validating the file is :mod:`yidi.filing.import_files`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import secrets
from collections.abc import Callable, Iterator, Sequence
from typing import Final

from yidi.filing.import_files import (
    INSURED_REGION_COLUMN,
    VERSION_COLUMN,
    ParsedRow,
    annex2_table_rows,
    parsed_chunks,
)
from yidi.filing.model.annex import ANNEX2_COLUMNS, RowError
from yidi.filing.ports import (
    FilingUnitOfWork,
    ImportedBy,
    ImportedFiling,
    ImportReport,
    StoredConcurrently,
)
from yidi.filing.scope import (
    LIVE_STATES,
    SYSTEM_REGION,
    FilingUseCases,
    require_region,
)
from yidi.kernel.access import Action, Principal
from yidi.kernel.errors import Conflict, InvalidInput
from yidi.kernel.privacy import mask_id_number

MAX_REPORTED_ERRORS: Final = 10_000
MAX_REPORTED_CONFLICTS: Final = 1_000
PARALLEL_MIN_BYTES: Final = (
    4 * 1024 * 1024
)  # about 25,000 rows: below this a worker costs more than it saves


class FilingImports(FilingUseCases):
    """报盘: a batch file into the provincial filing database."""

    def import_annex2(
        self,
        principal: Principal,
        data: bytes,
        filename: str,
        *,
        progress: Callable[[int], None] | None = None,
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
            require_region(self._regions, principal, region, importing=True)
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
                )
                uow.commit()
                return dataclasses.replace(previous.report, replayed=True)
            submitted_for = self._submission_region(principal, region, data, filename)
            header, rows = annex2_table_rows(data, filename)
            report = ImportReport(digest, filename)
            try:
                with uow.filings.savepoint():
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
            except StoredConcurrently:
                # A concurrent import wrote the same rows (import keys) first and committed.
                return self._concurrent_import(uow, principal, digest, filename)
            try:
                with uow.filings.savepoint():
                    uow.filings.record_import_batch(report, now, principal.user_id, submitted_for)
            except StoredConcurrently:
                raise Conflict(
                    "IMPORT_IN_PROGRESS",
                    "同一文件正在被另一个任务导入，请稍后查看结果",
                    "the same file is being imported concurrently",
                ) from None
            if report.imported:
                uow.filings.refresh_statistics()
            self._audit(
                uow,
                principal,
                "filing.import",
                f"import:{digest[:16]}",
                f"{filename} 共{report.total_rows}行 导入{report.imported} 重复{report.duplicates} 退回{report.rejected}",
            )
            uow.commit()
        return report

    def _concurrent_import(
        self, uow: FilingUnitOfWork, principal: Principal, digest: str, filename: str
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
        self._audit(uow, principal, "filing.import_replay", f"import:{digest[:16]}", filename)
        uow.commit()
        return dataclasses.replace(previous.report, replayed=True)

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
        uow: FilingUnitOfWork,
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
        imported_by = ImportedBy(
            principal.user_id,
            principal.role.value,
            now,
            now.date(),
            f"报盘导入：{report.filename}"[:500],
        )

        def reject(errors: Sequence[RowError], row: ParsedRow) -> None:
            report.rejected += 1
            for error in errors:
                if len(report.errors) < MAX_REPORTED_ERRORS:
                    report.errors.append(
                        {
                            "row": error.row_number,
                            "serial": row.serial,
                            "name": row.person,
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

        new_id = _ordered_ids(now)

        def flush() -> None:
            # Stored rows are looked up by the batch's own keys and ID numbers (indexed), so an
            # import's time does not grow with the database. Rows of earlier batches of this
            # file are already settled by seen_keys and first_place above.
            if not batch:
                return
            stored_keys = uow.filings.stored_import_keys([row.key for row in batch])
            fresh = [row for row in batch if row.key not in stored_keys]
            stored_places = uow.filings.live_prefectures_of(
                sorted({row.id_number for row in fresh}), LIVE_STATES
            )
            report.duplicates += len(batch) - len(fresh)
            for row in fresh:
                places = stored_places.get(row.id_number)
                if places is None or row.id_number in conflicted:
                    continue
                others = sorted(p for p in places if p[:4] != row.region[:4])
                if others:
                    conflicted.add(row.id_number)
                    conflict(row.id_number, [row.region, *others], [row.line])
            stored: list[ImportedFiling] = []
            for row in fresh:
                lineage_id, version_id = next(new_id), next(new_id)
                stored.append(
                    ImportedFiling(
                        lineage_id=lineage_id,
                        version_id=version_id,
                        version=row.version,
                        insured_region_code=row.region,
                        id_number=row.id_number,
                        name=row.name,
                        category=row.category,
                        registration_type=row.registration_type,
                        record_json=row.record_json,
                        import_key=row.key,
                        missing_fields=row.missing_fields,
                    )
                )
            uow.filings.bulk_insert_imported(stored, imported_by)
            report.imported += len(fresh)
            batch.clear()

        for parsed_chunk in parsed_chunks(columns, version_index, rows, parallel=parallel):
            for row in parsed_chunk:
                report.total_rows += 1
                if row.errors:
                    reject(row.errors, row)
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
                        ],
                        row,
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
