"""money columns named by the one money vocabulary (``<amount name>_fen``)

Settlements kept their amounts under the national field names (``hifp_pay_fen`` …), the
clearing facts under a third set of names (``pooled_fen`` …), fee lines and manual claims
under shortened ones. Every stored settlement amount is now ``<name>_fen`` with ``<name>``
from ``yidi.settlement.amounts`` (the engine's names); the national names live only in the
national-interface package. Values are untouched: a pure rename by ``ALTER TABLE … RENAME COLUMN``
(PostgreSQL, and SQLite 3.25 or later), which keeps triggers, indexes and constraints.

A manual claim keeps its result as JSON whose ``amounts`` were keyed by the national names;
they are re-keyed the same way (other keys and every value unchanged).

The names are written out here, not imported, so this revision keeps meaning what it
meant when the vocabulary grows.

Revision ID: 0016
Revises: 0015
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

#: table -> (old column, new column)
RENAMES: dict[str, tuple[tuple[str, str], ...]] = {
    "settlements": (
        ("medfee_sumamt_fen", "total_charges_fen"),
        ("fulamt_ownpay_amt_fen", "fully_self_paid_fen"),
        ("overlmt_selfpay_fen", "over_limit_self_paid_fen"),
        ("preselfpay_amt_fen", "upfront_self_paid_fen"),
        ("inscp_scp_amt_fen", "eligible_amount_fen"),
        ("act_pay_dedc_fen", "deductible_applied_fen"),
        ("hifp_pay_fen", "pooled_fund_paid_fen"),
        ("hifmi_pay_fen", "serious_illness_paid_fen"),
        ("hifob_pay_fen", "large_expense_paid_fen"),
        ("maf_pay_fen", "medical_assistance_paid_fen"),
        ("fund_pay_sumamt_fen", "fund_paid_total_fen"),
        ("psn_part_amt_fen", "patient_share_fen"),
        ("acct_pay_fen", "personal_account_paid_fen"),
        ("psn_cash_pay_fen", "cash_paid_fen"),
    ),
    "settlement_facts": (
        ("pooled_fen", "pooled_fund_paid_fen"),
        ("serious_illness_fen", "serious_illness_paid_fen"),
        ("large_expense_fen", "large_expense_paid_fen"),
        ("medical_assistance_fen", "medical_assistance_paid_fen"),
    ),
    "fee_lines": (
        ("over_limit_fen", "over_limit_self_paid_fen"),
        ("eligible_fen", "eligible_amount_fen"),
    ),
    "manual_claims": (
        ("total_fen", "total_charges_fen"),
        ("fund_paid_fen", "fund_paid_total_fen"),
    ),
}


#: the keys of a manual claim's result_json["amounts"]: national name -> vocabulary name
AMOUNT_KEYS: dict[str, str] = {
    old.removesuffix("_fen"): new.removesuffix("_fen") for old, new in RENAMES["settlements"]
}


def _rekey_manual_results(reverse: bool) -> None:
    keys = {v: k for k, v in AMOUNT_KEYS.items()} if reverse else AMOUNT_KEYS
    claims = sa.table("manual_claims", sa.column("id", sa.String), sa.column("result_json", sa.Text))
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(claims.c.id, claims.c.result_json).where(claims.c.result_json.is_not(None))
    ).all()
    for claim_id, text in rows:
        data = json.loads(text)
        amounts = data.get("amounts")
        if not isinstance(amounts, dict):
            continue
        data["amounts"] = {keys.get(key, key): value for key, value in amounts.items()}
        bind.execute(
            claims.update()
            .where(claims.c.id == claim_id)
            .values(result_json=json.dumps(data, ensure_ascii=False))
        )


def _rename(reverse: bool) -> None:
    # ALTER TABLE … RENAME COLUMN on both dialects (SQLite 3.25+): no table copy, so the
    # append-only triggers of settlement_facts (0005) and every index stay as they are.
    for table, pairs in RENAMES.items():
        for old, new in pairs:
            source, target = (new, old) if reverse else (old, new)
            op.execute(f'ALTER TABLE {table} RENAME COLUMN "{source}" TO "{target}"')


def upgrade() -> None:
    _rename(reverse=False)
    _rekey_manual_results(reverse=False)


def downgrade() -> None:
    _rekey_manual_results(reverse=True)
    _rename(reverse=True)
