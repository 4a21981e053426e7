"""Every lookup on the hospital path is served by an index, on SQLite and on PostgreSQL.

The statements are the ones the services really run: an admission check, an admission, a
fee upload, a pre-settlement and a settlement are made while every SELECT is captured; each
captured statement is then explained with its own parameters. A lookup that reads a whole
table of people, filings, encounters, fee lines or settlements fails the test: at a
province's size (millions of filings) one such scan costs seconds per cashier request.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, event

from hospital_support import BOBAI, XIE_CARD, XIE_LINES, XIE_TOTAL, at, build_world, fee_inputs
from yidi.bootstrap import Container
from yidi.encounter.commands import AdmissionRequest, Credential, HospitalService
from yidi.platform.db import refresh_statistics

# Tables that grow with the insured population or with care; reference tables (regions,
# agencies, hospitals, catalogue versions, policies) stay at thousands of rows and may be read whole.
GROWING_TABLES = (
    "persons",
    "filings",
    "filing_versions",
    "filing_events",
    "filing_evidence",
    "encounters",
    "fee_lines",
    "settlements",
    "settlement_facts",
    "ledger_entries",
    "year_to_date",
    "idempotency_keys",
    "audit_log",
    "catalog_items",
    "manual_claims",
)


@pytest.fixture
def captured(migrated_engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    statements: list[tuple[str, Any]] = []

    def capture(
        _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, many: bool
    ) -> None:
        if not many and statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    event.listen(migrated_engine, "before_cursor_execute", capture)
    yield statements
    event.remove(migrated_engine, "before_cursor_execute", capture)


def _hospital_path(container: Container) -> None:
    service = HospitalService(container.uow, container.clock)
    service.admission_check(BOBAI, Credential("03", XIE_CARD))
    encounter = service.admit(
        BOBAI,
        AdmissionRequest(
            credential=Credential("03", XIE_CARD),
            med_type="21",
            admitted_at=at(20, 8),
            department_code="A03",
            diagnosis_codes=("K80.101",),
        ),
    )
    service.upload_fees(BOBAI, encounter.id, fee_inputs(XIE_LINES, at(21)))
    service.discharge(BOBAI, encounter.id, at(30, 10))
    service.pre_settle(BOBAI, encounter.id, XIE_TOTAL)
    service.settle(BOBAI, encounter.id, XIE_TOTAL)


def _full_scans(connection: Connection, statement: str, parameters: Any) -> list[str]:
    """The growing tables a statement reads without an index, as the planner would run it."""
    raw = connection.connection.dbapi_connection
    assert raw is not None
    cursor = raw.cursor()
    try:
        if connection.dialect.name == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
            details = [str(row[3]) for row in cursor.fetchall()]
            # "SCAN t" reads the table, "SCAN t USING [COVERING] INDEX i" reads an index whole;
            # only "SEARCH t USING ..." looks rows up.
            return [
                table
                for detail in details
                for table in GROWING_TABLES
                if detail == f"SCAN {table}" or detail.startswith(f"SCAN {table} ")
            ]
        # PostgreSQL picks a sequential scan for a test-sized table whatever indexes exist;
        # with sequential scans priced out, a Seq Scan left in the plan means no index can serve.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + statement, parameters)
        plan = [str(row[0]) for row in cursor.fetchall()]
        return [
            table
            for line in plan
            for table in GROWING_TABLES
            if f"Seq Scan on {table} " in f"{line} "
        ]
    finally:
        cursor.close()


def test_every_lookup_on_the_hospital_path_uses_an_index(
    container: Container, connection: Connection, captured: list[tuple[str, Any]]
) -> None:
    build_world(container)
    captured.clear()  # the world's filings and catalogues are set-up, not the hospital path
    _hospital_path(container)
    assert len(captured) > 10, "the hospital path was not captured"
    scans = {
        statement: tables
        for statement, parameters in captured
        if (tables := _full_scans(connection, statement, parameters))
    }
    assert scans == {}


def test_statistics_are_gathered_for_the_lookup_indexes(
    container: Container, connection: Connection
) -> None:
    if connection.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's autovacuum gathers its own statistics")
    build_world(container)
    refresh_statistics(connection)
    analysed = {
        (row[0], row[1])
        for row in connection.exec_driver_sql("SELECT tbl, idx FROM sqlite_stat1").fetchall()
    }
    assert ("filings", "ix_filings_id_number_state") in analysed
    assert ("encounters", "ix_encounters_person_id_state") not in analysed  # no stays yet
