"""政策调整测算 as background jobs: one what-if over stored settlements per job, with progress.

A job is started by a province officer or an agency handler, runs in a worker thread (one at a
time: the machine's cores are shared with the hospitals' settlements), and is seen only by the
one who started it. Jobs live in the process's memory: a restart forgets them (the report can
be downloaded as CSV/XLSX and the run repeated at any time; nothing is written but the audit
entry of the start). ``inline`` runs a job in the caller's thread (tests).
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from yidi.kernel.access import Principal
from yidi.kernel.audit import audit_entry_by
from yidi.kernel.clock import Clock
from yidi.kernel.errors import NotFound, Refused, YidiError
from yidi.platform.uow import SqlUnitOfWork
from yidi.policy.loader import PolicyLibrary
from yidi.reports.whatif import WhatIfReport
from yidi.reports.whatif_stored import StoredSelection, what_if_stored

_log = logging.getLogger(__name__)

QUEUED, READING, SETTLING, DONE, FAILED = "queued", "reading", "settling", "done", "failed"


@dataclass
class WhatIfJob:
    id: str
    owner: str
    selection: StoredSelection
    on_date: dt.date | None
    #: what the candidate is, for the page (e.g. "640000 居民 起付线 …" or the uploaded file)
    candidate_label: str
    created_at: dt.datetime
    state: str = QUEUED
    done: int = 0
    total: int = 0
    finished_at: dt.datetime | None = None
    report: WhatIfReport | None = None
    error: YidiError | None = None
    skipped: dict[str, int] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        return self.state in (DONE, FAILED)

    @property
    def percent(self) -> int:
        if self.state == DONE:
            return 100
        return 0 if not self.total else min(99, 100 * self.done // self.total)

    def snapshot(self) -> WhatIfJob:
        """A copy that does not change while a page renders it.

        The worker sets the report (or the error) before the state, so reading the state
        first means a finished copy always carries its report; a page that read the live job
        could say "done" with no report, and then stop refreshing.
        """
        state = self.state
        return replace(self, state=state)


def _not_found() -> NotFound:
    return NotFound("WHATIF_JOB_NOT_FOUND", "未找到该测算任务", "what-if job not found")


class WhatIfJobs:
    """The what-if jobs of this process (the most recent ``keep``)."""

    def __init__(
        self,
        uow_factory: Callable[[], SqlUnitOfWork],
        clock: Clock,
        *,
        inline: bool = False,
        keep: int = 50,
    ) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._inline = inline
        self._keep = keep
        self._jobs: OrderedDict[str, WhatIfJob] = OrderedDict()
        self._lock = threading.Lock()
        self._one_at_a_time = threading.Semaphore(1)

    def submit(
        self,
        principal: Principal,
        selection: StoredSelection,
        candidate: PolicyLibrary,
        *,
        on_date: dt.date | None,
        candidate_label: str,
    ) -> WhatIfJob:
        job = WhatIfJob(
            id=secrets.token_hex(12),
            owner=principal.user_id,
            selection=selection,
            on_date=on_date,
            candidate_label=candidate_label,
            created_at=self._clock.now(),
        )
        with self._uow() as uow:
            uow.audit.append(
                audit_entry_by(
                    principal,
                    self._clock.now(),
                    action="whatif.run",
                    subject=f"whatif:{job.id}",
                    reason=(
                        f"{selection.region or '*'} {selection.start}–{selection.end} "
                        f"{candidate_label}"
                    ),
                )
            )
            uow.commit()
        with self._lock:
            self._jobs[job.id] = job
            while len(self._jobs) > self._keep:
                self._jobs.popitem(last=False)
        if self._inline:
            self._run(job, candidate)
        else:
            threading.Thread(
                target=self._run, args=(job, candidate), name=f"whatif-{job.id[:6]}", daemon=True
            ).start()
        return job

    def _run(self, job: WhatIfJob, candidate: PolicyLibrary) -> None:
        with self._one_at_a_time:
            job.state = READING

            def progress(count: int) -> None:
                job.state = SETTLING
                job.done += count

            try:
                report, found = what_if_stored(
                    self._uow,
                    job.selection,
                    candidate=candidate,
                    on_date=job.on_date,
                    top=50,
                    progress=progress,
                    on_claims=lambda n: setattr(job, "total", 2 * n),
                )
            except YidiError as error:
                job.error = error
                job.state = FAILED
            except Exception:  # a bug must not leave the page waiting forever
                _log.exception("what-if job %s failed", job.id)
                job.error = Refused(
                    "WHATIF_FAILED",
                    "测算失败，请联系管理员查看日志",
                    "the what-if run failed; see the server log",
                )
                job.state = FAILED
            else:
                job.report = report
                job.skipped = found.skipped
                job.state = DONE
            job.finished_at = self._clock.now()

    def job(self, principal: Principal, job_id: str) -> WhatIfJob:
        """A snapshot of the job, for the one who started it; anyone else gets the answer of a
        missing one."""
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None or job.owner != principal.user_id:
            raise _not_found()
        return job.snapshot()


__all__ = ["DONE", "FAILED", "WhatIfJob", "WhatIfJobs"]
