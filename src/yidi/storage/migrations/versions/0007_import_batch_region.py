"""import batches record the region they were submitted for

A 报盘 batch belongs to the region its file was submitted for (the submitting agency's
pooling region, or the province's code for the province's own imports). Before 0007 the
region was derived from the importing account, so batches of the command line or of a
deleted account were listed nowhere. Existing rows take the region of the account that
imported them; rows without such an account keep NULL.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("import_batches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("region_code", sa.String(length=6), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_import_batches_region_code"), ["region_code"], unique=False
        )
    # A correlated subquery: the same statement on SQLite and PostgreSQL.
    op.execute(
        "UPDATE import_batches SET region_code = ("
        "SELECT users.region_code FROM users WHERE users.username = import_batches.actor"
        ") WHERE region_code IS NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("import_batches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_import_batches_region_code"))
        batch_op.drop_column("region_code")
