"""The columnar path: the same clearing and 附件3/附件4 numbers over very large histories.

Settlement facts are exported to Parquet (or generated there by the benchmark)
and aggregated by DuckDB. Only the aggregation moves to SQL; the per-code
region mapping (a few thousand distinct codes, computed by the same
:class:`~yidi.domain.funds.RegionKeys` as the Python path) is joined in as a
small table, and the statement / estimate are assembled by the same pure
functions, so both paths give identical results (tested on small data).
The SQL is plain ANSI aggregation; it runs unchanged on Spark SQL or another
distributed engine when one machine is not enough (see docs/funds.md).

Every SQL string here is built from module constants, validated years and
quoted file paths; values from callers travel as bound parameters.
"""

# ruff: noqa: S608

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import duckdb

from yidi.domain.funds import (
    FUNDS,
    AnnexGroup,
    ClearingLevel,
    ClearingStatement,
    PairTotals,
    RegionKeys,
    parse_month,
    statement_from_totals,
)
from yidi.domain.insurance import FilingCategory, InsuranceType
from yidi.domain.money import Money
from yidi.domain.prepayment import (
    DEFAULT_PREPAYMENT_MONTHS,
    Annex,
    AnnexAggregate,
    AnnexScope,
    EstimateMethod,
    PrepaymentEstimate,
    estimate_from_aggregates,
    history_years,
)
from yidi.storage.funds import FUND_COLUMNS
from yidi.storage.uow import SqlUnitOfWork

#: Parquet schema of the fact export (the same columns as the settlement_facts table).
FACT_SCHEMA: Final[dict[str, str]] = {
    "setl_id": "VARCHAR",
    "reverses_setl_id": "VARCHAR",
    "settled_on": "DATE",
    "clearing_month": "VARCHAR",
    "insured_region_code": "VARCHAR",
    "treatment_region_code": "VARCHAR",
    "hospital_code": "VARCHAR",
    "insurance_type": "VARCHAR",
    "filing_category": "VARCHAR",
    "person_times": "INTEGER",
    "total_charges_fen": "BIGINT",
    **{column: "BIGINT" for column in FUND_COLUMNS.values()},
}
FUND_TOTAL_SQL: Final = " + ".join(FUND_COLUMNS[f] for f in FUNDS)
RESIDENCE_CATEGORIES_SQL: Final = ", ".join(
    f"'{c.value}'" for c in FilingCategory if c.is_residence_based
)


def export_facts_to_parquet(uow: SqlUnitOfWork, path: Path, batch_size: int = 50_000) -> int:
    """Stream the settlement_facts table to a Parquet file (through a temporary CSV,
    so no driver-specific DuckDB extension is needed). Returns the row count."""
    count = 0
    with tempfile.TemporaryDirectory() as tmp:
        staging = Path(tmp) / "facts.csv"
        with staging.open("w", newline="", encoding="utf-8") as handle, uow:
            writer = csv.writer(handle)
            for batch in uow.funds.fact_rows(batch_size):
                for row in batch:
                    writer.writerow(
                        ["" if row._mapping[c] is None else row._mapping[c] for c in FACT_SCHEMA]
                    )
                    count += 1
        con = duckdb.connect()
        try:
            columns = ", ".join(f"'{name}': '{kind}'" for name, kind in FACT_SCHEMA.items())
            con.execute(
                f"COPY (SELECT * FROM read_csv('{_quote(staging)}', header=false, "
                f"columns={{{columns}}}, nullstr='')) TO '{_quote(path)}' (FORMAT parquet)"
            )
        finally:
            con.close()
    return count


def _quote(path: Path | str) -> str:
    return str(path).replace("'", "''")


class ColumnarFacts:
    """A DuckDB connection with a ``facts`` view over Parquet files or a table."""

    def __init__(self, con: duckdb.DuckDBPyConnection, relation: str) -> None:
        self.con = con
        con.execute(f"CREATE OR REPLACE TEMP VIEW facts AS SELECT * FROM {relation}")

    @classmethod
    def from_parquet(
        cls, path: Path | str, con: duckdb.DuckDBPyConnection | None = None
    ) -> ColumnarFacts:
        return cls(con or duckdb.connect(), f"read_parquet('{_quote(path)}')")

    def _register_map(self, name: str, rows: Iterable[Sequence[Any]], columns: str) -> None:
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} ({columns})")
        batch = list(rows)
        if batch:
            placeholders = ", ".join("?" for _ in batch[0])
            self.con.executemany(f"INSERT INTO {name} VALUES ({placeholders})", batch)

    def _distinct_codes(self, where: str, params: Sequence[Any]) -> list[str]:
        rows = self.con.execute(
            f"SELECT insured_region_code FROM facts WHERE {where} "
            f"UNION SELECT treatment_region_code FROM facts WHERE {where}",
            [*params, *params],
        ).fetchall()
        return sorted(str(r[0]) for r in rows)

    # clearing ---------------------------------------------------------------------
    def pair_totals(self, month: str, level: ClearingLevel, keys: RegionKeys) -> list[PairTotals]:
        codes = self._distinct_codes("clearing_month = ?", [month])
        self._register_map(
            "region_map",
            ((code, keys.key(code, level)) for code in codes),
            "code VARCHAR, region_key VARCHAR",
        )
        fund_sums = ", ".join(f"SUM({FUND_COLUMNS[f]})" for f in FUNDS)
        rows = self.con.execute(
            f"""
            SELECT mi.region_key, mt.region_key, SUM(f.person_times), {fund_sums}
            FROM facts f
            JOIN region_map mi ON f.insured_region_code = mi.code
            JOIN region_map mt ON f.treatment_region_code = mt.code
            WHERE f.clearing_month = ?
            GROUP BY 1, 2
            """,
            [month],
        ).fetchall()
        return [
            PairTotals(
                str(r[0]),
                str(r[1]),
                int(r[2]),
                {f: int(r[3 + i]) for i, f in enumerate(FUNDS)},
            )
            for r in rows
        ]

    def clear_month(
        self,
        month: str,
        level: ClearingLevel,
        prepayments: Mapping[tuple[str, str], Money] | None = None,
        keys: RegionKeys | None = None,
    ) -> ClearingStatement:
        keys = keys or RegionKeys()
        totals = self.pair_totals(parse_month(month), level, keys)
        return statement_from_totals(month, level, totals, prepayments or {}, keys)

    # 附件3 / 附件4 ------------------------------------------------------------------
    def annex_aggregates(self, scope: AnnexScope, years: Sequence[int]) -> list[AnnexAggregate]:
        year_list = ", ".join(str(int(y)) for y in years)
        where = f"year(settled_on) IN ({year_list})"
        codes = self._distinct_codes(where, [])
        self._register_map(
            "annex_map",
            ((code, scope.keys.pool_of(code), scope.covers_insured(code)) for code in codes),
            "code VARCHAR, pool VARCHAR, covered BOOLEAN",
        )
        if scope.annex is Annex.OUT_OF_PROVINCE:
            row_sql = "substr(f.treatment_region_code, 1, 2) || '0000'"
            condition = (
                "substr(f.insured_region_code, 1, 2) <> substr(f.treatment_region_code, 1, 2)"
            )
        else:
            row_sql = "mt.pool"
            condition = (
                "substr(f.insured_region_code, 1, 2) = substr(f.treatment_region_code, 1, 2) "
                "AND mi.pool <> mt.pool"
            )
        rows = self.con.execute(
            f"""
            SELECT year(f.settled_on), {row_sql}, f.insurance_type,
                   CASE WHEN f.filing_category IN ({RESIDENCE_CATEGORIES_SQL})
                        THEN 'residence' ELSE 'referral_and_others' END,
                   SUM(f.person_times), SUM({FUND_TOTAL_SQL})
            FROM facts f
            JOIN annex_map mi ON f.insured_region_code = mi.code
            JOIN annex_map mt ON f.treatment_region_code = mt.code
            WHERE year(f.settled_on) IN ({year_list}) AND mi.covered AND {condition}
            GROUP BY 1, 2, 3, 4
            """
        ).fetchall()
        return [
            AnnexAggregate(
                int(r[0]), str(r[1]), InsuranceType(r[2]), AnnexGroup(r[3]), int(r[4]), int(r[5])
            )
            for r in rows
        ]

    def estimate_prepayment(
        self,
        annex: Annex,
        insured_region_code: str,
        target_year: int,
        *,
        method: EstimateMethod = EstimateMethod.AVERAGE,
        prepayment_months: int = DEFAULT_PREPAYMENT_MONTHS,
        keys: RegionKeys | None = None,
    ) -> PrepaymentEstimate:
        scope = AnnexScope.for_region(annex, insured_region_code, keys)
        aggregates = self.annex_aggregates(scope, history_years(target_year))
        return estimate_from_aggregates(
            aggregates, scope, target_year, method=method, prepayment_months=prepayment_months
        )
