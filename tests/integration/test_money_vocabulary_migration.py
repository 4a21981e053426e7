"""Migration 0016: money columns renamed to the one vocabulary, every stored value kept.

A database at the revision before 0016 gets a settlement, a reversal, a clearing fact, a
fee line and an approved manual claim (its result JSON keyed by the national names); after
the upgrade every amount is found, to the fen, under ``<vocabulary name>_fen`` and the
claim's result under the vocabulary names. On SQLite and PostgreSQL (``fresh_engine``).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Engine,
    Integer,
    MetaData,
    Table,
    insert,
    inspect,
    select,
    text,
)
from sqlalchemy.exc import DBAPIError

from yidi.platform.migrate import _config, current_revision, head_revision, upgrade
from yidi.platform.tables import fee_lines, manual_claims, settlement_facts, settlements
from yidi.settlement.amounts import FUND_AMOUNTS, STORED_AMOUNTS

AT = dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)
_before = ScriptDirectory.from_config(_config()).get_revision("0016").down_revision
assert isinstance(_before, str)
BEFORE: str = _before

#: national column names of ``settlements`` before 0016, in vocabulary order
OLD_SETTLEMENT_COLUMNS = (
    "medfee_sumamt",
    "fulamt_ownpay_amt",
    "overlmt_selfpay",
    "preselfpay_amt",
    "inscp_scp_amt",
    "act_pay_dedc",
    "hifp_pay",
    "hifmi_pay",
    "hifob_pay",
    "maf_pay",
    "fund_pay_sumamt",
    "psn_part_amt",
    "acct_pay",
    "psn_cash_pay",
    "owed_to_treatment_region",
)


def _row(table: Table, **values: Any) -> dict[str, Any]:
    """Every NOT NULL column filled with a plain value of its type, then ``values``."""
    row: dict[str, Any] = {}
    for column in table.columns:
        if column.nullable or column.server_default is not None or column.autoincrement is True:
            continue
        if isinstance(column.type, (Integer, BigInteger)):
            row[column.name] = 1
        elif isinstance(column.type, Boolean):
            row[column.name] = False
        elif isinstance(column.type, DateTime):
            row[column.name] = AT
        elif isinstance(column.type, Date):
            row[column.name] = AT.date()
        else:
            row[column.name] = "1"
    row.update(values)
    return row


def test_stored_amounts_keep_every_fen_under_the_vocabulary_names(fresh_engine: Engine) -> None:
    upgrade(fresh_engine, BEFORE)
    old = MetaData()
    old.reflect(fresh_engine)
    t = old.tables
    # distinct values per column, so a column renamed onto the wrong name would show
    settled = {f"{name}_fen": 100_000 + i * 1_01 for i, name in enumerate(OLD_SETTLEMENT_COLUMNS)}
    reversed_ = {column: -fen for column, fen in settled.items()}
    old_result = {
        "amounts": {name: f"{100 + i}.00" for i, name in enumerate(OLD_SETTLEMENT_COLUMNS)},
        "explanation_zh": ["按参保地政策计算"],
    }
    with fresh_engine.begin() as connection:
        connection.execute(insert(t["persons"]), [_row(t["persons"], id=1)])
        connection.execute(insert(t["encounters"]), [_row(t["encounters"], id="M1", person_id=1)])
        connection.execute(
            insert(t["settlements"]),
            [
                _row(t["settlements"], id="S1", encounter_id="M1", kind="settle") | settled,
                _row(t["settlements"], id="S2", encounter_id="M1", kind="reversal") | reversed_,
            ],
        )
        connection.execute(
            insert(t["settlement_facts"]),
            [
                _row(t["settlement_facts"], setl_id="S1")
                | {
                    "total_charges_fen": 9_999,
                    "pooled_fen": 7_001,
                    "serious_illness_fen": 302,
                    "large_expense_fen": 403,
                    "medical_assistance_fen": 504,
                }
            ],
        )
        connection.execute(
            insert(t["fee_lines"]),
            [
                _row(t["fee_lines"], encounter_id="M1", serial="1")
                | {
                    "fully_self_paid_fen": 11,
                    "over_limit_fen": 22,
                    "upfront_self_paid_fen": 33,
                    "eligible_fen": 44,
                }
            ],
        )
        connection.execute(
            insert(t["manual_claims"]),
            [
                _row(t["manual_claims"], id="C1", person_id=1)
                | {
                    "total_fen": 10_000,
                    "fund_paid_fen": 6_000,
                    "patient_share_fen": 4_000,
                    "result_json": json.dumps(old_result, ensure_ascii=False),
                }
            ],
        )
        # not yet computed: no result, no amounts
        connection.execute(
            insert(t["manual_claims"]), [_row(t["manual_claims"], id="C2", person_id=1)]
        )

    upgrade(fresh_engine)

    assert current_revision(fresh_engine) == head_revision()
    with fresh_engine.connect() as connection:
        rows = {
            r.id: r._mapping
            for r in connection.execute(select(settlements).order_by(settlements.c.id))
        }
        fact = connection.execute(select(settlement_facts)).one()._mapping
        line = connection.execute(select(fee_lines)).one()._mapping
        claims = {r.id: r._mapping for r in connection.execute(select(manual_claims))}
    for amount, old_name in zip(STORED_AMOUNTS, OLD_SETTLEMENT_COLUMNS, strict=True):
        assert rows["S1"][amount.column] == settled[f"{old_name}_fen"], amount.name
        assert rows["S2"][amount.column] == -settled[f"{old_name}_fen"], amount.name
    assert fact["total_charges_fen"] == 9_999
    assert [fact[a.column] for a in FUND_AMOUNTS] == [7_001, 302, 403, 504]
    assert (
        line["fully_self_paid_fen"],
        line["over_limit_self_paid_fen"],
        line["upfront_self_paid_fen"],
        line["eligible_amount_fen"],
    ) == (11, 22, 33, 44)
    claim = claims["C1"]
    assert (claim["total_charges_fen"], claim["fund_paid_total_fen"]) == (10_000, 6_000)
    assert claim["patient_share_fen"] == 4_000
    result = json.loads(claim["result_json"])
    assert result["amounts"] == {a.name: f"{100 + i}.00" for i, a in enumerate(STORED_AMOUNTS)}
    assert result["explanation_zh"] == ["按参保地政策计算"]
    assert claims["C2"]["result_json"] is None
    columns = {c["name"] for c in inspect(fresh_engine).get_columns("settlements")}
    assert not columns & {f"{name}_fen" for name in OLD_SETTLEMENT_COLUMNS[:-1]}
    # the clearing facts stay append-only (0005's triggers survive the rename)
    with pytest.raises(DBAPIError), fresh_engine.begin() as connection:
        connection.execute(text("DELETE FROM settlement_facts"))
    with pytest.raises(DBAPIError), fresh_engine.begin() as connection:
        connection.execute(text("UPDATE settlement_facts SET pooled_fund_paid_fen = 0"))
