"""year-to-date totals keep the counters a benefit scheme names

Benefit schemes other than inpatient (普通门诊, 门诊慢特病, 定点药店) and some inpatient
steps (scales on the year's accumulated amount, per-disease limits, tilt assistance,
per-year entry caps) keep their own year-to-date totals, named by the policy files. They
are stored as one JSON object of name -> fen beside the fixed inpatient columns; existing
rows have none ("{}").

Revision ID: 0012
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("year_to_date", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("counters_json", sa.Text(), nullable=False, server_default="{}")
        )


def downgrade() -> None:
    with op.batch_alter_table("year_to_date", schema=None) as batch_op:
        batch_op.drop_column("counters_json")
