"""Filing lifecycle (备案状态流转): a pure state machine over immutable versions.

::

    DRAFT ──submit──▶ SUBMITTED ──approve──▶ APPROVED ──change──▶ SUPERSEDED (+ new APPROVED version)
      ▲  revise          │  reject               ├──cancel──▶ CANCELLED
      │                  ▼                       └──expire──▶ EXPIRED
      └──────────── REJECTED ──submit (resubmission)──▶ SUBMITTED
    DRAFT / SUBMITTED / REJECTED ──cancel──▶ CANCELLED

Every function returns new :class:`Filing` values with one more
:class:`FilingEvent`; nothing is ever removed, so a stored filing is its full
history. A change (变更) is handled at the agency counter and takes effect at
once: the old version becomes SUPERSEDED (kept) and a new version with
registration type CHANGE and ``version + 1`` is APPROVED, after the same
validation and evidence checks as a new filing.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final

from yidi.filing.model.evidence import Evidence
from yidi.filing.model.record import (
    DesignatedInstitution,
    FilingRecord,
    RegionLookup,
    RegistrationType,
    covers,
    parse_filing_number,
    pool_area_code,
    validate_filing_record,
)
from yidi.filing.model.rules import (
    EvidenceRequirement,
    FilingRule,
    IssuerPlace,
    ValidityStart,
    rule_for,
)
from yidi.kernel.clock import beijing
from yidi.kernel.errors import Conflict, InvalidInput, Refused
from yidi.kernel.insurance import FilingCategory
from yidi.kernel.workdays import (
    PROVISIONAL_NOTE_EN,
    PROVISIONAL_NOTE_ZH,
    Deadline,
    WorkingDayCalendar,
)
from yidi.policy.national import FilingModel, national_model


class FilingState(enum.Enum):
    DRAFT = "draft"  # 草稿
    SUBMITTED = "submitted"  # 已提交（待审核）
    APPROVED = "approved"  # 已备案
    REJECTED = "rejected"  # 已退回
    SUPERSEDED = "superseded"  # 已变更（被新版本替代）
    CANCELLED = "cancelled"  # 已撤销
    EXPIRED = "expired"  # 已过期

    @property
    def label_zh(self) -> str:
        return {
            "draft": "草稿",
            "submitted": "已提交",
            "approved": "已备案",
            "rejected": "已退回",
            "superseded": "已变更",
            "cancelled": "已撤销",
            "expired": "已过期",
        }[self.value]

    @property
    def is_terminal(self) -> bool:
        return self in (FilingState.SUPERSEDED, FilingState.CANCELLED, FilingState.EXPIRED)


class FilingAction(enum.Enum):
    CREATE = "create"
    REVISE = "revise"
    SUBMIT = "submit"
    APPROVE = "approve"
    REJECT = "reject"
    CHANGE = "change"
    CANCEL = "cancel"
    EXPIRE = "expire"
    SUPPLY = "supply"  # 承诺制：补齐证明材料
    LAPSE = "promise_lapse"  # 承诺制：逾期未补齐，按其他临时外出就医人员处理
    FALSE_PROMISE = "false_promise"  # 承诺制：虚假承诺，撤销备案并追回基金

    @property
    def verb_zh(self) -> str:
        return {
            "create": "创建",
            "revise": "修改",
            "submit": "提交",
            "approve": "审核",
            "reject": "审核",
            "change": "变更",
            "cancel": "撤销",
            "expire": "设为过期",
            "supply": "补齐材料",
            "promise_lapse": "按其他临时外出就医处理",
            "false_promise": "认定虚假承诺",
        }[self.value]


# The state machine as data: action -> (states it may start from, state it leads to).
# REVISE keeps the state (None).
TRANSITIONS: Final[Mapping[FilingAction, tuple[frozenset[FilingState], FilingState | None]]] = {
    FilingAction.REVISE: (frozenset({FilingState.DRAFT, FilingState.REJECTED}), None),
    FilingAction.SUBMIT: (
        frozenset({FilingState.DRAFT, FilingState.REJECTED}),
        FilingState.SUBMITTED,
    ),
    FilingAction.APPROVE: (frozenset({FilingState.SUBMITTED}), FilingState.APPROVED),
    FilingAction.REJECT: (frozenset({FilingState.SUBMITTED}), FilingState.REJECTED),
    FilingAction.CHANGE: (frozenset({FilingState.APPROVED}), FilingState.SUPERSEDED),
    FilingAction.CANCEL: (
        frozenset(
            {FilingState.DRAFT, FilingState.SUBMITTED, FilingState.REJECTED, FilingState.APPROVED}
        ),
        FilingState.CANCELLED,
    ),
    FilingAction.EXPIRE: (frozenset({FilingState.APPROVED}), FilingState.EXPIRED),
    FilingAction.SUPPLY: (frozenset({FilingState.APPROVED}), None),
    FilingAction.LAPSE: (frozenset({FilingState.APPROVED}), FilingState.SUPERSEDED),
    FilingAction.FALSE_PROMISE: (frozenset({FilingState.APPROVED}), FilingState.CANCELLED),
}


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: a clerk (经办人), the insured person, or the system (expiry)."""

    id: str
    role: str
    name: str | None = None


SYSTEM_ACTOR: Final = Actor(id="system", role="system", name="系统")


@dataclass(frozen=True, slots=True)
class FilingEvent:
    """One recorded transition: who, when, why."""

    action: FilingAction
    from_state: FilingState | None  # None for the creation of a version
    to_state: FilingState
    actor_id: str
    actor_role: str
    at: datetime
    reason: str | None = None
    version: int = 1


@dataclass(frozen=True, slots=True)
class Filing:
    """One version of a filing with its state, evidence and full event history.

    ``lineage_id`` is shared by all versions of the same filing;
    ``filing_id`` identifies this version. Ids are allocated by the caller.
    """

    filing_id: str
    lineage_id: str
    record: FilingRecord
    state: FilingState
    evidence: tuple[Evidence, ...] = ()
    events: tuple[FilingEvent, ...] = ()
    state_reason: str | None = None  # rejection or cancellation reason
    supersedes: str | None = None  # filing_id of the previous version
    superseded_by: str | None = None  # filing_id of the next version


def _require(filing: Filing, action: FilingAction) -> FilingState | None:
    allowed_from, target = TRANSITIONS[action]
    if filing.state not in allowed_from:
        raise Conflict(
            "FILING_STATE",
            f"备案当前状态为“{filing.state.label_zh}”，不能{action.verb_zh}",
            f"The filing is {filing.state.value}; it cannot be {action.value}d",
            details={"state": filing.state.value, "action": action.value},
        )
    return target


def _moved(
    filing: Filing,
    action: FilingAction,
    actor: Actor,
    at: datetime,
    *,
    reason: str | None = None,
    **changes: object,
) -> Filing:
    target = _require(filing, action) or filing.state
    event = FilingEvent(
        action=action,
        from_state=filing.state,
        to_state=target,
        actor_id=actor.id,
        actor_role=actor.role,
        at=at,
        reason=reason,
        version=filing.record.version,
    )
    return dataclasses.replace(filing, state=target, events=(*filing.events, event), **changes)  # type: ignore[arg-type]


def _superseded_by(
    filing: Filing,
    action: FilingAction,
    actor: Actor,
    at: datetime,
    reason: str | None,
    new_filing_id: str,
    new_record: FilingRecord,
    evidence: tuple[Evidence, ...],
) -> tuple[Filing, Filing]:
    """``filing`` superseded by a new approved version ``new_filing_id`` (变更, 承诺逾期转类别)."""
    superseded = _moved(filing, action, actor, at, reason=reason, superseded_by=new_filing_id)
    created = FilingEvent(
        action, None, FilingState.APPROVED, actor.id, actor.role, at, reason, new_record.version
    )
    new_version = Filing(
        filing_id=new_filing_id,
        lineage_id=filing.lineage_id,
        record=new_record,
        state=FilingState.APPROVED,
        evidence=evidence,
        events=(created,),
        supersedes=filing.filing_id,
    )
    return superseded, new_version


def _require_aware(at: datetime) -> None:
    if at.tzinfo is None:
        raise ValueError("transition timestamps must be timezone-aware")


def _require_reason(reason: str | None, action: FilingAction) -> str:
    if reason is None or not reason.strip():
        raise InvalidInput(
            "FILING_REASON_REQUIRED",
            f"{action.verb_zh}备案须填写原因",
            f"A reason is required to {action.value}",
            field="reason",
        )
    return reason.strip()


def create_draft(
    filing_id: str,
    record: FilingRecord,
    actor: Actor,
    at: datetime,
    *,
    evidence: Iterable[Evidence] = (),
    lineage_id: str | None = None,
) -> Filing:
    """A new filing in DRAFT; drafts may be incomplete."""
    _require_aware(at)
    event = FilingEvent(
        FilingAction.CREATE, None, FilingState.DRAFT, actor.id, actor.role, at, None, record.version
    )
    return Filing(
        filing_id=filing_id,
        lineage_id=lineage_id or filing_id,
        record=record,
        state=FilingState.DRAFT,
        evidence=tuple(evidence),
        events=(event,),
    )


def revise(
    filing: Filing,
    actor: Actor,
    at: datetime,
    *,
    record: FilingRecord | None = None,
    evidence: Iterable[Evidence] | None = None,
    reason: str | None = None,
) -> Filing:
    """Edit a draft or a rejected filing (fields and/or evidence)."""
    _require_aware(at)
    new_record = filing.record if record is None else record
    new_evidence = filing.evidence if evidence is None else tuple(evidence)
    return _moved(
        filing,
        FilingAction.REVISE,
        actor,
        at,
        reason=reason,
        record=new_record,
        evidence=new_evidence,
    )


def emergency_due(
    record: FilingRecord, rule: FilingRule, calendar: WorkingDayCalendar
) -> Deadline | None:
    """Last day to hand in emergency materials (急诊：入院后三个工作日内) and its calendar, or None.

    Nothing about the deadline is stored: whether it was counted provisionally follows from
    the calendar of its years whenever it is shown.
    """
    if rule.submission_working_days is None or record.admitted_on is None:
        return None
    return calendar.emergency_filing_due(record.admitted_on, rule.submission_working_days)


#: The role an insured person's own (online) actions are recorded under; an agency officer
#: at the window acts under an agency role (kernel.access.Role values).
ONLINE_ROLE: Final = "insured_person"


def submitted_online(filing: Filing) -> bool | None:
    """Whether the latest submission was the insured person's own (online), or None if never
    submitted. The channel is not stored: it is the role of whoever made the ``submit`` event."""
    for event in reversed(filing.events):
        if event.action is FilingAction.SUBMIT:
            return event.actor_role == ONLINE_ROLE
    return None


def submission_day(filing: Filing) -> date | None:
    """The Beijing day of the latest submission, or None if never submitted."""
    for event in reversed(filing.events):
        if event.action is FilingAction.SUBMIT:
            return beijing(event.at).date()
    return None


def review_due(
    filing: Filing,
    calendar: WorkingDayCalendar,
    model: FilingModel | None = None,
    *,
    region_filing: Mapping[str, object] | None = None,
) -> Deadline | None:
    """Last day to review a filing submitted online (线上提交：N 个工作日内审核), or None.

    None when the filing is not awaiting review, was submitted at the window (decided on the
    spot) or the national model of the submission day fixes no review period. N is the
    model's ``online_review_working_days`` (data/national/filing_rules.yaml), or the insured
    region's ``filing.online_review_working_days`` (``region_filing``) where the model of
    the day leaves it to the 参保地; the submission day itself is not counted.
    """
    if filing.state is not FilingState.SUBMITTED or not submitted_online(filing):
        return None
    submitted_at = next(e.at for e in reversed(filing.events) if e.action is FilingAction.SUBMIT)
    return review_due_after(submitted_at, calendar, model, region_filing=region_filing)


def review_due_after(
    submitted_at: datetime,
    calendar: WorkingDayCalendar,
    model: FilingModel | None = None,
    *,
    region_filing: Mapping[str, object] | None = None,
) -> Deadline | None:
    """:func:`review_due` of an online submission made at ``submitted_at`` (what a list query
    knows of a filing awaiting review)."""
    submitted_on = beijing(submitted_at).date()
    days = (model or national_model(submitted_on, region_filing)).online_review_working_days
    if days is None:
        return None
    on = calendar.add_working_days(submitted_on, days)
    return Deadline(on, calendar.source_between(submitted_on, on))


def emergency_deadline(
    record: FilingRecord, rule: FilingRule, calendar: WorkingDayCalendar
) -> date | None:
    """The date of :func:`emergency_due`."""
    due = emergency_due(record, rule, calendar)
    return None if due is None else due.on


def submit(
    filing: Filing,
    actor: Actor,
    at: datetime,
    regions: RegionLookup,
    *,
    rules: Mapping[FilingCategory, FilingRule] | None = None,
    region_filing: Mapping[str, object] | None = None,
    calendar: WorkingDayCalendar | None = None,
) -> Filing:
    """Submit (or resubmit after rejection): the record must be complete and valid.

    ``calendar`` counts the emergency deadline (the shipped holiday files when None).

    The filing type must exist in the national model of the day (FILING_TYPE_NOT_IN_FORCE),
    a personal promise only where that model allows it (FILING_PROMISE_NOT_ALLOWED).
    Emergency filings after the deadline are refused (FILING_EMERGENCY_LATE).
    """
    _require_aware(at)
    _require(filing, FilingAction.SUBMIT)
    check_submitted_record(
        filing.record, regions, at.date(), rules=rules, region_filing=region_filing
    )
    category = filing.record.category
    assert category is not None  # validated above
    rule = rule_for(category, rules)
    due = emergency_due(filing.record, rule, calendar or WorkingDayCalendar())
    if due is not None and at.date() > due.on:
        admitted_on = filing.record.admitted_on
        deadline = due.on.isoformat()
        raise Refused(
            "FILING_EMERGENCY_LATE",
            f"异地急诊备案须在入院后{rule.submission_working_days}个工作日内提交材料，"
            f"入院日期{admitted_on}，截止日期为{deadline}"
            f"{'（' + PROVISIONAL_NOTE_ZH + '）' if due.provisional else ''}，已逾期",
            f"Emergency filings must be submitted within {rule.submission_working_days} "
            f"working days of admission; the deadline was {deadline}"
            f"{' (' + PROVISIONAL_NOTE_EN + ')' if due.provisional else ''}",
            field="admitted_on",
            details={"deadline": deadline, "deadline_source": due.source.value},
        )
    return _moved(filing, FilingAction.SUBMIT, actor, at)


def check_submitted_record(
    record: FilingRecord,
    regions: RegionLookup,
    today: date,
    *,
    rules: Mapping[FilingCategory, FilingRule] | None = None,
    region_filing: Mapping[str, object] | None = None,
) -> None:
    """What submission asks of the record itself: every 附件1 field (all faults at once), its
    type and personal promise in the model of the day, and the care a 补办 covers. A form
    calls it before it stores anything, so a refused record leaves no draft behind."""
    validate_filing_record(record, regions, today=today, rules=rules)
    check_national_type(record, national_model(today, region_filing))
    check_late_filing(record, today)


def check_national_type(record: FilingRecord, model: FilingModel) -> None:
    """The record's type exists in ``model`` and its promise, if any, is allowed there."""
    assert record.category is not None
    model.type_rule(record.category)
    if record.promise_signed and not model.promise_allowed_for(record.category):
        raise Refused(
            "FILING_PROMISE_NOT_ALLOWED",
            f"“{record.category.label_zh}”在{model.label_zh}中不能以个人承诺书代替证明材料",
            f"a personal promise cannot replace proof for {record.category.value} "
            f"in the {model.era} model",
            field="promise_signed",
        )


def check_late_filing(record: FilingRecord, today: date) -> None:
    """补办备案: the care it covers has begun (a past range, or, still in hospital, a first day
    without a last one), on a day whose rules allow 补办.

    The national model in force on the care's first day decides (2017: no 补办, the care
    stays unfiled; 2022: the filing may be made afterwards and covers the care).
    """
    care_from, care_until = record.late_care_from, record.late_care_until
    if care_from is None:
        if care_until is not None:
            raise InvalidInput(
                "FILING_LATE_CARE_FROM_REQUIRED",
                "补办备案须填写所补就医的首日（入院日期）",
                "a late filing needs the first day of the care it covers",
                field="late_care_from",
            )
        return
    # No last day: the person is still in hospital (补办 before the discharge settlement).
    if care_from > today:
        raise InvalidInput(
            "FILING_LATE_CARE_FUTURE",
            f"补办备案只能覆盖已发生的就医（首日{care_from.isoformat()}晚于今天）",
            "a late filing covers care that has begun",
            field="late_care_from",
        )
    if care_until is not None and care_until < care_from:
        raise InvalidInput(
            "FILING_LATE_CARE_RANGE",
            "补办备案所补就医的末日（出院日期）不得早于首日；仍在住院的不填末日",
            "the last day of the care is before its first day (leave it out while in hospital)",
            field="late_care_until",
        )
    if care_until is not None and care_until > today:
        raise InvalidInput(
            "FILING_LATE_CARE_FUTURE",
            f"补办备案只能覆盖已发生的就医（末日{care_until.isoformat()}晚于今天；仍在住院的不填末日）",
            "a late filing covers care that has happened (leave the last day out while in hospital)",
            field="late_care_until",
        )
    model = national_model(care_from)
    if not model.late_filing_allowed:
        raise Refused(
            "FILING_LATE_NOT_IN_FORCE",
            f"就医日期{care_from.isoformat()}适用{model.label_zh}，不能就医后补办备案；"
            "该次费用按未备案人员回参保地报销",
            f"the {model.era} model in force on {care_from.isoformat()} has no filing after "
            "the care; it is reimbursed as unfiled care",
            field="late_care_from",
            details={"era": model.era, "source": model.late_filing_rule_source},
        )


def _insured_city(insured_region_code: str | None, regions: RegionLookup) -> str | None:
    """The insured place for documents: the prefecture of a county-level pool.

    The Hengyang page says 我市三级协议医疗机构: a county pool's patients are
    referred by the city's tertiary hospitals, so the prefecture is the place.
    """
    if insured_region_code is None:
        return None
    area = pool_area_code(insured_region_code)
    prefecture = area[:4] + "00"
    if not area.endswith("00") and regions.exists(prefecture):
        return prefecture
    return area


def _issuer_ok(
    evidence: Evidence,
    requirement: EvidenceRequirement,
    record: FilingRecord,
    regions: RegionLookup,
) -> bool:
    if requirement.issuer_place is not IssuerPlace.ANYWHERE:
        place = (
            record.destination_code
            if requirement.issuer_place is IssuerPlace.DESTINATION
            else _insured_city(record.insured_region_code, regions)
        )
        issuer_region = evidence.issuer_region_code
        if place is None or issuer_region is None or not regions.exists(issuer_region):
            return False
        if not covers(regions, place, issuer_region):
            return False
    if requirement.issuer_levels:
        level_ok = evidence.issuer_hospital_level in requirement.issuer_levels
        specialist_ok = requirement.top_specialist_allowed and evidence.issuer_is_top_specialist
        if not (level_ok or specialist_ok):
            return False
    return True


def missing_evidence(
    record: FilingRecord,
    evidence: Iterable[Evidence],
    regions: RegionLookup,
    *,
    rules: Mapping[FilingCategory, FilingRule] | None = None,
) -> list[EvidenceRequirement]:
    """The category's evidence requirements that no handed-in document satisfies."""
    if record.category is None:
        return []
    documents = tuple(evidence)
    return [
        requirement
        for requirement in rule_for(record.category, rules).evidence
        if not any(
            document.kind in requirement.kinds
            and _issuer_ok(document, requirement, record, regions)
            for document in documents
        )
    ]


def _require_evidence(
    record: FilingRecord,
    evidence: Iterable[Evidence],
    regions: RegionLookup,
    rules: Mapping[FilingCategory, FilingRule] | None,
) -> None:
    missing = missing_evidence(record, evidence, regions, rules=rules)
    if missing:
        names = "；".join(requirement.label_zh for requirement in missing)
        raise Refused(
            "FILING_EVIDENCE_MISSING",
            f"证明材料不全，缺少：{names}",
            "Missing evidence: " + "; ".join("/".join(k.value for k in r.kinds) for r in missing),
            field="evidence",
            details={"missing": [[k.value for k in r.kinds] for r in missing]},
        )


def default_validity(
    record: FilingRecord, rule: FilingRule, handled_on: date
) -> tuple[date, date | None]:
    """Validity from the rules table: start at approval or admission; ``None`` = open-ended."""
    start = (
        record.admitted_on
        if rule.validity_start is ValidityStart.ADMISSION and record.admitted_on is not None
        else handled_on
    )
    if rule.validity_days is None:
        return start, None
    return start, start + timedelta(days=rule.validity_days - 1)


def _approved_record(
    record: FilingRecord,
    rule: FilingRule,
    actor: Actor,
    at: datetime,
    handling_agency: str,
    filing_number: str,
    valid_from: date | None,
    valid_until: date | None,
    model: FilingModel | None = None,
) -> FilingRecord:
    number = parse_filing_number(filing_number)
    if record.insured_region_code is not None and number.region_code != record.insured_region_code:
        raise InvalidInput(
            "FILING_NUMBER_REGION",
            f"备案编号{filing_number}的行政区划与参保地{record.insured_region_code}不一致",
            "The filing number belongs to another agency region",
            field="filing_number",
        )
    # 补办: validity counts from the first day of the care the filing covers.
    basis = min(at.date(), record.late_care_from) if record.late_care_from else at.date()
    default_from, default_until = default_validity(record, rule, basis)
    national_until = (
        model.valid_until(record.category, default_from)
        if model is not None and record.category is not None
        else None
    )
    if national_until is not None:
        # The national floor (2022: temporary filings at least 6 months) wins over a shorter
        # local period; an open-ended local period stays open-ended.
        default_until = (
            national_until if default_until is None else max(default_until, national_until)
        )
    start = valid_from or default_from
    end = valid_until if valid_until is not None else default_until
    if end is not None and end < start:
        raise InvalidInput(
            "FILING_VALIDITY_RANGE",
            "有效期截止日期不能早于起始日期",
            "valid_until is before valid_from",
            field="valid_until",
        )
    if record.late_care_from is not None and (
        start > record.late_care_from
        or (end is not None and record.late_care_until and end < record.late_care_until)
    ):
        raise InvalidInput(
            "FILING_LATE_NOT_COVERED",
            f"补办备案的有效期须覆盖所补就医（{record.late_care_from.isoformat()}至"
            f"{record.late_care_until.isoformat() if record.late_care_until else ''}）",
            "a late filing's validity must cover the care it is filed for",
            field="valid_from",
        )
    return dataclasses.replace(
        record,
        filing_number=str(number),
        handling_agency=handling_agency,
        handler=actor.name or actor.id,
        handled_on=at.date(),
        valid_from=start,
        valid_until=end,
    )


def approve(
    filing: Filing,
    actor: Actor,
    at: datetime,
    regions: RegionLookup,
    *,
    filing_number: str,
    handling_agency: str,
    valid_from: date | None = None,
    valid_until: date | None = None,
    rules: Mapping[FilingCategory, FilingRule] | None = None,
    region_filing: Mapping[str, object] | None = None,
) -> Filing:
    """Approve (备案): evidence must be complete; sets number, handling fields and validity.

    Under 承诺制 (a signed promise, where the day's model allows it) the proof may be
    missing: the record then gets the documents-due day of the national/region rule.
    """
    _require_aware(at)
    _require(filing, FilingAction.APPROVE)
    category = filing.record.category
    if category is None:
        raise InvalidInput("FILING_CATEGORY_REQUIRED", "人员类别不能为空", "category is required")
    model = national_model(at.date(), region_filing)
    check_national_type(filing.record, model)
    check_late_filing(filing.record, at.date())
    base = filing.record
    if base.promise_signed:
        if missing_evidence(base, filing.evidence, regions, rules=rules):
            base = dataclasses.replace(
                base,
                promise_documents_due_on=model.promise_documents_due(at.date()),
                promise_documents_supplied_on=None,
            )
        else:  # the proof came with the promise: nothing is outstanding
            base = dataclasses.replace(
                base, promise_documents_due_on=None, promise_documents_supplied_on=at.date()
            )
    else:
        _require_evidence(base, filing.evidence, regions, rules)
    record = _approved_record(
        base,
        rule_for(category, rules),
        actor,
        at,
        handling_agency,
        filing_number,
        valid_from,
        valid_until,
        model,
    )
    return _moved(filing, FilingAction.APPROVE, actor, at, record=record, state_reason=None)


def reject(filing: Filing, actor: Actor, at: datetime, reason: str) -> Filing:
    _require_aware(at)
    _require(filing, FilingAction.REJECT)
    text = _require_reason(reason, FilingAction.REJECT)
    return _moved(filing, FilingAction.REJECT, actor, at, reason=text, state_reason=text)


def check_lock(
    filing: Filing,
    at: datetime,
    action: FilingAction,
    region_filing: Mapping[str, object] | None = None,
) -> None:
    """Refuse changing or cancelling an approved filing within its region's lock period.

    The lock (e.g. 6 months for long-term filings) counts from the day the version was
    handled, under the model in force that day; temporary filings have none.
    """
    record = filing.record
    if filing.state is not FilingState.APPROVED or record.category is None:
        return
    handled_on = record.handled_on or record.valid_from
    if handled_on is None:
        return
    model = national_model(handled_on, region_filing)
    if record.category not in model.types:
        return
    locked_until = model.cancel_locked_until(record.category, handled_on)
    if locked_until is not None and at.date() < locked_until:
        months = model.cancel_lock_months(record.category)
        raise Refused(
            "FILING_LOCKED",
            f"{model.class_labels[model.class_of(record.category)]}备案自{handled_on.isoformat()}起"
            f"{months}个月内不能{action.verb_zh}，{locked_until.isoformat()}起可办理",
            f"this filing cannot be {action.value}d within {months} months of "
            f"{handled_on.isoformat()}; possible from {locked_until.isoformat()}",
            field="category",
            details={"locked_until": locked_until.isoformat(), "months": months},
        )


def cancel(
    filing: Filing,
    actor: Actor,
    at: datetime,
    reason: str,
    *,
    region_filing: Mapping[str, object] | None = None,
) -> Filing:
    """撤销: the filing stops counting; it stays stored with its history.

    A region's lock period (long-term filings) is enforced; temporary filings are
    cancellable at any time.
    """
    _require_aware(at)
    _require(filing, FilingAction.CANCEL)
    check_lock(filing, at, FilingAction.CANCEL, region_filing)
    text = _require_reason(reason, FilingAction.CANCEL)
    return _moved(filing, FilingAction.CANCEL, actor, at, reason=text, state_reason=text)


def change(
    filing: Filing,
    actor: Actor,
    at: datetime,
    regions: RegionLookup,
    *,
    new_filing_id: str,
    record: FilingRecord,
    evidence: Iterable[Evidence] | None = None,
    handling_agency: str | None = None,
    valid_from: date | None = None,
    valid_until: date | None = None,
    reason: str | None = None,
    rules: Mapping[FilingCategory, FilingRule] | None = None,
    region_filing: Mapping[str, object] | None = None,
) -> tuple[Filing, Filing]:
    """变更: returns (the old version, now SUPERSEDED; the new APPROVED version).

    The new version keeps the filing number, gets registration type CHANGE and
    ``version + 1``, and passes the same validation and evidence checks.
    """
    _require_aware(at)
    _require(filing, FilingAction.CHANGE)
    check_lock(filing, at, FilingAction.CHANGE, region_filing)
    old = filing.record
    if record.social_security_number != old.social_security_number:
        raise Refused(
            "FILING_CHANGE_PERSON",
            "变更不能更换备案人员（社会保障号码不同），请为该人员新增备案",
            "A change cannot move the filing to another person",
            field="social_security_number",
        )
    documents = filing.evidence if evidence is None else tuple(evidence)
    candidate = dataclasses.replace(
        record,
        registration_type=RegistrationType.CHANGE,
        version=old.version + 1,
        filing_number=old.filing_number,
    )
    validate_filing_record(candidate, regions, today=at.date(), rules=rules)
    category = candidate.category
    assert category is not None  # validated above
    model = national_model(at.date(), region_filing)
    check_national_type(candidate, model)
    if not candidate.promise_outstanding:
        _require_evidence(candidate, documents, regions, rules)
    assert old.filing_number is not None  # every approved filing has one
    new_record = _approved_record(
        candidate,
        rule_for(category, rules),
        actor,
        at,
        handling_agency or old.handling_agency or "",
        old.filing_number,
        valid_from,
        valid_until,
        model,
    )
    return _superseded_by(
        filing, FilingAction.CHANGE, actor, at, reason, new_filing_id, new_record, documents
    )


def is_due_to_expire(filing: Filing, today: date) -> bool:
    until = filing.record.valid_until
    return filing.state is FilingState.APPROVED and until is not None and until < today


def expire(filing: Filing, at: datetime, actor: Actor = SYSTEM_ACTOR) -> Filing:
    _require_aware(at)
    _require(filing, FilingAction.EXPIRE)
    until = filing.record.valid_until
    if until is None or until >= at.date():
        raise Conflict(
            "FILING_NOT_DUE",
            "备案仍在有效期内，不能设为过期",
            "The filing is still within its validity",
        )
    return _moved(filing, FilingAction.EXPIRE, actor, at, reason=f"有效期至{until.isoformat()}")


def expire_due(
    filings: Iterable[Filing], at: datetime, actor: Actor = SYSTEM_ACTOR
) -> list[Filing]:
    """The EXPIRED versions of every approved filing whose ``valid_until`` passed before ``at``."""
    today = at.date()
    return [expire(filing, at, actor) for filing in filings if is_due_to_expire(filing, today)]


def is_valid_on(filing: Filing, on_date: date) -> bool:
    record = filing.record
    return (
        filing.state is FilingState.APPROVED
        and record.valid_from is not None
        and record.valid_from <= on_date
        and (record.valid_until is None or on_date <= record.valid_until)
    )


def _names_hospital(record: FilingRecord, hospital: DesignatedInstitution | None) -> bool:
    return hospital is not None and any(
        hospital.is_same_as(named) for named in record.designated_institutions
    )


def valid_filing_for(
    filings: Iterable[Filing],
    treatment_region: str,
    hospital: DesignatedInstitution | None,
    on_date: date,
    regions: RegionLookup,
    *,
    rules: Mapping[FilingCategory, FilingRule] | None = None,
) -> Filing | None:
    """The filing that allows direct settlement at admission, or None.

    Valid means APPROVED, ``on_date`` within validity, the treatment region
    within the destination (a province covers its prefectures, a prefecture
    its counties), and, for categories whose rule restricts admission to the
    named institutions (referral, emergency), the hospital is one of them.
    Residence-based categories (安置、长期居住、派驻) cover every connected
    hospital of the destination; their named institutions are informative.
    When several match, the latest version wins.
    """
    matches = []
    for filing in filings:
        record = filing.record
        destination = record.destination_code
        if not is_valid_on(filing, on_date) or destination is None or record.category is None:
            continue
        if not (
            regions.exists(treatment_region) and covers(regions, destination, treatment_region)
        ):
            continue
        rule = rule_for(record.category, rules)
        if (
            rule.restricted_to_named_institutions
            and record.designated_institutions
            and not _names_hospital(record, hospital)
        ):
            continue
        matches.append(filing)
    if not matches:
        return None
    return max(matches, key=lambda f: (f.record.version, f.record.valid_from or on_date))


def late_filing_for_care(
    filings: Iterable[Filing],
    treatment_region: str,
    care_from: date,
    care_until: date,
    regions: RegionLookup,
) -> Filing | None:
    """The 补办 filing that covers care from ``care_from`` to ``care_until`` in
    ``treatment_region``, or None: approved (or since expired), made after the care
    (``late_care_*`` spanning it; no last day when filed during the stay), destination
    covering the treatment region, and valid on
    both days. Its category sets the rates of the care's manual reimbursement."""
    matches = []
    for filing in filings:
        record = filing.record
        if filing.state not in (FilingState.APPROVED, FilingState.EXPIRED):
            continue
        if record.late_care_from is None or record.late_care_from > care_from:
            continue
        # Filed during the stay (no last day): the validity below bounds the care.
        if record.late_care_until is not None and care_until > record.late_care_until:
            continue
        destination = record.destination_code
        if destination is None or record.category is None:
            continue
        if not (
            regions.exists(treatment_region) and covers(regions, destination, treatment_region)
        ):
            continue
        if record.valid_from is None or record.valid_from > care_from:
            continue
        if record.valid_until is not None and record.valid_until < care_until:
            continue
        matches.append(filing)
    if not matches:
        return None
    return max(matches, key=lambda f: f.record.version)


def filing_closing_insured_place(filings: Iterable[Filing], on_date: date) -> Filing | None:
    """The filing that keeps its holder from settling at the insured place on ``on_date``, or
    None (双向享受). A long-term filing valid that day closes it under the 2017 rules; under
    the 2022 rules it stays open both ways, except while promised documents are outstanding.
    Temporary filings never close it."""
    model = national_model(on_date)
    for filing in filings:
        category = filing.record.category
        if category is None or not is_valid_on(filing, on_date):
            continue
        if category not in model.types:
            continue
        if not model.both_ways_for(category, filing.record.promise_outstanding):
            return filing
    return None


# --- 承诺制 (2022 model) -------------------------------------------------------------------


def _require_promise(filing: Filing, action: FilingAction) -> None:
    _require(filing, action)
    if not filing.record.promise_outstanding:
        raise Conflict(
            "FILING_NO_PROMISE_OUTSTANDING",
            "该备案没有待补齐材料的个人承诺",
            "this filing has no personal promise with documents outstanding",
            details={"action": action.value},
        )


def supply_documents(
    filing: Filing,
    actor: Actor,
    at: datetime,
    regions: RegionLookup,
    evidence: Iterable[Evidence],
    *,
    rules: Mapping[FilingCategory, FilingRule] | None = None,
) -> Filing:
    """补齐材料: the promised proof is handed in; the promise is fulfilled (双向享受 from now)."""
    _require_aware(at)
    _require_promise(filing, FilingAction.SUPPLY)
    documents = filing.evidence + tuple(evidence)
    _require_evidence(filing.record, documents, regions, rules)
    record = dataclasses.replace(filing.record, promise_documents_supplied_on=at.date())
    return _moved(filing, FilingAction.SUPPLY, actor, at, record=record, evidence=documents)


def is_promise_overdue(filing: Filing, today: date) -> bool:
    """Approved, promise outstanding and its documents-due day has passed."""
    due = filing.record.promise_documents_due_on
    return (
        filing.state is FilingState.APPROVED
        and filing.record.promise_outstanding
        and due is not None
        and due < today
    )


def lapse_promise(
    filing: Filing,
    at: datetime,
    *,
    new_filing_id: str,
    actor: Actor = SYSTEM_ACTOR,
    region_filing: Mapping[str, object] | None = None,
) -> tuple[Filing, Filing]:
    """逾期未补齐材料: the filing is treated as 其他临时外出就医 from ``at``.

    Returns (the old version, now SUPERSEDED; the new APPROVED version of the lapse type
    with the national temporary validity). Dated and recorded like a change.
    """
    _require_aware(at)
    _require_promise(filing, FilingAction.LAPSE)
    old = filing.record
    due = old.promise_documents_due_on
    if due is None or due >= at.date():
        raise Conflict(
            "FILING_PROMISE_NOT_DUE",
            f"承诺补齐材料期限为{due.isoformat() if due else '未设定'}，尚未逾期",
            "the documents are not overdue yet",
        )
    model = national_model(at.date(), region_filing)
    target = model.promise_lapse_to
    if target is None:  # pragma: no cover - an era with promises names its lapse type
        raise Refused(
            "FILING_PROMISE_NOT_IN_FORCE", "当日规则未规定承诺逾期的处理", "no lapse rule"
        )
    start = at.date()
    reason = (
        f"承诺补齐材料期限{due.isoformat()}已过，未补齐，"
        f"自{start.isoformat()}起按{target.label_zh}处理"
    )
    new_record = dataclasses.replace(
        old,
        category=target,
        registration_type=RegistrationType.CHANGE,
        version=old.version + 1,
        promise_signed=False,
        promise_documents_due_on=None,
        promise_documents_supplied_on=None,
        promise_lapsed_from=old.category,
        handler=actor.name or actor.id,
        handled_on=start,
        valid_from=start,
        valid_until=model.valid_until(target, start),
    )
    return _superseded_by(
        filing, FilingAction.LAPSE, actor, at, reason, new_filing_id, new_record, filing.evidence
    )


def record_false_promise(filing: Filing, actor: Actor, at: datetime, reason: str) -> Filing:
    """虚假承诺: cancel the filing and record that the fund's payments are to be recovered.

    Fines and credit records are outside yidi; the record marks the recovery.
    """
    _require_aware(at)
    _require(filing, FilingAction.FALSE_PROMISE)
    if not filing.record.promise_signed and filing.record.promise_lapsed_from is None:
        raise Conflict(
            "FILING_NO_PROMISE",
            "该备案未以个人承诺书办理，不能认定虚假承诺",
            "this filing was not made on a personal promise",
        )
    text = _require_reason(reason, FilingAction.FALSE_PROMISE)
    record = dataclasses.replace(
        filing.record, false_promise_on=at.date(), fund_recovery_required=True
    )
    full = f"虚假承诺：{text}；撤销备案，追回已支付的医保基金"
    return _moved(
        filing,
        FilingAction.FALSE_PROMISE,
        actor,
        at,
        reason=full,
        record=record,
        state_reason=full,
    )
