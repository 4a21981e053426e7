"""The Hengyang seed's two stories, replayed through yidi's own interfaces.

1. 老谢, a 衡阳县 employee retiree resettled in Guangxi, filed by the Hengyang agency, is
   admitted at 博白县人民医院 with his social security card; the hospital's system talks
   to yidi through the national interface (1101 → 2401 → 2301 → 2402 → 2304) and he
   pays only his share: 11,811.24 in total, 3,792.11 self-paid.
2. 彭某某, a Ningxia employee living in 衡阳, filed by the Ningxia agency, is settled at
   南华大学附属第一医院 through the REST API: 7,356.82 in total, 2,769.85 self-paid.

The fee lines are the reconstructions of golden cases c01 and c02 (the report gives only
the totals). Then the province's statistics count both.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from test_hospital_gateway import admit, call, discharge, ok, person_no, settle_input

from filing_support import HUNAN
from hospital_support import (
    NANHUA_CASHIER,
    PENG_CARD,
    XIE_CARD,
    XIE_LINES,
    build_world,
    nhsa_fee_rows,
    token_for,
)
from yidi.bootstrap import Container

PENG_LINES = [
    ("003311000010000", "腹腔镜下胆囊切除术", "1", "4200.00"),
    ("001101000010000", "普通病房床位费（三人间）", "9", "30.00"),
    ("001102000010000", "住院诊查费", "9", "15.00"),
    ("001103000010000", "I级护理", "9", "25.00"),
    ("002501000010000", "血细胞分析（血常规）", "2", "20.00"),
    ("002502000010000", "肝功能检测", "1", "70.00"),
    ("002302010010000", "X线计算机体层（CT）平扫", "1", "300.00"),
    ("XJ01DDA110B002010104371", "注射用头孢曲松钠", "20", "40.00"),
    ("XB05BBA010B002010100003", "氯化钠注射液", "30", "4.50"),
    ("003101000010000", "静脉输液", "18", "12.00"),
    ("C0301010010100000001", "一次性使用输液器", "18", "3.50"),
    ("XA02BCA010A001010102001", "奥美拉唑肠溶胶囊", "28", "2.50"),
    ("C0102010010100000006", "医用敷料", "12", "50.163333"),
    ("XA11GAV001A001010100010", "维生素C泡腾片", "2", "25.00"),
    ("C9901010010100000009", "医用护理垫", "10", "18.086"),
]


def _rest_lines() -> list[dict[str, Any]]:
    return [
        {
            "serial": f"P{index + 1}",
            "catalog_code": code,
            "name": name,
            "quantity": quantity,
            "unit_price": price,
            "amount": str((Decimal(quantity) * Decimal(price)).quantize(Decimal("0.01"))),
            "occurred_at": "2026-11-22T09:00:00+08:00",
        }
        for index, (code, name, quantity, price) in enumerate(PENG_LINES)
    ]


def test_the_seed_story_settles_both_patients_and_the_statistics_count_them(
    client: TestClient, container: Container
) -> None:
    build_world(container)

    # 1. 老谢 at 博白县人民医院, through the national interface.
    psn_no = person_no(client, XIE_CARD)
    mdtrt_id = ok(admit(client, psn_no))["result"]["mdtrt_id"]
    rows = nhsa_fee_rows(XIE_LINES, mdtrt_id, psn_no, "2026-11-21 09:00:00")
    ok(call(client, "2301", {"feedetail": rows}))
    discharge(client, mdtrt_id, psn_no)
    xie = ok(call(client, "2304", settle_input(mdtrt_id, psn_no, "11811.24")))["setlinfo"]
    assert xie["medfee_sumamt"] == Decimal("11811.24")
    assert xie["psn_part_amt"] == Decimal("3792.11")

    # 2. 彭某某 at 南华大学附属第一医院, through the REST API.
    headers = token_for(container, NANHUA_CASHIER)
    check = client.post(
        "/api/hospital/admission-check",
        json={"cert_type": "03", "cert_no": PENG_CARD},
        headers=headers,
    ).json()
    assert check["insured_region_code"] == "640104" and check["filing"]["filing_number"]
    encounter = client.post(
        "/api/hospital/encounters",
        json={
            "cert_type": "03",
            "cert_no": PENG_CARD,
            "med_type": "21",
            "admitted_at": "2026-11-21T08:00:00+08:00",
            "department_code": "A03",
            "diagnosis_codes": ["K80.101"],
        },
        headers=headers,
    ).json()
    peng_id = encounter["mdtrt_id"]
    client.post(
        f"/api/hospital/encounters/{peng_id}/fees", json={"lines": _rest_lines()}, headers=headers
    )
    client.post(
        f"/api/hospital/encounters/{peng_id}/discharge",
        json={"discharged_at": "2026-11-30T10:00:00+08:00"},
        headers=headers,
    )
    peng = client.post(
        f"/api/hospital/encounters/{peng_id}/settle",
        json={"medfee_sumamt": "7356.82"},
        headers=headers,
    )
    assert peng.status_code == 200, peng.text
    amounts = peng.json()["amounts"]
    assert Decimal(amounts["total_charges"]) == Decimal("7356.82")
    assert Decimal(amounts["patient_share"]) == Decimal("2769.85")

    # 3. The statistics count both, by insured and treatment region.
    stats = client.get("/api/hospital/statistics", headers=token_for(container, HUNAN)).json()
    by_route = {(r["insured_region_code"], r["treatment_region_code"]): r for r in stats}
    assert by_route[("430421", "450923")]["settlements"] == 1
    assert Decimal(by_route[("430421", "450923")]["total"]) == Decimal("11811.24")
    assert by_route[("640104", "430400")]["settlements"] == 1
    assert Decimal(by_route[("640104", "430400")]["patient_share"]) == Decimal("2769.85")
    assert sum(r["settlements"] for r in stats) == 2
