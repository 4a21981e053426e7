"""Append to and read the audit chain."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from yidi.kernel.audit import GENESIS_HASH, AuditEntry, ChainedEntry, as_utc, entry_hash
from yidi.platform.tables import audit_head, audit_log

#: The entry's own columns, stored and read back as they are (``at`` is normalised to UTC).
_ENTRY_COLUMNS = ("actor", "role", "region_code", "action", "subject", "reason", "address")
#: The chain's single head row: (last seq, last hash).
_HEAD = select(audit_head.c.last_seq, audit_head.c.last_hash).where(audit_head.c.id == 1)


class AuditRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def append(self, entry: AuditEntry) -> ChainedEntry:
        # Lock the head row: concurrent writers queue here, so the chain stays linear.
        head = self._session.execute(_HEAD.with_for_update()).first()
        if head is None:
            last_seq, last_hash = 0, GENESIS_HASH
            self._session.execute(
                insert(audit_head).values(id=1, last_seq=0, last_hash=GENESIS_HASH)
            )
        else:
            last_seq, last_hash = int(head.last_seq), str(head.last_hash)
        seq = last_seq + 1
        digest = entry_hash(seq, entry, last_hash)
        appended = insert(audit_log).values(
            seq=seq,
            at=as_utc(entry.at),
            **{name: getattr(entry, name) for name in _ENTRY_COLUMNS},
            prev_hash=last_hash,
            entry_hash=digest,
        )
        advanced = (
            update(audit_head).where(audit_head.c.id == 1).values(last_seq=seq, last_hash=digest)
        )
        if self._session.get_bind().dialect.name == "postgresql":
            # One round trip: the entry is inserted by a data-modifying WITH of the statement
            # that advances the head (both run, atomically, under the head's row lock).
            self._session.execute(advanced.add_cte(appended.cte("appended")))
        else:
            self._session.execute(appended)
            self._session.execute(advanced)
        return ChainedEntry(seq, entry, last_hash, digest)

    def walk(self) -> Iterator[ChainedEntry]:
        result = self._session.execute(select(audit_log).order_by(audit_log.c.seq))
        for row in result:
            entry = AuditEntry(
                at=as_utc(row.at), **{name: getattr(row, name) for name in _ENTRY_COLUMNS}
            )
            yield ChainedEntry(int(row.seq), entry, row.prev_hash, row.entry_hash)

    def head(self) -> tuple[int, str] | None:
        """(last seq, last hash) as the last append left them; None before the first."""
        row = self._session.execute(_HEAD).first()
        return (int(row.last_seq), str(row.last_hash)) if row else None

    def count(self) -> int:
        return len(self._session.execute(select(audit_log.c.seq)).all())
