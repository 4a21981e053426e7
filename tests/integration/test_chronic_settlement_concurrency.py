"""Two 门诊慢特病 settlements of one person and one disease at the same moment never both use
the same remaining annual limit: the year-to-date row is locked, the second settlement reads
what the first committed.

高血压 M03900 (Hengyang list, illustrative): fund's annual limit 1,500.00, 1,200.00 already
used, so 300.00 is left. Each visit alone would be paid 341.60 × 80% = 273.28; together the
fund pays exactly the 300.00 left (273.28 to one, 26.72 to the other), never 546.56.

Real concurrent transactions (PostgreSQL: its own schema; SQLite: its own file), committed.
"""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import insert, update

from concurrency_support import at_once
from filing_support import HENGYANG, PERSON_ID
from hospital_support import BOBAI, XIE_CARD, at, build_world, fee_inputs
from yidi.bootstrap import Container
from yidi.chronic.model import Evidence, NewRecognition
from yidi.encounter.commands import Credential, HospitalService, VisitData, VisitRegistration
from yidi.encounter.model import EncounterKind
from yidi.kernel.insurance import InsuranceType
from yidi.kernel.money import Money, money_sum
from yidi.platform.tables import hospitals, year_to_date

VISIT_LINES = [
    ("002501000010000", "血细胞分析（血常规）", "1", "20.00"),
    ("002301000010000", "常规心电图检查", "2", "25.00"),
    ("002302010010000", "X线计算机体层（CT）平扫", "1", "280.00"),
    ("XC08CAA010A001010100009", "苯磺酸氨氯地平片", "28", "1.20"),
    ("XA11GAV001A001010100010", "维生素C泡腾片", "1", "25.00"),
]
TOTAL = Money("408.60")


def _chronic_visit(service: HospitalService, number: str) -> str:
    visit = service.register_visit(
        BOBAI,
        VisitRegistration(
            Credential("03", XIE_CARD),
            registered_at=at(20, 9, 30),
            outpatient_number=number,
            med_type="14",
            disease_code="M03900",
        ),
    )
    service.record_visit(BOBAI, visit.id, VisitData(("I10",), med_type="14"))
    service.upload_fees(
        BOBAI,
        visit.id,
        fee_inputs(VISIT_LINES, at(20, 10), prefix=number),
        kind=EncounterKind.OUTPATIENT,
    )
    return visit.id


def test_two_chronic_settlements_at_once_share_the_remaining_limit_once(
    committed: Container,
) -> None:
    build_world(committed)
    committed.chronic.recognise(
        HENGYANG,
        PERSON_ID,
        NewRecognition("M03900", dt.date(2026, 1, 1), None, Evidence(reference="JD-1")),
    )
    service = HospitalService(committed.uow, committed.clock)
    first = _chronic_visit_after_connecting(committed, service)
    second = _chronic_visit(service, "MZ2")
    person_id = service.encounter_detail(BOBAI, first).encounter.person_id
    with committed.uow() as uow:
        uow.session.execute(
            insert(year_to_date).values(
                person_id=person_id,
                insurance_type=InsuranceType.EMPLOYEE.value,
                year=2026,
                counters_json=json.dumps({"chronic.m03900.fund_paid": 120000}),
            )
        )
        uow.commit()
    results, errors = at_once(
        [
            lambda visit=visit: service.settle(BOBAI, visit, TOTAL, kind=EncounterKind.OUTPATIENT)
            for visit in (first, second)
        ],
        catching=(BaseException,),
    )
    assert errors == []
    paid = sorted(str(r.amounts["pooled_fund_paid"]) for r in results)
    assert paid == ["26.72", "273.28"]
    assert money_sum([r.amounts["pooled_fund_paid"] for r in results]) == Money("300.00")
    ytd = service.year_to_date(person_id, InsuranceType.EMPLOYEE, 2026)
    assert ytd.counter("chronic.m03900.fund_paid") == Money("1500.00")
    assert ytd.admissions_count == 0


def _chronic_visit_after_connecting(committed: Container, service: HospitalService) -> str:
    with committed.uow() as uow:
        uow.session.execute(
            update(hospitals)
            .where(hospitals.c.fixmedins_code == BOBAI.hospital_code)
            .values(connected_kinds="inpatient,outpatient,chronic")
        )
        uow.commit()
    return _chronic_visit(service, "MZ1")
