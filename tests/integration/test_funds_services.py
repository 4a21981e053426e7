"""The money side against a real database: facts and ledger, clearing runs, estimates,
statistics, and the columnar (DuckDB) path agreeing with the Python path."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

sys.path.insert(0, str(Path(__file__).parents[1] / "unit"))
from funds_helpers import make_fact

from yidi.bootstrap import Container
from yidi.funds import commands as service
from yidi.funds.model import (
    ClearingLevel,
    Prepayment,
    SettlementFact,
    clear_month,
    ledger_is_balanced,
)
from yidi.funds.prepayment import Annex, EstimateMethod, estimate_prepayment
from yidi.funds.statistics import (
    Dimension,
    Direction,
    StatisticsQuery,
    outbound_sentence,
    statistics_from_facts,
)
from yidi.kernel.clock import CHINA_TZ
from yidi.kernel.errors import Conflict
from yidi.kernel.insurance import FilingCategory, InsuranceType
from yidi.kernel.money import Money
from yidi.reports.columnar import ColumnarFacts, export_facts_to_parquet
from yidi.reports.statistics import render

AT = dt.datetime(2017, 10, 1, 9, 0, tzinfo=CHINA_TZ)
REGIONS = ["430400", "430499", "450923", "110101", "440106", "410100", "410181", "410202", "410305", "419001"]  # fmt: skip
CATEGORIES = [None, *FilingCategory]


def _record(container: Container, facts: list[SettlementFact]) -> list[SettlementFact]:
    stored = []
    with container.uow() as uow:
        for fact in facts:
            stored.append(service.record_settlement_fact(uow, fact, AT))
        uow.commit()
    return stored


def _random_history(seed: int, count: int) -> list[SettlementFact]:
    rng = random.Random(seed)
    facts: list[SettlementFact] = []
    for n in range(count):
        if facts and rng.random() < 0.1:
            original = rng.choice([f for f in facts if not f.is_reversal])
            if not any(f.reverses_setl_id == original.setl_id for f in facts):
                facts.append(original.reversed(f"R{n}", original.settled_on + dt.timedelta(days=3)))
                continue
        insured = rng.choice(REGIONS)
        facts.append(
            make_fact(
                f"S{n}",
                on=dt.date(
                    rng.choice([2014, 2015, 2016, 2017]), rng.randint(1, 12), rng.randint(1, 28)
                ),
                insured=insured,
                treatment=rng.choice([r for r in REGIONS if r != insured]),
                hospital=f"H{rng.randint(1, 5)}",
                insurance_type=rng.choice(list(InsuranceType)),
                category=rng.choice(CATEGORIES),
                total=str(Decimal(rng.randint(100_000, 900_000)) / 100),
                pooled=str(Decimal(rng.randint(0, 50_000)) / 100),
                serious=str(Decimal(rng.randint(0, 9_000)) / 100),
                large=str(Decimal(rng.randint(0, 5_000)) / 100),
                assistance=str(Decimal(rng.randint(0, 1_000)) / 100),
            )
        )
    return facts


def test_recording_a_fact_writes_balanced_ledger_lines_in_the_same_transaction(
    container: Container,
) -> None:
    fact = make_fact("S1", pooled="600.00", serious="50.00")
    with container.uow() as uow:
        service.record_settlement_fact(uow, fact, AT)
        # Not committed: the caller's rollback takes the fact and its entries with it.
    with container.uow() as uow:
        assert uow.funds.fact("S1") is None and uow.funds.entries(setl_id="S1") == []
    _record(container, [fact, fact.reversed("R1", dt.date(2017, 9, 20))])
    with container.uow() as uow:
        entries = uow.funds.entries()
        assert len(entries) == 8 and ledger_is_balanced(entries)
        assert uow.funds.ledger_imbalance_fen() == 0
        assert uow.funds.fact("R1") == fact.reversed("R1", dt.date(2017, 9, 20))
        with pytest.raises(Conflict) as caught:
            service.record_settlement_fact(uow, fact.reversed("R2", dt.date(2017, 9, 21)), AT)
        assert caught.value.code == "FACT_ALREADY_REVERSED"


def test_the_ledger_table_refuses_updates_and_deletes(container: Container) -> None:
    _record(container, [make_fact("S1")])
    with container.uow() as uow, pytest.raises(DBAPIError):
        uow.session.execute(text("UPDATE ledger_entries SET amount_fen = 1"))
    with container.uow() as uow, pytest.raises(DBAPIError):
        uow.session.execute(text("DELETE FROM settlement_facts"))


def test_a_clearing_run_is_repeatable_and_a_closed_month_never_changes(
    container: Container,
) -> None:
    _record(container, [make_fact("S1", pooled="600.00"), make_fact("S2", treatment="110101")])
    service.set_prepayment(
        container.uow(),
        Prepayment(
            ClearingLevel.PROVINCE, "430000", "450000", Money.of("100.00"), dt.date(2017, 1, 1)
        ),
    )
    first = service.run_clearing(
        container.uow(), container.clock, "2017-09", ClearingLevel.PROVINCE
    )
    again = service.run_clearing(
        container.uow(), container.clock, "2017-09", ClearingLevel.PROVINCE
    )
    assert first.content_hash == again.content_hash and first.statement == again.statement
    guangxi = next(x for x in first.statement.lines if x.treatment_region_code == "450000")
    assert guangxi.balance_to_pay == Money.of("500.00")

    closed = service.run_clearing(
        container.uow(), container.clock, "2017-09", ClearingLevel.PROVINCE, close=True
    )
    assert closed.status == "closed" and closed.content_hash == first.content_hash
    # A late settlement dated in September goes to October's clearing.
    late = _record(container, [make_fact("S3", on=dt.date(2017, 9, 29), pooled="70.00")])[0]
    assert late.clearing_month == "2017-10"
    after = service.run_clearing(
        container.uow(), container.clock, "2017-09", ClearingLevel.PROVINCE
    )
    assert after.recomputed is False and after.content_hash == first.content_hash
    october = service.run_clearing(
        container.uow(), container.clock, "2017-10", ClearingLevel.PROVINCE
    )
    assert october.statement.due_total == Money.of("70.00")
    with container.uow() as uow:
        assert uow.funds.clearing_run("2017-09", ClearingLevel.PROVINCE).is_closed  # type: ignore[union-attr]


def test_the_duckdb_path_gives_the_same_clearing_and_estimates_as_the_python_path(
    container: Container, tmp_path: Path
) -> None:
    facts = _record(container, _random_history(7, 400))
    parquet = tmp_path / "facts.parquet"
    assert export_facts_to_parquet(container.uow(), parquet) == len(facts)
    columnar = ColumnarFacts.from_parquet(parquet)
    held = {("430000", "450000"): Money.of("1000.00")}
    for month in sorted({f.clearing_month for f in facts})[:12]:
        for level in ClearingLevel:
            assert columnar.clear_month(month, level, held) == clear_month(
                facts, month, level, held
            )
    for annex in Annex:
        for region in ("410100", "410000", "410181"):
            for method in EstimateMethod:
                ours = columnar.estimate_prepayment(annex, region, 2018, method=method)
                python = estimate_prepayment(facts, annex, region, 2018, method=method)
                assert ours == python
                assert python.history[0].total.column(1) != 0 or region == "410181"
    stored = service.estimate_prepayment(container.uow(), Annex.OUT_OF_PROVINCE, "410100", 2018)
    assert stored == estimate_prepayment(facts, Annex.OUT_OF_PROVINCE, "410100", 2018)


def test_statistics_from_the_database_match_the_facts_and_agree_in_every_format(
    container: Container,
) -> None:
    facts = _record(container, _random_history(11, 300))
    for direction in Direction:
        for dimension in Dimension:
            query = StatisticsQuery(
                "430000", direction, dimension, dt.date(2015, 1, 1), dt.date(2017, 9, 30)
            )
            assert service.statistics(container.uow(), query) == statistics_from_facts(facts, query)
    query = StatisticsQuery("430400", Direction.OUTBOUND, Dimension.TREATMENT_PROVINCE)
    report = service.statistics(container.uow(), query)
    records = report.records()
    as_json = json.loads(render(report, "json"))
    assert [r["fund_total"] for r in as_json["rows"]] + [as_json["total"]["fund_total"]] == [
        str(r["fund_total"]) for r in records
    ]
    rows = list(csv.reader(io.StringIO(render(report, "csv").decode("utf-8").lstrip("\ufeff"))))
    assert rows[0][:3] == ["代码", "名称", "人次"]
    assert [(r[0], int(r[2]), r[-1]) for r in rows[1:]] == [
        (r["key"], r["person_times"], str(r["fund_total"])) for r in records
    ]
    sheet = load_workbook(io.BytesIO(render(report, "xlsx")))["统计"]
    assert [
        (
            sheet.cell(r, 1).value or "",
            sheet.cell(r, 3).value,
            Decimal(str(sheet.cell(r, 9).value)).quantize(Decimal("0.01")),
        )
        for r in range(3, 3 + len(records))
    ] == [(r["key"], r["person_times"], r["fund_total"]) for r in records]
    html = render(report, "html").decode("utf-8")
    for record in records:
        assert f'<td data-column="fund_total">{record["fund_total"]}</td>' in html


def test_the_hengyang_sentence_reads_like_the_news_page() -> None:
    facts = []
    plan = [
        ("450923", 30, "9000.00"),
        ("110101", 15, "8000.00"),
        ("440106", 10, "8000.00"),
        ("500101", 2, "7850.00"),
    ]
    for treatment, count, pooled in plan:
        for n in range(count):
            facts.append(
                make_fact(
                    f"{treatment}-{n}", on=dt.date(2017, 9, 1), treatment=treatment, pooled=pooled
                )
            )
    query = StatisticsQuery(
        "430400", Direction.OUTBOUND, Dimension.TREATMENT_PROVINCE, settled_to=dt.date(2017, 9, 30)
    )
    report = statistics_from_facts(facts, query)
    assert outbound_sentence(report, dt.date(2017, 9, 30)) == (
        "截至9月30日，我市参保人员在广西、北京、广东等省异地就医直接结算57人次，医保基金支出48.57万元"
    )
