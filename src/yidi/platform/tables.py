"""Table definitions. Schema changes go through Alembic migrations only.

Money columns hold integer fen (``*_fen``), settlement amounts as ``<name>_fen`` with the
names of the money vocabulary (:mod:`yidi.settlement.amounts`); personal identifiers are stored in
full (the database is the protected store) and masked on the way out.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.sql.elements import TextClause

from yidi.settlement.amounts import FUND_AMOUNTS, STORED_AMOUNTS

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


# --- column shapes every table uses the same way --------------------------------------------


def _timestamp(name: str, *, nullable: bool = False, **options: Any) -> Column[Any]:
    """An instant with its time zone (``timestamp with time zone`` on PostgreSQL)."""
    return Column(name, DateTime(timezone=True), nullable=nullable, **options)


def _fen(name: str, *, nullable: bool = False, **options: Any) -> Column[Any]:
    """A money amount in integer fen (:class:`yidi.kernel.money.Money` at the edges)."""
    return Column(name, BigInteger, nullable=nullable, **options)


def _serial(name: str) -> Column[Any]:
    """A 64-bit row number (SQLite's INTEGER PRIMARY KEY, which is already 64 bits)."""
    return Column(name, BigInteger().with_variant(Integer, "sqlite"), primary_key=True)


def _region(name: str, *, nullable: bool = False, **options: Any) -> Column[Any]:
    """A six-digit administrative division code (行政区划代码) of a pooling region."""
    return Column(name, String(6), nullable=nullable, **options)


def _partial_unique_index(name: str, *columns: Column[Any], where: TextClause) -> Index:
    """A unique index over the rows ``where`` holds (the same condition on both databases)."""
    return Index(name, *columns, unique=True, sqlite_where=where, postgresql_where=where)


# 经办机构: agencies that take filings and answer the phone for them.
agencies = Table(
    "agencies",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(32), nullable=False, unique=True),
    Column("name", String(100), nullable=False),
    _region("region_code", index=True),
    Column("insurance_type", String(3), nullable=True),  # None: handles both
    Column("phone", String(40), nullable=False, server_default=""),
)

# 定点医疗机构.
hospitals = Table(
    "hospitals",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("fixmedins_code", String(30), nullable=False, unique=True),
    Column("name", String(100), nullable=False),
    Column("level", Integer, nullable=False),
    _region("region_code", index=True),
    Column("cross_region_connected", Boolean, nullable=False, server_default="1"),
    # 定点医疗机构 hospital / 定点零售药店 pharmacy
    Column("institution_type", String(10), nullable=False, server_default="hospital"),
    # kinds connected for direct settlement, a comma list of yidi.reference.model.ConnectionKind
    Column("connected_kinds", String(60), nullable=False, server_default="inpatient,outpatient"),
)

# 参保人员.
persons = Table(
    "persons",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("id_number", String(18), nullable=False, unique=True),
    Column("name", String(50), nullable=False),
    Column("gender", String(1), nullable=False),
    Column("birth_on", Date, nullable=False),
    _region("insured_region_code", index=True),
    Column("insurance_type", String(3), nullable=False),
    Column("person_type", String(32), nullable=False),
    Column("card_number", String(20), nullable=True, index=True),
    Column("has_second_generation_card", Boolean, nullable=False, server_default="0"),
    Column("home_address", String(200), nullable=False, server_default=""),
    Column("mobile", String(20), nullable=False, server_default=""),
    Column("low_income_group", String(32), nullable=True),
    # 人员编号 psn_no: random, issued once (0010); never derived from the row id.
    Column("psn_no", String(30), nullable=False, unique=True),
    # The 医保电子凭证 token the person presents (mdtrt_cert_type 01); NULL: none issued.
    Column("ecert_token", String(64), nullable=True, unique=True),
    Column("ethnicity", String(2), nullable=True),  # 民族 naty code (GB 3304), if known
    Column("insured_since", Date, nullable=True),  # 参保日期 psn_insu_date, if known
    Column("employer_name", String(100), nullable=True),  # 单位名称 emp_name, if known
)

# Person lookups per institution and hour (1101, admission checks): the rate limit's counters.
lookup_counters = Table(
    "lookup_counters",
    metadata,
    Column("institution", String(30), primary_key=True),
    _timestamp("window_start", primary_key=True),
    Column("kind", String(8), primary_key=True),  # "all" or "miss"
    Column("count", Integer, nullable=False),
)

# Background jobs (报盘 imports from the web and REST): state, progress and the final report.
jobs = Table(
    "jobs",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("state", String(12), nullable=False, index=True),  # queued running done failed
    Column("actor", String(64), nullable=False, index=True),
    Column("principal_json", Text, nullable=False),
    Column("params_json", Text, nullable=False),
    Column("filename", String(200), nullable=False),
    Column("file_sha256", String(64), nullable=False),
    Column("payload", LargeBinary, nullable=True),  # the uploaded file, dropped when finished
    Column("total_bytes", Integer, nullable=False),
    Column("processed_rows", Integer, nullable=False, server_default="0"),
    # rows an export job will write (0 for an import: its progress counts bytes)
    Column("total_rows", Integer, nullable=False, server_default="0"),
    Column("result_json", Text, nullable=True),
    Column("error_json", Text, nullable=True),
    _timestamp("created_at"),
    _timestamp("started_at", nullable=True),
    _timestamp("finished_at", nullable=True),
    Index("ix_jobs_actor_file", "actor", "file_sha256"),
)

# Tamper-evident audit chain: each entry carries the hash of the previous one.
audit_log = Table(
    "audit_log",
    metadata,
    _serial("seq"),
    _timestamp("at"),
    Column("actor", String(64), nullable=False),
    Column("role", String(32), nullable=False),
    _region("region_code", nullable=True),
    Column("action", String(64), nullable=False),
    Column("subject", String(128), nullable=False),
    Column("reason", String(500), nullable=False, server_default=""),
    Column("address", String(64), nullable=False, server_default=""),
    Column("prev_hash", String(64), nullable=False),
    Column("entry_hash", String(64), nullable=False, unique=True),
)

# The head of the audit chain, one row: locking it serialises appends so the chain never forks.
audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("last_seq", BigInteger, nullable=False),
    Column("last_hash", String(64), nullable=False),
)

# Idempotency: the first answer to a (scope, key) is kept and replayed on retry.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("scope", String(64), nullable=False),
    Column("key", String(64), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("response_json", Text, nullable=False),
    _timestamp("created_at"),
    UniqueConstraint("scope", "key", name="uq_idempotency_scope_key"),
)

# Sign-in accounts for every role. Passwords are Argon2id hashes.
users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("password_hash", String(200), nullable=False),
    Column("role", String(32), nullable=False),
    Column("display_name", String(100), nullable=False, server_default=""),
    _region("region_code", nullable=True),
    Column("hospital_code", String(30), nullable=True),
    Column("id_number", String(18), nullable=True),
    Column("active", Boolean, nullable=False, server_default="1"),
    # Set for a new account and after a reset: the next sign-in must choose a password.
    Column("must_change_password", Boolean, nullable=False, server_default="0"),
    _timestamp("password_changed_at", nullable=True),
)

# 会话: one row per sign-in; the client holds a random token, the database only its SHA-256.
user_sessions = Table(
    "user_sessions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("username", String(64), nullable=False, index=True),
    _timestamp("created_at"),
    _timestamp("expires_at", index=True),
    _timestamp("last_seen_at"),
    _timestamp("revoked_at", nullable=True),
    Column("revoked_reason", String(32), nullable=False, server_default=""),
    Column("address", String(64), nullable=False, server_default=""),
)

# Failed sign-ins per (account, address), and per address with username "" (shared by all
# worker processes). last_success_at marks an address the account has signed in from.
login_counters = Table(
    "login_counters",
    metadata,
    Column("username", String(64), primary_key=True),
    Column("address", String(64), primary_key=True),
    Column("failures", Integer, nullable=False, server_default="0"),
    _timestamp("window_started_at"),
    _timestamp("blocked_until", nullable=True),
    _timestamp("last_success_at", nullable=True),
)

# One-time password reset links: time-limited, single use, only the token's SHA-256 stored.
password_resets = Table(
    "password_resets",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("username", String(64), nullable=False, index=True),
    Column("created_by", String(64), nullable=False),
    _timestamp("created_at"),
    _timestamp("expires_at"),
    _timestamp("used_at", nullable=True),
)

# One-time codes (短信验证码) for insured persons' self-registration and password reset: the
# client holds the challenge token, the database its SHA-256 and that of token and code.
one_time_codes = Table(
    "one_time_codes",
    metadata,
    _serial("id"),
    Column("challenge_hash", String(64), nullable=False, unique=True),
    Column("code_hash", String(64), nullable=False),
    Column("purpose", String(16), nullable=False),  # register | reset
    Column("id_number", String(18), nullable=False, index=True),  # as claimed
    Column("matched", Boolean, nullable=False),  # False: the details matched nobody
    Column("address", String(64), nullable=False, server_default="", index=True),
    Column("failures", Integer, nullable=False, server_default="0"),
    _timestamp("created_at", index=True),
    _timestamp("expires_at"),
    _timestamp("used_at", nullable=True),
)

# --- funds: settlement facts, the clearing ledger, prepayments, clearing runs -----------

# 结算事实: one row per settlement or reversal, written in the settle/reverse transaction.
settlement_facts = Table(
    "settlement_facts",
    metadata,
    _serial("id"),
    Column("setl_id", String(40), nullable=False, unique=True),
    Column("reverses_setl_id", String(40), nullable=True, unique=True),
    Column("settled_on", Date, nullable=False),
    Column("clearing_month", String(7), nullable=False, index=True),
    _region("insured_region_code", index=True),
    _region("treatment_region_code", index=True),
    Column("hospital_code", String(30), nullable=False),
    Column("insurance_type", String(3), nullable=False),
    Column("filing_category", String(32), nullable=True),
    Column("person_times", Integer, nullable=False),
    _fen("total_charges_fen"),
    # one column per fund amount of the money vocabulary
    *(_fen(amount.column) for amount in FUND_AMOUNTS),
    _timestamp("recorded_at"),
    # 清算类别 (clr_type) of the encounter: 11 门诊, 21 住院, 41 药店购药
    Column("clearing_type", String(2), nullable=False, server_default="21", index=True),
)

# 清算台账: append-only double entries; a reversal adds opposite lines, nothing is updated.
ledger_entries = Table(
    "ledger_entries",
    metadata,
    _serial("id"),
    Column("setl_id", String(40), nullable=False, index=True),
    Column("clearing_month", String(7), nullable=False, index=True),
    Column("account", String(64), nullable=False, index=True),
    Column("fund", String(24), nullable=False),
    Column("side", String(1), nullable=False),
    _fen("amount_fen"),
    _region("insured_region_code"),
    _region("treatment_region_code"),
    _timestamp("posted_at"),
)

# 预付金: what an insured region has placed with a treatment region, as of a date.
prepayments = Table(
    "prepayments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("level", String(16), nullable=False),
    _region("insured_region_code"),
    _region("treatment_region_code"),
    _fen("amount_fen"),
    Column("effective_on", Date, nullable=False),
    UniqueConstraint(
        "level",
        "insured_region_code",
        "treatment_region_code",
        "effective_on",
        name="uq_prepayments_pair_effective_on",
    ),
)

# 申请补充预付金: a request to top up one pair's prepayment after a usage warning (the figures
# as they stood when asked; the prepayment itself changes only by a new ``prepayments`` row).
prepayment_topups = Table(
    "prepayment_topups",
    metadata,
    _serial("id"),
    Column("level", String(16), nullable=False),
    Column("year", Integer, nullable=False),
    _region("insured_region_code"),
    _region("treatment_region_code"),
    _fen("held_fen"),
    _fen("drawn_fen"),
    Column("warning", String(8), nullable=False),
    _fen("suggested_fen"),
    Column("requested_by", String(64), nullable=False),
    Column("requested_region_code", String(6), nullable=True),
    _timestamp("requested_at"),
    # requested -> approved (approved_fen added to the prepayment held) | rejected (reason)
    Column("status", String(10), nullable=False, server_default="requested"),
    Column("approved_fen", BigInteger, nullable=True),
    Column("decided_by", String(64), nullable=True),
    _timestamp("decided_at", nullable=True),
    Column("decision_reason", String(200), nullable=True),
    CheckConstraint("suggested_fen > 0", name="ck_prepayment_topups_suggested_positive"),
    CheckConstraint("warning IN ('yellow', 'red')", name="ck_prepayment_topups_warning"),
    CheckConstraint(
        "status IN ('requested', 'approved', 'rejected')", name="ck_prepayment_topups_status"
    ),
    CheckConstraint(
        "approved_fen IS NULL OR approved_fen > 0", name="ck_prepayment_topups_approved_positive"
    ),
)

# 清算批次: one per (month, level); a closed run is never recomputed or changed.
clearing_runs = Table(
    "clearing_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("clearing_month", String(7), nullable=False),
    Column("level", String(16), nullable=False),
    Column("status", String(8), nullable=False),
    Column("statement_json", Text, nullable=False),
    Column("content_hash", String(64), nullable=False),
    _timestamp("run_at"),
    _timestamp("closed_at", nullable=True),
    UniqueConstraint("clearing_month", "level", name="uq_clearing_runs_month_level"),
)

# 备案: one row per filing (all its versions share it), with the current state for searching.
filings = Table(
    "filings",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("filing_number", String(24), nullable=True, unique=True),
    Column("current_version_id", String(32), nullable=False),
    Column("state", String(16), nullable=False, index=True),
    Column("version", Integer, nullable=False),
    _region("insured_region_code", index=True),
    Column("id_number", String(18), nullable=False, index=True),
    Column("name", String(50), nullable=False, index=True),
    Column("category", String(32), nullable=True, index=True),
    Column("source", String(16), nullable=False),  # counter | import
    # (id_number, insured region, category, version) of an imported row: re-imports change nothing.
    Column("import_key", String(80), nullable=True, unique=True),
    _timestamp("created_at"),
    _timestamp("updated_at"),
    # Mandatory 附件1 fields the current version lacks: 待补充的历史备案 pages on it in SQL.
    Column("missing_fields", Integer, nullable=False, server_default="0", index=True),
)

# One live counter filing per person, insured region and category, also under concurrency
# (two indexes: a NULL category is a value of its own here, not "distinct from every other").
_LIVE_COUNTER_FILING = (
    "source = 'counter' AND state IN ('draft', 'submitted', 'rejected', 'approved')"
)
_WITH_CATEGORY = text(_LIVE_COUNTER_FILING + " AND category IS NOT NULL")
_WITHOUT_CATEGORY = text(_LIVE_COUNTER_FILING + " AND category IS NULL")
_partial_unique_index(
    "uq_filings_live_person_category",
    filings.c.id_number,
    filings.c.insured_region_code,
    filings.c.category,
    where=_WITH_CATEGORY,
)
_partial_unique_index(
    "uq_filings_live_person_nocategory",
    filings.c.id_number,
    filings.c.insured_region_code,
    where=_WITHOUT_CATEGORY,
)

# The filing list's prefix search (a name or filing-number beginning): pattern indexes, which
# PostgreSQL can use for LIKE 'x%' under any collation. (An ID-number tail is matched within
# the caller's region scope; no index serves a LIKE '%1233'.)
Index("ix_filings_name_pattern", filings.c.name, postgresql_ops={"name": "text_pattern_ops"})
Index(
    "ix_filings_number_pattern",
    filings.c.filing_number,
    postgresql_ops={"filing_number": "text_pattern_ops"},
)

# 分配: which reviewer of the agency a filing awaiting review is assigned to (one row per filing,
# replaced on reassignment; the audit chain keeps who assigned whom when).
filing_assignments = Table(
    "filing_assignments",
    metadata,
    Column("filing_id", String(32), ForeignKey("filings.id"), primary_key=True),
    Column("assignee", String(64), nullable=False, index=True),  # the reviewer's user name
    Column("assigned_by", String(64), nullable=False),
    _timestamp("assigned_at"),
)

# Every version of every filing, with its full 附件1 record as JSON. Never deleted.
filing_versions = Table(
    "filing_versions",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("filing_id", String(32), ForeignKey("filings.id"), nullable=False, index=True),
    Column("version", Integer, nullable=False),
    Column("state", String(16), nullable=False),
    Column("registration_type", String(1), nullable=False),
    # The version's own 备案类别 (a change may change it): the quarterly list pages on it.
    Column("category", String(32), nullable=True),
    # The lineage's insured region (参保地; a change never moves it), on the version so the
    # quarterly list counts and pages by region from an index, without joining ``filings``.
    _region("insured_region_code", nullable=True),
    Column("record_json", Text, nullable=False),
    Column("state_reason", String(500), nullable=True),
    Column("supersedes", String(32), nullable=True),
    Column("superseded_by", String(32), nullable=True),
    # The day this version was filed (approved at the counter or imported): quarterly lists, 附件2.
    Column("filed_on", Date, nullable=True),  # indexed with the category, below
    _timestamp("created_at"),
    UniqueConstraint("filing_id", "version", name="uq_filing_versions_filing_id_version"),
)

# Versions by filed day (附件2, the quarterly list): the quarterly list's count and page read
# the period's versions from this index alone, the wide record rows only for the page's rows.
Index(
    "ix_filing_versions_filed_on_category",
    filing_versions.c.filed_on,
    filing_versions.c.category,
    filing_versions.c.filing_id,
    filing_versions.c.id,
)
# The quarterly list's grouped count and its page in the list's order (region, filed day,
# lineage, version), the category checked in the index: no record row, no join.
Index(
    "ix_filing_versions_region_filed_on",
    filing_versions.c.insured_region_code,
    filing_versions.c.filed_on,
    filing_versions.c.filing_id,
    filing_versions.c.id,
    filing_versions.c.category,
)

# Every transition of every version: who, role, when, from, to, why.
filing_events = Table(
    "filing_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("filing_id", String(32), ForeignKey("filings.id"), nullable=False, index=True),
    Column("version_id", String(32), nullable=False, index=True),
    Column("seq", Integer, nullable=False),
    Column("action", String(16), nullable=False),
    Column("from_state", String(16), nullable=True),
    Column("to_state", String(16), nullable=False),
    Column("actor_id", String(64), nullable=False),
    Column("actor_role", String(32), nullable=False),
    _timestamp("at"),
    Column("reason", String(500), nullable=True),
    Column("version", Integer, nullable=False),
)

# 证明材料 recorded with a filing version; the scan itself is in evidence_files.
filing_evidence = Table(
    "filing_evidence",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version_id", String(32), ForeignKey("filing_versions.id"), nullable=False, index=True),
    Column("position", Integer, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("document_number", String(64), nullable=True),
    Column("issuer", String(100), nullable=True),
    Column("issued_on", Date, nullable=True),
    _region("issuer_region_code", nullable=True),
    Column("issuer_hospital_level", Integer, nullable=True),
    Column("issuer_is_top_specialist", Boolean, nullable=False, server_default="0"),
    Column("file_sha256", String(64), nullable=True),
    Column("file_name", String(200), nullable=True),
    Column("media_type", String(64), nullable=True),
    UniqueConstraint("version_id", "position", name="uq_filing_evidence_version_id_position"),
)

# 变更申请: an insured person's request to change an approved filing, decided by the agency.
# ``pending_filing_id`` equals ``filing_id`` while the request is pending and is NULL after:
# its unique constraint keeps one pending request per filing, on SQLite and PostgreSQL alike.
filing_change_requests = Table(
    "filing_change_requests",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("filing_id", String(32), ForeignKey("filings.id"), nullable=False, index=True),
    Column("pending_filing_id", String(32), nullable=True, unique=True),
    Column("base_version_id", String(32), nullable=False),
    Column("state", String(16), nullable=False, index=True),
    _region("insured_region_code", index=True),
    Column("id_number", String(18), nullable=False, index=True),
    Column("name", String(50), nullable=False),
    Column("record_json", Text, nullable=False),
    Column("evidence_json", Text, nullable=False),
    Column("reason", String(500), nullable=False),
    Column("requested_by", String(64), nullable=False),
    _timestamp("requested_at"),
    Column("decided_by", String(64), nullable=True),
    _timestamp("decided_at", nullable=True),
    Column("decision_reason", String(500), nullable=True),
    Column("result_version_id", String(32), nullable=True),
)

# Uploaded scans, addressed by content hash (the same scan uploaded twice is stored once).
evidence_files = Table(
    "evidence_files",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("media_type", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("content", LargeBinary, nullable=False),
    _timestamp("created_at"),
)

# 备案编号 sequences per agency region and year; the row is locked while a number is taken.
filing_number_sequences = Table(
    "filing_number_sequences",
    metadata,
    _region("region_code", primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("last_sequence", Integer, nullable=False),
)

# 报盘 batches: a file imported once keeps its report; importing it again replays the report.
import_batches = Table(
    "import_batches",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("file_sha256", String(64), nullable=False, unique=True),
    Column("filename", String(200), nullable=False),
    _timestamp("imported_at"),
    Column("actor", String(64), nullable=False),
    Column("total_rows", Integer, nullable=False),
    Column("imported_rows", Integer, nullable=False),
    Column("duplicate_rows", Integer, nullable=False),
    Column("rejected_rows", Integer, nullable=False),
    Column("report_json", Text, nullable=False),
    # The region the file was submitted for: the submitting agency's (or the province's) code;
    # NULL only for batches recorded before 0007 whose region could not be recovered.
    _region("region_code", nullable=True, index=True),
)

# 目录版本: one treatment region's catalogue, stored once per content hash (re-imports are no-ops).
catalog_versions = Table(
    "catalog_versions",
    metadata,
    Column("id", Integer, primary_key=True),
    _region("treatment_region", index=True),
    Column("version_label", String(100), nullable=False),
    Column("effective_on", Date, nullable=False),
    Column("content_hash", String(64), nullable=False, unique=True),
    Column("item_count", Integer, nullable=False),
    Column("source_name", String(200), nullable=False, server_default=""),
    _timestamp("imported_at"),
)

# 目录条目 of one catalogue version.
catalog_items = Table(
    "catalog_items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version_id", Integer, ForeignKey("catalog_versions.id"), nullable=False),
    Column("code", String(50), nullable=False),
    Column("name", String(200), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("item_class", String(2), nullable=False),
    Column("upfront_self_pay_rate", String(12), nullable=False),
    _fen("price_limit_fen", nullable=True),
    Column("valid_from", Date, nullable=False),
    Column("valid_until", Date, nullable=True),
    Column("fee_category", String(2), nullable=False),
    UniqueConstraint("version_id", "code", name="uq_catalog_items_version_id_code"),
)

# 就诊 (mdtrt): an inpatient visit opened by 2401 at a connected hospital.
encounters = Table(
    "encounters",
    metadata,
    Column("id", String(32), primary_key=True),  # mdtrt_id
    Column("hospital_code", String(30), nullable=False, index=True),
    Column("person_id", Integer, ForeignKey("persons.id"), nullable=False, index=True),
    _region("insured_region_code"),
    _region("treatment_region_code"),
    Column("insurance_type", String(3), nullable=False),
    Column("person_type", String(32), nullable=False),
    Column("filing_id", String(32), nullable=True),
    Column("filing_number", String(24), nullable=True),
    Column("filing_category", String(32), nullable=True),
    Column("med_type", String(6), nullable=False),
    Column("inpatient_number", String(30), nullable=False, server_default=""),
    Column("department_code", String(30), nullable=False, server_default=""),
    Column("department_name", String(100), nullable=False, server_default=""),
    _timestamp("admitted_at"),
    _timestamp("discharged_at", nullable=True),
    Column("diagnosis_codes", String(500), nullable=False, server_default=""),  # ICD-10, comma
    Column("accidental_injury", Boolean, nullable=False, server_default="0"),
    # 外伤无第三方责任承诺 recorded at admission (2401 trum_flag 1, rel_ttp_flag 0; 2022 rules)
    Column("injury_promise", Boolean, nullable=False, server_default="0"),
    _timestamp("emergency_started_at", nullable=True),
    Column("state", String(16), nullable=False, index=True),
    _timestamp("created_at"),
    _timestamp("updated_at"),
    # mdtrt_cert_type of 2401 (01 医保电子凭证, 02 居民身份证, 03 社会保障卡), echoed by 2303/2304
    Column("credential_type", String(3), nullable=True),
    # 外配处方: the prescription numbers (rxno) a pharmacy purchase (2102) was dispensed on
    Column("prescription_numbers", String(200), nullable=False, server_default=""),
    # 门诊慢特病 (med_type 14): the disease code of the insured region's list the visit is for
    Column("disease_code", String(30), nullable=True),
)

# At most one open stay (在院 or discharged, unsettled) per person and hospital: concurrent
# admissions cannot open two, whatever the application read before inserting.
_OPEN_ENCOUNTER = text("state IN ('admitted', 'discharged')")
_partial_unique_index(
    "uq_encounters_open_person_hospital",
    encounters.c.person_id,
    encounters.c.hospital_code,
    where=_OPEN_ENCOUNTER,
)

# 费用明细: unique per encounter by the hospital's serial; cancelled lines are kept, flagged.
fee_lines = Table(
    "fee_lines",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("encounter_id", String(32), ForeignKey("encounters.id"), nullable=False),
    Column("serial", String(30), nullable=False),  # feedetl_sn
    Column("catalog_code", String(50), nullable=False),
    Column("hospital_item_code", String(150), nullable=False),
    Column("name", String(200), nullable=False, server_default=""),
    Column("quantity", String(24), nullable=False),  # exact decimal text
    Column("unit_price", String(24), nullable=False),
    _fen("amount_fen"),
    _timestamp("occurred_at"),
    Column("emergency_pre_admission", Boolean, nullable=False, server_default="0"),
    Column("fingerprint", String(64), nullable=False),
    # The split under the treatment catalogue, fixed at upload (the 2301 reply).
    Column("item_class", String(2), nullable=False),
    Column("fee_category", String(2), nullable=False),
    Column("self_pay_rate", String(12), nullable=False),
    Column("price_limit", String(24), nullable=True),
    _fen("fully_self_paid_fen"),
    _fen("over_limit_self_paid_fen"),
    _fen("upfront_self_paid_fen"),
    _fen("eligible_amount_fen"),
    Column("cancelled", Boolean, nullable=False, server_default="0"),
    _timestamp("cancelled_at", nullable=True),
    Column("settlement_id", String(32), nullable=True),
    _timestamp("uploaded_at"),
    # 收费批次号 (chrg_bchno) of an outpatient upload (2204): 2205 withdraws one batch
    Column("charge_batch", String(30), nullable=True),
    UniqueConstraint("encounter_id", "serial", name="uq_fee_lines_encounter_id_serial"),
)

# 结算 and 结算撤销: a reversal is its own row with negative amounts; nothing is rewritten
# except the reversed settlement's state.
settlements = Table(
    "settlements",
    metadata,
    Column("id", String(32), primary_key=True),  # setl_id
    Column("encounter_id", String(32), ForeignKey("encounters.id"), nullable=False, index=True),
    Column("kind", String(16), nullable=False),  # settle | reversal
    Column("state", String(16), nullable=False),  # active | reversed (settle), done (reversal)
    Column("reverses_id", String(32), nullable=True),
    Column("person_id", Integer, nullable=False, index=True),
    Column("insurance_type", String(3), nullable=False),
    Column("year", Integer, nullable=False),
    Column("hospital_code", String(30), nullable=False, index=True),
    _region("insured_region_code", index=True),
    _region("treatment_region_code", index=True),
    # One column per amount of the money vocabulary (yidi.settlement.amounts), in its
    # order, then what the insured region owes the treatment region (funds + account).
    *(_fen(amount.column) for amount in STORED_AMOUNTS),
    Column("result_json", Text, nullable=False),
    Column("year_to_date_delta_json", Text, nullable=False),
    Column("policy_version", String(64), nullable=False),
    Column("catalog_version", String(200), nullable=False),
    Column("msgid", String(64), nullable=True),
    _timestamp("settled_at"),
    Column("settled_by", String(64), nullable=False),
)

# 年度累计 per person, insurance type and year; the row is locked while a settlement uses it.
year_to_date = Table(
    "year_to_date",
    metadata,
    Column("person_id", Integer, ForeignKey("persons.id"), primary_key=True),
    Column("insurance_type", String(3), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("admissions_count", Integer, nullable=False, server_default="0"),
    _fen("deductible_used_fen", server_default="0"),
    _fen("pooled_fund_paid_fen", server_default="0"),
    _fen("serious_illness_paid_fen", server_default="0"),
    _fen("large_expense_paid_fen", server_default="0"),
    _fen("assistance_paid_fen", server_default="0"),
    _fen("eligible_amount_accumulated_fen", server_default="0"),
    # further totals named by the policy's steps: {"outpatient.deductible_used": fen, ...}
    Column("counters_json", Text, nullable=False, server_default="{}"),
)

# 个人账户: one per employee-insured person, insurance type and year. balance_fen is the sum
# of its movements (credits − debits + restorations), kept on the row so a settlement can
# lock and read it in one statement; the check keeps it from ever going negative.
personal_accounts = Table(
    "personal_accounts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("person_id", Integer, ForeignKey("persons.id"), nullable=False),
    Column("insurance_type", String(3), nullable=False),
    Column("year", Integer, nullable=False),
    _fen("balance_fen", server_default="0"),
    _timestamp("updated_at"),
    UniqueConstraint("person_id", "insurance_type", "year"),
    CheckConstraint("balance_fen >= 0", name="balance_not_negative"),
)

# Every movement of an account: credit (划入, reference = the agency's voucher), debit (by a
# settlement) and restore (by its reversal). One movement per (account, kind, reference):
# a repeated credit or a replayed settlement never moves money twice.
personal_account_movements = Table(
    "personal_account_movements",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", Integer, ForeignKey("personal_accounts.id"), nullable=False, index=True),
    Column("kind", String(8), nullable=False),
    _fen("amount_fen"),
    _fen("balance_after_fen"),
    Column("source", String(64), nullable=False, server_default=""),
    Column("reference", String(64), nullable=False),
    Column("settlement_id", String(32), nullable=True),
    _timestamp("occurred_at"),
    Column("recorded_by", String(64), nullable=False),
    UniqueConstraint("account_id", "kind", "reference"),
    CheckConstraint("amount_fen > 0", name="amount_positive"),
)

# 家庭共济 (family mutual aid): the account holder (职工医保) lets a registered close relative
# (spouse, parent, child) pay from the holder's personal account, from valid_from until
# valid_until (inclusive; NULL: open-ended). Recorded by the holder's agency, checked at
# every settlement that asks for the family account.
family_account_bindings = Table(
    "family_account_bindings",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("holder_person_id", Integer, ForeignKey("persons.id"), nullable=False, index=True),
    Column("member_person_id", Integer, ForeignKey("persons.id"), nullable=False, index=True),
    Column("relation", String(8), nullable=False),
    Column("valid_from", Date, nullable=False),
    Column("valid_until", Date, nullable=True),
    Column("reference", String(64), nullable=False),
    _timestamp("recorded_at"),
    Column("recorded_by", String(64), nullable=False),
    UniqueConstraint("holder_person_id", "member_person_id", "valid_from"),
    CheckConstraint("holder_person_id <> member_person_id", name="not_self"),
)

# 门诊慢特病 认定: the insured-place agency recognises a person for one disease of the list
# valid on the begin date, from begin_on until end_on (inclusive; NULL: open-ended).
chronic_recognitions = Table(
    "chronic_recognitions",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("person_id", Integer, ForeignKey("persons.id"), nullable=False, index=True),
    Column("insured_region_code", String(6), nullable=False, index=True),
    Column("disease_code", String(30), nullable=False),
    Column("disease_name", String(300), nullable=False),
    Column("begin_on", Date, nullable=False),
    Column("end_on", Date, nullable=True),
    Column("hospital_code", String(100), nullable=False, server_default=""),
    Column("doctor_name", String(100), nullable=False, server_default=""),
    Column("evidence_reference", String(100), nullable=False, server_default=""),
    Column("state", String(8), nullable=False),
    Column("recorded_by", String(64), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("ended_by", String(64), nullable=True),
    Column("ended_at", DateTime(timezone=True), nullable=True),
    Column("end_reason", String(400), nullable=False, server_default=""),
    CheckConstraint("end_on IS NULL OR end_on >= begin_on", name="end_not_before_begin"),
)

# Gateway replay protection shared by every server process: x-tif nonces and used HN
# signatures, each kept until its timestamp leaves the window (then pruned).
gateway_nonces = Table(
    "gateway_nonces",
    metadata,
    Column("access_key", String(64), primary_key=True),
    Column("nonce", String(128), primary_key=True),
    _timestamp("expires_at", index=True),
)

# Files uploaded through the gateway (9101), downloadable (9102) by the same institution only
# until ``expires_at``; one file per (institution, msgid) so a resent upload is not stored twice.
gateway_files = Table(
    "gateway_files",
    metadata,
    Column("file_qury_no", String(30), primary_key=True),
    Column("fixmedins_code", String(30), nullable=False),
    Column("msgid", String(30), nullable=True),
    Column("filename", String(200), nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("file_size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    _timestamp("uploaded_at"),
    _timestamp("expires_at", index=True),
    UniqueConstraint("fixmedins_code", "msgid", name="uq_gateway_files_message"),
)

# Refused gateway requests, counted per minute, source address, key and reason: outside the
# audit chain, so unauthenticated traffic costs one counter update, not a chain append.
gateway_refusals = Table(
    "gateway_refusals",
    metadata,
    Column("id", Integer, primary_key=True),
    _timestamp("minute", index=True),
    Column("address", String(64), nullable=False),
    Column("access_key", String(64), nullable=False),
    Column("code", String(64), nullable=False),
    Column("count", Integer, nullable=False),
    _timestamp("last_at"),
    Column("last_reason", String(200), nullable=False),
    UniqueConstraint("minute", "address", "access_key", "code", name="uq_gateway_refusals_source"),
)

# 手工报销 at the insured region: materials checklist, fee lines, result, approval, payment.
manual_claims = Table(
    "manual_claims",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("person_id", Integer, ForeignKey("persons.id"), nullable=False, index=True),
    _region("insured_region_code", index=True),
    _region("treatment_region_code"),
    Column("hospital_name", String(100), nullable=False),
    Column("hospital_level", Integer, nullable=False),
    Column("encounter_type", String(6), nullable=False),
    Column("filing_category", String(32), nullable=True),
    Column("admitted_on", Date, nullable=False),
    Column("discharged_on", Date, nullable=False),
    Column("reason", String(500), nullable=False, server_default=""),
    Column("materials_json", Text, nullable=False),
    Column("fee_lines_json", Text, nullable=False),
    Column("state", String(16), nullable=False, index=True),
    Column("result_json", Text, nullable=True),
    _fen("total_charges_fen", nullable=True),
    _fen("fund_paid_total_fen", nullable=True),
    _fen("patient_share_fen", nullable=True),
    Column("year_to_date_delta_json", Text, nullable=True),
    Column("policy_version", String(64), nullable=True),
    Column("catalog_version", String(200), nullable=True),
    Column("catalog_note", String(200), nullable=True),
    Column("approved_by", String(64), nullable=True),
    _timestamp("approved_at", nullable=True),
    _timestamp("paid_at", nullable=True),
    Column("payment_reference", String(64), nullable=True),
    # 补办备案: the filing number whose category set the claim's (filed) rates
    Column("late_filing_number", String(24), nullable=True),
    # the directory's 定点医疗机构编号 when the hospital was chosen from it (else free text)
    Column("hospital_code", String(30), nullable=True),
    # 收款人、开户银行、银行账号: where the agency pays the reimbursement
    Column("payee_name", String(50), nullable=True),
    Column("payee_bank", String(100), nullable=True),
    Column("payee_account", String(32), nullable=True),
    Column("created_by", String(64), nullable=False),
    _timestamp("created_at"),
    _timestamp("updated_at"),
)

# Lookups on the hospital path: each covers all the equality terms of its query (migration 0013).
Index("ix_filings_id_number_state", filings.c.id_number, filings.c.state)
Index("ix_encounters_person_id_state", encounters.c.person_id, encounters.c.state)

__all__ = [
    "BigInteger",
    "ForeignKey",
    "Index",
    "agencies",
    "audit_head",
    "audit_log",
    "catalog_items",
    "catalog_versions",
    "clearing_runs",
    "encounters",
    "evidence_files",
    "fee_lines",
    "filing_events",
    "filing_evidence",
    "filing_number_sequences",
    "filing_versions",
    "filings",
    "gateway_nonces",
    "gateway_refusals",
    "hospitals",
    "idempotency_keys",
    "import_batches",
    "jobs",
    "ledger_entries",
    "login_counters",
    "lookup_counters",
    "manual_claims",
    "metadata",
    "password_resets",
    "persons",
    "prepayments",
    "settlement_facts",
    "settlements",
    "user_sessions",
    "users",
    "year_to_date",
]

# 清算申请 (3203) of a hospital for a month; ``active`` "1" while it stands, NULL once
# cancelled (3204): one standing application per hospital, month and clearing type.
clearing_applications = Table(
    "clearing_applications",
    metadata,
    Column("id", String(32), primary_key=True),  # clr_appy_evt_id
    Column("hospital_code", String(30), nullable=False),
    Column("clearing_month", String(7), nullable=False),  # yyyy-MM
    Column("clearing_type", String(6), nullable=False),
    Column("clearing_way", String(6), nullable=True),
    Column("person_times", Integer, nullable=False),
    _fen("total_fen"),
    _fen("approved_total_fen"),
    _fen("fund_fen"),
    _fen("cash_fen"),
    _fen("account_fen"),
    Column("first_day", Date, nullable=False),
    Column("last_day", Date, nullable=False),
    Column("active", String(1), nullable=True),
    _timestamp("applied_at"),
    Column("applied_by", String(64), nullable=False),
    _timestamp("cancelled_at", nullable=True),
    UniqueConstraint(
        "hospital_code",
        "clearing_month",
        "clearing_type",
        "active",
        name="uq_clearing_application_standing",
    ),
)

# 对账差异: a difference between a hospital's and the centre's record of its settlements and
# its dispute (raised / answered / resolved). ``line_key`` (hospital:setl_id:S|R) is unique, so
# raising the same 3202 difference again finds the first; a dispute raised by hand about no
# settlement has none. Amounts are nullable: a side without the line has none.
reconciliation_disputes = Table(
    "reconciliation_disputes",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("hospital_code", String(30), nullable=False, index=True),
    _region("treatment_region_code", index=True),
    _region("insured_region_code", nullable=True, index=True),
    Column("month", String(7), nullable=False, index=True),  # yyyy-MM
    Column("kind", String(16), nullable=False),
    Column("settlement_id", String(32), nullable=True),
    Column("refund", Boolean, nullable=False),
    Column("line_key", String(72), nullable=True, unique=True),
    _fen("centre_total_fen", nullable=True),
    _fen("centre_fund_fen", nullable=True),
    _fen("centre_account_fen", nullable=True),
    _fen("institution_total_fen", nullable=True),
    _fen("institution_fund_fen", nullable=True),
    _fen("institution_account_fen", nullable=True),
    Column("raised_by", String(8), nullable=False),  # hospital | centre
    Column("state", String(8), nullable=False, index=True),
    Column("outcome", String(8), nullable=True),
    _fen("settled_fen", nullable=True),
    _timestamp("raised_at"),
    _timestamp("updated_at"),
)

# Every step of a dispute, in order: who (and on which side), when, what they wrote.
reconciliation_dispute_events = Table(
    "reconciliation_dispute_events",
    metadata,
    _serial("id"),
    Column(
        "dispute_id",
        String(32),
        ForeignKey("reconciliation_disputes.id", name="fk_dispute_events_dispute"),
        nullable=False,
        index=True,
    ),
    Column("seq", Integer, nullable=False),
    Column("action", String(8), nullable=False),
    Column("from_state", String(8), nullable=True),
    Column("to_state", String(8), nullable=False),
    Column("side", String(8), nullable=False),
    Column("actor_id", String(64), nullable=False),
    Column("actor_role", String(32), nullable=False),
    _timestamp("at"),
    Column("text", String(400), nullable=False),
    _fen("amount_fen", nullable=True),
    Column("outcome", String(8), nullable=True),
    _fen("adjustment_fen", nullable=True),  # a resolution's agreed clearing adjustment
    UniqueConstraint("dispute_id", "seq", name="uq_dispute_event_seq"),
)

# 清算调整: what a resolved dispute's agreed adjustment adds to a later month's clearing (the
# difference from what its earlier resolutions carried; one row per resolve step at most).
clearing_adjustments = Table(
    "clearing_adjustments",
    metadata,
    Column("id", String(32), primary_key=True),
    Column(
        "dispute_id",
        String(32),
        ForeignKey("reconciliation_disputes.id", name="fk_clearing_adjustments_dispute"),
        nullable=False,
        index=True,
    ),
    Column("seq", Integer, nullable=False),  # the resolve step that decided it
    Column("clearing_month", String(7), nullable=False, index=True),
    Column("concerns_month", String(7), nullable=False),
    _region("insured_region_code"),
    _region("treatment_region_code"),
    Column("hospital_code", String(30), nullable=False),
    Column("settlement_id", String(32), nullable=True),
    Column("refund", Boolean, nullable=False),
    _fen("amount_fen"),
    _fen("agreed_fen"),
    Column("decided_by", String(64), nullable=False),
    Column("decided_role", String(32), nullable=False),
    _timestamp("decided_at"),
    Column("reason", String(400), nullable=False),
    _timestamp("withdrawn_at", nullable=True),
    UniqueConstraint("dispute_id", "seq", name="uq_clearing_adjustment_step"),
)
