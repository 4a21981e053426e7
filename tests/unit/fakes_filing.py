"""An in-memory unit of work for the filing use cases (the ports of ``yidi.filing.ports``).

Each ``with uow:`` works on a copy of the committed state; ``commit()`` publishes it and
leaving without a commit drops it, like the SQL unit of work. The stores keep the rules the
database keeps for the use cases: one live counter filing per person, category and insured
region; one stored batch per file; unique import keys; filing numbers per region and year.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self

from yidi.filing.model.change_requests import ChangeRequest, ChangeRequestState
from yidi.filing.model.lifecycle import Filing, FilingAction, FilingEvent, FilingState
from yidi.filing.model.record import FilingRecord
from yidi.filing.ports import (
    ChangeRequestQuery,
    FilingQuery,
    FilingRow,
    ImportBatch,
    ImportBatchRow,
    ImportedBy,
    ImportedFiling,
    ImportReport,
    JobChange,
    JobRow,
    RegionActivity,
    StoredConcurrently,
    StoredFiling,
    VersionRow,
    duplicate_filing,
    pending_conflict,
)
from yidi.filing.record_json import record_from_json
from yidi.filing.scope import LIVE_STATES
from yidi.kernel.audit import AuditEntry
from yidi.kernel.errors import Conflict
from yidi.reference.model import Agency


@dataclass(frozen=True)
class Lineage:
    current_version_id: str
    source: str
    created_at: dt.datetime
    updated_at: dt.datetime
    import_key: str | None = None


@dataclass
class FakeState:
    lineages: dict[str, Lineage] = field(default_factory=dict)
    versions: dict[str, tuple[str, Filing]] = field(default_factory=dict)  # id -> (lineage, v)
    numbers: dict[tuple[str, int], int] = field(default_factory=dict)
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    batches: list[tuple[ImportBatchRow, ImportReport]] = field(default_factory=list)
    change_requests: dict[str, ChangeRequest] = field(default_factory=dict)
    jobs: dict[str, JobRow] = field(default_factory=dict)
    audit: list[AuditEntry] = field(default_factory=list)
    idempotency: dict[tuple[str, str], tuple[str, Mapping[str, str]]] = field(default_factory=dict)
    agencies: list[Agency] = field(default_factory=list)
    # 报盘 versions are filed on the day they are stored (the record keeps the file's fields).
    imported_filed_on: dict[str, dt.date] = field(default_factory=dict)
    commits: int = 0
    statistics_refreshed: int = 0


def _filed_on(filing: Filing) -> dt.date | None:
    if filing.state in (FilingState.APPROVED, FilingState.SUPERSEDED, FilingState.EXPIRED):
        return filing.record.handled_on
    return None


def _starts(code: str | None, prefix: str | None) -> bool:
    return prefix is None or (code or "").startswith(prefix)


class FakeFilingStore:
    def __init__(self, state: FakeState) -> None:
        self._s = state

    # --- writing -----------------------------------------------------------------------

    def _refuse_second_live(self, filing: Filing, source: str) -> None:
        if source != "counter" or filing.state not in LIVE_STATES:
            return
        mine = filing.record
        for lineage_id, lineage in self._s.lineages.items():
            if lineage_id == filing.lineage_id or lineage.source != "counter":
                continue
            other = self._current(lineage_id)
            if (
                other.state in LIVE_STATES
                and (other.record.social_security_number or "").upper()
                == (mine.social_security_number or "").upper()
                and other.record.insured_region_code == mine.insured_region_code
                and other.record.category == mine.category
            ):
                raise duplicate_filing(lineage_id)

    def _filed(self, filing: Filing) -> dt.date | None:
        return self._s.imported_filed_on.get(filing.filing_id) or _filed_on(filing)

    def add(self, filing: Filing, at: dt.datetime, *, source: str = "counter") -> None:
        self._refuse_second_live(filing, source)
        self._s.versions[filing.filing_id] = (filing.lineage_id, filing)
        self._s.lineages[filing.lineage_id] = Lineage(filing.filing_id, source, at, at)

    def save(self, filing: Filing, at: dt.datetime) -> None:
        self._s.versions[filing.filing_id] = (filing.lineage_id, filing)
        self._s.imported_filed_on.pop(filing.filing_id, None)
        if filing.superseded_by is None:
            lineage = self._s.lineages[filing.lineage_id]
            self._refuse_second_live(filing, lineage.source)
            self._s.lineages[filing.lineage_id] = dataclasses.replace(
                lineage, current_version_id=filing.filing_id, updated_at=at
            )

    # --- reading -----------------------------------------------------------------------

    def _current(self, lineage_id: str) -> Filing:
        return self._s.versions[self._s.lineages[lineage_id].current_version_id][1]

    def _stored(self, lineage_id: str) -> StoredFiling:
        lineage = self._s.lineages[lineage_id]
        filing = self._current(lineage_id)
        return StoredFiling(
            filing, lineage.source, lineage.created_at, lineage.updated_at, self._filed(filing)
        )

    def get(self, lineage_id: str, *, for_update: bool = False) -> StoredFiling | None:
        return self._stored(lineage_id) if lineage_id in self._s.lineages else None

    def by_number(self, filing_number: str, *, for_update: bool = False) -> StoredFiling | None:
        for lineage_id in self._s.lineages:
            if self._current(lineage_id).record.filing_number == filing_number:
                return self._stored(lineage_id)
        return None

    def versions(self, lineage_id: str) -> list[VersionRow]:
        mine = [v for owner, v in self._s.versions.values() if owner == lineage_id]
        return [
            VersionRow(v.filing_id, v.record.version, v.state, v.record, self._filed(v))
            for v in sorted(mine, key=lambda v: v.record.version)
        ]

    def version(self, version_id: str, lineage_id: str) -> Filing:
        owner, filing = self._s.versions[version_id]
        assert owner == lineage_id
        return filing

    def _row(self, lineage_id: str) -> FilingRow:
        lineage = self._s.lineages[lineage_id]
        filing = self._current(lineage_id)
        record = filing.record
        return FilingRow(
            id=lineage_id,
            filing_number=record.filing_number,
            state=filing.state,
            version=record.version,
            name=record.name or "",
            id_number=(record.social_security_number or "").upper(),
            insured_region_code=record.insured_region_code or "",
            category=record.category,
            source=lineage.source,
            updated_at=lineage.updated_at,
            filed_on=self._filed(filing),
        )

    def _matches(self, query: FilingQuery) -> list[tuple[FilingRow, FilingRecord]]:
        found = []
        for lineage_id in sorted(self._s.lineages):
            row = self._row(lineage_id)
            if (
                (query.id_number and row.id_number != query.id_number.strip().upper())
                or (query.name and row.name != query.name.strip())
                or (query.filing_number and row.filing_number != query.filing_number.upper())
                or (query.states and row.state not in query.states)
                or (query.category and row.category is not query.category)
                or not _starts(row.insured_region_code, query.region_prefix)
                or (
                    query.own_id_number is not None and row.id_number != query.own_id_number.upper()
                )
                or (query.name_prefix and not row.name.startswith(query.name_prefix.strip()))
                or (
                    query.id_number_tail
                    and not row.id_number.endswith(query.id_number_tail.strip().upper())
                )
                or (
                    query.filing_number_prefix
                    and not (row.filing_number or "").startswith(
                        query.filing_number_prefix.strip().upper()
                    )
                )
            ):
                continue
            found.append((row, self._current(lineage_id).record))
        return found

    def search(self, query: FilingQuery) -> tuple[int, list[tuple[FilingRow, FilingRecord]]]:
        found = sorted(self._matches(query), key=lambda f: (-f[0].updated_at.timestamp(), f[0].id))
        return len(found), found[query.offset : query.offset + query.limit]

    def iter_records(
        self, query: FilingQuery, *, batch: int = 5000
    ) -> Iterable[tuple[FilingRow, FilingRecord]]:
        return self._matches(query)

    def current_for_person(self, id_number: str, states: Sequence[FilingState]) -> list[Filing]:
        return [
            filing
            for lineage_id in self._s.lineages
            if (filing := self._current(lineage_id)).state in states
            and (filing.record.social_security_number or "").upper() == id_number.upper()
        ]

    def due_to_expire(self, today: dt.date) -> list[str]:
        return [
            lineage_id
            for lineage_id in self._s.lineages
            if (filing := self._current(lineage_id)).state is FilingState.APPROVED
            and filing.record.valid_until is not None
            and filing.record.valid_until < today
        ]

    def promises_overdue(self, today: dt.date, region_prefix: str = "") -> list[str]:
        return [
            lineage_id
            for lineage_id in sorted(self._s.lineages)
            if (record := (filing := self._current(lineage_id)).record).promise_documents_due_on
            and filing.state is FilingState.APPROVED
            and _starts(record.insured_region_code, region_prefix)
            and record.promise_documents_supplied_on is None
            and record.promise_documents_due_on < today
        ]

    def annex2_records(
        self,
        region_prefix: str,
        from_on: dt.date,
        to_on: dt.date,
        categories: Sequence[str],
        *,
        batch: int = 5000,
    ) -> list[FilingRecord]:
        found = [
            (record.insured_region_code or "", filed, record.name or "", record)
            for lineage_id in self._s.lineages
            if (filing := self._current(lineage_id)).state is FilingState.APPROVED
            and (filed := self._filed(filing)) is not None
            and from_on <= filed <= to_on
            and _starts((record := filing.record).insured_region_code, region_prefix)
            and (record.category is None or record.category.value in categories)
        ]
        return [f[3] for f in sorted(found, key=lambda f: f[:3])]

    def count_annex2_records(
        self, region_prefix: str, from_on: dt.date, to_on: dt.date, categories: Sequence[str]
    ) -> int:
        return len(self.annex2_records(region_prefix, from_on, to_on, categories))

    def count_filed_versions(
        self, region_prefix: str, first_day: dt.date, last_day: dt.date
    ) -> int:
        return len(self.filed_versions(region_prefix, first_day, last_day))

    def filed_versions(
        self, region_prefix: str, first_day: dt.date, last_day: dt.date, *, batch: int = 5000
    ) -> list[tuple[str, FilingRecord, dt.date]]:
        found = [
            (v.state.value, v.record, filed)
            for _owner, v in self._s.versions.values()
            if (filed := self._filed(v)) is not None
            and first_day <= filed <= last_day
            and _starts(v.record.insured_region_code, region_prefix)
        ]
        return sorted(found, key=lambda f: (f[1].insured_region_code or "", f[2]))

    def _live(self, states: Sequence[FilingState]) -> list[FilingRow]:
        return [
            row for lineage_id in self._s.lineages if (row := self._row(lineage_id)).state in states
        ]

    def duplicate_id_numbers(self, region_prefix: str, states: Sequence[FilingState]) -> list[str]:
        places: dict[str, set[str]] = {}
        mine: set[str] = set()
        for row in self._live(states):
            places.setdefault(row.id_number, set()).add(row.insured_region_code[:4])
        for lineage_id in self._s.lineages:
            row = self._row(lineage_id)
            if _starts(row.insured_region_code, region_prefix):
                mine.add(row.id_number)
        return sorted(n for n, p in places.items() if len(p) > 1 and n in mine)

    def live_regions_by_id_number(
        self, id_numbers: Iterable[str], states: Sequence[FilingState]
    ) -> list[tuple[str, str, str]]:
        wanted = set(id_numbers)
        return [
            (row.id_number, row.insured_region_code, row.id)
            for row in self._live(states)
            if row.id_number in wanted
        ]

    def activity_by_region(
        self,
        region_prefix: str,
        start_at: dt.datetime,
        end_at: dt.datetime,
        first_day: dt.date,
        last_day: dt.date,
    ) -> list[RegionActivity]:
        raise NotImplementedError("the 地市报送情况 counts are tested on the database")

    # --- numbers and scans -------------------------------------------------------------

    def allocate_number(self, region_code: str, year: int) -> int:
        number = self._s.numbers.get((region_code, year), 0) + 1
        self._s.numbers[(region_code, year)] = number
        return number

    def put_file(self, sha256: str, media_type: str, content: bytes, at: dt.datetime) -> None:
        self._s.files.setdefault(sha256, (media_type, content))

    def file(self, sha256: str) -> tuple[str, bytes] | None:
        return self._s.files.get(sha256)

    # --- 报盘 ------------------------------------------------------------------------------

    def import_batch(self, file_sha256: str) -> ImportBatch | None:
        for row, report in self._s.batches:
            if row.file_sha256 == file_sha256:
                return ImportBatch(
                    row.file_sha256, row.filename, row.imported_at, row.actor, report
                )
        return None

    def import_batches(
        self,
        scope_prefix: str,
        *,
        region_prefix: str | None = None,
        exact_region: str | None = None,
        start_at: dt.datetime | None = None,
        end_at: dt.datetime | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[int, list[ImportBatchRow]]:
        found = [
            row
            for row, _report in reversed(self._s.batches)
            if _starts(row.region_code, scope_prefix)
            and _starts(row.region_code, region_prefix)
            and (exact_region is None or row.region_code == exact_region)
            and (start_at is None or row.imported_at >= start_at)
            and (end_at is None or row.imported_at < end_at)
        ]
        return len(found), found[offset : offset + limit]

    def import_batch_by_id(self, batch_id: int) -> tuple[ImportBatchRow, ImportReport] | None:
        for row, report in self._s.batches:
            if row.id == batch_id:
                return row, copy.deepcopy(report)
        return None

    def record_import_batch(
        self, report: ImportReport, at: dt.datetime, actor: str, region_code: str
    ) -> None:
        if self.import_batch(report.file_sha256) is not None:
            raise StoredConcurrently
        row = ImportBatchRow(
            len(self._s.batches) + 1,
            report.file_sha256,
            report.filename,
            at,
            actor,
            "",
            region_code,
            report.total_rows,
            report.imported,
            report.duplicates,
            report.rejected,
        )
        self._s.batches.append((row, copy.deepcopy(report)))

    def _import_keys(self) -> set[str]:
        return {k for lineage in self._s.lineages.values() if (k := lineage.import_key)}

    def stored_import_keys(self, keys: Sequence[str]) -> set[str]:
        return self._import_keys() & set(keys)

    def live_prefectures_of(
        self, id_numbers: Sequence[str], states: Sequence[FilingState]
    ) -> dict[str, set[str]]:
        wanted = set(id_numbers)
        found: dict[str, set[str]] = {}
        for row in self._live(states):
            if row.id_number in wanted:
                found.setdefault(row.id_number, set()).add(row.insured_region_code)
        return found

    def refresh_statistics(self) -> None:
        self._s.statistics_refreshed += 1

    def bulk_insert_imported(self, rows: Sequence[ImportedFiling], by: ImportedBy) -> None:
        keys = self._import_keys()
        for row in rows:
            if row.import_key in keys:
                raise StoredConcurrently
            keys.add(row.import_key)
            filing = Filing(
                filing_id=row.version_id,
                lineage_id=row.lineage_id,
                record=record_from_json(row.record_json),
                state=FilingState.APPROVED,
                events=(
                    FilingEvent(
                        FilingAction.CREATE,
                        None,
                        FilingState.APPROVED,
                        by.actor_id,
                        by.actor_role,
                        by.at,
                        by.reason,
                        row.version,
                    ),
                ),
            )
            self._s.versions[row.version_id] = (row.lineage_id, filing)
            self._s.imported_filed_on[row.version_id] = by.filed_on
            self._s.lineages[row.lineage_id] = Lineage(
                row.version_id, "import", by.at, by.at, row.import_key
            )

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        saved = copy.deepcopy(self._s.__dict__)
        try:
            yield
        except StoredConcurrently:
            self._s.__dict__.update(saved)
            raise


class FakeChangeRequestStore:
    def __init__(self, state: FakeState) -> None:
        self._s = state

    def add(self, request: ChangeRequest) -> None:
        if self.pending_for(request.filing_id) is not None:
            raise pending_conflict()
        self._s.change_requests[request.request_id] = request

    def save_decision(self, request: ChangeRequest) -> None:
        self._s.change_requests[request.request_id] = request

    def save_evidence(self, request: ChangeRequest) -> None:
        self._s.change_requests[request.request_id] = request

    def get(self, request_id: str, *, for_update: bool = False) -> ChangeRequest | None:
        return self._s.change_requests.get(request_id)

    def pending_for(self, filing_id: str) -> ChangeRequest | None:
        return next(
            (
                r
                for r in self._s.change_requests.values()
                if r.filing_id == filing_id and r.state is ChangeRequestState.PENDING
            ),
            None,
        )

    def _matches(self, query: ChangeRequestQuery) -> list[ChangeRequest]:
        return [
            r
            for r in self._s.change_requests.values()
            if (not query.states or r.state in query.states)
            and _starts(r.record.insured_region_code, query.region_prefix)
            and (query.id_number is None or r.record.social_security_number == query.id_number)
            and (query.filing_id is None or r.filing_id == query.filing_id)
        ]

    def search(self, query: ChangeRequestQuery) -> tuple[int, list[ChangeRequest]]:
        found = self._matches(query)
        return len(found), found[query.offset : query.offset + query.limit]

    def count(self, query: ChangeRequestQuery) -> int:
        return len(self._matches(query))

    def for_filing(self, filing_id: str) -> Sequence[ChangeRequest]:
        return [r for r in reversed(self._s.change_requests.values()) if r.filing_id == filing_id]


class FakeJobStore:
    def __init__(self, state: FakeState) -> None:
        self._s = state

    def add(self, job: JobRow) -> None:
        self._s.jobs[job.id] = job

    def get(self, job_id: str) -> JobRow | None:
        return self._s.jobs.get(job_id)

    def pending_of(self, actor: str, file_sha256: str, states: Sequence[str]) -> JobRow | None:
        return next(
            (
                j
                for j in self._s.jobs.values()
                if j.actor == actor and j.file_sha256 == file_sha256 and j.state in states
            ),
            None,
        )

    def recent(self, actor: str, limit: int) -> Sequence[JobRow]:
        mine = [j for j in self._s.jobs.values() if j.actor == actor]
        return sorted(mine, key=lambda j: j.created_at, reverse=True)[:limit]

    def oldest(self, state: str) -> str | None:
        waiting = sorted((j.created_at, j.id) for j in self._s.jobs.values() if j.state == state)
        return waiting[0][1] if waiting else None

    def _apply(self, job: JobRow, change: JobChange) -> JobRow:
        values = {
            name: value
            for name in (
                "started_at",
                "finished_at",
                "processed_rows",
                "total_rows",
                "result_json",
                "error_json",
            )
            if (value := getattr(change, name)) is not None
        }
        payload = None if change.drop_payload else job.payload
        return dataclasses.replace(job, state=change.state, payload=payload, **values)

    def move(self, job_id: str, from_state: str, change: JobChange) -> bool:
        job = self._s.jobs.get(job_id)
        if job is None or job.state != from_state:
            return False
        self._s.jobs[job_id] = self._apply(job, change)
        return True

    def fail_started_before(self, state: str, before: dt.datetime, change: JobChange) -> int:
        stale = [
            j
            for j in self._s.jobs.values()
            if j.state == state and j.started_at is not None and j.started_at < before
        ]
        for job in stale:
            self._s.jobs[job.id] = self._apply(job, change)
        return len(stale)

    def progress(self, job_id: str, processed_rows: int, total_rows: int) -> None:
        job = self._s.jobs[job_id]
        self._s.jobs[job_id] = dataclasses.replace(
            job, processed_rows=processed_rows, total_rows=total_rows
        )


class FakeAuditTrail:
    def __init__(self, state: FakeState) -> None:
        self._s = state

    def append(self, entry: AuditEntry) -> AuditEntry:
        self._s.audit.append(entry)
        return entry


class FakeIdempotencyStore:
    def __init__(self, state: FakeState) -> None:
        self._s = state

    def recall(self, scope: str, key: str, fingerprint: str) -> Mapping[str, str] | None:
        found = self._s.idempotency.get((scope, key))
        if found is None:
            return None
        if found[0] != fingerprint:
            raise Conflict("IDEMPOTENCY_KEY_REUSED", "报文ID已用于另一笔交易", "key reused")
        return found[1]

    def remember(
        self, scope: str, key: str, fingerprint: str, response: Mapping[str, str], at: dt.datetime
    ) -> None:
        self._s.idempotency[(scope, key)] = (fingerprint, dict(response))


class FakeAgencyDirectory:
    def __init__(self, state: FakeState) -> None:
        self._s = state

    def agencies(self, region_code: str | None = None) -> list[Agency]:
        return [a for a in self._s.agencies if region_code is None or a.region_code == region_code]


class FakeDatabase:
    """The committed state, shared by every unit of work made from it."""

    def __init__(self, agencies: Sequence[Agency] = ()) -> None:
        self.state = FakeState(agencies=list(agencies))

    def uow(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self)


class FakeUnitOfWork:
    """One transaction over a copy of the database's state."""

    filings: FakeFilingStore
    change_requests: FakeChangeRequestStore
    jobs: FakeJobStore
    audit: FakeAuditTrail
    idempotency: FakeIdempotencyStore
    reference: FakeAgencyDirectory

    def __init__(self, database: FakeDatabase) -> None:
        self._database = database

    def __enter__(self) -> Self:
        self._state = copy.deepcopy(self._database.state)
        self.filings = FakeFilingStore(self._state)
        self.change_requests = FakeChangeRequestStore(self._state)
        self.jobs = FakeJobStore(self._state)
        self.audit = FakeAuditTrail(self._state)
        self.idempotency = FakeIdempotencyStore(self._state)
        self.reference = FakeAgencyDirectory(self._state)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        del self._state  # whatever was not committed is gone

    def commit(self) -> None:
        self._state.commits += 1
        self._database.state = copy.deepcopy(self._state)
