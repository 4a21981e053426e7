"""The first page of the /filings list and of the quarterly list with N filings, beside the
raw SELECT of the same page, in the same run.

    PYTHONPATH=src python bench/list_page_bench.py [--filings 100000] [--runs 20] [--rounds 3]
        [--database-url URL] [--work DIR]

Setup (skipped when ``--work`` already holds a database of that size): a migrated database
with N approved filings of 衡阳 (seven counties of 430400), one version each, filed in the
fourth quarter of 2026, written straight into ``filings`` and ``filing_versions`` (records
of the 附件1 shape, each with its own name and ID number), statistics gathered as after an
import. SQLite by default (a file in ``--work``); ``--database-url`` for PostgreSQL (a fresh
database: the tables are created by the migrations).

Measured in ``--rounds`` rounds of ``--runs`` runs, the four paths alternating within a run
so that they share the machine's load:
- ``raw list``: the SELECT of the first 50 rows of /filings as the list orders them (newest
  first) with their records, on one connection, rows fetched and the records parsed as JSON;
- ``/filings``: ``GET /filings?state=all`` of the agency handler (every filing, newest
  first), the whole page through the web app (session, the count, the page, the template);
- ``raw quarterly``: the SELECT of the quarterly list's first 50 versions in its order
  (insured region, filed day, id; the keys sorted, then the page's records by primary key),
  fetched and parsed;
- ``/filings/quarterly``: ``GET /filings/quarterly`` for 衡阳, 2026 Q4, through the web app
  (the grouped count, the page, the audit entry, the template).
Printed: the median of the round medians of each path (wall time, ms) and the ratio of each
page to its raw SELECT.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import Engine, insert, text  # noqa: E402

from yidi.auth.commands import open_session  # noqa: E402
from yidi.bootstrap import build_container  # noqa: E402
from yidi.entrypoints.app import create_app  # noqa: E402
from yidi.entrypoints.http.requests import SESSION_COOKIE  # noqa: E402
from yidi.filing.model.record import FilingRecord  # noqa: E402
from yidi.filing.record_json import record_json  # noqa: E402
from yidi.kernel.access import Principal, Role  # noqa: E402
from yidi.kernel.clock import CHINA_TZ, FixedClock  # noqa: E402
from yidi.kernel.identity import Gender  # noqa: E402
from yidi.kernel.insurance import FilingCategory, InsuranceType, PersonType  # noqa: E402
from yidi.platform.db import make_engine, refresh_statistics  # noqa: E402
from yidi.platform.migrate import upgrade  # noqa: E402
from yidi.platform.tables import filing_versions, filings  # noqa: E402
from yidi.settings import Settings  # noqa: E402

AGENCY = Principal("hengyang-bench", Role.AGENCY_HANDLER, "430400", display_name="衡阳经办")
COUNTIES = ("430421", "430422", "430423", "430424", "430426", "430481", "430482")
QUARTER_START = dt.date(2026, 10, 1)
NOW = dt.datetime(2026, 12, 2, 10, 0, tzinfo=CHINA_TZ)
CHUNK = 20_000
PAGE = 50

RAW_LIST = text(
    "SELECT f.id, f.filing_number, f.state, f.name, f.id_number, f.insured_region_code,"
    " v.record_json FROM filings f JOIN filing_versions v ON v.id = f.current_version_id"
    " WHERE f.insured_region_code LIKE '4304%' ORDER BY f.updated_at DESC, f.id LIMIT 50"
)
# The page's keys sorted (not the records: a sorter carrying every record is far slower),
# then their records by primary key.
RAW_QUARTERLY = text(
    "SELECT k.id, r.record_json FROM (SELECT v.id, f.insured_region_code AS region,"
    " v.filed_on AS filed, f.id AS lineage FROM filing_versions v"
    " JOIN filings f ON f.id = v.filing_id"
    " WHERE f.insured_region_code LIKE '4304%' AND v.filed_on >= :first AND v.filed_on <= :last"
    " AND (v.category IS NULL OR v.category IN ('retiree_resettled', 'long_term_resident',"
    " 'posted_worker')) ORDER BY f.insured_region_code, v.filed_on, f.id, v.id LIMIT 50) k"
    " JOIN filing_versions r ON r.id = k.id ORDER BY k.region, k.filed, k.lineage, k.id"
)


def _record(county: str) -> FilingRecord:
    return FilingRecord(
        insured_region_code=county,
        name="NAME",
        gender=Gender.MALE,
        insurance_type=InsuranceType.EMPLOYEE,
        category=FilingCategory.LONG_TERM_RESIDENT,
        person_type=PersonType.EMPLOYEE_RETIRED,
        social_security_number="IDNUMBER",
        social_security_card_number="A12345678",
        has_second_generation_card=True,
        home_address="湖南省衡阳县西渡镇某路1号",
        contact_address="广西博白县博白镇某街2号",
        mobile="13807341234",
        destination_province_code="450000",
        destination_prefecture_code="450900",
        destination_county_code="450923",
        filled_on=QUARTER_START,
    )


def fill(engine: Engine, count: int) -> None:
    templates = {c: record_json(dataclasses.replace(_record(c))) for c in COUNTIES}
    names = "甲乙丙丁戊己庚辛壬癸"
    started = time.perf_counter()
    with engine.begin() as connection:
        for first in range(0, count, CHUNK):
            lineages, versions = [], []
            for i in range(first, min(first + CHUNK, count)):
                county = COUNTIES[i % len(COUNTIES)]
                number = f"{county}{i:012d}"
                name = "张" + names[i % 10] + names[i // 10 % 10]
                at = NOW - dt.timedelta(seconds=i)
                filed = QUARTER_START + dt.timedelta(days=i % 60)
                body = templates[county].replace("IDNUMBER", number).replace("NAME", name)
                lineages.append(
                    {
                        "id": f"L{i:031d}",
                        "filing_number": None,
                        "current_version_id": f"V{i:031d}",
                        "state": "approved",
                        "version": 1,
                        "insured_region_code": county,
                        "id_number": number,
                        "name": name,
                        "category": "long_term_resident",
                        "source": "import",
                        "import_key": None,
                        "missing_fields": 0,
                        "created_at": at,
                        "updated_at": at,
                    }
                )
                versions.append(
                    {
                        "id": f"V{i:031d}",
                        "filing_id": f"L{i:031d}",
                        "version": 1,
                        "state": "approved",
                        "registration_type": "1",
                        "category": "long_term_resident",
                        "insured_region_code": county,
                        "record_json": body,
                        "filed_on": filed,
                        "created_at": at,
                    }
                )
            connection.execute(insert(filings), lineages)
            connection.execute(insert(filing_versions), versions)
        refresh_statistics(connection, ("filings", "filing_versions"))
    print(f"setup: {count:,} filings in {time.perf_counter() - started:.1f} s", flush=True)


def _timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--filings", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--work", default="")
    args = parser.parse_args()
    work = Path(args.work or tempfile.mkdtemp(prefix="yidi-list-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    url = args.database_url or f"sqlite:///{work / 'bench.sqlite3'}"
    marker = work / f"filings-{args.filings}"
    engine = make_engine(url)
    if args.database_url or not marker.exists():
        upgrade(engine)
        fill(engine, args.filings)
        marker.touch()
    container = build_container(
        Settings(database_url=url, demo_mode=True, job_result_directory=work / "results"),
        clock=FixedClock(NOW),
    )
    with container.uow() as uow:
        if uow.users.by_username(AGENCY.user_id) is None:
            uow.users.add(AGENCY.user_id, "not-a-usable-hash", AGENCY)
            uow.commit()
    token = open_session(container.uow(), container.clock, AGENCY)
    client = TestClient(create_app(container), base_url="http://127.0.0.1:8000")
    client.cookies.set(SESSION_COOKIE, token)
    headers = {"Accept": "text/html"}
    connection = engine.connect()
    quarter = {"first": QUARTER_START, "last": dt.date(2026, 12, 31)}

    def raw(statement: object, params: dict[str, object]) -> None:
        rows = connection.execute(statement, params).all()  # type: ignore[call-overload]
        assert len(rows) == PAGE
        for row in rows:
            json.loads(row.record_json)
        connection.rollback()

    def page(path: str, params: dict[str, str], marker_text: str) -> None:
        answer = client.get(path, params=params, headers=headers)
        assert answer.status_code == 200 and marker_text in answer.text, answer.text[-500:]

    total = f"共 {args.filings} 条"  # each page shows the whole list's count
    paths: dict[str, Callable[[], None]] = {
        "raw list": lambda: raw(RAW_LIST, {}),
        "/filings": lambda: page("/filings", {"size": str(PAGE), "state": "all"}, total),
        "raw quarterly": lambda: raw(RAW_QUARTERLY, quarter),
        "/filings/quarterly": lambda: page(
            "/filings/quarterly",
            {"region": "430400", "year": "2026", "quarter": "4", "size": str(PAGE)},
            f"第 1–{PAGE} 条，{total}",
        ),
    }
    for call in paths.values():  # warm: caches, templates, the first connection
        call()
    medians: dict[str, list[float]] = {name: [] for name in paths}
    for round_number in range(args.rounds):
        times: dict[str, list[float]] = {name: [] for name in paths}
        for _run in range(args.runs):
            for name, call in paths.items():
                times[name].append(_timed(call))
        for name in paths:
            medians[name].append(statistics.median(times[name]))
        print(f"round {round_number + 1}/{args.rounds} done", flush=True)
    result = {name: statistics.median(values) for name, values in medians.items()}
    dialect = engine.dialect.name
    print(f"\n{dialect}, {args.filings:,} filings, {args.rounds}×{args.runs} runs, page {PAGE}")
    for name, value in result.items():
        print(f"  {name:20s} median {value:8.2f} ms")
    print(f"  /filings / raw list              {result['/filings'] / result['raw list']:.1f}")
    print(
        "  /filings/quarterly / raw quarterly "
        f"{result['/filings/quarterly'] / result['raw quarterly']:.1f}"
    )
    connection.close()
    client.close()


if __name__ == "__main__":
    main()
