"""encounters keep the credential type (mdtrt_cert_type) the admission was made with

2303/2304 replies echo ``mdtrt_cert_type`` as 2401 sent it (01 医保电子凭证, 02 居民身份证,
03 社会保障卡). Encounters admitted before this revision keep NULL.

Revision ID: 0011
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("encounters", schema=None) as batch_op:
        batch_op.add_column(sa.Column("credential_type", sa.String(length=3), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("encounters", schema=None) as batch_op:
        batch_op.drop_column("credential_type")
