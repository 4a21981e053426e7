"""家庭共济 bindings: who may pay from whose personal account, from when

An employee-insured account holder lets a registered close relative (spouse, parent, child)
pay from the holder's personal account from ``valid_from`` until ``valid_until`` (inclusive;
NULL: open-ended). Each settlement paid so is a debit movement of the holder's account.

Revision ID: 0029
Revises: 0028
"""

import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "family_account_bindings",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("holder_person_id", sa.Integer(), nullable=False),
        sa.Column("member_person_id", sa.Integer(), nullable=False),
        sa.Column("relation", sa.String(length=8), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "holder_person_id <> member_person_id",
            name=op.f("ck_family_account_bindings_not_self"),
        ),
        sa.ForeignKeyConstraint(
            ["holder_person_id"],
            ["persons.id"],
            name=op.f("fk_family_account_bindings_holder_person_id_persons"),
        ),
        sa.ForeignKeyConstraint(
            ["member_person_id"],
            ["persons.id"],
            name=op.f("fk_family_account_bindings_member_person_id_persons"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_family_account_bindings")),
        sa.UniqueConstraint(
            "holder_person_id",
            "member_person_id",
            "valid_from",
            name=op.f("uq_family_account_bindings_holder_person_id"),
        ),
    )
    op.create_index(
        op.f("ix_family_account_bindings_holder_person_id"),
        "family_account_bindings",
        ["holder_person_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_family_account_bindings_member_person_id"),
        "family_account_bindings",
        ["member_person_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_family_account_bindings_member_person_id"), table_name="family_account_bindings"
    )
    op.drop_index(
        op.f("ix_family_account_bindings_holder_person_id"), table_name="family_account_bindings"
    )
    op.drop_table("family_account_bindings")
