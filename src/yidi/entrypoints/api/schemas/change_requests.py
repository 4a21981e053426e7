"""Request and response bodies of the change-request API (变更申请接口)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from yidi.entrypoints.api.schemas.filings import (
    EvidenceOut,
    FilingRecordOut,
    evidence_out,
    record_out,
)
from yidi.entrypoints.api.schemas.mapping import from_attributes
from yidi.entrypoints.http.filing_bodies import EvidenceBody, FilingRecordBody
from yidi.filing.change_requests import ChangeRequestDetail, ChangeRequestSummary
from yidi.filing.model.change_requests import ChangeRequestState


class CreateChangeRequest(BaseModel):
    """The edited 附件1 (prefilled from the current version), why, and any new documents."""

    model_config = ConfigDict(extra="forbid")

    record: FilingRecordBody = Field(description="变更后的备案表 the record as it should become")
    reason: str = Field(min_length=1, max_length=500, description="变更原因 reason")
    evidence: list[EvidenceBody] = Field(
        default_factory=list,
        max_length=20,
        description="新增证明材料（变更人员类别或就医地时） new evidence",
    )


class FieldChangeOut(BaseModel):
    field: str = Field(description="字段 field")
    label: str = Field(description="字段名称 label")
    old: str = Field(description="原值 current value")
    new: str = Field(description="申请值 requested value")
    changed: bool = Field(description="是否变更 changed")


class ChangeRequestOut(BaseModel):
    """A request with its field-by-field comparison (the audited full read)."""

    request_id: str = Field(description="变更申请ID request id")
    filing_id: str = Field(description="备案ID filing id")
    filing_number: str | None = Field(description="备案编号 filing number")
    state: ChangeRequestState = Field(description="状态 state")
    state_label: str = Field(description="状态（中文） state label")
    reason: str = Field(description="变更原因 reason")
    requested_by: str = Field(description="申请人 requested by")
    requested_at: dt.datetime = Field(description="申请时间 requested at")
    decided_by: str | None = Field(description="处理人 decided by")
    decided_at: dt.datetime | None = Field(description="处理时间 decided at")
    decision_reason: str | None = Field(description="退回原因 reason for rejecting")
    result_version_id: str | None = Field(description="变更后的备案版本 new version")
    base_version: int = Field(description="申请所依据的版本 version asked on")
    outdated: bool = Field(description="备案已在窗口变更 the filing changed since")
    record: FilingRecordOut = Field(description="申请的附件1 全部字段 the requested record")
    changes: list[FieldChangeOut] = Field(description="逐项对照 comparison")
    evidence: list[EvidenceOut] = Field(description="新增证明材料 new evidence")


class ChangeRequestSummaryOut(BaseModel):
    """One list line; the ID number is masked."""

    request_id: str
    filing_id: str
    filing_number: str | None = Field(description="备案编号 filing number")
    state: ChangeRequestState
    name: str = Field(description="姓名 name")
    id_number_masked: str = Field(description="身份证号（脱敏） masked ID")
    insured_region_code: str = Field(description="参保地 insured region")
    changed_fields: list[str] = Field(description="变更的项目 changed fields")
    reason: str
    requested_at: dt.datetime
    decided_at: dt.datetime | None
    decision_reason: str | None


class ChangeRequestPageOut(BaseModel):
    total: int = Field(description="总数 total matches")
    items: list[ChangeRequestSummaryOut]


def change_request_out(detail: ChangeRequestDetail) -> ChangeRequestOut:
    request = detail.request
    return from_attributes(
        ChangeRequestOut,
        request,
        filing_number=detail.filing_number,
        state_label=request.state.label_zh,
        base_version=detail.base_version,
        outdated=detail.outdated,
        record=record_out(request.record),
        changes=[from_attributes(FieldChangeOut, c, label=c.label_zh) for c in detail.changes],
        evidence=[evidence_out(e) for e in request.evidence],
    )


def change_request_summary_out(summary: ChangeRequestSummary) -> ChangeRequestSummaryOut:
    return from_attributes(ChangeRequestSummaryOut, summary)
