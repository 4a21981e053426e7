"""The short form of ``bench/concurrency_load.py``: 300 gateway requests from 10 clients,
about 10 % resent with an earlier msgid, the same few persons at two hospitals at once, against
``yidi serve --workers 2`` on PostgreSQL. No duplicate, no cap overrun, no deductible used twice,
no 5xx; a resent request gets the first answer; no person in the same hospital twice at once.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from concurrency_load import run

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def test_three_hundred_concurrent_requests_settle_each_stay_once_within_the_cap(
    database_url: str, tmp_path: Path
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("the load runs yidi serve against PostgreSQL")
    report = run(
        requests=300,
        clients=10,
        persons=5,
        workers=2,
        base_url=database_url,
        schema="concurrency_short",
        log_path=tmp_path / "serve.log",
    )
    final = report.final
    assert report.requests >= 300 and report.http_5xx == 0 and report.client_errors == []
    assert report.replays > 0 and report.replay_mismatches == 0
    assert report.settlements > 0
    assert final["duplicate_settlements"] == 0 and final["unrequested_settlements"] == 0
    assert final["cap_overruns"] == 0 and final["deductible_reused"] == 0
    assert final["ytd_mismatches"] == 0 and final["ledger_balanced"]
    assert final["audit_break"] is None
    # No patient in one hospital twice at once (concurrent 2401s share an admission time).
    assert final["overlapping_stays"] == 0, final
    assert final["ok"]
