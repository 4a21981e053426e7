"""Use cases of the money side: record facts, run and close clearing, estimate, statistics.

``record_settlement_fact`` runs inside the caller's unit of work (the settle and
reverse services call it before their commit), so a settlement and its ledger
lines are written together or not at all. The other use cases open and commit
their own unit of work.
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from yidi.funds import prepayment
from yidi.funds.model import (
    FUNDS,
    ClearingKind,
    ClearingLevel,
    ClearingStatement,
    Prepayment,
    PrepaymentUsage,
    RegionKeys,
    SettlementFact,
    WarningLevel,
    aggregate_pairs,
    drawn_by_pair,
    ledger_entries_for,
    next_month,
    parse_month,
    prepayment_usage,
    statement_from_totals,
)
from yidi.funds.ports import FundsUnitOfWork, RecordsFacts
from yidi.funds.prepayment import (
    Annex,
    EstimateMethod,
    PrepaymentEstimate,
    TopUpRequest,
    TopUpStatus,
    history_years,
)
from yidi.funds.statistics import StatisticsQuery, StatisticsReport, report_from_sums
from yidi.kernel.access import Action, Principal, Role
from yidi.kernel.audit import AuditEntry, audit_entry
from yidi.kernel.clock import Clock
from yidi.kernel.errors import Conflict, InvalidInput, NotFound, Refused
from yidi.kernel.insurance import FilingCategory, InsuranceType
from yidi.kernel.money import Money
from yidi.policy.national import PrepaymentWarningRule, prepayment_warning_on
from yidi.settlement.result import SettlementResult


def open_clearing_month(uow: RecordsFacts, month: str) -> str:
    """The first month from ``month`` on whose clearing is not closed."""
    while uow.funds.month_is_closed(month):
        month = next_month(month)
    return month


def fact_from_settlement(
    result: SettlementResult,
    *,
    setl_id: str,
    settled_on: dt.date,
    insured_region_code: str,
    treatment_region_code: str,
    hospital_code: str,
    insurance_type: InsuranceType,
    filing_category: FilingCategory | None,
    medical_type: str,
) -> SettlementFact:
    """The fact of a settlement the engine produced (the settle service's one-liner); it
    clears as the kind of the encounter's national medical type (``medical_type``)."""
    return SettlementFact(
        setl_id=setl_id,
        settled_on=settled_on,
        insured_region_code=insured_region_code,
        treatment_region_code=treatment_region_code,
        hospital_code=hospital_code,
        insurance_type=insurance_type,
        filing_category=filing_category,
        total_charges=result.total_charges,
        fund_amounts={fund: getattr(result, fund.amount_name) for fund in FUNDS},
        clearing_kind=ClearingKind.of_med_type(medical_type),
    )


def record_settlement_fact(
    uow: RecordsFacts, fact: SettlementFact, recorded_at: dt.datetime
) -> SettlementFact:
    """Write the fact and its ledger entries in the caller's transaction (no commit here).

    A fact whose month is already closed is carried by the next open month's
    clearing: a closed statement never changes.
    """
    if uow.funds.fact(fact.setl_id) is not None:
        raise Conflict(
            "FACT_DUPLICATE",
            f"结算{fact.setl_id}已记账",
            f"settlement {fact.setl_id} is already recorded",
        )
    if fact.reverses_setl_id is not None:
        original = uow.funds.fact(fact.reverses_setl_id)
        if original is None:
            raise NotFound(
                "FACT_REVERSED_UNKNOWN",
                f"被冲正的结算{fact.reverses_setl_id}不存在",
                f"reversed settlement {fact.reverses_setl_id} is not recorded",
            )
        if uow.funds.reversal_of(fact.reverses_setl_id) is not None:
            raise Conflict(
                "FACT_ALREADY_REVERSED",
                f"结算{fact.reverses_setl_id}已冲正",
                f"settlement {fact.reverses_setl_id} is already reversed",
            )
    month = open_clearing_month(uow, fact.clearing_month)
    if month != fact.clearing_month:
        fact = dataclasses.replace(fact, clearing_month=month)
    uow.funds.add_fact(fact, recorded_at)
    uow.funds.add_entries(ledger_entries_for(fact), recorded_at)
    return fact


def set_prepayment(uow: FundsUnitOfWork, prepayment: Prepayment) -> None:
    with uow:
        uow.funds.set_prepayment(prepayment)
        uow.commit()


def month_end(month: str) -> dt.date:
    year, mon = int(month[:4]), int(month[5:7])
    return dt.date(year, mon, calendar.monthrange(year, mon)[1])


@dataclass(frozen=True)
class ClearingRunResult:
    statement: ClearingStatement
    status: str
    content_hash: str
    recomputed: bool


def viewer_concerns(
    viewer: Principal | None, level: ClearingLevel, keys: RegionKeys | None = None
) -> Callable[[str], bool]:
    """Which region codes of a ``level`` statement concern ``viewer`` (see :func:`visible_to`)."""
    if viewer is None or viewer.role is Role.CLEARING_OFFICER:
        return lambda _code: True
    own = viewer.region_code
    if own is None or viewer.role not in (Role.AGENCY_HANDLER, Role.PROVINCE_OFFICER):
        return lambda _code: False
    own_key = (keys or RegionKeys()).key(own, level)
    return lambda code: code == own_key or viewer.covers_region(code)


def visible_to(
    viewer: Principal | None, statement: ClearingStatement, keys: RegionKeys | None = None
) -> ClearingStatement:
    """The statement as ``viewer`` may see it: the clearing centre (and the system, ``None``)
    sees every line; an agency or a province sees the lines between its own region and
    another: a line one of whose regions lies within the viewer's region, or is the region
    the viewer belongs to at the statement's level (衡阳 sees 湖南's province-level lines).
    Every other role sees no line."""
    if viewer is None or viewer.role is Role.CLEARING_OFFICER:
        return statement
    return statement.restricted_to(viewer_concerns(viewer, statement.level, keys))


def _require_ended(clock: Clock, month: str) -> None:
    """A month can be closed only once it is over (China time, the injected clock)."""
    if month_end(month) >= clock.today():
        raise Refused(
            "CLEARING_MONTH_NOT_ENDED",
            f"{month}尚未结束，月度清算只能在该月结束后关账",
            f"{month} has not ended yet: a month is closed only after its last day",
            field="month",
        )


def _clearing_entry(
    at: dt.datetime,
    actor: Principal | None,
    action: str,
    month: str,
    level: ClearingLevel,
    reason: str,
) -> AuditEntry:
    """The audit entry of a clearing act (``actor`` None is the system: the command line)."""
    return audit_entry(
        at,
        actor=actor.user_id if actor else "system",
        role=actor.role.value if actor else "system",
        region_code=actor.region_code if actor else None,
        action=action,
        subject=f"clearing:{month}:{level.value}",
        reason=reason,
    )


def run_clearing(
    uow: FundsUnitOfWork,
    clock: Clock,
    month: str,
    level: ClearingLevel,
    *,
    close: bool = False,
    keys: RegionKeys | None = None,
    actor: Principal | None = None,
) -> ClearingRunResult:
    """Compute (or recompute) the month's statement; optionally close the month.

    Repeatable: while open, running again over the same facts stores the same
    statement (same content hash). Once closed, the stored statement is
    returned as it is and never recomputed. Closing is the clearing centre's act
    (``actor`` None is the system: the command line), and only once the month has ended.
    The answer shows what ``actor`` may see (:func:`visible_to`).
    """
    parse_month(month)
    keys = keys or RegionKeys()
    if close:
        if actor is not None:
            actor.require(Action.CLEARING_CLOSE)
        _require_ended(clock, month)
    with uow:
        existing = uow.funds.clearing_run(month, level)
        if existing is not None and existing.is_closed:
            return ClearingRunResult(
                visible_to(actor, existing.statement, keys), "closed", existing.content_hash, False
            )
        facts = uow.funds.facts(clearing_month=month)
        held = uow.funds.prepayments_as_of(level, month_end(month))
        statement = statement_from_totals(
            month,
            level,
            aggregate_pairs(facts, month, level, keys),
            held,
            keys,
            uow.funds.adjustments(month),
        )
        now = clock.now()
        uow.funds.save_open_run(statement, now)
        if close:
            uow.funds.close_run(month, level, now)
        uow.audit.append(
            _clearing_entry(
                now,
                actor,
                "clearing.close" if close else "clearing.run",
                month,
                level,
                statement.content_hash,
            )
        )
        uow.commit()
    return ClearingRunResult(
        visible_to(actor, statement, keys),
        "closed" if close else "open",
        statement.content_hash,
        True,
    )


def reopen_clearing(
    uow: FundsUnitOfWork,
    clock: Clock,
    month: str,
    level: ClearingLevel,
    reason: str,
    *,
    actor: Principal | None = None,
) -> ClearingRunResult:
    """Reopen a wrongly closed month (the clearing centre, with a reason, audited).

    The stored statement stays until the month is run again; facts that arrived while it was
    closed were carried to the next open month and stay there (their clearing month is fixed
    when they are recorded), so reopening never moves money between months already stated.
    """
    parse_month(month)
    if actor is not None:
        actor.require(Action.CLEARING_CLOSE)
    reason = " ".join(reason.split())
    if len(reason) < 4:
        raise InvalidInput(
            "CLEARING_REOPEN_REASON_REQUIRED",
            "重新开账须写明原因（至少4个字）",
            "reopening a closed month needs a reason (4 characters or more)",
            field="reason",
        )
    with uow:
        existing = uow.funds.clearing_run(month, level)
        if existing is None or not existing.is_closed:
            raise Conflict(
                "CLEARING_NOT_CLOSED",
                f"{month}的{'省级' if level is ClearingLevel.PROVINCE else '市级'}清算未关账，无需重新开账",
                f"the {level.value}-level clearing of {month} is not closed",
                field="month",
            )
        uow.funds.reopen_run(month, level)
        uow.audit.append(
            _clearing_entry(
                clock.now(),
                actor,
                "clearing.reopen",
                month,
                level,
                f"{reason[:400]} (closed {existing.content_hash[:16]})",
            )
        )
        uow.commit()
    return ClearingRunResult(existing.statement, "open", existing.content_hash, False)


def clearing_statement(
    uow: FundsUnitOfWork,
    month: str,
    level: ClearingLevel,
    viewer: Principal | None = None,
    keys: RegionKeys | None = None,
) -> ClearingRunResult:
    """The stored statement of a month as ``viewer`` may see it (:func:`visible_to`)."""
    with uow:
        run = uow.funds.clearing_run(parse_month(month), level)
    if run is None:
        raise NotFound(
            "CLEARING_RUN_NOT_FOUND",
            f"{month}尚未清算",
            f"no clearing run for {month} at {level.value} level",
        )
    return ClearingRunResult(
        visible_to(viewer, run.statement, keys), run.status, run.content_hash, False
    )


def estimate_prepayment(
    uow: FundsUnitOfWork,
    annex: Annex,
    insured_region_code: str,
    target_year: int,
    *,
    method: EstimateMethod = EstimateMethod.AVERAGE,
    prepayment_months: int | None = None,
    keys: RegionKeys | None = None,
) -> PrepaymentEstimate:
    """附件3/附件4 from the stored facts of the three years before ``target_year``."""
    years = history_years(target_year)
    with uow:
        facts = uow.funds.facts(
            settled_from=dt.date(years[0], 1, 1),
            settled_to=dt.date(years[-1], 12, 31),
            insured_prefix=insured_region_code[:2],
        )
    return prepayment.estimate_prepayment(
        facts,
        annex,
        insured_region_code,
        target_year,
        method=method,
        prepayment_months=prepayment_months,
        keys=keys,
    )


def statistics(
    uow: FundsUnitOfWork, query: StatisticsQuery, keys: RegionKeys | None = None
) -> StatisticsReport:
    """One query, grouped in the database; every rendering uses this report."""
    with uow:
        sums = uow.funds.statistics_sums(query)
        kind_sums = uow.funds.statistics_kind_sums(query)
        names = uow.funds.hospital_names(key for key, *_ in sums)
    return report_from_sums(
        query, sums, keys or RegionKeys(), lambda code: names.get(code, code), kind_sums
    )


# --- prepayment usage (预付金使用率与预警) and top-up requests (申请补充预付金) ----------------


def _usage_as_of(clock: Clock, year: int | None) -> tuple[int, dt.date]:
    """The year asked (this year by default) and the day its usage is stated at: today within
    the year, the year's last day for a past year."""
    today = clock.today()
    year = today.year if year is None else year
    if year > today.year:
        raise InvalidInput(
            "PREPAYMENT_YEAR_IN_FUTURE",
            f"{year}年尚未开始，无预付金使用情况",
            f"{year} has not begun: there is no prepayment usage yet",
            field="year",
        )
    return year, min(today, dt.date(year, 12, 31))


def prepayment_usages(
    uow: FundsUnitOfWork,
    clock: Clock,
    level: ClearingLevel,
    *,
    year: int | None = None,
    actor: Principal | None = None,
    keys: RegionKeys | None = None,
    rule: PrepaymentWarningRule | None = None,
) -> list[PrepaymentUsage]:
    """Each pair's prepayment usage in ``year`` at ``level``, as ``actor`` may see it.

    Held: the latest prepayment effective by the day stated (as clearing nets it). Drawn: the
    sum of the pair's due in the year's stored clearing runs (open or closed) up to that day.
    The warning lines are the national rule data in force on that day. Pairs with neither a
    prepayment nor a charge do not appear; order is (insured, treatment)."""
    if actor is not None:
        actor.require(Action.CLEARING_READ)
    year, as_of = _usage_as_of(clock, year)
    rule = rule or prepayment_warning_on(as_of)
    keys = keys or RegionKeys()
    with uow:
        held = uow.funds.prepayments_as_of(level, as_of)
        runs = uow.funds.clearing_runs_between(level, f"{year:04d}-01", as_of.strftime("%Y-%m"))
    drawn = drawn_by_pair(run.statement for run in runs)
    concerns = viewer_concerns(actor, level, keys)
    rows = []
    for insured, treatment in sorted(set(held) | set(drawn)):
        if not (concerns(insured) or concerns(treatment)):
            continue
        charged, months = drawn.get((insured, treatment), (Money.zero(), ()))
        rows.append(
            prepayment_usage(
                level,
                year,
                insured,
                treatment,
                held.get((insured, treatment), Money.zero()),
                charged,
                yellow=rule.yellow,
                red=rule.red,
                months_cleared=months,
            )
        )
    return rows


def prepayment_warning_rule(clock: Clock, year: int | None = None) -> PrepaymentWarningRule:
    """The warning lines the usage of ``year`` (this year by default) is judged by."""
    _, as_of = _usage_as_of(clock, year)
    return prepayment_warning_on(as_of)


TOP_UP_SCOPE = "prepayment.top_up"


def request_top_up(
    uow: FundsUnitOfWork,
    clock: Clock,
    actor: Principal,
    level: ClearingLevel,
    insured_region_code: str,
    treatment_region_code: str,
    *,
    year: int | None = None,
    idempotency: tuple[str, str] | None = None,
    keys: RegionKeys | None = None,
) -> dict[str, Any]:
    """申请补充预付金: record (audited) a request to top up one pair whose usage is at a
    warning line, suggesting the amount that brings it back under the yellow line.

    ``actor`` must have one end of the pair within its region; a pair under the yellow line
    is refused (``PREPAYMENT_TOP_UP_NOT_NEEDED``). With ``idempotency`` (key, fingerprint) a
    retry returns the first answer and records nothing more."""
    actor.require(Action.PREPAYMENT_TOP_UP)
    if not (actor.covers_region(insured_region_code) or actor.covers_region(treatment_region_code)):
        raise NotFound("PREPAYMENT_PAIR_NOT_FOUND", "未找到该预付金", "prepayment pair not found")
    if idempotency is not None:
        with uow:
            earlier = uow.idempotency.recall(TOP_UP_SCOPE, *idempotency)
        if earlier is not None:
            return dict(earlier)
    pair = (insured_region_code, treatment_region_code)
    usage = next(
        (
            row
            for row in prepayment_usages(uow, clock, level, year=year, actor=actor, keys=keys)
            if (row.insured_region_code, row.treatment_region_code) == pair
        ),
        None,
    )
    if usage is None or usage.warning is WarningLevel.NONE:
        # a pair with neither a prepayment nor a charge this year has nothing to warn of
        raise Refused(
            "PREPAYMENT_TOP_UP_NOT_NEEDED",
            f"预付金使用率{usage.ratio_percent if usage else '—'}，未达到预警线，无需申请补充预付金",
            f"usage {usage.ratio_percent if usage else '—'} is under the warning lines: "
            "no top-up is needed",
        )
    now = clock.now()
    with uow:
        if idempotency is not None:
            earlier = uow.idempotency.recall(TOP_UP_SCOPE, *idempotency)
            if earlier is not None:
                return dict(earlier)
        request_id = uow.funds.add_top_up_request(usage, actor.user_id, actor.region_code, now)
        answer = {"request_id": request_id, "requested_at": now.isoformat(), **usage.as_dict()}
        uow.audit.append(
            audit_entry(
                now,
                actor=actor.user_id,
                role=actor.role.value,
                region_code=actor.region_code,
                action="prepayment.top_up_request",
                subject=f"prepayment:{level.value}:{insured_region_code}:{treatment_region_code}:"
                f"{usage.year}",
                reason=f"{usage.warning.label_zh}，使用率{usage.ratio_percent}，"
                f"建议补充{usage.suggested_top_up}元",
            )
        )
        if idempotency is not None:
            uow.idempotency.remember(TOP_UP_SCOPE, *idempotency, answer, now)
        uow.commit()
    return answer


TOP_UP_DECISION_SCOPE = "prepayment.top_up_decision"
TOP_UP_REASON_MAX = 200


def _visible_request(
    uow: FundsUnitOfWork, actor: Principal, request_id: int, *, for_update: bool = False
) -> TopUpRequest:
    found = (
        uow.funds.top_up_request(request_id, for_update=for_update)
        if 1 <= request_id <= 2**62
        else None
    )
    if found is not None:
        concerns = viewer_concerns(actor, ClearingLevel(found.level))
        if concerns(found.insured_region_code) or concerns(found.treatment_region_code):
            return found
    raise NotFound(
        "PREPAYMENT_TOP_UP_NOT_FOUND", "未找到该补充预付金申请", "top-up request not found"
    )


def top_up_requests(
    uow: FundsUnitOfWork, actor: Principal, *, status: TopUpStatus | None = None
) -> list[TopUpRequest]:
    """The top-up requests ``actor`` may see (one end of the pair within its region; the
    clearing centre every one), newest first."""
    if not (actor.may(Action.PREPAYMENT_TOP_UP) or actor.may(Action.PREPAYMENT_APPROVE)):
        actor.require(Action.PREPAYMENT_APPROVE)
    with uow:
        rows = uow.funds.top_up_requests(status)
    visible = []
    for row in rows:
        concerns = viewer_concerns(actor, ClearingLevel(row.level))
        if concerns(row.insured_region_code) or concerns(row.treatment_region_code):
            visible.append(row)
    return visible


def decide_top_up(
    uow: FundsUnitOfWork,
    clock: Clock,
    actor: Principal,
    request_id: int,
    *,
    approve: bool,
    amount: Money | None = None,
    reason: str = "",
    idempotency: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """审批补充预付金: approve (``amount``, by default the suggested one, is added to the
    pair's prepayment held from today) or reject (a reason is required) a request still
    ``requested``. Audited. The same decision sent again answers the decided request and
    changes nothing; a different decision on a decided request is refused
    (``PREPAYMENT_TOP_UP_DECIDED``)."""
    actor.require(Action.PREPAYMENT_APPROVE)
    reason = " ".join(reason.split())
    if len(reason) > TOP_UP_REASON_MAX:
        raise InvalidInput(
            "PREPAYMENT_TOP_UP_REASON_TOO_LONG",
            f"理由不能超过{TOP_UP_REASON_MAX}个字",
            f"the reason exceeds {TOP_UP_REASON_MAX} characters",
            field="reason",
        )
    if not approve and not reason:
        raise InvalidInput(
            "PREPAYMENT_TOP_UP_REASON_REQUIRED",
            "驳回补充预付金申请须写明理由",
            "a rejection needs a reason",
            field="reason",
        )
    if amount is not None and amount.fen <= 0:
        raise InvalidInput(
            "PREPAYMENT_TOP_UP_AMOUNT_INVALID",
            "批准的补充金额须大于0元",
            "the approved amount must be positive",
            field="amount",
        )
    if idempotency is not None:
        with uow:
            earlier = uow.idempotency.recall(TOP_UP_DECISION_SCOPE, *idempotency)
        if earlier is not None:
            return dict(earlier)
    now = clock.now()
    wanted = TopUpStatus.APPROVED if approve else TopUpStatus.REJECTED
    with uow:
        found = _visible_request(uow, actor, request_id, for_update=True)
        approved = (amount or Money.from_fen(found.suggested_fen)) if approve else None
        if found.status is not TopUpStatus.REQUESTED:
            same = found.status is wanted and (
                not approve or amount is None or found.approved_fen == amount.fen
            )
            if same:
                return found.as_dict()
            raise Conflict(
                "PREPAYMENT_TOP_UP_DECIDED",
                f"该申请已{found.status.label_zh}，不能再更改",
                f"the request is already {found.status.value}",
            )
        if not uow.funds.decide_top_up(
            request_id, wanted, approved, actor.user_id, now, reason or None
        ):
            raise Conflict(
                "PREPAYMENT_TOP_UP_DECIDED",
                "该申请已被审批，不能再更改",
                "the request was decided meanwhile",
            )
        level = ClearingLevel(found.level)
        detail = f"驳回：{reason}"
        if approved is not None:
            held = uow.funds.add_to_prepayment(
                level,
                found.insured_region_code,
                found.treatment_region_code,
                approved,
                clock.today(),
            )
            detail = f"批准补充{approved}元，预付金增至{held}元" + (f"；{reason}" if reason else "")
        uow.audit.append(
            audit_entry(
                now,
                actor=actor.user_id,
                role=actor.role.value,
                region_code=actor.region_code,
                action=f"prepayment.top_up_{wanted.value}",
                subject=f"prepayment_topup:{request_id}",
                reason=detail,
            )
        )
        decided = uow.funds.top_up_request(request_id)
        assert decided is not None
        answer = decided.as_dict()
        if idempotency is not None:
            uow.idempotency.remember(TOP_UP_DECISION_SCOPE, *idempotency, answer, now)
        uow.commit()
    return answer
