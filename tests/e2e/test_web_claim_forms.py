"""The manual reimbursement forms over HTTP, as a browser without JavaScript uses them:
the person looked up from the ID number (masked, audited, the handler's region only), the
hospital chosen from the directory or typed with its region, the payee (validated, the
account masked in lists and logs), receipts as rows with every fault shown at once, and
the printable reimbursement notice."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient

from filing_support import HENGYANG, api_headers
from hospital_support import BOBAI_CODE, PERSON_ID, UNFILED_ID, XIE_LINES, build_world
from yidi.bootstrap import Container
from yidi.demo.loader import load_reference_world
from yidi.entrypoints.app import create_app
from yidi.kernel.privacy import mask_id_number

sys.path.insert(0, str(Path(__file__).parent))
from web_helpers import PAGE, csrf_token, hash_once, sign_in

ACCOUNT = "6222 0212 3456 7890 123"
ACCOUNT_DIGITS = ACCOUNT.replace(" ", "")
CLAIM = {
    "id_number": UNFILED_ID,
    "hospital_name": "博白县人民医院",
    "treatment_region": "",
    "hospital_level": "2",
    "encounter_type": "21",
    "filing_category": "",
    "admitted_on": "2026-10-01",
    "discharged_on": "2026-10-10",
    "reason": "未办理异地就医备案",
    "payee_name": "某某女",
    "payee_bank": "中国工商银行衡阳分行",
    "payee_account": ACCOUNT,
    "payee_account_confirm": ACCOUNT_DIGITS,
}


@pytest.fixture(autouse=True)
def _world(container: Container, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("yidi.demo.loader.hash_password", hash_once)
    build_world(container)
    load_reference_world(container.uow())


@pytest.fixture
def web(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container), base_url="http://127.0.0.1:8000") as client:
        yield client


def _post(web: TestClient, path: str, page: str, data: dict[str, Any]) -> httpx2.Response:
    token = csrf_token(web, page)
    return web.post(path, data={"csrf_token": token, **data}, headers=PAGE, follow_redirects=False)


def _create(web: TestClient, **changes: str) -> str:
    created = _post(web, "/claims", "/claims/new", CLAIM | changes)
    assert created.status_code == 303, created.text
    match = re.fullmatch(r"/claims/(MC[0-9A-Z]+)", created.headers["location"])
    assert match
    return match.group(1)


def _audit(container: Container) -> list[Any]:
    with container.uow() as uow:
        return [c.entry for c in uow.audit.walk()]


def _rows(lines: list[tuple[str, str, str, str]], day: str = "2026-10-03") -> dict[str, list[str]]:
    return {
        "serial": [str(i) for i in range(1, len(lines) + 1)],
        "catalog_code": [code for code, _n, _q, _p in lines],
        "name": [name for _c, name, _q, _p in lines],
        "quantity": [q for _c, _n, q, _p in lines],
        "unit_price": [p for _c, _n, _q, p in lines],
        "amount": ["" for _ in lines],
        "occurred_on": [day for _ in lines],
    }


def test_the_lookup_button_shows_the_person_masked_and_is_audited(
    web: TestClient, container: Container
) -> None:
    sign_in(web, "hengyang")
    shown = _post(web, "/claims", "/claims/new", {"id_number": PERSON_ID, "op": "lookup"})
    assert shown.status_code == 200
    panel = shown.text.split('id="person-lookup"')[1].split("</fieldset>")[0]
    assert 'id="person-name">谢某某<' in panel and mask_id_number(PERSON_ID) in panel
    assert PERSON_ID not in panel  # the panel shows the number masked
    assert "衡阳县" in panel and 'data-filing-state="approved"' in panel
    assert not re.search(r'id="claim-errors"', shown.text)  # a lookup creates nothing
    # The script's fragment: the same panel, and the refusals as field messages.
    fragment = _post(web, "/claims/person-lookup", "/claims/new", {"id_number": UNFILED_ID})
    assert fragment.status_code == 200 and 'id="person-no-filings"' in fragment.text
    short = _post(web, "/claims/person-lookup", "/claims/new", {"id_number": "4304"})
    assert short.status_code == 422 and "完整的18位身份证号" in short.text
    lookups = [e for e in _audit(container) if e.action == "manual_claim.person_lookup"]
    assert [e.subject for e in lookups] == [
        f"person:{mask_id_number(PERSON_ID)}",
        f"person:{mask_id_number(UNFILED_ID)}",
    ]
    assert all(PERSON_ID not in f"{e.subject} {e.reason}" for e in _audit(container))


def test_another_regions_handler_finds_nobody(web: TestClient, container: Container) -> None:
    sign_in(web, "zhengzhou")
    answer = _post(web, "/claims/person-lookup", "/claims/new", {"id_number": PERSON_ID})
    assert answer.status_code == 422 and 'id="person-lookup-error"' in answer.text
    assert "谢某某" not in answer.text
    (entry,) = [e for e in _audit(container) if e.action == "manual_claim.person_lookup"]
    assert entry.actor == "zhengzhou" and entry.reason == "未找到"


def test_a_directory_hospital_sets_region_and_level_and_a_typed_one_needs_them(
    web: TestClient,
) -> None:
    sign_in(web, "hengyang")
    form = web.get("/claims/new", headers=PAGE).text
    assert '<datalist id="hospital-directory">' in form and 'value="博白县人民医院"' in form
    listed = web.get(f"/claims/{_create(web, hospital_level='3')}", headers=PAGE).text
    assert f'id="claim-hospital-code">{BOBAI_CODE}<' in listed
    assert "博白县人民医院（二级医院）" in listed  # the directory's level, not the one chosen
    assert "450923" in listed
    typed = CLAIM | {"hospital_name": "博白县某某诊所", "treatment_region": ""}
    refused = _post(web, "/claims", "/claims/new", typed)
    assert refused.status_code == 422 and 'id="treatment_region-error"' in refused.text
    assert "医院不在名录中，请选择就医地" in refused.text
    claim_id = _create(web, hospital_name="博白县某某诊所", treatment_region="450923")
    page = web.get(f"/claims/{claim_id}", headers=PAGE).text
    assert 'id="claim-hospital-typed"' in page and "博白县某某诊所" in page


def test_every_faulty_field_of_the_intake_form_is_shown_at_once(web: TestClient) -> None:
    sign_in(web, "hengyang")
    faulty = _post(
        web,
        "/claims",
        "/claims/new",
        CLAIM
        | {
            "id_number": "",
            "hospital_name": "",
            "reason": "",
            "encounter_type": "99",
            "discharged_on": "2026-09-01",
            "payee_bank": "",
            "payee_account": "6222-abc",
            "payee_account_confirm": "6222-abc",
        },
    )
    assert faulty.status_code == 422
    for field in (
        "id_number",
        "hospital_name",
        "reason",
        "encounter_type",
        "discharged_on",
        "payee_bank",
        "payee_account",
    ):
        assert f'id="{field}-error"' in faulty.text, field
    assert 'id="claim-errors"' in faulty.text and "请改正以下 7 处" in faulty.text
    assert "6222-abc" not in faulty.text  # the account is typed again, never echoed
    mismatch = _post(web, "/claims", "/claims/new", CLAIM | {"payee_account_confirm": "1234"})
    assert mismatch.status_code == 422 and "两次输入的银行账号不一致" in mismatch.text


def test_the_payee_account_is_shown_whole_only_on_the_claim_page(
    web: TestClient, container: Container
) -> None:
    sign_in(web, "hengyang")
    claim_id = _create(web)
    page = web.get(f"/claims/{claim_id}", headers=PAGE).text
    assert f'id="payee-account">{ACCOUNT_DIGITS}<' in page
    listing = web.get("/claims", headers=PAGE).text
    assert claim_id in listing and ACCOUNT_DIGITS not in listing
    api = web.get(f"/api/manual-claims/{claim_id}", headers=PAGE).json()
    assert api["payee_account_masked"] == "**** 0123" and ACCOUNT_DIGITS not in str(api)
    (created,) = [e for e in _audit(container) if e.action == "manual_claim.create"]
    assert "**** 0123" in created.reason
    assert all(ACCOUNT_DIGITS not in f"{e.subject} {e.reason}" for e in _audit(container))
    changed = _post(
        web,
        f"/claims/{claim_id}/payee",
        f"/claims/{claim_id}",
        {
            "payee_name": "某某女",
            "payee_bank": "中国银行",
            "payee_account": "62170000111122223",
            "payee_account_confirm": "62170000111122223",
        },
    )
    assert changed.status_code == 303
    assert 'id="payee-bank">中国银行<' in web.get(f"/claims/{claim_id}", headers=PAGE).text


def test_receipt_rows_show_every_fault_at_once_and_save_nothing_until_right(
    web: TestClient,
) -> None:
    sign_in(web, "hengyang")
    claim_id = _create(web)
    page = f"/claims/{claim_id}"
    rows = _rows(XIE_LINES[:3])
    rows["quantity"][0] = "abc"
    rows["occurred_on"][2] = "2026-12-01"  # after discharge
    rows["catalog_code"][1] = ""
    bad = _post(web, f"{page}/fee-rows", page, rows | {"op": "save"})
    assert bad.status_code == 422
    for cell in ("row-0-quantity", "row-1-catalog_code", "row-2-occurred_on"):
        assert f'id="{cell}-error"' in bad.text, cell
    assert bad.text.count('aria-invalid="true"') == 3
    assert "发生日期应在住院期间（2026-10-01 至 2026-10-10）" in bad.text
    assert 'value="abc"' in bad.text  # what was typed stays to be corrected
    assert "费用明细（0 条）" in bad.text
    # Without JavaScript, 添加一行 and 删除 post the form back: rows change, nothing is saved.
    added = _post(web, f"{page}/fee-rows", page, _rows(XIE_LINES[:2]) | {"op": "add"})
    assert added.status_code == 200 and 'id="row-2-catalog_code"' in added.text
    removed = _post(web, f"{page}/fee-rows", page, _rows(XIE_LINES[:2]) | {"op": "remove-0"})
    assert 'id="row-1-catalog_code"' not in removed.text
    assert f'value="{XIE_LINES[1][0]}"' in removed.text
    assert f'value="{XIE_LINES[0][0]}"' not in removed.text
    good = _rows(XIE_LINES)
    good["serial"][0] = ""  # numbered by its row
    good["name"].append("")  # a trailing blank row is skipped
    for name in ("serial", "catalog_code", "quantity", "unit_price", "amount", "occurred_on"):
        good[name].append("")
    saved = _post(web, f"{page}/fee-rows", page, good | {"op": "save"})
    assert saved.status_code == 303
    shown = web.get(page, headers=PAGE).text
    assert f"费用明细（{len(XIE_LINES)} 条）" in shown
    assert 'id="row-0-serial" name="serial" value="1"' in shown
    assert _post(web, f"{page}/compute", page, {}).status_code == 303
    assert "11811.24" in web.get(page, headers=PAGE).text  # the same total as the CSV path


def test_the_notice_prints_once_computed_and_says_whether_it_is_approved(
    web: TestClient, container: Container
) -> None:
    sign_in(web, "hengyang")
    claim_id = _create(web)
    page = f"/claims/{claim_id}"
    early = web.get(f"{page}/notice", headers=PAGE)
    assert early.status_code == 409 and "尚未试算" in early.text
    _post(web, f"{page}/fee-rows", page, _rows(XIE_LINES) | {"op": "save"})
    _post(web, f"{page}/compute", page, {})
    draft = web.get(f"{page}/notice", headers=PAGE)
    assert draft.status_code == 200 and 'id="notice-draft"' in draft.text
    assert "data-print" in draft.text and 'id="notice-amounts"' in draft.text
    assert 'data-amount="total_charges">11811.24<' in draft.text
    assert 'id="notice-account">**** 0123<' in draft.text and ACCOUNT_DIGITS not in draft.text
    assert mask_id_number(UNFILED_ID) in draft.text and UNFILED_ID not in draft.text
    _post(
        web,
        f"{page}/materials",
        page,
        {
            "received": [
                "inpatient_receipt",
                "discharge_record",
                "diagnosis_certificate",
                "itemised_fee_list",
            ]
        },
    )
    assert _post(web, f"{page}/approve", page, {}).status_code == 303
    final = web.get(f"{page}/notice", headers=PAGE).text
    assert 'data-approved="1"' in final and 'id="notice-draft"' not in final
    fund = re.search(r'data-amount="fund_paid_total">([0-9.]+)<', final)
    assert fund and f"基金支付 {fund.group(1)} 元" in final
    reads = [e for e in _audit(container) if e.action == "manual_claim.notice"]
    assert len(reads) == 2 and all(e.subject == f"manual_claim:{claim_id}" for e in reads)


def test_the_api_looks_up_the_person_and_takes_the_payee(
    web: TestClient, container: Container
) -> None:
    headers = api_headers(container, HENGYANG)
    found = web.post(
        "/api/manual-claims/person-lookup", json={"id_number": PERSON_ID}, headers=headers
    )
    assert found.status_code == 200, found.text
    body = found.json()
    assert body["name"] == "谢某某" and body["id_number_masked"] == mask_id_number(PERSON_ID)
    assert body["filings"] and body["filings"][0]["state"] == "approved"
    bad = web.put(
        "/api/manual-claims/MCNONE/payee",
        json={"payee_name": "某", "payee_bank": "某行", "payee_account": "12345678x"},
        headers=headers,
    )
    assert bad.status_code in (404, 422)
