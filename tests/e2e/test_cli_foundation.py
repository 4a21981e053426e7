from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from yidi.entrypoints.cli.main import app

runner = CliRunner()


def test_help_explains_each_command_in_chinese_and_english() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("serve", "db", "demo"):
        assert command in result.output
    assert "异地就医" in result.output and "cross-region" in result.output


def test_demo_load_migrates_and_fills_a_fresh_sqlite_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("YIDI_DATABASE_URL", f"sqlite:///{tmp_path / 'demo.sqlite3'}")
    first = runner.invoke(app, ["demo", "load", "--persons", "50"])
    assert first.exit_code == 0, first.output
    assert "参保人 persons +50" in first.output
    assert "demo scenario: persons +" in first.output and "settlements +" in first.output
    again = runner.invoke(app, ["demo", "load", "--persons", "0"])
    assert "医院 hospitals +0" in again.output
    assert "already loaded: filings +0, settlements +0" in again.output
    skipped = runner.invoke(app, ["demo", "load", "--persons", "0", "--no-scenario"])
    assert skipped.exit_code == 0 and "演示场景" not in skipped.output


def test_settings_refuse_the_demo_secret_outside_demo_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("YIDI_DATABASE_URL", f"sqlite:///{tmp_path / 'x.sqlite3'}")
    monkeypatch.delenv("YIDI_DEMO_MODE", raising=False)
    monkeypatch.delenv("YIDI_SECRET_KEY", raising=False)
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 2
    assert "YIDI_SECRET_KEY" in result.output


def test_commands_do_not_migrate_and_say_to_run_db_upgrade_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "fresh.sqlite3"
    monkeypatch.setenv("YIDI_DATABASE_URL", f"sqlite:///{database}")
    monkeypatch.setenv("YIDI_DEMO_MODE", "1")
    refused = runner.invoke(app, ["catalog", "list"])
    assert refused.exit_code == 2
    assert "yidi db upgrade" in refused.output
    with sqlite3.connect(database) as connection:
        tables = connection.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall()
    assert tables == []  # the refused command created no schema
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    listed = runner.invoke(app, ["catalog", "list"])
    assert listed.exit_code == 0, listed.output
    assert "no catalogue versions" in listed.output
