"""Typed inputs and outputs of each national transaction, with the national field names.

Inputs are lenient the way real hospital systems need (NHSA-INTERFACE.md §4, §6): codes
are strings (a number ``21`` becomes ``"21"``), amounts are ``Decimal`` from a JSON
number or a string, blank strings and ``"null"`` count as absent, unknown fields are
ignored, ``exp_content`` may be a JSON string or an object, and a single object is
accepted where the spec has an array. Fields the spec marks required but yidi does not
need are optional here (``docs/nhsa-gateway.md`` lists which).

Outputs render national names; amounts are ``Decimal`` quantised to the fen so that the
envelope encoder writes them with exactly two decimals.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Final

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from yidi.integrations.nhsa.envelope import parse_nhsa_date, parse_nhsa_datetime
from yidi.kernel.money import FEN, Money

# --------------------------------------------------------------------------- field types


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str) and (not value.strip() or value.strip().lower() == "null"):
        return None
    return value


def _text(value: Any) -> Any:
    value = _blank_to_none(value)
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return str(int(value))
    return value


def _decimal(value: Any, *, error_type: str, message: str) -> Decimal | None:
    value = _blank_to_none(value)
    if value is None:
        return None
    if isinstance(value, Money):
        return value.yuan
    if isinstance(value, bool):
        raise PydanticCustomError(error_type, message)
    try:
        if isinstance(value, (int, Decimal)):
            parsed = Decimal(value)
        elif isinstance(value, float):
            parsed = Decimal(repr(value))
        elif isinstance(value, str):
            parsed = Decimal(value.strip().replace(",", ""))
        else:
            raise PydanticCustomError(error_type, message)
    except InvalidOperation:
        raise PydanticCustomError(error_type, message) from None
    if not parsed.is_finite():
        raise PydanticCustomError(error_type, message)
    return parsed


def _amount(value: Any) -> Decimal | None:
    parsed = _decimal(value, error_type="nhsa_amount", message="不是有效金额")
    if parsed is None:
        return None
    quantised = parsed.quantize(FEN)
    if quantised != parsed:
        raise PydanticCustomError("nhsa_amount", "不是有效金额（最多两位小数）")
    return quantised


def _number(value: Any) -> Decimal | None:
    return _decimal(value, error_type="nhsa_number", message="不是有效数字")


def _datetime(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value
    value = _blank_to_none(value)
    if value is None:
        return None
    parsed = parse_nhsa_datetime(value)
    if parsed is None:
        raise PydanticCustomError("nhsa_datetime", "不是有效时间（应为 yyyy-MM-dd HH:mm:ss）")
    return parsed


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value.date() if isinstance(value, dt.datetime) else value
    value = _blank_to_none(value)
    if value is None:
        return None
    parsed = parse_nhsa_date(value)
    if parsed is None:
        raise PydanticCustomError("nhsa_date", "不是有效日期（应为 yyyy-MM-dd）")
    return parsed


def _exp_content(value: Any) -> Any:
    """exp_content arrives as a JSON string (HN, ZJ) or as an object (OH); keep either."""
    value = _blank_to_none(value)
    if isinstance(value, str):
        try:
            return json.loads(value, parse_float=Decimal)
        except ValueError:
            return value
    return value


def _as_list(value: Any) -> Any:
    """A node the spec calls 多行 may arrive as one object; treat it as one row."""
    if value is None:
        return []
    if isinstance(value, dict):
        return [value]
    return value


Text = Annotated[str, BeforeValidator(_text)]
OptText = Annotated[str | None, BeforeValidator(_text)]
Amount = Annotated[Decimal, BeforeValidator(_amount)]
OptAmount = Annotated[Decimal | None, BeforeValidator(_amount)]
Number = Annotated[Decimal, BeforeValidator(_number)]
OptNumber = Annotated[Decimal | None, BeforeValidator(_number)]
DateTime = Annotated[dt.datetime, BeforeValidator(_datetime)]
OptDateTime = Annotated[dt.datetime | None, BeforeValidator(_datetime)]
OptDate = Annotated[dt.date | None, BeforeValidator(_date)]
Date = Annotated[dt.date, BeforeValidator(_date)]
ExpContent = Annotated[Any, BeforeValidator(_exp_content)]

#: Identifier fields yidi stores: the spec's 30-character limit is enforced.
Id30 = Annotated[str, BeforeValidator(_text), Field(max_length=30)]


class NhsaModel(BaseModel):
    """Lenient base: unknown fields ignored, numbers accepted where codes are expected."""

    model_config = ConfigDict(
        extra="ignore",
        coerce_numbers_to_str=True,
        populate_by_name=True,
        frozen=True,
    )


# --------------------------------------------------------------------------- validation errors

_MAX_LISTED_ERRORS: Final = 6

_TYPE_MESSAGES: Final = {
    "missing": "为必填项",
    "string_type": "应为文本",
    "dict_type": "应为对象",
    "model_type": "应为对象",
    "model_attributes_type": "应为对象",
    "list_type": "应为数组",
    "too_short": "至少需要一条记录",
    "decimal_type": "不是有效数字",
}


def _location(root: str, loc: tuple[int | str, ...]) -> str:
    path = root
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _describe(error: Any) -> str:
    kind = str(error["type"])
    if kind.startswith("nhsa_"):
        return str(error["msg"])
    if error.get("input") is None and kind != "missing":
        return "不能为空"
    if kind == "string_too_long":
        return f"长度不能超过 {error.get('ctx', {}).get('max_length')} 位"
    return _TYPE_MESSAGES.get(kind, "格式不正确")


def validation_message(exc: ValidationError, *, root: str = "input") -> str:
    """One Chinese sentence naming every bad field: ``input.feedetail[2].cnt 不是有效数字``."""
    errors = exc.errors()
    parts = [
        f"{_location(root, tuple(e['loc']))} {_describe(e)}" for e in errors[:_MAX_LISTED_ERRORS]
    ]
    text = "；".join(parts)
    if len(errors) > _MAX_LISTED_ERRORS:
        text += f"；等共 {len(errors)} 处错误"
    return text


# --------------------------------------------------------------------------- 1101 人员信息获取


class PsnInfoQuery(NhsaModel):
    """input.data of 1101."""

    mdtrt_cert_type: Text
    mdtrt_cert_no: Text
    card_sn: OptText = None
    begntime: OptDateTime = None
    psn_cert_type: OptText = None
    certno: OptText = None
    psn_name: OptText = None


class Input1101(NhsaModel):
    data: PsnInfoQuery


class BaseInfo(NhsaModel):
    psn_no: str
    psn_cert_type: str | None = None
    certno: str | None = None
    psn_name: str
    gend: str | None = None
    naty: str | None = None
    brdy: OptDate = None
    age: OptNumber = None
    exp_content: ExpContent = None


class InsuInfo(NhsaModel):
    balc: Amount
    insutype: str
    psn_type: str
    psn_insu_stas: str | None = None
    psn_insu_date: OptDate = None
    paus_insu_date: OptDate = None
    cvlserv_flag: str = "0"
    insuplc_admdvs: str
    emp_name: str | None = None


class IdetInfo(NhsaModel):
    psn_idet_type: str
    psn_type_lv: str | None = None
    memo: str | None = None
    begntime: OptDateTime = None
    endtime: OptDateTime = None


class Output1101(NhsaModel):
    baseinfo: BaseInfo
    insuinfo: list[InsuInfo]
    idetinfo: list[IdetInfo] = Field(default_factory=list)


# --------------------------------------------------------------------------- diagnoses (2401, 2402)


class DiagnosisRow(NhsaModel):
    """diseinfo[] row (2401, 2402, 2403)."""

    psn_no: OptText = None
    mdtrt_id: OptText = None
    diag_type: Text
    maindiag_flag: Text
    diag_srt_no: OptText = None
    diag_code: Text
    diag_name: OptText = None
    adm_cond: OptText = None
    diag_dept: OptText = None
    dise_dor_no: OptText = None
    dise_dor_name: OptText = None
    diag_time: OptDateTime = None


DiagnosisRows = Annotated[list[DiagnosisRow], BeforeValidator(_as_list)]


class _MaternityFields(NhsaModel):
    fpsc_no: OptText = None
    matn_type: OptText = None
    birctrl_type: OptText = None
    latechb_flag: OptText = None
    geso_val: OptNumber = None
    fetts: OptNumber = None
    fetus_cnt: OptNumber = None
    pret_flag: OptText = None
    birctrl_matn_date: OptDate = None


# --------------------------------------------------------------------------- shared input groups
# Field groups the national inputs repeat (NHSA-INTERFACE.md §4). Input field order does not
# matter: the idempotency fingerprint sorts keys, so each model keeps its exact field set.


class VisitRef(NhsaModel):
    """The visit and its person (mdtrt_id, psn_no): input.data of 2404 (入院撤销) and 2405
    (出院撤销), and the base of every input that names a visit."""

    mdtrt_id: Id30
    psn_no: Id30
    exp_content: ExpContent = None


class _Divisions(NhsaModel):
    """insuplc_admdvs / mdtrtarea_admvs repeated inside a node (HN ext)."""

    insuplc_admdvs: OptText = None
    mdtrtarea_admvs: OptText = None


class _DiseaseAndOperation(NhsaModel):
    """病种 and 手术操作 (dise_codg … oprn_oprt_name) of 2401, 2402 and 2403."""

    dise_codg: OptText = None
    dise_name: OptText = None
    oprn_oprt_code: OptText = None
    oprn_oprt_name: OptText = None


class _AdmissionDetails(_MaternityFields, _DiseaseAndOperation):
    """The 2401 fields yidi receives without using them; 2403 carries them again."""

    coner_name: OptText = None
    tel: OptText = None
    mdtrt_cert_type: OptText = None
    medrcdno: OptText = None
    atddr_no: OptText = None
    chfpdr_name: OptText = None
    adm_diag_dscr: OptText = None
    adm_bed: OptText = None
    dscg_maindiag_name: OptText = None
    main_cond_dscr: OptText = None
    dise_type_code: OptText = None
    exp_content: ExpContent = None


# --------------------------------------------------------------------------- 2401 入院办理


class AdmissionInfo(_AdmissionDetails, _Divisions):
    """input.mdtrtinfo of 2401."""

    psn_no: Id30
    insutype: Text
    begntime: DateTime
    mdtrt_cert_no: OptText = None
    card_sn: OptText = None
    cert_type: OptText = None
    certno: OptText = None
    med_type: Text
    ipt_no: Text
    adm_dept_codg: Text
    adm_dept_name: OptText = None
    dscg_maindiag_code: Text


class Input2401(NhsaModel):
    mdtrtinfo: AdmissionInfo
    diseinfo: DiagnosisRows = Field(default_factory=list)


class AdmissionResult(NhsaModel):
    mdtrt_id: str
    exp_content: ExpContent = None


class Output2401(NhsaModel):
    result: AdmissionResult


# --------------------------------------------------------------------------- 2402 出院办理


class DischargeInfo(VisitRef, _MaternityFields, _DiseaseAndOperation, _Divisions):
    """input.dscginfo of 2402."""

    insutype: OptText = None
    endtime: DateTime
    cop_flag: OptText = None
    dscg_dept_codg: OptText = None
    dscg_dept_name: OptText = None
    dscg_bed: OptText = None
    dscg_way: Text
    die_date: OptDate = None


class Input2402(NhsaModel):
    dscginfo: DischargeInfo
    diseinfo: DiagnosisRows = Field(default_factory=list)


# --------------------------------------------------------------------------- 2403 住院信息变更


class AdmissionChangeInfo(VisitRef, _AdmissionDetails):
    """input.adminfo of 2403: the 2401 fields plus mdtrt_id; ipt_no is named ipt_otp_no."""

    begntime: OptDateTime = None
    endtime: OptDateTime = None
    med_type: OptText = None
    ipt_otp_no: OptText = Field(default=None, max_length=30)
    ipt_no: OptText = Field(default=None, max_length=30)
    adm_dept_codg: OptText = Field(default=None, max_length=30)
    adm_dept_name: OptText = Field(default=None, max_length=100)
    dscg_maindiag_code: OptText = None


class Input2403(NhsaModel):
    adminfo: AdmissionChangeInfo
    diseinfo: DiagnosisRows = Field(default_factory=list)


# --------------------------------------------------------------------------- 2404 / 2405 撤销


class Input2404(NhsaModel):
    data: VisitRef


class Input2405(NhsaModel):
    data: VisitRef


# --------------------------------------------------------------------------- 2301 费用明细上传


class FeeDetail(NhsaModel):
    """input.feedetail[] row of 2301: one fee line."""

    feedetl_sn: Id30
    init_feedetl_sn: OptText = None
    mdtrt_id: Id30
    drord_no: OptText = None
    psn_no: Id30
    med_type: OptText = None
    fee_ocur_time: DateTime
    med_list_codg: Text
    medins_list_codg: Text
    det_item_fee_sumamt: Amount
    cnt: Number
    pric: Number
    bilg_dept_codg: OptText = None
    bilg_dept_name: OptText = None
    bilg_dr_codg: OptText = None
    bilg_dr_name: OptText = None
    acord_dept_codg: OptText = None
    acord_dept_name: OptText = None
    orders_dr_code: OptText = None
    orders_dr_name: OptText = None
    hosp_appr_flag: OptText = None
    tcmdrug_used_way: OptText = None
    etip_flag: OptText = None
    etip_hosp_code: OptText = None
    dscg_tkdrug_flag: OptText = None
    matn_fee_flag: OptText = None
    memo: OptText = None
    comb_no: OptText = None
    exp_content: ExpContent = None


class Input2301(NhsaModel):
    feedetail: Annotated[list[FeeDetail], BeforeValidator(_as_list), Field(min_length=1)]


# Output models share field groups only where the reply keeps its order: pydantic writes
# the fields of the last base first, then the other bases' (right to left), then the
# class's own.


class _LineSplit(NhsaModel):
    """How one fee line splits (2301 result[], 5204 feedetail[]): the same split both times."""

    det_item_fee_sumamt: Amount
    cnt: Number
    pric: Number
    pric_uplmt_amt: OptNumber = None
    selfpay_prop: Number
    fulamt_ownpay_amt: Amount
    overlmt_amt: Amount
    preselfpay_amt: Amount
    inscp_scp_amt: Amount
    chrgitm_lv: str
    med_chrgitm_type: str


class _LineSerial(NhsaModel):
    feedetl_sn: str


class FeeLineResult(_LineSplit, _LineSerial):
    """output.result[] row of 2301: how one line splits."""

    bas_medn_flag: str | None = None
    hi_nego_drug_flag: str | None = None
    chld_medc_flag: str | None = None
    list_sp_item_flag: str | None = None
    lmt_used_flag: str = "0"
    drt_reim_flag: str | None = None
    memo: str | None = None
    exp_content: ExpContent = None


class Output2301(NhsaModel):
    result: list[FeeLineResult]


# --------------------------------------------------------------------------- 2302 费用明细撤销

#: feedetl_sn value that cancels every uploaded line of the visit (HN table 93).
CANCEL_ALL_FEE_LINES: Final = "0000"


class FeeCancel(VisitRef):
    feedetl_sn: Id30


class Input2302(NhsaModel):
    data: Annotated[list[FeeCancel], BeforeValidator(_as_list), Field(min_length=1)]


# --------------------------------------------------------------------------- 2303 / 2304 结算


class SettlementQuery(VisitRef, _Divisions):
    """input.data of 2303 (预结算) and 2304 (结算)."""

    mdtrt_cert_type: OptText = None
    mdtrt_cert_no: OptText = None
    card_sn: OptText = None
    psn_cert_type: OptText = None
    certno: OptText = None
    psn_type: OptText = None
    psn_name: OptText = None
    medfee_sumamt: Amount
    psn_setlway: OptText = None
    insutype: OptText = None
    acct_used_flag: OptText = None
    mid_setl_flag: OptText = None
    invono: OptText = None
    fulamt_ownpay_amt: OptAmount = None
    overlmt_selfpay: OptAmount = None
    preselfpay_amt: OptAmount = None
    inscp_scp_amt: OptAmount = None
    dscg_time: OptDateTime = Field(default=None, alias="dscgTime")


class Input2303(NhsaModel):
    data: SettlementQuery


class Input2304(NhsaModel):
    data: SettlementQuery


class _SettlementAmounts(NhsaModel):
    """The money fields shared by 2303, 2304 and 2305 setlinfo."""

    medfee_sumamt: Amount
    fulamt_ownpay_amt: Amount
    overlmt_selfpay: Amount
    preselfpay_amt: Amount
    inscp_scp_amt: Amount
    act_pay_dedc: OptAmount = None
    hifp_pay: Amount
    pool_prop_selfpay: OptNumber = None
    cvlserv_pay: Amount
    hifes_pay: Amount
    hifmi_pay: Amount
    hifob_pay: Amount
    maf_pay: Amount
    oth_pay: Amount
    hifdm_pay: OptAmount = None
    fund_pay_sumamt: Amount
    psn_part_amt: Amount
    acct_pay: Amount
    psn_cash_pay: Amount
    hosp_part_amt: Amount
    balc: OptAmount = None
    acct_mulaid_pay: Amount
    medins_setl_id: str | None = None
    clr_optins: str | None = None
    clr_way: str | None = None
    clr_type: str | None = None
    exp_content: ExpContent = None


class _VisitPerson(NhsaModel):
    """The visit and its person as 2303/2304 setlinfo and 5201 mdtrtinfo[] begin."""

    mdtrt_id: str
    psn_no: str
    psn_name: str | None = None
    psn_cert_type: str | None = None
    certno: str | None = None
    gend: str | None = None


class PreSettlementInfo(_VisitPerson, _SettlementAmounts):
    """output.setlinfo of 2303 (no setl_id: nothing is committed)."""

    naty: str | None = None
    brdy: OptDate = None
    age: OptNumber = None
    insutype: str
    psn_type: str | None = None
    cvlserv_flag: str = "0"
    setl_time: OptDateTime = None
    mdtrt_cert_type: str | None = None
    med_type: str


class SettlementInfo(PreSettlementInfo):
    """output.setlinfo of 2304."""

    setl_id: str


class FundPaymentRow(NhsaModel):
    """output.setldetail[] row: one fund's payment (fund_pay_type)."""

    fund_pay_type: str
    inscp_scp_amt: Amount
    crt_payb_lmt_amt: OptAmount = None
    fund_payamt: Amount
    fund_pay_type_name: str | None = None
    setl_proc_info: str | None = None


class Output2303(NhsaModel):
    setlinfo: PreSettlementInfo
    setldetail: list[FundPaymentRow]


class Output2304(NhsaModel):
    setlinfo: SettlementInfo
    setldetail: list[FundPaymentRow]


# --------------------------------------------------------------------------- 2305 结算撤销


class SettlementRef(VisitRef):
    setl_id: Id30


class Input2305(NhsaModel):
    data: SettlementRef


class ReversalInfo(_SettlementAmounts):
    """output.setlinfo of 2305: the reversed amounts, negative."""

    mdtrt_id: str
    setl_id: str
    setl_time: OptDateTime = None


class Output2305(NhsaModel):
    setlinfo: ReversalInfo
    setldetail: list[FundPaymentRow]


# --------------------------------------------------------------------------- 2201–2208 普通门诊
# Fields as real clients send them (docs/nhsa-gateway.md §门诊 lists the sources). Clients
# name the input's object ``data`` or ``mdtrtinfo``; both are accepted.


class _DataOrMdtrtinfo(NhsaModel):
    """An input whose object is ``data``; some clients name it ``mdtrtinfo``."""

    @model_validator(mode="before")
    @classmethod
    def _either(cls, value: Any) -> Any:
        if isinstance(value, dict) and "data" not in value and "mdtrtinfo" in value:
            return {**value, "data": value["mdtrtinfo"]}
        return value


#: Other names clients give the 门慢门特 disease code of a visit (dise_codg in the national
#: 2203; opsp_dise_code as in 5301; the rest seen in local variants), first one given wins.
_DISEASE_ALIASES: Final = ("dise_code", "opsp_dise_code", "opsp_dise_codg", "chrdis_code")


class _DiseaseCode(NhsaModel):
    """An input carrying a visit's 门诊慢特病 disease: ``dise_codg`` or one of its aliases."""

    dise_codg: OptText = None
    dise_name: OptText = None

    @model_validator(mode="before")
    @classmethod
    def _alias(cls, value: Any) -> Any:
        if isinstance(value, dict) and value.get("dise_codg") in (None, ""):
            for alias in _DISEASE_ALIASES:
                if value.get(alias) not in (None, ""):
                    return {**value, "dise_codg": value[alias]}
        return value


class OutpatientRegistration(_Divisions, _DiseaseCode):
    """input.data (or mdtrtinfo) of 2201 门诊挂号; a 门诊慢特病 visit may name its med_type 14
    and disease here already (national clients send them with 2203)."""

    psn_no: Id30
    insutype: OptText = None
    begntime: DateTime
    mdtrt_cert_type: OptText = None
    mdtrt_cert_no: OptText = None
    ipt_otp_no: Text
    atddr_no: OptText = None
    dr_name: OptText = None
    dept_code: OptText = None
    dept_name: OptText = None
    caty: OptText = None
    psn_type: OptText = None
    med_type: OptText = None
    exp_content: ExpContent = None


class Input2201(_DataOrMdtrtinfo):
    data: OutpatientRegistration


class RegistrationResult(NhsaModel):
    """output.data of 2201."""

    mdtrt_id: str
    psn_no: str
    ipt_otp_no: str
    exp_content: ExpContent = None


class Output2201(NhsaModel):
    data: RegistrationResult


class RegistrationRef(VisitRef):
    """input.data of 2202 挂号撤销."""

    ipt_otp_no: OptText = None


class Input2202(_DataOrMdtrtinfo):
    data: RegistrationRef


class OutpatientVisitInfo(VisitRef, _DiseaseCode):
    """input.mdtrtinfo of 2203 门诊就诊信息上传 (med_type 14 with dise_codg: 门诊慢特病)."""

    med_type: Text
    begntime: OptDateTime = None
    main_cond_dscr: OptText = None
    birctrl_type: OptText = None
    birctrl_matn_date: OptDate = None
    matn_type: OptText = None
    geso_val: OptNumber = None


class Input2203(NhsaModel):
    mdtrtinfo: OutpatientVisitInfo
    diseinfo: DiagnosisRows = Field(default_factory=list)


class OutpatientFeeDetail(FeeDetail):
    """input.feedetail[] row of 2204: a 2301 line plus the charge batch and prescription."""

    chrg_bchno: OptText = None
    dise_codg: OptText = None
    rxno: OptText = None
    rx_circ_flag: OptText = None
    sin_dos_dscr: OptText = None
    used_frqu_dscr: OptText = None
    prd_days: OptNumber = None
    medc_way_dscr: OptText = None


class Input2204(NhsaModel):
    feedetail: Annotated[list[OutpatientFeeDetail], BeforeValidator(_as_list), Field(min_length=1)]


class ChargeBatchRef(VisitRef):
    """input.data of 2205 门诊费用明细撤销: the charge batch of the visit."""

    chrg_bchno: OptText = None


class Input2205(NhsaModel):
    data: ChargeBatchRef


class OutpatientSettlementQuery(SettlementQuery, _DiseaseCode):
    """input.data (or mdtrtinfo) of 2206 门诊预结算 and 2207 门诊结算; med_type and dise_codg,
    when sent, must be the visit's."""

    chrg_bchno: OptText = None
    med_type: OptText = None
    mdtrt_mode: OptText = None
    order_no: OptText = None


class Input2206(_DataOrMdtrtinfo):
    data: OutpatientSettlementQuery


class Input2207(_DataOrMdtrtinfo):
    data: OutpatientSettlementQuery


class Input2208(_DataOrMdtrtinfo):
    """input.data of 2208 门诊结算撤销 (setl_id, mdtrt_id, psn_no)."""

    data: SettlementRef


# --------------------------------------------------------------------------- 5201 / 5203 / 5204 查询


class VisitQuery(NhsaModel):
    """input.data of 5201 就诊信息查询 (yidi also accepts setl_id instead of mdtrt_id)."""

    psn_no: Id30
    begntime: OptDateTime = None
    endtime: OptDateTime = None
    med_type: OptText = None
    mdtrt_id: OptText = None
    setl_id: OptText = None


class Input5201(NhsaModel):
    data: VisitQuery


class VisitInfo(_VisitPerson):
    """output.mdtrtinfo[] row of 5201."""

    brdy: OptDate = None
    age: OptNumber = None
    insutype: str
    psn_type: str | None = None
    begntime: OptDateTime = None
    endtime: OptDateTime = None
    mdtrt_cert_type: str | None = None
    med_type: str
    ipt_otp_no: str | None = None
    adm_dept_codg: str | None = None
    adm_dept_name: str | None = None
    dscg_maindiag_code: str | None = None
    inhosp_stas: str
    ipt_days: OptNumber = None
    fixmedins_code: str
    insuplc_admdvs: str | None = None
    mdtrtarea_admvs: str | None = None
    vali_flag: str
    exp_content: ExpContent = None


class Output5201(NhsaModel):
    mdtrtinfo: list[VisitInfo]


class SettlementLookup(NhsaModel):
    """input.data of 5203 结算信息查询 and 5204 费用明细查询."""

    psn_no: Id30
    setl_id: Id30
    mdtrt_id: Id30


class Input5203(NhsaModel):
    data: SettlementLookup


class Input5204(NhsaModel):
    data: SettlementLookup


class Output5203(NhsaModel):
    setlinfo: SettlementInfo
    setldetail: list[FundPaymentRow]


class _SettledLineRef(_LineSerial):
    """Which settled line a 5204 row is (written before its split)."""

    mdtrt_id: str
    psn_no: str
    setl_id: str
    med_type: str | None = None
    fee_ocur_time: OptDateTime = None
    med_list_codg: str
    medins_list_codg: str | None = None


class SettledFeeLine(_LineSplit, _SettledLineRef):
    """output.feedetail[] row of 5204: one line of the settlement with its split."""

    memo: str | None = None


class Output5204(NhsaModel):
    feedetail: list[SettledFeeLine]


# --------------------------------------------------------------------------- 3201 / 3202 对账


class TotalsStatement(NhsaModel):
    """input.data of 3201 对总账: the hospital's totals for a period."""

    insutype: OptText = None
    clr_type: OptText = None
    setl_optins: OptText = None
    stmt_begndate: Date
    stmt_enddate: Date
    medfee_sumamt: Amount
    fund_pay_sumamt: Amount
    acct_pay: OptAmount = None
    cash_payamt: OptAmount = None
    fixmedins_setl_cnt: Number
    refd_setl_flag: OptText = None


class Input3201(NhsaModel):
    data: TotalsStatement


class StatementResult(NhsaModel):
    """output.stmtinfo of 3201 (and yidi's 3202 summary)."""

    setl_optins: str | None = None
    stmt_rslt: str
    stmt_rslt_dscr: str | None = None


class Output3201(NhsaModel):
    stmtinfo: StatementResult


class StatementLine(NhsaModel):
    """One settlement as the hospital has it (the rows of the 3202 detail file)."""

    psn_no: OptText = None
    mdtrt_id: OptText = None
    setl_id: Id30
    msgid: OptText = None
    medfee_sumamt: Amount
    fund_pay_sumamt: Amount
    acct_pay: OptAmount = None
    refd_setl_flag: OptText = None


StatementLines = Annotated[list[StatementLine], BeforeValidator(_as_list)]


class DetailStatement(NhsaModel):
    """input.data of 3202 明细对账. The national interface uploads the lines as a file
    (9101, ``file_qury_no``); yidi takes them inline in ``data.detail`` or ``input.detail``."""

    clr_type: OptText = None
    setl_optins: OptText = None
    file_qury_no: OptText = None
    stmt_begndate: Date
    stmt_enddate: Date
    medfee_sumamt: OptAmount = None
    fund_pay_sumamt: OptAmount = None
    cash_payamt: OptAmount = None
    fixmedins_setl_cnt: OptNumber = None
    detail: StatementLines = Field(default_factory=list)


class Input3202(NhsaModel):
    data: DetailStatement
    detail: StatementLines = Field(default_factory=list)


class StatementDifference(NhsaModel):
    """output.result[] row of 3202: one settlement whose two sides differ."""

    psn_no: str | None = None
    mdtrt_id: str | None = None
    setl_id: str
    msgid: str | None = None
    stmt_rslt: str
    refd_setl_flag: str
    memo: str
    medfee_sumamt: Amount
    fund_pay_sumamt: Amount
    acct_pay: Amount


class StatementFileInfo(NhsaModel):
    """output.fileinfo of 3202: the result file to fetch with 9102 (fields as the zebone
    ``Output3202Fileinfo`` and the NeiMengGu ``Output_3202.fileinfo`` read them)."""

    file_qury_no: str
    filename: str
    dld_endtime: DateTime


class Output3202(NhsaModel):
    stmtinfo: StatementResult
    result: list[StatementDifference]
    #: None when the two sides agree (there is nothing to download)
    fileinfo: StatementFileInfo | None = None


# --------------------------------------------------------------------------- 3203 / 3204 清算申请


class ClearingApplicationInput(NhsaModel):
    """input.data of 3203 清算申请 (OH ``Input_3203``)."""

    clr_type: Text
    clr_way: OptText = None
    setlym: Text
    psntime: Number
    medfee_sumamt: Amount
    med_sumfee: Amount
    fund_appy_sum: Amount
    cash_payamt: Amount
    acct_pay: Amount
    begndate: Date
    enddate: Date


class Input3203(NhsaModel):
    data: ClearingApplicationInput


class ClearingApplicationResult(NhsaModel):
    clr_appy_evt_id: str


class Output3203(NhsaModel):
    result: ClearingApplicationResult


class ClearingApplicationRef(NhsaModel):
    clr_appy_evt_id: Id30


class Input3204(NhsaModel):
    data: ClearingApplicationRef


# --------------------------------------------------------------------------- 2601 冲正, 9001 签到


class ReversalRef(NhsaModel):
    psn_no: Id30
    omsgid: Id30
    oinfno: Text


class Input2601(NhsaModel):
    data: ReversalRef


class SignIn(NhsaModel):
    opter_no: Text
    mac: OptText = None
    ip: OptText = None


class Input9001(NhsaModel):
    """input of 9001: ``{"signIn": {...}}``; one real client sends the fields flat."""

    sign_in: SignIn = Field(alias="signIn")

    @model_validator(mode="before")
    @classmethod
    def _accept_flat(cls, value: Any) -> Any:
        if isinstance(value, dict) and "signIn" not in value and "sign_in" not in value:
            for name, item in value.items():
                if str(name).lower() == "signin":
                    return {"signIn": item}
            if "opter_no" in value:
                return {"signIn": value}
        return value


class SignInResult(NhsaModel):
    sign_time: OptDateTime = None
    sign_no: str


class Output9001(NhsaModel):
    signinoutb: SignInResult
