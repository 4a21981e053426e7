"""Change-request API (变更申请): the insured person asks, the insured-place agency decides.

A request outside the caller's scope answers 404 exactly like a missing one. Retries are
safe: ``Idempotency-Key`` on creation; approving, rejecting or withdrawing a request
already in that state returns it unchanged (never a second filing version).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from yidi.bootstrap import Container
from yidi.entrypoints.api.deps import ContainerDep, IdempotencyKey, PrincipalDep, idempotency_of
from yidi.entrypoints.api.routes.filings import ScannedEvidenceDep
from yidi.entrypoints.api.schemas.change_requests import (
    ChangeRequestOut,
    ChangeRequestPageOut,
    CreateChangeRequest,
    change_request_out,
    change_request_summary_out,
)
from yidi.entrypoints.api.schemas.filings import ReasonRequest
from yidi.filing.change_requests import ChangeRequestService, EvidenceUpload
from yidi.filing.model.change_requests import ChangeRequestState
from yidi.kernel.access import Role

router = APIRouter(tags=["变更申请 change requests"])


def _service(container: Container) -> ChangeRequestService:
    return container.change_requests


@router.post(
    "/api/filings/{filing_id}/change-requests",
    status_code=status.HTTP_201_CREATED,
    response_model=ChangeRequestOut,
    summary="参保人员提交变更申请 ask for a change of one's approved filing",
)
def create_change_request(
    filing_id: str,
    body: CreateChangeRequest,
    request: Request,
    principal: PrincipalDep,
    container: ContainerDep,
    idempotency_key: IdempotencyKey = None,
) -> ChangeRequestOut:
    payload = {"filing_id": filing_id, **body.model_dump(mode="json")}
    detail = _service(container).request_change(
        principal,
        filing_id,
        body.record.to_record(),
        body.reason,
        uploads=[EvidenceUpload(e.to_evidence()) for e in body.evidence],
        idempotency=idempotency_of(idempotency_key, payload),
    )
    return change_request_out(detail)


@router.get(
    "/api/change-requests",
    response_model=ChangeRequestPageOut,
    summary="变更申请列表（脱敏）：本人的申请，或本统筹区待审核的申请 list (masked)",
)
def list_change_requests(
    principal: PrincipalDep,
    container: ContainerDep,
    state: Annotated[
        ChangeRequestState | None,
        Query(description="状态，默认待审核；参保人员默认全部 state (default pending)"),
    ] = None,
    region: Annotated[
        str | None, Query(pattern=r"^\d{6}$", description="参保地区划 insured region")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200, description="每页条数 page size")] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="偏移 offset")] = 0,
) -> ChangeRequestPageOut:
    # A person sees all of their own requests; an office's list is its pending queue.
    default = None if principal.role is Role.INSURED_PERSON else ChangeRequestState.PENDING
    total, items = _service(container).list_requests(
        principal,
        state=state or default,
        region=region,
        limit=limit,
        offset=offset,
    )
    return ChangeRequestPageOut(total=total, items=[change_request_summary_out(s) for s in items])


@router.get(
    "/api/change-requests/{request_id}",
    response_model=ChangeRequestOut,
    summary="变更申请详情与逐项对照（记入审计） detail with the field comparison",
)
def get_change_request(
    request_id: str, request: Request, principal: PrincipalDep, container: ContainerDep
) -> ChangeRequestOut:
    return change_request_out(_service(container).get_request(principal, request_id))


@router.post(
    "/api/change-requests/{request_id}/withdraw",
    response_model=ChangeRequestOut,
    summary="申请人撤回 withdraw one's pending request",
)
def withdraw_change_request(
    request_id: str, request: Request, principal: PrincipalDep, container: ContainerDep
) -> ChangeRequestOut:
    return change_request_out(_service(container).withdraw(principal, request_id))


@router.post(
    "/api/change-requests/{request_id}/approve",
    response_model=ChangeRequestOut,
    summary="经办机构同意（办理变更） approve: the filing is changed",
)
def approve_change_request(
    request_id: str, request: Request, principal: PrincipalDep, container: ContainerDep
) -> ChangeRequestOut:
    return change_request_out(_service(container).approve_request(principal, request_id))


@router.post(
    "/api/change-requests/{request_id}/reject",
    response_model=ChangeRequestOut,
    summary="经办机构退回 reject with a reason",
)
def reject_change_request(
    request_id: str,
    body: ReasonRequest,
    request: Request,
    principal: PrincipalDep,
    container: ContainerDep,
) -> ChangeRequestOut:
    return change_request_out(
        _service(container).reject_request(principal, request_id, body.reason)
    )


@router.post(
    "/api/change-requests/{request_id}/evidence",
    response_model=ChangeRequestOut,
    summary="申请人补充证明材料（PDF/JPEG/PNG） add a document with its scan",
)
def upload_change_request_evidence(
    request_id: str,
    request: Request,
    principal: PrincipalDep,
    container: ContainerDep,
    upload: ScannedEvidenceDep,
) -> ChangeRequestOut:
    return change_request_out(
        _service(container).add_evidence_to_request(
            principal,
            request_id,
            upload.evidence,
            content=upload.content,
            filename=upload.filename,
        )
    )
