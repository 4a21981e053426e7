"""The columnar path: the same clearing and 附件3/附件4 numbers over very large histories.

Settlement facts are exported to Parquet (or generated there by the benchmark)
and aggregated by DuckDB. Only the aggregation moves to SQL; the per-code
region mapping (a few thousand distinct codes, computed by the same
:class:`~yidi.funds.model.RegionKeys` as the Python path) is joined in as a
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
import json
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import duckdb

from yidi.funds.model import (
    FUNDS,
    AnnexGroup,
    ClearingKind,
    ClearingLevel,
    ClearingStatement,
    PairTotals,
    RegionKeys,
    parse_month,
    statement_from_totals,
)
from yidi.funds.prepayment import (
    Annex,
    AnnexAggregate,
    AnnexScope,
    EstimateMethod,
    PrepaymentEstimate,
    estimate_from_aggregates,
    history_years,
)
from yidi.funds.sql import FUND_COLUMNS
from yidi.kernel.insurance import FilingCategory, InsuranceType
from yidi.kernel.money import Money
from yidi.platform.uow import SqlUnitOfWork

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
    "clearing_type": "VARCHAR",
}
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
        _csv_to_parquet(staging, path, FACT_SCHEMA)
    return count


MANIFEST_NAME: Final = "_yidi_export.json"
#: the manifest key holding the columns the partitions were written with
MANIFEST_COLUMNS: Final = "_columns"


@dataclass(frozen=True)
class PartitionedExport:
    """What one incremental export did: the months written and the rows in them."""

    written: dict[str, int]
    unchanged: tuple[str, ...]

    @property
    def rows(self) -> int:
        return sum(self.written.values())


def export_facts_partitioned(uow: SqlUnitOfWork, root: Path) -> PartitionedExport:
    """Export settlement facts to ``root/clearing_month=YYYY-MM/facts.parquet``, incrementally.

    Facts are append-only, so a month whose (row count, highest id) matches the manifest of
    the last export is left as it is; the other months are read in one pass (one ``COPY`` on
    PostgreSQL), split by month into temporary files, and each renamed over its month's
    file, so a reader (DuckDB, Spark) never sees half a month. The manifest is written
    last: an interrupted export redoes those months next time. Partitions written with other
    columns (an export from before the money columns were renamed, migration 0016) are all
    written again, so one export never mixes two schemas.
    The layout is Hive-style: Spark, DuckDB, Trino and Iceberg imports read it as it is.
    """
    root.mkdir(parents=True, exist_ok=True)
    manifest_path = root / MANIFEST_NAME
    manifest: dict[str, list[Any]] = (
        json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.exists() else {}
    )
    if manifest.pop(MANIFEST_COLUMNS, None) != list(FACT_SCHEMA):
        manifest = {}
    written: dict[str, int] = {}
    unchanged: list[str] = []
    with uow:
        months = uow.funds.fact_months()
        changed = []
        for month, (count, last_id) in sorted(months.items()):
            partition = root / f"clearing_month={parse_month(month)}"
            if manifest.get(month) == [count, last_id] and (partition / "facts.parquet").exists():
                unchanged.append(month)
            else:
                changed.append(month)
        if changed:
            # Beside the partitions (same file system) under a name readers skip ("_…").
            with tempfile.TemporaryDirectory(dir=root, prefix="_staging-") as tmp:
                staging = Path(tmp) / "facts.csv"
                with staging.open("w", newline="", encoding="utf-8") as handle:
                    uow.funds.write_months_csv(changed, list(FACT_SCHEMA), handle)
                parts = Path(tmp) / "parts"
                _csv_to_partitions(staging, parts)
                for month in changed:
                    partition = root / f"clearing_month={month}"
                    partition.mkdir(exist_ok=True)
                    os.replace(
                        parts / f"clearing_month={month}" / "data_0.parquet",
                        partition / "facts.parquet",
                    )
                    written[month] = months[month][0]
                    manifest[month] = list(months[month])
            manifest[MANIFEST_COLUMNS] = list(FACT_SCHEMA)
            _write_atomically(manifest_path, json.dumps(manifest, indent=1, sort_keys=True))
    return PartitionedExport(written, tuple(unchanged))


def _csv_to_partitions(staging: Path, target: Path) -> None:
    """One Parquet file per clearing month under ``target`` (one thread: one file a month)."""
    con = duckdb.connect()
    try:
        con.execute("SET threads = 1")
        columns = ", ".join(f"'{name}': '{kind}'" for name, kind in FACT_SCHEMA.items())
        con.execute(
            f"COPY (SELECT * FROM read_csv('{_quote(staging)}', header=false, "
            f"columns={{{columns}}}, nullstr='')) TO '{_quote(target)}' "
            "(FORMAT parquet, PARTITION_BY (clearing_month))"
        )
    finally:
        con.close()


def _csv_to_parquet(staging: Path, target: Path, schema: Mapping[str, str]) -> None:
    con = duckdb.connect()
    try:
        columns = ", ".join(f"'{name}': '{kind}'" for name, kind in schema.items())
        con.execute(
            f"COPY (SELECT * FROM read_csv('{_quote(staging)}', header=false, "
            f"columns={{{columns}}}, nullstr='')) TO '{_quote(target)}' (FORMAT parquet)"
        )
    finally:
        con.close()


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def _quote(path: Path | str) -> str:
    return str(path).replace("'", "''")


def pair_totals_sql(param: str) -> str:
    """Clearing sums per (insured key, treatment key, clearing type) of one month; ``param``
    is the engine's spelling of the bound month parameter (``$month`` in DuckDB, ``:month`` in
    Spark)."""
    fund_sums = ", ".join(f"SUM(f.{FUND_COLUMNS[f]})" for f in FUNDS)
    return f"""
        SELECT mi.region_key, mt.region_key, f.clearing_type, SUM(f.person_times), {fund_sums}
        FROM facts f
        JOIN region_map mi ON f.insured_region_code = mi.code
        JOIN region_map mt ON f.treatment_region_code = mt.code
        WHERE f.clearing_month = {param}
        GROUP BY mi.region_key, mt.region_key, f.clearing_type
        """


def annex_sql(annex: Annex, years: Sequence[int]) -> str:
    """附件3/附件4 sums per (year, row, insurance type, group) over the given years."""
    year_list = ", ".join(str(int(y)) for y in years)
    if annex is Annex.OUT_OF_PROVINCE:
        row_sql = "concat(substr(f.treatment_region_code, 1, 2), '0000')"
        condition = "substr(f.insured_region_code, 1, 2) <> substr(f.treatment_region_code, 1, 2)"
    else:
        row_sql = "mt.pool"
        condition = (
            "substr(f.insured_region_code, 1, 2) = substr(f.treatment_region_code, 1, 2) "
            "AND mi.pool <> mt.pool"
        )
    group = (
        f"CASE WHEN f.filing_category IN ({RESIDENCE_CATEGORIES_SQL}) "
        "THEN 'residence' ELSE 'referral_and_others' END"
    )
    fund_total = " + ".join(f"f.{FUND_COLUMNS[f]}" for f in FUNDS)
    return f"""
        SELECT year(f.settled_on), {row_sql}, f.insurance_type, {group},
               SUM(f.person_times), SUM({fund_total})
        FROM facts f
        JOIN annex_map mi ON f.insured_region_code = mi.code
        JOIN annex_map mt ON f.treatment_region_code = mt.code
        WHERE year(f.settled_on) IN ({year_list}) AND mi.covered AND {condition}
        GROUP BY year(f.settled_on), {row_sql}, f.insurance_type, {group}
        """


def distinct_codes_sql(where: str) -> str:
    return (
        f"SELECT insured_region_code FROM facts WHERE {where} "
        f"UNION SELECT treatment_region_code FROM facts WHERE {where}"
    )


class FactAggregator:
    """Clearing and 附件3/附件4 over a ``facts`` relation, whatever engine holds it.

    The SQL is written once (the functions above); an engine supplies how a query runs,
    how a small mapping table is registered and how it spells a bound parameter. The
    statement and the estimate are assembled by the same pure functions as the row path.
    """

    param_style = "$"

    def query(self, sql: str, params: Mapping[str, Any]) -> list[Sequence[Any]]:
        raise NotImplementedError

    def register_map(
        self, name: str, rows: Iterable[Sequence[Any]], columns: Sequence[tuple[str, str]]
    ) -> None:
        raise NotImplementedError

    def _param(self, name: str) -> str:
        return f"{self.param_style}{name}"

    def _distinct_codes(self, where: str, params: Mapping[str, Any]) -> list[str]:
        return sorted(str(r[0]) for r in self.query(distinct_codes_sql(where), params))

    # clearing ---------------------------------------------------------------------
    def pair_totals(self, month: str, level: ClearingLevel, keys: RegionKeys) -> list[PairTotals]:
        codes = self._distinct_codes(f"clearing_month = {self._param('month')}", {"month": month})
        self.register_map(
            "region_map",
            ((code, keys.key(code, level)) for code in codes),
            (("code", "VARCHAR"), ("region_key", "VARCHAR")),
        )
        rows = self.query(pair_totals_sql(self._param("month")), {"month": month})
        # One row per pair and clearing kind: the pair's totals are the kinds' sums.
        sums: dict[tuple[str, str], list[int]] = {}
        kinds: dict[tuple[str, str], dict[ClearingKind, tuple[int, int]]] = {}
        for r in rows:
            pair = (str(r[0]), str(r[1]))
            funds = [int(v) for v in r[4 : 4 + len(FUNDS)]]
            total = sums.setdefault(pair, [0] * (1 + len(FUNDS)))
            for i, value in enumerate([int(r[3]), *funds]):
                total[i] += value
            kinds.setdefault(pair, {})[ClearingKind(str(r[2]))] = (int(r[3]), sum(funds))
        return [
            PairTotals(
                insured,
                treatment,
                total[0],
                {f: total[1 + i] for i, f in enumerate(FUNDS)},
                kinds[(insured, treatment)],
            )
            for (insured, treatment), total in sums.items()
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
        codes = self._distinct_codes(f"year(settled_on) IN ({year_list})", {})
        self.register_map(
            "annex_map",
            ((code, scope.keys.pool_of(code), scope.covers_insured(code)) for code in codes),
            (("code", "VARCHAR"), ("pool", "VARCHAR"), ("covered", "BOOLEAN")),
        )
        rows = self.query(annex_sql(scope.annex, years), {})
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
        prepayment_months: int | None = None,
        keys: RegionKeys | None = None,
    ) -> PrepaymentEstimate:
        scope = AnnexScope.for_region(annex, insured_region_code, keys)
        aggregates = self.annex_aggregates(scope, history_years(target_year))
        return estimate_from_aggregates(
            aggregates, scope, target_year, method=method, prepayment_months=prepayment_months
        )


class ColumnarFacts(FactAggregator):
    """A DuckDB connection with a ``facts`` view over Parquet files or a table."""

    def __init__(self, con: duckdb.DuckDBPyConnection, relation: str) -> None:
        self.con = con
        con.execute(f"CREATE OR REPLACE TEMP VIEW facts AS SELECT * FROM {relation}")

    @classmethod
    def from_parquet(
        cls, path: Path | str, con: duckdb.DuckDBPyConnection | None = None
    ) -> ColumnarFacts:
        """One Parquet file, or the root of a month-partitioned export (``clearing_month=…/``)."""
        path = Path(path)
        if path.is_dir():
            relation = (
                f"read_parquet('{_quote(path / 'clearing_month=*' / '*.parquet')}', hive_partitioning = true, "
                "hive_types = {'clearing_month': VARCHAR})"
            )
        else:
            relation = f"read_parquet('{_quote(path)}')"
        return cls(con or duckdb.connect(), relation)

    def query(self, sql: str, params: Mapping[str, Any]) -> list[Sequence[Any]]:
        return list(self.con.execute(sql, dict(params)).fetchall())

    def register_map(
        self, name: str, rows: Iterable[Sequence[Any]], columns: Sequence[tuple[str, str]]
    ) -> None:
        definition = ", ".join(f"{column} {kind}" for column, kind in columns)
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} ({definition})")
        batch = list(rows)
        if batch:
            placeholders = ", ".join("?" for _ in batch[0])
            self.con.executemany(f"INSERT INTO {name} VALUES ({placeholders})", batch)
