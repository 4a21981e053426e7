"""A what-if job's page renders a snapshot: it never says "done" without the report."""

from __future__ import annotations

import datetime as dt
from typing import cast

from yidi.reports.whatif import WhatIfReport
from yidi.reports.whatif_jobs import DONE, WhatIfJob
from yidi.reports.whatif_stored import StoredSelection

_REPORT = cast(WhatIfReport, object())


def _job(state: str) -> WhatIfJob:
    return WhatIfJob(
        id="j1",
        owner="u1",
        selection=StoredSelection(dt.date(2017, 1, 1), dt.date(2017, 12, 31), "640000"),
        on_date=None,
        candidate_label="640000 rates",
        created_at=dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC),
        state=state,
    )


def _finish(job: WhatIfJob) -> None:
    """What the worker does, in its order: the report first, then the state."""
    job.report = _REPORT
    job.state = DONE


def test_a_snapshot_taken_while_settling_does_not_change_when_the_job_finishes() -> None:
    job = _job("settling")
    seen = job.snapshot()
    _finish(job)
    assert (seen.state, seen.finished, seen.report) == ("settling", False, None)
    assert seen.percent < 100
    assert (job.state, job.finished, job.report) == (DONE, True, _REPORT)


def test_a_snapshot_of_a_finished_job_carries_its_report() -> None:
    job = _job("settling")
    _finish(job)
    seen = job.snapshot()
    assert seen.finished and seen.report is _REPORT and seen.percent == 100
    assert seen is not job
