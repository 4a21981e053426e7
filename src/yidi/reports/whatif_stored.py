"""政策调整测算 over STORED settlements: the claims behind the settlements in the database.

For a period (discharge dates) and an insured region, every active settlement (结算 not
reversed) is turned back into the claim that was settled: the encounter (admission and
discharge days, encounter kind, filing category, the person type recorded at admission),
the hospital's level, the person's 救助 group, the fee lines the settlement covered (in
their upload order), the personal-account balance the settlement saw (the balance after
it plus what it took) and the year-to-date totals before the person's first settlement of
the year in the selection (``year_to_date_after − year_to_date_delta`` of that
settlement, both stored with it). Later settlements of the same person-year carry the
totals on in settlement order, as the engine did.

Re-settling these claims under the policy the service uses must give back the stored
amounts; the what-if report's baseline lists every amount that does not (the test on
the demo scenario asserts there is none).

What this does not reconstruct: a settlement made while an earlier one of the same
person-year stood that was reversed only afterwards (its year-to-date totals included
the later-reversed one); a treatment region with more than one catalogue version in force
within the period (the version in force at the end of the period is used). Both show up
as baseline differences, never silently.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, select

from yidi.catalog.commands import CatalogLookup, region_chain
from yidi.catalog.model import CatalogVersion
from yidi.encounter.records import ytd_from_json
from yidi.kernel.errors import InvalidInput, NotFound
from yidi.kernel.insurance import (
    AssistanceGroup,
    EncounterType,
    FilingCategory,
    HospitalLevel,
    InsuranceType,
    PersonType,
)
from yidi.kernel.money import Money
from yidi.platform.tables import encounters, fee_lines, hospitals, persons, settlements
from yidi.platform.uow import SqlUnitOfWork
from yidi.policy.loader import PolicyLibrary, shipped_policy_library
from yidi.reports.whatif import WhatIfClaim, WhatIfReport, what_if
from yidi.settlement.claims import Claim, FeeLine
from yidi.settlement.columnar import AMOUNT_FIELDS, BatchClaim

CHINA = dt.timezone(dt.timedelta(hours=8))


def _local(at: dt.datetime) -> dt.datetime:
    if at.tzinfo is None:  # SQLite returns naive UTC
        at = at.replace(tzinfo=dt.UTC)
    return at.astimezone(CHINA)


def region_prefix(code: str) -> str:
    """The prefix every code within ``code`` starts with (province 64 → ``64``)."""
    if len(code) != 6 or not code.isdigit():
        raise InvalidInput(
            "WHATIF_REGION_INVALID",
            f"地区代码“{code}”须为 6 位数字",
            f"region code {code!r} must be six digits",
            field="region",
        )
    if code[2:] == "0000":
        return code[:2]
    if code[4:] == "00":
        return code[:4]
    return code


@dataclass(frozen=True)
class StoredSelection:
    """Which stored settlements to re-settle: discharge dates ``start``–``end`` (inclusive),
    insured within ``region`` (a province, prefecture or county code; None: all)."""

    start: dt.date
    end: dt.date
    region: str | None = None

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise InvalidInput(
                "WHATIF_PERIOD_INVALID",
                "测算期间的结束日期不能早于开始日期",
                "the period ends before it starts",
                field="end",
            )
        if self.region is not None:
            region_prefix(self.region)


@dataclass
class StoredClaims:
    """The claims behind stored settlements, and what was paid for each (fen)."""

    claims: list[WhatIfClaim]
    stored: dict[str, dict[str, int]]  # claim id (setl_id) -> amount field -> fen
    catalogs: dict[str, CatalogVersion]
    #: settlements left out, by reason (no catalogue, no policy region)
    skipped: dict[str, int] = field(default_factory=dict)

    def catalog_for(self, region: str) -> CatalogVersion:
        catalog = self.catalogs.get(region)
        if catalog is None:
            raise NotFound(
                "CATALOG_NOT_AVAILABLE",
                f"就医地 {region} 尚未导入医保目录",
                f"no catalogue for treatment region {region}",
                field="treatment_region",
            )
        return catalog


def _policy_region(library: PolicyLibrary, insured: str, kind: InsuranceType) -> str | None:
    sources = library.sources
    return next((code for code in region_chain(insured) if (code, kind) in sources), None)


def read_stored_claims(
    uow: SqlUnitOfWork,
    selection: StoredSelection,
    policies: PolicyLibrary,
    catalogs: CatalogLookup | None = None,
) -> StoredClaims:
    """The claims of the active settlements of ``selection``, in settlement order."""
    catalogs = catalogs or CatalogLookup()
    session = uow.session
    # discharge days are China days; compare on the UTC instants that bound them
    start = dt.datetime.combine(selection.start, dt.time(), CHINA).astimezone(dt.UTC)
    end = dt.datetime.combine(selection.end + dt.timedelta(days=1), dt.time(), CHINA).astimezone(
        dt.UTC
    )
    conditions = [
        settlements.c.kind == "settle",
        settlements.c.state == "active",
        encounters.c.discharged_at >= start,
        encounters.c.discharged_at < end,
    ]
    if selection.region is not None:
        conditions.append(
            settlements.c.insured_region_code.like(f"{region_prefix(selection.region)}%")
        )
    stored_columns = [settlements.c[f"{name}_fen"] for name in AMOUNT_FIELDS]
    query = (
        select(
            settlements.c.id,
            settlements.c.person_id,
            settlements.c.insurance_type,
            settlements.c.result_json,
            settlements.c.year_to_date_delta_json,
            encounters.c.insured_region_code,
            encounters.c.treatment_region_code,
            encounters.c.person_type,
            encounters.c.filing_category,
            encounters.c.med_type,
            encounters.c.admitted_at,
            encounters.c.discharged_at,
            hospitals.c.level,
            persons.c.low_income_group,
            *stored_columns,
        )
        .select_from(
            settlements.join(encounters, encounters.c.id == settlements.c.encounter_id)
            .join(hospitals, hospitals.c.fixmedins_code == encounters.c.hospital_code)
            .join(persons, persons.c.id == settlements.c.person_id)
        )
        .where(and_(*conditions))
        .order_by(settlements.c.settled_at, settlements.c.id)
    )
    rows = session.execute(query).all()
    lines_by: dict[str, list[Any]] = {}
    ids = [row.id for row in rows]
    for chunk in range(0, len(ids), 500):
        part = ids[chunk : chunk + 500]
        line_rows = session.execute(
            select(
                fee_lines.c.settlement_id,
                fee_lines.c.serial,
                fee_lines.c.catalog_code,
                fee_lines.c.hospital_item_code,
                fee_lines.c.name,
                fee_lines.c.quantity,
                fee_lines.c.unit_price,
                fee_lines.c.amount_fen,
                fee_lines.c.occurred_at,
                fee_lines.c.emergency_pre_admission,
            )
            .where(fee_lines.c.settlement_id.in_(part), fee_lines.c.cancelled.is_(False))
            .order_by(fee_lines.c.id)
        )
        for line in line_rows:
            lines_by.setdefault(line.settlement_id, []).append(line)

    catalog_regions: dict[str, str | None] = {}
    loaded: dict[str, CatalogVersion] = {}
    skipped: dict[str, int] = {}
    out: list[WhatIfClaim] = []
    stored: dict[str, dict[str, int]] = {}
    seen_years: set[tuple[int, str, int]] = set()
    for row in rows:
        kind = InsuranceType(row.insurance_type)
        region = _policy_region(policies, row.insured_region_code, kind)
        treatment = row.treatment_region_code
        if treatment not in catalog_regions:
            catalog_regions[treatment] = catalogs.catalog_region(uow, treatment)
            chosen = catalog_regions[treatment]
            if chosen is not None and chosen not in loaded:
                version = catalogs.in_force(uow, catalogs.versions(uow, chosen), selection.end)
                if version is not None:
                    loaded[chosen] = version
        catalog_region = catalog_regions[treatment]
        if region is None or catalog_region is None or catalog_region not in loaded:
            reason = "POLICY_REGION_UNKNOWN" if region is None else "CATALOG_NOT_AVAILABLE"
            skipped[reason] = skipped.get(reason, 0) + 1
            continue
        data = json.loads(row.result_json)
        delta = ytd_from_json(json.loads(row.year_to_date_delta_json))
        after = ytd_from_json(data["year_to_date_after"])
        discharged = _local(row.discharged_at).date()
        key = (int(row.person_id), row.insurance_type, discharged.year)
        opening = None
        if key not in seen_years:
            seen_years.add(key)
            opening = after.minus(delta)
        paid = int(row.personal_account_paid_fen)
        balance_after = data.get("account_balance_after")
        balance = None
        if paid > 0 and balance_after is not None:
            balance = Money(balance_after) + Money.from_fen(paid)
        group: AssistanceGroup | None = None
        if row.low_income_group:
            try:
                group = AssistanceGroup(row.low_income_group)
            except ValueError:
                group = None
        claim = Claim(
            insured_region=region,
            treatment_region=catalog_region,
            insurance_type=kind,
            person_type=PersonType(row.person_type),
            hospital_level=HospitalLevel(int(row.level)),
            filing_category=FilingCategory(row.filing_category) if row.filing_category else None,
            admitted_on=_local(row.admitted_at).date(),
            discharged_on=discharged,
            encounter_type=EncounterType(row.med_type),
            fee_lines=tuple(
                FeeLine(
                    serial=line.serial,
                    catalog_code=line.catalog_code,
                    hospital_item_code=line.hospital_item_code,
                    name=line.name,
                    quantity=Decimal(line.quantity),
                    unit_price=Decimal(line.unit_price),
                    line_amount=Money.from_fen(int(line.amount_fen)),
                    occurred_at=_local(line.occurred_at).replace(tzinfo=None),
                    is_emergency_pre_admission=bool(line.emergency_pre_admission),
                )
                for line in lines_by.get(row.id, [])
            ),
            assistance_group=group,
            use_personal_account=balance is not None,
            personal_account_balance=balance or Money.zero(),
        )
        person = f"{row.person_id}:{row.insurance_type}"
        out.append(WhatIfClaim(row.id, person, BatchClaim(person, claim, opening)))
        stored[row.id] = {name: int(getattr(row, f"{name}_fen")) for name in AMOUNT_FIELDS}
    return StoredClaims(out, stored, loaded, skipped)


def what_if_stored(
    uow_factory: Callable[[], SqlUnitOfWork],
    selection: StoredSelection,
    *,
    candidate: PolicyLibrary,
    current: PolicyLibrary | None = None,
    on_date: dt.date | None = None,
    top: int = 20,
    progress: Callable[[int], None] | None = None,
    catalogs: CatalogLookup | None = None,
    on_claims: Callable[[int], None] | None = None,
) -> tuple[WhatIfReport, StoredClaims]:
    """Re-settle the stored settlements of ``selection`` under ``current`` (default: the
    shipped policies, which the hospital service settles with) and ``candidate``;
    ``on_claims(n)`` is told how many claims were read, ``progress(k)`` as they settle."""
    library = current or shipped_policy_library()
    with uow_factory() as uow:
        found = read_stored_claims(uow, selection, library, catalogs)
    if on_claims is not None:
        on_claims(len(found.claims))
    report = what_if(
        found.claims,
        found.catalog_for,
        current=library,
        candidate=candidate,
        on_date=on_date,
        top=top,
        progress=progress,
        stored=found.stored,
    )
    return report, found


__all__ = [
    "StoredClaims",
    "StoredSelection",
    "read_stored_claims",
    "region_prefix",
    "what_if_stored",
]
