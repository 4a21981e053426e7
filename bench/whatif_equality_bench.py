"""1,000,000-line equality run: the columnar engine against the per-claim engine, same claims.

Generates ``--lines`` fee lines (default 1,000,000) as claims of ``--claim-lines`` lines
(default 30) under the all-features test region 990100 (``bench/columnar_settle_bench.py``'s
generator: a 50,000-item catalogue, about 3 claims per person-year, interleaved), turns every
claim into a claim object, then in one run:

1. the per-claim engine (``settle()`` over every person's claims in order, year-to-date
   carried, catalogue resolution included): the reference;
2. the columnar engine from the claim objects (``settle_batch``: building the columns, with
   the per-claim checks and catalogue look-ups, then settling);
3. the columnar engine on the ready columns only (``settle_columns``).

Every payer amount of every claim of (2) and (3) is asserted equal to (1) (exit status 1 on
any difference). Rates are lines per CPU-second (process time, one thread), and each
columnar rate is also given as a multiple of the per-claim engine's in the same run.

With ``--spark``, also (4): the same claims written as a JSON-lines claims file, read by Spark
in local mode (``--spark-cores``, default 2) and settled by ``yidi.reports.spark_settlement.
settle_frame`` (repartitioned by person, numpy engine per partition through mapInArrow); its
amounts are checked against the reference too, and its wall time is reported (Spark's CPU is
spread over worker processes, so wall time, not CPU time, is what it costs here).

Run:  PYTHONPATH=src:bench python bench/whatif_equality_bench.py [--lines 1000000] [--spark]
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from columnar_settle_bench import DAY, ROOT, Data, make_chunk, sample_claims

from yidi.catalog.files import generate_catalog
from yidi.catalog.model import CatalogVersion
from yidi.kernel.insurance import InsuranceType, SettlementMode
from yidi.policy.loader import load_policy_library, policy_at
from yidi.policy.model import Policy
from yidi.settlement.columnar import (
    AMOUNT_FIELDS,
    BatchClaim,
    settle_batch,
    settle_columns,
    settle_sequential,
)


def _claim_dict(entry: BatchClaim, claim_id: str) -> dict[str, Any]:
    claim = entry.claim
    return {
        "claim_id": claim_id,
        "person_id": entry.person_id,
        "insured_region": claim.insured_region,
        "treatment_region": claim.treatment_region,
        "insurance_type": claim.insurance_type.value,
        "person_type": claim.person_type.value,
        "hospital_level": int(claim.hospital_level),
        "filing_category": None if claim.filing_category is None else claim.filing_category.value,
        "admitted_on": claim.admitted_on.isoformat(),
        "discharged_on": claim.discharged_on.isoformat(),
        "encounter_type": claim.encounter_type.value,
        "birth_date": None if claim.birth_date is None else claim.birth_date.isoformat(),
        "use_personal_account": claim.use_personal_account,
        "personal_account_balance": str(claim.personal_account_balance),
        "fee_lines": [
            {
                "serial": line.serial,
                "catalog_code": line.catalog_code,
                "quantity": str(line.quantity),
                "unit_price": str(line.unit_price),
                "line_amount": str(line.line_amount),
                "occurred_at": line.occurred_at.isoformat(),
            }
            for line in claim.fee_lines
        ],
    }


def _on_spark(
    batch: list[BatchClaim], policy: Policy, catalog: CatalogVersion, cores: int
) -> tuple[dict[str, Any], float]:
    from yidi.reports.spark_facts import local_session
    from yidi.reports.spark_settlement import settle_frame

    folder = Path(tempfile.mkdtemp(prefix="yidi-spark-bench-"))
    path = folder / "claims.jsonl"
    with path.open("w", encoding="utf-8") as handle:
        for index, entry in enumerate(batch):
            handle.write(json.dumps(_claim_dict(entry, str(index))) + "\n")
    spark = local_session(cores=cores, app_name="yidi-whatif-bench")
    try:
        start = time.perf_counter()
        frame = spark.read.json(str(path))
        rows = settle_frame(
            frame,
            [("r", _Fixed(policy))],
            {catalog.treatment_region: catalog}.__getitem__,
            partitions=2 * cores,
        ).collect()
        wall = time.perf_counter() - start
    finally:
        spark.stop()
        shutil.rmtree(folder, ignore_errors=True)
    return {row["claim_id"]: row for row in rows}, wall


class _Fixed:
    """One policy for every claim (picklable for Spark's workers)."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy

    def __call__(self, _claim: object) -> Policy:
        return self.policy


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--claim-lines", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--spark", action="store_true", help="also settle on Spark local mode")
    parser.add_argument("--spark-cores", type=int, default=2)
    args = parser.parse_args()

    policy = policy_at(
        "990100", InsuranceType.EMPLOYEE, DAY, load_policy_library(ROOT / "tests/cases/policies")
    )
    catalog = generate_catalog(50_000, seed=1, treatment_region="430400")
    data = Data(policy, catalog)
    rng = np.random.default_rng(args.seed)
    claims = -(-args.lines // args.claim_lines)
    cols, code, day = make_chunk(data, rng, claims, args.claim_lines)
    persons = int(cols.person.max()) + 1
    t0 = time.perf_counter()
    batch, index = sample_claims(data, cols, code, day, persons)
    assert index == list(range(claims))
    built = time.perf_counter() - t0
    lines = int(cols.line_count.sum())

    def policy_for(_claim: object) -> object:
        return policy

    catalog_for = {"430400": catalog}.__getitem__
    t0 = time.process_time()
    reference = settle_sequential(batch, policy_for, catalog_for, mode=SettlementMode.DIRECT)  # type: ignore[arg-type]
    per_claim = time.process_time() - t0
    t0 = time.process_time()
    from_objects = settle_batch(batch, policy_for, catalog_for, mode=SettlementMode.DIRECT)  # type: ignore[arg-type]
    objects_cpu = time.process_time() - t0
    t0 = time.process_time()
    on_columns = settle_columns(cols)
    columns_cpu = time.process_time() - t0

    spark_rows: dict[str, Any] | None = None
    spark_wall = 0.0
    if args.spark:
        spark_rows, spark_wall = _on_spark(batch, policy, catalog, args.spark_cores)

    compared = different = 0
    for position, expected in enumerate(reference):
        assert not isinstance(expected, str), expected
        for name in AMOUNT_FIELDS:
            want = getattr(expected, name).fen
            for run in (from_objects, on_columns):
                compared += 1
                if int(run.amounts[name][position]) != want:
                    different += 1
            if spark_rows is not None:
                compared += 1
                if spark_rows[str(position)][f"r_{name}"] != want:
                    different += 1

    def rate(seconds: float) -> str:
        return f"{lines / seconds:,.0f} lines/CPU-s ({seconds:.2f} CPU s)"

    print(
        f"claims {claims:,} x {args.claim_lines} lines = {lines:,} lines; {persons:,} person-years"
    )
    print(f"claim objects built in {built:.1f} s (not timed below)")
    print(f"per-claim engine (reference)  : {rate(per_claim)}")
    print(
        f"columnar from claim objects   : {rate(objects_cpu)} = {per_claim / objects_cpu:,.1f}x the reference"
    )
    print(
        f"columnar on ready columns     : {rate(columns_cpu)} = {per_claim / columns_cpu:,.1f}x the reference"
    )
    if args.spark:
        print(
            f"Spark local[{args.spark_cores}] settle_frame: {lines / spark_wall:,.0f} lines/wall-s "
            f"({spark_wall:.1f} s wall, file read to collected rows)"
        )
    print(
        f"fallback claims: {from_objects.fallback_claims} (objects), {on_columns.fallback_claims} (columns)"
    )
    print(f"equality: {compared:,} amounts compared, {different} different")
    print(f"max RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")
    if different:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
