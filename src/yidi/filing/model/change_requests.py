"""Change requests (变更申请): an insured person asks online to change an approved filing.

::

    PENDING ──approve──▶ APPROVED   (the filing's 变更 is made in the same step)
       │ ├───reject────▶ REJECTED   (with the agency's reason)
       │ └──withdraw───▶ WITHDRAWN  (by the person who asked)

A change request carries the edited 附件1 record, the reason, and the new
evidence that the changed category or destination needs. Nothing changes on
the filing until the insured-place agency approves; approval then performs
the same :func:`yidi.filing.model.lifecycle.change` as a counter change (the
old version SUPERSEDED, a new APPROVED version with the same filing number and
``version + 1``). The counter path stays: a person at the counter is changed at
once, without a request.

The person (社会保障号码) and the insured region (参保地) cannot change: a move to
another person or insured region is a new filing there, not a change.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from yidi.filing.model import lifecycle
from yidi.filing.model.evidence import Evidence
from yidi.filing.model.lifecycle import Actor, Filing, FilingState, missing_evidence
from yidi.filing.model.record import (
    FIELD_LABELS,
    FilingRecord,
    RegionLookup,
    RegistrationType,
    SignedBy,
    validate_filing_record,
)
from yidi.filing.model.rules import FilingRule
from yidi.kernel.errors import Conflict, InvalidInput, Refused
from yidi.kernel.insurance import FilingCategory

MAX_REASON_LENGTH: Final = 500


class ChangeRequestState(enum.Enum):
    PENDING = "pending"  # 待审核
    APPROVED = "approved"  # 已同意（已变更）
    REJECTED = "rejected"  # 已退回
    WITHDRAWN = "withdrawn"  # 已撤回

    @property
    def label_zh(self) -> str:
        return {
            "pending": "待审核",
            "approved": "已同意",
            "rejected": "已退回",
            "withdrawn": "已撤回",
        }[self.value]


@dataclass(frozen=True, slots=True)
class ChangeRequest:
    """One 变更申请 on one filing (``filing_id`` is the filing's lineage id).

    ``base_version_id`` is the version the person saw and edited; a request
    made on a version that has since been changed at the counter cannot be
    approved (the agency rejects it and the person asks again).
    """

    request_id: str
    filing_id: str
    base_version_id: str
    record: FilingRecord
    reason: str
    requested_by: str
    requested_at: datetime
    evidence: tuple[Evidence, ...] = ()
    state: ChangeRequestState = ChangeRequestState.PENDING
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_reason: str | None = None
    result_version_id: str | None = None  # the new filing version an approval made


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One 附件1 field as it is now and as the request would have it."""

    field: str
    label_zh: str
    old: str
    new: str

    @property
    def changed(self) -> bool:
        return self.old != self.new


# The fields of 附件1 a comparison shows, in form order, with their Chinese labels.
COMPARED_FIELDS: Final[tuple[str, ...]] = (
    "name",
    "gender",
    "insurance_type",
    "person_type",
    "category",
    "social_security_card_number",
    "has_second_generation_card",
    "home_address",
    "contact_address",
    "phone",
    "mobile",
    "destination_province_code",
    "destination_prefecture_code",
    "destination_county_code",
    "designated_institutions",
    "admitted_on",
    "signed_by",
    "delegate",
    "filled_on",
)
_EXTRA_LABELS: Final[Mapping[str, str]] = {
    "has_second_generation_card": "是否持二代社会保障卡",
}


def _text(record: FilingRecord, field: str) -> str:
    value = getattr(record, field)
    if value is None:
        return ""
    if field == "designated_institutions":
        return "；".join(
            f"{i.name}（{i.level.label_zh}）" if i.level else i.name
            for i in record.designated_institutions
        )
    if field == "delegate":
        return " ".join(part for part in (value.name, value.relation, value.id_number) if part)
    if field == "signed_by":
        return "本人" if value is SignedBy.PERSON else "被委托人"
    if field == "has_second_generation_card":
        return "是" if value else "否"
    if isinstance(value, enum.Enum):
        label = getattr(value, "label_zh", None)
        return str(label) if label else str(value.value)
    return str(value)


def compare_records(old: FilingRecord, new: FilingRecord) -> list[FieldChange]:
    """Every compared field, old → new (codes and enums as their Chinese labels where known)."""
    return [
        FieldChange(
            field,
            _EXTRA_LABELS.get(field) or FIELD_LABELS[field],
            _text(old, field),
            _text(new, field),
        )
        for field in COMPARED_FIELDS
    ]


def _require_reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise InvalidInput(
            "CHANGE_REQUEST_REASON_REQUIRED",
            "请填写变更原因",
            "A reason for the change is required",
            field="reason",
        )
    if len(text) > MAX_REASON_LENGTH:
        raise InvalidInput(
            "CHANGE_REQUEST_REASON_TOO_LONG",
            f"原因不能超过{MAX_REASON_LENGTH}字",
            f"The reason may have at most {MAX_REASON_LENGTH} characters",
            field="reason",
        )
    return text


def _refuse_identity_change(old: FilingRecord, new: FilingRecord) -> None:
    if (new.social_security_number or "").upper() != (old.social_security_number or "").upper():
        raise Refused(
            "FILING_CHANGE_PERSON",
            "变更不能更换备案人员（社会保障号码不同），请为该人员新增备案",
            "A change cannot move the filing to another person",
            field="social_security_number",
        )
    if new.insured_region_code != old.insured_region_code:
        raise InvalidInput(
            "FILING_CHANGE_REGION",
            "变更不能更换参保地，请在新参保地新增备案",
            "a change cannot move the filing to another insured region",
            field="insured_region_code",
        )


def request_change(
    request_id: str,
    filing: Filing,
    record: FilingRecord,
    reason: str | None,
    actor: Actor,
    at: datetime,
    regions: RegionLookup,
    *,
    evidence: Iterable[Evidence] = (),
    rules: Mapping[FilingCategory, FilingRule] | None = None,
) -> ChangeRequest:
    """A new PENDING request on an APPROVED filing, checked as the agency will check it.

    The edited record must pass the 附件1 validation, and the filing's
    evidence plus the new documents must satisfy the (possibly new) category's
    rule, so that a request the agency could never approve is refused at once.
    """
    if at.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    if filing.state is not FilingState.APPROVED:
        raise Conflict(
            "CHANGE_REQUEST_FILING_STATE",
            f"备案当前状态为“{filing.state.label_zh}”，只有已备案的备案可以申请变更",
            f"The filing is {filing.state.value}; only approved filings can be changed",
            details={"state": filing.state.value},
        )
    if filing.record.filing_number is None:
        raise Conflict(
            "FILING_CHANGE_NO_NUMBER",
            "该备案无备案编号（导入的历史备案），请到参保地经办机构办理",
            "this filing has no filing number (imported legacy record)",
        )
    text = _require_reason(reason)
    old = filing.record
    _refuse_identity_change(old, record)
    proposed = dataclasses.replace(
        record,
        social_security_number=old.social_security_number,
        registration_type=RegistrationType.CHANGE,
        version=old.version + 1,
        filing_number=old.filing_number,
        handling_agency=None,
        handler=None,
        handled_on=None,
        valid_from=None,
        valid_until=None,
    )
    validate_filing_record(proposed, regions, today=at.date(), rules=rules)
    documents = tuple(evidence)
    missing = missing_evidence(proposed, (*filing.evidence, *documents), regions, rules=rules)
    if missing:
        names = "；".join(requirement.label_zh for requirement in missing)
        raise Refused(
            "FILING_EVIDENCE_MISSING",
            f"变更后的人员类别或就医地需要证明材料，缺少：{names}",
            "Missing evidence for the changed filing: "
            + "; ".join("/".join(k.value for k in r.kinds) for r in missing),
            field="evidence",
            details={"missing": [[k.value for k in r.kinds] for r in missing]},
        )
    if not any(change.changed for change in compare_records(old, proposed)) and not documents:
        raise InvalidInput(
            "CHANGE_REQUEST_NOTHING_CHANGED",
            "变更申请没有修改任何内容",
            "The change request changes nothing",
            field="form",
        )
    return ChangeRequest(
        request_id=request_id,
        filing_id=filing.lineage_id,
        base_version_id=filing.filing_id,
        record=proposed,
        reason=text,
        requested_by=actor.id,
        requested_at=at,
        evidence=documents,
    )


def _require_pending(request: ChangeRequest, verb_zh: str, verb_en: str) -> None:
    if request.state is not ChangeRequestState.PENDING:
        raise Conflict(
            "CHANGE_REQUEST_STATE",
            f"变更申请当前状态为“{request.state.label_zh}”，不能{verb_zh}",
            f"The change request is {request.state.value}; it cannot be {verb_en}",
            details={"state": request.state.value},
        )


def require_current_base(request: ChangeRequest, filing: Filing) -> None:
    """Refuse to apply a request to a filing that was changed since the person asked."""
    if filing.filing_id != request.base_version_id and filing.state is FilingState.APPROVED:
        raise Conflict(
            "CHANGE_REQUEST_OUTDATED",
            "申请提交后备案已在经办机构变更，请退回本申请，由参保人员按新版本重新申请",
            "The filing was changed after this request was made; reject it and ask again",
        )


def add_evidence(request: ChangeRequest, evidence: Evidence) -> ChangeRequest:
    """Another document for a pending request (a scan handed in after the request)."""
    _require_pending(request, "补充材料", "given more evidence")
    return dataclasses.replace(request, evidence=(*request.evidence, evidence))


def withdraw(request: ChangeRequest, actor: Actor, at: datetime) -> ChangeRequest:
    """撤回 by the person who asked, while it is pending."""
    _require_pending(request, "撤回", "withdrawn")
    return dataclasses.replace(
        request, state=ChangeRequestState.WITHDRAWN, decided_by=actor.id, decided_at=at
    )


def reject(request: ChangeRequest, actor: Actor, at: datetime, reason: str | None) -> ChangeRequest:
    """退回 by the agency, with the reason the person will read."""
    _require_pending(request, "退回", "rejected")
    text = _require_reason(reason)
    return dataclasses.replace(
        request,
        state=ChangeRequestState.REJECTED,
        decided_by=actor.id,
        decided_at=at,
        decision_reason=text,
    )


def approve(
    request: ChangeRequest,
    filing: Filing,
    actor: Actor,
    at: datetime,
    regions: RegionLookup,
    *,
    new_filing_id: str,
    handling_agency: str,
    rules: Mapping[FilingCategory, FilingRule] | None = None,
) -> tuple[ChangeRequest, Filing, Filing]:
    """同意: make the filing's 变更 and mark the request approved, or raise and change nothing.

    Returns (the approved request, the old version now SUPERSEDED, the new
    APPROVED version). The new version keeps the filing's evidence and adds
    the documents handed in with the request.
    """
    _require_pending(request, "同意", "approved")
    if filing.lineage_id != request.filing_id:
        raise ValueError("the request belongs to another filing")
    require_current_base(request, filing)
    superseded, new_version = lifecycle.change(
        filing,
        actor,
        at,
        regions,
        new_filing_id=new_filing_id,
        record=request.record,
        evidence=(*filing.evidence, *request.evidence),
        handling_agency=handling_agency,
        reason=f"变更申请：{request.reason}",
        rules=rules,
    )
    decided = dataclasses.replace(
        request,
        state=ChangeRequestState.APPROVED,
        decided_by=actor.id,
        decided_at=at,
        result_version_id=new_version.filing_id,
    )
    return decided, superseded, new_version
