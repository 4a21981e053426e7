"""In-memory implementation of the personal-account ports (``yidi.accounts.ports``), on top
of the encounter fakes in ``fakes.py`` (persons by ID number and 人员编号).

Accounts and movements are kept as the rows the SQL repository answers; a debit over the
balance is refused by the same ``apply`` rule.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from fakes import FakeDatabase, FakeUnitOfWork

from yidi.accounts.model import FamilyBinding, Movement, apply
from yidi.accounts.ports import AccountRow, AccountsUnitOfWork, MovementRow
from yidi.kernel.insurance import InsuranceType
from yidi.kernel.money import Money


@dataclass
class AccountsFakeDatabase(FakeDatabase):
    account_rows: dict[tuple[int, str, int], AccountRow] = field(default_factory=dict)
    #: (account id, movement) in the order they were written
    movement_rows: list[tuple[int, MovementRow]] = field(default_factory=list)
    binding_rows: list[FamilyBinding] = field(default_factory=list)


class FakeAccountRepository:
    def __init__(self, db: AccountsFakeDatabase) -> None:
        self.db = db

    def lock(
        self, person_id: int, insurance_type: InsuranceType, year: int, at: dt.datetime
    ) -> AccountRow:
        key = (person_id, insurance_type.value, year)
        if key not in self.db.account_rows:
            self.db.account_rows[key] = AccountRow(
                len(self.db.account_rows) + 1, person_id, insurance_type.value, year, Money.zero()
            )
        return self.db.account_rows[key]

    def read(self, person_id: int, insurance_type: InsuranceType, year: int) -> AccountRow | None:
        return self.db.account_rows.get((person_id, insurance_type.value, year))

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
        after = apply(account.balance, movement)
        self.db.movement_rows.append(
            (
                account.id,
                MovementRow(
                    movement.kind,
                    movement.amount,
                    after,
                    source,
                    movement.reference,
                    settlement_id,
                    at,
                    by,
                ),
            )
        )
        moved = AccountRow(
            account.id, account.person_id, account.insurance_type, account.year, after
        )
        self.db.account_rows[(account.person_id, account.insurance_type, account.year)] = moved
        return moved

    def movements(self, account_id: int) -> list[MovementRow]:
        return [m for owner, m in self.db.movement_rows if owner == account_id]

    def family_bindings(self, member_person_id: int) -> list[FamilyBinding]:
        return [b for b in self.db.binding_rows if b.member_person_id == member_person_id]

    def add_family_binding(self, binding: FamilyBinding, *, at: dt.datetime, by: str) -> None:
        self.db.binding_rows.append(binding)


class FakeAccountsUnitOfWork(FakeUnitOfWork):
    def __init__(self, db: AccountsFakeDatabase) -> None:
        super().__init__(db)
        self.accounts: FakeAccountRepository = FakeAccountRepository(db)  # type: ignore[assignment]

    def __enter__(self) -> FakeAccountsUnitOfWork:
        super().__enter__()
        return self


def accounts_unit(db: AccountsFakeDatabase) -> AccountsUnitOfWork:
    """A unit of work on ``db``, typed as the port (mypy checks that the fake implements it)."""
    return FakeAccountsUnitOfWork(db)
