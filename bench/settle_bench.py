"""Settlement engine benchmark.

1. One 300-line claim settled in process: median and p99 over N runs (default 2000).
2. Throughput: 100,000 claims of 100 lines each (policy and catalogue lookups done once,
   as a server would cache them; the per-claim catalogue resolution is included).

Run: PYTHONPATH=src python bench/settle_bench.py [--runs 2000] [--claims 100000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import time
from decimal import Decimal

from yidi.domain.claims import Claim, FeeLine, YearToDate, resolve_fee_lines
from yidi.domain.insurance import (
    EncounterType,
    FilingCategory,
    HospitalLevel,
    InsuranceType,
    PersonType,
)
from yidi.domain.money import Money
from yidi.policy.catalog_files import generate_catalog
from yidi.policy.loader import policy_at
from yidi.settlement import settle

DAY = dt.date(2017, 6, 10)


def make_claim(rng: random.Random, codes: list[str], lines: int) -> Claim:
    fee_lines = []
    for index in range(lines):
        quantity = Decimal(rng.randint(1, 20))
        unit_price = Decimal(rng.randint(100, 500_000)).scaleb(-2)
        fee_lines.append(
            FeeLine(
                serial=str(index),
                catalog_code=rng.choice(codes),
                hospital_item_code="H",
                name="项目",
                quantity=quantity,
                unit_price=unit_price,
                line_amount=Money.rounded(quantity * unit_price),
                occurred_at=dt.datetime.combine(DAY, dt.time(9)),
            )
        )
    return Claim(
        insured_region="430400",
        treatment_region="430400",
        insurance_type=InsuranceType.RESIDENT,
        person_type=PersonType.RESIDENT_ADULT,
        hospital_level=HospitalLevel.LEVEL_3,
        filing_category=FilingCategory.LONG_TERM_RESIDENT,
        admitted_on=DAY,
        discharged_on=DAY + dt.timedelta(days=7),
        encounter_type=EncounterType.INPATIENT,
        fee_lines=tuple(fee_lines),
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--claims", type=int, default=100_000)
    args = parser.parse_args()

    catalog = generate_catalog(50_000, seed=1)
    policy = policy_at("430400", InsuranceType.RESIDENT, DAY + dt.timedelta(days=7))
    codes = list(catalog.items)
    rng = random.Random(42)
    ytd = YearToDate.empty(2017)

    claim = make_claim(rng, codes, 300)
    resolved = resolve_fee_lines(claim, catalog)
    for _ in range(50):  # warm-up
        settle(claim, policy, resolved, ytd)
    engine_times = []
    end_to_end = []
    for _ in range(args.runs):
        start = time.perf_counter_ns()
        settle(claim, policy, resolved, ytd)
        engine_times.append((time.perf_counter_ns() - start) / 1e6)
        start = time.perf_counter_ns()
        settle(claim, policy, resolve_fee_lines(claim, catalog), ytd)
        end_to_end.append((time.perf_counter_ns() - start) / 1e6)

    def report(label: str, samples: list[float]) -> None:
        ordered = sorted(samples)
        p99 = ordered[int(len(ordered) * 0.99) - 1]
        print(
            f"{label}: median {statistics.median(ordered):.3f} ms, p99 {p99:.3f} ms ({len(ordered)} runs)"
        )

    report("300-line claim, settle() only", engine_times)
    report("300-line claim, catalogue resolution + settle()", end_to_end)

    batch = [make_claim(rng, codes, 100) for _ in range(1000)]
    start = time.perf_counter()
    for index in range(args.claims):
        one = batch[index % len(batch)]
        settle(one, policy, resolve_fee_lines(one, catalog), ytd)
    elapsed = time.perf_counter() - start
    print(
        f"throughput: {args.claims} claims x 100 lines in {elapsed:.1f} s = "
        f"{args.claims / elapsed:,.0f} claims/s ({elapsed / args.claims * 1e3:.3f} ms per claim, one process)"
    )


if __name__ == "__main__":
    main()
