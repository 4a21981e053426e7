"""Small helpers the repositories share for reading results of SQLAlchemy statements."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any, TypeVar

from sqlalchemy import Row, Select
from sqlalchemy.orm import Session

from yidi.kernel.audit import as_utc

T = TypeVar("T")


def rowcount(result: Any) -> int:
    """Rows an UPDATE or DELETE changed (a CursorResult's count; typed loosely by SQLAlchemy)."""
    return int(getattr(result, "rowcount", 0) or 0)


def first_row(session: Session, query: Select[Any], for_update: bool = False) -> Row[Any] | None:
    """The first row of ``query``, locked (``FOR UPDATE``) when asked."""
    return session.execute(query.with_for_update() if for_update else query).first()


def utc_or_none(value: dt.datetime | None) -> dt.datetime | None:
    """A stored instant as aware UTC (SQLite hands them back naive); None stays None."""
    return as_utc(value) if value is not None else None


def record_from_row(cls: type[T], row: Any, **converted: Any) -> T:
    """The dataclass ``cls`` built from the row's columns of the same names; ``converted``
    gives the fields whose stored form differs (enums, instants, flags). A field the row
    lacks keeps its default, or the constructor refuses the row."""
    mapping = row._mapping
    values = dict(converted)
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        if field.name not in values and field.name in mapping:
            values[field.name] = mapping[field.name]
    return cls(**values)
