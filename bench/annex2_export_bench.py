"""附件2 export of N filings as a background job, against a plain CSV writer of the same rows.

    PYTHONPATH=src python bench/annex2_export_bench.py [rows] [work directory] [--one-shot]

Setup (skipped when the work directory already holds a database of that size): N synthetic
persons across the Henan prefectures written as a 附件2 CSV and imported through
``FilingImports.import_annex2`` (``filing_import_bench.py``), so every row is an approved
filing of 2026. Then, each in a fresh child process so that its peak memory (maximum
resident set size, ``wait4``) is its own, in the same run:

- ``job``: the export job as the page starts it (``ImportJobs.submit_export``, run inline):
  the streamed query (server-side cursor / ``yield_per``), each row built by ``annex2_row``,
  written by openpyxl in write-only mode, progress written to the job row;
- ``csv``: reference — the same stream of rows written by ``csv.writer`` (no XLSX);
- ``one-shot`` (with ``--one-shot``): the synchronous path the page used before —
  ``FilingReports.annex2`` (every row in a list) and ``annex2_xlsx`` (a whole workbook in
  memory).

Prints rows, seconds, rows/s, peak RSS and the file size of each, and the ratios to ``csv``.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from yidi.bootstrap import build_container  # noqa: E402
from yidi.filing.jobs import ANNEX2_EXPORT  # noqa: E402
from yidi.kernel.access import Principal, Role  # noqa: E402
from yidi.kernel.clock import SystemClock  # noqa: E402
from yidi.settings import Settings  # noqa: E402

PROVINCE = Principal("henan-bench", Role.PROVINCE_OFFICER, "410000", display_name="河南省")
FIRST, LAST = dt.date(2000, 1, 1), dt.date(2100, 12, 31)


def _container(database: Path, results: Path):  # type: ignore[no-untyped-def]
    settings = Settings(
        database_url=f"sqlite:///{database}", demo_mode=True, job_result_directory=results
    )
    return build_container(settings, clock=SystemClock())


def _set_up(work: Path, rows: int) -> Path:
    database = work / "bench.sqlite3"
    marker = work / f"rows-{rows}"
    if database.exists() and marker.exists():
        return database
    from filing_import_bench import HENAN_PROVINCE, write_csv

    from yidi.filing.imports import FilingImports
    from yidi.filing.scope import system_principal
    from yidi.platform.migrate import upgrade

    database.unlink(missing_ok=True)
    source = work / "annex2.csv"
    started = time.perf_counter()
    write_csv(source, rows)
    container = _container(database, work / "results")
    upgrade(container.engine)
    report = FilingImports(container.uow, container.clock).import_annex2(
        system_principal(), source.read_bytes(), source.name, region=HENAN_PROVINCE
    )
    print(
        f"set-up: {report.imported:,} filings imported in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    source.unlink()
    marker.touch()
    return database


def _measure(mode: str, database: Path, out: Path) -> dict[str, object]:
    container = _container(database, out.parent / "results")
    started = time.perf_counter()
    if mode == "job":
        container.import_jobs.recover()  # as a server start does: an earlier run's job fails
        job = container.import_jobs.submit_export(
            PROVINCE,
            ANNEX2_EXPORT,
            {"region": "410000", "from": str(FIRST), "to": str(LAST), "full": True},
            "bench.xlsx",
            inline=True,
        )
        assert job.state == "done", job.error
        path, _name = container.import_jobs.result_file(PROVINCE, job.id)
        rows, size = int(job.processed_rows), path.stat().st_size
    elif mode == "csv":
        stream = container.filing_reports.annex2_stream(PROVINCE, "410000", FIRST, LAST, full=True)
        with out.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(stream.table.columns)
            rows = 0
            for rows, row in enumerate(stream.rows, start=1):  # noqa: B007 (the count is kept)
                writer.writerow(row)
        size = out.stat().st_size
    else:
        from yidi.reports.annex2_xlsx import annex2_xlsx

        table = container.filing_reports.annex2(PROVINCE, "410000", FIRST, LAST, full=True)
        out.write_bytes(annex2_xlsx(table))
        rows, size = len(table.rows), out.stat().st_size
    return {"rows": rows, "seconds": time.perf_counter() - started, "bytes": size}


def _child(mode: str, database: Path, work: Path) -> dict[str, object]:
    """Run one mode in a fresh process; its answer and its own peak RSS."""
    process = subprocess.Popen(
        [sys.executable, __file__, "--measure", mode, str(database), str(work / f"out-{mode}")],
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    assert process.stdout is not None
    output = process.stdout.read()
    _pid, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{mode} failed ({process.returncode})")
    answer: dict[str, object] = json.loads(output.decode().strip().splitlines()[-1])
    answer["peak_rss_mb"] = usage.ru_maxrss / 1024  # Linux: kilobytes
    return answer


def main() -> None:
    if sys.argv[1:2] == ["--measure"]:
        mode, database, out = sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4])
        print(json.dumps(_measure(mode, database, out)))
        return
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    rows = int(args[0]) if args else 1_000_000
    work = Path(args[1]) if len(args) > 1 else Path(tempfile.mkdtemp(prefix="yidi-export-"))
    work.mkdir(parents=True, exist_ok=True)
    database = _set_up(work, rows)
    modes = ["csv", "job"] + (["one-shot"] if "--one-shot" in sys.argv else [])
    found = {}
    for mode in modes:
        found[mode] = result = _child(mode, database, work)
        print(
            f"{mode:8s} {result['rows']:>9,} rows  {result['seconds']:7.1f} s  "
            f"{int(result['rows']) / float(result['seconds']):>9,.0f} rows/s  "  # type: ignore[call-overload]
            f"peak RSS {result['peak_rss_mb']:7.1f} MB  file {int(result['bytes']) / 1e6:7.1f} MB",  # type: ignore[call-overload]
            flush=True,
        )
    reference = found["csv"]
    for mode in modes[1:]:
        result = found[mode]
        print(
            f"{mode} / csv: time {float(result['seconds']) / float(reference['seconds']):.2f}×, "  # type: ignore[arg-type]
            f"peak RSS {float(result['peak_rss_mb']) / float(reference['peak_rss_mb']):.2f}×"  # type: ignore[arg-type]
        )
    print(
        f"load average {os.getloadavg()[0]:.1f} (2 cores), maxrss self {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
    )


if __name__ == "__main__":
    main()
