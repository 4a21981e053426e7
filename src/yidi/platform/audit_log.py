"""Append to and read the audit chain."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from yidi.kernel.audit import GENESIS_HASH, AuditEntry, ChainedEntry, as_utc, entry_hash
from yidi.platform.tables import audit_head, audit_log

#: The entry's own columns, stored and read back as they are (``at`` is normalised to UTC).
_ENTRY_COLUMNS = ("actor", "role", "region_code", "action", "subject", "reason", "address")
#: The chain's single head row: (last seq, last hash).
_HEAD = select(audit_head.c.last_seq, audit_head.c.last_hash).where(audit_head.c.id == 1)
_HEAD_LOCKED = _HEAD.with_for_update()
# The append's statements, built once (bound by name: ``e_<column>``).
_APPEND = insert(audit_log).values(
    {
        name: bindparam(f"e_{name}", type_=audit_log.c[name].type)
        for name in ("seq", "at", *_ENTRY_COLUMNS, "prev_hash", "entry_hash")
    }
)
_ADVANCE = (
    update(audit_head)
    .where(audit_head.c.id == 1)
    .values(
        last_seq=bindparam("e_seq", type_=audit_head.c.last_seq.type),
        last_hash=bindparam("e_entry_hash", type_=audit_head.c.last_hash.type),
    )
)
_APPEND_AND_ADVANCE = _ADVANCE.add_cte(_APPEND.cte("appended"))


class AuditRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def append(self, entry: AuditEntry) -> ChainedEntry:
        # Lock the head row: concurrent writers queue here, so the chain stays linear.
        head = self._session.execute(_HEAD_LOCKED).first()
        if head is None:
            last_seq, last_hash = 0, GENESIS_HASH
            self._session.execute(
                insert(audit_head).values(id=1, last_seq=0, last_hash=GENESIS_HASH)
            )
        else:
            last_seq, last_hash = int(head.last_seq), str(head.last_hash)
        seq = last_seq + 1
        digest = entry_hash(seq, entry, last_hash)
        parameters = {
            "e_seq": seq,
            "e_at": as_utc(entry.at),
            **{f"e_{name}": getattr(entry, name) for name in _ENTRY_COLUMNS},
            "e_prev_hash": last_hash,
            "e_entry_hash": digest,
        }
        if self._session.get_bind().dialect.name == "postgresql":
            # One round trip: the entry is inserted by a data-modifying WITH of the statement
            # that advances the head (both run, atomically, under the head's row lock).
            self._session.execute(_APPEND_AND_ADVANCE, parameters)
        else:
            self._session.execute(_APPEND, parameters)
            self._session.execute(_ADVANCE, parameters)
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
