"""designated pharmacies and connection flags per kind of care

A designated institution is a hospital (定点医疗机构) or a retail pharmacy (定点零售药店),
and it is connected for direct settlement per kind: 住院, 普通门诊, 门诊慢特病, 药店购药
(``hospitals.connected_kinds``, a comma list; existing hospitals keep what they settled
before: inpatient and general outpatient). A pharmacy purchase (2102) keeps the numbers of
the prescriptions it was dispensed on (``encounters.prescription_numbers``).

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ADD COLUMN with a constant default: no table rebuild (SQLite keeps the partial indexes).
    op.add_column(
        "hospitals",
        sa.Column("institution_type", sa.String(10), nullable=False, server_default="hospital"),
    )
    op.add_column(
        "hospitals",
        sa.Column(
            "connected_kinds", sa.String(60), nullable=False, server_default="inpatient,outpatient"
        ),
    )
    op.add_column(
        "encounters",
        sa.Column("prescription_numbers", sa.String(200), nullable=False, server_default=""),
    )


def downgrade() -> None:
    op.drop_column("encounters", "prescription_numbers")
    op.drop_column("hospitals", "connected_kinds")
    op.drop_column("hospitals", "institution_type")
