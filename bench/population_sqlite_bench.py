"""Time generating demo persons straight into a fresh SQLite database.

    PYTHONPATH=src python bench/population_sqlite_bench.py [count]

Creates a temporary database, migrates it, then times ``load_population``
(generator + batched inserts with all indexes in place) and prints persons/s.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy.orm import sessionmaker

from yidi.demo.loader import load_population
from yidi.kernel.regions import default_registry, hengyang_county_codes
from yidi.platform.db import make_engine
from yidi.platform.migrate import upgrade
from yidi.platform.uow import SqlUnitOfWork


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
        upgrade(engine)
        default_registry()
        started = time.perf_counter()
        inserted = load_population(
            SqlUnitOfWork(sessionmaker(bind=engine)),
            count,
            seed=2017,
            insured_region_codes=hengyang_county_codes(),
        )
        elapsed = time.perf_counter() - started
        size_mb = (Path(tmp) / "bench.sqlite3").stat().st_size / 1e6
        print(
            f"inserted {inserted:,} persons into SQLite in {elapsed:.1f} s "
            f"({inserted / elapsed:,.0f} persons/s), database {size_mb:,.0f} MB"
        )
        engine.dispose()


if __name__ == "__main__":
    main()
