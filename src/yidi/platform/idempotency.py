"""Idempotency by message id: a retry gets the first answer and changes nothing."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from yidi.kernel.errors import Conflict
from yidi.platform.tables import idempotency_keys


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
            raise Conflict(
                "IDEMPOTENCY_KEY_REUSED",
                f"报文ID {key} 已用于另一笔不同内容的交易，请使用新的报文ID",
                f"message id {key} was already used for a different request",
            )
        return json.loads(row.response_json)

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
        try:
            with self._session.begin_nested():
                self._session.execute(
                    insert(idempotency_keys).values(
                        scope=scope,
                        key=key,
                        request_hash=fingerprint,
                        response_json=json.dumps(response, ensure_ascii=False, default=str),
                        created_at=at,
                    )
                )
        except IntegrityError:
            # A concurrent twin committed first; our transaction must not commit its work twice.
            raise Conflict(
                "IDEMPOTENCY_IN_FLIGHT",
                f"报文ID {key} 的交易正在处理或已完成，请稍后重试查询结果",
                f"message id {key} is being processed concurrently; retry",
            ) from None
