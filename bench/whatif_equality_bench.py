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

Run:  PYTHONPATH=src:bench python bench/whatif_equality_bench.py [--lines 1000000]
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
from columnar_settle_bench import DAY, ROOT, Data, make_chunk, sample_claims

from yidi.catalog.files import generate_catalog
from yidi.kernel.insurance import InsuranceType, SettlementMode
from yidi.policy.loader import load_policy_library, policy_at
from yidi.settlement.columnar import AMOUNT_FIELDS, settle_batch, settle_columns, settle_sequential


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--claim-lines", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
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

    compared = different = 0
    for position, expected in enumerate(reference):
        assert not isinstance(expected, str), expected
        for name in AMOUNT_FIELDS:
            want = getattr(expected, name).fen
            for run in (from_objects, on_columns):
                compared += 1
                if int(run.amounts[name][position]) != want:
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
    print(
        f"fallback claims: {from_objects.fallback_claims} (objects), {on_columns.fallback_claims} (columns)"
    )
    print(f"equality: {compared:,} amounts compared, {different} different")
    print(f"max RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")
    if different:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
