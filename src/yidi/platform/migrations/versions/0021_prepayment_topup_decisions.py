"""补充预付金审批 (prepayment top-up decisions)

A top-up request is requested, then approved (with the approved amount) or rejected (with a
reason) by the clearing centre; who decided and when are kept on the row.

Revision ID: 0021
Revises: 0020
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

TABLE = "prepayment_topups"


def upgrade() -> None:
    with op.batch_alter_table(TABLE) as batch:
        batch.add_column(
            sa.Column("status", sa.String(length=10), nullable=False, server_default="requested")
        )
        batch.add_column(sa.Column("approved_fen", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("decided_by", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("decision_reason", sa.String(length=200), nullable=True))
        batch.create_check_constraint(
            "ck_prepayment_topups_status", "status IN ('requested', 'approved', 'rejected')"
        )
        batch.create_check_constraint(
            "ck_prepayment_topups_approved_positive",
            "approved_fen IS NULL OR approved_fen > 0",
        )


def downgrade() -> None:
    with op.batch_alter_table(TABLE) as batch:
        batch.drop_constraint("ck_prepayment_topups_approved_positive", type_="check")
        batch.drop_constraint("ck_prepayment_topups_status", type_="check")
        for column in ("decision_reason", "decided_at", "decided_by", "approved_fen", "status"):
            batch.drop_column(column)
