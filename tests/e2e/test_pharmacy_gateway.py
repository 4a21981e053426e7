"""Designated retail pharmacy (定点零售药店) through the national gateway: 1101 → 2101 → 2102 →
2103 on the database, retries, and the refusals that write nothing.

Golden case, computed by hand (参保地政策、就医地目录): the filed 衡阳县 retiree 谢某某 (职工医保,
insured 430421, policy of 430400) buys at 博白县某大药房 (P45092300001, 博白 450923) on
2026-11-20 with 100.00 in his personal account. The treatment region's catalogue (450000):

    苯磺酸氨氯地平片  28 × 1.20 = 33.60  甲类          in scope 33.60
    阿托伐他汀钙片    28 × 3.20 = 89.60  甲类 (in 广西; 乙类 in 衡阳)  in scope 89.60
    维生素C泡腾片      2 × 25.00 = 50.00  丙类          fully self-paid 50.00
    total 173.20 = fully self-paid 50.00 + in scope 123.20

The insured region's pharmacy scheme (policies/430400/employee/outpatient.yaml, ``pharmacy``,
illustrative) pays nothing from a fund: the person's share is 173.20; the personal account pays
it up to the balance (scope patient_share): 100.00; cash 73.20; balance after 0.00.
"""

from __future__ import annotations

import itertools
import json
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from test_hospital_gateway import PATH, call, ok, person_no, refused

from hospital_support import PERSON_ID, UNFILED_CARD
from yidi.accounts import commands as accounts
from yidi.bootstrap import Container
from yidi.platform.tables import encounters, fee_lines, settlements

PHARMACY = "P45092300001"
UNCONNECTED_PHARMACY = "P45092300002"
HOSPITAL = "H45092300001"
DRUGS = [
    ("XC08CAA010A001010100009", "苯磺酸氨氯地平片", "28", "1.20", "33.60"),
    ("XC10AAA200A001010101234", "阿托伐他汀钙片", "28", "3.20", "89.60"),
    ("XA11GAV001A001010100010", "维生素C泡腾片", "2", "25.00", "50.00"),
]
_msgids = itertools.count(1)


def purchase(psn_no: str, total: str = "173.20", **changes: Any) -> dict[str, Any]:
    info = {
        "psn_no": psn_no,
        "mdtrt_cert_type": "03",
        "mdtrt_cert_no": "A12345678",
        "begntime": "2026-11-20 10:00:00",
        "medfee_sumamt": total,
        "insutype": "310",
        "acct_used_flag": "1",
        "med_type": "41",
    }
    info.update(changes)
    rows = [
        {
            "feedetl_sn": f"YD{index + 1}",
            "rxno": "RX450923202611200001" if index < 2 else None,
            "rx_circ_flag": "1" if index < 2 else "0",
            "fee_ocur_time": "2026-11-20 10:00:00",
            "med_list_codg": code,
            "medins_list_codg": f"YP{index + 1:04d}",
            "det_item_fee_sumamt": amount,
            "cnt": quantity,
            "pric": price,
            "bilg_dr_codg": "D450923001",
            "bilg_dr_name": "王医生",
        }
        for index, (code, _name, quantity, price, amount) in enumerate(DRUGS)
    ]
    return {"druginfo": info, "drugdetail": rows}


def pharmacy_call(
    client: TestClient,
    infno: str,
    input_: dict[str, Any],
    *,
    msgid: str | None = None,
    institution: str = PHARMACY,
) -> dict[str, Any]:
    return call(
        client,
        infno,
        input_,
        msgid=msgid or f"{institution}2026112000{next(_msgids):06d}",
        hospital=institution,
    )


def credit(container: Container, amount: str = "100.00") -> None:
    accounts.credit(
        container.uow(),
        container.clock,
        id_number=PERSON_ID,
        year=2026,
        amount=amount,
        reference="HN-2026-PHARMACY",
        source="单位缴费划入",
        actor="test",
    )


def counts(container: Container) -> tuple[int, int, int]:
    with container.uow() as uow:
        return (
            uow.session.execute(select(func.count()).select_from(encounters)).scalar_one(),
            uow.session.execute(select(func.count()).select_from(fee_lines)).scalar_one(),
            uow.session.execute(select(func.count()).select_from(settlements)).scalar_one(),
        )


def test_2101_2102_2103_the_golden_purchase_to_the_fen(
    client: TestClient, world: None, container: Container
) -> None:
    credit(container)
    psn_no = person_no(client, hospital=PHARMACY)
    before = counts(container)
    pre = ok(pharmacy_call(client, "2101", purchase(psn_no)))
    assert counts(container) == before  # 2101 writes nothing
    assert pre["setlinfo"]["mdtrt_id"] is None and "setl_id" not in pre["setlinfo"]
    expected = {
        "medfee_sumamt": Decimal("173.20"),
        "fulamt_ownpay_amt": Decimal("50.00"),
        "overlmt_selfpay": Decimal("0.00"),
        "preselfpay_amt": Decimal("0.00"),
        "inscp_scp_amt": Decimal("123.20"),
        "hifp_pay": Decimal("0.00"),
        "fund_pay_sumamt": Decimal("0.00"),
        "psn_part_amt": Decimal("173.20"),
        "acct_pay": Decimal("100.00"),
        "psn_cash_pay": Decimal("73.20"),
        "balc": Decimal("0.00"),
        "clr_type": "41",
        "med_type": "41",
    }
    assert {k: pre["setlinfo"][k] for k in expected} == expected
    assert [row["inscp_scp_amt"] for row in pre["detlcutinfo"]] == [
        Decimal("33.60"),
        Decimal("89.60"),
        Decimal("0.00"),
    ]
    assert [row["chrgitm_lv"] for row in pre["detlcutinfo"]] == ["01", "01", "03"]

    msgid = f"{PHARMACY}20261120009999"
    settled = ok(pharmacy_call(client, "2102", purchase(psn_no), msgid=msgid))
    info = settled["setlinfo"]
    assert {k: info[k] for k in expected} == expected
    assert info["setl_id"] and info["mdtrt_id"] and info["medins_setl_id"] == msgid
    with container.uow() as uow:
        row = uow.session.execute(
            select(encounters).where(encounters.c.id == info["mdtrt_id"])
        ).one()
    assert row.med_type == "41" and row.state == "settled"
    assert row.prescription_numbers == "RX450923202611200001"

    # The same message again: the first answer, nothing new.
    again = ok(pharmacy_call(client, "2102", purchase(psn_no), msgid=msgid))
    assert again["setlinfo"]["setl_id"] == info["setl_id"]
    assert counts(container) == (before[0] + 1, before[1] + 3, before[2] + 1)

    # The same msgid with different content is refused and writes nothing.
    other = purchase(psn_no, "123.20")
    other["drugdetail"] = other["drugdetail"][:2]
    refused(pharmacy_call(client, "2102", other, msgid=msgid), "IDEMPOTENCY_KEY_REUSED")
    assert counts(container) == (before[0] + 1, before[1] + 3, before[2] + 1)

    ref = {"data": {"setl_id": info["setl_id"], "mdtrt_id": info["mdtrt_id"], "psn_no": psn_no}}
    cancel_msgid = f"{PHARMACY}20261120008888"
    reversed_ = ok(pharmacy_call(client, "2103", ref, msgid=cancel_msgid))["setlinfo"]
    assert reversed_["setl_id"] == info["setl_id"]
    assert reversed_["acct_pay"] == Decimal("-100.00")
    assert reversed_["medfee_sumamt"] == Decimal("-173.20")
    assert reversed_["balc"] == Decimal("100.00")  # the account is given back
    assert reversed_["clr_type"] == "41"
    # A retry of the 2103 answers the same; a new 2103 finds nothing left to cancel.
    retry = ok(pharmacy_call(client, "2103", ref, msgid=cancel_msgid))["setlinfo"]
    assert retry["exp_content"] == reversed_["exp_content"]
    refused(pharmacy_call(client, "2103", ref), "SETTLEMENT_ALREADY_REVERSED")
    with container.uow() as uow:
        state = uow.session.execute(
            select(encounters.c.state).where(encounters.c.id == info["mdtrt_id"])
        ).scalar_one()
    assert state == "cancelled"


def test_a_pharmacy_sending_inpatient_or_outpatient_transactions_is_refused(
    client: TestClient, world: None, container: Container
) -> None:
    psn_no = person_no(client, hospital=PHARMACY)
    before = counts(container)
    admission = {
        "mdtrtinfo": {
            "psn_no": psn_no,
            "insutype": "310",
            "begntime": "2026-11-20 09:00:00",
            "med_type": "21",
            "ipt_no": "ZY001",
            "adm_dept_codg": "A03",
            "dscg_maindiag_code": "K80.1",
        }
    }
    message = refused(pharmacy_call(client, "2401", admission), "INSTITUTION_NOT_HOSPITAL")
    assert "定点零售药店" in message and "2101" in message
    visit = {
        "mdtrtinfo": {
            "psn_no": psn_no,
            "insutype": "310",
            "begntime": "2026-11-20 09:30:00",
            "ipt_otp_no": "MZ001",
        }
    }
    refused(pharmacy_call(client, "2201", visit), "INSTITUTION_NOT_HOSPITAL")
    assert counts(container) == before


def test_a_hospital_sending_pharmacy_transactions_is_refused(
    client: TestClient, world: None, container: Container
) -> None:
    psn_no = person_no(client)
    before = counts(container)
    for infno in ("2101", "2102"):
        message = refused(
            pharmacy_call(client, infno, purchase(psn_no), institution=HOSPITAL),
            "INSTITUTION_NOT_PHARMACY",
        )
        assert "定点医疗机构" in message
    assert counts(container) == before


def test_a_pharmacy_not_connected_for_purchases_says_so_with_the_agency_phone(
    client: TestClient, world: None, container: Container
) -> None:
    psn_no = person_no(client, hospital=PHARMACY)
    before = counts(container)
    message = refused(
        pharmacy_call(client, "2102", purchase(psn_no), institution=UNCONNECTED_PHARMACY),
        "INSTITUTION_KIND_NOT_CONNECTED",
    )
    assert "药店购药" in message and "0734" in message  # 衡阳县 agency phone
    assert counts(container) == before


def test_a_drug_outside_the_catalogue_is_refused_and_nothing_is_written(
    client: TestClient, world: None, container: Container
) -> None:
    psn_no = person_no(client, hospital=PHARMACY)
    before = counts(container)
    body = purchase(psn_no)
    body["drugdetail"][0]["med_list_codg"] = "XZ99ZZZ999Z999999999999"
    message = refused(pharmacy_call(client, "2102", body), "FEE_CATALOG_CODE_UNKNOWN")
    assert "XZ99ZZZ999Z999999999999" in message and "YD1" in message
    refused(pharmacy_call(client, "2101", body), "FEE_CATALOG_CODE_UNKNOWN")
    assert counts(container) == before


def test_bad_purchases_get_stable_codes(
    client: TestClient, world: None, container: Container
) -> None:
    psn_no = person_no(client, hospital=PHARMACY)
    before = counts(container)
    refused(pharmacy_call(client, "2102", purchase(psn_no, "170.00")), "MEDFEE_SUMAMT_MISMATCH")
    refused(pharmacy_call(client, "2102", purchase(psn_no, med_type="11")), "MED_TYPE_NOT_DIRECT")
    body = purchase(psn_no)
    body["drugdetail"][0]["rxno"] = None
    refused(pharmacy_call(client, "2102", body), "PRESCRIPTION_NUMBER_REQUIRED")
    missing = purchase(psn_no)
    del missing["drugdetail"]
    refused(pharmacy_call(client, "2102", missing), "NHSA_INPUT_INVALID")
    envelope = {"infno": "2102", "fixmedins_code": PHARMACY, "input": purchase(psn_no)}
    no_msgid = json.loads(client.post(PATH, json=envelope).content, parse_float=Decimal)
    refused(no_msgid, "NHSA_MSGID_MISSING")  # 2102 changes state: it needs a msgid
    assert counts(container) == before


def test_an_unfiled_cross_region_buyer_is_refused_with_the_agency_phone(
    client: TestClient, world: None, container: Container
) -> None:
    # 1101 itself refuses the unfiled buyer; a pharmacy that sends 2102 anyway is refused too.
    refused(
        call(
            client,
            "1101",
            {"data": {"mdtrt_cert_type": "03", "mdtrt_cert_no": UNFILED_CARD}},
            hospital=PHARMACY,
        ),
        "FILING_NOT_VALID",
    )
    with container.uow() as uow:
        unfiled = uow.reference.person_by_card(UNFILED_CARD)
    assert unfiled is not None
    psn_no = unfiled.psn_no
    before = counts(container)
    message = refused(pharmacy_call(client, "2102", purchase(psn_no)), "FILING_NOT_VALID")
    assert "0734" in message
    assert counts(container) == before
