"""附件2's count and key statements reach each filing by its primary key on SQLite.

SQLite plans by the statistics it last gathered. With statistics gathered while the tables
were small (the demo world's 7 filings) and the filings grown since by a bulk import, a join
that named only the current version searched the approved filings by state once per version
(or the filed versions once per filing): 15,000 filings took 33 s to count and the export
job's page timed out. The statistics here are the ones that database held.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import event, text

from yidi.bootstrap import Container
from yidi.kernel.insurance import FilingCategory

# sqlite_stat1 of the database the slow export ran on (index -> "rows, rows per key prefix…")
SMALL_TABLE_STATISTICS = {
    ("filings", "ix_filings_state"): "7 4",
    ("filings", "ix_filings_insured_region_code"): "7 2",
    ("filings", "ix_filings_category"): "7 4",
    ("filings", "sqlite_autoindex_filings_1"): "7 1",
    ("filing_versions", "ix_filing_versions_filed_on_category"): "7 4 3 1 1",
    ("filing_versions", "ix_filing_versions_region_filed_on"): "7 2 1 1 1 1",
    ("filing_versions", "ix_filing_versions_filing_id"): "7 1",
    ("filing_versions", "sqlite_autoindex_filing_versions_1"): "7 1",
}


def test_annex2_statements_reach_each_filing_by_its_key(container: Container) -> None:
    if container.engine.dialect.name != "sqlite":
        pytest.skip("the plan is SQLite's")
    captured: list[tuple[str, Any]] = []

    def capture(_c: Any, _cur: Any, statement: str, parameters: Any, *_rest: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            captured.append((statement, parameters))

    categories = [c.value for c in FilingCategory]
    period = (dt.date(2016, 1, 1), dt.date(2016, 12, 31))
    with container.uow() as uow:
        event.listen(container.engine, "before_cursor_execute", capture)
        try:
            uow.filings.count_annex2_records("41", *period, categories)
            list(uow.filings.annex2_records("41", *period, categories))
        finally:
            event.remove(container.engine, "before_cursor_execute", capture)
        joined = [(s, p) for s, p in captured if "current_version_id" in s]
        assert len(joined) == 2  # the count and the sorted keys
        connection = uow.session.connection()
        connection.execute(text("ANALYZE"))  # creates sqlite_stat1
        connection.execute(text("DELETE FROM sqlite_stat1"))
        for (table, index), stat in SMALL_TABLE_STATISTICS.items():
            connection.execute(
                text("INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES (:t, :i, :s)"),
                {"t": table, "i": index, "s": stat},
            )
        connection.execute(text("ANALYZE sqlite_schema"))  # reload the statistics
        for statement, parameters in joined:
            plan = [
                row[3]
                for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            ]
            # the outer table may be either; the inner one is reached by its key, never by a
            # range or a state that matches every row again for each outer row
            assert plan[1].startswith("SEARCH") and "(id=?)" in plan[1], plan
