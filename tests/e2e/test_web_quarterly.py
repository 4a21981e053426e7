"""The quarterly new/changed list page (每季度末新增（变更）备案人员信息): per prefecture, masked,
with its XLSX; field errors and access."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from filing_support import HENGYANG, household_registration, record
from yidi.bootstrap import Container
from yidi.demo.loader import load_reference_world
from yidi.filing.commands import FilingService

sys.path.insert(0, str(Path(__file__).parent))
from web_helpers import PAGE, hash_once, sign_in


@pytest.fixture(autouse=True)
def _world(container: Container, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("yidi.demo.loader.hash_password", hash_once)
    load_reference_world(container.uow())
    service = FilingService(container.uow, container.clock)
    draft = service.create_draft(HENGYANG, record(), evidence=[household_registration()])
    service.submit(HENGYANG, draft.filing_id)
    service.approve(HENGYANG, draft.filing_id)


def test_the_province_sees_the_quarters_new_filings_per_prefecture_and_downloads_them(
    web: TestClient,
) -> None:
    sign_in(web, "hunan")
    page = web.get("/filings/quarterly?year=2026&quarter=4", headers=PAGE)
    assert page.status_code == 200
    assert 'data-prefecture="430400"' in page.text
    assert "谢某某" in page.text and "430421********" in page.text  # masked
    assert "新增" in page.text
    empty = web.get("/filings/quarterly?year=2026&quarter=1", headers=PAGE)
    assert 'id="quarterly-none"' in empty.text
    download = web.get("/filings/quarterly?year=2026&quarter=4&download=1", headers=PAGE)
    assert download.status_code == 200
    workbook = load_workbook(io.BytesIO(download.content))
    assert any("430400" in name for name in workbook.sheetnames)
    values = [cell for row in workbook.worksheets[0].iter_rows(values_only=True) for cell in row]
    assert "谢某某" in values


def test_quarterly_field_errors_and_access(web: TestClient) -> None:
    sign_in(web, "hunan")
    bad = web.get("/filings/quarterly?year=19&quarter=5", headers=PAGE)
    assert bad.status_code == 422
    assert 'id="year-error"' in bad.text and 'id="quarter-error"' in bad.text
    web.cookies.clear()
    sign_in(web, "bobai")
    assert web.get("/filings/quarterly", headers=PAGE).status_code == 403
