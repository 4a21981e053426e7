"""Idempotency by message id: a retry gets the first answer and changes nothing."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from yidi.kernel.errors import Conflict
from yidi.platform.tables import idempotency_keys


def request_fingerprint(payload: Any) -> str:
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


#: Both keys a retry checks (its own and its reversal marker), in one read.
_TWO_KEYS = select(
    idempotency_keys.c.key, idempotency_keys.c.request_hash, idempotency_keys.c.response_json
).where(
    idempotency_keys.c.scope == bindparam("scope"),
    idempotency_keys.c.key.in_([bindparam("key"), bindparam("other")]),
)


def _remember_statement(builder: Any) -> Any:
    """Insert the answer unless the key is taken: no savepoint, and a concurrent twin is
    waited for (its row conflicts once it commits) as the unique index did before."""
    return (
        builder(idempotency_keys)
        .values(
            scope=bindparam("scope"),
            key=bindparam("key"),
            request_hash=bindparam("request_hash"),
            response_json=bindparam("response_json"),
            created_at=bindparam("created_at", type_=idempotency_keys.c.created_at.type),
        )
        .on_conflict_do_nothing(index_elements=["scope", "key"])
        .returning(idempotency_keys.c.key)
    )


_REMEMBER = {
    "postgresql": _remember_statement(postgresql.insert),
    "sqlite": _remember_statement(sqlite.insert),
}


def _key_reused(key: str) -> Conflict:
    return Conflict(
        "IDEMPOTENCY_KEY_REUSED",
        f"报文ID {key} 已用于另一笔不同内容的交易，请使用新的报文ID",
        f"message id {key} was already used for a different request",
    )


class IdempotencyRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def recall(self, scope: str, key: str, fingerprint: str) -> Any | None:
        """The stored answer for this key, or None. A reused key with another request is refused."""
        row = self._session.execute(
            select(idempotency_keys.c.request_hash, idempotency_keys.c.response_json).where(
                idempotency_keys.c.scope == scope, idempotency_keys.c.key == key
            )
        ).first()
        if row is None:
            return None
        if row.request_hash != fingerprint:
            raise _key_reused(key)
        return json.loads(row.response_json)

    def recall_unless(
        self, scope: str, key: str, fingerprint: str, other: str
    ) -> tuple[Any | None, Any | None]:
        """(the answer stored under ``other`` whatever its request, the answer for this
        key and request as :meth:`recall` gives it), in one read: a retry checks its own
        key and whether the message was reversed (its marker) at once."""
        found = {
            row.key: row
            for row in self._session.execute(
                _TWO_KEYS, {"scope": scope, "key": key, "other": other}
            )
        }
        marked = found.get(other)
        own = found.get(key) if key != other else marked
        if own is not None and own.request_hash != fingerprint:
            voided = json.loads(marked.response_json) if marked is not None else None
            if voided is None:
                raise _key_reused(key)
            return voided, None
        return (
            json.loads(marked.response_json) if marked is not None else None,
            json.loads(own.response_json) if own is not None else None,
        )

    def answer(self, scope: str, key: str) -> Any | None:
        """The stored answer for this key whatever the request was (2601 looks up omsgid)."""
        row = self._session.execute(
            select(idempotency_keys.c.response_json).where(
                idempotency_keys.c.scope == scope, idempotency_keys.c.key == key
            )
        ).first()
        return None if row is None else json.loads(row.response_json)

    def remember(
        self, scope: str, key: str, fingerprint: str, response: Any, at: dt.datetime
    ) -> None:
        """Store the answer in the same transaction as the work it describes."""
        statement = _REMEMBER[self._session.get_bind().dialect.name]
        stored = self._session.execute(
            statement,
            {
                "scope": scope,
                "key": key,
                "request_hash": fingerprint,
                "response_json": json.dumps(response, ensure_ascii=False, default=str),
                "created_at": at,
            },
        ).first()
        if stored is None:
            # A concurrent twin committed first; our transaction must not commit its work twice.
            raise Conflict(
                "IDEMPOTENCY_IN_FLIGHT",
                f"报文ID {key} 的交易正在处理或已完成，请稍后重试查询结果",
                f"message id {key} is being processed concurrently; retry",
            )
