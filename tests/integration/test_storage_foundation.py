from __future__ import annotations

import datetime as dt

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, text

from yidi.bootstrap import Container
from yidi.demo.loader import load_reference_world
from yidi.kernel.audit import AuditEntry, verify_chain
from yidi.kernel.clock import CHINA_TZ
from yidi.kernel.errors import Conflict
from yidi.platform.migrate import current_revision, head_revision
from yidi.platform.tables import metadata


def test_migrations_reach_head_and_match_the_table_definitions(migrated_engine: Engine) -> None:
    assert current_revision(migrated_engine) == head_revision()
    with migrated_engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert differences == []


def test_demo_world_loads_the_seed_agencies_and_fifteen_hengyang_hospitals_once(
    container: Container,
) -> None:
    first = load_reference_world(container.uow())
    second = load_reference_world(container.uow())
    assert first.hospitals_added >= 15 and second.hospitals_added == 0
    with container.uow() as uow:
        hengyang = [h for h in uow.reference.hospitals("4304")]
        assert len(hengyang) == 15
        assert sum(1 for h in hengyang if h.level == 3) == 7
        city = uow.reference.agency("A430400")
        assert city is not None and city.phone == "0734-8867038"


def _entry(n: int) -> AuditEntry:
    return AuditEntry(
        at=dt.datetime(2026, 11, 20, 9, n, tzinfo=CHINA_TZ),
        actor=f"handler{n}",
        role="agency_handler",
        region_code="430400",
        action="filing.read",
        subject=f"filing:{n}",
    )


def test_audit_chain_verifies_and_names_the_first_tampered_entry(container: Container) -> None:
    with container.uow() as uow:
        for n in range(1, 6):
            uow.audit.append(_entry(n))
        uow.commit()
    with container.uow() as uow:
        assert verify_chain(uow.audit.walk()) is None
        uow.session.execute(text("UPDATE audit_log SET actor = 'mallory' WHERE seq = 3"))
        broken = verify_chain(uow.audit.walk())
        assert broken is not None and broken.seq == 3


def test_audit_chain_catches_a_removed_entry(container: Container) -> None:
    with container.uow() as uow:
        for n in range(1, 5):
            uow.audit.append(_entry(n))
        uow.session.execute(text("DELETE FROM audit_log WHERE seq = 2"))
        broken = verify_chain(uow.audit.walk())
        assert broken is not None and broken.seq == 3


def test_idempotency_returns_the_first_answer_and_refuses_a_reused_key(
    container: Container,
) -> None:
    now = container.clock.now()
    with container.uow() as uow:
        assert uow.idempotency.recall("settle", "M1", "aaa") is None
        uow.idempotency.remember("settle", "M1", "aaa", {"setl_id": "S1"}, now)
        uow.commit()
    with container.uow() as uow:
        assert uow.idempotency.recall("settle", "M1", "aaa") == {"setl_id": "S1"}
        with pytest.raises(Conflict) as caught:
            uow.idempotency.recall("settle", "M1", "bbb")
        assert caught.value.code == "IDEMPOTENCY_KEY_REUSED"
