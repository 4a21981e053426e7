"""Wrong passwords sent at once from many connections (as several worker processes would) are
all counted, and a reset link used twice at once sets the password once.

Real concurrent transactions (PostgreSQL: row locks in its own schema; SQLite: serialised
writers in its own file), committed for real.
"""

from __future__ import annotations

from concurrency_support import outcome_codes
from yidi.auth.commands import SignInPolicy, authenticate, complete_reset, create_user
from yidi.auth.users import UserAdminService
from yidi.bootstrap import Container
from yidi.kernel.access import Principal, Role
from yidi.kernel.audit import set_client_address
from yidi.kernel.errors import YidiError

PASSWORD = "lantern-orchard-47"


def test_concurrent_failures_are_all_counted(committed: Container) -> None:
    create_user(committed.uow(), "busy", PASSWORD, Principal("busy", Role.AGENCY_HANDLER, "430400"))
    policy = SignInPolicy(max_failures=100, address_max_failures=100, demo_mode=True)

    def wrong() -> object:
        set_client_address("10.2.2.2")  # each thread is one request from that address
        return authenticate(committed.uow(), committed.clock, "busy", "guess", policy=policy)

    codes = outcome_codes([wrong] * 6)
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
    codes = outcome_codes(
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
