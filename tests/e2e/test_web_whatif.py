"""政策调整测算 over HTTP: the demo scenario's stored settlements re-settled from the page."""

from __future__ import annotations

import io
import re
import sys
import zipfile
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from yidi.bootstrap import Container
from yidi.catalog.commands import import_sample_catalogs
from yidi.demo.loader import load_reference_world
from yidi.demo.scenario import load_scenario
from yidi.entrypoints.app import create_app

sys.path.insert(0, str(Path(__file__).parent))
from web_helpers import PAGE, csrf_token, hash_once, sign_in

FORM = {
    "source": "params",
    "policy": "640000:390",
    "region": "640000",
    "start": "2010-01-01",
    "end": "2030-12-31",
    "effective": "2017-01-01",
}


@pytest.fixture
def web(container: Container, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setattr("yidi.demo.loader.hash_password", hash_once)
    load_reference_world(container.uow())
    import_sample_catalogs(container.uow, container.clock)
    assert load_scenario(container.uow).loaded
    with TestClient(create_app(container), base_url="http://127.0.0.1:8000") as client:
        yield client


def _start(web: TestClient, **fields: str) -> tuple[int, str]:
    page = web.get("/funds/whatif?policy=640000:390", headers=PAGE)
    assert page.status_code == 200
    values = dict(re.findall(r'name="(ded\d|rate\d|cap)"[^>]*value="([^"]*)"', page.text))
    data = {**FORM, **values, **fields, "csrf_token": csrf_token(web, "/funds/whatif")}
    answer = web.post("/funds/whatif", data=data, headers=PAGE, follow_redirects=False)
    return answer.status_code, answer.headers.get("location", "") or answer.text


def test_a_higher_rate_costs_the_fund_more_and_the_baseline_holds(web: TestClient) -> None:
    sign_in(web, "ningxia")
    home = web.get("/agency", headers=PAGE)
    assert 'href="/funds/whatif"' in home.text
    form = web.get("/funds/whatif?policy=640000:390", headers=PAGE)
    assert "政策调整测算" in form.text and 'name="rate1" type="text" value="0.85"' in form.text
    status, location = _start(web, rate1="0.95", rate2="0.80", rate3="0.65")
    assert status == 303 and location.startswith("/funds/whatif/jobs/"), location
    page = web.get(location, headers=PAGE)
    assert page.status_code == 200
    assert 'data-state="done"' in page.text
    baseline = re.search(r'id="whatif-baseline"[^>]*>([^<]+)<', page.text)
    assert baseline and "条不一致" in baseline.group(1) and "，0 条不一致" in baseline.group(1)
    summary = re.search(r'id="whatif-summary">([^<]+)<', page.text)
    assert summary and "变化 0.00" not in summary.group(1)
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in page.text and "<rect" in page.text
    for table in ("by-region", "by-hospital_level", "by-encounter", "by-month", "whatif-top"):
        assert f'id="{table}"' in page.text
    # persons are masked; no ID number of the scenario reaches the page
    assert not re.search(r"\b\d{17}[\dX]\b", page.text)

    csv = web.get(f"{location}/download?format=csv", headers=PAGE)
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    text = csv.content.decode("utf-8-sig")
    assert "基金支付总额" in text and "出院月份" in text
    xlsx = web.get(f"{location}/download?format=xlsx", headers=PAGE)
    assert xlsx.status_code == 200
    book = load_workbook(io.BytesIO(xlsx.content))
    assert book.sheetnames == ["测算汇总 breakdown", "变化最大 top changes"]
    assert book["变化最大 top changes"].max_row > 1

    english = web.get(f"{location}?lang=en", headers=PAGE)
    assert "Fund impact" in english.text and "Settlements that change most" in english.text


def test_the_same_policy_changes_nothing_and_bad_input_is_refused(web: TestClient) -> None:
    sign_in(web, "ningxia")
    status, location = _start(web)
    assert status == 303
    page = web.get(location, headers=PAGE)
    assert 'id="no-changes"' in page.text and "，0 条不一致" in page.text
    status, text = _start(web, rate1="1.5")
    assert status == 422 and "比例须在 0 到 1 之间" in text
    status, text = _start(web, start="2026-05-01", end="2026-01-01")
    assert status == 422 and "结束日期不能早于开始日期" in text
    status, text = _start(web, region="430400")
    assert status == 422 and 'id="region-error"' in text
    status, text = _start(web, source="upload")
    assert status == 422 and "请选择政策目录" in text


def _zip(region: str) -> bytes:
    buffer = io.BytesIO()
    root = resources.files("yidi") / "policies" / region
    with zipfile.ZipFile(buffer, "w") as archive:
        for kind in ("employee", "resident"):
            folder = root / kind
            if not folder.is_dir():
                continue
            for item in folder.iterdir():
                if item.name.endswith(".yaml"):
                    text = item.read_text(encoding="utf-8")
                    archive.writestr(f"{region}/{kind}/{item.name}", text)
    return buffer.getvalue()


def test_an_uploaded_tree_runs_and_one_outside_the_region_is_refused(web: TestClient) -> None:
    sign_in(web, "ningxia")
    token = csrf_token(web, "/funds/whatif")
    data = {**FORM, "source": "upload", "csrf_token": token}
    ok = web.post(
        "/funds/whatif",
        data=data,
        files={"policy_file": ("ningxia.zip", _zip("640000"), "application/zip")},
        headers=PAGE,
        follow_redirects=False,
    )
    assert ok.status_code == 303, ok.text
    page = web.get(ok.headers["location"], headers=PAGE)
    assert 'data-state="done"' in page.text and "，0 条不一致" in page.text
    outside = web.post(
        "/funds/whatif",
        data=data,
        files={"policy_file": ("hengyang.zip", _zip("430400"), "application/zip")},
        headers=PAGE,
    )
    assert outside.status_code == 422 and "不能测算本统筹区以外的政策" in outside.text
    broken = web.post(
        "/funds/whatif",
        data=data,
        files={"policy_file": ("x.zip", b"not a zip", "application/zip")},
        headers=PAGE,
    )
    assert broken.status_code == 422 and "zip" in broken.text
    # another agency cannot open the job; a cashier cannot open the page
    web.post("/signout", data={"csrf_token": csrf_token(web, "/")}, headers=PAGE)
    sign_in(web, "hengyang")
    assert web.get(ok.headers["location"], headers=PAGE).status_code == 404
    web.post("/signout", data={"csrf_token": csrf_token(web, "/")}, headers=PAGE)
    sign_in(web, "nhfy1")
    assert web.get("/funds/whatif", headers=PAGE).status_code == 403
    assert 'href="/funds/whatif"' not in web.get("/hospital", headers=PAGE).text
