"""change requests: an insured person's online request to change an approved filing

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "filing_change_requests",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("filing_id", sa.String(length=32), nullable=False),
        sa.Column("pending_filing_id", sa.String(length=32), nullable=True),
        sa.Column("base_version_id", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("insured_region_code", sa.String(length=6), nullable=False),
        sa.Column("id_number", sa.String(length=18), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("record_json", sa.Text(), nullable=False),
        sa.Column("evidence_json", sa.Text(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_reason", sa.String(length=500), nullable=True),
        sa.Column("result_version_id", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["filing_id"],
            ["filings.id"],
            name=op.f("fk_filing_change_requests_filing_id_filings"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_filing_change_requests")),
        sa.UniqueConstraint(
            "pending_filing_id", name=op.f("uq_filing_change_requests_pending_filing_id")
        ),
    )
    with op.batch_alter_table("filing_change_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_filing_change_requests_filing_id"), ["filing_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_filing_change_requests_id_number"), ["id_number"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_filing_change_requests_insured_region_code"),
            ["insured_region_code"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_filing_change_requests_state"), ["state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("filing_change_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_filing_change_requests_state"))
        batch_op.drop_index(batch_op.f("ix_filing_change_requests_insured_region_code"))
        batch_op.drop_index(batch_op.f("ix_filing_change_requests_id_number"))
        batch_op.drop_index(batch_op.f("ix_filing_change_requests_filing_id"))
    op.drop_table("filing_change_requests")
