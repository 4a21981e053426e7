"""The offices' submissions page (地市报送情况) with its CSV/XLSX, the 报盘 batch list and
report pages, and the quarterly list's region chooser, over HTTP as a browser calls them."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from filing_support import HENGYANG, HUNAN, annex2_csv, household_registration, record
from yidi.bootstrap import Container
from yidi.demo.loader import load_reference_world
from yidi.filing.commands import FilingService
from yidi.filing.imports import FilingImports
from yidi.filing.reports import FilingReports, period_bounds
from yidi.filing.scope import system_principal
from yidi.kernel.identity import Gender, make_resident_id

sys.path.insert(0, str(Path(__file__).parent))
from web_helpers import PAGE, hash_once, sign_in

BAD_ID = make_resident_id("430421", dt.date(1950, 1, 1), 41, Gender.MALE).number[:-1] + "0"


def _id(serial: int, region: str = "430421") -> str:
    return make_resident_id(region, dt.date(1950, 1, 1), 2 * serial + 1, Gender.MALE).number


@pytest.fixture(autouse=True)
def _world(container: Container, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("yidi.demo.loader.hash_password", hash_once)
    load_reference_world(container.uow())
    service = FilingService(container.uow, container.clock)
    approved = service.create_draft(HENGYANG, record(), evidence=[household_registration()])
    service.submit(HENGYANG, approved.filing_id)
    service.approve(HENGYANG, approved.filing_id)
    waiting = service.create_draft(
        HENGYANG, record(social_security_number=_id(2)), evidence=[household_registration()]
    )
    service.submit(HENGYANG, waiting.filing_id)
    imports = FilingImports(container.uow, container.clock)
    imports.import_annex2(
        HENGYANG,
        annex2_csv([("430421", "甲某", _id(3)), ("430421", "乙某", BAD_ID)]),
        "hengyang-batch.csv",
    )
    imports.import_annex2(HUNAN, annex2_csv([("430102", "丙某", _id(4))]), "hunan-batch.csv")


def _row_cells(html: str, region: str) -> list[str]:
    row = re.search(rf'<tr data-region="{region}">(.*?)</tr>', html, re.S)
    assert row, f"no row for {region}"
    return [
        re.sub(r"<[^>]+>", "", cell).strip()
        for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row.group(1), re.S)
    ]


def test_the_province_sees_each_prefectures_submissions_and_downloads_the_same_numbers(
    web: TestClient, container: Container
) -> None:
    sign_in(web, "hunan")
    desk = web.get("/province", headers=PAGE)
    assert 'href="/province/submissions"' in desk.text
    page = web.get("/province/submissions", headers=PAGE)  # today's quarter: 2026 Q4
    assert page.status_code == 200
    assert "2026-10-01 — 2026-12-31" in page.text
    hengyang = _row_cells(page.text, "430400")
    report = FilingReports(container.uow, container.clock).submissions(
        HUNAN, *period_bounds(2026, 4)
    )
    expected = next(r for r in report.rows if r.region_code == "430400")
    # code, name, submitted, approved, rejected, superseded, cancelled, expired, total,
    # counter, import, new, changed, ...
    assert hengyang[:2] == ["430400", "衡阳市"]
    assert hengyang[2:4] == ["1", "2"] and hengyang[8:13] == ["3", "2", "1", "2", "0"]
    assert expected.total == 3 and expected.imported == 1
    assert _row_cells(page.text, "430100")[10] == "1"  # the province's 长沙 row
    assert _row_cells(page.text, "430000")[1] == "省直"
    assert _row_cells(page.text, "total")[8] == "4"
    download = web.get("/province/submissions?year=2026&period=4&download=csv", headers=PAGE)
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["代码", "地市", "已提交"]
    assert next(r for r in rows if r[0] == "430400") == hengyang
    assert rows[-1][8] == "4"
    xlsx = web.get("/province/submissions?year=2026&period=4&download=xlsx", headers=PAGE)
    sheet = load_workbook(io.BytesIO(xlsx.content)).worksheets[0]
    values = [
        ["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)
    ]
    assert next(r for r in values if r[0] == "430400") == hengyang
    assert "2026-10-01" in values[0][0]
    year = web.get("/province/submissions?year=2026&period=year", headers=PAGE)
    assert "2026-01-01 — 2026-12-31" in year.text
    english = web.get("/province/submissions?lang=en", headers=PAGE)
    assert "Filings submitted by prefecture" in english.text and "Province level" in english.text


def test_the_period_chooser_reports_errors_next_to_its_fields(web: TestClient) -> None:
    sign_in(web, "hunan")
    bad = web.get("/province/submissions?year=19&period=5", headers=PAGE)
    assert bad.status_code == 422
    assert 'id="year-error"' in bad.text and 'id="period-error"' in bad.text
    assert 'id="submissions-table"' not in bad.text
    assert web.get("/province/submissions?download=pdf", headers=PAGE).status_code == 422


def test_an_agency_sees_only_its_own_row_and_other_roles_are_refused(web: TestClient) -> None:
    sign_in(web, "hengyang")
    page = web.get("/province/submissions", headers=PAGE)
    assert page.status_code == 200
    assert re.findall(r'<tr data-region="(\d+)">', page.text) == ["430400"]
    assert _row_cells(page.text, "430400")[8] == "3"
    for username in ("nhfy1", "laoxie", "clearing"):
        web.cookies.clear()
        sign_in(web, username)
        for path in ("/province/submissions", "/province/imports", "/province/imports/1"):
            assert web.get(path, headers=PAGE).status_code == 403, (username, path)


def test_the_batch_list_filters_by_region_and_date_and_opens_a_masked_audited_report(
    web: TestClient, container: Container
) -> None:
    sign_in(web, "hunan")
    listing = web.get("/province/imports", headers=PAGE)
    assert listing.status_code == 200
    assert "hengyang-batch.csv" in listing.text and "hunan-batch.csv" in listing.text
    only = web.get("/province/imports?region=430400", headers=PAGE)
    assert "hengyang-batch.csv" in only.text and "hunan-batch.csv" not in only.text
    none = web.get("/province/imports?from=2026-11-21", headers=PAGE)
    assert 'id="no-batches"' in none.text
    bad = web.get("/province/imports?from=2026-13-01&region=410100&page=x", headers=PAGE)
    assert bad.status_code == 422
    for field in ("from", "region", "page"):
        assert f'id="{field}-error"' in bad.text
    batch_id = re.search(r'<a href="/province/imports/(\d+)">hengyang-batch.csv', only.text)
    assert batch_id
    report = web.get(f"/province/imports/{batch_id.group(1)}", headers=PAGE)
    assert report.status_code == 200
    assert 'data-count="rejected">1<' in report.text and 'id="import-errors"' in report.text
    assert '<td class="wide-only">3</td>' in report.text  # the bad row is line 3 of the file
    assert BAD_ID not in report.text
    with container.uow() as uow:
        reads = [c.entry for c in uow.audit.walk() if c.entry.action == "filing.import_report_read"]
    assert [(e.actor, e.subject[:7]) for e in reads] == [("hunan", "import:")]
    web.cookies.clear()
    sign_in(web, "zhengzhou")
    assert "hengyang-batch.csv" not in web.get("/province/imports", headers=PAGE).text
    hidden = web.get(f"/province/imports/{batch_id.group(1)}", headers=PAGE)
    missing = web.get("/province/imports/999999", headers=PAGE)
    assert hidden.status_code == missing.status_code == 404
    assert web.get("/province/imports/not-a-number", headers=PAGE).status_code == 404
    web.cookies.clear()
    sign_in(web, "hengyang")
    own = web.get("/province/imports", headers=PAGE)
    assert "hengyang-batch.csv" in own.text and "hunan-batch.csv" not in own.text
    assert web.get(f"/province/imports/{batch_id.group(1)}", headers=PAGE).status_code == 200


def test_a_command_line_batch_is_on_the_page_of_its_prefecture_and_province_only(
    web: TestClient, container: Container
) -> None:
    FilingImports(container.uow, container.clock).import_annex2(
        system_principal(), annex2_csv([("430421", "丁某", _id(5))]), "cli-batch.csv"
    )
    for username in ("hunan", "hengyang"):
        web.cookies.clear()
        sign_in(web, username)
        listing = web.get("/province/imports", headers=PAGE)
        row = re.search(
            r'<tr data-batch="(\d+)">(?:(?!</tr>).)*cli-batch.csv.*?</tr>', listing.text, re.S
        )
        assert row, username
        assert "衡阳市" in row.group(0) and "system" in row.group(0)
        report = web.get(f"/province/imports/{row.group(1)}", headers=PAGE)
        assert report.status_code == 200 and "430400" in report.text
    web.cookies.clear()
    sign_in(web, "hunan")
    only = web.get("/province/imports?region=430400", headers=PAGE)
    assert "cli-batch.csv" in only.text and "hunan-batch.csv" not in only.text
    for username in ("henan", "zhengzhou"):
        web.cookies.clear()
        sign_in(web, username)
        assert "cli-batch.csv" not in web.get("/province/imports", headers=PAGE).text
        assert web.get(f"/province/imports/{row.group(1)}", headers=PAGE).status_code == 404


def test_the_batch_list_pages_through_many_batches(web: TestClient, container: Container) -> None:
    imports = FilingImports(container.uow, container.clock)
    for serial in range(20, 41):
        imports.import_annex2(
            HENGYANG, annex2_csv([("430421", "某某", _id(serial))]), f"many-{serial}.csv"
        )
    sign_in(web, "hengyang")
    first = web.get("/province/imports", headers=PAGE)
    assert "共 22 个批次" in first.text and 'id="page-next"' in first.text
    assert len(re.findall(r"<tr data-batch=", first.text)) == 20
    second = web.get("/province/imports?page=2", headers=PAGE)
    assert len(re.findall(r"<tr data-batch=", second.text)) == 2
    assert 'id="page-prev"' in second.text and 'id="page-next"' not in second.text


def test_the_quarterly_list_lets_the_province_choose_a_prefecture_and_fixes_an_agencys(
    web: TestClient,
) -> None:
    sign_in(web, "hunan")
    whole = web.get("/filings/quarterly?year=2026&quarter=4", headers=PAGE)
    assert '<option value="430000" selected>' in whole.text
    assert 'data-prefecture="430400"' in whole.text and 'data-prefecture="430100"' in whole.text
    one = web.get("/filings/quarterly?region=430400&year=2026&quarter=4", headers=PAGE)
    assert 'data-prefecture="430400"' in one.text and 'data-prefecture="430100"' not in one.text
    # The download is an export job started by a form of the chosen region and quarter.
    export_form = one.text.split('id="quarterly-export"')[1].split("</form>")[0]
    assert (
        'name="region" value="430400"' in export_form and 'name="quarter" value="4"' in export_form
    )
    download = web.get(
        "/filings/quarterly?region=430100&year=2026&quarter=4&download=1", headers=PAGE
    )
    assert [n for n in load_workbook(io.BytesIO(download.content)).sheetnames] == ["长沙市430100"]
    outside = web.get("/filings/quarterly?region=410100", headers=PAGE)
    assert outside.status_code == 422 and 'id="region-error"' in outside.text
    web.cookies.clear()
    sign_in(web, "hengyang")
    agency = web.get("/filings/quarterly?year=2026&quarter=4", headers=PAGE)
    chooser = re.search(r'<select id="region".*?</select>', agency.text, re.S)
    assert chooser and re.findall(r'<option value="(\d+)"', chooser.group(0)) == ["430400"]
    assert 'id="region-fixed"' in agency.text
    assert web.get("/filings/quarterly?region=430000", headers=PAGE).status_code == 422
