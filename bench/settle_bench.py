"""Settlement engine benchmark: the engine against the one before the benefit-scheme model.

In one run, in one process:

1. One 300-line inpatient claim settled in process: median and p99 over N runs (default
   2000), by the current engine and by the previous engine (``bench/legacy_engine``, kept
   unchanged as the reference, with its own copy of the old-format policy files), runs
   interleaved so both see the same machine load.
2. One 5-line general outpatient (普通门诊) claim: median and p99 (current engine only: the
   previous one had no outpatient scheme and settled it as an admission).
3. Throughput: 100,000 claims of 100 lines each (policy and catalogue lookups done once, as
   a server would cache them; the per-claim catalogue resolution is included), for both
   engines; and 100,000 mixed claims (inpatient, outpatient, chronic, pharmacy) for the
   current engine.

Run: PYTHONPATH=src:bench python bench/settle_bench.py [--runs 2000] [--claims 100000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from legacy_engine.engine import settle as legacy_settle
from legacy_engine.loader import policy_at as legacy_policy_at

from yidi.catalog.files import generate_catalog
from yidi.catalog.model import CatalogVersion
from yidi.kernel.insurance import (
    EncounterType,
    FilingCategory,
    HospitalLevel,
    InsuranceType,
    PersonType,
    SettlementMode,
)
from yidi.kernel.money import Money
from yidi.policy.loader import policy_at
from yidi.settlement import settle
from yidi.settlement.claims import Claim, FeeLine, YearToDate, resolve_fee_lines

DAY = dt.date(2017, 6, 10)


def make_claim(
    rng: random.Random,
    codes: list[str],
    lines: int,
    *,
    insurance_type: InsuranceType = InsuranceType.RESIDENT,
    encounter: EncounterType = EncounterType.INPATIENT,
    disease: str | None = None,
) -> Claim:
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
    person = (
        PersonType.RESIDENT_ADULT
        if insurance_type is InsuranceType.RESIDENT
        else PersonType.EMPLOYEE_ACTIVE
    )
    stay = 7 if encounter is EncounterType.INPATIENT else 0
    return Claim(
        insured_region="430400",
        treatment_region="430400",
        insurance_type=insurance_type,
        person_type=person,
        hospital_level=HospitalLevel.LEVEL_3,
        filing_category=FilingCategory.LONG_TERM_RESIDENT,
        admitted_on=DAY,
        discharged_on=DAY + dt.timedelta(days=stay),
        encounter_type=encounter,
        fee_lines=tuple(fee_lines),
        disease_code=disease,
    )


def report(label: str, samples: list[float]) -> float:
    ordered = sorted(samples)
    p99 = ordered[int(len(ordered) * 0.99) - 1]
    median = statistics.median(ordered)
    print(f"{label}: median {median:.3f} ms, p99 {p99:.3f} ms ({len(ordered)} runs)")
    return median


def throughput(
    batch: list[Claim],
    count: int,
    catalog: CatalogVersion,
    engines: dict[str, Callable[[Claim, object], object]],
    chunk: int = 1000,
) -> dict[str, float]:
    """Seconds each engine needs for ``count`` claims, in alternating chunks of ``chunk``
    claims so that both see the same machine load."""
    spent = dict.fromkeys(engines, 0.0)
    for offset in range(0, count, chunk):
        for label, run in engines.items():
            start = time.perf_counter()
            for index in range(offset, min(offset + chunk, count)):
                one = batch[index % len(batch)]
                run(one, resolve_fee_lines(one, catalog))
            spent[label] += time.perf_counter() - start
    for label, elapsed in spent.items():
        print(
            f"throughput, {label}: {count} claims in {elapsed:.1f} s = {count / elapsed:,.0f} "
            f"claims/s ({elapsed / count * 1e3:.3f} ms per claim, one process)"
        )
    return spent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--claims", type=int, default=100_000)
    args = parser.parse_args()

    catalog = generate_catalog(50_000, seed=1)
    discharge = DAY + dt.timedelta(days=7)
    policy = policy_at("430400", InsuranceType.RESIDENT, discharge)
    legacy = legacy_policy_at("430400", InsuranceType.RESIDENT, discharge)
    employee = policy_at("430400", InsuranceType.EMPLOYEE, DAY)
    codes = list(catalog.items)
    rng = random.Random(42)
    ytd = YearToDate.empty(2017)

    claim = make_claim(rng, codes, 300)
    resolved = resolve_fee_lines(claim, catalog)
    new_result = settle(claim, policy, resolved, ytd)
    old_result = legacy_settle(claim, legacy, resolved, ytd)  # type: ignore[arg-type]
    assert new_result.amounts() == old_result.amounts(), "the engines disagree"
    for _ in range(50):  # warm-up
        settle(claim, policy, resolved, ytd)
        legacy_settle(claim, legacy, resolved, ytd)  # type: ignore[arg-type]
    new_times, old_times = [], []
    for _ in range(args.runs):
        start = time.perf_counter_ns()
        settle(claim, policy, resolved, ytd)
        new_times.append((time.perf_counter_ns() - start) / 1e6)
        start = time.perf_counter_ns()
        legacy_settle(claim, legacy, resolved, ytd)  # type: ignore[arg-type]
        old_times.append((time.perf_counter_ns() - start) / 1e6)
    new_median = report("300-line inpatient claim, settle(), current engine", new_times)
    old_median = report("300-line inpatient claim, settle(), previous engine", old_times)
    print(f"current / previous median: {new_median / old_median:.3f}")

    visit = make_claim(
        rng, codes, 5, insurance_type=InsuranceType.EMPLOYEE, encounter=EncounterType.OUTPATIENT
    )
    visit_resolved = resolve_fee_lines(visit, catalog)
    # Hengyang settles outpatient care directly only in the region itself; measured as a
    # manual settlement (the same steps, without the personal account)
    manual = SettlementMode.MANUAL
    for _ in range(50):
        settle(visit, employee, visit_resolved, ytd, mode=manual)
    visit_times = []
    for _ in range(args.runs):
        start = time.perf_counter_ns()
        settle(visit, employee, visit_resolved, ytd, mode=manual)
        visit_times.append((time.perf_counter_ns() - start) / 1e6)
    report("5-line outpatient claim, settle(), current engine", visit_times)

    batch = [make_claim(rng, codes, 100) for _ in range(1000)]
    spent = throughput(
        batch,
        args.claims,
        catalog,
        {
            "100-line inpatient claims, current engine": lambda one, lines: settle(
                one,
                policy,
                lines,  # type: ignore[arg-type]
                ytd,
            ),
            "100-line inpatient claims, previous engine": lambda one, lines: legacy_settle(
                one,
                legacy,
                lines,  # type: ignore[arg-type]
                ytd,
            ),
        },
    )
    times = list(spent.values())
    print(f"current / previous time: {times[0] / times[1]:.3f}")
    kinds = [
        (InsuranceType.EMPLOYEE, EncounterType.INPATIENT, None, 100),
        (InsuranceType.EMPLOYEE, EncounterType.OUTPATIENT, None, 5),
        (InsuranceType.EMPLOYEE, EncounterType.CHRONIC_OUTPATIENT, "diabetes", 5),
        (InsuranceType.EMPLOYEE, EncounterType.PHARMACY, None, 3),
    ]
    mixed = [
        make_claim(rng, codes, lines, insurance_type=kind, encounter=encounter, disease=disease)
        for index in range(1000)
        for kind, encounter, disease, lines in [kinds[index % 4]]
    ]
    throughput(
        mixed,
        args.claims,
        catalog,
        {
            "mixed claims (inpatient 100 / outpatient 5 / chronic 5 / pharmacy 3 lines), "
            "current engine": lambda one, lines: settle(
                one,
                employee,
                lines,  # type: ignore[arg-type]
                ytd,
                mode=manual,
            )
        },
    )


if __name__ == "__main__":
    main()
