"""Gateway header authentication end to end: signed envelopes through the HTTP app, every
refusal answered in the national envelope with nothing written, the credentials file, the
start-up checks and the ``yidi gateway credential`` command."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import itertools
import json
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.orm import sessionmaker
from test_hospital_gateway import admit, call, discharge, ok, person_no, refused, settle_input
from typer.testing import CliRunner

from hospital_support import BOBAI_CODE, NANHUA_CODE, XIE_LINES, build_world, nhsa_fee_rows
from yidi.auth.gateway_credentials import GatewayCredentialsError, add_credential, load_credentials
from yidi.bootstrap import Container, build_container
from yidi.entrypoints.app import create_app
from yidi.entrypoints.cli.main import app as cli_app
from yidi.integrations.nhsa.gateway_auth import Scheme
from yidi.integrations.nhsa.router import CALL_SERVICE_PATH, PER_SERVICE_PATHS
from yidi.kernel.clock import FixedClock
from yidi.platform.tables import audit_log, encounters, gateway_refusals, settlements
from yidi.settings import Settings

Signer = Callable[[httpx.Request], None]
ADD = ("gateway", "credential", "add")
_nonces = (f"nonce{n:08d}" for n in itertools.count(1))


@pytest.fixture
def credentials_file(tmp_path: Path) -> Path:
    path = tmp_path / "gateway.yaml"
    add_credential(path, hospital_codes=[BOBAI_CODE], scheme=Scheme.X_TIF, access_key="bobai-tif")
    add_credential(path, hospital_codes=[BOBAI_CODE], scheme=Scheme.HN, access_key="bobai-hn")
    add_credential(path, hospital_codes=[NANHUA_CODE], scheme=Scheme.X_TIF, access_key="nanhua")
    return path


@pytest.fixture
def secured(
    database_url: str,
    connection: Connection,
    clock: FixedClock,
    migrated_engine: Engine,
    credentials_file: Path,
) -> Container:
    settings = Settings(
        database_url=database_url,
        demo_mode=True,
        gateway_auth="required",
        gateway_credentials=credentials_file,
    )
    factory = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    container = build_container(
        settings, clock=clock, session_factory=factory, engine=migrated_engine
    )
    build_world(container)
    return container


@pytest.fixture
def gateway(secured: Container) -> Iterator[TestClient]:
    with TestClient(create_app(secured)) as client:
        yield client


def secret_of(container: Container, access_key: str) -> str:
    path = container.settings.gateway_credentials
    assert path is not None
    return load_credentials(path)[access_key].secret


def tif_signer(
    container: Container,
    key: str = "bobai-tif",
    *,
    secret: str | None = None,
    shift: dt.timedelta = dt.timedelta(0),
    nonce: str | None = None,
    upper: bool = False,
) -> Signer:
    """Signs every request as OHS does: seconds, a nonce, hex SHA-256 (computed here)."""
    secret = secret_of(container, key) if secret is None else secret

    def sign(request: httpx.Request) -> None:
        timestamp = str(int((container.clock.now() + shift).timestamp()))
        once = nonce or next(_nonces)
        digest = hashlib.sha256(f"{timestamp}{secret}{once}{timestamp}".encode()).hexdigest()
        request.headers["x-tif-paasid"] = key
        request.headers["x-tif-timestamp"] = timestamp
        request.headers["x-tif-nonce"] = once
        request.headers["x-tif-signature"] = digest.upper() if upper else digest

    return sign


def _infno_of(request: httpx.Request) -> str:
    """The transaction the HN SDK names in ``_api_name``: the envelope's infno (or the
    per-service path's)."""
    try:
        infno = json.loads(request.content).get("infno")
    except ValueError:
        infno = None
    if infno:
        return str(infno)
    path = request.url.path
    by_path = {p: code for code, p in PER_SERVICE_PATHS.items()}
    return by_path.get(path, path.rsplit("/", 1)[-1])


def hn_signer(container: Container, key: str = "bobai-hn", *, secret: str | None = None) -> Signer:
    """Signs every request as the HN SDK does: milliseconds, HmacSHA1, Base64."""
    secret = secret_of(container, key) if secret is None else secret

    def sign(request: httpx.Request) -> None:
        timestamp = str(int(container.clock.now().timestamp() * 1000))
        name = "api_" + _infno_of(request)
        text = f"_api_access_key={key}&_api_name={name}&_api_timestamp={timestamp}&_api_version=1.0"
        digest = hmac.new(secret.encode(), text.encode(), hashlib.sha1).digest()
        request.headers["_api_name"] = name
        request.headers["_api_version"] = "1.0"
        request.headers["_api_timestamp"] = timestamp
        request.headers["_api_access_key"] = key
        request.headers["_api_signature"] = base64.b64encode(digest).decode()

    return sign


def signed_by(client: TestClient, signer: Signer | None) -> TestClient:
    client.event_hooks = {"request": [signer] if signer else [], "response": []}
    return client


def chained_refusals(container: Container) -> int:
    """Refusals written to the audit chain (requests made with a valid key only)."""
    with container.uow() as uow:
        return (
            uow.session.scalar(
                select(func.count())
                .select_from(audit_log)
                .where(audit_log.c.action == "gateway.auth_refused")
            )
            or 0
        )


def counted_refusals(container: Container) -> int:
    """Refusals of headers, counted per minute and source outside the chain."""
    with container.uow() as uow:
        return uow.session.scalar(select(func.sum(gateway_refusals.c.count))) or 0


def counts(container: Container) -> tuple[int, int, int]:
    """Encounters, settlements, and refusals recorded (chained or counted)."""
    with container.uow() as uow:
        session = uow.session
        return (
            session.scalar(select(func.count()).select_from(encounters)) or 0,
            session.scalar(select(func.count()).select_from(settlements)) or 0,
            chained_refusals(container) + counted_refusals(container),
        )


def admitted_and_discharged(client: TestClient) -> tuple[str, str]:
    psn_no = person_no(client)
    mdtrt_id: str = ok(admit(client, psn_no))["result"]["mdtrt_id"]
    rows = nhsa_fee_rows(XIE_LINES, mdtrt_id, psn_no, "2026-11-21 09:00:00")
    ok(call(client, "2301", {"feedetail": rows}))
    discharge(client, mdtrt_id, psn_no)
    return psn_no, mdtrt_id


# --------------------------------------------------------------------------- accepted


def test_an_x_tif_signed_hospital_admits_and_settles(
    gateway: TestClient, secured: Container
) -> None:
    signed_by(gateway, tif_signer(secured))
    psn_no, mdtrt_id = admitted_and_discharged(gateway)
    settled = ok(call(gateway, "2304", settle_input(mdtrt_id, psn_no, "11811.24")))
    assert settled["setlinfo"]["setl_id"]
    assert counts(secured) == (1, 1, 0)


def test_upper_case_x_tif_and_hn_signed_requests_are_accepted(
    gateway: TestClient, secured: Container
) -> None:
    signed_by(gateway, tif_signer(secured, upper=True))
    assert person_no(gateway)
    signed_by(gateway, hn_signer(secured))
    psn_no = person_no(gateway)
    assert ok(admit(gateway, psn_no))["result"]["mdtrt_id"]
    assert counts(secured)[0] == 1


def test_per_service_paths_are_authenticated_too(gateway: TestClient, secured: Container) -> None:
    envelope = {"fixmedins_code": BOBAI_CODE, "input": {"data": {}}}
    reply = gateway.post("/fsi/api/signInSignOutService/signIn", json=envelope).json()
    assert reply["infcode"] == -1 and reply["err_msg"] == (
        "[NHSA_GATEWAY_HEADERS_MISSING] 缺少服务网关的请求头!"
    )
    signed_by(gateway, hn_signer(secured))
    envelope["input"] = {"signIn": {"opter_no": "C01", "mac": "00", "ip": "127.0.0.1"}}
    signed_in = gateway.post("/fsi/api/signInSignOutService/signIn", json=envelope).json()
    assert signed_in["infcode"] == 0 and signed_in["output"]["signinoutb"]["sign_no"]
    assert counts(secured)[2] == 1


# --------------------------------------------------------------------------- refused


def refused_settlement(
    gateway: TestClient, secured: Container, signer: Signer | None, message: str
) -> None:
    """Admit and discharge with a good key, then try 2304 and 2401 with ``signer``."""
    signed_by(gateway, tif_signer(secured))
    psn_no, mdtrt_id = admitted_and_discharged(gateway)
    before = counts(secured)
    signed_by(gateway, signer)
    settle = call(gateway, "2304", settle_input(mdtrt_id, psn_no, "11811.24"))
    again = admit(gateway, psn_no)
    for reply in (settle, again):
        assert reply["output"] is None
        assert re.fullmatch(r"\[NHSA_GATEWAY_[A-Z_]+\] " + re.escape(message), reply["err_msg"])
    encounters_after, settlements_after, refusals_after = counts(secured)
    assert (encounters_after, settlements_after) == before[:2] == (1, 0)
    assert refusals_after == before[2] + 2  # each refusal recorded


def test_a_wrong_signature_is_refused_and_nothing_is_written(
    gateway: TestClient, secured: Container
) -> None:
    refused_settlement(gateway, secured, tif_signer(secured, secret="guessed"), "签名不一致!")


def test_a_stale_timestamp_is_refused_and_nothing_is_written(
    gateway: TestClient, secured: Container
) -> None:
    stale = tif_signer(secured, shift=-dt.timedelta(minutes=31))
    refused_settlement(gateway, secured, stale, "签名时间戳超时!")


def test_an_unknown_key_is_refused_and_nothing_is_written(
    gateway: TestClient, secured: Container
) -> None:
    refused_settlement(gateway, secured, tif_signer(secured, "ghost", secret="x"), "非法用户!")


def test_missing_headers_are_refused_and_nothing_is_written(
    gateway: TestClient, secured: Container
) -> None:
    refused_settlement(gateway, secured, None, "缺少服务网关的请求头!")


def test_a_hospital_the_key_may_not_act_for_is_refused_and_nothing_is_written(
    gateway: TestClient, secured: Container
) -> None:
    # nanhua's key is valid, but the envelopes name 博白 (BOBAI_CODE).
    refused_settlement(gateway, secured, tif_signer(secured, "nanhua"), "非法用户!")
    with secured.uow() as uow:
        subjects = uow.session.scalars(
            select(audit_log.c.subject).where(audit_log.c.actor == "nanhua")
        ).all()
    assert subjects == [f"fixmedins:{BOBAI_CODE}"] * 2


def test_a_replayed_nonce_is_refused_and_nothing_is_written(
    gateway: TestClient, secured: Container
) -> None:
    signed_by(gateway, tif_signer(secured))
    psn_no = person_no(gateway)
    replay = tif_signer(secured, nonce="captured-nonce")
    signed_by(gateway, replay)
    assert person_no(gateway) == psn_no  # first use of the nonce: accepted
    before = counts(secured)
    reply = admit(gateway, psn_no)
    assert refused(reply, "NHSA_GATEWAY_TIMESTAMP_EXPIRED") == (
        "[NHSA_GATEWAY_TIMESTAMP_EXPIRED] 签名时间戳超时!"
    )
    assert counts(secured) == (before[0], before[1], before[2] + 1) == (0, 0, 1)
    with secured.uow() as uow:
        (counter,) = uow.gateway.refusals(secured.clock.now() - dt.timedelta(minutes=1))
    assert (counter.access_key, counter.code) == ("bobai-tif", "NHSA_GATEWAY_TIMESTAMP_EXPIRED")
    assert counter.last_reason == "nonce reused" and counter.count == 1


def test_every_gateway_path_refuses_an_unsigned_request(gateway: TestClient) -> None:
    paths = [CALL_SERVICE_PATH, CALL_SERVICE_PATH + "/1101", *PER_SERVICE_PATHS.values()]
    assert len(paths) == 14  # with 2403 hospitalRegisterEdit
    for path in paths:
        reply = gateway.post(
            path,
            json={"infno": "1101", "fixmedins_code": BOBAI_CODE, "input": {}},
        ).json()
        assert reply["err_msg"] == "[NHSA_GATEWAY_HEADERS_MISSING] 缺少服务网关的请求头!", path


def test_refusals_are_national_envelopes_with_http_200(gateway: TestClient) -> None:
    response = gateway.post("/fsi/api/rsfComIfsService/callService/1101", content=b"{}")
    assert response.status_code == 200
    reply = response.json()
    assert reply["infcode"] == -1 and len(reply["inf_refmsgid"]) == 30
    assert reply["err_msg"] == "[NHSA_GATEWAY_HEADERS_MISSING] 缺少服务网关的请求头!"


# --------------------------------------------------------------------------- settings, start


def test_gateway_auth_is_required_by_default_outside_demo_mode_only() -> None:
    assert Settings(demo_mode=False, secret_key="k" * 40).gateway_auth_mode == "required"
    assert Settings(demo_mode=True).gateway_auth_mode == "none"
    assert Settings(demo_mode=True, gateway_auth="required").gateway_auth_mode == "required"
    assert Settings(
        demo_mode=False, secret_key="k" * 40, gateway_auth="none"
    ).gateway_auth_mode == ("none")


def test_the_demo_app_leaves_the_gateway_open(client: TestClient) -> None:
    reply = client.post(
        "/fsi/api/rsfComIfsService/callService", json={"infno": "9999", "fixmedins_code": "H"}
    ).json()
    assert reply["err_msg"].startswith("[NHSA_INFNO_UNSUPPORTED]")


def test_the_app_refuses_to_build_when_required_without_a_credentials_file(
    database_url: str, migrated_engine: Engine, tmp_path: Path
) -> None:
    settings = Settings(database_url=database_url, demo_mode=True, gateway_auth="required")
    with pytest.raises(GatewayCredentialsError, match="YIDI_GATEWAY_CREDENTIALS"):
        create_app(build_container(settings, engine=migrated_engine))
    absent = settings.model_copy(update={"gateway_credentials": tmp_path / "absent.yaml"})
    with pytest.raises(GatewayCredentialsError, match="不存在"):
        create_app(build_container(absent, engine=migrated_engine))


@pytest.fixture
def production_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("YIDI_DATABASE_URL", f"sqlite:///{tmp_path / 'x.sqlite3'}")
    monkeypatch.setenv("YIDI_SECRET_KEY", "s" * 40)
    for name in ("YIDI_DEMO_MODE", "YIDI_GATEWAY_AUTH", "YIDI_GATEWAY_CREDENTIALS"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.usefixtures("production_env")
def test_serve_refuses_to_start_without_gateway_credentials() -> None:
    result = CliRunner().invoke(cli_app, ["serve", "--port", "1"])
    assert result.exit_code == 2
    assert "YIDI_GATEWAY_CREDENTIALS" in result.output


@pytest.mark.usefixtures("production_env")
def test_serve_refuses_a_credentials_file_others_may_read(
    monkeypatch: pytest.MonkeyPatch, credentials_file: Path
) -> None:
    credentials_file.chmod(0o644)
    monkeypatch.setenv("YIDI_GATEWAY_CREDENTIALS", str(credentials_file))
    result = CliRunner().invoke(cli_app, ["serve", "--port", "1"])
    assert result.exit_code == 2
    assert "chmod 600" in result.output and "0644" in result.output


# --------------------------------------------------------------------------- the file, the CLI


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o620, 0o602])
def test_a_credentials_file_readable_or_writable_by_others_is_refused(
    credentials_file: Path, mode: int
) -> None:
    credentials_file.chmod(mode)
    with pytest.raises(GatewayCredentialsError, match="chmod 600"):
        load_credentials(credentials_file)
    credentials_file.chmod(0o600)
    assert set(load_credentials(credentials_file)) == {"bobai-tif", "bobai-hn", "nanhua"}


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("credentials: {}", "credentials"),
        ("credentials:\n- access_key: a\n  secret: short\n  scheme: hn\n  hospitals: [H]", "16"),
        (
            "credentials:\n- access_key: a\n  secret: aaaaaaaaaaaaaaaaaa\n  scheme: sm3\n"
            "  hospitals: [H]",
            "scheme",
        ),
        ("credentials:\n- access_key: a\n  secret: aaaaaaaaaaaaaaaaaa\n  scheme: hn", "hospitals"),
        (
            "credentials:\n- {access_key: a, secret: aaaaaaaaaaaaaaaaaa, scheme: hn, hospitals: [H]}"
            "\n- {access_key: a, secret: bbbbbbbbbbbbbbbbbb, scheme: hn, hospitals: [H]}",
            "重复",
        ),
        ("credentials: [", "YAML"),
    ],
)
def test_a_malformed_credentials_file_is_refused_with_the_reason(
    tmp_path: Path, text: str, complaint: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    with pytest.raises(GatewayCredentialsError, match=complaint):
        load_credentials(path)


def test_credential_add_writes_a_private_file_and_prints_the_secret_once(tmp_path: Path) -> None:
    path = tmp_path / "etc" / "gateway.yaml"
    runner = CliRunner()
    first = runner.invoke(
        cli_app,
        [*ADD, "--hospital", "H43040000001", "--scheme", "x-tif"],
        env={"YIDI_GATEWAY_CREDENTIALS": str(path)},
    )
    assert first.exit_code == 0, first.output
    assert os.stat(path).st_mode & 0o777 == 0o600
    (credential,) = load_credentials(path).values()
    assert credential.scheme is Scheme.X_TIF
    assert credential.hospital_codes == {"H43040000001"}
    assert first.output.count(credential.secret) == 1
    assert f"access_key  {credential.access_key}" in first.output
    second = runner.invoke(
        cli_app,
        [
            *ADD,
            "--file",
            str(path),
            "--scheme",
            "hn",
            "--access-key",
            "AK2",
            "--hospital",
            "H43040000002",
            "--hospital",
            "H43040000003",
        ],
    )
    assert second.exit_code == 0, second.output
    stored = load_credentials(path)
    assert stored[credential.access_key].secret == credential.secret  # the first is kept
    assert stored["AK2"].hospital_codes == {"H43040000002", "H43040000003"}
    listed = runner.invoke(cli_app, ["gateway", "credential", "list", "--file", str(path)])
    assert "AK2\thn\tH43040000002,H43040000003" in listed.output
    assert credential.secret not in listed.output and stored["AK2"].secret not in listed.output
    duplicate = runner.invoke(
        cli_app,
        [*ADD, "--file", str(path), "--scheme", "hn", "--hospital", "H1", "--access-key", "AK2"],
    )
    assert duplicate.exit_code == 2 and "AK2" in duplicate.output


def test_a_secret_made_by_the_command_signs_requests_the_gateway_accepts(
    gateway: TestClient, secured: Container
) -> None:
    path = secured.settings.gateway_credentials
    assert path is not None
    result = CliRunner().invoke(
        cli_app,
        [
            *ADD,
            "--file",
            str(path),
            "--scheme",
            "x-tif",
            "--hospital",
            BOBAI_CODE,
            "--access-key",
            "fresh",
        ],
    )
    secret = re.search(r"secret\s+(\S+)", result.output)
    assert secret is not None
    # A new app reads the file again, as a restarted service would.
    with TestClient(create_app(secured)) as restarted:
        signed_by(restarted, tif_signer(secured, "fresh", secret=secret.group(1)))
        assert person_no(restarted)


def test_refused_requests_are_reviewable_from_the_command_line_and_the_chain_stays_short(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, credentials_file: Path
) -> None:
    from starlette.datastructures import Headers

    from yidi.auth.gateway import GatewayAuthenticator
    from yidi.integrations.nhsa.gateway_auth import GatewayRefused
    from yidi.kernel.audit import reset_client_address, set_client_address
    from yidi.platform.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'refusals.sqlite3'}"
    monkeypatch.setenv("YIDI_DATABASE_URL", url)
    monkeypatch.setenv("YIDI_DEMO_MODE", "1")
    container = build_container(Settings(database_url=url, demo_mode=True))
    upgrade(container.engine)
    authenticate = GatewayAuthenticator(
        load_credentials(credentials_file), clock=container.clock, uow=container.uow
    )
    token = set_client_address("198.51.100.9")
    try:
        for _ in range(3):
            with pytest.raises(GatewayRefused):
                authenticate(Headers({}))
    finally:
        reset_client_address(token)
    container.engine.dispose()
    listed = CliRunner().invoke(cli_app, ["gateway", "refusals", "--hours", "1"])
    assert listed.exit_code == 0, listed.output
    assert "198.51.100.9" in listed.output and "NHSA_GATEWAY_HEADERS_MISSING" in listed.output
    assert "合计 total 3" in listed.output
    verified = CliRunner().invoke(cli_app, ["audit", "verify"])
    assert verified.exit_code == 0 and "audit chain intact" in verified.output
