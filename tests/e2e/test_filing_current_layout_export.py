"""备案记录（现行版式） beside 附件2: the API and CLI export every class and type with promise,
validity and lock, masked unless asked for in full (audited), in CSV, XLSX and JSON; a filing
handled under the 2017 model keeps its 2017 meaning; 附件2 keeps the 2017 Henan layout."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select
from typer.testing import CliRunner

from filing_support import (
    BOBAI,
    CASHIER,
    HENGYANG,
    HUNAN,
    PERSON,
    PERSON_ID,
    ZHENGZHOU,
    api_headers,
    load_agencies,
    record,
    record_body,
)
from hospital_support import UNFILED_CARD, UNFILED_ID
from yidi.bootstrap import Container
from yidi.entrypoints.cli.main import app
from yidi.filing.model.annex import ANNEX2_COLUMNS
from yidi.filing.model.current_layout import CURRENT_LAYOUT_COLUMNS, CURRENT_LAYOUT_TITLE
from yidi.filing.model.evidence import Evidence, EvidenceKind
from yidi.kernel.clock import CHINA_TZ, FixedClock
from yidi.kernel.identity import Gender
from yidi.kernel.insurance import FilingCategory, PersonType
from yidi.platform.tables import audit_log
from yidi.reports.annex2_xlsx import ANNEX2_TITLE

URL = "/api/filings/export/current-layout?region=430400&from=2021-01-01&to=2026-12-31"


@pytest.fixture
def filed(client: TestClient, container: Container, clock: FixedClock) -> None:
    """李某某's 2017-era window filing (2021) and 谢某某's online promise-based one (2026)."""
    load_agencies(container.uow)
    now = clock.now()
    clock.set(dt.datetime(2021, 3, 2, 10, tzinfo=CHINA_TZ))
    permit = Evidence(
        EvidenceKind.RESIDENCE_PERMIT, "居-0009", "博白县公安局", dt.date(2020, 5, 1),
        issuer_region_code=BOBAI,
    )  # fmt: skip
    old = record(
        name="李某某",
        gender=Gender.FEMALE,
        social_security_number=UNFILED_ID,
        social_security_card_number=UNFILED_CARD,
        category=FilingCategory.LONG_TERM_RESIDENT,
        person_type=PersonType.EMPLOYEE_ACTIVE,
        filled_on=dt.date(2021, 3, 2),
    )
    draft = container.filings.create_draft(HENGYANG, old, evidence=[permit])
    container.filings.submit(HENGYANG, draft.filing_id)
    container.filings.approve(HENGYANG, draft.filing_id)
    clock.set(now)
    person = api_headers(container, PERSON)
    created = client.post(
        "/api/filings", json={"record": record_body(promise_signed=True)}, headers=person
    )
    assert created.status_code == 201, created.text
    filing_id = created.json()["filing_id"]
    assert client.post(f"/api/filings/{filing_id}/submit", headers=person).status_code == 200
    approved = client.post(
        f"/api/filings/{filing_id}/approve", headers=api_headers(container, HENGYANG)
    )
    assert approved.status_code == 200, approved.text


def _exports(container: Container, region: str) -> list[str]:
    with container.uow() as uow:
        return list(
            uow.session.execute(
                select(audit_log.c.reason).where(
                    audit_log.c.action == "filing.export",
                    audit_log.c.subject == f"current_layout:{region}",
                )
            ).scalars()
        )


def test_the_current_layout_names_each_filings_model_class_and_promise_masked(
    client: TestClient, container: Container, filed: None
) -> None:
    answer = client.get(URL + "&format=json", headers=api_headers(container, HENGYANG))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["masked"] is True
    old, new = body["rows"]  # handling day order
    assert (old["姓名"], old["适用规则"], old["备案人员大类"]) == (
        "李某某", "2017年模式", "异地居住人员",
    )  # fmt: skip
    assert (old["备案方式"], old["办理渠道"], old["有效期起"]) == ("证明材料", "窗口", "2021-03-02")
    assert (new["适用规则"], new["备案人员大类"], new["备案类型"]) == (
        "2022年模式", "跨省异地长期居住人员", "异地安置退休人员",
    )  # fmt: skip
    assert (new["备案方式"], new["承诺材料情况"], new["办理渠道"]) == ("个人承诺", "待补齐", "线上")
    assert new["承诺补齐期限"] == (dt.date(2026, 11, 20) + dt.timedelta(days=180)).isoformat()
    assert new["有效期止"] == "长期有效" and new["备案状态"] == "已备案"
    assert PERSON_ID not in answer.text and UNFILED_ID not in answer.text
    assert "*" in new["身份证号"]
    assert _exports(container, "430400") == ["2021-01-01~2026-12-31 2行 脱敏"]


def test_csv_and_xlsx_carry_the_same_rows_and_full_numbers_only_when_asked(
    client: TestClient, container: Container, filed: None
) -> None:
    agency = api_headers(container, HENGYANG)
    answer = client.get(URL, headers=agency)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.content.startswith("\ufeff".encode())
    lines = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert tuple(lines[0]) == CURRENT_LAYOUT_COLUMNS and len(lines) == 3
    assert PERSON_ID not in answer.text
    province = client.get(URL + "&format=xlsx", headers=api_headers(container, HUNAN))
    assert province.status_code == 200
    sheet = load_workbook(io.BytesIO(province.content)).active
    assert sheet is not None and sheet["A1"].value == CURRENT_LAYOUT_TITLE
    assert tuple(c.value for c in sheet[3]) == CURRENT_LAYOUT_COLUMNS
    ids = {sheet.cell(row, CURRENT_LAYOUT_COLUMNS.index("身份证号") + 1).value for row in (4, 5)}
    assert ids == {PERSON_ID, UNFILED_ID}  # the province builds the database: in full
    full = client.get(URL + "&format=json&full=true", headers=agency).json()
    assert full["masked"] is False and {r["身份证号"] for r in full["rows"]} == ids
    assert sorted(_exports(container, "430400")) == [
        "2021-01-01~2026-12-31 2行 明文",
        "2021-01-01~2026-12-31 2行 明文",
        "2021-01-01~2026-12-31 2行 脱敏",
    ]
    # 附件2 beside it keeps the 2017 Henan layout
    annex2 = client.get(
        "/api/filings/export/annex2.xlsx?region=430400&from=2021-01-01&to=2026-12-31",
        headers=agency,
    )
    annex_sheet = load_workbook(io.BytesIO(annex2.content)).active
    assert annex_sheet is not None and annex_sheet["A1"].value == ANNEX2_TITLE
    assert tuple(c.value for c in annex_sheet[3]) == ANNEX2_COLUMNS


def test_other_roles_other_regions_and_bad_periods_are_refused_and_write_nothing(
    client: TestClient, container: Container, filed: None
) -> None:
    for principal in (CASHIER, PERSON):
        assert client.get(URL, headers=api_headers(container, principal)).status_code == 403
    other = client.get(URL, headers=api_headers(container, ZHENGZHOU))
    assert other.status_code in (403, 404) and PERSON_ID not in other.text
    backwards = client.get(
        "/api/filings/export/current-layout?region=430400&from=2026-12-31&to=2026-01-01",
        headers=api_headers(container, HENGYANG),
    )
    assert backwards.status_code == 422
    assert backwards.json()["error"]["code"] == "PERIOD_INVALID"
    bad = client.get(URL + "&format=pdf", headers=api_headers(container, HENGYANG))
    assert bad.status_code == 422
    assert _exports(container, "430400") == []


def test_the_cli_writes_the_record_as_xlsx_or_csv(
    container: Container, filed: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("yidi.entrypoints.cli.filing.open_container", lambda: container)
    runner = CliRunner()
    period = ["--region", "430400", "--from", "2021-01-01", "--to", "2026-12-31"]
    out = tmp_path / "records.xlsx"
    done = runner.invoke(app, ["filing", "export-records", *period, "--masked", "-o", str(out)])
    assert done.exit_code == 0, done.output
    assert "已导出 2 行" in done.output and "脱敏" in done.output
    sheet = load_workbook(out).active
    assert sheet is not None and tuple(c.value for c in sheet[3]) == CURRENT_LAYOUT_COLUMNS
    assert PERSON_ID not in {c.value for row in sheet.iter_rows() for c in row}
    as_csv = tmp_path / "records.csv"
    done = runner.invoke(app, ["filing", "export-records", *period, "-o", str(as_csv)])
    assert done.exit_code == 0, done.output
    rows = list(csv.reader(io.StringIO(as_csv.read_text("utf-8-sig"))))
    # the batch operator acts as the province: in full, like 附件2
    assert len(rows) == 3 and {PERSON_ID, UNFILED_ID} <= {cell for row in rows for cell in row}
    refused = runner.invoke(
        app, ["filing", "export-records", *period, "-o", str(tmp_path / "r.pdf")]
    )
    assert refused.exit_code == 2 and "FILING_EXPORT_FORMAT" in refused.output
