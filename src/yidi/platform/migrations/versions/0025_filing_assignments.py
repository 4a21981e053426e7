"""reviewer assignment of filings awaiting review (分配审核人); prefix and tail search indexes

One row per filing: the agency reviewer it is assigned to, who assigned it and when.
The list's forgiving search looks up a name or filing-number beginning (``LIKE 'x%'``):
pattern indexes (text_pattern_ops on PostgreSQL, usable under any collation).

Revision ID: 0025
Revises: 0024
"""

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
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
    op.create_index(
        "ix_filings_name_pattern",
        "filings",
        ["name"],
        postgresql_ops={"name": "text_pattern_ops"},
    )
    op.create_index(
        "ix_filings_number_pattern",
        "filings",
        ["filing_number"],
        postgresql_ops={"filing_number": "text_pattern_ops"},
    )


def downgrade() -> None:
    op.drop_index("ix_filings_number_pattern", table_name="filings")
    op.drop_index("ix_filings_name_pattern", table_name="filings")
    op.drop_index(op.f("ix_filing_assignments_assignee"), table_name="filing_assignments")
    op.drop_table("filing_assignments")
