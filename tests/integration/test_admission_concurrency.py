"""Concurrent 2401 admissions of one person at one hospital open one stay, never several.

Six hospital clients send 2401 for the same psn_no at the same hospital at the same moment,
each with its own msgid (so idempotency does not merge them). Before the one-open-stay
constraint the "already open" check was an unlocked read: up to six stays opened, and two of
them could be settled. Now exactly one is admitted and the others are answered, through the
national envelope, with ``ENCOUNTER_ALREADY_OPEN``. On PostgreSQL the transactions really run
concurrently (the unique index decides); on SQLite ``BEGIN IMMEDIATE`` serialises them.
"""

from __future__ import annotations

import itertools
import json
import threading
from typing import Any

import pytest
from sqlalchemy import func, select

from hospital_support import (
    NANHUA_CODE,
    PENG_CARD,
    XIE_LINES,
    at,
    build_world,
    fee_inputs,
)
from yidi.bootstrap import Container
from yidi.encounter.commands import AdmissionRequest, Credential, HospitalService
from yidi.integrations.nhsa.adapter import HospitalGateway
from yidi.integrations.nhsa.envelope import ReplyFactory
from yidi.integrations.nhsa.port import handle
from yidi.kernel.access import Caller
from yidi.kernel.errors import Conflict
from yidi.kernel.money import money_sum
from yidi.platform.tables import encounters

NANHUA = Caller(NANHUA_CODE, "nhfy1")
CLIENTS = 6
_serials = itertools.count(1)


def _envelope(infno: str, input_: dict[str, Any]) -> str:
    return json.dumps(
        {
            "infno": infno,
            "msgid": f"{NANHUA_CODE}20261120{next(_serials):010d}",
            "mdtrtarea_admvs": "430400",
            "insuplc_admdvs": "640104",
            "recer_sys_code": "FSI_LOCAL",
            "infver": "V1.0",
            "opter_type": "1",
            "opter": "C01",
            "opter_name": "收费员",
            "inf_time": "2026-11-20 10:00:00",
            "fixmedins_code": NANHUA_CODE,
            "fixmedins_name": "南华大学附属第一医院",
            "sign_no": "",
            "input": input_,
        },
        ensure_ascii=False,
    )


def _admission(psn_no: str) -> dict[str, Any]:
    return {
        "mdtrtinfo": {
            "psn_no": psn_no,
            "insutype": "310",
            "begntime": "2026-11-20 08:00:00",
            "mdtrt_cert_type": "03",
            "mdtrt_cert_no": PENG_CARD,
            "med_type": "21",
            "ipt_no": "ZY0001",
            "adm_dept_codg": "A03",
            "adm_dept_name": "普外科",
            "dscg_maindiag_code": "K80.101",
            "dscg_maindiag_name": "胆囊结石伴急性胆囊炎",
        },
        "diseinfo": [
            {
                "psn_no": psn_no,
                "diag_type": "1",
                "maindiag_flag": "1",
                "diag_srt_no": "1",
                "diag_code": "K80.101",
                "diag_name": "胆囊结石伴急性胆囊炎",
            }
        ],
    }


def _open_stays(container: Container) -> int:
    with container.uow() as uow:
        return int(
            uow.session.execute(
                select(func.count()).where(
                    encounters.c.hospital_code == NANHUA_CODE,
                    encounters.c.state.in_(("admitted", "discharged")),
                )
            ).scalar_one()
        )


def test_concurrent_admissions_with_different_msgids_open_one_stay(committed: Container) -> None:
    build_world(committed)
    service = HospitalService(committed.uow, committed.clock)
    gateway = HospitalGateway(service)
    replies = ReplyFactory(committed.clock, default_area="430400")
    query = json.loads(
        json.dumps(
            handle(
                _envelope(
                    "1101",
                    {"data": {"mdtrt_cert_type": "03", "mdtrt_cert_no": PENG_CARD, "card_sn": "X"}},
                ),
                gateway,
                replies,
            ),
            default=str,
        )
    )
    assert query["infcode"] == 0, query["err_msg"]
    psn_no = query["output"]["baseinfo"]["psn_no"]
    bodies = [_envelope("2401", _admission(psn_no)) for _ in range(CLIENTS)]
    barrier = threading.Barrier(CLIENTS)
    answers: list[dict[str, Any]] = []

    def client(body: str) -> None:
        barrier.wait(timeout=10)
        answers.append(handle(body, gateway, replies))

    threads = [threading.Thread(target=client, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(answers) == CLIENTS
    admitted = [a for a in answers if a["infcode"] == 0]
    refused = [a for a in answers if a["infcode"] != 0]
    assert len(admitted) == 1, [a["err_msg"] for a in answers]
    assert all(a["err_msg"].startswith("[ENCOUNTER_ALREADY_OPEN]") for a in refused), [
        a["err_msg"] for a in refused
    ]
    assert all("请勿重复办理入院" in a["err_msg"] for a in refused)
    assert _open_stays(committed) == 1


def _request(day: int, hour: int = 8) -> AdmissionRequest:
    return AdmissionRequest(
        credential=Credential("03", PENG_CARD),
        med_type="21",
        admitted_at=at(day, hour),
        department_code="A03",
        diagnosis_codes=("K80.101",),
    )


def test_a_stay_inside_a_settled_one_is_refused_and_reversal_cannot_reopen_a_second(
    committed: Container,
) -> None:
    build_world(committed)
    service = HospitalService(committed.uow, committed.clock)
    first = service.admit(NANHUA, _request(21))
    service.upload_fees(NANHUA, first.id, fee_inputs(XIE_LINES[:6], at(22, 12)))
    service.discharge(NANHUA, first.id, at(23, 18))
    detail = service.encounter_detail(NANHUA, first.id)
    settled = service.settle(NANHUA, first.id, money_sum([line.amount for line in detail.lines]))
    # Admitted on the 22nd, while the settled stay (21st to 23rd) lasted: the same days paid twice.
    with pytest.raises(Conflict) as overlap:
        service.admit(NANHUA, _request(22))
    assert overlap.value.code == "ENCOUNTER_OVERLAPS"
    second = service.admit(NANHUA, _request(24))
    # Reversing the first settlement would reopen it next to the open second stay.
    with pytest.raises(Conflict) as reopened:
        service.reverse(NANHUA, first.id, settled.settlement_id or "")
    assert reopened.value.code == "ENCOUNTER_ALREADY_OPEN"
    assert _open_stays(committed) == 1
    assert service.encounter_detail(NANHUA, second.id).encounter.state == "admitted"
