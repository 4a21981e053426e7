"""The cashier's pages show a general outpatient visit (registered, then settled)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from hospital_support import XIE_CARD
from web_helpers import sign_in
from yidi.bootstrap import Container
from yidi.encounter.commands import Credential, FeeLineInput, VisitRegistration
from yidi.encounter.model import EncounterKind
from yidi.kernel.access import Caller
from yidi.kernel.clock import CHINA_TZ
from yidi.kernel.money import Money

BOBAI = Caller("H45092300001", "bobai", "hospital_cashier")


pytestmark = pytest.mark.usefixtures("hospital_demo_world")


def test_the_cashier_pages_list_and_show_a_visit(container: Container, web: TestClient) -> None:
    service = container.hospital
    visit = service.register_visit(
        BOBAI,
        VisitRegistration(
            Credential("03", XIE_CARD), dt.datetime(2026, 11, 20, 9, 30, tzinfo=CHINA_TZ)
        ),
    )
    sign_in(web, "bobai")
    listed = web.get("/hospital/encounters")
    assert listed.status_code == 200 and "已挂号" in listed.text
    line = FeeLineInput(
        serial="1",
        catalog_code="002301000010000",
        name="常规心电图检查",
        quantity=Decimal(2),
        unit_price=Decimal("25.00"),
        amount=Money("50.00"),
        occurred_at=dt.datetime(2026, 11, 20, 10, tzinfo=CHINA_TZ),
    )
    service.upload_fees(BOBAI, visit.id, [line], kind=EncounterKind.OUTPATIENT)
    service.settle(BOBAI, visit.id, Money("50.00"), kind=EncounterKind.OUTPATIENT)
    detail = web.get(f"/hospital/encounters/{visit.id}")
    assert detail.status_code == 200 and "普通门诊" in detail.text
    statement = web.get(f"/hospital/encounters/{visit.id}/statement")
    assert statement.status_code == 200 and "50.00" in statement.text
