"""The filing pages over HTTP: the agency's queue, review, search, lists, exports, import and
the printable 附件1; the insured person's own filings; access and CSRF."""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from filing_support import (
    HENGYANG,
    PERSON,
    PERSON_ID,
    ZHENGZHOU,
    admission_notice,
    household_registration,
    record,
)
from yidi.bootstrap import Container
from yidi.entrypoints.app import create_app
from yidi.filing.commands import FilingService
from yidi.filing.model.annex import ANNEX2_COLUMNS
from yidi.kernel.access import Principal
from yidi.kernel.clock import CHINA_TZ, FixedClock
from yidi.kernel.insurance import FilingCategory

sys.path.insert(0, str(Path(__file__).parent))
from web_helpers import PAGE, csrf_token, hash_once, load_demo_world, sign_in


@pytest.fixture(autouse=True)
def _demo_world(container: Container, monkeypatch: pytest.MonkeyPatch) -> None:
    load_demo_world(container, monkeypatch)


@pytest.fixture
def web(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container), base_url="http://127.0.0.1:8000") as client:
        yield client


def _submitted(container: Container) -> str:
    """A complete 衡阳县 retiree filing with its evidence, submitted to the 衡阳 agency."""
    service = FilingService(container.uow, container.clock)
    draft = service.create_draft(HENGYANG, record(), evidence=[household_registration()])
    service.submit(HENGYANG, draft.filing_id)
    return draft.filing_id


def _insured_account(container: Container, principal: Principal, password: str) -> None:
    with container.uow() as uow:
        uow.users.add(principal.user_id, hash_once(password), principal)
        uow.commit()


def _post(web: TestClient, path: str, **data: str) -> object:
    token = csrf_token(web, path.rsplit("/", 1)[0])
    return web.post(path, data={"csrf_token": token, **data}, headers=PAGE, follow_redirects=False)


def test_the_queue_lists_submitted_filings_masked(web: TestClient, container: Container) -> None:
    filing_id = _submitted(container)
    sign_in(web, "hengyang")
    page = web.get("/filings", headers=PAGE)
    assert page.status_code == 200
    assert f'data-filing="{filing_id}"' in page.text
    assert PERSON_ID not in page.text  # lists are masked
    assert PERSON_ID[:6] + "********" + PERSON_ID[14:] in page.text
    assert 'data-state="submitted"' in page.text


@pytest.mark.parametrize("query", ["谢某某", PERSON_ID])
def test_search_finds_by_name_or_id_number(
    web: TestClient, container: Container, query: str
) -> None:
    filing_id = _submitted(container)
    sign_in(web, "hengyang")
    page = web.get("/filings", params={"q": query}, headers=PAGE)
    assert f'data-filing="{filing_id}"' in page.text


def test_approving_assigns_a_filing_number_and_search_finds_it(
    web: TestClient, container: Container
) -> None:
    filing_id = _submitted(container)
    sign_in(web, "hengyang")
    detail = web.get(f"/filings/{filing_id}", headers=PAGE)
    assert PERSON_ID in detail.text  # the detail is the full (audited) record
    assert "安置地户口" in detail.text and 'id="approve-form"' in detail.text
    done = _post(web, f"/filings/{filing_id}/approve", confirm="1")
    assert done.status_code == 303  # type: ignore[attr-defined]
    after = web.get(f"/filings/{filing_id}?done=approve", headers=PAGE)
    assert 'data-state="approved"' in after.text
    number = re.search(r'id="filing-number">(BA430421-2026-\d{6})<', after.text)
    assert number is not None
    found = web.get("/filings", params={"q": number.group(1)}, headers=PAGE)
    assert f'data-filing="{filing_id}"' in found.text


def test_approving_without_the_csrf_token_changes_nothing(
    web: TestClient, container: Container
) -> None:
    filing_id = _submitted(container)
    sign_in(web, "hengyang")
    refused = web.post(f"/filings/{filing_id}/approve", data={"csrf_token": "forged"}, headers=PAGE)
    assert refused.status_code == 403 and "页面已过期" in refused.text
    assert 'data-state="submitted"' in web.get(f"/filings/{filing_id}", headers=PAGE).text


def test_rejecting_needs_a_reason_shown_next_to_the_field(
    web: TestClient, container: Container
) -> None:
    filing_id = _submitted(container)
    sign_in(web, "hengyang")
    empty = _post(web, f"/filings/{filing_id}/reject", reason="  ")
    assert empty.status_code == 422  # type: ignore[attr-defined]
    assert re.search(r'id="reject-reason-error"[^>]*>请填写原因<', empty.text)  # type: ignore[attr-defined]
    done = _post(web, f"/filings/{filing_id}/reject", reason="户口页不清晰")
    assert done.status_code == 303  # type: ignore[attr-defined]
    page = web.get(f"/filings/{filing_id}", headers=PAGE)
    assert 'data-state="rejected"' in page.text and "户口页不清晰" in page.text


def test_another_region_and_a_cashier_cannot_see_the_filing(
    web: TestClient, container: Container
) -> None:
    filing_id = _submitted(container)
    sign_in(web, "zhengzhou")
    assert web.get(f"/filings/{filing_id}", headers=PAGE).status_code == 404
    assert f'data-filing="{filing_id}"' not in web.get("/filings?state=all", headers=PAGE).text
    web.cookies.clear()
    sign_in(web, "nhfy1")
    assert web.get("/filings", headers=PAGE).status_code == 403
    assert web.get(f"/filings/{filing_id}", headers=PAGE).status_code == 403


def test_the_printable_annex1_is_one_page_with_the_name_and_the_filing_number(
    web: TestClient, container: Container, tmp_path: Path
) -> None:
    filing_id = _submitted(container)
    sign_in(web, "hengyang")
    _post(web, f"/filings/{filing_id}/approve", confirm="1")
    response = web.get(f"/filings/{filing_id}/annex1.pdf", headers=PAGE)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert len(re.findall(rb"/Type\s*/Page\b(?!s)", response.content)) == 1
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    path = tmp_path / "annex1.pdf"
    path.write_bytes(response.content)
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout
    assert "谢某某" in text
    assert re.search(r"BA430421-2026-\d{6}", text)


def test_the_insured_person_sees_only_their_own_filings(
    web: TestClient, container: Container
) -> None:
    filing_id = _submitted(container)
    _insured_account(container, PERSON, "person-xie-2017")
    sign_in(web, PERSON.user_id, "person-xie-2017")
    mine = web.get("/me/filings", headers=PAGE)
    assert mine.status_code == 200 and f'data-filing="{filing_id}"' in mine.text
    assert web.get("/filings", headers=PAGE, follow_redirects=False).headers["location"] == (
        "/me/filings"
    )
    assert web.get("/filings/emergency", headers=PAGE).status_code == 403
    assert web.get("/filings/incomplete", headers=PAGE).status_code == 403
    stranger = Principal("person-other", PERSON.role, id_number="410102195007010881")
    _insured_account(container, stranger, "person-other-2017")
    web.cookies.clear()
    sign_in(web, "person-other", "person-other-2017")
    assert f'data-filing="{filing_id}"' not in web.get("/me/filings", headers=PAGE).text
    assert web.get(f"/filings/{filing_id}", headers=PAGE).status_code == 404


def test_the_insured_person_cancels_with_a_reason(web: TestClient, container: Container) -> None:
    filing_id = _submitted(container)
    _insured_account(container, PERSON, "person-xie-2017")
    sign_in(web, PERSON.user_id, "person-xie-2017")
    page = web.get(f"/filings/{filing_id}", headers=PAGE)
    assert 'id="cancel-form"' in page.text and 'id="approve-form"' not in page.text
    done = _post(web, f"/filings/{filing_id}/cancel", reason="不再异地居住", confirm="1")
    assert done.status_code == 303  # type: ignore[attr-defined]
    assert 'data-state="cancelled"' in web.get(f"/filings/{filing_id}", headers=PAGE).text


def test_annex2_downloads_the_region_approved_filings(
    web: TestClient, container: Container
) -> None:
    filing_id = _submitted(container)
    sign_in(web, "hengyang")
    _post(web, f"/filings/{filing_id}/approve", confirm="1")
    form = web.get("/filings/annex2", headers=PAGE)
    assert form.status_code == 200
    response = web.get("/filings/annex2?download=1&from=2026-01-01&to=2026-12-31", headers=PAGE)
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    values = [c for row in sheet.iter_rows(values_only=True) for c in row if c]
    assert "谢某某" in values
    bad = web.get("/filings/annex2?download=1&from=2026-12-31&to=2026-01-01", headers=PAGE)
    assert bad.status_code == 422 and 'id="to-error"' in bad.text
    # beside 附件2: the current-layout record, the same period, read with the page's session
    assert 'formaction="/api/filings/export/current-layout"' in form.text
    assert 'name="region" value="430400"' in form.text
    current = web.get(
        "/api/filings/export/current-layout?download=1&region=430400&from=2026-01-01"
        "&to=2026-12-31&format=xlsx",
        headers=PAGE,
    )
    assert current.status_code == 200, current.text
    rows = load_workbook(io.BytesIO(current.content)).active
    assert rows is not None
    assert "谢某某" in [c for row in rows.iter_rows(values_only=True) for c in row if c]


def test_an_import_upload_reports_each_row_and_needs_the_csrf_token(web: TestClient) -> None:
    sign_in(web, "hengyang")
    token = csrf_token(web, "/filings/import")
    content = "序号,参保地行政区划代码,参保地行政区划名称,姓名\n1,999999,不存在,某某\n".encode()
    refused = web.post(
        "/filings/import",
        data={"csrf_token": "forged"},
        files={"file": ("batch.csv", content, "text/csv")},
        headers=PAGE,
    )
    assert refused.status_code == 403
    empty = web.post("/filings/import", data={"csrf_token": token}, headers=PAGE)
    assert empty.status_code == 422 and "请选择要上传的文件" in empty.text
    response = web.post(
        "/filings/import",
        data={"csrf_token": token},
        files={"file": ("batch.csv", content, "text/csv")},
        headers=PAGE,
    )
    assert response.status_code == 422
    assert re.search(r'id="file-error"[^>]*>缺少附件2的列：性别', response.text)
    header = ",".join(ANNEX2_COLUMNS)
    bad_row = ",".join(["1", "999999", "不存在", "某某"] + [""] * (len(ANNEX2_COLUMNS) - 4))
    report = web.post(
        "/filings/import",
        data={"csrf_token": token},
        files={"file": ("batch.csv", f"{header}\n{bad_row}\n".encode(), "text/csv")},
        headers=PAGE,
    )
    assert report.status_code == 200
    assert re.search(r'data-count="total">1<', report.text)
    assert re.search(r'data-count="rejected">1<', report.text)
    assert 'id="import-errors"' in report.text


def test_the_follow_up_lists_open_for_the_agency(web: TestClient) -> None:
    sign_in(web, "hengyang")
    for path, empty_id in (
        ("/filings/emergency", "no-emergency"),
        ("/filings/incomplete", "no-incomplete"),
    ):
        page = web.get(path, headers=PAGE)
        assert page.status_code == 200 and f'id="{empty_id}"' in page.text


def test_the_demo_load_gives_xiedeming_a_submitted_filing_in_the_hengyang_queue(
    web: TestClient, container: Container
) -> None:
    from yidi.demo.loader import load_demo_filings

    assert load_demo_filings(container.uow, container.clock, container.filings) == 1
    assert load_demo_filings(container.uow, container.clock, container.filings) == 0  # idempotent
    sign_in(web, "xiedeming")
    mine = web.get("/me/filings", headers=PAGE)
    assert (
        mine.status_code == 200 and "谢德明" in mine.text and 'data-state="submitted"' in mine.text
    )
    web.cookies.clear()
    sign_in(web, "hengyang")
    assert "谢德明" in web.get("/filings", headers=PAGE).text


def test_a_provisional_emergency_deadline_carries_its_note_on_the_pages(
    web: TestClient, container: Container
) -> None:
    clock = container.clock
    assert isinstance(clock, FixedClock)
    clock.set(dt.datetime(2026, 12, 30, 9, tzinfo=CHINA_TZ))
    emergency = record(
        category=FilingCategory.EMERGENCY,
        admitted_on=dt.date(2026, 12, 29),
        filled_on=dt.date(2026, 12, 30),
    )
    service = FilingService(container.uow, container.clock)
    draft = service.create_draft(
        HENGYANG, emergency, evidence=[admission_notice(dt.date(2026, 12, 29))]
    )
    sign_in(web, "hengyang")
    note = "按法定节假日推算，国务院公布当年放假安排后以公布为准"
    listing = web.get("/filings/emergency", headers=PAGE)
    assert listing.status_code == 200
    assert "2027-01-04" in listing.text and note in listing.text
    detail = web.get(f"/filings/{draft.filing_id}", headers=PAGE)
    assert 'id="deadline-provisional"' in detail.text and note in detail.text
    english = web.get(f"/filings/{draft.filing_id}", params={"lang": "en"}, headers=PAGE)
    assert "prevails once published" in english.text


def test_an_import_runs_as_a_job_whose_page_shows_progress_then_the_report(
    container: Container,
) -> None:
    import dataclasses

    threaded = dataclasses.replace(
        container, settings=container.settings.model_copy(update={"import_jobs": "thread"})
    )
    app = create_app(threaded)
    web = TestClient(app, base_url="http://127.0.0.1:8000")  # no lifespan: no worker runs
    sign_in(web, "hengyang")
    token = csrf_token(web, "/filings/import")
    header = ",".join(ANNEX2_COLUMNS)
    bad_row = ",".join(["1", "999999", "不存在", "某某"] + [""] * (len(ANNEX2_COLUMNS) - 4))
    submitted = web.post(
        "/filings/import",
        data={"csrf_token": token},
        files={"file": ("batch.csv", f"{header}\n{bad_row}\n".encode(), "text/csv")},
        headers=PAGE,
        follow_redirects=False,
    )
    assert submitted.status_code == 303  # answered at once: the file is not parsed here
    page_path = submitted.headers["location"]
    assert re.fullmatch(r"/filings/import/jobs/J[0-9A-F]{24}", page_path)
    queued = web.get(page_path, headers=PAGE)
    assert queued.status_code == 200
    assert 'data-state="queued"' in queued.text and 'http-equiv="refresh"' in queued.text
    assert app.state.container.import_jobs.run_pending() == 1  # what the worker thread does
    done = web.get(page_path, headers=PAGE)
    assert 'data-state="done"' in done.text and 'http-equiv="refresh"' not in done.text
    assert re.search(r'data-count="rejected">1<', done.text)


def _list_name(index: int) -> str:
    return "翻页" + "甲乙丙丁戊己庚辛壬癸"[index % 10] + "子丑寅卯辰巳午未申酉戌亥"[index // 10]


def _many_submitted(container: Container, count: int) -> list[str]:
    """``count`` submitted filings of different 衡阳县 retirees, the newest last."""
    from yidi.kernel.identity import Gender, make_resident_id

    service = FilingService(container.uow, container.clock)
    ids = []
    for index in range(count):
        number = make_resident_id(
            "430421", dt.date(1950, 1, 1), 201 + 2 * index, Gender.MALE
        ).number
        draft = service.create_draft(
            HENGYANG,
            record(social_security_number=number, name=_list_name(index)),
            evidence=[household_registration()],
        )
        service.submit(HENGYANG, draft.filing_id)
        ids.append(number)
    return ids


def test_the_filing_list_pages_through_every_match_and_keeps_its_filters(
    web: TestClient, container: Container
) -> None:
    _many_submitted(container, 23)
    sign_in(web, "hengyang")
    first = web.get("/filings?state=submitted&size=20", headers=PAGE)
    assert first.status_code == 200
    assert "共 23 条" in first.text
    assert first.text.count('href="/filings/') - first.text.count('href="/filings/new') >= 20
    assert "第 1–20 条，共 23 条（第 1/2 页）" in first.text
    next_link = re.search(r'<a href="([^"]+)" rel="next"', first.text)
    assert next_link is not None
    target = next_link.group(1).replace("&amp;", "&")
    assert "state=submitted" in target and "size=20" in target and "page=2" in target
    second = web.get(target, headers=PAGE)
    assert "第 21–23 条，共 23 条（第 2/2 页）" in second.text
    assert 'rel="next"' not in second.text and 'rel="prev"' in second.text
    names = {_list_name(index) for index in range(23)}
    names_first = set(re.findall(r"翻页..", first.text)) & names
    names_second = set(re.findall(r"翻页..", second.text)) & names
    assert len(names_first) == 20 and len(names_second) == 3
    assert not names_first & names_second  # no row on two pages
    # A page past the end shows the last page; a bad size falls back to the default.
    assert "第 21–23 条" in web.get("/filings?state=submitted&size=20&page=9", headers=PAGE).text
    assert "（第 1/1 页）" in web.get("/filings?state=submitted&size=7", headers=PAGE).text


def test_the_filing_search_finds_by_number_prefix_id_tail_and_name_prefix(
    web: TestClient, container: Container
) -> None:
    numbers = _many_submitted(container, 3)
    sign_in(web, "hengyang")
    by_tail = web.get(f"/filings?q={numbers[1][-4:]}", headers=PAGE).text
    assert _list_name(1) in by_tail and "共 1 条" in by_tail
    by_name = web.get("/filings?q=翻页", headers=PAGE).text
    assert "共 3 条" in by_name
    assert "共 0 条" in web.get("/filings?q=页乙", headers=PAGE).text  # a prefix, not a substring
    service = FilingService(container.uow, container.clock)
    page = service.search(HENGYANG, name=_list_name(2))
    approved = service.approve(HENGYANG, page.items[0].filing_id)
    number = approved.record.filing_number
    assert number
    prefix = number[: len("BA430421-2026")]
    by_prefix = web.get(f"/filings?q={prefix}", headers=PAGE).text
    assert _list_name(2) in by_prefix and "共 1 条" in by_prefix
    assert _list_name(2) in web.get(f"/filings?q={number}", headers=PAGE).text
    # A tail or a prefix searches only the caller's own region.
    assert service.search(HENGYANG, id_number_tail=numbers[1][-4:]).total == 1
    assert service.search(ZHENGZHOU, id_number_tail=numbers[1][-4:]).total == 0
    assert service.search(ZHENGZHOU, name_prefix="翻页").total == 0
