"""Storage for the money side: settlement facts, ledger entries, prepayments, clearing runs
(implements ``yidi.funds.ports.FundsRepository``)."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Any

from sqlalchemy import ColumnElement, String, and_, func, insert, select, update
from sqlalchemy.orm import Session

from yidi.funds.model import (
    FUNDS,
    Account,
    ClearingAdjustment,
    ClearingKind,
    ClearingLevel,
    ClearingStatement,
    Fund,
    LedgerEntry,
    Prepayment,
    PrepaymentUsage,
    SettlementFact,
    Side,
)
from yidi.funds.ports import ClearingRunRecord
from yidi.funds.prepayment import TopUpRequest, TopUpStatus
from yidi.funds.statistics import NO_CATEGORY, Dimension, Direction, StatisticsQuery
from yidi.kernel.audit import as_utc
from yidi.kernel.insurance import FilingCategory, InsuranceType
from yidi.kernel.money import Money
from yidi.kernel.regions import region_prefix
from yidi.platform.rows import record_from_row, rowcount
from yidi.platform.tables import (
    clearing_adjustments,
    clearing_runs,
    hospitals,
    ledger_entries,
    prepayment_topups,
    prepayments,
    settlement_facts,
)

#: the ``settlement_facts`` column of each fund: its vocabulary amount's ``<name>_fen``
FUND_COLUMNS: dict[Fund, str] = {fund: fund.amount.column for fund in FUNDS}


def adjustment_from_row(row: Any) -> ClearingAdjustment:
    """A ``clearing_adjustments`` row as the model's adjustment (regions as recorded)."""
    return ClearingAdjustment(
        id=row.id,
        dispute_id=row.dispute_id,
        clearing_month=row.clearing_month,
        concerns_month=row.concerns_month,
        insured_region_code=row.insured_region_code,
        treatment_region_code=row.treatment_region_code,
        hospital_code=row.hospital_code,
        settlement_id=row.settlement_id,
        refund=bool(row.refund),
        amount=Money.from_fen(int(row.amount_fen)),
        agreed=Money.from_fen(int(row.agreed_fen)),
        decided_by=row.decided_by,
        decided_role=row.decided_role,
        decided_at=as_utc(row.decided_at),
        reason=row.reason,
    )


def fact_row(fact: SettlementFact, recorded_at: dt.datetime) -> dict[str, Any]:
    row: dict[str, Any] = {
        "setl_id": fact.setl_id,
        "reverses_setl_id": fact.reverses_setl_id,
        "settled_on": fact.settled_on,
        "clearing_month": fact.clearing_month,
        "insured_region_code": fact.insured_region_code,
        "treatment_region_code": fact.treatment_region_code,
        "hospital_code": fact.hospital_code,
        "insurance_type": fact.insurance_type.value,
        "filing_category": fact.filing_category.value if fact.filing_category else None,
        "person_times": fact.person_times,
        "total_charges_fen": fact.total_charges.fen,
        "recorded_at": recorded_at,
        "clearing_type": fact.clearing_kind.value,
    }
    for fund, column in FUND_COLUMNS.items():
        row[column] = fact.fund_amounts[fund].fen
    return row


def fact_from_row(row: Any) -> SettlementFact:
    return SettlementFact(
        setl_id=row.setl_id,
        settled_on=row.settled_on,
        insured_region_code=row.insured_region_code,
        treatment_region_code=row.treatment_region_code,
        hospital_code=row.hospital_code,
        insurance_type=InsuranceType(row.insurance_type),
        filing_category=FilingCategory(row.filing_category) if row.filing_category else None,
        total_charges=Money.from_fen(int(row.total_charges_fen)),
        fund_amounts={f: Money.from_fen(int(getattr(row, c))) for f, c in FUND_COLUMNS.items()},
        reverses_setl_id=row.reverses_setl_id,
        clearing_month=row.clearing_month,
        person_times=int(row.person_times),
        clearing_kind=ClearingKind(row.clearing_type),
    )


class FundsRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    # facts and ledger ------------------------------------------------------------
    def add_fact(self, fact: SettlementFact, recorded_at: dt.datetime) -> None:
        self._session.execute(insert(settlement_facts).values(**fact_row(fact, recorded_at)))

    def add_entries(self, entries: Sequence[LedgerEntry], posted_at: dt.datetime) -> None:
        if not entries:
            return
        self._session.execute(
            insert(ledger_entries),
            [
                {
                    "setl_id": e.setl_id,
                    "clearing_month": e.clearing_month,
                    "account": e.account.name,
                    "fund": e.account.fund.value,
                    "side": e.side.value,
                    "amount_fen": e.amount.fen,
                    "insured_region_code": e.insured_region_code,
                    "treatment_region_code": e.treatment_region_code,
                    "posted_at": posted_at,
                }
                for e in entries
            ],
        )

    def fact(self, setl_id: str) -> SettlementFact | None:
        row = self._session.execute(
            select(settlement_facts).where(settlement_facts.c.setl_id == setl_id)
        ).first()
        return fact_from_row(row) if row else None

    def reversal_of(self, setl_id: str) -> SettlementFact | None:
        row = self._session.execute(
            select(settlement_facts).where(settlement_facts.c.reverses_setl_id == setl_id)
        ).first()
        return fact_from_row(row) if row else None

    def facts(
        self,
        *,
        clearing_month: str | None = None,
        settled_from: dt.date | None = None,
        settled_to: dt.date | None = None,
        insured_prefix: str | None = None,
        hospital_code: str | None = None,
    ) -> list[SettlementFact]:
        query = select(settlement_facts).order_by(settlement_facts.c.id)
        if clearing_month is not None:
            query = query.where(settlement_facts.c.clearing_month == clearing_month)
        if settled_from is not None:
            query = query.where(settlement_facts.c.settled_on >= settled_from)
        if settled_to is not None:
            query = query.where(settlement_facts.c.settled_on <= settled_to)
        if insured_prefix:
            query = query.where(settlement_facts.c.insured_region_code.startswith(insured_prefix))
        if hospital_code is not None:
            query = query.where(settlement_facts.c.hospital_code == hospital_code)
        return [fact_from_row(row) for row in self._session.execute(query)]

    def clearing_types(
        self, hospital_code: str, settled_from: dt.date, settled_to: dt.date
    ) -> dict[str, str]:
        """The clearing type (clr_type) of each fact of a hospital settled in the days given."""
        c = settlement_facts.c
        rows = self._session.execute(
            select(c.setl_id, c.clearing_type).where(
                c.hospital_code == hospital_code,
                c.settled_on >= settled_from,
                c.settled_on <= settled_to,
            )
        )
        return {str(setl_id): str(kind) for setl_id, kind in rows}

    def fact_rows(self, batch_size: int = 50_000) -> Iterator[Sequence[Any]]:
        """Every fact row in id order, in batches (for columnar exports)."""
        result = self._session.execute(
            select(settlement_facts)
            .order_by(settlement_facts.c.id)
            .execution_options(yield_per=batch_size)
        )
        yield from result.partitions(batch_size)

    def fact_months(self) -> dict[str, tuple[int, int]]:
        """Per clearing month: (number of facts, highest fact id). Facts are only ever
        appended, so a month whose pair is unchanged has nothing new to export."""
        rows = self._session.execute(
            select(
                settlement_facts.c.clearing_month,
                func.count(),
                func.max(settlement_facts.c.id),
            ).group_by(settlement_facts.c.clearing_month)
        )
        return {str(r[0]): (int(r[1]), int(r[2])) for r in rows}

    def write_months_csv(
        self, months: Sequence[str], columns: Sequence[str], handle: IO[str]
    ) -> int:
        """The facts of the given clearing months as CSV rows (no header, empty for NULL).

        PostgreSQL streams them with one ``COPY … TO STDOUT``, the server formatting the
        rows; other databases go through the driver in batches. Returns the row count.
        """
        query = (
            select(*[settlement_facts.c[name] for name in columns])
            .where(settlement_facts.c.clearing_month.in_(list(months)))
            .order_by(settlement_facts.c.id)
        )
        connection = self._session.connection()
        if connection.dialect.name == "postgresql":
            compiled = query.compile(connection, compile_kwargs={"literal_binds": True})
            raw = connection.connection.dbapi_connection
            assert raw is not None
            count = 0
            statement = f"COPY ({compiled}) TO STDOUT (FORMAT csv)"
            with raw.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[attr-defined]
                for chunk in copy:
                    text = bytes(chunk).decode("utf-8")
                    count += text.count("\n")  # no fact column holds free text
                    handle.write(text)
            return count
        writer = csv.writer(handle)
        count = 0
        result = self._session.execute(query.execution_options(yield_per=50_000))
        for batch in result.partitions(50_000):
            writer.writerows(["" if value is None else value for value in row] for row in batch)
            count += len(batch)
        return count

    def entries(
        self, *, clearing_month: str | None = None, setl_id: str | None = None
    ) -> list[LedgerEntry]:
        query = select(ledger_entries).order_by(ledger_entries.c.id)
        if clearing_month is not None:
            query = query.where(ledger_entries.c.clearing_month == clearing_month)
        if setl_id is not None:
            query = query.where(ledger_entries.c.setl_id == setl_id)
        return [
            LedgerEntry(
                setl_id=row.setl_id,
                clearing_month=row.clearing_month,
                account=Account.parse(row.account),
                side=Side(row.side),
                amount=Money.from_fen(int(row.amount_fen)),
                insured_region_code=row.insured_region_code,
                treatment_region_code=row.treatment_region_code,
            )
            for row in self._session.execute(query)
        ]

    def ledger_imbalance_fen(self) -> int:
        """Debits minus credits over the whole ledger, in SQL: always 0."""
        debit = self._session.execute(
            select(func.coalesce(func.sum(ledger_entries.c.amount_fen), 0)).where(
                ledger_entries.c.side == Side.DEBIT.value
            )
        ).scalar_one()
        credit = self._session.execute(
            select(func.coalesce(func.sum(ledger_entries.c.amount_fen), 0)).where(
                ledger_entries.c.side == Side.CREDIT.value
            )
        ).scalar_one()
        return int(debit) - int(credit)

    # prepayments -----------------------------------------------------------------
    def set_prepayment(self, prepayment: Prepayment) -> None:
        self._session.execute(
            insert(prepayments).values(
                level=prepayment.level.value,
                insured_region_code=prepayment.insured_region_code,
                treatment_region_code=prepayment.treatment_region_code,
                amount_fen=prepayment.amount.fen,
                effective_on=prepayment.effective_on,
            )
        )

    def prepayments_as_of(self, level: ClearingLevel, on: dt.date) -> dict[tuple[str, str], Money]:
        """The latest prepayment of each pair effective on or before ``on``."""
        rows = self._session.execute(
            select(prepayments)
            .where(prepayments.c.level == level.value, prepayments.c.effective_on <= on)
            .order_by(prepayments.c.effective_on, prepayments.c.id)
        )
        held: dict[tuple[str, str], Money] = {}
        for row in rows:
            held[(row.insured_region_code, row.treatment_region_code)] = Money.from_fen(
                int(row.amount_fen)
            )
        return held

    def add_top_up_request(
        self,
        usage: PrepaymentUsage,
        requested_by: str,
        requested_region_code: str | None,
        at: dt.datetime,
    ) -> int:
        """Record a request to top up ``usage``'s pair (申请补充预付金); its row id."""
        new_id = self._session.execute(
            insert(prepayment_topups)
            .values(
                level=usage.level.value,
                year=usage.year,
                insured_region_code=usage.insured_region_code,
                treatment_region_code=usage.treatment_region_code,
                held_fen=usage.held.fen,
                drawn_fen=usage.drawn.fen,
                warning=usage.warning.value,
                suggested_fen=usage.suggested_top_up.fen,
                requested_by=requested_by,
                requested_region_code=requested_region_code,
                requested_at=at,
            )
            .returning(prepayment_topups.c.id)
        ).scalar_one()
        return int(new_id)

    def top_up_request(self, request_id: int, *, for_update: bool = False) -> TopUpRequest | None:
        query = select(prepayment_topups).where(prepayment_topups.c.id == request_id)
        if for_update:
            query = query.with_for_update()
        row = self._session.execute(query).first()
        return None if row is None else _top_up(row)

    def top_up_requests(self, status: TopUpStatus | None = None) -> list[TopUpRequest]:
        query = select(prepayment_topups).order_by(prepayment_topups.c.id.desc())
        if status is not None:
            query = query.where(prepayment_topups.c.status == status.value)
        return [_top_up(row) for row in self._session.execute(query)]

    def decide_top_up(
        self,
        request_id: int,
        status: TopUpStatus,
        approved: Money | None,
        decided_by: str,
        at: dt.datetime,
        reason: str | None,
    ) -> bool:
        changed = rowcount(
            self._session.execute(
                update(prepayment_topups)
                .where(
                    prepayment_topups.c.id == request_id,
                    prepayment_topups.c.status == TopUpStatus.REQUESTED.value,
                )
                .values(
                    status=status.value,
                    approved_fen=None if approved is None else approved.fen,
                    decided_by=decided_by,
                    decided_at=at,
                    decision_reason=reason,
                )
            )
        )
        return changed == 1

    def add_to_prepayment(
        self, level: ClearingLevel, insured: str, treatment: str, amount: Money, on: dt.date
    ) -> Money:
        held = self.prepayments_as_of(level, on).get((insured, treatment), Money.zero())
        total = held + amount
        same_day = (
            prepayments.c.level == level.value,
            prepayments.c.insured_region_code == insured,
            prepayments.c.treatment_region_code == treatment,
            prepayments.c.effective_on == on,
        )
        if rowcount(
            self._session.execute(update(prepayments).where(*same_day).values(amount_fen=total.fen))
        ):
            return total
        self.set_prepayment(Prepayment(level, insured, treatment, total, on))
        return total

    # clearing runs ---------------------------------------------------------------
    def clearing_run(self, month: str, level: ClearingLevel) -> ClearingRunRecord | None:
        row = self._session.execute(
            select(clearing_runs).where(
                clearing_runs.c.clearing_month == month, clearing_runs.c.level == level.value
            )
        ).first()
        if row is None:
            return None
        return _clearing_run(row)

    def clearing_runs_between(
        self, level: ClearingLevel, first_month: str, last_month: str
    ) -> list[ClearingRunRecord]:
        """The stored runs (open or closed) of ``level`` from ``first_month`` to ``last_month``."""
        rows = self._session.execute(
            select(clearing_runs)
            .where(
                clearing_runs.c.level == level.value,
                clearing_runs.c.clearing_month >= first_month,
                clearing_runs.c.clearing_month <= last_month,
            )
            .order_by(clearing_runs.c.clearing_month)
        )
        return [_clearing_run(row) for row in rows]

    def save_open_run(self, statement: ClearingStatement, run_at: dt.datetime) -> None:
        """Insert the month's run, or replace an OPEN run's statement (never a closed one)."""
        values = {
            "statement_json": statement.to_json(),
            "content_hash": statement.content_hash,
            "run_at": run_at,
        }
        changed = rowcount(
            self._session.execute(
                update(clearing_runs)
                .where(
                    clearing_runs.c.clearing_month == statement.month,
                    clearing_runs.c.level == statement.level.value,
                    clearing_runs.c.status == "open",
                )
                .values(**values)
            )
        )
        if not changed:
            self._session.execute(
                insert(clearing_runs).values(
                    clearing_month=statement.month,
                    level=statement.level.value,
                    status="open",
                    **values,
                )
            )

    def close_run(self, month: str, level: ClearingLevel, closed_at: dt.datetime) -> bool:
        return self._move_run(month, level, "open", "closed", closed_at)

    def reopen_run(self, month: str, level: ClearingLevel) -> bool:
        """A closed run becomes open again (its statement is recomputed on the next run)."""
        return self._move_run(month, level, "closed", "open", None)

    def _move_run(
        self,
        month: str,
        level: ClearingLevel,
        status: str,
        to_status: str,
        closed_at: dt.datetime | None,
    ) -> bool:
        """The run from ``status`` to ``to_status``; False when it was not in ``status``."""
        changed = rowcount(
            self._session.execute(
                update(clearing_runs)
                .where(
                    clearing_runs.c.clearing_month == month,
                    clearing_runs.c.level == level.value,
                    clearing_runs.c.status == status,
                )
                .values(status=to_status, closed_at=closed_at)
            )
        )
        return bool(changed)

    def adjustments(self, clearing_month: str) -> list[ClearingAdjustment]:
        """The 清算调整 a month carries (withdrawn ones left out)."""
        rows = self._session.execute(
            select(clearing_adjustments)
            .where(
                clearing_adjustments.c.clearing_month == clearing_month,
                clearing_adjustments.c.withdrawn_at.is_(None),
            )
            .order_by(clearing_adjustments.c.decided_at, clearing_adjustments.c.id)
        ).all()
        return [adjustment_from_row(row) for row in rows]

    def month_is_closed(self, month: str) -> bool:
        return (
            self._session.execute(
                select(clearing_runs.c.id).where(
                    clearing_runs.c.clearing_month == month, clearing_runs.c.status == "closed"
                )
            ).first()
            is not None
        )

    def runs(self) -> list[tuple[str, str, str, str]]:
        rows = self._session.execute(
            select(
                clearing_runs.c.clearing_month,
                clearing_runs.c.level,
                clearing_runs.c.status,
                clearing_runs.c.content_hash,
            ).order_by(clearing_runs.c.clearing_month, clearing_runs.c.level)
        )
        return [(r[0], r[1], r[2], r[3]) for r in rows]

    # statistics ------------------------------------------------------------------
    def statistics_sums(
        self, query: StatisticsQuery
    ) -> list[tuple[str, int, int, tuple[int, ...]]]:
        """GROUP BY in the database: (key, person-times, total charges, fund sums in fen)."""
        return self._sums(query, _dimension_expression(query.group_by))

    def statistics_kind_sums(
        self, query: StatisticsQuery
    ) -> list[tuple[str, int, int, tuple[int, ...]]]:
        """The same sums per clearing kind (keyed by clr_type code)."""
        return self._sums(query, _dimension_expression(Dimension.CLEARING_TYPE))

    def _sums(
        self, query: StatisticsQuery, key: ColumnElement[str]
    ) -> list[tuple[str, int, int, tuple[int, ...]]]:
        c = settlement_facts.c
        prefix = region_prefix(query.region_code)
        insured_in, treated_in = (
            c.insured_region_code.startswith(prefix),
            c.treatment_region_code.startswith(prefix),
        )
        conditions: list[ColumnElement[bool]] = (
            [insured_in, ~treated_in]
            if query.direction is Direction.OUTBOUND
            else [treated_in, ~insured_in]
        )
        if query.settled_from is not None:
            conditions.append(c.settled_on >= query.settled_from)
        if query.settled_to is not None:
            conditions.append(c.settled_on <= query.settled_to)
        statement = (
            select(
                key.label("key"),
                func.sum(c.person_times),
                func.sum(c.total_charges_fen),
                *(func.sum(c[FUND_COLUMNS[f]]) for f in FUNDS),
            )
            .where(and_(*conditions))
            .group_by(key)
        )
        return [
            (str(row[0]), int(row[1]), int(row[2]), tuple(int(v) for v in row[3:]))
            for row in self._session.execute(statement)
        ]

    def hospital_names(self, codes: Iterable[str]) -> dict[str, str]:
        wanted = list(codes)
        if not wanted:
            return {}
        rows = self._session.execute(
            select(hospitals.c.fixmedins_code, hospitals.c.name).where(
                hospitals.c.fixmedins_code.in_(wanted)
            )
        )
        return {code: name for code, name in rows}


def _dimension_expression(dimension: Dimension) -> ColumnElement[str]:
    c = settlement_facts.c
    expressions: dict[Dimension, ColumnElement[str]] = {
        Dimension.INSURED_REGION: c.insured_region_code,
        Dimension.INSURED_PROVINCE: func.substr(c.insured_region_code, 1, 2, type_=String) + "0000",
        Dimension.TREATMENT_REGION: c.treatment_region_code,
        Dimension.TREATMENT_PROVINCE: func.substr(c.treatment_region_code, 1, 2, type_=String)
        + "0000",
        Dimension.HOSPITAL: c.hospital_code,
        Dimension.CATEGORY: func.coalesce(c.filing_category, NO_CATEGORY, type_=String),
        Dimension.INSURANCE_TYPE: c.insurance_type,
        Dimension.MONTH: c.clearing_month,
        Dimension.YEAR: func.substr(c.clearing_month, 1, 4, type_=String),
        Dimension.CLEARING_TYPE: c.clearing_type,
    }
    return expressions[dimension]


def _clearing_run(row: Any) -> ClearingRunRecord:
    return ClearingRunRecord(
        month=row.clearing_month,
        level=ClearingLevel(row.level),
        status=row.status,
        statement=ClearingStatement.from_dict(json.loads(row.statement_json)),
        content_hash=row.content_hash,
        run_at=row.run_at,
        closed_at=row.closed_at,
    )


def _top_up(row: Any) -> TopUpRequest:
    return record_from_row(
        TopUpRequest,
        row,
        id=int(row.id),
        year=int(row.year),
        held_fen=int(row.held_fen),
        drawn_fen=int(row.drawn_fen),
        suggested_fen=int(row.suggested_fen),
        requested_at=as_utc(row.requested_at),
        status=TopUpStatus(row.status),
        approved_fen=None if row.approved_fen is None else int(row.approved_fen),
        decided_at=None if row.decided_at is None else as_utc(row.decided_at),
    )
