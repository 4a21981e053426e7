"""The quarterly list and 待补充的历史备案 are paged by the database: a page reads only its
rows (a fixed number of statements, the page's records under LIMIT), counts the whole list,
keeps the download's serials, and a page past the end answers with the last page."""

from __future__ import annotations

import datetime as dt
import io
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import event

from filing_support import annex2_csv, api_headers
from yidi.bootstrap import Container
from yidi.demo.loader import load_reference_world
from yidi.filing.commands import FilingService
from yidi.filing.reports import FilingReports
from yidi.kernel.access import Principal, Role
from yidi.kernel.identity import Gender, make_resident_id

sys.path.insert(0, str(Path(__file__).parent))
from web_helpers import PAGE, csrf_token, hash_once, sign_in

PROVINCE = Principal("hunan", Role.PROVINCE_OFFICER, "430000")
HENGYANG = Principal("hengyang", Role.AGENCY_HANDLER, "430400")


@pytest.fixture(autouse=True)
def _demo_world(container: Container, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("yidi.demo.loader.hash_password", hash_once)
    load_reference_world(container.uow())


def _number(serial: int, region: str) -> str:
    born = dt.date(1950, 1, 1) + dt.timedelta(days=serial)  # one person per serial
    return make_resident_id(region, born, 11, Gender.MALE).number


def _name(i: int) -> str:
    """A name without digits: 张甲一, 张乙一 …"""
    return "张" + "甲乙丙丁戊己庚辛壬癸"[i % 10] + "一二三四五六七八九十"[i // 10 % 10]


def _import(web: TestClient, rows: list[tuple[str, str, str]]) -> None:
    token = csrf_token(web, "/filings/import")
    done = web.post(
        "/filings/import",
        data={"csrf_token": token},
        files={"file": ("batch.csv", annex2_csv(rows), "text/csv")},
        headers=PAGE,
    )
    assert re.search(rf'data-count="imported">{len(rows)}<', done.text), done.text[-2000:]


def _rows(start: int, zhuzhou: int, hengyang: int) -> list[tuple[str, str, str]]:
    """Filings of 荷塘区 (株洲市) and 衡阳县 (衡阳市); every one lacks mandatory fields."""
    found = []
    for i in range(start, start + zhuzhou):
        found.append(("430202", _name(i), _number(i, "430202")))
    for i in range(start + zhuzhou, start + zhuzhou + hengyang):
        found.append(("430421", _name(i), _number(i, "430421")))
    return found


def _tables(html: str) -> list[tuple[str, list[str]]]:
    """(prefecture, serials of its rows) of each table on a quarterly page."""
    found = []
    for code, body in re.findall(r'data-prefecture="(\d+)">.*?<tbody>(.*?)</tbody>', html, re.S):
        found.append((code, re.findall(r"<tr><td>(\d+)</td>", body)))
    return found


def _quarter(container: Container) -> dict[str, str]:
    today = container.clock.today()
    return {"year": str(today.year), "quarter": str((today.month - 1) // 3 + 1)}


def test_the_quarterly_list_pages_in_the_download_order_with_its_serials(
    web: TestClient, container: Container
) -> None:
    sign_in(web, "hunan")
    _import(web, _rows(0, 7, 18))
    params = {"region": "430000", **_quarter(container), "size": "20"}
    first = web.get("/filings/quarterly", params=params, headers=PAGE)
    assert first.status_code == 200 and "第 1–20 条，共 25 条" in first.text
    assert _tables(first.text) == [
        ("430200", [str(n) for n in range(1, 8)]),
        ("430400", [str(n) for n in range(1, 14)]),
    ]
    # each prefecture's heading counts its whole list, not the page's share
    assert re.search(r'data-rows="430400">18 人<', first.text)
    assert 'href="/filings/quarterly?' in first.text and "page=2" in first.text
    last = web.get("/filings/quarterly", params={**params, "page": "2"}, headers=PAGE)
    assert "第 21–25 条，共 25 条" in last.text
    assert _tables(last.text) == [("430400", ["14", "15", "16", "17", "18"])]
    assert "********" in last.text  # masked on screen, also for the province
    # a page past the end is the last page, not an error
    beyond = web.get("/filings/quarterly", params={**params, "page": "99"}, headers=PAGE)
    assert beyond.status_code == 200 and _tables(beyond.text) == _tables(last.text)
    # the download stays complete: the pages together are its rows, in its order
    whole = web.get("/filings/quarterly", params={**params, "download": "1"}, headers=PAGE)
    book = load_workbook(io.BytesIO(whole.content))
    shown = [name for part in (first.text, last.text) for name in _names(part)]
    downloaded = [
        str(row[3])
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
        if row and str(row[0] or "").isdigit()
    ]
    assert len(downloaded) == 25 and downloaded == shown
    # one prefecture alone
    one = web.get("/filings/quarterly", params={**params, "region": "430200"}, headers=PAGE)
    assert "第 1–7 条，共 7 条" in one.text and [c for c, _ in _tables(one.text)] == ["430200"]


def _names(html: str) -> list[str]:
    return re.findall(r"<tr><td>\d+</td><td>\d{6}</td><td>[^<]*</td><td>([^<]+)</td>", html)


def test_an_empty_quarter_says_so_and_a_bad_page_number_is_the_first_page(
    web: TestClient, container: Container
) -> None:
    sign_in(web, "hunan")
    params = {"region": "430000", **_quarter(container)}
    empty = web.get("/filings/quarterly", params={**params, "page": "7"}, headers=PAGE)
    assert empty.status_code == 200 and 'id="quarterly-none"' in empty.text
    _import(web, _rows(100, 0, 3))
    odd = web.get("/filings/quarterly", params={**params, "page": "x", "size": "7"}, headers=PAGE)
    assert odd.status_code == 200 and "第 1–3 条，共 3 条" in odd.text


def _counted(container: Container, call: Callable[[], Any]) -> tuple[Any, list[str]]:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(" ".join(statement.split()))

    event.listen(container.engine, "before_cursor_execute", count)
    try:
        result = call()
    finally:
        event.remove(container.engine, "before_cursor_execute", count)
    return result, [s for s in statements if s.upper().startswith(("SELECT", "WITH"))]


def test_a_quarterly_page_reads_only_its_rows_whatever_the_list_length(
    web: TestClient, container: Container
) -> None:
    sign_in(web, "hunan")
    reports = FilingReports(container.uow, container.clock)
    quarter = _quarter(container)
    year, number = int(quarter["year"]), int(quarter["quarter"])

    def page() -> Any:
        return reports.quarterly_page(PROVINCE, "430000", year, number, limit=5, offset=5)

    _import(web, _rows(200, 4, 8))
    small, few = _counted(container, page)
    _import(web, _rows(300, 10, 30))
    big, many = _counted(container, page)
    assert (small.total, big.total) == (12, 52)
    assert sum(len(t.rows) for t, _ in small.tables) == 5
    assert sum(len(t.rows) for t, _ in big.tables) == 5
    assert len(few) == len(many)  # no statement per row or per prefecture
    records = [s for s in many if "record_json" in s]
    assert records and all("LIMIT" in s.upper() for s in records)  # only the page's records
    # the serials go on from the rows before the page (株洲 4 + 10 = 14 rows first)
    assert [(t.region_code, t.rows[0][0]) for t, _ in big.tables] == [("430200", "6")]


def test_the_incomplete_list_pages_in_the_database(web: TestClient, container: Container) -> None:
    sign_in(web, "hengyang")
    _import(web, _rows(400, 0, 23))
    first = web.get("/filings/incomplete", params={"size": "20"}, headers=PAGE)
    assert "共 23 条" in first.text and first.text.count("<tr><td>") == 20
    last = web.get("/filings/incomplete", params={"size": "20", "page": "2"}, headers=PAGE)
    assert last.text.count("<tr><td>") == 3 and 'id="pager-status"' in last.text
    beyond = web.get("/filings/incomplete", params={"size": "20", "page": "50"}, headers=PAGE)
    assert beyond.status_code == 200 and beyond.text.count("<tr><td>") == 3
    names = re.findall(r'<td lang="zh-CN">([^<]+)</td>', first.text + last.text)
    assert len(set(names)) == len(names) == 23  # the pages do not overlap
    service = FilingService(container.uow, container.clock)
    _page, few = _counted(container, lambda: service.incomplete_page(HENGYANG, limit=5, offset=5))
    _import(web, _rows(500, 0, 30))
    found, many = _counted(container, lambda: service.incomplete_page(HENGYANG, limit=5, offset=5))
    assert found.total == 53 and len(found.items) == 5 and found.offset == 5
    assert len(few) == len(many) == 2  # the count and the page
    assert "LIMIT" in many[1].upper()
    # another agency's list does not hold these filings
    zhuzhou = Principal("zhuzhou1", Role.AGENCY_HANDLER, "430200")
    assert service.incomplete_page(zhuzhou, limit=20, offset=0).total == 0
    # the stored count agrees with the rule read from the records
    assert len(service.incomplete(HENGYANG)) == 53


def test_the_incomplete_list_api_is_paged_typed_and_masked(
    web: TestClient, container: Container
) -> None:
    sign_in(web, "hengyang")
    _import(web, _rows(600, 0, 7))
    headers = api_headers(container, HENGYANG)
    url = "/api/filings/follow-up/incomplete"
    first = web.get(url, params={"limit": 5}, headers=headers)
    assert first.status_code == 200
    body = first.json()
    assert (body["total"], body["offset"], len(body["items"])) == (7, 0, 5)
    rest = web.get(url, params={"limit": 5, "offset": 5}, headers=headers).json()
    assert (rest["offset"], len(rest["items"])) == (5, 2)
    names = [i["name"] for i in body["items"] + rest["items"]]
    assert len(set(names)) == 7 == len(names)  # the pages do not overlap
    item = body["items"][0]
    assert item["missing_fields"] and "*" in item["id_number_masked"]
    assert not re.search(r"\d{17}[\dX]", first.text)  # no ID number in the clear
    # past the end: nothing there (an API client asked for that offset), the total still
    beyond = web.get(url, params={"limit": 5, "offset": 50}, headers=headers).json()
    assert (beyond["total"], beyond["items"]) == (7, [])
    bad = web.get(url, params={"limit": 0}, headers=headers)
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "REQUEST_INVALID"
    # another agency sees none of them
    other = api_headers(container, Principal("zhuzhou1", Role.AGENCY_HANDLER, "430200"))
    assert web.get(url, headers=other).json()["total"] == 0
    # OpenAPI documents the page and its fields
    schema = web.get("/openapi.json").json()["components"]["schemas"]
    assert {"total", "offset", "items"} <= set(schema["IncompletePageOut"]["properties"])
    assert "missing_fields" in schema["CompletenessOut"]["properties"]
