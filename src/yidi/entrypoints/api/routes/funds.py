"""Clearing (清算), prepayment estimation (预付金测算) and statistics (统计) over HTTP."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Final, Literal

from fastapi import APIRouter, Depends, Path, Query, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from yidi.entrypoints.api.deps import ContainerDep, IdempotencyKey, PrincipalDep, idempotency_of
from yidi.entrypoints.api.schemas.money import ClearingRunOut
from yidi.entrypoints.http.downloads import attachment
from yidi.funds import commands as service
from yidi.funds.commands import ClearingRunResult
from yidi.funds.model import ClearingLevel
from yidi.funds.prepayment import Annex, EstimateMethod, TopUpStatus
from yidi.funds.statistics import Dimension, Direction, StatisticsQuery
from yidi.kernel.access import Action, Principal
from yidi.kernel.errors import NotFound
from yidi.kernel.money import Money
from yidi.policy.national import default_prepayment_months
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
    statement = result.statement
    body = statement.as_dict()
    # the canonical JSON leaves adjustments out when there are none; the API always lists them
    body.update(
        adjustment_total=str(statement.adjustment_total),
        cleared_total=str(statement.cleared_total),
        adjustments=[a.as_dict() for a in statement.adjustments],
    )
    for line, out in zip(statement.lines, body["lines"], strict=True):
        out.update(
            adjustment_total=str(line.adjustment_total), cleared_total=str(line.cleared_total)
        )
    return ClearingRunOut.model_validate(
        {"status": result.status, "content_hash": result.content_hash, "statement": body}
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


#: The documented default of ``months`` (the OpenAPI document states it, so it is read here).
_PROPOSAL_MONTHS: Final = default_prepayment_months()


def prepayment_query(
    region: str,
    year: Year,
    method: EstimateMethod = EstimateMethod.AVERAGE,
    months: Months = _PROPOSAL_MONTHS,
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


class PrepaymentPairOut(BaseModel):
    """Whose prepayment: the clearing level, the year and the 参保地/就医地 pair."""

    level: ClearingLevel
    year: int
    insured_region_code: str
    treatment_region_code: str


class PrepaymentUsageOut(PrepaymentPairOut):
    """One pair's prepayment usage: held, drawn by clearing, ratio, warning (yuan strings)."""

    held: str = Field(description="预付金（元） prepayment held")
    drawn: str = Field(description="本年清算已支用（元） drawn by clearing this year")
    months_cleared: list[str]
    ratio: str | None = Field(description="使用率（小数；无预付金时为空） usage ratio")
    ratio_percent: str
    warning: Literal["none", "yellow", "red"]
    warning_label_zh: str
    suggested_top_up: str = Field(
        description="建议补充额（元）：使用率回到黄色预警线以下 amount back under the yellow line"
    )


class PrepaymentUsagePageOut(BaseModel):
    yellow_line: str
    red_line: str
    rule_reference: str
    rows: list[PrepaymentUsageOut]


UsageYear = Annotated[
    int | None, Query(ge=2000, le=2100, description="年度，默认本年 year (default this year)")
]


@router.get(
    "/prepayment/usage",
    response_model=PrepaymentUsagePageOut,
    summary="预付金使用率与预警（黄色70%、红色90%） prepayment usage and warnings",
)
def prepayment_usage(
    principal: PrincipalDep,
    container: ContainerDep,
    level: ClearingLevel = ClearingLevel.PROVINCE,
    year: UsageYear = None,
) -> PrepaymentUsagePageOut:
    principal.require(Action.CLEARING_READ)
    rows = service.prepayment_usages(
        container.uow(), container.clock, level, year=year, actor=principal
    )
    rule = service.prepayment_warning_rule(container.clock, year)
    return PrepaymentUsagePageOut(
        yellow_line=str(rule.yellow),
        red_line=str(rule.red),
        rule_reference=rule.reference,
        rows=[PrepaymentUsageOut.model_validate(row.as_dict()) for row in rows],
    )


class TopUpBody(BaseModel):
    """Which pair's prepayment to top up (the amount is computed, not typed)."""

    model_config = ConfigDict(extra="forbid")
    level: ClearingLevel = ClearingLevel.PROVINCE
    insured_region_code: str = Field(pattern=r"^\d{6}$", description="参保地 insured region")
    treatment_region_code: str = Field(pattern=r"^\d{6}$", description="就医地 treatment region")
    year: int | None = Field(default=None, ge=2000, le=2100, description="年度 year")


class TopUpRequestOut(PrepaymentUsageOut):
    request_id: int
    requested_at: str


@router.post(
    "/prepayment/top-up-requests",
    status_code=status.HTTP_201_CREATED,
    response_model=TopUpRequestOut,
    summary="申请补充预付金（达到预警线后） request a prepayment top-up after a warning",
)
def request_top_up(
    body: TopUpBody,
    principal: PrincipalDep,
    container: ContainerDep,
    idempotency_key: IdempotencyKey = None,
) -> TopUpRequestOut:
    principal.require(Action.PREPAYMENT_TOP_UP)
    answer = service.request_top_up(
        container.uow(),
        container.clock,
        principal,
        body.level,
        body.insured_region_code,
        body.treatment_region_code,
        year=body.year,
        idempotency=idempotency_of(idempotency_key, body.model_dump(mode="json")),
    )
    return TopUpRequestOut.model_validate(answer)


class TopUpDecisionOut(PrepaymentPairOut):
    """A top-up request as the clearing centre sees it: the pair's figures when asked, the
    decision."""

    request_id: int
    held: str = Field(description="申请时的预付金（元） held when asked")
    drawn: str = Field(description="申请时已支用（元） drawn when asked")
    warning: Literal["yellow", "red"]
    suggested_top_up: str = Field(description="建议补充额（元） suggested top-up")
    requested_by: str
    requested_at: str
    status: Literal["requested", "approved", "rejected"]
    status_label_zh: str
    approved_amount: str | None = Field(description="批准补充额（元） approved amount")
    decided_by: str | None
    decided_at: str | None
    decision_reason: str | None


class TopUpDecisionBody(BaseModel):
    """批准（可改批准额，默认建议额）或驳回（须写理由）。Approve (amount defaults to the
    suggestion) or reject (a reason is required)."""

    model_config = ConfigDict(extra="forbid")
    decision: Literal["approve", "reject"]
    amount: Decimal | None = Field(
        default=None,
        gt=0,
        le=Decimal("999999999999.99"),
        decimal_places=2,
        description="批准补充额（元） approved amount (yuan)",
    )
    reason: str = Field(default="", max_length=200, description="理由 reason")


@router.get(
    "/prepayment/top-up-requests",
    response_model=list[TopUpDecisionOut],
    summary="补充预付金申请及审批状态 top-up requests and their state",
)
def list_top_ups(
    principal: PrincipalDep,
    container: ContainerDep,
    status_filter: Annotated[
        Literal["requested", "approved", "rejected"] | None, Query(alias="status")
    ] = None,
) -> list[TopUpDecisionOut]:
    rows = service.top_up_requests(
        container.uow(),
        principal,
        status=None if status_filter is None else TopUpStatus(status_filter),
    )
    return [TopUpDecisionOut.model_validate(row.as_dict()) for row in rows]


@router.post(
    "/prepayment/top-up-requests/{request_id}/decision",
    response_model=TopUpDecisionOut,
    summary="审批补充预付金（清算中心） approve or reject a top-up (clearing centre)",
)
def decide_top_up(
    request_id: Annotated[int, Path(ge=1, le=2**62)],
    body: TopUpDecisionBody,
    principal: PrincipalDep,
    container: ContainerDep,
    idempotency_key: IdempotencyKey = None,
) -> TopUpDecisionOut:
    principal.require(Action.PREPAYMENT_APPROVE)
    answer = service.decide_top_up(
        container.uow(),
        container.clock,
        principal,
        request_id,
        approve=body.decision == "approve",
        amount=None if body.amount is None else Money(body.amount),
        reason=body.reason,
        idempotency=idempotency_of(
            idempotency_key, {"request_id": request_id, **body.model_dump(mode="json")}
        ),
    )
    return TopUpDecisionOut.model_validate(answer)


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
