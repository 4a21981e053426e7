"""The command line for accounts and gateway credentials: the first administrator, a reset
link when nobody can sign in, rotating and revoking a hospital's gateway credential."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from yidi.auth.commands import SignInPolicy, authenticate, complete_reset
from yidi.auth.gateway_credentials import load_credentials
from yidi.bootstrap import build_container
from yidi.entrypoints.cli.main import app as cli_app
from yidi.settings import Settings


@pytest.fixture
def production_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("YIDI_DATABASE_URL", url)
    monkeypatch.setenv("YIDI_SECRET_KEY", "c" * 40)
    monkeypatch.delenv("YIDI_DEMO_MODE", raising=False)
    assert CliRunner().invoke(cli_app, ["db", "upgrade"]).exit_code == 0
    return url


def test_the_first_administrator_is_made_on_the_command_line(production_env: str) -> None:
    runner = CliRunner()
    weak = runner.invoke(
        cli_app, ["user", "add-admin", "root"], input="root-password-1\nroot-password-1\n"
    )
    assert weak.exit_code == 1 and "PASSWORD_POLICY" in weak.output
    made = runner.invoke(
        cli_app, ["user", "add-admin", "root"], input="lantern-orchard-47\nlantern-orchard-47\n"
    )
    assert made.exit_code == 0, made.output
    container = build_container(Settings())
    principal = authenticate(
        container.uow(), container.clock, "root", "lantern-orchard-47", policy=SignInPolicy()
    )
    assert principal.role.value == "administrator" and principal.password_change_required
    link = runner.invoke(cli_app, ["user", "reset-link", "root"])
    assert link.exit_code == 0, link.output
    token = link.output.split("token=", 1)[1].split()[0]
    assert (
        complete_reset(container.uow(), container.clock, token, "amber-field-1977", min_length=12)
        == "root"
    )
    unknown = runner.invoke(cli_app, ["user", "reset-link", "nobody"])
    assert unknown.exit_code == 1 and "USER_NOT_FOUND" in unknown.output


def test_a_gateway_credential_is_rotated_and_revoked(tmp_path: Path) -> None:
    path = tmp_path / "gateway.yaml"
    runner = CliRunner()
    env = {"YIDI_GATEWAY_CREDENTIALS": str(path)}
    for key in ("AK1", "AK2"):
        added = runner.invoke(
            cli_app,
            [
                "gateway",
                "credential",
                "add",
                "--hospital",
                "H43040000001",
                "--scheme",
                "hn",
                "--access-key",
                key,
            ],
            env=env,
        )
        assert added.exit_code == 0, added.output
    before = load_credentials(path)
    rotated = runner.invoke(cli_app, ["gateway", "credential", "rotate", "AK1"], env=env)
    assert rotated.exit_code == 0, rotated.output
    after = load_credentials(path)
    assert after["AK1"].secret != before["AK1"].secret
    assert after["AK1"].secret in rotated.output and before["AK1"].secret not in rotated.output
    assert after["AK2"] == before["AK2"]
    assert os.stat(path).st_mode & 0o777 == 0o600
    revoked = runner.invoke(cli_app, ["gateway", "credential", "revoke", "AK2"], env=env)
    assert revoked.exit_code == 0 and set(load_credentials(path)) == {"AK1"}
    missing = runner.invoke(cli_app, ["gateway", "credential", "revoke", "AK2"], env=env)
    assert missing.exit_code == 2 and "AK2" in missing.output
