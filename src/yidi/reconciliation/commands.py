"""对账差异 use cases: raise a dispute (from a 3202 difference or by hand), answer, resolve and
re-open it, list and read disputes, and count a month's open ones for the clearing page.

Parties and scope: a hospital cashier is the hospital side and sees its own hospital's
disputes; an agency handler is the centre side for the disputes of its region (the hospital's
region, the treatment place, or the settlement's insured region lies within it); the clearing
centre is the centre side for every dispute. Every other role is refused (``ACCESS_DENIED``); a
dispute outside the caller's scope answers like a missing one. Every read (list, detail) and
every step is appended to the audit chain in the same transaction.

Retries are safe: raising the difference of a settlement line that already has a dispute
returns that dispute (one per hospital, settlement and refund flag, a unique key in the
database); an ``Idempotency-Key`` returns the first answer; and repeating the last step with
the same text is answered with the dispute unchanged.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from yidi.funds.model import ClearingAdjustment, next_month
from yidi.kernel.access import Action, Principal, Role, hidden
from yidi.kernel.audit import as_utc, audit_entry_by
from yidi.kernel.clock import Clock, beijing
from yidi.kernel.errors import InvalidInput, NotFound, Refused
from yidi.kernel.money import Money
from yidi.kernel.regions import region_prefix
from yidi.reconciliation.model import (
    SETTLEMENT_ID_MAX,
    Dispute,
    DisputeAction,
    DisputeKind,
    DisputeState,
    LineAmounts,
    Outcome,
    Side,
    adjustment_to_carry,
    apply,
    line_key,
    raise_dispute,
    require_month,
    statement_kind,
)
from yidi.reconciliation.ports import DisputeQuery, DisputeUnitOfWork

IdempotencyKey = tuple[str, str]  # (key, request fingerprint)


@dataclass(frozen=True, slots=True)
class RaiseRequest:
    """What a party raises. ``from_statement``: a 3202 difference of the line
    (``settlement_id``, ``refund``), the hospital's amounts of it in ``institution`` (None: the
    hospital has no such line); yidi reads the centre's and checks that they differ.
    Otherwise a dispute by hand, about a line or (no ``settlement_id``) about the month."""

    hospital_code: str | None
    month: str
    text: str = ""
    settlement_id: str | None = None
    refund: bool = False
    from_statement: bool = False
    institution: LineAmounts | None = None


@dataclass(frozen=True, slots=True)
class Step:
    action: DisputeAction
    text: str
    amount: Money | None = None
    outcome: Outcome | None = None
    #: resolving only: the agreed 清算调整 (+ the insured region pays more, − less)
    adjustment: Money | None = None


def _hidden() -> NotFound:
    return hidden("对账差异", "dispute")


def side_of(principal: Principal) -> Side:
    principal.require(Action.RECONCILIATION_DISPUTE)
    return Side.HOSPITAL if principal.role is Role.HOSPITAL_CASHIER else Side.CENTRE


def _sees(principal: Principal, dispute: Dispute) -> bool:
    if principal.role is Role.CLEARING_OFFICER:
        return True
    if principal.role is Role.HOSPITAL_CASHIER:
        return principal.hospital_code == dispute.hospital_code
    return principal.covers_region(dispute.treatment_region_code) or (
        dispute.insured_region_code is not None
        and principal.covers_region(dispute.insured_region_code)
    )


def _scope(principal: Principal) -> DisputeQuery:
    if principal.role is Role.HOSPITAL_CASHIER:
        return DisputeQuery(hospital_scope=principal.hospital_code or "-")
    if principal.role is Role.AGENCY_HANDLER:
        return DisputeQuery(region_prefix=region_prefix(principal.region_code or "999999"))
    return DisputeQuery()


def _month_of(at: dt.datetime) -> str:
    """The clearing month of a settlement: its China-time month, as its fact counts it."""
    return f"{beijing(at):%Y-%m}"


def _carry_adjustment(uow: DisputeUnitOfWork, dispute: Dispute) -> ClearingAdjustment | None:
    """Record what the resolution adds to clearing, in the first month still open after the
    disputed one and not before the month it is decided in (a closed month never changes).
    Nothing when it adds nothing: no adjustment agreed, or the same as already carried."""
    carried = uow.disputes.adjustments_of(dispute.id)
    amount = adjustment_to_carry(dispute, Money.from_fen(sum(a.amount.fen for a in carried)))
    if amount.is_zero():
        return None
    decided = dispute.last
    month = max(next_month(dispute.month), _month_of(decided.at))
    while uow.disputes.month_is_closed(month):
        month = next_month(month)
    # a reopened dispute whose carried amount stays (its month closed) is cleared against the
    # pair it was cleared against before
    insured = carried[0].insured_region_code if carried else dispute.insured_region_code
    assert insured is not None  # the model refuses an adjustment without one
    adjustment = ClearingAdjustment(
        id="CA" + secrets.token_hex(12).upper(),
        dispute_id=dispute.id,
        clearing_month=month,
        concerns_month=dispute.month,
        insured_region_code=insured,
        treatment_region_code=dispute.treatment_region_code,
        hospital_code=dispute.hospital_code,
        settlement_id=dispute.settlement_id,
        refund=dispute.refund,
        amount=amount,
        agreed=dispute.clearing_adjustment or Money.zero(),
        decided_by=decided.actor_id,
        decided_role=decided.actor_role,
        decided_at=decided.at,
        reason=decided.text,
    )
    uow.disputes.add_adjustment(adjustment, len(dispute.events))
    return adjustment


def _withdraw_pending(uow: DisputeUnitOfWork, dispute: Dispute, at: dt.datetime) -> None:
    """A re-opened dispute takes back its adjustments no closed month has cleared yet."""
    pending = [
        a.id
        for a in uow.disputes.adjustments_of(dispute.id)
        if not uow.disputes.month_is_closed(a.clearing_month)
    ]
    if pending:
        uow.disputes.withdraw_adjustments(pending, at)


class DisputeService:
    def __init__(self, uow: Callable[[], DisputeUnitOfWork], clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    # raising --------------------------------------------------------------------------
    def raise_dispute(
        self,
        principal: Principal,
        request: RaiseRequest,
        *,
        idempotency: IdempotencyKey | None = None,
    ) -> tuple[Dispute, bool]:
        """The dispute, and whether this call created it (False: a retry found it)."""
        side = side_of(principal)
        hospital_code = (
            principal.hospital_code if side is Side.HOSPITAL else request.hospital_code
        ) or ""
        settlement_id = (request.settlement_id or "").strip() or None
        if settlement_id is not None and len(settlement_id) > SETTLEMENT_ID_MAX:
            raise InvalidInput(
                "DISPUTE_SETTLEMENT_ID_INVALID",
                f"结算ID 最多 {SETTLEMENT_ID_MAX} 个字符",
                f"a settlement id has at most {SETTLEMENT_ID_MAX} characters",
                field="settlement_id",
            )
        scope = f"dispute:{principal.user_id}"
        with self._uow() as uow:
            if idempotency is not None:
                stored = uow.idempotency.recall(scope, *idempotency)
                if stored is not None:
                    return self._visible(uow, principal, stored["dispute_id"]), False
            region = uow.disputes.hospital_region(hospital_code[:30]) if hospital_code else None
            if region is None:
                raise NotFound(
                    "HOSPITAL_NOT_FOUND",
                    f"定点医疗机构 {hospital_code[:30]} 不存在",
                    "unknown designated institution",
                    field="hospital_code",
                )
            key = line_key(hospital_code, settlement_id, request.refund)
            if key is not None and (existing := uow.disputes.by_line_key(key)) is not None:
                if not _sees(principal, existing):
                    raise _hidden()
                return existing, False
            centre_line = (
                uow.disputes.centre_line(hospital_code, settlement_id, request.refund)
                if settlement_id
                else None
            )
            centre = centre_line.amounts if centre_line else None
            if request.from_statement:
                kind = statement_kind(centre, request.institution)
                if kind is None:
                    raise Refused(
                        "DISPUTE_NO_DIFFERENCE",
                        "中心记录与医疗机构所报金额一致（或双方都没有这一笔），没有差异可提出",
                        "both sides agree on this line: there is no difference to raise",
                        field="settlement_id",
                    )
                institution = request.institution
            else:
                kind, institution = DisputeKind.MANUAL, None
            month = _month_of(centre_line.settled_at) if centre_line else request.month
            now = self._clock.now()
            dispute = raise_dispute(
                dispute_id="RD" + secrets.token_hex(12).upper(),
                hospital_code=hospital_code,
                treatment_region_code=region,
                insured_region_code=centre_line.insured_region_code if centre_line else None,
                month=require_month(month),
                kind=kind,
                settlement_id=settlement_id,
                refund=request.refund,
                centre=centre,
                institution=institution,
                side=side,
                actor_id=principal.user_id,
                actor_role=principal.role.value,
                at=as_utc(now),
                text=request.text,
            )
            if not _sees(principal, dispute):
                raise NotFound(
                    "HOSPITAL_NOT_FOUND",
                    f"定点医疗机构 {hospital_code[:30]} 不存在",
                    "unknown designated institution",
                    field="hospital_code",
                )
            if not uow.disputes.add(dispute):
                # Raised at the same moment by another request: that one stands.
                assert key is not None
                found = uow.disputes.by_line_key(key)
                assert found is not None
                return found, False
            self._audit(uow, principal, now, "reconciliation.dispute_raise", dispute, kind.value)
            if idempotency is not None:
                uow.idempotency.remember(
                    scope, *idempotency, {"dispute_id": dispute.id}, as_utc(now)
                )
            uow.commit()
            return dispute, True

    # the steps ------------------------------------------------------------------------
    def act(self, principal: Principal, dispute_id: str, step: Step) -> Dispute:
        """答复 / 解决 / 重新提出: one step of the table, by the caller's side."""
        side = side_of(principal)
        with self._uow() as uow:
            dispute = uow.disputes.get(dispute_id[:32], for_update=True)
            if dispute is None or not _sees(principal, dispute):
                raise _hidden()
            last = dispute.last
            if (
                last.action is step.action
                and last.side is side
                and last.actor_id == principal.user_id
                and last.text == step.text.strip()
                and last.amount == step.amount
                and last.outcome == step.outcome
                and last.adjustment == step.adjustment
            ):
                return dispute  # the same step resent
            now = self._clock.now()
            moved = apply(
                dispute,
                step.action,
                side=side,
                actor_id=principal.user_id,
                actor_role=principal.role.value,
                at=as_utc(now),
                text=step.text,
                amount=step.amount,
                outcome=step.outcome,
                adjustment=step.adjustment,
            )
            uow.disputes.record(moved, moved.last)
            detail = step.outcome.value if step.outcome else ""
            if step.action is DisputeAction.RESOLVE:
                carried = _carry_adjustment(uow, moved)
                if carried is not None:
                    detail += f" 清算调整 {carried.amount} 元计入 {carried.clearing_month}"
            elif step.action is DisputeAction.REOPEN:
                _withdraw_pending(uow, moved, as_utc(now))
            moved = dataclasses.replace(moved, carried=tuple(uow.disputes.adjustments_of(moved.id)))
            self._audit(
                uow, principal, now, f"reconciliation.dispute_{step.action.value}", moved, detail
            )
            uow.commit()
            return moved

    # reading --------------------------------------------------------------------------
    def list_disputes(
        self,
        principal: Principal,
        *,
        state: DisputeState | None = None,
        open_only: bool = False,
        hospital_code: str | None = None,
        month: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[int, list[Dispute]]:
        """The disputes within the caller's scope, the latest step first (audited)."""
        side_of(principal)
        query = _scope(principal)
        query = DisputeQuery(
            hospital_scope=query.hospital_scope,
            region_prefix=query.region_prefix,
            hospital_code=hospital_code[:30] if hospital_code else None,
            state=state,
            open_only=open_only,
            month=require_month(month) if month else None,
            limit=limit,
            offset=offset,
        )
        with self._uow() as uow:
            total, items = uow.disputes.search(query)
            filters = " ".join(
                f"{k}={v}"
                for k, v in (
                    ("state", state.value if state else ("open" if open_only else "")),
                    ("hospital", query.hospital_code or ""),
                    ("month", query.month or ""),
                )
                if v
            )
            uow.audit.append(
                audit_entry_by(
                    principal,
                    self._clock.now(),
                    action="reconciliation.dispute_list",
                    subject="dispute:list",
                    reason=f"{filters} {len(items)}/{total} 条".strip(),
                )
            )
            uow.commit()
            return total, items

    def get(self, principal: Principal, dispute_id: str) -> Dispute:
        """One dispute with its history (audited)."""
        side_of(principal)
        with self._uow() as uow:
            dispute = self._visible(uow, principal, dispute_id)
            self._audit(uow, principal, self._clock.now(), "reconciliation.dispute_read", dispute)
            uow.commit()
            return dispute

    def open_count(self, principal: Principal, month: str) -> int:
        """How many disputes of ``month`` within the caller's scope are not resolved (the
        clearing page's flag; a count, no record is shown). 0 for a role without disputes."""
        if not principal.may(Action.RECONCILIATION_DISPUTE):
            return 0
        scope = _scope(principal)
        with self._uow() as uow:
            return uow.disputes.count(
                DisputeQuery(
                    hospital_scope=scope.hospital_scope,
                    region_prefix=scope.region_prefix,
                    open_only=True,
                    month=require_month(month),
                )
            )

    # helpers --------------------------------------------------------------------------
    def _visible(self, uow: DisputeUnitOfWork, principal: Principal, dispute_id: str) -> Dispute:
        dispute = uow.disputes.get(dispute_id[:32])
        if dispute is None or not _sees(principal, dispute):
            raise _hidden()
        return dispute

    def _audit(
        self,
        uow: DisputeUnitOfWork,
        principal: Principal,
        at: dt.datetime,
        action: str,
        dispute: Dispute,
        reason: str = "",
    ) -> None:
        line = f"{dispute.hospital_code} {dispute.month} {dispute.settlement_id or '-'}"
        uow.audit.append(
            audit_entry_by(
                principal,
                at,
                action=action,
                subject=f"dispute:{dispute.id}",
                reason=f"{line} {reason}".strip(),
            )
        )
