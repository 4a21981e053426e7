"""Columnar re-settlement benchmark: fee lines per second per core, in one run, of

1. the columnar engine (``yidi.settlement.columnar.settle_columns``: line split, per-claim
   roll-up, then every inpatient step with year-to-date accumulation per person in claim
   order);
2. the numpy floor: the same vectorised line split and per-claim roll-up, nothing else;
3. DuckDB (one thread) computing the same line split and roll-up in SQL, for comparison;
4. the per-claim engine (``settle()``, each person's year-to-date carried) on a sample of
   whole person histories, whose amounts are also checked equal to the columnar run's.

Data: N claims × L lines (default 100,000 × 30) under the all-features test region 990100
(employee, 2024: item groups, admission-ordinal deductible with floor and annual cap,
person type and age band points, marginal scale, 大额 from the basic cap, 大病 on what is
left, personal account), a generated 50,000-item catalogue; on average 3 claims per person
a year, interleaved. Claims are generated and settled in chunks of whole persons
(``--chunk``), as a province's history is partitioned by person.

Each chunk is timed floor, engine alternately ``--repeat`` times (default 3) and the fastest of
each counts. CPU time is process time (numpy and DuckDB run one thread here), so "per core" is lines
divided by CPU seconds. Peak memory: tracemalloc peak of each phase on the first chunk,
and the process's maximum resident set size.

Run:   PYTHONPATH=src python bench/columnar_settle_bench.py                 # 100,000 claims
10 M:  PYTHONPATH=src python bench/columnar_settle_bench.py --claims 10000000 --chunk 1000000 \\
           --sample 2000      # about 10 chunks; memory stays that of one chunk
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import sys
import time
import tracemalloc
from decimal import Decimal
from pathlib import Path

import duckdb
import numpy as np

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
from yidi.policy.loader import load_policy_library, policy_at
from yidi.policy.model import Policy, SchemeKind
from yidi.settlement.claims import Claim, FeeLine, YearToDate
from yidi.settlement.columnar import (
    AMOUNT_FIELDS,
    FILINGS,
    PERSON_TYPES,
    PRICE,
    BatchClaim,
    ClaimColumns,
    compile_scheme,
    item_terms,
    roll_up,
    settle_columns,
    settle_sequential,
    split_lines,
)

ROOT = Path(__file__).resolve().parent.parent
DAY = dt.date(2024, 1, 1)
PERSONS = (PersonType.EMPLOYEE_ACTIVE, PersonType.EMPLOYEE_RETIRED)


class Data:
    def __init__(self, policy: Policy, catalog: CatalogVersion) -> None:
        self.policy = policy
        self.catalog = catalog
        scheme = policy.schemes[SchemeKind.INPATIENT]
        self.compiled = compile_scheme(policy, scheme)
        self.codes = sorted(catalog.items)
        groups = self.compiled.item_groups
        terms = [item_terms(code, catalog.lookup(code, DAY), groups) for code in self.codes]
        self.klass = np.asarray([t[0] for t in terms], dtype=np.int64)
        self.limit = np.asarray([t[1] for t in terms], dtype=np.int64)
        self.upfront = np.asarray([t[2] for t in terms], dtype=np.int64)


def make_chunk(
    data: Data, rng: np.random.Generator, claims: int, lines: int
) -> tuple[ClaimColumns, np.ndarray, np.ndarray]:
    """Columns of ``claims`` claims; also the line codes and the claim days (for the sample)."""
    persons = max(1, claims // 3)
    n_lines = claims * lines
    code = rng.integers(0, len(data.codes), n_lines)
    quantity = rng.integers(1, 6, n_lines) * PRICE
    # unit prices: mostly small, some large (implants, operations), in fen
    unit_fen = np.where(
        rng.random(n_lines) < 0.03,
        rng.integers(50_000, 1_000_000, n_lines),
        rng.integers(100, 50_000, n_lines),
    )
    amount = unit_fen * (quantity // PRICE)
    day = np.sort(rng.integers(0, 360, claims))
    cols = ClaimColumns(
        schemes=[data.compiled],
        person=rng.integers(0, persons, claims),
        scheme=np.zeros(claims, dtype=np.int64),
        level=rng.integers(1, 4, claims),
        person_type=np.asarray([PERSON_TYPES.index(p) for p in PERSONS])[
            rng.integers(0, 2, claims)
        ],
        cross=np.ones(claims, dtype=np.bool_),
        filing=np.full(claims, FILINGS.index(FilingCategory.RETIREE_RESETTLED), dtype=np.int64),
        age=rng.integers(20, 95, claims),
        group=np.full(claims, -1, dtype=np.int64),
        use_account=rng.random(claims) < 0.5,
        balance=rng.integers(0, 500_000, claims),
        disease=np.full(claims, -1, dtype=np.int64),  # inpatient claims: no disease code
        disease_codes=[],
        line_start=np.arange(claims, dtype=np.int64) * lines,
        line_count=np.full(claims, lines, dtype=np.int64),
        amount=amount,
        unit_price=unit_fen * (PRICE // 100),
        quantity=quantity,
        line_class=data.klass[code],
        price_limit=data.limit[code],
        upfront_rate=data.upfront[code],
        opening={},
        opening_admissions=np.zeros(persons, dtype=np.int64),
        status=[None] * claims,
        fallback=np.zeros(claims, dtype=np.bool_),
        years=[2024] * persons,
    )
    return cols, code, day


def floor(cols: ClaimColumns) -> dict[str, np.ndarray]:
    split = split_lines(cols)
    return {
        name: roll_up(values, cols.line_start, cols.line_count) for name, values in split.items()
    }


def duckdb_floor(n_claims: int, lines: int) -> float:
    """CPU seconds of DuckDB (1 thread) for the same split and roll-up, on lines it generates."""
    con = duckdb.connect()
    con.execute("SET threads = 1")
    con.execute(
        f"""CREATE TABLE l AS SELECT i // {lines} AS claim,
              (1 + i % 5) * 10000 AS qty, 100 + (i * 7919) % 50000 AS unit_fen,
              (i * 31) % 3 AS klass, CASE WHEN i % 3 = 0 THEN 20000 ELSE -1 END AS lim,
              CASE WHEN (i * 31) % 3 = 2 THEN 10000000 ELSE 0 END AS up
            FROM range({n_claims * lines}) t(i)"""
    )
    con.execute("ALTER TABLE l ADD COLUMN amount BIGINT")
    con.execute("UPDATE l SET amount = unit_fen * (qty // 10000)")
    start = time.process_time()
    con.execute(
        """WITH s AS (
             SELECT claim, amount, klass,
               CASE WHEN klass > 0 AND lim >= 0 AND unit_fen * 100 > lim * 100
                    AND amount > (2 * lim * qty + 10000) // 20000
                    THEN (2 * lim * qty + 10000) // 20000 ELSE amount END AS allowed
             FROM l),
           t AS (SELECT claim, amount, klass, allowed,
                   (2 * allowed * 10000000 + 100000000) // 200000000 AS upfront FROM s)
           SELECT claim, sum(amount), sum(CASE WHEN klass = 0 THEN amount ELSE 0 END),
                  sum(CASE WHEN klass > 0 THEN amount - allowed ELSE 0 END),
                  sum(CASE WHEN klass > 0 THEN upfront ELSE 0 END),
                  sum(CASE WHEN klass > 0 THEN allowed - upfront ELSE 0 END)
           FROM t GROUP BY claim"""
    ).fetchall()
    seconds = time.process_time() - start
    con.close()
    return seconds


def sample_claims(
    data: Data, cols: ClaimColumns, code: np.ndarray, day: np.ndarray, persons: int
) -> tuple[list[BatchClaim], list[int]]:
    """Claim objects for every claim of the first ``persons`` persons (whole histories)."""
    chosen = np.flatnonzero(cols.person < persons)
    out = []
    for i in chosen:
        start, count = int(cols.line_start[i]), int(cols.line_count[i])
        when = DAY + dt.timedelta(days=int(day[i]))
        lines = tuple(
            FeeLine(
                serial=str(k),
                catalog_code=data.codes[int(code[start + k])],
                hospital_item_code="H",
                name="",
                quantity=Decimal(int(cols.quantity[start + k]) // PRICE),
                unit_price=Decimal(int(cols.unit_price[start + k])) / PRICE,
                line_amount=Money.from_fen(int(cols.amount[start + k])),
                occurred_at=dt.datetime.combine(when, dt.time(9)),
            )
            for k in range(count)
        )
        age = int(cols.age[i])
        claim = Claim(
            insured_region="990100",
            treatment_region="430400",
            insurance_type=InsuranceType.EMPLOYEE,
            person_type=PERSON_TYPES[int(cols.person_type[i])],
            hospital_level=HospitalLevel(int(cols.level[i])),
            filing_category=FilingCategory.RETIREE_RESETTLED,
            admitted_on=when,
            discharged_on=when,
            fee_lines=lines,
            use_personal_account=bool(cols.use_account[i]),
            personal_account_balance=Money.from_fen(int(cols.balance[i])),
            encounter_type=EncounterType.INPATIENT,
            birth_date=dt.date(when.year - age, 1, 1),
        )
        out.append(BatchClaim(f"p{int(cols.person[i])}", claim, YearToDate.empty(2024)))
    return out, [int(i) for i in chosen]


def peak(fn: object) -> int:
    tracemalloc.start()
    fn()  # type: ignore[operator]
    _, high = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return high


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--claims", type=int, default=100_000)
    parser.add_argument("--lines", type=int, default=30)
    parser.add_argument("--chunk", type=int, default=1_000_000)
    parser.add_argument(
        "--sample", type=int, default=300, help="persons settled by the per-claim engine"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3, help="timings per chunk (fastest counts)")
    args = parser.parse_args()

    policy = policy_at(
        "990100", InsuranceType.EMPLOYEE, DAY, load_policy_library(ROOT / "tests/cases/policies")
    )
    catalog = generate_catalog(50_000, seed=1, treatment_region="430400")
    data = Data(policy, catalog)
    rng = np.random.default_rng(args.seed)

    engine_cpu = floor_cpu = 0.0
    total_lines = 0
    rounds = 0
    fund = 0
    mem_engine = mem_floor = 0
    first: tuple[ClaimColumns, np.ndarray, np.ndarray, dict[str, np.ndarray]] | None = None
    done = 0
    while done < args.claims:
        size = min(args.chunk, args.claims - done)
        cols, code, day = make_chunk(data, rng, size, args.lines)
        # floor and engine alternately, --repeat times each; the fastest of each counts (the
        # first call on fresh arrays also pays page faults, which is not the computation)
        floor_best = engine_best = float("inf")
        for _ in range(args.repeat):
            t0 = time.process_time()
            floor(cols)
            t1 = time.process_time()
            result = settle_columns(cols)
            t2 = time.process_time()
            floor_best = min(floor_best, t1 - t0)
            engine_best = min(engine_best, t2 - t1)
        floor_cpu += floor_best
        engine_cpu += engine_best
        total_lines += int(cols.line_count.sum())
        rounds = max(rounds, result.rounds)
        fund += int(result.amounts["fund_paid_total"].sum())
        if first is None:
            mem_floor = peak(lambda c=cols: floor(c))
            mem_engine = peak(lambda c=cols: settle_columns(c))
            first = (cols, code, day, result.amounts)
        else:
            del cols, code, day, result
        done += size
        print(f"  {done:,} claims settled", file=sys.stderr)

    assert first is not None
    cols, code, day, amounts = first
    batch, index = sample_claims(data, cols, code, day, args.sample)
    catalog_for = {"430400": catalog}.__getitem__
    t0 = time.process_time()
    reference = settle_sequential(batch, lambda _c: policy, catalog_for, mode=SettlementMode.DIRECT)
    per_claim_cpu = time.process_time() - t0
    sample_lines = sum(len(entry.claim.fee_lines) for entry in batch)
    mismatches = 0
    for position, expected in zip(index, reference, strict=True):
        assert not isinstance(expected, str), expected
        for name in AMOUNT_FIELDS:
            if getattr(expected, name).fen != int(amounts[name][position]):
                mismatches += 1
    duck_claims = min(args.claims, 1_000_000)
    duck_cpu = duckdb_floor(duck_claims, args.lines)

    def rate(lines: int, seconds: float) -> str:
        return f"{lines / seconds:,.0f} lines/s/core ({seconds:.2f} CPU s for {lines:,} lines)"

    print(
        f"claims {args.claims:,} x {args.lines} lines = {total_lines:,} lines; chunk {args.chunk:,}; rounds {rounds}"
    )
    print(
        f"columnar engine : {rate(total_lines, engine_cpu)}; peak {mem_engine / 2**20:,.0f} MiB (first chunk)"
    )
    print(
        f"numpy floor     : {rate(total_lines, floor_cpu)}; peak {mem_floor / 2**20:,.0f} MiB (first chunk)"
    )
    print(f"duckdb floor    : {rate(duck_claims * args.lines, duck_cpu)} (1 thread)")
    print(
        f"per-claim engine: {rate(sample_lines, per_claim_cpu)}; {len(batch):,} claims of {args.sample} persons"
    )
    print(
        f"engine / floor  : {engine_cpu / floor_cpu:.2f}x the floor's CPU time; per-claim / engine: "
        f"{(per_claim_cpu / sample_lines) / (engine_cpu / total_lines):,.0f}x"
    )
    print(
        f"sample equality : {len(batch) * len(AMOUNT_FIELDS):,} amounts compared, {mismatches} different"
    )
    print(f"fund paid total : {Money.from_fen(fund)}")
    print(f"max RSS         : {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")
    if mismatches:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
