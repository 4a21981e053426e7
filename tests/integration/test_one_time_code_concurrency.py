"""A one-time code sent at once from two connections registers one account, and wrong codes
sent at once are all counted (real concurrent transactions: PostgreSQL row locks in its own
schema; SQLite serialised writers in its own file)."""

from __future__ import annotations

import dataclasses
import logging

import pytest

from concurrency_support import outcome_codes
from hospital_support import UNFILED
from yidi.auth.registration import CitizenAccounts, CodePurpose
from yidi.bootstrap import Container

MOBILE = "13907341234"
PASSWORD = "lantern-orchard-47"


class _Outbox:
    def __init__(self) -> None:
        self.codes: list[str] = []

    def send(self, mobile: str, code: str, **_: object) -> None:
        self.codes.append(code)


@pytest.fixture
def citizens(committed: Container) -> tuple[CitizenAccounts, _Outbox]:
    with committed.uow() as uow:
        uow.reference.add_persons([dataclasses.replace(UNFILED, mobile=MOBILE)])
        uow.commit()
    outbox = _Outbox()
    return CitizenAccounts(committed.uow, committed.clock, outbox), outbox


def test_one_code_used_twice_at_once_registers_one_account(
    citizens: tuple[CitizenAccounts, _Outbox], committed: Container
) -> None:
    service, outbox = citizens
    challenge = service.request_code(CodePurpose.REGISTER, UNFILED.name, UNFILED.id_number, MOBILE)
    [code] = outbox.codes
    codes = outcome_codes(
        [
            (lambda name=name: service.register(challenge.token, code, name, PASSWORD))
            for name in ("first.try", "second.try")
        ]
    )
    assert sorted(codes) in (["CODE_INVALID", "OK"], ["ACCOUNT_EXISTS", "OK"])
    with committed.uow() as uow:
        assert uow.codes.account_of_person(UNFILED.id_number) is not None
        made = [n for n in ("first.try", "second.try") if uow.users.by_username(n)]
    assert len(made) == 1


def test_wrong_codes_at_once_are_all_counted(
    citizens: tuple[CitizenAccounts, _Outbox], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    service, outbox = citizens
    challenge = service.request_code(CodePurpose.RESET, UNFILED.name, UNFILED.id_number, MOBILE)
    wrong = "000000" if outbox.codes[0] != "000000" else "111111"
    codes = outcome_codes([lambda: service.reset_password(challenge.token, wrong, PASSWORD)] * 5)
    assert sorted(codes) == ["CODE_ATTEMPTS_EXCEEDED"] + ["CODE_INVALID"] * 4
    refused = outcome_codes(
        [lambda: service.reset_password(challenge.token, outbox.codes[0], PASSWORD)]
    )
    assert refused == ["CODE_ATTEMPTS_EXCEEDED"]  # the right code, after five wrong ones
