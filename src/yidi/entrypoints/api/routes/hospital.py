"""Hospital direct settlement over REST (``/api/hospital``), for hospital cashiers.

Every route is bound to the cashier's own hospital (``principal.hospital_code``); another
hospital's encounter is answered like a missing one. State-changing routes accept an
``Idempotency-Key`` header: a retry with the same key and body returns the first answer
and changes nothing; the same key with another body is refused (409).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import PlainTextResponse
from pydantic import AliasChoices, BaseModel, Field

from yidi.encounter.commands import (
    AdmissionRequest,
    Credential,
    EncounterDetail,
    FamilyUse,
    FeeLineInput,
    HospitalService,
    PharmacyPurchase,
    SettlementRecord,
    VisitData,
    VisitRegistration,
)
from yidi.encounter.model import STATE_ZH
from yidi.encounter.sql import EncounterRow, FeeLineRow
from yidi.entrypoints.api.deps import IdempotencyKey, PrincipalDep
from yidi.entrypoints.api.schemas.mapping import from_attributes
from yidi.entrypoints.api.schemas.money import SettlementAmountsOut, SettlementLineOut
from yidi.entrypoints.http.requests import container_of
from yidi.integrations.nhsa.fields import national_name
from yidi.kernel.access import Action, Caller, Principal
from yidi.kernel.idempotency import RequestKey, request_key
from yidi.kernel.money import Money
from yidi.kernel.privacy import mask_id_number
from yidi.reference.model import Person

router = APIRouter(prefix="/api/hospital", tags=["医院直接结算 hospital settlement"])

Amount = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)]


def service_of(request: Request) -> HospitalService:
    return container_of(request).hospital


def caller_of(principal: Principal, action: Action, request: Request) -> Caller:
    principal.require(action)
    return principal.hospital_caller()


@dataclass(frozen=True, slots=True)
class CashierWrite:
    """What every state-changing route shares: the calling cashier and the Idempotency-Key.

    The replay itself happens in the service, in the transaction of the change; a route only
    names its request through :meth:`key`.
    """

    request: Request
    principal: Principal
    idempotency_key: str | None

    @property
    def service(self) -> HospitalService:
        return service_of(self.request)

    def caller(self) -> Caller:
        # Checked in the route body, not while FastAPI resolves the dependency, so that a
        # malformed body is still answered 422 before a missing permission is answered 403.
        return caller_of(self.principal, Action.ENCOUNTER_WRITE, self.request)

    def key(self, caller: Caller, body: BaseModel | dict[str, str]) -> RequestKey | None:
        """The key, scoped to the hospital, with a fingerprint of path and body: a retry with
        the same body gets the first answer, the same key with another body is refused."""
        payload = body.model_dump(mode="json") if isinstance(body, BaseModel) else body
        return request_key(
            f"rest:{caller.hospital_code}",
            self.idempotency_key,
            {"path": self.request.url.path, "body": payload},
        )


def cashier_write(
    request: Request, principal: PrincipalDep, idempotency_key: IdempotencyKey = None
) -> CashierWrite:
    return CashierWrite(request, principal, idempotency_key)


CashierWriteDep = Annotated[CashierWrite, Depends(cashier_write)]


# --------------------------------------------------------------------------- schemas


class CredentialIn(BaseModel):
    cert_type: str = Field(
        pattern=r"^0[123]$",
        description="就诊凭证类型：01 医保电子凭证（凭证令牌）、02 居民身份证（须同时填姓名）、03 社会保障卡",
    )
    cert_no: str = Field(min_length=1, max_length=50, description="凭证号码")
    name: str = Field(
        default="",
        max_length=50,
        description="参保人姓名：以居民身份证（02）查询时必填，须与身份证号一致",
    )


class FilingOut(BaseModel):
    filing_number: str | None
    category: str | None
    category_zh: str | None


class AdmissionCheckOut(BaseModel):
    psn_no: str
    name: str
    id_number_masked: str
    insurance_type: str
    person_type: str
    insured_region_code: str
    policy_region: str
    cross_region: bool
    direct_settlement: bool
    filing: FilingOut | None


class AdmissionIn(CredentialIn):
    med_type: str = Field(
        pattern=r"^\d{2,6}$",
        description="医疗类别：21 普通住院、24 急诊转住院（11/13 门急诊、22 外伤住院不直接结算）",
    )
    admitted_at: dt.datetime = Field(description="入院时间（无时区按北京时间）")
    department_code: str = Field(min_length=1, max_length=30)
    department_name: str = Field(default="", max_length=100)
    inpatient_number: str = Field(default="", max_length=30)
    diagnosis_codes: list[str] = Field(
        min_length=1, max_length=20, description="ICD-10 诊断编码，主诊断在前"
    )
    insurance_type: str | None = Field(default=None, pattern=r"^\d{3}$")
    accidental_injury: bool = Field(
        default=False,
        description="外伤（意外伤害）：2017 年模式不直接结算；2022 年模式须填 injury_third_party",
    )
    injury_third_party: bool | None = Field(
        default=None,
        description=(
            "外伤是否涉及第三方：false 参保人已签署《外伤无第三方责任承诺书》（可直接结算），"
            "true 涉及第三方（不直接结算）；null 未填 (injury: third party involved?)"
        ),
    )
    emergency_started_at: dt.datetime | None = Field(
        default=None, description="急诊抢救开始时间（急诊转住院 24 必填；72 小时规则）"
    )


VisitKind = Literal["outpatient", "chronic"]
#: 门诊类别 -> national med_type (普通门诊 11, 门诊慢特病 14)
_VISIT_MED_TYPE = {"outpatient": "11", "chronic": "14"}
_DISEASE_CODE = Field(
    default=None,
    min_length=1,
    max_length=30,
    pattern=r"^[0-9A-Za-z._-]+$",
    description="门诊慢特病病种编码（参保地病种目录代码，如 M03900；须有就诊日有效的认定）",
)


class VisitIn(CredentialIn):
    """门诊挂号 (2201): the visit's time, outpatient number and department; ``kind`` chronic
    with the disease code registers a 门诊慢特病 visit (med_type 14)."""

    registered_at: dt.datetime = Field(description="挂号（就诊）时间（无时区按北京时间）")
    outpatient_number: str = Field(default="", max_length=30, description="门诊号")
    department_code: str = Field(default="", max_length=30)
    department_name: str = Field(default="", max_length=100)
    insurance_type: str | None = Field(default=None, pattern=r"^\d{3}$")
    kind: VisitKind = Field(
        default="outpatient", description="outpatient 普通门诊 | chronic 门诊慢特病"
    )
    disease_code: str | None = _DISEASE_CODE


class VisitDataIn(BaseModel):
    """就诊信息 (2203): the visit's diagnoses; ``kind`` chronic with the disease code makes it
    a 门诊慢特病 visit."""

    diagnosis_codes: list[str] = Field(
        min_length=1, max_length=20, description="ICD-10 诊断编码，主诊断在前"
    )
    department_code: str = Field(default="", max_length=30)
    department_name: str = Field(default="", max_length=100)
    kind: VisitKind = Field(
        default="outpatient", description="outpatient 普通门诊 | chronic 门诊慢特病"
    )
    disease_code: str | None = _DISEASE_CODE


class VisitCancelIn(BaseModel):
    reason: str = Field(min_length=1, max_length=200, description="撤销原因（记入审计）")


class EncounterOut(BaseModel):
    mdtrt_id: str
    psn_no: str
    name: str
    id_number_masked: str
    state: str
    state_zh: str
    med_type: str
    admitted_at: dt.datetime
    discharged_at: dt.datetime | None
    department_code: str
    diagnosis_codes: list[str]
    insured_region_code: str
    treatment_region_code: str
    filing_number: str | None
    filing_category: str | None
    disease_code: str | None = Field(default=None, description="门诊慢特病病种编码（其他就诊为空）")


class FeeLineIn(BaseModel):
    serial: str = Field(min_length=1, max_length=30, description="费用明细流水号 feedetl_sn")
    catalog_code: str = Field(min_length=1, max_length=50, description="医疗目录编码 med_list_codg")
    hospital_item_code: str = Field(default="", max_length=150)
    name: str = Field(default="", max_length=200)
    quantity: Annotated[Decimal, Field(gt=0, max_digits=16, decimal_places=4)]
    unit_price: Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=6)]
    amount: Amount
    occurred_at: dt.datetime


class FeeUploadIn(BaseModel):
    lines: list[FeeLineIn] = Field(min_length=1, max_length=2000)

    def inputs(self) -> list[FeeLineInput]:
        """The lines as the use cases take them (the amount as ``Money``)."""
        return [
            FeeLineInput(**line.model_dump(exclude={"amount"}), amount=Money(line.amount))
            for line in self.lines
        ]


class PurchaseIn(CredentialIn):
    """定点药店购药 (2101 / 2102): the drugs as dispensed, their total and the prescriptions
    (外配处方) they were dispensed on."""

    purchased_at: dt.datetime = Field(description="购药时间（无时区按北京时间）")
    lines: list[FeeLineIn] = Field(min_length=1, max_length=500)
    total_charges: Amount = Field(description="医疗费总额（元），须等于明细合计")
    prescription_numbers: list[Annotated[str, Field(min_length=1, max_length=30)]] = Field(
        default_factory=list, max_length=20, description="外配处方号 rxno"
    )
    insurance_type: str | None = Field(default=None, pattern=r"^\d{3}$")
    use_personal_account: bool = Field(default=False, description="个人账户支付（职工医保）")
    family_account: bool = Field(
        default=False,
        description="家庭共济：用已登记的近亲属（配偶、父母、子女）的个人账户支付。"
        "Pay from a bound relative's personal account (family mutual aid)",
    )
    family_account_holder_psn_no: str | None = Field(
        default=None,
        max_length=30,
        description="家庭共济账户持有人的人员编号（有多个有效登记时必填）the holder's psn_no",
    )


def _purchase(body: PurchaseIn) -> PharmacyPurchase:
    return PharmacyPurchase(
        credential=Credential(body.cert_type, body.cert_no, body.name),
        purchased_at=body.purchased_at,
        lines=tuple(
            FeeLineInput(
                serial=line.serial,
                catalog_code=line.catalog_code,
                hospital_item_code=line.hospital_item_code,
                name=line.name,
                quantity=line.quantity,
                unit_price=line.unit_price,
                amount=Money(line.amount),
                occurred_at=line.occurred_at,
            )
            for line in body.lines
        ),
        total_charges=Money(body.total_charges),
        prescription_numbers=tuple(dict.fromkeys(n.strip() for n in body.prescription_numbers)),
        insurance_type=body.insurance_type,
        use_account=body.use_personal_account,
        family_account=body.family_account,
        family_holder_psn_no=body.family_account_holder_psn_no,
    )


def _family(body: SettleIn | PreSettleIn) -> FamilyUse | None:
    return FamilyUse(body.family_account_holder_psn_no) if body.family_account else None


class FeeLineOut(BaseModel):
    serial: str
    catalog_code: str
    name: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    item_class: str
    fee_category: str
    self_pay_rate: Decimal
    fully_self_paid: Decimal
    over_limit_self_paid: Decimal
    upfront_self_paid: Decimal
    eligible_amount: Decimal
    emergency_pre_admission: bool
    cancelled: bool
    settlement_id: str | None


class FeeCancelIn(BaseModel):
    serials: list[Annotated[str, Field(min_length=1, max_length=30)]] = Field(
        min_length=1, max_length=2000, description='流水号；"0000" 撤销全部未结算明细'
    )


class FeeCancelOut(BaseModel):
    cancelled: list[str]


class AdmissionCancelIn(BaseModel):
    reason: str = Field(min_length=1, max_length=200, description="撤销原因（记入审计）")


class DischargeIn(BaseModel):
    discharged_at: dt.datetime
    diagnosis_codes: list[str] = Field(default_factory=list, max_length=20)


#: the request's total: ``total_charges``; its national name (medfee_sumamt) is still read
_TOTAL_CHARGES_IN = AliasChoices("total_charges", national_name("total_charges"))


class SettleIn(BaseModel):
    total_charges: Amount = Field(
        validation_alias=_TOTAL_CHARGES_IN,
        description="医疗费总额（元），须等于已上传明细合计；旧名 medfee_sumamt 仍可用。"
        "Total charges (yuan), equal to the uploaded lines' total (medfee_sumamt still accepted)",
    )
    use_personal_account: bool = Field(
        default=False, description="个人账户支付（职工医保，至余额）use the personal account"
    )
    family_account: bool = Field(
        default=False,
        description="家庭共济：用已登记的近亲属（配偶、父母、子女）的个人账户支付。"
        "Pay from a bound relative's personal account (family mutual aid)",
    )
    family_account_holder_psn_no: str | None = Field(
        default=None,
        max_length=30,
        description="家庭共济账户持有人的人员编号（有多个有效登记时必填）the holder's psn_no",
    )


class PreSettleIn(BaseModel):
    total_charges: Amount | None = Field(
        default=None,
        validation_alias=_TOTAL_CHARGES_IN,
        description="医疗费总额（元，可省略）；旧名 medfee_sumamt 仍可用。Total charges (optional)",
    )
    discharged_on: dt.date | None = None
    use_personal_account: bool = False
    family_account: bool = Field(
        default=False,
        description="家庭共济：用已登记的近亲属（配偶、父母、子女）的个人账户支付。"
        "Pay from a bound relative's personal account (family mutual aid)",
    )
    family_account_holder_psn_no: str | None = Field(
        default=None,
        max_length=30,
        description="家庭共济账户持有人的人员编号（有多个有效登记时必填）the holder's psn_no",
    )


class SettlementOut(BaseModel):
    kind: str
    setl_id: str | None
    reverses_setl_id: str | None
    state: str | None
    mdtrt_id: str
    psn_no: str
    settled_at: dt.datetime
    amounts: SettlementAmountsOut = Field(description="结算金额（元）settlement amounts (yuan)")
    pooled_fund_rate: Decimal = Field(
        description="统筹基金实际支付比例 the pooled fund's share above the deductible as paid"
    )
    explanation_zh: list[str]
    explanation_en: list[str]
    lines: list[SettlementLineOut]
    policy_version: str
    catalog_version: str
    account_balance_after: Decimal | None = Field(
        default=None, description="本笔结算后个人账户余额（无账户为 null）balance after"
    )


class EncounterDetailOut(BaseModel):
    encounter: EncounterOut
    hospital_name: str
    lines: list[FeeLineOut]
    settlements: list[SettlementOut]


# --------------------------------------------------------------------------- mapping


def encounter_out(row: EncounterRow, person: Person) -> EncounterOut:
    return from_attributes(
        EncounterOut,
        row,
        mdtrt_id=row.id,
        psn_no=person.psn_no,
        name=person.name,
        id_number_masked=mask_id_number(person.id_number),
        state_zh=STATE_ZH[row.state],
        diagnosis_codes=row.diagnoses,
    )


def fee_line_out(row: FeeLineRow) -> FeeLineOut:
    return from_attributes(FeeLineOut, row)


def settlement_out(record: SettlementRecord) -> SettlementOut:
    return from_attributes(
        SettlementOut,
        record,
        setl_id=record.settlement_id,
        reverses_setl_id=record.reverses_id,
        mdtrt_id=record.encounter_id,
        amounts=SettlementAmountsOut.of(record.amounts),
        lines=[SettlementLineOut.model_validate(line) for line in record.lines],
    )


def detail_out(detail: EncounterDetail) -> EncounterDetailOut:
    return EncounterDetailOut(
        encounter=encounter_out(detail.encounter, detail.person),
        hospital_name=detail.hospital.name,
        lines=[fee_line_out(line) for line in detail.lines],
        settlements=[settlement_out(s) for s in detail.settlements],
    )


def _encounter(service: HospitalService, caller: Caller, row: EncounterRow) -> EncounterOut:
    person = service.encounter_person(caller, row.id)
    return encounter_out(row, person)


# --------------------------------------------------------------------------- routes


@router.post("/admission-check", response_model=AdmissionCheckOut, summary="入院身份与备案校验")
def admission_check(
    body: CredentialIn, request: Request, principal: PrincipalDep
) -> AdmissionCheckOut:
    """按社保卡号、身份证号或电子凭证查询参保人及其在本院的有效备案；无有效备案时返回 422 并给出参保地备案电话。"""
    caller = caller_of(principal, Action.ADMISSION_CHECK, request)
    check = service_of(request).admission_check(
        caller, Credential(body.cert_type, body.cert_no, body.name)
    )
    person = check.person
    return AdmissionCheckOut(
        psn_no=check.psn_no,
        name=person.name,
        id_number_masked=mask_id_number(person.id_number),
        insurance_type=person.insurance_type.value,
        person_type=person.person_type.value,
        insured_region_code=person.insured_region_code,
        policy_region=check.policy_region,
        cross_region=check.cross_region,
        direct_settlement=True,
        filing=FilingOut(
            filing_number=check.filing_number,
            category=check.filing_category.value if check.filing_category else None,
            category_zh=check.filing_category.label_zh if check.filing_category else None,
        )
        if check.filing
        else None,
    )


@router.post("/encounters", response_model=EncounterOut, status_code=201, summary="入院办理 (2401)")
def admit(body: AdmissionIn, write: CashierWriteDep) -> EncounterOut:
    caller = write.caller()
    row = write.service.admit(
        caller,
        AdmissionRequest(
            credential=Credential(body.cert_type, body.cert_no, body.name),
            med_type=body.med_type,
            admitted_at=body.admitted_at,
            department_code=body.department_code,
            department_name=body.department_name,
            inpatient_number=body.inpatient_number,
            diagnosis_codes=tuple(code.strip() for code in body.diagnosis_codes),
            insurance_type=body.insurance_type,
            accidental_injury=body.accidental_injury,
            injury_third_party=body.injury_third_party,
            emergency_started_at=body.emergency_started_at,
        ),
        write.key(caller, body),
    )
    return _encounter(write.service, caller, row)


@router.post("/visits", response_model=EncounterOut, status_code=201, summary="门诊挂号 (2201)")
def register_visit(body: VisitIn, write: CashierWriteDep) -> EncounterOut:
    """门诊直接结算的第一步：核验参保人与有效备案，登记一次门诊就诊（不是住院）。``kind`` 为
    chronic 时是门诊慢特病（须填病种编码，参保人须有就诊日有效的认定，本院须已开通门诊慢特病）。之后的
    费用明细、预结算、结算与结算撤销使用 ``/encounters/{mdtrt_id}/…`` 的同一组接口。"""
    caller = write.caller()
    row = write.service.register_visit(
        caller,
        VisitRegistration(
            credential=Credential(body.cert_type, body.cert_no, body.name),
            registered_at=body.registered_at,
            outpatient_number=body.outpatient_number,
            department_code=body.department_code,
            department_name=body.department_name,
            insurance_type=body.insurance_type,
            med_type=_VISIT_MED_TYPE[body.kind],
            disease_code=body.disease_code,
        ),
        write.key(caller, body),
    )
    return _encounter(write.service, caller, row)


@router.post(
    "/visits/{mdtrt_id}/diagnoses", response_model=EncounterOut, summary="门诊就诊信息上传 (2203)"
)
def record_visit(mdtrt_id: str, body: VisitDataIn, write: CashierWriteDep) -> EncounterOut:
    caller = write.caller()
    row = write.service.record_visit(
        caller,
        mdtrt_id,
        VisitData(
            diagnosis_codes=tuple(code.strip() for code in body.diagnosis_codes),
            department_code=body.department_code,
            department_name=body.department_name,
            med_type=_VISIT_MED_TYPE[body.kind],
            disease_code=body.disease_code,
        ),
        write.key(caller, body),
    )
    return _encounter(write.service, caller, row)


@router.post(
    "/visits/{mdtrt_id}/cancel", response_model=EncounterOut, summary="门诊挂号撤销 (2202)"
)
def cancel_registration(mdtrt_id: str, body: VisitCancelIn, write: CashierWriteDep) -> EncounterOut:
    """仅可撤销没有有效费用明细、未结算的门诊挂号；原因记入审计。"""
    caller = write.caller()
    row = write.service.cancel_registration(
        caller, mdtrt_id, write.key(caller, body), reason=body.reason
    )
    return _encounter(write.service, caller, row)


@router.post("/purchases/pre-settle", response_model=SettlementOut, summary="药店预结算 (2101)")
def pre_settle_purchase(
    body: PurchaseIn, request: Request, principal: PrincipalDep
) -> SettlementOut:
    """定点零售药店购药的完整计算结果（参保地药店待遇方案、就医地目录），不写任何数据。"""
    caller = caller_of(principal, Action.ENCOUNTER_WRITE, request)
    done = service_of(request).pre_settle_purchase(caller, _purchase(body))
    return settlement_out(done.record)


@router.post("/purchases", response_model=SettlementOut, status_code=201, summary="药店结算 (2102)")
def settle_purchase(body: PurchaseIn, write: CashierWriteDep) -> SettlementOut:
    """核验参保人与备案、登记购药并结算，一个事务；撤销用
    ``/encounters/{mdtrt_id}/settlements/{setl_id}/reversal``（2103）。"""
    caller = write.caller()
    done = write.service.settle_purchase(caller, _purchase(body), write.key(caller, body))
    return settlement_out(done.record)


@router.get("/encounters", response_model=list[EncounterOut], summary="本院就诊列表")
def list_encounters(
    request: Request,
    principal: PrincipalDep,
    state: Annotated[
        str | None, Query(pattern="^(registered|admitted|discharged|settled|cancelled)$")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[EncounterOut]:
    caller = caller_of(principal, Action.ENCOUNTER_READ, request)
    rows = service_of(request).encounters(caller, state=state, limit=limit, offset=offset)
    return [encounter_out(row, person) for row, person in rows]


@router.get(
    "/encounters/{mdtrt_id}",
    response_model=EncounterDetailOut,
    summary="就诊详情（含逐条结算说明）",
)
def encounter_detail(
    mdtrt_id: str, request: Request, principal: PrincipalDep
) -> EncounterDetailOut:
    caller = caller_of(principal, Action.ENCOUNTER_READ, request)
    return detail_out(service_of(request).encounter_detail(caller, mdtrt_id, audited=True))


@router.get(
    "/encounters/{mdtrt_id}/statement",
    response_class=PlainTextResponse,
    summary="结算说明（患者留存）",
)
def statement(mdtrt_id: str, request: Request, principal: PrincipalDep) -> str:
    """患者可带走的结算说明：每条明细的分类和理由，以及每一步的计算。"""
    caller = caller_of(principal, Action.ENCOUNTER_READ, request)
    detail = service_of(request).encounter_detail(caller, mdtrt_id, audited=True)
    active = [s for s in detail.settlements if s.kind == "settle" and s.state == "active"]
    out = [
        f"{detail.hospital.name} 异地就医住院结算说明",
        f"就诊ID {detail.encounter.id}　参保人 {detail.person.name}（{mask_id_number(detail.person.id_number)}）",
    ]
    if not active:
        out.append("尚未结算。")
        return "\n".join(out) + "\n"
    record = active[-1]
    out.append(f"结算ID {record.settlement_id}　结算时间 {record.settled_at:%Y-%m-%d %H:%M}")
    out.append("")
    out.append("一、费用明细")
    for line in record.lines:
        out.append(
            f"  {line['serial']:>4} {line['name']} {line['line_amount']} 元：{line['reason_zh']}"
        )
    out.append("")
    out.append("二、计算过程")
    out.extend(f"  {index}. {text}" for index, text in enumerate(record.explanation_zh, 1))
    amounts = record.amounts
    out.append("")
    out.append(
        f"医疗费总额 {amounts['total_charges']} 元，基金支付 {amounts['fund_paid_total']} 元，"
        f"个人负担 {amounts['patient_share']} 元（其中现金 {amounts['cash_paid']} 元）。"
    )
    return "\n".join(out) + "\n"


@router.post(
    "/encounters/{mdtrt_id}/fees", response_model=list[FeeLineOut], summary="费用明细上传 (2301)"
)
def upload_fees(mdtrt_id: str, body: FeeUploadIn, write: CashierWriteDep) -> list[FeeLineOut]:
    caller = write.caller()
    rows = write.service.upload_fees(caller, mdtrt_id, body.inputs(), write.key(caller, body))
    return [fee_line_out(row) for row in rows]


@router.post(
    "/encounters/{mdtrt_id}/fees/cancel", response_model=FeeCancelOut, summary="费用明细撤销 (2302)"
)
def cancel_fees(mdtrt_id: str, body: FeeCancelIn, write: CashierWriteDep) -> FeeCancelOut:
    caller = write.caller()
    cancelled = write.service.cancel_fees(caller, mdtrt_id, body.serials, write.key(caller, body))
    return FeeCancelOut(cancelled=cancelled)


@router.post(
    "/encounters/{mdtrt_id}/discharge", response_model=EncounterOut, summary="出院办理 (2402)"
)
def discharge(mdtrt_id: str, body: DischargeIn, write: CashierWriteDep) -> EncounterOut:
    caller = write.caller()
    row = write.service.discharge(
        caller,
        mdtrt_id,
        body.discharged_at,
        diagnosis_codes=tuple(body.diagnosis_codes),
        key=write.key(caller, body),
    )
    return _encounter(write.service, caller, row)


@router.post(
    "/encounters/{mdtrt_id}/discharge/cancel",
    response_model=EncounterOut,
    summary="出院撤销 (2405)",
)
def cancel_discharge(mdtrt_id: str, write: CashierWriteDep) -> EncounterOut:
    """结算前撤销出院登记，回到在院状态；已结算须先撤销结算。"""
    caller = write.caller()
    row = write.service.cancel_discharge(caller, mdtrt_id, write.key(caller, {}))
    return _encounter(write.service, caller, row)


@router.post(
    "/encounters/{mdtrt_id}/cancel", response_model=EncounterOut, summary="入院撤销 (2404)"
)
def cancel_admission(
    mdtrt_id: str, body: AdmissionCancelIn, write: CashierWriteDep
) -> EncounterOut:
    """仅可撤销尚未上传费用明细的入院登记；原因记入审计。"""
    caller = write.caller()
    row = write.service.cancel_admission(
        caller, mdtrt_id, write.key(caller, body), reason=body.reason
    )
    return _encounter(write.service, caller, row)


@router.post(
    "/encounters/{mdtrt_id}/pre-settle", response_model=SettlementOut, summary="预结算 (2303)"
)
def pre_settle(
    mdtrt_id: str, body: PreSettleIn, request: Request, principal: PrincipalDep
) -> SettlementOut:
    """完整计算结果，不提交任何数据。"""
    caller = caller_of(principal, Action.ENCOUNTER_WRITE, request)
    record = service_of(request).pre_settle(
        caller,
        mdtrt_id,
        None if body.total_charges is None else Money(body.total_charges),
        body.discharged_on,
        use_account=body.use_personal_account,
        family=_family(body),
    )
    return settlement_out(record)


@router.post("/encounters/{mdtrt_id}/settle", response_model=SettlementOut, summary="结算 (2304)")
def settle(mdtrt_id: str, body: SettleIn, write: CashierWriteDep) -> SettlementOut:
    caller = write.caller()
    record = write.service.settle(
        caller,
        mdtrt_id,
        Money(body.total_charges),
        write.key(caller, body),
        use_account=body.use_personal_account,
        family=_family(body),
    )
    return settlement_out(record)


@router.post(
    "/encounters/{mdtrt_id}/settlements/{setl_id}/reversal",
    response_model=SettlementOut,
    summary="结算撤销 (2305)",
)
def reverse(mdtrt_id: str, setl_id: str, write: CashierWriteDep) -> SettlementOut:
    caller = write.caller()
    record = write.service.reverse(
        caller, mdtrt_id, setl_id, write.key(caller, {"setl_id": setl_id})
    )
    return settlement_out(record)


class SettlementTotalsOut(BaseModel):
    insured_region_code: str
    treatment_region_code: str
    settlements: int
    total: Decimal
    fund_paid: Decimal
    patient_share: Decimal
    owed_to_treatment_region: Decimal


@router.get(
    "/statistics",
    response_model=list[SettlementTotalsOut],
    summary="直接结算统计（按参保地、就医地）",
)
def statistics(request: Request, principal: PrincipalDep) -> list[SettlementTotalsOut]:
    """有效（未撤销）直接结算的人次与金额，按参保地和就医地汇总；不含个人信息。"""
    principal.require(Action.STATISTICS_READ)
    return [
        SettlementTotalsOut(
            insured_region_code=row["insured_region_code"],
            treatment_region_code=row["treatment_region_code"],
            settlements=row["settlements"],
            total=row["total"].yuan,
            fund_paid=row["fund_paid"].yuan,
            patient_share=row["patient_share"].yuan,
            owed_to_treatment_region=row["owed_to_treatment_region"].yuan,
        )
        for row in service_of(request).statistics()
    ]
