"""Profile the hospital claim flow in process, on SQLite or PostgreSQL.

Same flow as ``hospital_http_bench.py`` (admit, 300 fee lines, discharge, settle), sent through
the ASGI app with ``httpx.ASGITransport``. Synchronous endpoints normally run in a worker thread,
which cProfile would not see, so ``anyio.to_thread.run_sync`` is replaced by a direct call: the
whole request (body parsing, validation, service, storage, reply) runs on the profiled thread.
Prints the top functions by cumulative and by own time.

Run:
  PYTHONPATH=src python bench/hospital_profile.py --database sqlite --claims 40
  PYTHONPATH=src python bench/hospital_profile.py --database postgresql --claims 40
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import datetime as dt
import pstats
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio.to_thread
import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import hospital_http_bench as http_bench  # noqa: E402

from yidi.bootstrap import build_container  # noqa: E402
from yidi.entrypoints.app import create_app  # noqa: E402
from yidi.settings import Settings  # noqa: E402

PROFILE_SCHEMA = "bench_hospital_profile"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--claims", type=int, default=40)
    parser.add_argument("--lines", type=int, default=300)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--output", default=None, help="write the raw profile here")
    args = parser.parse_args()
    if args.database == "sqlite":
        url = f"sqlite:///{tempfile.mkdtemp()}/profile.db"
        cards = _prepare_sqlite(url)
    else:
        http_bench.SCHEMA = PROFILE_SCHEMA
        url = f"{http_bench.BASE_URL}?options=-csearch_path%3D{PROFILE_SCHEMA}"
        cards = http_bench.prepare(http_bench.BASE_URL, url, 40)
    container = build_container(Settings(database_url=url, demo_mode=True))
    app = create_app(container)
    lines = http_bench.fee_lines(args.lines)
    total = str(sum(Decimal(line["amount"]) for line in lines))

    async def inline(func: Any, *call_args: Any, **_: Any) -> Any:
        return func(*call_args)

    anyio.to_thread.run_sync = inline  # type: ignore[assignment]

    async def run() -> tuple[cProfile.Profile, list[tuple[float, float]]]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            token = (
                await client.post(
                    "/api/auth/login", json={"username": "nhfy1", "password": "nhfy1-demo-2017"}
                )
            ).json()["token"]
            client.headers["Authorization"] = f"Bearer {token}"

            async def claim(number: int) -> tuple[float, float]:
                card = cards[number % len(cards)]
                admitted_at = http_bench.stay_start(0, card)
                occurred = (admitted_at + dt.timedelta(minutes=30)).isoformat()
                stay_lines = [line | {"occurred_at": occurred} for line in lines]
                admitted = await client.post(
                    "/api/hospital/encounters",
                    json=http_bench.admission(card, admitted_at),
                )
                assert admitted.status_code == 201, admitted.text
                mdtrt_id = admitted.json()["mdtrt_id"]
                start = time.perf_counter()
                uploaded = await client.post(
                    f"/api/hospital/encounters/{mdtrt_id}/fees", json={"lines": stay_lines}
                )
                assert uploaded.status_code == 200, uploaded.text
                middle = time.perf_counter()
                await client.post(
                    f"/api/hospital/encounters/{mdtrt_id}/discharge",
                    json={"discharged_at": (admitted_at + dt.timedelta(hours=1)).isoformat()},
                )
                before = time.perf_counter()
                settled = await client.post(
                    f"/api/hospital/encounters/{mdtrt_id}/settle",
                    json={"total_charges": total},
                    headers={"Idempotency-Key": f"profile-{number}"},
                )
                assert settled.status_code == 200, settled.text
                end = time.perf_counter()
                return (middle - start) * 1000, (end - before) * 1000

            for number in range(3):
                await claim(10_000 + number)
            profiler = cProfile.Profile()
            timings = []
            profiler.enable()
            for number in range(args.claims):
                timings.append(await claim(number))
            profiler.disable()
            return profiler, timings

    profiler, timings = asyncio.run(run())
    uploads = sorted(t[0] for t in timings)
    settles = sorted(t[1] for t in timings)
    print(
        f"{args.database}: {args.claims} claims, under cProfile: "
        f"upload median {uploads[len(uploads) // 2]:.1f} ms, "
        f"settle median {settles[len(settles) // 2]:.1f} ms"
    )
    if args.output:
        profiler.dump_stats(args.output)
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(args.top)
    stats.sort_stats("tottime").print_stats(args.top)


def _prepare_sqlite(url: str) -> list[str]:
    # prepare() drops a PostgreSQL schema first; on SQLite a fresh file is enough.
    return http_bench.load_patients(url, 40)


if __name__ == "__main__":
    main()
