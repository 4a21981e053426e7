"""Background job rows (the ``jobs`` table)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, insert, select, update
from sqlalchemy.orm import Session

from yidi.filing.ports import JobChange, JobRow
from yidi.kernel.audit import as_utc
from yidi.platform.rows import record_from_row, rowcount
from yidi.platform.tables import jobs


def _job(row: Any) -> JobRow:
    return record_from_row(
        JobRow,
        row,
        payload=bytes(row.payload) if row.payload is not None else None,
        total_bytes=int(row.total_bytes),
        processed_rows=int(row.processed_rows),
        created_at=as_utc(row.created_at),
        started_at=as_utc(row.started_at) if row.started_at else None,
        finished_at=as_utc(row.finished_at) if row.finished_at else None,
        total_rows=int(row.total_rows),
    )


def _values(change: JobChange) -> dict[str, Any]:
    values: dict[str, Any] = {"state": change.state}
    for name in ("started_at", "finished_at"):
        at = getattr(change, name)
        if at is not None:
            values[name] = as_utc(at)
    for name in ("processed_rows", "total_rows", "result_json", "error_json"):
        value = getattr(change, name)
        if value is not None:
            values[name] = value
    if change.drop_payload:
        values["payload"] = None
    return values


class JobRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, job: JobRow) -> None:
        values = dataclasses.asdict(job)
        values["created_at"] = as_utc(job.created_at)
        self._session.execute(insert(jobs).values(**values))

    def get(self, job_id: str) -> JobRow | None:
        row = self._session.execute(select(jobs).where(jobs.c.id == job_id)).first()
        return _job(row) if row else None

    def pending_of(self, actor: str, file_sha256: str, states: Sequence[str]) -> JobRow | None:
        row = self._session.execute(
            select(jobs).where(
                jobs.c.actor == actor,
                jobs.c.file_sha256 == file_sha256,
                jobs.c.state.in_(states),
            )
        ).first()
        return _job(row) if row else None

    def recent(self, actor: str, limit: int) -> Sequence[JobRow]:
        rows = self._session.execute(
            select(jobs)
            .where(jobs.c.actor == actor)
            .order_by(jobs.c.created_at.desc(), jobs.c.id)
            .limit(limit)
        ).all()
        return [_job(row) for row in rows]

    def oldest(self, state: str) -> str | None:
        return self._session.execute(
            select(jobs.c.id).where(jobs.c.state == state).order_by(jobs.c.created_at, jobs.c.id)
        ).scalar()

    def move(self, job_id: str, from_state: str, change: JobChange) -> bool:
        """Change a job only if it is still in ``from_state`` (claims and finishes)."""
        result = self._session.execute(
            update(jobs)
            .where(jobs.c.id == job_id, jobs.c.state == from_state)
            .values(**_values(change))
        )
        return rowcount(result) == 1

    def fail_started_before(self, state: str, before: dt.datetime, change: JobChange) -> int:
        result = self._session.execute(
            update(jobs)
            .where(and_(jobs.c.state == state, jobs.c.started_at < as_utc(before)))
            .values(**_values(change))
        )
        return rowcount(result)

    def progress(self, job_id: str, processed_rows: int, total_rows: int) -> None:
        """A running job's count so far, for the pages of every server process."""
        self._session.execute(
            update(jobs)
            .where(jobs.c.id == job_id)
            .values(processed_rows=processed_rows, total_rows=total_rows)
        )
