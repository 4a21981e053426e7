"""The month-partitioned Parquet export, and clearing / estimates on DuckDB and on Spark
(local mode) agreeing with the Python path to the fen."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "unit"))
sys.path.insert(0, str(Path(__file__).parent))
from funds_helpers import make_fact
from test_funds_services import _random_history, _record

from yidi.bootstrap import Container
from yidi.funds.model import ClearingLevel, clear_month
from yidi.funds.prepayment import Annex, EstimateMethod, estimate_prepayment
from yidi.kernel.money import Money
from yidi.reports.columnar import MANIFEST_NAME, ColumnarFacts, export_facts_partitioned

HELD = {("430000", "450000"): Money.of("1000.00")}


def test_the_export_writes_one_partition_a_month_and_then_only_what_changed(
    container: Container, tmp_path: Path
) -> None:
    facts = _record(container, _random_history(5, 200))
    root = tmp_path / "facts"
    first = export_facts_partitioned(container.uow(), root)
    months = sorted({f.clearing_month for f in facts})
    assert sorted(first.written) == months and first.unchanged == ()
    assert first.rows == len(facts)
    assert sorted(p.name for p in root.iterdir() if p.is_dir()) == [
        f"clearing_month={m}" for m in months
    ]
    assert (root / MANIFEST_NAME).exists()
    assert not [p for p in root.iterdir() if p.name.startswith("_staging-")]

    again = export_facts_partitioned(container.uow(), root)
    assert again.written == {} and sorted(again.unchanged) == months

    # A late settlement lands in one month: only that partition is rewritten.
    late = _record(container, [make_fact("LATE1", on=dt.date(2017, 9, 29), pooled="70.00")])[0]
    third = export_facts_partitioned(container.uow(), root)
    assert list(third.written) == [late.clearing_month]
    assert len(third.unchanged) == len(months) - (late.clearing_month in months)

    # A partition lost on disk is written again even though the manifest knows the month.
    shutil.rmtree(root / f"clearing_month={months[0]}")
    assert months[0] in export_facts_partitioned(container.uow(), root).written

    columnar = ColumnarFacts.from_parquet(root)
    everything = [*facts, late]
    for month in months[:6]:
        for level in ClearingLevel:
            assert columnar.clear_month(month, level, HELD) == clear_month(
                everything, month, level, HELD
            )


@pytest.fixture(scope="module")
def spark():  # type: ignore[no-untyped-def]
    if shutil.which("java") is None:
        if os.environ.get("YIDI_REQUIRE_SPARK"):
            pytest.fail("YIDI_REQUIRE_SPARK is set but no java is on PATH")
        pytest.skip("Spark needs a Java runtime (Debian: openjdk-17-jre-headless)")
    from yidi.reports.spark_facts import local_session

    session = local_session(cores=2, app_name="yidi-tests")
    yield session
    session.stop()


@pytest.mark.spark
def test_spark_gives_the_same_clearing_and_estimates_as_duckdb_and_the_python_path(
    container: Container,
    tmp_path: Path,
    spark,  # type: ignore[no-untyped-def]
) -> None:
    from yidi.reports.spark_facts import SparkFacts

    facts = _record(container, _random_history(7, 300))
    root = tmp_path / "facts"
    export_facts_partitioned(container.uow(), root)
    on_spark = SparkFacts(spark, root)
    on_duckdb = ColumnarFacts.from_parquet(root)
    months = sorted({f.clearing_month for f in facts})
    for month in months[:4]:
        for level in ClearingLevel:
            python = clear_month(facts, month, level, HELD)
            assert on_spark.clear_month(month, level, HELD) == python
            assert on_duckdb.clear_month(month, level, HELD) == python
    for annex in Annex:
        for region in ("410100", "410000"):
            python = estimate_prepayment(facts, annex, region, 2018, method=EstimateMethod.TREND)
            assert (
                on_spark.estimate_prepayment(annex, region, 2018, method=EstimateMethod.TREND)
                == python
            )
            assert python.history[0].total.column(1) != 0  # the tables are not empty


@pytest.mark.spark
def test_the_spark_submit_entry_point_prints_a_months_clearing(
    container: Container,
    tmp_path: Path,
    spark,
    capsys: pytest.CaptureFixture[str],  # type: ignore[no-untyped-def]
) -> None:
    import json

    from yidi.reports.spark_facts import main

    facts = _record(container, _random_history(3, 80))
    root = tmp_path / "facts"
    export_facts_partitioned(container.uow(), root)
    month = sorted({f.clearing_month for f in facts})[0]
    assert main([str(root), "clearing", month, "--level", "province"]) == 0
    printed = json.loads(capsys.readouterr().out)
    python = clear_month(facts, month, ClearingLevel.PROVINCE, {})
    assert [line["due"] for line in printed["lines"]] == [
        str(line.due_total) for line in python.lines
    ]
    assert sum(line["person_times"] for line in printed["lines"]) == sum(
        line.person_times for line in python.lines
    )


def test_an_export_written_with_other_columns_is_written_again_whole(
    container: Container, tmp_path: Path
) -> None:
    """Partitions from before migration 0016 (pooled_fen …) never sit beside new ones."""
    facts = _record(container, _random_history(3, 60))
    root = tmp_path / "facts"
    export_facts_partitioned(container.uow(), root)
    manifest_path = root / MANIFEST_NAME
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    del manifest["_columns"]  # how an export made before the rename looks
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")

    again = export_facts_partitioned(container.uow(), root)

    assert sorted(again.written) == sorted({f.clearing_month for f in facts})
    assert again.unchanged == ()
    assert export_facts_partitioned(container.uow(), root).written == {}
