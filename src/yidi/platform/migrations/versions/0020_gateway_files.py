"""files uploaded through the national gateway (9101 / 9102)

One row per uploaded file: the bytes, size and SHA-256, the institution that uploaded it,
the msgid of the upload (unique per institution, so a resent 9101 is not stored twice) and
the time after which it can no longer be downloaded.

Revision ID: 0020
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gateway_files",
        sa.Column("file_qury_no", sa.String(30), nullable=False),
        sa.Column("fixmedins_code", sa.String(30), nullable=False),
        sa.Column("msgid", sa.String(30), nullable=True),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("file_size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("file_qury_no", name=op.f("pk_gateway_files")),
        sa.UniqueConstraint("fixmedins_code", "msgid", name="uq_gateway_files_message"),
    )
    op.create_index(
        op.f("ix_gateway_files_expires_at"), "gateway_files", ["expires_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_gateway_files_expires_at"), table_name="gateway_files")
    op.drop_table("gateway_files")
