"""composite indexes for the hospital path's lookups

The admission check (what 1101 runs) reads a person's approved filings by ID number and
state; with only single-column indexes SQLite without statistics chose ``ix_filings_state``
and read every approved filing. The cashier's open-stay check reads a person's encounters
by state. Each lookup now has an index that covers all its equality terms, and the
statistics are gathered once so the planner sees them.

Revision ID: 0013
Revises: 0007
"""

from alembic import op

revision = "0013"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_filings_id_number_state", "filings", ["id_number", "state"])
    op.create_index("ix_encounters_person_id_state", "encounters", ["person_id", "state"])
    op.execute("ANALYZE")


def downgrade() -> None:
    op.drop_index("ix_encounters_person_id_state", table_name="encounters")
    op.drop_index("ix_filings_id_number_state", table_name="filings")
