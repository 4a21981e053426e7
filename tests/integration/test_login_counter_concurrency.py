"""Wrong passwords sent at once from many connections (as several worker processes would) are
all counted, and a reset link used twice at once sets the password once.

Real concurrent transactions (PostgreSQL: row locks in its own schema; SQLite: serialised
writers in its own file), committed for real.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from hospital_support import committed_container
from yidi.auth.commands import SignInPolicy, authenticate, complete_reset, create_user
from yidi.auth.users import UserAdminService
from yidi.bootstrap import Container
from yidi.kernel.access import Principal, Role
from yidi.kernel.audit import set_client_address
from yidi.kernel.errors import YidiError

SCHEMA = "login_counter_concurrency"
PASSWORD = "lantern-orchard-47"


@pytest.fixture
def committed(database_url: str, tmp_path: Path, migrated_engine: Engine) -> Iterator[Container]:
    with committed_container(database_url, migrated_engine, tmp_path, SCHEMA) as container:
        yield container


def _at_once(calls: list[Callable[[], object]]) -> list[str]:
    codes: list[str] = []
    start = threading.Barrier(len(calls))

    def run(call: Callable[[], object]) -> None:
        start.wait()
        try:
            call()
            codes.append("OK")
        except YidiError as exc:
            codes.append(exc.code)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return codes


def test_concurrent_failures_are_all_counted(committed: Container) -> None:
    create_user(committed.uow(), "busy", PASSWORD, Principal("busy", Role.AGENCY_HANDLER, "430400"))
    policy = SignInPolicy(max_failures=100, address_max_failures=100, demo_mode=True)

    def wrong() -> object:
        set_client_address("10.2.2.2")  # each thread is one request from that address
        return authenticate(committed.uow(), committed.clock, "busy", "guess", policy=policy)

    codes = _at_once([wrong] * 6)
    assert codes == ["LOGIN_FAILED"] * 6
    with committed.uow() as uow:
        pair = uow.users.counter("busy", "10.2.2.2")
        per_address = uow.users.counter("", "10.2.2.2")
    assert pair is not None and pair.failures == 6
    assert per_address is not None and per_address.failures == 6


def test_a_reset_link_used_twice_at_once_sets_one_password(committed: Container) -> None:
    create_user(
        committed.uow(), "twice", PASSWORD, Principal("twice", Role.AGENCY_HANDLER, "430400")
    )
    admin = Principal("root", Role.ADMINISTRATOR)
    link = UserAdminService(committed.uow, committed.clock).issue_reset(admin, "twice")
    choices = ["amber-field-1977", "quiet-harbour-2031"]
    codes = _at_once(
        [
            (
                lambda p=p: complete_reset(
                    committed.uow(), committed.clock, link.token, p, min_length=12
                )
            )
            for p in choices
        ]
    )
    assert sorted(codes) == ["OK", "RESET_LINK_INVALID"]
    policy = SignInPolicy(demo_mode=True)
    works = []
    for password in choices:
        try:
            authenticate(committed.uow(), committed.clock, "twice", password, policy=policy)
            works.append(password)
        except YidiError:
            pass
    assert len(works) == 1
