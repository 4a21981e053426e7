"""One money vocabulary: every place that names settlement amounts agrees with
``yidi.settlement.amounts``, so adding a fund type starts with editing that one list and
these tests name every other place that must follow."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

from yidi.entrypoints.api.schemas.money import DueByFundOut, SettlementAmountsOut, SettlementLineOut
from yidi.entrypoints.web.hospital_pages import AMOUNT_ROWS
from yidi.entrypoints.web.i18n import CATALOGUE
from yidi.funds.model import FUNDS, Fund
from yidi.funds.sql import FUND_COLUMNS
from yidi.integrations.nhsa.fields import (
    FEE_LINE_FIELDS,
    SETLINFO_FIELDS,
    UNPAID_SETLINFO_FIELDS,
    from_national,
    to_national,
)
from yidi.integrations.nhsa.transactions import FeeLineResult, SettlementInfo
from yidi.platform.tables import settlement_facts, settlements
from yidi.settlement.amounts import (
    AMOUNT_NAMES,
    FUND_AMOUNTS,
    LINE_AMOUNTS,
    SETTLEMENT_AMOUNTS,
    STORED_AMOUNT_NAMES,
    STORED_AMOUNTS,
)
from yidi.settlement.result import LineBreakdown, SettlementResult

SRC = Path(__file__).resolve().parents[2] / "src" / "yidi"


def test_the_vocabulary_names_each_amount_once_with_both_languages() -> None:
    assert len(set(AMOUNT_NAMES)) == len(AMOUNT_NAMES) == 14
    for amount in STORED_AMOUNTS:
        assert amount.label_zh and amount.label_en, amount.name
        assert amount.name.isidentifier() and amount.name.islower()
    for amount in FUND_AMOUNTS:
        assert amount.fund_label_zh, amount.name


def test_the_engine_result_has_one_field_per_amount() -> None:
    fields = {f.name for f in dataclasses.fields(SettlementResult)}
    assert set(AMOUNT_NAMES) <= fields
    line_fields = {f.name for f in dataclasses.fields(LineBreakdown)}
    assert {a.name for a in LINE_AMOUNTS} <= line_fields


def test_the_national_mapping_covers_the_vocabulary_both_ways() -> None:
    assert tuple(SETLINFO_FIELDS) == AMOUNT_NAMES
    assert len(set(SETLINFO_FIELDS.values())) == len(AMOUNT_NAMES)
    assert tuple(FEE_LINE_FIELDS) == tuple(a.name for a in LINE_AMOUNTS)
    setlinfo = set(SettlementInfo.model_fields)
    assert set(SETLINFO_FIELDS.values()) | set(UNPAID_SETLINFO_FIELDS) <= setlinfo
    assert set(FEE_LINE_FIELDS.values()) <= set(FeeLineResult.model_fields)
    amounts = {name: i for i, name in enumerate(STORED_AMOUNT_NAMES)}
    national = to_national(amounts)
    assert "owed_to_treatment_region" not in from_national(national)
    assert from_national(national) == {name: amounts[name] for name in AMOUNT_NAMES}


def test_storage_keeps_each_amount_as_its_name_in_fen() -> None:
    money_columns = [c.name for c in settlements.columns if c.name.endswith("_fen")]
    assert money_columns == [a.column for a in STORED_AMOUNTS]
    fact_funds = [
        c.name
        for c in settlement_facts.columns
        if c.name.endswith("_fen") and c.name != "total_charges_fen"
    ]
    assert fact_funds == [a.column for a in FUND_AMOUNTS] == list(FUND_COLUMNS.values())


def test_the_funds_ledger_has_one_fund_per_fund_amount() -> None:
    assert [fund.amount for fund in FUNDS] == list(FUND_AMOUNTS)
    assert [fund.value for fund in Fund] == [a.fund_code for a in FUND_AMOUNTS]


def test_the_api_models_have_one_documented_field_per_amount() -> None:
    fields = SettlementAmountsOut.model_fields
    assert tuple(fields) == STORED_AMOUNT_NAMES
    for amount in STORED_AMOUNTS:
        description = fields[amount.name].description or ""
        assert amount.label_zh in description and amount.label_en in description
    for amount in LINE_AMOUNTS:
        assert amount.name in SettlementLineOut.model_fields
    assert tuple(DueByFundOut.model_fields) == tuple(fund.value for fund in FUNDS)


def test_the_web_pages_show_and_label_every_amount() -> None:
    assert AMOUNT_ROWS == AMOUNT_NAMES
    for name in AMOUNT_NAMES:
        zh, en = CATALOGUE[f"amount.{name}"]
        assert zh and en


def test_national_names_appear_only_in_the_national_interface_package() -> None:
    national = set(SETLINFO_FIELDS.values()) | set(FEE_LINE_FIELDS.values())
    national |= set(UNPAID_SETLINFO_FIELDS) | {"pool_prop_selfpay"}
    allowed = SRC / "integrations" / "nhsa"
    migrations = SRC / "platform" / "migrations"
    found = []
    for path in SRC.rglob("*"):
        if path.suffix not in {".py", ".html"} or allowed in path.parents:
            continue
        if migrations in path.parents:
            continue  # a migration states the names it renamed
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".py":
            words = {
                node.value
                for node in ast.walk(ast.parse(text))
                if isinstance(node, ast.Constant) and isinstance(node.value, str)
            } | {node.id for node in ast.walk(ast.parse(text)) if isinstance(node, ast.Name)}
            words |= {
                node.attr for node in ast.walk(ast.parse(text)) if isinstance(node, ast.Attribute)
            }
        else:
            words = set(text.replace("'", " ").replace('"', " ").replace(".", " ").split())
        hits = sorted(national & words)
        if hits:
            found.append(f"{path.relative_to(SRC)}: {hits}")
    assert not found, found


def test_the_settlement_amounts_keep_the_national_order() -> None:
    # setlinfo order: the vocabulary, the mapping and the storage columns share it
    assert [a.name for a in SETTLEMENT_AMOUNTS] == list(SETLINFO_FIELDS)
