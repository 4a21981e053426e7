"""Concurrency: many clients settle the same few persons at two hospitals on the same day.

``--requests`` gateway requests (default 10,000) from ``--clients`` concurrent clients
(default 50) on loopback against ``yidi serve --workers N`` on PostgreSQL. About 10 % of the
requests resend an earlier change request unchanged (same msgid): its answer must equal the
first one. The persons are few (``--persons``, default 20) and every client alternates between
two 衡阳 hospitals, so the same person is admitted and settled at both hospitals at once. The
stays are large, so the persons reach their annual pooled-fund cap during the run.

Counted at the end, from the database: duplicate settlements (per msgid and per encounter),
overlapping stays (one person at one hospital twice at once, open or settled),
annual-cap overruns (year-to-date pooled fund > the policy cap), deductibles consumed twice
(each person's settlements used admission numbers 1..n, each once), year-to-date totals
against the settlements, the ledger, the audit chain; from the clients: 5xx answers,
throughput, p50/p99 latency.

Run (recorded in docs/reliability.md):
  PYTHONPATH=src python bench/concurrency_load.py --requests 10000 --clients 50 --workers 2
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gateway_load import (
    DEFAULT_BASE_URL,
    HOSPITALS,
    CallStats,
    GatewayClient,
    Ledger,
    Server,
    check_invariants,
    drop_schema,
    free_port,
    prepare,
    replay_one,
    run_case,
)

# A case is five requests; replaying with this probability per turn makes ~10 % of requests replays.
REPLAY_PER_TURN = 5 / 14


@dataclass
class LoadReport:
    requests: int = 0
    clients: int = 0
    workers: int = 0
    replays: int = 0
    replay_mismatches: int = 0
    http_5xx: int = 0
    settlements: int = 0
    elapsed_s: float = 0.0
    requests_per_s: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    client_errors: list[str] = field(default_factory=list)
    refusals: dict[str, int] = field(default_factory=dict)
    final: dict[str, Any] = field(default_factory=dict)
    persons_at_cap: int = 0

    @property
    def ok(self) -> bool:
        return (
            self.http_5xx == 0
            and self.replay_mismatches == 0
            and not self.client_errors
            and bool(self.final.get("ok"))
        )


def run(
    *,
    requests: int,
    clients: int,
    persons: int,
    workers: int,
    base_url: str = DEFAULT_BASE_URL,
    schema: str = "concurrency_load",
    seed: int = 3,
    keep_schema: bool = False,
    log_path: Path | None = None,
) -> LoadReport:
    url, cards = prepare(base_url, schema, persons)
    server = Server(url, free_port(), workers=workers, log_path=log_path)
    stats = CallStats()
    ledger = Ledger()
    report = LoadReport(clients=clients, workers=workers)

    def client_loop(index: int) -> None:
        rng = random.Random(seed * 1000 + index)
        client = GatewayClient(server.port, stats, patience=60)
        try:
            turn = 0
            while stats.requests < requests:
                turn += 1
                if rng.random() < REPLAY_PER_TURN and replay_one(client, ledger, rng):
                    continue
                hospital = HOSPITALS[(index + turn) % len(HOSPITALS)]
                card = cards[rng.randrange(len(cards))]
                run_case(
                    client,
                    ledger,
                    hospital,
                    card,
                    ledger.stay_times(hospital, card),
                    reverse_probability=0.0,
                    rng=rng,
                )
        except Exception as exc:
            with ledger.lock:
                report.client_errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            client.close()

    server.start()
    try:
        started = time.perf_counter()
        threads = [threading.Thread(target=client_loop, args=(i,)) for i in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        report.elapsed_s = time.perf_counter() - started
        final = check_invariants(url, ledger, strict_admissions=True)
        report.persons_at_cap = _persons_at_cap(url)
    finally:
        server.stop()
    latencies = sorted(stats.latencies_ms)
    report.requests = stats.requests
    report.requests_per_s = stats.requests / report.elapsed_s
    report.p50_ms = statistics.median(latencies) if latencies else 0.0
    report.p99_ms = (
        latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))] if latencies else 0
    )
    report.http_5xx = sum(n for code, n in stats.status_codes.items() if code >= 500)
    report.replays = ledger.replays
    report.replay_mismatches = ledger.replay_mismatches
    report.settlements = final.settlements
    report.refusals = dict(ledger.refusals)
    report.final = {**asdict(final), "ok": final.ok}
    if not keep_schema:
        drop_schema(base_url, schema)
    return report


def _persons_at_cap(url: str) -> int:
    """Persons whose pooled fund reached the cap: the cap was really tested."""
    import datetime as dt

    from sqlalchemy import text

    from yidi.kernel.insurance import InsuranceType
    from yidi.platform.db import make_engine
    from yidi.policy.loader import policy_at

    cap = policy_at("640000", InsuranceType.EMPLOYEE, dt.date.today()).annual_cap
    engine = make_engine(url, pool_size=1, max_overflow=0)
    try:
        with engine.connect() as connection:
            return int(
                connection.execute(
                    text("SELECT COUNT(*) FROM year_to_date WHERE pooled_fund_paid_fen = :cap"),
                    {"cap": cap.fen},
                ).scalar_one()
            )
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--persons", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--base-url", default=DEFAULT_BASE_URL)
    parser.add_argument("--keep-schema", action="store_true")
    args = parser.parse_args()
    report = run(
        requests=args.requests,
        clients=args.clients,
        persons=args.persons,
        workers=args.workers,
        base_url=args.base_url,
        keep_schema=args.keep_schema,
        log_path=Path(tempfile.gettempdir()) / "yidi-concurrency-load.log",
    )
    final = report.final
    print(
        f"requests: {report.requests} from {report.clients} clients, server workers: {report.workers}"
    )
    print(
        f"replays of an earlier msgid: {report.replays} ({report.replays / report.requests:.1%}),"
        f" answers differing from the first: {report.replay_mismatches}"
    )
    print(
        f"wall time {report.elapsed_s:.1f} s, {report.requests_per_s:.1f} requests/s,"
        f" latency p50 {report.p50_ms:.1f} ms, p99 {report.p99_ms:.1f} ms"
    )
    print(f"5xx answers: {report.http_5xx}; client errors: {report.client_errors[:3]}")
    print(
        f"settlements: {report.settlements}; duplicates: {final['duplicate_settlements']};"
        f" unrequested: {final['unrequested_settlements']}; acknowledged lost: {final['acked_settles_lost']};"
        f" overlapping stays (same person and hospital): {final['overlapping_stays']}"
    )
    print(
        f"annual-cap overruns: {final['cap_overruns']} (persons at the cap: {report.persons_at_cap});"
        f" deductibles consumed twice: {final['deductible_reused']};"
        f" year-to-date mismatches: {final['ytd_mismatches']}"
    )
    print(
        f"ledger balanced: {final['ledger_balanced']}; facts missing: {final['facts_missing']};"
        f" audit chain: {final['audit_break'] or 'intact'} ({final['audit_entries']} entries)"
    )
    print(f"business refusals: {report.refusals}")
    print("RESULT:", "OK" if report.ok else "FAILED")
    sys.exit(0 if report.ok else 1)


if __name__ == "__main__":
    main()
