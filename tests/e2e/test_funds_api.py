"""Clearing, 附件3 and statistics over HTTP and from the command line."""

from __future__ import annotations

import datetime as dt
import io
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import func, select
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parents[1] / "unit"))
from funds_helpers import make_fact

from yidi.bootstrap import Container
from yidi.demo.loader import load_reference_world
from yidi.entrypoints.cli.main import app
from yidi.funds.commands import record_settlement_fact, set_prepayment
from yidi.funds.model import ClearingLevel, Prepayment
from yidi.kernel.money import Money
from yidi.platform.tables import audit_log, prepayment_topups

AT = dt.datetime(2017, 10, 1, 9, 0, tzinfo=dt.UTC)


def _token(client: TestClient, username: str, password: str) -> dict[str, str]:
    body = client.post("/api/auth/login", json={"username": username, "password": password}).json()
    return {"Authorization": f"Bearer {body['token']}"}


def _world(container: Container) -> None:
    load_reference_world(container.uow())
    with container.uow() as uow:
        for n, treatment in enumerate(["450923", "450923", "110101", "410202"]):
            record_settlement_fact(
                uow, make_fact(f"S{n}", insured="410100", treatment=treatment), AT
            )
        record_settlement_fact(
            uow, make_fact("S9", on=dt.date(2016, 5, 1), insured="410100", treatment="410300"), AT
        )
        uow.commit()


def test_a_clearing_officer_runs_and_reads_the_month_as_json_and_xlsx(
    client: TestClient, container: Container
) -> None:
    _world(container)
    officer = _token(client, "clearing", "clearing-demo-2017")
    run = client.post("/api/clearing/2017-09/run?level=province", headers=officer)
    assert run.status_code == 200, run.text
    lines = run.json()["statement"]["lines"]
    assert [(x["treatment_region_code"], x["due_total"]) for x in lines] == [
        ("110000", "600.00"),
        ("410000", "600.00"),
        ("450000", "1200.00"),
    ]
    again = client.get("/api/clearing/2017-09?level=province", headers=officer).json()
    assert again["content_hash"] == run.json()["content_hash"]
    sheet = load_workbook(
        io.BytesIO(client.get("/api/clearing/2017-09/statement.xlsx", headers=officer).content)
    )["清算单"]
    assert sheet["B4"].value == "河南省" and sheet["D6"].value == "广西壮族自治区"
    cashier = _token(client, "nhfy1", "nhfy1-demo-2017")
    assert client.post("/api/clearing/2017-09/run", headers=cashier).status_code == 403


def test_closing_a_month_is_the_clearing_centres_act_after_the_month_has_ended(
    client: TestClient, container: Container
) -> None:
    _world(container)
    henan = _token(client, "henan", "henan-demo-2017")
    # 河南 on 20 November 2026: neither a past, the current nor a future month.
    for month in ("2017-09", "2026-11", "2026-12", "2027-03"):
        refused = client.post(f"/api/clearing/{month}/run?level=province&close=true", headers=henan)
        assert refused.status_code == 403, (month, refused.text)
    assert client.get("/api/clearing/2017-09?level=province", headers=henan).status_code == 404
    officer = _token(client, "clearing", "clearing-demo-2017")
    for month in ("2026-11", "2026-12"):
        early = client.post(f"/api/clearing/{month}/run?level=province&close=true", headers=officer)
        assert early.status_code == 422
        assert early.json()["error"]["code"] == "CLEARING_MONTH_NOT_ENDED"
    closed = client.post("/api/clearing/2017-09/run?level=province&close=true", headers=officer)
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    # A wrongly closed month: only the clearing centre reopens it, with a reason, audited.
    body = {"reason": "误关账：9月北京结算未到齐"}
    assert client.post("/api/clearing/2017-09/reopen", json=body, headers=henan).status_code == 403
    short = client.post("/api/clearing/2017-09/reopen", json={"reason": "x"}, headers=officer)
    assert short.status_code == 422
    reopened = client.post("/api/clearing/2017-09/reopen", json=body, headers=officer)
    assert reopened.status_code == 200 and reopened.json()["status"] == "open"
    again = client.post("/api/clearing/2017-09/reopen", json=body, headers=officer)
    assert again.status_code == 409 and again.json()["error"]["code"] == "CLEARING_NOT_CLOSED"
    assert client.get("/api/clearing/2017-09", headers=officer).json()["status"] == "open"
    with container.uow() as uow:
        actions = [(c.entry.action, c.entry.actor) for c in uow.audit.walk()]
    assert ("clearing.close", "clearing") in actions and ("clearing.reopen", "clearing") in actions
    assert not any(actor == "henan" for action, actor in actions if action.startswith("clearing"))


def test_clearing_lines_are_visible_only_to_the_regions_they_concern(
    client: TestClient, container: Container
) -> None:
    _world(container)
    with container.uow() as uow:
        record_settlement_fact(uow, make_fact("HN1", insured="430400", treatment="450923"), AT)
        uow.commit()
    officer = _token(client, "clearing", "clearing-demo-2017")
    everything = client.post("/api/clearing/2017-09/run?level=province", headers=officer).json()
    pairs = {
        (x["insured_region_code"], x["treatment_region_code"])
        for x in everything["statement"]["lines"]
    }
    assert ("430000", "450000") in pairs and ("410000", "450000") in pairs

    def seen(username: str) -> set[tuple[str, str]]:
        headers = _token(client, username, f"{username}-demo-2017")
        statement = client.get("/api/clearing/2017-09?level=province", headers=headers).json()
        sheet = load_workbook(
            io.BytesIO(client.get("/api/clearing/2017-09/statement.xlsx", headers=headers).content)
        )["清算单"]
        names = {cell.value for row in sheet.iter_rows() for cell in row}
        lines = {
            (x["insured_region_code"], x["treatment_region_code"])
            for x in statement["statement"]["lines"]
        }
        assert ("湖南省" in names) == any("430000" in pair for pair in lines)
        assert ("河南省" in names) == any("410000" in pair for pair in lines)
        return lines

    assert seen("henan") == {p for p in pairs if "410000" in p}
    assert seen("zhengzhou") == {p for p in pairs if "410000" in p}
    assert seen("hengyang") == {("430000", "450000")}
    assert seen("ningxia") == set()  # 宁夏 is neither end of any line this month
    prefecture = client.post("/api/clearing/2017-09/run?level=prefecture", headers=officer)
    assert prefecture.status_code == 200
    hengyang = _token(client, "hengyang", "hengyang-demo-2017")
    own = client.get("/api/clearing/2017-09?level=prefecture", headers=hengyang).json()
    assert {x["insured_region_code"] for x in own["statement"]["lines"]} == {"430400"}


def test_a_province_officer_downloads_annex3_and_an_agency_only_its_own_region(
    client: TestClient, container: Container
) -> None:
    _world(container)
    henan = _token(client, "henan", "henan-demo-2017")
    response = client.get("/api/prepayment/annex3.xlsx?region=410100&year=2018", headers=henan)
    assert response.status_code == 200, response.text
    sheet = load_workbook(io.BytesIO(response.content))["附件3"]
    assert sheet["A2"].value == "2018年度省内异地就医费用支出测算表"
    luoyang = [sheet.cell(10, c).value for c in (1, 2, 3)]
    assert luoyang[0] == "洛阳市" and luoyang[2] == 200  # 600.00 / 3 years
    hengyang = _token(client, "hengyang", "hengyang-demo-2017")
    assert (
        client.get(
            "/api/prepayment/annex4.xlsx?region=410100&year=2018", headers=hengyang
        ).status_code
        == 404
    )


@pytest.mark.parametrize("fmt", ["json", "csv", "xlsx", "html"])
def test_statistics_come_in_every_format_with_the_same_total(
    client: TestClient, container: Container, fmt: str
) -> None:
    _world(container)
    zhengzhou = _token(client, "zhengzhou", "zhengzhou-demo-2017")
    response = client.get(f"/api/statistics?region=410100&format={fmt}", headers=zhengzhou)
    assert response.status_code == 200, response.text
    if fmt == "json":
        assert response.json()["total"]["fund_total"] == "3000.00"
    elif fmt == "xlsx":
        sheet = load_workbook(io.BytesIO(response.content))["统计"]
        assert sheet.cell(sheet.max_row, 9).value == 3000
    else:
        assert "3000.00" in response.text
    assert client.get(f"/api/statistics?region=410100&format={fmt}").status_code == 401


def test_the_command_line_runs_clearing_and_writes_annex4(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("YIDI_DATABASE_URL", f"sqlite:///{tmp_path / 'funds.sqlite3'}")
    monkeypatch.setenv("YIDI_DEMO_MODE", "true")
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    result = runner.invoke(
        app, ["clearing", "run", "--month", "2017-09", "-o", str(tmp_path / "s.json")]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "s.json").read_text(encoding="utf-8").startswith('{"balance_to_pay":"0.00"')
    out = tmp_path / "annex4.xlsx"
    result = runner.invoke(
        app,
        [
            "prepayment",
            "estimate",
            "--annex",
            "4",
            "--year",
            "2018",
            "--region",
            "410100",
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert load_workbook(out)["附件4"]["A2"].value == "2018年度省外异地就医费用支出测算表"
    result = runner.invoke(app, ["stats", "show", "--region", "430400", "--format", "json"])
    assert result.exit_code == 0 and '"rows": []' in result.output


def test_the_command_line_exports_facts_by_month_and_then_only_what_is_new(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import insert

    from yidi.platform.db import make_engine
    from yidi.platform.tables import settlement_facts

    url = f"sqlite:///{tmp_path / 'facts.sqlite3'}"
    monkeypatch.setenv("YIDI_DATABASE_URL", url)
    monkeypatch.setenv("YIDI_DEMO_MODE", "true")
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    engine = make_engine(url)
    fact = {
        "settled_on": dt.date(2026, 11, 3),
        "clearing_month": "2026-11",
        "insured_region_code": "430421",
        "treatment_region_code": "450923",
        "hospital_code": "H45092300001",
        "insurance_type": "310",
        "filing_category": "retiree_resettled",
        "person_times": 1,
        "total_charges_fen": 100_00,
        "pooled_fund_paid_fen": 70_00,
        "serious_illness_paid_fen": 0,
        "large_expense_paid_fen": 0,
        "medical_assistance_paid_fen": 0,
        "recorded_at": dt.datetime(2026, 11, 3, tzinfo=dt.UTC),
    }
    with engine.begin() as connection:
        connection.execute(insert(settlement_facts), [fact | {"setl_id": "S1"}])
    root = tmp_path / "parquet"
    first = runner.invoke(app, ["clearing", "export-parquet", str(root)])
    assert first.exit_code == 0, first.output
    assert "2026-11: 1 条 rows" in first.output
    assert (root / "clearing_month=2026-11" / "facts.parquet").exists()
    with engine.begin() as connection:
        connection.execute(
            insert(settlement_facts),
            [
                fact
                | {"setl_id": "S2", "clearing_month": "2026-12", "settled_on": dt.date(2026, 12, 1)}
            ],
        )
    engine.dispose()
    second = runner.invoke(app, ["clearing", "export-parquet", str(root)])
    assert second.exit_code == 0, second.output
    assert "2026-12: 1 条 rows" in second.output and "2026-11:" not in second.output
    assert "未变 1 个月" in second.output


def test_prepayment_usage_warns_and_a_province_asks_for_a_top_up_once(
    client: TestClient, container: Container
) -> None:
    _world(container)
    set_prepayment(
        container.uow(),
        Prepayment(
            ClearingLevel.PROVINCE, "410000", "450000", Money.of("1500.00"), dt.date(2017, 1, 1)
        ),
    )
    officer = _token(client, "clearing", "clearing-demo-2017")
    assert (
        client.post("/api/clearing/2017-09/run?level=province", headers=officer).status_code == 200
    )
    henan = _token(client, "henan", "henan-demo-2017")
    usage = client.get("/api/prepayment/usage?level=province&year=2017", headers=henan)
    assert usage.status_code == 200, usage.text
    body = usage.json()
    assert (body["yellow_line"], body["red_line"]) == ("0.70", "0.90")
    guangxi = next(r for r in body["rows"] if r["treatment_region_code"] == "450000")
    assert guangxi["held"] == "1500.00" and guangxi["drawn"] == "1200.00"
    assert guangxi["ratio_percent"] == "80.00%" and guangxi["warning_label_zh"] == "黄色预警"
    # 1200.00 / (1500.00 + x) < 70 %: x = 214.29
    assert guangxi["suggested_top_up"] == "214.29"
    hengyang = _token(client, "hengyang", "hengyang-demo-2017")
    theirs = client.get("/api/prepayment/usage?level=province&year=2017", headers=hengyang)
    assert theirs.status_code == 200 and theirs.json()["rows"] == []

    ask = {
        "level": "province",
        "insured_region_code": "410000",
        "treatment_region_code": "450000",
        "year": 2017,
    }
    first = client.post(
        "/api/prepayment/top-up-requests", json=ask, headers={**henan, "Idempotency-Key": "t-1"}
    )
    assert first.status_code == 201, first.text
    again = client.post(
        "/api/prepayment/top-up-requests", json=ask, headers={**henan, "Idempotency-Key": "t-1"}
    )
    assert again.status_code == 201 and again.json() == first.json()
    assert first.json()["suggested_top_up"] == "214.29"
    other = client.post(
        "/api/prepayment/top-up-requests",
        json={**ask, "treatment_region_code": "110000"},
        headers={**henan, "Idempotency-Key": "t-1"},
    )
    assert other.status_code == 409
    outside = client.post("/api/prepayment/top-up-requests", json=ask, headers=hengyang)
    assert outside.status_code == 404
    with container.uow() as uow:
        assert (
            uow.session.execute(select(func.count()).select_from(prepayment_topups)).scalar() == 1
        )
        actions = uow.session.execute(
            select(audit_log.c.action).where(audit_log.c.action == "prepayment.top_up_request")
        ).all()
        assert len(actions) == 1
