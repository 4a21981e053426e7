"""What the personal-account use cases (个人账户) need from storage, as Protocols, and the
rows they read. ``yidi.accounts.sql.AccountRepository`` (``uow.accounts`` of
``yidi.platform.uow.SqlUnitOfWork``) implements them on the database;
``tests/unit/fakes_accounts.py`` implements them in memory.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from yidi.accounts.model import FamilyBinding, Movement, MovementKind
from yidi.kernel.insurance import InsuranceType
from yidi.kernel.money import Money
from yidi.kernel.unit_of_work import AuditedTransaction
from yidi.reference.model import Person


@dataclass(frozen=True, slots=True)
class AccountRow:
    id: int
    person_id: int
    insurance_type: str
    year: int
    balance: Money


@dataclass(frozen=True, slots=True)
class MovementRow:
    kind: MovementKind
    amount: Money
    balance_after: Money
    source: str
    reference: str
    settlement_id: str | None
    occurred_at: dt.datetime
    recorded_by: str


class AccountRepository(Protocol):
    """One account per person, insurance type and year; its movements in order."""

    def lock(
        self, person_id: int, insurance_type: InsuranceType, year: int, at: dt.datetime
    ) -> AccountRow: ...
    def read(
        self, person_id: int, insurance_type: InsuranceType, year: int
    ) -> AccountRow | None: ...
    def move(
        self,
        account: AccountRow,
        movement: Movement,
        *,
        at: dt.datetime,
        by: str,
        source: str = "",
        settlement_id: str | None = None,
    ) -> AccountRow: ...
    def movements(self, account_id: int) -> list[MovementRow]: ...
    def family_bindings(self, member_person_id: int) -> list[FamilyBinding]: ...
    def add_family_binding(self, binding: FamilyBinding, *, at: dt.datetime, by: str) -> None: ...


class PersonDirectory(Protocol):
    """Insured persons by ID number, internal id and 人员编号."""

    def person_id(self, id_number: str) -> int | None: ...
    def person_by_internal_id(self, person_id: int) -> Person | None: ...
    def person_by_psn_no(self, psn_no: str) -> tuple[int, Person] | None: ...


class AccountsReading(Protocol):
    """A transaction in which accounts are read (the caller's)."""

    @property
    def accounts(self) -> AccountRepository: ...


class AccountsUnitOfWork(AccountsReading, AuditedTransaction, Protocol):
    @property
    def hospital(self) -> PersonDirectory: ...

    def __enter__(self) -> AccountsUnitOfWork: ...
