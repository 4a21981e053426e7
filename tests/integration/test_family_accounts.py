"""家庭共济 (family mutual aid) through the hospital service, committed for real: 李某某
(职工医保, 衡阳县) registers her spouse 谢某某 from 2026-01-01; his stay at 博白 paid "from the
family account" debits her account, the reversal gives it back to her, and her own stay at
南华附一 settling at the same moment never overdraws the one balance. Without a binding valid
on the day, nothing is written.

The 430400 employee inpatient scheme allows family payment from 2022-01-01 (policies/430400/
employee/inpatient.yaml, ``personal_account.family_mutual_aid``, after 国办发〔2021〕14号), in
the same scope as the person's own account (政策范围内个人负担).
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from concurrency_support import at_once
from hospital_support import (
    BOBAI,
    NANHUA,
    PERSON_ID,
    UNFILED_CARD,
    UNFILED_ID,
    XIE_CARD,
    XIE_LINES,
    at,
    build_world,
    fee_inputs,
)
from yidi.accounts import commands as accounts
from yidi.accounts.model import MovementKind
from yidi.bootstrap import Container
from yidi.encounter.commands import (
    AdmissionRequest,
    Credential,
    FamilyUse,
    HospitalService,
    SettlementRecord,
)
from yidi.kernel.access import Caller
from yidi.kernel.errors import InvalidInput, Refused, YidiError
from yidi.kernel.insurance import InsuranceType
from yidi.kernel.money import Money, money_sum
from yidi.platform.tables import audit_log, family_account_bindings, settlements


@pytest.fixture
def committed(committed: Container) -> Container:
    build_world(committed)
    return committed


def _bind(container: Container, valid_from: dt.date = dt.date(2026, 1, 1)) -> str:
    return accounts.bind_family(
        container.uow(),
        container.clock,
        holder_id_number=UNFILED_ID,
        member_id_number=PERSON_ID,
        relation="spouse",
        valid_from=valid_from,
        reference="JT-2026-001",
        actor="hengyang",
        role="agency_handler",
        region_code="430400",
    ).id


def _credit(container: Container, amount: str, reference: str) -> None:
    accounts.credit(
        container.uow(),
        container.clock,
        id_number=UNFILED_ID,
        year=2026,
        amount=amount,
        reference=reference,
        source="单位缴费划入",
        actor="test",
    )


def _holder_balance(container: Container) -> tuple[Money, list[tuple[MovementKind, Money]]]:
    with container.uow() as uow:
        person_id = uow.hospital.person_id(UNFILED_ID)
        assert person_id is not None
        person = uow.hospital.person_by_internal_id(person_id)
        assert person is not None
        view = accounts.read(uow, person_id, person, 2026)
    return view.balance, [(m.kind, m.amount) for m in view.movements]


def _discharged(service: HospitalService, caller: Caller, card: str, day: int) -> tuple[str, Money]:
    encounter = service.admit(
        caller,
        AdmissionRequest(
            credential=Credential("03", card),
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


def _count(container: Container, table: object) -> int:
    with container.uow() as uow:
        query = select(func.count()).select_from(table)  # type: ignore[arg-type]
        return int(uow.session.execute(query).scalar_one())


def test_a_relatives_stay_is_paid_from_the_holders_account_and_given_back(
    committed: Container,
) -> None:
    service = HospitalService(committed.uow, committed.clock)
    _bind(committed)
    _credit(committed, "100.00", "V-1")
    stay, total = _discharged(service, BOBAI, XIE_CARD, 21)
    pre = service.pre_settle(BOBAI, stay, total, family=FamilyUse())
    assert pre.amounts["personal_account_paid"] == Money("100.00")
    assert _holder_balance(committed)[0] == Money("100.00")  # the pre-settlement writes nothing
    settled = service.settle(BOBAI, stay, total, family=FamilyUse())
    assert settled.amounts["personal_account_paid"] == Money("100.00")
    assert settled.amounts["cash_paid"] == settled.amounts["patient_share"] - Money("100.00")
    assert settled.account_balance_after == Money("0.00")
    balance, moves = _holder_balance(committed)
    assert balance == Money("0.00") and moves[-1] == (MovementKind.DEBIT, Money("100.00"))
    with committed.uow() as uow:
        own = uow.accounts.read(
            uow.hospital.person_id(PERSON_ID) or 0, InsuranceType.EMPLOYEE, 2026
        )
        audits = uow.session.execute(
            select(audit_log.c.subject, audit_log.c.reason).where(
                audit_log.c.action == "account.family_debit"
            )
        ).all()
    assert own is None  # his own account is untouched (none was ever opened)
    assert len(audits) == 1 and str(settled.settlement_id) in audits[0].reason
    assert settled.settlement_id is not None
    reversal = service.reverse(BOBAI, stay, settled.settlement_id)
    assert reversal.account_balance_after == Money("100.00")
    assert _holder_balance(committed) == (
        Money("100.00"),
        [
            (MovementKind.CREDIT, Money("100.00")),
            (MovementKind.DEBIT, Money("100.00")),
            (MovementKind.RESTORE, Money("100.00")),
        ],
    )


def test_without_a_binding_valid_that_day_nothing_is_written(committed: Container) -> None:
    service = HospitalService(committed.uow, committed.clock)
    _credit(committed, "100.00", "V-1")
    stay, total = _discharged(service, BOBAI, XIE_CARD, 21)
    with pytest.raises(Refused) as unbound:
        service.settle(BOBAI, stay, total, family=FamilyUse())
    assert unbound.value.code == "ACCOUNT_FAMILY_NOT_BOUND" and "家庭共济" in unbound.value.message
    _bind(committed, valid_from=dt.date(2026, 12, 1))  # from after his discharge
    with pytest.raises(Refused) as later:
        service.settle(BOBAI, stay, total, family=FamilyUse())
    assert later.value.code == "ACCOUNT_FAMILY_NOT_BOUND"
    assert _count(committed, settlements) == 0
    assert _holder_balance(committed)[0] == Money("100.00")


def test_the_binding_rules_and_its_retry(committed: Container) -> None:
    first = _bind(committed)
    assert _bind(committed) == first  # the same binding again: the first one
    assert _count(committed, family_account_bindings) == 1
    with pytest.raises(Refused) as overlap:
        _bind(committed, valid_from=dt.date(2026, 6, 1))
    assert overlap.value.code == "ACCOUNT_FAMILY_BINDING_OVERLAPS"
    cases: list[tuple[dict[str, str], str]] = [
        ({"member_id_number": UNFILED_ID}, "ACCOUNT_FAMILY_SELF"),
        ({"relation": "cousin"}, "ACCOUNT_FAMILY_RELATION_INVALID"),
    ]
    for change, code in cases:
        fields = {
            "holder_id_number": UNFILED_ID,
            "member_id_number": PERSON_ID,
            "relation": "配偶",
        } | change
        with pytest.raises((InvalidInput, Refused)) as refused:
            accounts.bind_family(
                committed.uow(),
                committed.clock,
                valid_from=dt.date(2027, 1, 1),
                reference="JT-X",
                actor="hengyang",
                **fields,
            )
        assert refused.value.code == code
    assert _count(committed, family_account_bindings) == 1
    with committed.uow() as uow:
        audited = uow.session.execute(
            select(func.count())
            .select_from(audit_log)
            .where(audit_log.c.action == "account.family_bind")
        ).scalar_one()
    assert audited == 1


def test_the_holder_and_the_relative_settling_at_once_never_overdraw(
    committed: Container,
) -> None:
    """Her own stay (南华附一) and his family-paid stay (博白) at the same moment, each share
    larger than the balance: the balance is spent exactly once and never goes below zero."""
    service = HospitalService(committed.uow, committed.clock)
    _bind(committed)
    rounds = 2
    for round_number in range(rounds):
        _credit(committed, "150.00", f"V-C{round_number}")
        day = 21 + 2 * round_number
        hers = _discharged(service, NANHUA, UNFILED_CARD, day)
        his = _discharged(service, BOBAI, XIE_CARD, day)
        calls = [
            lambda hers=hers: service.settle(NANHUA, hers[0], hers[1], use_account=True),
            lambda his=his: service.settle(BOBAI, his[0], his[1], family=FamilyUse()),
        ]
        results: list[SettlementRecord]
        results, errors = at_once(calls, catching=(YidiError,))
        assert errors == [] and len(results) == 2
        assert all(r.amounts["patient_share"] > Money("150.00") for r in results)
        paid = sorted(r.amounts["personal_account_paid"] for r in results)
        assert paid == [Money("0.00"), Money("150.00")]
    balance, moves = _holder_balance(committed)
    assert balance == Money("0.00")
    credits = money_sum([a for k, a in moves if k is MovementKind.CREDIT])
    debits = money_sum([a for k, a in moves if k is MovementKind.DEBIT])
    assert credits == Money(150 * rounds) and debits == credits


def test_cli_family_bind(committed: Container, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from yidi.entrypoints.cli import context
    from yidi.entrypoints.cli.main import app

    monkeypatch.setattr(context, "open_container", lambda **_: committed)
    runner = CliRunner()
    command = ["account", "family-bind", UNFILED_ID, PERSON_ID, "配偶", "--reference", "JT-9"]
    ok = runner.invoke(app, [*command, "--from", "2026-01-01"])
    assert ok.exit_code == 0, ok.output
    assert "配偶" in ok.output and "2026-01-01" in ok.output
    bad = runner.invoke(app, [*command, "--from", "2026-13-01"])
    assert bad.exit_code == 1 and "ACCOUNT_FAMILY_DATES_INVALID" in bad.output
    overlap = runner.invoke(app, [*command, "--from", "2026-03-01"])
    assert overlap.exit_code == 1 and "ACCOUNT_FAMILY_BINDING_OVERLAPS" in overlap.output
    assert _count(committed, family_account_bindings) == 1
