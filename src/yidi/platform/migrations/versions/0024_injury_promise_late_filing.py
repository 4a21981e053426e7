"""injury promise at admission; the late filing a manual claim is paid under

* ``encounters.injury_promise``: the admission is an injury (外伤) whose patient signed the
  《外伤无第三方责任承诺书》 (2401 ``trum_flag`` 1 with ``rel_ttp_flag`` 0), under the 2022 rules
  the condition for settling it directly; false for every existing row.
* ``manual_claims.late_filing_number``: the 补办 filing (备案编号) whose category set the
  claim's rates (filed instead of unfiled); NULL for existing claims.

Revision ID: 0024
Revises: 0023
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("encounters") as batch_op:
        batch_op.add_column(
            sa.Column("injury_promise", sa.Boolean(), server_default="0", nullable=False)
        )
    with op.batch_alter_table("manual_claims") as batch_op:
        batch_op.add_column(sa.Column("late_filing_number", sa.String(24), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("manual_claims") as batch_op:
        batch_op.drop_column("late_filing_number")
    with op.batch_alter_table("encounters") as batch_op:
        batch_op.drop_column("injury_promise")
