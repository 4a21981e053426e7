"""the 门诊慢特病 disease of an outpatient visit (encounters.disease_code)

A chronic-disease visit (med_type 14) is settled by the disease's terms on the insured region's
list; the visit keeps the disease code the hospital gave (2201 or 2203). Null for every other
encounter.

Revision ID: 0022
Revises: 0021
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("encounters") as batch:
        batch.add_column(sa.Column("disease_code", sa.String(30), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("encounters") as batch:
        batch.drop_column("disease_code")
