"""补充预付金: the request form on /funds/prepayment, the clearing centre's decision (REST and
page), its idempotency, its audit, and the approved amount added to the prepayment held."""

from __future__ import annotations

import datetime as dt
import re
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from yidi.bootstrap import Container
from yidi.demo.loader import load_reference_world
from yidi.funds.commands import record_settlement_fact, run_clearing, set_prepayment
from yidi.funds.model import ClearingLevel, Prepayment
from yidi.kernel.money import Money
from yidi.platform.tables import audit_log, prepayments

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "unit"))
from funds_helpers import make_fact

from web_helpers import PAGE, hash_once, sign_in

AT = dt.datetime(2026, 10, 10, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _world(container: Container, monkeypatch: pytest.MonkeyPatch) -> None:
    """Zhengzhou's insured drew 750.00 of Beijing's 1000.00 (75 %, yellow) in October 2026."""
    monkeypatch.setattr("yidi.demo.loader.hash_password", hash_once)
    load_reference_world(container.uow())
    with container.uow() as uow:
        record_settlement_fact(
            uow,
            make_fact(
                "U1", insured="410100", treatment="110101", on=dt.date(2026, 10, 9), pooled="750.00"
            ),
            AT,
        )
        uow.commit()
    set_prepayment(
        container.uow(),
        Prepayment(
            ClearingLevel.PROVINCE, "410000", "110000", Money.of("1000.00"), dt.date(2026, 1, 1)
        ),
    )
    run_clearing(container.uow(), container.clock, "2026-10", ClearingLevel.PROVINCE)


def _token(client: TestClient, username: str) -> dict[str, str]:
    body = client.post(
        "/api/auth/login", json={"username": username, "password": f"{username}-demo-2017"}
    ).json()
    return {"Authorization": f"Bearer {body['token']}"}


ASK = {"level": "province", "insured_region_code": "410000", "treatment_region_code": "110000"}


def _usage(client: TestClient, headers: dict[str, str]) -> dict[str, str]:
    rows = client.get("/api/prepayment/usage?level=province", headers=headers).json()["rows"]
    row: dict[str, str] = next(r for r in rows if r["treatment_region_code"] == "110000")
    return row


def _audited(container: Container, action: str) -> list[str]:
    with container.uow() as uow:
        return [
            row.reason
            for row in uow.session.execute(
                select(audit_log.c.reason).where(audit_log.c.action == action)
            )
        ]


def test_the_clearing_centre_approves_once_and_the_amount_is_added_to_the_prepayment(
    web: TestClient, container: Container
) -> None:
    henan, clearing = _token(web, "henan"), _token(web, "clearing")
    assert _usage(web, henan)["suggested_top_up"] == "71.43"  # 750 / (1000 + x) < 70 %
    asked = web.post("/api/prepayment/top-up-requests", json=ASK, headers=henan).json()
    number = asked["request_id"]
    listed = web.get("/api/prepayment/top-up-requests?status=requested", headers=clearing).json()
    assert [row["request_id"] for row in listed] == [number]
    assert listed[0]["status"] == "requested" and listed[0]["suggested_top_up"] == "71.43"
    # Those who ask do not decide; another region does not even see the request.
    path = f"/api/prepayment/top-up-requests/{number}/decision"
    approve = {"decision": "approve"}
    assert web.post(path, json=approve, headers=henan).status_code == 403
    assert web.get("/api/prepayment/top-up-requests", headers=_token(web, "hengyang")).json() == []
    first = web.post(path, json=approve, headers={**clearing, "Idempotency-Key": "d-1"})
    assert first.status_code == 200, first.text
    decided = first.json()
    assert decided["status"] == "approved" and decided["approved_amount"] == "71.43"
    assert decided["decided_by"] == "clearing"
    # A retry (same key, or the same decision again) answers the same and adds nothing more.
    again = web.post(path, json=approve, headers={**clearing, "Idempotency-Key": "d-1"})
    assert again.json() == decided
    assert web.post(path, json=approve, headers=clearing).json() == decided
    # A different decision on a decided request is refused.
    refused = web.post(path, json={"decision": "reject", "reason": "重复"}, headers=clearing)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == (
        "PREPAYMENT_TOP_UP_DECIDED"
    )
    usage = _usage(web, henan)
    assert usage["held"] == "1071.43" and usage["warning"] == "none"
    with container.uow() as uow:
        held = uow.session.execute(
            select(prepayments.c.amount_fen, prepayments.c.effective_on).where(
                prepayments.c.treatment_region_code == "110000"
            )
        ).all()
    assert sorted(held) == [(100000, dt.date(2026, 1, 1)), (107143, dt.date(2026, 11, 20))]
    assert _audited(container, "prepayment.top_up_approved") == [
        "批准补充71.43元，预付金增至1071.43元"
    ]


def test_a_rejection_needs_a_reason_and_changes_no_prepayment(
    web: TestClient, container: Container
) -> None:
    henan, clearing = _token(web, "henan"), _token(web, "clearing")
    number = web.post("/api/prepayment/top-up-requests", json=ASK, headers=henan).json()[
        "request_id"
    ]
    path = f"/api/prepayment/top-up-requests/{number}/decision"
    bare = web.post(path, json={"decision": "reject"}, headers=clearing)
    assert bare.status_code == 422
    assert bare.json()["error"]["code"] == "PREPAYMENT_TOP_UP_REASON_REQUIRED"
    for bad in ({"decision": "approve", "amount": "0"}, {"decision": "maybe"}):
        assert web.post(path, json=bad, headers=clearing).status_code == 422
    missing = web.post(
        "/api/prepayment/top-up-requests/999999/decision", json=bad, headers=clearing
    )
    assert missing.status_code == 422  # the body is checked first
    gone = web.post(
        "/api/prepayment/top-up-requests/999999/decision",
        json={"decision": "approve"},
        headers=clearing,
    )
    assert gone.status_code == 404
    rejected = web.post(
        path, json={"decision": "reject", "reason": "本月清算后再议"}, headers=clearing
    ).json()
    assert rejected["status"] == "rejected" and rejected["approved_amount"] is None
    assert _usage(web, henan)["held"] == "1000.00"
    assert _audited(container, "prepayment.top_up_rejected") == ["驳回：本月清算后再议"]


def _form_token(html: str, action: str) -> dict[str, str]:
    form = html.split(f'action="{action}"', 1)[1].split("</form>", 1)[0]
    return dict(re.findall(r'name="([a-z_]+)" value="([^"]*)"', form))


def test_the_page_form_requests_the_prefilled_amount_and_the_clearing_centre_decides_it(
    web: TestClient, container: Container
) -> None:
    sign_in(web, "henan")
    page = web.get("/funds/prepayment", headers=PAGE).text
    fields = _form_token(page, "/funds/prepayment/top-up")
    assert fields["amount"] == "71.43"  # prefilled: back under the yellow line
    assert fields["insured_region_code"] == "410000"
    sent = web.post("/funds/prepayment/top-up", data=fields, headers=PAGE, follow_redirects=False)
    assert sent.status_code == 303, sent.text
    # The same form submitted twice is one request.
    twice = web.post("/funds/prepayment/top-up", data=fields, headers=PAGE, follow_redirects=False)
    assert twice.headers["location"] == sent.headers["location"]
    listing = web.get(sent.headers["location"], headers=PAGE).text
    assert "等待清算中心审批" in listing and listing.count('class="state status-requested"') == 1
    assert "/decision" not in listing  # the province cannot decide
    sign_in(web, "clearing")
    desk = web.get("/clearing", headers=PAGE).text
    assert "/funds/prepayment/top-ups" in desk
    listing = web.get("/funds/prepayment/top-ups", headers=PAGE).text
    number = re.search(r'id="top-up-(\d+)"', listing)
    assert number
    action = f"/funds/prepayment/top-ups/{number.group(1)}/decision"
    decision = _form_token(listing, action)
    assert decision["amount"] == "71.43"
    bad = web.post(action, data={**decision, "amount": "-3", "decision": "approve"}, headers=PAGE)
    assert bad.status_code == 422 and "大于0" in bad.text
    done = web.post(
        action,
        data={**decision, "amount": "100.00", "decision": "approve"},
        headers=PAGE,
        follow_redirects=False,
    )
    assert done.status_code == 303
    shown = web.get(done.headers["location"], headers=PAGE).text
    assert 'class="state status-approved"' in shown and "100.00" in shown
    sign_in(web, "henan")
    usage = web.get("/funds/prepayment", headers=PAGE).text
    assert "1,100.00" in usage.split('id="prepayment-usage"', 1)[1]
