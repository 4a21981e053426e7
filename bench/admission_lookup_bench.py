"""The admission check (what 1101 and the cashier's check run) beside the raw indexed lookup,
in the same run, at growing table sizes, on SQLite and PostgreSQL.

Setup per database: the demo world, sample catalogues and ``--patients`` Ningxia employees
filed for 衡阳 (real filings made through the filing service); then filler persons and
filings of other people written straight into the same tables until each size of
``--sizes`` is reached (the database grows from one size to the next), statistics gathered
as after an import.

Measured at each size, ``--rounds`` rounds of ``--runs`` checks each, the three paths
alternating within a round so they share the machine's load:
- raw: the two indexed SELECTs the check needs (person by card, approved filings by ID
  number) plus ``json.dumps`` of the rows, on one connection, no audit, no commit;
- audited floor: the same two SELECTs and JSON plus one audit-chain append (head row
  locked, entry inserted, head advanced) and a commit, as bare SQL on one connection;
- yidi: ``HospitalService.admission_check`` (institution, lookup counter, person, filing
  validity, personal account balance, audit append, commit).
Printed per size, as wall time and as this process's CPU time: the median of the round
medians of each path, the ratios yidi / raw and yidi / audited floor; and the statements
one yidi check sends.

``--as-before`` drops the lookup indexes of migration 0013 and the planner statistics, to
show what the check cost before them (SQLite only: PostgreSQL's autovacuum keeps statistics).

Run (one command for both databases and both sizes):
  PYTHONPATH=src python bench/admission_lookup_bench.py --sizes 100000,1000000 \
      --database-url postgresql+psycopg://yidi@127.0.0.1:55434/yidi_bench
``--databases sqlite`` or ``--databases postgresql`` runs one of them.
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
from sqlalchemy import Engine, event, insert, text  # noqa: E402

from yidi.bootstrap import build_container  # noqa: E402
from yidi.encounter.commands import Credential, HospitalService, LookupLimits  # noqa: E402
from yidi.kernel.access import Caller  # noqa: E402
from yidi.kernel.audit import GENESIS_HASH, AuditEntry, entry_hash  # noqa: E402
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


def add_filler(url: str, start: int, count: int) -> None:
    """Filler persons and filings numbered ``start`` … ``count - 1``."""
    engine = make_engine(url)
    now = dt.datetime.now(dt.UTC)
    started = time.perf_counter()
    with engine.begin() as connection:
        for first in range(start, count, CHUNK):
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
    print(
        f"filler: {count - start:,} persons and filings added in "
        f"{time.perf_counter() - started:.1f} s (now {count:,})",
        flush=True,
    )


def as_before(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as connection:
        if connection.dialect.name != "sqlite":
            raise SystemExit("--as-before is for SQLite (PostgreSQL keeps its own statistics)")
        connection.exec_driver_sql("DROP INDEX IF EXISTS ix_filings_id_number_state")
        connection.exec_driver_sql("DROP INDEX IF EXISTS ix_encounters_person_id_state")
        connection.exec_driver_sql("DELETE FROM sqlite_stat1")
    engine.dispose()


PERSON_SQL = text(
    "SELECT id, id_number, name, insured_region_code FROM persons WHERE card_number = :card"
)
FILING_SQL = text(
    "SELECT id, current_version_id FROM filings WHERE id_number = :id_number AND state = 'approved'"
)


class Raw:
    """The reference paths, as bare SQL on one connection."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self.connection = self.engine.connect()
        self.dialect = self.engine.dialect.name

    def lookup(self, card: str) -> None:
        person = self.connection.execute(PERSON_SQL, {"card": card}).one()
        found = self.connection.execute(FILING_SQL, {"id_number": person.id_number}).all()
        json.dumps({"person": list(person), "filings": [list(row) for row in found]})
        assert found, "a filed patient has an approved filing"
        self.connection.rollback()  # end the implicit read transaction, as a request would

    def audited(self, card: str) -> None:
        """The lookup plus what no audited check can skip: one chained audit entry, a commit."""
        connection = self.connection
        with connection.begin():
            person = connection.execute(PERSON_SQL, {"card": card}).one()
            found = connection.execute(FILING_SQL, {"id_number": person.id_number}).all()
            lock = "" if self.dialect == "sqlite" else " FOR UPDATE"
            head = connection.execute(
                text(f"SELECT last_seq, last_hash FROM audit_head WHERE id = 1{lock}")
            ).first()
            seq, last = (int(head[0]), str(head[1])) if head else (0, GENESIS_HASH)
            entry = AuditEntry(
                dt.datetime.now(dt.UTC), "bench", "hospital", None, "bench.lookup", "person:x"
            )
            digest = entry_hash(seq + 1, entry, last)
            connection.execute(
                text(
                    "INSERT INTO audit_log (seq, at, actor, role, region_code, action, subject,"
                    " reason, address, prev_hash, entry_hash) VALUES (:seq, :at, 'bench',"
                    " 'hospital', NULL, 'bench.lookup', 'person:x', '', '', :prev, :hash)"
                ),
                {"seq": seq + 1, "at": entry.at, "prev": last, "hash": digest},
            )
            connection.execute(
                text("UPDATE audit_head SET last_seq = :seq, last_hash = :hash WHERE id = 1"),
                {"seq": seq + 1, "hash": digest},
            )
            json.dumps({"person": list(person), "filings": [list(row) for row in found]})

    def close(self) -> None:
        self.connection.close()
        self.engine.dispose()


def yidi_service(url: str) -> tuple[HospitalService, Engine]:
    container = build_container(
        Settings(database_url=url, demo_mode=True), clock=FixedClock(CHECK_AT)
    )
    # The bench makes more checks in one (fixed) clock hour than the per-institution limit.
    limits = LookupLimits(per_hour=10**9, misses_per_hour=10**9)
    return HospitalService(container.uow, container.clock, lookup_limits=limits), container.engine


def statements_per_check(service: HospitalService, engine: Engine, card: str) -> list[str]:
    sent: list[str] = []

    def count(*args: object) -> None:
        sent.append(str(args[2]).split(None, 1)[0])

    event.listen(engine, "before_cursor_execute", count)
    try:
        service.admission_check(NANHUA, Credential("03", card))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return sent


def measure(
    url: str, cards: list[str], runs: int, rounds: int
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Per path, the median of each round (seconds): wall time, and this process's CPU time
    (on a machine shared with other work a path of a few milliseconds is descheduled far
    more often than one of a tenth of that, so wall-time medians of the longer path carry
    the machine's load; CPU time does not, and on SQLite it is all the work)."""
    raw = Raw(url)
    service, engine = yidi_service(url)
    paths = {
        "raw": raw.lookup,
        "audited": raw.audited,
        "yidi": lambda card: service.admission_check(NANHUA, Credential("03", card)),
    }
    for path in paths.values():  # warm the pools, caches and statement caches
        for card in cards:
            path(card)
    medians: dict[str, list[float]] = {name: [] for name in paths}
    cpu_medians: dict[str, list[float]] = {name: [] for name in paths}
    for _ in range(rounds):
        times: dict[str, list[float]] = {name: [] for name in paths}
        cpu: dict[str, list[float]] = {name: [] for name in paths}
        for run in range(runs):
            card = cards[run % len(cards)]
            for name, path in paths.items():
                started, started_cpu = time.perf_counter(), time.thread_time()
                path(card)
                cpu[name].append(time.thread_time() - started_cpu)
                times[name].append(time.perf_counter() - started)
        for name in paths:
            medians[name].append(statistics.median(times[name]))
            cpu_medians[name].append(statistics.median(cpu[name]))
    sent = statements_per_check(service, engine, cards[0])
    print(f"  statements per yidi check: {len(sent)} ({' '.join(sent)}, commit)")
    raw.close()
    engine.dispose()
    return medians, cpu_medians


def report(label: str, medians: dict[str, list[float]], what: str) -> None:
    middle = {name: statistics.median(values) for name, values in medians.items()}
    for name, caption in (
        ("raw", "raw indexed lookup + JSON"),
        ("audited", "raw + audit append + commit"),
        ("yidi", "yidi admission check"),
    ):
        rounds = ", ".join(f"{value * 1e3:.3f}" for value in medians[name])
        print(f"  {what} {caption:30} median {middle[name] * 1e3:7.3f} ms  (rounds: {rounds})")
    print(
        f"  {label}, {what}: ratio yidi/raw {middle['yidi'] / middle['raw']:.1f}x, "
        f"yidi/audited floor {middle['yidi'] / middle['audited']:.1f}x",
        flush=True,
    )


def run_database(name: str, url: str, args: argparse.Namespace) -> None:
    print(f"== {name}: {url.split('?')[0].split('@')[-1]}", flush=True)
    cards = load_filed_patients(
        url, args.patients, filed_at=FILED_AT, card_prefix="NXK", born_on=dt.date(1965, 1, 1)
    )
    filled = 0
    for size in sorted(int(value) for value in args.sizes.split(",")):
        add_filler(url, filled, size)
        filled = size
        if args.as_before:
            as_before(url)
        print(f"-- {name}, {size:,} filler filings", flush=True)
        wall, cpu = measure(url, cards, args.runs, args.rounds)
        report(f"{name} {size:,}", wall, "wall")
        report(f"{name} {size:,}", cpu, "CPU ")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000", help="filler filings, comma-separated")
    parser.add_argument("--patients", type=int, default=20)
    parser.add_argument("--runs", type=int, default=200, help="checks per path and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--database-url", default="", help="PostgreSQL server database")
    parser.add_argument("--schema", default="bench_lookup")
    parser.add_argument("--as-before", action="store_true")
    args = parser.parse_args()

    for name in args.databases.split(","):
        if name == "sqlite":
            work = Path(tempfile.mkdtemp(prefix="yidi-lookup-"))
            run_database(name, f"sqlite:///{work / 'lookup.sqlite3'}", args)
        elif name == "postgresql":
            if not args.database_url:
                print("postgresql skipped: no --database-url")
                continue
            run_database(name, fresh_schema(args.database_url, args.schema), args)
        else:
            raise SystemExit(f"unknown database {name!r}")


if __name__ == "__main__":
    main()
