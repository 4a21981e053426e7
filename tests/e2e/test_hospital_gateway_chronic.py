"""门诊慢特病 (med_type 14) through the national gateway: 2201 → 2203 (med_type 14, dise_codg)
→ 2204 → 2206 → 2207 → 2208, and the 2601 冲正 of a 2207, on the database.

The visit is the 博白 visit of ``test_hospital_gateway_outpatient`` (408.60, in scope 341.60)
of the filed 衡阳县 retiree, recognised for 高血压 M03900 from 2026-01-01 by the 衡阳 agency, at
博白县人民医院 connected for chronic care. Hand computation (``policies/430400/
chronic_diseases.yaml``, illustrative): 341.60 × 80% = 273.28 from the fund (limit 1,500.00,
nothing used), the person 135.32.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from test_hospital_gateway import _reverse, call, ok, person_no, refused
from test_hospital_gateway_outpatient import (
    fee_rows,
    outpatient_settle_input,
    register,
    visit_data,
)

from filing_support import HENGYANG, PERSON_ID
from yidi.bootstrap import Container
from yidi.chronic.model import Evidence, NewRecognition
from yidi.platform.tables import (
    chronic_recognitions,
    encounters,
    hospitals,
    settlements,
    year_to_date,
)

BOBAI_CODE = "H45092300001"


@pytest.fixture
def chronic_ready(container: Container, world: None) -> None:
    container.chronic.recognise(
        HENGYANG,
        PERSON_ID,
        NewRecognition("M03900", dt.date(2026, 1, 1), None, Evidence(reference="JD-1")),
    )
    with container.uow() as uow:
        uow.session.execute(
            update(hospitals)
            .where(hospitals.c.fixmedins_code == BOBAI_CODE)
            .values(connected_kinds="inpatient,outpatient,chronic")
        )
        uow.commit()


def _chronic_data(mdtrt_id: str, psn_no: str, **disease: str) -> dict[str, Any]:
    data = visit_data(mdtrt_id, psn_no)
    data["mdtrtinfo"] |= {"med_type": "14", **disease}
    return data


def _counters(container: Container) -> dict[str, int]:
    with container.uow() as uow:
        raw = uow.session.execute(select(year_to_date.c.counters_json)).scalar_one()
    counters: dict[str, int] = json.loads(raw)
    return counters


def test_a_chronic_visit_settles_by_the_disease_and_2208_and_2601_restore_the_year(
    client: TestClient, chronic_ready: None, container: Container
) -> None:
    psn_no = person_no(client)
    mdtrt_id = ok(register(client, psn_no))["data"]["mdtrt_id"]
    data = _chronic_data(mdtrt_id, psn_no, dise_codg="M03900", dise_name="高血压")
    ok(call(client, "2203", data))
    ok(call(client, "2204", {"feedetail": fee_rows(mdtrt_id, psn_no)}))
    settle = outpatient_settle_input(mdtrt_id, psn_no, "408.60")
    settle["mdtrtinfo"] |= {"med_type": "14", "dise_codg": "M03900"}
    pre = ok(call(client, "2206", settle))["setlinfo"]
    msgid = "H450923000012026112000001414"
    info = ok(call(client, "2207", settle, msgid=msgid))["setlinfo"]
    for reply in (pre, info):
        assert reply["inscp_scp_amt"] == Decimal("341.60")
        assert reply["hifp_pay"] == Decimal("273.28")
        assert reply["psn_cash_pay"] == Decimal("135.32")
    assert info["med_type"] == "14"
    counters = _counters(container)
    assert counters["chronic.m03900.fund_paid"] == 27328
    assert "outpatient.pooled_fund_paid" not in counters  # the general cap is not used
    # 2208 cancels it: the disease's year-to-date is back to nothing.
    cancel = {"data": {"setl_id": info["setl_id"], "mdtrt_id": mdtrt_id, "psn_no": psn_no}}
    assert ok(call(client, "2208", cancel))["setlinfo"]["hifp_pay"] == Decimal("-273.28")
    assert "chronic.m03900.fund_paid" not in _counters(container)
    # Settled again, then the 2207's answer is taken back by 2601: restored once more.
    again = "H450923000012026112000001415"
    ok(call(client, "2207", settle, msgid=again))
    assert _counters(container)["chronic.m03900.fund_paid"] == 27328
    assert ok(_reverse(client, psn_no, again, "2207", msgid="RVS-1415")) == {}
    assert "chronic.m03900.fund_paid" not in _counters(container)


def test_a_disease_the_person_is_not_recognised_for_is_refused_and_nothing_changes(
    client: TestClient, chronic_ready: None, container: Container
) -> None:
    psn_no = person_no(client)
    mdtrt_id = ok(register(client, psn_no))["data"]["mdtrt_id"]
    # A client naming the disease as in 5301 (opsp_dise_code) is understood.
    message = refused(
        call(client, "2203", _chronic_data(mdtrt_id, psn_no, opsp_dise_code="M01600")),
        "CHRONIC_NOT_RECOGNISED",
    )
    assert "M01600" in message
    refused(call(client, "2203", _chronic_data(mdtrt_id, psn_no)), "CHRONIC_DISEASE_REQUIRED")
    with container.uow() as uow:
        row = uow.session.execute(
            select(encounters.c.med_type, encounters.c.disease_code).where(
                encounters.c.id == mdtrt_id
            )
        ).one()
        assert tuple(row) == ("11", None)
        assert uow.session.execute(select(settlements.c.id)).all() == []
    # 2201 naming med_type 14 and the recognised disease registers a chronic visit at once.
    chronic = ok(register(client, psn_no, med_type="14", dise_codg="M03900"))["data"]["mdtrt_id"]
    with container.uow() as uow:
        row = uow.session.execute(
            select(encounters.c.med_type, encounters.c.disease_code).where(
                encounters.c.id == chronic
            )
        ).one()
        assert tuple(row) == ("14", "M03900")


def test_an_institution_not_connected_for_chronic_care_refuses_med_type_14(
    client: TestClient, world: None, container: Container
) -> None:
    psn_no = person_no(client)
    refused(
        register(client, psn_no, med_type="14", dise_codg="M03900"),
        "INSTITUTION_KIND_NOT_CONNECTED",
    )
    with container.uow() as uow:
        assert uow.session.execute(select(encounters.c.id)).all() == []


def _lines_of(container: Container, mdtrt_id: str) -> int:
    with container.uow() as uow:
        return len(uow.hospital.fee_lines(mdtrt_id))


def test_2204_lines_naming_a_disease_are_checked_against_the_visit_and_recognition(
    client: TestClient, chronic_ready: None, container: Container
) -> None:
    psn_no = person_no(client)
    general = ok(register(client, psn_no))["data"]["mdtrt_id"]
    named = [row | {"dise_codg": "M03900"} for row in fee_rows(general, psn_no)]
    message = refused(call(client, "2204", {"feedetail": named}), "VISIT_NOT_CHRONIC")
    assert "普通门诊" in message and "2203" in message
    assert _lines_of(container, general) == 0
    ok(call(client, "2202", {"data": {"mdtrt_id": general, "psn_no": psn_no}}))
    chronic = ok(register(client, psn_no, med_type="14", dise_codg="M03900"))["data"]["mdtrt_id"]
    wrong = [row | {"dise_codg": "M01600"} for row in fee_rows(chronic, psn_no)]
    assert "M01600" in refused(
        call(client, "2204", {"feedetail": wrong}), "CHRONIC_DISEASE_MISMATCH"
    )
    assert _lines_of(container, chronic) == 0
    right = [row | {"dise_codg": "m03900"} for row in fee_rows(chronic, psn_no)]
    assert len(ok(call(client, "2204", {"feedetail": right}))["result"]) == 5


def test_2601_of_a_2208_rechecks_the_recognition_before_settling_again(
    client: TestClient, chronic_ready: None, container: Container
) -> None:
    psn_no = person_no(client)
    mdtrt_id = ok(register(client, psn_no, med_type="14", dise_codg="M03900"))["data"]["mdtrt_id"]
    ok(call(client, "2204", {"feedetail": fee_rows(mdtrt_id, psn_no)}))
    settle = outpatient_settle_input(mdtrt_id, psn_no, "408.60")
    settle["mdtrtinfo"] |= {"med_type": "14", "dise_codg": "M03900"}
    info = ok(call(client, "2207", settle, msgid="CHR-2207"))["setlinfo"]
    cancel = {"data": {"setl_id": info["setl_id"], "mdtrt_id": mdtrt_id, "psn_no": psn_no}}
    ok(call(client, "2208", cancel, msgid="CHR-2208"))
    # The agency ends the recognition back before the visit (a correction).
    with container.uow() as uow:
        uow.session.execute(update(chronic_recognitions).values(end_on=dt.date(2026, 6, 30)))
        uow.commit()
    reply = _reverse(client, psn_no, "CHR-2208", "2208", msgid="RVS-CHR")
    assert "M03900" in refused(reply, "CHRONIC_NOT_RECOGNISED")
    # Nothing was settled again: the settlement stays reversed, its reversal done.
    with container.uow() as uow:
        states = sorted(uow.session.execute(select(settlements.c.state)).scalars())
        state = uow.session.execute(
            select(encounters.c.state).where(encounters.c.id == mdtrt_id)
        ).scalar_one()
    assert states == ["done", "reversed"] and state == "registered"
    assert "chronic.m03900.fund_paid" not in _counters(container)
