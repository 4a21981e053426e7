"""The admission check (what 1101 and the cashier's check run) beside the raw indexed lookup.

Setup: the demo world, sample catalogues and ``--patients`` Ningxia employees filed for 衡阳
(real filings made through the filing service), then ``--filings`` filler filings and persons
of other people written straight into the same tables, so the tables have a province's size.

Measured in the same run, on the same database:
- yidi: ``HospitalService.admission_check`` for the filed patients' cards, round-robin
  (person by card, filing lookup and validity, the agency list, an audit append, a commit);
- raw: the two indexed SELECTs the check needs (person by card, approved filings by ID
  number) plus ``json.dumps`` of the rows, on one connection, no audit, no commit.
Printed: p50/p99 of each and the ratio yidi / raw.

``--as-before`` drops the lookup indexes of migration 0013 and the planner statistics, to
show what the check cost before them (SQLite only: PostgreSQL's autovacuum keeps statistics).

Run:
  PYTHONPATH=src python bench/admission_lookup_bench.py --filings 1000000
  PYTHONPATH=src python bench/admission_lookup_bench.py --filings 1000000 --as-before
  PYTHONPATH=src python bench/admission_lookup_bench.py --filings 1000000 \
      --database-url postgresql+psycopg://yidi@127.0.0.1:55432/yidi
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from gateway_load import fresh_schema, load_filed_patients  # noqa: E402
from sqlalchemy import insert, text  # noqa: E402

from yidi.bootstrap import build_container  # noqa: E402
from yidi.encounter.commands import Caller, Credential, HospitalService  # noqa: E402
from yidi.kernel.clock import CHINA_TZ, FixedClock  # noqa: E402
from yidi.platform.db import make_engine, refresh_statistics  # noqa: E402
from yidi.platform.tables import filings, persons  # noqa: E402
from yidi.settings import Settings  # noqa: E402

NANHUA = Caller("H43040000001", "nhfy1")
FILED_AT = dt.datetime(2026, 11, 20, 9, 0, tzinfo=CHINA_TZ)
CHECK_AT = dt.datetime(2026, 11, 25, 9, 0, tzinfo=CHINA_TZ)
CHUNK = 20_000
# Five filing states in the proportions of a mature province (most filings approved).
STATES = ("approved",) * 7 + ("cancelled", "expired", "superseded")


def add_filler(url: str, count: int) -> None:
    engine = make_engine(url)
    now = dt.datetime.now(dt.UTC)
    started = time.perf_counter()
    with engine.begin() as connection:
        for first in range(0, count, CHUNK):
            last = min(first + CHUNK, count)
            connection.execute(
                insert(persons),
                [
                    {
                        "id_number": f"F{index:017d}",
                        "name": "某某",
                        "gender": "1",
                        "birth_on": dt.date(1960, 1, 1),
                        "insured_region_code": "410102",
                        "insurance_type": "310",
                        "person_type": "employee_active",
                        "card_number": f"C{index:011d}",
                        "psn_no": f"PSNF{index:021d}",
                        "has_second_generation_card": True,
                    }
                    for index in range(first, last)
                ],
            )
            connection.execute(
                insert(filings),
                [
                    {
                        "id": f"filler{index:026d}",
                        "filing_number": None,
                        "current_version_id": f"fillerv{index:025d}",
                        "state": STATES[index % len(STATES)],
                        "version": 1,
                        "insured_region_code": "410102",
                        "id_number": f"F{index:017d}",
                        "name": "某某",
                        "category": "long_term_resident",
                        "source": "import",
                        "import_key": None,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for index in range(first, last)
                ],
            )
        refresh_statistics(connection, ("persons", "filings"))
    engine.dispose()
    print(f"filler: {count:,} persons and filings in {time.perf_counter() - started:.1f} s")


def as_before(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as connection:
        if connection.dialect.name != "sqlite":
            raise SystemExit("--as-before is for SQLite (PostgreSQL keeps its own statistics)")
        connection.exec_driver_sql("DROP INDEX IF EXISTS ix_filings_id_number_state")
        connection.exec_driver_sql("DROP INDEX IF EXISTS ix_encounters_person_id_state")
        connection.exec_driver_sql("DELETE FROM sqlite_stat1")
    engine.dispose()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def measure_yidi(url: str, cards: list[str], runs: int) -> list[float]:
    container = build_container(
        Settings(database_url=url, demo_mode=True), clock=FixedClock(CHECK_AT)
    )
    service = HospitalService(container.uow, container.clock)
    service.admission_check(NANHUA, Credential("03", cards[0]))  # warm caches and the pool
    times = []
    for run in range(runs):
        started = time.perf_counter()
        check = service.admission_check(NANHUA, Credential("03", cards[run % len(cards)]))
        times.append(time.perf_counter() - started)
        assert check.filing is not None, "a filed patient must pass the check"
    container.engine.dispose()
    return times


def measure_raw(url: str, cards: list[str], runs: int) -> list[float]:
    engine = make_engine(url)
    person_sql = text(
        "SELECT id, id_number, name, insured_region_code FROM persons WHERE card_number = :card"
    )
    filing_sql = text(
        "SELECT id, current_version_id FROM filings WHERE id_number = :id_number AND state = 'approved'"
    )
    times = []
    with engine.connect() as connection:
        for run in range(runs + 1):
            started = time.perf_counter()
            person = connection.execute(person_sql, {"card": cards[run % len(cards)]}).one()
            found = connection.execute(filing_sql, {"id_number": person.id_number}).all()
            json.dumps({"person": list(person), "filings": [list(row) for row in found]})
            if run:  # the first one warms the connection
                times.append(time.perf_counter() - started)
            assert found, "a filed patient has an approved filing"
    engine.dispose()
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--filings", type=int, default=100_000)
    parser.add_argument("--patients", type=int, default=20)
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--schema", default="bench_lookup")
    parser.add_argument("--as-before", action="store_true")
    args = parser.parse_args()

    if args.database_url:
        url = fresh_schema(args.database_url, args.schema)
    else:
        work = Path(tempfile.mkdtemp(prefix="yidi-lookup-"))
        url = f"sqlite:///{work / 'lookup.sqlite3'}"
    cards = load_filed_patients(
        url, args.patients, filed_at=FILED_AT, card_prefix="NXK", born_on=dt.date(1965, 1, 1)
    )
    add_filler(url, args.filings)
    if args.as_before:
        as_before(url)

    raw = measure_raw(url, cards, args.runs)
    yidi = measure_yidi(url, cards, args.runs)
    raw_p50, raw_p99 = percentile(raw, 0.5), percentile(raw, 0.99)
    yidi_p50, yidi_p99 = percentile(yidi, 0.5), percentile(yidi, 0.99)
    print(f"database: {url.split('?')[0].split('@')[-1]}; filler filings: {args.filings:,}")
    print(f"raw indexed lookup + JSON: p50 {raw_p50 * 1e3:.3f} ms, p99 {raw_p99 * 1e3:.3f} ms")
    print(f"yidi admission check:      p50 {yidi_p50 * 1e3:.3f} ms, p99 {yidi_p99 * 1e3:.3f} ms")
    print(
        f"ratio yidi/raw: p50 {yidi_p50 / raw_p50:.1f}x, p99 {yidi_p99 / raw_p99:.1f}x "
        f"(mean {statistics.fmean(yidi) / statistics.fmean(raw):.1f}x)"
    )


if __name__ == "__main__":
    main()
