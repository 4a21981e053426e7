"""Hardening users expect: sign-in rate limits per address, security headers on every answer
(also an uncaught error's), settings checked at start, size limits on the gateway too, and
evidence uploads checked by content."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from filing_support import HENGYANG, PDF_BYTES, household_registration, load_agencies, record
from hospital_support import NANHUA_CASHIER, build_world, token_for
from yidi.auth.commands import SignInPolicy, authenticate, create_user
from yidi.bootstrap import Container
from yidi.entrypoints.app import create_app
from yidi.entrypoints.cli.main import app as cli_app
from yidi.filing.commands import FilingService
from yidi.kernel.access import Principal, Role
from yidi.kernel.audit import reset_client_address, set_client_address
from yidi.kernel.clock import FixedClock
from yidi.kernel.errors import YidiError
from yidi.settings import DEMO_SECRET_KEY, Settings

GATEWAY = "/fsi/api/rsfComIfsService/callService"
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def _assert_security_headers(headers: dict[str, str] | object) -> None:
    h = {k.lower(): v for k, v in dict(headers).items()}  # type: ignore[call-overload]
    assert "script-src 'self'" in h["content-security-policy"]
    assert "unsafe-inline" not in h["content-security-policy"]
    assert h["x-frame-options"] == "DENY"
    assert h["x-content-type-options"] == "nosniff"
    assert "server" not in h


def test_one_address_is_slowed_down_after_many_failed_sign_ins_to_different_accounts(
    client: TestClient, container: Container
) -> None:
    container.settings.login_address_max_failures = 3
    for name in ("no-such-1", "no-such-2", "no-such-3"):
        failed = client.post("/api/auth/login", json={"username": name, "password": "x"})
        assert failed.status_code == 401
    # The right password of an account never used from this address waits too: the address
    # has used up its tries.
    create_user(
        container.uow(),
        "rate-user",
        "correct-horse-battery",
        Principal("rate-user", Role.AGENCY_HANDLER, "430400"),
    )
    limited = client.post(
        "/api/auth/login", json={"username": "rate-user", "password": "correct-horse-battery"}
    )
    assert limited.status_code == 429
    error = limited.json()["error"]
    assert error["code"] == "LOGIN_RATE_LIMITED" and CHINESE.search(error["message"])
    _assert_security_headers(limited.headers)


def test_the_address_limit_counts_per_address_and_forgets_after_the_window(
    container: Container, clock: FixedClock
) -> None:
    policy = SignInPolicy(address_max_failures=2, address_window_seconds=60, demo_mode=True)
    create_user(
        container.uow(),
        "window-user",
        "window-user-password",
        Principal("window-user", Role.ADMINISTRATOR),
    )

    def sign_in(address: str, password: str = "wrong") -> str:
        token = set_client_address(address)  # what the HTTP middleware does per request
        try:
            authenticate(container.uow(), clock, "window-user", password, policy=policy)
        except YidiError as error:
            return error.code
        finally:
            reset_client_address(token)
        return "OK"

    assert [sign_in("10.0.0.1"), sign_in("10.0.0.1")] == ["LOGIN_FAILED", "LOGIN_FAILED"]
    clock.advance(dt.timedelta(seconds=30))
    assert sign_in("10.0.0.1", "window-user-password") == "LOGIN_RATE_LIMITED"
    assert sign_in("10.0.0.2", "window-user-password") == "OK"  # another address is not affected
    clock.advance(dt.timedelta(seconds=31))  # the window has passed
    assert sign_in("10.0.0.1", "window-user-password") == "OK"


def test_the_web_sign_in_form_is_rate_limited_too(container: Container) -> None:
    container.settings.login_address_max_failures = 1
    with TestClient(create_app(container), base_url="http://127.0.0.1:8000") as browser:
        page = browser.get("/signin", headers={"Accept": "text/html"})
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token is not None
        form = {"username": "nobody", "password": "x", "csrf_token": token.group(1)}
        assert browser.post("/signin", data=form).status_code == 401
        again = browser.post("/signin", data=form)
    assert again.status_code == 429
    assert "登录失败次数过多" in again.text


def test_an_uncaught_error_answers_json_500_with_the_security_headers(
    container: Container,
) -> None:
    app = create_app(container)

    def boom() -> None:
        raise RuntimeError("身份证 430421195503081234 in an exception text")

    app.add_api_route("/api/test-boom", boom, methods=["GET"])
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/api/test-boom")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "INTERNAL_ERROR"
    assert "430421195503081234" not in response.text
    _assert_security_headers(response.headers)


def test_error_answers_carry_the_security_headers(client: TestClient) -> None:
    for response in (
        client.get("/api/no-such-path"),
        client.post("/api/filings", json={}),
        client.get("/api/filings"),
        client.post(GATEWAY, content=b"{not json"),
    ):
        assert response.status_code in (200, 401, 404, 422)
        _assert_security_headers(response.headers)


def test_the_gateway_answers_an_oversized_body_with_an_envelope_not_413(
    client: TestClient, container: Container
) -> None:
    limit = container.settings.max_request_bytes
    gateway_limit = container.settings.gateway_max_request_bytes
    envelope = {
        "infno": "1101",
        "fixmedins_code": "H45092300001",
        "input": {"x": "y" * gateway_limit},
    }
    response = client.post(GATEWAY, content=json.dumps(envelope).encode())
    assert response.status_code == 200
    reply = response.json()
    assert reply["infcode"] == -1 and reply["err_msg"].startswith("[NHSA_BODY_TOO_LARGE]")
    _assert_security_headers(response.headers)
    rest = client.post("/api/filings", content=b"x" * (limit + 1))
    assert rest.status_code == 413 and rest.json()["error"]["code"] == "REQUEST_TOO_LARGE"


def test_evidence_must_be_a_pdf_jpeg_or_png_by_content_not_by_name(
    client: TestClient, container: Container
) -> None:
    load_agencies(container.uow)
    filings = FilingService(container.uow, container.clock)
    draft = filings.create_draft(HENGYANG, record(), evidence=[household_registration()])
    headers = token_for(container, HENGYANG)
    path = f"/api/filings/{draft.filing_id}/evidence"
    form = {
        "kind": "household_registration",
        "document_number": "户-0002",
        "issuer": "博白县公安局",
        "issued_on": "2016-05-01",
        "issuer_region_code": "450923",
    }
    for name, content, media in (
        ("scan.pdf", b"<html><script>alert(1)</script></html>", "application/pdf"),
        ("scan.png", b"MZ\x90\x00 an executable", "image/png"),
        ("scan.exe", b"MZ\x90\x00", "application/octet-stream"),
    ):
        refused = client.post(
            path, headers=headers, data=form, files={"file": (name, content, media)}
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["code"] == "EVIDENCE_FILE_TYPE"
    accepted = client.post(
        path, headers=headers, data=form, files={"file": ("scan.pdf", PDF_BYTES, "application/pdf")}
    )
    assert accepted.status_code in (200, 201), accepted.text


def test_settings_refuse_the_demo_secret_and_short_secrets_outside_demo_mode() -> None:
    with pytest.raises(ValueError, match="YIDI_SECRET_KEY"):
        Settings(demo_mode=False, secret_key=DEMO_SECRET_KEY)
    with pytest.raises(ValueError, match="32"):
        Settings(demo_mode=False, secret_key="short")
    assert Settings(demo_mode=False, secret_key="k" * 40).secret_key == "k" * 40


def test_serve_refuses_to_start_without_a_real_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("YIDI_DEMO_MODE", raising=False)
    monkeypatch.delenv("YIDI_SECRET_KEY", raising=False)
    result = CliRunner().invoke(cli_app, ["serve", "--port", "1"])
    assert result.exit_code == 2
    assert "YIDI_SECRET_KEY" in result.output


def test_a_nul_character_in_any_input_is_refused_not_a_500(
    client: TestClient, container: Container
) -> None:
    """Found by the long fuzz run on PostgreSQL: a NUL in a card number reached the driver."""
    build_world(container)
    cashier = token_for(container, NANHUA_CASHIER)
    rest = client.post(
        "/api/hospital/admission-check",
        json={"cert_no": "\u0000", "cert_type": "02", "name": "某某"},
        headers=cashier,
    )
    assert rest.status_code == 422
    assert rest.json()["error"]["code"] == "TEXT_CONTAINS_NUL"
    agency = token_for(container, HENGYANG)
    search = client.get("/api/filings", params={"name": "谢\u0000"}, headers=agency)
    assert search.status_code in (200, 422)  # never a 500
    gateway = client.post(
        GATEWAY,
        json={
            "infno": "1101",
            "fixmedins_code": "H43040000001",
            "input": {
                "data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": "43\u0000", "psn_name": "某某"}
            },
        },
    )
    reply = gateway.json()
    assert gateway.status_code == 200 and reply["infcode"] == -1
    assert reply["err_msg"].startswith("[TEXT_CONTAINS_NUL]")
