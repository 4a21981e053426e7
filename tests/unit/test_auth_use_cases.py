"""Sign-in, sessions, user administration and the gateway's credential check on the
in-memory unit of work (``fakes_auth``): no database, the real Argon2id hashes and
signature schemes."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from fakes_auth import AuthFakeDatabase, auth_unit, gateway_unit

from yidi.auth import commands as auth
from yidi.auth.gateway import GatewayAuthenticator, recent_refusals
from yidi.auth.users import Assignment, UserAdminService
from yidi.demo.world import load_world
from yidi.integrations.nhsa.envelope import GatewayRequest
from yidi.integrations.nhsa.gateway_auth import GatewayCredential, GatewayRefused, Scheme
from yidi.kernel.access import Principal, Role
from yidi.kernel.clock import CHINA_TZ, FixedClock
from yidi.kernel.errors import Conflict, InvalidInput, Unauthenticated, YidiError

NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=CHINA_TZ)
ADMIN = Principal("admin", Role.ADMINISTRATOR, display_name="系统管理员")
PASSWORD = "Lantern-Harbour-42"
POLICY = auth.SignInPolicy(max_failures=3, max_delay_minutes=15)


@pytest.fixture
def db() -> AuthFakeDatabase:
    db = AuthFakeDatabase()
    db.hospitals = {h.fixmedins_code: h for h in load_world().hospitals}
    return db


@pytest.fixture
def admin(db: AuthFakeDatabase) -> UserAdminService:
    return UserAdminService(lambda: auth_unit(db), FixedClock(NOW), password_min_length=12)


def _sign_in(db: AuthFakeDatabase, password: str, clock: FixedClock | None = None) -> Principal:
    return auth.authenticate(
        auth_unit(db), clock or FixedClock(NOW), "hy-clerk", password, policy=POLICY
    )


def test_an_administrator_creates_a_user_who_must_change_the_password_first(
    admin: UserAdminService, db: AuthFakeDatabase
) -> None:
    summary = admin.create(
        ADMIN, "hy-clerk", PASSWORD, Assignment("agency_handler", "衡阳经办", "430400")
    )
    assert (summary.role, summary.region_code, summary.active) == (
        Role.AGENCY_HANDLER,
        "430400",
        True,
    )
    assert summary.must_change_password
    stored = db.users["hy-clerk"]
    assert stored.password_hash.startswith("$argon2id$") and PASSWORD not in stored.password_hash
    assert db.audit[-1].action == "user.create" and db.audit[-1].actor == "admin"
    with pytest.raises(Conflict):
        admin.create(ADMIN, "hy-clerk", PASSWORD, Assignment("agency_handler", "", "430400"))
    with pytest.raises(InvalidInput) as unknown:
        admin.create(ADMIN, "cashier", PASSWORD, Assignment("hospital_cashier", "", None, "H0"))
    assert unknown.value.code == "HOSPITAL_UNKNOWN"
    principal = _sign_in(db, PASSWORD)
    assert principal.password_change_required and principal.region_code == "430400"


def test_wrong_passwords_hold_the_address_back_until_an_administrator_unlocks(
    admin: UserAdminService, db: AuthFakeDatabase
) -> None:
    admin.create(ADMIN, "hy-clerk", PASSWORD, Assignment("agency_handler", "", "430400"))
    for _ in range(POLICY.max_failures):
        with pytest.raises(Unauthenticated) as wrong:
            _sign_in(db, "not-the-password")
        assert wrong.value.code == "LOGIN_FAILED"
    with pytest.raises(YidiError) as delayed:
        _sign_in(db, PASSWORD)  # even the right password waits now
    assert delayed.value.code == "LOGIN_DELAYED"
    assert admin.user(ADMIN, "hy-clerk").blocked_addresses == 1
    assert admin.unlock(ADMIN, "hy-clerk").blocked_addresses == 0
    assert _sign_in(db, PASSWORD).user_id == "hy-clerk"
    actions = [e.action for e in db.audit]
    assert actions.count("auth.login_failed") == 3 and actions[-2:] == ["user.unlock", "auth.login"]


def test_a_disabled_user_loses_every_session_and_cannot_sign_in(
    admin: UserAdminService, db: AuthFakeDatabase
) -> None:
    admin.create(ADMIN, "hy-clerk", PASSWORD, Assignment("agency_handler", "", "430400"))
    clock = FixedClock(NOW)
    principal = _sign_in(db, PASSWORD)
    token = auth.open_session(auth_unit(db), clock, principal)
    assert auth.principal_from_token(auth_unit(db), clock, token).user_id == "hy-clerk"
    assert hashlib.sha256(token.encode()).hexdigest() in db.sessions  # only the hash is kept
    assert token not in db.sessions
    summary = admin.set_active(ADMIN, "hy-clerk", False)
    assert not summary.active and summary.live_sessions == 0
    with pytest.raises(Unauthenticated):
        auth.principal_from_token(auth_unit(db), clock, token)
    with pytest.raises(Unauthenticated) as refused:
        _sign_in(db, PASSWORD)
    assert refused.value.code == "LOGIN_FAILED"
    with pytest.raises(Conflict):
        admin.set_active(ADMIN, "admin", False)  # never oneself


def test_a_password_change_ends_the_sessions_and_the_old_password(
    admin: UserAdminService, db: AuthFakeDatabase
) -> None:
    admin.create(ADMIN, "hy-clerk", PASSWORD, Assignment("agency_handler", "", "430400"))
    clock = FixedClock(NOW)
    principal = _sign_in(db, PASSWORD)
    token = auth.open_session(auth_unit(db), clock, principal)
    new = "Quiet-Meadow-Orchard-7"
    auth.change_password(auth_unit(db), clock, principal, PASSWORD, new, min_length=12)
    with pytest.raises(Unauthenticated):
        auth.principal_from_token(auth_unit(db), clock, token)
    with pytest.raises(Unauthenticated):
        _sign_in(db, PASSWORD)
    signed_in = _sign_in(db, new)
    assert not signed_in.password_change_required


def test_a_reset_link_works_once(admin: UserAdminService, db: AuthFakeDatabase) -> None:
    admin.create(ADMIN, "hy-clerk", PASSWORD, Assignment("agency_handler", "", "430400"))
    link = admin.issue_reset(ADMIN, "hy-clerk")
    clock = FixedClock(NOW)
    assert auth.reset_link_account(auth_unit(db), clock, link.token) == "hy-clerk"
    new = "Copper-Kettle-River-9"
    assert auth.complete_reset(auth_unit(db), clock, link.token, new, min_length=12) == "hy-clerk"
    with pytest.raises(InvalidInput) as used:
        auth.complete_reset(auth_unit(db), clock, link.token, "Another-Long-Pass-1", min_length=12)
    assert used.value.code == "RESET_LINK_INVALID"
    assert _sign_in(db, new).user_id == "hy-clerk"


# --------------------------------------------------------------------------- the gateway

TIF = GatewayCredential("hptest", "tif-secret-0123456789", Scheme.X_TIF, frozenset({"H1"}))


def _tif_headers(at: dt.datetime, nonce: str, secret: str = TIF.secret) -> dict[str, str]:
    timestamp = str(int(at.timestamp()))
    digest = hashlib.sha256((timestamp + secret + nonce + timestamp).encode()).hexdigest()
    return {
        "x-tif-paasid": TIF.access_key,
        "x-tif-timestamp": timestamp,
        "x-tif-nonce": nonce,
        "x-tif-signature": digest,
    }


def test_the_gateway_accepts_a_signed_request_once_and_counts_the_refusals(
    db: AuthFakeDatabase,
) -> None:
    clock = FixedClock(NOW)
    check = GatewayAuthenticator({TIF.access_key: TIF}, clock=clock, uow=lambda: gateway_unit(db))
    envelope = check(_tif_headers(NOW, "nonce-1"))
    envelope(GatewayRequest(infno="2401", msgid=None, fixmedins_code="H1"))
    assert ("hptest", "tif:nonce-1") in db.nonces
    with pytest.raises(GatewayRefused):  # the same nonce again: a replay
        check(_tif_headers(NOW, "nonce-1"))
    with pytest.raises(GatewayRefused):
        check(_tif_headers(NOW, "nonce-2", secret="wrong-secret-000000000"))
    with pytest.raises(GatewayRefused):  # may not act for another institution
        envelope(GatewayRequest(infno="2401", msgid=None, fixmedins_code="H2"))
    counted = recent_refusals(gateway_unit(db), clock)
    assert sum(r.count for r in counted) == 2
    assert {r.access_key for r in counted} == {"hptest"}
    assert [e.action for e in db.audit] == ["gateway.auth_refused"]
    assert db.audit[0].subject == "fixmedins:H2"


def test_an_expired_nonce_may_be_used_again_once_pruned(db: AuthFakeDatabase) -> None:
    repository = gateway_unit(db).gateway
    until = NOW + dt.timedelta(minutes=5)
    assert repository.use_nonce("k", "n", now=NOW, until=until)
    assert not repository.use_nonce("k", "n", now=NOW, until=until)
    later = until + dt.timedelta(seconds=1)
    assert repository.prune_nonces(later) == 1
    assert repository.use_nonce("k", "n", now=later, until=later + dt.timedelta(minutes=5))
    assert ("k", "n") in db.nonces
