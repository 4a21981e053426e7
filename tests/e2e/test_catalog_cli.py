from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from yidi.entrypoints.cli.main import app

runner = CliRunner()

HEADER = "code,name,kind,item_class,upfront_self_pay_rate,price_limit,valid_from,valid_until,fee_category\n"


def test_catalog_import_validates_every_row_is_idempotent_and_versioned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("YIDI_DATABASE_URL", f"sqlite:///{tmp_path / 'cat.sqlite3'}")
    monkeypatch.setenv("YIDI_DEMO_MODE", "1")
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    bad = tmp_path / "bad.csv"
    bad.write_text(
        HEADER + "A1,甲药,drug,X,,,2017-01-01,,09\nA2,乙药,drug,B,0.1,,not-a-date,,09\n",
        encoding="utf-8",
    )
    refused = runner.invoke(
        app, ["catalog", "import", str(bad), "--region", "450000", "--effective", "2017-01-01"]
    )
    assert refused.exit_code == 1
    assert "第2行" in refused.output and "第3行" in refused.output
    good = tmp_path / "good.csv"
    good.write_text(HEADER + "A1,甲药,drug,A,,,2017-01-01,,09\n", encoding="utf-8")
    args = ["catalog", "import", str(good), "--region", "450000", "--effective", "2017-01-01"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0 and "已导入 imported" in first.output
    again = runner.invoke(app, args)
    assert again.exit_code == 0 and "already stored" in again.output
    newer = tmp_path / "newer.csv"
    newer.write_text(HEADER + "A1,甲药,drug,B,0.2,,2017-01-01,,09\n", encoding="utf-8")
    assert (
        runner.invoke(
            app,
            ["catalog", "import", str(newer), "--region", "450000", "--effective", "2018-01-01"],
        ).exit_code
        == 0
    )
    listed = runner.invoke(app, ["catalog", "list", "--region", "450000"])
    assert len(listed.output.strip().splitlines()) == 2
