"""门诊慢特病 认定 over HTTP: the dated disease lists, recording and ending a recognition,
the masked list and the audited detail.

Scope as everywhere: a recognition outside the caller's region (or, for an insured person,
not their own) answers 404 like a missing one. ``Idempotency-Key`` makes a retried creation
return the first answer; without it, recording exactly the same recognition again returns the
existing one (``created: false``). Ending with the same date again is a no-op.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from yidi.entrypoints.api.deps import ContainerDep, IdempotencyKey, PrincipalDep
from yidi.entrypoints.api.schemas.chronic import (
    CreateRecognition,
    DiseaseListOut,
    EndRecognition,
    RecognitionOut,
    RecognitionPageOut,
    disease_list_out,
    recognition_out,
    summary_out,
)
from yidi.kernel.access import Action
from yidi.kernel.idempotency import request_fingerprint

router = APIRouter(prefix="/api/chronic", tags=["门诊慢特病 chronic-disease recognition"])

Region = Annotated[str | None, Query(pattern=r"^\d{6}$", description="参保地区划 insured region")]


@router.get(
    "/diseases",
    response_model=DiseaseListOut,
    summary="门诊慢特病病种目录（按日期；参保地的限额与比例） the dated disease list",
)
def diseases(
    principal: PrincipalDep,
    container: ContainerDep,
    region: Region = None,
    on: Annotated[dt.date | None, Query(description="目录日期，默认今天 date")] = None,
) -> DiseaseListOut:
    principal.require(Action.PUBLIC_DIRECTORY)
    day = on or container.clock.today()
    return disease_list_out(container.chronic.diseases(region), day)


@router.post(
    "/recognitions",
    status_code=status.HTTP_201_CREATED,
    response_model=RecognitionOut,
    summary="参保地经办机构认定门诊慢特病 record a recognition",
)
def create_recognition(
    body: CreateRecognition,
    response: Response,
    principal: PrincipalDep,
    container: ContainerDep,
    idempotency_key: IdempotencyKey = None,
) -> RecognitionOut:
    idempotency = (
        (idempotency_key, request_fingerprint(body.model_dump(mode="json")))
        if idempotency_key
        else None
    )
    detail = container.chronic.recognise(
        principal, body.id_number, body.to_request(), idempotency=idempotency
    )
    if not detail.created:
        response.status_code = status.HTTP_200_OK
    return recognition_out(detail)


@router.get(
    "/recognitions",
    response_model=RecognitionPageOut,
    summary="门诊慢特病认定列表（脱敏）：本统筹区的，或本人的 list (masked)",
)
def list_recognitions(
    principal: PrincipalDep,
    container: ContainerDep,
    region: Region = None,
    disease_code: Annotated[
        str | None, Query(max_length=30, description="病种代码 disease code")
    ] = None,
    active_on: Annotated[
        dt.date | None, Query(description="只列出该日有效的认定 valid on this day")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200, description="每页条数 page size")] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="偏移 offset")] = 0,
) -> RecognitionPageOut:
    total, items = container.chronic.list_recognitions(
        principal,
        region=region,
        disease_code=disease_code,
        active_on=active_on,
        limit=limit,
        offset=offset,
    )
    return RecognitionPageOut(total=total, items=[summary_out(r, p) for r, p in items])


@router.get(
    "/recognitions/{recognition_id}",
    response_model=RecognitionOut,
    summary="门诊慢特病认定详情（记入审计） detail (audited)",
)
def get_recognition(
    recognition_id: str, principal: PrincipalDep, container: ContainerDep
) -> RecognitionOut:
    return recognition_out(container.chronic.get(principal, recognition_id))


@router.post(
    "/recognitions/{recognition_id}/end",
    response_model=RecognitionOut,
    summary="终止门诊慢特病认定 end a recognition",
)
def end_recognition(
    recognition_id: str, body: EndRecognition, principal: PrincipalDep, container: ContainerDep
) -> RecognitionOut:
    return recognition_out(
        container.chronic.end(principal, recognition_id, body.end_on, body.reason)
    )
