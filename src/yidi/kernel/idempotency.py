"""Idempotency keys: a retry with the same key and content gets the first answer; the same key
with other content is refused. Storage of the answers is the platform's
(``yidi.platform.idempotency``)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from yidi.kernel.errors import InvalidInput

#: The longest key a client may send (Idempotency-Key header, NHSA msgid).
MAX_KEY_LENGTH = 64


def request_fingerprint(payload: Any) -> str:
    """SHA-256 of the request content in a canonical JSON form."""
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class RequestKey:
    """Idempotency: (scope, key) names the request, fingerprint its content."""

    scope: str
    key: str
    fingerprint: str


def request_key(scope: str, key: str | None, payload: Any) -> RequestKey | None:
    """A RequestKey for a (scope, key) and the request content, or None without a key."""
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidInput(
            "IDEMPOTENCY_KEY_INVALID",
            "幂等键（Idempotency-Key / msgid）应为 1–64 个字符",
            "the idempotency key must be 1-64 characters",
            field="Idempotency-Key",
        )
    return RequestKey(scope, key, request_fingerprint(payload))
