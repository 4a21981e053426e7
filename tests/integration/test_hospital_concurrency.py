"""Two hospitals settle the same person at the same moment: the year-to-date row lock makes
the second settlement see the first's totals, so neither the deductible nor the annual
cap is consumed twice.

On PostgreSQL this runs in its own schema with real concurrent transactions
(``SELECT … FOR UPDATE``); on SQLite in its own database file, where ``BEGIN IMMEDIATE``
serialises the writers. Both are committed for real, so neither can use the per-test
rollback fixture.
"""

from __future__ import annotations

import threading

from hospital_support import (
    PENG_CARD,
    XIE_LINES,
    at,
    build_world,
    fee_inputs,
)
from yidi.bootstrap import Container
from yidi.encounter.commands import AdmissionRequest, Credential, HospitalService
from yidi.kernel.access import Caller
from yidi.kernel.insurance import InsuranceType
from yidi.kernel.money import Money, money_sum
from yidi.policy.loader import policy_at

NANHUA_1 = Caller("H43040000001", "nhfy1")
NANHUA_2 = Caller("H43040000002", "nhfy2")


def _discharged_encounter(service: HospitalService, caller: Caller, day: int) -> str:
    encounter = service.admit(
        caller,
        AdmissionRequest(
            credential=Credential("03", PENG_CARD),
            med_type="21",
            admitted_at=at(day, 8),
            department_code="A03",
            diagnosis_codes=("K80.101",),
        ),
    )
    big = [(XIE_LINES[14][0], XIE_LINES[14][1], "12", XIE_LINES[14][3]), *XIE_LINES[:6]]
    service.upload_fees(caller, encounter.id, fee_inputs(big, at(day, 12)))
    service.discharge(caller, encounter.id, at(day, 18))
    return encounter.id


def test_two_hospitals_settling_one_person_at_once_never_double_count(
    committed: Container,
) -> None:
    build_world(committed)
    service = HospitalService(committed.uow, committed.clock)
    results = []
    errors: list[BaseException] = []
    rounds = 4
    for round_number in range(rounds):
        day = 21 + round_number
        first = _discharged_encounter(service, NANHUA_1, day)
        second = _discharged_encounter(service, NANHUA_2, day)
        detail = service.encounter_detail(NANHUA_1, first)
        total = money_sum([line.amount for line in detail.lines])
        barrier = threading.Barrier(2)

        def run(
            caller: Caller,
            encounter_id: str,
            total: Money = total,
            barrier: threading.Barrier = barrier,
        ) -> None:
            try:
                barrier.wait(timeout=10)
                results.append(service.settle(caller, encounter_id, total))
            except BaseException as exc:
                errors.append(exc)

        threads = [
            threading.Thread(target=run, args=(NANHUA_1, first)),
            threading.Thread(target=run, args=(NANHUA_2, second)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert errors == []
    assert len(results) == 2 * rounds
    with committed.uow() as uow:
        found = uow.hospital.person_by_psn_no(results[0].psn_no)
    assert found is not None
    person_id = found[0]
    ytd = service.year_to_date(person_id, InsuranceType.EMPLOYEE, 2026)
    assert ytd.admissions_count == 2 * rounds
    # Each settlement saw a different admission number: the deductible was never reused.
    admission_notes = sorted(
        next(text for text in r.explanation_zh if "次住院" in text)
        .split("本年度第")[1]
        .split("次")[0]
        for r in results
    )
    assert admission_notes == sorted(str(n) for n in range(1, 2 * rounds + 1))
    pooled = money_sum([r.amounts["pooled_fund_paid"] for r in results])
    assert ytd.pooled_fund_paid == pooled
    assert ytd.deductible_used == money_sum([r.amounts["deductible_applied"] for r in results])
    cap = policy_at("640000", InsuranceType.EMPLOYEE, at(21).date()).annual_cap
    assert pooled <= cap
