"""The institution's lookup counter is counted just before the commit, so its row is not
locked while the transaction that looked the person up does its work: another request of
the same institution counts its own lookup meanwhile without waiting. Before, the count
was the transaction's first write and one pharmacy's purchases settled one at a time
(``bench/outpatient_gateway_bench.py``).

PostgreSQL only: row locks between real concurrent transactions (SQLite serialises its
writers whole). The transactions commit for real, in a schema of this module's own.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from sqlalchemy import select, text

from hospital_support import BOBAI, BOBAI_CODE, XIE_CARD, at, build_world
from yidi.bootstrap import Container
from yidi.encounter.commands import AdmissionRequest, Credential, HospitalService
from yidi.encounter.sql import HospitalRepository
from yidi.kernel.audit import AuditEntry, as_utc
from yidi.kernel.errors import NotFound
from yidi.platform.audit_log import AuditRepository
from yidi.platform.tables import lookup_counters


def _counted(container: Container, window: Any, kind: str = "all") -> int:
    with container.uow() as uow:
        count = uow.session.execute(
            select(lookup_counters.c.count).where(
                lookup_counters.c.institution == BOBAI_CODE,
                lookup_counters.c.window_start == window,
                lookup_counters.c.kind == kind,
            )
        ).scalar()
    return int(count or 0)


def _admission() -> AdmissionRequest:
    return AdmissionRequest(
        credential=Credential("03", XIE_CARD),
        med_type="21",
        admitted_at=at(20, 8),
        department_code="A03",
        diagnosis_codes=("K80.101",),
    )


def test_the_counter_row_is_free_while_the_looking_up_transaction_works(
    committed: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    if committed.engine.dialect.name != "postgresql":
        pytest.skip("row locks between concurrent transactions: PostgreSQL")
    build_world(committed)
    service = HospitalService(committed.uow, committed.clock)
    window = as_utc(committed.clock.now()).replace(minute=0, second=0, microsecond=0)
    before = _counted(committed, window)

    paused, resume = threading.Event(), threading.Event()
    add_encounter = HospitalRepository.add_encounter

    def pausing(self: HospitalRepository, values: dict[str, Any]) -> None:
        add_encounter(self, values)  # the stay is written, its transaction still open
        paused.set()
        if not resume.wait(timeout=30):
            raise TimeoutError("never resumed")

    monkeypatch.setattr(HospitalRepository, "add_encounter", pausing)
    errors: list[BaseException] = []
    admitted: list[str] = []

    def admit() -> None:
        try:
            admitted.append(service.admit(BOBAI, _admission()).id)
        except BaseException as exc:
            errors.append(exc)

    worker = threading.Thread(target=admit)
    worker.start()
    seen: list[tuple[int, int]] = []
    try:
        assert paused.wait(timeout=30), errors
        # Another request of the institution counts its lookup now; were the row locked by
        # the paused transaction this would wait for it and fail after the lock timeout.
        with committed.uow() as uow:
            uow.session.execute(text("SET LOCAL lock_timeout = '3s'"))
            uow.hospital.count_lookup_at_commit(
                BOBAI_CODE, window, lambda counted, misses: seen.append((counted, misses))
            )
            uow.commit()
    finally:
        resume.set()
        worker.join(timeout=30)
    assert not errors and len(admitted) == 1
    assert seen == [(before + 1, 0)]  # counted before the paused one committed
    assert _counted(committed, window) == before + 2  # and the paused one counted at commit


def test_a_miss_recorded_while_a_lookup_holds_the_audit_head_does_not_deadlock(
    committed: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The admission has appended its audit entry (its transaction holds the chain's head)
    and counts its lookup at commit; a miss of the same institution recorded meanwhile
    takes the head before the counter rows, so it waits for the admission instead of
    holding the counter row the admission's commit needs."""
    if committed.engine.dialect.name != "postgresql":
        pytest.skip("row locks between concurrent transactions: PostgreSQL")
    build_world(committed)
    service = HospitalService(committed.uow, committed.clock)
    window = as_utc(committed.clock.now()).replace(minute=0, second=0, microsecond=0)
    before = _counted(committed, window)

    paused, resume = threading.Event(), threading.Event()
    append = AuditRepository.append

    def pausing(self: AuditRepository, entry: AuditEntry) -> Any:
        chained = append(self, entry)
        if entry.action == "hospital.admit":
            paused.set()
            if not resume.wait(timeout=30):
                raise TimeoutError("never resumed")
        return chained

    monkeypatch.setattr(AuditRepository, "append", pausing)
    errors: list[BaseException] = []

    def admit() -> None:
        try:
            service.admit(BOBAI, _admission())
        except BaseException as exc:
            errors.append(exc)

    def miss() -> None:
        try:
            service.admission_check(BOBAI, Credential("03", "NOBODY0001"))
        except NotFound:
            pass
        except BaseException as exc:
            errors.append(exc)

    admitting, missing = threading.Thread(target=admit), threading.Thread(target=miss)
    admitting.start()
    try:
        assert paused.wait(timeout=30), errors
        missing.start()
        deadline = time.monotonic() + 10
        with committed.engine.connect() as connection:  # until the miss waits for a lock
            while time.monotonic() < deadline:
                waiting = connection.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                        " AND datname = current_database() AND pid <> pg_backend_pid()"
                    )
                ).scalar_one()
                connection.rollback()
                if waiting:
                    break
                time.sleep(0.05)
    finally:
        resume.set()
        admitting.join(timeout=30)
        missing.join(timeout=30)
    assert not errors, errors
    assert _counted(committed, window) == before + 2  # the admission's lookup and the miss
    assert _counted(committed, window, "miss") == 1
