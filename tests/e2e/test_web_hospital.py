"""The hospital cashier pages over HTTP: admission check, admit, fee upload with per-line
splits and unknown codes, discharge, pre-settle, settle, the statement, reversal; access
(own hospital only), CSRF and field errors."""

from __future__ import annotations

import re
import sys
from decimal import Decimal
from pathlib import Path

import httpx2
import pytest
from fastapi.testclient import TestClient

from hospital_support import PENG_CARD, UNFILED_CARD, XIE_CARD, XIE_LINES
from yidi.bootstrap import Container

sys.path.insert(0, str(Path(__file__).parent))
from web_helpers import PAGE, csrf_token, sign_in

# The demo accounts (bobai, nhfy1, hengyang…) beside the hospital world.
pytestmark = pytest.mark.usefixtures("hospital_demo_world")


def _post(web: TestClient, path: str, page: str, **data: str) -> httpx2.Response:
    token = csrf_token(web, page)
    return web.post(path, data={"csrf_token": token, **data}, headers=PAGE, follow_redirects=False)


def _fee_csv(rows: list[tuple[str, str, str, str]], when: str = "2026-11-20 11:00") -> str:
    out = ["流水号,目录编码,名称,数量,单价,金额,发生时间"]
    for index, (code, name, quantity, price) in enumerate(rows, start=1):
        amount = (Decimal(quantity) * Decimal(price)).quantize(Decimal("0.01"))
        out.append(f"{index},{code},{name},{quantity},{price},{amount},{when}")
    return "\n".join(out)


def _admit(web: TestClient, card: str = XIE_CARD, **changes: str) -> httpx2.Response:
    data = {
        "card": card,
        "department_code": "A03",
        "department_name": "普外科",
        "admitted_at": "2026-11-20T08:00",
        "diagnosis_codes": "K80.100",
        "med_type": "21",
    } | changes
    return _post(web, "/hospital/encounters", "/hospital/check", **data)


def _encounter_id(response: httpx2.Response) -> str:
    location = response.headers["location"]
    match = re.fullmatch(r"/hospital/encounters/([A-Z0-9]+)\?done=admit", location)
    assert match, location
    return match.group(1)


def test_the_cashier_checks_admits_uploads_settles_and_prints_the_statement(
    web: TestClient,
) -> None:
    sign_in(web, "bobai")
    checked = _post(web, "/hospital/check", "/hospital/check", card=XIE_CARD)
    assert checked.status_code == 200
    text = checked.text
    assert "可以直接结算" in text and "谢某某" in text
    assert re.search(r"BA430421-\d{4}-\d{6}", text)
    assert "430421********" in text  # the ID number is masked
    admitted = _admit(web)
    assert admitted.status_code == 303
    encounter_id = _encounter_id(admitted)
    page = f"/hospital/encounters/{encounter_id}"
    assert encounter_id in web.get("/hospital/encounters", headers=PAGE).text

    unknown = _post(
        web,
        f"{page}/fees",
        page,
        fee_text=_fee_csv([*XIE_LINES[:2], ("NOT-IN-CATALOGUE", "未知项目", "1", "5.00")]),
    )
    assert unknown.status_code == 422
    assert 'id="unknown-codes"' in unknown.text
    assert "NOT-IN-CATALOGUE" in unknown.text
    assert "尚未上传费用明细" in unknown.text  # nothing stored

    uploaded = _post(web, f"{page}/fees", page, fee_text=_fee_csv(XIE_LINES))
    assert uploaded.status_code == 200
    assert uploaded.text.count("data-uploaded") == len(XIE_LINES)
    assert "11811.24" in uploaded.text
    assert "丙类（自费）" in uploaded.text  # per-line split shown

    preview = _post(web, f"{page}/pre-settle", page)
    assert preview.status_code == 200
    assert 'id="pre-settlement"' in preview.text
    assert "起付线" in preview.text

    early = _post(web, f"{page}/settle", page, total_charges="11811.24")
    assert early.status_code == 409  # not discharged yet
    assert "须先办理出院" in early.text

    discharged = _post(web, f"{page}/discharge", page, discharged_at="2026-11-20T18:00")
    assert discharged.status_code == 303
    wrong_total = _post(web, f"{page}/settle", page, total_charges="100.00")
    assert wrong_total.status_code == 422
    assert 'id="total_charges-error"' in wrong_total.text
    settled = _post(web, f"{page}/settle", page, total_charges="11811.24")
    assert settled.status_code == 303
    shown = web.get(page, headers=PAGE).text
    assert 'id="settlement"' in shown and "计算过程" in shown
    assert 'data-state="settled"' in shown

    statement = web.get(f"{page}/statement", headers=PAGE)
    assert statement.status_code == 200
    assert 'id="policy-version"' in statement.text and 'id="catalog-version"' in statement.text
    assert "异地就医住院结算说明" in statement.text

    match = re.search(r'id="settlement-id">([A-Z0-9]+)<', shown)
    assert match
    reverse = f"{page}/settlements/{match.group(1)}/reverse"
    unconfirmed = _post(web, reverse, page)
    assert unconfirmed.status_code == 422
    assert 'id="confirm-error"' in unconfirmed.text
    reversed_ = _post(web, reverse, page, confirm="yes")
    assert reversed_.status_code == 303
    after = web.get(page, headers=PAGE).text
    assert 'data-state="discharged"' in after and 'data-kind="reversal"' in after


def test_an_unfiled_patient_gets_the_agency_phone_to_call(web: TestClient) -> None:
    sign_in(web, "bobai")
    refused = _post(web, "/hospital/check", "/hospital/check", card=UNFILED_CARD)
    assert refused.status_code == 200
    assert "不能直接结算" in refused.text
    assert "0734-6653009" in refused.text  # 衡阳县职工医保
    assert 'id="admit-form"' not in refused.text


def test_admission_field_errors_are_shown_next_to_the_fields(web: TestClient) -> None:
    sign_in(web, "bobai")
    missing = _post(web, "/hospital/check", "/hospital/check", card="")
    assert missing.status_code == 422
    assert 'id="card-error"' in missing.text
    bad = _admit(web, diagnosis_codes="", department_code="", admitted_at="yesterday")
    assert bad.status_code == 422
    for field in ("diagnosis_main", "department_code", "admitted_at"):
        assert f'id="{field}-error"' in bad.text
    injury = _admit(web, med_type="22")
    assert injury.status_code == 422
    # One red answer replaces the green one, with the way to register the stay as self-pay.
    # 2026: the 2022 rules settle an injury directly only with the no-third-party promise
    assert "外伤" in injury.text and 'id="refusal"' in injury.text
    assert 'data-verdict="direct"' not in injury.text and "可以直接结算" not in injury.text
    assert 'data-verdict="not_direct"' in injury.text and 'id="self-pay-form"' in injury.text
    bad_code = _admit(web, diagnosis_codes="gallstones")
    assert 'id="diagnosis_codes-error"' in bad_code.text


def test_another_hospitals_encounter_is_not_found(web: TestClient) -> None:
    sign_in(web, "nhfy1")
    encounter_id = _encounter_id(_admit(web, card=PENG_CARD))
    web.post("/signout", data={"csrf_token": csrf_token(web, "/hospital/check")}, headers=PAGE)
    sign_in(web, "bobai")
    theirs = web.get(f"/hospital/encounters/{encounter_id}", headers=PAGE)
    missing = web.get("/hospital/encounters/M000NONE", headers=PAGE)
    assert theirs.status_code == missing.status_code == 404
    statement = web.get(f"/hospital/encounters/{encounter_id}/statement", headers=PAGE)
    assert statement.status_code == 404
    assert encounter_id not in web.get("/hospital/encounters", headers=PAGE).text


def test_only_cashiers_open_the_hospital_pages_and_forms_need_the_csrf_token(
    web: TestClient,
) -> None:
    anonymous = web.get("/hospital/check", headers=PAGE, follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/signin")
    sign_in(web, "hengyang")
    assert web.get("/hospital/encounters", headers=PAGE).status_code == 403
    web.post("/signout", data={"csrf_token": csrf_token(web, "/agency")}, headers=PAGE)
    sign_in(web, "bobai")
    forged = web.post(
        "/hospital/check", data={"card": XIE_CARD, "csrf_token": "forged"}, headers=PAGE
    )
    assert forged.status_code == 403
    no_token = web.post("/hospital/encounters", data={"card": XIE_CARD}, headers=PAGE)
    assert no_token.status_code == 403
    assert web.get("/hospital/encounters", headers=PAGE).text.count("<tr>") == 0
    bad_state = web.get("/hospital/encounters?state=bogus", headers=PAGE)
    assert bad_state.status_code == 422 and 'id="state-error"' in bad_state.text


# --- cancelling fee lines, the admission and the discharge ---------------------------------


def _hidden_fields(html: str) -> dict[str, object]:
    """The CSRF token and one-time form key a copy of the encounter page carries."""
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    form_key = re.search(r'name="form_key" value="([^"]+)"', html)
    assert token and form_key
    return {"csrf_token": token.group(1), "form_key": form_key.group(1)}


def _send(web: TestClient, path: str, page: str, data: dict[str, object]) -> httpx2.Response:
    """A form post with the page's own CSRF token and form key (a list value repeats)."""
    body = _hidden_fields(web.get(page, headers=PAGE).text) | data
    return web.post(path, data=body, headers=PAGE, follow_redirects=False)


def _admitted_with_lines(web: TestClient) -> str:
    encounter_id = _encounter_id(_admit(web))
    page = f"/hospital/encounters/{encounter_id}"
    assert _post(web, f"{page}/fees", page, fee_text=_fee_csv(XIE_LINES)).status_code == 200
    return page


def _cancelled_rows(web: TestClient, page: str) -> int:
    return web.get(page, headers=PAGE).text.count('class="cancelled"')


def test_the_cashier_cancels_ticked_fee_lines_with_a_confirmation(web: TestClient) -> None:
    sign_in(web, "bobai")
    page = _admitted_with_lines(web)
    shown = web.get(page, headers=PAGE).text
    assert shown.count('form="fee-cancel-form"') == len(XIE_LINES)
    # the cancel form works without script: the page has none of its own (only the layout's file)
    scripts = re.findall(r"<script\b[^>]*>", shown)
    assert 'id="fee-cancel-form"' in shown and scripts == ['<script src="/static/js/layout.js">']

    unconfirmed = _send(web, f"{page}/fees/cancel", page, {"serials": ["1", "2"]})
    assert unconfirmed.status_code == 422
    assert 'id="fee_cancel_confirm-error"' in unconfirmed.text
    assert "请勾选确认后再撤销" in unconfirmed.text
    assert unconfirmed.text.count('form="fee-cancel-form" checked') == 2  # the ticks stay
    nothing = _send(web, f"{page}/fees/cancel", page, {"confirm": "yes"})
    assert nothing.status_code == 422 and 'id="fee_cancel-error"' in nothing.text
    assert "请先勾选要撤销的费用明细" in nothing.text
    unknown = _send(web, f"{page}/fees/cancel", page, {"serials": ["99"], "confirm": "yes"})
    assert unknown.status_code == 422 and 'id="fee_cancel-error"' in unknown.text
    assert "未找到费用明细流水号：99" in unknown.text

    hidden = _hidden_fields(web.get(page, headers=PAGE).text)
    once = {
        **hidden,
        "serials": ["1", "2"],
        "confirm": "yes",
    }
    first = web.post(f"{page}/fees/cancel", data=once, headers=PAGE, follow_redirects=False)
    assert first.status_code == 303
    assert first.headers["location"].endswith("?done=fee_cancel")
    # A double click sends the same form again: the same answer, nothing more cancelled.
    again = web.post(f"{page}/fees/cancel", data=once, headers=PAGE, follow_redirects=False)
    assert again.status_code == 303 and _cancelled_rows(web, page) == 2
    # The same lines from another copy of the page: already cancelled, so nothing changes.
    other_copy = _send(web, f"{page}/fees/cancel", page, {"serials": ["2"], "confirm": "yes"})
    assert other_copy.status_code == 303 and _cancelled_rows(web, page) == 2
    # An old copy of the page used for another choice is stopped with a plain message.
    reused = web.post(
        f"{page}/fees/cancel",
        data=once | {"serials": ["3"]},
        headers=PAGE,
        follow_redirects=False,
    )
    assert reused.status_code == 409 and "该表单已提交过" in reused.text

    after = web.get(f"{page}?done=fee_cancel", headers=PAGE).text
    assert "已撤销所选费用明细" in after
    assert after.count('form="fee-cancel-form"') == len(XIE_LINES) - 2
    total = re.search(r'id="fee-total">([0-9.]+)<', after)
    assert total and Decimal(total.group(1)) == Decimal("11811.24") - Decimal("450.00") - Decimal(
        "150.00"
    )
    everything = _send(web, f"{page}/fees/cancel", page, {"scope": "all", "confirm": "yes"})
    assert everything.status_code == 303
    emptied = web.get(page, headers=PAGE).text
    assert _cancelled_rows(web, page) == len(XIE_LINES)
    assert 'id="fee-total">0.00<' in emptied and 'id="fee-cancel-form"' not in emptied


def test_settled_fee_lines_cannot_be_cancelled_and_the_page_says_why(web: TestClient) -> None:
    sign_in(web, "bobai")
    page = _admitted_with_lines(web)
    form = web.get(page, headers=PAGE).text  # a copy of the page from before settlement
    hidden = _hidden_fields(form)
    assert (
        _post(web, f"{page}/discharge", page, discharged_at="2026-11-20T18:00").status_code == 303
    )
    assert _post(web, f"{page}/settle", page, total_charges="11811.24").status_code == 303
    late = web.post(
        f"{page}/fees/cancel",
        data={
            **hidden,
            "serials": ["1"],
            "confirm": "yes",
        },
        headers=PAGE,
        follow_redirects=False,
    )
    assert late.status_code == 409
    assert 'id="fee_cancel-error"' in late.text and "已结算的明细须先撤销结算" in late.text
    assert _cancelled_rows(web, page) == 0
    assert 'id="cancel-admission-form"' not in late.text


def test_the_cashier_cancels_an_admission_with_a_reason_once_no_lines_are_left(
    web: TestClient, container: Container
) -> None:
    sign_in(web, "bobai")
    page = _admitted_with_lines(web)
    assert 'id="cancel-admission-form"' in web.get(page, headers=PAGE).text
    no_reason = _send(web, f"{page}/cancel", page, {"confirm": "yes"})
    assert no_reason.status_code == 422 and 'id="cancel_reason-error"' in no_reason.text
    unconfirmed = _send(web, f"{page}/cancel", page, {"cancel_reason": "登记错患者"})
    assert unconfirmed.status_code == 422
    assert 'id="cancel_admission_confirm-error"' in unconfirmed.text
    assert 'value="登记错患者"' in unconfirmed.text  # the reason is kept
    with_lines = _send(
        web, f"{page}/cancel", page, {"cancel_reason": "登记错患者", "confirm": "yes"}
    )
    assert with_lines.status_code == 409
    assert (
        'id="cancel_admission-error"' in with_lines.text and "请先撤销费用明细" in with_lines.text
    )
    assert (
        _send(web, f"{page}/fees/cancel", page, {"scope": "all", "confirm": "yes"}).status_code
        == 303
    )

    hidden = _hidden_fields(web.get(page, headers=PAGE).text)
    once = {
        **hidden,
        "cancel_reason": "登记错患者",
        "confirm": "yes",
    }
    done = web.post(f"{page}/cancel", data=once, headers=PAGE, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].endswith("?done=cancel_admission")
    again = web.post(f"{page}/cancel", data=once, headers=PAGE, follow_redirects=False)
    assert again.status_code == 303
    # From an older copy of the page (another form key): already cancelled, so not an error.
    stale = web.post(
        f"{page}/cancel",
        data=once | {"form_key": "another-copy"},
        headers=PAGE,
        follow_redirects=False,
    )
    assert stale.status_code == 303
    after = web.get(f"{page}?done=cancel_admission", headers=PAGE).text
    assert 'data-state="cancelled"' in after and "已撤销入院登记" in after
    for form_id in ("fee-cancel-form", "cancel-admission-form", "fee-form", "discharge-form"):
        assert f'id="{form_id}"' not in after
    with container.uow() as uow:
        reasons = [
            e.entry.reason
            for e in uow.audit.walk()
            if e.entry.action == "hospital.cancel_admission"
        ]
    assert reasons == ["登记错患者"]


def test_the_cashier_undoes_a_discharge_before_settlement(web: TestClient) -> None:
    sign_in(web, "bobai")
    page = _admitted_with_lines(web)
    assert (
        _post(web, f"{page}/discharge", page, discharged_at="2026-11-20T18:00").status_code == 303
    )
    unconfirmed = _send(web, f"{page}/discharge/cancel", page, {})
    assert unconfirmed.status_code == 422
    assert 'id="cancel_discharge_confirm-error"' in unconfirmed.text
    form = web.get(page, headers=PAGE).text
    assert 'id="cancel-admission-form"' not in form  # discharged: undo the discharge first
    hidden = _hidden_fields(form)
    undone = _send(web, f"{page}/discharge/cancel", page, {"confirm": "yes"})
    assert undone.status_code == 303
    assert undone.headers["location"].endswith("?done=cancel_discharge")
    stale = web.post(
        f"{page}/discharge/cancel",
        data=hidden | {"form_key": "another-copy", "confirm": "yes"},
        headers=PAGE,
        follow_redirects=False,
    )
    assert stale.status_code == 303
    after = web.get(page, headers=PAGE).text
    assert 'data-state="admitted"' in after and 'id="discharge-form"' in after


def test_another_hospital_cannot_cancel_anything_of_this_encounter(web: TestClient) -> None:
    sign_in(web, "bobai")
    page = _admitted_with_lines(web)
    token = csrf_token(web, page)
    web.post("/signout", data={"csrf_token": token}, headers=PAGE)
    sign_in(web, "nhfy1")
    mine = csrf_token(web, "/hospital/check")
    for suffix, data in (
        ("/fees/cancel", {"scope": "all", "confirm": "yes"}),
        ("/cancel", {"cancel_reason": "x", "confirm": "yes"}),
        ("/discharge/cancel", {"confirm": "yes"}),
    ):
        answer = web.post(
            f"{page}{suffix}",
            data={"csrf_token": mine} | data,
            headers=PAGE,
            follow_redirects=False,
        )
        assert answer.status_code == 404, suffix
    web.post("/signout", data={"csrf_token": mine}, headers=PAGE)
    sign_in(web, "bobai")
    assert _cancelled_rows(web, page) == 0


def _encounter_reads(container: Container, encounter_id: str) -> list[tuple[str, str]]:
    with container.uow() as uow:
        return [
            (c.entry.actor, c.entry.reason)
            for c in uow.audit.walk()
            if c.entry.action == "hospital.encounter_read"
            and c.entry.subject == f"encounter:{encounter_id}"
        ]


def test_the_encounter_page_and_the_statement_audit_each_read(
    web: TestClient, container: Container
) -> None:
    sign_in(web, "nhfy1")
    encounter_id = _encounter_id(_admit(web, card=PENG_CARD))
    assert _encounter_reads(container, encounter_id) == []
    page = web.get(f"/hospital/encounters/{encounter_id}", headers=PAGE)
    assert page.status_code == 200
    assert _encounter_reads(container, encounter_id) == [("nhfy1", "")]
    statement = web.get(f"/hospital/encounters/{encounter_id}/statement", headers=PAGE)
    assert statement.status_code == 200
    assert _encounter_reads(container, encounter_id) == [
        ("nhfy1", ""),
        ("nhfy1", "结算单 statement"),
    ]


def test_the_encounter_list_and_page_show_the_admission_in_beijing_time(web: TestClient) -> None:
    sign_in(web, "bobai")
    encounter_id = _encounter_id(_admit(web, admitted_at="2026-11-20T08:05"))
    listed = web.get("/hospital/encounters", headers=PAGE).text
    row = re.search(rf"<tr><td><a href=\"/hospital/encounters/{encounter_id}\">.*?</tr>", listed)
    assert row is not None
    assert "2026-11-20 08:05" in row.group(0)  # not 00:05, the instant in UTC
    page = web.get(f"/hospital/encounters/{encounter_id}", headers=PAGE).text
    assert "2026-11-20 08:05" in page and "2026-11-20 00:05" not in page


def test_an_injury_with_the_no_third_party_promise_is_admitted_and_shows_it(
    web: TestClient,
) -> None:
    sign_in(web, "bobai")
    form = _post(web, "/hospital/check", "/hospital/check", card=XIE_CARD).text
    assert 'name="injury_third_party"' in form and "外伤无第三方责任承诺书" in form
    admitted = _admit(web, med_type="22", injury_third_party="no")
    encounter_id = _encounter_id(admitted)
    page = web.get(f"/hospital/encounters/{encounter_id}", headers=PAGE).text
    assert 'id="injury-promise"' in page and "已签署（入院登记时记录）" in page


def test_an_injury_a_third_party_is_liable_for_is_refused_and_a_bad_answer_is_asked_again(
    web: TestClient,
) -> None:
    sign_in(web, "bobai")
    liable = _admit(web, accidental_injury="yes", injury_third_party="yes")
    assert liable.status_code == 422
    assert 'id="refusal"' in liable.text and "涉及第三方责任的外伤住院医疗费用" in liable.text
    assert 'data-verdict="not_direct"' in liable.text and 'id="self-pay-form"' in liable.text
    odd = _admit(web, med_type="22", injury_third_party="maybe")
    assert odd.status_code == 422 and 'id="injury_third_party-error"' in odd.text
    assert 'id="injury_third_party-no" name="injury_third_party" value="no">' in odd.text
    assert 'id="refusal"' not in odd.text  # asked again, nothing refused or admitted
    # Not an injury: the answer is not asked for and changes nothing.
    plain = _admit(web, injury_third_party="")
    assert plain.status_code == 303
    page = web.get(plain.headers["location"].split("?")[0], headers=PAGE).text
    assert 'id="injury-promise"' not in page
