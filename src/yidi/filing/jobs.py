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

Exports (附件2, the quarterly list) are jobs of the same kind: the page starts one, the
worker streams the workbook to a file in the result directory, counting rows against the
total it announced (written to the job row every half second, so every server process
shows the same progress bar), and the one who started it downloads the file; each
download is audited. What an export kind does is given by ``exports`` (bootstrap wires the
report writers in); an export interrupted by a restart fails like an import and its
partial file is removed.

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
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Protocol

from yidi.filing.import_files import is_xlsx
from yidi.filing.imports import FilingImports
from yidi.filing.ports import FilingUnitOfWork, JobChange, JobRow
from yidi.kernel.access import Action, Principal, Role
from yidi.kernel.audit import (
    as_utc,
    audit_entry_by,
    current_client_address,
    reset_client_address,
    set_client_address,
)
from yidi.kernel.clock import Clock
from yidi.kernel.errors import NotFound, YidiError
from yidi.platform.xlsx_guard import check_xlsx_archive

log = logging.getLogger(__name__)

FILING_IMPORT: Final = "filing_import"
ANNEX2_EXPORT: Final = "annex2_export"
QUARTERLY_EXPORT: Final = "quarterly_export"
QUEUED: Final = "queued"
RUNNING: Final = "running"
DONE: Final = "done"
FAILED: Final = "failed"
STATE_ZH: Final = {QUEUED: "排队中", RUNNING: "导入中", DONE: "已完成", FAILED: "失败"}

#: How often an idle worker looks for jobs queued by another server process.
POLL_SECONDS: Final = 2.0
#: How often a running export writes its count to the job row (other processes read it).
PROGRESS_SECONDS: Final = 0.5


class ExportProgress(Protocol):
    def total(self, rows: int) -> None: ...
    def advance(self, rows: int) -> None: ...


#: An export kind's work: (submitter, parameters, the file to write, progress) → the
#: result shown on the job's page (``{"rows": …, "masked": …}``).
ExportRunner = Callable[[Principal, dict[str, Any], Path, ExportProgress], dict[str, Any]]


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
    total_rows: int = 0

    @property
    def finished(self) -> bool:
        return self.state in (DONE, FAILED)

    @property
    def percent(self) -> int:
        """An export's progress (0–100; 99 until the file is written)."""
        if self.state == DONE:
            return 100
        if not self.total_rows:
            return 0
        return min(99, 100 * self.processed_rows // self.total_rows)

    def as_dict(self) -> dict[str, Any]:
        return {
            "job_id": self.id,
            "kind": self.kind,
            "state": self.state,
            "state_zh": STATE_ZH[self.state],
            "filename": self.filename,
            "total_bytes": self.total_bytes,
            "processed_rows": self.processed_rows,
            "total_rows": self.total_rows,
            "percent": self.percent,
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
        total_rows=row.total_rows,
    )


def _not_found() -> NotFound:
    return NotFound("JOB_NOT_FOUND", "未找到该导入任务", "no such import job", field="job_id")


class _Progress:
    """An export's count, kept in memory and written to its row every half second."""

    def __init__(self, jobs: ImportJobs, job_id: str) -> None:
        self._jobs, self._id = jobs, job_id
        self._total = 0
        self._written_at = 0.0

    def total(self, rows: int) -> None:
        self._total = rows
        self._write()

    def advance(self, rows: int) -> None:
        self._jobs._live[self._id] = self._jobs._live.get(self._id, 0) + rows
        if time.monotonic() - self._written_at >= PROGRESS_SECONDS:
            self._write()

    def _write(self) -> None:
        self._written_at = time.monotonic()
        with self._jobs._uow() as uow:
            uow.jobs.progress(self._id, self._jobs._live.get(self._id, 0), self._total)
            uow.commit()


class ImportJobs:
    """Submit, run and read background jobs: 报盘 imports and the filing exports."""

    def __init__(
        self,
        uow_factory: Callable[[], FilingUnitOfWork],
        clock: Clock,
        imports: FilingImports | None = None,
        *,
        exports: Mapping[str, ExportRunner] | None = None,
        result_directory: Path | None = None,
    ) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._imports = imports or FilingImports(uow_factory, clock)
        self._exports = dict(exports or {})
        self._results = result_directory or Path("var") / "job-results"
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

    def submit_export(
        self,
        principal: Principal,
        kind: str,
        params: dict[str, Any],
        filename: str,
        *,
        inline: bool = False,
        idempotency: tuple[str, str] | None = None,
    ) -> JobView:
        """Queue an export (``kind`` one of ``exports``); the same export queued or running
        again for the same person returns its job. With ``inline`` it runs now.

        ``idempotency`` is (client key, request fingerprint): a retry with the key returns
        the job its first request started, even once that job has finished; the key with
        another request is refused (``IDEMPOTENCY_KEY_REUSED``)."""
        principal.require(Action.FILING_EXPORT)
        if kind not in self._exports:
            raise NotFound("JOB_KIND_UNKNOWN", "没有这种导出任务", f"no export job {kind!r}")
        text = json.dumps(params, sort_keys=True, ensure_ascii=False)
        digest = hashlib.sha256(f"{kind}:{text}".encode()).hexdigest()
        scope = f"job.export:{principal.user_id}"
        with self._uow() as uow:
            earlier = uow.idempotency.recall(scope, *idempotency) if idempotency else None
            if earlier is not None:
                return self.get(principal, str(earlier["job_id"]))
            pending = uow.jobs.pending_of(principal.user_id, digest, (QUEUED, RUNNING))
            if pending is None:
                job_id = "J" + secrets.token_hex(12).upper()
                uow.jobs.add(
                    JobRow(
                        id=job_id,
                        kind=kind,
                        state=QUEUED,
                        actor=principal.user_id,
                        principal_json=_principal_json(principal),
                        params_json=json.dumps(
                            {**params, "address": current_client_address()}, ensure_ascii=False
                        ),
                        filename=filename[:200],
                        file_sha256=digest,
                        payload=None,
                        total_bytes=0,
                        processed_rows=0,
                        created_at=as_utc(self._clock.now()),
                    )
                )
            else:
                job_id = pending.id
            if idempotency is not None:
                uow.idempotency.remember(
                    scope, *idempotency, {"job_id": job_id}, as_utc(self._clock.now())
                )
            uow.commit()
        self.wake.set()
        if inline:
            self.run_pending()
        return self.get(principal, job_id)

    def result_file(self, principal: Principal, job_id: str) -> tuple[Path, str]:
        """The file of a finished export of the caller's own, and its download name; each
        download is audited (the file names persons)."""
        job = self.get(principal, job_id)
        path = self._result_path(job_id)
        if job.kind not in self._exports or job.state != DONE or not path.is_file():
            raise NotFound(
                "JOB_RESULT_NOT_READY",
                "导出文件尚未生成",
                "the export is not ready",
                field="job_id",
            )
        with self._uow() as uow:
            uow.audit.append(
                audit_entry_by(
                    principal,
                    self._clock.now(),
                    action="job.download",
                    subject=f"job:{job_id}",
                    reason=f"{job.kind} {job.filename} {job.processed_rows}行",
                )
            )
            uow.commit()
        return path, job.filename

    def _result_path(self, job_id: str) -> Path:
        return self._results / f"{job_id}.xlsx"

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
        address = set_client_address(params.pop("address", None) or "")
        try:
            if row.kind in self._exports:
                result = self._export(row, params)
            else:
                result = self._imports.import_annex2(
                    _principal_of(row.principal_json),
                    bytes(row.payload or b""),
                    row.filename,
                    progress=progress,
                    region=params.get("region"),
                ).as_dict()
        except YidiError as exc:
            self._finish(row.id, FAILED, error_json=json.dumps(exc.as_dict(), ensure_ascii=False))
        except Exception as exc:  # a bug must not stop the worker; the job says what happened
            log.error("job %s (%s) failed: %s", row.id, row.kind, type(exc).__name__)
            self._result_path(row.id).unlink(missing_ok=True)
            error = YidiError(
                "JOB_FAILED",
                "导入任务出错，未导入任何数据" if row.kind == FILING_IMPORT else "导出任务出错",
                "the import job failed; nothing was imported"
                if row.kind == FILING_IMPORT
                else "the export job failed",
            ).as_dict()
            self._finish(row.id, FAILED, error_json=json.dumps(error, ensure_ascii=False))
        else:
            self._finish(row.id, DONE, result_json=json.dumps(result, ensure_ascii=False))
        finally:
            reset_client_address(address)
            self._live.pop(row.id, None)
        return True

    def _export(self, row: JobRow, params: dict[str, Any]) -> dict[str, Any]:
        """Write the export to a temporary file, renamed into place when whole."""
        self._results.mkdir(parents=True, exist_ok=True)
        final = self._result_path(row.id)
        partial = final.with_suffix(".part")
        try:
            result = self._exports[row.kind](
                _principal_of(row.principal_json), params, partial, _Progress(self, row.id)
            )
            partial.replace(final)
        finally:
            partial.unlink(missing_ok=True)
        return {**result, "bytes": final.stat().st_size}

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
