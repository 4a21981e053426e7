"""encounters keep their credential type; hospitals' clearing applications (3203/3204)

2303/2304 replies echo ``mdtrt_cert_type`` as 2401 sent it (01 医保电子凭证, 02 居民身份证,
03 社会保障卡). Encounters admitted before this revision keep NULL.

``clearing_applications`` holds a hospital's monthly clearing application (清算申请, 3203)
and its cancellation (3204). ``active`` is "1" while the application stands and NULL once
cancelled, so the unique key allows one standing application per hospital, month and
clearing type, and any number of cancelled ones (NULLs never collide).

Revision ID: 0011
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("encounters", schema=None) as batch_op:
        batch_op.add_column(sa.Column("credential_type", sa.String(length=3), nullable=True))
    op.create_table(
        "clearing_applications",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("hospital_code", sa.String(length=30), nullable=False),
        sa.Column("clearing_month", sa.String(length=7), nullable=False),
        sa.Column("clearing_type", sa.String(length=6), nullable=False),
        sa.Column("clearing_way", sa.String(length=6), nullable=True),
        sa.Column("person_times", sa.Integer(), nullable=False),
        sa.Column("total_fen", sa.BigInteger(), nullable=False),
        sa.Column("approved_total_fen", sa.BigInteger(), nullable=False),
        sa.Column("fund_fen", sa.BigInteger(), nullable=False),
        sa.Column("cash_fen", sa.BigInteger(), nullable=False),
        sa.Column("account_fen", sa.BigInteger(), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("active", sa.String(length=1), nullable=True),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("applied_by", sa.String(length=64), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clearing_applications")),
        sa.UniqueConstraint(
            "hospital_code",
            "clearing_month",
            "clearing_type",
            "active",
            name="uq_clearing_application_standing",
        ),
    )


def downgrade() -> None:
    op.drop_table("clearing_applications")
    with op.batch_alter_table("encounters", schema=None) as batch_op:
        batch_op.drop_column("credential_type")
