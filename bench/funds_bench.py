"""Clearing and the 附件4 estimate over N synthetic settlement facts (default 10,000,000).

Generates the facts inside DuckDB with ``range()`` straight into Parquet (no
Python loop), then times: the monthly clearing at province and at prefecture
level, and the 附件3/附件4 estimates for 河南省 and for 郑州市 (each scanning the
three history years). Prints wall time per step and the process's peak memory.

    PYTHONPATH=src python bench/funds_bench.py 10000000 [--keep DIR]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import duckdb

from yidi.funds.model import ClearingLevel, RegionKeys
from yidi.funds.prepayment import Annex
from yidi.kernel.regions import DivisionLevel, default_registry
from yidi.reports.columnar import ColumnarFacts

CATEGORIES = ["retiree_resettled", "long_term_resident", "posted_worker", "referral", "emergency"]


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate(path: Path, count: int) -> None:
    registry = default_registry()
    counties = [
        d.code for d in registry.all(include_retired=False) if d.level is DivisionLevel.COUNTY
    ]
    henan = [c for c in counties if c.startswith("41")]
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")
    con.execute("CREATE TABLE all_codes (idx INTEGER, code VARCHAR)")
    con.executemany("INSERT INTO all_codes VALUES (?, ?)", list(enumerate(counties)))
    con.execute("CREATE TABLE henan_codes (idx INTEGER, code VARCHAR)")
    con.executemany("INSERT INTO henan_codes VALUES (?, ?)", list(enumerate(henan)))
    categories = ", ".join(f"'{c}'" for c in CATEGORIES)
    # Every 50th fact reverses the one before it (same parties, negated amounts).
    con.execute(
        f"""
        COPY (
          WITH base AS (
            SELECT i,
                   CASE WHEN i % 50 = 49 THEN i - 1 ELSE i END AS origin,
                   i % 50 = 49 AS is_reversal
            FROM range({count}) t(i)
          ), drawn AS (
            SELECT i, origin, is_reversal,
                   hash(origin) AS h1, hash(origin * 7 + 3) AS h2, hash(origin * 13 + 5) AS h3
            FROM base
          )
          SELECT
            'S' || i AS setl_id,
            CASE WHEN is_reversal THEN 'S' || origin END AS reverses_setl_id,
            DATE '2014-01-01' + CAST((h1 % 1461) + CASE WHEN is_reversal THEN 2 ELSE 0 END AS INTEGER)
              AS settled_on,
            strftime(DATE '2014-01-01' + CAST((h1 % 1461) + CASE WHEN is_reversal THEN 2 ELSE 0 END
              AS INTEGER), '%Y-%m') AS clearing_month,
            CASE WHEN h2 % 10 < 6 THEN hc.code ELSE ac.code END AS insured_region_code,
            tc.code AS treatment_region_code,
            'H' || tc.code || lpad(CAST(h3 % 20 AS VARCHAR), 5, '0') AS hospital_code,
            CASE WHEN h3 % 3 = 0 THEN '390' ELSE '310' END AS insurance_type,
            CASE WHEN h2 % 7 = 6 THEN NULL ELSE [{categories}][CAST(h2 % 5 AS INTEGER) + 1] END
              AS filing_category,
            CASE WHEN is_reversal THEN -1 ELSE 1 END AS person_times,
            (CASE WHEN is_reversal THEN -1 ELSE 1 END) * CAST(100000 + h3 % 4000000 AS BIGINT)
              AS total_charges_fen,
            (CASE WHEN is_reversal THEN -1 ELSE 1 END) * CAST(50000 + h3 % 2000000 AS BIGINT)
              AS pooled_fund_paid_fen,
            (CASE WHEN is_reversal THEN -1 ELSE 1 END) * CAST(h1 % 300000 AS BIGINT)
              AS serious_illness_paid_fen,
            (CASE WHEN is_reversal THEN -1 ELSE 1 END) * CAST(h2 % 200000 AS BIGINT)
              AS large_expense_paid_fen,
            (CASE WHEN is_reversal THEN -1 ELSE 1 END) * CAST(h3 % 50000 AS BIGINT)
              AS medical_assistance_paid_fen,
            -- 清算类别 (a reversal keeps its settlement's: the hashes are the origin's)
            CASE WHEN h2 % 5 = 0 THEN '11' WHEN h2 % 11 = 0 THEN '41' ELSE '21' END
              AS clearing_type
          FROM drawn
          JOIN henan_codes hc ON hc.idx = CAST(h1 % {len(henan)} AS INTEGER)
          JOIN all_codes ac ON ac.idx = CAST(h2 % {len(counties)} AS INTEGER)
          JOIN all_codes tc ON tc.idx = CAST(h3 % {len(counties)} AS INTEGER)
        ) TO '{path}' (FORMAT parquet, ROW_GROUP_SIZE 1000000)
        """
    )
    con.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("count", type=int, nargs="?", default=10_000_000)
    parser.add_argument("--keep", type=Path, default=None, help="keep the Parquet file here")
    args = parser.parse_args()
    directory = args.keep or Path(tempfile.mkdtemp(prefix="yidi-funds-bench-"))
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "facts.parquet"

    started = time.perf_counter()
    generate(path, args.count)
    size_mib = path.stat().st_size / 2**20
    print(f"generate {args.count:,} facts -> Parquet: {time.perf_counter() - started:.1f} s, "
          f"{size_mib:.0f} MiB")  # fmt: skip

    keys = RegionKeys()
    facts = ColumnarFacts.from_parquet(path)
    facts.con.execute("SET threads = 2")
    for level in ClearingLevel:
        started = time.perf_counter()
        statement = facts.clear_month("2016-06", level, keys=keys)
        print(
            f"clearing 2016-06 {level.value:<10}: {time.perf_counter() - started:.1f} s, "
            f"{len(statement.lines):,} pairs, {statement.person_times:,} person-times, "
            f"due {statement.due_total.formatted()} yuan"
        )
    for annex, region in ((Annex.OUT_OF_PROVINCE, "410000"), (Annex.OUT_OF_PROVINCE, "410100"),
                          (Annex.IN_PROVINCE, "410000")):  # fmt: skip
        started = time.perf_counter()
        estimate = facts.estimate_prepayment(annex, region, 2018, keys=keys)
        total = estimate.chosen.total
        print(
            f"annex {int(annex)} estimate {region} for 2018: {time.perf_counter() - started:.1f} s, "
            f"history {[t.total.column(1) for t in estimate.history]} person-times, "
            f"estimate {total.column(1):,} person-times, {total.column(2) / 100:,.2f} yuan"
        )
    print(f"peak memory (max RSS): {peak_mib():,.0f} MiB")


if __name__ == "__main__":
    main()
