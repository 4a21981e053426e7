"""Export jobs through the API (导出任务): 附件2 and the quarterly list written in the
background, as the web pages start them (the same job service, the same checks).

``POST`` starts a job (202; an ``Idempotency-Key`` retry returns the job its first request
started, also once it has finished), ``GET …/{job_id}`` gives its state and progress, and
``GET …/{job_id}/download`` the file once it is written (audited ``job.download``). A job is
only its starter's: anyone else is answered ``JOB_NOT_FOUND`` as for a missing job.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status
from starlette.responses import FileResponse

from yidi.entrypoints.api.deps import ContainerDep, IdempotencyKey, PrincipalDep, idempotency_of
from yidi.entrypoints.api.schemas.export_jobs import (
    Annex2JobRequest,
    ErrorOut,
    ExportJobOut,
    QuarterlyJobRequest,
    export_job_out,
)
from yidi.entrypoints.http.downloads import XLSX_MEDIA_TYPE
from yidi.filing.jobs import ANNEX2_EXPORT, DONE, FAILED, QUARTERLY_EXPORT, JobView
from yidi.filing.reports import may_export_full
from yidi.kernel.access import Action, Principal
from yidi.kernel.errors import Conflict, Forbidden, InvalidInput, NotFound

router = APIRouter(prefix="/api/filings/export-jobs", tags=["导出任务 export jobs"])

EXPORT_KINDS = (ANNEX2_EXPORT, QUARTERLY_EXPORT)

_ERRORS: dict[int | str, dict[str, Any]] = {
    403: {
        "model": ErrorOut,
        "description": "ACCESS_DENIED、EXPORT_FULL_DENIED、他区 another region's (…_FORBIDDEN)",
    },
    404: {
        "model": ErrorOut,
        "description": "JOB_NOT_FOUND：没有该任务，或不是本人提交的 unknown, or not yours",
    },
    409: {
        "model": ErrorOut,
        "description": "JOB_NOT_FINISHED、JOB_FAILED、IDEMPOTENCY_KEY_REUSED",
    },
}


def _url(job: JobView) -> str:
    return f"{router.prefix}/{job.id}/download"


def _out(job: JobView) -> ExportJobOut:
    return export_job_out(job, _url(job))


def _missing() -> NotFound:
    return NotFound("JOB_NOT_FOUND", "未找到该导出任务", "no such export job", field="job_id")


def _job(container: ContainerDep, principal: Principal, job_id: str) -> JobView:
    principal.require(Action.FILING_EXPORT)
    try:
        job = container.import_jobs.get(principal, job_id)
    except NotFound:  # the service words it for imports; the same answer for an export
        raise _missing() from None
    if job.kind not in EXPORT_KINDS:  # an import job has its own route
        raise _missing()
    return job


@router.post(
    "/annex2",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ExportJobOut,
    responses=_ERRORS,
    summary="附件2导出：提交后台任务 start an annex 2 export job",
)
def start_annex2(
    body: Annex2JobRequest,
    principal: PrincipalDep,
    container: ContainerDep,
    idempotency_key: IdempotencyKey = None,
) -> ExportJobOut:
    region = body.region or principal.region_code or ""
    container.filing_reports.require_export(principal, region)
    if body.to_on < body.from_on:
        raise InvalidInput(
            "PERIOD_INVALID", "截止日期不能早于起始日期", "to is before from", field="to"
        )
    if body.full and not may_export_full(principal):
        raise Forbidden(
            "EXPORT_FULL_DENIED",
            f"{principal.role.label_zh}无权导出明文数据",
            f"role {principal.role.value} may not export full data",
            field="full",
        )
    params = {
        "region": region,
        "from": body.from_on.isoformat(),
        "to": body.to_on.isoformat(),
        "full": True if body.full else None,  # as the page asks it
    }
    job = container.import_jobs.submit_export(
        principal,
        ANNEX2_EXPORT,
        params,
        f"annex2-{region}-{body.from_on}-{body.to_on}.xlsx",
        inline=container.settings.import_jobs == "inline",
        idempotency=idempotency_of(idempotency_key, {"kind": ANNEX2_EXPORT, **params}),
    )
    return _out(job)


@router.post(
    "/quarterly",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ExportJobOut,
    responses=_ERRORS,
    summary="季度新增（变更）名单导出：提交后台任务 start a quarterly list export job",
)
def start_quarterly(
    body: QuarterlyJobRequest,
    principal: PrincipalDep,
    container: ContainerDep,
    idempotency_key: IdempotencyKey = None,
) -> ExportJobOut:
    container.filing_reports.require_export(principal, body.region)
    params = {"region": body.region, "year": body.year, "quarter": body.quarter, "full": None}
    job = container.import_jobs.submit_export(
        principal,
        QUARTERLY_EXPORT,
        params,
        f"quarterly-{body.region}-{body.year}Q{body.quarter}.xlsx",
        inline=container.settings.import_jobs == "inline",
        idempotency=idempotency_of(idempotency_key, {"kind": QUARTERLY_EXPORT, **params}),
    )
    return _out(job)


@router.get(
    "/{job_id}",
    response_model=ExportJobOut,
    responses=_ERRORS,
    summary="导出任务：状态与进度 export job state and progress",
)
def export_job(job_id: str, principal: PrincipalDep, container: ContainerDep) -> ExportJobOut:
    return _out(_job(container, principal, job_id))


@router.get(
    "/{job_id}/download",
    response_class=FileResponse,
    responses={200: {"content": {XLSX_MEDIA_TYPE: {}}}, **_ERRORS},
    summary="导出任务：下载文件（记入审计） download the written file (audited)",
)
def download_export(job_id: str, principal: PrincipalDep, container: ContainerDep) -> FileResponse:
    job = _job(container, principal, job_id)
    if job.state == FAILED:
        raise Conflict(
            "JOB_FAILED",
            "导出任务失败，没有可下载的文件",
            "the export job failed; there is no file",
            field="job_id",
            details={"error": job.error or {}},
        )
    if job.state != DONE:
        raise Conflict(
            "JOB_NOT_FINISHED",
            f"导出任务尚未完成（{job.percent}%），请稍后再试",
            f"the export job is not finished ({job.percent}%)",
            field="job_id",
            details={"state": job.state, "percent": job.percent},
        )
    path, name = container.import_jobs.result_file(principal, job_id)
    return FileResponse(
        path,
        media_type=XLSX_MEDIA_TYPE,
        filename=name,
        headers={"Cache-Control": "no-store"},
    )
