"""manual claims: the directory hospital and the payee (收款人、开户银行、银行账号); jobs: total rows

A manual claim names the hospital from the directory when it is there (``hospital_code``,
the 定点医疗机构编号; a free-text hospital keeps it empty) and the account the agency pays
into. An export job knows how many rows it will write, so its page shows a progress bar.

Revision ID: 0028
Revises: 0027
"""

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("manual_claims") as batch:
        batch.add_column(sa.Column("hospital_code", sa.String(30), nullable=True))
        batch.add_column(sa.Column("payee_name", sa.String(50), nullable=True))
        batch.add_column(sa.Column("payee_bank", sa.String(100), nullable=True))
        batch.add_column(sa.Column("payee_account", sa.String(32), nullable=True))
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(
            sa.Column("total_rows", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("total_rows")
    with op.batch_alter_table("manual_claims") as batch:
        batch.drop_column("payee_account")
        batch.drop_column("payee_bank")
        batch.drop_column("payee_name")
        batch.drop_column("hospital_code")
