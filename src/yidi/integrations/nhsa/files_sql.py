"""Uploaded gateway files in the ``gateway_files`` table (9101 / 9102)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from yidi.integrations.nhsa.files import StoredFile
from yidi.kernel.audit import as_utc
from yidi.platform.rows import record_from_row
from yidi.platform.tables import gateway_files


def _stored(row: Any) -> StoredFile:
    return record_from_row(
        StoredFile,
        row,
        content=bytes(row.content),
        uploaded_at=as_utc(row.uploaded_at),
        expires_at=as_utc(row.expires_at),
    )


class SqlGatewayFileStore:
    """Each call is its own short transaction."""

    def __init__(self, session_factory: Callable[[], Session]) -> None:
        self._sessions = session_factory

    def by_message(self, fixmedins_code: str, msgid: str) -> StoredFile | None:
        with self._sessions() as session:
            row = session.execute(
                select(gateway_files).where(
                    gateway_files.c.fixmedins_code == fixmedins_code,
                    gateway_files.c.msgid == msgid,
                )
            ).first()
        return None if row is None else _stored(row)

    def get(self, file_qury_no: str) -> StoredFile | None:
        with self._sessions() as session:
            row = session.execute(
                select(gateway_files).where(gateway_files.c.file_qury_no == file_qury_no)
            ).first()
        return None if row is None else _stored(row)

    def add(self, stored: StoredFile) -> StoredFile:
        try:
            with self._sessions() as session, session.begin():
                session.execute(
                    insert(gateway_files).values(
                        file_qury_no=stored.file_qury_no,
                        fixmedins_code=stored.fixmedins_code,
                        msgid=stored.msgid,
                        filename=stored.filename,
                        content=stored.content,
                        file_size=stored.size,
                        sha256=stored.sha256,
                        uploaded_at=as_utc(stored.uploaded_at),
                        expires_at=as_utc(stored.expires_at),
                    )
                )
        except IntegrityError:
            # A concurrent twin with the same (fixmedins_code, msgid) committed first.
            if stored.msgid is None:
                raise
            twin = self.by_message(stored.fixmedins_code, stored.msgid)
            if twin is None:
                raise
            return twin
        return stored

    def delete_expired(self, now: dt.datetime) -> int:
        with self._sessions() as session, session.begin():
            result: Any = session.execute(
                delete(gateway_files).where(gateway_files.c.expires_at <= as_utc(now))
            )
        return int(result.rowcount or 0)
