"""Builders for settlement facts used by the funds tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

from yidi.funds.commands import record_settlement_fact
from yidi.funds.model import Fund, SettlementFact
from yidi.funds.ports import FundsUnitOfWork
from yidi.kernel.insurance import FilingCategory, InsuranceType
from yidi.kernel.money import Money


def make_fact(
    setl_id: str,
    *,
    on: dt.date = dt.date(2017, 9, 10),
    insured: str = "430400",
    treatment: str = "450923",
    hospital: str = "H45092300001",
    insurance_type: InsuranceType = InsuranceType.EMPLOYEE,
    category: FilingCategory | None = FilingCategory.RETIREE_RESETTLED,
    total: str = "1000.00",
    pooled: str = "600.00",
    serious: str = "0",
    large: str = "0",
    assistance: str = "0",
    clearing_month: str = "",
) -> SettlementFact:
    return SettlementFact(
        setl_id=setl_id,
        settled_on=on,
        insured_region_code=insured,
        treatment_region_code=treatment,
        hospital_code=hospital,
        insurance_type=insurance_type,
        filing_category=category,
        total_charges=Money.of(total),
        fund_amounts={
            Fund.POOLED: Money.of(pooled),
            Fund.SERIOUS_ILLNESS: Money.of(serious),
            Fund.LARGE_EXPENSE: Money.of(large),
            Fund.MEDICAL_ASSISTANCE: Money.of(assistance),
        },
        clearing_month=clearing_month,
    )


def record_facts(
    uow_factory: Callable[[], FundsUnitOfWork], facts: Iterable[SettlementFact], at: dt.datetime
) -> None:
    """Store ``facts`` as settled at ``at``, in one transaction."""
    with uow_factory() as uow:
        for fact in facts:
            record_settlement_fact(uow, fact, at)
        uow.commit()
