"""Settlement facts from PostgreSQL to Parquet, and clearing on DuckDB and on Spark.

Setup: N synthetic facts (``funds_bench.generate``) loaded into a fresh PostgreSQL schema
by ``COPY FROM STDIN``. Then, in the same run:
- yidi, whole-table export (``export_facts_to_parquet``: rows through the driver);
- yidi, month-partitioned export (``export_facts_partitioned``: one ``COPY … TO STDOUT`` of
  the changed months, split by month into Parquet), then an incremental run that finds
  nothing new;
- reference: one ``COPY (SELECT …) TO STDOUT`` of the whole table into the same DuckDB
  Parquet step — the floor for getting the rows out of PostgreSQL;
- clearing of one month at prefecture level over the partitioned export, on DuckDB and
  on Spark ``local[2]``.
Prints each time and the ratios.

    PYTHONPATH=src python bench/facts_export_bench.py 1000000 \
        --database-url postgresql+psycopg://yidi@127.0.0.1:55432/yidi
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from funds_bench import generate  # noqa: E402
from gateway_load import fresh_schema  # noqa: E402

from yidi.bootstrap import build_container  # noqa: E402
from yidi.funds.model import ClearingLevel  # noqa: E402
from yidi.kernel.clock import SystemClock  # noqa: E402
from yidi.platform.db import make_engine  # noqa: E402
from yidi.platform.migrate import upgrade  # noqa: E402
from yidi.reports.columnar import (  # noqa: E402
    FACT_SCHEMA,
    ColumnarFacts,
    _csv_to_parquet,
    export_facts_partitioned,
    export_facts_to_parquet,
)
from yidi.settings import Settings  # noqa: E402

COLUMNS = [c for c in FACT_SCHEMA]


def load(url: str, parquet: Path, work: Path) -> None:
    staging = work / "load.csv"
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT {', '.join(COLUMNS)}, now() AS recorded_at FROM read_parquet('{parquet}')) "
        f"TO '{staging}' (FORMAT csv, HEADER false)"
    )
    con.close()
    engine = make_engine(url)
    upgrade(engine)
    with engine.begin() as connection:
        raw = connection.connection.dbapi_connection
        statement = (
            f"COPY settlement_facts ({', '.join(COLUMNS)}, recorded_at) FROM STDIN (FORMAT csv)"
        )
        with (
            raw.cursor() as cursor,  # type: ignore[union-attr]
            cursor.copy(statement) as copy,
            staging.open("rb") as handle,
        ):
            while block := handle.read(1 << 20):
                copy.write(block)
        connection.exec_driver_sql("ANALYZE settlement_facts")
    engine.dispose()


def reference_copy(url: str, work: Path) -> float:
    engine = make_engine(url)
    started = time.perf_counter()
    staging = work / "ref.csv"
    with engine.connect() as connection, staging.open("w", encoding="utf-8") as handle:
        raw = connection.connection.dbapi_connection
        statement = (
            f"COPY (SELECT {', '.join(COLUMNS)} FROM settlement_facts) TO STDOUT (FORMAT csv)"
        )
        with raw.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
            for chunk in copy:
                handle.write(bytes(chunk).decode("utf-8"))
    _csv_to_parquet(staging, work / "ref.parquet", FACT_SCHEMA)
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed


def timed(label: str, action):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    result = action()
    elapsed = time.perf_counter() - started
    print(f"{label}: {elapsed:.1f} s")
    return elapsed, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("count", type=int, nargs="?", default=1_000_000)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--schema", default="bench_facts")
    parser.add_argument("--no-spark", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="yidi-facts-"))
    generate(work / "generated.parquet", args.count)
    url = fresh_schema(args.database_url, args.schema)
    timed(
        f"load {args.count:,} facts into PostgreSQL (COPY FROM)",
        lambda: load(url, work / "generated.parquet", work),
    )
    container = build_container(Settings(database_url=url, demo_mode=True), clock=SystemClock())

    whole, _ = timed(
        "yidi whole-table export (driver rows)",
        lambda: export_facts_to_parquet(container.uow(), work / "whole.parquet"),
    )
    parted, report = timed(
        "yidi month-partitioned export (one COPY, split by month)",
        lambda: export_facts_partitioned(container.uow(), work / "parts"),
    )
    print(f"  {len(report.written)} months, {report.rows:,} rows")
    _, second = timed(
        "yidi incremental re-export (nothing new)",
        lambda: export_facts_partitioned(container.uow(), work / "parts"),
    )
    assert second.written == {}
    floor = reference_copy(url, work)
    print(f"reference COPY TO STDOUT + the same Parquet step: {floor:.1f} s")
    print(f"ratio whole/floor {whole / floor:.1f}x; partitioned/floor {parted / floor:.1f}x")

    month = max(report.written)
    duck = ColumnarFacts.from_parquet(work / "parts")
    duck_time, duck_statement = timed(
        f"clearing {month} by prefecture on DuckDB",
        lambda: duck.clear_month(month, ClearingLevel.PREFECTURE),
    )
    if not args.no_spark:
        from yidi.reports.spark_facts import SparkFacts, local_session

        _, spark = timed("Spark local[2] session start", lambda: local_session(cores=2))
        on_spark = SparkFacts(spark, work / "parts")
        spark_time, spark_statement = timed(
            f"clearing {month} by prefecture on Spark local[2]",
            lambda: on_spark.clear_month(month, ClearingLevel.PREFECTURE),
        )
        assert spark_statement == duck_statement, "Spark and DuckDB disagree"
        print(
            f"ratio Spark/DuckDB {spark_time / duck_time:.1f}x (same statement, {len(duck_statement.lines):,} lines)"
        )
        spark.stop()
    container.engine.dispose()


if __name__ == "__main__":
    main()
