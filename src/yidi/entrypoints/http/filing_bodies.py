"""The filing request bodies (附件1 fields and evidence) that the JSON API receives and the
command line reads from a JSON file (``yidi filing create``): one validation for both."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from yidi.filing.model.evidence import Evidence, EvidenceKind
from yidi.filing.model.record import (
    Delegate,
    DesignatedInstitution,
    FilingRecord,
    SignedBy,
)
from yidi.kernel.identity import Gender
from yidi.kernel.insurance import FilingCategory, HospitalLevel, InsuranceType, PersonType


class InstitutionBody(BaseModel):
    name: str = Field(min_length=1, max_length=100, description="医疗机构名称 institution name")
    level: HospitalLevel | None = Field(None, description="级别 1/2/3 一级/二级/三级 level")
    code: str | None = Field(None, max_length=30, description="定点医疗机构编码 institution code")


class DelegateBody(BaseModel):
    name: str | None = Field(None, max_length=50, description="被委托人姓名 delegate's name")
    relation: str | None = Field(None, max_length=20, description="与本人关系 relation")
    id_number: str | None = Field(None, max_length=18, description="被委托人身份证号 delegate's ID")


class FilingRecordBody(BaseModel):
    """附件1 异地就医登记备案表 fields. Drafts may leave fields empty; submission validates all."""

    model_config = ConfigDict(extra="forbid")

    insured_region_code: str = Field(
        min_length=6, max_length=6, description="参保地行政区划代码 insured pooling region"
    )
    name: str = Field(min_length=1, max_length=50, description="姓名 name")
    social_security_number: str = Field(
        min_length=15, max_length=18, description="社会保障号码（身份证号） resident ID number"
    )
    gender: Gender | None = Field(None, description="性别 1男 2女 gender")
    insurance_type: InsuranceType | None = Field(
        None, description="险种 310职工医保 390城乡居民医保 insurance type"
    )
    category: FilingCategory | None = Field(None, description="人员类别 filing category")
    person_type: PersonType | None = Field(None, description="人员身份 person type")
    social_security_card_number: str | None = Field(
        None, max_length=20, description="社会保障卡号（可选） card number"
    )
    has_second_generation_card: bool | None = Field(
        None, description="是否持二代社会保障卡 holds a second-generation card"
    )
    home_address: str | None = Field(
        None, description="参保地家庭住址 home address", max_length=200
    )
    contact_address: str | None = Field(
        None, description="异地联系地址（现住址） address at the destination", max_length=200
    )
    phone: str | None = Field(None, max_length=30, description="联系电话 phone")
    mobile: str | None = Field(None, max_length=20, description="手机 mobile")
    destination_province_code: str | None = Field(
        None, max_length=6, description="转往省 destination province"
    )
    destination_prefecture_code: str | None = Field(
        None, max_length=6, description="转往地区（市、州） destination prefecture"
    )
    destination_county_code: str | None = Field(
        None, max_length=6, description="转往县（区） destination county"
    )
    designated_institutions: list[InstitutionBody] = Field(
        default_factory=list, max_length=10, description="医疗机构名称及级别 institutions"
    )
    signed_by: SignedBy | None = Field(None, description="本人或被委托人签名 signed by")
    delegate: DelegateBody | None = Field(None, description="被委托人 delegate")
    filled_on: dt.date | None = Field(None, description="填表日期 date filled")
    admitted_on: dt.date | None = Field(None, description="急诊入院日期 emergency admission day")
    promise_signed: bool = Field(
        False,
        description=(
            "已签署个人承诺书，以承诺代替证明材料（2022年模式起，长期居住类） "
            "a signed personal promise stands in for the proof (2022 model, long-term types)"
        ),
    )
    late_care_from: dt.date | None = Field(
        None,
        description=(
            "补办备案：所补就医的首日（2022年模式起，就医后补办） "
            "filing after the care: first day of the care it covers (2022 model)"
        ),
    )
    late_care_until: dt.date | None = Field(
        None,
        description="补办备案：所补就医的末日（出院日） filing after the care: last day of the care",
    )

    def to_record(self) -> FilingRecord:
        return FilingRecord(
            **self.model_dump(exclude={"designated_institutions", "delegate"}),
            designated_institutions=tuple(
                DesignatedInstitution(i.name, i.level, i.code) for i in self.designated_institutions
            ),
            delegate=Delegate(**self.delegate.model_dump()) if self.delegate else None,
        )


class EvidenceBody(BaseModel):
    kind: EvidenceKind = Field(description="材料种类 kind of document")
    document_number: str | None = Field(None, max_length=64, description="编号 number")
    issuer: str | None = Field(None, max_length=100, description="出具单位 issuer")
    issued_on: dt.date | None = Field(None, description="出具日期 issue date")
    issuer_region_code: str | None = Field(
        None, max_length=6, description="出具单位所在地区划 issuer's region"
    )
    issuer_hospital_level: HospitalLevel | None = Field(
        None, description="出具医院级别 issuing hospital level"
    )
    issuer_is_top_specialist: bool = Field(
        False, description="是否最高级别专科医院 top specialist hospital"
    )

    def to_evidence(self) -> Evidence:
        return Evidence(**self.model_dump())


class CreateFilingRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    record: FilingRecordBody = Field(description="备案表内容 filing record")
    evidence: list[EvidenceBody] = Field(
        default_factory=list, max_length=20, description="证明材料 evidence"
    )
