"""Application logging: one handler, and a filter that masks ID numbers and phones in every line.

Uvicorn's access log prints request paths and query strings, which may carry an ID
number; the filter sits on the handler so that no logger can bypass it.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

from yidi.kernel.privacy import redact_text


class RedactPersonalData(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_text(message)
        if redacted != message or record.args:
            record.msg = redacted
            record.args = None
        if record.exc_info and not record.exc_text:
            # The formatter would render the traceback after this filter ran; render it here
            # so that an exception's text (a driver error quoting a row) is masked too.
            record.exc_text = _TRACEBACKS.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_text(record.stack_info)
        return True


_TRACEBACKS = logging.Formatter()


def configure_logging(level: str = "INFO", stream: TextIO | None = None) -> logging.Handler:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.addFilter(RedactPersonalData())
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, "_yidi", False):
            root.removeHandler(existing)
    handler._yidi = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    return handler
