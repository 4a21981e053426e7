"""The agency reviewer's daily tools on the filing pages: assignment, the submitted time, sorting
and filters, the emergency flag, the duplicate warning, scan previews, forgiving search,
confirmations, exports of the filtered list, paged follow-up lists and the 附件2 round trip."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import event

from filing_support import (
    HENGYANG,
    PDF_BYTES,
    PERSON_ID,
    PNG_BYTES,
    admission_notice,
    annex2_csv,
    household_registration,
    record,
)
from yidi.bootstrap import Container
from yidi.demo.loader import load_reference_world
from yidi.filing.commands import FilingService
from yidi.filing.model.annex import ANNEX2_COLUMNS
from yidi.kernel.access import Principal, Role
from yidi.kernel.clock import CHINA_TZ, FixedClock
from yidi.kernel.identity import Gender, make_resident_id
from yidi.kernel.insurance import FilingCategory

sys.path.insert(0, str(Path(__file__).parent))
from web_helpers import PAGE, csrf_token, hash_once, sign_in

COLLEAGUE = Principal("hengyang2", Role.AGENCY_HANDLER, "430400", display_name="衡阳审核员乙")
STRANGER_AGENCY = Principal("zhuzhou1", Role.AGENCY_HANDLER, "430200", display_name="株洲经办人")


@pytest.fixture(autouse=True)
def _demo_world(container: Container, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("yidi.demo.loader.hash_password", hash_once)
    load_reference_world(container.uow())
    with container.uow() as uow:
        for user in (COLLEAGUE, STRANGER_AGENCY):
            uow.users.add(user.user_id, hash_once("demo"), user)
        uow.commit()


def _person(serial: int, name: str = "谢某某") -> tuple[str, str]:
    born = dt.date(1950, 1, 1) + dt.timedelta(days=serial)  # one person per serial
    number = make_resident_id("430421", born, 11, Gender.MALE).number
    return number, name


def _name(i: int) -> str:
    """A name without digits (names may not contain them): 张甲一, 张乙一 …"""
    return "张" + "甲乙丙丁戊己庚辛壬癸"[i % 10] + "一二三四五"[i // 10 % 5]


def _submitted(
    container: Container, serial: int, name: str = "谢某某", online: bool = False
) -> str:
    service = FilingService(container.uow, container.clock)
    number, _ = _person(serial)
    by = Principal(f"p{serial}", Role.INSURED_PERSON, id_number=number) if online else HENGYANG
    draft = service.create_draft(
        by,
        record(social_security_number=number, name=name),
        evidence=[household_registration()],
    )
    service.submit(by, draft.filing_id)
    return draft.filing_id


def _post(web: TestClient, path: str, page: str, **data: str) -> Any:
    token = csrf_token(web, page)
    return web.post(path, data={"csrf_token": token, **data}, headers=PAGE, follow_redirects=False)


def _row(html: str, filing_id: str) -> str:
    match = re.search(rf'<tr data-filing="{filing_id}">.*?</tr>', html, re.S)
    assert match, filing_id
    return match.group(0)


def _audit(container: Container, action: str) -> list[Any]:
    with container.uow() as uow:
        return [c.entry for c in uow.audit.walk() if c.entry.action == action]


def test_a_reviewer_takes_a_filing_hands_it_to_a_colleague_and_filters_by_reviewer(
    web: TestClient, container: Container
) -> None:
    first, second = _submitted(container, 501), _submitted(container, 502)
    sign_in(web, "hengyang")
    queue = web.get("/filings", headers=PAGE)
    row = _row(queue.text, first)
    assert "未分配审核人" in row and 'data-assign="me"' in row
    assert (
        '<option value="hengyang2" lang="zh-CN">衡阳审核员乙</option>' in row
    )  # a colleague, same agency
    assert "zhuzhou1" not in queue.text  # another agency's staff are not offered
    assert 'class="submitted-at"' in row and "<time datetime=" in row
    taken = _post(web, f"/filings/{first}/assign", "/filings", assignee="me", back="/filings")
    assert taken.status_code == 303 and taken.headers["location"].startswith("/filings?assigned=")
    mine = web.get("/filings", params={"assignee": "mine"}, headers=PAGE)
    assert f'data-filing="{first}"' in mine.text and f'data-filing="{second}"' not in mine.text
    assert 'data-assignee="hengyang"' in _row(mine.text, first)
    nobody = web.get("/filings", params={"assignee": "none"}, headers=PAGE)
    assert f'data-filing="{second}"' in nobody.text and f'data-filing="{first}"' not in nobody.text
    handed = _post(web, f"/filings/{first}/assign", "/filings", assignee="hengyang2")
    assert handed.status_code == 303 and handed.headers["location"] == (
        f"/filings/{first}?assigned={first}"
    )
    detail = web.get(f"/filings/{first}", headers=PAGE)
    assert 'id="detail-assignee" data-assignee="hengyang2"' in detail.text
    refused = _post(web, f"/filings/{second}/assign", "/filings", assignee="zhuzhou1")
    assert refused.status_code == 422 and "只能分配给本经办机构的审核人员" in refused.text
    forged = web.post(
        f"/filings/{second}/assign", data={"csrf_token": "x", "assignee": "me"}, headers=PAGE
    )
    assert forged.status_code == 403
    entries = _audit(container, "filing.assign")
    assert [e.reason for e in entries] == ["hengyang", "hengyang2"]
    # another agency cannot see or assign the filing
    web.cookies.clear()
    sign_in(web, "zhuzhou1", "demo")
    assert _post(web, f"/filings/{second}/assign", "/filings", assignee="me").status_code == 404


def test_the_queue_sorts_the_whole_list_on_the_server_by_a_whitelisted_column(
    web: TestClient, container: Container
) -> None:
    clock = container.clock
    assert isinstance(clock, FixedClock)
    ids: dict[str, str] = {}
    for minute, name in enumerate(["张乙", "张甲", "张丙"]):
        clock.set(dt.datetime(2026, 11, 20, 9, minute, tzinfo=CHINA_TZ))
        ids[name] = _submitted(container, 510 + minute, name)
    sign_in(web, "hengyang")

    def order(**params: str) -> list[str]:
        page = web.get("/filings", params={"size": "20", **params}, headers=PAGE)
        assert page.status_code == 200
        found = re.findall(r'<tr data-filing="([0-9a-f]+)"', page.text)
        return [i for i in found if i in ids.values()]

    ascending = order(sort="name", dir="asc")
    assert sorted(ascending) == sorted(ids.values())
    assert order(sort="name", dir="desc") == list(reversed(ascending))
    if container.engine.dialect.name == "sqlite":  # code-point order; PostgreSQL: its collation
        assert ascending == [ids[n] for n in sorted(ids)]
    submitted = [ids["张乙"], ids["张甲"], ids["张丙"]]
    assert order(sort="submitted", dir="asc") == submitted
    assert order(sort="submitted", dir="desc") == list(reversed(submitted))
    assert order() == submitted  # the queue's default: oldest submission first
    page = web.get("/filings", params={"sort": "name", "dir": "asc"}, headers=PAGE)
    assert 'aria-sort="ascending"' in page.text and "dir=desc" in page.text
    bad = web.get("/filings", params={"sort": "id_number; drop table"}, headers=PAGE)
    assert bad.status_code == 422  # only the whitelisted columns sort


def test_the_review_deadline_is_read_with_the_page_in_a_fixed_number_of_statements(
    container: Container, clock: FixedClock
) -> None:
    clock.set(dt.datetime(2026, 11, 12, 9, tzinfo=CHINA_TZ))
    service = FilingService(container.uow, container.clock)
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    def queue_statements() -> tuple[int, int]:
        statements.clear()
        event.listen(container.engine, "before_cursor_execute", count)
        try:
            page = service.search(HENGYANG, state=None, limit=200)
        finally:
            event.remove(container.engine, "before_cursor_execute", count)
        from yidi.filing.model.lifecycle import FilingState

        queue = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
        assert all(i.state is FilingState.SUBMITTED for i in page.items)
        return len(queue), sum(1 for i in page.items if i.review_due)

    for serial in range(520, 523):
        _submitted(container, serial, online=True)
    few, with_due = queue_statements()
    assert with_due == 3
    for serial in range(523, 533):
        _submitted(container, serial, online=True)
    many, with_due = queue_statements()
    assert with_due == 13
    assert many == few == 2  # the count and the page: no statement per row


def test_the_emergency_deadline_is_flagged_in_the_list(
    web: TestClient, container: Container
) -> None:
    clock = container.clock
    assert isinstance(clock, FixedClock)
    clock.set(dt.datetime(2026, 11, 23, 9, tzinfo=CHINA_TZ))
    service = FilingService(container.uow, container.clock)
    draft = service.create_draft(
        HENGYANG,
        record(
            category=FilingCategory.EMERGENCY,
            admitted_on=dt.date(2026, 11, 16),
            filled_on=dt.date(2026, 11, 16),
        ),
        evidence=[admission_notice(dt.date(2026, 11, 16))],
    )
    sign_in(web, "hengyang")
    page = web.get("/filings", params={"state": "draft", "category": "emergency"}, headers=PAGE)
    row = _row(page.text, draft.filing_id)
    assert 'data-emergency-due="2026-11-19"' in row and "已超期" in row
    other = web.get("/filings", params={"state": "draft", "category": "referral"}, headers=PAGE)
    assert f'data-filing="{draft.filing_id}"' not in other.text
    assert web.get("/filings", params={"category": "nonsense"}, headers=PAGE).status_code == 422


def test_the_detail_warns_of_an_approved_filing_and_previews_scans_with_proper_downloads(
    web: TestClient, container: Container
) -> None:
    sign_in(web, "hengyang")
    token = csrf_token(web, "/filings/import")
    imported = web.post(
        "/filings/import",
        data={"csrf_token": token},
        files={"file": ("old.csv", annex2_csv([("430421", "谢某某", PERSON_ID)]), "text/csv")},
        headers=PAGE,
    )
    assert re.search(r'data-count="imported">1<', imported.text)
    service = FilingService(container.uow, container.clock)
    draft = service.create_draft(HENGYANG, record(), evidence=[household_registration()])
    service.add_evidence(
        HENGYANG, draft.filing_id, household_registration(), content=PNG_BYTES, filename="户口.png"
    )
    service.add_evidence(
        HENGYANG, draft.filing_id, household_registration(), content=PDF_BYTES, filename="scan"
    )
    service.submit(HENGYANG, draft.filing_id)
    detail = web.get(f"/filings/{draft.filing_id}", headers=PAGE)
    assert 'id="existing-approved"' in detail.text
    assert re.search(
        r'<figure class="scan-preview" data-preview="image">\s*<img src="[^"]+\?inline=1"',
        detail.text,
    )
    assert re.search(r'data-preview="pdf">\s*<iframe src="[^"]+\?inline=1"', detail.text)
    links = re.findall(r"(/filings/[0-9a-f]+/evidence/[0-9a-f]{64})\?inline=1", detail.text)
    image, pdf = links[0], links[1]
    saved = web.get(pdf, headers=PAGE)
    assert saved.headers["content-type"] == "application/pdf"
    assert saved.headers["content-disposition"] == "attachment; filename*=UTF-8''scan.pdf"
    shown = web.get(image + "?inline=1", headers=PAGE)
    assert shown.headers["content-type"] == "image/png" and shown.content == PNG_BYTES
    assert shown.headers["content-disposition"].startswith("inline; filename*=UTF-8''")
    assert shown.headers["content-disposition"].endswith(".png")
    assert shown.headers["x-frame-options"] == "SAMEORIGIN"  # framed by our own page only
    assert "frame-ancestors 'self'" in shown.headers["content-security-policy"]
    assert web.get(f"/filings/{draft.filing_id}", headers=PAGE).headers["x-frame-options"] == "DENY"
    assert len(_audit(container, "filing.evidence_read")) == 2


def test_search_forgives_parts_of_numbers_and_names(web: TestClient, container: Container) -> None:
    filing_id = _submitted(container, 540, "欧阳某某")
    other = _submitted(container, 541, "谢某")
    sign_in(web, "hengyang")
    number, _ = _person(540)
    for query, found in ((number[-4:], True), ("欧阳", True), ("阳某", False), (number[:6], False)):
        page = web.get("/filings", params={"q": query}, headers=PAGE)
        assert page.status_code == 200
        assert (f'data-filing="{filing_id}"' in page.text) is found, query
    assert (
        f'data-filing="{other}"' not in web.get("/filings", params={"q": "欧阳"}, headers=PAGE).text
    )


def test_a_filing_number_prefix_finds_approved_filings(
    web: TestClient, container: Container
) -> None:
    filing_id = _submitted(container, 542)
    sign_in(web, "hengyang")
    done = _post(web, f"/filings/{filing_id}/approve", f"/filings/{filing_id}", confirm="1")
    assert done.status_code == 303
    number = (
        FilingService(container.uow, container.clock).get(HENGYANG, filing_id).record.filing_number
    )
    assert number is not None
    page = web.get("/filings", params={"q": number[:13]}, headers=PAGE)  # BA430400-2026
    assert f'data-filing="{filing_id}"' in page.text


def test_approve_and_cancel_ask_for_a_ticked_confirmation(
    web: TestClient, container: Container
) -> None:
    filing_id = _submitted(container, 550)
    sign_in(web, "hengyang")
    detail = web.get(f"/filings/{filing_id}", headers=PAGE)
    assert 'id="approve-confirm" name="confirm" value="1" required' in detail.text
    assert 'id="cancel-confirm" name="confirm" value="1" required' in detail.text
    unticked = _post(web, f"/filings/{filing_id}/approve", f"/filings/{filing_id}")
    assert unticked.status_code == 422 and 'id="approve-confirm-error"' in unticked.text
    cancel = _post(web, f"/filings/{filing_id}/cancel", f"/filings/{filing_id}", reason="误录入")
    assert cancel.status_code == 422 and 'id="cancel-confirm-error"' in cancel.text
    assert "误录入" in cancel.text  # the reason stays in its field
    service = FilingService(container.uow, container.clock)
    assert service.get(HENGYANG, filing_id).state.value == "submitted"  # nothing happened
    done = _post(
        web, f"/filings/{filing_id}/cancel", f"/filings/{filing_id}", reason="误录入", confirm="1"
    )
    assert done.status_code == 303
    assert service.get(HENGYANG, filing_id).state.value == "cancelled"


def test_the_filtered_list_exports_masked_or_in_full_and_each_export_is_audited(
    web: TestClient, container: Container
) -> None:
    ids = [_submitted(container, 560 + i) for i in range(3)]
    sign_in(web, "hengyang")
    page = web.get("/filings", params={"size": "20"}, headers=PAGE)
    assert 'id="export-csv"' in page.text and 'id="export-full"' in page.text
    masked = web.get(
        "/filings/export", params={"format": "csv", "state": "submitted"}, headers=PAGE
    )
    assert masked.status_code == 200 and masked.headers["content-type"].startswith("text/csv")
    assert masked.headers["content-disposition"].endswith(".csv")
    lines = list(csv.reader(io.StringIO(masked.content.decode("utf-8-sig"))))
    assert lines[0][:3] == ["备案编号", "姓名", "身份证号"] and len(lines) == 1 + len(ids)
    assert all("********" in line[2] for line in lines[1:])
    full = web.get(
        "/filings/export",
        params={"format": "xlsx", "state": "submitted", "full": "1"},
        headers=PAGE,
    )
    sheet = load_workbook(io.BytesIO(full.content)).active
    assert sheet is not None
    numbers = {str(row[2]) for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert numbers == {_person(560 + i)[0] for i in range(3)}
    assert [e.reason for e in _audit(container, "filing.list_export")] == ["3行 脱敏", "3行 明文"]
    bad = web.get("/filings/export", params={"format": "pdf"}, headers=PAGE)
    assert bad.status_code == 400 and "导出条件不正确" in bad.text
    web.cookies.clear()
    assert web.get("/filings/export", headers=PAGE, follow_redirects=False).status_code in (
        303,
        401,
    )


def test_the_follow_up_lists_come_in_pages_with_their_totals(
    web: TestClient, container: Container
) -> None:
    rows = [("430421", _name(i), _person(600 + i)[0]) for i in range(25)]
    sign_in(web, "hengyang")
    token = csrf_token(web, "/filings/import")
    imported = web.post(
        "/filings/import",
        data={"csrf_token": token},
        files={"file": ("batch.csv", annex2_csv(rows), "text/csv")},
        headers=PAGE,
    )
    assert re.search(r'data-count="imported">25<', imported.text)
    first = web.get("/filings/incomplete", params={"size": "20"}, headers=PAGE)
    assert "共 25 条" in first.text and first.text.count("<tr><td>") == 20
    second = web.get("/filings/incomplete", params={"size": "20", "page": "2"}, headers=PAGE)
    assert second.text.count("<tr><td>") == 5 and 'id="pager-status"' in second.text
    today = container.clock.today()
    quarter = (today.month - 1) // 3 + 1
    params = {"region": "430400", "year": str(today.year), "quarter": str(quarter), "size": "20"}
    q1 = web.get("/filings/quarterly", params=params, headers=PAGE)
    assert q1.status_code == 200 and "第 1–20 条，共 25 条" in q1.text
    q2 = web.get("/filings/quarterly", params={**params, "page": "2"}, headers=PAGE)
    assert "第 21–25 条，共 25 条" in q2.text


def test_the_official_annex2_export_imports_back_and_the_masked_one_does_not(
    web: TestClient, container: Container
) -> None:
    rows = [("430421", _name(i), _person(700 + i)[0]) for i in range(3)]
    sign_in(web, "hengyang")
    token = csrf_token(web, "/filings/import")
    web.post(
        "/filings/import",
        data={"csrf_token": token},
        files={"file": ("batch.csv", annex2_csv(rows), "text/csv")},
        headers=PAGE,
    )
    form = web.get("/filings/annex2", headers=PAGE)
    assert 'id="full"' in form.text and 'id="annex2-template"' in form.text
    today = container.clock.today().isoformat()
    period = {"download": "1", "from": today, "to": today}
    full = web.get("/filings/annex2", params={**period, "full": "1"}, headers=PAGE)
    masked = web.get("/filings/annex2", params=period, headers=PAGE)
    assert full.headers["content-disposition"].endswith("-full.xlsx")
    assert masked.headers["content-disposition"].endswith("-masked.xlsx")
    reasons = [e.reason for e in _audit(container, "filing.export")]
    assert any("3行 明文" in r for r in reasons) and any("3行 脱敏" in r for r in reasons)
    # the province re-imports the official file: every row is accepted (already present here)
    web.cookies.clear()
    sign_in(web, "hunan")
    token = csrf_token(web, "/filings/import")
    again = web.post(
        "/filings/import",
        data={"csrf_token": token},
        files={"file": ("annex2-full.xlsx", full.content, "application/octet-stream")},
        headers=PAGE,
    )
    assert re.search(r'data-count="total">3<', again.text)
    assert re.search(r'data-count="rejected">0<', again.text)
    refused = web.post(
        "/filings/import",
        data={"csrf_token": token},
        files={"file": ("annex2-masked.xlsx", masked.content, "application/octet-stream")},
        headers=PAGE,
    )
    assert re.search(r'data-count="rejected">3<', refused.text)
    assert "脱敏数据，不能导入" in refused.text


def test_the_import_template_and_the_rejected_rows_by_serial_and_name(
    web: TestClient, container: Container
) -> None:
    sign_in(web, "hengyang")
    template = web.get("/filings/import/template.xlsx", headers=PAGE)
    assert template.status_code == 200
    assert template.headers["content-disposition"].endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(template.content)).active
    assert sheet is not None
    assert tuple(c.value for c in sheet[3]) == ANNEX2_COLUMNS
    content = annex2_csv(
        [("430421", "张某", _person(801)[0]), ("430421", "李某", _person(802)[0])]
    ).decode()
    lines = content.splitlines()
    lines[2] = lines[2].rsplit(",", 1)[0] + ",4"  # 李某: 人员类别 4 is not a 附件2 category
    content = "\n".join(lines) + "\n"
    token = csrf_token(web, "/filings/import")
    done = web.post(
        "/filings/import",
        data={"csrf_token": token},
        files={"file": ("batch.csv", content.encode(), "text/csv")},
        headers=PAGE,
        follow_redirects=False,
    )
    job_page = done.headers["location"]
    report = web.get(job_page, headers=PAGE)
    assert re.search(r'<tr data-serial="2"><td>2</td><td lang="zh-CN">李某</td>', report.text)
    assert "应为1至3" in report.text and "应为1至5" not in report.text
    errors = web.get(job_page + "/errors.csv", headers=PAGE)
    assert errors.headers["content-type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(errors.content.decode("utf-8-sig"))))
    assert lines[0] == ["序号", "姓名", "栏目", "问题", "文件行号"]
    assert lines[1][:3] == ["2", "李某", "人员类别"] and "应为1至3" in lines[1][3]
