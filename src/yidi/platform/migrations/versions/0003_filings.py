"""filings: versions, events, evidence, filing-number sequences, import batches

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "evidence_files",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("media_type", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_evidence_files")),
    )
    op.create_table(
        "filing_number_sequences",
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last_sequence", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("region_code", "year", name=op.f("pk_filing_number_sequences")),
    )
    op.create_table(
        "filings",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("filing_number", sa.String(length=24), nullable=True),
        sa.Column("current_version_id", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("insured_region_code", sa.String(length=6), nullable=False),
        sa.Column("id_number", sa.String(length=18), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("import_key", sa.String(length=80), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_filings")),
        sa.UniqueConstraint("filing_number", name=op.f("uq_filings_filing_number")),
        sa.UniqueConstraint("import_key", name=op.f("uq_filings_import_key")),
    )
    with op.batch_alter_table("filings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_filings_category"), ["category"], unique=False)
        batch_op.create_index(batch_op.f("ix_filings_id_number"), ["id_number"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_filings_insured_region_code"), ["insured_region_code"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_filings_name"), ["name"], unique=False)
        batch_op.create_index(batch_op.f("ix_filings_state"), ["state"], unique=False)

    op.create_table(
        "import_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("total_rows", sa.Integer(), nullable=False),
        sa.Column("imported_rows", sa.Integer(), nullable=False),
        sa.Column("duplicate_rows", sa.Integer(), nullable=False),
        sa.Column("rejected_rows", sa.Integer(), nullable=False),
        sa.Column("report_json", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_batches")),
        sa.UniqueConstraint("file_sha256", name=op.f("uq_import_batches_file_sha256")),
    )
    op.create_table(
        "filing_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("filing_id", sa.String(length=32), nullable=False),
        sa.Column("version_id", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("from_state", sa.String(length=16), nullable=True),
        sa.Column("to_state", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=False),
        sa.Column("actor_role", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["filing_id"], ["filings.id"], name=op.f("fk_filing_events_filing_id_filings")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_filing_events")),
    )
    with op.batch_alter_table("filing_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_filing_events_filing_id"), ["filing_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_filing_events_version_id"), ["version_id"], unique=False
        )

    op.create_table(
        "filing_versions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("filing_id", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("registration_type", sa.String(length=1), nullable=False),
        sa.Column("record_json", sa.Text(), nullable=False),
        sa.Column("state_reason", sa.String(length=500), nullable=True),
        sa.Column("supersedes", sa.String(length=32), nullable=True),
        sa.Column("superseded_by", sa.String(length=32), nullable=True),
        sa.Column("filed_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["filing_id"], ["filings.id"], name=op.f("fk_filing_versions_filing_id_filings")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_filing_versions")),
        sa.UniqueConstraint("filing_id", "version", name="uq_filing_versions_filing_id_version"),
    )
    with op.batch_alter_table("filing_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_filing_versions_filed_on"), ["filed_on"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_filing_versions_filing_id"), ["filing_id"], unique=False
        )

    op.create_table(
        "filing_evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("document_number", sa.String(length=64), nullable=True),
        sa.Column("issuer", sa.String(length=100), nullable=True),
        sa.Column("issued_on", sa.Date(), nullable=True),
        sa.Column("issuer_region_code", sa.String(length=6), nullable=True),
        sa.Column("issuer_hospital_level", sa.Integer(), nullable=True),
        sa.Column("issuer_is_top_specialist", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=True),
        sa.Column("file_name", sa.String(length=200), nullable=True),
        sa.Column("media_type", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["filing_versions.id"],
            name=op.f("fk_filing_evidence_version_id_filing_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_filing_evidence")),
        sa.UniqueConstraint(
            "version_id", "position", name="uq_filing_evidence_version_id_position"
        ),
    )
    with op.batch_alter_table("filing_evidence", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_filing_evidence_version_id"), ["version_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("filing_evidence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_filing_evidence_version_id"))

    op.drop_table("filing_evidence")
    with op.batch_alter_table("filing_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_filing_versions_filing_id"))
        batch_op.drop_index(batch_op.f("ix_filing_versions_filed_on"))

    op.drop_table("filing_versions")
    with op.batch_alter_table("filing_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_filing_events_version_id"))
        batch_op.drop_index(batch_op.f("ix_filing_events_filing_id"))

    op.drop_table("filing_events")
    op.drop_table("import_batches")
    with op.batch_alter_table("filings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_filings_state"))
        batch_op.drop_index(batch_op.f("ix_filings_name"))
        batch_op.drop_index(batch_op.f("ix_filings_insured_region_code"))
        batch_op.drop_index(batch_op.f("ix_filings_id_number"))
        batch_op.drop_index(batch_op.f("ix_filings_category"))

    op.drop_table("filings")
    op.drop_table("filing_number_sequences")
    op.drop_table("evidence_files")
