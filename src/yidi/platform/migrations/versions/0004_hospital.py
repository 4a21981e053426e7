"""hospital settlement: catalogue versions, encounters, fee lines, settlements, year-to-date, manual claims

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "catalog_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("treatment_region", sa.String(length=6), nullable=False),
        sa.Column("version_label", sa.String(length=100), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.Column("source_name", sa.String(length=200), server_default="", nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_versions")),
        sa.UniqueConstraint("content_hash", name=op.f("uq_catalog_versions_content_hash")),
    )
    with op.batch_alter_table("catalog_versions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_catalog_versions_treatment_region"), ["treatment_region"], unique=False
        )

    op.create_table(
        "catalog_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("item_class", sa.String(length=2), nullable=False),
        sa.Column("upfront_self_pay_rate", sa.String(length=12), nullable=False),
        sa.Column("price_limit_fen", sa.BigInteger(), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("fee_category", sa.String(length=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["catalog_versions.id"],
            name=op.f("fk_catalog_items_version_id_catalog_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_items")),
        sa.UniqueConstraint("version_id", "code", name="uq_catalog_items_version_id_code"),
    )
    op.create_table(
        "encounters",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("hospital_code", sa.String(length=30), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("insured_region_code", sa.String(length=6), nullable=False),
        sa.Column("treatment_region_code", sa.String(length=6), nullable=False),
        sa.Column("insurance_type", sa.String(length=3), nullable=False),
        sa.Column("person_type", sa.String(length=32), nullable=False),
        sa.Column("filing_id", sa.String(length=32), nullable=True),
        sa.Column("filing_number", sa.String(length=24), nullable=True),
        sa.Column("filing_category", sa.String(length=32), nullable=True),
        sa.Column("med_type", sa.String(length=6), nullable=False),
        sa.Column("inpatient_number", sa.String(length=30), server_default="", nullable=False),
        sa.Column("department_code", sa.String(length=30), server_default="", nullable=False),
        sa.Column("department_name", sa.String(length=100), server_default="", nullable=False),
        sa.Column("admitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("discharged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("diagnosis_codes", sa.String(length=500), server_default="", nullable=False),
        sa.Column("accidental_injury", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("emergency_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_encounters_person_id_persons")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_encounters")),
    )
    with op.batch_alter_table("encounters", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_encounters_hospital_code"), ["hospital_code"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_encounters_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_encounters_state"), ["state"], unique=False)

    op.create_table(
        "manual_claims",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("insured_region_code", sa.String(length=6), nullable=False),
        sa.Column("treatment_region_code", sa.String(length=6), nullable=False),
        sa.Column("hospital_name", sa.String(length=100), nullable=False),
        sa.Column("hospital_level", sa.Integer(), nullable=False),
        sa.Column("encounter_type", sa.String(length=6), nullable=False),
        sa.Column("filing_category", sa.String(length=32), nullable=True),
        sa.Column("admitted_on", sa.Date(), nullable=False),
        sa.Column("discharged_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=500), server_default="", nullable=False),
        sa.Column("materials_json", sa.Text(), nullable=False),
        sa.Column("fee_lines_json", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("result_json", sa.Text(), nullable=True),
        sa.Column("total_fen", sa.BigInteger(), nullable=True),
        sa.Column("fund_paid_fen", sa.BigInteger(), nullable=True),
        sa.Column("patient_share_fen", sa.BigInteger(), nullable=True),
        sa.Column("year_to_date_delta_json", sa.Text(), nullable=True),
        sa.Column("policy_version", sa.String(length=64), nullable=True),
        sa.Column("catalog_version", sa.String(length=200), nullable=True),
        sa.Column("catalog_note", sa.String(length=200), nullable=True),
        sa.Column("approved_by", sa.String(length=64), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("payment_reference", sa.String(length=64), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_manual_claims_person_id_persons")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_manual_claims")),
    )
    with op.batch_alter_table("manual_claims", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_manual_claims_insured_region_code"),
            ["insured_region_code"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_manual_claims_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_manual_claims_state"), ["state"], unique=False)

    op.create_table(
        "year_to_date",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("insurance_type", sa.String(length=3), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("admissions_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("deductible_used_fen", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("pooled_fund_paid_fen", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("serious_illness_paid_fen", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("large_expense_paid_fen", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("assistance_paid_fen", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column(
            "eligible_amount_accumulated_fen", sa.BigInteger(), server_default="0", nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_year_to_date_person_id_persons")
        ),
        sa.PrimaryKeyConstraint(
            "person_id", "insurance_type", "year", name=op.f("pk_year_to_date")
        ),
    )
    op.create_table(
        "fee_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("encounter_id", sa.String(length=32), nullable=False),
        sa.Column("serial", sa.String(length=30), nullable=False),
        sa.Column("catalog_code", sa.String(length=50), nullable=False),
        sa.Column("hospital_item_code", sa.String(length=150), nullable=False),
        sa.Column("name", sa.String(length=200), server_default="", nullable=False),
        sa.Column("quantity", sa.String(length=24), nullable=False),
        sa.Column("unit_price", sa.String(length=24), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("emergency_pre_admission", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("item_class", sa.String(length=2), nullable=False),
        sa.Column("fee_category", sa.String(length=2), nullable=False),
        sa.Column("self_pay_rate", sa.String(length=12), nullable=False),
        sa.Column("price_limit", sa.String(length=24), nullable=True),
        sa.Column("fully_self_paid_fen", sa.BigInteger(), nullable=False),
        sa.Column("over_limit_fen", sa.BigInteger(), nullable=False),
        sa.Column("upfront_self_paid_fen", sa.BigInteger(), nullable=False),
        sa.Column("eligible_fen", sa.BigInteger(), nullable=False),
        sa.Column("cancelled", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("settlement_id", sa.String(length=32), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["encounter_id"], ["encounters.id"], name=op.f("fk_fee_lines_encounter_id_encounters")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fee_lines")),
        sa.UniqueConstraint("encounter_id", "serial", name="uq_fee_lines_encounter_id_serial"),
    )
    op.create_table(
        "settlements",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("encounter_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reverses_id", sa.String(length=32), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("insurance_type", sa.String(length=3), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("hospital_code", sa.String(length=30), nullable=False),
        sa.Column("insured_region_code", sa.String(length=6), nullable=False),
        sa.Column("treatment_region_code", sa.String(length=6), nullable=False),
        sa.Column("medfee_sumamt_fen", sa.BigInteger(), nullable=False),
        sa.Column("fulamt_ownpay_amt_fen", sa.BigInteger(), nullable=False),
        sa.Column("overlmt_selfpay_fen", sa.BigInteger(), nullable=False),
        sa.Column("preselfpay_amt_fen", sa.BigInteger(), nullable=False),
        sa.Column("inscp_scp_amt_fen", sa.BigInteger(), nullable=False),
        sa.Column("act_pay_dedc_fen", sa.BigInteger(), nullable=False),
        sa.Column("hifp_pay_fen", sa.BigInteger(), nullable=False),
        sa.Column("hifmi_pay_fen", sa.BigInteger(), nullable=False),
        sa.Column("hifob_pay_fen", sa.BigInteger(), nullable=False),
        sa.Column("maf_pay_fen", sa.BigInteger(), nullable=False),
        sa.Column("fund_pay_sumamt_fen", sa.BigInteger(), nullable=False),
        sa.Column("psn_part_amt_fen", sa.BigInteger(), nullable=False),
        sa.Column("acct_pay_fen", sa.BigInteger(), nullable=False),
        sa.Column("psn_cash_pay_fen", sa.BigInteger(), nullable=False),
        sa.Column("owed_to_treatment_region_fen", sa.BigInteger(), nullable=False),
        sa.Column("result_json", sa.Text(), nullable=False),
        sa.Column("year_to_date_delta_json", sa.Text(), nullable=False),
        sa.Column("policy_version", sa.String(length=64), nullable=False),
        sa.Column("catalog_version", sa.String(length=200), nullable=False),
        sa.Column("msgid", sa.String(length=64), nullable=True),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("settled_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["encounter_id"], ["encounters.id"], name=op.f("fk_settlements_encounter_id_encounters")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settlements")),
    )
    with op.batch_alter_table("settlements", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_settlements_encounter_id"), ["encounter_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_settlements_hospital_code"), ["hospital_code"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_settlements_insured_region_code"), ["insured_region_code"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_settlements_person_id"), ["person_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_settlements_treatment_region_code"),
            ["treatment_region_code"],
            unique=False,
        )


def downgrade() -> None:

    with op.batch_alter_table("settlements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_settlements_treatment_region_code"))
        batch_op.drop_index(batch_op.f("ix_settlements_person_id"))
        batch_op.drop_index(batch_op.f("ix_settlements_insured_region_code"))
        batch_op.drop_index(batch_op.f("ix_settlements_hospital_code"))
        batch_op.drop_index(batch_op.f("ix_settlements_encounter_id"))

    op.drop_table("settlements")
    op.drop_table("fee_lines")
    op.drop_table("year_to_date")
    with op.batch_alter_table("manual_claims", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_manual_claims_state"))
        batch_op.drop_index(batch_op.f("ix_manual_claims_person_id"))
        batch_op.drop_index(batch_op.f("ix_manual_claims_insured_region_code"))

    op.drop_table("manual_claims")
    with op.batch_alter_table("encounters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_encounters_state"))
        batch_op.drop_index(batch_op.f("ix_encounters_person_id"))
        batch_op.drop_index(batch_op.f("ix_encounters_hospital_code"))

    op.drop_table("encounters")
    op.drop_table("catalog_items")
    with op.batch_alter_table("catalog_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_catalog_versions_treatment_region"))

    op.drop_table("catalog_versions")
