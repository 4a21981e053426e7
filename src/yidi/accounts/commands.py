"""Personal accounts (个人账户): the agency's credits (划入) and the balance and movements
the agency and the insured person read. Settlement debits and reversal restorations are
written by :class:`yidi.encounter.commands.HospitalService` in the settlement's transaction."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from yidi.accounts.model import (
    FamilyBinding,
    FamilyRelation,
    Movement,
    MovementKind,
    account_eligible,
    check_binding,
    parse_amount,
    require_reference,
)
from yidi.accounts.ports import AccountsReading, AccountsUnitOfWork, MovementRow
from yidi.kernel.access import Action, Principal, Role
from yidi.kernel.audit import as_utc, audit_entry, audit_entry_by
from yidi.kernel.clock import Clock
from yidi.kernel.errors import Conflict, NotFound, Refused
from yidi.kernel.identity import ResidentId
from yidi.kernel.money import Money
from yidi.reference.model import Person


@dataclass(frozen=True)
class AccountView:
    person: Person
    year: int
    balance: Money
    movements: list[MovementRow]


def _insured(uow: AccountsUnitOfWork, id_number: str) -> tuple[int, Person]:
    number = ResidentId.parse(id_number).number
    person_id = uow.hospital.person_id(number)
    person = uow.hospital.person_by_internal_id(person_id) if person_id is not None else None
    if person_id is None or person is None:
        raise NotFound(
            "PERSON_NOT_FOUND", "参保人员不存在", "no insured person with this ID number"
        )
    return person_id, person


def _person(uow: AccountsUnitOfWork, id_number: str) -> tuple[int, Person]:
    person_id, person = _insured(uow, id_number)
    if not account_eligible(person.insurance_type):
        raise Refused(
            "ACCOUNT_NOT_EMPLOYEE",
            f"{person.insurance_type.label_zh}不设个人账户，只有职工医保参保人有个人账户",
            "only employee insurance keeps a personal account",
            field="person",
        )
    return person_id, person


def _year(year: int) -> int:
    if not 2000 <= year <= 2100:
        raise Refused("ACCOUNT_YEAR_INVALID", f"年度 {year} 无效", f"invalid year {year}")
    return year


def credit(
    uow: AccountsUnitOfWork,
    clock: Clock,
    *,
    id_number: str,
    year: int,
    amount: object,
    reference: str,
    source: str,
    actor: str,
    role: str = "system",
    region_code: str | None = None,
) -> AccountView:
    """划入: pay ``amount`` into the person's account for ``year``. The same reference with
    the same amount is a retry and moves nothing; with another amount it is refused."""
    money = parse_amount(amount)
    ref = require_reference(reference)
    _year(year)
    with uow:
        person_id, person = _person(uow, id_number)
        now = clock.now()
        account = uow.accounts.lock(person_id, person.insurance_type, year, as_utc(now))
        existing = [
            m
            for m in uow.accounts.movements(account.id)
            if m.kind is MovementKind.CREDIT and m.reference == ref
        ]
        if existing:
            if existing[0].amount != money:
                raise Conflict(
                    "ACCOUNT_CREDIT_REFERENCE_USED",
                    f"凭证号 {ref} 已划入 {existing[0].amount} 元，不能再以 {money} 元划入",
                    f"reference {ref} was already credited with {existing[0].amount}",
                    field="reference",
                )
        else:
            account = uow.accounts.move(
                account,
                Movement(MovementKind.CREDIT, money, ref),
                at=as_utc(now),
                by=actor,
                source=source,
            )
            uow.audit.append(
                audit_entry(
                    now,
                    actor=actor,
                    role=role,
                    region_code=region_code,
                    action="account.credit",
                    subject=f"account:{person.psn_no}:{year}",
                    reason=f"划入 {money} 元 凭证 {ref}",
                )
            )
            uow.commit()
        return AccountView(person, year, account.balance, uow.accounts.movements(account.id))


def read(uow: AccountsReading, person_id: int, person: Person, year: int) -> AccountView:
    """Balance and movements (inside the caller's transaction; scoping is the caller's)."""
    _year(year)
    if not account_eligible(person.insurance_type):
        return AccountView(person, year, Money.zero(), [])
    account = uow.accounts.read(person_id, person.insurance_type, year)
    if account is None:
        return AccountView(person, year, Money.zero(), [])
    return AccountView(person, year, account.balance, uow.accounts.movements(account.id))


def read_scoped(
    uow: AccountsUnitOfWork, clock: Clock, principal: Principal, psn_no: str, year: int
) -> AccountView:
    """The agency reads the accounts of its region's persons, a person only their own; any
    other answer is the same "not found" a missing person gets. The full read is audited."""
    principal.require(Action.PERSONAL_ACCOUNT_READ)
    with uow:
        found = uow.hospital.person_by_psn_no(psn_no)
        in_scope = found is not None and (
            principal.covers_region(found[1].insured_region_code)
            if principal.role is Role.AGENCY_HANDLER
            else bool(principal.id_number) and principal.id_number == found[1].id_number
        )
        if found is None or not in_scope:
            raise NotFound("ACCOUNT_NOT_FOUND", "未找到该人员的个人账户", "account not found")
        view = read(uow, found[0], found[1], year)
        uow.audit.append(
            audit_entry_by(
                principal, clock.now(), action="account.read", subject=f"account:{psn_no}:{year}"
            )
        )
        uow.commit()
        return view


def bind_family(
    uow: AccountsUnitOfWork,
    clock: Clock,
    *,
    holder_id_number: str,
    member_id_number: str,
    relation: str,
    valid_from: dt.date,
    valid_until: dt.date | None = None,
    reference: str,
    actor: str,
    role: str = "system",
    region_code: str | None = None,
) -> FamilyBinding:
    """家庭共济登记: from ``valid_from`` on, the holder's personal account may pay for the
    member (spouse, parent or child). The same binding again is a retry; an overlapping
    one is refused. Audited on the holder's account."""
    kind = FamilyRelation.parse(relation)
    ref = require_reference(reference)
    with uow:
        holder_id, holder = _insured(uow, holder_id_number)
        member_id, member = _insured(uow, member_id_number)
        existing = uow.accounts.family_bindings(member_id)
        for other in existing:
            same = (other.holder_person_id, other.relation, other.valid_from, other.valid_until)
            if same == (holder_id, kind, valid_from, valid_until):
                return other
        check_binding(
            holder_insurance=holder.insurance_type,
            holder_id=holder_id,
            member_id=member_id,
            valid_from=valid_from,
            valid_until=valid_until,
            existing=existing,
        )
        binding = FamilyBinding(
            f"FB{uuid.uuid4().hex[:24].upper()}",
            holder_id,
            member_id,
            kind,
            valid_from,
            valid_until,
            ref,
        )
        now = clock.now()
        uow.accounts.add_family_binding(binding, at=as_utc(now), by=actor)
        uow.audit.append(
            audit_entry(
                now,
                actor=actor,
                role=role,
                region_code=region_code,
                action="account.family_bind",
                subject=f"account:{holder.psn_no}",
                reason=f"家庭共济 {kind.label_zh} person:{member.psn_no} 自 {valid_from.isoformat()}"
                + (f" 至 {valid_until.isoformat()}" if valid_until else "")
                + f" 凭证 {ref}",
            )
        )
        uow.commit()
        return binding
