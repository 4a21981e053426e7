"""The cashier workstation over HTTP: the card field focused with access keys, the patient
banner, departments and diagnoses picked by name, fee lines pasted from the HIS (tabs) or
uploaded as XLSX with every faulty row listed before anything is saved, the amount due
first, the receipt with payment method and change, the fund settlement list, the reversal
slip, one red answer on a refusal and the self-pay registration."""

from __future__ import annotations

import io
import re
import sys
from decimal import Decimal
from pathlib import Path

import httpx2
import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook
from sqlalchemy import func, select

from hospital_support import UNFILED_CARD, XIE_CARD, XIE_LINES
from yidi.bootstrap import Container
from yidi.entrypoints.web.hospital_pages import AMOUNT_DUE, AMOUNT_GROUPS
from yidi.platform.tables import audit_log
from yidi.settlement.amounts import AMOUNT_NAMES

sys.path.insert(0, str(Path(__file__).parent))
from web_helpers import PAGE, csrf_token, sign_in

pytestmark = pytest.mark.usefixtures("hospital_demo_world")


def _post(web: TestClient, path: str, page: str, **data: str) -> httpx2.Response:
    token = csrf_token(web, page)
    return web.post(path, data={"csrf_token": token, **data}, headers=PAGE, follow_redirects=False)


def _audits(container: Container, action: str) -> int:
    with container.uow() as uow:
        return int(
            uow.session.execute(
                select(func.count()).select_from(audit_log).where(audit_log.c.action == action)
            ).scalar_one()
        )


def _rows(when: str = "2026-11-20 11:00") -> list[list[str]]:
    out = []
    for index, (code, name, quantity, price) in enumerate(XIE_LINES, start=1):
        amount = (Decimal(quantity) * Decimal(price)).quantize(Decimal("0.01"))
        out.append([str(index), code, name, quantity, price, str(amount), when])
    return out


def _admit_by_name(web: TestClient) -> str:
    admitted = _post(
        web,
        "/hospital/encounters",
        "/hospital/check",
        card=XIE_CARD,
        department="A04.01",
        admitted_at="2026-11-20T08:00",
        diagnosis_main="K80.100 胆囊结石伴有其他胆囊炎",
        diagnosis_codes="I10",
        med_type="21",
    )
    assert admitted.status_code == 303, admitted.text[-2000:]
    match = re.fullmatch(
        r"/hospital/encounters/([A-Z0-9]+)\?done=admit", admitted.headers["location"]
    )
    assert match
    return match.group(1)


def test_every_amount_is_shown_once_the_amount_due_first() -> None:
    grouped = [name for _, names in AMOUNT_GROUPS for name in names]
    assert sorted([AMOUNT_DUE, *grouped]) == sorted(AMOUNT_NAMES)
    assert len(grouped) == len(set(grouped))


def test_the_check_page_is_keyboard_first(web: TestClient) -> None:
    sign_in(web, "bobai")
    page = web.get("/hospital/check", headers=PAGE).text
    card = re.search(r'<input id="card"[^>]*>', page)
    assert card and "autofocus" in card.group(0) and 'accesskey="c"' in card.group(0)
    assert 'id="shortcut-legend"' in page and "<kbd>Alt</kbd>" in page
    checked = _post(web, "/hospital/check", "/hospital/check", card=XIE_CARD)
    # After the check the department is next: focused, offered by name.
    department = re.search(r'<select id="department"[^>]*>', checked.text)
    assert department and "autofocus" in department.group(0)
    assert "普通外科专业（A04.01）" in checked.text
    assert 'list="diagnosis-list"' in checked.text and "I10 特发性（原发性）高血压" in checked.text
    banner = checked.text[checked.text.index('id="patient-banner"') :]
    assert "谢某某" in banner and "430421********" in banner and 'data-filing="filed"' in banner


def test_pick_by_name_paste_settle_receipt_list_and_reversal_slip(
    container: Container, web: TestClient
) -> None:
    sign_in(web, "bobai")
    encounter_id = _admit_by_name(web)
    page = f"/hospital/encounters/{encounter_id}"
    shown = web.get(page, headers=PAGE).text
    assert "普通外科专业" in shown and "K80.100、I10" in shown
    assert 'id="patient-banner"' in shown
    fee_box = re.search(r'<textarea id="fee_text"[^>]*>', shown)
    assert fee_box and "autofocus" in fee_box.group(0)  # the next step: fee lines

    # A HIS paste (tab-separated) with two faulty rows: both listed, nothing saved.
    rows = _rows()
    rows[1][3] = "ten"
    rows[4][6] = "tomorrow"
    faulty = "\n".join("\t".join(r) for r in rows)
    refused = _post(web, f"{page}/fees", page, fee_text=faulty)
    assert refused.status_code == 422
    assert "第 2 行" in refused.text and "第 5 行" in refused.text
    assert "共 2 行有误" in refused.text and "尚未上传费用明细" in refused.text

    # The same rows as an XLSX file.
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["流水号", "目录编码", "名称", "数量", "单价", "金额", "发生时间"])
    for row in _rows():
        sheet.append(row)
    data = io.BytesIO()
    book.save(data)
    uploaded = web.post(
        f"{page}/fees",
        data={"csrf_token": csrf_token(web, page), "form_key": "x1"},
        files={"file": ("fees.xlsx", data.getvalue(), "application/octet-stream")},
        headers=PAGE,
    )
    assert uploaded.status_code == 200, uploaded.text[-1500:]
    assert uploaded.text.count("data-uploaded") == len(XIE_LINES)
    assert "11811.24" in uploaded.text

    assert (
        _post(web, f"{page}/discharge", page, discharged_at="2026-11-20T18:00").status_code == 303
    )
    assert _post(web, f"{page}/settle", page, total_charges="11811.24").status_code == 303
    settled = web.get(page, headers=PAGE).text
    due_match = re.search(r'id="settlement-due-value">([0-9.]+)<', settled)
    assert due_match
    due = Decimal(due_match.group(1))
    # The amount due comes before every other amount, and the payment form is focused.
    assert settled.index('id="settlement-due"') < settled.index('data-amount="total_charges"')
    tendered_box = re.search(r'<input id="tendered"[^>]*>', settled)
    assert tendered_box and "autofocus" in tendered_box.group(0)
    settlement_id = re.search(r'id="settlement-id">([A-Z0-9]+)<', settled)
    assert settlement_id
    base = f"{page}/settlements/{settlement_id.group(1)}"

    tendered = (due + Decimal("100.50")).quantize(Decimal("0.01"))
    receipt = web.get(f"{base}/receipt?method=cash&tendered={tendered}", headers=PAGE)
    assert receipt.status_code == 200
    assert re.search(r'id="receipt-change">100.50<', receipt.text)
    assert re.search(rf'id="receipt-paid">{tendered}<', receipt.text)
    card = web.get(f"{base}/receipt?method=bank_card", headers=PAGE)
    assert 'data-method="bank_card"' in card.text
    assert re.search(rf'id="receipt-paid">{due:.2f}<', card.text)
    short = web.get(f"{base}/receipt?method=cash&tendered=0.01", headers=PAGE)
    assert short.status_code == (422 if due > Decimal("0.01") else 200)
    bad = web.get(f"{base}/receipt?method=cash&tendered=lots", headers=PAGE)
    assert bad.status_code == 422 and 'id="tendered-error"' in bad.text

    listing = web.get(f"{base}/settlement-list", headers=PAGE)
    assert listing.status_code == 200
    text = listing.text
    assert "医疗保障基金结算清单" in text and "430421********" in text
    assert "一、基本信息" in text and "二、住院诊疗信息" in text and "三、医疗收费信息" in text
    assert re.search(r'id="slist-total">11811.24<', text)
    assert "K80.100" in text and "普通外科专业" in text and 'data-blank="1"' in text

    not_yet = web.get(f"{base}/reversal-slip", headers=PAGE)
    assert not_yet.status_code == 200 and 'id="not-reversed"' in not_yet.text
    reverse = f"{base}/reverse"
    assert _post(web, reverse, page, confirm="yes").status_code == 303
    after = web.get(f"{page}?done=reverse", headers=PAGE).text
    slip_link = re.search(r'id="reversal-slip-link" href="([^"]+)"', after)
    assert slip_link
    slip = web.get(slip_link.group(1), headers=PAGE)
    assert slip.status_code == 200
    assert settlement_id.group(1) in slip.text and "撤销结算凭证" in slip.text
    assert f"应退还患者现金 {due:.2f} 元" in slip.text
    # The slip is also found by the reversed settlement's own id.
    assert web.get(f"{base}/reversal-slip", headers=PAGE).status_code == 200


def test_a_refused_patient_is_registered_as_self_pay(container: Container, web: TestClient) -> None:
    sign_in(web, "bobai")
    refused = _post(web, "/hospital/check", "/hospital/check", card=UNFILED_CARD)
    assert "可以直接结算" not in refused.text and 'data-verdict="not_direct"' in refused.text
    assert 'id="self-pay-form"' in refused.text and 'id="admit-form"' not in refused.text
    code = re.search(r'name="refusal_code" value="([A-Z_]+)"', refused.text)
    assert code and code.group(1) == "FILING_NOT_VALID"
    before = _audits(container, "hospital.self_pay_registered")
    notice = _post(
        web, "/hospital/self-pay", "/hospital/check", card=UNFILED_CARD, refusal_code=code.group(1)
    )
    assert notice.status_code == 200
    assert "自费就医告知单" in notice.text and "0734-6653009" in notice.text
    assert 'data-filing="unfiled"' in notice.text and "住院收据原件" in notice.text
    assert _audits(container, "hospital.self_pay_registered") == before + 1
    no_code = _post(web, "/hospital/self-pay", "/hospital/check", card=UNFILED_CARD)
    assert no_code.status_code == 422 and 'id="card-error"' in no_code.text
    forged = web.post(
        "/hospital/self-pay",
        data={"card": UNFILED_CARD, "refusal_code": "FILING_NOT_VALID", "csrf_token": "x"},
        headers=PAGE,
    )
    assert forged.status_code == 403


def test_the_print_pages_are_the_own_hospitals_only(web: TestClient) -> None:
    sign_in(web, "bobai")
    encounter_id = _admit_by_name(web)
    page = f"/hospital/encounters/{encounter_id}"
    for tail in ("receipt", "settlement-list", "reversal-slip"):
        missing = web.get(f"{page}/settlements/S000NONE/{tail}", headers=PAGE)
        assert missing.status_code == 404
    web.post("/signout", data={"csrf_token": csrf_token(web, "/hospital/check")}, headers=PAGE)
    sign_in(web, "nhfy1")
    theirs = web.get(f"{page}/settlements/S000NONE/receipt", headers=PAGE)
    assert theirs.status_code == 404
