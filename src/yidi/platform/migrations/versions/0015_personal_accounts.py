"""personal accounts (个人账户) and their movements

A yearly account per employee-insured person and insurance type, its balance on the row
(locked by a settlement), and every credit, settlement debit and reversal restoration.

Revision ID: 0015
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "personal_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("insurance_type", sa.String(length=3), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("balance_fen", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "balance_fen >= 0", name=op.f("ck_personal_accounts_balance_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_personal_accounts_person_id_persons")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_personal_accounts")),
        sa.UniqueConstraint(
            "person_id",
            "insurance_type",
            "year",
            name=op.f("uq_personal_accounts_person_id"),
        ),
    )
    op.create_table(
        "personal_account_movements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("balance_after_fen", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(length=64), server_default="", nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("settlement_id", sa.String(length=32), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "amount_fen > 0", name=op.f("ck_personal_account_movements_amount_positive")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["personal_accounts.id"],
            name=op.f("fk_personal_account_movements_account_id_personal_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_personal_account_movements")),
        sa.UniqueConstraint(
            "account_id",
            "kind",
            "reference",
            name=op.f("uq_personal_account_movements_account_id"),
        ),
    )
    op.create_index(
        op.f("ix_personal_account_movements_account_id"),
        "personal_account_movements",
        ["account_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_personal_account_movements_account_id"),
        table_name="personal_account_movements",
    )
    op.drop_table("personal_account_movements")
    op.drop_table("personal_accounts")
