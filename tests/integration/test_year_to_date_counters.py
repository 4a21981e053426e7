"""Year-to-date counters named by benefit schemes (门诊起付线, 病种限额 …) are stored and reversed."""

from __future__ import annotations

import json

from hospital_support import BOBAI, XIE_CARD, at, build_world
from yidi.bootstrap import Container
from yidi.encounter.commands import AdmissionRequest, Credential, HospitalService, ytd_from_json
from yidi.kernel.insurance import InsuranceType
from yidi.kernel.money import Money
from yidi.settlement.claims import YearToDate


def test_counters_survive_a_write_and_a_read_and_a_reversal_record(container: Container) -> None:
    build_world(container)
    service = HospitalService(container.uow, container.clock)
    encounter = service.admit(
        BOBAI,
        AdmissionRequest(
            credential=Credential("03", XIE_CARD),
            med_type="21",
            admitted_at=at(20, 8),
            department_code="A03",
            diagnosis_codes=("K80.101",),
        ),
    )
    delta = YearToDate(
        2026,
        deductible_used=Money("100.00"),
        counters={
            "outpatient.deductible_used": Money("200.00"),
            "chronic.disease_limit.diabetes": Money("1234.56"),
        },
    )
    with container.uow() as uow:
        before = uow.hospital.lock_year_to_date(encounter.person_id, InsuranceType.EMPLOYEE, 2026)
        assert before.counters == {}
        uow.hospital.write_year_to_date(
            encounter.person_id, InsuranceType.EMPLOYEE, before.plus(delta)
        )
        uow.commit()
    with container.uow() as uow:
        stored = uow.hospital.read_year_to_date(encounter.person_id, InsuranceType.EMPLOYEE, 2026)
    assert stored.counter("outpatient.deductible_used") == Money("200.00")
    assert stored.counter("chronic.disease_limit.diabetes") == Money("1234.56")
    # the delta as the settlement row keeps it, read back for a reversal
    restored = ytd_from_json(json.loads(json.dumps(delta.as_dict())))
    assert restored == delta
    assert stored.minus(restored) == before
