"""Personal accounts through the hospital service: a settlement pays from the balance under a
row lock, the reversal restores exactly that amount, and settlements at once never overdraw.

Committed for real (own schema on PostgreSQL, own file on SQLite) so the concurrent
transactions see each other, as in test_hospital_concurrency.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from hospital_support import (
    PENG_CARD,
    PENG_ID,
    XIE_LINES,
    at,
    build_world,
    fee_inputs,
)
from yidi.accounts import commands as accounts
from yidi.accounts.model import MovementKind
from yidi.bootstrap import Container
from yidi.encounter.commands import AdmissionRequest, Credential, HospitalService
from yidi.kernel.access import Caller
from yidi.kernel.errors import Conflict, InvalidInput, YidiError
from yidi.kernel.money import Money, money_sum
from yidi.platform.tables import personal_account_movements

NANHUA_1 = Caller("H43040000001", "nhfy1")
NANHUA_2 = Caller("H43040000002", "nhfy2")


@pytest.fixture
def committed(committed: Container) -> Container:
    build_world(committed)
    return committed


def _discharged(service: HospitalService, caller: Caller, day: int) -> tuple[str, Money]:
    encounter = service.admit(
        caller,
        AdmissionRequest(
            credential=Credential("03", PENG_CARD),
            med_type="21",
            admitted_at=at(day, 8),
            department_code="A03",
            diagnosis_codes=("K80.101",),
        ),
    )
    service.upload_fees(caller, encounter.id, fee_inputs(XIE_LINES[:6], at(day, 12)))
    service.discharge(caller, encounter.id, at(day, 18))
    detail = service.encounter_detail(caller, encounter.id)
    return encounter.id, money_sum([line.amount for line in detail.lines])


def _credit(container: Container, amount: str, reference: str) -> accounts.AccountView:
    return accounts.credit(
        container.uow(),
        container.clock,
        id_number=PENG_ID,
        year=2026,
        amount=amount,
        reference=reference,
        source="单位缴费划入",
        actor="test",
    )


def _movement_count(container: Container) -> int:
    with container.uow() as uow:
        return int(
            uow.session.execute(
                select(func.count()).select_from(personal_account_movements)
            ).scalar_one()
        )


def test_settle_pays_from_account_and_reversal_restores_exactly(committed: Container) -> None:
    service = HospitalService(committed.uow, committed.clock)
    assert _credit(committed, "100.00", "V-1").balance == Money("100.00")
    check = service.admission_check(NANHUA_1, Credential("03", PENG_CARD))
    assert check.account_balance == Money("100.00")
    encounter_id, total = _discharged(service, NANHUA_1, 21)
    pre = service.pre_settle(NANHUA_1, encounter_id, total, use_account=True)
    assert pre.amounts["personal_account_paid"] == Money("100.00")
    assert pre.account_balance_after == Money("0.00")
    settled = service.settle(NANHUA_1, encounter_id, total, use_account=True)
    acct_pay = settled.amounts["personal_account_paid"]
    assert acct_pay == Money("100.00")
    assert settled.amounts["cash_paid"] == settled.amounts["patient_share"] - acct_pay
    assert settled.account_balance_after == Money("0.00")
    assert settled.settlement_id is not None
    reversal = service.reverse(NANHUA_1, encounter_id, settled.settlement_id)
    assert reversal.account_balance_after == Money("100.00")
    with committed.uow() as uow:
        found = uow.hospital.person_by_psn_no(settled.psn_no)
        assert found is not None
        view = accounts.read(uow, found[0], found[1], 2026)
    assert view.balance == Money("100.00")
    assert [(m.kind, m.amount) for m in view.movements] == [
        (MovementKind.CREDIT, Money("100.00")),
        (MovementKind.DEBIT, Money("100.00")),
        (MovementKind.RESTORE, Money("100.00")),
    ]
    # Settled again without the account: cash only, the balance stays.
    again = service.settle(NANHUA_1, encounter_id, total)
    assert again.amounts["personal_account_paid"] == Money("0.00")
    assert again.account_balance_after == Money("100.00")


def test_concurrent_settlements_never_overdraw(committed: Container) -> None:
    """Two hospitals settle the same person at once, each share larger than the balance:
    exactly the balance is spent, once, and it never goes below zero."""
    service = HospitalService(committed.uow, committed.clock)
    results = []
    errors: list[BaseException] = []
    rounds = 3
    for round_number in range(rounds):
        _credit(committed, "150.00", f"V-C{round_number}")
        day = 21 + round_number
        pair = [_discharged(service, NANHUA_1, day), _discharged(service, NANHUA_2, day)]
        barrier = threading.Barrier(2)
        start = len(results)

        def run(
            caller: Caller,
            encounter_id: str,
            total: Money,
            barrier: threading.Barrier = barrier,
        ) -> None:
            try:
                barrier.wait(timeout=10)
                results.append(service.settle(caller, encounter_id, total, use_account=True))
            except BaseException as exc:
                errors.append(exc)

        threads = [
            threading.Thread(target=run, args=(caller, eid, total))
            for caller, (eid, total) in zip((NANHUA_1, NANHUA_2), pair, strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []
        these = results[start:]
        assert len(these) == 2
        assert all(r.amounts["patient_share"] > Money("150.00") for r in these)
        assert money_sum([r.amounts["personal_account_paid"] for r in these]) == Money("150.00")
        assert sorted(r.amounts["personal_account_paid"] for r in these) == [
            Money("0.00"),
            Money("150.00"),
        ]
        assert [r.account_balance_after for r in these] == [Money("0.00"), Money("0.00")]
    with committed.uow() as uow:
        found = uow.hospital.person_by_psn_no(results[0].psn_no)
        assert found is not None
        view = accounts.read(uow, found[0], found[1], 2026)
    assert view.balance == Money("0.00")
    debits = [m.amount for m in view.movements if m.kind is MovementKind.DEBIT]
    assert money_sum(debits) == Money(150 * rounds)
    assert all(not m.balance_after.is_negative() for m in view.movements)


def test_credits_racing_a_settlement_are_never_lost(committed: Container) -> None:
    """Credits at the same moment as settlements: each reads the locked balance, so no
    update is lost and the balance is exactly credits − debits."""
    service = HospitalService(committed.uow, committed.clock)
    _credit(committed, "100.00", "V-R0")
    pair = [_discharged(service, NANHUA_1, 21), _discharged(service, NANHUA_2, 21)]
    barrier = threading.Barrier(6)
    results = []
    errors: list[BaseException] = []

    def settle(caller: Caller, encounter_id: str, total: Money) -> None:
        try:
            barrier.wait(timeout=10)
            results.append(service.settle(caller, encounter_id, total, use_account=True))
        except BaseException as exc:
            errors.append(exc)

    def credit(number: int) -> None:
        try:
            barrier.wait(timeout=10)
            _credit(committed, "10.00", f"V-R{number}")
        except BaseException as exc:
            errors.append(exc)

    threads = [
        threading.Thread(target=settle, args=(caller, eid, total))
        for caller, (eid, total) in zip((NANHUA_1, NANHUA_2), pair, strict=True)
    ] + [threading.Thread(target=credit, args=(n,)) for n in range(1, 5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    paid = money_sum([r.amounts["personal_account_paid"] for r in results])
    with committed.uow() as uow:
        found = uow.hospital.person_by_psn_no(results[0].psn_no)
        assert found is not None
        view = accounts.read(uow, found[0], found[1], 2026)
    assert view.balance == Money("140.00") - paid
    assert not view.balance.is_negative()
    credits = [m for m in view.movements if m.kind is MovementKind.CREDIT]
    assert len(credits) == 5
    # Each movement's balance after follows from the one before: no update was lost.
    running = Money.zero()
    for m in view.movements:
        running = running - m.amount if m.kind is MovementKind.DEBIT else running + m.amount
        assert m.balance_after == running


@pytest.mark.parametrize(
    ("amount", "reference", "code"),
    [
        ("-5.00", "V-9", "ACCOUNT_AMOUNT_NOT_POSITIVE"),
        ("1.001", "V-9", "ACCOUNT_AMOUNT_NOT_FEN"),
        ("10.00", "  ", "ACCOUNT_REFERENCE_INVALID"),
    ],
)
def test_bad_credit_writes_nothing(
    committed: Container, amount: str, reference: str, code: str
) -> None:
    with pytest.raises(InvalidInput) as err:
        _credit(committed, amount, reference)
    assert err.value.code == code
    assert err.value.message  # Chinese message
    assert _movement_count(committed) == 0


def test_credit_retry_is_idempotent_and_reference_reuse_refused(committed: Container) -> None:
    assert _credit(committed, "20.00", "V-3").balance == Money("20.00")
    assert _credit(committed, "20.00", "V-3").balance == Money("20.00")
    with pytest.raises(Conflict) as err:
        _credit(committed, "30.00", "V-3")
    assert err.value.code == "ACCOUNT_CREDIT_REFERENCE_USED"
    assert _movement_count(committed) == 1


def test_unknown_person_refused(committed: Container) -> None:
    from hospital_support import UNFILED_ID

    with pytest.raises(YidiError) as err:
        accounts.credit(
            committed.uow(),
            committed.clock,
            id_number=UNFILED_ID[:-4] + "0000",
            year=2026,
            amount="10.00",
            reference="V-4",
            source="",
            actor="test",
        )
    assert err.value.code
    assert _movement_count(committed) == 0


def test_cli_credit(committed: Container, monkeypatch: pytest.MonkeyPatch) -> None:
    from yidi.entrypoints.cli import context
    from yidi.entrypoints.cli.main import app

    monkeypatch.setattr(context, "open_container", lambda **_: committed)
    runner = CliRunner()
    ok = runner.invoke(app, ["account", "credit", PENG_ID, "2026", "88.80", "--reference", "V-5"])
    assert ok.exit_code == 0, ok.output
    assert "88.80" in ok.output
    bad = runner.invoke(app, ["account", "credit", PENG_ID, "2026", "1.001", "--reference", "V-6"])
    assert bad.exit_code == 1
    assert "ACCOUNT_AMOUNT_NOT_FEN" in bad.output
    assert _movement_count(committed) == 1
