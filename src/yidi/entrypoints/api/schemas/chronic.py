"""Request and response bodies of the 门诊慢特病 认定 API."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from yidi.chronic.commands import RecognitionDetail
from yidi.chronic.model import Disease, DiseaseList, Evidence, NewRecognition, Recognition
from yidi.chronic.ports import PersonRef
from yidi.kernel.privacy import mask_id_number

ShortText = Annotated[str, StringConstraints(max_length=100)]


class EvidenceBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hospital_code: ShortText = Field(default="", description="鉴定医院（定点医疗机构编号或名称）")
    doctor_name: ShortText = Field(default="", description="鉴定医师 doctor")
    reference: ShortText = Field(default="", description="材料编号（诊断证明、鉴定表） document")

    def to_evidence(self) -> Evidence:
        return Evidence(self.hospital_code, self.doctor_name, self.reference)


class CreateRecognition(BaseModel):
    """认定: who, which disease (a code of the insured region's list), from when, on what evidence."""

    model_config = ConfigDict(extra="forbid")

    id_number: str = Field(
        min_length=15, max_length=18, description="参保人员身份证号 the person's ID number"
    )
    disease_code: str = Field(
        min_length=1, max_length=30, description="门慢门特病种代码 disease code, e.g. M03900"
    )
    begin_on: dt.date = Field(description="认定开始日期 first day")
    end_on: dt.date | None = Field(default=None, description="结束日期（含；空为长期） last day")
    evidence: EvidenceBody = Field(description="认定依据 evidence")

    def to_request(self) -> NewRecognition:
        return NewRecognition(
            self.disease_code, self.begin_on, self.end_on, self.evidence.to_evidence()
        )


class EndRecognition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    end_on: dt.date = Field(description="终止日期（含） last day")
    reason: str = Field(min_length=2, max_length=400, description="终止原因 reason")


class EvidenceOut(BaseModel):
    hospital_code: str = Field(description="鉴定医院")
    doctor_name: str = Field(description="鉴定医师")
    reference: str = Field(description="材料编号")


class RecognitionSummaryOut(BaseModel):
    """A list row: the ID number masked."""

    recognition_id: str = Field(description="认定ID")
    psn_no: str = Field(description="人员编号")
    id_number_masked: str = Field(description="身份证号（脱敏）")
    insured_region_code: str = Field(description="参保地区划")
    disease_code: str = Field(description="病种代码")
    disease_name: str = Field(description="病种名称")
    begin_on: dt.date = Field(description="开始日期")
    end_on: dt.date | None = Field(description="结束日期")
    state: str = Field(description="状态 active / ended")
    state_label: str = Field(description="状态（中文）")


class RecognitionPageOut(BaseModel):
    total: int
    items: list[RecognitionSummaryOut]


class BenefitOut(BaseModel):
    effective_on: dt.date = Field(description="生效日期")
    annual_limit: str | None = Field(description="年度限额（元）")
    rate: str | None = Field(description="支付比例")
    reference: str = Field(description="依据")
    illustrative: bool = Field(description="示例值")


class DiseaseOut(BaseModel):
    code: str = Field(description="病种代码")
    name: str = Field(description="病种名称")
    national_name: str = Field(description="国家病种目录名称")
    list: str = Field(description="national 跨省直接结算病种 / regional 参保地病种")
    list_label: str = Field(description="目录（中文）")
    valid_from: dt.date = Field(description="起始日期")
    valid_until: dt.date | None = Field(description="截止日期（不含）")
    verified: bool = Field(description="日期与范围已核实")
    reference: str = Field(description="出处")
    benefit: BenefitOut | None = Field(description="当日的年度限额与支付比例（参保地政策）")


class DiseaseListOut(BaseModel):
    region_code: str | None = Field(description="合并的参保地病种文件所属区划（空：仅全国目录）")
    on: dt.date = Field(description="目录日期")
    illustrative: bool = Field(description="参保地部分为示例值")
    diseases: list[DiseaseOut]


class RecognitionOut(RecognitionSummaryOut):
    """The full record (audited read): the person's name and ID number, the evidence."""

    name: str = Field(description="姓名")
    id_number: str = Field(description="身份证号")
    evidence: EvidenceOut
    recorded_by: str = Field(description="经办人")
    recorded_at: dt.datetime = Field(description="认定时间")
    ended_by: str | None = Field(description="终止经办人")
    ended_at: dt.datetime | None = Field(description="终止时间")
    end_reason: str = Field(description="终止原因")
    disease: DiseaseOut | None = Field(description="开始日期的病种目录条目")
    created: bool = Field(description="本次请求新建（false：已有相同认定或重试）")


def disease_out(disease: Disease, on: dt.date) -> DiseaseOut:
    benefit = disease.benefit_on(on)
    return DiseaseOut(
        code=disease.code,
        name=disease.name,
        national_name=disease.national_name,
        list=disease.scope.value,
        list_label=disease.scope.label_zh,
        valid_from=disease.valid_from,
        valid_until=disease.valid_until,
        verified=disease.verified,
        reference=disease.reference,
        benefit=None
        if benefit is None
        else BenefitOut(
            effective_on=benefit.effective_on,
            annual_limit=None if benefit.annual_limit is None else str(benefit.annual_limit),
            rate=None if benefit.rate is None else str(benefit.rate),
            reference=benefit.reference,
            illustrative=benefit.illustrative,
        ),
    )


def disease_list_out(diseases: DiseaseList, on: dt.date) -> DiseaseListOut:
    return DiseaseListOut(
        region_code=diseases.region_code,
        on=on,
        illustrative=diseases.illustrative,
        diseases=[disease_out(d, on) for d in diseases.on(on)],
    )


def _summary_fields(r: Recognition) -> dict[str, object]:
    return {
        "recognition_id": r.id,
        "psn_no": r.psn_no,
        "insured_region_code": r.insured_region_code,
        "disease_code": r.disease_code,
        "disease_name": r.disease_name,
        "begin_on": r.begin_on,
        "end_on": r.end_on,
        "state": r.state.value,
        "state_label": r.state.label_zh,
    }


def summary_out(r: Recognition, person: PersonRef) -> RecognitionSummaryOut:
    return RecognitionSummaryOut.model_validate(
        {**_summary_fields(r), "id_number_masked": mask_id_number(person.id_number)}
    )


def recognition_out(detail: RecognitionDetail) -> RecognitionOut:
    r, person = detail.recognition, detail.person
    return RecognitionOut.model_validate(
        {
            **_summary_fields(r),
            "id_number_masked": mask_id_number(person.id_number),
            "name": person.name,
            "id_number": person.id_number,
            "evidence": {
                "hospital_code": r.evidence.hospital_code,
                "doctor_name": r.evidence.doctor_name,
                "reference": r.evidence.reference,
            },
            "recorded_by": r.recorded_by,
            "recorded_at": r.recorded_at,
            "ended_by": r.ended_by,
            "ended_at": r.ended_at,
            "end_reason": r.end_reason,
            "disease": None if detail.disease is None else disease_out(detail.disease, r.begin_on),
            "created": detail.created,
        }
    )
