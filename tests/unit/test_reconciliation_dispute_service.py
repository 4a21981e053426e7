"""The 对账差异 use cases on the in-memory unit of work: raising from a 3202 line, the month a
line belongs to, one dispute per line, refusals that write nothing, scope by role and region,
and resent steps."""

from __future__ import annotations

import datetime as dt

import pytest
from fakes_disputes import DisputeDatabase, DisputeUnitOfWork

from yidi.kernel.access import Principal, Role
from yidi.kernel.clock import FixedClock
from yidi.kernel.errors import Conflict, Forbidden, NotFound, Refused
from yidi.kernel.money import Money
from yidi.reconciliation.commands import DisputeService, RaiseRequest, Step
from yidi.reconciliation.model import DisputeAction, DisputeKind, DisputeState, LineAmounts
from yidi.reconciliation.ports import CentreLine

BOBAI = "H45092300001"
CASHIER = Principal("bobai", Role.HOSPITAL_CASHIER, hospital_code=BOBAI)
OTHER_CASHIER = Principal("nhfy1", Role.HOSPITAL_CASHIER, hospital_code="H43040000001")
HENGYANG = Principal("hengyang", Role.AGENCY_HANDLER, "430400")  # the insured place
GUANGXI = Principal("yulin", Role.AGENCY_HANDLER, "450900")  # the treatment place
ZHENGZHOU = Principal("zhengzhou", Role.AGENCY_HANDLER, "410100")
CLEARING = Principal("clearing", Role.CLEARING_OFFICER, "430000")
PROVINCE = Principal("hunan", Role.PROVINCE_OFFICER, "430000")
CENTRE = LineAmounts(Money("812.40"), Money("600.00"), Money("0.00"))
TYPO = LineAmounts(Money("812.41"), Money("600.00"), Money("0.00"))


@pytest.fixture
def db() -> DisputeDatabase:
    database = DisputeDatabase(hospitals={BOBAI: "450923", "H43040000001": "430400"})
    # Settled at 01:30 Beijing time on 1 December: 30 November in UTC, December in China.
    database.lines[(BOBAI, "S1", False)] = CentreLine(
        "S1", False, CENTRE, "430421", dt.datetime(2026, 11, 30, 17, 30, tzinfo=dt.UTC)
    )
    return database


@pytest.fixture
def service(db: DisputeDatabase) -> DisputeService:
    return DisputeService(lambda: DisputeUnitOfWork(db), FixedClock(dt.datetime(2026, 12, 3, 9)))


def typo(**changes: object) -> RaiseRequest:
    values: dict[str, object] = {
        "hospital_code": None,
        "month": "",
        "settlement_id": "S1",
        "from_statement": True,
        "institution": TYPO,
    }
    values.update(changes)
    return RaiseRequest(**values)  # type: ignore[arg-type]


def test_a_statement_line_is_raised_with_both_sides_and_the_china_time_month(
    service: DisputeService, db: DisputeDatabase
) -> None:
    dispute, created = service.raise_dispute(CASHIER, typo())
    assert created and dispute.kind is DisputeKind.AMOUNT
    assert dispute.centre == CENTRE and dispute.institution == TYPO
    assert dispute.month == "2026-12" and dispute.insured_region_code == "430421"
    assert dispute.treatment_region_code == "450923"
    assert [e.action for e in db.audit] == ["reconciliation.dispute_raise"]
    again, created_again = service.raise_dispute(CASHIER, typo(text="再提一次"))
    assert again.id == dispute.id and not created_again and len(db.audit) == 1


def test_the_hospital_without_the_line_raises_a_centre_only_difference(
    service: DisputeService,
) -> None:
    dispute, _ = service.raise_dispute(CASHIER, typo(institution=None))
    assert dispute.kind is DisputeKind.CENTRE_ONLY and dispute.institution is None


def test_refusals_write_nothing(service: DisputeService, db: DisputeDatabase) -> None:
    with pytest.raises(Refused) as same:
        service.raise_dispute(CASHIER, typo(institution=CENTRE))
    assert same.value.code == "DISPUTE_NO_DIFFERENCE"
    with pytest.raises(Forbidden):
        service.raise_dispute(PROVINCE, typo(hospital_code=BOBAI))
    with pytest.raises(NotFound) as outside:
        service.raise_dispute(ZHENGZHOU, RaiseRequest(BOBAI, "2026-11", "本月总额不符"))
    assert outside.value.code == "HOSPITAL_NOT_FOUND"
    assert db.disputes == {} and db.audit == [] and db.commits == 0


def test_each_party_sees_what_its_role_and_region_cover(service: DisputeService) -> None:
    dispute, _ = service.raise_dispute(CASHIER, typo())
    for principal in (CASHIER, HENGYANG, GUANGXI, CLEARING):
        assert service.get(principal, dispute.id).id == dispute.id
        assert service.list_disputes(principal)[0] == 1
    for principal in (OTHER_CASHIER, ZHENGZHOU):
        with pytest.raises(NotFound):
            service.get(principal, dispute.id)
        assert service.list_disputes(principal)[0] == 0
    assert service.open_count(CLEARING, "2026-12") == 1
    assert service.open_count(PROVINCE, "2026-12") == 0  # no disputes for that role
    assert service.open_count(CLEARING, "2026-11") == 0


def test_a_resent_step_is_not_a_second_step_and_a_refused_one_writes_nothing(
    service: DisputeService, db: DisputeDatabase
) -> None:
    dispute, _ = service.raise_dispute(CASHIER, typo())
    with pytest.raises(Refused):
        service.act(CASHIER, dispute.id, Step(DisputeAction.ANSWER, "自己答复"))
    audited = len(db.audit)
    answer = Step(DisputeAction.ANSWER, "中心记录为准")
    first = service.act(HENGYANG, dispute.id, answer)
    resent = service.act(HENGYANG, dispute.id, answer)
    assert first.state is DisputeState.ANSWERED and len(resent.events) == 2
    assert len(db.audit) == audited + 1
    with pytest.raises(Conflict):
        service.act(GUANGXI, dispute.id, Step(DisputeAction.ANSWER, "另一个答复"))
    assert len(db.disputes[dispute.id].events) == 2
