"""The short form of ``bench/crash_harness.py``: ten SIGKILLs of ``yidi serve`` while clients
settle through the gateway, retrying by msgid; nothing acknowledged is lost or duplicated, the
year-to-date totals, the ledger and the audit chain stay consistent after every restart.

PostgreSQL only: the server is a separate process on the test database (its own schema).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from crash_harness import run

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def test_ten_kills_lose_and_duplicate_nothing(database_url: str, tmp_path: Path) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("the crash harness runs yidi serve against PostgreSQL")
    report = run(
        kills=10,
        clients=4,
        persons=6,
        base_url=database_url,
        schema="crash_short",
        log_path=tmp_path / "serve.log",
    )
    assert report.kills == 10 and report.checks == 10
    assert report.failed_checks == []
    assert report.client_errors == [] and report.http_5xx == 0
    final = report.final
    assert final["ok"], final
    assert report.acked_settlements > 0, "the clients got settlements through"
    assert final["settlements"] == report.acked_settlements  # every acknowledged one, once
    assert final["acked_settles_lost"] == 0 and final["duplicate_settlements"] == 0
    assert report.transport_retries > 0, "some requests met a dead server and were resent"
