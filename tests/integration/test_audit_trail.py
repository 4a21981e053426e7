"""The audit trail: every full-record read and every state change leaves an entry (who, role,
region, when, what, why, from where); tampering with the table directly is caught by
``yidi audit verify``, which names the first bad entry; personal numbers never reach the logs.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, text
from typer.testing import CliRunner

from filing_support import HENGYANG, PERSON_ID
from hospital_support import (
    NANHUA_CASHIER,
    PENG,
    PENG_CARD,
    PENG_ID,
    XIE_LINES,
    build_world,
    token_for,
)
from yidi.bootstrap import Container, build_container
from yidi.entrypoints.cli.main import app as cli_app
from yidi.kernel.audit import AuditEntry
from yidi.kernel.clock import CHINA_TZ
from yidi.platform.db import make_engine
from yidi.platform.logging_setup import configure_logging
from yidi.platform.migrate import upgrade
from yidi.settings import Settings

TAMPER_SCHEMA = "audit_tamper"


def _entries(container: Container) -> list[Any]:
    with container.uow() as uow:
        return list(uow.audit.walk())


def _lines(rows: list[tuple[str, str, str, str]], occurred_at: str) -> list[dict[str, Any]]:
    return [
        {
            "serial": str(index + 1),
            "catalog_code": code,
            "name": name,
            "quantity": quantity,
            "unit_price": price,
            "amount": str((Decimal(quantity) * Decimal(price)).quantize(Decimal("0.01"))),
            "occurred_at": occurred_at,
        }
        for index, (code, name, quantity, price) in enumerate(rows)
    ]


def test_every_state_change_and_every_full_record_read_is_audited_with_who_and_from_where(
    client: TestClient, container: Container
) -> None:
    world = build_world(container)
    cashier = token_for(container, NANHUA_CASHIER)
    agency = token_for(container, HENGYANG)
    seen: list[str] = []

    def step(expected_action: str, call: Callable[[], Any]) -> Any:
        before = len(_entries(container))
        response = call()
        assert response.status_code < 300, response.text
        new = _entries(container)[before:]
        assert new, f"no audit entry for {expected_action}"
        entry = new[-1].entry
        assert entry.action == expected_action
        assert entry.actor and entry.role and entry.address == "testclient"
        assert PERSON_ID not in entry.subject and PENG_ID not in entry.subject
        seen.append(entry.action)
        return response

    step("filing.read", lambda: client.get(f"/api/filings/{world.xie_filing}", headers=agency))
    assert _entries(container)[-1].entry.region_code == "430400"
    step(
        "hospital.admission_check",
        lambda: client.post(
            "/api/hospital/admission-check",
            json={"cert_type": "03", "cert_no": PENG_CARD},
            headers=cashier,
        ),
    )
    admitted = step(
        "hospital.admit",
        lambda: client.post(
            "/api/hospital/encounters",
            json={
                "cert_type": "03",
                "cert_no": PENG_CARD,
                "med_type": "21",
                "admitted_at": "2026-11-20T08:00:00+08:00",
                "department_code": "A03",
                "diagnosis_codes": ["I21.900"],
            },
            headers=cashier,
        ),
    )
    mdtrt_id = admitted.json()["mdtrt_id"]
    base = f"/api/hospital/encounters/{mdtrt_id}"
    lines = _lines(XIE_LINES[:8], "2026-11-21T09:00:00+08:00")
    step(
        "hospital.fee_upload",
        lambda: client.post(f"{base}/fees", json={"lines": lines}, headers=cashier),
    )
    step(
        "hospital.discharge",
        lambda: client.post(
            f"{base}/discharge",
            json={"discharged_at": "2026-11-28T10:00:00+08:00"},
            headers=cashier,
        ),
    )
    total = str(sum(Decimal(line["amount"]) for line in lines))
    settled = step(
        "hospital.settle",
        lambda: client.post(f"{base}/settle", json={"total_charges": total}, headers=cashier),
    )
    step("hospital.encounter_read", lambda: client.get(base, headers=cashier))
    step("hospital.encounter_read", lambda: client.get(f"{base}/statement", headers=cashier))
    setl_id = settled.json()["setl_id"]
    step(
        "hospital.reverse",
        lambda: client.post(
            f"{base}/settlements/{setl_id}/reversal", json={"reason": "金额有误"}, headers=cashier
        ),
    )
    assert _entries(container)[-1].entry.reason  # why: the reason given is kept
    assert len(seen) == 9


def _tamper_url(database_url: str, tmp_path: Path) -> str:
    if database_url.startswith("postgresql"):
        return f"{database_url}?options=-csearch_path%3D{TAMPER_SCHEMA}"
    return f"sqlite:///{tmp_path / 'tamper.sqlite3'}"


@pytest.fixture
def chain(
    database_url: str, tmp_path: Path, migrated_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Engine]:
    """A committed database with a six-entry chain, and the CLI pointed at it."""
    if database_url.startswith("postgresql"):
        with migrated_engine.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {TAMPER_SCHEMA} CASCADE"))
            connection.execute(text(f"CREATE SCHEMA {TAMPER_SCHEMA}"))
    url = _tamper_url(database_url, tmp_path)
    engine = make_engine(url)
    upgrade(engine)
    container = build_container(Settings(database_url=url, demo_mode=True), engine=engine)
    start = dt.datetime(2026, 11, 20, 9, 0, tzinfo=CHINA_TZ)
    with container.uow() as uow:
        for index in range(6):
            uow.audit.append(
                AuditEntry(
                    start + dt.timedelta(minutes=index),
                    f"user{index}",
                    "agency_handler",
                    "430400",
                    "filing.read",
                    f"filing:F{index}",
                    "",
                    "10.0.0.9",
                )
            )
        uow.commit()
    monkeypatch.setenv("YIDI_DATABASE_URL", url)
    monkeypatch.setenv("YIDI_DEMO_MODE", "1")
    try:
        yield engine
    finally:
        engine.dispose()
        if database_url.startswith("postgresql"):
            with migrated_engine.begin() as connection:
                connection.execute(text(f"DROP SCHEMA IF EXISTS {TAMPER_SCHEMA} CASCADE"))


def _swap_rows_3_and_4(connection: Connection) -> None:
    for old, new in ((3, -3), (4, 3), (-3, 4)):
        connection.execute(
            text("UPDATE audit_log SET seq = :new WHERE seq = :old"), {"old": old, "new": new}
        )


def _append_forged(connection: Connection) -> None:
    """An insert by someone who knows the hashing rule and links it properly."""
    from yidi.kernel.audit import entry_hash

    last = connection.execute(text("SELECT entry_hash FROM audit_log WHERE seq = 6")).scalar_one()
    forged = AuditEntry(
        dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC), "intruder", "administrator", None, "x", "y"
    )
    connection.execute(
        text(
            "INSERT INTO audit_log (seq, at, actor, role, region_code, action, subject, reason,"
            " address, prev_hash, entry_hash) VALUES (7, :at, 'intruder', 'administrator', NULL,"
            " 'x', 'y', '', '', :prev, :hash)"
        ),
        {"at": forged.at, "prev": last, "hash": entry_hash(7, forged, last)},
    )


TAMPERING: dict[str, tuple[Callable[[Connection], Any], int]] = {
    "edit the reason": (
        lambda c: c.execute(text("UPDATE audit_log SET reason = '补录' WHERE seq = 3")),
        3,
    ),
    "edit who acted": (
        lambda c: c.execute(text("UPDATE audit_log SET actor = 'someone-else' WHERE seq = 2")),
        2,
    ),
    "edit the time": (
        lambda c: c.execute(
            text("UPDATE audit_log SET at = :at WHERE seq = 5"),
            {"at": dt.datetime(2026, 11, 19, 1, 0, tzinfo=dt.UTC)},
        ),
        5,
    ),
    "delete an entry in the middle": (
        lambda c: c.execute(text("DELETE FROM audit_log WHERE seq = 4")),
        5,
    ),
    "delete the last entry": (
        lambda c: c.execute(text("DELETE FROM audit_log WHERE seq = 6")),
        6,
    ),
    "reorder two entries": (_swap_rows_3_and_4, 3),
    "insert a forged entry in the middle": (
        lambda c: c.execute(
            text(
                "INSERT INTO audit_log (seq, at, actor, role, action, subject, prev_hash, entry_hash)"
                " VALUES (0, '2026-11-20 01:00:00', 'x', 'administrator', 'a', 's', 'p', 'h')"
            )
        ),
        0,
    ),
    "append a properly linked forged entry": (_append_forged, 7),
}


@pytest.mark.parametrize("case", list(TAMPERING))
def test_audit_verify_names_the_first_tampered_entry(chain: Engine, case: str) -> None:
    runner = CliRunner()
    intact = runner.invoke(cli_app, ["audit", "verify"])
    assert intact.exit_code == 0, intact.output
    assert "6 条" in intact.output
    tamper, first_bad = TAMPERING[case]
    with chain.begin() as connection:
        tamper(connection)
    broken = runner.invoke(cli_app, ["audit", "verify"])
    assert broken.exit_code == 1
    assert f"broken at entry {first_bad}:" in broken.output


def test_a_full_settle_flow_logs_no_unmasked_id_number_or_mobile(
    client: TestClient, container: Container
) -> None:
    """Everything logged at DEBUG (SQL and its parameters included) during a flow that handles
    two persons' ID numbers, cards and mobiles goes through the redaction filter."""
    stream = io.StringIO()
    handler = configure_logging("DEBUG", stream)
    sql_logger = logging.getLogger("sqlalchemy.engine")
    previous_level = sql_logger.level
    sql_logger.setLevel(logging.INFO)  # statements and their parameters: ID numbers included
    try:
        world = build_world(container)
        cashier = token_for(container, NANHUA_CASHIER)
        agency = token_for(container, HENGYANG)
        client.get(f"/api/filings/{world.xie_filing}", headers=agency)
        client.get(f"/api/filings?id_number={PERSON_ID}", headers=agency)
        client.post(
            "/api/hospital/admission-check",
            json={"cert_type": "02", "cert_no": PENG_ID, "name": PENG.name},
            headers=cashier,
        )
        admitted = client.post(
            "/api/hospital/encounters",
            json={
                "cert_type": "02",
                "cert_no": PENG_ID,
                "name": PENG.name,
                "med_type": "21",
                "admitted_at": "2026-11-20T08:00:00+08:00",
                "department_code": "A03",
                "diagnosis_codes": ["I21.900"],
            },
            headers=cashier,
        )
        assert admitted.status_code == 201, admitted.text
        base = f"/api/hospital/encounters/{admitted.json()['mdtrt_id']}"
        lines = _lines(XIE_LINES[:5], "2026-11-21T09:00:00+08:00")
        client.post(f"{base}/fees", json={"lines": lines}, headers=cashier)
        client.post(
            f"{base}/discharge",
            json={"discharged_at": "2026-11-28T10:00:00+08:00"},
            headers=cashier,
        )
        total = str(sum(Decimal(line["amount"]) for line in lines))
        settled = client.post(f"{base}/settle", json={"total_charges": total}, headers=cashier)
        assert settled.status_code == 200, settled.text
        logging.getLogger("yidi.test").warning("operator typed %s and 13909511234", PERSON_ID)
    finally:
        sql_logger.setLevel(previous_level)
        logging.getLogger().removeHandler(handler)
    logged = stream.getvalue()
    assert len(logged) > 1000, "the flow logged its SQL"
    for secret in (PERSON_ID, PENG_ID, "13807341234", "13909511234"):
        assert secret not in logged, secret
    assert PERSON_ID[:6] + "********" in logged  # masked, not dropped
