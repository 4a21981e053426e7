"""Filing API (备案): lifecycle, search, evidence upload, 报盘 import, 附件2, the current-layout
record and quarterly exports.

A filing outside the caller's scope answers 404 exactly like a missing one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar

from fastapi import (
    APIRouter,
    Depends,
    File,
    Form,
    Query,
    Request,
    Response,
    UploadFile,
    status,
)

from yidi.bootstrap import Container
from yidi.entrypoints.api.deps import ContainerDep, IdempotencyKey, PrincipalDep, idempotency_of
from yidi.entrypoints.api.schemas.filings import (
    ApproveRequest,
    ChangeRequest,
    CompletenessOut,
    DuplicateOut,
    EmergencyDueOut,
    FilingOut,
    FilingPageOut,
    IncompletePageOut,
    PromisesDueOut,
    ReasonRequest,
    SupplyDocumentsRequest,
    duplicate_out,
    emergency_out,
    filing_out,
    summary_out,
)
from yidi.entrypoints.http.downloads import XLSX_MEDIA_TYPE, attachment
from yidi.entrypoints.http.filing_bodies import CreateFilingRequest, EvidenceBody, FilingRecordBody
from yidi.entrypoints.http.requests import container_of
from yidi.filing.commands import MAX_EVIDENCE_BYTES, FilingService
from yidi.filing.jobs import ImportJobs
from yidi.filing.model.annex import CompletenessRow
from yidi.filing.model.evidence import Evidence, EvidenceKind
from yidi.filing.model.lifecycle import FilingState
from yidi.filing.reports import FilingReports, table_as_dicts
from yidi.kernel.access import Action, Principal
from yidi.kernel.errors import ErrorKind, InvalidInput, YidiError
from yidi.kernel.insurance import FilingCategory, HospitalLevel
from yidi.reports.annex2_xlsx import (
    annex2_xlsx,
    current_layout_csv,
    current_layout_xlsx,
    quarterly_xlsx,
)

T = TypeVar("T")

router = APIRouter(prefix="/api/filings", tags=["备案 filings"])

MAX_IMPORT_BYTES = 256 * 1024 * 1024


def _service(container: Container) -> FilingService:
    return container.filings


def _reports(container: Container) -> FilingReports:
    return container.filing_reports


def _read_upload(upload: UploadFile, limit: int) -> bytes:
    data = upload.file.read(limit + 1)
    if len(data) > limit:
        raise YidiError(
            "UPLOAD_TOO_LARGE",
            f"上传文件不能超过{limit // (1024 * 1024)}MB",
            "upload too large",
            field="file",
            kind=ErrorKind.TOO_LARGE,
        )
    if not data:
        raise InvalidInput("UPLOAD_EMPTY", "上传文件为空", "the upload is empty", field="file")
    return data


def _xlsx(data: bytes, filename: str) -> Response:
    return attachment(data, XLSX_MEDIA_TYPE, filename)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=FilingOut,
    summary="新建备案草稿 create a draft filing",
)
def create_filing(
    body: CreateFilingRequest,
    request: Request,
    principal: PrincipalDep,
    container: ContainerDep,
    idempotency_key: IdempotencyKey = None,
) -> FilingOut:
    detail = _service(container).create_draft(
        principal,
        body.record.to_record(),
        evidence=[e.to_evidence() for e in body.evidence],
        idempotency=idempotency_of(idempotency_key, body.model_dump(mode="json")),
    )
    return filing_out(detail)


@router.get("", response_model=FilingPageOut, summary="查询备案（脱敏） search filings (masked)")
def search_filings(
    principal: PrincipalDep,
    container: ContainerDep,
    id_number: Annotated[str | None, Query(max_length=18, description="身份证号 ID")] = None,
    name: Annotated[str | None, Query(max_length=50, description="姓名 name")] = None,
    filing_number: Annotated[
        str | None, Query(max_length=24, description="备案编号 filing number")
    ] = None,
    state: Annotated[FilingState | None, Query(description="状态 state")] = None,
    category: Annotated[FilingCategory | None, Query(description="人员类别 category")] = None,
    region: Annotated[
        str | None, Query(pattern=r"^\d{6}$", description="参保地区划 insured region")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200, description="每页条数 page size")] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="偏移 offset")] = 0,
) -> FilingPageOut:
    page = _service(container).search(
        principal,
        id_number=id_number,
        name=name,
        filing_number=filing_number,
        state=state,
        category=category,
        region=region,
        limit=limit,
        offset=offset,
    )
    return FilingPageOut(total=page.total, items=[summary_out(s) for s in page.items])


RegionQuery = Annotated[str, Query(pattern=r"^\d{6}$", description="行政区划代码 region code")]
OptionalRegion = Annotated[
    str | None, Query(pattern=r"^\d{6}$", description="行政区划代码 region code")
]
FullQuery = Annotated[
    bool | None,
    Query(description="明文导出（经办机构报盘用，记入审计） full data, audited"),
]


@dataclass(frozen=True, slots=True)
class FollowUp:
    """What every follow-up list takes: the caller and, optionally, one region to look at."""

    principal: Principal
    service: FilingService
    region: str | None

    def rows(self, query: Callable[..., list[T]]) -> list[T]:
        """The rows of one of the service's follow-up queries, in the caller's scope."""
        return query(self.service, self.principal, region=self.region)


def follow_up(
    principal: PrincipalDep, container: ContainerDep, region: OptionalRegion = None
) -> FollowUp:
    return FollowUp(principal, _service(container), region)


FollowUpDep = Annotated[FollowUp, Depends(follow_up)]


@router.get(
    "/follow-up/emergency",
    response_model=list[EmergencyDueOut],
    summary="急诊备案材料提交期限 emergency filings and their deadline",
)
def emergency_due(follow_up: FollowUpDep) -> list[EmergencyDueOut]:
    return [emergency_out(d) for d in follow_up.rows(FilingService.emergency_due)]


@router.get(
    "/follow-up/incomplete",
    response_model=IncompletePageOut,
    summary="必填信息缺失的备案（待补充），分页 filings missing mandatory fields, paged",
)
def incomplete(
    follow_up: FollowUpDep,
    limit: Annotated[int, Query(ge=1, le=200, description="每页条数 page size")] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="偏移 offset")] = 0,
) -> IncompletePageOut:
    page = follow_up.service.incomplete_page(
        follow_up.principal, limit=limit, offset=offset, region=follow_up.region
    )
    # the service answers the last page past the end (what a reader of the page wants);
    # an API client asked for an offset and gets what lies there: nothing
    items = page.items if page.offset == offset else []
    return IncompletePageOut(
        total=page.total, offset=offset, items=[_completeness_out(r) for r in items]
    )


@router.get(
    "/follow-up/no-card",
    summary="未办理二代社会保障卡人员 persons without a second-generation card",
)
def without_card(follow_up: FollowUpDep) -> list[dict[str, Any]]:
    return [_row_dict(r) for r in follow_up.rows(FilingService.without_second_generation_card)]


def _completeness_out(row: CompletenessRow) -> CompletenessOut:
    return CompletenessOut(**_row_dict(row), missing_fields=list(row.missing_fields))


def _row_dict(row: Any) -> dict[str, Any]:
    return {
        "filing_number": row.filing_number,
        "name": row.name,
        "id_number_masked": row.social_security_number,
        "phone_masked": row.phone,
        "mobile_masked": row.mobile,
        "needs_second_generation_card": row.needs_second_generation_card,
    }


@router.get(
    "/follow-up/duplicates",
    response_model=list[DuplicateOut],
    summary="跨地市重复备案 persons filed by more than one prefecture",
)
def duplicates(follow_up: FollowUpDep) -> list[DuplicateOut]:
    return [duplicate_out(c) for c in follow_up.rows(FilingService.duplicates)]


@router.get(
    "/export/annex2.xlsx",
    summary="导出附件2 基本医疗保险异地居住人员备案信息汇总表 export annex 2 (XLSX)",
    response_class=Response,
    responses={200: {"content": {XLSX_MEDIA_TYPE: {}}}},
)
def export_annex2(
    request: Request,
    principal: PrincipalDep,
    container: ContainerDep,
    region: RegionQuery,
    from_on: Annotated[dt.date, Query(alias="from", description="起始日期 from")],
    to_on: Annotated[dt.date, Query(alias="to", description="截止日期 to")],
    full: FullQuery = None,
) -> Response:
    table = _reports(container).annex2(principal, region, from_on, to_on, full=full)
    return _xlsx(annex2_xlsx(table), f"annex2-{region}-{from_on}-{to_on}.xlsx")


@router.get(
    "/export/current-layout",
    summary="导出备案记录（现行版式，2022年模式） export filing records in the current layout",
    responses={200: {"content": {"text/csv": {}, XLSX_MEDIA_TYPE: {}, "application/json": {}}}},
)
def export_current_layout(
    principal: PrincipalDep,
    container: ContainerDep,
    region: RegionQuery,
    from_on: Annotated[dt.date, Query(alias="from", description="经办日期起 handled from")],
    to_on: Annotated[dt.date, Query(alias="to", description="经办日期止 handled until")],
    output: Annotated[
        Literal["csv", "xlsx", "json"], Query(alias="format", description="csv、xlsx 或 json")
    ] = "csv",
    full: FullQuery = None,
) -> Any:
    """类别、类型、承诺或证明材料、有效期、锁定期与期限；附件1/附件2 仍按 2017 年河南版式
    （``/export/annex2.xlsx``）。Class, type, promise or proof, validity, lock and deadlines;
    附件2 keeps the 2017 Henan layout."""
    table = _reports(container).current_layout(principal, region, from_on, to_on, full=full)
    name = f"filings-current-{region}-{from_on}-{to_on}"
    if output == "xlsx":
        return _xlsx(current_layout_xlsx(table), f"{name}.xlsx")
    if output == "csv":
        return attachment(current_layout_csv(table), "text/csv; charset=utf-8", f"{name}.csv")
    return {
        "region_code": table.region_code,
        "from": from_on.isoformat(),
        "to": to_on.isoformat(),
        "masked": table.masked,
        "rows": table_as_dicts(table),
    }


@router.get(
    "/quarterly",
    summary="每季度新增（变更）备案人员信息 quarterly new and changed filings (JSON or XLSX)",
    responses={200: {"content": {"application/json": {}, XLSX_MEDIA_TYPE: {}}}},
)
def quarterly(
    request: Request,
    principal: PrincipalDep,
    container: ContainerDep,
    region: RegionQuery,
    year: Annotated[int, Query(ge=2000, le=2100, description="年份 year")],
    quarter: Annotated[int, Query(ge=1, le=4, description="季度 quarter")],
    output: Annotated[
        Literal["json", "xlsx"], Query(alias="format", description="json 或 xlsx")
    ] = "json",
    full: FullQuery = None,
) -> Any:
    listing = _reports(container).quarterly(principal, region, year, quarter, full=full)
    if output == "xlsx":
        return _xlsx(quarterly_xlsx(listing), f"quarterly-{region}-{year}Q{quarter}.xlsx")
    return {
        "region_code": listing.region_code,
        "year": listing.year,
        "quarter": listing.quarter,
        "from": listing.first_day.isoformat(),
        "to": listing.last_day.isoformat(),
        "masked": listing.masked,
        "prefectures": [
            {"region_code": t.region_code, "region_name": t.region_name, "rows": table_as_dicts(t)}
            for t in listing.prefectures
        ],
    }


def _jobs(request: Request) -> ImportJobs:
    return container_of(request).import_jobs


@router.post(
    "/import",
    status_code=202,
    summary="报盘导入（附件2格式 CSV/XLSX）：提交后台任务 submit a batch import job",
)
def import_batch(
    request: Request,
    principal: PrincipalDep,
    container: ContainerDep,
    file: Annotated[UploadFile, File(description="CSV 或 XLSX 文件 the batch file")],
) -> dict[str, Any]:
    """文件在后台导入；用返回的 job_id 查询进度与导入报告（report）。The file is imported in the
    background; poll ``/api/filings/import-jobs/{job_id}`` for progress and the report."""
    principal.require(Action.FILING_IMPORT)
    data = _read_upload(file, MAX_IMPORT_BYTES)
    job = _jobs(request).submit_import(
        principal,
        data,
        file.filename or "upload",
        inline=container.settings.import_jobs == "inline",
    )
    return job.as_dict()


@router.get(
    "/import-jobs/{job_id}", summary="报盘导入任务：进度与报告 import job progress and report"
)
def import_job(job_id: str, request: Request, principal: PrincipalDep) -> dict[str, Any]:
    principal.require(Action.FILING_IMPORT)
    return _jobs(request).get(principal, job_id).as_dict()


@router.post(
    "/promises-due",
    response_model=PromisesDueOut,
    summary="承诺逾期处理（按其他临时外出就医人员） treat overdue promises as other temporary",
)
def promises_due(
    request: Request, principal: PrincipalDep, container: ContainerDep
) -> PromisesDueOut:
    return PromisesDueOut(moved=_service(container).promises_due(principal))


@router.get("/{filing_id}", response_model=FilingOut, summary="备案详情（记入审计） filing detail")
def get_filing(
    filing_id: str, request: Request, principal: PrincipalDep, container: ContainerDep
) -> FilingOut:
    return filing_out(_service(container).get(principal, filing_id))


@router.put("/{filing_id}", response_model=FilingOut, summary="修改草稿 revise a draft")
def revise_filing(
    filing_id: str,
    body: FilingRecordBody,
    request: Request,
    principal: PrincipalDep,
    container: ContainerDep,
) -> FilingOut:
    return filing_out(_service(container).revise(principal, filing_id, body.to_record()))


@router.post("/{filing_id}/submit", response_model=FilingOut, summary="提交 submit")
def submit_filing(
    filing_id: str, request: Request, principal: PrincipalDep, container: ContainerDep
) -> FilingOut:
    return filing_out(_service(container).submit(principal, filing_id))


@router.post("/{filing_id}/approve", response_model=FilingOut, summary="审核通过 approve")
def approve_filing(
    filing_id: str,
    request: Request,
    principal: PrincipalDep,
    container: ContainerDep,
    body: ApproveRequest | None = None,
) -> FilingOut:
    body = body or ApproveRequest()
    return filing_out(
        _service(container).approve(
            principal,
            filing_id,
            valid_from=body.valid_from,
            valid_until=body.valid_until,
        )
    )


@router.post("/{filing_id}/reject", response_model=FilingOut, summary="退回 reject")
def reject_filing(
    filing_id: str,
    body: ReasonRequest,
    request: Request,
    principal: PrincipalDep,
    container: ContainerDep,
) -> FilingOut:
    return filing_out(_service(container).reject(principal, filing_id, body.reason))


@router.post("/{filing_id}/cancel", response_model=FilingOut, summary="撤销 cancel")
def cancel_filing(
    filing_id: str,
    body: ReasonRequest,
    request: Request,
    principal: PrincipalDep,
    container: ContainerDep,
) -> FilingOut:
    return filing_out(_service(container).cancel(principal, filing_id, body.reason))


@router.post("/{filing_id}/change", response_model=FilingOut, summary="变更 change")
def change_filing(
    filing_id: str,
    body: ChangeRequest,
    request: Request,
    principal: PrincipalDep,
    container: ContainerDep,
) -> FilingOut:
    return filing_out(
        _service(container).change(
            principal,
            filing_id,
            body.record.to_record(),
            reason=body.reason,
            valid_from=body.valid_from,
            valid_until=body.valid_until,
        )
    )


@router.post(
    "/{filing_id}/promise-documents",
    response_model=FilingOut,
    summary="补齐承诺的证明材料 supply the promised documents",
)
def supply_promise_documents(
    filing_id: str,
    body: SupplyDocumentsRequest,
    request: Request,
    principal: PrincipalDep,
    container: ContainerDep,
) -> FilingOut:
    return filing_out(
        _service(container).supply_documents(
            principal,
            filing_id,
            [e.to_evidence() for e in body.evidence],
        )
    )


@router.post(
    "/{filing_id}/false-promise",
    response_model=FilingOut,
    summary="认定虚假承诺（撤销并记录追回基金） record a false promise",
)
def false_promise(
    filing_id: str,
    body: ReasonRequest,
    request: Request,
    principal: PrincipalDep,
    container: ContainerDep,
) -> FilingOut:
    return filing_out(_service(container).record_false_promise(principal, filing_id, body.reason))


def evidence_form(
    kind: Annotated[EvidenceKind, Form(description="材料种类 kind")],
    document_number: Annotated[str | None, Form(max_length=64)] = None,
    issuer: Annotated[str | None, Form(max_length=100)] = None,
    issued_on: Annotated[dt.date | None, Form()] = None,
    issuer_region_code: Annotated[str | None, Form(pattern=r"^\d{6}$")] = None,
    issuer_hospital_level: Annotated[HospitalLevel | None, Form()] = None,
    issuer_is_top_specialist: Annotated[bool, Form()] = False,
) -> Evidence:
    """The description of an uploaded document, from the multipart form's fields."""
    return EvidenceBody(
        kind=kind,
        document_number=document_number,
        issuer=issuer,
        issued_on=issued_on,
        issuer_region_code=issuer_region_code,
        issuer_hospital_level=issuer_hospital_level,
        issuer_is_top_specialist=issuer_is_top_specialist,
    ).to_evidence()


EvidenceFormDep = Annotated[Evidence, Depends(evidence_form)]


@dataclass(frozen=True, slots=True)
class ScannedEvidence:
    """An uploaded document: its description from the form's fields, and its scan if sent."""

    evidence: Evidence
    content: bytes | None
    filename: str


def scanned_evidence(
    evidence: EvidenceFormDep,
    file: Annotated[UploadFile | None, File(description="扫描件 scan (PDF/JPEG/PNG)")] = None,
) -> ScannedEvidence:
    if file is None:
        return ScannedEvidence(evidence, None, "")
    return ScannedEvidence(evidence, _read_upload(file, MAX_EVIDENCE_BYTES), file.filename or "")


ScannedEvidenceDep = Annotated[ScannedEvidence, Depends(scanned_evidence)]


@router.post(
    "/{filing_id}/evidence",
    response_model=FilingOut,
    summary="上传证明材料（PDF/JPEG/PNG） upload evidence",
)
def upload_evidence(
    filing_id: str,
    request: Request,
    principal: PrincipalDep,
    container: ContainerDep,
    upload: ScannedEvidenceDep,
) -> FilingOut:
    return filing_out(
        _service(container).add_evidence(
            principal,
            filing_id,
            upload.evidence,
            content=upload.content,
            filename=upload.filename,
        )
    )
