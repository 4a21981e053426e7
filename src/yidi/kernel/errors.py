"""Errors every layer can raise and every entrypoint knows how to show.

Each error carries a stable machine code (``FILING_DEST_SAME_AS_INSURED``),
a Chinese message for the person in front of the screen, and an English one.
The API maps :class:`ErrorKind` to an HTTP status; the national-platform
gateway maps every error to ``infcode = -1`` with the Chinese message.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any


class ErrorKind(enum.Enum):
    INVALID = "invalid"  # the input itself is malformed -> 422
    NOT_FOUND = "not_found"  # -> 404 (also used to hide records outside one's region)
    CONFLICT = "conflict"  # state does not allow it, duplicate -> 409
    REFUSED = "refused"  # a business rule says no (e.g. not settled directly) -> 422
    UNAUTHENTICATED = "unauthenticated"  # -> 401
    FORBIDDEN = "forbidden"  # -> 403
    TOO_MANY = "too_many"  # rate limit, lockout -> 429
    TOO_LARGE = "too_large"  # -> 413


class YidiError(Exception):
    """Base error: stable ``code``, Chinese ``message``, English ``message_en``."""

    kind: ErrorKind = ErrorKind.INVALID

    def __init__(
        self,
        code: str,
        message: str,
        message_en: str = "",
        *,
        field: str | None = None,
        details: Mapping[str, Any] | None = None,
        kind: ErrorKind | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.message_en = message_en or message
        self.field = field
        self.details = dict(details or {})
        if kind is not None:
            self.kind = kind

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "code": self.code,
            "message": self.message,
            "message_en": self.message_en,
        }
        if self.field:
            body["field"] = self.field
        if self.details:
            body["details"] = self.details
        return body


class InvalidInput(YidiError):
    kind = ErrorKind.INVALID


class NotFound(YidiError):
    kind = ErrorKind.NOT_FOUND


class Conflict(YidiError):
    kind = ErrorKind.CONFLICT


class Refused(YidiError):
    kind = ErrorKind.REFUSED


class Forbidden(YidiError):
    kind = ErrorKind.FORBIDDEN


class Unauthenticated(YidiError):
    kind = ErrorKind.UNAUTHENTICATED


class ValidationFailed(InvalidInput):
    """Several field errors at once, so a form can show each next to its field."""

    def __init__(self, errors: list[YidiError]) -> None:
        first = errors[0]
        super().__init__(
            "VALIDATION_FAILED",
            "；".join(e.message for e in errors),
            "; ".join(e.message_en for e in errors),
            details={"errors": [e.as_dict() for e in errors]},
        )
        self.errors = errors
        self.field = first.field
