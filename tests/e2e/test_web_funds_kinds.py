"""The statistics and clearing pages, and their downloads, show totals per clearing type
(清算类别: 住院 21, 门诊 11, 药店购药 41) beside the overall ones."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from yidi.bootstrap import Container
from yidi.funds.commands import run_clearing
from yidi.funds.model import ClearingKind, ClearingLevel

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "unit"))
from funds_helpers import make_fact, record_facts

from web_helpers import PAGE, csrf_token, sign_in, table_rows

AT = dt.datetime(2017, 10, 1, 9, 0, tzinfo=dt.UTC)


pytestmark = pytest.mark.usefixtures("demo_world")


def _settlements(container: Container) -> None:
    """Zhengzhou's insured in Guangxi: a stay, an outpatient visit and a pharmacy purchase."""
    facts = [
        make_fact("K1", insured="410100", treatment="450923"),
        dataclasses.replace(
            make_fact("K2", insured="410100", treatment="450923", pooled="100.00"),
            clearing_kind=ClearingKind.OUTPATIENT,
        ),
        dataclasses.replace(
            make_fact("K3", insured="410100", treatment="450923", pooled="20.00"),
            clearing_kind=ClearingKind.PHARMACY,
        ),
    ]
    record_facts(container.uow, facts, AT)


def test_the_statistics_page_and_downloads_split_the_total_by_clearing_type(
    web: TestClient, container: Container
) -> None:
    _settlements(container)
    sign_in(web, "zhengzhou")
    page = web.get("/funds/statistics", headers=PAGE)
    assert page.status_code == 200
    assert table_rows(page.text, 'data-numbers="clearing-types"') == [
        ["住院（21）", "1", "1,000.00", "600.00"],
        ["门诊（11）", "1", "1,000.00", "100.00"],
        ["药店购药（41）", "1", "1,000.00", "20.00"],
        ["合计", "3", "3,000.00", "720.00"],
    ]
    query = "region=410100&direction=outbound"
    by_type = web.get(f"/funds/statistics/download?{query}&group_by=clearing_type&format=csv")
    assert by_type.status_code == 200
    lines = [line.split(",") for line in by_type.text.lstrip("\ufeff").strip().splitlines()]
    assert [(row[0], row[1], row[2], row[-1]) for row in lines[1:]] == [
        ("11", "门诊", "1", "100.00"),
        ("21", "住院", "1", "600.00"),
        ("41", "药店购药", "1", "20.00"),
        ("", "合计", "3", "720.00"),
    ]
    xlsx = web.get(f"/funds/statistics/download?{query}&group_by=month&format=xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.content))["按清算类别"]
    assert [(sheet.cell(r, 1).value, sheet.cell(r, 3).value) for r in (3, 4, 5)] == [
        ("21", 1),
        ("11", 1),
        ("41", 1),
    ]


def test_the_clearing_page_and_workbook_split_the_due_by_clearing_type(
    web: TestClient, container: Container
) -> None:
    _settlements(container)
    sign_in(web, "clearing")
    token = csrf_token(web, "/funds/clearing?month=2017-09")
    web.post(
        "/funds/clearing",
        data={"month": "2017-09", "level": "province", "csrf_token": token},
        headers=PAGE,
    )
    page = web.get("/funds/clearing?month=2017-09&level=province", headers=PAGE)
    assert table_rows(page.text, 'id="kinds-table"') == [
        ["住院（21）", "1", "600.00"],
        ["门诊（11）", "1", "100.00"],
        ["药店购药（41）", "1", "20.00"],
        ["合计", "3", "720.00"],
    ]
    xlsx = web.get("/funds/clearing/download?month=2017-09&level=province&format=xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.content))["按清算类别"]
    assert [sheet.cell(5, c).value for c in range(1, 9)] == ["合计", None, 1, 600, 1, 100, 1, 20]


def test_a_statement_stored_before_clearing_types_says_so(
    web: TestClient, container: Container
) -> None:
    _settlements(container)
    run_clearing(container.uow(), container.clock, "2017-09", ClearingLevel.PROVINCE)
    from sqlalchemy import update

    from yidi.platform.tables import clearing_runs

    with container.uow() as uow:  # a statement as stored before: no by_kind anywhere
        (row,) = uow.session.execute(clearing_runs.select()).all()
        old = re.sub(r',"by_kind":\{[^{}]*(\{[^{}]*\}[^{}]*)*\}', "", row.statement_json)
        assert "by_kind" not in old
        uow.session.execute(update(clearing_runs).values(statement_json=old))
        uow.commit()
    sign_in(web, "clearing")
    page = web.get("/funds/clearing?month=2017-09&level=province", headers=PAGE)
    assert page.status_code == 200 and 'id="kinds-unknown"' in page.text
    assert 'id="kinds-table"' not in page.text
