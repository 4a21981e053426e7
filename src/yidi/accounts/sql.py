"""SQL for personal accounts: the locked balance row and its movements (implements
``yidi.accounts.ports.AccountRepository``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from yidi.accounts.model import FamilyBinding, FamilyRelation, Movement, MovementKind, apply
from yidi.accounts.ports import AccountRow, MovementRow
from yidi.kernel.insurance import InsuranceType
from yidi.kernel.money import Money
from yidi.platform.tables import (
    family_account_bindings,
    personal_account_movements,
    personal_accounts,
)


def _account(row: Any) -> AccountRow:
    return AccountRow(
        row.id, row.person_id, row.insurance_type, row.year, Money.from_fen(row.balance_fen)
    )


def _movement(row: Any) -> MovementRow:
    return MovementRow(
        MovementKind(row.kind),
        Money.from_fen(row.amount_fen),
        Money.from_fen(row.balance_after_fen),
        row.source,
        row.reference,
        row.settlement_id,
        row.occurred_at,
        row.recorded_by,
    )


# The balance read of every admission check, built once.
_READ = select(personal_accounts).where(
    personal_accounts.c.person_id == bindparam("person_id"),
    personal_accounts.c.insurance_type == bindparam("insurance_type"),
    personal_accounts.c.year == bindparam("year"),
)


class AccountRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def _where(self, person_id: int, insurance_type: InsuranceType, year: int) -> Any:
        return (
            (personal_accounts.c.person_id == person_id)
            & (personal_accounts.c.insurance_type == insurance_type.value)
            & (personal_accounts.c.year == year)
        )

    def lock(
        self, person_id: int, insurance_type: InsuranceType, year: int, at: dt.datetime
    ) -> AccountRow:
        """Create the account if missing (safe under concurrency), then lock and read it:
        ``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already
        serialises writers."""
        dialect = self._session.get_bind().dialect.name
        builder = postgresql.insert if dialect == "postgresql" else sqlite.insert
        self._session.execute(
            builder(personal_accounts)
            .values(
                person_id=person_id,
                insurance_type=insurance_type.value,
                year=year,
                balance_fen=0,
                updated_at=at,
            )
            .on_conflict_do_nothing()
        )
        row = self._session.execute(
            select(personal_accounts)
            .where(self._where(person_id, insurance_type, year))
            .with_for_update()
        ).one()
        return _account(row)

    def read(self, person_id: int, insurance_type: InsuranceType, year: int) -> AccountRow | None:
        parameters = {"person_id": person_id, "insurance_type": insurance_type.value, "year": year}
        row = self._session.execute(_READ, parameters).first()
        return None if row is None else _account(row)

    def has_movement(self, account_id: int, kind: MovementKind, reference: str) -> bool:
        return (
            self._session.execute(
                select(personal_account_movements.c.id).where(
                    personal_account_movements.c.account_id == account_id,
                    personal_account_movements.c.kind == kind.value,
                    personal_account_movements.c.reference == reference,
                )
            ).first()
            is not None
        )

    def move(
        self,
        account: AccountRow,
        movement: Movement,
        *,
        at: dt.datetime,
        by: str,
        source: str = "",
        settlement_id: str | None = None,
    ) -> AccountRow:
        """Apply one movement to a locked account; refuses a debit over the balance."""
        after = apply(account.balance, movement)
        self._session.execute(
            personal_account_movements.insert().values(
                account_id=account.id,
                kind=movement.kind.value,
                amount_fen=movement.amount.fen,
                balance_after_fen=after.fen,
                source=source[:64],
                reference=movement.reference[:64],
                settlement_id=settlement_id,
                occurred_at=at,
                recorded_by=by[:64],
            )
        )
        self._session.execute(
            update(personal_accounts)
            .where(personal_accounts.c.id == account.id)
            .values(balance_fen=after.fen, updated_at=at)
        )
        return AccountRow(
            account.id, account.person_id, account.insurance_type, account.year, after
        )

    def movements(self, account_id: int) -> list[MovementRow]:
        rows = self._session.execute(
            select(personal_account_movements)
            .where(personal_account_movements.c.account_id == account_id)
            .order_by(personal_account_movements.c.id)
        ).all()
        return [_movement(r) for r in rows]

    def debit_of_settlement(self, settlement_id: str) -> MovementRow | None:
        row = self._session.execute(
            select(personal_account_movements, personal_accounts.c.id.label("acc"))
            .join(personal_accounts)
            .where(
                personal_account_movements.c.kind == MovementKind.DEBIT.value,
                personal_account_movements.c.settlement_id == settlement_id,
            )
        ).first()
        return None if row is None else _movement(row)

    def account_of_debit(self, settlement_id: str) -> AccountRow | None:
        row = self._session.execute(
            select(personal_accounts)
            .join(personal_account_movements)
            .where(
                personal_account_movements.c.kind == MovementKind.DEBIT.value,
                personal_account_movements.c.settlement_id == settlement_id,
            )
        ).first()
        return None if row is None else _account(row)

    # --- 家庭共济 bindings ---------------------------------------------------------------

    def family_bindings(self, member_person_id: int) -> list[FamilyBinding]:
        rows = self._session.execute(
            select(family_account_bindings)
            .where(family_account_bindings.c.member_person_id == member_person_id)
            .order_by(family_account_bindings.c.valid_from)
        ).all()
        return [_binding(r) for r in rows]

    def add_family_binding(self, binding: FamilyBinding, *, at: dt.datetime, by: str) -> None:
        self._session.execute(
            family_account_bindings.insert().values(
                id=binding.id,
                holder_person_id=binding.holder_person_id,
                member_person_id=binding.member_person_id,
                relation=binding.relation.value,
                valid_from=binding.valid_from,
                valid_until=binding.valid_until,
                reference=binding.reference[:64],
                recorded_at=at,
                recorded_by=by[:64],
            )
        )


def _binding(row: Any) -> FamilyBinding:
    return FamilyBinding(
        row.id,
        row.holder_person_id,
        row.member_person_id,
        FamilyRelation(row.relation),
        row.valid_from,
        row.valid_until,
        row.reference,
    )
