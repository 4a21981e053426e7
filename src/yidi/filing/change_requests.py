"""Change requests (变更申请): the insured person asks online, the insured-place agency decides.

Same access rules as every filing use case (:mod:`yidi.filing.commands`):

* only the insured person asks for (and may withdraw) a change of their own
  approved filing; an agency handler changes a filing at the counter instead;
* the agency handler of the filing's insured region approves or rejects; a
  request outside the caller's scope answers exactly like a missing one
  (``CHANGE_REQUEST_NOT_FOUND``);
* lists are masked; the comparison page is a full read and is audited;
* every step appends an audit entry. Approval performs the filing's 变更 and
  marks the request approved in one transaction: when the change is refused
  (validation, evidence, the filing's state) nothing is written and the
  request stays pending.

Retries are safe: creating with the same ``Idempotency-Key`` returns the first
request; approving an approved request (or rejecting a rejected, withdrawing a
withdrawn one) returns it unchanged and never makes a second version.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from yidi.filing.commands import FilingService
from yidi.filing.model import change_requests as requests
from yidi.filing.model.change_requests import ChangeRequest, ChangeRequestState, FieldChange
from yidi.filing.model.evidence import Evidence
from yidi.filing.model.lifecycle import FilingState
from yidi.filing.model.record import FilingRecord
from yidi.filing.ports import ChangeRequestQuery, FilingUnitOfWork, pending_conflict
from yidi.filing.scope import actor_of
from yidi.kernel.access import Action, Principal, Role, hidden
from yidi.kernel.errors import Forbidden, YidiError
from yidi.kernel.privacy import mask_id_number
from yidi.kernel.regions import region_prefix

MAX_PAGE_SIZE = 200


@dataclass(frozen=True, slots=True)
class EvidenceUpload:
    """A document handed in with a request, with its scan when there is one."""

    evidence: Evidence
    content: bytes | None = None
    filename: str = ""


@dataclass(frozen=True, slots=True)
class ChangeRequestSummary:
    """One line of a list: masked ID number, the labels of the changed fields."""

    request_id: str
    filing_id: str
    filing_number: str | None
    state: ChangeRequestState
    name: str
    id_number_masked: str
    insured_region_code: str
    changed: tuple[FieldChange, ...]  # only the fields the request changes
    reason: str
    requested_at: dt.datetime
    decided_at: dt.datetime | None
    decision_reason: str | None

    @property
    def changed_fields(self) -> tuple[str, ...]:
        """The Chinese labels of the changed fields."""
        return tuple(change.label_zh for change in self.changed)


@dataclass(frozen=True, slots=True)
class ChangeRequestDetail:
    """A request with the record it would change, field by field (audited full read)."""

    request: ChangeRequest
    filing_number: str | None
    filing_state: FilingState
    base_version: int
    base_record: FilingRecord
    base_evidence: tuple[Evidence, ...]
    changes: tuple[FieldChange, ...]
    outdated: bool  # the filing was changed (at the counter) after the request was made

    @property
    def changed(self) -> tuple[FieldChange, ...]:
        return tuple(change for change in self.changes if change.changed)


def _not_found() -> YidiError:
    return hidden("变更申请", "change_request")


class ChangeRequestService(FilingService):
    """变更申请 use cases; each call is one transaction."""

    # --- scope ---------------------------------------------------------------------------

    def _request_in_scope(
        self, uow: FilingUnitOfWork, principal: Principal, request_id: str, *, for_update: bool
    ) -> ChangeRequest:
        reference = request_id.strip()
        found = (
            uow.change_requests.get(reference, for_update=for_update)
            if 0 < len(reference) <= 64
            else None
        )
        if found is None:
            raise _not_found()
        record = found.record
        if not self.in_scope(
            principal, record.insured_region_code or "", record.social_security_number or ""
        ):
            raise _not_found()
        return found

    def _base(self, uow: FilingUnitOfWork, request: ChangeRequest) -> tuple[FilingRecord, int]:
        base = uow.filings.version(request.base_version_id, request.filing_id)
        return base.record, base.record.version

    def _summary(self, uow: FilingUnitOfWork, request: ChangeRequest) -> ChangeRequestSummary:
        base_record, _ = self._base(uow, request)
        record = request.record
        return ChangeRequestSummary(
            request_id=request.request_id,
            filing_id=request.filing_id,
            filing_number=record.filing_number,
            state=request.state,
            name=record.name or "",
            id_number_masked=mask_id_number(record.social_security_number or ""),
            insured_region_code=record.insured_region_code or "",
            changed=tuple(
                change for change in requests.compare_records(base_record, record) if change.changed
            ),
            reason=request.reason,
            requested_at=request.requested_at,
            decided_at=request.decided_at,
            decision_reason=request.decision_reason,
        )

    def _request_detail(self, uow: FilingUnitOfWork, request: ChangeRequest) -> ChangeRequestDetail:
        base = uow.filings.version(request.base_version_id, request.filing_id)
        stored = uow.filings.get(request.filing_id)
        assert stored is not None  # a request always belongs to a stored filing
        current = stored.filing
        return ChangeRequestDetail(
            request=request,
            filing_number=current.record.filing_number,
            filing_state=current.state,
            base_version=base.record.version,
            base_record=base.record,
            base_evidence=base.evidence,
            changes=tuple(requests.compare_records(base.record, request.record)),
            outdated=request.state is ChangeRequestState.PENDING
            and current.filing_id != request.base_version_id,
        )

    # --- the insured person ----------------------------------------------------------------

    def request_change(
        self,
        principal: Principal,
        filing_ref: str,
        record: FilingRecord,
        reason: str | None,
        *,
        uploads: Sequence[EvidenceUpload] = (),
        idempotency: tuple[str, str] | None = None,
    ) -> ChangeRequestDetail:
        """变更申请 on one's own approved filing; one pending request per filing."""
        principal.require(Action.FILING_CHANGE)
        if principal.role is not Role.INSURED_PERSON:
            raise Forbidden(
                "CHANGE_REQUEST_INSURED_ONLY",
                "变更申请由参保人员本人在线提交；经办机构请直接办理变更",
                "change requests are made by the insured person; agencies change at the counter",
            )
        now = self._clock.now()
        scope = f"change_request.create:{principal.user_id}"
        with self._uow() as uow:
            if idempotency is not None:
                earlier = uow.idempotency.recall(scope, *idempotency)
                if earlier is not None:
                    return self._stored_detail(uow, str(earlier["request_id"]))
            stored = self._load(uow, principal, filing_ref, for_update=True)
            if uow.change_requests.pending_for(stored.filing.lineage_id) is not None:
                raise pending_conflict()
            # Validate with the documents' descriptions first, so a refused request stores no scan.
            request = requests.request_change(
                uuid.uuid4().hex,
                stored.filing,
                record,
                reason,
                actor_of(principal),
                now,
                self._regions,
                evidence=[upload.evidence for upload in uploads],
                rules=self._rules,
            )
            evidence = tuple(
                self._stored_scan(uow, upload.evidence, upload.content, upload.filename)
                if upload.content is not None
                else upload.evidence
                for upload in uploads
            )
            request = dataclasses.replace(request, evidence=evidence)
            uow.change_requests.add(request)
            if idempotency is not None:
                uow.idempotency.remember(
                    scope, *idempotency, {"request_id": request.request_id}, now
                )
            self._audit(
                uow,
                principal,
                "filing.change_request",
                f"filing:{request.filing_id}",
                f"change_request:{request.request_id} {request.reason}",
            )
            detail = self._stored_detail(uow, request.request_id)
            uow.commit()
        return detail

    def add_evidence_to_request(
        self,
        principal: Principal,
        request_id: str,
        evidence: Evidence,
        *,
        content: bytes | None = None,
        filename: str = "",
    ) -> ChangeRequestDetail:
        """Another document (with its scan) on one's own pending request."""
        principal.require(Action.FILING_CHANGE)
        with self._uow() as uow:
            request = self._request_in_scope(uow, principal, request_id, for_update=True)
            self._require_asker(principal)
            if content is not None:
                evidence = self._stored_scan(uow, evidence, content, filename)
            request = requests.add_evidence(request, evidence)
            uow.change_requests.save_evidence(request)
            self._audit(
                uow,
                principal,
                "filing.change_request.evidence",
                f"change_request:{request.request_id}",
                evidence.kind.value,
            )
            detail = self._stored_detail(uow, request.request_id)
            uow.commit()
        return detail

    @staticmethod
    def _require_asker(principal: Principal) -> None:
        if principal.role is not Role.INSURED_PERSON:
            raise Forbidden(
                "CHANGE_REQUEST_ASKER_ONLY",
                "只有申请人本人可以撤回或补充变更申请",
                "only the person who asked may withdraw or add to a change request",
            )

    def withdraw(self, principal: Principal, request_id: str) -> ChangeRequestDetail:
        """撤回 one's own pending request; withdrawing again returns it unchanged."""
        principal.require(Action.FILING_CHANGE)
        with self._uow() as uow:
            request = self._request_in_scope(uow, principal, request_id, for_update=True)
            self._require_asker(principal)
            if request.state is ChangeRequestState.WITHDRAWN:
                return self._request_detail(uow, request)
            withdrawn = requests.withdraw(request, actor_of(principal), self._clock.now())
            return self._decided(uow, principal, withdrawn, "withdraw", "")

    # --- the agency ------------------------------------------------------------------------

    def approve_request(self, principal: Principal, request_id: str) -> ChangeRequestDetail:
        """同意: the filing's 变更 (new version, same number) and the request, in one transaction."""
        principal.require(Action.FILING_REVIEW)
        now = self._clock.now()
        with self._uow() as uow:
            # Lock the filing before the request, in the order a new request takes them.
            seen = self._request_in_scope(uow, principal, request_id, for_update=False)
            stored = uow.filings.get(seen.filing_id, for_update=True)
            request = self._request_in_scope(uow, principal, request_id, for_update=True)
            if request.state is ChangeRequestState.APPROVED:
                return self._request_detail(uow, request)  # a retry: the change was made once
            assert stored is not None
            region = stored.filing.record.insured_region_code or ""
            decided, superseded, new_version = requests.approve(
                request,
                stored.filing,
                actor_of(principal),
                now,
                self._regions,
                new_filing_id=uuid.uuid4().hex,
                handling_agency=self._agency_name(uow, region, principal),
                rules=self._rules,
            )
            uow.filings.save(superseded, now)
            uow.filings.save(new_version, now)
            self._audit(
                uow,
                principal,
                "filing.change",
                f"filing:{new_version.lineage_id}",
                f"change_request:{request.request_id} {request.reason}",
            )
            return self._decided(uow, principal, decided, "approve", "")

    def reject_request(
        self, principal: Principal, request_id: str, reason: str | None
    ) -> ChangeRequestDetail:
        """退回 with a reason; rejecting a rejected request again returns it unchanged."""
        principal.require(Action.FILING_REVIEW)
        with self._uow() as uow:
            request = self._request_in_scope(uow, principal, request_id, for_update=True)
            if request.state is ChangeRequestState.REJECTED:
                return self._request_detail(uow, request)
            rejected = requests.reject(request, actor_of(principal), self._clock.now(), reason)
            return self._decided(uow, principal, rejected, "reject", rejected.decision_reason or "")

    def _decided(
        self,
        uow: FilingUnitOfWork,
        principal: Principal,
        request: ChangeRequest,
        verb: str,
        reason: str,
    ) -> ChangeRequestDetail:
        uow.change_requests.save_decision(request)
        self._audit(
            uow,
            principal,
            f"filing.change_request.{verb}",
            f"change_request:{request.request_id}",
            reason,
        )
        detail = self._stored_detail(uow, request.request_id)
        uow.commit()
        return detail

    def _stored_detail(self, uow: FilingUnitOfWork, request_id: str) -> ChangeRequestDetail:
        """The detail as stored (timestamps as the database gives them back, like any retry)."""
        stored = uow.change_requests.get(request_id)
        assert stored is not None
        return self._request_detail(uow, stored)

    # --- reading ---------------------------------------------------------------------------

    def get_request(self, principal: Principal, request_id: str) -> ChangeRequestDetail:
        """The request with its field-by-field comparison (audited as a full read)."""
        principal.require(Action.FILING_READ)
        with self._uow() as uow:
            request = self._request_in_scope(uow, principal, request_id, for_update=False)
            self._audit(
                uow,
                principal,
                "filing.change_request.read",
                f"change_request:{request.request_id}",
                "",
            )
            detail = self._request_detail(uow, request)
            uow.commit()
        return detail

    def list_requests(
        self,
        principal: Principal,
        *,
        state: ChangeRequestState | None = ChangeRequestState.PENDING,
        region: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[int, list[ChangeRequestSummary]]:
        """Masked lines: an insured person's own requests, an office's region (pending first)."""
        principal.require(Action.FILING_LIST)
        query = ChangeRequestQuery(
            states=(state,) if state else (),
            limit=max(1, min(limit, MAX_PAGE_SIZE)),
            offset=max(0, offset),
        )
        if principal.role is Role.INSURED_PERSON:
            query = dataclasses.replace(query, id_number=principal.id_number or "-")
        else:
            own = region_prefix(principal.region_code or "999999")
            if region and not principal.covers_region(region):
                return 0, []
            asked = region_prefix(region) if region else own
            prefix = asked if len(asked) > len(own) else own
            query = dataclasses.replace(query, region_prefix=prefix)
        with self._uow() as uow:
            total, found = uow.change_requests.search(query)
            return total, [self._summary(uow, request) for request in found]

    def pending_count(self, principal: Principal) -> int:
        """How many requests wait for this office (the desk's card)."""
        principal.require(Action.FILING_LIST)
        if principal.role is Role.INSURED_PERSON:
            return 0
        query = ChangeRequestQuery(
            states=(ChangeRequestState.PENDING,),
            region_prefix=region_prefix(principal.region_code or "999999"),
        )
        with self._uow() as uow:
            return uow.change_requests.count(query)

    def for_filing(self, principal: Principal, filing_ref: str) -> list[ChangeRequestSummary]:
        """Every request made on one filing, newest first (the filing page's list)."""
        principal.require(Action.FILING_READ)
        with self._uow() as uow:
            stored = self._load(uow, principal, filing_ref, for_update=False)
            return [
                self._summary(uow, request)
                for request in uow.change_requests.for_filing(stored.filing.lineage_id)
            ]
