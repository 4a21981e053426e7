"""Filings in storage: versions, events, evidence, filing-number sequences, import batches.

A :class:`~yidi.filing.model.lifecycle.Filing` is one version; a row of
``filings`` groups all versions of one filing (its lineage) and carries the
current state and the searchable fields. Saving a version writes only what is
new: events and evidence are appended, never rewritten or removed.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, Table, and_, case, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from yidi.filing.model.evidence import Evidence, EvidenceFile, EvidenceKind
from yidi.filing.model.lifecycle import Filing, FilingAction, FilingEvent, FilingState
from yidi.filing.model.record import (
    Delegate,
    DesignatedInstitution,
    FilingRecord,
    RegistrationType,
    SignedBy,
)
from yidi.kernel.audit import as_utc
from yidi.kernel.errors import Conflict
from yidi.kernel.identity import Gender
from yidi.kernel.insurance import FilingCategory, HospitalLevel, InsuranceType, PersonType
from yidi.platform.tables import (
    evidence_files,
    filing_events,
    filing_evidence,
    filing_number_sequences,
    filing_versions,
    filings,
    import_batches,
    users,
)

# --- record <-> JSON ------------------------------------------------------------------------

# The states in which a filing counts for the one-live-filing rule (the partial unique
# indexes of the schema name the same four).
LIVE_STATE_VALUES: tuple[str, ...] = ("draft", "submitted", "rejected", "approved")


def duplicate_filing(filing_id: str) -> Conflict:
    """The one answer for a second live filing of a person in one category and region."""
    return Conflict(
        "FILING_DUPLICATE",
        "该参保人员在本统筹区已有同类别的备案（草稿、待审核或已备案），请办理变更或先撤销",
        "this person already has a live filing of this category here",
        details={"filing_id": filing_id},
    )


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def _day(text: Any) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def record_to_dict(record: FilingRecord) -> dict[str, Any]:
    """Every field of the record as JSON-ready values (enums by value, dates ISO)."""
    delegate = record.delegate
    return {
        "insured_region_code": record.insured_region_code,
        "name": record.name,
        "gender": record.gender.value if record.gender else None,
        "insurance_type": record.insurance_type.value if record.insurance_type else None,
        "category": record.category.value if record.category else None,
        "person_type": record.person_type.value if record.person_type else None,
        "registration_type": record.registration_type.value,
        "social_security_number": record.social_security_number,
        "social_security_card_number": record.social_security_card_number,
        "has_second_generation_card": record.has_second_generation_card,
        "home_address": record.home_address,
        "contact_address": record.contact_address,
        "phone": record.phone,
        "mobile": record.mobile,
        "destination_province_code": record.destination_province_code,
        "destination_prefecture_code": record.destination_prefecture_code,
        "destination_county_code": record.destination_county_code,
        "designated_institutions": [
            {"name": i.name, "level": int(i.level) if i.level else None, "code": i.code}
            for i in record.designated_institutions
        ],
        "signed_by": record.signed_by.value if record.signed_by else None,
        "delegate": (
            {"name": delegate.name, "relation": delegate.relation, "id_number": delegate.id_number}
            if delegate
            else None
        ),
        "filled_on": _iso(record.filled_on),
        "admitted_on": _iso(record.admitted_on),
        "filing_number": record.filing_number,
        "handling_agency": record.handling_agency,
        "handler": record.handler,
        "handled_on": _iso(record.handled_on),
        "valid_from": _iso(record.valid_from),
        "valid_until": _iso(record.valid_until),
        "version": record.version,
    } | _promise_fields(record)


def _promise_fields(record: FilingRecord) -> dict[str, Any]:
    """The 2022 承诺制 fields, written only when set: a 2017 record's JSON stays as it was."""
    fields: dict[str, Any] = {
        "promise_signed": record.promise_signed or None,
        "promise_documents_due_on": _iso(record.promise_documents_due_on),
        "promise_documents_supplied_on": _iso(record.promise_documents_supplied_on),
        "promise_lapsed_from": (
            record.promise_lapsed_from.value if record.promise_lapsed_from else None
        ),
        "false_promise_on": _iso(record.false_promise_on),
        "fund_recovery_required": record.fund_recovery_required or None,
    }
    return {key: value for key, value in fields.items() if value is not None}


def record_from_dict(data: dict[str, Any]) -> FilingRecord:
    delegate = data.get("delegate")
    return FilingRecord(
        insured_region_code=data.get("insured_region_code"),
        name=data.get("name"),
        gender=Gender(data["gender"]) if data.get("gender") else None,
        insurance_type=InsuranceType(data["insurance_type"])
        if data.get("insurance_type")
        else None,
        category=FilingCategory(data["category"]) if data.get("category") else None,
        person_type=PersonType(data["person_type"]) if data.get("person_type") else None,
        registration_type=RegistrationType(data.get("registration_type") or "1"),
        social_security_number=data.get("social_security_number"),
        social_security_card_number=data.get("social_security_card_number"),
        has_second_generation_card=data.get("has_second_generation_card"),
        home_address=data.get("home_address"),
        contact_address=data.get("contact_address"),
        phone=data.get("phone"),
        mobile=data.get("mobile"),
        destination_province_code=data.get("destination_province_code"),
        destination_prefecture_code=data.get("destination_prefecture_code"),
        destination_county_code=data.get("destination_county_code"),
        designated_institutions=tuple(
            DesignatedInstitution(
                i["name"], HospitalLevel(i["level"]) if i.get("level") else None, i.get("code")
            )
            for i in data.get("designated_institutions") or ()
        ),
        signed_by=SignedBy(data["signed_by"]) if data.get("signed_by") else None,
        delegate=Delegate(**delegate) if delegate else None,
        filled_on=_day(data.get("filled_on")),
        admitted_on=_day(data.get("admitted_on")),
        filing_number=data.get("filing_number"),
        handling_agency=data.get("handling_agency"),
        handler=data.get("handler"),
        handled_on=_day(data.get("handled_on")),
        valid_from=_day(data.get("valid_from")),
        valid_until=_day(data.get("valid_until")),
        version=int(data.get("version") or 1),
        promise_signed=bool(data.get("promise_signed")),
        promise_documents_due_on=_day(data.get("promise_documents_due_on")),
        promise_documents_supplied_on=_day(data.get("promise_documents_supplied_on")),
        promise_lapsed_from=(
            FilingCategory(data["promise_lapsed_from"]) if data.get("promise_lapsed_from") else None
        ),
        false_promise_on=_day(data.get("false_promise_on")),
        fund_recovery_required=bool(data.get("fund_recovery_required")),
    )


def record_json(record: FilingRecord) -> str:
    return json.dumps(record_to_dict(record), ensure_ascii=False, separators=(",", ":"))


# --- query criteria and rows ----------------------------------------------------------------


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
    limit: int = 50
    offset: int = 0


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


@dataclass(frozen=True, slots=True)
class ImportBatch:
    file_sha256: str
    filename: str
    imported_at: dt.datetime
    actor: str
    report: dict[str, Any]


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


REPORTED_STATES: tuple[str, ...] = (
    FilingState.SUBMITTED.value,
    FilingState.APPROVED.value,
    FilingState.REJECTED.value,
    FilingState.SUPERSEDED.value,
    FilingState.CANCELLED.value,
    FilingState.EXPIRED.value,
)
SOURCES: tuple[str, ...] = ("counter", "import")


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
            record=record_from_dict(json.loads(row.record_json)),
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
        query = select(filings).where(filings.c.id == lineage_id)
        if for_update:
            query = query.with_for_update()
        row = self._session.execute(query).first()
        return self._stored(row) if row else None

    def by_number(self, filing_number: str, *, for_update: bool = False) -> StoredFiling | None:
        query = select(filings).where(filings.c.filing_number == filing_number)
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
                record_from_dict(json.loads(r.record_json)),
                r.filed_on,
            )
            for r in rows
        ]

    def version(self, version_id: str, lineage_id: str) -> Filing:
        return self._version(version_id, lineage_id)

    def _search(self, query: FilingQuery) -> Select[Any]:
        conditions = []
        if query.id_number:
            conditions.append(filings.c.id_number == query.id_number.strip().upper())
        if query.name:
            conditions.append(filings.c.name == query.name.strip())
        if query.filing_number:
            conditions.append(filings.c.filing_number == query.filing_number.strip().upper())
        if query.filing_number_prefix:
            prefix = query.filing_number_prefix.strip().upper()
            conditions.append(filings.c.filing_number.startswith(prefix, autoescape=True))
        if query.name_prefix:
            conditions.append(filings.c.name.startswith(query.name_prefix.strip(), autoescape=True))
        if query.id_number_tail:
            tail = query.id_number_tail.strip().upper()
            conditions.append(filings.c.id_number.endswith(tail, autoescape=True))
        if query.states:
            conditions.append(filings.c.state.in_([s.value for s in query.states]))
        if query.category:
            conditions.append(filings.c.category == query.category.value)
        if query.region_prefix is not None:
            conditions.append(filings.c.insured_region_code.startswith(query.region_prefix))
        if query.own_id_number is not None:
            conditions.append(filings.c.id_number == query.own_id_number.upper())
        statement = select(filings, filing_versions.c.record_json, filing_versions.c.filed_on)
        statement = statement.join(
            filing_versions, filing_versions.c.id == filings.c.current_version_id
        )
        return statement.where(and_(*conditions)) if conditions else statement

    def search(self, query: FilingQuery) -> tuple[int, list[tuple[Any, FilingRecord]]]:
        """(total matches, one page of (lineage row, current record))."""
        statement = self._search(query)
        total = int(
            self._session.execute(
                select(func.count()).select_from(statement.subquery())
            ).scalar_one()
        )
        rows = self._session.execute(
            statement.order_by(filings.c.updated_at.desc(), filings.c.id)
            .limit(query.limit)
            .offset(query.offset)
        )
        return total, [(row, record_from_dict(json.loads(row.record_json))) for row in rows]

    def iter_records(
        self, query: FilingQuery, *, batch: int = 5000
    ) -> Iterable[tuple[Any, FilingRecord]]:
        """Every match (no paging), streamed in id order."""
        statement = self._search(query).order_by(filings.c.id)
        for row in self._session.execute(statement.execution_options(yield_per=batch)):
            yield row, record_from_dict(json.loads(row.record_json))

    def current_for_person(self, id_number: str, states: Sequence[FilingState]) -> list[Filing]:
        rows = self._session.execute(
            select(filings.c.id, filings.c.current_version_id).where(
                filings.c.id_number == id_number.upper(),
                filings.c.state.in_([s.value for s in states]),
            )
        )
        return [self._version(r.current_version_id, r.id) for r in rows]

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
        self, region_prefix: str, first_day: dt.date, last_day: dt.date
    ) -> list[tuple[str, FilingRecord, dt.date]]:
        """(version state, record, filed day) of versions filed in the period, by region."""
        rows = self._session.execute(
            select(
                filing_versions.c.state, filing_versions.c.record_json, filing_versions.c.filed_on
            )
            .join(filings, filings.c.id == filing_versions.c.filing_id)
            .where(
                filings.c.insured_region_code.startswith(region_prefix),
                filing_versions.c.filed_on >= first_day,
                filing_versions.c.filed_on <= last_day,
            )
            .order_by(filings.c.insured_region_code, filing_versions.c.filed_on, filings.c.id)
        )
        return [(r.state, record_from_dict(json.loads(r.record_json)), r.filed_on) for r in rows]

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
            json.loads(row.report_json),
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

    def import_batch_by_id(self, batch_id: int) -> tuple[ImportBatchRow, dict[str, Any]] | None:
        """One batch with its stored report, whatever its region (the caller checks scope)."""
        row = self._session.execute(
            self._batches("", None, None, None, None)
            .add_columns(import_batches.c.report_json)
            .where(import_batches.c.id == batch_id)
        ).first()
        if row is None:
            return None
        return _batch_row(row), json.loads(row.report_json)

    def record_import_batch(
        self,
        file_sha256: str,
        filename: str,
        at: dt.datetime,
        actor: str,
        counts: tuple[int, int, int, int],
        report: dict[str, Any],
        region_code: str,
    ) -> None:
        total, imported, duplicates, rejected = counts
        self._session.execute(
            insert(import_batches).values(
                file_sha256=file_sha256,
                filename=filename[:200],
                imported_at=as_utc(at),
                actor=actor[:64],
                total_rows=total,
                imported_rows=imported,
                duplicate_rows=duplicates,
                rejected_rows=rejected,
                report_json=json.dumps(report, ensure_ascii=False),
                region_code=region_code,
            )
        )

    def existing_import_keys(self, keys: Iterable[str]) -> set[str]:
        wanted = list(keys)
        found: set[str] = set()
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            rows = self._session.execute(
                select(filings.c.import_key).where(filings.c.import_key.in_(chunk))
            )
            found.update(r.import_key for r in rows)
        return found

    def all_import_keys(self) -> set[str]:
        """Every import key already stored: one scan instead of a query per batch."""
        rows = self._session.execute(
            select(filings.c.import_key).where(filings.c.import_key.is_not(None))
        )
        return {r.import_key for r in rows}

    def live_prefectures_by_id_number(self, states: Sequence[FilingState]) -> dict[str, set[str]]:
        """ID number -> insured regions of its live filings, for the whole database in one scan."""
        live = {s.value for s in states}
        found: dict[str, set[str]] = {}
        rows = self._session.execute(
            select(filings.c.id_number, filings.c.insured_region_code, filings.c.state)
        )
        for row in rows:
            if row.state in live:
                found.setdefault(row.id_number, set()).add(row.insured_region_code)
        return found

    def bulk_insert_imported(
        self,
        lineage_rows: list[dict[str, Any]],
        version_rows: list[dict[str, Any]],
        event_rows: list[dict[str, Any]],
    ) -> None:
        """Executemany of already-built rows: the 报盘 fast path (no per-row statements)."""
        if lineage_rows:
            self._executemany(filings, lineage_rows)
            self._executemany(filing_versions, version_rows)
            self._executemany(filing_events, event_rows)

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


__all__ = [
    "FilingQuery",
    "FilingRepository",
    "ImportBatch",
    "ImportBatchRow",
    "RegionActivity",
    "StoredFiling",
    "VersionRow",
    "record_from_dict",
    "record_to_dict",
]
