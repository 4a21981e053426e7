"""Change requests (变更申请) in storage: one row a request, the proposed record as JSON."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from yidi.filing.model.change_requests import ChangeRequest, ChangeRequestState
from yidi.filing.model.evidence import Evidence, EvidenceFile, EvidenceKind
from yidi.filing.ports import ChangeRequestQuery, pending_conflict
from yidi.filing.record_json import record_from_dict, record_json
from yidi.kernel.audit import as_utc
from yidi.kernel.insurance import HospitalLevel
from yidi.platform.tables import filing_change_requests as requests


def _evidence_to_dict(evidence: Evidence) -> dict[str, Any]:
    file = evidence.file
    return {
        "kind": evidence.kind.value,
        "document_number": evidence.document_number,
        "issuer": evidence.issuer,
        "issued_on": evidence.issued_on.isoformat() if evidence.issued_on else None,
        "issuer_region_code": evidence.issuer_region_code,
        "issuer_hospital_level": (
            int(evidence.issuer_hospital_level) if evidence.issuer_hospital_level else None
        ),
        "issuer_is_top_specialist": evidence.issuer_is_top_specialist,
        "file": (
            {"sha256": file.sha256, "filename": file.filename, "media_type": file.media_type}
            if file
            else None
        ),
    }


def _evidence_json(evidence: Sequence[Evidence]) -> str:
    return json.dumps([_evidence_to_dict(e) for e in evidence], ensure_ascii=False)


def _evidence_from_dict(data: dict[str, Any]) -> Evidence:
    file = data.get("file")
    level = data.get("issuer_hospital_level")
    issued_on = data.get("issued_on")
    return Evidence(
        kind=EvidenceKind(data["kind"]),
        document_number=data.get("document_number"),
        issuer=data.get("issuer"),
        issued_on=dt.date.fromisoformat(issued_on) if issued_on else None,
        issuer_region_code=data.get("issuer_region_code"),
        issuer_hospital_level=HospitalLevel(level) if level else None,
        issuer_is_top_specialist=bool(data.get("issuer_is_top_specialist")),
        file=EvidenceFile(file["sha256"], file["filename"], file["media_type"]) if file else None,
    )


def _request(row: Any) -> ChangeRequest:
    return ChangeRequest(
        request_id=row.id,
        filing_id=row.filing_id,
        base_version_id=row.base_version_id,
        record=record_from_dict(json.loads(row.record_json)),
        reason=row.reason,
        requested_by=row.requested_by,
        requested_at=as_utc(row.requested_at),
        evidence=tuple(_evidence_from_dict(e) for e in json.loads(row.evidence_json)),
        state=ChangeRequestState(row.state),
        decided_by=row.decided_by,
        decided_at=as_utc(row.decided_at) if row.decided_at else None,
        decision_reason=row.decision_reason,
        result_version_id=row.result_version_id,
    )


class ChangeRequestRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, request: ChangeRequest) -> None:
        """Store a new pending request; a second pending one for the filing is a Conflict."""
        record = request.record
        try:
            with self._session.begin_nested():
                self._session.execute(
                    insert(requests).values(
                        id=request.request_id,
                        filing_id=request.filing_id,
                        pending_filing_id=request.filing_id,
                        base_version_id=request.base_version_id,
                        state=request.state.value,
                        insured_region_code=record.insured_region_code or "",
                        id_number=(record.social_security_number or "").upper(),
                        name=(record.name or "")[:50],
                        record_json=record_json(record),
                        evidence_json=_evidence_json(request.evidence),
                        reason=request.reason[:500],
                        requested_by=request.requested_by[:64],
                        requested_at=as_utc(request.requested_at),
                    )
                )
        except IntegrityError:
            raise pending_conflict() from None

    def save_decision(self, request: ChangeRequest) -> None:
        """Write a decided request (approved, rejected, withdrawn); it stops being pending."""
        self._session.execute(
            update(requests)
            .where(requests.c.id == request.request_id)
            .values(
                state=request.state.value,
                pending_filing_id=(
                    request.filing_id if request.state is ChangeRequestState.PENDING else None
                ),
                decided_by=request.decided_by[:64] if request.decided_by else None,
                decided_at=as_utc(request.decided_at) if request.decided_at else None,
                decision_reason=request.decision_reason[:500] if request.decision_reason else None,
                result_version_id=request.result_version_id,
            )
        )

    def save_evidence(self, request: ChangeRequest) -> None:
        """Write the documents of a pending request (one was added)."""
        self._session.execute(
            update(requests)
            .where(requests.c.id == request.request_id)
            .values(evidence_json=_evidence_json(request.evidence))
        )

    def get(self, request_id: str, *, for_update: bool = False) -> ChangeRequest | None:
        query = select(requests).where(requests.c.id == request_id)
        if for_update:
            query = query.with_for_update()
        row = self._session.execute(query).first()
        return _request(row) if row else None

    def pending_for(self, filing_id: str) -> ChangeRequest | None:
        row = self._session.execute(
            select(requests).where(requests.c.pending_filing_id == filing_id)
        ).first()
        return _request(row) if row else None

    def _conditions(self, query: ChangeRequestQuery) -> list[Any]:
        conditions: list[Any] = []
        if query.states:
            conditions.append(requests.c.state.in_([s.value for s in query.states]))
        if query.region_prefix is not None:
            conditions.append(requests.c.insured_region_code.startswith(query.region_prefix))
        if query.id_number is not None:
            conditions.append(requests.c.id_number == query.id_number.upper())
        if query.filing_id is not None:
            conditions.append(requests.c.filing_id == query.filing_id)
        return conditions

    def search(self, query: ChangeRequestQuery) -> tuple[int, list[ChangeRequest]]:
        """(total matches, one page), oldest pending first: the queue is worked in order."""
        conditions = self._conditions(query)
        total = int(
            self._session.execute(
                select(func.count()).select_from(requests).where(*conditions)
            ).scalar_one()
        )
        rows = self._session.execute(
            select(requests)
            .where(*conditions)
            .order_by(requests.c.requested_at, requests.c.id)
            .limit(query.limit)
            .offset(query.offset)
        )
        return total, [_request(row) for row in rows]

    def count(self, query: ChangeRequestQuery) -> int:
        return int(
            self._session.execute(
                select(func.count()).select_from(requests).where(*self._conditions(query))
            ).scalar_one()
        )

    def for_filing(self, filing_id: str) -> Sequence[ChangeRequest]:
        rows = self._session.execute(
            select(requests)
            .where(requests.c.filing_id == filing_id)
            .order_by(requests.c.requested_at.desc(), requests.c.id)
        )
        return [_request(row) for row in rows]


__all__ = ["ChangeRequestRepository"]
