"""Settle a claim against the shipped demo data: the insured region's policy files and the
treatment region's sample catalogue (or a catalogue the caller passes).

Used by ``yidi settle`` and the golden cases, so both settle exactly the same way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from yidi.catalog.files import sample_catalog
from yidi.catalog.model import CatalogVersion
from yidi.kernel.insurance import SettlementMode
from yidi.policy.loader import PolicyLibrary, policy_at
from yidi.settlement.claims import Claim, YearToDate, resolve_fee_lines
from yidi.settlement.engine import settle
from yidi.settlement.inputs import parse_claim, parse_year_to_date
from yidi.settlement.result import SettlementResult


def settle_with_shipped_data(
    claim: Claim,
    year_to_date: YearToDate,
    *,
    mode: SettlementMode = SettlementMode.DIRECT,
    catalog: CatalogVersion | None = None,
    policy_on: dt.date | None = None,
    library: PolicyLibrary | None = None,
) -> SettlementResult:
    """Policy in force on ``policy_on`` (default: the discharge date)."""
    policy = policy_at(
        claim.insured_region,
        claim.insurance_type,
        policy_on or claim.discharged_on,
        library,
    )
    catalogue = catalog or sample_catalog(claim.treatment_region)
    return settle(claim, policy, resolve_fee_lines(claim, catalogue), year_to_date, mode=mode)


def settle_mapping(
    data: Mapping[str, Any],
    *,
    mode: SettlementMode = SettlementMode.DIRECT,
    catalog: CatalogVersion | None = None,
) -> tuple[Claim, SettlementResult]:
    """Parse a claim mapping (with optional ``year_to_date``) and settle it."""
    claim = parse_claim(data)
    year_to_date = parse_year_to_date(data.get("year_to_date"), claim.settlement_year)
    return claim, settle_with_shipped_data(claim, year_to_date, mode=mode, catalog=catalog)
