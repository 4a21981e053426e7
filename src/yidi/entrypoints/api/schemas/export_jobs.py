"""Bodies of the export-job API (导出任务): 附件2 and the quarterly list as background jobs."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from yidi.filing.jobs import DONE, STATE_ZH, JobView

JobState = Literal["queued", "running", "done", "failed"]
ExportKind = Literal["annex2_export", "quarterly_export"]


class Annex2JobRequest(BaseModel):
    """附件2 of a period; the region defaults to the caller's own."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_on: dt.date = Field(alias="from", description="起始日期（含） first day, inclusive")
    to_on: dt.date = Field(alias="to", description="截止日期（含） last day, inclusive")
    region: str | None = Field(
        None, pattern=r"^\d{6}$", description="行政区划代码（默认本机构） region, default own"
    )
    full: bool = Field(
        False, description="明文导出（有权查看完整记录的经办机构，记入审计） full data, audited"
    )


class QuarterlyJobRequest(BaseModel):
    """每季度末新增（变更）备案人员信息; full or masked as the role decides (province: full)."""

    model_config = ConfigDict(extra="forbid")

    region: str = Field(pattern=r"^\d{6}$", description="行政区划代码 region code")
    year: int = Field(ge=2000, le=2100, description="年份 year")
    quarter: int = Field(ge=1, le=4, description="季度 quarter")


class ErrorDetailOut(BaseModel):
    code: str = Field(description="稳定的错误代码 stable error code")
    message: str = Field(description="中文说明 message (Chinese)")
    message_en: str = Field(description="English message")
    field: str | None = Field(None, description="相关字段 the field concerned")
    details: dict[str, Any] | None = Field(None, description="补充信息 more about it")


class ErrorOut(BaseModel):
    """Every refusal of the API: ``{"error": {"code", "message", "message_en", …}}``."""

    error: ErrorDetailOut


class ExportResultOut(BaseModel):
    rows: int = Field(description="写入的行数 rows written")
    masked: bool = Field(description="是否脱敏 whether personal data is masked")


class JobErrorOut(BaseModel):
    code: str = Field(description="错误代码 stable error code")
    message: str = Field(description="中文说明 message (Chinese)")
    message_en: str = Field(description="English message")


class ExportJobOut(BaseModel):
    """An export job's state and progress; ``download_url`` once the file is written."""

    job_id: str = Field(description="任务ID job id")
    kind: ExportKind = Field(description="导出种类 export kind")
    state: JobState = Field(description="状态 state")
    state_zh: str = Field(description="状态（中文） state in Chinese")
    finished: bool = Field(description="是否已结束（完成或失败） done or failed")
    filename: str = Field(description="下载文件名 download file name")
    processed_rows: int = Field(description="已写入行数 rows written so far")
    total_rows: int = Field(description="预计总行数 rows announced (the bar's 100%)")
    percent: int = Field(ge=0, le=100, description="进度百分比 progress, 0-100")
    created_at: dt.datetime = Field(description="提交时间 submitted at")
    started_at: dt.datetime | None = Field(description="开始时间 started at")
    finished_at: dt.datetime | None = Field(description="结束时间 finished at")
    result: ExportResultOut | None = Field(description="完成后的结果 result when done")
    error: JobErrorOut | None = Field(description="失败原因 why it failed")
    download_url: str | None = Field(description="下载地址（完成后） download address when done")


def _result(found: dict[str, Any] | None) -> ExportResultOut | None:
    if found is None:
        return None
    return ExportResultOut(rows=int(found.get("rows", 0)), masked=bool(found.get("masked")))


def _error(found: dict[str, Any] | None) -> JobErrorOut | None:
    if found is None:
        return None
    return JobErrorOut(
        code=str(found.get("code", "")),
        message=str(found.get("message", "")),
        message_en=str(found.get("message_en", "")),
    )


def export_job_out(job: JobView, download_url: str) -> ExportJobOut:
    return ExportJobOut(
        job_id=job.id,
        kind=job.kind,  # the routes only show export kinds (validated by the model)
        state=job.state,
        state_zh=STATE_ZH[job.state],
        finished=job.finished,
        filename=job.filename,
        processed_rows=job.processed_rows,
        total_rows=job.total_rows,
        percent=job.percent,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        result=_result(job.result),
        error=_error(job.error),
        download_url=download_url if job.state == DONE else None,
    )
