"""Direct settlement through the HTTP API on PostgreSQL, measured beside pgbench.

What one "claim" is: admit (POST /api/hospital/encounters), upload 300 fee lines in one
batch (POST …/fees), discharge, settle (POST …/settle) — all as the 南华大学附属第一医院
cashier, for Ningxia patients filed for 衡阳 (so every admission runs the filing check).
Reported: settlements per second over the whole run, and p50/p99 latency of the fee
upload, the settlement, and upload + settle together.

The server is ``yidi serve`` (uvicorn, one process) on loopback, on its own PostgreSQL
schema (``search_path``) so the test database is left alone. pgbench runs afterwards on
the same server, against the same database, for reference.

Run:
  PYTHONPATH=src python bench/hospital_http_bench.py --claims 200 --clients 4
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

from yidi.catalog.files import sample_catalog  # noqa: E402
from yidi.kernel.clock import CHINA_TZ  # noqa: E402

BASE_URL = "postgresql+psycopg://yidi@127.0.0.1:55433/yidi_hospital"
SCHEMA = "bench_hospital"
PGBENCH = "/usr/lib/postgresql/15/bin/pgbench"


def prepare(url: str, persons: int) -> list[str]:
    """A fresh schema with the demo world, sample catalogues and filed Ningxia patients."""
    fresh_schema(BASE_URL, SCHEMA)
    return load_patients(url, persons)


def load_patients(url: str, persons: int) -> list[str]:
    """The world and the filed patients in the database at ``url`` (already empty)."""
    # Filed the day before the claims' admissions (2026-11-21).
    filed_at = dt.datetime(2026, 11, 20, 9, 0, tzinfo=CHINA_TZ)
    return load_filed_patients(
        url, persons, filed_at=filed_at, card_prefix="NXB", born_on=dt.date(1970, 1, 1)
    )


def admission(card: str) -> dict[str, Any]:
    """The admission every claim starts with (POST /api/hospital/encounters)."""
    return {
        "cert_type": "03",
        "cert_no": card,
        "med_type": "21",
        "admitted_at": "2026-11-21T08:00:00+08:00",
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
) -> dict[str, Any]:
    base = f"http://127.0.0.1:{port}"
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
                admitted = client.post(
                    "/api/hospital/encounters",
                    json=admission(card),
                )
                if admitted.status_code != 201:
                    failures.append(f"admit {admitted.status_code} {admitted.text[:120]}")
                    continue
                mdtrt_id = admitted.json()["mdtrt_id"]
                start = time.perf_counter()
                uploaded = client.post(
                    f"/api/hospital/encounters/{mdtrt_id}/fees", json={"lines": lines}
                )
                middle = time.perf_counter()
                client.post(
                    f"/api/hospital/encounters/{mdtrt_id}/discharge",
                    json={"discharged_at": "2026-11-25T10:00:00+08:00"},
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

    def pct(values: list[float], q: float) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")

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
    }


def pgbench(seconds: int, clients: int) -> str:
    env = os.environ | {"PGHOST": "127.0.0.1", "PGPORT": "55433", "PGUSER": "yidi"}
    subprocess.run(
        [PGBENCH, "-i", "-s", "5", "-q", "yidi_hospital"], env=env, check=True, capture_output=True
    )
    result = subprocess.run(
        [PGBENCH, "-T", str(seconds), "-c", str(clients), "yidi_hospital"],
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


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--claims", type=int, default=200)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--lines", type=int, default=300)
    parser.add_argument("--persons", type=int, default=40)
    parser.add_argument("--port", type=int, default=8731)
    parser.add_argument("--pgbench-seconds", type=int, default=30)
    args = parser.parse_args()
    url = schema_url(BASE_URL, SCHEMA)
    cards = prepare(url, args.persons)
    server = Server(url, args.port)
    server.start(timeout=60)
    try:
        warm_up = min(8, args.claims)
        run_claims(args.port, cards, warm_up, args.clients, fee_lines(args.lines), "warm")
        report = run_claims(
            args.port, cards, args.claims, args.clients, fee_lines(args.lines), "run"
        )
    finally:
        server.stop()
    print(f"claims settled: {report['claims']} ({args.lines} lines each), clients: {args.clients}")
    print(f"failures: {len(report['failures'])} {report['failures'][:3]}")
    print(
        f"wall time: {report['elapsed_s']:.2f} s, settlements/s: {report['settlements_per_s']:.2f}"
    )
    for name in ("upload", "settle", "claim"):
        print(
            f"{name:>6} latency ms: p50 {report[name + '_p50']:.1f}  p99 {report[name + '_p99']:.1f}"
        )
    print(f"pgbench (-i -s 5, then -T {args.pgbench_seconds} -c 4) on the same server:")
    print(pgbench(args.pgbench_seconds, 4))


if __name__ == "__main__":
    main()
