"""Time generating synthetic persons in memory.

    PYTHONPATH=src python bench/population_bench.py [count]

Prints persons per second for the generator alone (no storage).
"""

from __future__ import annotations

import sys
import time

from yidi.demo.population import generate_persons
from yidi.kernel.regions import default_registry, hengyang_county_codes


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    default_registry()  # load the division list outside the timed part
    started = time.perf_counter()
    generated = 0
    for _person in generate_persons(count, seed=2017, insured_region_codes=hengyang_county_codes()):
        generated += 1
    elapsed = time.perf_counter() - started
    print(
        f"generated {generated:,} persons in {elapsed:.2f} s: {generated / elapsed:,.0f} persons/s"
    )


if __name__ == "__main__":
    main()
