"""The step-by-step filing over HTTP: 谢德明 (a retiree of 衡阳县, filed as resettled in 博白县)
files again step by step — a long-term type on a personal promise, a referral with its
document, a type that needs none — each step checking only its own fields; the state
survives going back; a re-posted page finds the same draft; a tampered state is refused."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from fastapi.testclient import TestClient

from filing_support import HENGYANG, PDF_BYTES
from yidi.bootstrap import Container
from yidi.entrypoints.app import create_app
from yidi.filing.commands import FilingService
from yidi.filing.model.lifecycle import FilingState
from yidi.kernel.insurance import FilingCategory

sys.path.insert(0, str(Path(__file__).parent))
from web_helpers import PAGE, load_demo_world, sign_in

WIZARD = "/me/filings/wizard"
XIE_ID = "430421195206180315"


@pytest.fixture(autouse=True)
def _demo_world(container: Container, monkeypatch: pytest.MonkeyPatch) -> None:
    load_demo_world(container, monkeypatch, filings=True)


@pytest.fixture
def web(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container), base_url="http://127.0.0.1:8000") as client:
        sign_in(client, "xiedeming")
        yield client


def _hidden(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert match, f"the page carries {name}"
    return match.group(1)


def _post(
    web: TestClient, page: httpx2.Response, files: dict[str, object] | None = None, **data: str
) -> httpx2.Response:
    """Post the page's form (its CSRF token, state and step) with ``data``."""
    body = {
        "csrf_token": _hidden(page.text, "csrf_token"),
        "wizard_state": _hidden(page.text, "wizard_state"),
        "step": _hidden(page.text, "step"),
        "go": "next",
    } | data
    return web.post(WIZARD, data=body, files=files, headers=PAGE, follow_redirects=False)


def _step_of(page: httpx2.Response) -> str:
    return _hidden(page.text, "step")


def _to_details(web: TestClient, category: str) -> httpx2.Response:
    start = web.get(WIZARD, headers=PAGE)
    assert start.status_code == 200
    destination = _post(web, start, category=category)
    assert _step_of(destination) == "destination", destination.text
    details = _post(web, destination, destination="广西壮族自治区玉林市博白县")
    assert _step_of(details) == "details", details.text
    return details


DETAILS = {
    "home_address": "湖南省衡阳县西渡镇蒸阳路18号",
    "contact_address": "广西壮族自治区博白县博白镇城南路6号",
    "mobile": "13807340315",
    "institution_0_name": "博白县人民医院",
    "institution_0_level": "2",
}


def _filings(container: Container, category: FilingCategory) -> list[object]:
    service = FilingService(container.uow, container.clock)
    return [
        line
        for line in service.search(HENGYANG, id_number=XIE_ID).items
        if line.category is category
    ]


def test_step_one_offers_only_the_types_of_the_day_open_to_the_person(web: TestClient) -> None:
    page = web.get(WIZARD, headers=PAGE).text
    # the 2022 model on 2026-11-20: two classes, the types a retired employee may file
    assert "跨省异地长期居住人员" in page and "跨省临时外出就医人员" in page
    offered = re.findall(r'name="category" value="([a-z_]+)"', page)
    assert offered == [
        "retiree_resettled",
        "long_term_resident",
        "referral",
        "emergency",
        "other_temporary",
    ]  # posted_worker is for working employees only
    assert "个人承诺书" in page  # the long-term types say a promise may replace the document
    assert 'name="contact_address"' not in page  # no field of a later step


def test_a_long_term_type_on_a_personal_promise_is_filed_in_five_steps(
    web: TestClient, container: Container
) -> None:
    details = _to_details(web, "long_term_resident")
    assert 'name="admitted_on"' not in details.text  # only an emergency asks for it
    assert details.text.count('name="institution_') == 6  # up to three hospitals
    documents = _post(web, details, **DETAILS)
    assert _step_of(documents) == "documents", documents.text
    assert 'name="proof_path" value="promise"' in documents.text
    assert "居住证" in documents.text
    unsigned = _post(web, documents, proof_path="promise")
    assert unsigned.status_code == 422
    assert 'id="error-summary"' in unsigned.text and 'href="#promise_confirm"' in unsigned.text
    review = _post(web, unsigned, proof_path="promise", promise_confirm="yes")
    assert _step_of(review) == "review", review.text
    assert 'id="review-promise"' in review.text
    assert "广西壮族自治区玉林市博白县" in review.text
    done = _post(web, review)
    assert done.status_code == 303 and done.headers["location"].endswith("?done=submit")
    [line] = _filings(container, FilingCategory.LONG_TERM_RESIDENT)
    detail = FilingService(container.uow, container.clock).get(HENGYANG, line.filing_id)
    assert detail.state is FilingState.SUBMITTED
    assert detail.record.promise_signed and detail.evidence == ()
    assert detail.record.destination_county_code == "450923"
    assert detail.record.contact_address == DETAILS["contact_address"]


def test_a_referral_needs_its_document_and_offers_no_promise(
    web: TestClient, container: Container
) -> None:
    details = _to_details(web, "referral")
    assert details.text.count('name="institution_') == 2  # the receiving hospital only
    documents = _post(web, details, **DETAILS)
    assert 'name="proof_path"' not in documents.text  # the rules allow no promise here
    assert "转诊转院审批表" in documents.text
    missing = _post(web, documents, evidence_kind="referral_approval")
    assert missing.status_code == 422
    assert re.search(r'id="evidence_file-error" role="alert">请上传', missing.text)
    assert re.search(r'id="evidence_region-error"', missing.text)
    review = _post(
        web,
        missing,
        files={"evidence_file": ("referral.pdf", PDF_BYTES, "application/pdf")},
        evidence_kind="referral_approval",
        evidence_issuer="南华大学附属第一医院",
        evidence_region="湖南省衡阳市",
    )
    assert _step_of(review) == "review", review.text
    assert "referral.pdf" in review.text
    done = _post(web, review)
    assert done.status_code == 303
    [line] = _filings(container, FilingCategory.REFERRAL)
    detail = FilingService(container.uow, container.clock).get(HENGYANG, line.filing_id)
    assert [e.kind.value for e in detail.evidence] == ["referral_approval"]
    assert detail.evidence[0].issuer_region_code == "430400"


def test_a_type_without_documents_skips_to_the_review(web: TestClient) -> None:
    documents = _post(web, _to_details(web, "other_temporary"), **DETAILS)
    assert 'id="no-documents"' in documents.text and 'name="evidence_kind"' not in documents.text
    assert _step_of(_post(web, documents)) == "review"


def test_each_step_checks_its_own_fields_and_keeps_what_was_typed(web: TestClient) -> None:
    start = web.get(WIZARD, headers=PAGE)
    unchosen = _post(web, start)
    assert unchosen.status_code == 422 and _step_of(unchosen) == "type"
    assert 'href="#category-retiree_resettled">请选择备案类型' in unchosen.text
    assert "<title>错误：" in unchosen.text
    destination = _post(web, unchosen, category="emergency")
    inside = _post(web, destination, destination="湖南省衡阳市衡阳县")
    assert inside.status_code == 422 and 'href="#destination"' in inside.text
    details = _post(web, inside, destination="博白县")
    assert 'name="admitted_on"' in details.text  # an emergency asks the admission day
    faulty = _post(web, details, **(DETAILS | {"mobile": "12345", "contact_address": ""}))
    assert faulty.status_code == 422 and _step_of(faulty) == "details"
    assert re.search(r'id="mobile-error" role="alert">', faulty.text)
    assert re.search(r'id="contact_address-error" role="alert">', faulty.text)
    assert re.search(r'id="admitted_on-error" role="alert">', faulty.text)
    assert 'value="12345"' in faulty.text
    # back keeps the destination; forward again keeps the typed details
    back = _post(web, faulty, go="back", mobile="12345")
    assert _step_of(back) == "destination"
    assert 'value="广西壮族自治区玉林市博白县"' in back.text
    again = _post(web, back, destination="450923")
    assert 'value="12345"' in again.text


def test_a_page_posted_again_from_the_history_finds_the_same_draft(
    web: TestClient, container: Container
) -> None:
    details = _to_details(web, "long_term_resident")
    first = _post(web, details, **DETAILS)
    second = _post(web, details, **(DETAILS | {"contact_address": "广西博白县新地址9号"}))
    assert _step_of(first) == _step_of(second) == "documents"
    [line] = _filings(container, FilingCategory.LONG_TERM_RESIDENT)
    detail = FilingService(container.uow, container.clock).get(HENGYANG, line.filing_id)
    assert detail.state is FilingState.DRAFT
    assert detail.record.contact_address == "广西博白县新地址9号"


def test_a_second_filing_of_a_live_type_is_refused_with_a_link_to_it(web: TestClient) -> None:
    refused = _post(web, _to_details(web, "retiree_resettled"), **DETAILS)
    assert refused.status_code == 422 and _step_of(refused) == "details"
    assert 'id="existing-filing"' in refused.text


def test_an_altered_state_is_refused_and_starts_again(web: TestClient) -> None:
    start = web.get(WIZARD, headers=PAGE)
    forged = _post(
        web, start, category="referral", wizard_state="x" + _hidden(start.text, "wizard_state")
    )
    assert forged.status_code == 303 and forged.headers["location"] == f"{WIZARD}?expired=1"


def test_only_the_insured_person_opens_the_wizard(container: Container) -> None:
    with TestClient(create_app(container), base_url="http://127.0.0.1:8000") as agency:
        sign_in(agency, "hengyang")
        assert agency.get(WIZARD, headers=PAGE).status_code == 403


def test_the_desk_shows_each_filing_with_its_state_and_deadlines(
    web: TestClient, container: Container
) -> None:
    service = FilingService(container.uow, container.clock)
    # a long-term filing on a promise, approved: documents due, open-ended validity
    details = _to_details(web, "long_term_resident")
    documents = _post(web, details, **DETAILS)
    review = _post(web, documents, proof_path="promise", promise_confirm="yes")
    _post(web, review)
    [promised] = _filings(container, FilingCategory.LONG_TERM_RESIDENT)
    approved = service.approve(HENGYANG, promised.filing_id)
    due = approved.record.promise_documents_due_on
    assert due is not None
    # an emergency draft: the last day to hand in its documents
    emergency = _to_details(web, "emergency")
    _post(web, emergency, **(DETAILS | {"admitted_on": "2026-11-19"}))
    [draft] = _filings(container, FilingCategory.EMERGENCY)
    deadline = service.get(HENGYANG, draft.filing_id).emergency_due
    assert deadline is not None

    desk = web.get("/me", headers=PAGE).text
    assert 'id="my-deadlines"' in desk and 'id="desk-new-filing"' in desk
    row = re.search(rf'<tr data-filing="{promised.filing_id}">(.*?)</tr>', desk, re.S)
    assert row and 'data-state="approved"' in row.group(1)
    assert f'data-deadline="promise" data-date="{due.isoformat()}"' in row.group(1)
    assert 'data-deadline="validity"' in row.group(1)
    row = re.search(rf'<tr data-filing="{draft.filing_id}">(.*?)</tr>', desk, re.S)
    assert row and 'data-state="draft"' in row.group(1)
    assert f'data-deadline="emergency" data-date="{deadline.on.isoformat()}"' in row.group(1)
    assert f'data-continue="{draft.filing_id}"' in row.group(1)
    mine = web.get("/me/filings", headers=PAGE).text
    assert f'data-deadline="promise" data-date="{due.isoformat()}"' in mine
    assert 'href="/me/filings/wizard"' in mine
    english = web.get("/me?lang=en", headers=PAGE).text
    assert re.search(rf"Promised documents due: <time[^>]*>{due.isoformat()}</time>", english)


def test_the_steps_speak_english_when_asked(web: TestClient) -> None:
    start = web.get(f"{WIZARD}?lang=en", headers=PAGE)
    page = start.text
    assert "Step 1 of 5" in page and "Choose the filing type" in page
    assert "Living away for a long time" in page and "Travelling for care" in page
    assert "Long-term resident elsewhere" in page
    assert "You live elsewhere for a long time" in page  # the plain-language explanation
    unchosen = _post(web, start)  # the language stays chosen (its cookie)
    assert "<title>Error: " in unchosen.text
    assert 'href="#category-retiree_resettled">Choose a filing type' in unchosen.text
