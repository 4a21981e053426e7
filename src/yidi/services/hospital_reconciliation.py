"""Reconciliation of a hospital's settlements with yidi's (对账, 3201 and 3202).

The centre's side is every settlement record of the hospital in the period: a settlement
(结算) is one line, a reversal (结算撤销 or 2601 冲正) is a refund line (退费结算,
``refund``) keyed by the settlement it reverses, with the negative amounts 2305 answered.
The hospital's side is what its HIS recorded from the answers it got. :func:`compare` lists
every line that one side has and the other does not, and every line whose amounts differ;
:func:`totals` adds one side up for 3201 对总账.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from yidi.clock import CHINA_TZ, Clock
from yidi.domain.audit import AuditEntry
from yidi.domain.errors import InvalidInput, NotFound
from yidi.domain.money import Money, money_sum
from yidi.services.audit_context import current_client_address
from yidi.services.hospital import Caller, psn_no_of
from yidi.storage.uow import SqlUnitOfWork

#: yidi settles inpatient care only: its clearing type (清算类别 21 住院).
INPATIENT_CLEARING_TYPE = "21"
#: The longest period one reconciliation may cover (a statement is monthly; a quarter at most).
MAX_PERIOD_DAYS = 92


@dataclass(frozen=True, slots=True)
class LedgerLine:
    """One settlement (or refund) as one side records it."""

    settlement_id: str
    refund: bool
    total: Money
    fund: Money
    account: Money
    person_no: str | None = None
    visit_id: str | None = None
    message_id: str | None = None

    @property
    def key(self) -> tuple[str, bool]:
        return (self.settlement_id, self.refund)


class DifferenceKind(StrEnum):
    CENTRE_ONLY = "centre_only"
    INSTITUTION_ONLY = "institution_only"
    AMOUNT = "amount"


@dataclass(frozen=True, slots=True)
class Difference:
    kind: DifferenceKind
    centre: LedgerLine | None
    institution: LedgerLine | None

    @property
    def line(self) -> LedgerLine:
        """The line to report: the centre's when it has one."""
        line = self.centre or self.institution
        assert line is not None
        return line


@dataclass(frozen=True, slots=True)
class Totals:
    count: int
    total: Money
    fund: Money
    account: Money


def totals(lines: Sequence[LedgerLine]) -> Totals:
    return Totals(
        count=len(lines),
        total=money_sum([line.total for line in lines]),
        fund=money_sum([line.fund for line in lines]),
        account=money_sum([line.account for line in lines]),
    )


def compare(centre: Sequence[LedgerLine], institution: Sequence[LedgerLine]) -> list[Difference]:
    """Every difference between the two sides, in the centre's order, then the hospital's."""
    theirs: dict[tuple[str, bool], LedgerLine] = {}
    for line in institution:
        if line.key in theirs:
            raise InvalidInput(
                "STATEMENT_LINE_DUPLICATE",
                f"对账明细中结算ID {line.settlement_id}"
                f"（{'退费' if line.refund else '结算'}）出现两次",
                "a settlement appears twice in the statement",
                field="setl_id",
            )
        theirs[line.key] = line
    differences: list[Difference] = []
    seen: set[tuple[str, bool]] = set()
    for ours in centre:
        seen.add(ours.key)
        other = theirs.get(ours.key)
        if other is None:
            differences.append(Difference(DifferenceKind.CENTRE_ONLY, ours, None))
        elif (ours.total, ours.fund, ours.account) != (other.total, other.fund, other.account):
            differences.append(Difference(DifferenceKind.AMOUNT, ours, other))
    for line in institution:
        if line.key not in seen:
            differences.append(Difference(DifferenceKind.INSTITUTION_ONLY, None, line))
    return differences


class ReconciliationService:
    """The centre's side of a hospital's statement; read only (each read audited)."""

    def __init__(self, uow_factory: Callable[[], SqlUnitOfWork], clock: Clock) -> None:
        self._uow = uow_factory
        self._clock = clock

    def centre_lines(
        self,
        caller: Caller,
        first_day: dt.date,
        last_day: dt.date,
        *,
        insurance_type: str | None = None,
        clearing_type: str | None = None,
        agency: str | None = None,
        refunds: bool | None = None,
    ) -> list[LedgerLine]:
        """The hospital's settlement records settled (China time) from first to last day."""
        if last_day < first_day or (last_day - first_day).days >= MAX_PERIOD_DAYS:
            raise InvalidInput(
                "STATEMENT_PERIOD_INVALID",
                f"对账期间应为开始日期不晚于结束日期、不超过 {MAX_PERIOD_DAYS} 天",
                f"the period must run forwards and cover at most {MAX_PERIOD_DAYS} days",
                field="stmt_begndate",
            )
        start = dt.datetime.combine(first_day, dt.time(), tzinfo=CHINA_TZ)
        end = dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time(), tzinfo=CHINA_TZ)
        with self._uow() as uow:
            if uow.reference.hospital(caller.hospital_code) is None:
                raise NotFound(
                    "HOSPITAL_NOT_FOUND",
                    f"定点医疗机构 {caller.hospital_code} 不存在",
                    "unknown designated institution",
                    field="fixmedins_code",
                )
            rows = uow.hospital.settlements_of_hospital(caller.hospital_code, start, end)
            uow.audit.append(
                AuditEntry(
                    at=self._clock.now(),
                    actor=caller.actor[:64],
                    role=caller.role,
                    region_code=None,
                    action="hospital.reconciliation_read",
                    subject=f"hospital:{caller.hospital_code}",
                    reason=f"{first_day:%Y-%m-%d}–{last_day:%Y-%m-%d} {len(rows)} 条",
                    address=(caller.address or current_client_address())[:64],
                )
            )
            uow.commit()
        if clearing_type not in (None, INPATIENT_CLEARING_TYPE):
            return []
        lines = []
        for row in rows:
            refund = row.kind == "reversal"
            if insurance_type and row.insurance_type != insurance_type:
                continue
            if agency and row.insured_region_code != agency:
                continue
            if refunds is not None and refund != refunds:
                continue
            lines.append(
                LedgerLine(
                    settlement_id=(row.reverses_id or row.id) if refund else row.id,
                    refund=refund,
                    total=row.amounts["medfee_sumamt"],
                    fund=row.amounts["fund_pay_sumamt"],
                    account=row.amounts["acct_pay"],
                    person_no=psn_no_of(row.person_id),
                    visit_id=row.encounter_id,
                    message_id=row.msgid,
                )
            )
        return lines
