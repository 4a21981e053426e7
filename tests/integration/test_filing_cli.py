from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from filing_support import (
    HENGYANG,
    PERSON_ID,
    annex2_csv,
    household_registration,
    load_agencies,
    record,
)
from yidi.bootstrap import build_container
from yidi.demo.population import generate_persons
from yidi.entrypoints.cli.main import app
from yidi.filing.model.annex import ANNEX2_COLUMNS
from yidi.filing.record_json import record_to_dict
from yidi.platform.migrate import upgrade
from yidi.reports.annex2_xlsx import ANNEX2_TITLE
from yidi.settings import Settings


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("YIDI_DATABASE_URL", url)
    monkeypatch.setenv("YIDI_DEMO_MODE", "1")
    container = build_container(Settings(database_url=url, demo_mode=True))
    upgrade(container.engine)
    load_agencies(container.uow)
    with container.uow() as uow:
        uow.users.add("hengyang", "not-a-usable-hash", HENGYANG)
        uow.commit()
    container.engine.dispose()
    return tmp_path


def _request_file(directory: Path) -> Path:
    data = record_to_dict(record())
    for key in ("registration_type", "filing_number", "handling_agency", "handler", "handled_on"):
        data.pop(key)
    for key in ("valid_from", "valid_until", "version"):
        data.pop(key)
    evidence = household_registration()
    body = {
        "record": data,
        "evidence": [
            {
                "kind": evidence.kind.value,
                "document_number": evidence.document_number,
                "issuer": evidence.issuer,
                "issued_on": str(evidence.issued_on),
                "issuer_region_code": evidence.issuer_region_code,
            }
        ],
    }
    path = directory / "filing.json"
    path.write_text(json.dumps(body, ensure_ascii=False), "utf-8")
    return path


def test_cli_runs_the_lifecycle_as_a_named_operator(database: Path) -> None:
    runner = CliRunner()
    created = runner.invoke(
        app, ["filing", "create", str(_request_file(database)), "--as-user", "hengyang"]
    )
    assert created.exit_code == 0, created.output
    filing_id = json.loads(created.output)["filing_id"]
    for command in (["submit", filing_id], ["approve", filing_id]):
        result = runner.invoke(app, ["filing", *command, "--as-user", "hengyang"])
        assert result.exit_code == 0, result.output
    shown = runner.invoke(app, ["filing", "show", PERSON_ID, "--as-user", "hengyang"])
    assert shown.exit_code == 0
    number = json.loads(shown.output)["record"]["filing_number"]
    assert number.startswith("BA430421-") and number.endswith(
        "-000001"
    )  # the CLI uses the real clock
    refused = runner.invoke(
        app, ["filing", "reject", filing_id, "--reason", "x", "--as-user", "hengyang"]
    )
    assert refused.exit_code == 1 and "FILING_STATE" in refused.output
    anonymous = runner.invoke(app, ["filing", "submit", filing_id])
    assert anonymous.exit_code == 2
    cancelled = runner.invoke(
        app, ["filing", "cancel", filing_id, "--reason", "已回原籍", "--as-user", "hengyang"]
    )
    assert cancelled.exit_code == 0 and json.loads(cancelled.output)["state"] == "cancelled"


def test_cli_import_reports_rows_and_exits_1_when_some_are_rejected(database: Path) -> None:
    path = database / "batch.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(ANNEX2_COLUMNS)
        for n, p in enumerate(generate_persons(3, seed=5, insured_region_codes=["430400"]), 1):
            writer.writerow(
                [n, p.insured_region_code, "", p.name, p.gender.label_zh, p.resident_id.number,
                 p.insurance_type.annex_code, "", p.social_security_card_number, p.address, "",
                 p.mobile, "1"]
            )  # fmt: skip
        writer.writerow([4, "430400", "", "李四", "男", "430400", "1", "", "", "", "", "", "1"])
    runner = CliRunner()
    first = runner.invoke(app, ["filing", "import", str(path)])
    assert first.exit_code == 1
    assert "导入 3" in first.output and "退回 1" in first.output and "第5行" in first.output
    again = runner.invoke(app, ["filing", "import", str(path), "--as-user", "hengyang"])
    assert again.exit_code == 1 and "重复文件" in again.output
    out = database / "annex2.xlsx"
    exported = runner.invoke(
        app,
        ["filing", "export-annex2", "--region", "430400", "--from", "2020-01-01", "--to", "2030-12-31", "-o", str(out)],
    )  # fmt: skip
    assert exported.exit_code == 0, exported.output
    sheet = load_workbook(out).active
    assert sheet is not None and sheet["A1"].value == ANNEX2_TITLE
    assert sheet.max_row == 3 + 3 + 2
    quarterly = runner.invoke(
        app,
        ["filing", "quarterly", "--region", "430000", "--year", "2026", "--quarter", "4", "-o", str(database / "q.json")],
    )  # fmt: skip
    assert quarterly.exit_code == 0, quarterly.output


def _batches(database: Path) -> list[tuple[str, str, str]]:
    """(filename, region, actor) of every stored batch, as the province of 湖南 lists them."""
    from filing_support import HUNAN
    from yidi.filing.reports import FilingReports

    container = build_container(Settings(database_url=f"sqlite:///{database / 'cli.sqlite3'}"))
    try:
        page = FilingReports(container.uow, container.clock).import_batches(HUNAN)
    finally:
        container.engine.dispose()
    return [(b.filename, b.region_code, b.actor) for b in page.items]


def _person_id(serial: int, region: str = "430421") -> str:
    from datetime import date

    from yidi.kernel.identity import Gender, make_resident_id

    return make_resident_id(region, date(1950, 1, 1), 2 * serial + 1, Gender.MALE).number


def test_cli_import_infers_the_prefecture_of_a_file_insured_in_one(database: Path) -> None:
    path = database / "hengyang.csv"
    path.write_bytes(
        annex2_csv([("430421", "甲某", _person_id(1)), ("430482", "乙某", _person_id(2, "430482"))])
    )
    result = CliRunner().invoke(app, ["filing", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert _batches(database) == [("hengyang.csv", "430400", "system")]


def test_cli_import_of_several_prefectures_refuses_without_region_and_records_it_with(
    database: Path,
) -> None:
    path = database / "hunan.csv"
    path.write_bytes(
        annex2_csv([("430421", "甲某", _person_id(3)), ("430102", "乙某", _person_id(4, "430102"))])
    )
    runner = CliRunner()
    refused = runner.invoke(app, ["filing", "import", str(path)])
    assert refused.exit_code == 2
    assert "IMPORT_REGION_REQUIRED" in refused.output and "--region" in refused.output
    assert "430100、430400" in refused.output
    assert _batches(database) == []
    named = runner.invoke(app, ["filing", "import", str(path), "--region", "430000"])
    assert named.exit_code == 0, named.output
    assert "导入 2" in named.output
    assert _batches(database) == [("hunan.csv", "430000", "system")]


def test_cli_import_as_an_account_takes_its_region_and_refuses_another(database: Path) -> None:
    path = database / "own.csv"
    path.write_bytes(annex2_csv([("430421", "甲某", _person_id(5))]))
    runner = CliRunner()
    outside = runner.invoke(
        app, ["filing", "import", str(path), "--as-user", "hengyang", "--region", "430100"]
    )
    assert outside.exit_code == 1 and "IMPORT_REGION_FORBIDDEN" in outside.output
    unknown = runner.invoke(app, ["filing", "import", str(path), "--region", "439999"])
    assert unknown.exit_code == 1 and "REGION_UNKNOWN" in unknown.output
    own = runner.invoke(app, ["filing", "import", str(path), "--as-user", "hengyang"])
    assert own.exit_code == 0, own.output
    assert _batches(database) == [("own.csv", "430400", "hengyang")]
