"""The columnar settlement engine on Apache Spark: re-settlement and 政策调整测算 beyond one machine.

A Spark DataFrame holds one row per claim, in the claim format of docs/claim-files.md (fee
lines as an array of structs, as in the Parquet claims files) plus ``claim_id``,
``person_id`` and ``seq`` (the settlement order). It is repartitioned by ``person_id`` and
sorted by ``seq`` within each partition, so every person's claims are in one partition in
settlement order: year-to-date totals carry exactly as on one machine. Each partition is
settled by the numpy engine (:mod:`yidi.settlement.columnar`) through ``mapInArrow``; the
amounts are integers in fen, so the sums Spark takes over partitions are exact and do not
depend on how the work is split. The fund impact is then aggregated by Spark itself.

Equality with the single-machine engine and with the per-claim engine is tested in Spark
local mode (``tests/integration/test_spark_settlement.py``). On a cluster, the executors need
the ``yidi[spark]`` package installed (the policy library and catalogue travel with the
task, pickled).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from yidi.catalog.files import sample_catalog
from yidi.catalog.model import CatalogVersion
from yidi.kernel.errors import YidiError
from yidi.kernel.insurance import SettlementMode
from yidi.policy.loader import PolicyLibrary, load_policy_library
from yidi.reports.whatif import (
    DIMENSIONS,
    FUND_FIELDS,
    Bucket,
    ClaimChange,
    WhatIfReport,
    claim_keys,
    library_resolver,
    mask_person,
    present,
)
from yidi.settlement.claims import Claim
from yidi.settlement.columnar import (
    AMOUNT_FIELDS,
    BatchClaim,
    build_columns,
    settle_columns,
)
from yidi.settlement.inputs import parse_claim, parse_year_to_date

PolicyResolver = Callable[[Claim], Any]
CatalogResolver = Callable[[str], CatalogVersion]

#: the key columns of every output row
_KEYS = ("claim_id", "person_id", "seq", *DIMENSIONS)


def output_schema(runs: Sequence[str]) -> str:
    """The DDL schema of :func:`settle_frame`'s result for the named runs."""
    columns = [
        "claim_id string",
        "person_id string",
        "seq long",
        *(f"{dim} string" for dim in DIMENSIONS),
    ]
    for run in runs:
        columns.append(f"{run}_status string")
        columns.append(f"{run}_fallback boolean")
        columns.extend(f"{run}_{name} long" for name in AMOUNT_FIELDS)
    return ", ".join(columns)


def _claim_of(row: Mapping[str, Any]) -> tuple[BatchClaim | None, str | None, dict[str, str]]:
    """A claim row (Spark's nulls left out) as a batch claim, or the error code that refuses it."""
    mapping = present(dict(row))
    if isinstance(mapping.get("claim"), str):  # a row carrying the claim as JSON text
        mapping = {
            **json.loads(mapping["claim"]),
            **{k: v for k, v in mapping.items() if k != "claim"},
        }
    person = str(mapping.get("person_id"))
    try:
        claim = parse_claim(mapping)
        opening = parse_year_to_date(mapping.get("year_to_date"), claim.settlement_year)
    except YidiError as error:
        return None, error.code, dict.fromkeys(DIMENSIONS, "")
    return BatchClaim(person, claim, opening), None, claim_keys(claim)


def _partition_settler(
    runs: Sequence[tuple[str, PolicyResolver]],
    catalog_for: CatalogResolver,
    mode: SettlementMode,
) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    names = [name for name, _ in runs]

    def settle_partition(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        rows = [row for batch in batches for row in batch.to_pylist()]
        if not rows:
            return
        parsed = [_claim_of(row) for row in rows]
        good = [i for i, (entry, _, _) in enumerate(parsed) if entry is not None]
        batch = [entry for entry, _, _ in parsed if entry is not None]
        out: dict[str, list[Any]] = {
            "claim_id": [str(row["claim_id"]) for row in rows],
            "person_id": [str(row["person_id"]) for row in rows],
            "seq": [int(row["seq"]) for row in rows],
        }
        for dim in DIMENSIONS:
            out[dim] = [keys[dim] for _, _, keys in parsed]
        for name, policy_for in runs:
            status: list[str | None] = [code for _, code, _ in parsed]
            fallback = [False] * len(rows)
            amounts = {field: [0] * len(rows) for field in AMOUNT_FIELDS}
            if batch:
                cols = build_columns(batch, policy_for, catalog_for, mode=mode)
                result = settle_columns(cols)
                for k, i in enumerate(good):
                    status[i] = result.status[k]
                    fallback[i] = bool(cols.fallback[k]) if cols.fallback is not None else False
                    for field in AMOUNT_FIELDS:
                        amounts[field][i] = int(result.amounts[field][k])
            out[f"{name}_status"] = status
            out[f"{name}_fallback"] = fallback
            for field in AMOUNT_FIELDS:
                out[f"{name}_{field}"] = amounts[field]
        schema = pa.schema(
            [
                ("claim_id", pa.string()),
                ("person_id", pa.string()),
                ("seq", pa.int64()),
                *((dim, pa.string()) for dim in DIMENSIONS),
                *(
                    item
                    for run in names
                    for item in (
                        (f"{run}_status", pa.string()),
                        (f"{run}_fallback", pa.bool_()),
                        *((f"{run}_{field}", pa.int64()) for field in AMOUNT_FIELDS),
                    )
                ),
            ]
        )
        yield pa.RecordBatch.from_pydict(out, schema=schema)

    return settle_partition


def with_settlement_order(frame: DataFrame) -> DataFrame:
    """``frame`` with ``claim_id``, ``person_id`` and ``seq`` filled in where absent.

    ``seq`` defaults to the row's position as read (``monotonically_increasing_id`` of a
    freshly read file follows the file order); ``person_id`` to ``id_number``, else the
    claim itself; ``claim_id`` to ``seq``."""
    columns = set(frame.columns)
    if "seq" not in columns:
        frame = frame.withColumn("seq", F.monotonically_increasing_id())
    if "claim_id" not in columns:
        frame = frame.withColumn("claim_id", F.col("seq").cast("string"))
    person = [F.col("person_id")] if "person_id" in columns else []
    if "id_number" in columns:
        person.append(F.col("id_number"))
    person.append(F.concat(F.lit("claim:"), F.col("claim_id").cast("string")))
    return frame.withColumn("person_id", F.coalesce(*(p.cast("string") for p in person)))


def settle_frame(
    frame: DataFrame,
    runs: Sequence[tuple[str, PolicyResolver]],
    catalog_for: CatalogResolver,
    *,
    mode: SettlementMode = SettlementMode.DIRECT,
    partitions: int | None = None,
) -> DataFrame:
    """Every claim of ``frame`` settled under each run's policies (one row per claim)."""
    ordered = with_settlement_order(frame)
    count = partitions or ordered.sparkSession.sparkContext.defaultParallelism
    ordered = ordered.repartition(count, "person_id").sortWithinPartitions("person_id", "seq")
    return ordered.mapInArrow(
        _partition_settler(runs, catalog_for, mode), output_schema([n for n, _ in runs])
    )


def what_if_frame(
    frame: DataFrame,
    catalog_for: CatalogResolver,
    *,
    current: PolicyLibrary | None = None,
    candidate: PolicyLibrary,
    on_date: dt.date | None = None,
    mode: SettlementMode = SettlementMode.DIRECT,
    top: int = 20,
    partitions: int | None = None,
) -> WhatIfReport:
    """:func:`yidi.reports.whatif.what_if` on Spark: the same report, aggregated by Spark."""
    runs = [
        ("current", library_resolver(current, None)),
        ("candidate", library_resolver(candidate, on_date)),
    ]
    settled = settle_frame(frame, runs, catalog_for, mode=mode, partitions=partitions).cache()
    try:
        sums = [
            F.sum(F.col(f"{run}_{name}")).alias(f"{run}_{name}")
            for run in ("current", "candidate")
            for name in FUND_FIELDS
        ]

        def bucket(row: Any) -> Bucket:
            out = Bucket(claims=int(row["claims"]))
            for name in FUND_FIELDS:
                out.current[name] = int(row[f"current_{name}"] or 0)
                out.candidate[name] = int(row[f"candidate_{name}"] or 0)
            return out

        total_row = settled.agg(F.count(F.lit(1)).alias("claims"), *sums).collect()[0]
        by: dict[str, dict[str, Bucket]] = {}
        for dim in DIMENSIONS:
            rows = settled.groupBy(dim).agg(F.count(F.lit(1)).alias("claims"), *sums).collect()
            by[dim] = {row[dim]: bucket(row) for row in rows}
        errors: list[dict[str, int]] = []
        fallback: list[int] = []
        for run in ("current", "candidate"):
            rows = (
                settled.where(F.col(f"{run}_status").isNotNull())
                .groupBy(f"{run}_status")
                .count()
                .collect()
            )
            errors.append({row[f"{run}_status"]: int(row["count"]) for row in rows})
            fallback.append(settled.where(F.col(f"{run}_fallback")).count())
        delta = F.col("candidate_fund_paid_total") - F.col("current_fund_paid_total")
        changed = (
            settled.withColumn("delta", delta)
            .where(F.col("delta") != 0)
            .orderBy(F.abs(F.col("delta")).desc(), F.col("claim_id"))
            .limit(top)
            .collect()
        )
    finally:
        settled.unpersist()
    changes = [
        ClaimChange(
            row["claim_id"],
            mask_person(row["person_id"]),
            row["region"],
            row["month"],
            int(row["current_fund_paid_total"]),
            int(row["candidate_fund_paid_total"]),
            row["current_status"],
            row["candidate_status"],
        )
        for row in changed
    ]
    return WhatIfReport(
        claims=int(total_row["claims"]),
        total=bucket(total_row),
        by=by,
        top=changes,
        errors_current=errors[0],
        errors_candidate=errors[1],
        fallback_current=fallback[0],
        fallback_candidate=fallback[1],
        candidate_date=on_date,
    )


def read_claims_frame(spark: SparkSession, path: str) -> DataFrame:
    """A claims file or folder (Parquet, else JSON lines) as a DataFrame in file order."""
    reader = spark.read
    frame = reader.parquet(path) if path.rstrip("/").endswith(".parquet") else reader.json(path)
    return with_settlement_order(frame)


def main(argv: Sequence[str] | None = None) -> int:
    """``spark-submit``-able what-if: a claims file (Parquet or JSON lines, the claim format of
    docs/claim-files.md), the candidate policy tree; the report as JSON on standard output.
    Catalogues are the shipped sample catalogues of the treatment regions."""
    parser = argparse.ArgumentParser(prog="python -m yidi.reports.spark_settlement")
    parser.add_argument("claims", help="claims file or folder (.parquet, else JSON lines)")
    parser.add_argument("--policy-root", required=True, help="the candidate policy tree")
    parser.add_argument("--current-root", help="the current policy tree (default: shipped)")
    parser.add_argument("--date", help="candidate policy in force on this date (YYYY-MM-DD)")
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--partitions", type=int)
    args = parser.parse_args(argv)
    candidate = load_policy_library(Path(args.policy_root))
    current = None if args.current_root is None else load_policy_library(Path(args.current_root))
    for library in (candidate, current):
        if library is not None and library.issues:
            sys.stderr.write(f"POLICY_FILE_INVALID: {library.issues[0]}\n")
            return 2
    spark = SparkSession.builder.appName("yidi-whatif").getOrCreate()
    report = what_if_frame(
        read_claims_frame(spark, args.claims),
        sample_catalog,
        current=current,
        candidate=candidate,
        on_date=None if args.date is None else dt.date.fromisoformat(args.date),
        top=args.top,
        partitions=args.partitions,
    )
    json.dump(report.as_dict(), sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")
    return 0


__all__ = [
    "main",
    "output_schema",
    "read_claims_frame",
    "settle_frame",
    "what_if_frame",
    "with_settlement_order",
]

if __name__ == "__main__":
    raise SystemExit(main())
