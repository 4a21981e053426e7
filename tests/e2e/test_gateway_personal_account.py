"""Personal account through the national gateway: 1101 balc, 2303/2304 acct_pay and balc,
2305 restores the balance; acct_used_flag 2 (家庭共济) pays from the bound holder's account
(refused without a binding)."""

from __future__ import annotations

from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from test_hospital_gateway import admit, call, discharge, ok, person_no, refused, settle_input

from filing_support import HENGYANG, PERSON, ZHENGZHOU
from hospital_support import (
    BOBAI_CASHIER,
    PERSON_ID,
    UNFILED_ID,
    XIE_CARD,
    XIE_LINES,
    nhsa_fee_rows,
    token_for,
)
from yidi.accounts import commands as accounts
from yidi.bootstrap import Container
from yidi.platform.tables import personal_account_movements, settlements


def _with_account(mdtrt_id: str, psn_no: str, total: str, flag: str) -> dict[str, object]:
    body = settle_input(mdtrt_id, psn_no, total)
    body["data"]["acct_used_flag"] = flag
    return body


def test_balance_in_1101_and_account_payment_in_2304_restored_by_2305(
    client: TestClient, world: None, container: Container
) -> None:
    accounts.credit(
        container.uow(),
        container.clock,
        id_number=PERSON_ID,
        year=2026,
        amount="500.00",
        reference="HN-2026-01",
        source="单位缴费划入",
        actor="test",
    )
    reply = ok(call(client, "1101", {"data": {"mdtrt_cert_type": "03", "mdtrt_cert_no": XIE_CARD}}))
    assert reply["insuinfo"][0]["balc"] == Decimal("500.00")
    psn_no = person_no(client)
    mdtrt_id = ok(admit(client, psn_no))["result"]["mdtrt_id"]
    rows = nhsa_fee_rows(XIE_LINES, mdtrt_id, psn_no, "2026-11-21 09:00:00")
    ok(call(client, "2301", {"feedetail": rows}))
    discharge(client, mdtrt_id, psn_no)

    # 家庭共济 without a binding of his: refused, nothing written.
    family = call(client, "2304", _with_account(mdtrt_id, psn_no, "11811.24", "2"))
    assert "家庭共济" in refused(family, "ACCOUNT_FAMILY_NOT_BOUND")
    bad = call(client, "2304", _with_account(mdtrt_id, psn_no, "11811.24", "7"))
    refused(bad, "ACCOUNT_USED_FLAG_INVALID")
    with container.uow() as uow:
        assert uow.session.execute(select(func.count()).select_from(settlements)).scalar() == 0

    pre = ok(call(client, "2303", _with_account(mdtrt_id, psn_no, "11811.24", "1")))["setlinfo"]
    assert pre["acct_pay"] == Decimal("500.00") and pre["balc"] == Decimal("0.00")
    info = ok(call(client, "2304", _with_account(mdtrt_id, psn_no, "11811.24", "1")))["setlinfo"]
    assert info["acct_pay"] == Decimal("500.00")
    assert info["balc"] == Decimal("0.00")
    assert info["psn_cash_pay"] == info["psn_part_amt"] - Decimal("500.00")
    reply = ok(call(client, "1101", {"data": {"mdtrt_cert_type": "03", "mdtrt_cert_no": XIE_CARD}}))
    assert reply["insuinfo"][0]["balc"] == Decimal("0.00")

    reversal = ok(
        call(
            client,
            "2305",
            {"data": {"mdtrt_id": mdtrt_id, "setl_id": info["setl_id"], "psn_no": psn_no}},
        )
    )["setlinfo"]
    assert reversal["acct_pay"] == Decimal("-500.00")
    assert reversal["balc"] == Decimal("500.00")
    reply = ok(call(client, "1101", {"data": {"mdtrt_cert_type": "03", "mdtrt_cert_no": XIE_CARD}}))
    assert reply["insuinfo"][0]["balc"] == Decimal("500.00")

    cash = ok(call(client, "2304", _with_account(mdtrt_id, psn_no, "11811.24", "0")))["setlinfo"]
    assert cash["acct_pay"] == Decimal("0.00") and cash["balc"] == Decimal("500.00")
    with container.uow() as uow:
        kinds = uow.session.execute(
            select(personal_account_movements.c.kind).order_by(personal_account_movements.c.id)
        ).scalars()
        assert list(kinds) == ["credit", "debit", "restore"]

    # The agency of his region and he himself read balance and movements; others get 404.
    for principal in (HENGYANG, PERSON):
        got = client.get(f"/api/accounts/{psn_no}/2026", headers=token_for(container, principal))
        assert got.status_code == 200, got.text
        body = got.json()
        assert body["balance"] == "500.00"
        assert [m["kind"] for m in body["movements"]] == ["credit", "debit", "restore"]
        assert body["movements"][1]["balance_after"] == "0.00"
        assert PERSON_ID not in got.text
    other = client.get(f"/api/accounts/{psn_no}/2026", headers=token_for(container, ZHENGZHOU))
    assert other.status_code == 404 and other.json()["error"]["code"] == "ACCOUNT_NOT_FOUND"


def test_rest_settlement_pays_from_the_account(
    client: TestClient, world: None, container: Container
) -> None:
    accounts.credit(
        container.uow(),
        container.clock,
        id_number=PERSON_ID,
        year=2026,
        amount="250.00",
        reference="HN-2026-02",
        source="单位缴费划入",
        actor="test",
    )
    psn_no = person_no(client)
    mdtrt_id = ok(admit(client, psn_no))["result"]["mdtrt_id"]
    rows = nhsa_fee_rows(XIE_LINES, mdtrt_id, psn_no, "2026-11-21 09:00:00")
    ok(call(client, "2301", {"feedetail": rows}))
    discharge(client, mdtrt_id, psn_no)
    headers = token_for(container, BOBAI_CASHIER) | {"Idempotency-Key": "acct-1"}
    body = {"total_charges": "11811.24", "use_personal_account": True}
    url = f"/api/hospital/encounters/{mdtrt_id}/settle"
    first = client.post(url, json=body, headers=headers)
    assert first.status_code == 200, first.text
    assert first.json()["amounts"]["personal_account_paid"] == "250.00"
    assert first.json()["account_balance_after"] == "0.00"
    retry = client.post(url, json=body, headers=headers)
    assert retry.json()["setl_id"] == first.json()["setl_id"]
    with container.uow() as uow:
        count = uow.session.execute(
            select(func.count()).select_from(personal_account_movements)
        ).scalar()
    assert count == 2  # the credit and one debit: the retry moved nothing


def _balance(client: TestClient) -> Decimal:
    reply = ok(call(client, "1101", {"data": {"mdtrt_cert_type": "03", "mdtrt_cert_no": XIE_CARD}}))
    balance: Decimal = reply["insuinfo"][0]["balc"]
    return balance


def test_2601_gives_back_and_takes_again_exactly_the_account_payment(
    client: TestClient, world: None, container: Container
) -> None:
    accounts.credit(
        container.uow(),
        container.clock,
        id_number=PERSON_ID,
        year=2026,
        amount="300.00",
        reference="HN-2026-03",
        source="单位缴费划入",
        actor="test",
    )
    psn_no = person_no(client)
    mdtrt_id = ok(admit(client, psn_no))["result"]["mdtrt_id"]
    rows = nhsa_fee_rows(XIE_LINES, mdtrt_id, psn_no, "2026-11-21 09:00:00")
    ok(call(client, "2301", {"feedetail": rows}))
    discharge(client, mdtrt_id, psn_no)
    body = _with_account(mdtrt_id, psn_no, "11811.24", "1")
    ok(call(client, "2304", body, msgid="ACCT-S1"))
    assert _balance(client) == Decimal("0.00")
    reverse = {"data": {"psn_no": psn_no, "omsgid": "ACCT-S1", "oinfno": "2304"}}
    ok(call(client, "2601", reverse, msgid="ACCT-R1"))  # 冲正 the 2304
    assert _balance(client) == Decimal("300.00")
    info = ok(call(client, "2304", body, msgid="ACCT-S2"))["setlinfo"]
    assert info["acct_pay"] == Decimal("300.00")
    cancel = {"data": {"mdtrt_id": mdtrt_id, "setl_id": info["setl_id"], "psn_no": psn_no}}
    ok(call(client, "2305", cancel, msgid="ACCT-C1"))
    assert _balance(client) == Decimal("300.00")
    undo = {"data": {"psn_no": psn_no, "omsgid": "ACCT-C1", "oinfno": "2305"}}
    ok(call(client, "2601", undo, msgid="ACCT-R2"))  # 冲正 the 2305: settled again
    assert _balance(client) == Decimal("0.00")
    with container.uow() as uow:
        kinds = uow.session.execute(
            select(personal_account_movements.c.kind).order_by(personal_account_movements.c.id)
        ).scalars()
        assert list(kinds) == ["credit", "debit", "restore", "debit", "restore", "debit"]


def _holder_balance(container: Container) -> Decimal:
    with container.uow() as uow:
        person_id = uow.hospital.person_id(UNFILED_ID)
        assert person_id is not None
        person = uow.hospital.person_by_internal_id(person_id)
        assert person is not None
        return accounts.read(uow, person_id, person, 2026).balance.yuan


def test_acct_used_flag_2_pays_from_the_bound_holders_account_and_2305_2601_follow_it(
    client: TestClient, world: None, container: Container
) -> None:
    """李某某 (职工医保) registered her spouse 谢某某 for 家庭共济: his 2304 with flag 2 takes
    from her account (his own 1101 balc stays 0.00), 2305 gives it back to her, and the 2601
    of that 2305 takes it from her again."""
    accounts.bind_family(
        container.uow(),
        container.clock,
        holder_id_number=UNFILED_ID,
        member_id_number=PERSON_ID,
        relation="spouse",
        valid_from=container.clock.today().replace(month=1, day=1),
        reference="JT-2026-001",
        actor="hengyang",
    )
    accounts.credit(
        container.uow(),
        container.clock,
        id_number=UNFILED_ID,
        year=2026,
        amount="200.00",
        reference="HN-2026-LI",
        source="单位缴费划入",
        actor="test",
    )
    psn_no = person_no(client)
    mdtrt_id = ok(admit(client, psn_no))["result"]["mdtrt_id"]
    rows = nhsa_fee_rows(XIE_LINES, mdtrt_id, psn_no, "2026-11-21 09:00:00")
    ok(call(client, "2301", {"feedetail": rows}))
    discharge(client, mdtrt_id, psn_no)
    body = _with_account(mdtrt_id, psn_no, "11811.24", "2")
    pre = ok(call(client, "2303", body))["setlinfo"]
    assert pre["acct_pay"] == Decimal("200.00") and pre["balc"] == Decimal("0.00")
    info = ok(call(client, "2304", body, msgid="FAM-S1"))["setlinfo"]
    assert info["acct_pay"] == Decimal("200.00") and info["balc"] == Decimal("0.00")
    assert info["psn_cash_pay"] == info["psn_part_amt"] - Decimal("200.00")
    assert _balance(client) == Decimal("0.00")  # his own account: never credited
    assert _holder_balance(container) == Decimal("0.00")
    cancel = {"data": {"mdtrt_id": mdtrt_id, "setl_id": info["setl_id"], "psn_no": psn_no}}
    reversal = ok(call(client, "2305", cancel, msgid="FAM-C1"))["setlinfo"]
    assert reversal["acct_pay"] == Decimal("-200.00") and reversal["balc"] == Decimal("200.00")
    assert _holder_balance(container) == Decimal("200.00")
    undo = {"data": {"psn_no": psn_no, "omsgid": "FAM-C1", "oinfno": "2305"}}
    ok(call(client, "2601", undo, msgid="FAM-R1"))
    assert _holder_balance(container) == Decimal("0.00")
    with container.uow() as uow:
        kinds = uow.session.execute(
            select(personal_account_movements.c.kind).order_by(personal_account_movements.c.id)
        ).scalars()
        assert list(kinds) == ["credit", "debit", "restore", "debit"]
