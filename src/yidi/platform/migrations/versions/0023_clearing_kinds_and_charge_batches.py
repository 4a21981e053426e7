"""the clearing kind (清算类别) of every settlement fact; the charge batch of a fee line

``settlement_facts.clearing_type`` holds the national clr_type of the encounter a fact
settles or reverses: 11 门诊 (every outpatient medical type, 门诊慢特病 14 included), 21 住院,
41 药店购药. Existing facts take it from their encounter's medical type; a fact whose
settlement row is missing stays 21 (yidi settled inpatient care only before outpatient and
pharmacy settlement existed).

``fee_lines.charge_batch`` holds the 收费批次号 (chrg_bchno) an outpatient line was uploaded
in (2204), so that 2205 can withdraw one batch; lines stored before have none.

Revision ID: 0023
Revises: 0022
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

_KIND_OF_MED_TYPES = (("11", ("11", "12", "13", "14")), ("41", ("41",)))


def upgrade() -> None:
    # ADD COLUMN with a constant default: no table rebuild.
    op.add_column(
        "settlement_facts",
        sa.Column("clearing_type", sa.String(2), nullable=False, server_default="21"),
    )
    op.create_index(
        op.f("ix_settlement_facts_clearing_type"),
        "settlement_facts",
        ["clearing_type"],
        unique=False,
    )
    op.add_column("fee_lines", sa.Column("charge_batch", sa.String(30), nullable=True))
    for clearing_type, med_types in _KIND_OF_MED_TYPES:
        listed = ", ".join(f"'{code}'" for code in med_types)
        op.execute(
            f"UPDATE settlement_facts SET clearing_type = '{clearing_type}' WHERE setl_id IN ("
            "SELECT s.id FROM settlements s JOIN encounters e ON e.id = s.encounter_id "
            f"WHERE e.med_type IN ({listed}))"
        )


def downgrade() -> None:
    op.drop_column("fee_lines", "charge_batch")
    op.drop_index(op.f("ix_settlement_facts_clearing_type"), table_name="settlement_facts")
    op.drop_column("settlement_facts", "clearing_type")
