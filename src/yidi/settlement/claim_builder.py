"""The one way to build a :class:`Claim` for the engine: fetch the insured region's policy
(参保地政策) and the treatment region's catalogue (就医地目录), turn fee lines into
:class:`FeeLine` values and resolve each against the catalogue in force on its day.

Used by the hospital settlement (``yidi.encounter.commands``), the admission estimate
(``yidi.settlement.estimate``) and manual reimbursement (``yidi.settlement.manual``); each
says where its lines come from, none builds a claim by hand.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from yidi.catalog.model import CatalogItem, CatalogVersion, no_catalog, region_chain
from yidi.catalog.ports import CatalogReading, CatalogVersions
from yidi.kernel.clock import CHINA_TZ
from yidi.kernel.errors import NotFound
from yidi.kernel.insurance import (
    AssistanceGroup,
    EncounterType,
    FilingCategory,
    HospitalLevel,
    InsuranceType,
)
from yidi.kernel.money import Money
from yidi.policy.loader import PolicyLibrary, policy_at, shipped_policy_library
from yidi.policy.model import Policy
from yidi.reference.model import Person
from yidi.settlement.claims import Claim, FeeLine, ResolvedFeeLines


@dataclass(frozen=True, slots=True)
class FeeLineInput:
    """One fee line as a hospital, an agency handler or an estimate enters it."""

    serial: str
    catalog_code: str
    quantity: Decimal
    unit_price: Decimal
    amount: Money
    occurred_at: dt.datetime
    hospital_item_code: str = ""
    name: str = ""
    #: 急诊抢救72小时内转住院: emergency care before the admission that joins the claim.
    emergency_pre_admission: bool = False
    #: 收费批次号 of an outpatient line (2204 chrg_bchno); a batch can be withdrawn (2205)
    charge_batch: str | None = None


class ClaimLine(Protocol):
    """What the builder reads of a fee line (``FeeLineInput`` and a stored fee line have it)."""

    @property
    def serial(self) -> str: ...
    @property
    def catalog_code(self) -> str: ...
    @property
    def quantity(self) -> Decimal: ...
    @property
    def unit_price(self) -> Decimal: ...
    @property
    def amount(self) -> Money: ...
    @property
    def occurred_at(self) -> dt.datetime: ...
    @property
    def hospital_item_code(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def emergency_pre_admission(self) -> bool: ...


def _china_naive(at: dt.datetime) -> dt.datetime:
    """China time without a zone (naive input is already China time), as the engine reads it."""
    return at if at.tzinfo is None else at.astimezone(CHINA_TZ).replace(tzinfo=None)


def policy_region_of(
    policies: PolicyLibrary, insured_region: str, insurance_type: InsuranceType
) -> str:
    """The pooling region whose policy applies: the code, its prefecture or province."""
    sources = policies.sources
    for code in region_chain(insured_region):
        if (code, insurance_type) in sources:
            return code
    raise NotFound(
        "POLICY_REGION_UNKNOWN",
        f"没有参保地 {insured_region} 的{insurance_type.label_zh}政策，无法结算",
        f"no policy for insured region {insured_region}",
        field="insured_region",
    )


@dataclass(frozen=True)
class ClaimSources:
    """What a claim is settled under: the insured region's policy on the policy day and the
    treatment catalogue by day."""

    policy: Policy
    policy_region: str
    #: The region whose catalogue classifies the lines (None: no catalogue at all).
    catalog_region: str | None
    #: Why another region's catalogue stands in for the treatment region's ("" if none does).
    catalog_note: str
    catalog_on: Callable[[dt.date], CatalogVersion | None]
    treatment_region: str

    @property
    def claim_treatment_region(self) -> str:
        """The treatment region the claim names: its catalogue region, unless another
        region's catalogue stands in (then the region itself)."""
        if self.catalog_region is None or self.catalog_note:
            return self.treatment_region
        return self.catalog_region


def claim_sources(
    uow: CatalogReading,
    catalogs: CatalogVersions,
    policies: PolicyLibrary | None,
    *,
    insured_region: str,
    insurance_type: InsuranceType,
    treatment_region: str,
    policy_on: dt.date,
    insured_catalogue_stands_in: bool = False,
) -> ClaimSources:
    """Fetch the policy and the treatment catalogue. Without a catalogue of the treatment
    region the claim is refused (``CATALOG_NOT_AVAILABLE``), unless
    ``insured_catalogue_stands_in`` (manual reimbursement): then the insured region's
    catalogue classifies the lines, and the claim says so."""
    policy_region = policy_region_of(
        policies or shipped_policy_library(), insured_region, insurance_type
    )
    policy = policy_at(policy_region, insurance_type, policy_on, policies)
    catalog_region = catalogs.catalog_region(uow, treatment_region)
    note = ""
    if catalog_region is None:
        if not insured_catalogue_stands_in:
            raise no_catalog(treatment_region)
        catalog_region = catalogs.catalog_region(uow, policy_region)
        note = f"就医地 {treatment_region} 目录未导入，按参保地 {catalog_region} 目录对照"
    versions = catalogs.versions(uow, catalog_region) if catalog_region else []

    def catalog_on(day: dt.date) -> CatalogVersion | None:
        return catalogs.in_force(uow, versions, day)

    return ClaimSources(
        policy=policy,
        policy_region=policy_region,
        catalog_region=catalog_region,
        catalog_note=note,
        catalog_on=catalog_on,
        treatment_region=treatment_region,
    )


def fee_line(line: ClaimLine) -> FeeLine:
    """The engine's fee line (China time, the hospital item code defaulting to the code)."""
    return FeeLine(
        serial=line.serial,
        catalog_code=line.catalog_code,
        hospital_item_code=line.hospital_item_code or line.catalog_code,
        name=line.name,
        quantity=line.quantity,
        unit_price=line.unit_price,
        line_amount=line.amount,
        occurred_at=_china_naive(line.occurred_at),
        is_emergency_pre_admission=line.emergency_pre_admission,
    )


def assistance_group_of(person: Person) -> AssistanceGroup | None:
    """The person's 医疗救助 group, if the stored code is one yidi knows."""
    if not person.low_income_group:
        return None
    try:
        return AssistanceGroup(person.low_income_group)
    except ValueError:
        return None


@dataclass(frozen=True)
class BuiltClaim:
    claim: Claim
    policy: Policy
    resolved: ResolvedFeeLines
    catalog_note: str


def build_claim(
    sources: ClaimSources,
    lines: Sequence[ClaimLine],
    *,
    person: Person,
    insurance_type: InsuranceType,
    hospital_level: HospitalLevel,
    filing_category: FilingCategory | None,
    encounter_type: EncounterType,
    admitted_on: dt.date,
    discharged_on: dt.date,
    admitted_at: dt.datetime | None = None,
    account_balance: Money | None = None,
    require_catalog: bool = True,
    disease_code: str | None = None,
    account_family: bool = False,
) -> BuiltClaim:
    """The claim, its policy and each line's catalogue item (by the line's day).

    ``require_catalog``: a line on a day with no catalogue in force is refused
    (``CATALOG_NOT_AVAILABLE``); otherwise its item is unknown (fully self-paid).
    ``account_balance`` (not None) has the personal account pay (acct_used_flag);
    ``account_family``: it is a bound relative's account (家庭共济, acct_used_flag 2).
    ``disease_code``: the 门诊慢特病 disease of a chronic visit (med_type 14).
    """
    fee_lines: list[FeeLine] = []
    items: dict[str, CatalogItem | None] = {}
    hashes: list[str] = []
    for line in lines:
        engine_line = fee_line(line)
        day = engine_line.occurred_at.date()
        catalog = sources.catalog_on(day)
        if catalog is None and require_catalog:
            raise no_catalog(sources.treatment_region)
        if catalog is not None and catalog.content_hash not in hashes:
            hashes.append(catalog.content_hash)
        items[line.serial] = catalog.lookup(line.catalog_code, day) if catalog else None
        fee_lines.append(engine_line)
    claim = Claim(
        insured_region=sources.policy.region_code,
        treatment_region=sources.claim_treatment_region,
        insurance_type=insurance_type,
        person_type=person.person_type,
        hospital_level=hospital_level,
        filing_category=filing_category,
        admitted_on=admitted_on,
        discharged_on=discharged_on,
        encounter_type=encounter_type,
        fee_lines=tuple(fee_lines),
        assistance_group=assistance_group_of(person),
        use_personal_account=account_balance is not None,
        personal_account_balance=account_balance or Money.zero(),
        personal_account_family=account_family,
        admitted_at=None if admitted_at is None else _china_naive(admitted_at),
        disease_code=disease_code,
    )
    resolved = ResolvedFeeLines(claim.treatment_region, ",".join(hashes) or "none", items)
    return BuiltClaim(claim, sources.policy, resolved, sources.catalog_note)
