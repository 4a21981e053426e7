"""Request and response bodies of the filing API (备案接口), described in Chinese and English."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from yidi.entrypoints.api.schemas.mapping import from_attributes
from yidi.entrypoints.http.filing_bodies import EvidenceBody, FilingRecordBody
from yidi.filing.model.evidence import Evidence, EvidenceKind
from yidi.filing.model.lifecycle import FilingState
from yidi.filing.model.record import (
    FilingRecord,
    RegistrationType,
    SignedBy,
)
from yidi.filing.queries import DuplicateConflict, EmergencyDue, FilingDetail, FilingSummary
from yidi.filing.record_json import record_to_dict
from yidi.kernel.identity import Gender
from yidi.kernel.insurance import FilingCategory, HospitalLevel, InsuranceType, PersonType
from yidi.kernel.workdays import PROVISIONAL_NOTE_ZH, CalendarSource


class SupplyDocumentsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    evidence: list[EvidenceBody] = Field(
        min_length=1, max_length=20, description="补齐的证明材料 the promised documents"
    )


class PromisesDueOut(BaseModel):
    moved: list[str] = Field(description="已按其他临时外出就医人员处理的备案ID moved filings")


class ReasonRequest(BaseModel):
    reason: str = Field(min_length=1, max_length=500, description="原因 reason")


class ApproveRequest(BaseModel):
    valid_from: dt.date | None = Field(None, description="有效期起 valid from (default: rules)")
    valid_until: dt.date | None = Field(None, description="有效期止 valid until (default: rules)")


class ChangeRequest(BaseModel):
    record: FilingRecordBody = Field(description="变更后的备案表 the changed record")
    reason: str | None = Field(None, max_length=500, description="变更原因 reason")
    valid_from: dt.date | None = Field(None, description="有效期起 valid from")
    valid_until: dt.date | None = Field(None, description="有效期止 valid until")


class EventOut(BaseModel):
    action: str = Field(description="操作 action")
    from_state: str | None = Field(description="原状态 from")
    to_state: str = Field(description="新状态 to")
    actor_id: str = Field(description="操作人 actor")
    actor_role: str = Field(description="角色 role")
    at: dt.datetime = Field(description="时间 when")
    reason: str | None = Field(description="原因 why")
    version: int = Field(description="版本 version")


class VersionOut(BaseModel):
    version_id: str
    version: int = Field(description="版本号 version")
    state: FilingState = Field(description="状态 state")
    registration_type: RegistrationType = Field(description="登记类别 1新增 2变更")
    filed_on: dt.date | None = Field(description="备案日期 filed on")


# --- responses: the record and its evidence as the API returns them ------------------------


def _unset(value: object) -> bool:
    return value is None


class InstitutionOut(BaseModel):
    name: str = Field(description="医疗机构名称 institution name")
    level: HospitalLevel | None = Field(description="级别 1/2/3 一级/二级/三级 level")
    code: str | None = Field(description="定点医疗机构编码 institution code")


class DelegateOut(BaseModel):
    name: str | None = Field(description="被委托人姓名 delegate's name")
    relation: str | None = Field(description="与本人关系 relation")
    id_number: str | None = Field(description="被委托人身份证号 delegate's ID")


class FilingRecordOut(BaseModel):
    """附件1 every field of the form, as stored (:func:`yidi.filing.record_json.record_to_dict`):
    enums by value, dates ISO; the 2022 承诺制 fields appear only when set."""

    insured_region_code: str | None = Field(description="参保地行政区划代码 insured pooling region")
    name: str | None = Field(description="姓名 name")
    gender: Gender | None = Field(description="性别 1男 2女 gender")
    insurance_type: InsuranceType | None = Field(
        description="险种 310职工医保 390城乡居民医保 insurance type"
    )
    category: FilingCategory | None = Field(description="人员类别 filing category")
    person_type: PersonType | None = Field(description="人员身份 person type")
    registration_type: RegistrationType = Field(description="登记类别 1新增 2变更")
    social_security_number: str | None = Field(
        description="社会保障号码（身份证号） resident ID number"
    )
    social_security_card_number: str | None = Field(description="社会保障卡号 card number")
    has_second_generation_card: bool | None = Field(
        description="是否持二代社会保障卡 holds a second-generation card"
    )
    home_address: str | None = Field(description="参保地家庭住址 home address")
    contact_address: str | None = Field(
        description="异地联系地址（现住址） address at the destination"
    )
    phone: str | None = Field(description="联系电话 phone")
    mobile: str | None = Field(description="手机 mobile")
    destination_province_code: str | None = Field(description="转往省 destination province")
    destination_prefecture_code: str | None = Field(
        description="转往地区（市、州） destination prefecture"
    )
    destination_county_code: str | None = Field(description="转往县（区） destination county")
    designated_institutions: list[InstitutionOut] = Field(
        description="医疗机构名称及级别 institutions"
    )
    signed_by: SignedBy | None = Field(description="本人或被委托人签名 signed by")
    delegate: DelegateOut | None = Field(description="被委托人 delegate")
    filled_on: dt.date | None = Field(description="填表日期 date filled")
    admitted_on: dt.date | None = Field(description="急诊入院日期 emergency admission day")
    filing_number: str | None = Field(description="备案编号 filing number")
    handling_agency: str | None = Field(description="经办机构 handling agency")
    handler: str | None = Field(description="经办人 handler")
    handled_on: dt.date | None = Field(description="经办日期（备案日期） handled on")
    valid_from: dt.date | None = Field(description="有效期起 valid from")
    valid_until: dt.date | None = Field(description="有效期止 valid until")
    version: int = Field(description="版本号 version")
    promise_signed: bool | None = Field(
        None, exclude_if=_unset, description="已签署个人承诺书（仅在已签时） a signed promise"
    )
    promise_documents_due_on: dt.date | None = Field(
        None, exclude_if=_unset, description="承诺补齐材料期限 promised documents due"
    )
    promise_documents_supplied_on: dt.date | None = Field(
        None, exclude_if=_unset, description="补齐材料日期 promised documents supplied on"
    )
    promise_lapsed_from: FilingCategory | None = Field(
        None,
        exclude_if=_unset,
        description="逾期未补齐前的人员类别 category before the promise lapsed",
    )
    false_promise_on: dt.date | None = Field(
        None, exclude_if=_unset, description="认定虚假承诺日期 false promise found on"
    )
    fund_recovery_required: bool | None = Field(
        None, exclude_if=_unset, description="需追回医保基金（仅在需要时） fund recovery required"
    )
    late_care_from: dt.date | None = Field(
        None, exclude_if=_unset, description="补办备案所补就医首日 late filing: care from"
    )
    late_care_until: dt.date | None = Field(
        None, exclude_if=_unset, description="补办备案所补就医末日 late filing: care until"
    )


def record_out(record: FilingRecord) -> FilingRecordOut:
    """The record in its stored JSON form, typed (the same keys and values)."""
    return FilingRecordOut.model_validate(record_to_dict(record))


class EvidenceFileOut(BaseModel):
    sha256: str = Field(description="扫描件SHA-256 scan's sha256")
    filename: str = Field(description="文件名 file name")
    media_type: str = Field(description="类型 media type")


class EvidenceOut(BaseModel):
    kind: EvidenceKind = Field(description="材料种类 kind of document")
    kind_label: str = Field(description="材料种类（中文） kind label")
    document_number: str | None = Field(description="编号 number")
    issuer: str | None = Field(description="出具单位 issuer")
    issued_on: dt.date | None = Field(description="出具日期 issue date")
    issuer_region_code: str | None = Field(description="出具单位所在地区划 issuer's region")
    file: EvidenceFileOut | None = Field(description="扫描件 the scan, when kept")


class WarningOut(BaseModel):
    code: str = Field(description="提示代码 code")
    message: str = Field(description="提示 message")
    message_en: str = Field(description="message in English")


class DuplicateFilingOut(BaseModel):
    filing_id: str = Field(description="备案ID filing id")
    insured_region_code: str = Field(description="参保地 insured region")
    state: FilingState = Field(description="状态 state")


DeadlineSource = Annotated[
    CalendarSource | None,
    Field(description="截止日所用节假日日历 calendar the deadline was counted on"),
]
DeadlineNote = Annotated[
    str | None,
    Field(description="截止日说明（按法定节假日推算时） note on a provisional deadline"),
]


class FilingOut(BaseModel):
    """The full record (returned only to callers in scope; every read is audited)."""

    filing_id: str = Field(description="备案ID（各版本共用） filing id")
    version_id: str = Field(description="当前版本ID current version id")
    state: FilingState = Field(description="状态 state")
    state_label: str = Field(description="状态（中文） state label")
    state_reason: str | None = Field(description="退回/撤销原因 reason")
    record: FilingRecordOut = Field(description="附件1 全部字段 every field of the form")
    evidence: list[EvidenceOut] = Field(description="证明材料 evidence")
    events: list[EventOut] = Field(description="状态流转记录 history")
    versions: list[VersionOut] = Field(description="全部版本 all versions")
    warnings: list[WarningOut] = Field(description="提示 warnings")
    missing_evidence: list[str] = Field(description="缺少的证明材料 missing evidence")
    emergency_deadline: dt.date | None = Field(description="急诊材料提交截止日 deadline")
    emergency_deadline_source: DeadlineSource = None
    emergency_deadline_note: DeadlineNote = None
    source: str = Field(description="来源 counter/import")
    rule_model: str | None = Field(
        None, description="适用的全国备案规则（2017/2022） national filing model applied"
    )
    filing_class: str | None = Field(
        None, description="备案人员大类 long_term/temporary (2022 model)"
    )
    filing_class_label: str | None = Field(None, description="备案人员大类（中文）")
    promise_documents_due_on: dt.date | None = Field(
        None, description="承诺补齐材料期限 promised documents due"
    )


class FilingSummaryOut(BaseModel):
    """One list line; ID number and phones are masked."""

    filing_id: str
    filing_number: str | None = Field(description="备案编号 filing number")
    state: FilingState
    version: int
    name: str = Field(description="姓名 name")
    id_number_masked: str = Field(description="身份证号（脱敏） masked ID")
    insured_region_code: str = Field(description="参保地 insured region")
    category: FilingCategory | None = Field(description="人员类别 category")
    destination_code: str | None = Field(description="就医地 destination")
    valid_from: dt.date | None
    valid_until: dt.date | None
    phone_masked: str | None
    mobile_masked: str | None
    source: str
    updated_at: dt.datetime
    review_due: dt.date | None = Field(
        default=None,
        description="审核期限（线上提交、待审核） review due date of an online submission",
    )
    review_overdue: bool = Field(default=False, description="已超期 review overdue")
    review_due_today: bool = Field(default=False, description="今日到期 review due today")


class FilingPageOut(BaseModel):
    total: int = Field(description="总数 total matches")
    items: list[FilingSummaryOut]


class CompletenessOut(BaseModel):
    """One line of a re-collection list (待补充备案信息清单), masked."""

    filing_number: str = Field(description="备案编号 filing number")
    name: str = Field(description="姓名 name")
    id_number_masked: str = Field(description="身份证号（脱敏） ID number, masked")
    phone_masked: str = Field(description="联系电话（脱敏） phone, masked")
    mobile_masked: str = Field(description="手机（脱敏） mobile, masked")
    needs_second_generation_card: bool = Field(description="未办理二代社保卡 no 2nd-gen card")
    missing_fields: list[str] = Field(description="缺失的必填项 mandatory fields missing")


class IncompletePageOut(BaseModel):
    """One page of 待补充的历史备案, paged by the database; past the end ``items`` is empty."""

    total: int = Field(description="总数 total matches")
    offset: int = Field(description="偏移 offset of the first item")
    items: list[CompletenessOut]


class EmergencyDueOut(BaseModel):
    filing: FilingSummaryOut
    admitted_on: dt.date = Field(description="入院日期 admitted on")
    deadline: dt.date | None = Field(description="截止日期 deadline")
    working_days_left: int | None = Field(description="剩余工作日 working days left")
    late: bool = Field(description="是否已逾期 late")
    deadline_source: DeadlineSource = None
    deadline_note: DeadlineNote = None


class DuplicateOut(BaseModel):
    id_number_masked: str
    filings: list[DuplicateFilingOut]


def summary_out(summary: FilingSummary) -> FilingSummaryOut:
    return from_attributes(FilingSummaryOut, summary)


def emergency_out(due: EmergencyDue) -> EmergencyDueOut:
    return from_attributes(
        EmergencyDueOut,
        due,
        filing=summary_out(due.summary),
        deadline_note=PROVISIONAL_NOTE_ZH if due.deadline_provisional else None,
    )


def duplicate_out(conflict: DuplicateConflict) -> DuplicateOut:
    return DuplicateOut(
        id_number_masked=conflict.id_number_masked,
        filings=[
            DuplicateFilingOut(filing_id=f, insured_region_code=r, state=s)
            for f, r, s in conflict.filings
        ],
    )


def evidence_out(evidence: Evidence) -> EvidenceOut:
    file = evidence.file
    return from_attributes(
        EvidenceOut,
        evidence,
        kind_label=evidence.kind.label_zh,
        file=from_attributes(EvidenceFileOut, file) if file else None,
    )


def filing_out(detail: FilingDetail) -> FilingOut:
    due = detail.emergency_due
    return from_attributes(
        FilingOut,
        detail,
        state_label=detail.state.label_zh,
        record=record_out(detail.record),
        evidence=[evidence_out(e) for e in detail.evidence],
        events=[
            from_attributes(
                EventOut,
                e,
                action=e.action.value,
                from_state=e.from_state.value if e.from_state else None,
                to_state=e.to_state.value,
            )
            for e in detail.events
        ],
        versions=[
            from_attributes(VersionOut, v, registration_type=v.record.registration_type)
            for v in detail.versions
        ],
        warnings=[from_attributes(WarningOut, w) for w in detail.warnings],
        missing_evidence=list(detail.missing_evidence),
        emergency_deadline_source=due.source if due else None,
        emergency_deadline_note=due.note_zh if due else None,
        **_model_fields(detail.record),
    )


def _model_fields(record: FilingRecord) -> dict[str, Any]:
    """Which national model the record falls under (by its handling or filling day)."""
    from yidi.policy.national import national_model

    day = record.handled_on or record.filled_on
    if day is None or record.category is None:
        return {
            "rule_model": None,
            "filing_class": None,
            "filing_class_label": None,
            "promise_documents_due_on": record.promise_documents_due_on,
        }
    model = national_model(day)
    rule = model.types.get(record.category)
    return {
        "rule_model": model.era,
        "filing_class": rule.filing_class.value if rule else None,
        "filing_class_label": model.class_labels[rule.filing_class] if rule else None,
        "promise_documents_due_on": record.promise_documents_due_on,
    }
