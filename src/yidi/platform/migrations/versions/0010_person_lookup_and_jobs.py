"""random person numbers, e-credential tokens, lookup counters, background jobs

* ``persons.psn_no``: the person number (人员编号) yidi returns in 1101 was ``PSN`` plus the
  row id, so any hospital could walk the register by counting. Each existing person gets a
  random number now (:func:`yidi.reference.sql.new_psn_no`); no table stores the
  old number (encounters, settlements and claims refer to ``persons.id``), so nothing
  else changes. Numbers already handed to hospital systems stop working: a hospital
  looks the patient up again with the card, the ID number and name, or the e-credential.
* ``persons.ecert_token``: the 医保电子凭证 token a person presents (mdtrt_cert_type 01);
  NULL for existing rows (none issued yet).
* ``persons.ethnicity``, ``insured_since``, ``employer_name``: 1101's naty, psn_insu_date
  and emp_name when the register knows them (NULL: unknown).
* ``lookup_counters``: person lookups per institution and hour, for the rate limit.
* ``jobs``: background 报盘 imports with progress and the final report.

Revision ID: 0010
Revises: 0013
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0013"
branch_labels = None
depends_on = None

_BATCH = 1000


def _new_psn_no() -> str:
    # The same form as yidi.reference.sql.new_psn_no (kept here: migrations are frozen).
    return "PSN" + "".join(secrets.choice("0123456789") for _ in range(22))


def upgrade() -> None:
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.add_column(sa.Column("psn_no", sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column("ecert_token", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("ethnicity", sa.String(length=2), nullable=True))
        batch_op.add_column(sa.Column("insured_since", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("employer_name", sa.String(length=100), nullable=True))
    bind = op.get_bind()
    last = 0
    while True:
        ids = (
            bind.execute(
                sa.text("SELECT id FROM persons WHERE id > :last ORDER BY id LIMIT :n"),
                {"last": last, "n": _BATCH},
            )
            .scalars()
            .all()
        )
        if not ids:
            break
        bind.execute(
            sa.text("UPDATE persons SET psn_no = :psn WHERE id = :id"),
            [{"psn": _new_psn_no(), "id": i} for i in ids],
        )
        last = ids[-1]
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.alter_column("psn_no", existing_type=sa.String(length=30), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_persons_psn_no"), ["psn_no"])
        batch_op.create_unique_constraint(batch_op.f("uq_persons_ecert_token"), ["ecert_token"])

    op.create_table(
        "lookup_counters",
        sa.Column("institution", sa.String(length=30), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "institution", "window_start", "kind", name=op.f("pk_lookup_counters")
        ),
    )
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("principal_json", sa.Text(), nullable=False),
        sa.Column("params_json", sa.Text(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=True),
        sa.Column("total_bytes", sa.Integer(), nullable=False),
        sa.Column("processed_rows", sa.Integer(), server_default="0", nullable=False),
        sa.Column("result_json", sa.Text(), nullable=True),
        sa.Column("error_json", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_jobs_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_jobs_actor"), ["actor"], unique=False)
        batch_op.create_index("ix_jobs_actor_file", ["actor", "file_sha256"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_jobs_actor_file")
        batch_op.drop_index(batch_op.f("ix_jobs_actor"))
        batch_op.drop_index(batch_op.f("ix_jobs_state"))
    op.drop_table("jobs")
    op.drop_table("lookup_counters")
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_persons_ecert_token"), type_="unique")
        batch_op.drop_constraint(batch_op.f("uq_persons_psn_no"), type_="unique")
        batch_op.drop_column("employer_name")
        batch_op.drop_column("insured_since")
        batch_op.drop_column("ethnicity")
        batch_op.drop_column("ecert_token")
        batch_op.drop_column("psn_no")
