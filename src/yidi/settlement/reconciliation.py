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
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Final

from yidi.funds.model import ClearingKind, next_month, parse_month
from yidi.kernel.access import Caller
from yidi.kernel.audit import caller_entry
from yidi.kernel.clock import CHINA_TZ, Clock
from yidi.kernel.errors import Conflict, InvalidInput, NotFound, Refused
from yidi.kernel.idempotency import RequestKey
from yidi.kernel.money import Money, money_sum
from yidi.settlement.ports import ReconciliationUnitOfWork

#: The clearing types (清算类别 clr_type) yidi settles: 11 门诊, 21 住院, 41 药店购药.
CLEARING_TYPES: Final = frozenset(kind.value for kind in ClearingKind)
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
    cash: Money = field(default_factory=Money.zero)
    person_no: str | None = None
    visit_id: str | None = None
    message_id: str | None = None
    #: 清算类别 (clr_type) of the settlement; the hospital's side does not say
    clearing_type: str | None = None

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
    cash: Money = field(default_factory=Money.zero)
    #: settlements minus refunds (清算人次)
    net_count: int = 0


def totals(lines: Sequence[LedgerLine]) -> Totals:
    return Totals(
        count=len(lines),
        total=money_sum([line.total for line in lines]),
        fund=money_sum([line.fund for line in lines]),
        account=money_sum([line.account for line in lines]),
        cash=money_sum([line.cash for line in lines]),
        net_count=sum(-1 if line.refund else 1 for line in lines),
    )


@dataclass(frozen=True, slots=True)
class ClearingApplication:
    """3203 清算申请: what the hospital declares for one month."""

    month: str  # yyyy-MM
    clearing_type: str
    clearing_way: str | None
    person_times: int
    total: Money
    approved_total: Money
    fund: Money
    cash: Money
    account: Money
    first_day: dt.date
    last_day: dt.date


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

    def __init__(self, uow_factory: Callable[[], ReconciliationUnitOfWork], clock: Clock) -> None:
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
        """The hospital's settlement records settled (China time) from first to last day;
        with ``clearing_type`` only those of that clearing type (none for a type yidi does
        not settle, such as a region's 99xxx codes)."""
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
            kinds = uow.funds.clearing_types(caller.hospital_code, first_day, last_day)
            person_numbers: dict[int, str | None] = {}
            for row in rows:
                if row.person_id not in person_numbers:
                    person = uow.hospital.person_by_internal_id(row.person_id)
                    person_numbers[row.person_id] = person.psn_no if person else None
            uow.audit.append(
                caller_entry(
                    self._clock.now(),
                    caller,
                    "hospital.reconciliation_read",
                    f"hospital:{caller.hospital_code}",
                    f"{first_day:%Y-%m-%d}–{last_day:%Y-%m-%d} {len(rows)} 条",
                )
            )
            uow.commit()
        lines = []
        for row in rows:
            refund = row.kind == "reversal"
            # Every settlement writes its fact in its own transaction; a fact older than the
            # clearing types was inpatient (migration 0023 gives it 21).
            kind = kinds.get(row.id, ClearingKind.INPATIENT.value)
            if clearing_type is not None and kind != clearing_type:
                continue
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
                    total=row.amounts["total_charges"],
                    fund=row.amounts["fund_paid_total"],
                    account=row.amounts["personal_account_paid"],
                    cash=row.amounts["cash_paid"],
                    person_no=person_numbers[row.person_id],
                    visit_id=row.encounter_id,
                    message_id=row.msgid,
                    clearing_type=kind,
                )
            )
        return lines

    # --- 3203 / 3204 clearing application ----------------------------------------------

    def apply_for_clearing(
        self, caller: Caller, application: ClearingApplication, key: RequestKey | None = None
    ) -> str:
        """3203: the hospital applies for the month's clearing of one clearing type with totals
        that must equal the centre's for that type (reconcile with 3201/3202 first). One standing
        application per month and clearing type."""
        first = dt.date.fromisoformat(parse_month(application.month) + "-01")
        last = dt.date.fromisoformat(next_month(application.month) + "-01") - dt.timedelta(days=1)
        today = self._clock.now().astimezone(CHINA_TZ).date()
        if today <= last:
            raise Refused(
                "CLEARING_MONTH_NOT_ENDED",
                f"{application.month} 尚未结束，月末之后才能申请清算",
                "a month can be applied for only after it ended",
                field="setlym",
            )
        if application.clearing_type not in CLEARING_TYPES:
            raise Refused(
                "CLEARING_TYPE_UNSUPPORTED",
                f"清算类别 {application.clearing_type[:6]} 不受理：yidi 办理门诊（11）、住院（21）、"
                "药店购药（41）的清算申请",
                "clearing is applied for outpatient (11), inpatient (21) or pharmacy (41) only",
                field="clr_type",
            )
        with self._uow() as uow:
            if key is not None:
                stored = uow.idempotency.recall(key.scope, key.key, key.fingerprint)
                if stored is not None:
                    return str(stored["clr_appy_evt_id"])
        centre = totals(
            self.centre_lines(caller, first, last, clearing_type=application.clearing_type)
        )
        checks = [
            ("清算人次", Decimal(centre.net_count), Decimal(application.person_times), ""),
            ("医疗费总额", centre.total.yuan, application.total.yuan, " 元"),
            ("基金申报总额", centre.fund.yuan, application.fund.yuan, " 元"),
            ("现金支付", centre.cash.yuan, application.cash.yuan, " 元"),
            ("个人账户支出", centre.account.yuan, application.account.yuan, " 元"),
        ]
        unequal = [
            f"{name} 中心 {ours:f}{unit}、申报 {theirs:f}{unit}"
            for name, ours, theirs, unit in checks
            if ours != theirs
        ]
        if unequal:
            raise Refused(
                "CLEARING_TOTALS_DIFFER",
                "申报数与中心结算数不一致（" + "；".join(unequal) + "），请先对账（3201/3202）",
                "the declared totals differ from the centre's; reconcile first",
                field="fund_appy_sum",
            )
        with self._uow() as uow:
            now = self._clock.now()
            month_digits = application.month.replace("-", "")
            application_id = f"CA{month_digits}{uuid.uuid4().hex[:16].upper()}"
            added = uow.hospital.add_clearing_application(
                {
                    "id": application_id,
                    "hospital_code": caller.hospital_code,
                    "clearing_month": application.month,
                    "clearing_type": application.clearing_type,
                    "clearing_way": application.clearing_way,
                    "person_times": application.person_times,
                    "total_fen": application.total.fen,
                    "approved_total_fen": application.approved_total.fen,
                    "fund_fen": application.fund.fen,
                    "cash_fen": application.cash.fen,
                    "account_fen": application.account.fen,
                    "first_day": application.first_day,
                    "last_day": application.last_day,
                    "active": "1",
                    "applied_at": now,
                    "applied_by": caller.actor[:64],
                }
            )
            if not added:
                standing = uow.hospital.standing_clearing_application(
                    caller.hospital_code, application.month, application.clearing_type
                )
                raise Conflict(
                    "CLEARING_ALREADY_APPLIED",
                    f"{application.month} 已有清算申请（{standing}），如需重报请先 3204 撤销",
                    "this month is already applied for",
                    field="setlym",
                )
            self._audit(uow, caller, "hospital.clearing_apply", application_id, application.month)
            if key is not None:
                uow.idempotency.remember(
                    key.scope, key.key, key.fingerprint, {"clr_appy_evt_id": application_id}, now
                )
            uow.commit()
            return application_id

    def cancel_clearing_application(
        self, caller: Caller, application_id: str, key: RequestKey | None = None
    ) -> None:
        """3204: withdraw a standing application while its month is not yet cleared."""
        with self._uow() as uow:
            row = uow.hospital.clearing_application(application_id, for_update=True)
            if row is None or row["hospital_code"] != caller.hospital_code:
                raise NotFound(
                    "CLEARING_APPLICATION_NOT_FOUND",
                    f"未找到清算申请 {application_id[:32]}",
                    "clearing application not found",
                    field="clr_appy_evt_id",
                )
            if key is not None and uow.idempotency.recall(key.scope, key.key, key.fingerprint):
                return
            if row["active"] is None:
                raise Conflict(
                    "CLEARING_APPLICATION_CANCELLED",
                    "该清算申请已撤销",
                    "the clearing application is already cancelled",
                    field="clr_appy_evt_id",
                )
            if uow.funds.month_is_closed(row["clearing_month"]):
                raise Conflict(
                    "CLEARING_ALREADY_RUN",
                    f"{row['clearing_month']} 已完成清算，不能撤销清算申请",
                    "the month is already cleared",
                    field="clr_appy_evt_id",
                )
            now = self._clock.now()
            uow.hospital.cancel_clearing_application(application_id, now)
            self._audit(uow, caller, "hospital.clearing_cancel", application_id, "")
            if key is not None:
                uow.idempotency.remember(
                    key.scope, key.key, key.fingerprint, {"clr_appy_evt_id": application_id}, now
                )
            uow.commit()

    def _audit(
        self, uow: ReconciliationUnitOfWork, caller: Caller, action: str, subject: str, reason: str
    ) -> None:
        uow.audit.append(
            caller_entry(
                self._clock.now(), caller, action, f"clearing_application:{subject}", reason
            )
        )
