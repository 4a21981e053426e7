"""补办备案 then manual reimbursement: care paid by the patient under the 2022 rules, filed
afterwards, is reimbursed at the filed rates; without the late filing, at the unfiled ones."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient

from filing_support import BOBAI, HENGYANG, record
from hospital_support import (
    UNFILED_CARD,
    UNFILED_ID,
    manual_claim_with_fees,
    token_for,
)
from yidi.bootstrap import Container
from yidi.filing.model.evidence import Evidence, EvidenceKind
from yidi.kernel.identity import Gender
from yidi.kernel.insurance import FilingCategory, PersonType


def _computed_claim(client: TestClient, headers: dict[str, str]) -> Any:
    claim_id = manual_claim_with_fees(client, headers, treatment_region=BOBAI, reason="自费出院")
    computed = client.post(f"/api/manual-claims/{claim_id}/compute", headers=headers)
    assert computed.status_code == 200, computed.text
    return computed.json()


def _file_late(container: Container) -> str:
    late = record(
        name="李某某",
        gender=Gender.FEMALE,
        social_security_number=UNFILED_ID,
        social_security_card_number=UNFILED_CARD,
        category=FilingCategory.LONG_TERM_RESIDENT,
        person_type=PersonType.EMPLOYEE_ACTIVE,
        filled_on=dt.date(2026, 11, 19),
        late_care_from=dt.date(2026, 10, 1),
        late_care_until=dt.date(2026, 10, 10),
    )
    permit = Evidence(
        EvidenceKind.RESIDENCE_PERMIT,
        "居-450923-0007",
        "博白县公安局",
        dt.date(2026, 1, 5),
        issuer_region_code=BOBAI,
    )
    filings = container.filings
    draft = filings.create_draft(HENGYANG, late, evidence=[permit])
    filings.submit(HENGYANG, draft.filing_id)
    approved = filings.approve(HENGYANG, draft.filing_id)
    assert approved.record.valid_from == dt.date(2026, 10, 1)
    assert approved.record.filing_number
    return approved.record.filing_number


def test_care_filed_afterwards_is_reimbursed_at_the_filed_rates(
    client: TestClient, container: Container, world: None
) -> None:
    headers = token_for(container, HENGYANG)
    unfiled = _computed_claim(client, headers)
    assert unfiled["filing_category"] is None and unfiled["late_filing_number"] is None
    number = _file_late(container)
    filed = _computed_claim(client, headers)
    assert filed["filing_category"] == "long_term_resident"
    assert filed["late_filing_number"] == number
    assert Decimal(filed["amounts"]["total_charges"]) == Decimal(
        unfiled["amounts"]["total_charges"]
    )
    # 430400 employee: long-term residents at the local rate, unfiled care 20 points lower
    assert Decimal(filed["amounts"]["fund_paid_total"]) > Decimal(
        unfiled["amounts"]["fund_paid_total"]
    )
