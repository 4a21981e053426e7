"""Columns the follow-up lists page on in SQL

``filing_versions.category``: the version's own 备案类别 (a change may change it), so the
quarterly list keeps 附件2's categories in the statement that pages it.
``filings.missing_fields``: how many mandatory 附件1 fields the current version lacks, so
待补充的历史备案 pages in SQL. Both are written with every version; here they are filled
from the stored records (the count by the rule of :mod:`yidi.filing.model.annex`).
``ix_filing_versions_filed_on_category`` replaces ``ix_filing_versions_filed_on``: the
quarterly list's count and page read the period's versions from the index, not from the
wide record rows.

Revision ID: 0031
Revises: 0030
"""

import json

import sqlalchemy as sa
from alembic import op

from yidi.filing.model.annex import missing_mandatory_fields
from yidi.filing.record_json import record_from_json

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None

_BATCH = 2000


def upgrade() -> None:
    op.add_column("filing_versions", sa.Column("category", sa.String(length=32), nullable=True))
    op.add_column(
        "filings",
        sa.Column("missing_fields", sa.Integer(), nullable=False, server_default="0"),
    )
    bind = op.get_bind()
    versions = sa.table(
        "filing_versions",
        sa.column("id", sa.String),
        sa.column("record_json", sa.Text),
        sa.column("category", sa.String),
    )
    lineages = sa.table(
        "filings",
        sa.column("id", sa.String),
        sa.column("current_version_id", sa.String),
        sa.column("missing_fields", sa.Integer),
    )
    # In id batches (keyset): memory stays flat for any number of versions.
    last = ""
    while True:
        rows = bind.execute(
            sa.select(versions.c.id, versions.c.record_json)
            .where(versions.c.id > last)
            .order_by(versions.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            break
        for row in rows:
            category = json.loads(row.record_json).get("category")
            if category:
                bind.execute(
                    versions.update()
                    .where(versions.c.id == row.id)
                    .values(category=str(category))
                )
        last = rows[-1].id
    last = ""
    while True:
        found = bind.execute(
            sa.select(lineages.c.id, versions.c.record_json)
            .join(versions, versions.c.id == lineages.c.current_version_id)
            .where(lineages.c.id > last)
            .order_by(lineages.c.id)
            .limit(_BATCH)
        ).all()
        if not found:
            break
        for row in found:
            missing = len(missing_mandatory_fields(record_from_json(row.record_json)))
            if missing:
                bind.execute(
                    lineages.update().where(lineages.c.id == row.id).values(missing_fields=missing)
                )
        last = found[-1].id
    # The indexes after the fill (cheaper than updating them row by row). The new one
    # replaces the filed-day index (the same leading column), which planners preferred.
    op.create_index(op.f("ix_filings_missing_fields"), "filings", ["missing_fields"])
    op.drop_index("ix_filing_versions_filed_on", table_name="filing_versions")
    op.create_index(
        "ix_filing_versions_filed_on_category",
        "filing_versions",
        ["filed_on", "category", "filing_id", "id"],
    )


def downgrade() -> None:
    op.drop_index("ix_filing_versions_filed_on_category", table_name="filing_versions")
    op.create_index("ix_filing_versions_filed_on", "filing_versions", ["filed_on"])
    op.drop_index(op.f("ix_filings_missing_fields"), table_name="filings")
    op.drop_column("filings", "missing_fields")
    op.drop_column("filing_versions", "category")
