"""双向享受 at the insured place: a long-term resident filed elsewhere still settles at home
under the 2022 rules, except while promised documents are outstanding."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi.testclient import TestClient
from test_hospital_gateway import call, ok, refused

from filing_support import BOBAI, HENGYANG, record
from hospital_support import NANHUA_CODE, UNFILED_CARD, UNFILED_ID
from yidi.bootstrap import Container
from yidi.filing.model.evidence import Evidence, EvidenceKind
from yidi.kernel.identity import Gender
from yidi.kernel.insurance import FilingCategory, PersonType


def _query(client: TestClient) -> dict[str, Any]:
    return call(
        client,
        "1101",
        {"data": {"mdtrt_cert_type": "03", "mdtrt_cert_no": UNFILED_CARD}},
        hospital=NANHUA_CODE,
    )


def _permit() -> Evidence:
    return Evidence(
        EvidenceKind.RESIDENCE_PERMIT,
        "居-450923-0008",
        "博白县公安局",
        dt.date(2026, 1, 5),
        issuer_region_code=BOBAI,
    )


def _promised_filing(container: Container) -> str:
    promised = record(
        name="李某某",
        gender=Gender.FEMALE,
        social_security_number=UNFILED_ID,
        social_security_card_number=UNFILED_CARD,
        category=FilingCategory.LONG_TERM_RESIDENT,
        person_type=PersonType.EMPLOYEE_ACTIVE,
        promise_signed=True,
    )
    filings = container.filings
    draft = filings.create_draft(HENGYANG, promised)
    filings.submit(HENGYANG, draft.filing_id)
    approved = filings.approve(HENGYANG, draft.filing_id)
    assert approved.record.promise_outstanding
    return approved.filing_id


def test_a_filed_long_term_resident_settles_at_home_once_the_promise_is_fulfilled(
    client: TestClient, container: Container, world: None
) -> None:
    home = ok(_query(client))["baseinfo"]  # unfiled: home care is open
    assert home["exp_content"]["cross_region"] == "0"
    filing_id = _promised_filing(container)
    message = refused(_query(client), "FILING_CLOSES_INSURED_PLACE")
    assert "补齐前不享受双向待遇" in message and "0734-6653009" in message
    container.filings.supply_documents(HENGYANG, filing_id, [_permit()])
    assert ok(_query(client))["baseinfo"]["psn_no"]


def test_a_filed_retiree_settles_both_ways_under_the_2022_rules(
    client: TestClient, container: Container, world: None
) -> None:
    # 谢某某 of the world is filed (with proof) as resettled in 博白; 南华 is at home.
    from hospital_support import XIE_CARD

    reply = call(
        client,
        "1101",
        {"data": {"mdtrt_cert_type": "03", "mdtrt_cert_no": XIE_CARD}},
        hospital=NANHUA_CODE,
    )
    info = ok(reply)["baseinfo"]
    assert info["psn_no"] and info["exp_content"]["cross_region"] == "0"
