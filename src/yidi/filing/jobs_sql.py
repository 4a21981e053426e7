"""Background job rows (the ``jobs`` table)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, insert, select, update
from sqlalchemy.orm import Session

from yidi.kernel.audit import as_utc
from yidi.platform.tables import jobs


def _changed(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


class JobRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, values: dict[str, Any]) -> None:
        self._session.execute(insert(jobs).values(**values))

    def get(self, job_id: str) -> Any | None:
        return self._session.execute(select(jobs).where(jobs.c.id == job_id)).first()

    def pending_of(self, actor: str, file_sha256: str, states: Sequence[str]) -> Any | None:
        return self._session.execute(
            select(jobs).where(
                jobs.c.actor == actor,
                jobs.c.file_sha256 == file_sha256,
                jobs.c.state.in_(states),
            )
        ).first()

    def recent(self, actor: str, limit: int) -> Sequence[Any]:
        return self._session.execute(
            select(jobs)
            .where(jobs.c.actor == actor)
            .order_by(jobs.c.created_at.desc(), jobs.c.id)
            .limit(limit)
        ).all()

    def oldest(self, state: str) -> str | None:
        return self._session.execute(
            select(jobs.c.id).where(jobs.c.state == state).order_by(jobs.c.created_at, jobs.c.id)
        ).scalar()

    def move(self, job_id: str, from_state: str, values: dict[str, Any]) -> bool:
        """Change a job only if it is still in ``from_state`` (claims and finishes)."""
        result = self._session.execute(
            update(jobs).where(jobs.c.id == job_id, jobs.c.state == from_state).values(**values)
        )
        return _changed(result) == 1

    def fail_started_before(self, state: str, before: dt.datetime, values: dict[str, Any]) -> int:
        result = self._session.execute(
            update(jobs)
            .where(and_(jobs.c.state == state, jobs.c.started_at < as_utc(before)))
            .values(**values)
        )
        return _changed(result)
