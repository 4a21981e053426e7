"""The national-interface gateway port (HospitalGatewayPort) on top of HospitalService.

The hospital is identified by ``fixmedins_code`` in the envelope (header authentication
is a pluggable hook of the router, off by default). Each state-changing transaction is
idempotent by ``(fixmedins_code, msgid)``: the fingerprint covers infno and the typed
input, so a retry with the same msgid returns the first answer and changes nothing,
while a msgid reused for a different request is refused (IDEMPOTENCY_KEY_REUSED).

Yidi-specific conventions (documented in docs/nhsa-gateway.md §6):

* ``psn_no`` is yidi's person number (``PSN`` + 22 random digits), returned by 1101 and
  carried by 2401 and later; it is never a lookup key of 1101 itself. 1101 takes the
  credential the patient presents: ``mdtrt_cert_type`` 01 the e-credential token, 02 the
  ID number together with ``psn_name``, 03 the social security card number. Lookups are
  rate-limited and audited per institution.
* 2401 ``trum_flag`` (or ``exp_content.TRUM_FLAG``) "1" marks an injury (外伤); under the 2022
  rules it settles directly only with ``rel_ttp_flag`` "0" (the patient signed the
  外伤无第三方责任承诺书), under the 2017 rules never; ``exp_content.EMER_BEGNTIME`` (yyyy-MM-dd HH:mm:ss) is the start of the emergency care
  for med_type 24 (72-hour rule).
* 1101 returns ``certno`` and ``brdy``/``age`` in full only to a caller who presented the
  ID number (type 02); otherwise ``certno`` is masked and ``brdy``/``age`` are left out,
  so the mask cannot be undone. The valid filing is in ``baseinfo.exp_content``.
* 2305 echoes the reversed ``setl_id`` and names the reversal record in
  ``setlinfo.exp_content.rvs_setl_id``.
* 2601 冲正 undoes a 2304 or 2207 (settlement), a 2305 or 2208 (its cancellation) or a
  2301 named by ``omsgid``; afterwards that msgid is answered ``MESSAGE_REVERSED``. After a
  timeout: send 2601 or re-send the same msgid, never a new settlement.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from yidi.chronic.commands import ChronicService
from yidi.encounter.commands import (
    ADMITTED,
    CANCELLED,
    PSN_NO_KIND,
    AdmissionChange,
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
    local,
    policy_region_of,
    ytd_from_json,
)
from yidi.encounter.model import PHARMACY_MED_TYPE, VISIT_MED_TYPES, EncounterKind
from yidi.encounter.sql import FeeLineRow
from yidi.funds.model import ClearingKind
from yidi.integrations.nhsa.builders import (
    FeeLineSplit,
    FundPayment,
    SettlementView,
    fee_line_result,
    output_2301,
    output_2303,
    output_2304,
    output_2305,
)
from yidi.integrations.nhsa.chronic import (
    Input5301,
    Output5301,
    query_chronic_recognitions,
)
from yidi.integrations.nhsa.codes import (
    AcctUsedFlag,
    ChrgitmLv,
    ClrWay,
    FundPayType,
    MedChrgitmType,
    StmtRslt,
)
from yidi.integrations.nhsa.envelope import ERR_MSG_MAX_LENGTH, parse_nhsa_datetime
from yidi.integrations.nhsa.fields import from_national, to_national
from yidi.integrations.nhsa.files import (
    GatewayFiles,
    Input9101,
    Input9102,
    Output9101,
    Output9102,
    file_info,
    refuse_other_institution,
    statement_lines,
    statement_result_file,
)
from yidi.integrations.nhsa.pharmacy import (
    EXTERNAL_PRESCRIPTION_FLAG,
    DrugDetail,
    Input2101,
    Input2102,
    Input2103,
    Output2101,
    Output2102,
)
from yidi.integrations.nhsa.port import GatewayContext
from yidi.integrations.nhsa.transactions import (
    CANCEL_ALL_FEE_LINES,
    AdmissionResult,
    BaseInfo,
    ClearingApplicationResult,
    DiagnosisRow,
    Input1101,
    Input2201,
    Input2202,
    Input2203,
    Input2204,
    Input2205,
    Input2206,
    Input2207,
    Input2208,
    Input2301,
    Input2302,
    Input2303,
    Input2304,
    Input2305,
    Input2401,
    Input2402,
    Input2403,
    Input2404,
    Input2405,
    Input2601,
    Input3201,
    Input3202,
    Input3203,
    Input3204,
    Input5201,
    Input5203,
    Input5204,
    Input9001,
    InsuInfo,
    OutpatientSettlementQuery,
    Output1101,
    Output2201,
    Output2301,
    Output2303,
    Output2304,
    Output2305,
    Output2401,
    Output3201,
    Output3202,
    Output3203,
    Output5201,
    Output5203,
    Output5204,
    Output9001,
    RegistrationResult,
    SettledFeeLine,
    SettlementQuery,
    SignInResult,
    StatementDifference,
    StatementFileInfo,
    StatementLine,
    StatementResult,
    VisitInfo,
    VisitRef,
)
from yidi.kernel.access import Caller
from yidi.kernel.errors import InvalidInput, NotFound, Refused
from yidi.kernel.idempotency import RequestKey, request_key
from yidi.kernel.insurance import EncounterType, InsuranceType, PersonType
from yidi.kernel.money import Money
from yidi.kernel.privacy import mask_id_number
from yidi.policy.loader import PolicyLibrary, policy_at
from yidi.policy.model import (
    AssistanceStep,
    PooledFundStep,
    SupplementaryKind,
    SupplementaryStep,
)
from yidi.settlement.claims import YearToDate
from yidi.settlement.reconciliation import (
    ClearingApplication,
    Difference,
    DifferenceKind,
    LedgerLine,
    ReconciliationService,
    compare,
    totals,
)

#: 人员类别 psn_type, national four-digit form (NHSA-INTERFACE.md §5).
PSN_TYPE: dict[PersonType, str] = {
    PersonType.EMPLOYEE_ACTIVE: "1101",
    PersonType.EMPLOYEE_RETIRED: "1201",
    PersonType.RESIDENT_ADULT: "1501",
    PersonType.RESIDENT_CHILD: "1502",
    PersonType.RESIDENT_STUDENT: "1503",
    PersonType.RESIDENT_ELDERLY: "1504",
}


def _flag(value: Any, key: str) -> Any:
    if isinstance(value, dict):
        for name, item in value.items():
            if str(name).lower() == key.lower():
                return item
    return None


def _third_party(value: Any) -> bool | None:
    """涉及第三方标志 rel_ttp_flag: "0" no third party (the patient signed the 外伤无第三方责任
    承诺书), "1" a third party is involved; absent: None."""
    if value is None or str(value).strip() == "":
        return None
    text = str(value).strip()
    if text not in ("0", "1"):
        raise InvalidInput(
            "NHSA_REL_TTP_FLAG_INVALID",
            f"涉及第三方标志 rel_ttp_flag 应为 0（无第三方，已签署承诺书）或 1（涉及第三方），收到“{text[:10]}”",
            "rel_ttp_flag must be 0 (no third party, promise signed) or 1 (third party involved)",
            field="rel_ttp_flag",
        )
    return text == "1"


def _naive(at: dt.datetime) -> dt.datetime:
    return local(at).replace(tzinfo=None)


def _age(birth_on: dt.date, on: dt.date) -> Decimal:
    years = on.year - birth_on.year - ((on.month, on.day) < (birth_on.month, birth_on.day))
    return Decimal(years).quantize(Decimal("0.1"))


def _diagnosis_codes(main: str | None, rows: Sequence[DiagnosisRow]) -> tuple[str, ...]:
    """2401 / 2403 / 2203: the main diagnosis first, then diseinfo's main rows before the
    others, each by diag_srt_no; every code once."""
    ordered = sorted(rows, key=lambda r: (r.maindiag_flag != "1", r.diag_srt_no or ""))
    codes = [main, *(row.diag_code for row in ordered)]
    return tuple(dict.fromkeys(code for code in codes if code))


def _only_visit(rows: Sequence[Any]) -> tuple[str, str]:
    """The one (mdtrt_id, psn_no) all rows of a request name."""
    visits = {row.mdtrt_id for row in rows}
    if len(visits) != 1:
        raise InvalidInput(
            "NHSA_MIXED_MDTRT_ID",
            "一次交易中的明细必须属于同一个就诊ID（mdtrt_id）",
            "all rows of one request must name the same mdtrt_id",
            field="mdtrt_id",
        )
    people = {row.psn_no for row in rows}
    if len(people) != 1:
        raise InvalidInput(
            "NHSA_MIXED_PSN_NO",
            "一次交易中的明细必须属于同一个人员编号（psn_no）",
            "all rows of one request must name the same psn_no",
            field="psn_no",
        )
    return str(visits.pop()), str(people.pop())


def fee_line_split(row: FeeLineRow) -> FeeLineSplit:
    return FeeLineSplit(
        line_serial=row.serial,
        line_amount=row.amount,
        quantity=row.quantity,
        unit_price=row.unit_price,
        self_pay_rate=row.self_pay_rate,
        fully_self_paid=row.fully_self_paid,
        over_limit_self_paid=row.over_limit_self_paid,
        upfront_self_paid=row.upfront_self_paid,
        eligible_amount=row.eligible_amount,
        item_class=ChrgitmLv(row.item_class),
        fee_category=MedChrgitmType(row.fee_category),
        price_ceiling=row.price_limit,
        note="已撤销" if row.cancelled else None,
    )


def _magnitude(amount: Money) -> Money:
    return -amount if amount.is_negative() else amount


def payable_limits(record: SettlementRecord, policies: PolicyLibrary) -> dict[FundPayType, Money]:
    """crt_payb_lmt_amt per fund: the year's cap left before this settlement.

    The caps are the annual caps of the encounter's benefit scheme on the day the policy
    applied (统筹基金 PooledFundStep, 大病/大额 SupplementaryStep, 医疗救助 AssistanceStep),
    each counted in its year-to-date counter; the use before this settlement is that
    counter after it minus what it paid. A reversal shows the limits of the settlement it
    reverses.
    """
    insurance_type = InsuranceType(record.insurance_type)
    on = record.policy_on or local(record.settled_at).date()
    policy = policy_at(
        policy_region_of(policies, record.person.insured_region_code, insurance_type),
        insurance_type,
        on,
        policies,
    )
    try:
        scheme = policy.scheme_for(EncounterType(record.med_type))
    except ValueError:
        scheme = None
    if scheme is None:
        return {}
    after = (
        ytd_from_json(record.year_to_date_after)
        if record.year_to_date_after
        else YearToDate.empty(on.year)
    )
    a = record.amounts

    def left(cap: Decimal, counter: str, paid: Money) -> Money:
        used_before = after.counter(counter) - _magnitude(paid)
        return (Money(cap) - used_before).clamp_non_negative()

    employee = insurance_type == InsuranceType.EMPLOYEE
    limits: dict[FundPayType, Money] = {}
    for step in scheme.steps:
        if isinstance(step, PooledFundStep):
            fund = FundPayType.EMPLOYEE_POOLED if employee else FundPayType.RESIDENT_POOLED
            limits[fund] = left(step.annual_cap, step.counter, a["pooled_fund_paid"])
        elif isinstance(step, SupplementaryStep):
            if step.fund is SupplementaryKind.SERIOUS_ILLNESS:
                limits[FundPayType.RESIDENT_CRITICAL_ILLNESS] = left(
                    step.annual_cap, step.counter, a["serious_illness_paid"]
                )
            else:
                limits[FundPayType.LARGE_EXPENSE_SUBSIDY] = left(
                    step.annual_cap, step.counter, a["large_expense_paid"]
                )
        elif isinstance(step, AssistanceStep):
            limits[FundPayType.MEDICAL_ASSISTANCE] = left(
                step.annual_cap, step.counter, a["medical_assistance_paid"]
            )
    return limits


def settlement_view(
    record: SettlementRecord,
    *,
    limits: Mapping[FundPayType, Money] | None = None,
    credential_type: str | None = None,
    institution_settlement_id: str | None = None,
) -> SettlementView:
    """The one mapping from a stored result (SettlementRecord.amounts) to the national view."""
    a = record.amounts
    zero = Money.zero()
    limits = limits or {}
    employee = record.insurance_type == InsuranceType.EMPLOYEE.value
    pooled = FundPayType.EMPLOYEE_POOLED if employee else FundPayType.RESIDENT_POOLED
    eligible = a["eligible_amount"]
    funds = [FundPayment(pooled, a["pooled_fund_paid"], eligible, limits.get(pooled))]
    for amount, fund in (
        (a["serious_illness_paid"], FundPayType.RESIDENT_CRITICAL_ILLNESS),
        (a["large_expense_paid"], FundPayType.LARGE_EXPENSE_SUBSIDY),
        (a["medical_assistance_paid"], FundPayType.MEDICAL_ASSISTANCE),
    ):
        if not amount.is_zero():
            funds.append(FundPayment(fund, amount, eligible, limits.get(fund)))
    person = record.person
    return SettlementView(
        visit_id=record.encounter_id,
        person_no=record.psn_no,
        insurance_type=record.insurance_type,
        medical_type=record.med_type,
        amounts=a,
        # yidi settles no amount to the hospital's charge (医院负担) nor to the civil-servant,
        # enterprise or other funds: unpaid_amounts stays empty (0.00). The balance is the
        # personal account's after this settlement (0.00 where the person keeps none).
        account_balance_amount=(
            zero if record.account_balance_after is None else record.account_balance_after
        ),
        settled_at=local(record.settled_at),
        funds=tuple(funds),
        settlement_id=record.settlement_id,
        institution_settlement_id=institution_settlement_id or record.msgid,
        pooled_fund_rate=record.pooled_fund_rate.quantize(Decimal("0.0001")),
        person_name=person.name,
        person_cert_type="01",
        person_cert_no=mask_id_number(person.id_number),
        gender=person.gender,
        ethnicity=person.ethnicity,
        # No brdy/age beside the masked certno: together they would give back the ID number.
        birth_on=None,
        age=None,
        person_type=PSN_TYPE.get(person.person_type),
        credential_type=record.credential_type or credential_type,
        clearing_agency=person.insured_region_code,
        clearing_way=ClrWay.BY_ITEM.value,
        # 清算类别 of the encounter's kind: 11 门诊, 21 住院, 41 药店购药
        clearing_type=ClearingKind.of_med_type(record.med_type).value,
    )


def _outpatient_med_type(med_type: str | None) -> None:
    """2206 / 2207 settle outpatient visits: general (med_type 11) or 门诊慢特病 (14)."""
    if med_type and med_type not in VISIT_MED_TYPES:
        raise Refused(
            "MED_TYPE_NOT_DIRECT",
            f"医疗类别 {med_type} 不是门诊（11 普通门诊、14 门诊慢特病），2206/2207 只办理门诊结算",
            "2206 and 2207 settle outpatient visits (med_type 11 or 14) only",
            field="med_type",
        )


def _visit_terms(data: SettlementQuery) -> dict[str, str | None]:
    """2206 / 2207: the med_type and disease the message names, for the service to match
    against the visit (2303 / 2304 name none)."""
    if not isinstance(data, OutpatientSettlementQuery):
        return {}
    return {"med_type": data.med_type, "disease_code": data.dise_codg}


def _purchase(request: Input2101 | Input2102, context: GatewayContext) -> PharmacyPurchase:
    """2101 / 2102 in yidi's words: the buyer, the lines, the prescriptions they refer to."""
    info = request.druginfo
    if info.med_type and info.med_type != PHARMACY_MED_TYPE:
        raise Refused(
            "MED_TYPE_NOT_DIRECT",
            f"医疗类别 {info.med_type} 不是定点药店购药（41），2101/2102 只办理药店购药结算",
            "2101 and 2102 settle pharmacy purchases (med_type 41) only",
            field="med_type",
        )
    lines = request.drugdetail
    negative = [row.feedetl_sn for row in lines if row.cnt <= 0]
    if negative:
        raise InvalidInput(
            "NHSA_NEGATIVE_FEE_LINE",
            f"药品数量须为正数（流水号 {'、'.join(negative)}）；退药请用 2103 撤销结算后重新结算",
            "drug quantities must be positive; cancel the settlement with 2103 to refund",
            field="cnt",
        )
    unreferenced = [
        row.feedetl_sn
        for row in lines
        if row.rx_circ_flag == EXTERNAL_PRESCRIPTION_FLAG and not row.rxno
    ]
    if unreferenced:
        raise InvalidInput(
            "PRESCRIPTION_NUMBER_REQUIRED",
            f"外配处方药品须填写处方号 rxno（流水号 {'、'.join(unreferenced)}）",
            "a drug dispensed on an external prescription (rx_circ_flag 1) needs its rxno",
            field="rxno",
        )
    earliest = min(row.fee_ocur_time for row in lines)
    return PharmacyPurchase(
        credential=Credential(PSN_NO_KIND, info.psn_no),
        purchased_at=info.begntime or earliest,
        lines=tuple(_drug_line(row) for row in lines),
        total_charges=Money(info.medfee_sumamt),
        prescription_numbers=tuple(dict.fromkeys(row.rxno for row in lines if row.rxno)),
        insurance_type=info.insutype,
        credential_type=info.mdtrt_cert_type,
        use_account=_uses_account(info.acct_used_flag),
        family_account=_family_use(info.acct_used_flag) is not None,
    )


def _drug_line(row: DrugDetail) -> FeeLineInput:
    return FeeLineInput(
        serial=row.feedetl_sn,
        catalog_code=row.med_list_codg,
        hospital_item_code=row.medins_list_codg or "",
        quantity=row.cnt,
        unit_price=row.pric,
        amount=Money(row.det_item_fee_sumamt),
        occurred_at=row.fee_ocur_time,
    )


def _uses_account(flag: str | None) -> bool:
    """acct_used_flag: "1" pays from the person's own account, "2" from a bound relative's
    (家庭共济, see :func:`_family_use`); "0" or absent pays cash."""
    if flag not in (
        None,
        "",
        AcctUsedFlag.NOT_USED.value,
        AcctUsedFlag.OWN_ACCOUNT.value,
        AcctUsedFlag.FAMILY_ACCOUNT.value,
    ):
        raise InvalidInput(
            "ACCOUNT_USED_FLAG_INVALID",
            f"个人账户使用标志 acct_used_flag “{flag}”无效，应为 0、1 或 2（家庭共济）",
            f"acct_used_flag {flag!r} is invalid",
            field="acct_used_flag",
        )
    return flag == AcctUsedFlag.OWN_ACCOUNT.value


def _family_use(flag: str | None) -> FamilyUse | None:
    """acct_used_flag 2: the account of the relative bound to the person (家庭共济登记)."""
    return FamilyUse() if flag == AcctUsedFlag.FAMILY_ACCOUNT.value else None


class HospitalGateway:
    """HospitalGatewayPort backed by :class:`HospitalService`."""

    def __init__(
        self,
        service: HospitalService,
        reconciliation: ReconciliationService | None = None,
        chronic: ChronicService | None = None,
        files: GatewayFiles | None = None,
    ) -> None:
        self._service = service
        self._reconciliation = reconciliation
        self._chronic = chronic
        self._files = files

    def _view(
        self,
        record: SettlementRecord,
        credential_type: str | None = None,
        institution_settlement_id: str | None = None,
    ) -> SettlementView:
        return settlement_view(
            record,
            limits=payable_limits(record, self._service.policies),
            credential_type=credential_type,
            institution_settlement_id=institution_settlement_id,
        )

    def _same_person(self, context: GatewayContext, mdtrt_id: str, psn_no: str) -> None:
        """Every transaction carrying both psn_no and mdtrt_id: they must name one person."""
        self._service.require_person(self._caller(context), mdtrt_id, psn_no)

    @staticmethod
    def _caller(context: GatewayContext) -> Caller:
        operator = context.operator or "-"
        return Caller(context.fixmedins_code, f"nhsa:{operator}"[:64])

    @staticmethod
    def _key(context: GatewayContext, request: BaseModel) -> RequestKey | None:
        return request_key(
            f"nhsa:{context.fixmedins_code}",
            context.msgid,
            {"infno": context.infno, "input": request.model_dump(mode="json")},
        )

    # 1101 --------------------------------------------------------------------------------
    def query_person(self, request: Input1101, context: GatewayContext) -> Output1101:
        data = request.data
        check = self._service.admission_check(
            self._caller(context),
            Credential(data.mdtrt_cert_type, data.mdtrt_cert_no, data.psn_name or ""),
        )
        person = check.person
        today = (context.received_at or dt.datetime.now(dt.UTC)).date()
        birth_on = check.birth_on_shown
        return Output1101(
            baseinfo=BaseInfo(
                psn_no=check.psn_no,
                psn_cert_type="01",
                certno=check.id_number_shown,
                psn_name=person.name,
                gend=person.gender,
                naty=person.ethnicity,
                brdy=birth_on,
                age=_age(birth_on, today) if birth_on else None,
                exp_content={
                    "filing_number": check.filing_number,
                    "filing_category": check.filing_category.value
                    if check.filing_category
                    else None,
                    "cross_region": "1" if check.cross_region else "0",
                },
            ),
            insuinfo=[
                InsuInfo(
                    balc=(check.account_balance or Money.zero()).yuan,
                    insutype=person.insurance_type.value,
                    psn_type=PSN_TYPE[person.person_type],
                    psn_insu_stas="1",
                    psn_insu_date=person.insured_since,
                    cvlserv_flag="0",
                    insuplc_admdvs=person.insured_region_code,
                    emp_name=person.employer_name,
                )
            ],
            idetinfo=[],
        )

    # 2401 / 2402 / 2404 / 2405 -----------------------------------------------------------
    def admit(self, request: Input2401, context: GatewayContext) -> Output2401:
        info = request.mdtrtinfo
        trum = info.trum_flag or _flag(info.exp_content, "TRUM_FLAG")
        injury = str(trum or "0").strip() == "1"
        third = info.rel_ttp_flag or _flag(info.exp_content, "REL_TTP_FLAG")
        third_party = _third_party(third)
        emergency_text = _flag(info.exp_content, "EMER_BEGNTIME")
        emergency_at = None
        if emergency_text:
            emergency_at = parse_nhsa_datetime(str(emergency_text))
            if emergency_at is None:
                raise InvalidInput(
                    "NHSA_EMER_BEGNTIME_INVALID",
                    "exp_content.EMER_BEGNTIME 不是有效时间（应为 yyyy-MM-dd HH:mm:ss）",
                    "EMER_BEGNTIME is not a valid time",
                    field="exp_content",
                )
        encounter = self._service.admit(
            self._caller(context),
            AdmissionRequest(
                credential=Credential(PSN_NO_KIND, info.psn_no),
                med_type=info.med_type,
                admitted_at=info.begntime,
                department_code=info.adm_dept_codg,
                department_name=info.adm_dept_name or "",
                diagnosis_codes=_diagnosis_codes(info.dscg_maindiag_code, request.diseinfo),
                inpatient_number=info.ipt_no,
                insurance_type=info.insutype,
                accidental_injury=injury,
                injury_third_party=third_party,
                emergency_started_at=emergency_at,
                credential_type=info.mdtrt_cert_type,
                credential_number=info.mdtrt_cert_no,
            ),
            self._key(context, request),
        )
        return Output2401(result=AdmissionResult(mdtrt_id=encounter.id))

    def discharge(self, request: Input2402, context: GatewayContext) -> None:
        info = request.dscginfo
        self._same_person(context, info.mdtrt_id, info.psn_no)
        codes = [row.diag_code for row in request.diseinfo]
        self._service.discharge(
            self._caller(context),
            info.mdtrt_id,
            info.endtime,
            diagnosis_codes=tuple(dict.fromkeys(codes)),
            key=self._key(context, request),
        )

    def change_admission(self, request: Input2403, context: GatewayContext) -> None:
        info = request.adminfo
        self._same_person(context, info.mdtrt_id, info.psn_no)
        self._service.change_admission(
            self._caller(context),
            info.mdtrt_id,
            AdmissionChange(
                admitted_at=info.begntime,
                med_type=info.med_type,
                department_code=info.adm_dept_codg,
                department_name=info.adm_dept_name,
                inpatient_number=info.ipt_otp_no or info.ipt_no,
                diagnosis_codes=_diagnosis_codes(info.dscg_maindiag_code, request.diseinfo),
                credential_type=info.mdtrt_cert_type,
            ),
            self._key(context, request),
        )

    def cancel_admission(self, request: Input2404, context: GatewayContext) -> None:
        self._change_state(request, request.data, context, self._service.cancel_admission)

    def cancel_discharge(self, request: Input2405, context: GatewayContext) -> None:
        self._change_state(request, request.data, context, self._service.cancel_discharge)

    def _change_state(
        self,
        request: BaseModel,
        data: VisitRef,
        context: GatewayContext,
        change: Callable[[Caller, str, RequestKey | None], Any],
    ) -> None:
        """2404 / 2405 / 2202: a change of the named encounter's state, and nothing else."""
        self._same_person(context, data.mdtrt_id, data.psn_no)
        change(self._caller(context), data.mdtrt_id, self._key(context, request))

    # 2301 / 2302 -------------------------------------------------------------------------
    def upload_fees(self, request: Input2301, context: GatewayContext) -> Output2301:
        return self._upload_fees(request, request.feedetail, context, EncounterKind.INPATIENT)

    def _upload_fees(
        self,
        request: BaseModel,
        feedetail: Sequence[Any],
        context: GatewayContext,
        kind: EncounterKind,
    ) -> Output2301:
        """2301 (a stay) and 2204 (a visit): one batch of lines of one encounter."""
        visit, psn_no = _only_visit(feedetail)
        self._same_person(context, visit, psn_no)
        negative = [row.feedetl_sn for row in feedetail if row.cnt < 0]
        if negative:
            raise InvalidInput(
                "NHSA_NEGATIVE_FEE_LINE",
                f"不接受负数量的退费明细（流水号 {'、'.join(negative)}），"
                f"请用 {'2205' if kind is EncounterKind.OUTPATIENT else '2302'} 撤销原明细",
                "negative (refund) lines are not accepted; cancel the original line",
                field="cnt",
            )
        lines = [
            FeeLineInput(
                serial=row.feedetl_sn,
                catalog_code=row.med_list_codg,
                hospital_item_code=row.medins_list_codg,
                quantity=row.cnt,
                unit_price=row.pric,
                amount=Money(row.det_item_fee_sumamt),
                occurred_at=row.fee_ocur_time,
                charge_batch=getattr(row, "chrg_bchno", None),
            )
            for row in feedetail
        ]
        rows = self._service.upload_fees(
            self._caller(context),
            visit,
            lines,
            self._key(context, request),
            kind=kind,
            disease_codes=[getattr(row, "dise_codg", None) or "" for row in feedetail],
        )
        return output_2301([fee_line_split(row) for row in rows])

    def cancel_fees(self, request: Input2302, context: GatewayContext) -> None:
        visit, psn_no = _only_visit(request.data)
        self._same_person(context, visit, psn_no)
        self._service.cancel_fees(
            self._caller(context),
            visit,
            [row.feedetl_sn for row in request.data],
            self._key(context, request),
            kind=EncounterKind.INPATIENT,
        )

    # 2303 / 2304 / 2305 ------------------------------------------------------------------
    def pre_settle(self, request: Input2303, context: GatewayContext) -> Output2303:
        data = request.data
        discharged_on = data.dscg_time.date() if data.dscg_time else None
        return self._pre_settle(data, context, EncounterKind.INPATIENT, discharged_on)

    def settle(self, request: Input2304, context: GatewayContext) -> Output2304:
        return self._settle(request, request.data, context, EncounterKind.INPATIENT)

    def _check_settlement_input(self, data: SettlementQuery, context: GatewayContext) -> None:
        """2303 / 2304 / 2206 / 2207: psn_no is the visit's person; a visit settles general
        outpatient care only."""
        self._same_person(context, data.mdtrt_id, data.psn_no)
        if isinstance(data, OutpatientSettlementQuery):
            _outpatient_med_type(data.med_type)

    def _pre_settle(
        self,
        data: SettlementQuery,
        context: GatewayContext,
        kind: EncounterKind,
        discharged_on: dt.date | None = None,
    ) -> Output2303:
        """2303 (a stay) and 2206 (a visit): the full result, nothing committed."""
        self._check_settlement_input(data, context)
        record = self._service.pre_settle(
            self._caller(context),
            data.mdtrt_id,
            Money(data.medfee_sumamt),
            discharged_on,
            use_account=_uses_account(data.acct_used_flag),
            family=_family_use(data.acct_used_flag),
            kind=kind,
            **_visit_terms(data),
        )
        return output_2303(self._view(record, data.mdtrt_cert_type, context.msgid))

    def _settle(
        self,
        request: BaseModel,
        data: SettlementQuery,
        context: GatewayContext,
        kind: EncounterKind,
    ) -> Output2304:
        """2304 (a stay) and 2207 (a visit): committed once per msgid."""
        self._check_settlement_input(data, context)
        record = self._service.settle(
            self._caller(context),
            data.mdtrt_id,
            Money(data.medfee_sumamt),
            self._key(context, request),
            msgid=context.msgid,
            use_account=_uses_account(data.acct_used_flag),
            family=_family_use(data.acct_used_flag),
            kind=kind,
            **_visit_terms(data),
        )
        return output_2304(self._view(record, data.mdtrt_cert_type))

    def reverse_settlement(self, request: Input2305, context: GatewayContext) -> Output2305:
        return self._reverse(request, request.data, context, EncounterKind.INPATIENT)

    def _reverse(
        self, request: BaseModel, data: Any, context: GatewayContext, kind: EncounterKind
    ) -> Output2305:
        """2305 (a stay) and 2208 (a visit)."""
        self._same_person(context, data.mdtrt_id, data.psn_no)
        record = self._service.reverse(
            self._caller(context),
            data.mdtrt_id,
            data.setl_id,
            self._key(context, request),
            msgid=context.msgid,
            kind=kind,
        )
        view = self._view(record)
        output = output_2305(
            SettlementView(**{**_view_fields(view), "settlement_id": record.reverses_id})
        )
        info = output.setlinfo.model_copy(
            update={"exp_content": {"rvs_setl_id": record.settlement_id}}
        )
        return Output2305(setlinfo=info, setldetail=output.setldetail)

    # 2101–2103 定点药店购药 ------------------------------------------------------------------
    def pre_settle_purchase(self, request: Input2101, context: GatewayContext) -> Output2101:
        done = self._service.pre_settle_purchase(self._caller(context), _purchase(request, context))
        info = request.druginfo
        output = output_2303(self._view(done.record, info.mdtrt_cert_type, context.msgid))
        return Output2101(
            # Nothing was opened: the would-be mdtrt_id was rolled back with the rest.
            setlinfo=output.setlinfo.model_copy(update={"mdtrt_id": None}),
            setldetail=output.setldetail,
            detlcutinfo=[fee_line_result(fee_line_split(row)) for row in done.lines],
        )

    def settle_purchase(self, request: Input2102, context: GatewayContext) -> Output2102:
        done = self._service.settle_purchase(
            self._caller(context),
            _purchase(request, context),
            self._key(context, request),
            msgid=context.msgid,
        )
        output = output_2304(self._view(done.record, request.druginfo.mdtrt_cert_type))
        return Output2102(
            setlinfo=output.setlinfo,
            setldetail=output.setldetail,
            detlcutinfo=[fee_line_result(fee_line_split(row)) for row in done.lines],
        )

    def reverse_purchase(self, request: Input2103, context: GatewayContext) -> Output2305:
        return self._reverse(request, request.data, context, EncounterKind.PHARMACY)

    # 2201–2208 普通门诊 --------------------------------------------------------------------
    def register_visit(self, request: Input2201, context: GatewayContext) -> Output2201:
        data = request.data
        visit = self._service.register_visit(
            self._caller(context),
            VisitRegistration(
                credential=Credential(PSN_NO_KIND, data.psn_no),
                registered_at=data.begntime,
                outpatient_number=data.ipt_otp_no,
                department_code=data.dept_code or "",
                department_name=data.dept_name or "",
                insurance_type=data.insutype,
                credential_type=data.mdtrt_cert_type,
                **({"med_type": data.med_type} if data.med_type else {}),
                disease_code=data.dise_codg,
                credential_number=data.mdtrt_cert_no,
            ),
            self._key(context, request),
        )
        return Output2201(
            data=RegistrationResult(
                mdtrt_id=visit.id, psn_no=data.psn_no, ipt_otp_no=visit.inpatient_number
            )
        )

    def cancel_registration(self, request: Input2202, context: GatewayContext) -> None:
        self._change_state(request, request.data, context, self._service.cancel_registration)

    def record_visit(self, request: Input2203, context: GatewayContext) -> None:
        info = request.mdtrtinfo
        self._same_person(context, info.mdtrt_id, info.psn_no)
        codes = _diagnosis_codes(None, request.diseinfo)
        self._service.record_visit(
            self._caller(context),
            info.mdtrt_id,
            VisitData(diagnosis_codes=codes, med_type=info.med_type, disease_code=info.dise_codg),
            self._key(context, request),
        )

    def upload_visit_fees(self, request: Input2204, context: GatewayContext) -> Output2301:
        return self._upload_fees(request, request.feedetail, context, EncounterKind.OUTPATIENT)

    def cancel_visit_fees(self, request: Input2205, context: GatewayContext) -> None:
        """2205: the unsettled lines of one charge batch (chrg_bchno) of the visit; without a
        batch, or with ``"0000"``, all of the visit's unsettled lines."""
        data = request.data
        self._same_person(context, data.mdtrt_id, data.psn_no)
        batch = data.chrg_bchno if data.chrg_bchno != CANCEL_ALL_FEE_LINES else None
        self._service.cancel_fees(
            self._caller(context),
            data.mdtrt_id,
            [CANCEL_ALL_FEE_LINES],
            self._key(context, request),
            kind=EncounterKind.OUTPATIENT,
            charge_batch=batch,
        )

    def pre_settle_visit(self, request: Input2206, context: GatewayContext) -> Output2303:
        return self._pre_settle(request.data, context, EncounterKind.OUTPATIENT)

    def settle_visit(self, request: Input2207, context: GatewayContext) -> Output2304:
        return self._settle(request, request.data, context, EncounterKind.OUTPATIENT)

    def reverse_visit_settlement(self, request: Input2208, context: GatewayContext) -> Output2305:
        return self._reverse(request, request.data, context, EncounterKind.OUTPATIENT)

    # 2601 / 9001 -------------------------------------------------------------------------
    def reverse_message(self, request: Input2601, context: GatewayContext) -> None:
        """2601 冲正 of a 2304, 2207, 2305, 2208 or 2301 by its msgid (no output, as the interface)."""
        data = request.data
        self._service.reverse_message(
            self._caller(context),
            f"nhsa:{context.fixmedins_code}",
            data.omsgid,
            data.oinfno,
            data.psn_no,
            self._key(context, request),
        )

    # 3201 / 3202 ------------------------------------------------------------------------
    def _reconciler(self) -> ReconciliationService:
        if self._reconciliation is None:
            raise Refused(
                "NHSA_RECONCILIATION_UNAVAILABLE",
                "本服务未开通对账交易",
                "reconciliation is not available here",
                field="infno",
            )
        return self._reconciliation

    def reconcile_totals(self, request: Input3201, context: GatewayContext) -> Output3201:
        data = request.data
        refunds = {"0": False, "1": True}.get(data.refd_setl_flag or "")
        centre = totals(
            self._reconciler().centre_lines(
                self._caller(context),
                data.stmt_begndate,
                data.stmt_enddate,
                insurance_type=data.insutype,
                clearing_type=data.clr_type,
                agency=data.setl_optins,
                refunds=refunds,
            )
        )
        checks = [
            ("结算笔数", Decimal(centre.count), data.fixmedins_setl_cnt, "笔"),
            ("医疗费总额", centre.total.yuan, data.medfee_sumamt, "元"),
            ("基金支付总额", centre.fund.yuan, data.fund_pay_sumamt, "元"),
        ]
        if data.acct_pay is not None:
            checks.append(("个人账户支付", centre.account.yuan, data.acct_pay, "元"))
        unequal = [
            f"{name}：中心 {ours:f}{unit}，医药机构 {theirs:f}{unit}"
            for name, ours, theirs, unit in checks
            if ours != theirs
        ]
        result = StmtRslt.AMOUNT_DIFFERS if unequal else StmtRslt.BALANCED
        text = "；".join(unequal) + "，请用 3202 明细对账查找差异" if unequal else result.label_zh
        return Output3201(
            stmtinfo=StatementResult(
                setl_optins=data.setl_optins,
                stmt_rslt=result.value,
                stmt_rslt_dscr=_cut(text),
            )
        )

    def reconcile_lines(self, request: Input3202, context: GatewayContext) -> Output3202:
        data = request.data
        rows = [*data.detail, *request.detail]
        if not rows and data.file_qury_no:
            # The hospital's lines as a 9101-uploaded detail file (inline lines win).
            stored = self._file_store().download(context.fixmedins_code, data.file_qury_no)
            rows = statement_lines(stored.content)
        centre = self._reconciler().centre_lines(
            self._caller(context),
            data.stmt_begndate,
            data.stmt_enddate,
            clearing_type=data.clr_type,
            agency=data.setl_optins,
        )
        differences = compare(centre, [_ledger_line(row) for row in rows])
        result = StmtRslt.AMOUNT_DIFFERS if differences else StmtRslt.BALANCED
        summary = (
            f"共 {len(differences)} 处差异（中心 {len(centre)} 笔，医药机构 {len(rows)} 笔）"
            if differences
            else f"{result.label_zh}（{len(centre)} 笔）"
        )
        found = [_difference_row(d) for d in differences]
        fileinfo = None
        if found and self._files is not None:
            # The result file the hospital downloads with 9102, as the national platform
            # answers 3202; the same rows stay in output.result[] for clients that read it.
            filename, content = statement_result_file(
                found, context.received_at or dt.datetime.now(dt.UTC)
            )
            stored = self._files.publish(context.fixmedins_code, filename, content)
            fileinfo = StatementFileInfo.model_validate(file_info(stored))
        return Output3202(
            stmtinfo=StatementResult(
                setl_optins=data.setl_optins, stmt_rslt=result.value, stmt_rslt_dscr=summary
            ),
            result=found,
            fileinfo=fileinfo,
        )

    def apply_for_clearing(self, request: Input3203, context: GatewayContext) -> Output3203:
        data = request.data
        month = data.setlym.replace("-", "")
        if len(month) != 6 or not month.isdigit():
            raise InvalidInput(
                "NHSA_SETLYM_INVALID",
                f"清算年月 setlym“{data.setlym}”应为 yyyyMM",
                "setlym must be yyyyMM",
                field="setlym",
            )
        if data.psntime != data.psntime.to_integral_value():
            raise InvalidInput(
                "NHSA_PSNTIME_INVALID", "清算人次 psntime 应为整数", "psntime must be whole"
            )
        application_id = self._reconciler().apply_for_clearing(
            self._caller(context),
            ClearingApplication(
                month=f"{month[:4]}-{month[4:]}",
                clearing_type=data.clr_type,
                clearing_way=data.clr_way,
                person_times=int(data.psntime),
                total=Money(data.medfee_sumamt),
                approved_total=Money(data.med_sumfee),
                fund=Money(data.fund_appy_sum),
                cash=Money(data.cash_payamt),
                account=Money(data.acct_pay),
                first_day=data.begndate,
                last_day=data.enddate,
            ),
            self._key(context, request),
        )
        return Output3203(result=ClearingApplicationResult(clr_appy_evt_id=application_id))

    def cancel_clearing_application(self, request: Input3204, context: GatewayContext) -> None:
        self._reconciler().cancel_clearing_application(
            self._caller(context), request.data.clr_appy_evt_id, self._key(context, request)
        )

    # 5301 (integrations/nhsa/chronic.py) ------------------------------------------------
    def query_chronic_recognitions(self, request: Input5301, context: GatewayContext) -> Output5301:
        if self._chronic is None:
            raise InvalidInput(
                "NHSA_INFNO_UNSUPPORTED", "不支持的交易编号：5301", "unsupported infno 5301"
            )
        return query_chronic_recognitions(self._chronic, request, context)

    # 5201 / 5203 / 5204 -----------------------------------------------------------------
    def _detail(self, context: GatewayContext, mdtrt_id: str, psn_no: str) -> EncounterDetail:
        self._same_person(context, mdtrt_id, psn_no)
        return self._service.encounter_detail(self._caller(context), mdtrt_id, audited=True)

    def query_visit(self, request: Input5201, context: GatewayContext) -> Output5201:
        data = request.data
        mdtrt_id = data.mdtrt_id
        if mdtrt_id is None and data.setl_id is not None:
            mdtrt_id = self._service.encounter_of_settlement(self._caller(context), data.setl_id)
        if mdtrt_id is None:
            raise InvalidInput(
                "NHSA_5201_KEY_REQUIRED",
                "5201 须提供就诊ID（mdtrt_id）或结算ID（setl_id）；yidi 不按时间段列出就诊",
                "5201 needs mdtrt_id or setl_id",
                field="mdtrt_id",
            )
        detail = self._detail(context, mdtrt_id, data.psn_no)
        encounter, person = detail.encounter, detail.person
        admitted = _naive(encounter.admitted_at)
        discharged = _naive(encounter.discharged_at) if encounter.discharged_at else None
        today = _naive(context.received_at or dt.datetime.now(dt.UTC)).date()
        days = ((discharged.date() if discharged else today) - admitted.date()).days
        row = VisitInfo(
            mdtrt_id=encounter.id,
            psn_no=detail.psn_no,
            psn_name=person.name,
            psn_cert_type="01",
            certno=mask_id_number(person.id_number),
            gend=person.gender,
            brdy=person.birth_on,
            age=_age(person.birth_on, admitted.date()),
            insutype=encounter.insurance_type,
            psn_type=PSN_TYPE.get(person.person_type),
            begntime=admitted,
            endtime=discharged,
            mdtrt_cert_type=encounter.credential_type,
            med_type=encounter.med_type,
            ipt_otp_no=encounter.inpatient_number or None,
            adm_dept_codg=encounter.department_code or None,
            adm_dept_name=encounter.department_name or None,
            dscg_maindiag_code=encounter.diagnoses[0] if encounter.diagnoses else None,
            inhosp_stas="1" if encounter.state == ADMITTED else "0",
            ipt_days=Decimal(max(days, 1)),
            fixmedins_code=encounter.hospital_code,
            insuplc_admdvs=encounter.insured_region_code,
            mdtrtarea_admvs=encounter.treatment_region_code,
            vali_flag="0" if encounter.state == CANCELLED else "1",
            exp_content={
                "state": encounter.state,
                "setl_ids": [s.settlement_id for s in detail.settlements if s.state == "active"],
            },
        )
        if data.med_type and data.med_type != row.med_type:
            return Output5201(mdtrtinfo=[])
        return Output5201(mdtrtinfo=[row])

    @staticmethod
    def _settlement_of(detail: EncounterDetail, setl_id: str) -> SettlementRecord:
        for record in detail.settlements:
            if record.settlement_id == setl_id:
                return record
        raise NotFound(
            "SETTLEMENT_NOT_FOUND",
            "未找到该就诊的这笔结算",
            "settlement not found for this encounter",
            field="setl_id",
        )

    def query_settlement(self, request: Input5203, context: GatewayContext) -> Output5203:
        data = request.data
        detail = self._detail(context, data.mdtrt_id, data.psn_no)
        record = self._settlement_of(detail, data.setl_id)
        output = output_2304(self._view(record))
        info = output.setlinfo.model_copy(
            update={
                "exp_content": {
                    "setl_stas": record.state,
                    "setl_kind": record.kind,
                    "reverses_setl_id": record.reverses_id,
                }
            }
        )
        return Output5203(setlinfo=info, setldetail=output.setldetail)

    def query_settled_fees(self, request: Input5204, context: GatewayContext) -> Output5204:
        data = request.data
        detail = self._detail(context, data.mdtrt_id, data.psn_no)
        record = self._settlement_of(detail, data.setl_id)
        by_serial = {row.serial: row for row in detail.lines}
        rows = []
        for line in record.lines:
            stored = by_serial.get(line["serial"])
            if stored is None:
                continue
            split = fee_line_split(stored)
            result = fee_line_result(split)
            rows.append(
                SettledFeeLine(
                    feedetl_sn=stored.serial,
                    mdtrt_id=detail.encounter.id,
                    psn_no=detail.psn_no,
                    setl_id=data.setl_id,
                    med_type=detail.encounter.med_type,
                    fee_ocur_time=_naive(stored.occurred_at),
                    med_list_codg=stored.catalog_code,
                    medins_list_codg=stored.hospital_item_code or None,
                    det_item_fee_sumamt=Money(line["line_amount"]).yuan,
                    cnt=stored.quantity,
                    pric=stored.unit_price,
                    pric_uplmt_amt=result.pric_uplmt_amt,
                    selfpay_prop=result.selfpay_prop,
                    fulamt_ownpay_amt=Money(line["fully_self_paid"]).yuan,
                    overlmt_amt=Money(line["over_limit_self_paid"]).yuan,
                    preselfpay_amt=Money(line["upfront_self_paid"]).yuan,
                    inscp_scp_amt=Money(line["eligible_amount"]).yuan,
                    chrgitm_lv=result.chrgitm_lv,
                    med_chrgitm_type=result.med_chrgitm_type,
                    memo=line.get("reason_zh") or None,
                )
            )
        return Output5204(feedetail=rows)

    # 9101 / 9102 ------------------------------------------------------------------------
    @property
    def files(self) -> GatewayFiles | None:
        """The uploaded and published files (None where 9101/9102 are not offered)."""
        return self._files

    def _file_store(self) -> GatewayFiles:
        if self._files is None:
            raise Refused(
                "NHSA_FILES_UNAVAILABLE",
                "本服务未开通文件上传下载交易（9101/9102）",
                "file transfer is not available here",
                field="infno",
            )
        return self._files

    def upload_file(self, request: Input9101, context: GatewayContext) -> Output9101:
        data = request.fs_upload_in
        refuse_other_institution(data.fixmedins_code, context.fixmedins_code)
        stored = self._file_store().upload(
            context.fixmedins_code, context.msgid, data.filename, data.content
        )
        return Output9101.model_validate(file_info(stored))

    def download_file(self, request: Input9102, context: GatewayContext) -> Output9102:
        data = request.fs_download_in
        refuse_other_institution(data.fixmedins_code, context.fixmedins_code)
        stored = self._file_store().download(context.fixmedins_code, data.file_qury_no)
        return Output9102.model_validate(
            {
                **file_info(stored),
                "content": stored.content,
                "file_size": stored.size,
                "sha256": stored.sha256,
            }
        )

    def sign_in(self, request: Input9001, context: GatewayContext) -> Output9001:
        now = context.received_at or dt.datetime.now(dt.UTC)
        return Output9001(
            signinoutb=SignInResult(sign_time=_naive(now), sign_no=uuid.uuid4().hex[:30])
        )


def _view_fields(view: SettlementView) -> dict[str, Any]:
    return {name: getattr(view, name) for name in view.__dataclass_fields__}


def _cut(text: str) -> str:
    """The interface's 200-character description fields."""
    return text if len(text) <= ERR_MSG_MAX_LENGTH else text[: ERR_MSG_MAX_LENGTH - 1] + "…"


def _ledger_line(row: StatementLine) -> LedgerLine:
    amounts = {
        name: Money(value)
        for name, value in from_national(row.model_dump()).items()
        if value is not None
    }
    return LedgerLine(
        settlement_id=row.setl_id,
        refund=(row.refd_setl_flag or "0") == "1",
        total=amounts["total_charges"],
        fund=amounts["fund_paid_total"],
        account=amounts.get("personal_account_paid", Money.zero()),
        person_no=row.psn_no,
        visit_id=row.mdtrt_id,
        message_id=row.msgid,
    )


def _difference_row(difference: Difference) -> StatementDifference:
    line = difference.line
    if difference.kind == DifferenceKind.CENTRE_ONLY:
        code, memo = StmtRslt.CENTRE_ONLY, "中心有该笔、医药机构无"
    elif difference.kind == DifferenceKind.INSTITUTION_ONLY:
        code, memo = StmtRslt.INSTITUTION_ONLY, "医药机构有该笔、中心无"
    else:
        ours, theirs = difference.centre, difference.institution
        assert ours is not None and theirs is not None
        parts = [
            f"{name} 中心 {a} 元、医药机构 {b} 元"
            for name, a, b in (
                ("医疗费总额", ours.total, theirs.total),
                ("基金支付", ours.fund, theirs.fund),
                ("个人账户", ours.account, theirs.account),
            )
            if a != b
        ]
        code, memo = StmtRslt.AMOUNT_DIFFERS, "金额不一致：" + "；".join(parts)
    amounts = {
        "total_charges": line.total.yuan,
        "fund_paid_total": line.fund.yuan,
        "personal_account_paid": line.account.yuan,
    }
    return StatementDifference.model_validate(
        {
            "psn_no": line.person_no,
            "mdtrt_id": line.visit_id,
            "setl_id": line.settlement_id,
            "msgid": line.message_id,
            "stmt_rslt": code.value,
            "refd_setl_flag": "1" if line.refund else "0",
            "memo": _cut(memo),
            **to_national(amounts),
        }
    )
