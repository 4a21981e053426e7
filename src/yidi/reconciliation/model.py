"""对账差异 (reconciliation disputes), pure: a difference between a hospital's record of its
settlements and the centre's, and the workflow that settles it.

A dispute is raised from a 3202 明细对账 difference (a settlement only one side has, or whose
amounts differ; a reversal is a refund line of the settlement it reverses) or by hand, by the
hospital or by the centre (the insured-place or treatment-place agency, or the clearing
centre). The other party answers; the centre resolves; either party may re-open::

    RAISED ──answer (the other party)──▶ ANSWERED ──resolve (the centre)──▶ RESOLVED
      ▲                                     │                                  │
      └──────────── reopen (either party) ──┴──────────────────────────────────┘

The state machine is the table :data:`TRANSITIONS`; every transition appends one
:class:`DisputeEvent` (who, which side, when, the text), so a dispute is its full history.
Nothing here reads a database or the clock.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from yidi.funds.model import ClearingAdjustment
from yidi.kernel.errors import Conflict, InvalidInput, Refused
from yidi.kernel.money import Money

TEXT_MIN: Final = 2
TEXT_MAX: Final = 400
SETTLEMENT_ID_MAX: Final = 32


class DisputeState(enum.StrEnum):
    RAISED = "raised"  # 已提出
    ANSWERED = "answered"  # 已答复
    RESOLVED = "resolved"  # 已解决

    @property
    def label_zh(self) -> str:
        return {"raised": "已提出", "answered": "已答复", "resolved": "已解决"}[self.value]


class DisputeAction(enum.StrEnum):
    RAISE = "raise"
    ANSWER = "answer"
    RESOLVE = "resolve"
    REOPEN = "reopen"

    @property
    def verb_zh(self) -> str:
        return {"raise": "提出", "answer": "答复", "resolve": "解决", "reopen": "重新提出"}[
            self.value
        ]


class Side(enum.StrEnum):
    """The two parties of a reconciliation: the hospital, and the centre (an agency or the
    clearing centre, who keep yidi's record)."""

    HOSPITAL = "hospital"
    CENTRE = "centre"

    @property
    def label_zh(self) -> str:
        return {"hospital": "定点医疗机构", "centre": "经办机构/清算中心"}[self.value]

    @property
    def other(self) -> Side:
        return Side.CENTRE if self is Side.HOSPITAL else Side.HOSPITAL


class Who(enum.Enum):
    """Which party may take a transition, relative to the dispute."""

    RESPONDENT = "respondent"  # the party that did not raise it
    CENTRE = "centre"  # the agency or the clearing centre
    EITHER = "either"


class Outcome(enum.StrEnum):
    ACCEPTED = "accepted"  # 接受：the raiser's record is right, the other side corrects
    ADJUSTED = "adjusted"  # 调整：an agreed amount replaces both
    REJECTED = "rejected"  # 驳回：the centre's record stands

    @property
    def label_zh(self) -> str:
        return {"accepted": "已接受", "adjusted": "已调整", "rejected": "已驳回"}[self.value]


class DisputeKind(enum.StrEnum):
    """What differs; the first three are the differences 3202 lists."""

    CENTRE_ONLY = "centre_only"  # 中心有、医疗机构无
    INSTITUTION_ONLY = "institution_only"  # 医疗机构有、中心无
    AMOUNT = "amount"  # 金额不符
    MANUAL = "manual"  # 手工提出（不是 3202 的一处差异）

    @property
    def label_zh(self) -> str:
        return {
            "centre_only": "中心有、医疗机构无",
            "institution_only": "医疗机构有、中心无",
            "amount": "金额不符",
            "manual": "手工提出",
        }[self.value]

    @property
    def from_statement(self) -> bool:
        return self is not DisputeKind.MANUAL


@dataclass(frozen=True, slots=True)
class Transition:
    sources: frozenset[DisputeState]
    target: DisputeState
    who: Who


# The state machine as data: action -> (states it may start from, state it leads to, who).
TRANSITIONS: Final[Mapping[DisputeAction, Transition]] = {
    DisputeAction.ANSWER: Transition(
        frozenset({DisputeState.RAISED}), DisputeState.ANSWERED, Who.RESPONDENT
    ),
    DisputeAction.RESOLVE: Transition(
        frozenset({DisputeState.ANSWERED}), DisputeState.RESOLVED, Who.CENTRE
    ),
    DisputeAction.REOPEN: Transition(
        frozenset({DisputeState.ANSWERED, DisputeState.RESOLVED}), DisputeState.RAISED, Who.EITHER
    ),
}


@dataclass(frozen=True, slots=True)
class LineAmounts:
    """One side's amounts of a settlement line (a refund line's are negative)."""

    total: Money
    fund: Money
    account: Money


@dataclass(frozen=True, slots=True)
class DisputeEvent:
    """One recorded step: who, on which side, when, what they wrote."""

    action: DisputeAction
    from_state: DisputeState | None  # None for raising
    to_state: DisputeState
    side: Side
    actor_id: str
    actor_role: str
    at: dt.datetime
    text: str
    amount: Money | None = None  # an answer's corrected amount, or the adjusted one
    outcome: Outcome | None = None
    #: a resolution's agreed 清算调整, signed from the insured region's side (+ it pays more)
    adjustment: Money | None = None


@dataclass(frozen=True, slots=True)
class Dispute:
    id: str
    hospital_code: str
    treatment_region_code: str
    insured_region_code: str | None  # None: the centre has no record to say
    month: str  # yyyy-MM, the clearing month it concerns
    kind: DisputeKind
    settlement_id: str | None
    refund: bool
    centre: LineAmounts | None
    institution: LineAmounts | None
    raised_by: Side
    state: DisputeState
    events: tuple[DisputeEvent, ...]
    outcome: Outcome | None = None
    settled_amount: Money | None = None  # the agreed amount of an adjusted outcome
    #: the 清算调整 its resolutions carried, not withdrawn (filled when one dispute is read)
    carried: tuple[ClearingAdjustment, ...] = ()

    @property
    def line_key(self) -> str | None:
        """One dispute per settlement line of a hospital: a retry finds the first."""
        return line_key(self.hospital_code, self.settlement_id, self.refund)

    @property
    def is_open(self) -> bool:
        return self.state is not DisputeState.RESOLVED

    @property
    def clearing_adjustment(self) -> Money | None:
        """The agreed clearing adjustment of the resolution in force (None: none agreed)."""
        if self.state is not DisputeState.RESOLVED:
            return None
        return self.last.adjustment

    @property
    def raised(self) -> DisputeEvent:
        return self.events[0]

    @property
    def last(self) -> DisputeEvent:
        return self.events[-1]


def line_key(hospital_code: str, settlement_id: str | None, refund: bool) -> str | None:
    if not settlement_id:
        return None
    return f"{hospital_code}:{settlement_id}:{'R' if refund else 'S'}"


def require_text(text: str, field: str = "text") -> str:
    cleaned = text.strip()
    if not TEXT_MIN <= len(cleaned) <= TEXT_MAX:
        raise InvalidInput(
            "DISPUTE_TEXT_REQUIRED",
            f"请写明说明（{TEXT_MIN}–{TEXT_MAX} 个字符）",
            f"write the explanation ({TEXT_MIN} to {TEXT_MAX} characters)",
            field=field,
        )
    return cleaned


def require_month(month: str) -> str:
    text = month.strip()
    digits = len(text) == 7 and text[4] == "-" and text[:4].isdigit() and text[5:].isdigit()
    if digits and 1 <= int(text[5:]) <= 12 and int(text[:4]) >= 2000:
        return text
    raise InvalidInput(
        "DISPUTE_MONTH_INVALID",
        "清算月份格式应为 yyyy-MM，例如 2026-11",
        "the month is yyyy-MM, e.g. 2026-11",
        field="month",
    )


def may_act(dispute: Dispute, side: Side, who: Who) -> bool:
    if who is Who.EITHER:
        return True
    if who is Who.CENTRE:
        return side is Side.CENTRE
    return side is dispute.raised_by.other


def allowed_actions(dispute: Dispute, side: Side) -> list[DisputeAction]:
    """What ``side`` may do next (the page shows those forms only)."""
    return [
        action
        for action, step in TRANSITIONS.items()
        if dispute.state in step.sources and may_act(dispute, side, step.who)
    ]


def raise_dispute(
    *,
    dispute_id: str,
    hospital_code: str,
    treatment_region_code: str,
    insured_region_code: str | None,
    month: str,
    kind: DisputeKind,
    settlement_id: str | None,
    refund: bool,
    centre: LineAmounts | None,
    institution: LineAmounts | None,
    side: Side,
    actor_id: str,
    actor_role: str,
    at: dt.datetime,
    text: str,
) -> Dispute:
    """A new dispute in RAISED with its first event. A 3202 kind must carry the amounts that
    kind has (the centre's for centre-only, the hospital's for institution-only, both for an
    amount difference); a manual one needs a text, the others say what differs already."""
    needs = {
        DisputeKind.CENTRE_ONLY: (True, False),
        DisputeKind.INSTITUTION_ONLY: (False, True),
        DisputeKind.AMOUNT: (True, True),
    }
    if kind in needs:
        want_centre, want_institution = needs[kind]
        if (centre is not None) != want_centre or (institution is not None) != want_institution:
            raise InvalidInput(
                "DISPUTE_LINE_INCOMPLETE",
                f"“{kind.label_zh}”的差异应有{'中心' if want_centre else ''}"
                f"{'与' if want_centre and want_institution else ''}"
                f"{'医疗机构' if want_institution else ''}一侧的金额",
                "the difference lacks the amounts of its side",
                field="institution",
            )
        if not settlement_id:
            raise InvalidInput(
                "DISPUTE_SETTLEMENT_REQUIRED",
                "明细对账差异须写明结算ID",
                "a statement difference names its settlement",
                field="settlement_id",
            )
    written = require_text(text) if kind is DisputeKind.MANUAL or text.strip() else ""
    if not written:
        written = kind.label_zh
    event = DisputeEvent(
        DisputeAction.RAISE, None, DisputeState.RAISED, side, actor_id, actor_role, at, written
    )
    return Dispute(
        id=dispute_id,
        hospital_code=hospital_code,
        treatment_region_code=treatment_region_code,
        insured_region_code=insured_region_code,
        month=require_month(month),
        kind=kind,
        settlement_id=settlement_id or None,
        refund=refund,
        centre=centre,
        institution=institution,
        raised_by=side,
        state=DisputeState.RAISED,
        events=(event,),
    )


def apply(
    dispute: Dispute,
    action: DisputeAction,
    *,
    side: Side,
    actor_id: str,
    actor_role: str,
    at: dt.datetime,
    text: str,
    amount: Money | None = None,
    outcome: Outcome | None = None,
    adjustment: Money | None = None,
) -> Dispute:
    """The dispute after ``action`` by ``side``, or the first rule it breaks."""
    step = TRANSITIONS.get(action)
    if step is None:
        raise InvalidInput(
            "DISPUTE_ACTION_UNKNOWN",
            f"不能对差异执行“{action.verb_zh}”",
            f"{action.value} is not a transition",
            field="action",
        )
    if dispute.state not in step.sources:
        raise Conflict(
            "DISPUTE_STATE",
            f"差异当前状态为“{dispute.state.label_zh}”，不能{action.verb_zh}",
            f"the dispute is {dispute.state.value}; it cannot be {action.value}ed",
            details={"state": dispute.state.value, "action": action.value},
        )
    if not may_act(dispute, side, step.who):
        whom = (
            dispute.raised_by.other.label_zh if step.who is Who.RESPONDENT else Side.CENTRE.label_zh
        )
        raise Refused(
            "DISPUTE_NOT_YOUR_TURN",
            f"该差异由{dispute.raised_by.label_zh}提出，应由{whom}{action.verb_zh}",
            f"the {step.who.value} {action.value}s this dispute, not the {side.value}",
            field="action",
        )
    written = require_text(text)
    if action is DisputeAction.RESOLVE:
        if outcome is None:
            raise InvalidInput(
                "DISPUTE_OUTCOME_REQUIRED",
                "请选择处理结果：接受、调整或驳回",
                "choose the outcome: accepted, adjusted or rejected",
                field="outcome",
            )
        if (outcome is Outcome.ADJUSTED) != (amount is not None):
            raise InvalidInput(
                "DISPUTE_AMOUNT_FOR_ADJUSTED",
                "只有“调整”须填写调整后的医疗费总额，其他结果不填金额",
                "an adjusted outcome, and only it, gives the agreed amount",
                field="amount",
            )
        if adjustment is not None:
            require_adjustment(dispute, outcome, adjustment)
    elif outcome is not None:
        raise InvalidInput(
            "DISPUTE_OUTCOME_ONLY_ON_RESOLVE",
            "处理结果只在解决差异时填写",
            "an outcome is given only when resolving",
            field="outcome",
        )
    elif adjustment is not None:
        raise InvalidInput(
            "DISPUTE_ADJUSTMENT_ONLY_ON_RESOLVE",
            "清算调整金额只在解决差异时填写",
            "a clearing adjustment is given only when resolving",
            field="adjustment",
        )
    elif amount is not None and action is not DisputeAction.ANSWER:
        raise InvalidInput(
            "DISPUTE_AMOUNT_NOT_ALLOWED",
            "只有答复与“调整”可以填写金额",
            "only an answer or an adjustment gives an amount",
            field="amount",
        )
    event = DisputeEvent(
        action,
        dispute.state,
        step.target,
        side,
        actor_id,
        actor_role,
        at,
        written,
        amount,
        outcome,
        adjustment,
    )
    resolved = action is DisputeAction.RESOLVE
    return dataclasses.replace(
        dispute,
        state=step.target,
        events=(*dispute.events, event),
        outcome=outcome if resolved else None,
        settled_amount=amount if resolved else None,
    )


def require_adjustment(dispute: Dispute, outcome: Outcome, adjustment: Money) -> None:
    """A clearing adjustment goes with a resolution that changes what is owed (accepted or
    adjusted, not rejected: then the centre's record stands), is not zero (no adjustment is
    left empty), and needs the pair it is cleared between (the centre's insured region)."""
    if outcome is Outcome.REJECTED:
        raise InvalidInput(
            "DISPUTE_ADJUSTMENT_NOT_ALLOWED",
            "“驳回”以中心记录为准，不能填写清算调整金额",
            "a rejected dispute keeps the centre's record: no clearing adjustment",
            field="adjustment",
        )
    if adjustment.is_zero():
        raise InvalidInput(
            "DISPUTE_ADJUSTMENT_ZERO",
            "清算调整金额不能为 0；不调整清算请留空",
            "a clearing adjustment is not zero; leave it empty for none",
            field="adjustment",
        )
    if dispute.insured_region_code is None:
        raise InvalidInput(
            "DISPUTE_ADJUSTMENT_REGION_UNKNOWN",
            "中心没有这一笔的记录，不知道参保地，不能在清算中调整；请按现有流程补记结算",
            "the centre has no record of the line, so no insured region to clear against",
            field="adjustment",
        )


def adjustment_to_carry(dispute: Dispute, carried: Money) -> Money:
    """What the resolution in force adds to clearing: its agreed adjustment (zero when none)
    less what the dispute's earlier resolutions already carried, so that resolving again
    (after a re-opening) never counts an agreed amount twice."""
    agreed = dispute.clearing_adjustment or Money.zero()
    return agreed - carried


def statement_kind(
    centre: LineAmounts | None, institution: LineAmounts | None
) -> DisputeKind | None:
    """What 3202 says of one line (``yidi.settlement.reconciliation.compare``): only one side
    has it, or its total, fund or account amount differs; None when both agree."""
    if centre is None and institution is None:
        return None
    if institution is None:
        return DisputeKind.CENTRE_ONLY
    if centre is None:
        return DisputeKind.INSTITUTION_ONLY
    if centre != institution:
        return DisputeKind.AMOUNT
    return None
