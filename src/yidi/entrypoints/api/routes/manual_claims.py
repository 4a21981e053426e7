"""Manual reimbursement at the insured region (``/api/manual-claims``), for agency handlers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from yidi.entrypoints.api.deps import PrincipalDep
from yidi.entrypoints.api.routes.hospital import FeeUploadIn
from yidi.entrypoints.api.schemas.mapping import from_attributes
from yidi.entrypoints.api.schemas.money import SettlementAmountsOut
from yidi.entrypoints.http.requests import container_of
from yidi.kernel.insurance import EncounterType, FilingCategory, HospitalLevel
from yidi.settlement.manual import (
    CHECKLIST,
    MAX_PAGE_SIZE,
    STATES,
    ManualClaimService,
    ManualClaimSummary,
    ManualClaimView,
    Material,
)
from yidi.settlement.payee import Payee, payee_of

router = APIRouter(prefix="/api/manual-claims", tags=["手工报销 manual reimbursement"])


def service_of(request: Request) -> ManualClaimService:
    return container_of(request).manual_claims


class PayeeIn(BaseModel):
    payee_name: str = Field(min_length=1, max_length=50, description="收款人")
    payee_bank: str = Field(min_length=1, max_length=100, description="开户银行")
    payee_account: str = Field(min_length=8, max_length=40, description="银行账号（8至32位数字）")

    def payee(self) -> Payee:
        payee = payee_of(self.payee_name, self.payee_bank, self.payee_account)
        assert payee is not None  # the fields are required
        return payee


class ManualClaimIn(BaseModel):
    id_number: str = Field(min_length=15, max_length=18, description="参保人身份证号")
    treatment_region: str = Field(pattern=r"^\d{6}$", description="就医地区划代码")
    hospital_name: str = Field(min_length=1, max_length=100)
    hospital_level: Annotated[int, Field(ge=1, le=3)]
    hospital_code: str | None = Field(
        None,
        max_length=30,
        description="定点医疗机构编号：名录中的医院（名称、级别、就医地以名录为准）",
    )
    payee: PayeeIn | None = Field(None, description="收款信息（可稍后填写）")
    encounter_type: EncounterType = Field(
        description="21 普通住院、22 外伤住院、24 急诊转住院、11 普通门诊"
    )
    admitted_on: dt.date
    discharged_on: dt.date
    reason: str = Field(default="", max_length=500, description="未备案或不纳入直接结算的原因")
    filing_category: FilingCategory | None = None


class PersonLookupIn(BaseModel):
    id_number: str = Field(min_length=18, max_length=18, description="完整的18位身份证号")


class FilingBriefOut(BaseModel):
    filing_number: str
    category: str | None
    state: str
    treatment_region_code: str
    valid_from: dt.date | None
    valid_until: dt.date | None


class PersonLookupOut(BaseModel):
    id_number_masked: str
    name: str
    insured_region_code: str
    insurance_type: str
    filings: list[FilingBriefOut]


class MaterialsIn(BaseModel):
    received: list[Material] = Field(min_length=1, description="已收到的材料")


class PaymentIn(BaseModel):
    reference: str = Field(min_length=1, max_length=64, description="支付凭证号")


class MaterialOut(BaseModel):
    code: str
    label_zh: str
    received: bool


class ClaimHeadOut(BaseModel):
    """What both the list and the full claim say about a claim (ID number masked)."""

    id: str
    state: str
    person_name: str
    id_number_masked: str
    insured_region_code: str
    treatment_region_code: str
    hospital_name: str
    admitted_on: dt.date
    discharged_on: dt.date


class ManualClaimOut(ClaimHeadOut):
    encounter_type: str
    filing_category: str | None = Field(
        None,
        description="按哪类备案人员待遇报销；null 为未备案 the filed category whose rates apply",
    )
    late_filing_number: str | None = Field(
        None, description="补办备案编号（按补办的备案待遇报销时） the late filing applied"
    )
    checklist: list[MaterialOut]
    missing_materials: list[str]
    fee_lines: list[dict[str, Any]]
    amounts: SettlementAmountsOut | None = Field(
        description="审核测算后的报销金额（元）；未测算为 null。Amounts once computed, else null"
    )
    explanation_zh: list[str]
    catalog_note: str | None
    approved_by: str | None
    payment_reference: str | None
    hospital_code: str | None = Field(None, description="名录中的医院编号；手工填写的医院为 null")
    payee_name: str | None = None
    payee_bank: str | None = None
    payee_account_masked: str = Field("", description="银行账号（仅末四位）")


def out(view: ManualClaimView) -> ManualClaimOut:
    return from_attributes(
        ManualClaimOut,
        view.claim,
        person_name=view.person_name,
        id_number_masked=view.id_number_masked,
        checklist=[
            MaterialOut(code=m.value, label_zh=m.label_zh, received=m in view.materials)
            for m in CHECKLIST
        ],
        missing_materials=[m.label_zh for m in view.missing_materials],
        fee_lines=view.fee_lines,
        amounts=SettlementAmountsOut.of(view.amounts) if view.amounts else None,
        explanation_zh=list(view.result["explanation_zh"]) if view.result else [],
        payee_name=view.payee.name if view.payee else None,
        payee_bank=view.payee.bank if view.payee else None,
        payee_account_masked=view.payee_account_masked,
    )


class ManualClaimSummaryOut(ClaimHeadOut):
    received_on: dt.date = Field(description="受理日期（北京时间）")
    total_amount: Decimal | None = Field(description="医疗费用总额（审核后）")
    fund_paid_amount: Decimal | None = Field(description="基金支付（审核后）")
    patient_share_amount: Decimal | None = Field(description="个人负担（审核后）")
    materials_complete: bool
    missing_materials: list[str]


class ManualClaimPageOut(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[ManualClaimSummaryOut]


def summary_out(item: ManualClaimSummary) -> ManualClaimSummaryOut:
    return from_attributes(
        ManualClaimSummaryOut,
        item,
        id=item.claim_id,
        missing_materials=[m.label_zh for m in item.missing_materials],
    )


@router.get("", response_model=ManualClaimPageOut, summary="本统筹区受理的报销申请（脱敏，分页）")
def search(
    request: Request,
    principal: PrincipalDep,
    state: Annotated[
        str | None, Query(pattern="^(" + "|".join(STATES) + ")$", description="状态 state")
    ] = None,
    received_from: Annotated[
        dt.date | None, Query(alias="from", description="受理日期起 intake from")
    ] = None,
    received_to: Annotated[
        dt.date | None, Query(alias="to", description="受理日期止 intake to (inclusive)")
    ] = None,
    claim_id: Annotated[str | None, Query(max_length=32, description="申请编号")] = None,
    id_number: Annotated[
        str | None, Query(max_length=18, description="完整身份证号 whole ID number")
    ] = None,
    name: Annotated[str | None, Query(max_length=50, description="姓名 name")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="每页条数")] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="偏移")] = 0,
) -> ManualClaimPageOut:
    page = service_of(request).search(
        principal,
        state=state,
        received_from=received_from,
        received_to=received_to,
        claim_id=claim_id,
        id_number=id_number,
        name=name,
        limit=limit,
        offset=offset,
    )
    return from_attributes(
        ManualClaimPageOut, page, items=[summary_out(item) for item in page.items]
    )


@router.post("", response_model=ManualClaimOut, status_code=201, summary="受理手工报销申请")
def create(body: ManualClaimIn, request: Request, principal: PrincipalDep) -> ManualClaimOut:
    return out(
        service_of(request).create(
            principal,
            **body.model_dump(exclude={"hospital_level", "payee"}),
            hospital_level=HospitalLevel(body.hospital_level),
            payee=body.payee.payee() if body.payee else None,
        )
    )


@router.post(
    "/person-lookup",
    response_model=PersonLookupOut,
    summary="按身份证号查询参保人（姓名、参保地、备案；身份证号脱敏，查询留痕）",
)
def person_lookup(
    body: PersonLookupIn, request: Request, principal: PrincipalDep
) -> PersonLookupOut:
    found = service_of(request).lookup_person(principal, body.id_number)
    return PersonLookupOut(
        id_number_masked=found.id_number_masked,
        name=found.name,
        insured_region_code=found.insured_region_code,
        insurance_type=found.insurance_type.value,
        filings=[
            FilingBriefOut(
                filing_number=f.filing_number,
                category=f.category.value if f.category else None,
                state=f.state.value,
                treatment_region_code=f.treatment_region_code,
                valid_from=f.valid_from,
                valid_until=f.valid_until,
            )
            for f in found.filings
        ],
    )


@router.put("/{claim_id}/payee", response_model=ManualClaimOut, summary="填写或修改收款信息")
def payee(
    claim_id: str, body: PayeeIn, request: Request, principal: PrincipalDep
) -> ManualClaimOut:
    return out(service_of(request).set_payee(principal, claim_id, body.payee()))


@router.get("/{claim_id}", response_model=ManualClaimOut, summary="报销申请详情")
def get(claim_id: str, request: Request, principal: PrincipalDep) -> ManualClaimOut:
    return out(service_of(request).get(principal, claim_id))


@router.post("/{claim_id}/materials", response_model=ManualClaimOut, summary="登记收到的材料")
def materials(
    claim_id: str, body: MaterialsIn, request: Request, principal: PrincipalDep
) -> ManualClaimOut:
    return out(service_of(request).record_materials(principal, claim_id, body.received))


@router.put("/{claim_id}/fee-lines", response_model=ManualClaimOut, summary="录入或导入费用明细")
def fee_lines(
    claim_id: str, body: FeeUploadIn, request: Request, principal: PrincipalDep
) -> ManualClaimOut:
    return out(service_of(request).set_fee_lines(principal, claim_id, body.inputs()))


@router.post("/{claim_id}/compute", response_model=ManualClaimOut, summary="按参保地政策试算")
def compute(claim_id: str, request: Request, principal: PrincipalDep) -> ManualClaimOut:
    return out(service_of(request).compute(principal, claim_id))


@router.post(
    "/{claim_id}/approve", response_model=ManualClaimOut, summary="审核通过（材料不全不能通过）"
)
def approve(claim_id: str, request: Request, principal: PrincipalDep) -> ManualClaimOut:
    return out(service_of(request).approve(principal, claim_id))


@router.post("/{claim_id}/payment", response_model=ManualClaimOut, summary="登记支付")
def payment(
    claim_id: str, body: PaymentIn, request: Request, principal: PrincipalDep
) -> ManualClaimOut:
    return out(service_of(request).record_payment(principal, claim_id, body.reference))
