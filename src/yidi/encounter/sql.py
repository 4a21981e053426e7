"""Hospital settlement in storage: catalogue versions, encounters, fee lines, settlements,
year-to-date totals (with a row lock) and manual reimbursement claims.

Row locks: PostgreSQL takes ``SELECT … FOR UPDATE``; SQLite ignores ``with_for_update``
but its writers are already serialised by ``BEGIN IMMEDIATE`` (``yidi.platform.db``).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import fields
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, bindparam, cast, func, insert, literal_column, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from yidi.catalog.model import CatalogItem, CatalogVersion, ItemClass, ItemKind
from yidi.encounter.model import open_stay_conflict
from yidi.encounter.ports import LookupCheck
from yidi.encounter.records import (
    SETTLEMENT_AMOUNT_COLUMNS,
    CatalogVersionRow,
    ClaimLineRow,
    EncounterContext,
    EncounterRow,
    FeeLineRow,
    SettlementRow,
)
from yidi.kernel.audit import as_utc
from yidi.kernel.insurance import InsuranceType
from yidi.kernel.money import Money
from yidi.platform.tables import (
    catalog_items,
    catalog_versions,
    clearing_applications,
    encounters,
    fee_lines,
    hospitals,
    lookup_counters,
    manual_claims,
    persons,
    settlements,
    year_to_date,
)
from yidi.reference.model import Person
from yidi.reference.sql import _hospital, _person
from yidi.settlement.claims import YearToDate
from yidi.settlement.ports import ManualClaimListRow, ManualClaimQuery, ManualClaimRow


def _aware(at: dt.datetime | None) -> dt.datetime | None:
    return None if at is None else as_utc(at)


# --------------------------------------------------------------------------- catalogues


def _catalog_version_row(row: Any) -> CatalogVersionRow:
    return CatalogVersionRow(
        id=int(row.id),
        treatment_region=row.treatment_region,
        version_label=row.version_label,
        effective_on=row.effective_on,
        content_hash=row.content_hash,
        item_count=int(row.item_count),
        source_name=row.source_name,
        imported_at=as_utc(row.imported_at),
    )


# --------------------------------------------------------------------------- encounters


def _encounter_row(row: Any) -> EncounterRow:
    values = {f.name: getattr(row, f.name) for f in fields(EncounterRow)}
    for name in (
        "admitted_at",
        "discharged_at",
        "emergency_started_at",
        "created_at",
        "updated_at",
    ):
        values[name] = _aware(values[name])
    values["accidental_injury"] = bool(values["accidental_injury"])
    values["injury_promise"] = bool(values["injury_promise"])
    return EncounterRow(**values)


#: The columns a FeeLineRow is read from, in the order ``_fee_line_row`` unpacks them.
_FEE_LINE_COLUMNS = tuple(
    fee_lines.c[name]
    for name in (
        "id",
        "encounter_id",
        "serial",
        "catalog_code",
        "hospital_item_code",
        "name",
        "quantity",
        "unit_price",
        "amount_fen",
        "occurred_at",
        "emergency_pre_admission",
        "fingerprint",
        "item_class",
        "fee_category",
        "self_pay_rate",
        "price_limit",
        "fully_self_paid_fen",
        "over_limit_self_paid_fen",
        "upfront_self_paid_fen",
        "eligible_amount_fen",
        "cancelled",
        "settlement_id",
        "charge_batch",
    )
)


def _fee_line_row(row: Any) -> FeeLineRow:
    # Unpacked by position: an encounter's 300 lines are read on every upload and settlement.
    (
        line_id,
        encounter_id,
        serial,
        catalog_code,
        hospital_item_code,
        name,
        quantity,
        unit_price,
        amount_fen,
        occurred_at,
        emergency_pre_admission,
        fingerprint,
        item_class,
        fee_category,
        self_pay_rate,
        price_limit,
        fully_self_paid_fen,
        over_limit_self_paid_fen,
        upfront_self_paid_fen,
        eligible_amount_fen,
        cancelled,
        settlement_id,
        charge_batch,
    ) = row
    from_fen = Money.from_fen
    return FeeLineRow(
        id=int(line_id),
        encounter_id=encounter_id,
        serial=serial,
        catalog_code=catalog_code,
        hospital_item_code=hospital_item_code,
        name=name,
        quantity=Decimal(quantity),
        unit_price=Decimal(unit_price),
        amount=from_fen(int(amount_fen)),
        occurred_at=as_utc(occurred_at),
        emergency_pre_admission=bool(emergency_pre_admission),
        fingerprint=fingerprint,
        item_class=item_class,
        fee_category=fee_category,
        self_pay_rate=Decimal(self_pay_rate),
        price_limit=Decimal(price_limit) if price_limit else None,
        fully_self_paid=from_fen(int(fully_self_paid_fen)),
        over_limit_self_paid=from_fen(int(over_limit_self_paid_fen)),
        upfront_self_paid=from_fen(int(upfront_self_paid_fen)),
        eligible_amount=from_fen(int(eligible_amount_fen)),
        cancelled=bool(cancelled),
        settlement_id=settlement_id,
        charge_batch=charge_batch,
    )


def _settlement_row(row: Any) -> SettlementRow:
    return SettlementRow(
        id=row.id,
        encounter_id=row.encounter_id,
        kind=row.kind,
        state=row.state,
        reverses_id=row.reverses_id,
        person_id=int(row.person_id),
        insurance_type=row.insurance_type,
        year=int(row.year),
        hospital_code=row.hospital_code,
        insured_region_code=row.insured_region_code,
        treatment_region_code=row.treatment_region_code,
        amounts={
            name: Money.from_fen(int(getattr(row, f"{name}_fen")))
            for name in SETTLEMENT_AMOUNT_COLUMNS
        },
        result_json=row.result_json,
        year_to_date_delta_json=row.year_to_date_delta_json,
        policy_version=row.policy_version,
        catalog_version=row.catalog_version,
        msgid=row.msgid,
        settled_at=as_utc(row.settled_at),
        settled_by=row.settled_by,
    )


_YTD_MONEY = (
    "deductible_used",
    "pooled_fund_paid",
    "serious_illness_paid",
    "large_expense_paid",
    "assistance_paid",
    "eligible_amount_accumulated",
)


def _ytd(row: Any, year: int) -> YearToDate:
    values: dict[str, Any] = {m: Money.from_fen(int(getattr(row, f"{m}_fen"))) for m in _YTD_MONEY}
    counters = json.loads(row.counters_json or "{}")
    values["counters"] = {name: Money.from_fen(int(fen)) for name, fen in counters.items()}
    return YearToDate(year=year, admissions_count=int(row.admissions_count), **values)


def _manual_claim_row(row: Any) -> ManualClaimRow:
    values = {f.name: getattr(row, f.name) for f in fields(ManualClaimRow)}
    for name in ("approved_at", "paid_at", "created_at", "updated_at"):
        values[name] = _aware(values[name])
    return ManualClaimRow(**values)


_MANUAL_LIST_COLUMNS = (
    manual_claims.c.id,
    persons.c.name.label("person_name"),
    persons.c.id_number,
    manual_claims.c.insured_region_code,
    manual_claims.c.treatment_region_code,
    manual_claims.c.hospital_name,
    manual_claims.c.admitted_on,
    manual_claims.c.discharged_on,
    manual_claims.c.materials_json,
    manual_claims.c.state,
    manual_claims.c.total_charges_fen,
    manual_claims.c.fund_paid_total_fen,
    manual_claims.c.patient_share_fen,
    manual_claims.c.created_at,
)


# Statements of the hospital path, built once: building a statement costs more Python time
# than SQLite takes to run it, and a statement object built once keeps its cache key.
_PERSON_BY = {
    column: select(persons).where(persons.c[column] == bindparam("value"))
    for column in ("psn_no", "card_number", "id_number", "ecert_token")
}
_CATALOG_REGIONS = select(catalog_versions.c.treatment_region).distinct()


def _lookup_upsert(builder: Any) -> Any:
    """Count one lookup of (institution, hour window, kind): insert 1 or add 1."""
    return (
        builder(lookup_counters)
        .values(
            institution=bindparam("who"),
            window_start=bindparam("window", type_=lookup_counters.c.window_start.type),
            kind=bindparam("what"),
            count=1,
        )
        .on_conflict_do_update(
            index_elements=["institution", "window_start", "kind"],
            set_={"count": lookup_counters.c.count + 1},
        )
    )


_MISSES = (
    select(lookup_counters.c.count)
    .where(
        lookup_counters.c.institution == bindparam("who"),
        lookup_counters.c.window_start == bindparam("window"),
        lookup_counters.c.kind == "miss",
    )
    .correlate(None)
    .scalar_subquery()
)
# The institution's lookups and misses so far in the window: a plain read, no row lock.
_LOOKUP_COUNTS = select(
    select(lookup_counters.c.count)
    .where(
        lookup_counters.c.institution == bindparam("who"),
        lookup_counters.c.window_start == bindparam("window"),
        lookup_counters.c.kind == "all",
    )
    .scalar_subquery(),
    _MISSES,
)
_BUILDERS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}
_BUMP_LOOKUP = {
    name: _lookup_upsert(builder).returning(lookup_counters.c.count)
    for name, builder in _BUILDERS.items()
}
_COUNT_LOOKUP = {
    name: _lookup_upsert(builder).returning(lookup_counters.c.count, _MISSES)
    for name, builder in _BUILDERS.items()
}


# The catalogue generation (see ``CatalogLookup``), carried by the first read of a stay.
_GENERATION = (
    select(func.count(), func.coalesce(func.max(catalog_versions.c.id), 0))
    .select_from(catalog_versions)
    .correlate(None)
)
_GENERATION_COLUMNS = (
    select(func.count()).select_from(catalog_versions).correlate(None).scalar_subquery(),
    select(func.coalesce(func.max(catalog_versions.c.id), 0)).correlate(None).scalar_subquery(),
)


def _encounter_read(*extra: Any, joined: bool = False) -> dict[bool, Any]:
    """The stay by id with the catalogue generation (and ``extra`` columns of ``joined``
    tables), unlocked and locked (``FOR UPDATE OF encounters``: the stay's row only)."""
    query = select(
        encounters,
        *extra,
        _GENERATION_COLUMNS[0].label("g_count"),
        _GENERATION_COLUMNS[1].label("g_max"),
    )
    if joined:
        query = query.join(persons, persons.c.id == encounters.c.person_id).join(
            hospitals, hospitals.c.fixmedins_code == encounters.c.hospital_code
        )
    query = query.where(encounters.c.id == bindparam("id"))
    return {False: query, True: query.with_for_update(of=encounters)}


_ENCOUNTER = _encounter_read()
# The stay with its person and hospital: what a settlement needs before its lines.
_ENCOUNTER_CONTEXT = _encounter_read(
    *(column.label(f"p_{column.name}") for column in persons.c),
    *(column.label(f"h_{column.name}") for column in hospitals.c),
    joined=True,
)
#: What a settlement reads of each active line (``ClaimLineRow``), in this order.
_CLAIM_LINES = (
    select(
        fee_lines.c.serial,
        fee_lines.c.catalog_code,
        fee_lines.c.hospital_item_code,
        fee_lines.c.name,
        fee_lines.c.quantity,
        fee_lines.c.unit_price,
        fee_lines.c.amount_fen,
        fee_lines.c.occurred_at,
        fee_lines.c.emergency_pre_admission,
    )
    .where(fee_lines.c.encounter_id == bindparam("id"), fee_lines.c.cancelled.is_(False))
    .order_by(fee_lines.c.id)
)
_OPEN_STATES = frozenset({"admitted", "discharged"})


class _Prefixed:
    """The columns of one table in a joined row, by their own names."""

    __slots__ = ("_prefix", "_source")

    def __init__(self, mapping: Any, prefix: str) -> None:
        self._source = mapping
        self._prefix = prefix

    def __getattr__(self, name: str) -> Any:
        return self._source[self._prefix + name]

    @property
    def _mapping(self) -> dict[str, Any]:
        # record_from_row reads a row's columns by name through ``_mapping``, as on a Row.
        size = len(self._prefix)
        return {
            key[size:]: value
            for key, value in self._source.items()
            if isinstance(key, str) and key.startswith(self._prefix)
        }


def _fee_line_insert(dialect: str, columns: tuple[str, ...]) -> Any:
    """One statement for a whole batch of lines; a serial already stored for the stay is
    skipped (``ON CONFLICT DO NOTHING``) and the new lines' ids come back. PostgreSQL gets
    the batch as one array per column (``unnest``): one statement and one round trip
    whatever the line count, where an executemany is a round trip per line."""
    if dialect == "postgresql":
        arrays = [
            cast(bindparam(name), postgresql.ARRAY(fee_lines.c[name].type)) for name in columns
        ]
        return (
            postgresql.insert(fee_lines)
            .from_select(
                list(columns), select(literal_column("*")).select_from(func.unnest(*arrays))
            )
            .on_conflict_do_nothing(index_elements=["encounter_id", "serial"])
            .returning(fee_lines.c.id, fee_lines.c.serial)
        )
    return (
        sqlite.insert(fee_lines)
        .on_conflict_do_nothing(index_elements=["encounter_id", "serial"])
        .returning(fee_lines.c.id, fee_lines.c.serial)
    )


def _lock_year_to_date(dialect: str) -> Any:
    """Create the row if missing and lock it, in one statement: ``ON CONFLICT DO UPDATE``
    locks an existing row (waiting for a concurrent creator or writer, then returning what
    it committed) as ``SELECT … FOR UPDATE`` did."""
    builder = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = builder(year_to_date).values(
        person_id=bindparam("person_id"),
        insurance_type=bindparam("insurance_type"),
        year=bindparam("year"),
    )
    return statement.on_conflict_do_update(
        index_elements=["person_id", "insurance_type", "year"],
        set_={"year": statement.excluded.year},
    ).returning(*year_to_date.c)


_LOCK_YEAR_TO_DATE = {name: _lock_year_to_date(name) for name in ("postgresql", "sqlite")}


class HospitalRepository:
    def __init__(self, session: Session) -> None:
        self._session = session
        # The catalogue generation this transaction read with its stay, if it did.
        self._generation: tuple[int, int] | None = None
        self._fee_line_inserts: dict[tuple[str, ...], Any] = {}
        # Lookups to count when the transaction commits (see ``count_lookup_at_commit``).
        self._lookups_at_commit: list[tuple[str, dt.datetime, LookupCheck]] = []

    # catalogue versions ---------------------------------------------------------------
    def catalog_version_by_hash(self, content_hash: str) -> CatalogVersionRow | None:
        row = self._session.execute(
            select(catalog_versions).where(catalog_versions.c.content_hash == content_hash)
        ).first()
        return _catalog_version_row(row) if row else None

    def add_catalog_version(
        self, catalog: CatalogVersion, *, source_name: str, at: dt.datetime
    ) -> CatalogVersionRow:
        version_id = self._session.execute(
            insert(catalog_versions)
            .values(
                treatment_region=catalog.treatment_region,
                version_label=catalog.version_label[:100],
                effective_on=catalog.effective_on,
                content_hash=catalog.content_hash,
                item_count=len(catalog),
                source_name=source_name[:200],
                imported_at=as_utc(at),
            )
            .returning(catalog_versions.c.id)
        ).scalar_one()
        rows = [
            {
                "version_id": version_id,
                "code": item.code,
                "name": item.name[:200],
                "kind": item.kind.value,
                "item_class": item.item_class.value,
                "upfront_self_pay_rate": str(item.upfront_self_pay_rate),
                "price_limit_fen": None if item.price_limit is None else item.price_limit.fen,
                "valid_from": item.valid_from,
                "valid_until": item.valid_until,
                "fee_category": item.fee_category,
            }
            for item in catalog.items.values()
        ]
        if rows:
            self._session.execute(insert(catalog_items), rows)
        found = self.catalog_version_by_hash(catalog.content_hash)
        assert found is not None
        return found

    def catalog_versions(self, treatment_region: str | None = None) -> list[CatalogVersionRow]:
        query = select(catalog_versions).order_by(
            catalog_versions.c.treatment_region, catalog_versions.c.effective_on
        )
        if treatment_region is not None:
            query = query.where(catalog_versions.c.treatment_region == treatment_region)
        return [_catalog_version_row(r) for r in self._session.execute(query)]

    def catalog_regions(self) -> set[str]:
        return set(self._session.execute(_CATALOG_REGIONS).scalars())

    def catalog_generation(self) -> tuple[int, int]:
        """(versions, newest id): read with the stay when this transaction read one."""
        if self._generation is None:
            count, newest = self._session.execute(_GENERATION).one()
            self._generation = (int(count), int(newest))
        return self._generation

    def _saw_generation(self, row: Any) -> None:
        if self._generation is None:
            self._generation = (int(row.g_count), int(row.g_max))

    def load_catalog(self, version: CatalogVersionRow) -> CatalogVersion:
        rows = self._session.execute(
            select(catalog_items).where(catalog_items.c.version_id == version.id)
        )
        items = [
            CatalogItem(
                code=r.code,
                name=r.name,
                kind=ItemKind(r.kind),
                item_class=ItemClass(r.item_class),
                upfront_self_pay_rate=Decimal(r.upfront_self_pay_rate),
                price_limit=None
                if r.price_limit_fen is None
                else Money.from_fen(r.price_limit_fen),
                valid_from=r.valid_from,
                valid_until=r.valid_until,
                fee_category=r.fee_category,
            )
            for r in rows
        ]
        catalog = CatalogVersion.build(
            version.treatment_region, version.version_label, version.effective_on, items
        )
        # The stored hash must be the content's: a row edited in the database is caught here.
        return CatalogVersion(
            catalog.treatment_region,
            catalog.version_label,
            catalog.effective_on,
            catalog.items,
            version.content_hash,
        )

    # persons --------------------------------------------------------------------------
    def person_id(self, id_number: str) -> int | None:
        value = self._session.execute(
            select(persons.c.id).where(persons.c.id_number == id_number)
        ).scalar()
        return None if value is None else int(value)

    def person_by_psn_no(self, psn_no: str) -> tuple[int, Person] | None:
        return self._person_where("psn_no", psn_no)

    def person_by_card(self, card_number: str) -> tuple[int, Person] | None:
        """The person holding the social security card, with the internal id, in one read."""
        return self._person_where("card_number", card_number)

    def person_by_id_number(self, id_number: str) -> tuple[int, Person] | None:
        return self._person_where("id_number", id_number)

    def person_by_ecert(self, token: str) -> tuple[int, Person] | None:
        return self._person_where("ecert_token", token)

    def _person_where(self, column: str, value: str) -> tuple[int, Person] | None:
        row = self._session.execute(_PERSON_BY[column], {"value": value}).first()
        return (int(row.id), _person(row)) if row else None

    # person lookups per institution (rate limit) ---------------------------------------
    def bump_lookup(self, institution: str, window_start: dt.datetime, kind: str) -> int:
        """Count one lookup of ``kind`` ("all" or "miss") in the window; the new count (one
        statement: the upsert returns it)."""
        statement = _BUMP_LOOKUP[self._session.get_bind().dialect.name]
        parameters = {"who": institution, "window": as_utc(window_start), "what": kind}
        return int(self._session.execute(statement, parameters).scalar_one())

    def lookup_counts(self, institution: str, window_start: dt.datetime) -> tuple[int, int]:
        """(lookups, misses) the institution has made so far in the window: a plain read
        that locks nothing, to refuse a lookup over the limit before any work."""
        parameters = {"who": institution, "window": as_utc(window_start)}
        counted, missed = self._session.execute(_LOOKUP_COUNTS, parameters).one()
        return int(counted or 0), int(missed or 0)

    def count_lookup_at_commit(
        self, institution: str, window_start: dt.datetime, check: LookupCheck
    ) -> None:
        """Count one lookup when this transaction commits, not now: the counter row of the
        institution and hour is locked from its upsert to the commit, so an upsert at the
        start of the transaction made the institution's lookups (a pharmacy's purchases)
        settle one after another. Just before the commit the count is added and ``check``
        is called with (lookups counted, this one included; misses so far); it raises to
        refuse, and the transaction, count included, is rolled back as before. A
        transaction that does not commit counts nothing."""
        self._lookups_at_commit.append((institution, window_start, check))

    def count_lookups_at_commit(self) -> None:
        """Run the counts noted by :meth:`count_lookup_at_commit` (the unit of work calls
        this just before it commits): one statement each, the upsert returns both counts."""
        noted, self._lookups_at_commit = self._lookups_at_commit, []
        for institution, window_start, check in noted:
            statement = _COUNT_LOOKUP[self._session.get_bind().dialect.name]
            parameters = {"who": institution, "window": as_utc(window_start), "what": "all"}
            counted, missed = self._session.execute(statement, parameters).one()
            check(int(counted), int(missed or 0))

    def person_by_internal_id(self, person_id: int) -> Person | None:
        row = self._session.execute(select(persons).where(persons.c.id == person_id)).first()
        return _person(row) if row else None

    # encounters -----------------------------------------------------------------------
    def add_encounter(self, values: dict[str, Any]) -> None:
        """Insert a stay; a second open stay of the person at the hospital is refused by the
        schema (``uq_encounters_open_person_hospital``), also when two admissions race."""
        try:
            with self._session.begin_nested():
                self._session.execute(insert(encounters).values(**values))
        except IntegrityError:
            raise open_stay_conflict() from None

    def encounter(self, encounter_id: str, *, for_update: bool = False) -> EncounterRow | None:
        row = self._session.execute(_ENCOUNTER[for_update], {"id": encounter_id}).first()
        if row is None:
            return None
        self._saw_generation(row)
        return _encounter_row(row)

    def encounter_context(
        self, encounter_id: str, *, for_update: bool = False
    ) -> EncounterContext | None:
        """The stay, its person and its hospital in one read (the stay's row locked)."""
        row = self._session.execute(_ENCOUNTER_CONTEXT[for_update], {"id": encounter_id}).first()
        if row is None:
            return None
        self._saw_generation(row)
        mapping = row._mapping
        return EncounterContext(
            encounter=_encounter_row(row),
            person=_person(_Prefixed(mapping, "p_")),
            hospital=_hospital(_Prefixed(mapping, "h_")),
        )

    def update_encounter(self, encounter_id: str, **values: Any) -> None:
        """Change a stay; reopening one (a reversal) while the person has another open stay
        at the hospital is refused by the schema. Only a change to an open state can meet
        that index, so only that one pays for a savepoint."""
        statement = update(encounters).where(encounters.c.id == encounter_id).values(**values)
        if values.get("state") not in _OPEN_STATES:
            self._session.execute(statement)
            return
        try:
            with self._session.begin_nested():
                self._session.execute(statement)
        except IntegrityError:
            raise open_stay_conflict() from None

    def stays_of_person_at(self, person_id: int, hospital_code: str) -> list[EncounterRow]:
        """The person's stays at one hospital that were not cancelled (open or settled)."""
        query = select(encounters).where(
            encounters.c.person_id == person_id,
            encounters.c.hospital_code == hospital_code,
            encounters.c.state != "cancelled",
        )
        return [_encounter_row(r) for r in self._session.execute(query)]

    def encounters_of_hospital(
        self, hospital_code: str, *, state: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[EncounterRow]:
        query = (
            select(encounters)
            .where(encounters.c.hospital_code == hospital_code)
            .order_by(encounters.c.admitted_at.desc(), encounters.c.id)
            .limit(limit)
            .offset(offset)
        )
        if state:
            query = query.where(encounters.c.state == state)
        return [_encounter_row(r) for r in self._session.execute(query)]

    # fee lines ------------------------------------------------------------------------
    def fee_lines(self, encounter_id: str, *, include_cancelled: bool = False) -> list[FeeLineRow]:
        query = (
            select(*_FEE_LINE_COLUMNS)
            .where(fee_lines.c.encounter_id == encounter_id)
            .order_by(fee_lines.c.id)
        )
        if not include_cancelled:
            query = query.where(fee_lines.c.cancelled.is_(False))
        return [_fee_line_row(r) for r in self._session.execute(query)]

    def fee_lines_by_serial(
        self, encounter_id: str, serials: Iterable[str]
    ) -> dict[str, FeeLineRow]:
        wanted = list(serials)
        if not wanted:
            return {}
        rows = self._session.execute(
            select(*_FEE_LINE_COLUMNS).where(
                fee_lines.c.encounter_id == encounter_id, fee_lines.c.serial.in_(wanted)
            )
        )
        return {line.serial: line for line in map(_fee_line_row, rows)}

    def claim_lines(self, encounter_id: str) -> list[ClaimLineRow]:
        """The active lines as a settlement reads them (nine columns, not the whole row)."""
        from_fen = Money.from_fen
        return [
            ClaimLineRow(
                serial=serial,
                catalog_code=code,
                hospital_item_code=item_code,
                name=name,
                quantity=Decimal(quantity),
                unit_price=Decimal(unit_price),
                amount=from_fen(int(amount_fen)),
                occurred_at=as_utc(occurred_at),
                emergency_pre_admission=bool(pre_admission),
            )
            for (
                serial,
                code,
                item_code,
                name,
                quantity,
                unit_price,
                amount_fen,
                occurred_at,
                pre_admission,
            ) in self._session.execute(_CLAIM_LINES, {"id": encounter_id})
        ]

    def add_fee_lines(self, rows: Sequence[dict[str, Any]]) -> dict[str, int]:
        """Insert the lines (every row with the same columns, one per serial) in one
        statement; a serial the stay already has is left as it is. Answers the new lines'
        ids by serial: a serial missing from the answer was stored before."""
        if not rows:
            return {}
        columns = tuple(rows[0])
        dialect = self._session.get_bind().dialect.name
        statement = self._fee_line_inserts.get(columns)
        if statement is None:
            statement = _fee_line_insert(dialect, columns)
            self._fee_line_inserts[columns] = statement
        if dialect == "postgresql":
            arrays = {name: [row[name] for row in rows] for name in columns}
            result = self._session.execute(statement, arrays)
        else:
            result = self._session.execute(statement, list(rows))
        return {serial: int(line_id) for line_id, serial in result}

    def replace_fee_line(self, line_id: int, values: dict[str, Any]) -> None:
        self._session.execute(update(fee_lines).where(fee_lines.c.id == line_id).values(**values))

    def cancel_fee_lines(self, line_ids: Sequence[int], at: dt.datetime) -> None:
        if line_ids:
            self._session.execute(
                update(fee_lines)
                .where(fee_lines.c.id.in_(list(line_ids)))
                .values(cancelled=True, cancelled_at=as_utc(at))
            )

    def mark_fee_lines_settled(self, encounter_id: str, settlement_id: str | None) -> None:
        self._session.execute(
            update(fee_lines)
            .where(fee_lines.c.encounter_id == encounter_id, fee_lines.c.cancelled.is_(False))
            .values(settlement_id=settlement_id)
        )

    # settlements ----------------------------------------------------------------------
    def add_settlement(self, values: dict[str, Any]) -> None:
        self._session.execute(insert(settlements).values(**values))

    def settlement(self, settlement_id: str) -> SettlementRow | None:
        row = self._session.execute(
            select(settlements).where(settlements.c.id == settlement_id)
        ).first()
        return _settlement_row(row) if row else None

    def settlements_of_encounter(self, encounter_id: str) -> list[SettlementRow]:
        rows = self._session.execute(
            select(settlements)
            .where(settlements.c.encounter_id == encounter_id)
            .order_by(settlements.c.settled_at, settlements.c.id)
        )
        return [_settlement_row(r) for r in rows]

    def settlements_of_hospital(
        self, hospital_code: str, settled_from: dt.datetime, settled_before: dt.datetime
    ) -> list[SettlementRow]:
        """Every settlement and reversal record of a hospital in [from, before), in order."""
        rows = self._session.execute(
            select(settlements)
            .where(
                settlements.c.hospital_code == hospital_code,
                settlements.c.settled_at >= settled_from,
                settlements.c.settled_at < settled_before,
            )
            .order_by(settlements.c.settled_at, settlements.c.id)
        )
        return [_settlement_row(r) for r in rows]

    # clearing applications (3203 / 3204) ----------------------------------------------
    def add_clearing_application(self, values: dict[str, Any]) -> bool:
        """Insert a standing application; False when one already stands for that month."""
        try:
            with self._session.begin_nested():
                self._session.execute(insert(clearing_applications).values(**values))
        except IntegrityError:
            return False
        return True

    def clearing_application(
        self, application_id: str, *, for_update: bool = False
    ) -> dict[str, Any] | None:
        query = select(clearing_applications).where(clearing_applications.c.id == application_id)
        if for_update:
            query = query.with_for_update()
        row = self._session.execute(query).first()
        return dict(row._mapping) if row else None

    def standing_clearing_application(
        self, hospital_code: str, month: str, clearing_type: str
    ) -> str | None:
        return self._session.execute(
            select(clearing_applications.c.id).where(
                clearing_applications.c.hospital_code == hospital_code,
                clearing_applications.c.clearing_month == month,
                clearing_applications.c.clearing_type == clearing_type,
                clearing_applications.c.active == "1",
            )
        ).scalar_one_or_none()

    def cancel_clearing_application(self, application_id: str, at: dt.datetime) -> None:
        self._session.execute(
            update(clearing_applications)
            .where(clearing_applications.c.id == application_id)
            .values(active=None, cancelled_at=at)
        )

    def set_settlement_state(self, settlement_id: str, state: str) -> None:
        self._session.execute(
            update(settlements).where(settlements.c.id == settlement_id).values(state=state)
        )

    def settlement_totals(self) -> list[dict[str, Any]]:
        """Net settlements (settle minus reversal) by insured and treatment region."""
        s = settlements.c
        rows = self._session.execute(
            select(
                s.insured_region_code,
                s.treatment_region_code,
                func.count(),
                func.sum(s.total_charges_fen),
                func.sum(s.fund_paid_total_fen),
                func.sum(s.patient_share_fen),
                func.sum(s.owed_to_treatment_region_fen),
            )
            .where(s.kind == "settle", s.state == "active")
            .group_by(s.insured_region_code, s.treatment_region_code)
            .order_by(s.insured_region_code, s.treatment_region_code)
        )
        return [
            {
                "insured_region_code": r[0],
                "treatment_region_code": r[1],
                "settlements": int(r[2]),
                "total": Money.from_fen(int(r[3] or 0)),
                "fund_paid": Money.from_fen(int(r[4] or 0)),
                "patient_share": Money.from_fen(int(r[5] or 0)),
                "owed_to_treatment_region": Money.from_fen(int(r[6] or 0)),
            }
            for r in rows
        ]

    # year to date ---------------------------------------------------------------------
    def lock_year_to_date(
        self, person_id: int, insurance_type: InsuranceType, year: int
    ) -> YearToDate:
        """Create the row if missing (safe under concurrency), lock and read it, in one
        statement (``INSERT … ON CONFLICT DO UPDATE … RETURNING``).

        A concurrent transaction that created or changed the row first is waited for, and
        what it committed is returned, so two settlements of one person never both see the
        same deductible or the same room under the annual cap.
        """
        key = {"person_id": person_id, "insurance_type": insurance_type.value, "year": year}
        statement = _LOCK_YEAR_TO_DATE[self._session.get_bind().dialect.name]
        return _ytd(self._session.execute(statement, key).one(), year)

    def read_year_to_date(
        self, person_id: int, insurance_type: InsuranceType, year: int
    ) -> YearToDate:
        row = self._session.execute(
            select(year_to_date).where(
                year_to_date.c.person_id == person_id,
                year_to_date.c.insurance_type == insurance_type.value,
                year_to_date.c.year == year,
            )
        ).first()
        return YearToDate.empty(year) if row is None else _ytd(row, year)

    def write_year_to_date(
        self, person_id: int, insurance_type: InsuranceType, totals: YearToDate
    ) -> None:
        values: dict[str, Any] = {f"{m}_fen": getattr(totals, m).fen for m in _YTD_MONEY}
        values["admissions_count"] = totals.admissions_count
        values["counters_json"] = json.dumps(
            {name: amount.fen for name, amount in totals.counters.items()}, sort_keys=True
        )
        self._session.execute(
            update(year_to_date)
            .where(
                year_to_date.c.person_id == person_id,
                year_to_date.c.insurance_type == insurance_type.value,
                year_to_date.c.year == totals.year,
            )
            .values(**values)
        )

    # manual claims --------------------------------------------------------------------
    def add_manual_claim(self, values: dict[str, Any]) -> None:
        self._session.execute(insert(manual_claims).values(**values))

    def manual_claim(self, claim_id: str, *, for_update: bool = False) -> ManualClaimRow | None:
        query = select(manual_claims).where(manual_claims.c.id == claim_id)
        if for_update:
            query = query.with_for_update()
        row = self._session.execute(query).first()
        return _manual_claim_row(row) if row else None

    def update_manual_claim(self, claim_id: str, **values: Any) -> None:
        self._session.execute(
            update(manual_claims).where(manual_claims.c.id == claim_id).values(**values)
        )

    def search_manual_claims(self, query: ManualClaimQuery) -> tuple[int, list[ManualClaimListRow]]:
        """(total matches, one page of list rows), newest intake first."""
        conditions = [manual_claims.c.insured_region_code.startswith(query.region_prefix)]
        if query.states:
            conditions.append(manual_claims.c.state.in_(query.states))
        if query.created_from is not None:
            conditions.append(manual_claims.c.created_at >= query.created_from)
        if query.created_before is not None:
            conditions.append(manual_claims.c.created_at < query.created_before)
        if query.claim_id:
            conditions.append(manual_claims.c.id == query.claim_id)
        if query.id_number:
            conditions.append(persons.c.id_number == query.id_number)
        if query.name:
            conditions.append(persons.c.name == query.name)
        statement = (
            select(*_MANUAL_LIST_COLUMNS)
            .join(persons, persons.c.id == manual_claims.c.person_id)
            .where(and_(*conditions))
        )
        total = int(
            self._session.execute(
                select(func.count()).select_from(statement.subquery())
            ).scalar_one()
        )
        rows = self._session.execute(
            statement.order_by(manual_claims.c.created_at.desc(), manual_claims.c.id.desc())
            .limit(query.limit)
            .offset(query.offset)
        )
        found = []
        for row in rows:
            values = dict(row._mapping)
            values["created_at"] = as_utc(values["created_at"])
            found.append(ManualClaimListRow(**values))
        return total, found


__all__ = [
    "SETTLEMENT_AMOUNT_COLUMNS",
    "CatalogVersionRow",
    "EncounterRow",
    "FeeLineRow",
    "HospitalRepository",
    "ManualClaimListRow",
    "ManualClaimQuery",
    "ManualClaimRow",
    "SettlementRow",
    "open_stay_conflict",
]
