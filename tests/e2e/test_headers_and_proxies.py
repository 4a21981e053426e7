"""Headers every answer carries (HSTS, Permissions-Policy, no-store for personal data) and
forwarded headers believed only from configured proxies."""

from __future__ import annotations

from typing import Any

import uvicorn
from fastapi.testclient import TestClient

from filing_support import HENGYANG
from hospital_support import BOBAI_CASHIER, XIE_CARD, build_world, token_for
from yidi.bootstrap import Container
from yidi.demo.loader import load_reference_world
from yidi.entrypoints.app import create_app
from yidi.entrypoints.cli.main import proxy_options
from yidi.settings import Settings


def _h(response: Any) -> dict[str, str]:
    return {k.lower(): v for k, v in response.headers.items()}


def test_every_answer_has_a_permissions_policy_and_https_answers_have_hsts(
    container: Container,
) -> None:
    with TestClient(create_app(container), base_url="https://yidi.example.cn") as https:
        for response in (
            https.get("/api/health"),
            https.get("/api/no-such-path"),
            https.get("/signin", headers={"Accept": "text/html"}),
            https.post("/api/filings", content=b"x" * (container.settings.max_request_bytes + 1)),
        ):
            headers = _h(response)
            assert "camera=()" in headers["permissions-policy"], response.status_code
            assert headers["strict-transport-security"].startswith("max-age=31536000")
    with TestClient(create_app(container), base_url="http://127.0.0.1:8000") as http:
        plain = _h(http.get("/api/health"))
    assert "strict-transport-security" not in plain and "permissions-policy" in plain


def test_hsts_can_be_sent_always_or_never(container: Container) -> None:
    container.settings.hsts = "on"
    container.settings.hsts_max_age_seconds = 600
    with TestClient(create_app(container)) as http:
        assert _h(http.get("/api/health"))["strict-transport-security"] == (
            "max-age=600; includeSubDomains"
        )
    container.settings.hsts = "off"
    with TestClient(create_app(container), base_url="https://yidi.example.cn") as https:
        assert "strict-transport-security" not in _h(https.get("/api/health"))


def test_personal_and_signed_in_answers_are_never_stored(
    client: TestClient, container: Container
) -> None:
    world = build_world(container)
    cashier = token_for(container, BOBAI_CASHIER)
    check = client.post(
        "/api/hospital/admission-check",
        json={"cert_type": "03", "cert_no": XIE_CARD},
        headers=cashier,
    )
    assert check.status_code == 200
    agency = token_for(container, HENGYANG)
    for response in (
        check,
        client.get(f"/api/filings/{world.xie_filing}", headers=agency),
        client.get("/api/filings", headers=agency),
        client.get("/api/auth/me", headers=agency),
        client.get("/api/hospital/encounters", headers=cashier),
        client.get("/api/no-such-path", headers=agency),
    ):
        assert _h(response)["cache-control"] == "no-store", response.request.url
    # Pages too, and the sign-in answer that sets the session cookie.
    load_reference_world(container.uow())
    login = client.post(
        "/api/auth/login", json={"username": "hengyang", "password": "hengyang-demo-2017"}
    )
    assert _h(login)["cache-control"] == "no-store"
    page = client.get(
        f"/filings/{world.xie_filing}",
        headers={"Accept": "text/html", "Cookie": f"yidi_session={agency['Authorization'][7:]}"},
    )
    assert page.status_code == 200 and _h(page)["cache-control"] == "no-store"
    # Static assets may be cached: they hold nothing personal.
    assert _h(client.get("/static/css/yidi.css")).get("cache-control") != "no-store"


def _served(settings: Settings, container: Container) -> Any:
    """The app as ``yidi serve`` hands it to uvicorn, with uvicorn's own proxy handling."""
    config = uvicorn.Config(create_app(container), **proxy_options(settings))
    config.load()
    return config.loaded_app


def test_forwarded_for_from_loopback_is_not_believed_by_default(container: Container) -> None:
    container.settings.login_address_max_failures = 2
    assert proxy_options(container.settings) == {"proxy_headers": False, "forwarded_allow_ips": ""}
    with TestClient(_served(container.settings, container), client=("127.0.0.1", 5000)) as local:
        for n in range(4):  # each try claims another address
            answer = local.post(
                "/api/auth/login",
                json={"username": f"nobody-{n}", "password": "x"},
                headers={"X-Forwarded-For": f"198.51.100.{n}"},
            )
        # The limit held: the third and fourth tries were counted against 127.0.0.1.
        assert answer.status_code == 429
        assert answer.json()["error"]["code"] == "LOGIN_RATE_LIMITED"


def test_forwarded_for_is_believed_from_a_configured_proxy_only(container: Container) -> None:
    container.settings.forwarded_allow_ips = "10.1.1.1"
    assert proxy_options(container.settings) == {
        "proxy_headers": True,
        "forwarded_allow_ips": "10.1.1.1",
    }
    app = _served(container.settings, container)
    forwarded = {"X-Forwarded-For": "198.51.100.23", "X-Forwarded-Proto": "https"}
    with TestClient(app, client=("10.1.1.1", 5000)) as proxy:
        proxy.post(
            "/api/auth/login", json={"username": "nobody", "password": "x"}, headers=forwarded
        )
        behind_proxy = _h(proxy.get("/api/health", headers=forwarded))
    with TestClient(app, client=("10.9.9.9", 5000)) as stranger:
        stranger.post(
            "/api/auth/login", json={"username": "nobody", "password": "x"}, headers=forwarded
        )
    with container.uow() as uow:
        assert uow.users.counter("", "198.51.100.23") is not None  # the proxy's client
        assert uow.users.counter("", "10.9.9.9") is not None  # not the stranger's claim
        assert uow.users.counter("", "10.1.1.1") is None
    assert "strict-transport-security" in behind_proxy  # the proxy said https
