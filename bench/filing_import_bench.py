"""Time a batch import (报盘) of a 附件2 CSV into a fresh SQLite database.

    PYTHONPATH=src python bench/filing_import_bench.py [rows] [work directory]

Generates ``rows`` synthetic persons (default 1,000,000) across the Henan
prefectures, writes them as a 附件2 CSV, migrates an empty database and
imports the file with the same service the API and CLI use, then imports it
again (an idempotent replay). Prints rows per second for the import.
"""

from __future__ import annotations

import csv
import sys
import tempfile
import time
from pathlib import Path

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


def write_csv(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(ANNEX2_COLUMNS)
        persons = generate_persons(rows, seed=2017, insured_region_codes=HENAN_PREFECTURES)
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


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    work = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(tempfile.mkdtemp(prefix="yidi-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    default_registry()  # load the division list outside the timed part
    csv_path = work / "annex2.csv"
    started = time.perf_counter()
    write_csv(csv_path, rows)
    print(
        f"wrote {rows:,} rows ({csv_path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - started:.1f} s"
    )

    database = work / "bench.sqlite3"
    database.unlink(missing_ok=True)
    settings = Settings(database_url=f"sqlite:///{database}", demo_mode=True)
    container = build_container(settings, clock=SystemClock())
    upgrade(container.engine)
    imports = FilingImports(container.uow, container.clock)

    started = time.perf_counter()
    # The rows lie in every Henan prefecture: the province's own submission (报盘所属地区 410000).
    report = imports.import_annex2(
        system_principal(), csv_path.read_bytes(), csv_path.name, region=HENAN_PROVINCE
    )
    elapsed = time.perf_counter() - started
    print(
        f"imported {report.imported:,} of {report.total_rows:,} rows "
        f"(rejected {report.rejected:,}, duplicates {report.duplicates:,}, "
        f"cross-prefecture conflicts {report.conflict_count:,}) in {elapsed:.1f} s: "
        f"{report.total_rows / elapsed:,.0f} rows/s"
    )
    started = time.perf_counter()
    replay = imports.import_annex2(
        system_principal(), csv_path.read_bytes(), csv_path.name, region=HENAN_PROVINCE
    )
    print(
        f"re-import of the same file: replayed={replay.replayed} in {time.perf_counter() - started:.1f} s"
    )


if __name__ == "__main__":
    main()
