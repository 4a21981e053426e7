"""门诊慢特病 认定 (chronic-disease recognitions)

One row per recognition of a person for one disease of the insured region's list, with its
period, evidence and who recorded and ended it.

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

TABLE = "chronic_recognitions"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("insured_region_code", sa.String(length=6), nullable=False),
        sa.Column("disease_code", sa.String(length=30), nullable=False),
        sa.Column("disease_name", sa.String(length=300), nullable=False),
        sa.Column("begin_on", sa.Date(), nullable=False),
        sa.Column("end_on", sa.Date(), nullable=True),
        sa.Column("hospital_code", sa.String(length=100), server_default="", nullable=False),
        sa.Column("doctor_name", sa.String(length=100), server_default="", nullable=False),
        sa.Column("evidence_reference", sa.String(length=100), server_default="", nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_by", sa.String(length=64), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(length=400), server_default="", nullable=False),
        sa.CheckConstraint(
            "end_on IS NULL OR end_on >= begin_on",
            name=op.f("ck_chronic_recognitions_end_not_before_begin"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_chronic_recognitions_person_id_persons")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chronic_recognitions")),
    )
    op.create_index(op.f("ix_chronic_recognitions_person_id"), TABLE, ["person_id"], unique=False)
    op.create_index(
        op.f("ix_chronic_recognitions_insured_region_code"),
        TABLE,
        ["insured_region_code"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_chronic_recognitions_insured_region_code"), table_name=TABLE)
    op.drop_index(op.f("ix_chronic_recognitions_person_id"), table_name=TABLE)
    op.drop_table(TABLE)
