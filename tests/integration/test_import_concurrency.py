"""Two clients import the same 报盘 file at the same moment, and two files sharing rows.

Before, the second import hit the unique import key of a row the first had just written: an
IntegrityError, HTTP 500, and a traceback quoting the SQL parameters (ID numbers, names) in
the server log. Now a duplicate file is answered idempotently with the first import's report
(``replayed``), a file sharing rows with a concurrent one with ``IMPORT_ROWS_CONCURRENT``
(nothing half-written; importing it again counts the shared rows as duplicates).
Real concurrent transactions on PostgreSQL (own schema), serialised on SQLite (own file).
"""

from __future__ import annotations

import csv
import io
import logging

import pytest
from sqlalchemy import func, select

from concurrency_support import at_once
from filing_support import load_agencies
from yidi.bootstrap import Container
from yidi.demo.population import generate_persons
from yidi.filing.imports import FilingImports
from yidi.filing.model.annex import ANNEX2_COLUMNS
from yidi.kernel.access import Principal, Role
from yidi.kernel.errors import Conflict, YidiError
from yidi.platform.tables import filings, import_batches
from yidi.reports.annex2_xlsx import ANNEX2_TITLE

PROVINCE_IMPORTER = Principal("henan", Role.PROVINCE_OFFICER, "410000")
PERSONS = list(generate_persons(120, seed=11, insured_region_codes=["410102", "410105"]))


@pytest.fixture
def committed(committed: Container) -> Container:
    load_agencies(committed.uow)
    return committed


def _csv(first: int, last: int, *, title: str = "") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    if title:
        writer.writerow([ANNEX2_TITLE])
        writer.writerow([title])
    writer.writerow(ANNEX2_COLUMNS)
    for n, p in enumerate(PERSONS[first:last], start=1):
        writer.writerow(
            [
                str(n),
                p.insured_region_code,
                "",
                p.name,
                p.gender.label_zh,
                p.resident_id.number,
                p.insurance_type.annex_code,
                p.resident_id.number,
                p.social_security_card_number,
                p.address,
                "",
                p.mobile,
                "2",
            ]
        )
    return out.getvalue().encode("utf-8")


def _count(container: Container, table: object) -> int:
    with container.uow() as uow:
        return int(uow.session.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def test_the_same_file_imported_twice_at_once_is_answered_with_the_first_import(
    committed: Container, caplog: pytest.LogCaptureFixture
) -> None:
    imports = FilingImports(committed.uow, committed.clock)
    data = _csv(0, 100)
    with caplog.at_level(logging.DEBUG):
        results, errors = at_once(
            [lambda: imports.import_annex2(PROVINCE_IMPORTER, data, "a.csv")] * 2,
            catching=(BaseException,),
            timeout=120,
        )
    assert errors == []
    assert sorted(r.replayed for r in results) == [False, True]
    assert {r.imported for r in results} == {100}
    assert _count(committed, filings) == 100 and _count(committed, import_batches) == 1
    logged = caplog.text
    assert all(p.resident_id.number not in logged and p.name not in logged for p in PERSONS[:100])


def test_two_files_sharing_rows_imported_at_once_never_half_write(committed: Container) -> None:
    imports = FilingImports(committed.uow, committed.clock)
    first, second = _csv(0, 100), _csv(20, 120, title="市(县、市)：郑州市")
    results, errors = at_once(
        [
            lambda: imports.import_annex2(PROVINCE_IMPORTER, first, "a.csv"),
            lambda: imports.import_annex2(PROVINCE_IMPORTER, second, "b.csv"),
        ],
        catching=(BaseException,),
        timeout=120,
    )
    assert all(isinstance(e, Conflict) and e.code == "IMPORT_ROWS_CONCURRENT" for e in errors), (
        errors
    )
    assert all(isinstance(e, YidiError) for e in errors)
    stored = _count(committed, filings)
    # Either both went through one after the other (120 rows, 80 counted as duplicates), or one
    # of them was refused whole: its rows were not half-written.
    assert stored == (120 if not errors else 100)
    if errors:
        (winner,) = results
        refused = second if winner.filename == "a.csv" else first
        again = imports.import_annex2(PROVINCE_IMPORTER, refused, "again.csv")
        assert again.duplicates == 80 and again.imported == 20
        assert _count(committed, filings) == 120
