"""funds: settlement facts, the append-only clearing ledger, prepayments, clearing runs

Revision ID: 0005
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

APPEND_ONLY = ("ledger_entries", "settlement_facts")


def upgrade() -> None:
    op.create_table(
        "clearing_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clearing_month", sa.String(length=7), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("statement_json", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("run_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clearing_runs")),
        sa.UniqueConstraint("clearing_month", "level", name="uq_clearing_runs_month_level"),
    )
    op.create_table(
        "ledger_entries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("setl_id", sa.String(length=40), nullable=False),
        sa.Column("clearing_month", sa.String(length=7), nullable=False),
        sa.Column("account", sa.String(length=64), nullable=False),
        sa.Column("fund", sa.String(length=24), nullable=False),
        sa.Column("side", sa.String(length=1), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("insured_region_code", sa.String(length=6), nullable=False),
        sa.Column("treatment_region_code", sa.String(length=6), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entries")),
    )
    op.create_index(op.f("ix_ledger_entries_account"), "ledger_entries", ["account"], unique=False)
    op.create_index(
        op.f("ix_ledger_entries_clearing_month"), "ledger_entries", ["clearing_month"], unique=False
    )
    op.create_index(op.f("ix_ledger_entries_setl_id"), "ledger_entries", ["setl_id"], unique=False)
    op.create_table(
        "prepayments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("insured_region_code", sa.String(length=6), nullable=False),
        sa.Column("treatment_region_code", sa.String(length=6), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prepayments")),
        sa.UniqueConstraint(
            "level",
            "insured_region_code",
            "treatment_region_code",
            "effective_on",
            name="uq_prepayments_pair_effective_on",
        ),
    )
    op.create_table(
        "settlement_facts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("setl_id", sa.String(length=40), nullable=False),
        sa.Column("reverses_setl_id", sa.String(length=40), nullable=True),
        sa.Column("settled_on", sa.Date(), nullable=False),
        sa.Column("clearing_month", sa.String(length=7), nullable=False),
        sa.Column("insured_region_code", sa.String(length=6), nullable=False),
        sa.Column("treatment_region_code", sa.String(length=6), nullable=False),
        sa.Column("hospital_code", sa.String(length=30), nullable=False),
        sa.Column("insurance_type", sa.String(length=3), nullable=False),
        sa.Column("filing_category", sa.String(length=32), nullable=True),
        sa.Column("person_times", sa.Integer(), nullable=False),
        sa.Column("total_charges_fen", sa.BigInteger(), nullable=False),
        sa.Column("pooled_fen", sa.BigInteger(), nullable=False),
        sa.Column("serious_illness_fen", sa.BigInteger(), nullable=False),
        sa.Column("large_expense_fen", sa.BigInteger(), nullable=False),
        sa.Column("medical_assistance_fen", sa.BigInteger(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settlement_facts")),
        sa.UniqueConstraint("reverses_setl_id", name=op.f("uq_settlement_facts_reverses_setl_id")),
        sa.UniqueConstraint("setl_id", name=op.f("uq_settlement_facts_setl_id")),
    )
    op.create_index(
        op.f("ix_settlement_facts_clearing_month"),
        "settlement_facts",
        ["clearing_month"],
        unique=False,
    )
    op.create_index(
        op.f("ix_settlement_facts_insured_region_code"),
        "settlement_facts",
        ["insured_region_code"],
        unique=False,
    )
    op.create_index(
        op.f("ix_settlement_facts_treatment_region_code"),
        "settlement_facts",
        ["treatment_region_code"],
        unique=False,
    )
    _append_only_guards()


def _append_only_guards() -> None:
    """The ledger and the facts are append-only: the database refuses UPDATE and DELETE."""
    dialect = op.get_bind().dialect.name
    for table in APPEND_ONLY:
        if dialect == "sqlite":
            for verb in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
                )
        elif dialect == "postgresql":
            op.execute(
                f"CREATE FUNCTION {table}_append_only() RETURNS trigger AS $$ "
                f"BEGIN RAISE EXCEPTION '{table} is append-only'; END; $$ LANGUAGE plpgsql"
            )
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()"
            )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in APPEND_ONLY:
        if dialect == "sqlite":
            for verb in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb}")
        elif dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {table}_append_only()")

    op.drop_index(op.f("ix_settlement_facts_treatment_region_code"), table_name="settlement_facts")
    op.drop_index(op.f("ix_settlement_facts_insured_region_code"), table_name="settlement_facts")
    op.drop_index(op.f("ix_settlement_facts_clearing_month"), table_name="settlement_facts")
    op.drop_table("settlement_facts")
    op.drop_table("prepayments")
    op.drop_index(op.f("ix_ledger_entries_setl_id"), table_name="ledger_entries")
    op.drop_index(op.f("ix_ledger_entries_clearing_month"), table_name="ledger_entries")
    op.drop_index(op.f("ix_ledger_entries_account"), table_name="ledger_entries")
    op.drop_table("ledger_entries")
    op.drop_table("clearing_runs")
