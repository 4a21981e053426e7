"""What the filing use cases need from storage: the rows they exchange and the protocols.

The use cases (:mod:`yidi.filing.commands`, :mod:`yidi.filing.queries`,
:mod:`yidi.filing.change_requests`, :mod:`yidi.filing.imports`, :mod:`yidi.filing.reports`,
:mod:`yidi.filing.jobs`) are written against :class:`FilingUnitOfWork` and its stores;
:class:`yidi.platform.uow.SqlUnitOfWork` with the repositories of :mod:`yidi.filing.sql`,
:mod:`yidi.filing.change_requests_sql` and :mod:`yidi.filing.jobs_sql` implements them on the
database, and the unit tests implement them in memory. Everything that crosses the
boundary is a typed value: records, rows and reports, never a database row or a loose dict.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol, Self

from yidi.filing.model.change_requests import ChangeRequest, ChangeRequestState
from yidi.filing.model.lifecycle import Filing, FilingState
from yidi.filing.model.record import FilingRecord
from yidi.kernel.errors import Conflict
from yidi.kernel.insurance import FilingCategory
from yidi.kernel.unit_of_work import AuditedTransaction
from yidi.reference.model import Agency

# --- what the stores refuse ----------------------------------------------------------------


class StoredConcurrently(Exception):
    """A write inside :meth:`FilingStore.savepoint` met rows another transaction stored first
    (a unique key): the savepoint is rolled back, the transaction goes on."""


def duplicate_filing(filing_id: str) -> Conflict:
    """The one answer for a second live filing of a person in one category and region."""
    return Conflict(
        "FILING_DUPLICATE",
        "该参保人员在本统筹区已有同类别的备案（草稿、待审核或已备案），请办理变更或先撤销",
        "this person already has a live filing of this category here",
        details={"filing_id": filing_id},
    )


def pending_conflict() -> Conflict:
    return Conflict(
        "CHANGE_REQUEST_PENDING",
        "该备案已有一份待审核的变更申请，请等待经办机构处理或先撤回",
        "this filing already has a pending change request",
    )


# --- query criteria and rows ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FilingQuery:
    """Search criteria; ``region_prefix`` and ``own_id_number`` carry the caller's scope."""

    id_number: str | None = None
    name: str | None = None
    filing_number: str | None = None
    # Partial search: a filing-number or name prefix, an ID-number tail (within the caller's scope).
    filing_number_prefix: str | None = None
    name_prefix: str | None = None
    id_number_tail: str | None = None
    states: tuple[FilingState, ...] = ()
    category: FilingCategory | None = None
    region_prefix: str | None = None
    own_id_number: str | None = None
    # The review queue: whose filings (a user name; "" = nobody's yet) and the order.
    assignee: str | None = None
    sort: str = ""  # one of SORT_KEYS; "" = the list's default
    descending: bool = False
    # 待补充的历史备案: only filings whose current version lacks a mandatory 附件1 field.
    incomplete: bool = False
    limit: int = 50
    offset: int = 0


#: The orders a filing list may be sorted by (a whitelist: anything else is refused).
#: "due" is the review queue's order: online submissions by submission time (their review
#: deadline follows from it), then window submissions.
SORT_KEYS: tuple[str, ...] = ("due", "submitted", "updated", "name", "number", "region")


@dataclass(frozen=True, slots=True)
class FilingRow:
    """What the lineage row of a filing knows (the searchable fields of its current version)."""

    id: str
    filing_number: str | None
    state: FilingState
    version: int
    name: str
    id_number: str
    insured_region_code: str
    category: FilingCategory | None
    source: str  # "counter" or "import"
    updated_at: dt.datetime
    filed_on: dt.date | None
    # The latest submission of the current version (None: never submitted) and its channel.
    submitted_at: dt.datetime | None = None
    submitted_online: bool = False
    assignee: str | None = None  # the reviewer's user name
    assignee_name: str = ""  # and display name


@dataclass(frozen=True, slots=True)
class StoredFiling:
    """The current version of a filing plus what the lineage row knows."""

    filing: Filing
    source: str
    created_at: dt.datetime
    updated_at: dt.datetime
    filed_on: dt.date | None


@dataclass(frozen=True, slots=True)
class VersionRow:
    version_id: str
    version: int
    state: FilingState
    record: FilingRecord
    filed_on: dt.date | None


REPORTED_STATES: tuple[str, ...] = (
    FilingState.SUBMITTED.value,
    FilingState.APPROVED.value,
    FilingState.REJECTED.value,
    FilingState.SUPERSEDED.value,
    FilingState.CANCELLED.value,
    FilingState.EXPIRED.value,
)
SOURCES: tuple[str, ...] = ("counter", "import")


@dataclass(frozen=True, slots=True)
class RegionActivity:
    """What one insured region filed in a period (the province's 地市报送情况 table).

    ``by_state`` counts the versions created in the period by their state now
    (drafts are not submissions and are left out); ``by_source`` splits the same
    versions into counter and 报盘; ``new``/``changed`` count the versions filed
    (approved or imported) in the period by 登记类别; the two times are the last
    submission at the counter and the last 报盘 row stored before the period ended.
    """

    region_code: str
    by_state: dict[str, int]
    by_source: dict[str, int]
    new: int
    changed: int
    last_submitted_at: dt.datetime | None
    last_imported_at: dt.datetime | None


# --- 报盘 -------------------------------------------------------------------------------------


@dataclass
class ImportReport:
    """The row-by-row answer to one batch file (stored with its batch, shown again on replay).

    ``errors`` are ``{"row", "column", "code", "message"}``; ``conflicts`` are
    ``{"id_number" (masked), "regions", "rows"}``: the JSON the report is stored as.
    """

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


@dataclass(frozen=True, slots=True)
class ImportBatch:
    file_sha256: str
    filename: str
    imported_at: dt.datetime
    actor: str
    report: ImportReport


@dataclass(frozen=True, slots=True)
class ImportBatchRow:
    """One stored 报盘 batch: ``region_code`` is the region its file was submitted for
    (the submitting agency's, or the province's own); ``actor_name`` is empty when the
    importing account is the command line's system operator or no longer exists."""

    id: int
    file_sha256: str
    filename: str
    imported_at: dt.datetime
    actor: str
    actor_name: str
    region_code: str
    total_rows: int
    imported_rows: int
    duplicate_rows: int
    rejected_rows: int


@dataclass(frozen=True, slots=True)
class ImportedFiling:
    """One 报盘 row to store as an approved filing (its lineage, one version, one event)."""

    lineage_id: str
    version_id: str
    version: int
    insured_region_code: str
    id_number: str
    name: str
    category: str | None
    registration_type: str
    record_json: str  # :func:`yidi.filing.record_json.record_json` of the parsed record
    import_key: str
    missing_fields: int = 0  # mandatory 附件1 fields the record lacks


@dataclass(frozen=True, slots=True)
class ImportedBy:
    """Who stored a batch of :class:`ImportedFiling` rows, when and why (their event)."""

    actor_id: str
    actor_role: str
    at: dt.datetime
    filed_on: dt.date
    reason: str


# --- change requests and jobs ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChangeRequestQuery:
    """Criteria; ``region_prefix`` and ``id_number`` carry the caller's scope."""

    states: tuple[ChangeRequestState, ...] = ()
    region_prefix: str | None = None
    id_number: str | None = None
    filing_id: str | None = None
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True, slots=True)
class JobRow:
    """One background job (the ``jobs`` table); ``payload`` is the upload, dropped at the end."""

    id: str
    kind: str
    state: str
    actor: str
    principal_json: str
    params_json: str
    filename: str
    file_sha256: str
    payload: bytes | None
    total_bytes: int
    processed_rows: int
    created_at: dt.datetime
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    result_json: str | None = None
    error_json: str | None = None
    total_rows: int = 0  # an export's rows to write (its progress bar's 100%)


@dataclass(frozen=True, slots=True)
class JobChange:
    """What a state move writes; ``None`` leaves a column as it is."""

    state: str
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    processed_rows: int | None = None
    result_json: str | None = None
    error_json: str | None = None
    drop_payload: bool = False
    total_rows: int | None = None


# --- the protocols ---------------------------------------------------------------------------


class FilingStore(Protocol):
    """Filings: versions, events, evidence, numbers, scans and 报盘 batches."""

    def add(self, filing: Filing, at: dt.datetime, *, source: str = "counter") -> None: ...
    def save(self, filing: Filing, at: dt.datetime) -> None: ...
    def get(self, lineage_id: str, *, for_update: bool = False) -> StoredFiling | None: ...
    def by_number(self, filing_number: str, *, for_update: bool = False) -> StoredFiling | None: ...
    def versions(self, lineage_id: str) -> list[VersionRow]: ...
    def version(self, version_id: str, lineage_id: str) -> Filing: ...
    def search(self, query: FilingQuery) -> tuple[int, list[tuple[FilingRow, FilingRecord]]]: ...
    def iter_records(
        self, query: FilingQuery, *, batch: int = 5000
    ) -> Iterable[tuple[FilingRow, FilingRecord]]: ...
    def iter_ordered(
        self, query: FilingQuery, *, batch: int = 2000
    ) -> Iterable[tuple[FilingRow, FilingRecord]]: ...
    def current_for_person(self, id_number: str, states: Sequence[FilingState]) -> list[Filing]: ...
    def admission_candidates(self, id_number: str) -> list[Filing]: ...
    def assign(self, lineage_id: str, assignee: str, by: str, at: dt.datetime) -> None: ...
    def unassign(self, lineage_id: str) -> None: ...
    def assignee_of(self, lineage_id: str) -> tuple[str, str] | None: ...
    def reviewers(self, region_code: str) -> list[tuple[str, str]]: ...
    def due_to_expire(self, today: dt.date) -> list[str]: ...
    def promises_overdue(self, today: dt.date, region_prefix: str = "") -> list[str]: ...
    def filed_versions(
        self, region_prefix: str, first_day: dt.date, last_day: dt.date, *, batch: int = 5000
    ) -> Iterable[tuple[str, FilingRecord, dt.date]]: ...
    def count_filed_versions(
        self, region_prefix: str, first_day: dt.date, last_day: dt.date
    ) -> int: ...
    def listed_version_counts(
        self, region_prefix: str, first_day: dt.date, last_day: dt.date, categories: Sequence[str]
    ) -> list[tuple[str, int]]: ...
    def listed_versions_page(
        self,
        region_prefix: str,
        first_day: dt.date,
        last_day: dt.date,
        categories: Sequence[str],
        *,
        limit: int,
        offset: int,
    ) -> list[FilingRecord]: ...
    def annex2_records(
        self,
        region_prefix: str,
        from_on: dt.date,
        to_on: dt.date,
        categories: Sequence[str],
        *,
        batch: int = 5000,
    ) -> Iterable[FilingRecord]: ...
    def count_annex2_records(
        self, region_prefix: str, from_on: dt.date, to_on: dt.date, categories: Sequence[str]
    ) -> int: ...
    def duplicate_id_numbers(
        self, region_prefix: str, states: Sequence[FilingState]
    ) -> list[str]: ...
    def live_regions_by_id_number(
        self, id_numbers: Iterable[str], states: Sequence[FilingState]
    ) -> list[tuple[str, str, str]]: ...
    def activity_by_region(
        self,
        region_prefix: str,
        start_at: dt.datetime,
        end_at: dt.datetime,
        first_day: dt.date,
        last_day: dt.date,
    ) -> list[RegionActivity]: ...
    def allocate_number(self, region_code: str, year: int) -> int: ...
    def put_file(self, sha256: str, media_type: str, content: bytes, at: dt.datetime) -> None: ...
    def file(self, sha256: str) -> tuple[str, bytes] | None: ...
    def import_batch(self, file_sha256: str) -> ImportBatch | None: ...
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
    ) -> tuple[int, list[ImportBatchRow]]: ...
    def import_batch_by_id(self, batch_id: int) -> tuple[ImportBatchRow, ImportReport] | None: ...
    def record_import_batch(
        self, report: ImportReport, at: dt.datetime, actor: str, region_code: str
    ) -> None: ...
    def stored_import_keys(self, keys: Sequence[str]) -> set[str]:
        """Which of a batch's import keys are stored already (indexed look-ups of those keys)."""
        ...

    def live_prefectures_of(
        self, id_numbers: Sequence[str], states: Sequence[FilingState]
    ) -> dict[str, set[str]]:
        """ID number -> insured regions of its live filings, for these ID numbers only."""
        ...

    def bulk_insert_imported(self, rows: Sequence[ImportedFiling], by: ImportedBy) -> None: ...
    def refresh_statistics(self) -> None:
        """Gather the planner's statistics of the filing tables after a bulk import."""
        ...

    def savepoint(self) -> AbstractContextManager[None]:
        """Writes that are undone together when they meet rows stored concurrently
        (raising :class:`StoredConcurrently`), leaving the transaction usable."""
        ...


class ChangeRequestStore(Protocol):
    def add(self, request: ChangeRequest) -> None: ...
    def save_decision(self, request: ChangeRequest) -> None: ...
    def save_evidence(self, request: ChangeRequest) -> None: ...
    def get(self, request_id: str, *, for_update: bool = False) -> ChangeRequest | None: ...
    def pending_for(self, filing_id: str) -> ChangeRequest | None: ...
    def search(self, query: ChangeRequestQuery) -> tuple[int, list[ChangeRequest]]: ...
    def count(self, query: ChangeRequestQuery) -> int: ...
    def for_filing(self, filing_id: str) -> Sequence[ChangeRequest]: ...


class JobStore(Protocol):
    def add(self, job: JobRow) -> None: ...
    def get(self, job_id: str) -> JobRow | None: ...
    def pending_of(self, actor: str, file_sha256: str, states: Sequence[str]) -> JobRow | None: ...
    def recent(self, actor: str, limit: int) -> Sequence[JobRow]: ...
    def oldest(self, state: str) -> str | None: ...
    def move(self, job_id: str, from_state: str, change: JobChange) -> bool: ...
    def fail_started_before(self, state: str, before: dt.datetime, change: JobChange) -> int: ...
    def progress(self, job_id: str, processed_rows: int, total_rows: int) -> None: ...


class IdempotencyStore(Protocol):
    """Answers remembered by (scope, client key); a key reused for another request is refused."""

    def recall(self, scope: str, key: str, fingerprint: str) -> Mapping[str, str] | None: ...
    def remember(
        self, scope: str, key: str, fingerprint: str, response: Mapping[str, str], at: dt.datetime
    ) -> None: ...


class AgencyDirectory(Protocol):
    def agencies(self, region_code: str | None = None) -> list[Agency]: ...


class FilingUnitOfWork(AuditedTransaction, Protocol):
    """One transaction over the filing stores; rolled back unless committed."""

    @property
    def filings(self) -> FilingStore: ...
    @property
    def change_requests(self) -> ChangeRequestStore: ...
    @property
    def jobs(self) -> JobStore: ...
    @property
    def idempotency(self) -> IdempotencyStore: ...
    @property
    def reference(self) -> AgencyDirectory: ...

    def __enter__(self) -> Self: ...
