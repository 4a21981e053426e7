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
from typing import Any

import pytest
from sqlalchemy import select, text

from hospital_support import BOBAI, BOBAI_CODE, XIE_CARD, at, build_world
from yidi.bootstrap import Container
from yidi.encounter.commands import AdmissionRequest, Credential, HospitalService
from yidi.encounter.sql import HospitalRepository
from yidi.kernel.audit import as_utc
from yidi.platform.tables import lookup_counters


def _counted(container: Container, window: Any) -> int:
    with container.uow() as uow:
        count = uow.session.execute(
            select(lookup_counters.c.count).where(
                lookup_counters.c.institution == BOBAI_CODE,
                lookup_counters.c.window_start == window,
                lookup_counters.c.kind == "all",
            )
        ).scalar()
    return int(count or 0)


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
            request = AdmissionRequest(
                credential=Credential("03", XIE_CARD),
                med_type="21",
                admitted_at=at(20, 8),
                department_code="A03",
                diagnosis_codes=("K80.101",),
            )
            admitted.append(service.admit(BOBAI, request).id)
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
