"""对账差异 (reconciliation disputes) and their steps

One row per difference between a hospital's and the centre's record of a settlement line
(raised from 3202 or by hand), with its state; one row per step (raised, answered, resolved,
re-opened) with who, when and the text.

Revision ID: 0027
Revises: 0026
"""

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

DISPUTES = "reconciliation_disputes"
EVENTS = "reconciliation_dispute_events"
INDEXED = ("hospital_code", "treatment_region_code", "insured_region_code", "month", "state")


def _fen(name: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.BigInteger(), nullable=True)


def upgrade() -> None:
    op.create_table(
        DISPUTES,
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("hospital_code", sa.String(30), nullable=False),
        sa.Column("treatment_region_code", sa.String(6), nullable=False),
        sa.Column("insured_region_code", sa.String(6), nullable=True),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("settlement_id", sa.String(32), nullable=True),
        sa.Column("refund", sa.Boolean(), nullable=False),
        sa.Column("line_key", sa.String(72), nullable=True),
        _fen("centre_total_fen"),
        _fen("centre_fund_fen"),
        _fen("centre_account_fen"),
        _fen("institution_total_fen"),
        _fen("institution_fund_fen"),
        _fen("institution_account_fen"),
        sa.Column("raised_by", sa.String(8), nullable=False),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("outcome", sa.String(8), nullable=True),
        _fen("settled_fen"),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliation_disputes")),
        sa.UniqueConstraint("line_key", name=op.f("uq_reconciliation_disputes_line_key")),
    )
    for column in INDEXED:
        op.create_index(op.f(f"ix_{DISPUTES}_{column}"), DISPUTES, [column], unique=False)
    op.create_table(
        EVENTS,
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("dispute_id", sa.String(32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(8), nullable=False),
        sa.Column("from_state", sa.String(8), nullable=True),
        sa.Column("to_state", sa.String(8), nullable=False),
        sa.Column("side", sa.String(8), nullable=False),
        sa.Column("actor_id", sa.String(64), nullable=False),
        sa.Column("actor_role", sa.String(32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("text", sa.String(400), nullable=False),
        _fen("amount_fen"),
        sa.Column("outcome", sa.String(8), nullable=True),
        sa.ForeignKeyConstraint(
            ["dispute_id"],
            [f"{DISPUTES}.id"],
            name=op.f("fk_dispute_events_dispute"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliation_dispute_events")),
        sa.UniqueConstraint("dispute_id", "seq", name=op.f("uq_dispute_event_seq")),
    )
    op.create_index(op.f(f"ix_{EVENTS}_dispute_id"), EVENTS, ["dispute_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f(f"ix_{EVENTS}_dispute_id"), table_name=EVENTS)
    op.drop_table(EVENTS)
    for column in reversed(INDEXED):
        op.drop_index(op.f(f"ix_{DISPUTES}_{column}"), table_name=DISPUTES)
    op.drop_table(DISPUTES)
