"""The change-request pages over HTTP: 谢德明 asks for a change of his approved filing on the
prefilled 附件1 form, the 衡阳 agency sees it on its desk and queue, compares field by field and
approves or rejects; field errors next to the fields; scope and CSRF."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx2
import pytest
from fastapi.testclient import TestClient

from filing_support import HENGYANG, PDF_BYTES, STRANGER
from yidi.bootstrap import Container
from yidi.entrypoints.app import create_app
from yidi.filing.commands import FilingService
from yidi.filing.model.change_requests import COMPARED_FIELDS

sys.path.insert(0, str(Path(__file__).parent))
from web_helpers import PAGE, csrf_token, hash_once, load_demo_world, sign_in, signed_in_browsers

XIE_ID = "430421195206180315"
NEW_MOBILE = "13907349999"

Browser = Callable[[str], TestClient]


@pytest.fixture(autouse=True)
def _demo_world(container: Container, monkeypatch: pytest.MonkeyPatch) -> None:
    load_demo_world(container, monkeypatch, filings=True)


@pytest.fixture
def filing_id(container: Container) -> str:
    """谢德明's demo filing, approved by the 衡阳 agency."""
    service = FilingService(container.uow, container.clock)
    [line] = service.search(HENGYANG, id_number=XIE_ID).items
    return service.approve(HENGYANG, line.filing_id).filing_id


@pytest.fixture
def browser(container: Container) -> Iterator[Browser]:
    """A signed-in browser per user (each with its own cookies)."""
    yield from signed_in_browsers(container)


def _form(page: str) -> dict[str, str]:
    """The values of a rendered form's text inputs, selects and textareas."""
    values = {
        m.group(1): m.group(2)
        for m in re.finditer(
            r'<input id="[^"]*" name="([^"]+)" type="(?:text|tel|date)" value="([^"]*)"', page
        )
    }
    for name, body in re.findall(
        r'<select id="[^"]*" name="([^"]+)"[^>]*>(.*?)</select>', page, re.S
    ):
        chosen = re.search(r'<option value="([^"]*)" selected>', body)
        values[name] = chosen.group(1) if chosen else ""
    return values


def _ask(person: TestClient, filing_id: str, **changes: str) -> httpx2.Response:
    path = f"/me/filings/{filing_id}/change"
    page = person.get(path, headers=PAGE)
    assert page.status_code == 200, page.text
    data = _form(page.text) | {"reason": "换了手机号码", "mobile": NEW_MOBILE} | changes
    data["csrf_token"] = csrf_token(person, path)
    return person.post(path, data=data, headers=PAGE, follow_redirects=False)


def _request_id(response: httpx2.Response) -> str:
    assert response.status_code == 303, response.text
    match = re.fullmatch(
        r"/change-requests/([0-9a-f]{32})\?done=requested", response.headers["location"]
    )
    assert match
    return match.group(1)


def _post(client: TestClient, path: str, **data: str) -> httpx2.Response:
    token = csrf_token(client, path.rsplit("/", 1)[0])
    return client.post(
        path, data={"csrf_token": token, **data}, headers=PAGE, follow_redirects=False
    )


def test_the_person_ticks_what_changes_and_edits_only_that_prefilled(
    browser: Browser, filing_id: str
) -> None:
    person = browser("xiedeming")
    filing = person.get(f"/filings/{filing_id}", headers=PAGE)
    assert f'href="/me/filings/{filing_id}/change"' in filing.text
    path = f"/me/filings/{filing_id}/change"
    choose = person.get(path, headers=PAGE)
    assert "变更备案：选择要改的内容" in choose.text
    assert re.findall(r'name="change_fields" value="([a-z]+)"', choose.text) == [
        "contact",
        "home",
        "destination",
        "institutions",
        "category",
        "card",
    ]
    assert 'name="mobile"' not in choose.text  # nothing to edit before the choice
    token = csrf_token(person, path)
    none = person.post(path, data={"csrf_token": token, "intent": "choose"}, headers=PAGE)
    assert none.status_code == 422 and 'id="error-summary"' in none.text
    edit = person.post(
        path,
        data={"csrf_token": token, "intent": "choose", "change_fields": "contact"},
        headers=PAGE,
    )
    assert edit.status_code == 200
    values = _form(edit.text)
    assert values["mobile"] == "13807340315"  # prefilled from the current version
    assert set(values) == {"contact_address", "mobile", "phone"}  # only the chosen items
    assert 'name="social_security_number"' not in edit.text
    assert 'name="evidence_kind"' not in edit.text  # a phone needs no document
    assert 'type="hidden" name="change_fields" value="contact"' in edit.text
    assert 'id="submit-change"' in edit.text and 'id="save-draft"' not in edit.text
    sent = person.post(
        path,
        data={
            "csrf_token": token,
            "intent": "submit",
            "change_fields": "contact",
            **values,
            "mobile": NEW_MOBILE,
            "reason": "换了手机号码",
        },
        headers=PAGE,
        follow_redirects=False,
    )
    request = person.get(sent.headers["location"], headers=PAGE)
    changed = re.findall(r'<tr data-field="([a-z_]+)" class="changed"', request.text)
    assert changed == ["mobile"]  # everything else carried over unchanged


def test_a_new_destination_is_picked_by_name_with_its_document_and_errors_are_summarised(
    browser: Browser, filing_id: str
) -> None:
    person = browser("xiedeming")
    path = f"/me/filings/{filing_id}/change"
    token = csrf_token(person, path)
    base = {"csrf_token": token, "change_fields": "destination"}
    edit = person.post(path, data=base | {"intent": "choose"}, headers=PAGE)
    assert 'name="destination"' in edit.text and 'name="evidence_kind"' in edit.text
    assert 'value="广西壮族自治区玉林市博白县"' in edit.text
    refused = person.post(
        path, data=base | {"intent": "submit", "destination": "衡阳县", "reason": ""}, headers=PAGE
    )
    assert refused.status_code == 422
    assert 'href="#destination"' in refused.text and 'href="#reason"' in refused.text
    assert 'type="hidden" name="change_fields" value="destination"' in refused.text


def test_field_errors_stand_next_to_their_fields_and_nothing_is_asked(
    browser: Browser, filing_id: str, container: Container
) -> None:
    person = browser("xiedeming")
    refused = _ask(person, filing_id, reason=" ", mobile="12345")
    assert refused.status_code == 422
    assert re.search(r'id="reason-error" role="alert">请填写变更原因<', refused.text)
    assert re.search(r'id="mobile-error" role="alert">[^<]*手机', refused.text)
    assert 'value="12345"' in refused.text  # what was typed stays
    category = _ask(person, filing_id, category="long_term_resident")
    assert category.status_code == 422
    assert re.search(r'id="evidence_kind-error" role="alert">[^<]*居住证', category.text)
    service = FilingService(container.uow, container.clock)
    assert "change-request-list" not in person.get(f"/filings/{filing_id}", headers=PAGE).text
    assert service.get(HENGYANG, filing_id).record.mobile == "13807340315"


def test_the_agency_compares_field_by_field_and_approving_makes_version_two(
    browser: Browser, filing_id: str
) -> None:
    person = browser("xiedeming")
    request_id = _request_id(_ask(person, filing_id))
    mine = person.get(f"/filings/{filing_id}", headers=PAGE)
    assert f'data-request="{request_id}"' in mine.text and 'data-state="pending"' in mine.text
    assert 'id="request-change"' not in mine.text  # one pending request at a time

    agency = browser("hengyang")
    desk = agency.get("/agency", headers=PAGE)
    assert re.search(
        r'href="/change-requests">变更申请审核 <span class="badge" data-count="1"', desk.text
    )
    queue = agency.get("/change-requests", headers=PAGE)
    assert f'data-request="{request_id}"' in queue.text
    assert XIE_ID not in queue.text and "430421********0315" in queue.text
    compare = agency.get(f"/change-requests/{request_id}", headers=PAGE)
    changed = re.findall(r'<tr data-field="([a-z_]+)" class="changed"', compare.text)
    assert changed == ["mobile"]
    assert re.search(r'<th scope="row">手机 <span class="changed-mark">', compare.text)
    assert "13807340315" in compare.text and NEW_MOBILE in compare.text

    approved = _post(agency, f"/change-requests/{request_id}/approve")
    assert approved.status_code == 303
    assert approved.headers["location"] == f"/change-requests/{request_id}?done=approve"
    after = person.get(f"/filings/{filing_id}", headers=PAGE)
    assert NEW_MOBILE in after.text and 'data-state="approved"' in after.text
    assert re.search(
        r"版本</dt><dd>1 → 2<", agency.get(f"/change-requests/{request_id}", headers=PAGE).text
    )
    assert 'data-count="0"' in agency.get("/agency", headers=PAGE).text


def test_a_refused_change_shows_the_error_and_the_request_stays_pending(
    browser: Browser, filing_id: str, container: Container
) -> None:
    person = browser("xiedeming")
    request_id = _request_id(_ask(person, filing_id))
    FilingService(container.uow, container.clock).cancel(HENGYANG, filing_id, "本人回参保地居住")
    agency = browser("hengyang")
    refused = _post(agency, f"/change-requests/{request_id}/approve")
    assert refused.status_code == 409
    assert re.search(r'id="approve-error">备案当前状态为“已撤销”', refused.text)
    assert re.search(r'<h1>变更申请 <span class="state state-pending"', refused.text)


def test_rejecting_needs_a_reason_that_the_person_reads_on_the_filing(
    browser: Browser, filing_id: str
) -> None:
    person = browser("xiedeming")
    request_id = _request_id(_ask(person, filing_id))
    agency = browser("hengyang")
    empty = _post(agency, f"/change-requests/{request_id}/reject", reason=" ")
    assert empty.status_code == 422
    assert re.search(r'id="reject-reason-error" role="alert">请填写原因<', empty.text)
    done = _post(agency, f"/change-requests/{request_id}/reject", reason="新号码未实名登记")
    assert done.status_code == 303
    filing = person.get(f"/filings/{filing_id}", headers=PAGE)
    assert 'data-state="rejected"' in filing.text and "新号码未实名登记" in filing.text
    assert 'id="request-change"' in filing.text  # he may ask again


def test_a_second_request_is_refused_while_one_is_pending_and_withdrawing_frees_the_way(
    browser: Browser, filing_id: str
) -> None:
    person = browser("xiedeming")
    request_id = _request_id(_ask(person, filing_id))
    # The form is no longer offered, and a post from an old tab is refused with the reason.
    second = _ask(person, filing_id, phone="0775-8221000")
    assert second.status_code == 409 and "已有一份待审核的变更申请" in second.text
    withdrawn = _post(person, f"/change-requests/{request_id}/withdraw")
    assert withdrawn.status_code == 303
    page = person.get(f"/change-requests/{request_id}", headers=PAGE)
    assert 'data-state="withdrawn"' in page.text and 'id="withdraw-form"' not in page.text
    assert _ask(person, filing_id, phone="0775-8221000").status_code == 303


def test_another_region_and_other_roles_cannot_see_or_decide(
    browser: Browser, filing_id: str
) -> None:
    person = browser("xiedeming")
    request_id = _request_id(_ask(person, filing_id))
    zhengzhou = browser("zhengzhou")
    theirs = zhengzhou.get(f"/change-requests/{request_id}", headers=PAGE)
    nothing = zhengzhou.get(f"/change-requests/{'0' * 32}", headers=PAGE)
    assert theirs.status_code == nothing.status_code == 404
    assert (
        f'data-request="{request_id}"' not in zhengzhou.get("/change-requests", headers=PAGE).text
    )
    assert _post(zhengzhou, f"/change-requests/{request_id}/approve").status_code == 404
    # The person sees the comparison but has no approve button; the agency cannot withdraw.
    own = person.get(f"/change-requests/{request_id}", headers=PAGE)
    assert 'id="withdraw-form"' in own.text and 'id="approve-form"' not in own.text
    agency = browser("hengyang")
    assert _post(agency, f"/change-requests/{request_id}/withdraw").status_code == 403
    forged = agency.post(
        f"/change-requests/{request_id}/approve",
        data={"csrf_token": "forged"},
        headers=PAGE,
        follow_redirects=False,
    )
    assert forged.status_code == 403
    assert 'data-state="pending"' in agency.get(f"/change-requests/{request_id}", headers=PAGE).text


def test_the_pages_speak_english_too(browser: Browser, filing_id: str) -> None:
    person = browser("xiedeming")
    request_id = _request_id(_ask(person, filing_id))
    agency = browser("hengyang")
    page = agency.get(f"/change-requests/{request_id}?lang=en", headers=PAGE)
    assert "Field by field" in page.text and "Approve the change" in page.text
    labels = re.findall(r'<th scope="row">([^<]*)', page.text)
    assert len(labels) == len(COMPARED_FIELDS)
    assert all(label.strip().isascii() for label in labels), labels
    assert '<th scope="row">Mobile <span class="changed-mark">(changed)' in page.text
    unknown = agency.get(f"/change-requests/{request_id}?done=nonsense", headers=PAGE)
    assert unknown.status_code == 200 and 'id="done"' not in unknown.text
    queue = agency.get("/change-requests?lang=en", headers=PAGE)
    assert "Change requests to review" in queue.text
    row = re.search(rf'<tr data-request="{request_id}".*?</tr>', queue.text, re.S)
    assert row is not None and "<td>Mobile</td>" in row.group(0)
    mine = person.get(f"/filings/{filing_id}?lang=en", headers=PAGE)
    line = re.search(rf'<li data-request="{request_id}">.*?</li>', mine.text, re.S)
    assert line is not None and "Mobile" in line.group(0) and "手机" not in line.group(0)


def _upload(
    client: TestClient, request_id: str, content: bytes, filename: str = "permit.pdf", **data: str
) -> httpx2.Response:
    fields = {"evidence_kind": "residence_permit", "evidence_number": "粤0923-2017-001"} | data
    fields["csrf_token"] = csrf_token(client, f"/change-requests/{request_id}")
    return client.post(
        f"/change-requests/{request_id}/evidence",
        data=fields,
        files={"evidence_file": (filename, content, "application/pdf")},
        headers=PAGE,
        follow_redirects=False,
    )


def test_the_person_adds_a_scan_to_the_pending_request_and_the_agency_compares_with_it(
    browser: Browser, filing_id: str
) -> None:
    person = browser("xiedeming")
    request_id = _request_id(_ask(person, filing_id))
    page = person.get(f"/change-requests/{request_id}", headers=PAGE)
    assert 'id="evidence-form"' in page.text and 'id="no-new-evidence"' in page.text
    added = _upload(person, request_id, PDF_BYTES)
    assert added.status_code == 303, added.text
    assert added.headers["location"] == f"/change-requests/{request_id}?done=evidence"
    after = person.get(added.headers["location"], headers=PAGE)
    assert 'id="done"' in after.text and "已添加证明材料" in after.text
    compare = browser("hengyang").get(f"/change-requests/{request_id}", headers=PAGE)
    table = re.search(r'<table id="change-evidence-table">.*?</table>', compare.text, re.S)
    assert table is not None
    assert "permit.pdf" in table.group(0) and "居住证" in table.group(0)
    assert "粤0923-2017-001" in table.group(0)
    assert 'id="evidence-form"' not in compare.text  # only the person who asked adds documents


def _without_csrf(page: str) -> str:
    return re.sub(r'(name="csrf_token" value=")[^"]+"', r'\1"', page)


def test_another_person_gets_the_same_not_found_as_a_missing_request_and_agencies_are_refused(
    browser: Browser, filing_id: str, container: Container
) -> None:
    person = browser("xiedeming")
    request_id = _request_id(_ask(person, filing_id))
    with container.uow() as uow:
        uow.users.add(STRANGER.user_id, hash_once("stranger-pass-2017"), STRANGER)
        uow.commit()
    with TestClient(create_app(container), base_url="http://127.0.0.1:8000") as stranger:
        sign_in(stranger, STRANGER.user_id, "stranger-pass-2017")
        theirs = _upload(stranger, request_id, PDF_BYTES)
        missing = _upload(stranger, "0" * 32, PDF_BYTES)
    assert theirs.status_code == missing.status_code == 404
    # The pages differ by nothing but the id, and by the CSRF token, whose signature
    # carries the second it was issued in.
    assert _without_csrf(theirs.text.replace(request_id, "")) == _without_csrf(
        missing.text.replace("0" * 32, "")
    )
    assert _upload(browser("hengyang"), request_id, PDF_BYTES).status_code == 403
    own = person.get(f"/change-requests/{request_id}", headers=PAGE)
    assert 'id="no-new-evidence"' in own.text


def test_a_request_no_longer_pending_refuses_a_document_with_the_reason(
    browser: Browser, filing_id: str
) -> None:
    person = browser("xiedeming")
    request_id = _request_id(_ask(person, filing_id))
    token = csrf_token(person, f"/change-requests/{request_id}")  # the page as it was, pending
    assert _post(person, f"/change-requests/{request_id}/withdraw").status_code == 303
    late = person.post(
        f"/change-requests/{request_id}/evidence",
        data={"csrf_token": token, "evidence_kind": "residence_permit"},
        files={"evidence_file": ("permit.pdf", PDF_BYTES, "application/pdf")},
        headers=PAGE,
        follow_redirects=False,
    )
    assert late.status_code == 409
    assert re.search(r'id="evidence-error">变更申请当前状态为“已撤回”，不能补充材料<', late.text)
    assert 'id="evidence-form"' not in late.text and 'id="no-new-evidence"' in late.text


def test_a_file_that_is_not_a_scan_and_a_missing_kind_are_shown_by_their_fields(
    browser: Browser, filing_id: str
) -> None:
    person = browser("xiedeming")
    request_id = _request_id(_ask(person, filing_id))
    not_a_scan = _upload(person, request_id, b"plain text", "permit.pdf")
    assert not_a_scan.status_code == 422
    assert re.search(r'id="evidence_file-error" role="alert">[^<]*PDF、JPEG或PNG', not_a_scan.text)
    assert 'value="粤0923-2017-001"' in not_a_scan.text  # what was typed stays
    no_kind = _upload(person, request_id, PDF_BYTES, evidence_kind="")
    assert no_kind.status_code == 422
    assert re.search(r'id="evidence_kind-error" role="alert">请选择材料种类<', no_kind.text)
    page = person.get(f"/change-requests/{request_id}", headers=PAGE)
    assert 'id="no-new-evidence"' in page.text  # nothing was added
