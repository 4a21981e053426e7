"""Person lookups (1101 and the REST admission check) cannot be used to walk the register.

Each test here failed before person numbers were random, before lookups needed the
credential the patient presents, and before lookups were rate-limited and audited.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from filing_support import api_headers
from hospital_support import (
    BOBAI_CODE,
    NANHUA_CASHIER,
    NANHUA_CODE,
    PENG,
    PENG_CARD,
    PENG_ID,
    PERSON_ID,
    XIE,
    XIE_CARD,
    XIE_LINES,
    nhsa_fee_rows,
)
from yidi.bootstrap import Container, build_container
from yidi.entrypoints.app import create_app
from yidi.platform.tables import lookup_counters, persons

PATH = "/fsi/api/rsfComIfsService/callService"
_ids = itertools.count(1)


def call(
    client: TestClient, infno: str, input_: dict[str, Any], *, hospital: str = BOBAI_CODE
) -> dict[str, Any]:
    envelope = {
        "infno": infno,
        "msgid": f"{hospital}20261120{next(_ids):010d}",
        "mdtrtarea_admvs": "450923" if hospital == BOBAI_CODE else "430400",
        "recer_sys_code": "FSI_LOCAL",
        "infver": "V1.0",
        "opter_type": "1",
        "opter": "C01",
        "opter_name": "收费员",
        "inf_time": "2026-11-20 10:00:00",
        "fixmedins_code": hospital,
        "fixmedins_name": "医院",
        "sign_no": "",
        "input": input_,
    }
    response = client.post(PATH, json=envelope)
    assert response.status_code == 200
    reply: dict[str, Any] = response.json()
    return reply


def ok(reply: dict[str, Any]) -> dict[str, Any]:
    assert reply["infcode"] == 0, reply["err_msg"]
    output: dict[str, Any] = reply["output"]
    return output


def refused(reply: dict[str, Any], code: str) -> None:
    assert reply["infcode"] == -1
    assert reply["err_msg"].startswith(f"[{code}]"), reply["err_msg"]


def _limited(container: Container, **limits: int) -> Iterator[TestClient]:
    settings = container.settings.model_copy(update=limits)
    limited = build_container(
        settings,
        clock=container.clock,
        session_factory=container.session_factory,
        engine=container.engine,
    )
    with TestClient(create_app(limited)) as client:
        yield client


@pytest.fixture
def strict(container: Container) -> Iterator[TestClient]:
    yield from _limited(container, person_lookup_misses_per_hour=5)


def _1101(
    client: TestClient, kind: str, number: str, *, hospital: str = BOBAI_CODE, **extra: str
) -> dict[str, Any]:
    data = {"mdtrt_cert_type": kind, "mdtrt_cert_no": number, **extra}
    return call(client, "1101", {"data": data}, hospital=hospital)


def _misses(container: Container) -> list[str]:
    with container.uow() as uow:
        return [
            c.entry.subject
            for c in uow.audit.walk()
            if c.entry.action == "hospital.person_lookup_miss"
        ]


@pytest.mark.usefixtures("world")
def test_person_numbers_are_random_and_not_a_lookup_key(
    client: TestClient, container: Container
) -> None:
    xie = ok(_1101(client, "03", XIE_CARD))["baseinfo"]["psn_no"]
    peng = ok(_1101(client, "03", PENG_CARD, hospital=NANHUA_CODE))["baseinfo"]["psn_no"]
    assert re.fullmatch(r"PSN\d{22}", xie) and re.fullmatch(r"PSN\d{22}", peng)
    with container.uow() as uow:
        ids = dict(uow.session.execute(select(persons.c.psn_no, persons.c.id)).all())
    assert f"PSN{ids[xie]:010d}" != xie  # not the row id any more
    # The old sequential numbers and the issued number itself find nobody through 1101.
    for guess in ("PSN0000000001", "PSN0000000002", xie):
        refused(_1101(client, "01", guess), "PERSON_NOT_FOUND")


@pytest.mark.usefixtures("world")
def test_each_credential_kind_needs_what_the_patient_presents(
    client: TestClient, container: Container
) -> None:
    with container.uow() as uow:
        token = uow.reference.ecert_token_of(PERSON_ID)
    assert token
    assert ok(_1101(client, "01", token))["baseinfo"]["psn_name"] == XIE.name
    refused(_1101(client, "02", PERSON_ID), "CREDENTIAL_NAME_REQUIRED")
    refused(_1101(client, "02", PERSON_ID, psn_name="张三"), "PERSON_NOT_FOUND")
    by_id = ok(_1101(client, "02", PERSON_ID, psn_name=XIE.name))["baseinfo"]
    assert by_id["certno"] == PERSON_ID and by_id["brdy"] == "1955-03-08"


@pytest.mark.usefixtures("world")
def test_a_reply_never_carries_the_birth_date_beside_the_masked_id(client: TestClient) -> None:
    for number, hospital in ((XIE_CARD, BOBAI_CODE), (PENG_CARD, NANHUA_CODE)):
        reply = _1101(client, "03", number, hospital=hospital)
        base = ok(reply)["baseinfo"]
        assert "*" in base["certno"]
        assert base["brdy"] is None and base["age"] is None
        text = json.dumps(reply, ensure_ascii=False)
        # Neither the full ID number nor the 8 hidden digits appear anywhere in the reply.
        for id_number in (PERSON_ID, PENG_ID):
            assert id_number not in text and id_number[6:14] not in text
        assert "1955-03-08" not in text and "1958-06-02" not in text


@pytest.mark.usefixtures("world")
def test_1101_fills_ethnicity_insured_date_and_employer_from_the_register(
    client: TestClient,
) -> None:
    output = ok(_1101(client, "03", XIE_CARD))
    assert output["baseinfo"]["naty"] == "01"
    insurance = output["insuinfo"][0]
    assert insurance["psn_insu_date"] == "1993-01-01"
    assert insurance["emp_name"] == "衡阳县某农机厂"
    unknown = ok(
        _1101(client, "03", PENG_CARD, hospital=NANHUA_CODE)
    )  # the register does not know them for 彭
    assert unknown["baseinfo"]["naty"] is None and unknown["insuinfo"][0]["emp_name"] is None


@pytest.mark.usefixtures("world")
def test_guessing_is_rate_limited_and_audited_per_institution(
    strict: TestClient, container: Container
) -> None:
    for n in range(1, 6):
        refused(_1101(strict, "01", f"PSN{n:010d}"), "PERSON_NOT_FOUND")
    # The sixth guess, and now even a real card, is refused for the rest of the hour.
    refused(_1101(strict, "01", "PSN0000000006"), "PERSON_LOOKUP_RATE_LIMITED")
    refused(_1101(strict, "03", XIE_CARD), "PERSON_LOOKUP_RATE_LIMITED")
    assert _misses(container) == [f"institution:{BOBAI_CODE}"] * 5
    with container.uow() as uow:
        counts = dict(
            uow.session.execute(
                select(lookup_counters.c.kind, lookup_counters.c.count).where(
                    lookup_counters.c.institution == BOBAI_CODE
                )
            ).all()
        )
    assert counts == {"all": 5, "miss": 5}
    # Another hospital is not affected.
    reply = call(
        strict,
        "1101",
        {"data": {"mdtrt_cert_type": "03", "mdtrt_cert_no": PENG_CARD}},
        hospital=NANHUA_CODE,
    )
    assert reply["infcode"] == 0


@pytest.mark.usefixtures("world")
def test_the_rest_admission_check_cannot_walk_other_patients(
    strict: TestClient, container: Container
) -> None:
    headers = api_headers(container, NANHUA_CASHIER)
    answers = [
        strict.post(
            "/api/hospital/admission-check",
            json={"cert_type": "01", "cert_no": f"PSN{n:010d}"},
            headers=headers,
        )
        for n in range(1, 8)
    ]
    assert [a.status_code for a in answers] == [404] * 5 + [429] * 2
    assert answers[-1].json()["error"]["code"] == "PERSON_LOOKUP_RATE_LIMITED"
    # The patient at the desk, with the ID card and the name, is found (in another hour).
    container.clock.advance(dt.timedelta(hours=1))  # type: ignore[attr-defined]
    headers = api_headers(container, NANHUA_CASHIER)  # the idle session ended: sign in again
    found = strict.post(
        "/api/hospital/admission-check",
        json={"cert_type": "02", "cert_no": PENG_ID, "name": PENG.name},
        headers=headers,
    )
    assert found.status_code == 200, found.text
    assert PENG_ID not in found.text


@pytest.mark.usefixtures("world")
def test_the_settlement_reply_does_not_give_back_the_masked_digits(client: TestClient) -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    import test_hospital_gateway as gateway

    psn_no = gateway.person_no(client)
    mdtrt_id = gateway.ok(gateway.admit(client, psn_no))["result"]["mdtrt_id"]
    rows = nhsa_fee_rows(XIE_LINES, mdtrt_id, psn_no, "2026-11-21 09:00:00")
    gateway.ok(gateway.call(client, "2301", {"feedetail": rows}))
    gateway.discharge(client, mdtrt_id, psn_no)
    reply = gateway.call(client, "2304", gateway.settle_input(mdtrt_id, psn_no, "11811.24"))
    info = gateway.ok(reply)["setlinfo"]
    assert "*" in info["certno"] and info["brdy"] is None and info["age"] is None
    text = json.dumps(reply, ensure_ascii=False, default=str)
    assert PERSON_ID not in text and PERSON_ID[6:14] not in text and "1955-03-08" not in text
