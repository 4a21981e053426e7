"""Columnar settlement: the per-claim benefit model over columns of claims and fee lines.

The same arithmetic as :func:`yidi.settlement.engine.settle` (see
:mod:`yidi.settlement.steps`), in integer fen over numpy arrays, for re-settling a year of
claims at once (what-if runs, 政策调整测算). Equality with the per-claim engine, to the
fen, for every payer amount, is the contract (``tests/unit/test_columnar_settlement.py``).

How it works
    1. Fee lines: 全自费 / 超限价 / 先行自付 / 符合政策范围 for every line at once, then
       summed per claim (``np.add.reduceat``).
    2. Claims are ranked within each person-year in claim order. Round *k* settles every
       person's *k*-th claim: within a round no two claims share a person, so each step
       (deductible, pooled fund with its scale and caps, 大病/大额 tiers, assistance, tilt
       assistance, personal account) runs vectorised over the round, reading the
       year-to-date totals at the start of the claim and adding its changes afterwards,
       exactly as the per-claim engine does.
    3. Rates and factors are integers over 10⁸, amounts integers in fen; each rounding is
       an exact integer half-up division, so no float ever touches money.

门诊慢特病
    ``disease_limit`` and ``chronic_disease`` run here too: their year-to-date totals are per
    (person, disease), so each round groups its claims by disease code and reads and adds the
    counters ``<prefix>.<code>.*`` of each group; the disease checks of the per-claim engine
    (code missing, not on the list, a region's own disease across provinces) run when the
    columns are built, in the engine's order.

Fallback (never a silent difference)
    A claim whose scheme has a step kind or parameter this module does not compute
    (a rate with more than eight decimals; a price or quantity with more than four) is
    settled by the per-claim engine in its round, from the same running year-to-date
    totals, and counted in :attr:`ColumnarResult.fallback_claims`.

Why numpy
    The year-to-date order makes the claim stage a scan per person; a SQL engine (DuckDB,
    Polars) would need a recursive query or a Python UDF per claim for caps that depend on
    earlier claims. numpy does the line split (where the volume is: ~30 lines per claim)
    and the per-round claim steps with plain integer vector operations. Measured in one
    run (``bench/columnar_settle_bench.py``, 10,000,000 claims × 30 lines, one core, see
    bench/README.md): this engine 19.9 M lines/s, the numpy floor (split + per-claim
    roll-up) 26.8 M, the line split alone in DuckDB SQL 7.5 M, the per-claim engine 71 k.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from yidi.catalog.model import CatalogItem, CatalogVersion, ItemClass
from yidi.kernel.errors import InvalidInput, Refused, YidiError
from yidi.kernel.insurance import (
    AssistanceGroup,
    FilingCategory,
    HospitalLevel,
    PersonType,
    SettlementMode,
)
from yidi.kernel.money import Money
from yidi.policy.model import (
    AccountScope,
    AssistanceStep,
    Bracket,
    ChronicDiseaseStep,
    DeductibleBasis,
    DeductibleStep,
    DiseaseLimitStep,
    DiseaseTerms,
    LimitBasis,
    LineSplitStep,
    PersonalAccountStep,
    Policy,
    PooledFundStep,
    ScaleBase,
    ScaleMode,
    Scheme,
    SchemeKind,
    SupplementaryKind,
    SupplementaryStart,
    SupplementaryStep,
    TiltAssistanceStep,
)
from yidi.settlement.amounts import AMOUNT_NAMES
from yidi.settlement.claims import (
    Claim,
    YearToDate,
    emergency_window_opens,
    resolve_fee_lines,
)
from yidi.settlement.engine import settle
from yidi.settlement.result import SettlementResult
from yidi.settlement.steps import require_disease

I64 = npt.NDArray[np.int64]
BOOL = npt.NDArray[np.bool_]

#: rates and factors are integers over this scale
RATE = 10**8
PRICE = 10**4  # unit prices and quantities: integers over this scale
_RATE_D = Decimal(RATE)
_PRICE_D = Decimal(PRICE)
_FEN_D = Decimal(100)

#: the payer amounts, in the order of the money vocabulary
AMOUNT_FIELDS: tuple[str, ...] = AMOUNT_NAMES

PERSON_TYPES: tuple[PersonType, ...] = tuple(PersonType)
FILINGS: tuple[FilingCategory | None, ...] = (None, *FilingCategory)
GROUPS: tuple[AssistanceGroup, ...] = tuple(AssistanceGroup)
_PERSON_INDEX = {value: index for index, value in enumerate(PERSON_TYPES)}
_FILING_INDEX = {value: index for index, value in enumerate(FILINGS)}
_GROUP_INDEX = {value: index for index, value in enumerate(GROUPS)}

#: line class codes
CLASS_SELF = 0  # class C or not in the catalogue: fully self-paid
CLASS_A = 1
CLASS_B = 2


class Unsupported(Exception):
    """A step kind or parameter the columnar engine does not compute (falls back)."""


def _fix(value: Decimal, scale: Decimal) -> int:
    scaled = value * scale
    if scaled != scaled.to_integral_value():
        raise Unsupported(f"{value} is not exact at scale {scale}")
    return int(scaled)


def fen(value: Decimal) -> int:
    return _fix(value, _FEN_D)


def rate(value: Decimal) -> int:
    return _fix(value, _RATE_D)


def _half_up(num: I64, den: int | I64) -> I64:
    """round(num / den) half up, for num >= 0, den > 0, exactly."""
    result: I64 = (2 * num + den) // (2 * np.asarray(den, dtype=np.int64))
    return result


def _round_rate(amount: I64, rate_e8: I64 | int, quantum: int) -> I64:
    """amount (fen) × rate, rounded half up to ``quantum`` fen (the policy's unit)."""
    return _half_up(amount * rate_e8, RATE * quantum) * quantum


# --------------------------------------------------------------------------- compiled policy


@dataclass(frozen=True)
class _Brackets:
    thresholds: tuple[int, ...]  # fen
    rates: tuple[int | None, ...]  # e8, or None: points on the base rate
    points: tuple[int, ...]  # e8
    mode: ScaleMode


def _brackets(brackets: tuple[Bracket, ...], mode: ScaleMode) -> _Brackets:
    return _Brackets(
        tuple(fen(b.threshold) for b in brackets),
        tuple(None if b.rate is None else rate(b.rate) for b in brackets),
        tuple(rate(b.points or Decimal(0)) for b in brackets),
        mode,
    )


@dataclass(frozen=True)
class _Deductible:
    counter: str
    by_level: I64  # index = hospital level
    factor: I64  # [person type, 0 | 1 + ordinal index] e8: person factor (× ordinal factor)
    per_year: bool
    floor: int | None
    annual_cap: int | None
    cross: I64  # per filing: the category's own inpatient deductible (fen) or -1


@dataclass(frozen=True)
class _Pooled:
    counter: str
    rate_by_level: I64
    cross_rate: I64  # per filing, e8 or -1
    person_points: I64
    age_bands: tuple[tuple[int, int], ...]
    base: ScaleBase
    brackets: _Brackets
    annual_cap: int
    entry_cap_per_claim: int | None
    entry_cap_per_year: int | None
    entry_counter: str
    base_counter: str


@dataclass(frozen=True)
class _Supplementary:
    serious: bool
    counter: str
    base_counter: str
    tiers: _Brackets
    annual_cap: int
    basic_cap: bool
    deductible: int
    include_upfront: bool
    include_deductible: bool


@dataclass(frozen=True)
class _Assistance:
    counter: str
    rates: I64  # per assistance group, e8 or -1 (not listed)
    annual_cap: int


@dataclass(frozen=True)
class _Tilt:
    counter: str
    base_counter: str
    groups: BOOL
    threshold: int
    rate: int
    annual_cap: int


@dataclass(frozen=True)
class _Account:
    enabled: bool
    in_scope_only: bool
    family_mutual_aid: bool = False


@dataclass(frozen=True)
class _DiseaseLimit:
    """Per-disease annual limit on the pooled fund's payment (codes as the claim gives them)."""

    prefix: str
    limits: dict[str, int]  # fen


@dataclass(frozen=True)
class _DiseaseTerms:
    rate: int  # e8
    limit: int  # fen, -1: no annual limit
    on_eligible: bool  # the limit counts eligible amounts (else the fund's payments)
    deductible: int  # fen


@dataclass(frozen=True)
class _Chronic:
    """门诊慢特病 by the region's disease list (codes normalised as the engine does)."""

    step: ChronicDiseaseStep
    terms: dict[str, _DiseaseTerms]
    outpatient_cap: int | None  # fen, when the general-outpatient cap is shared


_CompiledStep = (
    _Deductible
    | _Pooled
    | _Supplementary
    | _Assistance
    | _Tilt
    | _Account
    | _DiseaseLimit
    | _Chronic
)


def _disease_terms(terms: DiseaseTerms) -> _DiseaseTerms:
    return _DiseaseTerms(
        rate(terms.rate),
        -1 if terms.annual_limit is None else fen(terms.annual_limit),
        terms.limit_on is LimitBasis.ELIGIBLE,
        fen(terms.deductible),
    )


@dataclass(frozen=True)
class CompiledScheme:
    """One policy's scheme with every parameter as an integer (fen or rate × 10⁸)."""

    policy: Policy
    scheme: Scheme
    quantum: int  # rounding unit in fen
    inpatient: bool
    cross_points: I64  # per filing, e8: 异地就医 rate adjustment
    steps: tuple[_CompiledStep, ...]
    needs_age: bool

    def step_of(self, kind: type[Any]) -> Any:
        return next((step for step in self.steps if isinstance(step, kind)), None)

    @property
    def item_groups(self) -> tuple[Any, ...]:
        step = self.scheme.step(LineSplitStep)
        return step.item_groups if isinstance(step, LineSplitStep) else ()


def _per_filing(policy: Policy, pick: Callable[[Any], Decimal | None], scale: Decimal) -> I64:
    out = []
    for category in FILINGS:
        value = pick(policy.cross_region_rule(category))
        out.append(-1 if value is None else _fix(value, scale))
    return np.asarray(out, dtype=np.int64)


def _levels(table: Any, scale: Decimal) -> I64:
    out = np.full(4, -1, dtype=np.int64)
    for level in HospitalLevel:
        if level in table:
            out[int(level)] = _fix(table[level], scale)
    return out


def compile_scheme(policy: Policy, scheme: Scheme) -> CompiledScheme:
    """Raise :class:`Unsupported` when a step or value cannot be computed here exactly."""
    steps: list[_CompiledStep] = []
    needs_age = False
    for step in scheme.steps:
        if isinstance(step, LineSplitStep):
            for group in step.item_groups:
                if group.upfront_rate is not None:
                    rate(group.upfront_rate)
                if group.unit_limit is not None:
                    fen(group.unit_limit)
        elif isinstance(step, DeductibleStep):
            ordinals = step.ordinal_rate
            # column 0: no admission ordinal (not an inpatient scheme); 1 + k: k-th admission
            factor = np.zeros((len(PERSON_TYPES), 1 + len(ordinals)), dtype=np.int64)
            for p, person in enumerate(PERSON_TYPES):
                person_factor = step.person_rate.get(person, Decimal(1))
                factor[p, 0] = rate(person_factor)
                for o, ordinal in enumerate(ordinals):
                    factor[p, 1 + o] = rate(person_factor * ordinal)
            steps.append(
                _Deductible(
                    step.counter,
                    _levels(step.by_level, _FEN_D),
                    factor,
                    step.basis is DeductibleBasis.PER_YEAR,
                    None if step.floor is None else fen(step.floor),
                    None if step.annual_cap is None else fen(step.annual_cap),
                    _per_filing(policy, lambda r: r.inpatient_deductible, _FEN_D),
                )
            )
        elif isinstance(step, PooledFundStep):
            needs_age = needs_age or bool(step.age_bands)
            scale = step.scale
            steps.append(
                _Pooled(
                    step.counter,
                    _levels(step.rate_by_level, _RATE_D),
                    _per_filing(policy, lambda r: r.inpatient_rate, _RATE_D),
                    np.asarray(
                        [rate(step.person_points.get(p, Decimal(0))) for p in PERSON_TYPES],
                        dtype=np.int64,
                    ),
                    tuple((band.from_age, rate(band.points)) for band in step.age_bands),
                    ScaleBase.ABOVE_DEDUCTIBLE if scale is None else scale.base,
                    _brackets((Bracket(Decimal(0), points=Decimal(0)),), ScaleMode.MARGINAL)
                    if scale is None
                    else _brackets(scale.brackets, scale.mode),
                    fen(step.annual_cap),
                    None if step.entry_cap_per_claim is None else fen(step.entry_cap_per_claim),
                    None if step.entry_cap_per_year is None else fen(step.entry_cap_per_year),
                    step.entry_counter,
                    step.base_counter,
                )
            )
        elif isinstance(step, SupplementaryStep):
            steps.append(
                _Supplementary(
                    step.fund is SupplementaryKind.SERIOUS_ILLNESS,
                    step.counter,
                    step.base_counter,
                    _brackets(step.tiers, step.mode),
                    fen(step.annual_cap),
                    step.start is SupplementaryStart.BASIC_CAP,
                    fen(step.deductible),
                    step.include_upfront,
                    step.include_deductible,
                )
            )
        elif isinstance(step, AssistanceStep):
            rates = [
                -1 if group not in step.rate_by_group else rate(step.rate_by_group[group])
                for group in GROUPS
            ]
            steps.append(
                _Assistance(step.counter, np.asarray(rates, dtype=np.int64), fen(step.annual_cap))
            )
        elif isinstance(step, TiltAssistanceStep):
            steps.append(
                _Tilt(
                    step.counter,
                    step.base_counter,
                    np.asarray([group in step.groups for group in GROUPS], dtype=np.bool_),
                    fen(step.threshold),
                    rate(step.rate),
                    fen(step.annual_cap),
                )
            )
        elif isinstance(step, PersonalAccountStep):
            steps.append(
                _Account(
                    step.enabled,
                    step.scope is AccountScope.IN_SCOPE_ONLY,
                    step.family_mutual_aid,
                )
            )
        elif isinstance(step, DiseaseLimitStep):
            limits = {code: fen(limit) for code, limit in step.annual_limit.items()}
            steps.append(_DiseaseLimit(step.counter_prefix, limits))
        elif isinstance(step, ChronicDiseaseStep):
            cap = step.outpatient_cap
            steps.append(
                _Chronic(
                    step,
                    {code: _disease_terms(t) for code, t in step.diseases.items()},
                    fen(cap) if step.shares_outpatient_cap and cap is not None else None,
                )
            )
        else:
            raise Unsupported(f"step kind {type(step).__name__}")
    quantum = fen(policy.rounding.quantum)
    return CompiledScheme(
        policy,
        scheme,
        quantum,
        scheme.kind is SchemeKind.INPATIENT,
        _per_filing(policy, lambda r: r.rate_points, _RATE_D),
        tuple(steps),
        needs_age,
    )


# --------------------------------------------------------------------------- batch


@dataclass
class ClaimColumns:
    """Claims and their fee lines as columns, in claim order (the order of settlement).

    ``scheme[i]`` indexes :attr:`schemes` (-1: not computed here, see ``status`` and
    ``fallback``); lines of claim *i* are ``line_start[i] : line_start[i] + line_count[i]``
    and carry the class, price limit and 先行自付 rate in effect after the scheme's item
    groups.
    """

    schemes: list[CompiledScheme]
    person: I64  # person-year index
    scheme: I64
    level: I64
    person_type: I64
    cross: BOOL  # insured region != treatment region
    filing: I64  # index into FILINGS
    age: I64  # full years on admission, -1 unknown
    group: I64  # index into GROUPS, -1 none
    use_account: BOOL
    balance: I64  # fen
    family: BOOL  # the balance is a relative's account (家庭共济)
    disease: I64  # index into disease_codes, -1 none
    disease_codes: list[str]  # the claims' disease codes as given
    line_start: I64
    line_count: I64
    amount: I64  # lines: fen
    unit_price: I64  # × 10⁴
    quantity: I64  # × 10⁴
    line_class: I64
    price_limit: I64  # fen per unit, -1 none
    upfront_rate: I64  # e8
    #: opening year-to-date totals per person-year: counter name -> fen
    opening: dict[str, I64]
    opening_admissions: I64
    direct: bool = True
    #: per claim: error code settled nothing (refused or invalid), else None
    status: list[str | None] = field(default_factory=list)
    fallback: BOOL | None = None
    #: what the fallback needs: claims, their policy and catalogue, years
    claims: list[Claim] = field(default_factory=list)
    policies: list[Policy | None] = field(default_factory=list)
    catalogs: list[CatalogVersion | None] = field(default_factory=list)
    years: list[int] = field(default_factory=list)  # per person-year

    @property
    def size(self) -> int:
        return len(self.person)


@dataclass
class ColumnarResult:
    """Payer amounts per claim in fen (columns named as :data:`AMOUNT_FIELDS`)."""

    amounts: dict[str, I64]
    status: list[str | None]
    fallback_claims: int
    columnar_claims: int
    rounds: int

    def amount(self, name: str, index: int) -> Money:
        return Money.from_fen(int(self.amounts[name][index]))


# --------------------------------------------------------------------------- building


PolicyResolver = Callable[[Claim], Policy]
CatalogResolver = Callable[[str], CatalogVersion]


@dataclass(frozen=True)
class BatchClaim:
    """One claim of a batch: whose it is, and (for a person's first claim of the year)
    the year-to-date totals before it."""

    person_id: str
    claim: Claim
    opening: YearToDate | None = None


def _checks(claim: Claim, policy: Policy, mode: SettlementMode) -> tuple[str | None, Scheme | None]:
    """The per-claim engine's refusals, in its order (see engine._check_inputs)."""
    if mode is SettlementMode.DIRECT:
        rule = policy.cross_region_rule(claim.filing_category)
        if claim.insured_region != claim.treatment_region and not rule.direct_settlement:
            return "SETTLEMENT_NOT_DIRECT", None
        if claim.encounter_type not in policy.direct_settlement_encounter_types:
            return "ENCOUNTER_NOT_DIRECT", None
        earliest = emergency_window_opens(
            claim.admission_instant, policy.emergency_pre_admission_hours
        )
        for line in claim.fee_lines:
            if line.occurred_at.date() >= claim.admitted_on:
                continue
            when = line.occurred_at.replace(tzinfo=None)
            if not line.is_emergency_pre_admission or when < earliest:
                return "FEE_LINE_BEFORE_ADMISSION", None
    scheme = policy.scheme_for(claim.encounter_type)
    if scheme is None:
        return "POLICY_NO_SCHEME", None
    return None, scheme


def _disease_refusal(
    cs: CompiledScheme, claim: Claim, mode: SettlementMode, *, before_steps: bool
) -> str | None:
    """The per-claim engine's disease refusals, in its order: before the steps (direct
    settlement of a ``chronic_disease`` scheme), or as ``disease_limit`` / ``chronic_disease``
    run (after the pooled fund's birth-date check)."""
    chronic = cs.step_of(_Chronic)
    direct = mode is SettlementMode.DIRECT
    try:
        if before_steps:
            if chronic is None or not direct:
                return None
            terms = require_disease(chronic.step, claim)
            if not terms.cross_province and claim.insured_region[:2] != claim.treatment_region[:2]:
                return "CHRONIC_DISEASE_NOT_DIRECT"
            return None
        limit = cs.step_of(_DiseaseLimit)
        if limit is not None:
            if not claim.disease_code:
                return "CLAIM_DISEASE_REQUIRED"
            if claim.disease_code not in limit.limits:
                return "CHRONIC_DISEASE_NOT_COVERED"
        if chronic is not None:
            require_disease(chronic.step, claim)
    except YidiError as error:
        return error.code
    return None


def build_columns(
    batch: Iterable[BatchClaim],
    policy_for: PolicyResolver,
    catalog_for: CatalogResolver,
    *,
    mode: SettlementMode = SettlementMode.DIRECT,
) -> ClaimColumns:
    """Columns from claim objects (the checks of the per-claim engine run here, per claim)."""
    compiled: dict[tuple[int, SchemeKind], int | None] = {}
    schemes: list[CompiledScheme] = []
    # year-to-date totals are a person's per year and insurance type
    person_years: dict[tuple[str, int, str], int] = {}
    openings: list[YearToDate] = []
    c_cols: dict[str, list[int]] = {
        k: []
        for k in (
            "person",
            "scheme",
            "level",
            "person_type",
            "cross",
            "filing",
            "age",
            "group",
            "use_account",
            "balance",
            "family",
            "disease",
            "line_start",
            "line_count",
        )
    }
    disease_ids: dict[str, int] = {}
    l_cols: dict[str, list[int]] = {
        k: [] for k in ("amount", "unit_price", "quantity", "line_class", "price_limit", "upfront")
    }
    status: list[str | None] = []
    fallback: list[bool] = []
    claims: list[Claim] = []
    policies: list[Policy | None] = []
    catalogs: list[CatalogVersion | None] = []
    item_cache: dict[tuple[int, str, dt.date], CatalogItem | None] = {}
    for entry in batch:
        claim = entry.claim
        year = claim.settlement_year
        key = (entry.person_id, year, claim.insurance_type.value)
        if key not in person_years:
            person_years[key] = len(openings)
            opening = entry.opening or YearToDate.empty(year)
            openings.append(opening if opening.year == year else YearToDate.empty(year))
        claims.append(claim)
        code: str | None = None
        policy: Policy | None = None
        catalog: CatalogVersion | None = None
        scheme: Scheme | None = None
        try:
            policy = policy_for(claim)
            catalog = catalog_for(claim.treatment_region)
            code, scheme = _checks(claim, policy, mode)
        except YidiError as error:
            code = error.code
        policies.append(policy)
        catalogs.append(catalog)
        index: int | None = None
        if code is None and policy is not None and scheme is not None:
            skey = (id(policy), scheme.kind)
            if skey not in compiled:
                try:
                    compiled[skey] = len(schemes)
                    schemes.append(compile_scheme(policy, scheme))
                except Unsupported:
                    compiled[skey] = None
            index = compiled[skey]
        use_fallback = code is None and index is None
        if index is not None:
            code = _disease_refusal(schemes[index], claim, mode, before_steps=True)
            index = None if code is not None else index
        age = claim.age_on(claim.admitted_on)
        if index is not None and schemes[index].needs_age and age is None:
            code, index = "CLAIM_BIRTH_DATE_REQUIRED", None
        if index is not None:
            code = _disease_refusal(schemes[index], claim, mode, before_steps=False)
            index = None if code is not None else index
        start = len(l_cols["amount"])
        if index is not None and catalog is not None:
            cs = schemes[index]
            groups = cs.item_groups
            try:
                rows = []
                for line in claim.fee_lines:
                    ckey = (id(catalog), line.catalog_code, line.occurred_at.date())
                    if ckey not in item_cache:
                        item_cache[ckey] = catalog.lookup(line.catalog_code, ckey[2])
                    rows.append(_line_row(line, item_cache[ckey], groups))
            except Unsupported:
                use_fallback, index = True, None
            else:
                for row in rows:
                    for name, value in zip(l_cols, row, strict=True):
                        l_cols[name].append(value)
        count = len(l_cols["amount"]) - start
        status.append(code)
        fallback.append(use_fallback)
        c_cols["person"].append(person_years[key])
        c_cols["scheme"].append(-1 if index is None else index)
        c_cols["level"].append(int(claim.hospital_level))
        c_cols["person_type"].append(_PERSON_INDEX[claim.person_type])
        c_cols["cross"].append(int(claim.insured_region != claim.treatment_region))
        c_cols["filing"].append(_FILING_INDEX[claim.filing_category])
        c_cols["age"].append(-1 if age is None else age)
        group = claim.assistance_group
        c_cols["group"].append(-1 if group is None else _GROUP_INDEX[group])
        c_cols["use_account"].append(int(claim.use_personal_account))
        c_cols["balance"].append(claim.personal_account_balance.fen)
        c_cols["family"].append(int(claim.personal_account_family))
        disease = claim.disease_code
        if disease is not None and disease not in disease_ids:
            disease_ids[disease] = len(disease_ids)
        c_cols["disease"].append(-1 if disease is None else disease_ids[disease])
        c_cols["line_start"].append(start)
        c_cols["line_count"].append(count)
    opening_cols: dict[str, list[int]] = {}
    for p, ytd in enumerate(openings):
        for name in _ytd_names(ytd):
            opening_cols.setdefault(name, [0] * len(openings))[p] = ytd.counter(name).fen

    def arr(values: list[int]) -> I64:
        return np.asarray(values, dtype=np.int64)

    return ClaimColumns(
        schemes=schemes,
        person=arr(c_cols["person"]),
        scheme=arr(c_cols["scheme"]),
        level=arr(c_cols["level"]),
        person_type=arr(c_cols["person_type"]),
        cross=arr(c_cols["cross"]).astype(np.bool_),
        filing=arr(c_cols["filing"]),
        age=arr(c_cols["age"]),
        group=arr(c_cols["group"]),
        use_account=arr(c_cols["use_account"]).astype(np.bool_),
        balance=arr(c_cols["balance"]),
        family=arr(c_cols["family"]).astype(np.bool_),
        disease=arr(c_cols["disease"]),
        disease_codes=list(disease_ids),
        line_start=arr(c_cols["line_start"]),
        line_count=arr(c_cols["line_count"]),
        amount=arr(l_cols["amount"]),
        unit_price=arr(l_cols["unit_price"]),
        quantity=arr(l_cols["quantity"]),
        line_class=arr(l_cols["line_class"]),
        price_limit=arr(l_cols["price_limit"]),
        upfront_rate=arr(l_cols["upfront"]),
        opening={name: arr(values) for name, values in opening_cols.items()},
        opening_admissions=arr([ytd.admissions_count for ytd in openings]),
        direct=mode is SettlementMode.DIRECT,
        status=status,
        fallback=np.asarray(fallback, dtype=np.bool_),
        claims=claims,
        policies=policies,
        catalogs=catalogs,
        years=[year for (_, year, _) in person_years],
    )


_FIXED = ("deductible_used", "pooled_fund_paid", "serious_illness_paid", "large_expense_paid")
_FIXED_ALL = (*_FIXED, "assistance_paid", "eligible_amount_accumulated")


def _ytd_names(ytd: YearToDate) -> list[str]:
    return [*_FIXED_ALL, *ytd.counters]


def item_terms(
    code: str, item: CatalogItem | None, groups: tuple[Any, ...] = ()
) -> tuple[int, int, int]:
    """(class, price limit in fen or -1, 先行自付 rate e8) of a catalogue code after the
    insured region's item groups (as :func:`yidi.settlement.steps.split_amounts`)."""
    if item is None or item.item_class is ItemClass.C:
        return CLASS_SELF, -1, 0
    group = next((g for g in groups if code.startswith(g.codes)), None)
    limit = None if item.price_limit is None else item.price_limit.yuan
    upfront = item.upfront_self_pay_rate if item.item_class is ItemClass.B else None
    if group is not None:
        if group.unit_limit is not None:
            limit = group.unit_limit if limit is None else min(limit, group.unit_limit)
        if group.upfront_rate is not None:
            upfront = group.upfront_rate
    klass = CLASS_B if item.item_class is ItemClass.B else CLASS_A
    return klass, -1 if limit is None else fen(limit), 0 if not upfront else rate(upfront)


def _line_row(line: Any, item: CatalogItem | None, groups: tuple[Any, ...]) -> tuple[int, ...]:
    unit = _fix(line.unit_price, _PRICE_D)
    qty = _fix(line.quantity, _PRICE_D)
    return (line.line_amount.fen, unit, qty, *item_terms(line.catalog_code, item, groups))


# --------------------------------------------------------------------------- lines


def split_lines(cols: ClaimColumns) -> dict[str, I64]:
    """Per line: fully, over, upfront, eligible (fen), vectorised."""
    amount = cols.amount
    in_scope = cols.line_class != CLASS_SELF
    limit = cols.price_limit
    has_limit = in_scope & (limit >= 0) & (cols.unit_price > limit * (PRICE // 100))
    limited = _half_up(np.where(has_limit, limit, 0) * cols.quantity, PRICE)
    capped = has_limit & (amount > limited)
    allowed = np.where(capped, limited, amount)
    over = np.where(capped, amount - limited, 0)
    upfront = _round_rate(allowed, cols.upfront_rate, 1)
    fully = np.where(in_scope, 0, amount)
    allowed = np.where(in_scope, allowed, 0)
    over = np.where(in_scope, over, 0)
    upfront = np.where(in_scope, upfront, 0)
    return {
        "total": amount,
        "fully": fully,
        "over": over,
        "upfront": upfront,
        "eligible": allowed - upfront,
    }


def roll_up(values: I64, start: I64, count: I64) -> I64:
    """Per-claim sums of line values (claims may have no line)."""
    out = np.zeros(len(start), dtype=np.int64)
    if len(values) == 0:
        return out
    nonempty = count > 0
    sums = np.add.reduceat(values, start[nonempty])
    out[nonempty] = sums
    return out


# --------------------------------------------------------------------------- claim steps


class _Round:
    """The running amounts of a set of claims (no two of one person) while steps run."""

    def __init__(self, cols: ClaimColumns, idx: I64, lines: dict[str, I64], ytd: dict[str, I64]):
        self.idx = idx
        self.persons = cols.person[idx]
        self.total = lines["total"][idx]
        self.fully = lines["fully"][idx]
        self.over = lines["over"][idx]
        self.upfront = lines["upfront"][idx]
        self.eligible = lines["eligible"][idx]
        zero = np.zeros(len(idx), dtype=np.int64)
        self.deductible = zero.copy()
        self.pooled = zero.copy()
        self.uncovered = zero.copy()
        self.serious = zero.copy()
        self.large = zero.copy()
        self.assistance = zero.copy()
        self.account = zero.copy()
        self.pooled_counter = ""
        self.delta: dict[str, I64] = {}
        self._ytd = ytd

    def before(self, name: str) -> I64:
        column = self._ytd.get(name)
        if column is None:
            return np.zeros(len(self.idx), dtype=np.int64)
        return column[self.persons]

    def add(self, name: str, amount: I64) -> None:
        if name in self.delta:
            self.delta[name] = self.delta[name] + amount
        else:
            self.delta[name] = amount.copy()


def _clamp(rate_e8: I64) -> I64:
    return np.clip(rate_e8, 0, RATE)


def _apply_brackets(
    spec: _Brackets, low: I64, high: I64, base_rate: I64, quantum: int
) -> tuple[list[I64], list[I64], list[I64]]:
    """Per portion: amount, rate, paid (zero where the portion is empty)."""
    n = len(low)
    positive = high > low
    thresholds = spec.thresholds
    rates = [
        np.full(n, r, dtype=np.int64) if r is not None else _clamp(base_rate + p)
        for r, p in zip(spec.rates, spec.points, strict=True)
    ]
    if spec.mode is ScaleMode.WHOLE:
        chosen = rates[0]
        for threshold, bracket_rate in zip(thresholds[1:], rates[1:], strict=True):
            chosen = np.where(threshold < high, bracket_rate, chosen)
        amount = np.where(positive, high - low, 0)
        return [amount], [chosen], [_round_rate(amount, chosen, quantum)]
    amounts, paid = [], []
    last = len(thresholds) - 1
    for index, start in enumerate(thresholds):
        part_low = np.maximum(start, low)
        part_high = high if index == last else np.minimum(thresholds[index + 1], high)
        amount = np.where(positive & (part_high > part_low), part_high - part_low, 0)
        amounts.append(amount)
        paid.append(_round_rate(amount, rates[index], quantum))
    return amounts, rates, paid


def _covered(amounts: list[I64], rates: list[I64], paids: list[I64], paid: I64) -> I64:
    covered = np.zeros(len(paid), dtype=np.int64)
    left = paid.copy()
    open_ = np.ones(len(paid), dtype=np.bool_)
    for amount, rate_e8, portion in zip(amounts, rates, paids, strict=True):
        whole = open_ & (left >= portion)
        covered = covered + np.where(whole, amount, 0)
        left = left - np.where(whole, portion, 0)
        partial = open_ & ~whole
        safe = np.where(rate_e8 > 0, rate_e8, 1)
        part = _half_up(left * RATE, safe)
        covered = covered + np.where(partial & (rate_e8 > 0), part, 0)
        open_ = open_ & whole
    return covered


def _deductible(step: _Deductible, cs: CompiledScheme, cols: ClaimColumns, st: _Round) -> None:
    idx = st.idx
    standard = step.by_level[cols.level[idx]]
    if cs.inpatient:
        override = step.cross[cols.filing[idx]]
        use = cols.cross[idx] & (override >= 0)
        standard = np.where(use, override, standard)
        ordinal_index = 1 + np.minimum(st.before("__admissions__"), step.factor.shape[1] - 2)
    else:
        ordinal_index = np.zeros(len(idx), dtype=np.int64)
    factor = step.factor[cols.person_type[idx], ordinal_index]
    computed = _round_rate(standard, factor, cs.quantum)
    if step.floor is not None:
        computed = np.maximum(computed, step.floor)
    used = st.before(step.counter)
    due = np.maximum(0, computed - used) if step.per_year else computed
    if step.annual_cap is not None:
        due = np.minimum(due, np.maximum(0, step.annual_cap - used))
    applied = np.minimum(due, st.eligible)
    st.deductible = applied
    st.add(step.counter, applied)


def _pooled(step: _Pooled, cs: CompiledScheme, cols: ClaimColumns, st: _Round) -> None:
    idx = st.idx
    cross = cols.cross[idx]
    filing = cols.filing[idx]
    level_rate = step.rate_by_level[cols.level[idx]]
    if cs.inpatient:
        override = step.cross_rate[filing]
        level_rate = np.where(cross & (override >= 0), override, level_rate)
    base_rate = level_rate + step.person_points[cols.person_type[idx]]
    if step.age_bands:
        age = cols.age[idx]
        points = np.zeros(len(idx), dtype=np.int64)
        for from_age, band_points in step.age_bands:
            points = np.where(age >= from_age, band_points, points)
        base_rate = base_rate + points
    base_rate = base_rate + np.where(cross, cs.cross_points[filing], 0)
    payable = st.eligible - st.deductible
    entry = payable
    if step.entry_cap_per_claim is not None:
        entry = np.minimum(entry, step.entry_cap_per_claim)
    if step.entry_cap_per_year is not None:
        room = np.maximum(0, step.entry_cap_per_year - st.before(step.entry_counter))
        entry = np.minimum(entry, room)
        st.add(step.entry_counter, entry)
    if step.base is ScaleBase.ABOVE_DEDUCTIBLE:
        low = np.zeros(len(idx), dtype=np.int64)
    elif step.base is ScaleBase.ELIGIBLE:
        low = st.deductible
    elif step.base is ScaleBase.YEAR_ELIGIBLE:
        low = st.before(step.base_counter) + st.deductible
        st.add(step.base_counter, st.eligible)
    else:
        low = st.before(step.base_counter)
        st.add(step.base_counter, entry)
    amounts, rates, paids = _apply_brackets(step.brackets, low, low + entry, base_rate, cs.quantum)
    computed = np.sum(paids, axis=0) if len(paids) > 1 else paids[0]
    cap_left = np.maximum(0, step.annual_cap - st.before(step.counter))
    paid = np.minimum(computed, cap_left)
    st.pooled = paid
    st.pooled_counter = step.counter
    st.add(step.counter, paid)
    covered = np.where(paid == computed, entry, _covered(amounts, rates, paids, paid))
    st.uncovered = payable - covered


def _supplementary(step: _Supplementary, cs: CompiledScheme, st: _Round) -> None:
    if step.basic_cap:
        base = st.uncovered
    else:
        base = st.eligible - st.pooled
        if step.include_upfront:
            base = base + st.upfront
        if not step.include_deductible:
            base = base - st.deductible
    base = np.maximum(0, base - st.serious - st.large)
    before = st.before(step.base_counter)
    after = before + base
    zero = np.zeros(len(base), dtype=np.int64)
    _, _, paids = _apply_brackets(
        step.tiers,
        np.maximum(0, before - step.deductible),
        np.maximum(0, after - step.deductible),
        zero,
        cs.quantum,
    )
    computed = np.sum(paids, axis=0) if len(paids) > 1 else paids[0]
    left = np.maximum(0, step.annual_cap - st.before(step.counter))
    paid = np.minimum(computed, left)
    if step.serious:
        st.serious = st.serious + paid
    else:
        st.large = st.large + paid
    st.add(step.counter, paid)
    if not (step.base_counter == "eligible_amount_accumulated" and cs.inpatient):
        st.add(step.base_counter, base)


def _assistance(step: _Assistance, cs: CompiledScheme, cols: ClaimColumns, st: _Round) -> None:
    group = cols.group[st.idx]
    rate_e8 = np.where(group >= 0, step.rates[np.maximum(group, 0)], -1)
    listed = rate_e8 >= 0
    remainder = np.maximum(0, st.eligible - st.pooled - st.serious - st.large)
    computed = np.where(listed, _round_rate(remainder, np.maximum(rate_e8, 0), cs.quantum), 0)
    left = np.maximum(0, step.annual_cap - st.before(step.counter))
    paid = np.minimum(computed, left)
    st.assistance = st.assistance + paid
    st.add(step.counter, paid)


def _tilt(step: _Tilt, cs: CompiledScheme, cols: ClaimColumns, st: _Round) -> None:
    group = cols.group[st.idx]
    member = (group >= 0) & step.groups[np.maximum(group, 0)]
    base = np.maximum(0, st.eligible - st.pooled - st.serious - st.large - st.assistance)
    base = np.where(member, base, 0)
    before = st.before(step.base_counter)
    after = before + base
    over = np.maximum(0, after - step.threshold) - np.maximum(0, before - step.threshold)
    computed = _round_rate(over, step.rate, cs.quantum)
    left = np.maximum(0, step.annual_cap - st.before(step.counter))
    paid = np.where(member, np.minimum(computed, left), 0)
    st.assistance = st.assistance + paid
    st.add(step.counter, paid)
    st.add(step.base_counter, base)


def _by_disease(cols: ClaimColumns, st: _Round) -> list[tuple[str, BOOL]]:
    """The round's claims grouped by disease code: (code as given, mask)."""
    disease = cols.disease[st.idx]
    return [(cols.disease_codes[int(d)], disease == d) for d in np.unique(disease[disease >= 0])]


def _disease_limit(step: _DiseaseLimit, cols: ClaimColumns, st: _Round) -> None:
    limit = np.zeros(len(st.idx), dtype=np.int64)
    used = np.zeros(len(st.idx), dtype=np.int64)
    groups = _by_disease(cols, st)
    for code, mask in groups:
        limit[mask] = step.limits[code]
        used[mask] = st.before(f"{step.prefix}.{code}")[mask]
    before = st.pooled
    paid = np.minimum(before, np.maximum(0, limit - used))
    if st.pooled_counter:
        st.add(st.pooled_counter, paid - before)
    st.uncovered = st.uncovered + before - paid
    st.pooled = paid
    for code, mask in groups:
        st.add(f"{step.prefix}.{code}", np.where(mask, paid, 0))


def _chronic(step: _Chronic, cs: CompiledScheme, cols: ClaimColumns, st: _Round) -> None:
    """As :func:`yidi.settlement.steps.run_chronic_disease`, per (person, disease)."""
    idx = st.idx
    n = len(idx)
    spec = step.step
    rate_e8 = np.zeros(n, dtype=np.int64)
    limit = np.full(n, -1, dtype=np.int64)
    on_eligible = np.zeros(n, dtype=np.bool_)
    deductible_total = np.zeros(n, dtype=np.int64)
    deductible_used = np.zeros(n, dtype=np.int64)
    basis_used = np.zeros(n, dtype=np.int64)
    groups = []
    for given, mask in _by_disease(cols, st):
        code = given.strip().upper()
        terms = step.terms[code]
        groups.append((code, mask, terms.on_eligible))
        rate_e8[mask] = terms.rate
        limit[mask] = terms.limit
        on_eligible[mask] = terms.on_eligible
        deductible_total[mask] = terms.deductible
        deductible_used[mask] = st.before(spec.counter(code, "deductible_used"))[mask]
        basis = "eligible" if terms.on_eligible else "fund_paid"
        basis_used[mask] = st.before(spec.counter(code, basis))[mask]
    eligible = st.eligible
    deductible = np.minimum(eligible, np.maximum(0, deductible_total - deductible_used))
    payable = eligible - deductible
    points = np.where(cols.cross[idx], cs.cross_points[cols.filing[idx]], 0)
    rate_e8 = _clamp(rate_e8 + points)
    has_limit = limit >= 0
    left = np.maximum(0, limit - basis_used)
    counted = np.where(on_eligible & has_limit, np.minimum(payable, left), payable)
    computed = _round_rate(counted, rate_e8, cs.quantum)
    paid = np.where(has_limit & ~on_eligible, np.minimum(computed, left), computed)
    if step.outpatient_cap is not None:
        shared_left = np.maximum(0, step.outpatient_cap - st.before(spec.outpatient_counter))
        paid = np.minimum(paid, shared_left)
        st.add(spec.outpatient_counter, paid)
    st.deductible = st.deductible + deductible
    st.pooled = paid
    st.pooled_counter = f"{spec.counter_prefix}.pooled_fund_paid"
    st.add(st.pooled_counter, paid)
    safe = np.where(rate_e8 > 0, rate_e8, 1)
    at_rate = np.where(rate_e8 > 0, np.minimum(payable, _half_up(paid * RATE, safe)), 0)
    covered = np.where(paid == computed, counted, at_rate)
    for code, mask, by_eligible in groups:
        st.add(spec.counter(code, "deductible_used"), np.where(mask, deductible, 0))
        st.add(spec.counter(code, "fund_paid"), np.where(mask, paid, 0))
        if by_eligible:
            st.add(spec.counter(code, "eligible"), np.where(mask, covered, 0))
    st.uncovered = payable - covered


def _run_scheme(cs: CompiledScheme, cols: ClaimColumns, st: _Round) -> dict[str, I64]:
    account: _Account | None = None
    for step in cs.steps:
        if isinstance(step, _Deductible):
            _deductible(step, cs, cols, st)
        elif isinstance(step, _Pooled):
            _pooled(step, cs, cols, st)
        elif isinstance(step, _Supplementary):
            _supplementary(step, cs, st)
        elif isinstance(step, _Assistance):
            _assistance(step, cs, cols, st)
        elif isinstance(step, _Tilt):
            _tilt(step, cs, cols, st)
        elif isinstance(step, _DiseaseLimit):
            _disease_limit(step, cols, st)
        elif isinstance(step, _Chronic):
            _chronic(step, cs, cols, st)
        else:
            account = step
    fund = st.pooled + st.serious + st.large + st.assistance
    patient = st.total - fund
    acct = np.zeros(len(st.idx), dtype=np.int64)
    if account is not None and cols.direct and (account.enabled or account.family_mutual_aid):
        balance = cols.balance[st.idx]
        # A relative's account (家庭共济) pays where the scheme allows family payment.
        permitted = np.where(cols.family[st.idx], account.family_mutual_aid, account.enabled)
        allowed = cols.use_account[st.idx] & (balance > 0) & permitted
        base = patient
        if account.in_scope_only:
            base = np.maximum(0, patient - st.fully - st.over)
        acct = np.where(allowed, np.minimum(base, balance), 0)
    if cs.inpatient:
        st.add("eligible_amount_accumulated", st.eligible - st.pooled)
        st.add("__admissions__", np.ones(len(st.idx), dtype=np.int64))
    return {
        "total_charges": st.total,
        "fully_self_paid": st.fully,
        "over_limit_self_paid": st.over,
        "upfront_self_paid": st.upfront,
        "eligible_amount": st.eligible,
        "deductible_applied": st.deductible,
        "pooled_fund_paid": st.pooled,
        "serious_illness_paid": st.serious,
        "large_expense_paid": st.large,
        "medical_assistance_paid": st.assistance,
        "fund_paid_total": fund,
        "patient_share": patient,
        "personal_account_paid": acct,
        "cash_paid": patient - acct,
    }


# --------------------------------------------------------------------------- settle


def claim_ranks(person: I64) -> I64:
    """Each claim's number within its person-year (0 = first), in claim order."""
    n = len(person)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(person, kind="stable")
    sorted_person = person[order]
    first = np.ones(n, dtype=np.bool_)
    first[1:] = sorted_person[1:] != sorted_person[:-1]
    group_start = np.maximum.accumulate(np.where(first, np.arange(n), 0))
    ranks = np.empty(n, dtype=np.int64)
    ranks[order] = np.arange(n) - group_start
    return ranks


def _ytd_of(cols: ClaimColumns, ytd: dict[str, I64], person: int) -> YearToDate:
    values: dict[str, Any] = {"year": cols.years[person]}
    counters: dict[str, Money] = {}
    for name, column in ytd.items():
        if name == "__admissions__":
            values["admissions_count"] = int(column[person])
        elif name in _FIXED_ALL:
            values[name] = Money.from_fen(int(column[person]))
        elif column[person]:
            counters[name] = Money.from_fen(int(column[person]))
    return YearToDate(counters=counters, **values)


def settle_columns(
    cols: ClaimColumns, *, progress: Callable[[int], None] | None = None
) -> ColumnarResult:
    """Settle every claim of ``cols``; ``progress(n)`` is called as claims are done."""
    n = cols.size
    persons = len(cols.opening_admissions)
    ytd: dict[str, I64] = {name: column.copy() for name, column in cols.opening.items()}
    ytd["__admissions__"] = cols.opening_admissions.copy()
    out = {name: np.zeros(n, dtype=np.int64) for name in AMOUNT_FIELDS}
    status: list[str | None] = list(cols.status) if cols.status else [None] * n
    fallback = cols.fallback if cols.fallback is not None else np.zeros(n, dtype=np.bool_)
    split = split_lines(cols)
    lines = {
        name: roll_up(values, cols.line_start, cols.line_count) for name, values in split.items()
    }
    ranks = claim_ranks(cols.person)
    rounds = int(ranks.max()) + 1 if n else 0
    by_rank = np.argsort(ranks, kind="stable")
    bounds = np.searchsorted(ranks[by_rank], np.arange(rounds + 1))
    done_fallback = 0
    for r in range(rounds):
        idx_round = by_rank[bounds[r] : bounds[r + 1]]
        schemes = cols.scheme[idx_round]
        for g in np.unique(schemes[schemes >= 0]):
            idx = idx_round[schemes == g]
            st = _Round(cols, idx, lines, ytd)
            amounts = _run_scheme(cols.schemes[int(g)], cols, st)
            for name, values in amounts.items():
                out[name][idx] = values
            for name, delta in st.delta.items():
                column = ytd.get(name)
                if column is None:
                    column = ytd[name] = np.zeros(persons, dtype=np.int64)
                np.add.at(column, st.persons, delta)
        for i in idx_round[fallback[idx_round]]:
            done_fallback += 1
            _fallback(cols, int(i), ytd, out, status, persons)
        if progress is not None:
            progress(len(idx_round))
    return ColumnarResult(out, status, done_fallback, int(np.sum(cols.scheme >= 0)), rounds)


def _fallback(
    cols: ClaimColumns,
    i: int,
    ytd: dict[str, I64],
    out: dict[str, I64],
    status: list[str | None],
    persons: int,
) -> None:
    claim, policy, catalog = cols.claims[i], cols.policies[i], cols.catalogs[i]
    person = int(cols.person[i])
    if policy is None or catalog is None:  # pragma: no cover - build_columns sets status
        return
    mode = SettlementMode.DIRECT if cols.direct else SettlementMode.MANUAL
    try:
        result = settle(
            claim,
            policy,
            resolve_fee_lines(claim, catalog),
            _ytd_of(cols, ytd, person),
            mode=mode,
        )
    except (InvalidInput, Refused, YidiError) as error:
        status[i] = error.code
        return
    for name in AMOUNT_FIELDS:
        out[name][i] = getattr(result, name).fen
    delta = result.year_to_date_delta
    ytd["__admissions__"][person] += delta.admissions_count
    for name in (*_FIXED_ALL, *delta.counters):
        amount = delta.counter(name).fen
        if amount:
            column = ytd.get(name)
            if column is None:
                column = ytd[name] = np.zeros(persons, dtype=np.int64)
            column[person] += amount


# --------------------------------------------------------------------------- per-claim reference


def settle_sequential(
    batch: Sequence[BatchClaim],
    policy_for: PolicyResolver,
    catalog_for: CatalogResolver,
    *,
    mode: SettlementMode = SettlementMode.DIRECT,
) -> list[SettlementResult | str]:
    """The per-claim engine over a batch, each person's year-to-date carried in claim
    order: the reference the columnar engine must equal (a result, or an error code)."""
    running: dict[tuple[str, int, str], YearToDate] = {}
    out: list[SettlementResult | str] = []
    for entry in batch:
        claim = entry.claim
        key = (entry.person_id, claim.settlement_year, claim.insurance_type.value)
        if key not in running:
            opening = entry.opening
            year = claim.settlement_year
            running[key] = (
                opening if opening is not None and opening.year == year else YearToDate.empty(year)
            )
        try:
            policy = policy_for(claim)
            result = settle(
                claim,
                policy,
                resolve_fee_lines(claim, catalog_for(claim.treatment_region)),
                running[key],
                mode=mode,
            )
        except YidiError as error:
            out.append(error.code)
            continue
        running[key] = result.year_to_date_after
        out.append(result)
    return out


def settle_batch(
    batch: Sequence[BatchClaim],
    policy_for: PolicyResolver,
    catalog_for: CatalogResolver,
    *,
    mode: SettlementMode = SettlementMode.DIRECT,
    progress: Callable[[int], None] | None = None,
) -> ColumnarResult:
    """Build the columns and settle them (the columnar engine from claim objects)."""
    return settle_columns(
        build_columns(batch, policy_for, catalog_for, mode=mode), progress=progress
    )
