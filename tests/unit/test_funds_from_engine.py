"""Facts built from real engine results: the fund total matches, the ledger balances."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from test_settlement_properties import _settle, claims_with_year

from yidi.funds.commands import fact_from_settlement
from yidi.funds.model import account_balances, ledger_entries_for, ledger_is_balanced
from yidi.settlement.claims import Claim, YearToDate


@settings(max_examples=60, deadline=None)
@given(claims_with_year())
def test_a_settled_claim_and_its_reversal_leave_every_ledger_account_at_zero(
    case: tuple[Claim, YearToDate],
) -> None:
    claim, year_to_date = case
    result = _settle(claim, year_to_date)
    fact = fact_from_settlement(
        result,
        setl_id="S1",
        settled_on=claim.discharged_on,
        insured_region_code=claim.insured_region,
        treatment_region_code=claim.treatment_region,
        hospital_code="H43040000001",
        insurance_type=claim.insurance_type,
        filing_category=claim.filing_category,
        medical_type="21",
    )
    assert fact.fund_total == result.fund_paid_total
    entries = ledger_entries_for(fact)
    assert ledger_is_balanced(entries)
    owed = account_balances(entries)
    assert sum(v for k, v in owed.items() if k.startswith("insured:")) == result.fund_paid_total.fen
    reversal = fact.reversed("R1", claim.discharged_on + dt.timedelta(days=1))
    assert set(account_balances(entries + ledger_entries_for(reversal)).values()) <= {0}
