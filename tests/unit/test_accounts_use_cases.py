"""Personal accounts (个人账户) on the in-memory unit of work (``fakes_accounts``): the
agency's credits, a settlement's debit through the port, and the scoped read."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from fakes_accounts import AccountsFakeDatabase, accounts_unit

from filing_support import HENGYANG, ZHENGZHOU
from hospital_support import PENG, XIE
from yidi.accounts import commands as accounts
from yidi.accounts.model import Movement, MovementKind
from yidi.kernel.access import Principal, Role
from yidi.kernel.clock import CHINA_TZ, FixedClock
from yidi.kernel.errors import Conflict, InvalidInput, NotFound, Refused
from yidi.kernel.insurance import InsuranceType
from yidi.kernel.money import Money

CLOCK = FixedClock(dt.datetime(2026, 11, 20, 10, 0, tzinfo=CHINA_TZ))
XIE_NO = "P430421000000001"
RESIDENT = dataclasses.replace(
    PENG, insurance_type=InsuranceType.RESIDENT, psn_no="P640104000000002"
)


@pytest.fixture
def db() -> AccountsFakeDatabase:
    db = AccountsFakeDatabase()
    db.add_person(dataclasses.replace(XIE, psn_no=XIE_NO))
    db.add_person(RESIDENT)
    return db


def _credit(db: AccountsFakeDatabase, amount: str, reference: str, id_number: str = XIE.id_number):  # type: ignore[no-untyped-def]
    return accounts.credit(
        accounts_unit(db),
        CLOCK,
        id_number=id_number,
        year=2026,
        amount=amount,
        reference=reference,
        source="agency",
        actor="hengyang",
        role="agency_handler",
        region_code="430400",
    )


def test_a_credit_moves_money_once_and_a_retry_with_the_same_reference_moves_nothing(
    db: AccountsFakeDatabase,
) -> None:
    view = _credit(db, "1200.00", "HR-2026-01")
    assert view.balance == Money("1200.00")
    assert [(m.kind, m.amount, m.balance_after) for m in view.movements] == [
        (MovementKind.CREDIT, Money("1200.00"), Money("1200.00"))
    ]
    retried = _credit(db, "1200.00", "HR-2026-01")
    assert retried.balance == Money("1200.00") and len(retried.movements) == 1
    assert db.commits == 1 and [e.action for e in db.audit] == ["account.credit"]
    with pytest.raises(Conflict) as reused:
        _credit(db, "900.00", "HR-2026-01")
    assert reused.value.code == "ACCOUNT_CREDIT_REFERENCE_USED"
    second = _credit(db, "300.50", "HR-2026-02")
    assert second.balance == Money("1500.50")
    assert db.audit[-1].subject == f"account:{XIE_NO}:2026"


def test_bad_credits_are_refused_before_anything_is_written(db: AccountsFakeDatabase) -> None:
    with pytest.raises(InvalidInput):
        _credit(db, "-5", "HR-X")
    with pytest.raises(InvalidInput):
        _credit(db, "1.001", "HR-X")
    with pytest.raises(Refused) as resident:
        _credit(db, "100", "HR-X", id_number=RESIDENT.id_number)
    assert resident.value.code == "ACCOUNT_NOT_EMPLOYEE"
    assert db.account_rows == {} and db.movement_rows == [] and db.audit == []


def test_a_debit_through_the_port_lowers_the_balance_and_never_overdraws(
    db: AccountsFakeDatabase,
) -> None:
    _credit(db, "500.00", "HR-2026-01")
    xie_id = next(pid for pid, person in db.persons.items() if person.psn_no == XIE_NO)
    at = CLOCK.now()
    with accounts_unit(db) as uow:
        account = uow.accounts.lock(xie_id, InsuranceType.EMPLOYEE, 2026, at)
        uow.accounts.move(
            account, Movement(MovementKind.DEBIT, Money("320.00"), "S1"), at=at, by="bobai"
        )
        uow.commit()
    with accounts_unit(db) as uow:
        account = uow.accounts.lock(xie_id, InsuranceType.EMPLOYEE, 2026, at)
        with pytest.raises(Refused) as overdrawn:
            uow.accounts.move(
                account, Movement(MovementKind.DEBIT, Money("180.01"), "S2"), at=at, by="bobai"
            )
        assert overdrawn.value.code == "ACCOUNT_OVERDRAWN"
    xie_principal = Principal("laoxie", Role.INSURED_PERSON, id_number=XIE.id_number)
    view = accounts.read_scoped(accounts_unit(db), CLOCK, xie_principal, XIE_NO, 2026)
    assert view.balance == Money("180.00")
    assert [m.kind for m in view.movements] == [MovementKind.CREDIT, MovementKind.DEBIT]
    assert db.audit[-1].action == "account.read"


def test_only_the_region_agency_and_the_person_read_an_account(db: AccountsFakeDatabase) -> None:
    _credit(db, "100.00", "HR-2026-01")
    assert accounts.read_scoped(accounts_unit(db), CLOCK, HENGYANG, XIE_NO, 2026).balance == Money(
        "100.00"
    )
    someone = Principal("other", Role.INSURED_PERSON, id_number=PENG.id_number)
    for outsider in (ZHENGZHOU, someone):
        with pytest.raises(NotFound):
            accounts.read_scoped(accounts_unit(db), CLOCK, outsider, XIE_NO, 2026)
    with pytest.raises(NotFound):
        accounts.read_scoped(accounts_unit(db), CLOCK, HENGYANG, "P-UNKNOWN", 2026)
    # A year with no account reads as an empty one.
    empty = accounts.read_scoped(accounts_unit(db), CLOCK, HENGYANG, XIE_NO, 2025)
    assert empty.balance == Money.zero() and empty.movements == []
