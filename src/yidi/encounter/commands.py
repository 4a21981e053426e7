"""Direct settlement at the hospital (异地就医直接结算): admission check, admission, fee lines,
discharge, pre-settlement, settlement and reversal.

Rules from the Hengyang seed (衡阳日报 2017，“两种情形：不纳入直接结算范围”):

* only filed persons settle directly (“未办理登记备案手续……不得享受异地就医直接结算服务”);
  the refusal names the insured region's agency phone to call (“拨打参保地医疗保险经办机构
  备案电话”);
* ordinary outpatient and emergency care are excluded, except emergency care that becomes
  an admission within 72 hours, whose costs then join the inpatient settlement;
* accidental-injury admissions (med_type 22, or the TRUM_FLAG of the admission) are excluded.

Reliability: every state-changing call runs in one transaction together with its
idempotency record (``RequestKey``): a retry returns the first answer and changes
nothing; a crash leaves all or nothing. A settlement locks the encounter row, then the
person's year-to-date row (``HospitalRepository.lock_year_to_date``), so two hospitals
settling the same person at the same moment queue and the second sees the first's
totals. Lock order is always encounter → year-to-date → audit head, so no deadlocks.

Scope: a cashier (or a gateway caller identified by ``fixmedins_code``) acts only on
encounters of their own hospital; another hospital's encounter is answered exactly like
a missing one. Audit subjects carry internal ids (mdtrt_id, psn_no), never ID numbers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, Final

from yidi.accounts.model import Movement, MovementKind, account_eligible
from yidi.accounts.sql import AccountRow
from yidi.catalog.commands import CatalogLookup, no_catalog, region_chain
from yidi.catalog.model import CatalogItem, CatalogVersion
from yidi.encounter.sql import (
    SETTLEMENT_AMOUNT_COLUMNS,
    CatalogVersionRow,
    EncounterRow,
    FeeLineRow,
    SettlementRow,
    open_stay_conflict,
)
from yidi.filing.model import lifecycle
from yidi.filing.model.lifecycle import Filing, FilingState
from yidi.filing.model.record import DesignatedInstitution
from yidi.funds.commands import fact_from_settlement, record_settlement_fact
from yidi.kernel.audit import AuditEntry, as_utc, current_client_address
from yidi.kernel.clock import CHINA_TZ, Clock
from yidi.kernel.errors import Conflict, ErrorKind, InvalidInput, NotFound, Refused, YidiError
from yidi.kernel.identity import ResidentId
from yidi.kernel.insurance import AssistanceGroup, EncounterType, FilingCategory, InsuranceType
from yidi.kernel.money import Money, money_sum
from yidi.kernel.regions import DivisionRegistry, default_registry
from yidi.platform.uow import SqlUnitOfWork
from yidi.policy.loader import PolicyLibrary, policy_at, shipped_policy_library
from yidi.policy.national import national_model
from yidi.reference.model import Agency, Hospital, Person
from yidi.settlement.amounts import OWED_TO_TREATMENT_REGION
from yidi.settlement.claims import Claim, FeeLine, ResolvedFeeLines, YearToDate
from yidi.settlement.engine import settle, split_line
from yidi.settlement.result import SettlementResult

#: Materials the seed lists for reimbursement at the insured region (回参保地报销).
MANUAL_MATERIALS_ZH: Final = (
    "住院收据原件、出院记录或住院病案首页、疾病诊断证明书、住院医疗费用总清单"
)

#: med_type codes (national) that are never settled directly across regions.
_OUTPATIENT_MED_TYPES: Final = {"11", "12", "13", "14"}
_INJURY_MED_TYPE: Final = "22"
_EMERGENCY_ADMISSION_MED_TYPE: Final = "24"


def emergency_counts_as_filed(med_type: str, admitted_on: dt.date) -> bool:
    """经办规程第三十四条 (2022 model): an admission the hospital flags as 急诊抢救 counts as
    filed. Under the 2017 model the patient files within 3 working days instead."""
    return (
        med_type == _EMERGENCY_ADMISSION_MED_TYPE
        and national_model(admitted_on).emergency_flag_counts_as_filed
    )


_DIRECT_MED_TYPES: Final = {"21", "24"}

_ICD10: Final = re.compile(r"^[A-Z][0-9]{2}(\.[0-9A-Za-z+]{1,8})?$")
#: Credential kind for the person number a hospital got from 1101 (2401 and later).
PSN_NO_KIND: Final = "psn"

# Encounter states.
ADMITTED: Final = "admitted"
DISCHARGED: Final = "discharged"
SETTLED: Final = "settled"
CANCELLED: Final = "cancelled"

STATE_ZH: Final = {
    ADMITTED: "在院",
    DISCHARGED: "已出院",
    SETTLED: "已结算",
    CANCELLED: "已撤销入院",
}


# --------------------------------------------------------------------------- small values


@dataclass(frozen=True, slots=True)
class Caller:
    """Who acts: a hospital (its fixmedins_code) and the operator, for scope and audit."""

    hospital_code: str
    actor: str
    role: str = "hospital_cashier"
    address: str = ""


@dataclass(frozen=True, slots=True)
class RequestKey:
    """Idempotency: (scope, key) names the request, fingerprint its content."""

    scope: str
    key: str
    fingerprint: str


#: Transactions a 2601 冲正 can undo: settlement, settlement cancellation, fee upload.
REVERSIBLE_INFNOS: Final = ("2304", "2305", "2301")


def reversal_marker(msgid: str) -> str:
    """The idempotency key that records "the message ``msgid`` was reversed by 2601"."""
    return f"2601:{msgid}"


@dataclass(frozen=True, slots=True)
class LookupLimits:
    """Person lookups one institution may make per clock hour: all of them, and those that
    found nobody (a walk through guessed numbers is mostly misses)."""

    per_hour: int = 10_000
    misses_per_hour: int = 60


def mask_id_number(id_number: str) -> str:
    try:
        return ResidentId.parse(id_number).masked()
    except InvalidInput:
        return "*" * max(len(id_number) - 4, 0) + id_number[-4:]


def local(at: dt.datetime) -> dt.datetime:
    """A timestamp in China Standard Time (naive input is taken as Beijing time)."""
    return at.replace(tzinfo=CHINA_TZ) if at.tzinfo is None else at.astimezone(CHINA_TZ)


def _new_id(prefix: str, region: str, at: dt.datetime) -> str:
    return f"{prefix}{region}{local(at):%Y%m%d}{uuid.uuid4().hex[:12].upper()}"


def _not_found_encounter() -> NotFound:
    return NotFound(
        "ENCOUNTER_NOT_FOUND", "未找到该就诊记录", "encounter not found", field="mdtrt_id"
    )


def _require_open(
    encounter: EncounterRow, refused_zh: str, message_en: str, *, if_settled_zh: str = ""
) -> None:
    """Fee lines change, and pre-settlement runs, only while the encounter is not settled."""
    if encounter.state not in (ADMITTED, DISCHARGED):
        raise Conflict(
            "ENCOUNTER_NOT_OPEN",
            f"就诊状态为“{STATE_ZH[encounter.state]}”，{refused_zh}"
            + (if_settled_zh if encounter.state == SETTLED else ""),
            message_en,
            field="mdtrt_id",
        )


def _check_icd10(diagnosis_codes: Sequence[str]) -> None:
    bad = [code for code in diagnosis_codes if not _ICD10.match(code)]
    if bad:
        raise InvalidInput(
            "DIAGNOSIS_CODE_INVALID",
            f"诊断编码不符合 ICD-10 格式：{'、'.join(bad)}",
            f"not ICD-10 codes: {', '.join(bad)}",
            field="diagnosis_codes",
        )


def _fingerprint_line(line: FeeLineInput) -> str:
    text = "|".join(
        [
            line.catalog_code,
            line.hospital_item_code,
            f"{line.quantity.normalize():f}",
            f"{line.unit_price.normalize():f}",
            str(line.amount),
            local(line.occurred_at).replace(tzinfo=None).isoformat(),
        ]
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True, slots=True)
class Credential:
    """就诊凭证 the patient presents: 01 医保电子凭证 (its token), 02 居民身份证 (the ID
    number, with the name: both are asked for), 03 社会保障卡 (the card number). Kind
    :data:`PSN_NO_KIND` is the person number 1101 returned, used by 2401 and later."""

    kind: str
    number: str
    name: str = ""


@dataclass(frozen=True, slots=True)
class AdmissionRequest:
    credential: Credential
    med_type: str
    admitted_at: dt.datetime
    department_code: str
    diagnosis_codes: tuple[str, ...]
    department_name: str = ""
    inpatient_number: str = ""
    insurance_type: str | None = None
    accidental_injury: bool = False
    emergency_started_at: dt.datetime | None = None
    #: The credential type the hospital read (mdtrt_cert_type), kept to echo in replies.
    credential_type: str | None = None


@dataclass(frozen=True, slots=True)
class AdmissionChange:
    """2403: what may change on an open admission (None: unchanged)."""

    admitted_at: dt.datetime | None = None
    med_type: str | None = None
    department_code: str | None = None
    department_name: str | None = None
    inpatient_number: str | None = None
    diagnosis_codes: tuple[str, ...] = ()
    credential_type: str | None = None


@dataclass(frozen=True, slots=True)
class FeeLineInput:
    serial: str
    catalog_code: str
    quantity: Decimal
    unit_price: Decimal
    amount: Money
    occurred_at: dt.datetime
    hospital_item_code: str = ""
    name: str = ""


# --------------------------------------------------------------------------- views


@dataclass(frozen=True)
class AdmissionCheck:
    """入院身份与备案校验: who the person is and the filing that allows direct settlement."""

    person_id: int
    psn_no: str
    person: Person
    hospital: Hospital
    policy_region: str
    catalog_region: str | None
    cross_region: bool
    filing: Filing | None
    #: The caller presented the ID number (and the matching name): it may be shown in full.
    id_presented: bool = False
    #: 个人账户本年余额 (None: the insurance type keeps no personal account)
    account_balance: Money | None = None

    @property
    def id_number_shown(self) -> str:
        """The ID number as the reply may carry it: in full only to a caller who presented
        it, else masked with the 8 birth-date digits hidden (the one mask yidi uses)."""
        return self.person.id_number if self.id_presented else mask_id_number(self.person.id_number)

    @property
    def birth_on_shown(self) -> dt.date | None:
        """The birth date only beside a full ID number: beside the masked one it would
        give back exactly the hidden digits."""
        return self.person.birth_on if self.id_presented else None

    @property
    def filing_number(self) -> str | None:
        return self.filing.record.filing_number if self.filing else None

    @property
    def filing_category(self) -> FilingCategory | None:
        return self.filing.record.category if self.filing else None


@dataclass(frozen=True)
class SettlementRecord:
    """A settlement, pre-settlement or reversal as every transport renders it."""

    kind: str  # pre_settle | settle | reversal
    encounter_id: str
    psn_no: str
    person: Person
    insurance_type: str
    med_type: str
    settled_at: dt.datetime
    amounts: dict[str, Money]
    pooled_fund_rate: Decimal
    explanation_zh: list[str]
    explanation_en: list[str]
    lines: list[dict[str, str]]
    policy_version: str
    catalog_version: str
    settlement_id: str | None = None
    reverses_id: str | None = None
    msgid: str | None = None
    state: str | None = None
    year_to_date_after: dict[str, Any] = field(default_factory=dict)
    #: 个人账户余额 after this settlement (None: the person keeps no account)
    account_balance_after: Money | None = None
    #: mdtrt_cert_type of the admission, and the day whose policy applied (discharge day).
    credential_type: str | None = None
    policy_on: dt.date | None = None


@dataclass(frozen=True)
class EncounterDetail:
    encounter: EncounterRow
    psn_no: str
    person: Person
    hospital: Hospital
    lines: list[FeeLineRow]
    settlements: list[SettlementRecord]


# --------------------------------------------------------------------------- result JSON


def result_amounts(result: SettlementResult) -> dict[str, Money]:
    """The stored amounts of a result, by vocabulary name (and what is owed)."""
    amounts = result.amounts()
    amounts[OWED_TO_TREATMENT_REGION.name] = result.fund_paid_total + result.personal_account_paid
    return amounts


def result_json(result: SettlementResult) -> dict[str, Any]:
    """What is kept of a result besides the amount columns: explanation and line breakdown."""
    return {
        "mode": result.mode.value,
        "pooled_fund_rate": str(result.pooled_fund_rate),
        "explanation_zh": result.explanation_zh(),
        "explanation_en": result.explanation_en(),
        "steps": [
            {"key": s.key, "amount": None if s.amount is None else str(s.amount)}
            for s in result.steps
        ],
        "lines": [
            {
                "serial": line.serial,
                "name": line.name,
                "catalog_code": line.catalog_code,
                "item_class": "" if line.item_class is None else line.item_class.value,
                "line_amount": str(line.line_amount),
                "fully_self_paid": str(line.fully_self_paid),
                "over_limit_self_paid": str(line.over_limit_self_paid),
                "upfront_self_paid": str(line.upfront_self_paid),
                "eligible_amount": str(line.eligible_amount),
                "reason_zh": line.reason_zh,
                "reason_en": line.reason_en,
            }
            for line in result.lines
        ],
        "policy_version": result.policy_version,
        "catalog_version": result.catalog_version,
        "year_to_date_after": result.year_to_date_after.as_dict(),
    }


def ytd_from_json(data: dict[str, Any]) -> YearToDate:
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key in ("year", "admissions_count"):
            values[key] = int(value)
        elif key == "counters":
            values[key] = {name: Money(amount) for name, amount in value.items()}
        else:
            values[key] = Money(value)
    return YearToDate(**values)


def policy_region_of(
    policies: PolicyLibrary, insured_region: str, insurance_type: InsuranceType
) -> str:
    """The pooling region whose policy applies: the code, its prefecture or province."""
    sources = policies.sources
    for code in region_chain(insured_region):
        if (code, insurance_type) in sources:
            return code
    raise NotFound(
        "POLICY_REGION_UNKNOWN",
        f"没有参保地 {insured_region} 的{insurance_type.label_zh}政策，无法结算",
        f"no policy for insured region {insured_region}",
        field="insured_region",
    )


# --------------------------------------------------------------------------- the service


class HospitalService:
    """Use cases of direct settlement; each call is one transaction."""

    def __init__(
        self,
        uow_factory: Callable[[], SqlUnitOfWork],
        clock: Clock,
        *,
        catalogs: CatalogLookup | None = None,
        regions: DivisionRegistry | None = None,
        policies: PolicyLibrary | None = None,
        lookup_limits: LookupLimits | None = None,
    ) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._limits = lookup_limits or LookupLimits()
        self._catalogs = catalogs or CatalogLookup()
        self._regions = regions or default_registry()
        self._policies = policies

    # --- helpers -------------------------------------------------------------------------

    @property
    def policies(self) -> PolicyLibrary:
        return self._policies or shipped_policy_library()

    def policy_region(self, insured_region: str, insurance_type: InsuranceType) -> str:
        """The pooling region whose policy applies: the code, its prefecture or province."""
        return policy_region_of(self.policies, insured_region, insurance_type)

    def _audit(
        self, uow: SqlUnitOfWork, caller: Caller, action: str, subject: str, reason: str = ""
    ) -> None:
        uow.audit.append(
            AuditEntry(
                at=self._clock.now(),
                actor=caller.actor[:64],
                role=caller.role,
                region_code=None,
                action=action,
                subject=subject[:128],
                reason=reason[:500],
                address=(caller.address or current_client_address())[:64],
            )
        )

    @staticmethod
    def _recall(uow: SqlUnitOfWork, key: RequestKey | None) -> Any | None:
        if key is None:
            return None
        voided = uow.idempotency.answer(key.scope, reversal_marker(key.key))
        if voided is not None:
            raise Conflict(
                "MESSAGE_REVERSED",
                f"报文ID {key.key} 的交易已被冲正（2601，冲正报文 {voided.get('msgid') or '-'}），"
                "不再办理；如需重新办理请使用新的报文ID",
                f"message {key.key} was reversed by 2601; send a new msgid to do it again",
                field="msgid",
            )
        return uow.idempotency.recall(key.scope, key.key, key.fingerprint)

    def _lock_for_change(
        self, uow: SqlUnitOfWork, caller: Caller, encounter_id: str, key: RequestKey | None
    ) -> tuple[EncounterRow, Any | None]:
        """The caller's encounter, locked, and what was remembered for ``key`` if this is a
        retry. The lock comes first so that a retry racing the first request waits for its
        commit and then finds its answer."""
        encounter = self._encounter(uow, caller, encounter_id, for_update=True)
        return encounter, self._recall(uow, key)

    def _commit_and_remember(self, uow: SqlUnitOfWork, key: RequestKey | None, memo: Any) -> None:
        """Commit the change together with its idempotency record: a retry finds the first
        answer, or, after a crash, nothing was changed."""
        if key is not None:
            uow.idempotency.remember(key.scope, key.key, key.fingerprint, memo, self._clock.now())
        uow.commit()

    def _commit_encounter_change(
        self,
        uow: SqlUnitOfWork,
        caller: Caller,
        encounter_id: str,
        key: RequestKey | None,
        action: str,
        reason: str = "",
    ) -> EncounterRow:
        """Audit and commit a change of the encounter; answer with the encounter as stored."""
        self._audit(uow, caller, action, f"encounter:{encounter_id}", reason)
        self._commit_and_remember(uow, key, {"mdtrt_id": encounter_id})
        return self._encounter(uow, caller, encounter_id, for_update=False)

    @staticmethod
    def _hospital(uow: SqlUnitOfWork, caller: Caller) -> Hospital:
        hospital = uow.reference.hospital(caller.hospital_code)
        if hospital is None:
            raise NotFound(
                "HOSPITAL_NOT_FOUND",
                f"定点医疗机构 {caller.hospital_code} 不存在",
                "unknown designated institution",
                field="fixmedins_code",
            )
        if not hospital.cross_region_connected:
            raise Refused(
                "HOSPITAL_NOT_CONNECTED",
                f"{hospital.name}尚未接入异地就医直接结算平台，不能办理直接结算",
                "this hospital is not connected for cross-region direct settlement",
                field="fixmedins_code",
            )
        return hospital

    @staticmethod
    def _encounter(
        uow: SqlUnitOfWork, caller: Caller, encounter_id: str, *, for_update: bool
    ) -> EncounterRow:
        encounter = uow.hospital.encounter(encounter_id, for_update=for_update)
        # Another hospital's encounter is answered exactly like a missing one.
        if encounter is None or encounter.hospital_code != caller.hospital_code:
            raise _not_found_encounter()
        return encounter

    def _person_by_credential(
        self, uow: SqlUnitOfWork, credential: Credential
    ) -> tuple[int, Person]:
        """The person the credential names. A miss (or an ID number with another name) is
        one answer, PERSON_NOT_FOUND, so a caller learns nothing it did not present."""
        number = credential.number.strip()
        found: tuple[int, Person] | None = None
        person: Person | None = None
        if credential.kind == "03":
            person = uow.reference.person_by_card(number)
        elif credential.kind == "02":
            name = credential.name.strip()
            if not name:
                raise InvalidInput(
                    "CREDENTIAL_NAME_REQUIRED",
                    "以居民身份证查询时须同时提供姓名（psn_name）",
                    "an ID-card lookup needs the person's name as well",
                    field="psn_name",
                )
            person = uow.reference.person_by_id_number(number.upper())
            if person is not None and person.name != name:
                person = None
        elif credential.kind == "01":
            person = uow.reference.person_by_ecert(number) if number else None
        elif credential.kind == PSN_NO_KIND:
            found = uow.hospital.person_by_psn_no(number) if number else None
        else:
            raise InvalidInput(
                "CREDENTIAL_TYPE_INVALID",
                f"就诊凭证类型“{credential.kind}”无效，应为 01 医保电子凭证、02 居民身份证或 03 社会保障卡",
                "credential type must be 01, 02 or 03",
                field="mdtrt_cert_type",
            )
        if found is None and person is not None:
            person_id = uow.hospital.person_id(person.id_number)
            found = (person_id, person) if person_id is not None else None
        if found is None:
            raise NotFound(
                "PERSON_NOT_FOUND",
                "未查询到该参保人员，请核对就诊凭证",
                "no insured person with this credential",
                field="psn_no" if credential.kind == PSN_NO_KIND else "mdtrt_cert_no",
            )
        return found

    def _person_by_psn_no(self, uow: SqlUnitOfWork, psn_no: str) -> tuple[int, Person]:
        return self._person_by_credential(uow, Credential(PSN_NO_KIND, psn_no))

    def _window(self) -> dt.datetime:
        now = as_utc(self._clock.now())
        return now.replace(minute=0, second=0, microsecond=0)

    def _looked_up(
        self, uow: SqlUnitOfWork, caller: Caller, credential: Credential
    ) -> tuple[int, Person]:
        """A person lookup by an institution: refused once the institution has made too many
        this hour; a hit is counted with the caller's transaction, a miss by
        :meth:`_record_miss` once that transaction has ended (the miss outlives it)."""
        window = self._window()
        counts = uow.hospital.lookup_counts(caller.hospital_code, window)
        if (
            counts.get("all", 0) >= self._limits.per_hour
            or counts.get("miss", 0) >= self._limits.misses_per_hour
        ):
            raise YidiError(
                "PERSON_LOOKUP_RATE_LIMITED",
                "本机构本小时内查询参保人员次数过多，已暂停查询，请稍后再试或联系医保经办机构",
                "too many person lookups by this institution this hour; try again later",
                field="mdtrt_cert_no",
                kind=ErrorKind.TOO_MANY,
            )
        found = self._person_by_credential(uow, credential)
        uow.hospital.bump_lookup(caller.hospital_code, window, "all")
        return found

    def _record_miss(self, caller: Caller, credential: Credential) -> None:
        """Count and audit a lookup that found nobody (never the number that was tried)."""
        window = self._window()
        with self._uow() as uow:
            uow.hospital.bump_lookup(caller.hospital_code, window, "all")
            misses = uow.hospital.bump_lookup(caller.hospital_code, window, "miss")
            self._audit(
                uow,
                caller,
                "hospital.person_lookup_miss",
                f"institution:{caller.hospital_code}",
                f"凭证类型 {credential.kind}；本小时第 {misses} 次未找到",
            )
            uow.commit()

    def agencies_to_call(self, uow: SqlUnitOfWork, person: Person) -> list[Agency]:
        """The insured region's filing agencies, nearest first (county, prefecture, province)."""
        found: list[Agency] = []
        for code in region_chain(person.insured_region_code):
            for agency in uow.reference.agencies(code):
                if agency.insurance_type in (None, person.insurance_type):
                    found.append(agency)
            if any(a.phone for a in found):
                break
        return found

    def _call_agency_text(self, uow: SqlUnitOfWork, person: Person) -> str:
        agencies = self.agencies_to_call(uow, person)
        with_phone = [a for a in agencies if a.phone]
        if with_phone:
            return "、".join(f"{a.name} {a.phone}" for a in with_phone)
        if agencies:
            return f"{agencies[0].name}（备案电话未登记，请通过参保地医保部门公布的电话联系）"
        return f"参保地（{person.insured_region_code}）医保经办机构"

    def _check(
        self,
        uow: SqlUnitOfWork,
        caller: Caller,
        credential: Credential,
        on_date: dt.date,
    ) -> AdmissionCheck:
        hospital = self._hospital(uow, caller)
        person_id, person = self._looked_up(uow, caller, credential)
        policy_region = self.policy_region(person.insured_region_code, person.insurance_type)
        catalog_region = self._catalogs.catalog_region(uow, hospital.region_code)
        cross_region = policy_region != (catalog_region or hospital.region_code)
        filing: Filing | None = None
        if cross_region:
            candidates = uow.filings.current_for_person(person.id_number, (FilingState.APPROVED,))
            filing = lifecycle.valid_filing_for(
                candidates,
                hospital.region_code,
                DesignatedInstitution(hospital.name, hospital.level, hospital.fixmedins_code),
                on_date,
                self._regions,
            )
        return AdmissionCheck(
            person_id=person_id,
            psn_no=person.psn_no,
            person=person,
            hospital=hospital,
            policy_region=policy_region,
            catalog_region=catalog_region,
            cross_region=cross_region,
            filing=filing,
            id_presented=credential.kind == "02",
            account_balance=self._balance(uow, person_id, person.insurance_type, on_date.year),
        )

    def _refuse_unfiled(self, uow: SqlUnitOfWork, check: AdmissionCheck) -> Refused:
        phones = self.agencies_to_call(uow, check.person)
        return Refused(
            "FILING_NOT_VALID",
            f"未查询到参保人在{check.hospital.name}（就医地 {check.hospital.region_code}）有效的异地就医备案，"
            f"不能直接结算。请参保人拨打参保地医保经办机构备案电话确认或补办备案：{self._call_agency_text(uow, check.person)}；"
            f"未备案的住院费用须全额垫付，出院后带{MANUAL_MATERIALS_ZH}回参保地报销",
            "no valid cross-region filing: direct settlement is not available; "
            "the person should call the insured region's agency",
            field="psn_no",
            details={
                "agencies": [
                    {"code": a.code, "name": a.name, "phone": a.phone} for a in phones if a.phone
                ]
                or [{"code": a.code, "name": a.name, "phone": a.phone} for a in phones[:1]],
                "insured_region_code": check.person.insured_region_code,
            },
        )

    def _excluded(self, uow: SqlUnitOfWork, person: Person, code: str, what_zh: str) -> Refused:
        return Refused(
            code,
            # Phone and the way to be reimbursed first: the national err_msg keeps 200 characters.
            f"{what_zh}不纳入异地就医直接结算，费用由参保人全额垫付后回参保地按政策报销。"
            f"请拨打参保地医保经办机构备案电话：{self._call_agency_text(uow, person)}；"
            f"出院后带{MANUAL_MATERIALS_ZH}办理（衡阳市医保中心《异地就医直接结算》两种不纳入情形）",
            "this care is not settled directly; the person pays and claims at the insured region",
            field="med_type",
        )

    def require_person(self, caller: Caller, encounter_id: str, psn_no: str) -> None:
        """Refuse unless the caller's encounter is the person's: a request naming both a
        psn_no and an mdtrt_id must not act on (or show) another person's encounter."""
        with self._uow() as uow:
            encounter = self._encounter(uow, caller, encounter_id, for_update=False)
            try:
                person_id, _ = self._person_by_psn_no(uow, psn_no)
            except NotFound:
                person_id = None
            if person_id != encounter.person_id:
                raise Refused(
                    "PSN_NO_MISMATCH",
                    f"人员编号 {psn_no[:30]} 与就诊ID {encounter_id} 不属于同一参保人，"
                    "交易未办理，请核对人员编号与就诊ID",
                    "psn_no and mdtrt_id do not belong to the same person",
                    field="psn_no",
                )

    # --- 1101 / admission check ---------------------------------------------------------

    def admission_check(self, caller: Caller, credential: Credential) -> AdmissionCheck:
        """Identity and filing check at admission. Unfiled cross-region patients are refused
        with the agency phone to call, never passed silently."""
        try:
            return self._admission_check(caller, credential)
        except NotFound as exc:
            if exc.code == "PERSON_NOT_FOUND":
                self._record_miss(caller, credential)
            raise

    def _admission_check(self, caller: Caller, credential: Credential) -> AdmissionCheck:
        with self._uow() as uow:
            check = self._check(uow, caller, credential, local(self._clock.now()).date())
            valid = check.filing is not None or not check.cross_region
            self._audit(
                uow,
                caller,
                "hospital.admission_check",
                f"person:{check.psn_no}",
                (f"有效备案 {check.filing_number}" if check.filing else "本地参保")
                if valid
                else "无有效备案",
            )
            if not valid:
                error = self._refuse_unfiled(uow, check)
                uow.commit()
                raise error
            uow.commit()
        return check

    # --- 2401 admission -----------------------------------------------------------------

    def admit(
        self, caller: Caller, request: AdmissionRequest, key: RequestKey | None = None
    ) -> EncounterRow:
        try:
            return self._admit(caller, request, key)
        except NotFound as exc:
            if exc.code == "PERSON_NOT_FOUND":
                self._record_miss(caller, request.credential)
            raise

    def _admit(
        self, caller: Caller, request: AdmissionRequest, key: RequestKey | None
    ) -> EncounterRow:
        with self._uow() as uow:
            stored = self._recall(uow, key)
            if stored is not None:
                return self._encounter(uow, caller, stored["mdtrt_id"], for_update=False)
            admitted_at = local(request.admitted_at)
            check = self._check(uow, caller, request.credential, admitted_at.date())
            person = check.person
            if request.insurance_type and request.insurance_type != person.insurance_type.value:
                raise InvalidInput(
                    "INSUTYPE_MISMATCH",
                    f"险种类型 {request.insurance_type} 与参保人的险种"
                    f"（{person.insurance_type.value} {person.insurance_type.label_zh}）不符",
                    "insurance type does not match the person's",
                    field="insutype",
                )
            self._check_admission_rules(uow, request, person, check)
            flagged = check.cross_region and check.filing is None
            flagged = flagged and emergency_counts_as_filed(request.med_type, admitted_at.date())
            if check.cross_region and check.filing is None and not flagged:
                raise self._refuse_unfiled(uow, check)
            self._refuse_overlapping_stay(uow, caller, check.person_id, admitted_at)
            now = self._clock.now()
            encounter_id = _new_id("M", check.hospital.region_code, now)
            filing = check.filing
            uow.hospital.add_encounter(
                {
                    "id": encounter_id,
                    "hospital_code": caller.hospital_code,
                    "person_id": check.person_id,
                    "insured_region_code": person.insured_region_code,
                    "treatment_region_code": check.hospital.region_code,
                    "insurance_type": person.insurance_type.value,
                    "person_type": person.person_type.value,
                    "filing_id": filing.lineage_id if filing else None,
                    "filing_number": filing.record.filing_number if filing else None,
                    "filing_category": (
                        filing.record.category.value
                        if filing and filing.record.category
                        else (FilingCategory.EMERGENCY.value if flagged else None)
                    ),
                    "med_type": request.med_type,
                    "inpatient_number": request.inpatient_number[:30],
                    "department_code": request.department_code[:30],
                    "department_name": request.department_name[:100],
                    "admitted_at": as_utc(admitted_at),
                    "discharged_at": None,
                    "diagnosis_codes": ",".join(request.diagnosis_codes)[:500],
                    "accidental_injury": False,
                    "emergency_started_at": (
                        as_utc(local(request.emergency_started_at))
                        if request.emergency_started_at
                        else None
                    ),
                    "state": ADMITTED,
                    "credential_type": (request.credential_type or "")[:3] or None,
                    "created_at": as_utc(now),
                    "updated_at": as_utc(now),
                }
            )
            return self._commit_encounter_change(
                uow,
                caller,
                encounter_id,
                key,
                "hospital.admit",
                f"{check.psn_no} med_type {request.med_type}"
                + (f" 备案 {check.filing_number}" if check.filing_number else ""),
            )

    @staticmethod
    def _refuse_overlapping_stay(
        uow: SqlUnitOfWork, caller: Caller, person_id: int, admitted_at: dt.datetime
    ) -> None:
        """One stay at a time per person and hospital: no second open stay (the schema holds
        this under concurrency too), and no stay admitted before a settled one was discharged."""
        for other in uow.hospital.stays_of_person_at(person_id, caller.hospital_code):
            if other.state in (ADMITTED, DISCHARGED):
                raise open_stay_conflict(other.id)
            if other.discharged_at is not None and as_utc(other.discharged_at) > as_utc(
                admitted_at
            ):
                raise Conflict(
                    "ENCOUNTER_OVERLAPS",
                    f"该参保人在本院的住院（就诊ID {other.id}，"
                    f"{local(other.discharged_at):%Y-%m-%d %H:%M}出院）已结算，"
                    "入院时间不能早于该次出院时间，请核对入院时间",
                    "the admission time lies within a settled stay of the person at this hospital",
                    field="begntime",
                )

    def _check_admission_rules(
        self,
        uow: SqlUnitOfWork,
        request: AdmissionRequest,
        person: Person,
        check: AdmissionCheck,
    ) -> None:
        if not request.diagnosis_codes:
            raise InvalidInput(
                "DIAGNOSIS_REQUIRED",
                "入院须填写至少一个诊断编码（ICD-10）",
                "at least one ICD-10 diagnosis code is required",
                field="diagnosis_codes",
            )
        _check_icd10(request.diagnosis_codes)
        med_type = request.med_type
        if med_type in _OUTPATIENT_MED_TYPES:
            raise self._excluded(
                uow,
                person,
                "ENCOUNTER_OUTPATIENT_NOT_DIRECT",
                "普通门（急）诊医疗费用（急诊抢救后转住院的请按 med_type 24 办理）",
            )
        if med_type == _INJURY_MED_TYPE or request.accidental_injury:
            raise self._excluded(
                uow, person, "ENCOUNTER_INJURY_NOT_DIRECT", "意外伤害住院的医疗费用"
            )
        if med_type not in _DIRECT_MED_TYPES:
            raise Refused(
                "MED_TYPE_NOT_DIRECT",
                f"医疗类别 {med_type} 不属于跨省异地就医住院直接结算范围（支持 21 普通住院、24 急诊转住院）",
                "only med_type 21 and 24 are settled directly",
                field="med_type",
            )
        if med_type == _EMERGENCY_ADMISSION_MED_TYPE:
            started = request.emergency_started_at
            if started is None:
                raise InvalidInput(
                    "EMERGENCY_START_REQUIRED",
                    "急诊转住院须提供急诊抢救开始时间（exp_content.EMER_BEGNTIME）",
                    "emergency-to-inpatient admissions need the emergency start time",
                    field="emergency_started_at",
                )
            hours = policy_at(
                check.policy_region,
                person.insurance_type,
                local(request.admitted_at).date(),
                self._policies,
            ).emergency_pre_admission_hours
            gap = local(request.admitted_at) - local(started)
            if gap < dt.timedelta(0):
                raise InvalidInput(
                    "EMERGENCY_START_AFTER_ADMISSION",
                    "急诊抢救开始时间晚于入院时间",
                    "emergency start is after admission",
                    field="emergency_started_at",
                )
            if gap > dt.timedelta(hours=hours):
                raise self._excluded(
                    uow,
                    person,
                    "EMERGENCY_ADMISSION_AFTER_72H",
                    f"急诊抢救后超过{hours}小时才转住院（相隔 {gap.total_seconds() / 3600:.1f} 小时），"
                    "其门急诊及住院医疗费用",
                )

    # --- 2404 / 2402 / 2405 -------------------------------------------------------------

    def cancel_admission(
        self,
        caller: Caller,
        encounter_id: str,
        key: RequestKey | None = None,
        *,
        reason: str = "",
    ) -> EncounterRow:
        """2404: cancel an admission that has nothing uploaded (so nothing settled); the
        cashier's reason goes to the audit trail."""
        with self._uow() as uow:
            encounter, stored = self._lock_for_change(uow, caller, encounter_id, key)
            if stored is not None:
                return encounter
            if encounter.state != ADMITTED or uow.hospital.fee_lines(encounter_id):
                raise Conflict(
                    "ENCOUNTER_CANNOT_CANCEL",
                    "只能撤销在院且没有有效费用明细的入院登记（请先撤销费用明细）",
                    "only an admitted encounter without active fee lines can be cancelled",
                    field="mdtrt_id",
                )
            uow.hospital.update_encounter(
                encounter_id, state=CANCELLED, updated_at=as_utc(self._clock.now())
            )
            return self._commit_encounter_change(
                uow, caller, encounter_id, key, "hospital.cancel_admission", reason
            )

    def change_admission(
        self,
        caller: Caller,
        encounter_id: str,
        change: AdmissionChange,
        key: RequestKey | None = None,
    ) -> EncounterRow:
        """2403: correct an open (unsettled) admission. The medical type never changes (cancel
        and admit again); a new admission time must keep every uploaded line in the stay."""
        with self._uow() as uow:
            encounter, stored = self._lock_for_change(uow, caller, encounter_id, key)
            if stored is not None:
                return encounter
            _require_open(
                encounter,
                "不能变更入院信息",
                "only an open, unsettled admission can be changed",
                if_settled_zh="（请先撤销结算）",
            )
            if change.med_type and change.med_type != encounter.med_type:
                raise Refused(
                    "ADMISSION_MED_TYPE_CHANGE",
                    f"医疗类别不能由 {encounter.med_type} 变更为 {change.med_type}，"
                    "请撤销入院（2404）后重新办理入院",
                    "the medical type cannot change; cancel and admit again",
                    field="med_type",
                )
            values: dict[str, Any] = {}
            if change.admitted_at is not None:
                when = local(change.admitted_at)
                if when != encounter.admitted_at:
                    self._check_new_admission_time(uow, encounter, when)
                    values["admitted_at"] = as_utc(when)
            for name, value, limit in (
                ("department_code", change.department_code, 30),
                ("department_name", change.department_name, 100),
                ("inpatient_number", change.inpatient_number, 30),
                ("credential_type", change.credential_type, 3),
            ):
                if value and value != getattr(encounter, name):
                    values[name] = value[:limit]
            if change.diagnosis_codes:
                _check_icd10(change.diagnosis_codes)
                codes = ",".join(change.diagnosis_codes)[:500]
                if codes != encounter.diagnosis_codes:
                    values["diagnosis_codes"] = codes
            if values:
                uow.hospital.update_encounter(
                    encounter_id, **values, updated_at=as_utc(self._clock.now())
                )
            return self._commit_encounter_change(
                uow,
                caller,
                encounter_id,
                key,
                "hospital.change_admission",
                "变更 " + ("、".join(sorted(values)) if values else "无"),
            )

    def _check_new_admission_time(
        self, uow: SqlUnitOfWork, encounter: EncounterRow, when: dt.datetime
    ) -> None:
        if encounter.emergency_started_at is not None:
            raise Refused(
                "ADMISSION_TIME_CHANGE_EMERGENCY",
                "急诊转住院的入院时间不能变更（72 小时规则按原时间核定），请撤销入院后重新办理",
                "the admission time of an emergency admission cannot change",
                field="begntime",
            )
        if encounter.discharged_at is not None and when > encounter.discharged_at:
            raise InvalidInput(
                "DISCHARGE_BEFORE_ADMISSION",
                "入院时间晚于出院时间",
                "admission is after discharge",
                field="begntime",
            )
        earlier = [
            line.serial
            for line in uow.hospital.fee_lines(encounter.id)
            if local(line.occurred_at).date() < when.date()
        ]
        if earlier:
            raise InvalidInput(
                "ADMISSION_AFTER_FEE_LINES",
                f"新的入院时间 {when:%Y-%m-%d %H:%M:%S} 晚于已上传费用明细的发生日期"
                f"（流水号 {'、'.join(earlier[:10])}{' 等' if len(earlier) > 10 else ''}），"
                "请核对入院时间或先撤销这些明细（2302）",
                "the new admission time is after fee lines already uploaded",
                field="begntime",
                details={"serials": earlier},
            )

    def discharge(
        self,
        caller: Caller,
        encounter_id: str,
        discharged_at: dt.datetime,
        *,
        diagnosis_codes: Sequence[str] = (),
        key: RequestKey | None = None,
    ) -> EncounterRow:
        with self._uow() as uow:
            encounter, stored = self._lock_for_change(uow, caller, encounter_id, key)
            if stored is not None:
                return encounter
            if encounter.state != ADMITTED:
                raise Conflict(
                    "ENCOUNTER_NOT_ADMITTED",
                    f"就诊状态为“{STATE_ZH[encounter.state]}”，不能办理出院",
                    "only an admitted encounter can be discharged",
                    field="mdtrt_id",
                )
            when = local(discharged_at)
            if when < encounter.admitted_at:
                raise InvalidInput(
                    "DISCHARGE_BEFORE_ADMISSION",
                    "出院时间早于入院时间",
                    "discharge is before admission",
                    field="endtime",
                )
            later = [
                line.serial
                for line in uow.hospital.fee_lines(encounter_id)
                if local(line.occurred_at) > when
            ]
            if later:
                raise InvalidInput(
                    "DISCHARGE_BEFORE_FEE_LINES",
                    f"出院时间 {when:%Y-%m-%d %H:%M:%S} 早于已上传费用明细的发生时间"
                    f"（流水号 {'、'.join(later[:10])}{' 等' if len(later) > 10 else ''}），"
                    "请核对出院时间或先撤销这些明细（2302）",
                    "the discharge time is before fee lines already uploaded",
                    field="endtime",
                    details={"serials": later},
                )
            values: dict[str, Any] = {
                "state": DISCHARGED,
                "discharged_at": as_utc(when),
                "updated_at": as_utc(self._clock.now()),
            }
            _check_icd10(diagnosis_codes)
            if diagnosis_codes:
                values["diagnosis_codes"] = ",".join(diagnosis_codes)[:500]
            uow.hospital.update_encounter(encounter_id, **values)
            return self._commit_encounter_change(
                uow, caller, encounter_id, key, "hospital.discharge"
            )

    def cancel_discharge(
        self, caller: Caller, encounter_id: str, key: RequestKey | None = None
    ) -> EncounterRow:
        with self._uow() as uow:
            encounter, stored = self._lock_for_change(uow, caller, encounter_id, key)
            if stored is not None:
                return encounter
            if encounter.state != DISCHARGED:
                raise Conflict(
                    "ENCOUNTER_NOT_DISCHARGED",
                    f"就诊状态为“{STATE_ZH[encounter.state]}”，不能撤销出院（已结算的请先撤销结算）",
                    "only a discharged, unsettled encounter can be reopened",
                    field="mdtrt_id",
                )
            uow.hospital.update_encounter(
                encounter_id,
                state=ADMITTED,
                discharged_at=None,
                updated_at=as_utc(self._clock.now()),
            )
            return self._commit_encounter_change(
                uow, caller, encounter_id, key, "hospital.cancel_discharge"
            )

    # --- 2301 / 2302 fee lines ----------------------------------------------------------

    def upload_fees(
        self,
        caller: Caller,
        encounter_id: str,
        lines: Sequence[FeeLineInput],
        key: RequestKey | None = None,
    ) -> list[FeeLineRow]:
        """Store a batch of fee lines; the same line again is a no-op. Returns each line's split."""
        with self._uow() as uow:
            encounter, stored = self._lock_for_change(uow, caller, encounter_id, key)
            if stored is not None:
                found = uow.hospital.fee_lines_by_serial(encounter_id, stored["serials"])
                return [found[s] for s in stored["serials"] if s in found]
            _require_open(
                encounter,
                "不能上传费用明细",
                "fee lines can be uploaded only to an open, unsettled encounter",
                if_settled_zh="（如需更正请先撤销结算）",
            )
            if not lines:
                raise InvalidInput(
                    "FEE_LINES_EMPTY", "费用明细不能为空", "no fee lines", field="feedetail"
                )
            fingerprints = self._check_batch(encounter, lines, self._latest_fee_time(encounter))
            catalog_region, versions = self._treatment_catalogs(uow, encounter)
            resolved: dict[str, tuple[CatalogVersion, CatalogItem | None]] = {}
            unknown: list[str] = []
            unknown_serials: list[str] = []
            for line in lines:
                day = local(line.occurred_at).date()
                catalog = self._catalogs.in_force(uow, versions, day)
                if catalog is None or line.catalog_code not in catalog.items:
                    if line.catalog_code not in unknown:
                        unknown.append(line.catalog_code)
                    unknown_serials.append(line.serial)
                    continue
                resolved[line.serial] = (catalog, catalog.lookup(line.catalog_code, day))
            if unknown:
                raise InvalidInput(
                    "FEE_CATALOG_CODE_UNKNOWN",
                    f"以下医疗目录编码不在就医地（{catalog_region}）医保目录中：{'、'.join(unknown)}"
                    f"（费用明细流水号 {'、'.join(unknown_serials)}），本批次未上传，请核对后重传",
                    f"catalogue codes not in the treatment region's catalogue: {', '.join(unknown)}",
                    field="med_list_codg",
                    details={"unknown_codes": unknown, "serials": unknown_serials},
                )
            existing = uow.hospital.fee_lines_by_serial(encounter_id, [x.serial for x in lines])
            reused = [
                line.serial
                for line in lines
                if line.serial in existing
                and not existing[line.serial].cancelled
                and existing[line.serial].fingerprint != fingerprints[line.serial]
            ]
            if reused:
                raise Conflict(
                    "FEE_LINE_SERIAL_REUSED",
                    f"费用明细流水号 {'、'.join(reused)} 已上传过内容不同的明细；"
                    "如需修改请先撤销原明细（2302）再上传",
                    "these serials were uploaded with different content",
                    field="feedetl_sn",
                    details={"serials": reused},
                )
            now = as_utc(self._clock.now())
            new_rows: list[dict[str, Any]] = []
            added = replaced = 0
            stored_now: list[str] = []  # what a 2601 of this upload takes back
            for line in lines:
                previous = existing.get(line.serial)
                if previous is not None and not previous.cancelled:
                    continue  # the same line again: nothing to do
                catalog, item = resolved[line.serial]
                stored_now.append(line.serial)
                values = self._line_values(encounter, line, item, now, fingerprints[line.serial])
                if previous is not None:
                    uow.hospital.replace_fee_line(
                        previous.id, values | {"cancelled": False, "cancelled_at": None}
                    )
                    replaced += 1
                else:
                    new_rows.append(values | {"encounter_id": encounter_id, "serial": line.serial})
                    added += 1
            uow.hospital.add_fee_lines(new_rows)
            uow.hospital.update_encounter(encounter_id, updated_at=now)
            self._audit(
                uow,
                caller,
                "hospital.fee_upload",
                f"encounter:{encounter_id}",
                f"新增 {added} 条，重新上传 {replaced} 条，重复 {len(lines) - added - replaced} 条",
            )
            serials = list(dict.fromkeys(line.serial for line in lines))
            memo = {"serials": serials, "stored": stored_now, "mdtrt_id": encounter_id}
            self._commit_and_remember(uow, key, memo)
            found = uow.hospital.fee_lines_by_serial(encounter_id, serials)
            return [found[s] for s in serials]

    def _latest_fee_time(self, encounter: EncounterRow) -> dt.datetime:
        """The latest fee time the stay allows now: the discharge, or before it the upload time
        plus the policy's ``fee_time_future_days``."""
        if encounter.discharged_at is not None:
            return encounter.discharged_at
        now = self._clock.now()
        insurance_type = InsuranceType(encounter.insurance_type)
        tolerance = policy_at(
            self.policy_region(encounter.insured_region_code, insurance_type),
            insurance_type,
            local(now).date(),
            self._policies,
        ).fee_time_future_days
        return now + dt.timedelta(days=tolerance)

    def _check_batch(
        self, encounter: EncounterRow, lines: Sequence[FeeLineInput], latest: dt.datetime
    ) -> dict[str, str]:
        """Refuse an invalid batch (a line outside the stay, up to ``latest``); return each
        serial's content fingerprint."""
        problems: list[str] = []
        seen: dict[str, str] = {}
        for line in lines:
            if not line.serial or len(line.serial) > 30:
                problems.append(f"流水号“{line.serial}”应为 1–30 位")
            fingerprint = _fingerprint_line(line)
            if seen.get(line.serial, fingerprint) != fingerprint:
                problems.append(f"流水号 {line.serial} 在本批次中出现两次且内容不同")
            seen[line.serial] = fingerprint
            if line.quantity <= 0 or line.unit_price < 0 or line.amount.is_negative():
                problems.append(
                    f"流水号 {line.serial} 的数量须为正数、单价和金额不能为负（退费请用 2302 撤销明细）"
                )
                continue
            expected = Money.rounded(line.quantity * line.unit_price)
            if abs((expected - line.amount).yuan) > Decimal("0.01"):
                problems.append(
                    f"流水号 {line.serial} 的金额 {line.amount} 与数量×单价 {expected} 不符"
                )
            occurred = local(line.occurred_at)
            if encounter.emergency_started_at is not None:
                if occurred < encounter.emergency_started_at:
                    problems.append(f"流水号 {line.serial} 发生在急诊抢救开始之前")
            elif occurred.date() < local(encounter.admitted_at).date():
                problems.append(f"流水号 {line.serial} 发生在入院日期之前")
            if encounter.discharged_at is not None and occurred > encounter.discharged_at:
                problems.append(f"流水号 {line.serial} 发生在出院之后")
            elif occurred > latest:
                problems.append(
                    f"流水号 {line.serial} 的费用发生时间 {occurred:%Y-%m-%d %H:%M:%S} 远晚于上传时间，"
                    "不在就诊期间"
                )
        if problems:
            raise InvalidInput(
                "FEE_LINES_INVALID",
                "；".join(problems[:20])
                + (f"；等共 {len(problems)} 处" if len(problems) > 20 else ""),
                "fee lines are invalid",
                field="feedetail",
                details={"problems": problems},
            )
        return seen

    def _line_values(
        self,
        encounter: EncounterRow,
        line: FeeLineInput,
        item: CatalogItem | None,
        now: dt.datetime,
        fingerprint: str,
    ) -> dict[str, Any]:
        occurred = local(line.occurred_at)
        pre_admission = (
            encounter.emergency_started_at is not None and occurred < encounter.admitted_at
        )
        fee_line = FeeLine(
            serial=line.serial,
            catalog_code=line.catalog_code,
            hospital_item_code=line.hospital_item_code or line.catalog_code,
            name=line.name or (item.name if item else ""),
            quantity=line.quantity,
            unit_price=line.unit_price,
            line_amount=line.amount,
            occurred_at=occurred.replace(tzinfo=None),
            is_emergency_pre_admission=pre_admission,
        )
        split = split_line(fee_line, item)
        if item is None or item.item_class.value == "03":
            rate = Decimal(1)
        else:
            rate = item.upfront_self_pay_rate
        return {
            "catalog_code": line.catalog_code,
            "hospital_item_code": fee_line.hospital_item_code[:150],
            "name": fee_line.name[:200],
            "quantity": f"{line.quantity:f}",
            "unit_price": f"{line.unit_price:f}",
            "amount_fen": line.amount.fen,
            "occurred_at": as_utc(occurred),
            "emergency_pre_admission": pre_admission,
            "fingerprint": fingerprint,
            "item_class": "03" if item is None else item.item_class.value,
            "fee_category": "14" if item is None else item.fee_category,
            "self_pay_rate": f"{rate:.4f}",
            "price_limit": None
            if item is None or item.price_limit is None
            else f"{item.price_limit.yuan:f}",
            "fully_self_paid_fen": split.fully_self_paid.fen,
            "over_limit_self_paid_fen": split.over_limit_self_paid.fen,
            "upfront_self_paid_fen": split.upfront_self_paid.fen,
            "eligible_amount_fen": split.eligible_amount.fen,
            "uploaded_at": now,
        }

    def cancel_fees(
        self,
        caller: Caller,
        encounter_id: str,
        serials: Sequence[str],
        key: RequestKey | None = None,
    ) -> list[str]:
        """2302: cancel unsettled lines; ``"0000"`` cancels all. Cancelled lines are kept, flagged."""
        with self._uow() as uow:
            encounter, stored = self._lock_for_change(uow, caller, encounter_id, key)
            if stored is not None:
                return list(stored["serials"])
            _require_open(
                encounter,
                "不能撤销费用明细",
                "fee lines can be cancelled only on an open, unsettled encounter",
                if_settled_zh="（已结算的明细须先撤销结算）",
            )
            active = {line.serial: line for line in uow.hospital.fee_lines(encounter_id)}
            if "0000" in serials:
                chosen = list(active.values())
            else:
                every = uow.hospital.fee_lines_by_serial(encounter_id, serials)
                missing = [s for s in serials if s not in every]
                if missing:
                    raise NotFound(
                        "FEE_LINE_NOT_FOUND",
                        f"未找到费用明细流水号：{'、'.join(missing)}",
                        f"fee lines not found: {', '.join(missing)}",
                        field="feedetl_sn",
                    )
                chosen = [active[s] for s in serials if s in active]  # cancelled ones: no-op
            uow.hospital.cancel_fee_lines([line.id for line in chosen], self._clock.now())
            self._audit(
                uow,
                caller,
                "hospital.fee_cancel",
                f"encounter:{encounter_id}",
                f"撤销 {len(chosen)} 条",
            )
            cancelled = [line.serial for line in chosen]
            self._commit_and_remember(uow, key, {"serials": cancelled})
            return cancelled

    # --- 2303 / 2304 / 2305 -------------------------------------------------------------

    def _compute(
        self,
        uow: SqlUnitOfWork,
        encounter: EncounterRow,
        person: Person,
        hospital: Hospital,
        lines: Sequence[FeeLineRow],
        year_to_date: YearToDate,
        discharged_on: dt.date,
        account_balance: Money | None = None,
    ) -> SettlementResult:
        insurance_type = InsuranceType(encounter.insurance_type)
        policy = policy_at(
            self.policy_region(encounter.insured_region_code, insurance_type),
            insurance_type,
            discharged_on,
            self._policies,
        )
        catalog_region, versions = self._treatment_catalogs(uow, encounter)
        fee_lines: list[FeeLine] = []
        items: dict[str, CatalogItem | None] = {}
        hashes: list[str] = []
        for line in lines:
            occurred = local(line.occurred_at)
            catalog = self._catalogs.in_force(uow, versions, occurred.date())
            if catalog is None:
                raise no_catalog(encounter.treatment_region_code)
            if catalog.content_hash not in hashes:
                hashes.append(catalog.content_hash)
            items[line.serial] = catalog.lookup(line.catalog_code, occurred.date())
            fee_lines.append(
                FeeLine(
                    serial=line.serial,
                    catalog_code=line.catalog_code,
                    hospital_item_code=line.hospital_item_code,
                    name=line.name,
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                    line_amount=line.amount,
                    occurred_at=occurred.replace(tzinfo=None),
                    is_emergency_pre_admission=line.emergency_pre_admission,
                )
            )
        group: AssistanceGroup | None = None
        if person.low_income_group:
            try:
                group = AssistanceGroup(person.low_income_group)
            except ValueError:
                group = None
        claim = Claim(
            insured_region=policy.region_code,
            treatment_region=catalog_region,
            insurance_type=insurance_type,
            person_type=person.person_type,
            hospital_level=hospital.level,
            filing_category=(
                FilingCategory(encounter.filing_category) if encounter.filing_category else None
            ),
            admitted_on=local(encounter.admitted_at).date(),
            discharged_on=discharged_on,
            encounter_type=EncounterType(encounter.med_type),
            fee_lines=tuple(fee_lines),
            assistance_group=group,
            use_personal_account=account_balance is not None,
            personal_account_balance=account_balance or Money.zero(),
        )
        resolved = ResolvedFeeLines(catalog_region, ",".join(hashes), items)
        return settle(claim, policy, resolved, year_to_date)

    def _treatment_catalogs(
        self, uow: SqlUnitOfWork, encounter: EncounterRow
    ) -> tuple[str, list[CatalogVersionRow]]:
        """The catalogue region of the treatment region and its versions; refused without any."""
        catalog_region = self._catalogs.catalog_region(uow, encounter.treatment_region_code)
        if catalog_region is None:
            raise no_catalog(encounter.treatment_region_code)
        return catalog_region, self._catalogs.versions(uow, catalog_region)

    def _context(self, uow: SqlUnitOfWork, encounter: EncounterRow) -> tuple[Person, Hospital]:
        person = uow.hospital.person_by_internal_id(encounter.person_id)
        hospital = uow.reference.hospital(encounter.hospital_code)
        assert person is not None and hospital is not None
        return person, hospital

    @staticmethod
    def _check_total(lines: Sequence[FeeLineRow], total_charges: Money | None) -> None:
        if not lines:
            raise Refused(
                "FEE_LINES_EMPTY",
                "该就诊没有有效的费用明细，不能结算",
                "no active fee lines to settle",
                field="mdtrt_id",
            )
        total = money_sum([line.amount for line in lines])
        if total_charges is not None and total_charges != total:
            raise Refused(
                "MEDFEE_SUMAMT_MISMATCH",
                f"医疗费总额 {total_charges} 元与已上传费用明细合计 {total} 元不符，请核对明细后重新结算",
                f"total charges {total_charges} differ from the uploaded lines' total {total}",
                field="total_charges",
            )

    def _record(
        self,
        kind: str,
        encounter: EncounterRow,
        person: Person,
        settled_at: dt.datetime,
        amounts: dict[str, Money],
        data: dict[str, Any],
        *,
        row: SettlementRow | None = None,
    ) -> SettlementRecord:
        return SettlementRecord(
            kind=kind,
            encounter_id=encounter.id,
            psn_no=person.psn_no,
            person=person,
            insurance_type=encounter.insurance_type,
            med_type=encounter.med_type,
            settled_at=settled_at,
            amounts=amounts,
            pooled_fund_rate=Decimal(data["pooled_fund_rate"]),
            explanation_zh=list(data["explanation_zh"]),
            explanation_en=list(data["explanation_en"]),
            lines=list(data["lines"]),
            policy_version=data["policy_version"],
            catalog_version=data["catalog_version"],
            settlement_id=row.id if row else None,
            reverses_id=row.reverses_id if row else None,
            msgid=row.msgid if row else None,
            state=row.state if row else None,
            year_to_date_after=dict(data.get("year_to_date_after", {})),
            account_balance_after=(
                Money(data["account_balance_after"])
                if data.get("account_balance_after") is not None
                else None
            ),
            credential_type=encounter.credential_type,
            policy_on=local(encounter.discharged_at).date() if encounter.discharged_at else None,
        )

    def _record_of_row(
        self, uow: SqlUnitOfWork, encounter: EncounterRow, row: SettlementRow
    ) -> SettlementRecord:
        person, _ = self._context(uow, encounter)
        return self._record(
            row.kind,
            encounter,
            person,
            row.settled_at,
            row.amounts,
            json.loads(row.result_json),
            row=row,
        )

    def _stored_settlement(
        self, uow: SqlUnitOfWork, encounter: EncounterRow, settlement_id: str
    ) -> SettlementRecord:
        row = uow.hospital.settlement(settlement_id)
        assert row is not None
        return self._record_of_row(uow, encounter, row)

    @staticmethod
    def _balance(
        uow: SqlUnitOfWork, person_id: int, insurance_type: InsuranceType, year: int
    ) -> Money | None:
        if not account_eligible(insurance_type):
            return None
        account = uow.accounts.read(person_id, insurance_type, year)
        return account.balance if account else Money.zero()

    def _account(
        self, uow: SqlUnitOfWork, encounter: EncounterRow, year: int, *, lock: bool
    ) -> AccountRow | None:
        """The person's personal account for the year (employee insurance only), locked for a
        settlement so two settlements at once never both spend one balance."""
        insurance_type = InsuranceType(encounter.insurance_type)
        if not account_eligible(insurance_type):
            return None
        if lock:
            return uow.accounts.lock(encounter.person_id, insurance_type, year, self._clock.now())
        found = uow.accounts.read(encounter.person_id, insurance_type, year)
        return found or AccountRow(0, encounter.person_id, insurance_type.value, year, Money.zero())

    @staticmethod
    def _debit_account(
        uow: SqlUnitOfWork,
        account: AccountRow,
        result: SettlementResult,
        settlement_id: str,
        caller: Caller,
        now: dt.datetime,
    ) -> Money:
        """Record what the account paid, in the settlement's transaction; the balance after."""
        if result.personal_account_paid.is_zero():
            return account.balance
        after = uow.accounts.move(
            account,
            Movement(MovementKind.DEBIT, result.personal_account_paid, settlement_id),
            at=as_utc(now),
            by=caller.actor,
            source=f"settlement:{caller.hospital_code}",
            settlement_id=settlement_id,
        )
        return after.balance

    def _restore_account(
        self,
        uow: SqlUnitOfWork,
        encounter: EncounterRow,
        original: SettlementRow,
        reversal_id: str,
        caller: Caller,
        now: dt.datetime,
    ) -> str:
        """Give back exactly what the settlement took; the reversal's result JSON carries the
        balance after."""
        data = json.loads(original.result_json)
        account = self._account(uow, encounter, original.year, lock=True)
        if account is None:
            return original.result_json
        debit = uow.accounts.debit_of_settlement(original.id)
        if debit is not None:
            account = uow.accounts.move(
                account,
                Movement(MovementKind.RESTORE, debit.amount, reversal_id),
                at=as_utc(now),
                by=caller.actor,
                source=f"reversal:{original.id}",
                settlement_id=reversal_id,
            )
        data["account_balance_after"] = str(account.balance)
        return json.dumps(data, ensure_ascii=False)

    def _debit_again(
        self,
        uow: SqlUnitOfWork,
        encounter: EncounterRow,
        settled: SettlementRow,
        restored_id: str,
        caller: Caller,
        now: dt.datetime,
    ) -> str:
        """2601 of a 2305: the restored settlement takes from the account again exactly what
        the original took (refused, nothing written, if the balance no longer covers it)."""
        data = json.loads(settled.result_json)
        account = self._account(uow, encounter, settled.year, lock=True)
        if account is None:
            return settled.result_json
        amount = settled.amounts["personal_account_paid"]
        if not amount.is_zero():
            account = uow.accounts.move(
                account,
                Movement(MovementKind.DEBIT, amount, restored_id),
                at=as_utc(now),
                by=caller.actor,
                source=f"settlement:{caller.hospital_code}",
                settlement_id=restored_id,
            )
        data["account_balance_after"] = str(account.balance)
        return json.dumps(data, ensure_ascii=False)

    def pre_settle(
        self,
        caller: Caller,
        encounter_id: str,
        total_charges: Money | None = None,
        discharged_on: dt.date | None = None,
        *,
        use_account: bool = False,
    ) -> SettlementRecord:
        """2303: the full result on the current totals; nothing is written."""
        with self._uow() as uow:
            encounter = self._encounter(uow, caller, encounter_id, for_update=False)
            _require_open(
                encounter, "不能预结算", "only an open, unsettled encounter can be pre-settled"
            )
            person, hospital = self._context(uow, encounter)
            lines = uow.hospital.fee_lines(encounter_id)
            self._check_total(lines, total_charges)
            day = (
                local(encounter.discharged_at).date()
                if encounter.discharged_at
                else discharged_on or local(self._clock.now()).date()
            )
            ytd = uow.hospital.read_year_to_date(
                encounter.person_id, InsuranceType(encounter.insurance_type), day.year
            )
            account = self._account(uow, encounter, day.year, lock=False)
            balance = account.balance if account else None
            result = self._compute(
                uow, encounter, person, hospital, lines, ytd, day, balance if use_account else None
            )
            data = result_json(result)
            if balance is not None:
                data["account_balance_after"] = str(balance - result.personal_account_paid)
            record = self._record(
                "pre_settle", encounter, person, self._clock.now(), result_amounts(result), data
            )
            return replace(record, policy_on=day)

    def settle(
        self,
        caller: Caller,
        encounter_id: str,
        total_charges: Money,
        key: RequestKey | None = None,
        *,
        msgid: str | None = None,
        use_account: bool = False,
    ) -> SettlementRecord:
        """2304: commit the settlement, the year-to-date totals and what is owed, at once."""
        with self._uow() as uow:
            encounter, stored = self._lock_for_change(uow, caller, encounter_id, key)
            if stored is not None:
                return self._stored_settlement(uow, encounter, stored["setl_id"])
            if encounter.state != DISCHARGED:
                raise Conflict(
                    "ENCOUNTER_ALREADY_SETTLED"
                    if encounter.state == SETTLED
                    else "ENCOUNTER_NOT_DISCHARGED",
                    "该就诊已结算，不能重复结算"
                    if encounter.state == SETTLED
                    else f"就诊状态为“{STATE_ZH[encounter.state]}”，须先办理出院（2402）再结算",
                    "the encounter must be discharged and not yet settled",
                    field="mdtrt_id",
                )
            person, hospital = self._context(uow, encounter)
            lines = uow.hospital.fee_lines(encounter_id)
            self._check_total(lines, total_charges)
            assert encounter.discharged_at is not None
            day = local(encounter.discharged_at).date()
            insurance_type = InsuranceType(encounter.insurance_type)
            ytd = uow.hospital.lock_year_to_date(encounter.person_id, insurance_type, day.year)
            account = self._account(uow, encounter, day.year, lock=True)
            balance = account.balance if account and use_account else None
            result = self._compute(uow, encounter, person, hospital, lines, ytd, day, balance)
            now = self._clock.now()
            settlement_id = _new_id("S", encounter.treatment_region_code, now)
            amounts = result_amounts(result)
            data = result_json(result)
            if account is not None:
                data["account_balance_after"] = str(
                    self._debit_account(uow, account, result, settlement_id, caller, now)
                )
            uow.hospital.add_settlement(
                {
                    "id": settlement_id,
                    "encounter_id": encounter_id,
                    "kind": "settle",
                    "state": "active",
                    "reverses_id": None,
                    "person_id": encounter.person_id,
                    "insurance_type": encounter.insurance_type,
                    "year": day.year,
                    "hospital_code": encounter.hospital_code,
                    "insured_region_code": encounter.insured_region_code,
                    "treatment_region_code": encounter.treatment_region_code,
                    **{f"{name}_fen": amount.fen for name, amount in amounts.items()},
                    "result_json": json.dumps(data, ensure_ascii=False),
                    "year_to_date_delta_json": json.dumps(result.year_to_date_delta.as_dict()),
                    "policy_version": result.policy_version,
                    "catalog_version": result.catalog_version[:200],
                    "msgid": msgid,
                    "settled_at": as_utc(now),
                    "settled_by": caller.actor[:64],
                }
            )
            uow.hospital.mark_fee_lines_settled(encounter_id, settlement_id)
            uow.hospital.write_year_to_date(
                encounter.person_id, insurance_type, result.year_to_date_after
            )
            # What the insured region now owes the treatment region: fact + ledger, same transaction.
            record_settlement_fact(
                uow,
                fact_from_settlement(
                    result,
                    setl_id=settlement_id,
                    settled_on=local(now).date(),
                    insured_region_code=encounter.insured_region_code,
                    treatment_region_code=encounter.treatment_region_code,
                    hospital_code=encounter.hospital_code,
                    insurance_type=insurance_type,
                    filing_category=(
                        FilingCategory(encounter.filing_category)
                        if encounter.filing_category
                        else None
                    ),
                ),
                now,
            )
            uow.hospital.update_encounter(encounter_id, state=SETTLED, updated_at=as_utc(now))
            self._audit(
                uow,
                caller,
                "hospital.settle",
                f"settlement:{settlement_id}",
                f"encounter {encounter_id} 总额 {result.total_charges} 基金 {result.fund_paid_total} "
                f"个人 {result.patient_share}",
            )
            self._commit_and_remember(uow, key, {"setl_id": settlement_id})
            # The reply is what was just stored; no need to read the row and its JSON back.
            return replace(
                self._record(
                    "settle",
                    encounter,
                    person,
                    as_utc(now),
                    {name: amounts[name] for name in SETTLEMENT_AMOUNT_COLUMNS},
                    data,
                ),
                settlement_id=settlement_id,
                msgid=msgid,
                state="active",
            )

    def reverse(
        self,
        caller: Caller,
        encounter_id: str,
        settlement_id: str,
        key: RequestKey | None = None,
        *,
        msgid: str | None = None,
    ) -> SettlementRecord:
        """2305: a new reversal record with negative amounts; year-to-date restored exactly;
        the encounter goes back to discharged so it can be corrected and settled again."""
        with self._uow() as uow:
            encounter, stored = self._lock_for_change(uow, caller, encounter_id, key)
            if stored is not None:
                return self._stored_settlement(uow, encounter, stored["setl_id"])
            original = uow.hospital.settlement(settlement_id)
            if (
                original is None
                or original.encounter_id != encounter_id
                or original.kind != "settle"
            ):
                raise NotFound(
                    "SETTLEMENT_NOT_FOUND",
                    "未找到该就诊的这笔结算",
                    "settlement not found for this encounter",
                    field="setl_id",
                )
            reversal_id = self._reverse_locked(uow, caller, encounter, original, msgid)
            self._commit_and_remember(uow, key, {"setl_id": reversal_id})
            return self._stored_settlement(uow, encounter, reversal_id)

    def _reverse_locked(
        self,
        uow: SqlUnitOfWork,
        caller: Caller,
        encounter: EncounterRow,
        original: SettlementRow,
        msgid: str | None,
    ) -> str:
        """Reverse ``original`` on the locked ``encounter`` (2305, 2601); the reversal's id."""
        encounter_id = encounter.id
        if original.state != "active":
            raise Conflict(
                "SETTLEMENT_ALREADY_REVERSED",
                "这笔结算已撤销，不能重复撤销",
                "the settlement is already reversed",
                field="setl_id",
            )
        insurance_type = InsuranceType(original.insurance_type)
        ytd = uow.hospital.lock_year_to_date(original.person_id, insurance_type, original.year)
        delta = ytd_from_json(json.loads(original.year_to_date_delta_json))
        restored = ytd.minus(delta)
        now = self._clock.now()
        reversal_id = _new_id("R", encounter.treatment_region_code, now)
        reversal_json = self._restore_account(uow, encounter, original, reversal_id, caller, now)
        uow.hospital.add_settlement(
            {
                "id": reversal_id,
                "encounter_id": encounter_id,
                "kind": "reversal",
                "state": "done",
                "reverses_id": original.id,
                "person_id": original.person_id,
                "insurance_type": original.insurance_type,
                "year": original.year,
                "hospital_code": original.hospital_code,
                "insured_region_code": original.insured_region_code,
                "treatment_region_code": original.treatment_region_code,
                **{f"{name}_fen": -amount.fen for name, amount in original.amounts.items()},
                "result_json": reversal_json,
                "year_to_date_delta_json": json.dumps(delta.as_dict()),
                "policy_version": original.policy_version,
                "catalog_version": original.catalog_version,
                "msgid": msgid,
                "settled_at": as_utc(now),
                "settled_by": caller.actor[:64],
            }
        )
        original_fact = uow.funds.fact(original.id)
        if original_fact is None:
            raise NotFound(
                "SETTLEMENT_FACT_MISSING",
                "这笔结算没有清算记账记录，不能撤销，请联系管理员",
                "the settlement has no clearing fact",
                field="setl_id",
            )
        record_settlement_fact(uow, original_fact.reversed(reversal_id, local(now).date()), now)
        uow.hospital.set_settlement_state(original.id, "reversed")
        uow.hospital.mark_fee_lines_settled(encounter_id, None)
        uow.hospital.write_year_to_date(original.person_id, insurance_type, restored)
        uow.hospital.update_encounter(encounter_id, state=DISCHARGED, updated_at=as_utc(now))
        self._audit(
            uow,
            caller,
            "hospital.reverse",
            f"settlement:{original.id}",
            f"撤销记录 {reversal_id}",
        )
        return reversal_id

    # --- 2601 冲正 ------------------------------------------------------------------------

    def reverse_message(
        self,
        caller: Caller,
        scope: str,
        omsgid: str,
        oinfno: str,
        psn_no: str,
        key: RequestKey | None = None,
    ) -> dict[str, Any]:
        """2601: undo the request sent as ``omsgid`` whose answer the hospital never got.

        A settlement (2304) is reversed as by 2305; a settlement cancellation (2305) is
        undone by a new settlement with the same amounts (the ledger never reverses a
        reversal); a fee upload (2301) cancels the lines it stored. An ``omsgid`` yidi never
        received is recorded as reversed, so that if it arrives late it is refused. Either
        way the original msgid is answered ``MESSAGE_REVERSED`` from then on. Idempotent by
        the 2601's own msgid; a second 2601 of the same omsgid changes nothing.
        """
        if oinfno not in REVERSIBLE_INFNOS:
            raise Refused(
                "REVERSAL_INFNO_UNSUPPORTED",
                f"2601 冲正只适用于 {'、'.join(REVERSIBLE_INFNOS)}，不能冲正交易 {oinfno}",
                f"2601 can reverse {', '.join(REVERSIBLE_INFNOS)} only",
                field="oinfno",
            )
        with self._uow() as uow:
            self._hospital(uow, caller)
            stored = self._recall(uow, key)
            if stored is not None:
                return dict(stored)
            try:
                person_id, _ = self._person_by_psn_no(uow, psn_no)
            except NotFound:
                raise NotFound(
                    "PERSON_NOT_FOUND",
                    f"未查询到人员编号 {psn_no[:30]}",
                    "no person with this psn_no",
                    field="psn_no",
                ) from None
            earlier = uow.idempotency.answer(scope, reversal_marker(omsgid))
            if earlier is not None:
                if earlier.get("oinfno") != oinfno:
                    raise Conflict(
                        "REVERSAL_OINFNO_MISMATCH",
                        f"报文 {omsgid} 已按交易 {earlier.get('oinfno')} 冲正，与 oinfno {oinfno} 不符",
                        "omsgid was already reversed under another oinfno",
                        field="oinfno",
                    )
                memo = dict(earlier)
            else:
                memo = self._reverse_original(
                    uow, caller, scope, omsgid, oinfno, person_id, key.key if key else None
                )
                uow.idempotency.remember(
                    scope, reversal_marker(omsgid), "2601", memo, self._clock.now()
                )
            self._audit(
                uow,
                caller,
                "hospital.message_reversal",
                f"message:{omsgid}"[:128],
                f"2601 冲正 {oinfno}：{memo['result']}",
            )
            self._commit_and_remember(uow, key, memo)
            return memo

    def _reverse_original(
        self,
        uow: SqlUnitOfWork,
        caller: Caller,
        scope: str,
        omsgid: str,
        oinfno: str,
        person_id: int,
        msgid: str | None,
    ) -> dict[str, Any]:
        memo: dict[str, Any] = {"omsgid": omsgid, "oinfno": oinfno, "msgid": msgid}
        original = uow.idempotency.answer(scope, omsgid)
        if original is None:
            # Never received: hold the msgid, so the original is refused if it comes late
            # (a concurrent original fails on this row's unique key and rolls back).
            uow.idempotency.remember(scope, omsgid, "2601", {"reversed": True}, self._clock.now())
            return memo | {"result": "not_received"}
        if oinfno == "2301":
            return memo | self._reverse_fee_upload(uow, caller, original, omsgid, person_id)
        setl_id = original.get("setl_id") if isinstance(original, dict) else None
        row = uow.hospital.settlement(str(setl_id)) if setl_id else None
        expected = "settle" if oinfno == "2304" else "reversal"
        if row is None or row.kind != expected or row.hospital_code != caller.hospital_code:
            raise Conflict(
                "REVERSAL_OINFNO_MISMATCH",
                f"报文 {omsgid} 不是交易 {oinfno}，请核对 oinfno",
                "omsgid is not a request of oinfno",
                field="oinfno",
            )
        encounter = self._encounter(uow, caller, row.encounter_id, for_update=True)
        if encounter.person_id != person_id:
            raise self._psn_mismatch(encounter.id)
        row = uow.hospital.settlement(row.id)
        assert row is not None
        if oinfno == "2304":
            if row.state != "active":
                return memo | {"result": "already_reversed", "setl_id": row.id}
            reversal_id = self._reverse_locked(uow, caller, encounter, row, msgid)
            return memo | {"result": "reversed", "setl_id": row.id, "rvs_setl_id": reversal_id}
        return memo | self._restore_settlement(uow, caller, encounter, row, msgid)

    @staticmethod
    def _psn_mismatch(encounter_id: str) -> Refused:
        return Refused(
            "PSN_NO_MISMATCH",
            f"人员编号与就诊ID {encounter_id} 不属于同一参保人，交易未办理",
            "psn_no and mdtrt_id do not belong to the same person",
            field="psn_no",
        )

    def _reverse_fee_upload(
        self,
        uow: SqlUnitOfWork,
        caller: Caller,
        original: Any,
        omsgid: str,
        person_id: int,
    ) -> dict[str, Any]:
        if not isinstance(original, dict) or "mdtrt_id" not in original:
            raise Conflict(
                "REVERSAL_OINFNO_MISMATCH",
                f"报文 {omsgid} 不是可冲正的费用明细上传（2301），请核对 oinfno，或用 2302 撤销明细",
                "omsgid is not a reversible 2301",
                field="oinfno",
            )
        encounter = self._encounter(uow, caller, str(original["mdtrt_id"]), for_update=True)
        if encounter.person_id != person_id:
            raise self._psn_mismatch(encounter.id)
        _require_open(
            encounter,
            "不能冲正费用明细上传",
            "fee uploads can be reversed only on an open, unsettled encounter",
            if_settled_zh="（请先撤销结算）",
        )
        active = {line.serial: line for line in uow.hospital.fee_lines(encounter.id)}
        chosen = [active[s] for s in original.get("stored", []) if s in active]
        uow.hospital.cancel_fee_lines([line.id for line in chosen], self._clock.now())
        return {
            "result": "reversed",
            "mdtrt_id": encounter.id,
            "cancelled": [line.serial for line in chosen],
        }

    def _restore_settlement(
        self,
        uow: SqlUnitOfWork,
        caller: Caller,
        encounter: EncounterRow,
        reversal: SettlementRow,
        msgid: str | None,
    ) -> dict[str, Any]:
        """Undo a 2305: settle again with the reversed settlement's stored result."""
        assert reversal.reverses_id is not None
        settled = uow.hospital.settlement(reversal.reverses_id)
        assert settled is not None
        lines = uow.hospital.fee_lines(encounter.id)
        kept = sorted(
            (line["serial"], line["line_amount"])
            for line in json.loads(settled.result_json)["lines"]
        )
        now_lines = sorted((line.serial, str(line.amount)) for line in lines)
        if encounter.state != DISCHARGED or kept != now_lines:
            raise Conflict(
                "REVERSAL_CANNOT_RESTORE",
                "结算撤销后该就诊已有变更（费用明细、出院或重新结算），不能冲正该结算撤销；"
                "请按当前明细重新结算（2304）",
                "the encounter changed after the cancellation; settle it again with 2304",
                field="omsgid",
            )
        insurance_type = InsuranceType(settled.insurance_type)
        ytd = uow.hospital.lock_year_to_date(settled.person_id, insurance_type, settled.year)
        delta = ytd_from_json(json.loads(settled.year_to_date_delta_json))
        now = self._clock.now()
        restored_id = _new_id("S", encounter.treatment_region_code, now)
        restored_json = self._debit_again(uow, encounter, settled, restored_id, caller, now)
        uow.hospital.add_settlement(
            {
                "id": restored_id,
                "encounter_id": encounter.id,
                "kind": "settle",
                "state": "active",
                "reverses_id": None,
                "person_id": settled.person_id,
                "insurance_type": settled.insurance_type,
                "year": settled.year,
                "hospital_code": settled.hospital_code,
                "insured_region_code": settled.insured_region_code,
                "treatment_region_code": settled.treatment_region_code,
                **{f"{name}_fen": amount.fen for name, amount in settled.amounts.items()},
                "result_json": restored_json,
                "year_to_date_delta_json": settled.year_to_date_delta_json,
                "policy_version": settled.policy_version,
                "catalog_version": settled.catalog_version,
                "msgid": settled.msgid,
                "settled_at": as_utc(now),
                "settled_by": caller.actor[:64],
            }
        )
        fact = uow.funds.fact(settled.id)
        if fact is None:
            raise NotFound(
                "SETTLEMENT_FACT_MISSING",
                "这笔结算没有清算记账记录，不能恢复，请联系管理员",
                "the settlement has no clearing fact",
                field="setl_id",
            )
        record_settlement_fact(
            uow,
            replace(fact, setl_id=restored_id, settled_on=local(now).date(), clearing_month=""),
            now,
        )
        uow.hospital.mark_fee_lines_settled(encounter.id, restored_id)
        uow.hospital.write_year_to_date(settled.person_id, insurance_type, ytd.plus(delta))
        uow.hospital.update_encounter(encounter.id, state=SETTLED, updated_at=as_utc(now))
        self._audit(
            uow,
            caller,
            "hospital.settle",
            f"settlement:{restored_id}",
            f"冲正结算撤销 {reversal.id}，按原结算 {settled.id} 恢复",
        )
        return {"result": "restored", "setl_id": restored_id, "restores_setl_id": settled.id}

    # --- reads --------------------------------------------------------------------------

    def encounters(
        self, caller: Caller, *, state: str | None = None, limit: int = 50, offset: int = 0
    ) -> list[tuple[EncounterRow, Person]]:
        with self._uow() as uow:
            self._hospital(uow, caller)
            rows = uow.hospital.encounters_of_hospital(
                caller.hospital_code,
                state=state,
                limit=min(max(limit, 1), 200),
                offset=max(offset, 0),
            )
            out = []
            for row in rows:
                person = uow.hospital.person_by_internal_id(row.person_id)
                assert person is not None
                out.append((row, person))
            return out

    def encounter_person(self, caller: Caller, encounter_id: str) -> Person:
        """The insured person of one of the caller's encounters (no fee lines read)."""
        with self._uow() as uow:
            encounter = self._encounter(uow, caller, encounter_id, for_update=False)
            person = uow.hospital.person_by_internal_id(encounter.person_id)
            assert person is not None
            return person

    def encounter_detail(
        self, caller: Caller, encounter_id: str, *, audited: bool = False, reason: str = ""
    ) -> EncounterDetail:
        """The encounter with the person's full record; ``audited`` for a read a person asked
        for (the detail page, the statement), not for the echo after a change."""
        with self._uow() as uow:
            encounter = self._encounter(uow, caller, encounter_id, for_update=False)
            person, hospital = self._context(uow, encounter)
            detail = EncounterDetail(
                encounter=encounter,
                psn_no=person.psn_no,
                person=person,
                hospital=hospital,
                lines=uow.hospital.fee_lines(encounter_id, include_cancelled=True),
                settlements=[
                    self._record_of_row(uow, encounter, row)
                    for row in uow.hospital.settlements_of_encounter(encounter_id)
                ],
            )
            if audited:
                self._audit(
                    uow, caller, "hospital.encounter_read", f"encounter:{encounter_id}", reason
                )
                uow.commit()
            return detail

    def encounter_of_settlement(self, caller: Caller, settlement_id: str) -> str:
        """The mdtrt_id of one of the caller's settlements (others' answered like missing)."""
        with self._uow() as uow:
            row = uow.hospital.settlement(settlement_id)
            if row is None or row.hospital_code != caller.hospital_code:
                raise NotFound(
                    "SETTLEMENT_NOT_FOUND",
                    "未找到这笔结算",
                    "settlement not found",
                    field="setl_id",
                )
            return row.encounter_id

    def year_to_date(self, person_id: int, insurance_type: InsuranceType, year: int) -> YearToDate:
        with self._uow() as uow:
            return uow.hospital.read_year_to_date(person_id, insurance_type, year)

    def statistics(self) -> list[dict[str, Any]]:
        with self._uow() as uow:
            return uow.hospital.settlement_totals()


def request_key(scope: str, key: str | None, payload: Any) -> RequestKey | None:
    """A RequestKey for a (scope, key) and the request content, or None without a key."""
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > 64:
        raise InvalidInput(
            "IDEMPOTENCY_KEY_INVALID",
            "幂等键（Idempotency-Key / msgid）应为 1–64 个字符",
            "the idempotency key must be 1-64 characters",
            field="Idempotency-Key",
        )
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    return RequestKey(scope, key, hashlib.sha256(text.encode("utf-8")).hexdigest())


__all__ = [
    "ADMITTED",
    "CANCELLED",
    "DISCHARGED",
    "MANUAL_MATERIALS_ZH",
    "PSN_NO_KIND",
    "REVERSIBLE_INFNOS",
    "SETTLED",
    "AdmissionChange",
    "AdmissionCheck",
    "AdmissionRequest",
    "Caller",
    "Credential",
    "EncounterDetail",
    "FeeLineInput",
    "HospitalService",
    "LookupLimits",
    "RequestKey",
    "SettlementRecord",
    "YidiError",
    "mask_id_number",
    "request_key",
    "reversal_marker",
]
