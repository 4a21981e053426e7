"""The insured region on every filing version

``filing_versions.insured_region_code``: the lineage's insured region (参保地; a change
never moves it), written with every version, so the quarterly list's grouped count and its
page read ``ix_filing_versions_region_filed_on`` alone instead of joining ``filings`` row by
row. Here it is filled from the stored lineages, in one set-based statement.

Revision ID: 0032
Revises: 0031
"""

import sqlalchemy as sa
from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "filing_versions", sa.Column("insured_region_code", sa.String(length=6), nullable=True)
    )
    op.execute(
        "UPDATE filing_versions SET insured_region_code = (SELECT f.insured_region_code"
        " FROM filings f WHERE f.id = filing_versions.filing_id)"
    )
    # The index after the fill (cheaper than updating it row by row).
    op.create_index(
        "ix_filing_versions_region_filed_on",
        "filing_versions",
        ["insured_region_code", "filed_on", "filing_id", "id", "category"],
    )


def downgrade() -> None:
    op.drop_index("ix_filing_versions_region_filed_on", table_name="filing_versions")
    op.drop_column("filing_versions", "insured_region_code")
