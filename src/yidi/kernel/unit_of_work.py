"""What every feature's unit of work shares, as Protocols: one transaction, rolled back on
exit unless committed, and the audit log entries are appended to.

Each feature's ``ports`` module names the repositories its use cases reach through the
unit of work; ``yidi.platform.uow.SqlUnitOfWork`` implements all of them on the database.
"""

from __future__ import annotations

from types import TracebackType
from typing import Protocol

from yidi.kernel.audit import AuditEntry


class AuditLog(Protocol):
    def append(self, entry: AuditEntry) -> object: ...


class Transaction(Protocol):
    """One transaction: rolled back on exit unless committed."""

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    def commit(self) -> None: ...


class AuditedTransaction(Transaction, Protocol):
    """A transaction whose acts are audited in the same commit."""

    @property
    def audit(self) -> AuditLog: ...
