"""Back up, change more, restore: totals and the audit chain are those of the backup."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from hospital_support import (
    BOBAI_CODE,
    NANHUA_CODE,
    PENG_CARD,
    XIE_CARD,
    XIE_LINES,
    at,
    build_world,
    fee_inputs,
)
from yidi.bootstrap import Container, build_container
from yidi.encounter.commands import AdmissionRequest, Credential, HospitalService
from yidi.funds.model import ledger_is_balanced
from yidi.funds.sql import FundsRepository
from yidi.kernel.access import Caller
from yidi.kernel.audit import AuditEntry, verify_chain
from yidi.kernel.clock import CHINA_TZ, FixedClock
from yidi.kernel.money import money_sum
from yidi.platform.audit_log import AuditRepository
from yidi.platform.backup import backup, restore
from yidi.platform.db import make_engine
from yidi.platform.migrate import upgrade
from yidi.platform.uow import SqlUnitOfWork
from yidi.settings import Settings


@pytest.fixture
def scratch_engine(tmp_path: Path, migrated_engine: Engine) -> Iterator[Engine]:
    """A database of its own: backup/restore replaces whole databases."""
    if migrated_engine.dialect.name == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'scratch.sqlite3'}")
        yield engine
        engine.dispose()
        return
    admin_url = make_url(migrated_engine.url)
    # Named after the test database, so suites on other databases of one server do not collide.
    scratch = f"{admin_url.database}_backup_scratch"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{scratch}"'))
        connection.execute(text(f'CREATE DATABASE "{scratch}"'))
    engine = make_engine(admin_url.set(database=scratch).render_as_string(hide_password=False))
    yield engine
    engine.dispose()
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
    admin.dispose()


def _append(engine: Engine, first: int, last: int) -> None:
    uow = SqlUnitOfWork(sessionmaker(bind=engine))
    with uow:
        for n in range(first, last + 1):
            uow.audit.append(
                AuditEntry(
                    dt.datetime(2026, 11, 20, 9, n, tzinfo=CHINA_TZ),
                    f"u{n}",
                    "agency_handler",
                    "430400",
                    "filing.read",
                    f"filing:{n}",
                )
            )
        uow.commit()


def _chain(engine: Engine) -> tuple[int, str | None]:
    uow = SqlUnitOfWork(sessionmaker(bind=engine))
    with uow:
        entries = list(uow.audit.walk())
        assert verify_chain(entries) is None
        return len(entries), entries[-1].entry_hash if entries else None


def test_restore_brings_back_exactly_the_backed_up_state(
    scratch_engine: Engine, tmp_path: Path
) -> None:
    upgrade(scratch_engine)
    _append(scratch_engine, 1, 5)
    at_backup = _chain(scratch_engine)
    backup(scratch_engine, tmp_path / "yidi.backup")
    _append(scratch_engine, 6, 9)
    assert _chain(scratch_engine)[0] == 9
    restore(scratch_engine, tmp_path / "yidi.backup")
    assert _chain(scratch_engine) == at_backup
    _append(scratch_engine, 10, 10)  # the restored chain keeps growing from the backup's head
    assert _chain(scratch_engine)[0] == 6


def _settle(container: Container, caller: Caller, card: str, day: int) -> tuple[str, str]:
    service = HospitalService(container.uow, container.clock)
    encounter = service.admit(
        caller,
        AdmissionRequest(
            credential=Credential("03", card),
            med_type="21",
            admitted_at=at(day, 8),
            department_code="A03",
            diagnosis_codes=("K80.101",),
        ),
    )
    service.upload_fees(caller, encounter.id, fee_inputs(XIE_LINES, at(day, 12)))
    service.discharge(caller, encounter.id, at(day + 2, 10))
    total = money_sum(
        [line.amount for line in service.encounter_detail(caller, encounter.id).lines]
    )
    return encounter.id, service.settle(caller, encounter.id, total).settlement_id


def _money_state(engine: Engine) -> dict[str, Any]:
    """Year-to-date totals, settlements, the ledger and the audit chain, as plain values."""
    session = sessionmaker(bind=engine)()
    try:
        ytd = session.execute(
            text(
                "SELECT person_id, insurance_type, year, admissions_count, deductible_used_fen,"
                " pooled_fund_paid_fen FROM year_to_date ORDER BY person_id, insurance_type, year"
            )
        ).all()
        settled = session.execute(
            text("SELECT id, kind, state, pooled_fund_paid_fen FROM settlements ORDER BY id")
        ).all()
        funds = FundsRepository(session)
        entries = funds.entries()
        audit = AuditRepository(session)
        chain = list(audit.walk())
        return {
            "ytd": [tuple(row) for row in ytd],
            "settlements": [tuple(row) for row in settled],
            "ledger": [(e.setl_id, str(e.account), e.side.value, e.amount.fen) for e in entries],
            "ledger_balanced": ledger_is_balanced(entries) and funds.ledger_imbalance_fen() == 0,
            "audit_ok": verify_chain(chain, audit.head()) is None,
            "audit": (len(chain), chain[-1].entry_hash if chain else None),
        }
    finally:
        session.close()


def test_restore_after_real_settlements_brings_back_their_totals_ledger_and_audit_chain(
    scratch_engine: Engine, tmp_path: Path
) -> None:
    upgrade(scratch_engine)
    container = build_container(
        Settings(database_url=str(scratch_engine.url), demo_mode=True),
        clock=FixedClock(at(20, 10)),
        engine=scratch_engine,
    )
    build_world(container)
    nanhua = Caller(NANHUA_CODE, "nhfy1")
    _settle(container, nanhua, PENG_CARD, 20)
    _settle(container, Caller(BOBAI_CODE, "bobai"), XIE_CARD, 20)
    at_backup = _money_state(scratch_engine)
    assert len(at_backup["settlements"]) == 2 and at_backup["ytd"]
    assert at_backup["ledger_balanced"] and at_backup["audit_ok"]
    backup(scratch_engine, tmp_path / "settled.backup")

    _settle(container, nanhua, PENG_CARD, 24)
    encounter_id, later = _settle(container, nanhua, PENG_CARD, 27)
    HospitalService(container.uow, container.clock).reverse(nanhua, encounter_id, later)
    changed = _money_state(scratch_engine)
    assert changed["ytd"] != at_backup["ytd"] and len(changed["settlements"]) == 5
    assert changed["ledger"] != at_backup["ledger"] and changed["ledger_balanced"]
    assert changed["audit"][0] > at_backup["audit"][0]

    restore(scratch_engine, tmp_path / "settled.backup")
    restored = _money_state(scratch_engine)
    assert restored == at_backup
    # The restored system keeps working from the backup's state.
    _settle(container, nanhua, PENG_CARD, 27)
    after = _money_state(scratch_engine)
    assert after["ledger_balanced"] and after["audit_ok"]
    assert len(after["settlements"]) == 3
