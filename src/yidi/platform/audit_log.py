"""Append to and read the audit chain."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from yidi.kernel.audit import GENESIS_HASH, AuditEntry, ChainedEntry, as_utc, entry_hash
from yidi.platform.tables import audit_head, audit_log


class AuditRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def append(self, entry: AuditEntry) -> ChainedEntry:
        # Lock the head row: concurrent writers queue here, so the chain stays linear.
        head = self._session.execute(
            select(audit_head.c.last_seq, audit_head.c.last_hash)
            .where(audit_head.c.id == 1)
            .with_for_update()
        ).first()
        if head is None:
            last_seq, last_hash = 0, GENESIS_HASH
            self._session.execute(
                insert(audit_head).values(id=1, last_seq=0, last_hash=GENESIS_HASH)
            )
        else:
            last_seq, last_hash = int(head.last_seq), str(head.last_hash)
        seq = last_seq + 1
        digest = entry_hash(seq, entry, last_hash)
        self._session.execute(
            insert(audit_log).values(
                seq=seq,
                at=as_utc(entry.at),
                actor=entry.actor,
                role=entry.role,
                region_code=entry.region_code,
                action=entry.action,
                subject=entry.subject,
                reason=entry.reason,
                address=entry.address,
                prev_hash=last_hash,
                entry_hash=digest,
            )
        )
        self._session.execute(
            update(audit_head).where(audit_head.c.id == 1).values(last_seq=seq, last_hash=digest)
        )
        return ChainedEntry(seq, entry, last_hash, digest)

    def walk(self) -> Iterator[ChainedEntry]:
        result = self._session.execute(select(audit_log).order_by(audit_log.c.seq))
        for row in result:
            at = as_utc(row.at)
            entry = AuditEntry(
                at=at,
                actor=row.actor,
                role=row.role,
                region_code=row.region_code,
                action=row.action,
                subject=row.subject,
                reason=row.reason,
                address=row.address,
            )
            yield ChainedEntry(int(row.seq), entry, row.prev_hash, row.entry_hash)

    def head(self) -> tuple[int, str] | None:
        """(last seq, last hash) as the last append left them; None before the first."""
        row = self._session.execute(
            select(audit_head.c.last_seq, audit_head.c.last_hash).where(audit_head.c.id == 1)
        ).first()
        return (int(row.last_seq), str(row.last_hash)) if row else None

    def count(self) -> int:
        return len(self._session.execute(select(audit_log.c.seq)).all())
