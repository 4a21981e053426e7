"""2601 冲正 of a pharmacy's 2102 (药店结算) and 2103 (药店结算撤销), as of a 2207 and a 2208:
the golden purchase of ``test_pharmacy_gateway`` (173.20, 100.00 from the personal account),
its answer lost, reversed by msgid; the ledger nets to zero, the year-to-date totals and the
personal account come back; a 2601 of the 2103 settles the purchase again.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from test_hospital_gateway import call, ok, person_no, refused
from test_hospital_gateway_outpatient import _visit_ready_to_settle, outpatient_settle_input
from test_pharmacy_gateway import PHARMACY, counts, credit, pharmacy_call, purchase

from hospital_support import XIE_CARD
from yidi.bootstrap import Container
from yidi.funds.model import ledger_is_balanced
from yidi.platform.tables import encounters, settlements, year_to_date


def _reverse(client: TestClient, psn_no: str, omsgid: str, oinfno: str, **kw: Any) -> Any:
    return pharmacy_call(
        client, "2601", {"data": {"psn_no": psn_no, "omsgid": omsgid, "oinfno": oinfno}}, **kw
    )


def _balance(client: TestClient) -> Decimal:
    output = ok(
        call(
            client,
            "1101",
            {"data": {"mdtrt_cert_type": "03", "mdtrt_cert_no": XIE_CARD, "card_sn": "X1"}},
            hospital=PHARMACY,
        )
    )
    balance: Decimal = output["insuinfo"][0]["balc"]
    return balance


def _net_by_account(container: Container) -> dict[str, int]:
    with container.uow() as uow:
        net: Counter[str] = Counter()
        for entry in uow.funds.entries():
            net[str(entry.account)] += entry.signed_fen
    return {account: fen for account, fen in net.items() if fen}


def _year_to_date(container: Container) -> list[tuple[Any, ...]]:
    with container.uow() as uow:
        return [tuple(row) for row in uow.session.execute(select(year_to_date)).all()]


def _buy_and_lose_the_reply(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, psn_no: str, msgid: str
) -> None:
    """The server commits the 2102, then the answer never reaches the pharmacy."""
    from yidi.integrations.nhsa import adapter

    def connection_dropped(view: Any) -> Any:
        raise ConnectionResetError("connection reset by peer")

    with monkeypatch.context() as patch:
        patch.setattr(adapter, "output_2304", connection_dropped)
        reply = pharmacy_call(client, "2102", purchase(psn_no), msgid=msgid)
    assert reply["infcode"] == -1 and reply["output"] is None  # all the pharmacy sees


def test_a_lost_2102_answer_is_reversed_with_2601_and_everything_comes_back(
    client: TestClient, world: None, container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    credit(container)
    psn_no = person_no(client, hospital=PHARMACY)
    ytd_before = _year_to_date(container)
    assert _balance(client) == Decimal("100.00")
    _buy_and_lose_the_reply(client, monkeypatch, psn_no, "LOST-2102")
    assert _balance(client) == Decimal("0.00")  # committed on the server
    # The pharmacy scheme of the golden case counts nothing into the year (its funds pay 0).
    settled_ytd = _year_to_date(container)
    assert ytd_before == [] and [row[3:] for row in settled_ytd] == [(0, 0, 0, 0, 0, 0, 0, "{}")]

    first = _reverse(client, psn_no, "LOST-2102", "2102", msgid="RVS-2102")
    assert ok(first) == {}
    # Resent with its own msgid: the same answer; another 2601 of the omsgid changes nothing.
    assert ok(_reverse(client, psn_no, "LOST-2102", "2102", msgid="RVS-2102")) == {}
    assert ok(_reverse(client, psn_no, "LOST-2102", "2102", msgid="RVS-2102-B")) == {}

    with container.uow() as uow:
        rows = uow.session.execute(
            select(settlements.c.kind, settlements.c.state, settlements.c.total_charges_fen)
            .join(encounters, encounters.c.id == settlements.c.encounter_id)
            .where(encounters.c.hospital_code == PHARMACY)
            .order_by(settlements.c.kind)
        ).all()
        (state,) = uow.session.execute(
            select(encounters.c.state).where(encounters.c.hospital_code == PHARMACY)
        ).one()
        balanced = ledger_is_balanced(uow.funds.entries())
        kinds = {fact.clearing_kind.value for fact in uow.funds.facts()}
    assert [tuple(row) for row in rows] == [
        ("reversal", "done", -17320),
        ("settle", "reversed", 17320),
    ]
    assert state == "cancelled" and kinds == {"41"}
    assert balanced and _net_by_account(container) == {}
    assert _balance(client) == Decimal("100.00")  # the personal account given back
    assert _year_to_date(container) == settled_ytd

    # The original msgid is answered MESSAGE_REVERSED; a new 2102 buys the same again.
    resent = pharmacy_call(client, "2102", purchase(psn_no), msgid="LOST-2102")
    assert "2601" in refused(resent, "MESSAGE_REVERSED")
    anew = ok(pharmacy_call(client, "2102", purchase(psn_no), msgid="NEW-2102"))["setlinfo"]
    assert (anew["acct_pay"], anew["psn_cash_pay"]) == (Decimal("100.00"), Decimal("73.20"))


def test_2601_of_a_2103_settles_the_purchase_again(
    client: TestClient, world: None, container: Container
) -> None:
    credit(container)
    psn_no = person_no(client, hospital=PHARMACY)
    info = ok(pharmacy_call(client, "2102", purchase(psn_no), msgid="BUY-1"))["setlinfo"]
    ref = {"data": {"setl_id": info["setl_id"], "mdtrt_id": info["mdtrt_id"], "psn_no": psn_no}}
    ok(pharmacy_call(client, "2103", ref, msgid="CANCEL-1"))
    assert _balance(client) == Decimal("100.00")

    assert ok(_reverse(client, psn_no, "CANCEL-1", "2103", msgid="RVS-2103")) == {}
    with container.uow() as uow:
        (state,) = uow.session.execute(
            select(encounters.c.state).where(encounters.c.id == info["mdtrt_id"])
        ).one()
        active = uow.session.execute(
            select(settlements.c.id, settlements.c.total_charges_fen).where(
                settlements.c.encounter_id == info["mdtrt_id"],
                settlements.c.kind == "settle",
                settlements.c.state == "active",
            )
        ).all()
        balanced = ledger_is_balanced(uow.funds.entries())
        restored = uow.funds.fact(active[0].id)
    assert state == "settled"
    assert len(active) == 1 and active[0].id != info["setl_id"]
    assert active[0].total_charges_fen == 17320
    assert restored is not None and restored.clearing_kind.value == "41"
    assert balanced
    assert _balance(client) == Decimal("0.00")  # the account pays the purchase again
    # A second 2103 of the restored settlement is an ordinary cancellation.
    again = {"data": {**ref["data"], "setl_id": active[0].id}}
    ok(pharmacy_call(client, "2103", again, msgid="CANCEL-2"))
    assert _balance(client) == Decimal("100.00")


def test_2601_of_a_purchase_names_a_pharmacy_transaction_and_wrong_kinds_change_nothing(
    client: TestClient, world: None, container: Container
) -> None:
    credit(container)
    buyer = person_no(client, hospital=PHARMACY)
    info = ok(pharmacy_call(client, "2102", purchase(buyer), msgid="BUY-1"))["setlinfo"]
    ref = {"data": {"setl_id": info["setl_id"], "mdtrt_id": info["mdtrt_id"], "psn_no": buyer}}
    psn_no, visit = _visit_ready_to_settle(client)
    ok(call(client, "2207", outpatient_settle_input(visit, psn_no, "408.60"), msgid="VISIT-1"))
    before = counts(container)
    for oinfno in ("2207", "2304", "2103", "2208", "2305"):
        refused(_reverse(client, buyer, "BUY-1", oinfno), "REVERSAL_OINFNO_MISMATCH")
    # A visit's settlement is not a purchase; at the hospital that settled it neither.
    refused(
        call(
            client,
            "2601",
            {"data": {"psn_no": psn_no, "omsgid": "VISIT-1", "oinfno": "2102"}},
        ),
        "REVERSAL_OINFNO_MISMATCH",
    )
    ok(pharmacy_call(client, "2103", ref, msgid="CANCEL-1"))
    after_cancel = counts(container)
    refused(_reverse(client, buyer, "CANCEL-1", "2102"), "REVERSAL_OINFNO_MISMATCH")
    refused(_reverse(client, buyer, "CANCEL-1", "2208"), "REVERSAL_OINFNO_MISMATCH")
    assert counts(container) == after_cancel and after_cancel[2] == before[2] + 1
