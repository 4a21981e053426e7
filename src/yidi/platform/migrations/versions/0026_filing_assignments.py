"""reviewer assignment of filings awaiting review (分配审核人)

One row per filing: the agency reviewer it is assigned to, who assigned it and when.

Revision ID: 0026
Revises: 0020
"""

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "filing_assignments",
        sa.Column("filing_id", sa.String(32), nullable=False),
        sa.Column("assignee", sa.String(64), nullable=False),
        sa.Column("assigned_by", sa.String(64), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["filing_id"],
            ["filings.id"],
            name=op.f("fk_filing_assignments_filing_id_filings"),
        ),
        sa.PrimaryKeyConstraint("filing_id", name=op.f("pk_filing_assignments")),
    )
    op.create_index(
        op.f("ix_filing_assignments_assignee"), "filing_assignments", ["assignee"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_filing_assignments_assignee"), table_name="filing_assignments")
    op.drop_table("filing_assignments")
