"""2205 门诊费用明细信息撤销 by 收费批次号: the visit of ``test_hospital_gateway_outpatient``
uploaded in two charge batches (2204 ``chrg_bchno``); 2205 with one batch withdraws only that
batch's unsettled lines, ``"0000"`` (or no batch) every unsettled line of the visit.

Field source: the 2205 request of real HIS clients, ``mdtrt_id`` / ``chrg_bchno`` / ``psn_no`` /
``exp_content``, ``"0000"`` for every unsettled line (code-index ids 70235002796 and 8030132510).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from test_hospital_gateway import call, ok, person_no, refused
from test_hospital_gateway_outpatient import (
    fee_rows,
    outpatient_settle_input,
    register,
    visit_data,
)

from yidi.bootstrap import Container
from yidi.platform.tables import fee_lines


def _two_batches(client: TestClient) -> tuple[str, str, list[dict[str, Any]]]:
    psn_no = person_no(client)
    mdtrt_id = ok(register(client, psn_no))["data"]["mdtrt_id"]
    ok(call(client, "2203", visit_data(mdtrt_id, psn_no)))
    rows = fee_rows(mdtrt_id, psn_no)
    for row in rows[3:]:
        row["chrg_bchno"] = "CB0002"
    ok(call(client, "2204", {"feedetail": rows[:3]}))  # MZ1–MZ3 in CB0001
    ok(call(client, "2204", {"feedetail": rows[3:]}))  # MZ4–MZ5 in CB0002
    return psn_no, mdtrt_id, rows


def _withdraw(client: TestClient, mdtrt_id: str, psn_no: str, batch: str | None, **kw: Any) -> Any:
    data = {"mdtrt_id": mdtrt_id, "psn_no": psn_no}
    if batch is not None:
        data["chrg_bchno"] = batch
    return call(client, "2205", {"data": data}, **kw)


def _active(container: Container, mdtrt_id: str) -> list[tuple[str, str | None]]:
    with container.uow() as uow:
        rows = uow.session.execute(
            select(fee_lines.c.serial, fee_lines.c.charge_batch)
            .where(fee_lines.c.encounter_id == mdtrt_id, fee_lines.c.cancelled.is_(False))
            .order_by(fee_lines.c.serial)
        ).all()
    return [tuple(row) for row in rows]


def _total(rows: list[dict[str, Any]]) -> str:
    return str(sum(Decimal(row["det_item_fee_sumamt"]) for row in rows))


def test_2205_withdraws_one_charge_batch_and_the_visit_settles_the_other(
    client: TestClient, world: None, container: Container
) -> None:
    psn_no, mdtrt_id, rows = _two_batches(client)
    assert _active(container, mdtrt_id) == [
        ("MZ1", "CB0001"),
        ("MZ2", "CB0001"),
        ("MZ3", "CB0001"),
        ("MZ4", "CB0002"),
        ("MZ5", "CB0002"),
    ]
    assert ok(_withdraw(client, mdtrt_id, psn_no, "CB0002", msgid="W-1")) == {}
    assert ok(_withdraw(client, mdtrt_id, psn_no, "CB0002", msgid="W-1")) == {}  # resent
    assert _active(container, mdtrt_id) == [("MZ1", "CB0001"), ("MZ2", "CB0001"), ("MZ3", "CB0001")]
    # The batch is gone: withdrawing it again (a new msgid) or an unknown one is refused.
    refused(_withdraw(client, mdtrt_id, psn_no, "CB0002"), "FEE_BATCH_NOT_FOUND")
    refused(_withdraw(client, mdtrt_id, psn_no, "CB9999"), "FEE_BATCH_NOT_FOUND")
    # The total settled is the first batch's; the second can be uploaded again.
    wrong = outpatient_settle_input(mdtrt_id, psn_no, _total(rows))
    refused(call(client, "2206", wrong), "MEDFEE_SUMAMT_MISMATCH")
    first = _total(rows[:3])
    pre = ok(call(client, "2206", outpatient_settle_input(mdtrt_id, psn_no, first)))
    assert pre["setlinfo"]["medfee_sumamt"] == Decimal(first)
    ok(call(client, "2204", {"feedetail": rows[3:]}))
    assert len(_active(container, mdtrt_id)) == 5


def test_2205_without_a_batch_or_with_0000_withdraws_every_unsettled_line(
    client: TestClient, world: None, container: Container
) -> None:
    psn_no, mdtrt_id, rows = _two_batches(client)
    ok(_withdraw(client, mdtrt_id, psn_no, "0000"))
    assert _active(container, mdtrt_id) == []
    ok(call(client, "2204", {"feedetail": rows}))
    ok(_withdraw(client, mdtrt_id, psn_no, None))
    assert _active(container, mdtrt_id) == []
    # A settled visit's lines are not withdrawn: settle first, then 2205 is refused.
    ok(call(client, "2204", {"feedetail": rows[:3]}))
    ok(call(client, "2207", outpatient_settle_input(mdtrt_id, psn_no, _total(rows[:3]))))
    before = _active(container, mdtrt_id)
    reply = _withdraw(client, mdtrt_id, psn_no, "CB0001")
    assert reply["infcode"] == -1
    assert _active(container, mdtrt_id) == before
