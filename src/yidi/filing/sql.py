"""Filings in storage: versions, events, evidence, filing-number sequences, import batches.

A :class:`~yidi.filing.model.lifecycle.Filing` is one version; a row of
``filings`` groups all versions of one filing (its lineage) and carries the
current state and the searchable fields. Saving a version writes only what is
new: events and evidence are appended, never rewritten or removed.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Select,
    String,
    Table,
    and_,
    any_,
    bindparam,
    case,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from yidi.filing.model.annex import missing_mandatory_fields
from yidi.filing.model.evidence import Evidence, EvidenceFile, EvidenceKind
from yidi.filing.model.lifecycle import (
    ONLINE_ROLE,
    Filing,
    FilingAction,
    FilingEvent,
    FilingState,
)
from yidi.filing.model.record import FilingRecord
from yidi.filing.ports import (
    REPORTED_STATES,
    SORT_KEYS,
    SOURCES,
    FilingQuery,
    FilingRow,
    ImportBatch,
    ImportBatchRow,
    ImportedBy,
    ImportedFiling,
    ImportReport,
    RegionActivity,
    StoredConcurrently,
    StoredFiling,
    VersionRow,
    duplicate_filing,
)
from yidi.filing.record_json import record_from_json, record_json
from yidi.kernel.audit import as_utc
from yidi.kernel.insurance import FilingCategory, HospitalLevel
from yidi.platform.db import READ_ONLY, refresh_statistics
from yidi.platform.rows import record_from_row
from yidi.platform.tables import (
    evidence_files,
    filing_assignments,
    filing_events,
    filing_evidence,
    filing_number_sequences,
    filing_versions,
    filings,
    import_batches,
    users,
)

# The states in which a filing counts for the one-live-filing rule (the partial unique
# indexes of the schema name the same four).
LIVE_STATE_VALUES: tuple[str, ...] = ("draft", "submitted", "rejected", "approved")

# 报盘 on PostgreSQL: the batch is copied into this per-transaction table, then inserted set-based.
_STAGING_TABLE = """CREATE TEMPORARY TABLE IF NOT EXISTS filing_import_staging (
    lineage_id varchar(32) NOT NULL, version_id varchar(32) NOT NULL, version integer NOT NULL,
    insured_region_code varchar(6) NOT NULL, id_number varchar(18) NOT NULL,
    name varchar(50) NOT NULL, category varchar(32), registration_type varchar(1) NOT NULL,
    record_json text NOT NULL, import_key varchar(80) NOT NULL, missing_fields integer NOT NULL
) ON COMMIT DROP"""
_STAGING_COPY = (
    "COPY filing_import_staging (lineage_id, version_id, version, insured_region_code, "
    "id_number, name, category, registration_type, record_json, import_key, missing_fields) "
    "FROM STDIN"
)
_STAGED_INSERTS = (
    "INSERT INTO filings (id, filing_number, current_version_id, state, version, "
    "insured_region_code, id_number, name, category, source, import_key, created_at, updated_at, "
    "missing_fields) "
    "SELECT lineage_id, NULL, version_id, :approved, version, insured_region_code, id_number, "
    "name, category, 'import', import_key, :at, :at, missing_fields FROM filing_import_staging",
    "INSERT INTO filing_versions (id, filing_id, version, state, registration_type, category, "
    "insured_region_code, record_json, state_reason, supersedes, superseded_by, filed_on, "
    "created_at) "
    "SELECT version_id, lineage_id, version, :approved, registration_type, category, "
    "insured_region_code, record_json, NULL, NULL, NULL, :filed_on, :at "
    "FROM filing_import_staging",
    "INSERT INTO filing_events (filing_id, version_id, seq, action, from_state, to_state, "
    "actor_id, actor_role, at, reason, version) "
    "SELECT lineage_id, version_id, 1, 'create', NULL, :approved, :actor_id, :actor_role, :at, "
    ":reason, version FROM filing_import_staging",
)
# Keys looked up per statement: well under SQLite's limit of bound parameters.
_LOOKUP_PART = 5000


def _parts(values: Sequence[str]) -> Iterator[Sequence[str]]:
    values = list(values)
    for start in range(0, len(values), _LOOKUP_PART):
        yield values[start : start + _LOOKUP_PART]


def _like_prefix(text: str) -> str:
    """A LIKE pattern for values beginning with ``text`` (its own % and _ escaped with /)."""
    return text.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%"


def _count_when(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _batch_row(row: Any) -> ImportBatchRow:
    return ImportBatchRow(
        row.id,
        row.file_sha256,
        row.filename,
        as_utc(row.imported_at),
        row.actor,
        row.display_name or "",
        row.batch_region_code or "",
        row.total_rows,
        row.imported_rows,
        row.duplicate_rows,
        row.rejected_rows,
    )


def _filing_row(row: Any) -> FilingRow:
    # The list statements add the submission and the assignee; other reads leave them out.
    return record_from_row(
        FilingRow,
        row,
        state=FilingState(row.state),
        category=FilingCategory(row.category) if row.category else None,
        updated_at=as_utc(row.updated_at),
        submitted_at=_timestamp(getattr(row, "submitted_at", None)),
        submitted_online=getattr(row, "submitted_role", None) == ONLINE_ROLE,
        assignee=getattr(row, "assignee", None),
        assignee_name=getattr(row, "assignee_name", None) or "",
    )


def _event_row(lineage_id: str, version_id: str, seq: int, event: FilingEvent) -> dict[str, Any]:
    return {
        "filing_id": lineage_id,
        "version_id": version_id,
        "seq": seq,
        "action": event.action.value,
        "from_state": event.from_state.value if event.from_state else None,
        "to_state": event.to_state.value,
        "actor_id": event.actor_id[:64],
        "actor_role": event.actor_role[:32],
        "at": as_utc(event.at),
        "reason": event.reason[:500] if event.reason else None,
        "version": event.version,
    }


def _evidence_row(version_id: str, position: int, evidence: Evidence) -> dict[str, Any]:
    file = evidence.file
    return {
        "version_id": version_id,
        "position": position,
        "kind": evidence.kind.value,
        "document_number": evidence.document_number,
        "issuer": evidence.issuer,
        "issued_on": evidence.issued_on,
        "issuer_region_code": evidence.issuer_region_code,
        "issuer_hospital_level": (
            int(evidence.issuer_hospital_level) if evidence.issuer_hospital_level else None
        ),
        "issuer_is_top_specialist": evidence.issuer_is_top_specialist,
        "file_sha256": file.sha256 if file else None,
        "file_name": file.filename if file else None,
        "media_type": file.media_type if file else None,
    }


def _evidence(row: Any) -> Evidence:
    file = (
        EvidenceFile(row.file_sha256, row.file_name or "", row.media_type or "")
        if row.file_sha256
        else None
    )
    return Evidence(
        kind=EvidenceKind(row.kind),
        document_number=row.document_number,
        issuer=row.issuer,
        issued_on=row.issued_on,
        issuer_region_code=row.issuer_region_code,
        issuer_hospital_level=(
            HospitalLevel(row.issuer_hospital_level) if row.issuer_hospital_level else None
        ),
        issuer_is_top_specialist=bool(row.issuer_is_top_specialist),
        file=file,
    )


def _event(row: Any) -> FilingEvent:
    return FilingEvent(
        action=FilingAction(row.action),
        from_state=FilingState(row.from_state) if row.from_state else None,
        to_state=FilingState(row.to_state),
        actor_id=row.actor_id,
        actor_role=row.actor_role,
        at=as_utc(row.at),
        reason=row.reason,
        version=row.version,
    )


def lineage_values(filing: Filing, at: dt.datetime) -> dict[str, Any]:
    record = filing.record
    return {
        "filing_number": record.filing_number,
        "current_version_id": filing.filing_id,
        "state": filing.state.value,
        "version": record.version,
        "insured_region_code": record.insured_region_code or "",
        "id_number": (record.social_security_number or "").upper(),
        "name": record.name or "",
        "category": record.category.value if record.category else None,
        "missing_fields": len(missing_mandatory_fields(record)),
        "updated_at": as_utc(at),
    }


def _filed_on(filing: Filing) -> dt.date | None:
    if filing.state in (FilingState.APPROVED, FilingState.SUPERSEDED, FilingState.EXPIRED):
        return filing.record.handled_on
    return None


def _timestamp(value: Any) -> dt.datetime | None:
    """A MAX() over a CASE comes back as text on SQLite and as a datetime on PostgreSQL."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return as_utc(value)


# The admission check's read (what 1101 runs for every patient), built once.
_ADMISSION_CANDIDATES = (
    select(
        filings.c.id.label("lineage_id"),
        filing_versions.c.id,
        filing_versions.c.state,
        filing_versions.c.record_json,
        filing_versions.c.state_reason,
        filing_versions.c.supersedes,
        filing_versions.c.superseded_by,
    )
    .join(filing_versions, filing_versions.c.id == filings.c.current_version_id)
    .where(
        filings.c.id_number == bindparam("id_number"),
        filings.c.state == FilingState.APPROVED.value,
    )
)


class FilingRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    # --- writing -------------------------------------------------------------------------

    def add(self, filing: Filing, at: dt.datetime, *, source: str = "counter") -> None:
        """Store a new filing (its first version) with its events and evidence.

        A second live counter filing of the person in the category is refused by the schema
        (``uq_filings_live_person_*``), also when two creations race."""
        self._guarded_lineage_write(
            filing,
            insert(filings).values(
                id=filing.lineage_id,
                source=source,
                created_at=as_utc(at),
                **lineage_values(filing, at),
            ),
        )
        self._insert_version(filing, at)

    def _guarded_lineage_write(self, filing: Filing, statement: Any) -> None:
        try:
            with self._session.begin_nested():
                self._session.execute(statement)
        except IntegrityError:
            record = filing.record
            live = self._session.execute(
                select(filings.c.id).where(
                    filings.c.id_number == (record.social_security_number or "").upper(),
                    filings.c.insured_region_code == record.insured_region_code,
                    filings.c.source == "counter",
                    filings.c.id != filing.lineage_id,
                    filings.c.state.in_(LIVE_STATE_VALUES),
                    filings.c.category.is_(None)
                    if record.category is None
                    else filings.c.category == record.category.value,
                )
            ).scalar()
            if live is None:
                raise  # not the one-live-filing rule: a real fault, not the caller's
            raise duplicate_filing(str(live)) from None

    def _insert_version(self, filing: Filing, at: dt.datetime) -> None:
        self._session.execute(
            insert(filing_versions).values(
                id=filing.filing_id,
                filing_id=filing.lineage_id,
                version=filing.record.version,
                state=filing.state.value,
                registration_type=filing.record.registration_type.value,
                category=filing.record.category.value if filing.record.category else None,
                insured_region_code=filing.record.insured_region_code or "",
                record_json=record_json(filing.record),
                state_reason=filing.state_reason,
                supersedes=filing.supersedes,
                superseded_by=filing.superseded_by,
                filed_on=_filed_on(filing),
                created_at=as_utc(at),
            )
        )
        self._append_events(filing, already=0)
        self._append_evidence(filing, already=0)

    def _append_events(self, filing: Filing, already: int) -> None:
        rows = [
            _event_row(filing.lineage_id, filing.filing_id, seq, event)
            for seq, event in enumerate(filing.events[already:], start=already + 1)
        ]
        if rows:
            self._session.execute(insert(filing_events), rows)

    def _append_evidence(self, filing: Filing, already: int) -> None:
        rows = [
            _evidence_row(filing.filing_id, position, evidence)
            for position, evidence in enumerate(filing.evidence[already:], start=already + 1)
        ]
        if rows:
            self._session.execute(insert(filing_evidence), rows)

    def save(self, filing: Filing, at: dt.datetime) -> None:
        """Write a changed version: its state and record, and append new events and evidence.

        A version not stored yet (the new version of a change) is inserted and
        becomes the lineage's current version.
        """
        stored = self._session.execute(
            select(filing_versions.c.id).where(filing_versions.c.id == filing.filing_id)
        ).first()
        if stored is None:
            self._insert_version(filing, at)
        else:
            events_stored = self._count(filing_events.c.version_id, filing.filing_id)
            evidence_stored = self._count(filing_evidence.c.version_id, filing.filing_id)
            self._session.execute(
                update(filing_versions)
                .where(filing_versions.c.id == filing.filing_id)
                .values(
                    state=filing.state.value,
                    category=filing.record.category.value if filing.record.category else None,
                    insured_region_code=filing.record.insured_region_code or "",
                    record_json=record_json(filing.record),
                    state_reason=filing.state_reason,
                    superseded_by=filing.superseded_by,
                    filed_on=_filed_on(filing),
                )
            )
            self._append_events(filing, events_stored)
            self._append_evidence(filing, evidence_stored)
        if filing.superseded_by is None:
            self._guarded_lineage_write(
                filing,
                update(filings)
                .where(filings.c.id == filing.lineage_id)
                .values(**lineage_values(filing, at)),
            )

    def _count(self, column: Any, version_id: str) -> int:
        return int(
            self._session.execute(select(func.count()).where(column == version_id)).scalar_one()
        )

    # --- reading -------------------------------------------------------------------------

    def _version(self, version_id: str, lineage_id: str) -> Filing:
        row = self._session.execute(
            select(filing_versions).where(filing_versions.c.id == version_id)
        ).one()
        events = self._session.execute(
            select(filing_events)
            .where(filing_events.c.version_id == version_id)
            .order_by(filing_events.c.seq)
        )
        documents = self._session.execute(
            select(filing_evidence)
            .where(filing_evidence.c.version_id == version_id)
            .order_by(filing_evidence.c.position)
        )
        return Filing(
            filing_id=row.id,
            lineage_id=lineage_id,
            record=record_from_json(row.record_json),
            state=FilingState(row.state),
            evidence=tuple(_evidence(d) for d in documents),
            events=tuple(_event(e) for e in events),
            state_reason=row.state_reason,
            supersedes=row.supersedes,
            superseded_by=row.superseded_by,
        )

    def _stored(self, row: Any) -> StoredFiling:
        filing = self._version(row.current_version_id, row.id)
        filed_on = self._session.execute(
            select(filing_versions.c.filed_on).where(filing_versions.c.id == row.current_version_id)
        ).scalar_one()
        return StoredFiling(
            filing, row.source, as_utc(row.created_at), as_utc(row.updated_at), filed_on
        )

    def get(self, lineage_id: str, *, for_update: bool = False) -> StoredFiling | None:
        return self._one(filings.c.id == lineage_id, for_update)

    def by_number(self, filing_number: str, *, for_update: bool = False) -> StoredFiling | None:
        return self._one(filings.c.filing_number == filing_number, for_update)

    def _one(self, condition: ColumnElement[bool], for_update: bool) -> StoredFiling | None:
        """The one filing ``condition`` names (row-locked with ``for_update``), or None."""
        query = select(filings).where(condition)
        if for_update:
            query = query.with_for_update()
        row = self._session.execute(query).first()
        return self._stored(row) if row else None

    def versions(self, lineage_id: str) -> list[VersionRow]:
        rows = self._session.execute(
            select(filing_versions)
            .where(filing_versions.c.filing_id == lineage_id)
            .order_by(filing_versions.c.version)
        )
        return [
            VersionRow(
                r.id,
                r.version,
                FilingState(r.state),
                record_from_json(r.record_json),
                r.filed_on,
            )
            for r in rows
        ]

    def version(self, version_id: str, lineage_id: str) -> Filing:
        return self._version(version_id, lineage_id)

    def _search(self, query: FilingQuery, *, review: bool = False) -> Select[Any]:
        """The matching filings; with ``review`` also their latest submission (time and
        channel, from the current version's events) and their reviewer, in the same statement."""
        conditions = []
        if query.id_number:
            conditions.append(filings.c.id_number == query.id_number.strip().upper())
        if query.name:
            conditions.append(filings.c.name == query.name.strip())
        if query.filing_number:
            conditions.append(filings.c.filing_number == query.filing_number.strip().upper())
        # Prefixes as literal patterns: the planner sees 'x%' and uses the pattern indexes.
        if query.filing_number_prefix:
            prefix = _like_prefix(query.filing_number_prefix.strip().upper())
            conditions.append(filings.c.filing_number.like(prefix, escape="/"))
        if query.name_prefix:
            prefix = _like_prefix(query.name_prefix.strip())
            conditions.append(filings.c.name.like(prefix, escape="/"))
        if query.id_number_tail:  # within the region scope below (no index serves a tail)
            tail = query.id_number_tail.strip().upper()
            conditions.append(filings.c.id_number.endswith(tail, autoescape=True))
        if query.states:
            conditions.append(filings.c.state.in_([s.value for s in query.states]))
        if query.category:
            conditions.append(filings.c.category == query.category.value)
        if query.region_prefix is not None:
            conditions.append(filings.c.insured_region_code.startswith(query.region_prefix))
        if query.incomplete:
            conditions.append(filings.c.missing_fields > 0)
        if query.own_id_number is not None:
            conditions.append(filings.c.id_number == query.own_id_number.upper())
        if query.assignee is not None:
            if query.assignee:
                conditions.append(filing_assignments.c.assignee == query.assignee)
            else:
                conditions.append(filing_assignments.c.assignee.is_(None))
        columns: list[Any] = [filings, filing_versions.c.record_json, filing_versions.c.filed_on]
        if review:
            submit = (
                select(filing_events.c.at, filing_events.c.actor_role)
                .where(
                    filing_events.c.version_id == filings.c.current_version_id,
                    filing_events.c.action == FilingAction.SUBMIT.value,
                )
                .order_by(filing_events.c.seq.desc())
                .limit(1)
            )
            columns += [
                submit.with_only_columns(filing_events.c.at)
                .scalar_subquery()
                .label("submitted_at"),
                submit.with_only_columns(filing_events.c.actor_role)
                .scalar_subquery()
                .label("submitted_role"),
                filing_assignments.c.assignee,
                users.c.display_name.label("assignee_name"),
            ]
        statement = select(*columns).join(
            filing_versions, filing_versions.c.id == filings.c.current_version_id
        )
        if review or query.assignee is not None:
            statement = statement.outerjoin(
                filing_assignments, filing_assignments.c.filing_id == filings.c.id
            )
        if review:
            statement = statement.outerjoin(
                users, users.c.username == filing_assignments.c.assignee
            )
        return statement.where(and_(*conditions)) if conditions else statement

    @staticmethod
    def _order(query: FilingQuery, statement: Select[Any]) -> Select[Any]:
        """The page order: one of :data:`SORT_KEYS` (the id last, so pages never overlap)."""
        key = query.sort if query.sort in SORT_KEYS else ""
        if not key:
            key = "due" if query.states == (FilingState.SUBMITTED,) else "updated"
        columns = statement.selected_columns
        if key in ("due", "submitted"):
            submitted = columns.submitted_at
            order: list[Any] = []
            if key == "due":  # online submissions (with a deadline) before window ones
                order.append(case((columns.submitted_role == ONLINE_ROLE, 0), else_=1))
            order += [submitted.desc() if query.descending else submitted.asc()]
        else:
            column = {
                "updated": filings.c.updated_at,
                "name": filings.c.name,
                "number": filings.c.filing_number,
                "region": filings.c.insured_region_code,
            }[key]
            descending = query.descending if query.sort else key == "updated"
            order = [column.desc() if descending else column.asc()]
        return statement.order_by(*order, filings.c.id)

    def search(self, query: FilingQuery) -> tuple[int, list[tuple[FilingRow, FilingRecord]]]:
        """(total matches, one page of (lineage row, current record)): two statements, whatever
        the page size."""
        total = int(
            self._session.execute(
                select(func.count()).select_from(self._search(query).subquery())
            ).scalar_one()
        )
        statement = self._order(query, self._search(query, review=True))
        rows = self._session.execute(statement.limit(query.limit).offset(query.offset))
        return total, [(_filing_row(row), record_from_json(row.record_json)) for row in rows]

    def iter_ordered(
        self, query: FilingQuery, *, batch: int = 2000
    ) -> Iterable[tuple[FilingRow, FilingRecord]]:
        """Every match in the list's order (an export of the filtered list), streamed."""
        statement = self._order(query, self._search(query, review=True))
        for row in self._session.execute(statement.execution_options(yield_per=batch)):
            yield _filing_row(row), record_from_json(row.record_json)

    def assign(self, lineage_id: str, assignee: str, by: str, at: dt.datetime) -> None:
        values = {"assignee": assignee[:64], "assigned_by": by[:64], "assigned_at": as_utc(at)}
        done = self._session.execute(
            update(filing_assignments)
            .where(filing_assignments.c.filing_id == lineage_id)
            .values(**values)
        )
        if not done.rowcount:  # type: ignore[attr-defined]
            self._session.execute(insert(filing_assignments).values(filing_id=lineage_id, **values))

    def assignee_of(self, lineage_id: str) -> tuple[str, str] | None:
        """(user name, display name) of the filing's reviewer, or None."""
        row = self._session.execute(
            select(filing_assignments.c.assignee, users.c.display_name)
            .outerjoin(users, users.c.username == filing_assignments.c.assignee)
            .where(filing_assignments.c.filing_id == lineage_id)
        ).first()
        return None if row is None else (row.assignee, row.display_name or row.assignee)

    def unassign(self, lineage_id: str) -> None:
        self._session.execute(
            filing_assignments.delete().where(filing_assignments.c.filing_id == lineage_id)
        )

    def reviewers(self, region_code: str) -> list[tuple[str, str]]:
        """(user name, display name) of the active agency handlers of one region."""
        rows = self._session.execute(
            select(users.c.username, users.c.display_name)
            .where(
                users.c.role == "agency_handler",
                users.c.region_code == region_code,
                users.c.active.is_(True),
            )
            .order_by(users.c.display_name, users.c.username)
        )
        return [(row.username, row.display_name or row.username) for row in rows]

    def iter_records(
        self, query: FilingQuery, *, batch: int = 5000
    ) -> Iterable[tuple[FilingRow, FilingRecord]]:
        """Every match (no paging), streamed in id order."""
        statement = self._search(query).order_by(filings.c.id)
        for row in self._session.execute(statement.execution_options(yield_per=batch)):
            yield _filing_row(row), record_from_json(row.record_json)

    def current_for_person(self, id_number: str, states: Sequence[FilingState]) -> list[Filing]:
        rows = self._session.execute(
            select(filings.c.id, filings.c.current_version_id).where(
                filings.c.id_number == id_number.upper(),
                filings.c.state.in_([s.value for s in states]),
            )
        )
        return [self._version(r.current_version_id, r.id) for r in rows]

    def admission_candidates(self, id_number: str) -> list[Filing]:
        """The person's approved filings as the admission check weighs them: state and record
        of the current version, in one indexed read (``ix_filings_id_number_state``). The
        history (events) and the evidence are not read: validity depends on neither."""
        rows = self._session.execute(_ADMISSION_CANDIDATES, {"id_number": id_number.upper()})
        return [
            Filing(
                filing_id=row.id,
                lineage_id=row.lineage_id,
                record=record_from_json(row.record_json),
                state=FilingState(row.state),
                state_reason=row.state_reason,
                supersedes=row.supersedes,
                superseded_by=row.superseded_by,
            )
            for row in rows
        ]

    def due_to_expire(self, today: dt.date) -> list[str]:
        """Lineage ids of approved filings whose record may have passed ``valid_until``."""
        rows = self._session.execute(
            select(filings.c.id, filing_versions.c.record_json)
            .join(filing_versions, filing_versions.c.id == filings.c.current_version_id)
            .where(filings.c.state == FilingState.APPROVED.value)
        )
        due = []
        for row in rows:
            until = json.loads(row.record_json).get("valid_until")
            if until and dt.date.fromisoformat(until) < today:
                due.append(row.id)
        return due

    def promises_overdue(self, today: dt.date, region_prefix: str = "") -> list[str]:
        """Lineage ids of approved filings whose promised documents were due before ``today``."""
        rows = self._session.execute(
            select(filings.c.id, filing_versions.c.record_json)
            .join(filing_versions, filing_versions.c.id == filings.c.current_version_id)
            .where(
                filings.c.state == FilingState.APPROVED.value,
                filings.c.insured_region_code.startswith(region_prefix),
                filing_versions.c.record_json.contains('"promise_documents_due_on"'),
            )
            .order_by(filings.c.id)
        )
        due = []
        for row in rows:
            data = json.loads(row.record_json)
            until = data.get("promise_documents_due_on")
            if (
                until
                and not data.get("promise_documents_supplied_on")
                and dt.date.fromisoformat(until) < today
            ):
                due.append(row.id)
        return due

    def filed_versions(
        self, region_prefix: str, first_day: dt.date, last_day: dt.date, *, batch: int = 5000
    ) -> Iterator[tuple[str, FilingRecord, dt.date]]:
        """(version state, record, filed day) of versions filed in the period, by region,
        streamed (see :meth:`_in_key_order`: memory stays flat for any count)."""
        keys = (
            select(filing_versions.c.id)
            .join(filings, filings.c.id == filing_versions.c.filing_id)
            .where(*self._filed_in(region_prefix, first_day, last_day))
            .order_by(
                filings.c.insured_region_code,
                filing_versions.c.filed_on,
                filings.c.id,
                filing_versions.c.id,
            )
        )
        columns = (
            filing_versions.c.state,
            filing_versions.c.record_json,
            filing_versions.c.filed_on,
        )
        for r in self._in_key_order(keys, columns, batch):
            yield r.state, record_from_json(r.record_json), r.filed_on

    def _in_key_order(self, keys: Any, columns: Sequence[Any], batch: int) -> Iterator[Any]:
        """The versions ``keys`` selects (their ids, sorted), with ``columns``, in that order.

        Only the ids are sorted by the database (a million records' JSON in SQLite's sorter
        took 1.6 GB); each ``batch`` of ids then reads its rows by primary key. The ids come
        from a server-side cursor on PostgreSQL; on SQLite the read, when it is the session's
        first, takes no write lock (writers go on while it streams)."""
        if not self._session.in_transaction():
            self._session.connection(execution_options={READ_ONLY: True})
        ids = self._session.execute(keys.execution_options(yield_per=batch)).scalars()
        for chunk in ids.partitions(batch):
            found = {
                r.id: r
                for r in self._session.execute(
                    select(filing_versions.c.id, *columns).where(filing_versions.c.id.in_(chunk))
                )
            }
            for version_id in chunk:
                yield found[version_id]

    @staticmethod
    def _filed_in(region_prefix: str, first_day: dt.date, last_day: dt.date) -> list[Any]:
        return [
            filings.c.insured_region_code.startswith(region_prefix),
            filing_versions.c.filed_on >= first_day,
            filing_versions.c.filed_on <= last_day,
        ]

    def count_filed_versions(
        self, region_prefix: str, first_day: dt.date, last_day: dt.date
    ) -> int:
        statement = (
            select(func.count())
            .select_from(filing_versions)
            .join(filings, filings.c.id == filing_versions.c.filing_id)
            .where(*self._filed_in(region_prefix, first_day, last_day))
        )
        return int(self._session.execute(statement).scalar_one())

    @staticmethod
    def _listed_in(categories: Sequence[str]) -> Any:
        # 附件2's categories by the version's own category, and versions without one.
        return or_(
            filing_versions.c.category.is_(None), filing_versions.c.category.in_(list(categories))
        )

    @staticmethod
    def _listed_terms(
        region_prefix: str, first_day: dt.date, last_day: dt.date, categories: Sequence[str]
    ) -> list[Any]:
        """The quarterly list's versions by the version's own region column (the lineage's,
        written with every version): ``ix_filing_versions_region_filed_on`` serves them."""
        region = filing_versions.c.insured_region_code
        terms = [
            region.startswith(region_prefix),
            filing_versions.c.filed_on >= first_day,
            filing_versions.c.filed_on <= last_day,
            FilingRepository._listed_in(categories),
        ]
        if region_prefix:
            # The same codes as a key range: planners seek an index on a range, not on a
            # LIKE of a bound pattern (region codes are digits).
            after = region_prefix[:-1] + chr(ord(region_prefix[-1]) + 1)
            terms += [region >= region_prefix, region < after]
        return terms

    def listed_version_counts(
        self, region_prefix: str, first_day: dt.date, last_day: dt.date, categories: Sequence[str]
    ) -> list[tuple[str, int]]:
        """(insured region, versions) of the quarterly list's versions, by region in code
        order: one grouped statement over an index (no record read, no join), whatever the
        number of versions."""
        region = filing_versions.c.insured_region_code
        rows = self._session.execute(
            select(region, func.count())
            .select_from(filing_versions)
            .where(*self._listed_terms(region_prefix, first_day, last_day, categories))
            .group_by(region)
            .order_by(region)
        )
        return [(str(code), int(count)) for code, count in rows]

    def listed_versions_page(
        self,
        region_prefix: str,
        first_day: dt.date,
        last_day: dt.date,
        categories: Sequence[str],
        *,
        limit: int,
        offset: int,
    ) -> list[FilingRecord]:
        """One page of the quarterly list's versions in :meth:`filed_versions`' order (the
        version's region is its lineage's, its ``filing_id`` the lineage's id): the ids are
        paged in index order by the database, then only the page's records are read."""
        order = (
            filing_versions.c.insured_region_code,
            filing_versions.c.filed_on,
            filing_versions.c.filing_id,
            filing_versions.c.id,
        )
        keys = (
            select(*(c.label(f"k{n}") for n, c in enumerate(order)))
            .where(*self._listed_terms(region_prefix, first_day, last_day, categories))
            .order_by(*order)
            .limit(limit)
            .offset(offset)
            .subquery()
        )
        # The page's records by primary key, in the page's order: one statement.
        rows = self._session.execute(
            select(filing_versions.c.record_json)
            .join(keys, keys.c.k3 == filing_versions.c.id)
            .order_by(*(keys.c[f"k{n}"] for n in range(len(order))))
        )
        return [record_from_json(r.record_json) for r in rows]

    @staticmethod
    def _current_version_of_filing() -> Any:
        # The filing id is redundant (a current version is its filing's) but lets a planner
        # that starts from the versions' filed-on range reach each filing by its primary key
        # instead of scanning approved filings per version (quadratic on SQLite).
        return and_(
            filing_versions.c.id == filings.c.current_version_id,
            filing_versions.c.filing_id == filings.c.id,
        )

    @staticmethod
    def _annex2_terms(
        region_prefix: str, from_on: dt.date, to_on: dt.date, categories: Sequence[str]
    ) -> list[Any]:
        # 附件2 lists approved filings of the categories given, and rows imported without one.
        return [
            filings.c.state == FilingState.APPROVED.value,
            filings.c.insured_region_code.startswith(region_prefix),
            filing_versions.c.filed_on >= from_on,
            filing_versions.c.filed_on <= to_on,
            or_(filings.c.category.is_(None), filings.c.category.in_(list(categories))),
        ]

    def annex2_records(
        self,
        region_prefix: str,
        from_on: dt.date,
        to_on: dt.date,
        categories: Sequence[str],
        *,
        batch: int = 5000,
    ) -> Iterator[FilingRecord]:
        """附件2's records in its order (insured region, filed day, name), streamed."""
        name: Any = filings.c.name
        if self._session.get_bind().dialect.name == "postgresql":
            name = name.collate("C")  # code-point order, as SQLite and Python sort
        keys = (
            select(filing_versions.c.id)
            .select_from(filings)
            .join(filing_versions, self._current_version_of_filing())
            .where(*self._annex2_terms(region_prefix, from_on, to_on, categories))
            .order_by(filings.c.insured_region_code, filing_versions.c.filed_on, name, filings.c.id)
        )
        for r in self._in_key_order(keys, (filing_versions.c.record_json,), batch):
            yield record_from_json(r.record_json)

    def count_annex2_records(
        self, region_prefix: str, from_on: dt.date, to_on: dt.date, categories: Sequence[str]
    ) -> int:
        statement = (
            select(func.count())
            .select_from(filings)
            .join(filing_versions, self._current_version_of_filing())
            .where(*self._annex2_terms(region_prefix, from_on, to_on, categories))
        )
        return int(self._session.execute(statement).scalar_one())

    def duplicate_id_numbers(self, region_prefix: str, states: Sequence[FilingState]) -> list[str]:
        """ID numbers with live filings in more than one prefecture (by the first 4 digits)."""
        prefecture = func.substr(filings.c.insured_region_code, 1, 4)
        rows = self._session.execute(
            select(filings.c.id_number)
            .where(filings.c.state.in_([s.value for s in states]))
            .group_by(filings.c.id_number)
            .having(func.count(func.distinct(prefecture)) > 1)
            .order_by(filings.c.id_number)
        )
        found = [r.id_number for r in rows]
        if not region_prefix:
            return found
        # Keep the persons with at least one filing in the caller's region.
        mine = {
            r.id_number
            for r in self._session.execute(
                select(filings.c.id_number).where(
                    filings.c.id_number.in_(found),
                    filings.c.insured_region_code.startswith(region_prefix),
                )
            )
        }
        return [n for n in found if n in mine]

    def live_regions_by_id_number(
        self, id_numbers: Iterable[str], states: Sequence[FilingState]
    ) -> list[tuple[str, str, str]]:
        """(id_number, insured region, lineage id) of live filings of these persons."""
        wanted = list(id_numbers)
        live = {s.value for s in states}
        found: list[tuple[str, str, str]] = []
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            # Filter the state here, not in SQL: the planner would otherwise pick the state index.
            rows = self._session.execute(
                select(
                    filings.c.id_number,
                    filings.c.insured_region_code,
                    filings.c.id,
                    filings.c.state,
                ).where(filings.c.id_number.in_(chunk))
            )
            found.extend(
                (r.id_number, r.insured_region_code, r.id) for r in rows if r.state in live
            )
        return found

    def activity_by_region(
        self,
        region_prefix: str,
        start_at: dt.datetime,
        end_at: dt.datetime,
        first_day: dt.date,
        last_day: dt.date,
    ) -> list[RegionActivity]:
        """Per insured region under the prefix: the period's submissions (see RegionActivity).

        ``[start_at, end_at)`` bounds the timestamps, ``first_day``..``last_day`` the
        filed days. Two aggregate statements, plain SQL on SQLite and PostgreSQL.
        """
        start, end = as_utc(start_at), as_utc(end_at)
        version = filing_versions.c
        created = and_(version.created_at >= start, version.created_at < end)
        filed = and_(version.filed_on >= first_day, version.filed_on <= last_day)
        columns = [
            _count_when(and_(created, version.state == state)).label(f"state_{state}")
            for state in REPORTED_STATES
        ]
        columns += [
            _count_when(
                and_(
                    created,
                    version.state != FilingState.DRAFT.value,
                    filings.c.source == source,
                )
            ).label(f"source_{source}")
            for source in SOURCES
        ]
        rows = self._session.execute(
            select(
                filings.c.insured_region_code,
                *columns,
                _count_when(and_(filed, version.registration_type == "1")).label("new"),
                _count_when(and_(filed, version.registration_type == "2")).label("changed"),
                func.max(
                    case(
                        (
                            and_(filings.c.source == "import", version.created_at < end),
                            version.created_at,
                        ),
                        else_=None,
                    )
                ).label("last_imported_at"),
            )
            .join(filings, filings.c.id == version.filing_id)
            .where(filings.c.insured_region_code.startswith(region_prefix))
            .group_by(filings.c.insured_region_code)
        ).all()
        submitted: dict[str, Any] = {
            row.insured_region_code: row.last_at
            for row in self._session.execute(
                select(
                    filings.c.insured_region_code,
                    func.max(filing_events.c.at).label("last_at"),
                )
                .join(filings, filings.c.id == filing_events.c.filing_id)
                .where(
                    filings.c.insured_region_code.startswith(region_prefix),
                    filing_events.c.action == "submit",
                    filing_events.c.at < end,
                )
                .group_by(filings.c.insured_region_code)
            )
        }
        found: list[RegionActivity] = []
        for row in rows:
            last_submitted = submitted.pop(row.insured_region_code, None)
            found.append(
                RegionActivity(
                    row.insured_region_code,
                    {state: int(row._mapping[f"state_{state}"]) for state in REPORTED_STATES},
                    {source: int(row._mapping[f"source_{source}"]) for source in SOURCES},
                    int(row.new),
                    int(row.changed),
                    _timestamp(last_submitted),
                    _timestamp(row.last_imported_at),
                )
            )
        return found

    # --- filing numbers ------------------------------------------------------------------

    def allocate_number(self, region_code: str, year: int) -> int:
        """The next sequence for (region, year), taken under a row lock (SQLite: BEGIN IMMEDIATE)."""
        where = and_(
            filing_number_sequences.c.region_code == region_code,
            filing_number_sequences.c.year == year,
        )
        for _ in range(3):
            current = self._session.execute(
                select(filing_number_sequences.c.last_sequence).where(where).with_for_update()
            ).scalar_one_or_none()
            if current is not None:
                self._session.execute(
                    update(filing_number_sequences).where(where).values(last_sequence=current + 1)
                )
                return int(current) + 1
            try:
                with self._session.begin_nested():
                    self._session.execute(
                        insert(filing_number_sequences).values(
                            region_code=region_code, year=year, last_sequence=1
                        )
                    )
                return 1
            except IntegrityError:
                continue  # a concurrent first number for this region and year: lock its row
        raise RuntimeError("could not allocate a filing number")  # pragma: no cover

    # --- evidence files ------------------------------------------------------------------

    def put_file(self, sha256: str, media_type: str, content: bytes, at: dt.datetime) -> None:
        exists = self._session.execute(
            select(evidence_files.c.sha256).where(evidence_files.c.sha256 == sha256)
        ).first()
        if exists is None:
            self._session.execute(
                insert(evidence_files).values(
                    sha256=sha256,
                    media_type=media_type,
                    size=len(content),
                    content=content,
                    created_at=as_utc(at),
                )
            )

    def file(self, sha256: str) -> tuple[str, bytes] | None:
        row = self._session.execute(
            select(evidence_files.c.media_type, evidence_files.c.content).where(
                evidence_files.c.sha256 == sha256
            )
        ).first()
        return (row.media_type, bytes(row.content)) if row else None

    # --- batch import (报盘) -------------------------------------------------------------

    def import_batch(self, file_sha256: str) -> ImportBatch | None:
        row = self._session.execute(
            select(import_batches).where(import_batches.c.file_sha256 == file_sha256)
        ).first()
        if row is None:
            return None
        return ImportBatch(
            row.file_sha256,
            row.filename,
            as_utc(row.imported_at),
            row.actor,
            ImportReport.from_dict(json.loads(row.report_json), replayed=False),
        )

    def _batches(
        self,
        scope_prefix: str,
        region_prefix: str | None,
        exact_region: str | None,
        start_at: dt.datetime | None,
        end_at: dt.datetime | None,
    ) -> Select[Any]:
        region = import_batches.c.region_code
        conditions = [region.startswith(scope_prefix)]
        if region_prefix is not None:
            conditions.append(region.startswith(region_prefix))
        if exact_region is not None:
            conditions.append(region == exact_region)
        if start_at is not None:
            conditions.append(import_batches.c.imported_at >= as_utc(start_at))
        if end_at is not None:
            conditions.append(import_batches.c.imported_at < as_utc(end_at))
        return (
            select(
                import_batches.c.id,
                import_batches.c.file_sha256,
                import_batches.c.filename,
                import_batches.c.imported_at,
                import_batches.c.actor,
                import_batches.c.total_rows,
                import_batches.c.imported_rows,
                import_batches.c.duplicate_rows,
                import_batches.c.rejected_rows,
                region.label("batch_region_code"),
                users.c.display_name,
            )
            .outerjoin(users, users.c.username == import_batches.c.actor)
            .where(and_(*conditions))
        )

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
        """(total, one page newest first) of the batches submitted for regions in the scope.

        A batch belongs to its stored region, whoever imported it (an account, the command
        line, or an account deleted since); batches without a region are listed nowhere.
        """
        statement = self._batches(scope_prefix, region_prefix, exact_region, start_at, end_at)
        total = int(
            self._session.execute(
                select(func.count()).select_from(statement.subquery())
            ).scalar_one()
        )
        rows = self._session.execute(
            statement.order_by(import_batches.c.imported_at.desc(), import_batches.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        return total, [_batch_row(row) for row in rows]

    def import_batch_by_id(self, batch_id: int) -> tuple[ImportBatchRow, ImportReport] | None:
        """One batch with its stored report, whatever its region (the caller checks scope)."""
        row = self._session.execute(
            self._batches("", None, None, None, None)
            .add_columns(import_batches.c.report_json)
            .where(import_batches.c.id == batch_id)
        ).first()
        if row is None:
            return None
        return _batch_row(row), ImportReport.from_dict(json.loads(row.report_json), replayed=False)

    def record_import_batch(
        self, report: ImportReport, at: dt.datetime, actor: str, region_code: str
    ) -> None:
        """The batch of ``report`` (its file's sha256 is unique: a second one raises
        :class:`StoredConcurrently` inside a savepoint)."""
        self._session.execute(
            insert(import_batches).values(
                file_sha256=report.file_sha256,
                filename=report.filename[:200],
                imported_at=as_utc(at),
                actor=actor[:64],
                total_rows=report.total_rows,
                imported_rows=report.imported,
                duplicate_rows=report.duplicates,
                rejected_rows=report.rejected,
                report_json=json.dumps(report.as_dict(), ensure_ascii=False),
                region_code=region_code,
            )
        )

    def stored_import_keys(self, keys: Sequence[str]) -> set[str]:
        """Which of ``keys`` are stored already: look-ups in the unique index of the batch's
        own keys, so the cost follows the batch, not the size of the database."""
        found: set[str] = set()
        for part in _parts(keys):
            rows = self._session.execute(
                select(filings.c.import_key).where(self._among(filings.c.import_key, part))
            )
            found.update(r.import_key for r in rows)
        return found

    def _among(self, column: ColumnElement[str], values: Sequence[str]) -> ColumnElement[bool]:
        """``column`` is one of ``values``, bound as one parameter (an array on PostgreSQL, a
        JSON list on SQLite): thousands of bound parameters cost more to render than the
        indexed look-up itself."""
        if self._session.connection().dialect.name == "postgresql":
            return column == any_(bindparam("among", list(values), type_=ARRAY(String)))
        listed: Select[Any] = select(literal_column("value")).select_from(
            func.json_each(bindparam("among", json.dumps(list(values))))
        )
        return column.in_(listed.scalar_subquery())

    def live_prefectures_of(
        self, id_numbers: Sequence[str], states: Sequence[FilingState]
    ) -> dict[str, set[str]]:
        """ID number -> insured regions of its live filings, for these ID numbers only
        (the ID number index)."""
        live = [s.value for s in states]
        found: dict[str, set[str]] = {}
        for part in _parts(id_numbers):
            rows = self._session.execute(
                select(filings.c.id_number, filings.c.insured_region_code).where(
                    self._among(filings.c.id_number, part), filings.c.state.in_(live)
                )
            )
            for row in rows:
                found.setdefault(row.id_number, set()).add(row.insured_region_code)
        return found

    def refresh_statistics(self) -> None:
        """After a 报盘 import: without fresh statistics SQLite's planner may read a person's
        filings through the state index (every approved filing) instead of the ID number's
        (``yidi.platform.db.refresh_statistics``: bounded sampling, milliseconds at any size;
        on PostgreSQL a sampled ``ANALYZE`` of the three tables the import wrote)."""
        refresh_statistics(
            self._session.connection(), ("filings", "filing_versions", "filing_events")
        )

    def bulk_insert_imported(self, rows: Sequence[ImportedFiling], by: ImportedBy) -> None:
        """Executemany of the rows' lineages, versions and first events: the 报盘 fast path
        (no per-row statements). Each row is stored approved, filed on ``by.filed_on``."""
        if not rows:
            return
        if self._session.connection().dialect.name == "postgresql":
            self._copy_imported(rows, by)
            return
        at = as_utc(by.at)
        approved = FilingState.APPROVED.value
        self._executemany(
            filings,
            [
                {
                    "id": row.lineage_id,
                    "filing_number": None,
                    "current_version_id": row.version_id,
                    "state": approved,
                    "version": row.version,
                    "insured_region_code": row.insured_region_code,
                    "id_number": row.id_number,
                    "name": row.name,
                    "category": row.category,
                    "source": "import",
                    "import_key": row.import_key,
                    "created_at": at,
                    "updated_at": at,
                    "missing_fields": row.missing_fields,
                }
                for row in rows
            ],
        )
        self._executemany(
            filing_versions,
            [
                {
                    "id": row.version_id,
                    "filing_id": row.lineage_id,
                    "version": row.version,
                    "state": approved,
                    "registration_type": row.registration_type,
                    "category": row.category,
                    "insured_region_code": row.insured_region_code,
                    "record_json": row.record_json,
                    "state_reason": None,
                    "supersedes": None,
                    "superseded_by": None,
                    "filed_on": by.filed_on,
                    "created_at": at,
                }
                for row in rows
            ],
        )
        self._executemany(
            filing_events,
            [
                {
                    "filing_id": row.lineage_id,
                    "version_id": row.version_id,
                    "seq": 1,
                    "action": "create",
                    "from_state": None,
                    "to_state": approved,
                    "actor_id": by.actor_id,
                    "actor_role": by.actor_role,
                    "at": at,
                    "reason": by.reason,
                    "version": row.version,
                }
                for row in rows
            ],
        )

    def _copy_imported(self, rows: Sequence[ImportedFiling], by: ImportedBy) -> None:
        """PostgreSQL: COPY the rows into a temporary staging table, then one INSERT … SELECT
        per table, in the caller's transaction (a unique key met raises IntegrityError in the
        savepoint as the executemany path does). COPY skips the per-row statement and
        parameter handling that dominates executemany."""
        connection = self._session.connection()
        connection.exec_driver_sql(_STAGING_TABLE)
        connection.exec_driver_sql("TRUNCATE filing_import_staging")
        raw: Any = connection.connection.driver_connection
        with raw.cursor() as cursor, cursor.copy(_STAGING_COPY) as copy:
            for row in rows:
                copy.write_row(
                    (
                        row.lineage_id,
                        row.version_id,
                        row.version,
                        row.insured_region_code,
                        row.id_number,
                        row.name,
                        row.category,
                        row.registration_type,
                        row.record_json,
                        row.import_key,
                        row.missing_fields,
                    )
                )
        values = {
            "at": as_utc(by.at),
            "approved": FilingState.APPROVED.value,
            "filed_on": by.filed_on,
            "actor_id": by.actor_id,
            "actor_role": by.actor_role,
            "reason": by.reason,
        }
        for statement in _STAGED_INSERTS:
            connection.execute(text(statement), values)

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A nested transaction; a unique key met inside it raises StoredConcurrently."""
        try:
            with self._session.begin_nested():
                yield
        except IntegrityError:
            raise StoredConcurrently from None

    def _executemany(self, table: Table, rows: list[dict[str, Any]]) -> None:
        """One INSERT compiled for the dialect, values bound by the column types' own processors.

        This skips SQLAlchemy's per-row parameter bookkeeping, which costs more
        than SQLite's insert itself for a million rows; the SQL is still
        generated by SQLAlchemy for whichever database is in use.
        """
        connection = self._session.connection()
        dialect = connection.dialect
        if dialect.name == "sqlite":
            # A bigger page cache keeps the indexes of a million-row import in memory.
            connection.exec_driver_sql("PRAGMA cache_size=-262144")
        keys = list(rows[0])
        compiled = insert(table).compile(dialect=dialect, column_keys=keys)
        processors = [
            (key, processor)
            for key in keys
            if (processor := table.c[key].type.bind_processor(dialect)) is not None
        ]
        if processors:
            for row in rows:
                for key, processor in processors:
                    value = row[key]
                    if value is not None:
                        row[key] = processor(value)
        if compiled.positional:
            order = compiled.positiontup or []
            connection.exec_driver_sql(
                str(compiled), [tuple(row[name] for name in order) for row in rows]
            )
        else:
            connection.exec_driver_sql(str(compiled), rows)


__all__ = ["FilingRepository", "lineage_values"]
