"""Crash safety: kill ``yidi serve`` with SIGKILL at random moments while hospitals settle.

Several client threads drive inpatient stays through the national gateway on loopback
(1101 → 2401 admit → 2301 fees → 2402 discharge → 2304 settle, and some 2305 reversals),
each on its own hospital/person mix. A client that gets no answer resends the same envelope
(same msgid) until the server is back. Meanwhile the harness kills the server process group
with SIGKILL after a random 0.3–2.5 s of uptime, restarts it, and after every restart checks in one
consistent snapshot:

- every settlement (and reversal) a client saw acknowledged exists exactly once;
- no settlement exists that was not requested; no msgid and no encounter settled twice;
- year-to-date totals (admissions, deductible, pooled fund) equal the sum of the person's
  settlements minus reversals;
- the clearing ledger nets to zero (per fund and per settlement) and every settlement has
  its clearing fact;
- the audit chain verifies.

It stops by itself after ``--kills`` kills. PostgreSQL only (its own schema).

Run (full form, recorded in docs/reliability.md):
  PYTHONPATH=src python bench/crash_harness.py --kills 100
"""

from __future__ import annotations

import argparse
import random
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
    CheckResult,
    GatewayClient,
    Ledger,
    NoAnswer,
    Server,
    check_invariants,
    drop_schema,
    free_port,
    prepare,
    run_case,
)


@dataclass
class CrashReport:
    kills: int = 0
    restarts: int = 0
    checks: int = 0
    failed_checks: list[dict[str, Any]] = field(default_factory=list)
    cases_settled: int = 0
    acked_settlements: int = 0
    acked_reversals: int = 0
    transport_retries: int = 0
    requests: int = 0
    http_5xx: int = 0
    no_answer: int = 0
    client_errors: list[str] = field(default_factory=list)
    refusals: dict[str, int] = field(default_factory=dict)
    final: dict[str, Any] = field(default_factory=dict)
    mean_restart_s: float = 0.0
    elapsed_s: float = 0.0

    @property
    def ok(self) -> bool:
        return (
            not self.failed_checks
            and self.http_5xx == 0
            and not self.client_errors
            and bool(self.final.get("ok"))
        )


def run(
    *,
    kills: int,
    clients: int,
    persons: int,
    base_url: str = DEFAULT_BASE_URL,
    schema: str = "crash_harness",
    seed: int = 9,
    min_uptime: float = 0.3,
    max_uptime: float = 2.5,
    keep_schema: bool = False,
    log_path: Path | None = None,
) -> CrashReport:
    started = time.monotonic()
    rng = random.Random(seed)
    url, cards = prepare(base_url, schema, persons)
    server = Server(url, free_port(), log_path=log_path)
    report = CrashReport()
    ledger = Ledger()
    stats = CallStats()
    stop = threading.Event()
    restart_seconds: list[float] = []

    def client_loop(index: int) -> None:
        client_rng = random.Random(seed * 1000 + index)
        client = GatewayClient(server.port, stats, patience=180)
        try:
            while not stop.is_set():
                hospital = HOSPITALS[index % len(HOSPITALS)]
                card = cards[client_rng.randrange(len(cards))]
                try:
                    run_case(
                        client,
                        ledger,
                        hospital,
                        card,
                        ledger.stay_times(hospital, card),
                        reverse_probability=0.3,
                        rng=client_rng,
                    )
                except NoAnswer as exc:
                    with ledger.lock:
                        report.no_answer += 1
                        report.client_errors.append(f"no answer for msgid {exc}")
                    return
                except Exception as exc:  # a harness bug or an unexpected reply shape
                    with ledger.lock:
                        report.client_errors.append(f"{type(exc).__name__}: {exc}")
                    return
        finally:
            client.close()

    restart_seconds.append(server.start())
    threads = [threading.Thread(target=client_loop, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    try:
        for _ in range(kills):
            time.sleep(rng.uniform(min_uptime, max_uptime))
            server.kill()
            report.kills += 1
            restart_seconds.append(server.start())
            report.restarts += 1
            result = check_invariants(url, ledger, strict_admissions=False)
            report.checks += 1
            if not result.ok:
                report.failed_checks.append({"after_kill": report.kills, **result.problems()})
            if report.client_errors:
                break
        stop.set()
        for thread in threads:
            thread.join(timeout=240)
        final: CheckResult = check_invariants(url, ledger, strict_admissions=False)
    finally:
        stop.set()
        server.stop()
    report.final = {**asdict(final), "ok": final.ok}
    report.cases_settled = ledger.cases_done
    report.acked_settlements = len(ledger.acked_settles)
    report.acked_reversals = len(ledger.acked_reversals)
    report.transport_retries = stats.transport_retries
    report.requests = stats.requests
    report.http_5xx = sum(n for code, n in stats.status_codes.items() if code >= 500)
    report.refusals = dict(ledger.refusals)
    report.mean_restart_s = sum(restart_seconds) / len(restart_seconds)
    report.elapsed_s = time.monotonic() - started
    if not keep_schema:
        drop_schema(base_url, schema)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--persons", type=int, default=12)
    parser.add_argument("--base-url", default=DEFAULT_BASE_URL)
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--keep-schema", action="store_true")
    args = parser.parse_args()
    log_path = Path(tempfile.gettempdir()) / "yidi-crash-harness.log"
    report = run(
        kills=args.kills,
        clients=args.clients,
        persons=args.persons,
        base_url=args.base_url,
        seed=args.seed,
        keep_schema=args.keep_schema,
        log_path=log_path,
    )
    print(f"kills survived: {report.kills} (restarts {report.restarts}, checks {report.checks})")
    print(
        f"mean start-up to healthy: {report.mean_restart_s:.2f} s; wall time {report.elapsed_s:.1f} s"
    )
    print(
        f"gateway requests: {report.requests}, resent after no answer: {report.transport_retries},"
        f" 5xx: {report.http_5xx}"
    )
    print(
        f"cases settled: {report.cases_settled}; acknowledged settlements: {report.acked_settlements},"
        f" reversals: {report.acked_reversals}"
    )
    final = report.final
    print(
        f"in the database: {final['settlements']} settlements, {final['reversals']} reversals,"
        f" {final['audit_entries']} audit entries"
    )
    print(
        f"acknowledged settlements lost: {final['acked_settles_lost']},"
        f" reversals lost: {final['acked_reversals_lost']},"
        f" duplicates: {final['duplicate_settlements']},"
        f" unrequested: {final['unrequested_settlements']}"
    )
    print(
        f"year-to-date mismatches: {final['ytd_mismatches']}, ledger balanced: {final['ledger_balanced']},"
        f" facts missing: {final['facts_missing']}, audit chain: {final['audit_break'] or 'intact'}"
    )
    print(f"checks failed after a restart: {len(report.failed_checks)} {report.failed_checks[:2]}")
    print(f"client errors: {report.client_errors[:3]}")
    print(f"business refusals (expected, e.g. cap reached): {report.refusals}")
    print("RESULT:", "OK" if report.ok else "FAILED")
    sys.exit(0 if report.ok else 1)


if __name__ == "__main__":
    main()
