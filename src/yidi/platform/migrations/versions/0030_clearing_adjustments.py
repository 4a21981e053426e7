"""清算调整: amounts agreed in resolving a reconciliation dispute, carried by a later clearing

A resolved dispute whose agreed clearing adjustment differs from what its earlier resolutions
already carried adds one row (the difference) to the first clearing month still open after the
disputed month; a re-opened dispute withdraws its rows of months not yet closed. The resolve
step records the agreed adjustment beside its amount.

Revision ID: 0030
Revises: 0029
"""

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None

TABLE = "clearing_adjustments"
EVENTS = "reconciliation_dispute_events"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("dispute_id", sa.String(32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("clearing_month", sa.String(7), nullable=False),
        sa.Column("concerns_month", sa.String(7), nullable=False),
        sa.Column("insured_region_code", sa.String(6), nullable=False),
        sa.Column("treatment_region_code", sa.String(6), nullable=False),
        sa.Column("hospital_code", sa.String(30), nullable=False),
        sa.Column("settlement_id", sa.String(32), nullable=True),
        sa.Column("refund", sa.Boolean(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("agreed_fen", sa.BigInteger(), nullable=False),
        sa.Column("decided_by", sa.String(64), nullable=False),
        sa.Column("decided_role", sa.String(32), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(400), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["dispute_id"],
            ["reconciliation_disputes.id"],
            name=op.f("fk_clearing_adjustments_dispute"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clearing_adjustments")),
        sa.UniqueConstraint("dispute_id", "seq", name=op.f("uq_clearing_adjustment_step")),
    )
    for column in ("dispute_id", "clearing_month"):
        op.create_index(op.f(f"ix_{TABLE}_{column}"), TABLE, [column], unique=False)
    with op.batch_alter_table(EVENTS) as batch:
        batch.add_column(sa.Column("adjustment_fen", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table(EVENTS) as batch:
        batch.drop_column("adjustment_fen")
    for column in ("dispute_id", "clearing_month"):
        op.drop_index(op.f(f"ix_{TABLE}_{column}"), table_name=TABLE)
    op.drop_table(TABLE)
