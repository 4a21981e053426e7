"""对账差异 over HTTP: raise a dispute from a 3202 difference or by hand, answer, resolve and
re-open it, the list (filters, paging) and the detail with its history.

Who: a hospital cashier (its own hospital's disputes), an agency handler (its region's) and the
clearing centre (all); every other role is refused with ``ACCESS_DENIED``; a dispute outside the
caller's scope answers 404 like a missing one. Raising the same line again returns the first
dispute (``created: false``, 200); ``Idempotency-Key`` makes any raise safe to retry. Each
list, detail and step is audited.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from yidi.bootstrap import Container
from yidi.entrypoints.api.deps import ContainerDep, IdempotencyKey, PrincipalDep, idempotency_of
from yidi.entrypoints.api.schemas.disputes import (
    AnswerBody,
    DisputeOut,
    DisputePageOut,
    RaiseByHand,
    RaiseFromStatement,
    ReopenBody,
    ResolveBody,
    dispute_out,
    summary_out,
)
from yidi.kernel.access import Principal
from yidi.reconciliation.commands import RaiseRequest, Step, side_of
from yidi.reconciliation.model import DisputeState

router = APIRouter(prefix="/api/reconciliation", tags=["对账差异 reconciliation disputes"])


def _raised(
    container: Container,
    principal: Principal,
    asked: RaiseRequest,
    payload: dict[str, object],
    key: str | None,
    response: Response,
) -> DisputeOut:
    dispute, created = container.disputes.raise_dispute(
        principal, asked, idempotency=idempotency_of(key, payload)
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return dispute_out(dispute, side_of(principal), created=created)


@router.post(
    "/disputes/from-statement",
    status_code=status.HTTP_201_CREATED,
    response_model=DisputeOut,
    summary="从 3202 明细对账的一处差异提出 raise a 3202 difference",
)
def raise_from_statement(
    body: RaiseFromStatement,
    response: Response,
    principal: PrincipalDep,
    container: ContainerDep,
    idempotency_key: IdempotencyKey = None,
) -> DisputeOut:
    payload = body.model_dump(mode="json")
    return _raised(container, principal, body.to_request(), payload, idempotency_key, response)


@router.post(
    "/disputes",
    status_code=status.HTTP_201_CREATED,
    response_model=DisputeOut,
    summary="手工提出差异 raise a dispute by hand",
)
def raise_by_hand(
    body: RaiseByHand,
    response: Response,
    principal: PrincipalDep,
    container: ContainerDep,
    idempotency_key: IdempotencyKey = None,
) -> DisputeOut:
    payload = body.model_dump(mode="json")
    return _raised(container, principal, body.to_request(), payload, idempotency_key, response)


@router.get(
    "/disputes",
    response_model=DisputePageOut,
    summary="对账差异列表（本院或本统筹区；记入审计）list (audited)",
)
def list_disputes(
    principal: PrincipalDep,
    container: ContainerDep,
    state: Annotated[
        str | None,
        Query(
            pattern=r"^(raised|answered|resolved|open)$",
            description="状态：raised / answered / resolved，open 为未解决 state",
        ),
    ] = None,
    hospital_code: Annotated[
        str | None, Query(max_length=30, description="定点医疗机构编号 hospital")
    ] = None,
    month: Annotated[
        str | None, Query(pattern=r"^\d{4}-\d{2}$", description="清算月份 yyyy-MM month")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200, description="每页条数 page size")] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="偏移 offset")] = 0,
) -> DisputePageOut:
    total, items = container.disputes.list_disputes(
        principal,
        state=DisputeState(state) if state and state != "open" else None,
        open_only=state == "open",
        hospital_code=hospital_code,
        month=month,
        limit=limit,
        offset=offset,
    )
    return DisputePageOut(total=total, items=[summary_out(d) for d in items])


@router.get(
    "/disputes/{dispute_id}",
    response_model=DisputeOut,
    summary="对账差异详情与全部步骤（记入审计）detail and history (audited)",
)
def get_dispute(dispute_id: str, principal: PrincipalDep, container: ContainerDep) -> DisputeOut:
    return dispute_out(container.disputes.get(principal, dispute_id), side_of(principal))


def _step(container: Container, principal: Principal, dispute_id: str, step: Step) -> DisputeOut:
    return dispute_out(container.disputes.act(principal, dispute_id, step), side_of(principal))


@router.post(
    "/disputes/{dispute_id}/answer",
    response_model=DisputeOut,
    summary="答复差异（未提出的一方）answer",
)
def answer(
    dispute_id: str, body: AnswerBody, principal: PrincipalDep, container: ContainerDep
) -> DisputeOut:
    return _step(container, principal, dispute_id, body.to_step())


@router.post(
    "/disputes/{dispute_id}/resolve",
    response_model=DisputeOut,
    summary="解决差异（经办机构或清算中心）resolve",
)
def resolve(
    dispute_id: str, body: ResolveBody, principal: PrincipalDep, container: ContainerDep
) -> DisputeOut:
    return _step(container, principal, dispute_id, body.to_step())


@router.post(
    "/disputes/{dispute_id}/reopen",
    response_model=DisputeOut,
    summary="重新提出差异（任一方）re-open",
)
def reopen(
    dispute_id: str, body: ReopenBody, principal: PrincipalDep, container: ContainerDep
) -> DisputeOut:
    return _step(container, principal, dispute_id, body.to_step())
