"""申请补充预付金 (prepayment top-up requests)

One row per request to top up an (insured region, treatment region) prepayment after a
usage warning, with the figures as they stood and who asked.

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

TABLE = "prepayment_topups"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True
        ),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("insured_region_code", sa.String(length=6), nullable=False),
        sa.Column("treatment_region_code", sa.String(length=6), nullable=False),
        sa.Column("held_fen", sa.BigInteger(), nullable=False),
        sa.Column("drawn_fen", sa.BigInteger(), nullable=False),
        sa.Column("warning", sa.String(length=8), nullable=False),
        sa.Column("suggested_fen", sa.BigInteger(), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("requested_region_code", sa.String(length=6), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("suggested_fen > 0", name="ck_prepayment_topups_suggested_positive"),
        sa.CheckConstraint("warning IN ('yellow', 'red')", name="ck_prepayment_topups_warning"),
    )


def downgrade() -> None:
    op.drop_table(TABLE)
