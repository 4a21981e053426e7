"""Clearing (清算), prepayment estimation (预付金测算) and statistics (统计) over HTTP."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from yidi.entrypoints.api.deps import ContainerDep, PrincipalDep
from yidi.entrypoints.api.schemas.money import ClearingRunOut
from yidi.entrypoints.http.downloads import attachment
from yidi.funds import commands as service
from yidi.funds.commands import ClearingRunResult
from yidi.funds.model import ClearingLevel
from yidi.funds.prepayment import DEFAULT_PREPAYMENT_MONTHS, Annex, EstimateMethod
from yidi.funds.statistics import Dimension, Direction, StatisticsQuery
from yidi.kernel.access import Action, Principal
from yidi.kernel.errors import NotFound
from yidi.reports.funds_xlsx import annex_workbook, statement_workbook, workbook_bytes
from yidi.reports.statistics import MEDIA_TYPES, render

router = APIRouter(prefix="/api", tags=["清算与统计 clearing and statistics"])
XLSX = MEDIA_TYPES["xlsx"]


def _in_scope(principal: Principal, region_code: str) -> None:
    """Agencies and province officers see their own region; clearing officers see all."""
    if principal.region_code is None:
        return
    if not principal.covers_region(region_code):
        raise NotFound("REGION_NOT_FOUND", "未找到该地区", "region not found")


def _clearing_reply(result: ClearingRunResult) -> ClearingRunOut:
    return ClearingRunOut.model_validate(
        {
            "status": result.status,
            "content_hash": result.content_hash,
            "statement": result.statement.as_dict(),
        }
    )


@router.post(
    "/clearing/{month}/run",
    response_model=ClearingRunOut,
    summary="运行月度清算 run the month's clearing",
)
def run_clearing(
    month: str,
    principal: PrincipalDep,
    container: ContainerDep,
    level: ClearingLevel = ClearingLevel.PROVINCE,
    close: bool = False,
) -> ClearingRunOut:
    principal.require(Action.CLEARING_RUN)
    result = service.run_clearing(
        container.uow(), container.clock, month, level, close=close, actor=principal
    )
    return _clearing_reply(result)


class ReopenBody(BaseModel):
    """Why a closed month is reopened (kept in the audit log)."""

    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=4, max_length=400, description="重新开账原因 reason")


@router.post(
    "/clearing/{month}/reopen",
    response_model=ClearingRunOut,
    summary="重新开账（清算中心，须写明原因） reopen a wrongly closed month",
)
def reopen_clearing(
    month: str,
    body: ReopenBody,
    principal: PrincipalDep,
    container: ContainerDep,
    level: ClearingLevel = ClearingLevel.PROVINCE,
) -> ClearingRunOut:
    principal.require(Action.CLEARING_CLOSE)
    result = service.reopen_clearing(
        container.uow(), container.clock, month, level, body.reason, actor=principal
    )
    return _clearing_reply(result)


@router.get(
    "/clearing/{month}", response_model=ClearingRunOut, summary="清算单 clearing statement (JSON)"
)
def clearing_json(
    month: str,
    principal: PrincipalDep,
    container: ContainerDep,
    level: ClearingLevel = ClearingLevel.PROVINCE,
) -> ClearingRunOut:
    principal.require(Action.CLEARING_READ)
    return _clearing_reply(service.clearing_statement(container.uow(), month, level, principal))


@router.get("/clearing/{month}/statement.xlsx", summary="清算单 clearing statement (XLSX)")
def clearing_xlsx(
    month: str,
    principal: PrincipalDep,
    container: ContainerDep,
    level: ClearingLevel = ClearingLevel.PROVINCE,
) -> Response:
    principal.require(Action.CLEARING_READ)
    result = service.clearing_statement(container.uow(), month, level, principal)
    content = workbook_bytes(statement_workbook(result.statement, status=result.status))
    return attachment(content, XLSX, f"clearing-{month}-{level.value}.xlsx")


Year = Annotated[int, Query(ge=2000, le=2100, description="测算年度 target year")]
Months = Annotated[int, Query(ge=1, le=12, description="预付月数 prepayment months")]


@dataclass(frozen=True, slots=True)
class PrepaymentQuery:
    """The query both annex downloads take: whose estimate, for which year, and how."""

    region: str
    year: int
    method: EstimateMethod
    months: int


def prepayment_query(
    region: str,
    year: Year,
    method: EstimateMethod = EstimateMethod.AVERAGE,
    months: Months = DEFAULT_PREPAYMENT_MONTHS,
) -> PrepaymentQuery:
    return PrepaymentQuery(region, year, method, months)


PrepaymentQueryDep = Annotated[PrepaymentQuery, Depends(prepayment_query)]


def _prepayment(
    annex: Annex, principal: Principal, container: ContainerDep, query: PrepaymentQuery
) -> Response:
    principal.require(Action.PREPAYMENT_ESTIMATE)
    _in_scope(principal, query.region)
    estimate = service.estimate_prepayment(
        container.uow(),
        annex,
        query.region,
        query.year,
        method=query.method,
        prepayment_months=query.months,
    )
    content = workbook_bytes(annex_workbook(estimate, prepared_on=container.clock.today()))
    return attachment(content, XLSX, f"annex{int(annex)}-{query.region}-{query.year}.xlsx")


@router.get("/prepayment/annex3.xlsx", summary="附件3 省内异地就医费用支出测算表")
def annex3(principal: PrincipalDep, container: ContainerDep, query: PrepaymentQueryDep) -> Response:
    return _prepayment(Annex.IN_PROVINCE, principal, container, query)


@router.get("/prepayment/annex4.xlsx", summary="附件4 省外异地就医费用支出测算表")
def annex4(principal: PrincipalDep, container: ContainerDep, query: PrepaymentQueryDep) -> Response:
    return _prepayment(Annex.OUT_OF_PROVINCE, principal, container, query)


@router.get("/statistics", summary="异地就医统计 statistics (json, csv, xlsx, html)")
def statistics(
    principal: PrincipalDep,
    container: ContainerDep,
    region: str,
    direction: Direction = Direction.OUTBOUND,
    group_by: Dimension = Dimension.TREATMENT_PROVINCE,
    settled_from: dt.date | None = None,
    settled_to: dt.date | None = None,
    format: Literal["json", "csv", "xlsx", "html"] = "json",
) -> Response:
    principal.require(Action.STATISTICS_READ)
    _in_scope(principal, region)
    query = StatisticsQuery(region, direction, group_by, settled_from, settled_to)
    report = service.statistics(container.uow(), query)
    content = render(report, format)
    if format == "json":
        return JSONResponse(content=json.loads(content))
    if format == "html":
        return Response(content, media_type=MEDIA_TYPES["html"])
    return attachment(content, MEDIA_TYPES[format], f"statistics-{region}.{format}")
