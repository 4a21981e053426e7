"""门诊慢特病 认定 over REST and 5301 on the national gateway, on the database.

谢某某 (insured in 衡阳县 430421, inside the 衡阳 agency's region 430400) is recognised for
高血压 (M03900) by the 衡阳 agency; 郑州's agency cannot see him; he sees his own; the 湖南
province sees him; a hospital asks 5301 with the psn_no it got from 1101.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from test_hospital_gateway import call, ok, person_no, refused

from filing_support import HENGYANG, HUNAN, PERSON, PERSON_ID, STRANGER, ZHENGZHOU
from hospital_support import token_for
from yidi.bootstrap import Container
from yidi.platform.tables import audit_log, chronic_recognitions

BASE = "/api/chronic"


def body(**changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id_number": PERSON_ID,
        "disease_code": "M03900",
        "begin_on": "2026-01-01",
        "evidence": {"hospital_code": "H43040000001", "doctor_name": "李医生", "reference": "JD-1"},
    }
    payload.update(changes)
    return payload


def rows(container: Container) -> int:
    with container.uow() as uow:
        return int(
            uow.session.execute(select(func.count()).select_from(chronic_recognitions)).scalar_one()
        )


def audits(container: Container, action: str) -> int:
    with container.uow() as uow:
        return int(
            uow.session.execute(
                select(func.count()).select_from(audit_log).where(audit_log.c.action == action)
            ).scalar_one()
        )


def recognise(client: TestClient, container: Container, **changes: Any) -> Any:
    return client.post(
        f"{BASE}/recognitions", json=body(**changes), headers=token_for(container, HENGYANG)
    )


def test_the_dated_list_shows_the_five_national_diseases_and_the_regions_limits(
    client: TestClient,
) -> None:
    before = client.get(f"{BASE}/diseases", params={"on": "2021-08-31"}).json()
    assert before["diseases"] == []
    national = client.get(f"{BASE}/diseases", params={"on": "2021-09-01"}).json()
    names = {d["name"] for d in national["diseases"]}
    assert {"高血压", "糖尿病", "恶性肿瘤门诊放化疗", "器官移植术后抗排异治疗"} <= names
    assert {d["code"] for d in national["diseases"]} >= {"M03900", "M07803", "M07804"}
    assert all(d["list"] == "national" and d["verified"] for d in national["diseases"])
    hengyang = client.get(
        f"{BASE}/diseases", params={"region": "430421", "on": "2025-06-01"}
    ).json()
    assert hengyang["region_code"] == "430400" and hengyang["illustrative"] is True
    copd = next(d for d in hengyang["diseases"] if d["code"] == "M05300")
    assert copd["list"] == "regional"
    assert copd["benefit"]["annual_limit"] == "2000.00" and copd["benefit"]["illustrative"]


def test_the_agency_records_a_recognition_and_a_retry_changes_nothing(
    client: TestClient, container: Container, world: None
) -> None:
    headers = {**token_for(container, HENGYANG), "Idempotency-Key": "k-1"}
    first = client.post(f"{BASE}/recognitions", json=body(), headers=headers)
    assert first.status_code == 201, first.text
    out = first.json()
    assert out["disease_name"] == "高血压" and out["created"] is True
    assert out["disease"]["benefit"]["annual_limit"] == "1500.00"
    again = client.post(f"{BASE}/recognitions", json=body(), headers=headers)
    assert again.json()["recognition_id"] == out["recognition_id"]
    # Without a key, the same recognition again is recognised as a retry, too.
    plain = recognise(client, container)
    assert plain.status_code == 200 and plain.json()["created"] is False
    assert rows(container) == 1
    assert audits(container, "chronic.recognise") == 1
    reused = client.post(f"{BASE}/recognitions", json=body(begin_on="2026-02-01"), headers=headers)
    assert reused.status_code == 409 and reused.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"


@pytest.mark.parametrize(
    ("changes", "status", "code"),
    [
        ({"disease_code": "X99999"}, 422, "CHRONIC_DISEASE_UNKNOWN"),
        (
            {"disease_code": "M04600", "begin_on": "2022-06-01"},
            422,
            "CHRONIC_DISEASE_NOT_LISTED_ON_DATE",
        ),
        (
            {"disease_code": "M03900", "begin_on": "2021-01-01"},
            422,
            "CHRONIC_DISEASE_NOT_LISTED_ON_DATE",
        ),
        (
            {"begin_on": "2026-05-01", "end_on": "2026-04-30"},
            422,
            "CHRONIC_RECOGNITION_END_BEFORE_BEGIN",
        ),
        ({"evidence": {}}, 422, "CHRONIC_EVIDENCE_REQUIRED"),
    ],
)
def test_bad_input_gets_a_chinese_error_with_a_stable_code_and_writes_nothing(
    client: TestClient,
    container: Container,
    world: None,
    changes: dict[str, Any],
    status: int,
    code: str,
) -> None:
    reply = recognise(client, container, **changes)
    error = reply.json()["error"]
    assert error["code"] == code, reply.text
    assert reply.status_code == status
    assert any("\u4e00" <= ch <= "\u9fff" for ch in error["message"])
    assert rows(container) == 0


def test_a_second_recognition_overlapping_the_same_disease_is_refused(
    client: TestClient, container: Container, world: None
) -> None:
    assert recognise(client, container, end_on="2026-12-31").status_code == 201
    overlap = recognise(client, container, begin_on="2026-06-01")
    assert overlap.status_code == 409
    assert overlap.json()["error"]["code"] == "CHRONIC_RECOGNITION_OVERLAP"
    # The next period, and another disease in the same period, are fine.
    assert recognise(client, container, begin_on="2027-01-01").status_code == 201
    assert recognise(client, container, disease_code="M01600").status_code == 201
    assert rows(container) == 3


def test_scope_lists_are_masked_and_every_full_read_is_audited(
    client: TestClient, container: Container, world: None
) -> None:
    created = recognise(client, container).json()
    rid = created["recognition_id"]
    listed = client.get(f"{BASE}/recognitions", headers=token_for(container, HENGYANG)).json()
    assert listed["total"] == 1
    row = listed["items"][0]
    assert row["id_number_masked"] != PERSON_ID and "*" in row["id_number_masked"]
    assert PERSON_ID not in str(listed)
    other = client.get(f"{BASE}/recognitions", headers=token_for(container, ZHENGZHOU)).json()
    assert other["total"] == 0
    assert (
        client.get(
            f"{BASE}/recognitions/{rid}", headers=token_for(container, ZHENGZHOU)
        ).status_code
        == 404
    )
    assert (
        client.get(f"{BASE}/recognitions/{rid}", headers=token_for(container, STRANGER)).status_code
        == 404
    )
    before = audits(container, "chronic.read")
    for principal in (HENGYANG, HUNAN, PERSON):
        detail = client.get(f"{BASE}/recognitions/{rid}", headers=token_for(container, principal))
        assert detail.status_code == 200 and detail.json()["id_number"] == PERSON_ID
    assert audits(container, "chronic.read") == before + 3
    own = client.get(f"{BASE}/recognitions", headers=token_for(container, PERSON)).json()
    assert own["total"] == 1
    assert (
        client.get(f"{BASE}/recognitions", headers=token_for(container, STRANGER)).json()["total"]
        == 0
    )
    assert (
        client.post(
            f"{BASE}/recognitions", json=body(), headers=token_for(container, HUNAN)
        ).status_code
        == 403
    )
    assert client.post(f"{BASE}/recognitions", json=body()).status_code == 401


def test_the_agency_ends_a_recognition_once(
    client: TestClient, container: Container, world: None
) -> None:
    rid = recognise(client, container).json()["recognition_id"]
    headers = token_for(container, HENGYANG)
    end = {"end_on": "2026-10-31", "reason": "复查不再符合认定标准"}
    first = client.post(f"{BASE}/recognitions/{rid}/end", json=end, headers=headers)
    assert first.status_code == 200 and first.json()["state"] == "ended"
    assert first.json()["end_on"] == "2026-10-31"
    again = client.post(f"{BASE}/recognitions/{rid}/end", json=end, headers=headers)
    assert again.status_code == 200
    assert audits(container, "chronic.end") == 1
    moved = client.post(
        f"{BASE}/recognitions/{rid}/end", json={**end, "end_on": "2026-09-30"}, headers=headers
    )
    assert moved.json()["error"]["code"] == "CHRONIC_RECOGNITION_ALREADY_ENDED"
    early = recognise(client, container, disease_code="M01600").json()["recognition_id"]
    bad = client.post(
        f"{BASE}/recognitions/{early}/end", json={**end, "end_on": "2025-01-01"}, headers=headers
    )
    assert bad.json()["error"]["code"] == "CHRONIC_RECOGNITION_END_BEFORE_BEGIN"
    # Ended: a new recognition of the same disease after the end no longer overlaps.
    assert recognise(client, container, begin_on="2026-11-01").status_code == 201


def test_5301_answers_the_persons_valid_recognitions_with_national_field_names(
    client: TestClient, container: Container, world: None
) -> None:
    psn_no = person_no(client)
    assert ok(call(client, "5301", {"data": {"psn_no": psn_no}})) == {"feedetail": []}
    recognise(client, container, end_on="2027-12-31")
    recognise(client, container, disease_code="M01600", begin_on="2025-01-01", end_on="2025-12-31")
    before = audits(container, "chronic.read")
    output = ok(call(client, "5301", {"data": {"psn_no": psn_no}}))
    assert len(output["feedetail"]) == 1  # the 2025 diabetes recognition is no longer valid
    row = output["feedetail"][0]
    assert row["opsp_dise_code"] == "M03900"
    assert row["opsp_dise_name"] == "高血压"
    assert row["begndate"] == "2026-01-01" and row["enddate"] == "2027-12-31"
    assert row["exp_content"]["list"] == "national"
    assert audits(container, "chronic.read") == before + 1
    # input without the data node (some clients), numbers as text: accepted.
    bare = ok(call(client, "5301", {"psn_no": psn_no}))
    assert bare["feedetail"][0]["opsp_dise_code"] == "M03900"


def test_5301_refuses_an_unknown_person_or_institution(
    client: TestClient, container: Container, world: None
) -> None:
    refused(
        call(client, "5301", {"data": {"psn_no": "PSN0000000000000000000000"}}), "PERSON_NOT_FOUND"
    )
    refused(
        call(client, "5301", {"data": {"psn_no": "X"}}, hospital="H00000000000"),
        "HOSPITAL_NOT_FOUND",
    )
    refused(call(client, "5301", {"data": {}}), "NHSA_INPUT_INVALID")
