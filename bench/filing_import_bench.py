"""Time a batch import (报盘) of a 附件2 CSV into a fresh database (SQLite or PostgreSQL).

    PYTHONPATH=src python bench/filing_import_bench.py [rows] [work directory]
        [--database-url postgresql+psycopg://…] [--second ROWS]

Generates ``rows`` synthetic persons (default 1,000,000) across the Henan
prefectures, writes them as a 附件2 CSV, migrates an empty database and
imports the file with the same service the API and CLI use, then imports it
again (an idempotent replay). With ``--second`` a second file of other persons
is imported into the database that now holds the first: its rows per second
against the first import's show whether an import slows as the database grows.
A PostgreSQL database given by URL is emptied first (its public schema dropped).
"""

from __future__ import annotations

import argparse
import csv
import os
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine

from yidi.bootstrap import build_container
from yidi.demo.population import generate_persons
from yidi.filing.imports import FilingImports
from yidi.filing.model.annex import ANNEX2_COLUMNS
from yidi.filing.scope import system_principal
from yidi.kernel.clock import SystemClock
from yidi.kernel.regions import default_registry
from yidi.platform.migrate import upgrade
from yidi.settings import Settings

HENAN_PREFECTURES = [
    "410100", "410200", "410300", "410400", "410500", "410600", "410700", "410800", "410900",
    "411000", "411100", "411200", "411300", "411400", "411500", "411600", "411700",
]  # fmt: skip


HENAN_PROVINCE = "410000"


def write_csv(path: Path, rows: int, seed: int = 2017) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(ANNEX2_COLUMNS)
        persons = generate_persons(rows, seed=seed, insured_region_codes=HENAN_PREFECTURES)
        for serial, person in enumerate(persons, start=1):
            number = person.resident_id.number
            writer.writerow(
                (
                    serial,
                    person.insured_region_code,
                    "",
                    person.name,
                    person.gender.label_zh,
                    number,
                    person.insurance_type.annex_code,
                    number,
                    person.social_security_card_number,
                    person.address,
                    "",
                    person.mobile,
                    "2",
                )
            )


def fresh_database(url: str | None, work: Path) -> str:
    if url is None:
        database = work / "bench.sqlite3"
        database.unlink(missing_ok=True)
        return f"sqlite:///{database}"
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP SCHEMA public CASCADE")
        connection.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()
    return url


def timed_import(imports: FilingImports, path: Path, label: str) -> float:
    started = time.perf_counter()
    # The rows lie in every Henan prefecture: the province's own submission (报盘所属地区 410000).
    report = imports.import_annex2(
        system_principal(), path.read_bytes(), path.name, region=HENAN_PROVINCE
    )
    elapsed = time.perf_counter() - started
    print(
        f"{label}: imported {report.imported:,} of {report.total_rows:,} rows "
        f"(rejected {report.rejected:,}, duplicates {report.duplicates:,}, "
        f"cross-prefecture conflicts {report.conflict_count:,}) in {elapsed:.1f} s: "
        f"{report.total_rows / elapsed:,.0f} rows/s (load average {os.getloadavg()[0]:.1f})"
    )
    return report.total_rows / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("rows", nargs="?", type=int, default=1_000_000)
    parser.add_argument("work", nargs="?", type=Path)
    parser.add_argument("--database-url", help="PostgreSQL URL (emptied); default SQLite")
    parser.add_argument("--second", type=int, default=0, help="rows of a second file")
    args = parser.parse_args()
    rows = args.rows
    work = args.work or Path(tempfile.mkdtemp(prefix="yidi-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    default_registry()  # load the division list outside the timed part
    csv_path = work / f"annex2-{rows}.csv"
    started = time.perf_counter()
    if not csv_path.exists():
        write_csv(csv_path, rows)
    print(
        f"wrote {rows:,} rows ({csv_path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - started:.1f} s"
    )

    settings = Settings(database_url=fresh_database(args.database_url, work), demo_mode=True)
    container = build_container(settings, clock=SystemClock())
    upgrade(container.engine)
    imports = FilingImports(container.uow, container.clock)
    print(f"database: {container.engine.dialect.name}")

    first = timed_import(imports, csv_path, "first import")
    started = time.perf_counter()
    replay = imports.import_annex2(
        system_principal(), csv_path.read_bytes(), csv_path.name, region=HENAN_PROVINCE
    )
    print(
        f"re-import of the same file: replayed={replay.replayed} in {time.perf_counter() - started:.1f} s"
    )
    if args.second:
        second_path = work / f"annex2-second-{args.second}.csv"
        if not second_path.exists():
            write_csv(second_path, args.second, seed=2018)
        second = timed_import(imports, second_path, f"second import (database holds {rows:,})")
        print(f"second import's rows/s over the first's: {second / first:.2f}")


if __name__ == "__main__":
    main()
