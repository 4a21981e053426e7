"""Manual reimbursement at the insured region for care that was not settled directly."""

from __future__ import annotations

from decimal import Decimal

from fastapi.testclient import TestClient

from filing_support import HENGYANG, PERSON_ID, ZHENGZHOU
from hospital_support import (
    UNFILED_ID,
    manual_claim_with_fees,
    post_manual_claim,
    token_for,
)
from yidi.bootstrap import Container
from yidi.encounter.commands import HospitalService
from yidi.kernel.insurance import InsuranceType
from yidi.kernel.money import Money


def test_unfiled_care_is_reimbursed_after_the_checklist_is_complete(
    client: TestClient, container: Container, world: None
) -> None:
    headers = token_for(container, HENGYANG)
    claim_id = manual_claim_with_fees(client, headers)
    blocked = client.post(f"/api/manual-claims/{claim_id}/approve", headers=headers)
    assert blocked.status_code == 422
    assert blocked.json()["error"]["code"] == "MANUAL_MATERIALS_MISSING"
    assert len(blocked.json()["error"]["details"]["missing"]) == 4
    client.post(
        f"/api/manual-claims/{claim_id}/materials",
        json={"received": ["inpatient_receipt", "itemised_fee_list"]},
        headers=headers,
    )
    still = client.post(f"/api/manual-claims/{claim_id}/approve", headers=headers).json()
    assert "出院记录或住院病案首页" in still["error"]["message"]
    assert "疾病诊断证明书" in still["error"]["message"]
    assert "住院收据原件" not in still["error"]["message"]
    client.post(
        f"/api/manual-claims/{claim_id}/materials",
        json={"received": ["discharge_record", "diagnosis_certificate"]},
        headers=headers,
    )
    preview = client.post(f"/api/manual-claims/{claim_id}/compute", headers=headers).json()
    assert preview["state"] == "computed"
    assert Decimal(preview["amounts"]["total_charges"]) == Decimal("11811.24")
    assert any("未备案" in text for text in preview["explanation_zh"])
    approved = client.post(f"/api/manual-claims/{claim_id}/approve", headers=headers).json()
    assert approved["state"] == "approved"
    assert approved["amounts"] == preview["amounts"]
    assert Decimal(approved["amounts"]["fund_paid_total"]) > 0
    paid = client.post(
        f"/api/manual-claims/{claim_id}/payment",
        json={"reference": "ZF-2026-0001"},
        headers=headers,
    ).json()
    assert paid["state"] == "paid" and paid["payment_reference"] == "ZF-2026-0001"
    service = HospitalService(container.uow, container.clock)
    with container.uow() as uow:
        person_id = uow.hospital.person_id(UNFILED_ID)
    assert person_id is not None
    ytd = service.year_to_date(person_id, InsuranceType.EMPLOYEE, 2026)
    assert ytd.admissions_count == 1
    assert ytd.pooled_fund_paid == Money(approved["amounts"]["pooled_fund_paid"])
    assert client.post(f"/api/manual-claims/{claim_id}/compute", headers=headers).status_code == 409


def test_injury_admission_of_a_filed_person_and_a_catalogue_the_system_lacks(
    client: TestClient, container: Container, world: None
) -> None:
    headers = token_for(container, HENGYANG)
    claim_id = manual_claim_with_fees(
        client,
        headers,
        id_number=PERSON_ID,
        encounter_type="22",
        treatment_region="320100",
        hospital_name="南京市第一医院",
        filing_category="retiree_resettled",
        reason="意外伤害住院",
    )
    computed = client.post(f"/api/manual-claims/{claim_id}/compute", headers=headers).json()
    assert "按参保地 430400 目录对照" in computed["catalog_note"]
    assert Decimal(computed["amounts"]["total_charges"]) == Decimal("11811.24")


def test_another_regions_handler_cannot_see_the_claim(
    client: TestClient, container: Container, world: None
) -> None:
    claim_id = post_manual_claim(client, token_for(container, HENGYANG)).json()["id"]
    theirs = client.get(f"/api/manual-claims/{claim_id}", headers=token_for(container, ZHENGZHOU))
    missing = client.get("/api/manual-claims/MC-NONE", headers=token_for(container, ZHENGZHOU))
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == missing.json()


def test_the_claims_list_is_masked_paged_and_scoped_to_the_handlers_region(
    client: TestClient, container: Container, world: None
) -> None:
    headers = token_for(container, HENGYANG)
    first = post_manual_claim(client, headers).json()["id"]
    second = post_manual_claim(client, headers, id_number=PERSON_ID).json()["id"]
    listed = client.get("/api/manual-claims", params={"limit": 1}, headers=headers)
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert body["total"] == 2 and body["limit"] == 1 and len(body["items"]) == 1
    rest = client.get("/api/manual-claims", params={"offset": 1}, headers=headers).json()
    assert {body["items"][0]["id"], rest["items"][0]["id"]} == {first, second}
    assert UNFILED_ID not in listed.text + str(rest) and PERSON_ID not in listed.text + str(rest)
    item = rest["items"][0]
    assert "*" in item["id_number_masked"] and item["materials_complete"] is False
    assert len(item["missing_materials"]) == 4 and item["total_amount"] is None
    by_id = client.get(
        "/api/manual-claims", params={"id_number": PERSON_ID}, headers=headers
    ).json()
    assert [i["id"] for i in by_id["items"]] == [second]
    partial = client.get("/api/manual-claims", params={"id_number": PERSON_ID[:8]}, headers=headers)
    assert partial.status_code == 422
    assert partial.json()["error"]["code"] == "CLAIM_SEARCH_ID_INCOMPLETE"
    bad_state = client.get("/api/manual-claims", params={"state": "lost"}, headers=headers)
    assert bad_state.status_code == 422
    dated = client.get(
        "/api/manual-claims", params={"from": "2026-11-21", "to": "2026-11-30"}, headers=headers
    ).json()
    assert dated["total"] == 0  # both were taken in on 2026-11-20
    other = client.get("/api/manual-claims", headers=token_for(container, ZHENGZHOU)).json()
    assert other["total"] == 0 and other["items"] == []
