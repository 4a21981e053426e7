"""Clearing and 附件3/附件4 on Apache Spark, for histories that outgrow one machine.

The same SQL as the DuckDB path (:mod:`yidi.reports.columnar`) runs on Spark SQL over
the month-partitioned Parquet export (``clearing_month=YYYY-MM/``); the region mapping
(a few thousand codes) is a small table Spark broadcasts; the statement and the estimate
are assembled by the same pure functions. Sums are exact: every amount is an integer
number of fen (``BIGINT``), so the result does not depend on how Spark splits the work.

On one machine ``local_session()`` starts Spark in-process (``local[N]``); on a cluster the
same module runs under ``spark-submit`` (see docs/funds.md and ``python -m
yidi.reports.spark_facts --help``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pyspark.sql import SparkSession
from pyspark.sql.types import BooleanType, DataType, StringType, StructField, StructType

from yidi.funds.model import ClearingLevel
from yidi.funds.prepayment import Annex
from yidi.reports.columnar import FactAggregator

_TYPES: dict[str, DataType] = {"VARCHAR": StringType(), "BOOLEAN": BooleanType()}


def local_session(cores: int = 2, app_name: str = "yidi") -> SparkSession:
    """Spark in this process on ``cores`` threads, without its web UI (tests, one machine)."""
    return (
        SparkSession.builder.master(f"local[{cores}]")
        .appName(app_name)
        .config("spark.ui.enabled", "false")
        # Python workers (the settlement engine's mapInArrow) run this interpreter
        .config("spark.pyspark.python", sys.executable)
        .config("spark.executorEnv.PYTHONPATH", os.pathsep.join(p for p in sys.path if p))
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", str(max(2, 2 * cores)))
        # "2026-11" stays a string partition value, never a guessed date.
        .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
        .config("spark.sql.session.timeZone", "Asia/Shanghai")
        .getOrCreate()
    )


class SparkFacts(FactAggregator):
    """A Spark session with a ``facts`` view over a month-partitioned Parquet export."""

    param_style = ":"

    def __init__(self, spark: SparkSession, root: Path | str) -> None:
        self.spark = spark
        location = str(root)
        facts = spark.read.option("basePath", location).parquet(location)
        facts.createOrReplaceTempView("facts")

    def query(self, sql: str, params: Mapping[str, Any]) -> list[Sequence[Any]]:
        frame = self.spark.sql(sql, args=dict(params)) if params else self.spark.sql(sql)
        return [tuple(row) for row in frame.collect()]

    def register_map(
        self, name: str, rows: Iterable[Sequence[Any]], columns: Sequence[tuple[str, str]]
    ) -> None:
        schema = StructType([StructField(column, _TYPES[kind]) for column, kind in columns])
        self.spark.createDataFrame([tuple(r) for r in rows], schema).createOrReplaceTempView(name)


def main(argv: Sequence[str] | None = None) -> int:
    """``spark-submit``-able entry point: one month's clearing or one estimate, as JSON."""
    parser = argparse.ArgumentParser(prog="python -m yidi.reports.spark_facts")
    parser.add_argument("root", help="the export root (clearing_month=YYYY-MM/ partitions)")
    sub = parser.add_subparsers(dest="command", required=True)
    clearing = sub.add_parser("clearing", help="one month's clearing statement")
    clearing.add_argument("month")
    clearing.add_argument("--level", choices=[v.value for v in ClearingLevel], default="province")
    estimate = sub.add_parser("estimate", help="附件3 (in) or 附件4 (out) for a region")
    estimate.add_argument("annex", choices=["in", "out"])
    estimate.add_argument("region")
    estimate.add_argument("year", type=int)
    args = parser.parse_args(argv)

    spark = SparkSession.builder.appName("yidi").getOrCreate()
    facts = SparkFacts(spark, args.root)
    if args.command == "clearing":
        statement = facts.clear_month(args.month, ClearingLevel(args.level))
        out: dict[str, Any] = {
            "month": statement.month,
            "level": statement.level.value,
            "lines": [
                {
                    "insured": line.insured_region_code,
                    "treatment": line.treatment_region_code,
                    "person_times": line.person_times,
                    "due": str(line.due_total),
                }
                for line in statement.lines
            ],
        }
    else:
        annex = Annex.IN_PROVINCE if args.annex == "in" else Annex.OUT_OF_PROVINCE
        result = facts.estimate_prepayment(annex, args.region, args.year)
        out = {
            "annex": int(annex),
            "region": args.region,
            "year": args.year,
            "proposal_fen": result.proposal_total_fen,
        }
    json.dump(out, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
