"""Sessions end when they should, demo passwords stay in demo mode, administrators manage
accounts, and failed sign-ins hold back the guesser rather than the account's owner."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from yidi.auth.commands import create_user
from yidi.bootstrap import Container, build_container
from yidi.demo.loader import load_reference_world
from yidi.entrypoints.app import create_app
from yidi.kernel.access import Principal, Role
from yidi.kernel.clock import FixedClock
from yidi.platform.tables import audit_log, login_counters, password_resets, user_sessions
from yidi.settings import Settings

GOOD = "lantern-orchard-47"  # passes the password policy


def _login(client: TestClient, username: str, password: str) -> Any:
    return client.post("/api/auth/login", json={"username": username, "password": password})


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _admin(client: TestClient, container: Container) -> dict[str, str]:
    load_reference_world(container.uow())
    answer = _login(client, "admin", "admin-demo-2017")
    assert answer.status_code == 200, answer.text
    return _bearer(answer.json()["token"])


def _audit_actions(container: Container) -> list[tuple[str, str, str]]:
    with container.uow() as uow:
        rows = uow.session.execute(
            select(audit_log.c.actor, audit_log.c.action, audit_log.c.subject).order_by(
                audit_log.c.seq
            )
        ).all()
    return [(r.actor, r.action, r.subject) for r in rows]


def _client_at(container: Container, address: str) -> TestClient:
    return TestClient(create_app(container), client=(address, 40000))


# --- sessions ------------------------------------------------------------------------------


def test_signing_out_ends_the_bearer_token_at_once(
    client: TestClient, container: Container
) -> None:
    load_reference_world(container.uow())
    token = _login(client, "hengyang", "hengyang-demo-2017").json()["token"]
    assert client.get("/api/filings", headers=_bearer(token)).status_code == 200
    out = client.post("/api/auth/logout", headers=_bearer(token))
    assert out.status_code == 200 and out.json() == {"signed_out": True}
    after = client.get("/api/filings", headers=_bearer(token))
    assert after.status_code == 401
    assert after.json()["error"]["code"] == "SESSION_INVALID"
    assert ("hengyang", "auth.logout", "user:hengyang") in _audit_actions(container)


def test_signing_out_on_the_web_ends_the_cookie_also_when_copied(container: Container) -> None:
    load_reference_world(container.uow())
    with TestClient(create_app(container), base_url="http://127.0.0.1:8000") as browser:
        page = browser.get("/signin", headers={"Accept": "text/html"})
        csrf = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        signed = browser.post(
            "/signin",
            data={"username": "hengyang", "password": "hengyang-demo-2017", "csrf_token": csrf},
            follow_redirects=False,
        )
        assert signed.status_code == 303
        copied = browser.cookies.get("yidi_session")
        assert copied
        desk = browser.get("/agency", headers={"Accept": "text/html"})
        csrf = desk.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        browser.post("/signout", data={"csrf_token": csrf}, follow_redirects=False)
    # The copied cookie, replayed as cookie or as bearer token, no longer works.
    with TestClient(create_app(container)) as other:
        other.cookies.set("yidi_session", copied)
        assert other.get("/api/auth/me").status_code == 401
        other.cookies.clear()
        assert other.get("/api/auth/me", headers=_bearer(copied)).status_code == 401


def test_only_a_hash_of_the_token_is_stored(client: TestClient, container: Container) -> None:
    load_reference_world(container.uow())
    token = _login(client, "henan", "henan-demo-2017").json()["token"]
    assert len(token) >= 40
    with container.uow() as uow:
        stored = uow.session.execute(select(user_sessions.c.token_hash)).scalars().all()
    assert token not in stored
    assert hashlib.sha256(token.encode()).hexdigest() in stored


def test_a_session_ends_after_idling_and_after_its_lifetime(
    client: TestClient, container: Container, clock: FixedClock
) -> None:
    load_reference_world(container.uow())
    token = _login(client, "henan", "henan-demo-2017").json()["token"]
    clock.advance(dt.timedelta(minutes=29))
    assert client.get("/api/auth/me", headers=_bearer(token)).json()["user_id"] == "henan"
    clock.advance(dt.timedelta(minutes=31))  # 31 minutes after its last use
    idle = client.get("/api/auth/me", headers=_bearer(token))
    assert idle.status_code == 401 and idle.json()["error"]["code"] == "SESSION_EXPIRED"
    token = _login(client, "henan", "henan-demo-2017").json()["token"]
    for _ in range(17):  # used every 29 minutes: still ends 8 hours after sign-in
        clock.advance(dt.timedelta(minutes=29))
        client.get("/api/auth/me", headers=_bearer(token))
    assert client.get("/api/auth/me", headers=_bearer(token)).status_code == 401


def test_a_password_change_ends_every_other_session(
    client: TestClient, container: Container
) -> None:
    create_user(
        container.uow(), "pwuser", GOOD, Principal("pwuser", Role.PROVINCE_OFFICER, "430000")
    )
    first = _login(client, "pwuser", GOOD).json()["token"]
    second = _login(client, "pwuser", GOOD).json()["token"]
    weak = client.post(
        "/api/auth/password",
        json={"current_password": GOOD, "new_password": "short"},
        headers=_bearer(first),
    )
    assert weak.status_code == 422
    error = weak.json()["error"]
    assert error["code"] == "PASSWORD_POLICY" and "至少 12 个字符" in error["message"]
    changed = client.post(
        "/api/auth/password",
        json={"current_password": GOOD, "new_password": "quiet-harbour-2031"},
        headers=_bearer(first),
    )
    assert changed.status_code == 200, changed.text
    fresh = changed.json()["token"]
    for old in (first, second):
        assert client.get("/api/auth/me", headers=_bearer(old)).status_code == 401
    assert client.get("/api/auth/me", headers=_bearer(fresh)).json()["user_id"] == "pwuser"
    assert _login(client, "pwuser", GOOD).status_code == 401
    assert _login(client, "pwuser", "quiet-harbour-2031").status_code == 200


# --- demo passwords outside demo mode ------------------------------------------------------


@pytest.fixture
def production(container: Container) -> Iterator[tuple[Container, TestClient]]:
    """The same database, served outside demo mode."""
    settings = Settings(
        database_url=container.settings.database_url,
        demo_mode=False,
        secret_key="s" * 40,
        gateway_auth="none",
    )
    real = build_container(
        settings,
        clock=container.clock,
        session_factory=container.session_factory,
        engine=container.engine,
    )
    with TestClient(create_app(real)) as client:
        yield real, client


def test_demo_passwords_do_not_sign_in_outside_demo_mode(
    container: Container, production: tuple[Container, TestClient]
) -> None:
    load_reference_world(container.uow())
    real, client = production
    refused = _login(client, "admin", "admin-demo-2017")
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "LOGIN_DEMO_PASSWORD"
    assert "演示模式" in refused.json()["error"]["message"]
    # Also when an account of another name was given a demo password.
    create_user(real.uow(), "copycat", "hunan-demo-2017", Principal("copycat", Role.ADMINISTRATOR))
    assert _login(client, "copycat", "hunan-demo-2017").json()["error"]["code"] == (
        "LOGIN_DEMO_PASSWORD"
    )


def test_serve_refuses_to_start_while_an_account_has_its_demo_password(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn
    from typer.testing import CliRunner

    from yidi.entrypoints.cli.main import app as cli_app
    from yidi.platform.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'serve.sqlite3'}"
    monkeypatch.setenv("YIDI_DATABASE_URL", url)
    monkeypatch.setenv("YIDI_SECRET_KEY", "k" * 40)
    monkeypatch.setenv("YIDI_GATEWAY_AUTH", "none")
    monkeypatch.delenv("YIDI_DEMO_MODE", raising=False)
    started: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: started.append(options))
    demo = build_container(Settings(database_url=url, demo_mode=True))
    upgrade(demo.engine)
    load_reference_world(demo.uow())
    result = CliRunner().invoke(cli_app, ["serve"])
    assert result.exit_code == 2, result.output
    assert "演示密码" in result.output and "admin" in result.output and started == []
    # Once no account has its demo password (disabled, or reset), it starts.
    with demo.uow() as uow:
        for account in uow.users.all():
            uow.users.set_active(account.username, False)
        uow.commit()
    demo.engine.dispose()
    result = CliRunner().invoke(cli_app, ["serve"])
    assert result.exit_code == 0, result.output
    assert started and started[0]["proxy_headers"] is False


def test_serve_in_demo_mode_prints_demo_accounts_that_sign_in(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn
    from typer.testing import CliRunner

    from yidi.entrypoints.cli.main import app as cli_app

    url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    monkeypatch.setenv("YIDI_DATABASE_URL", url)
    apps: list[Any] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: apps.append(app))
    result = CliRunner().invoke(cli_app, ["serve", "--demo", "--no-scenario"])
    assert result.exit_code == 0, result.output
    assert "admin-demo-2017" in result.output
    with TestClient(apps[0]) as client:
        answer = _login(client, "admin", "admin-demo-2017")
    assert answer.status_code == 200 and answer.json()["password_change_required"] is False


# --- user administration -------------------------------------------------------------------


def test_an_administrator_creates_a_user_who_must_change_the_password_first(
    client: TestClient, container: Container
) -> None:
    admin = _admin(client, container)
    body = {
        "username": "liu.jingban",
        "password": "liu.jingban-2026!",
        "role": "agency_handler",
        "display_name": "刘经办",
        "region_code": "430400",
    }
    refused = client.post("/api/admin/users", json=body, headers=admin)
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "PASSWORD_POLICY"
    assert "用户名" in refused.json()["error"]["message"]  # the rule it broke, in words
    for weak in ("1qaz2wsx3edc", "hengyang-demo-2017", "abcdefghijklmn"):
        answer = client.post("/api/admin/users", json=body | {"password": weak}, headers=admin)
        assert answer.json()["error"]["code"] == "PASSWORD_POLICY", weak
    no_region = client.post(
        "/api/admin/users", json=body | {"password": GOOD, "region_code": None}, headers=admin
    )
    assert no_region.json()["error"]["code"] == "REGION_REQUIRED"
    created = client.post("/api/admin/users", json=body | {"password": GOOD}, headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["must_change_password"] is True
    taken = client.post("/api/admin/users", json=body | {"password": GOOD}, headers=admin)
    assert taken.status_code == 409

    signed = _login(client, "liu.jingban", GOOD).json()
    assert signed["password_change_required"] is True
    user = _bearer(signed["token"])
    blocked = client.get("/api/filings", headers=user)
    assert blocked.status_code == 403
    assert blocked.json()["error"]["code"] == "PASSWORD_CHANGE_REQUIRED"
    changed = client.post(
        "/api/auth/password",
        json={"current_password": GOOD, "new_password": "river-stone-lamp-88"},
        headers=user,
    )
    assert changed.status_code == 200 and changed.json()["password_change_required"] is False
    assert client.get("/api/filings", headers=_bearer(changed.json()["token"])).status_code == 200
    assert ("admin", "user.create", "user:liu.jingban") in _audit_actions(container)


def test_disabling_and_re_roling_end_the_sessions_and_are_audited(
    client: TestClient, container: Container
) -> None:
    admin = _admin(client, container)
    create_user(container.uow(), "wang", GOOD, Principal("wang", Role.AGENCY_HANDLER, "430400"))
    token = _login(client, "wang", GOOD).json()["token"]
    role = client.put(
        "/api/admin/users/wang/role",
        json={"role": "province_officer", "region_code": "430000", "display_name": "王"},
        headers=admin,
    )
    assert role.status_code == 200 and role.json()["role"] == "province_officer"
    assert client.get("/api/auth/me", headers=_bearer(token)).status_code == 401
    token = _login(client, "wang", GOOD).json()["token"]
    assert client.get("/api/auth/me", headers=_bearer(token)).json()["role"] == "province_officer"
    disabled = client.post("/api/admin/users/wang/disable", headers=admin)
    assert disabled.status_code == 200 and disabled.json()["active"] is False
    assert client.get("/api/auth/me", headers=_bearer(token)).status_code == 401
    assert _login(client, "wang", GOOD).status_code == 401
    assert client.post("/api/admin/users/wang/enable", headers=admin).json()["active"] is True
    assert _login(client, "wang", GOOD).status_code == 200
    own = client.post("/api/admin/users/admin/disable", headers=admin)
    assert own.status_code == 409 and own.json()["error"]["code"] == "USER_SELF"
    acts = {a for actor, a, s in _audit_actions(container) if actor == "admin" and s == "user:wang"}
    assert acts == {"user.assign", "user.disable", "user.enable"}


def test_a_reset_link_works_once_expires_and_is_stored_only_as_a_hash(
    client: TestClient, container: Container, clock: FixedClock
) -> None:
    admin = _admin(client, container)
    create_user(container.uow(), "zhao", GOOD, Principal("zhao", Role.PROVINCE_OFFICER, "410000"))
    old_session = _login(client, "zhao", GOOD).json()["token"]
    link = client.post("/api/admin/users/zhao/reset", headers=admin)
    assert link.status_code == 200
    token = link.json()["reset_path"].split("token=", 1)[1]
    with container.uow() as uow:
        stored = uow.session.execute(select(password_resets.c.token_hash)).scalars().all()
    assert token not in stored and hashlib.sha256(token.encode()).hexdigest() in stored
    # The old password and every session stop at once.
    assert client.get("/api/auth/me", headers=_bearer(old_session)).status_code == 401
    assert _login(client, "zhao", GOOD).status_code == 401
    weak = client.post(
        "/api/auth/password-reset", json={"token": token, "new_password": "zhao12345678"}
    )
    assert weak.json()["error"]["code"] == "PASSWORD_POLICY"
    done = client.post(
        "/api/auth/password-reset", json={"token": token, "new_password": "amber-field-1977"}
    )
    assert done.status_code == 204
    again = client.post(
        "/api/auth/password-reset", json={"token": token, "new_password": "other-field-1977"}
    )
    assert again.status_code == 422 and again.json()["error"]["code"] == "RESET_LINK_INVALID"
    assert _login(client, "zhao", "amber-field-1977").status_code == 200
    late = client.post("/api/admin/users/zhao/reset", headers=admin).json()["reset_path"]
    clock.advance(dt.timedelta(hours=24, seconds=1))
    expired = client.post(
        "/api/auth/password-reset",
        json={"token": late.split("token=", 1)[1], "new_password": "amber-field-1978"},
    )
    assert expired.json()["error"]["code"] == "RESET_LINK_INVALID"


def test_only_the_administrator_may_administer_users(
    client: TestClient, container: Container
) -> None:
    load_reference_world(container.uow())
    for username in ("hengyang", "henan", "clearing", "nhfy1", "laoxie"):
        token = _login(client, username, f"{username}-demo-2017").json()["token"]
        listed = client.get("/api/admin/users", headers=_bearer(token))
        assert listed.status_code == 403, username
        reset = client.post("/api/admin/users/admin/reset", headers=_bearer(token))
        assert reset.status_code == 403, username
    assert client.get("/api/admin/users").status_code == 401


# --- failed sign-ins: the guesser waits, not the owner ---------------------------------------


def test_wrong_passwords_from_one_address_do_not_lock_the_owner_out(
    container: Container, clock: FixedClock
) -> None:
    load_reference_world(container.uow())
    attacker = _client_at(container, "203.0.113.9")
    owner = _client_at(container, "198.51.100.7")
    for _ in range(5):
        assert _login(attacker, "admin", "guess").status_code == 401
    held = _login(attacker, "admin", "admin-demo-2017")
    assert held.status_code == 429 and held.json()["error"]["code"] == "LOGIN_DELAYED"
    assert _login(owner, "admin", "admin-demo-2017").status_code == 200  # the owner is not locked
    # Each further wrong try from the attacker's address waits longer: 1, 2, 4 … minutes.
    delays = []
    for _ in range(3):
        clock.advance(dt.timedelta(minutes=16))
        assert _login(attacker, "admin", "guess").status_code == 401
        with container.uow() as uow:
            counter = uow.users.counter("admin", "203.0.113.9")
        assert counter is not None and counter.blocked_until is not None
        delays.append(counter.blocked_until - clock.now())
    assert delays == [dt.timedelta(minutes=2), dt.timedelta(minutes=4), dt.timedelta(minutes=8)]


def test_an_administrator_clears_an_accounts_failed_sign_ins(
    client: TestClient, container: Container
) -> None:
    admin = _admin(client, container)
    create_user(container.uow(), "li", GOOD, Principal("li", Role.AGENCY_HANDLER, "430400"))
    attacker = _client_at(container, "203.0.113.10")
    for _ in range(5):
        _login(attacker, "li", "guess")
    assert _login(attacker, "li", GOOD).status_code == 429
    assert client.get("/api/admin/users/li", headers=admin).json()["blocked_addresses"] == 1
    unlocked = client.post("/api/admin/users/li/unlock", headers=admin)
    assert unlocked.status_code == 200 and unlocked.json()["blocked_addresses"] == 0
    assert _login(attacker, "li", GOOD).status_code == 200
    assert ("admin", "user.unlock", "user:li") in _audit_actions(container)


def test_colleagues_behind_one_nat_keep_signing_in_while_one_address_is_limited(
    container: Container,
) -> None:
    container.settings.login_address_max_failures = 5
    load_reference_world(container.uow())
    office = _client_at(container, "192.0.2.50")  # everyone in the office shares this address
    assert _login(office, "hengyang", "hengyang-demo-2017").status_code == 200  # yesterday
    for name in ("a", "b", "c", "d", "e"):  # someone behind the NAT guesses other accounts
        assert _login(office, f"guess-{name}", "guess").status_code == 401
    assert _login(office, "hengyang", "hengyang-demo-2017").status_code == 200
    limited = _login(office, "henan", "henan-demo-2017")  # never signed in from here: waits
    assert limited.status_code == 429 and limited.json()["error"]["code"] == "LOGIN_RATE_LIMITED"
    # Only failures count: the successes above used up nothing.
    with container.uow() as uow:
        per_address = uow.users.counter("", "192.0.2.50")
    assert per_address is not None and per_address.failures == 5


def test_the_counters_live_in_the_database_for_every_worker(container: Container) -> None:
    load_reference_world(container.uow())
    # Two apps stand for two worker processes: failures seen by one hold back the other.
    first, second = _client_at(container, "203.0.113.11"), _client_at(container, "203.0.113.11")
    for client in (first, second, first, second, first):
        assert _login(client, "henan", "guess").status_code == 401
    assert _login(second, "henan", "henan-demo-2017").status_code == 429
    with container.uow() as uow:
        rows = uow.session.execute(
            select(login_counters.c.username, login_counters.c.failures).where(
                login_counters.c.address == "203.0.113.11"
            )
        ).all()
    assert sorted(rows) == [("", 5), ("henan", 5)]
