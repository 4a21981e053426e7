"""Background jobs: 报盘 imports submitted on the web or through the REST API.

An upload is checked (size, the XLSX archive's declared sizes) and stored as a job row
in the request; the import itself runs in a worker thread of the server process, off the
request path, and the page or ``GET /api/filings/import-jobs/{id}`` shows its progress
and, at the end, the import report.

Restart safety: a job is claimed with a conditional update (``queued`` → ``running``), so
with several server processes each job runs once. The import is one database
transaction: a process that dies mid-import leaves no rows behind. When a server starts,
jobs left ``running`` by an earlier run are marked failed (``JOB_INTERRUPTED``); the same
file can then be submitted again, and since imports are idempotent by file content
(import batches) a second submission never imports a row twice. A file submitted again
while its job is still queued or running returns that job.

The command line (``yidi filing import``) imports synchronously and does not use jobs.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from yidi.filing.import_files import is_xlsx
from yidi.filing.imports import FilingImports
from yidi.filing.ports import FilingUnitOfWork, JobChange, JobRow
from yidi.kernel.access import Action, Principal, Role
from yidi.kernel.audit import (
    as_utc,
    current_client_address,
    reset_client_address,
    set_client_address,
)
from yidi.kernel.clock import Clock
from yidi.kernel.errors import NotFound, YidiError
from yidi.platform.xlsx_guard import check_xlsx_archive

log = logging.getLogger(__name__)

FILING_IMPORT: Final = "filing_import"
QUEUED: Final = "queued"
RUNNING: Final = "running"
DONE: Final = "done"
FAILED: Final = "failed"
STATE_ZH: Final = {QUEUED: "排队中", RUNNING: "导入中", DONE: "已完成", FAILED: "失败"}

#: How often an idle worker looks for jobs queued by another server process.
POLL_SECONDS: Final = 2.0


@dataclass(frozen=True)
class JobView:
    id: str
    kind: str
    state: str
    actor: str
    filename: str
    total_bytes: int
    processed_rows: int
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    result: dict[str, Any] | None
    error: dict[str, Any] | None

    @property
    def finished(self) -> bool:
        return self.state in (DONE, FAILED)

    def as_dict(self) -> dict[str, Any]:
        return {
            "job_id": self.id,
            "kind": self.kind,
            "state": self.state,
            "state_zh": STATE_ZH[self.state],
            "filename": self.filename,
            "total_bytes": self.total_bytes,
            "processed_rows": self.processed_rows,
            "created_at": self.created_at.isoformat(),
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "report": self.result,
            "error": self.error,
        }


def _principal_json(principal: Principal) -> str:
    data = dataclasses.asdict(principal)
    data["role"] = principal.role.value
    return json.dumps(data, ensure_ascii=False)


def _principal_of(text: str) -> Principal:
    data = json.loads(text)
    data["role"] = Role(data["role"])
    return Principal(**data)


def _view(row: JobRow, live_rows: int | None = None) -> JobView:
    return JobView(
        id=row.id,
        kind=row.kind,
        state=row.state,
        actor=row.actor,
        filename=row.filename,
        total_bytes=row.total_bytes,
        processed_rows=max(row.processed_rows, live_rows or 0),
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        result=json.loads(row.result_json) if row.result_json else None,
        error=json.loads(row.error_json) if row.error_json else None,
    )


def _not_found() -> NotFound:
    return NotFound("JOB_NOT_FOUND", "未找到该导入任务", "no such import job", field="job_id")


class ImportJobs:
    """Submit, run and read 报盘 import jobs."""

    def __init__(
        self,
        uow_factory: Callable[[], FilingUnitOfWork],
        clock: Clock,
        imports: FilingImports | None = None,
    ) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._imports = imports or FilingImports(uow_factory, clock)
        self._live: dict[str, int] = {}  # progress of the jobs this process is running
        self._booted_at = as_utc(clock.now())
        self.wake = threading.Event()

    # --- submitting and reading ----------------------------------------------------------

    def submit(
        self,
        principal: Principal,
        data: bytes,
        filename: str,
        *,
        region: str | None = None,
    ) -> JobView:
        """Queue an import of ``data``; the same file queued or running again returns its job."""
        principal.require(Action.FILING_IMPORT)
        if is_xlsx(data, filename):
            check_xlsx_archive(data)  # a zip bomb is refused here, before it is stored
        digest = hashlib.sha256(data).hexdigest()
        with self._uow() as uow:
            pending = uow.jobs.pending_of(principal.user_id, digest, (QUEUED, RUNNING))
            if pending is not None:
                return _view(pending, self._live.get(pending.id))
            job_id = "J" + secrets.token_hex(12).upper()
            uow.jobs.add(
                JobRow(
                    id=job_id,
                    kind=FILING_IMPORT,
                    state=QUEUED,
                    actor=principal.user_id,
                    principal_json=_principal_json(principal),
                    # The request's address, for the audit entries the worker writes later.
                    params_json=json.dumps({"region": region, "address": current_client_address()}),
                    filename=filename[:200],
                    file_sha256=digest,
                    payload=data,
                    total_bytes=len(data),
                    processed_rows=0,
                    created_at=as_utc(self._clock.now()),
                )
            )
            uow.commit()
        self.wake.set()
        return self.get(principal, job_id)

    def submit_import(
        self,
        principal: Principal,
        data: bytes,
        filename: str,
        *,
        inline: bool,
    ) -> JobView:
        """:meth:`submit`, and with ``inline`` (setting ``import_jobs=inline``) run it now."""
        job = self.submit(principal, data, filename)
        if inline:
            self.run_pending()
            job = self.get(principal, job.id)
        return job

    def get(self, principal: Principal, job_id: str) -> JobView:
        """A job of the caller's own (anyone else's is answered as missing)."""
        with self._uow() as uow:
            row = uow.jobs.get(job_id)
        if row is None or row.actor != principal.user_id:
            raise _not_found()
        return _view(row, self._live.get(job_id))

    def recent(self, principal: Principal, limit: int = 10) -> list[JobView]:
        with self._uow() as uow:
            rows = uow.jobs.recent(principal.user_id, limit)
        return [_view(r, self._live.get(r.id)) for r in rows]

    # --- running -------------------------------------------------------------------------

    def recover(self) -> int:
        """Mark failed the jobs an earlier run of the server left ``running``."""
        error = YidiError(
            "JOB_INTERRUPTED",
            "导入任务因服务重启而中断，未导入任何数据；请重新提交同一文件",
            "the import was interrupted by a restart and imported nothing; submit the file again",
            field="file",
        ).as_dict()
        with self._uow() as uow:
            count = uow.jobs.fail_started_before(
                RUNNING,
                self._booted_at,
                JobChange(
                    FAILED,
                    finished_at=self._clock.now(),
                    error_json=json.dumps(error, ensure_ascii=False),
                    drop_payload=True,
                ),
            )
            uow.commit()
        return count

    def _claim(self) -> JobRow | None:
        with self._uow() as uow:
            candidate = uow.jobs.oldest(QUEUED)
            if candidate is None:
                return None
            claimed = uow.jobs.move(
                candidate, QUEUED, JobChange(RUNNING, started_at=self._clock.now())
            )
            uow.commit()
            if not claimed:
                return None  # another process took it
        with self._uow() as uow:
            return uow.jobs.get(candidate)

    def _finish(
        self,
        job_id: str,
        state: str,
        *,
        result_json: str | None = None,
        error_json: str | None = None,
    ) -> None:
        with self._uow() as uow:
            uow.jobs.move(
                job_id,
                RUNNING,
                JobChange(
                    state,
                    finished_at=self._clock.now(),
                    processed_rows=self._live.get(job_id, 0),
                    result_json=result_json,
                    error_json=error_json,
                    drop_payload=True,
                ),
            )
            uow.commit()

    def run_next(self) -> bool:
        """Run one queued job to its end; False when none was waiting."""
        row = self._claim()
        if row is None:
            return False
        self._live[row.id] = 0

        def progress(rows: int) -> None:
            self._live[row.id] = self._live.get(row.id, 0) + rows

        params = json.loads(row.params_json)
        # The worker thread serves no request: the audit entries take the submitter's address.
        address = set_client_address(params.get("address") or "")
        try:
            report = self._imports.import_annex2(
                _principal_of(row.principal_json),
                bytes(row.payload or b""),
                row.filename,
                progress=progress,
                region=params.get("region"),
            )
        except YidiError as exc:
            self._finish(row.id, FAILED, error_json=json.dumps(exc.as_dict(), ensure_ascii=False))
        except Exception as exc:  # a bug must not stop the worker; the job says what happened
            log.error("import job %s failed: %s", row.id, type(exc).__name__)
            error = YidiError(
                "JOB_FAILED",
                "导入任务出错，未导入任何数据",
                "the import job failed; nothing was imported",
            ).as_dict()
            self._finish(row.id, FAILED, error_json=json.dumps(error, ensure_ascii=False))
        else:
            self._finish(row.id, DONE, result_json=json.dumps(report.as_dict(), ensure_ascii=False))
        finally:
            reset_client_address(address)
            self._live.pop(row.id, None)
        return True

    def run_pending(self) -> int:
        """Run every queued job now (the command line and tests); how many ran."""
        count = 0
        while self.run_next():
            count += 1
        return count


class JobWorker:
    """The server's worker thread: recovers interrupted jobs, then runs queued ones."""

    def __init__(self, import_jobs: ImportJobs) -> None:
        self._jobs = import_jobs
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._jobs.recover()
        self._thread = threading.Thread(target=self._loop, name="yidi-jobs", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._jobs.wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                ran = self._jobs.run_next()
            except Exception as exc:  # e.g. the database is briefly unreachable
                log.error("job worker: %s", type(exc).__name__)
                ran = False
            if not ran:
                self._jobs.wake.wait(POLL_SECONDS)
                self._jobs.wake.clear()
