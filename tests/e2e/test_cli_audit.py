from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from yidi.cli.main import app
from yidi.storage.db import make_engine

runner = CliRunner()


def test_audit_verify_passes_then_names_the_tampered_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'audit.sqlite3'}"
    monkeypatch.setenv("YIDI_DATABASE_URL", url)
    monkeypatch.setenv("YIDI_DEMO_MODE", "1")
    assert runner.invoke(app, ["demo", "load", "--persons", "0"]).exit_code == 0
    ok = runner.invoke(app, ["audit", "verify"])
    assert ok.exit_code == 0 and "audit chain intact" in ok.output
    engine = make_engine(url)
    with engine.begin() as connection:
        # The demo scenario wrote the chain; someone edits the reason of its fifth entry.
        connection.execute(text("UPDATE audit_log SET reason = 'edited' WHERE seq = 5"))
    engine.dispose()
    broken = runner.invoke(app, ["audit", "verify"])
    assert broken.exit_code == 1
    assert "entry 5" in broken.output
