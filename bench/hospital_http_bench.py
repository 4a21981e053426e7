"""Direct settlement through the HTTP API on PostgreSQL, beside its floor and pgbench.

What one "claim" is: admit (POST /api/hospital/encounters), upload 300 fee lines in one
batch (POST …/fees), discharge, settle (POST …/settle) — all as the 南华大学附属第一医院
cashier, for Ningxia patients filed for 衡阳 (so every admission runs the filing check).
Reported: settlements per second over the whole run, and p50/p99 latency of the fee
upload, the settlement, and upload + settle together.

The server is ``yidi serve`` (uvicorn, one process) on loopback, on its own PostgreSQL
schema (``search_path``) so the test database is left alone. The **floor** is
``settle_floor_app.py`` (same transport, same database server, its own schema: the same four
requests doing only the writes any implementation must do, see its docstring); the two are
run in alternating rounds of the same command, so they share the machine's load, and the
ratio yidi / floor is printed. Then the **audit chain** under 8 and 32 clients: each client
runs transactions of one audit append and a commit through yidi's unit of work (the head
row locked until the commit, as in every write), beside the same transactions inserting
the same row into an unchained table; if the head row were the limit, the chained rate
would stay flat while the unchained one grows. pgbench last (``--pgbench-seconds 0``: not).

Run:
  PYTHONPATH=src python bench/hospital_http_bench.py --claims 200 --clients 4 \
      --database-url postgresql+psycopg://yidi@127.0.0.1:55434/yidi_settle_fast
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from gateway_load import Server, fresh_schema, load_filed_patients, schema_url  # noqa: E402
from sqlalchemy import Column, MetaData, String, Table, insert  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from yidi.bootstrap import build_container  # noqa: E402
from yidi.catalog.files import sample_catalog  # noqa: E402
from yidi.kernel.audit import audit_entry  # noqa: E402
from yidi.kernel.clock import CHINA_TZ  # noqa: E402
from yidi.platform.db import make_engine  # noqa: E402
from yidi.settings import Settings  # noqa: E402

BASE_URL = "postgresql+psycopg://yidi@127.0.0.1:55433/yidi_hospital"
SCHEMA = "bench_hospital"
FLOOR_SCHEMA = "bench_hospital_floor"
PGBENCH = "/usr/lib/postgresql/15/bin/pgbench"


def prepare(base_url: str, url: str, persons: int) -> list[str]:
    """A fresh schema with the demo world, sample catalogues and filed Ningxia patients."""
    fresh_schema(base_url, SCHEMA)
    return load_patients(url, persons)


class FloorServer:
    """``settle_floor_app.py`` in its own process, like ``yidi serve``."""

    def __init__(self, url: str, port: int) -> None:
        self.url, self.port = url, port
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> None:
        command = [sys.executable, str(ROOT / "bench" / "settle_floor_app.py")]
        self.process = subprocess.Popen([*command, "--port", str(self.port), "--url", self.url])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/api/health", timeout=2).is_success:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("the floor server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)


def load_patients(url: str, persons: int) -> list[str]:
    """The world and the filed patients in the database at ``url`` (already empty)."""
    # Filed the day before the claims' admissions (2026-11-21).
    filed_at = dt.datetime(2026, 11, 20, 9, 0, tzinfo=CHINA_TZ)
    return load_filed_patients(
        url, persons, filed_at=filed_at, card_prefix="NXB", born_on=dt.date(1970, 1, 1)
    )


_FIRST_STAY = dt.datetime(2026, 11, 21, 8, 0, tzinfo=CHINA_TZ)
_stays: dict[tuple[int, str], int] = {}
_stays_lock = threading.Lock()


def stay_start(port: int, card: str) -> dt.datetime:
    """When the card's next stay at this server begins: a patient's stays follow one another
    two hours apart (a stay may not begin before the last one's discharge)."""
    with _stays_lock:
        number = _stays.get((port, card), 0)
        _stays[(port, card)] = number + 1
    return _FIRST_STAY + dt.timedelta(hours=2 * number)


def admission(card: str, admitted_at: dt.datetime) -> dict[str, Any]:
    """The admission every claim starts with (POST /api/hospital/encounters)."""
    return {
        "cert_type": "03",
        "cert_no": card,
        "med_type": "21",
        "admitted_at": admitted_at.isoformat(),
        "department_code": "A03",
        "diagnosis_codes": ["K80.101"],
    }


def fee_lines(count: int) -> list[dict[str, Any]]:
    catalog = sample_catalog("430400")
    codes = sorted(catalog.items)
    out = []
    for index in range(count):
        code = codes[index % len(codes)]
        price = Decimal(5 + (index * 7) % 200) + Decimal("0.50")
        quantity = Decimal(1 + index % 3)
        out.append(
            {
                "serial": str(index + 1),
                "catalog_code": code,
                "quantity": str(quantity),
                "unit_price": str(price),
                "amount": str((quantity * price).quantize(Decimal("0.01"))),
                "occurred_at": "2026-11-21T09:00:00+08:00",
            }
        )
    return out


def run_claims(
    port: int,
    cards: list[str],
    claims: int,
    clients: int,
    lines: list[dict[str, Any]],
    label: str,
    *,
    login: bool = True,
) -> dict[str, Any]:
    base = f"http://127.0.0.1:{port}"
    headers = {}
    if login:
        token = httpx.post(
            f"{base}/api/auth/login", json={"username": "nhfy1", "password": "nhfy1-demo-2017"}
        ).json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
    total = str(sum(Decimal(line["amount"]) for line in lines))
    upload_ms: list[float] = []
    settle_ms: list[float] = []
    claim_ms: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    counter = iter(range(claims))

    def worker(worker_index: int) -> None:
        mine = cards[worker_index::clients]
        turn = 0
        with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
            while True:
                with lock:
                    number = next(counter, None)
                if number is None:
                    return
                card = mine[turn % len(mine)]
                turn += 1
                admitted_at = stay_start(port, card)
                occurred = (admitted_at + dt.timedelta(minutes=30)).isoformat()
                stay_lines = [line | {"occurred_at": occurred} for line in lines]
                admitted = client.post(
                    "/api/hospital/encounters",
                    json=admission(card, admitted_at),
                )
                if admitted.status_code != 201:
                    failures.append(f"admit {admitted.status_code} {admitted.text[:120]}")
                    continue
                mdtrt_id = admitted.json()["mdtrt_id"]
                start = time.perf_counter()
                uploaded = client.post(
                    f"/api/hospital/encounters/{mdtrt_id}/fees", json={"lines": stay_lines}
                )
                middle = time.perf_counter()
                client.post(
                    f"/api/hospital/encounters/{mdtrt_id}/discharge",
                    json={"discharged_at": (admitted_at + dt.timedelta(hours=1)).isoformat()},
                )
                before_settle = time.perf_counter()
                settled = client.post(
                    f"/api/hospital/encounters/{mdtrt_id}/settle",
                    json={"total_charges": total},
                    headers={"Idempotency-Key": f"bench-{label}-{number}"},
                )
                end = time.perf_counter()
                if uploaded.status_code != 200 or settled.status_code != 200:
                    failures.append(
                        f"{uploaded.status_code}/{settled.status_code} {settled.text[:120]}"
                    )
                    continue
                with lock:
                    upload_ms.append((middle - start) * 1000)
                    settle_ms.append((end - before_settle) * 1000)
                    claim_ms.append(((middle - start) + (end - before_settle)) * 1000)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started

    return summary(upload_ms, settle_ms, claim_ms, failures, elapsed)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def summary(
    upload_ms: list[float],
    settle_ms: list[float],
    claim_ms: list[float],
    failures: list[str],
    elapsed: float,
) -> dict[str, Any]:
    return {
        "claims": len(claim_ms),
        "failures": failures,
        "elapsed_s": elapsed,
        "settlements_per_s": len(claim_ms) / elapsed,
        "upload_p50": statistics.median(upload_ms) if upload_ms else float("nan"),
        "upload_p99": pct(upload_ms, 0.99),
        "settle_p50": statistics.median(settle_ms) if settle_ms else float("nan"),
        "settle_p99": pct(settle_ms, 0.99),
        "claim_p50": statistics.median(claim_ms) if claim_ms else float("nan"),
        "claim_p99": pct(claim_ms, 0.99),
        "_samples": (upload_ms, settle_ms, claim_ms),
    }


def merged(reports: list[dict[str, Any]]) -> dict[str, Any]:
    """The rounds of one side as one run (samples pooled, wall times added)."""
    upload, settle, claim = ([x for r in reports for x in r["_samples"][i]] for i in range(3))
    failures = [f for r in reports for f in r["failures"]]
    return summary(upload, settle, claim, failures, sum(r["elapsed_s"] for r in reports))


_SCRATCH = Table(
    "bench_unchained", MetaData(), Column("actor", String(64)), Column("subject", String(128))
)


def audit_chain(url: str, clients: int, seconds: float) -> dict[str, float]:
    """Transactions per second and p99 (ms) of ``clients`` threads for ``seconds`` each way:
    one audit-chain append and a commit through yidi's unit of work, and the same
    transaction inserting a row into an unchained table (no head row)."""
    container = build_container(Settings(database_url=url, demo_mode=True))
    engine = make_engine(url)
    _SCRATCH.metadata.create_all(engine)
    out: dict[str, float] = {}

    def chained(number: int) -> None:
        with container.uow() as uow:
            at = dt.datetime.now(dt.UTC)
            uow.audit.append(
                audit_entry(
                    at,
                    actor="bench",
                    role="bench",
                    region_code=None,
                    action="bench.append",
                    subject=f"n:{number}",
                )
            )
            uow.commit()

    def unchained(number: int) -> None:
        with container.uow() as uow:
            uow.session.execute(insert(_SCRATCH).values(actor="bench", subject=f"n:{number}"))
            uow.commit()

    for name, work in (("chained", chained), ("unchained", unchained)):
        times: list[float] = []
        lock = threading.Lock()
        stop_at = time.perf_counter() + seconds

        def loop(
            index: int,
            work: Any = work,
            times: list[float] = times,
            lock: threading.Lock = lock,
            stop_at: float = stop_at,
        ) -> None:
            number = index * 10_000_000
            mine: list[float] = []
            while time.perf_counter() < stop_at:
                start = time.perf_counter()
                work(number)
                mine.append((time.perf_counter() - start) * 1000)
                number += 1
            with lock:
                times.extend(mine)

        threads = [threading.Thread(target=loop, args=(i,)) for i in range(clients)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        out[f"{name}_tps"] = len(times) / elapsed
        out[f"{name}_p99"] = pct(times, 0.99)
    with container.uow() as uow:
        from yidi.kernel.audit import verify_chain

        head = uow.audit.head()
        broken = verify_chain(uow.audit.walk(), head)
    out["chain_ok"] = float(broken is None)
    engine.dispose()
    return out


def pgbench(base_url: str, seconds: int, clients: int) -> str:
    parts = make_url(base_url)
    env = os.environ | {
        "PGHOST": parts.host or "127.0.0.1",
        "PGPORT": str(parts.port or 5432),
        "PGUSER": parts.username or "yidi",
    }
    database = parts.database or "yidi"
    subprocess.run(
        [PGBENCH, "-i", "-s", "5", "-q", database], env=env, check=True, capture_output=True
    )
    result = subprocess.run(
        [PGBENCH, "-T", str(seconds), "-c", str(clients), database],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    lines = [
        line
        for line in result.stdout.splitlines()
        if re.search(r"tps|latency average|number of transactions actually", line)
    ]
    return "\n".join(lines)


def report_lines(name: str, report: dict[str, Any]) -> list[str]:
    return [
        f"{name}: {report['claims']} claims, failures {len(report['failures'])} "
        f"{report['failures'][:3]}, {report['elapsed_s']:.2f} s in rounds, "
        f"settlements/s {report['settlements_per_s']:.2f}",
        *(
            f"  {part:>6} latency ms: p50 {report[part + '_p50']:.1f}  "
            f"p99 {report[part + '_p99']:.1f}"
            for part in ("upload", "settle", "claim")
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--database-url", default=BASE_URL)
    parser.add_argument("--claims", type=int, default=200, help="per side (yidi, floor)")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=4, help="alternating rounds per side")
    parser.add_argument("--lines", type=int, default=300)
    parser.add_argument("--persons", type=int, default=40)
    parser.add_argument("--port", type=int, default=8731)
    parser.add_argument("--audit-clients", default="8,32")
    parser.add_argument("--audit-seconds", type=float, default=10)
    parser.add_argument("--pgbench-seconds", type=int, default=30)
    args = parser.parse_args()
    base_url = args.database_url
    url = schema_url(base_url, SCHEMA)
    cards = prepare(base_url, url, args.persons)
    floor_url = fresh_schema(base_url, FLOOR_SCHEMA)
    lines = fee_lines(args.lines)
    load_before = os.getloadavg()
    server = Server(url, args.port)
    floor = FloorServer(floor_url, args.port + 1)
    server.start(timeout=60)
    floor.start()
    yidi_runs: list[dict[str, Any]] = []
    floor_runs: list[dict[str, Any]] = []
    try:
        warm_up = min(8, args.claims)
        run_claims(args.port, cards, warm_up, args.clients, lines, "warm")
        run_claims(args.port + 1, cards, warm_up, args.clients, lines, "warm", login=False)
        per_round = max(1, args.claims // args.rounds)
        for round_ in range(args.rounds):
            yidi_runs.append(
                run_claims(args.port, cards, per_round, args.clients, lines, f"run{round_}")
            )
            floor_runs.append(
                run_claims(
                    args.port + 1,
                    cards,
                    per_round,
                    args.clients,
                    lines,
                    f"run{round_}",
                    login=False,
                )
            )
    finally:
        server.stop()
        floor.stop()
    load_after = os.getloadavg()
    yidi, reference = merged(yidi_runs), merged(floor_runs)
    print(f"{args.lines} lines a claim, {args.clients} clients, {args.rounds} alternating rounds")
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} (1 min)")
    for line in report_lines("yidi", yidi) + report_lines("floor", reference):
        print(line)
    ratio = yidi["settlements_per_s"] / reference["settlements_per_s"]
    print(
        f"yidi / floor throughput: {ratio:.2f} (target >= 0.7: {'met' if ratio >= 0.7 else 'not met'})"
        f"; yidi upload+settle p99 {yidi['claim_p99']:.1f} ms (target < 50 ms: "
        f"{'met' if yidi['claim_p99'] < 50 else 'not met'})"
    )
    for clients in (int(c) for c in args.audit_clients.split(",") if c):
        chain = audit_chain(url, clients, args.audit_seconds)
        print(
            f"audit chain, {clients} clients: chained {chain['chained_tps']:.0f} tx/s "
            f"(p99 {chain['chained_p99']:.1f} ms), unchained {chain['unchained_tps']:.0f} tx/s "
            f"(p99 {chain['unchained_p99']:.1f} ms), ratio "
            f"{chain['chained_tps'] / chain['unchained_tps']:.2f}; chain verifies: "
            f"{'yes' if chain['chain_ok'] else 'NO'}"
        )
    if args.pgbench_seconds:
        print(f"pgbench (-i -s 5, then -T {args.pgbench_seconds} -c 4) on the same server:")
        print(pgbench(base_url, args.pgbench_seconds, 4))


if __name__ == "__main__":
    main()
