"""Estimate what a planned admission would cost the insured person (住院费用估算).

The insured person names where they plan to be admitted (就医地), the hospital level and
the amounts they expect: the total, how much of it is class B (乙类) and class C (丙类).
The estimate runs the real settlement engine on three synthetic fee lines drawn from
the treatment region's catalogue in force that day (甲类 for the rest), under the
insured region's policy (参保地政策) and their year-to-date totals. Nothing is stored.

Care without a valid cross-region filing (未备案) is not settled directly: the estimate
then computes it as a manual reimbursement at the insured region (回参保地报销) with the
policy's rules for unfiled care, and ``result.mode`` says so.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from yidi.catalog.model import CatalogItem, CatalogVersion, ItemClass, no_catalog
from yidi.catalog.ports import CatalogVersions
from yidi.catalog.queries import CatalogLookup
from yidi.filing.model import lifecycle
from yidi.filing.model.lifecycle import Filing, FilingState
from yidi.kernel.access import Principal, Role
from yidi.kernel.errors import Forbidden, InvalidInput, NotFound
from yidi.kernel.insurance import EncounterType, HospitalLevel, SettlementMode
from yidi.kernel.money import Money
from yidi.kernel.regions import DivisionRegistry, default_registry
from yidi.policy.loader import PolicyLibrary
from yidi.settlement.claim_builder import FeeLineInput, build_claim, claim_sources
from yidi.settlement.claims import YearToDate
from yidi.settlement.engine import settle
from yidi.settlement.ports import EstimateReading
from yidi.settlement.result import SettlementResult

_LINE_CLASSES = (ItemClass.A, ItemClass.B, ItemClass.C)
_ONE = Decimal(1)


@dataclass(frozen=True, slots=True)
class EstimateRequest:
    """What the insured person plans: where, which level, and the expected amounts."""

    treatment_region_code: str
    hospital_level: HospitalLevel
    planned_total: Money
    class_c_amount: Money
    class_b_amount: Money
    on_date: dt.date


def _bad(code: str, message: str, message_en: str, field: str) -> InvalidInput:
    return InvalidInput(code, message, message_en, field=field)


def _check_amounts(planned_total: Money, class_c_amount: Money, class_b_amount: Money) -> None:
    for field, amount, label in (
        ("planned_total", planned_total, "预计医疗费总额"),
        ("class_c_amount", class_c_amount, "丙类（全自费）金额"),
        ("class_b_amount", class_b_amount, "乙类金额"),
    ):
        if amount.yuan < 0:
            raise _bad(
                "ESTIMATE_AMOUNT_NEGATIVE",
                f"{label}不能为负数",
                f"{field} must not be negative",
                field,
            )
    if planned_total.is_zero():
        raise _bad(
            "ESTIMATE_TOTAL_ZERO",
            "预计医疗费总额须大于 0",
            "the planned total must be above zero",
            "planned_total",
        )
    if class_c_amount.yuan + class_b_amount.yuan > planned_total.yuan:
        raise _bad(
            "ESTIMATE_PARTS_EXCEED_TOTAL",
            "乙类与丙类金额之和不能大于预计医疗费总额",
            "the class B and class C amounts together exceed the planned total",
            "class_b_amount" if class_b_amount.yuan > planned_total.yuan else "class_c_amount",
        )


def _plain_item(catalog: CatalogVersion, item_class: ItemClass, day: dt.date) -> CatalogItem:
    """The first item (by code) of the class with no price limit, valid that day."""
    for code in sorted(catalog.items):
        item = catalog.items[code]
        if item.item_class is item_class and item.price_limit is None and item.is_valid_on(day):
            return item
    raise NotFound(
        "ESTIMATE_NO_CATALOG_ITEM",
        f"就医地目录中没有可用于估算的{item_class.label_zh}项目",
        f"the treatment catalogue has no usable class {item_class.name} item",
        field="treatment_region_code",
    )


def _valid_filing(
    uow: EstimateReading,
    id_number: str,
    treatment_region: str,
    on_date: dt.date,
    regions: DivisionRegistry,
) -> Filing | None:
    """A filing valid for the destination; a referral naming hospitals counts at any of them."""
    candidates = uow.filings.current_for_person(id_number, (FilingState.APPROVED,))
    found = lifecycle.valid_filing_for(candidates, treatment_region, None, on_date, regions)
    if found is not None:
        return found
    for filing in candidates:
        for institution in filing.record.designated_institutions:
            found = lifecycle.valid_filing_for(
                [filing], treatment_region, institution, on_date, regions
            )
            if found is not None:
                return found
    return None


def estimate_admission(
    uow: EstimateReading,
    principal: Principal,
    request: EstimateRequest,
    *,
    catalogs: CatalogVersions | None = None,
    policies: PolicyLibrary | None = None,
    regions: DivisionRegistry | None = None,
) -> SettlementResult:
    """Pre-settle a planned admission of the signed-in insured person; nothing is written.

    ``result.mode`` is DIRECT when the stay would be settled at the hospital, MANUAL when
    it would have to be paid in full and reimbursed at the insured region (no valid
    filing, or a filing category the insured region does not settle directly).
    """
    if principal.role is not Role.INSURED_PERSON or not principal.id_number:
        raise Forbidden(
            "ACCESS_DENIED", "只有参保人本人可以估算住院费用", "only insured persons may estimate"
        )
    _check_amounts(request.planned_total, request.class_c_amount, request.class_b_amount)
    registry = regions or default_registry()
    lookup: CatalogVersions = catalogs or CatalogLookup()
    treatment_code = request.treatment_region_code.strip()
    if not (len(treatment_code) == 6 and treatment_code.isdigit()) or not registry.exists(
        treatment_code
    ):
        raise _bad(
            "ESTIMATE_REGION_UNKNOWN",
            f"就医地区划代码“{treatment_code}”不存在，请填写 6 位行政区划代码",
            "unknown treatment region code",
            "treatment_region_code",
        )
    person = uow.reference.person_by_id_number(principal.id_number)
    if person is None:
        raise NotFound(
            "PERSON_NOT_FOUND",
            "未找到您的参保信息，请联系参保地医保经办机构",
            "no insured person record for this account",
        )
    day = request.on_date
    sources = claim_sources(
        uow,
        lookup,
        policies,
        insured_region=person.insured_region_code,
        insurance_type=person.insurance_type,
        treatment_region=treatment_code,
        policy_on=day,
    )
    catalog = sources.catalog_on(day)
    if catalog is None:
        raise no_catalog(treatment_code)
    policy = sources.policy
    cross_region = policy.region_code != sources.catalog_region
    filing = (
        _valid_filing(uow, person.id_number, treatment_code, day, registry)
        if cross_region
        else None
    )
    category = filing.record.category if filing else None
    mode = SettlementMode.DIRECT
    if cross_region and not policy.cross_region_rule(category).direct_settlement:
        mode = SettlementMode.MANUAL

    class_a_amount = Money(
        request.planned_total.yuan - request.class_b_amount.yuan - request.class_c_amount.yuan
    )
    amounts = dict(
        zip(
            _LINE_CLASSES,
            (class_a_amount, request.class_b_amount, request.class_c_amount),
            strict=True,
        )
    )
    occurred_at = dt.datetime.combine(day, dt.time(9))
    lines: list[FeeLineInput] = []
    for item_class in _LINE_CLASSES:
        amount = amounts[item_class]
        if amount.is_zero():
            continue
        item = _plain_item(catalog, item_class, day)
        lines.append(
            FeeLineInput(
                serial=str(len(lines) + 1),
                catalog_code=item.code,
                quantity=_ONE,
                unit_price=amount.yuan,
                amount=amount,
                occurred_at=occurred_at,
                name=f"{item_class.label_zh}费用（估算）",
            )
        )
    built = build_claim(
        sources,
        lines,
        person=person,
        insurance_type=person.insurance_type,
        hospital_level=request.hospital_level,
        filing_category=category,
        encounter_type=EncounterType.INPATIENT,
        admitted_on=day,
        discharged_on=day,
    )
    person_id = uow.hospital.person_id(person.id_number)
    year_to_date = (
        YearToDate.empty(day.year)
        if person_id is None
        else uow.hospital.read_year_to_date(person_id, person.insurance_type, day.year)
    )
    return settle(built.claim, built.policy, built.resolved, year_to_date, mode=mode)
