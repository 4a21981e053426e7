"""import batches record the region they were submitted for

A 报盘 batch belongs to the region its file was submitted for (the submitting agency's
pooling region, or the province's code for the province's own imports). Before 0007 the
region was derived from the importing account, so batches of the command line or of a
deleted account were listed nowhere. Existing rows take the region of the account that
imported them; a row without such an account (the command line's ``system``, a deleted
account) takes the prefecture of the filings it created when they all lie in one, and
keeps NULL otherwise (listed nowhere, as before).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("import_batches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("region_code", sa.String(length=6), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_import_batches_region_code"), ["region_code"], unique=False
        )
    # A correlated subquery: the same statement on SQLite and PostgreSQL.
    op.execute(
        "UPDATE import_batches SET region_code = ("
        "SELECT users.region_code FROM users WHERE users.username = import_batches.actor"
        ") WHERE region_code IS NULL"
    )
    _backfill_from_imported_filings()


def _backfill_from_imported_filings() -> None:
    """A batch's filings carry its actor and its instant on their first event."""
    bind = op.get_bind()
    found = bind.execute(
        sa.text(
            "SELECT b.id, f.insured_region_code FROM import_batches b"
            " JOIN filing_events e ON e.actor_id = b.actor AND e.at = b.imported_at"
            " AND e.seq = 1 AND e.action = 'create'"
            " JOIN filings f ON f.id = e.filing_id AND f.source = 'import'"
            " WHERE b.region_code IS NULL"
            " GROUP BY b.id, f.insured_region_code"
        )
    ).all()
    codes_by_batch: dict[int, set[str]] = {}
    for batch_id, code in found:
        codes_by_batch.setdefault(batch_id, set()).add(code or "")
    for batch_id, codes in codes_by_batch.items():
        region = _one_prefecture(codes)
        if region is not None:
            bind.execute(
                sa.text("UPDATE import_batches SET region_code = :region WHERE id = :id"),
                {"region": region, "id": batch_id},
            )


def _one_prefecture(codes: set[str]) -> str | None:
    """The prefecture (XXXX00) holding every code, or None when they lie in more than one.
    A county run by the province (XX90XX, such as 济源 419001) is a unit of its own."""
    if any(len(code) != 6 or not code.isdigit() for code in codes):
        return None
    prefixes = {code[:4] for code in codes}
    if len(prefixes) != 1:
        return None
    (prefix,) = prefixes
    if prefix[2:] == "90":
        return next(iter(codes)) if len(codes) == 1 else None
    return prefix + "00"


def downgrade() -> None:
    with op.batch_alter_table("import_batches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_import_batches_region_code"))
        batch_op.drop_column("region_code")
