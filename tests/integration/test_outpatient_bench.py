"""The short form of ``bench/outpatient_gateway_bench.py``: a few visits and purchases by two
clients against ``yidi serve`` and the floor on SQLite. Every visit settles, the payers add up
to the total, and yidi's database holds exactly the settlements the bench counted — so the
bench cannot measure refusals as if they were settlements. And the driver itself counts only
balanced settlements and reports everything else as failures.
"""

from __future__ import annotations

import sys
import threading
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import outpatient_gateway_bench as bench
from gateway_load import free_port

from yidi.platform.db import make_engine
from yidi.platform.tables import settlements

VISITS = 3


def _fen(value: Decimal) -> int:
    return int(value * 100)


def test_a_few_visits_and_purchases_all_settle_and_the_money_balances(tmp_path: Path) -> None:
    args = bench.parser().parse_args(
        [
            *("--visits", str(VISITS), "--clients", "2", "--rounds", "1", "--patients", "2"),
            *("--warm-up", "1", "--kinds", "outpatient,pharmacy", "--work", str(tmp_path)),
            *("--port", str(free_port()), "--floor-port", str(free_port())),
        ]
    )
    results, lines = bench.run(args)
    assert set(results) == {"outpatient", "pharmacy"}
    totals = {"outpatient": bench.VISIT_TOTAL, "pharmacy": bench.PURCHASE_TOTAL}
    counted: dict[str, set[str]] = {}
    for kind, sides in results.items():
        for side in ("yidi", "floor"):
            (one,) = getattr(sides, side)
            assert one.failures == Counter(), (kind, side, one.failure_samples)
            assert one.settled == one.attempted == VISITS == len(one.latencies_ms)
            paid = one.paid
            assert paid["medfee_sumamt"] == VISITS * _fen(totals[kind])
            assert (
                paid["fund_pay_sumamt"] + paid["acct_pay"] + paid["psn_cash_pay"]
                == paid["medfee_sumamt"]
            )
            assert one.per_second > 0 and one.cpu_s >= 0
        counted[kind] = set(sides.yidi[0].setl_ids)
    # Credited accounts pay the purchases: the account path is measured, not only cash.
    assert results["pharmacy"].yidi[0].paid["acct_pay"] > 0
    assert any("yidi / floor: throughput" in line for line in lines)

    # yidi's own database: each counted settlement is stored once, active, balanced to the fen.
    engine = make_engine(f"sqlite:///{tmp_path / 'yidi.sqlite3'}")
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(
                    settlements.c.id,
                    settlements.c.kind,
                    settlements.c.state,
                    settlements.c.hospital_code,
                    settlements.c.total_charges_fen,
                    settlements.c.fund_paid_total_fen,
                    settlements.c.patient_share_fen,
                    settlements.c.personal_account_paid_fen,
                    settlements.c.cash_paid_fen,
                )
            ).all()
    finally:
        engine.dispose()
    by_institution = {"outpatient": bench.HOSPITAL, "pharmacy": bench.PHARMACY}
    for kind, ids in counted.items():
        stored = {row.id: row for row in rows if row.hospital_code == by_institution[kind]}
        warm_up = len(stored) - len(ids)
        assert ids <= set(stored) and warm_up == 1, (kind, len(stored), len(ids))
        for setl_id in ids:
            row = stored[setl_id]
            assert (row.kind, row.state) == ("settle", "active")
            assert row.total_charges_fen == _fen(totals[kind])
            assert row.fund_paid_total_fen + row.patient_share_fen == row.total_charges_fen
            assert row.personal_account_paid_fen + row.cash_paid_fen == row.patient_share_fen


def test_the_driver_counts_only_balanced_settlements_and_reports_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Refused calls, unbalanced payers and broken replies are failures with their codes; the
    rate and the latencies are of settled visits only. (No server: the visit is replaced.)"""
    outcomes = iter(["ok", "refused", "unbalanced", "broken", "ok", "refused"])
    good = {"setl_id": "S1", "medfee_sumamt": "10.00", "fund_pay_sumamt": "6.00"}
    good |= {"psn_part_amt": "4.00", "acct_pay": "1.00", "psn_cash_pay": "3.00"}
    lock = threading.Lock()

    def visit(_client: Any, _port: int, _card: str, _psn_no: str, _serial: int) -> dict[str, Any]:
        with lock:
            outcome = next(outcomes)
        if outcome == "refused":
            raise bench.VisitFailed("2207", "FILING_NOT_VALID", "未备案")
        if outcome == "unbalanced":
            bench.check_payers("2207", good | {"psn_cash_pay": "2.99"}, Decimal("10.00"))
        if outcome == "broken":
            return {}["setlinfo"]  # type: ignore[no-any-return]
        bench.check_payers("2207", good, Decimal("10.00"))
        return good

    monkeypatch.setitem(bench.KINDS, "fake", (visit, "H0", {}))
    one = bench.run_round(free_port(), "fake", [["C1"], ["C2"]], {"C1": "P1", "C2": "P2"}, 6)
    assert one.settled == 2 and one.attempted == 6 and len(one.latencies_ms) == 2
    assert one.failures == Counter(
        {"2207 FILING_NOT_VALID": 2, "2207 PAYERS_DO_NOT_BALANCE": 1, "error KeyError": 1}
    )
    assert one.per_second == pytest.approx(2 / one.elapsed_s)
    assert one.paid["psn_cash_pay"] == 600 and one.paid["medfee_sumamt"] == 2000
    report = "\n".join(bench.report("fake", bench.Sides([one], [one]), 2))
    assert "FAILURES" in report and "FILING_NOT_VALID" in report and "settled 2/6" in report
