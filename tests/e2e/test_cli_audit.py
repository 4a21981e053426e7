from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from yidi.entrypoints.cli.main import app
from yidi.platform.db import make_engine

runner = CliRunner()


def test_audit_verify_passes_then_names_the_tampered_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'audit.sqlite3'}"
    monkeypatch.setenv("YIDI_DATABASE_URL", url)
    monkeypatch.setenv("YIDI_DEMO_MODE", "1")
    assert runner.invoke(app, ["demo", "load", "--persons", "0"]).exit_code == 0
    ok = runner.invoke(app, ["audit", "verify"])
    assert ok.exit_code == 0 and "audit chain intact" in ok.output
    engine = make_engine(url)
    with engine.begin() as connection:
        # The demo scenario wrote the chain; someone edits the reason of its fifth entry.
        connection.execute(text("UPDATE audit_log SET reason = 'edited' WHERE seq = 5"))
    engine.dispose()
    broken = runner.invoke(app, ["audit", "verify"])
    assert broken.exit_code == 1
    assert "entry 5" in broken.output


def _rebuild_chain(url: str, seq: int) -> None:
    """What someone with write access to the database could do: edit an entry and recompute
    every hash after it, and the head, so that the chain verifies again."""
    from yidi.kernel.audit import AuditEntry, as_utc, entry_hash

    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE audit_log SET reason = 'rewritten' WHERE seq = :seq"), {"seq": seq}
        )
        rows = connection.execute(text("SELECT * FROM audit_log ORDER BY seq")).mappings().all()
        previous = "0" * 64
        for row in rows:
            entry = AuditEntry(
                at=as_utc(row["at"] if not isinstance(row["at"], str) else _parse(row["at"])),
                actor=row["actor"],
                role=row["role"],
                region_code=row["region_code"],
                action=row["action"],
                subject=row["subject"],
                reason=row["reason"],
                address=row["address"],
            )
            digest = entry_hash(int(row["seq"]), entry, previous)
            connection.execute(
                text("UPDATE audit_log SET prev_hash = :p, entry_hash = :h WHERE seq = :s"),
                {"p": previous, "h": digest, "s": row["seq"]},
            )
            previous = digest
        connection.execute(text("UPDATE audit_head SET last_hash = :h"), {"h": previous})
    engine.dispose()


def _parse(text_value: str) -> object:
    import datetime as dt

    return dt.datetime.fromisoformat(text_value)


def test_a_rebuilt_chain_passes_alone_but_not_against_the_published_heads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from yidi.kernel.audit import GENESIS_HASH

    assert GENESIS_HASH == "0" * 64
    url = f"sqlite:///{tmp_path / 'audit.sqlite3'}"
    heads = tmp_path / "heads"  # outside the database
    key = tmp_path / "keys" / "audit-head.pem"
    monkeypatch.setenv("YIDI_DATABASE_URL", url)
    monkeypatch.setenv("YIDI_DEMO_MODE", "1")
    made = runner.invoke(app, ["audit", "keygen", "--out", str(key)])
    assert made.exit_code == 0, made.output
    assert (key.stat().st_mode & 0o777) == 0o600
    assert runner.invoke(app, ["demo", "load", "--persons", "0"]).exit_code == 0
    published = runner.invoke(app, ["audit", "publish-head", "--to", str(heads), "--key", str(key)])
    assert published.exit_code == 0, published.output
    statements = [p for p in heads.iterdir() if p.name.startswith("head-")]
    assert len(statements) == 1
    public = key.with_name(key.name + ".pub")
    against = ["audit", "verify", "--against", str(heads), "--public-key", str(public)]
    ok = runner.invoke(app, against)
    assert ok.exit_code == 0 and "matches the published heads" in ok.output, ok.output

    _rebuild_chain(url, 5)
    alone = runner.invoke(app, ["audit", "verify"])
    assert alone.exit_code == 0  # the unkeyed chain cannot see the rewrite on its own
    caught = runner.invoke(app, against)
    assert caught.exit_code == 1
    assert "chain rewritten" in caught.output

    # A forged statement (the attacker re-signs nothing: he has no key) is refused as well.
    forged = statements[0].read_text(encoding="utf-8").replace('"seq": ', '"seq": 1')
    (heads / "head-forged.json").write_text(forged, encoding="utf-8")
    forged_run = runner.invoke(app, against)
    assert forged_run.exit_code == 1 and "bad signature" in forged_run.output


def test_yidi_serve_publishes_the_head_on_a_schedule(tmp_path: Path) -> None:
    import time

    from yidi.bootstrap import build_container
    from yidi.demo.loader import load_reference_world
    from yidi.kernel.clock import SystemClock
    from yidi.platform.audit_head import HeadPublisher, generate_key, read_statements
    from yidi.platform.migrate import upgrade
    from yidi.settings import Settings

    url = f"sqlite:///{tmp_path / 'serve.sqlite3'}"
    container = build_container(Settings(database_url=url, demo_mode=True))
    upgrade(container.engine)
    load_reference_world(container.uow())
    from yidi.kernel.audit import AuditEntry

    with container.uow() as uow:
        uow.audit.append(
            AuditEntry(
                at=SystemClock().now(),
                actor="t",
                role="administrator",
                region_code=None,
                action="test",
                subject="s",
                reason="",
                address="",
            )
        )
        uow.commit()
    key = tmp_path / "k.pem"
    generate_key(key)
    publisher = HeadPublisher(container.uow, container.clock, key, tmp_path / "out", 0.001)
    publisher.start()
    deadline = time.monotonic() + 10
    while not (tmp_path / "out" / "latest.json").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    publisher.stop()
    container.engine.dispose()
    found = read_statements(tmp_path / "out")
    assert found and all(statement is not None for _, statement in found)
