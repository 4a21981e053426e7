"""constraints that hold under concurrency, shared gateway nonces, refusal counters

* ``uq_encounters_open_person_hospital``: at most one open stay (在院 or 已出院未结算) per
  person and hospital. The admission's "already open" check was a read without a lock, so
  concurrent 2401s could open several stays and each could be settled.
* ``uq_filings_live_person_category`` / ``uq_filings_live_person_nocategory``: at most one
  live counter filing (草稿、待审核、已退回、已备案) per person, insured region and category
  (imported rows keep their own rule, the import key).
* ``gateway_nonces``: x-tif nonces and used HN signatures, kept for the timestamp window
  and shared by every server process, so a captured request cannot be replayed after a
  restart or against another worker.
* ``gateway_refusals``: refused gateway requests counted per minute, source address, key
  and reason, outside the audit chain, so unauthenticated traffic cannot flood the chain.

An existing database that already holds two open stays of one person at one hospital, or
two live counter filings of one person in one category, cannot take the unique indexes:
the upgrade stops and names them, to be resolved (cancel one) before upgrading again.

Revision ID: 0008
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0011"  # main's head when merged; assigned to follow 0007
branch_labels = None
depends_on = None

OPEN_ENCOUNTER = "state IN ('admitted', 'discharged')"
LIVE_COUNTER_FILING = (
    "source = 'counter' AND state IN ('draft', 'submitted', 'rejected', 'approved')"
)


def upgrade() -> None:
    _refuse_existing_duplicates()
    op.create_index(
        "uq_encounters_open_person_hospital",
        "encounters",
        ["person_id", "hospital_code"],
        unique=True,
        sqlite_where=sa.text(OPEN_ENCOUNTER),
        postgresql_where=sa.text(OPEN_ENCOUNTER),
    )
    with_category = LIVE_COUNTER_FILING + " AND category IS NOT NULL"
    without_category = LIVE_COUNTER_FILING + " AND category IS NULL"
    op.create_index(
        "uq_filings_live_person_category",
        "filings",
        ["id_number", "insured_region_code", "category"],
        unique=True,
        sqlite_where=sa.text(with_category),
        postgresql_where=sa.text(with_category),
    )
    op.create_index(
        "uq_filings_live_person_nocategory",
        "filings",
        ["id_number", "insured_region_code"],
        unique=True,
        sqlite_where=sa.text(without_category),
        postgresql_where=sa.text(without_category),
    )
    op.create_table(
        "gateway_nonces",
        sa.Column("access_key", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.String(length=128), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("access_key", "nonce", name=op.f("pk_gateway_nonces")),
    )
    op.create_index(
        op.f("ix_gateway_nonces_expires_at"), "gateway_nonces", ["expires_at"], unique=False
    )
    op.create_table(
        "gateway_refusals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("minute", sa.DateTime(timezone=True), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("access_key", sa.String(length=64), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_reason", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gateway_refusals")),
        sa.UniqueConstraint(
            "minute", "address", "access_key", "code", name="uq_gateway_refusals_source"
        ),
    )
    op.create_index(
        op.f("ix_gateway_refusals_minute"), "gateway_refusals", ["minute"], unique=False
    )


def _refuse_existing_duplicates() -> None:
    bind = op.get_bind()
    stays = bind.execute(
        sa.text(
            "SELECT person_id, hospital_code, COUNT(*) FROM encounters"
            f" WHERE {OPEN_ENCOUNTER} GROUP BY person_id, hospital_code HAVING COUNT(*) > 1"
        )
    ).all()
    filings = bind.execute(
        sa.text(
            "SELECT insured_region_code, category, COUNT(*) FROM filings"
            f" WHERE {LIVE_COUNTER_FILING}"
            " GROUP BY id_number, insured_region_code, category HAVING COUNT(*) > 1"
        )
    ).all()
    if stays or filings:
        raise RuntimeError(
            "cannot add the one-open-stay and one-live-filing constraints: "
            f"{len(stays)} person/hospital pairs with several open stays "
            f"(hospitals {sorted({row[1] for row in stays})[:10]}), "
            f"{len(filings)} persons with several live filings of one category "
            f"(regions {sorted({row[0] for row in filings})[:10]}); cancel the extra "
            "stays or filings, then upgrade again"
        )


def downgrade() -> None:
    op.drop_index(op.f("ix_gateway_refusals_minute"), table_name="gateway_refusals")
    op.drop_table("gateway_refusals")
    op.drop_index(op.f("ix_gateway_nonces_expires_at"), table_name="gateway_nonces")
    op.drop_table("gateway_nonces")
    op.drop_index("uq_filings_live_person_nocategory", table_name="filings")
    op.drop_index("uq_filings_live_person_category", table_name="filings")
    op.drop_index("uq_encounters_open_person_hospital", table_name="encounters")
