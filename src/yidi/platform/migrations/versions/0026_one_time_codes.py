"""one-time codes (短信验证码) for insured persons' self-registration and password reset

One row per code sent (or pretended to be sent, when the details matched nobody: the same
answer for everyone). The client holds a random challenge token; the database keeps its
SHA-256 and the SHA-256 of token and code together, so a copy of the database yields
neither. Codes are short-lived, single use, and die after a few wrong tries.

Revision ID: 0026
Revises: 0025
"""

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "one_time_codes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("challenge_hash", sa.String(64), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("id_number", sa.String(18), nullable=False),
        sa.Column("matched", sa.Boolean(), nullable=False),
        sa.Column("address", sa.String(64), nullable=False, server_default=""),
        sa.Column("failures", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_one_time_codes")),
        sa.UniqueConstraint("challenge_hash", name=op.f("uq_one_time_codes_challenge_hash")),
    )
    op.create_index(
        op.f("ix_one_time_codes_id_number"), "one_time_codes", ["id_number"], unique=False
    )
    op.create_index(
        op.f("ix_one_time_codes_address"), "one_time_codes", ["address"], unique=False
    )
    op.create_index(
        op.f("ix_one_time_codes_created_at"), "one_time_codes", ["created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_one_time_codes_created_at"), table_name="one_time_codes")
    op.drop_index(op.f("ix_one_time_codes_address"), table_name="one_time_codes")
    op.drop_index(op.f("ix_one_time_codes_id_number"), table_name="one_time_codes")
    op.drop_table("one_time_codes")
