"""Direct settlement at the hospital (异地就医直接结算): admission check, admission, fee lines,
discharge, pre-settlement, settlement and reversal.

Rules from the Hengyang seed (衡阳日报 2017，“两种情形：不纳入直接结算范围”):

* only filed persons settle directly (“未办理登记备案手续……不得享受异地就医直接结算服务”);
  the refusal names the insured region's agency phone to call (“拨打参保地医疗保险经办机构
  备案电话”);
* ordinary outpatient and emergency care are excluded, except emergency care that becomes
  an admission within 72 hours, whose costs then join the inpatient settlement;
* accidental-injury admissions (med_type 22, or the trum_flag of the admission) are excluded
  under the 2017 rules; under the 2022 rules they settle directly with the patient's
  外伤无第三方责任承诺书 (rel_ttp_flag 0), recorded on the encounter (``injury_promise``).

Reliability: every state-changing call runs in one transaction together with its
idempotency record (``RequestKey``): a retry returns the first answer and changes
nothing; a crash leaves all or nothing. A settlement locks the encounter row, then the
person's year-to-date row (``HospitalRepository.lock_year_to_date``), so two hospitals
settling the same person at the same moment queue and the second sees the first's
totals. Lock order is always encounter → year-to-date → audit head, so no deadlocks.

Layout: the rules of an encounter (states, transitions, admission rules) are in
``yidi.encounter.model``; the reads in ``yidi.encounter.queries`` (this service extends
them); storage is reached only through the Protocols of ``yidi.encounter.ports``, which
``yidi.platform.uow.SqlUnitOfWork`` implements with ``yidi.encounter.sql``.

Scope: a cashier (or a gateway caller identified by ``fixmedins_code``) acts only on
encounters of their own hospital; another hospital's encounter is answered exactly like
a missing one. Audit subjects carry internal ids (mdtrt_id, psn_no), never ID numbers.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, Final, Protocol

from yidi.accounts.model import Movement, MovementKind, account_eligible, binding_for
from yidi.catalog.commands import no_catalog
from yidi.catalog.model import CatalogItem, CatalogVersion
from yidi.encounter.model import (
    CHRONIC_MED_TYPE,
    OUTPATIENT_MED_TYPE,
    PHARMACY_MED_TYPE,
    STATE_ZH,
    Encounter,
    EncounterKind,
    EncounterState,
    admission_exclusion,
    check_icd10,
    emergency_counts_as_filed,
    is_injury,
    local,
    open_stay_conflict,
    visit_med_type,
)
from yidi.encounter.ports import (
    CatalogSource,
    EncounterUnitOfWork,
    FactRecorder,
    PersonalAccount,
)
from yidi.encounter.queries import PSN_NO_KIND, Credential, EncounterDetail, EncounterQueries
from yidi.encounter.records import (
    SETTLEMENT_AMOUNT_COLUMNS,
    CatalogVersionRow,
    EncounterContext,
    EncounterRow,
    FeeLineRow,
    SettlementRecord,
    SettlementRow,
    fee_line_row,
    result_amounts,
    result_json,
    settlement_record,
    ytd_from_json,
)
from yidi.filing.model import lifecycle
from yidi.filing.model.lifecycle import Filing
from yidi.filing.model.record import DesignatedInstitution
from yidi.funds.commands import fact_from_settlement, record_settlement_fact
from yidi.funds.model import SettlementFact
from yidi.kernel.access import Caller
from yidi.kernel.audit import as_utc
from yidi.kernel.clock import Clock
from yidi.kernel.ecredential import ECredentialVerifier
from yidi.kernel.errors import Conflict, ErrorKind, InvalidInput, NotFound, Refused, YidiError
from yidi.kernel.idempotency import RequestKey
from yidi.kernel.insurance import EncounterType, FilingCategory, InsuranceType
from yidi.kernel.money import Money, money_sum
from yidi.kernel.privacy import mask_id_number
from yidi.kernel.regions import DivisionRegistry
from yidi.policy.loader import PolicyLibrary, policy_at
from yidi.policy.national import national_model
from yidi.reference.model import Agency, ConnectionKind, Hospital, Person
from yidi.settlement.claim_builder import (
    ClaimLine,
    FeeLineInput,
    build_claim,
    claim_sources,
    policy_region_of,
)
from yidi.settlement.claim_builder import fee_line as engine_fee_line
from yidi.settlement.claims import YearToDate
from yidi.settlement.engine import settle, split_line
from yidi.settlement.result import SettlementResult

#: Materials the seed lists for reimbursement at the insured region (回参保地报销).
MANUAL_MATERIALS_ZH: Final = (
    "住院收据原件、出院记录或住院病案首页、疾病诊断证明书、住院医疗费用总清单"
)

# Encounter states, as the transports name them.
ADMITTED: Final = EncounterState.ADMITTED
DISCHARGED: Final = EncounterState.DISCHARGED
SETTLED: Final = EncounterState.SETTLED
CANCELLED: Final = EncounterState.CANCELLED
REGISTERED: Final = EncounterState.REGISTERED


# --------------------------------------------------------------------------- small values


#: Transactions a 2601 冲正 can undo: settlement (inpatient 2304, outpatient 2207), its
#: cancellation (2305, 2208), inpatient fee upload.
REVERSIBLE_INFNOS: Final = ("2304", "2207", "2102", "2305", "2208", "2103", "2301")

#: The stored record a 2601 of each settlement infno names (its kind) and the encounter
#: it belongs to: 2207 and 2208 a visit's, 2304 and 2305 a stay's, 2102 and 2103 a purchase's.
_REVERSED_RECORD: Final[dict[str, tuple[str, EncounterKind]]] = {
    "2304": ("settle", EncounterKind.INPATIENT),
    "2207": ("settle", EncounterKind.OUTPATIENT),
    "2102": ("settle", EncounterKind.PHARMACY),
    "2305": ("reversal", EncounterKind.INPATIENT),
    "2208": ("reversal", EncounterKind.OUTPATIENT),
    "2103": ("reversal", EncounterKind.PHARMACY),
}


def reversal_marker(msgid: str) -> str:
    """The idempotency key that records "the message ``msgid`` was reversed by 2601"."""
    return f"2601:{msgid}"


class _Cancellation(Protocol):
    """An aggregate's cancel transition (2202 or 2404), refused while lines are active."""

    def __call__(self, encounter: Encounter, /, *, has_active_lines: bool) -> EncounterState: ...


@dataclass(frozen=True, slots=True)
class LookupLimits:
    """Person lookups one institution may make per clock hour: all of them, and those that
    found nobody (a walk through guessed numbers is mostly misses)."""

    per_hour: int = 10_000
    misses_per_hour: int = 60


def _require_insurance_type(person: Person, insurance_type: str | None) -> None:
    """The 险种 a transaction names, when it names one, must be the person's."""
    if insurance_type and insurance_type != person.insurance_type.value:
        raise InvalidInput(
            "INSUTYPE_MISMATCH",
            f"险种类型 {insurance_type} 与参保人的险种"
            f"（{person.insurance_type.value} {person.insurance_type.label_zh}）不符",
            "insurance type does not match the person's",
            field="insutype",
        )


def _carried_over(settlement: SettlementRow, *, sign: int) -> dict[str, Any]:
    """The columns a reversal (``sign`` -1, amounts negated) or a restored settlement (1)
    takes from the settlement it follows: whose and where, the amounts, and the policy and
    catalogue versions they were computed with."""
    return {
        "person_id": settlement.person_id,
        "insurance_type": settlement.insurance_type,
        "year": settlement.year,
        "hospital_code": settlement.hospital_code,
        "insured_region_code": settlement.insured_region_code,
        "treatment_region_code": settlement.treatment_region_code,
        **{f"{name}_fen": sign * amount.fen for name, amount in settlement.amounts.items()},
        "policy_version": settlement.policy_version,
        "catalog_version": settlement.catalog_version,
    }


def _clearing_fact(uow: EncounterUnitOfWork, settlement_id: str, act_zh: str) -> SettlementFact:
    """The clearing fact of a settlement about to be reversed or restored (``act_zh``)."""
    fact = uow.funds.fact(settlement_id)
    if fact is None:
        raise NotFound(
            "SETTLEMENT_FACT_MISSING",
            f"这笔结算没有清算记账记录，不能{act_zh}，请联系管理员",
            "the settlement has no clearing fact",
            field="setl_id",
        )
    return fact


def _new_id(prefix: str, region: str, at: dt.datetime) -> str:
    return f"{prefix}{region}{local(at):%Y%m%d}{uuid.uuid4().hex[:12].upper()}"


# --------------------------------------------------------------------------- inputs


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
    #: 涉及第三方标志 of an injury: False = the patient signed the 外伤无第三方责任承诺书,
    #: True = a third party is involved, None = not sent.
    injury_third_party: bool | None = None
    #: The credential number the hospital read (mdtrt_cert_no): an e-credential token is checked.
    credential_number: str | None = None


@dataclass(frozen=True, slots=True)
class VisitRegistration:
    """2201 门诊挂号: an outpatient visit of a person at the hospital — general (med_type 11)
    or, with the disease code of a recognition, 门诊慢特病 (med_type 14)."""

    credential: Credential
    registered_at: dt.datetime
    outpatient_number: str = ""
    department_code: str = ""
    department_name: str = ""
    insurance_type: str | None = None
    credential_type: str | None = None
    med_type: str = OUTPATIENT_MED_TYPE
    disease_code: str | None = None
    credential_number: str | None = None


@dataclass(frozen=True, slots=True)
class PharmacyPurchase:
    """2101 / 2102 药店购药: drugs a person buys at a designated retail pharmacy (med_type
    41), stored and settled at once; prescriptions dispensed from elsewhere (外配处方) are
    referenced by their numbers."""

    credential: Credential
    purchased_at: dt.datetime
    lines: tuple[FeeLineInput, ...]
    total_charges: Money
    prescription_numbers: tuple[str, ...] = ()
    insurance_type: str | None = None
    credential_type: str | None = None
    use_account: bool = False
    #: 家庭共济: pay from a bound relative's account (the named holder's, 人员编号, if several)
    family_account: bool = False
    family_holder_psn_no: str | None = None


@dataclass(frozen=True, slots=True)
class FamilyUse:
    """Pay from a bound relative's personal account (家庭共济, acct_used_flag 2): the named
    holder's (人员编号), or the one binding valid that day."""

    holder_psn_no: str | None = None


@dataclass(frozen=True, slots=True)
class PurchaseResult:
    """A pharmacy purchase's settlement (or pre-settlement) and its lines as split."""

    record: SettlementRecord
    lines: list[FeeLineRow]


@dataclass(frozen=True, slots=True)
class VisitData:
    """2203 就诊信息上传: the diagnoses and department of a registered visit; med_type 14 with
    the disease code makes it a 门诊慢特病 visit (11 a general one again)."""

    diagnosis_codes: tuple[str, ...]
    med_type: str = OUTPATIENT_MED_TYPE
    department_code: str = ""
    department_name: str = ""
    disease_code: str | None = None


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
    #: The day of the care checked (the admission's, the visit's, today for a query).
    care_on: dt.date | None = None

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


# --------------------------------------------------------------------------- the service


@dataclass(frozen=True, slots=True)
class _StoredLines:
    """What storing a batch of fee lines did: the batch's serials (first occurrence order),
    those it stored (what a 2601 takes back), each serial's line as stored, and the audit
    entry's reason."""

    serials: list[str]
    stored_now: list[str]
    lines: list[FeeLineRow]
    audit_reason: str


class HospitalService(EncounterQueries):
    """Use cases of direct settlement (and, inherited, its reads); each call is one
    transaction."""

    def __init__(
        self,
        uow_factory: Callable[[], EncounterUnitOfWork],
        clock: Clock,
        *,
        catalogs: CatalogSource | None = None,
        regions: DivisionRegistry | None = None,
        policies: PolicyLibrary | None = None,
        lookup_limits: LookupLimits | None = None,
        record_fact: FactRecorder = record_settlement_fact,
        ecredential: ECredentialVerifier | None = None,
    ) -> None:
        super().__init__(
            uow_factory,
            clock,
            catalogs=catalogs,
            regions=regions,
            policies=policies,
            ecredential=ecredential,
        )
        self._limits = lookup_limits or LookupLimits()
        self._record_fact = record_fact

    # --- helpers -------------------------------------------------------------------------

    @staticmethod
    def _recall(uow: EncounterUnitOfWork, key: RequestKey | None) -> Any | None:
        if key is None:
            return None
        voided, stored = uow.idempotency.recall_unless(
            key.scope, key.key, key.fingerprint, reversal_marker(key.key)
        )
        if voided is not None:
            raise Conflict(
                "MESSAGE_REVERSED",
                f"报文ID {key.key} 的交易已被冲正（2601，冲正报文 {voided.get('msgid') or '-'}），"
                "不再办理；如需重新办理请使用新的报文ID",
                f"message {key.key} was reversed by 2601; send a new msgid to do it again",
                field="msgid",
            )
        return stored

    def _lock_for_change(
        self, uow: EncounterUnitOfWork, caller: Caller, encounter_id: str, key: RequestKey | None
    ) -> tuple[EncounterRow, Any | None]:
        """The caller's encounter, locked, and what was remembered for ``key`` if this is a
        retry. The lock comes first so that a retry racing the first request waits for its
        commit and then finds its answer."""
        encounter = self._encounter(uow, caller, encounter_id, for_update=True)
        return encounter, self._recall(uow, key)

    def _remember(self, uow: EncounterUnitOfWork, key: RequestKey | None, memo: Any) -> None:
        """Record the answer for ``key`` in the change's transaction (not committed)."""
        if key is not None:
            uow.idempotency.remember(key.scope, key.key, key.fingerprint, memo, self._clock.now())

    def _commit_and_remember(
        self, uow: EncounterUnitOfWork, key: RequestKey | None, memo: Any
    ) -> None:
        """Commit the change together with its idempotency record: a retry finds the first
        answer, or, after a crash, nothing was changed."""
        self._remember(uow, key, memo)
        uow.commit()

    def _commit_encounter_change(
        self,
        uow: EncounterUnitOfWork,
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

    def _window(self) -> dt.datetime:
        now = as_utc(self._clock.now())
        return now.replace(minute=0, second=0, microsecond=0)

    def _looked_up(
        self, uow: EncounterUnitOfWork, caller: Caller, credential: Credential
    ) -> tuple[int, Person]:
        """A person lookup by an institution: refused once the institution has made too many
        this hour. A hit is counted when the caller's transaction commits (a transaction
        that does not commit counts nothing), a miss by :meth:`_record_miss` once that
        transaction has ended (the miss outlives it).

        The limit is read first without a lock, so a lookup over it is refused before any
        work and before a miss could tell the caller anything; the count itself is added
        just before the commit and checked again there, so the counter row is locked only
        for the commit, not for the settlement that follows the lookup. Lookups that pass
        the first read together are each checked again when they count, one after another
        on the row: the limit holds exactly, and the ones over it are refused and roll back
        with their work."""
        window = self._window()
        counted, misses = uow.hospital.lookup_counts(caller.hospital_code, window)
        self._refuse_over_limit(counted + 1, misses)
        uow.hospital.count_lookup_at_commit(caller.hospital_code, window, self._refuse_over_limit)
        return self._person_by_credential(uow, credential)

    def _refuse_over_limit(self, counted: int, misses: int) -> None:
        """Refuse the lookup numbered ``counted`` this hour when it, or the misses so far,
        exceed the institution's limits."""
        if counted > self._limits.per_hour or misses >= self._limits.misses_per_hour:
            raise YidiError(
                "PERSON_LOOKUP_RATE_LIMITED",
                "本机构本小时内查询参保人员次数过多，已暂停查询，请稍后再试或联系医保经办机构",
                "too many person lookups by this institution this hour; try again later",
                field="mdtrt_cert_no",
                kind=ErrorKind.TOO_MANY,
            )

    @contextlib.contextmanager
    def _noting_misses(self, caller: Caller, credential: Credential) -> Iterator[None]:
        """Around a use case that looks the person up: a credential that finds nobody is
        counted and audited (in a transaction of its own) before the refusal goes on."""
        try:
            yield
        except NotFound as exc:
            if exc.code == "PERSON_NOT_FOUND":
                self._record_miss(caller, credential)
            raise

    def _record_miss(self, caller: Caller, credential: Credential) -> None:
        """Count and audit a lookup that found nobody (never the number that was tried).

        The audit entry comes before the counts, the order of every other transaction: one
        that has appended to the audit chain (and so holds its head) counts its lookup at
        commit, and taking the counter rows first and the head second would deadlock with
        it. The miss's number in the entry is read just before; it can lag behind a miss
        of the institution being recorded at the same moment."""
        window = self._window()
        with self._uow() as uow:
            _, misses = uow.hospital.lookup_counts(caller.hospital_code, window)
            self._audit(
                uow,
                caller,
                "hospital.person_lookup_miss",
                f"institution:{caller.hospital_code}",
                f"凭证类型 {credential.kind}；本小时第 {misses + 1} 次未找到",
            )
            uow.hospital.bump_lookup(caller.hospital_code, window, "all")
            uow.hospital.bump_lookup(caller.hospital_code, window, "miss")
            uow.commit()

    def _check(
        self,
        uow: EncounterUnitOfWork,
        caller: Caller,
        credential: Credential,
        on_date: dt.date,
        kind: ConnectionKind | None = None,
    ) -> AdmissionCheck:
        """Who the person is, whether the care is cross-region and the filing that covers it.
        ``kind``: the care asked for (None: a person query, 1101); the institution must be of
        the right type for it and connected for it."""
        hospital = self._hospital(uow, caller)
        if kind is not None:
            self._refuse_wrong_institution(hospital, kind)
        person_id, person = self._looked_up(uow, caller, credential)
        if kind is not None and kind not in hospital.connected_kinds:
            raise self._refuse_unconnected(uow, hospital, kind, person)
        policy_region = self.policy_region(person.insured_region_code, person.insurance_type)
        catalog_region = self._catalogs.catalog_region(uow, hospital.region_code)
        cross_region = policy_region != (catalog_region or hospital.region_code)
        filing: Filing | None = None
        if not cross_region:
            self._refuse_closed_insured_place(uow, person, on_date)
        if cross_region:
            candidates = uow.filings.admission_candidates(person.id_number)
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
            care_on=on_date,
        )

    def _refuse_closed_insured_place(
        self, uow: EncounterUnitOfWork, person: Person, on_date: dt.date
    ) -> None:
        """双向享受 (the national rules of ``on_date``): a long-term filing elsewhere may close
        care at the insured place (2017 rules; 2022 rules while promised documents are due)."""
        closing = lifecycle.filing_closing_insured_place(
            uow.filings.admission_candidates(person.id_number), on_date
        )
        if closing is None:
            return
        model = national_model(on_date)
        why = (
            "承诺补齐的证明材料尚未提交，补齐前不享受双向待遇"
            if closing.record.promise_outstanding and model.both_ways
            else f"{model.label_zh}不实行双向享受"
        )
        raise Refused(
            "FILING_CLOSES_INSURED_PLACE",
            f"参保人已办理跨省异地长期居住备案（{closing.record.filing_number or ''}，"
            f"{closing.record.category.label_zh if closing.record.category else ''}），{why}，"
            "备案有效期内在参保地就医不能按本地待遇结算。请补齐材料或到参保地经办机构变更、撤销备案："
            f"{self._call_agency_text(uow, person)}",
            "a long-term filing elsewhere closes settlement at the insured place on this date",
            field="psn_no",
            details={"era": model.era, "source": model.both_ways_source},
        )

    @staticmethod
    def _refuse_wrong_institution(hospital: Hospital, kind: ConnectionKind) -> None:
        """A pharmacy does no hospital care, a hospital settles no pharmacy purchase."""
        if kind is ConnectionKind.PHARMACY and not hospital.is_pharmacy:
            raise Refused(
                "INSTITUTION_NOT_PHARMACY",
                f"{hospital.name}是定点医疗机构，不能办理药店购药结算（2101–2103 仅限定点零售药店）；"
                "住院请用 2401–2405、2301–2305，普通门诊请用 2201–2208",
                "pharmacy transactions (2101-2103) are for designated retail pharmacies only",
                field="fixmedins_code",
            )
        if kind is not ConnectionKind.PHARMACY and hospital.is_pharmacy:
            raise Refused(
                "INSTITUTION_NOT_HOSPITAL",
                f"{hospital.name}是定点零售药店，不能办理{kind.label_zh}业务；"
                "药店购药请用 2101 药店预结算、2102 药店结算、2103 药店结算撤销",
                "a designated retail pharmacy does no hospital care; use 2101-2103",
                field="fixmedins_code",
            )

    def _refuse_unconnected(
        self, uow: EncounterUnitOfWork, hospital: Hospital, kind: ConnectionKind, person: Person
    ) -> Refused:
        connected = "、".join(k.label_zh for k in ConnectionKind if k in hospital.connected_kinds)
        return Refused(
            "INSTITUTION_KIND_NOT_CONNECTED",
            f"{hospital.name}尚未开通{kind.label_zh}异地就医直接结算"
            f"（已开通：{connected or '无'}），本次{kind.label_zh}不能直接结算。"
            f"请参保人拨打参保地医保经办机构电话查询已开通的定点医药机构：{self._call_agency_text(uow, person)}；"
            "或全额垫付后回参保地按政策报销",
            f"this institution is not connected for {kind.value} direct settlement",
            field="fixmedins_code",
            details={
                "kind": kind.value,
                "connected": sorted(k.value for k in hospital.connected_kinds),
            },
        )

    def _refuse_unfiled(self, uow: EncounterUnitOfWork, check: AdmissionCheck) -> Refused:
        phones = self.agencies_to_call(uow, check.person)
        # 补办 (rules of the care's day): a filing made before the discharge settlement and
        # reaching back to the admission day lets the hospital register the stay again.
        model = national_model(check.care_on or local(self._clock.now()).date())
        late = (
            "出院结算前补办备案（追溯至入院日）的，重新办理入院登记即可直接结算；否则"
            if model.late_filing_settles_directly
            else "未备案的"
        )
        return Refused(
            "FILING_NOT_VALID",
            f"未查询到参保人在{check.hospital.name}（就医地 {check.hospital.region_code}）有效的异地就医备案，"
            f"不能直接结算。请参保人拨打参保地医保经办机构备案电话确认或补办备案：{self._call_agency_text(uow, check.person)}；"
            f"{late}住院费用须全额垫付，出院后带{MANUAL_MATERIALS_ZH}回参保地报销",
            "no valid cross-region filing: direct settlement is not available; "
            "the person should call the insured region's agency"
            + (
                "; a filing made before the discharge settlement and reaching back to the "
                "admission day settles the stay once the admission is registered again"
                if model.late_filing_settles_directly
                else ""
            ),
            field="psn_no",
            details={
                "era": model.era,
                "late_filing_settles_directly": model.late_filing_settles_directly,
                "late_filing_source": model.late_filing_source,
                "agencies": [
                    {"code": a.code, "name": a.name, "phone": a.phone} for a in phones if a.phone
                ]
                or [{"code": a.code, "name": a.name, "phone": a.phone} for a in phones[:1]],
                "insured_region_code": check.person.insured_region_code,
            },
        )

    def _excluded(
        self, uow: EncounterUnitOfWork, person: Person, code: str, what_zh: str
    ) -> Refused:
        return Refused(
            code,
            # Phone and the way to be reimbursed first: the national err_msg keeps 200 characters.
            f"{what_zh}不纳入异地就医直接结算，费用由参保人全额垫付后回参保地按政策报销。"
            f"请拨打参保地医保经办机构备案电话：{self._call_agency_text(uow, person)}；"
            f"出院后带{MANUAL_MATERIALS_ZH}办理（衡阳市医保中心《异地就医直接结算》两种不纳入情形）",
            "this care is not settled directly; the person pays and claims at the insured region",
            field="med_type",
        )

    def _require_filed(self, uow: EncounterUnitOfWork, check: AdmissionCheck) -> None:
        """Cross-region care needs a valid filing: refused with the agency phone otherwise."""
        if check.cross_region and check.filing is None:
            raise self._refuse_unfiled(uow, check)

    def _add_encounter(
        self,
        uow: EncounterUnitOfWork,
        caller: Caller,
        check: AdmissionCheck,
        *,
        med_type: str,
        state: EncounterState,
        begins_at: dt.datetime,
        credential_type: str | None,
        number: str = "",
        department_code: str = "",
        department_name: str = "",
        diagnosis_codes: Sequence[str] = (),
        emergency_started_at: dt.datetime | None = None,
        filing_category: FilingCategory | None = None,
        prescription_numbers: Sequence[str] = (),
        disease_code: str | None = None,
        accidental_injury: bool = False,
        injury_promise: bool = False,
    ) -> str:
        """Add a new encounter (a stay, a visit or a purchase) of the checked person at the
        caller's institution and give its id; ``filing_category`` stands in for the filing's
        when there is none (an emergency admission flagged as filed)."""
        now = self._clock.now()
        encounter_id = _new_id("M", check.hospital.region_code, now)
        person = check.person
        filing = check.filing
        category = filing.record.category if filing and filing.record.category else None
        category = category or filing_category
        row = {
            "id": encounter_id,
            "hospital_code": caller.hospital_code,
            "person_id": check.person_id,
            "insured_region_code": person.insured_region_code,
            "treatment_region_code": check.hospital.region_code,
            "insurance_type": person.insurance_type.value,
            "person_type": person.person_type.value,
            "filing_id": filing.lineage_id if filing else None,
            "filing_number": filing.record.filing_number if filing else None,
            "filing_category": category.value if category else None,
            "med_type": med_type,
            "inpatient_number": number[:30],
            "department_code": department_code[:30],
            "department_name": department_name[:100],
            "admitted_at": as_utc(begins_at),
            "discharged_at": None,
            "diagnosis_codes": ",".join(diagnosis_codes)[:500],
            "accidental_injury": accidental_injury,
            "injury_promise": injury_promise,
            "emergency_started_at": (
                as_utc(local(emergency_started_at)) if emergency_started_at else None
            ),
            "state": state,
            "credential_type": (credential_type or "")[:3] or None,
            "prescription_numbers": ",".join(prescription_numbers)[:200],
            "disease_code": disease_code,
            "created_at": as_utc(now),
            "updated_at": as_utc(now),
        }
        uow.hospital.add_encounter(row)
        return encounter_id

    def _recognised_disease(
        self,
        uow: EncounterUnitOfWork,
        person_id: int,
        disease_code: str | None,
        visit_at: dt.datetime,
    ) -> str:
        """门诊慢特病: the disease code of a recognition (认定) of the person valid on the visit
        day; refused otherwise, before anything is written."""
        code = (disease_code or "").strip().upper()
        if not code:
            raise InvalidInput(
                "CHRONIC_DISEASE_REQUIRED",
                "门诊慢特病（医疗类别 14）须填写病种编码（dise_codg，参保地门慢门特病种目录代码）",
                "a chronic-disease visit (med_type 14) needs the disease code (dise_codg)",
                field="dise_codg",
            )
        day = local(visit_at).date()
        recognitions = uow.chronic.for_person(person_id)
        if not any(r.disease_code == code and r.valid_on(day) for r in recognitions):
            held = "、".join(
                f"{r.disease_code} {r.disease_name}" for r in recognitions if r.valid_on(day)
            )
            raise Refused(
                "CHRONIC_NOT_RECOGNISED",
                f"参保人在 {day.isoformat()} 没有病种 {code} 的有效门诊慢特病认定，"
                "不能按门诊慢特病结算；请参保人到参保地医保经办机构办理认定"
                + (f"（当日有效的认定：{held}）" if held else ""),
                f"the person has no chronic-disease recognition for {code} valid on "
                f"{day.isoformat()}",
                field="dise_codg",
            )
        return code

    # --- 1101 / admission check ---------------------------------------------------------

    def admission_check(self, caller: Caller, credential: Credential) -> AdmissionCheck:
        """Identity and filing check at admission. Unfiled cross-region patients are refused
        with the agency phone to call, never passed silently."""
        with self._noting_misses(caller, credential), self._uow() as uow:
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

    # --- self-pay stay (自费) when direct settlement is refused ---------------------------

    def register_self_pay(
        self, caller: Caller, credential: Credential, refusal_code: str
    ) -> tuple[AdmissionCheck, list[Agency]]:
        """Record (audited) that the person is treated as self-pay after ``refusal_code``
        refused direct settlement, and give the agencies to call for a claim by hand. No
        encounter is created: the hospital bills the stay in full; the person claims later."""
        with self._uow() as uow:
            check = self._check(uow, caller, credential, local(self._clock.now()).date())
            self._audit(
                uow, caller, "hospital.self_pay_registered", f"person:{check.psn_no}", refusal_code
            )
            agencies = self.agencies_to_call(uow, check.person)
            uow.commit()
        return check, agencies

    # --- 2401 admission -----------------------------------------------------------------

    def admit(
        self, caller: Caller, request: AdmissionRequest, key: RequestKey | None = None
    ) -> EncounterRow:
        with self._noting_misses(caller, request.credential), self._uow() as uow:
            stored = self._recall(uow, key)
            if stored is not None:
                return self._encounter(uow, caller, stored["mdtrt_id"], for_update=False)
            admitted_at = local(request.admitted_at)
            check = self._check(
                uow, caller, request.credential, admitted_at.date(), ConnectionKind.INPATIENT
            )
            person = check.person
            _require_insurance_type(person, request.insurance_type)
            self.check_presented_ecredential(
                uow, person, request.credential_type, request.credential_number
            )
            self._check_admission_rules(uow, request, person, check)
            flagged = check.cross_region and check.filing is None
            flagged = flagged and emergency_counts_as_filed(request.med_type, admitted_at.date())
            if not flagged:
                self._require_filed(uow, check)
            self._refuse_overlapping_stay(uow, caller, check.person_id, admitted_at)
            encounter_id = self._add_encounter(
                uow,
                caller,
                check,
                med_type=request.med_type,
                state=ADMITTED,
                begins_at=admitted_at,
                credential_type=request.credential_type,
                number=request.inpatient_number,
                department_code=request.department_code,
                department_name=request.department_name,
                diagnosis_codes=request.diagnosis_codes,
                emergency_started_at=request.emergency_started_at,
                filing_category=FilingCategory.EMERGENCY if flagged else None,
                # An injury reaching here settles directly under the no-third-party promise.
                accidental_injury=is_injury(request),
                injury_promise=is_injury(request) and request.injury_third_party is False,
            )
            return self._commit_encounter_change(
                uow,
                caller,
                encounter_id,
                key,
                "hospital.admit",
                f"{check.psn_no} med_type {request.med_type}"
                + (f" 备案 {check.filing_number}" if check.filing_number else "")
                + (" 外伤无第三方责任承诺" if is_injury(request) else ""),
            )

    # --- 2201–2203 general outpatient (普通门诊) -------------------------------------------

    def register_visit(
        self, caller: Caller, request: VisitRegistration, key: RequestKey | None = None
    ) -> EncounterRow:
        """2201: register a general outpatient visit of a filed (or local) person. A visit is
        never an admission: it settles with the outpatient scheme and opens no stay."""
        with self._noting_misses(caller, request.credential), self._uow() as uow:
            stored = self._recall(uow, key)
            if stored is not None:
                return self._encounter(uow, caller, stored["mdtrt_id"], for_update=False)
            registered_at = local(request.registered_at)
            med_type = visit_med_type(request.med_type)
            chronic = med_type == CHRONIC_MED_TYPE
            check = self._check(
                uow,
                caller,
                request.credential,
                registered_at.date(),
                ConnectionKind.CHRONIC if chronic else ConnectionKind.OUTPATIENT,
            )
            person = check.person
            _require_insurance_type(person, request.insurance_type)
            self.check_presented_ecredential(
                uow, person, request.credential_type, request.credential_number
            )
            self._require_filed(uow, check)
            disease = (
                self._recognised_disease(uow, check.person_id, request.disease_code, registered_at)
                if chronic and request.disease_code
                else None
            )
            encounter_id = self._add_encounter(
                uow,
                caller,
                check,
                med_type=med_type,
                state=REGISTERED,
                begins_at=registered_at,
                credential_type=request.credential_type,
                number=request.outpatient_number,
                department_code=request.department_code,
                department_name=request.department_name,
                disease_code=disease,
            )
            return self._commit_encounter_change(
                uow,
                caller,
                encounter_id,
                key,
                "hospital.register_visit",
                f"{check.psn_no} {EncounterType(med_type).label_zh}"
                + (f" 病种 {disease}" if disease else "")
                + (f" 备案 {check.filing_number}" if check.filing_number else ""),
            )

    def cancel_registration(
        self,
        caller: Caller,
        encounter_id: str,
        key: RequestKey | None = None,
        *,
        reason: str = "",
    ) -> EncounterRow:
        """2202: cancel a registered visit with no active fee lines (so nothing settled)."""
        return self._cancel(
            caller,
            encounter_id,
            key,
            reason,
            "hospital.cancel_registration",
            Encounter.cancel_registration,
        )

    def record_visit(
        self,
        caller: Caller,
        encounter_id: str,
        data: VisitData,
        key: RequestKey | None = None,
    ) -> EncounterRow:
        """2203: the diagnoses (ICD-10) and department of a registered, unsettled visit."""
        with self._uow() as uow:
            encounter, stored = self._lock_for_change(uow, caller, encounter_id, key)
            if stored is not None:
                return encounter
            aggregate = Encounter(encounter)
            if aggregate.kind is not EncounterKind.OUTPATIENT:
                raise Conflict(
                    "VISIT_NOT_OUTPATIENT",
                    "该就诊为住院，不能上传门诊就诊信息（住院请用 2403 变更入院信息）",
                    "visit data (2203) belongs to an outpatient visit",
                    field="mdtrt_id",
                )
            aggregate.require_open(
                "不能上传就诊信息",
                "visit data can be uploaded only to an unsettled visit",
                if_settled_zh="（请先撤销结算 2208）",
            )
            med_type = visit_med_type(data.med_type)
            disease: str | None = None
            if med_type == CHRONIC_MED_TYPE:
                hospital = self._hospital(uow, caller)
                if ConnectionKind.CHRONIC not in hospital.connected_kinds:
                    person, _ = self._context(uow, encounter)
                    raise self._refuse_unconnected(uow, hospital, ConnectionKind.CHRONIC, person)
                disease = self._recognised_disease(
                    uow,
                    encounter.person_id,
                    data.disease_code or encounter.disease_code,
                    encounter.admitted_at,
                )
            if not data.diagnosis_codes:
                raise InvalidInput(
                    "DIAGNOSIS_REQUIRED",
                    "就诊信息须填写至少一个诊断编码（ICD-10）",
                    "at least one ICD-10 diagnosis code is required",
                    field="diseinfo",
                )
            check_icd10(data.diagnosis_codes)
            values: dict[str, Any] = {
                "diagnosis_codes": ",".join(data.diagnosis_codes)[:500],
                "med_type": med_type,
                "disease_code": disease,
            }
            if data.department_code:
                values["department_code"] = data.department_code[:30]
            if data.department_name:
                values["department_name"] = data.department_name[:100]
            uow.hospital.update_encounter(
                encounter_id, **values, updated_at=as_utc(self._clock.now())
            )
            return self._commit_encounter_change(
                uow,
                caller,
                encounter_id,
                key,
                "hospital.record_visit",
                "诊断 "
                + values["diagnosis_codes"]
                + (f" 门诊慢特病 病种 {disease}" if disease else ""),
            )

    # --- 2101–2103 pharmacy purchase (定点药店购药) --------------------------------------------

    def pre_settle_purchase(self, caller: Caller, purchase: PharmacyPurchase) -> PurchaseResult:
        """2101: the purchase's full result exactly as 2102 would settle it (the same steps,
        in a transaction that is rolled back: nothing is written)."""
        with self._noting_misses(caller, purchase.credential):
            with self._uow() as uow:
                done = self._purchase(uow, caller, purchase, msgid=None)
                # Leaving the unit of work without a commit rolls every row back.
            record = replace(done.record, kind="pre_settle", settlement_id=None, state=None)
            return PurchaseResult(record, done.lines)

    def settle_purchase(
        self,
        caller: Caller,
        purchase: PharmacyPurchase,
        key: RequestKey | None = None,
        *,
        msgid: str | None = None,
    ) -> PurchaseResult:
        """2102: store the purchase and its lines and settle it, in one transaction; a retry
        of the same message answers the first settlement."""
        with self._noting_misses(caller, purchase.credential), self._uow() as uow:
            stored = self._recall(uow, key)
            if stored is not None:
                encounter = self._encounter(uow, caller, stored["mdtrt_id"], for_update=False)
                return PurchaseResult(
                    self._stored_settlement(uow, encounter, stored["setl_id"]),
                    list(
                        uow.hospital.fee_lines_by_serial(encounter.id, stored["serials"]).values()
                    ),
                )
            done = self._purchase(uow, caller, purchase, msgid=msgid)
            memo = {
                "mdtrt_id": done.record.encounter_id,
                "setl_id": done.record.settlement_id,
                "serials": [line.serial for line in done.lines],
            }
            self._commit_and_remember(uow, key, memo)
            return done

    def _purchase(
        self,
        uow: EncounterUnitOfWork,
        caller: Caller,
        purchase: PharmacyPurchase,
        *,
        msgid: str | None,
    ) -> PurchaseResult:
        """The purchase as an encounter of kind pharmacy: checked (a connected pharmacy, the
        person, the filing), its lines resolved against the treatment region's catalogue and
        settled with the insured region's pharmacy scheme; nothing is committed here."""
        purchased_at = local(purchase.purchased_at)
        check = self._check(
            uow, caller, purchase.credential, purchased_at.date(), ConnectionKind.PHARMACY
        )
        _require_insurance_type(check.person, purchase.insurance_type)
        self._require_filed(uow, check)
        encounter_id = self._add_encounter(
            uow,
            caller,
            check,
            med_type=PHARMACY_MED_TYPE,
            state=REGISTERED,
            begins_at=purchased_at,
            credential_type=purchase.credential_type,
            prescription_numbers=purchase.prescription_numbers,
        )
        encounter = self._encounter(uow, caller, encounter_id, for_update=True)
        done = self._store_lines(uow, encounter, purchase.lines)

        def audit_purchase() -> None:
            self._audit(
                uow,
                caller,
                "hospital.pharmacy_purchase",
                f"encounter:{encounter_id}",
                f"{check.psn_no} 药店购药"
                + (f" 备案 {check.filing_number}" if check.filing_number else "")
                + (
                    f" 外配处方 {'、'.join(purchase.prescription_numbers)}"
                    if purchase.prescription_numbers
                    else ""
                ),
            )
            self._audit(
                uow, caller, "hospital.fee_upload", f"encounter:{encounter_id}", done.audit_reason
            )

        record = self._settle_locked(
            uow,
            caller,
            encounter,
            purchase.total_charges,
            msgid=msgid,
            use_account=purchase.use_account,
            family=FamilyUse(purchase.family_holder_psn_no) if purchase.family_account else None,
            audit_first=audit_purchase,
        )
        return PurchaseResult(record, done.lines)

    @staticmethod
    def _refuse_overlapping_stay(
        uow: EncounterUnitOfWork, caller: Caller, person_id: int, admitted_at: dt.datetime
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
        uow: EncounterUnitOfWork,
        request: AdmissionRequest,
        person: Person,
        check: AdmissionCheck,
    ) -> None:
        exclusion = admission_exclusion(
            request,
            lambda: (
                policy_at(
                    check.policy_region,
                    person.insurance_type,
                    local(request.admitted_at).date(),
                    self._policies,
                ).emergency_pre_admission_hours
            ),
        )
        if exclusion is not None:
            raise self._excluded(uow, person, exclusion.code, exclusion.what_zh)

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
        return self._cancel(
            caller, encounter_id, key, reason, "hospital.cancel_admission", Encounter.cancel
        )

    def _cancel(
        self,
        caller: Caller,
        encounter_id: str,
        key: RequestKey | None,
        reason: str,
        action: str,
        transition: _Cancellation,
    ) -> EncounterRow:
        """Cancel by ``transition`` (the aggregate refuses an encounter with active lines);
        a retry of ``key`` answers the first result."""
        with self._uow() as uow:
            encounter, stored = self._lock_for_change(uow, caller, encounter_id, key)
            if stored is not None:
                return encounter
            active = bool(uow.hospital.fee_lines(encounter_id))
            state = transition(Encounter(encounter), has_active_lines=active)
            uow.hospital.update_encounter(
                encounter_id, state=state.value, updated_at=as_utc(self._clock.now())
            )
            return self._commit_encounter_change(uow, caller, encounter_id, key, action, reason)

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
            aggregate = Encounter(encounter)
            aggregate.require_open(
                "不能变更入院信息",
                "only an open, unsettled admission can be changed",
                if_settled_zh="（请先撤销结算）",
            )
            aggregate.check_med_type_change(change.med_type)
            values: dict[str, Any] = {}
            if change.admitted_at is not None:
                when = local(change.admitted_at)
                if when != encounter.admitted_at:
                    aggregate.check_new_admission_time(when, uow.hospital.fee_lines(encounter.id))
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
                check_icd10(change.diagnosis_codes)
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
            when = local(discharged_at)
            state = Encounter(encounter).discharge(when, uow.hospital.fee_lines(encounter_id))
            values: dict[str, Any] = {
                "state": state.value,
                "discharged_at": as_utc(when),
                "updated_at": as_utc(self._clock.now()),
            }
            check_icd10(diagnosis_codes)
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
            state = Encounter(encounter).cancel_discharge()
            uow.hospital.update_encounter(
                encounter_id,
                state=state.value,
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
        *,
        kind: EncounterKind | None = None,
        disease_codes: Sequence[str] = (),
    ) -> list[FeeLineRow]:
        """Store a batch of fee lines; the same line again is a no-op. Returns each line's split.
        ``kind``: the transaction's kind (2204 outpatient, 2301 inpatient), checked.
        ``disease_codes``: the 病种 (dise_codg) the lines of a 2204 name, checked against the
        visit's recognised disease."""
        with self._uow() as uow:
            encounter, stored = self._lock_for_change(uow, caller, encounter_id, key)
            if stored is not None:
                found = uow.hospital.fee_lines_by_serial(encounter_id, stored["serials"])
                return [found[s] for s in stored["serials"] if s in found]
            Encounter(encounter).require_kind(kind)
            Encounter(encounter).require_open(
                "不能上传费用明细",
                "fee lines can be uploaded only to an open, unsettled encounter",
                if_settled_zh="（如需更正请先撤销结算）",
            )
            self._check_line_diseases(uow, encounter, disease_codes)
            done = self._store_lines(uow, encounter, lines)
            memo = {"serials": done.serials, "stored": done.stored_now, "mdtrt_id": encounter_id}
            self._remember(uow, key, memo)
            # The audit entry last: the chain's head stays locked only for it and the commit.
            self._audit(
                uow, caller, "hospital.fee_upload", f"encounter:{encounter_id}", done.audit_reason
            )
            uow.commit()
            return done.lines  # answered from the rows just written, not read back

    def _check_line_diseases(
        self, uow: EncounterUnitOfWork, encounter: EncounterRow, disease_codes: Sequence[str]
    ) -> None:
        """A fee line naming a 病种 belongs to a 门诊慢特病 visit of that disease, recognised
        for the person on the visit day; anything else is refused before a line is stored."""
        codes = sorted({c.strip().upper() for c in disease_codes if c and c.strip()})
        if not codes:
            return
        if encounter.med_type != CHRONIC_MED_TYPE:
            raise Refused(
                "VISIT_NOT_CHRONIC",
                f"本次就诊为{EncounterType(encounter.med_type).label_zh}，费用明细不能填写病种编码"
                f"（收到 {'、'.join(codes)}）；门诊慢特病请先用 2203 上传医疗类别 14 与病种编码",
                "fee lines name a disease but the visit is not a chronic-disease visit",
                field="dise_codg",
            )
        other = [c for c in codes if c != encounter.disease_code]
        if other:
            raise Refused(
                "CHRONIC_DISEASE_MISMATCH",
                f"费用明细的病种 {'、'.join(other)} 与本次就诊登记的病种 "
                f"{encounter.disease_code} 不符",
                "the fee lines' disease is not the visit's",
                field="dise_codg",
            )
        self._recognised_disease(
            uow, encounter.person_id, encounter.disease_code, encounter.admitted_at
        )

    def _store_lines(
        self,
        uow: EncounterUnitOfWork,
        encounter: EncounterRow,
        lines: Sequence[FeeLineInput],
    ) -> _StoredLines:
        """Check and store a batch of lines on the locked, open ``encounter`` (nothing is
        committed, nothing audited: the caller appends ``audit_reason``)."""
        encounter_id = encounter.id
        if not lines:
            raise InvalidInput(
                "FEE_LINES_EMPTY", "费用明细不能为空", "no fee lines", field="feedetail"
            )
        fingerprints = Encounter(encounter).check_fee_batch(lines, self._latest_fee_time(encounter))
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
        now = as_utc(self._clock.now())
        batch: dict[str, dict[str, Any]] = {}  # first line of each serial, as it is stored
        for line in lines:
            if line.serial not in batch:
                _, item = resolved[line.serial]
                values = self._line_values(encounter, line, item, now, fingerprints[line.serial])
                batch[line.serial] = values | {"encounter_id": encounter_id, "serial": line.serial}
        # No read first: the batch is inserted in one statement, serials the stay already
        # has are skipped and looked at only then (a retry or a re-upload is the rare case).
        added = uow.hospital.add_fee_lines(list(batch.values()))
        stored: dict[str, FeeLineRow] = {
            serial: fee_line_row(line_id, batch[serial]) for serial, line_id in added.items()
        }
        again: set[str] = set()  # cancelled lines uploaded again
        if len(added) < len(batch):
            earlier = uow.hospital.fee_lines_by_serial(
                encounter_id, [serial for serial in batch if serial not in added]
            )
            reused = [  # in the batch's order
                serial
                for serial in batch
                if serial in earlier
                and not earlier[serial].cancelled
                and earlier[serial].fingerprint != fingerprints[serial]
            ]
            if reused:
                # The transaction is rolled back: the lines inserted above go with it.
                raise Conflict(
                    "FEE_LINE_SERIAL_REUSED",
                    f"费用明细流水号 {'、'.join(reused)} 已上传过内容不同的明细；"
                    "如需修改请先撤销原明细（2302）再上传",
                    "these serials were uploaded with different content",
                    field="feedetl_sn",
                    details={"serials": reused},
                )
            for serial, previous in earlier.items():
                if not previous.cancelled:
                    stored[serial] = previous  # the same line again: nothing to do
                    continue
                values = batch[serial] | {"cancelled": False, "cancelled_at": None}
                uow.hospital.replace_fee_line(previous.id, values)
                stored[serial] = fee_line_row(previous.id, values)
                again.add(serial)
        # What a 2601 of this upload takes back: the lines it added or stored again.
        stored_now = [serial for serial in batch if serial in added or serial in again]
        replaced = len(again)
        uow.hospital.update_encounter(encounter_id, updated_at=now)
        serials = list(batch)
        return _StoredLines(
            serials=serials,
            stored_now=stored_now,
            lines=[stored[serial] for serial in serials],
            audit_reason=f"新增 {len(added)} 条，重新上传 {replaced} 条，"
            f"重复 {len(lines) - len(added) - replaced} 条",
        )

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

    def _line_values(
        self,
        encounter: EncounterRow,
        line: FeeLineInput,
        item: CatalogItem | None,
        now: dt.datetime,
        fingerprint: str,
    ) -> dict[str, Any]:
        occurred = local(line.occurred_at)
        pre_admission = Encounter(encounter).is_emergency_pre_admission(occurred)
        fee_line = engine_fee_line(
            replace(
                line,
                name=line.name or (item.name if item else ""),
                emergency_pre_admission=pre_admission,
            )
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
            "charge_batch": line.charge_batch[:30] if line.charge_batch else None,
        }

    def cancel_fees(
        self,
        caller: Caller,
        encounter_id: str,
        serials: Sequence[str],
        key: RequestKey | None = None,
        *,
        kind: EncounterKind | None = None,
        charge_batch: str | None = None,
    ) -> list[str]:
        """2302 / 2205: cancel unsettled lines; ``"0000"`` cancels all, ``charge_batch`` the
        lines uploaded in that 收费批次 (2205 chrg_bchno). Cancelled lines are kept, flagged."""
        with self._uow() as uow:
            encounter, stored = self._lock_for_change(uow, caller, encounter_id, key)
            if stored is not None:
                return list(stored["serials"])
            Encounter(encounter).require_kind(kind)
            Encounter(encounter).require_open(
                "不能撤销费用明细",
                "fee lines can be cancelled only on an open, unsettled encounter",
                if_settled_zh="（已结算的明细须先撤销结算）",
            )
            active = {line.serial: line for line in uow.hospital.fee_lines(encounter_id)}
            if charge_batch is not None:
                chosen = [line for line in active.values() if line.charge_batch == charge_batch]
                if not chosen:
                    raise NotFound(
                        "FEE_BATCH_NOT_FOUND",
                        f"未找到收费批次 {charge_batch[:30]} 的未结算费用明细",
                        "no unsettled fee lines of this charge batch",
                        field="chrg_bchno",
                    )
            elif "0000" in serials:
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
        uow: EncounterUnitOfWork,
        encounter: EncounterRow,
        person: Person,
        hospital: Hospital,
        lines: Sequence[ClaimLine],
        year_to_date: YearToDate,
        discharged_on: dt.date,
        account_balance: Money | None = None,
        account_family: bool = False,
    ) -> SettlementResult:
        insurance_type = InsuranceType(encounter.insurance_type)
        sources = claim_sources(
            uow,
            self._catalogs,
            self._policies,
            insured_region=encounter.insured_region_code,
            insurance_type=insurance_type,
            treatment_region=encounter.treatment_region_code,
            policy_on=discharged_on,
        )
        built = build_claim(
            sources,
            lines,
            person=person,
            insurance_type=insurance_type,
            hospital_level=hospital.level,
            filing_category=(
                FilingCategory(encounter.filing_category) if encounter.filing_category else None
            ),
            encounter_type=EncounterType(encounter.med_type),
            disease_code=encounter.disease_code,
            admitted_on=local(encounter.admitted_at).date(),
            discharged_on=discharged_on,
            admitted_at=local(encounter.admitted_at),
            account_balance=account_balance,
            account_family=account_family,
        )
        return settle(built.claim, built.policy, built.resolved, year_to_date)

    def _treatment_catalogs(
        self, uow: EncounterUnitOfWork, encounter: EncounterRow
    ) -> tuple[str, list[CatalogVersionRow]]:
        """The catalogue region of the treatment region and its versions; refused without any."""
        catalog_region = self._catalogs.catalog_region(uow, encounter.treatment_region_code)
        if catalog_region is None:
            raise no_catalog(encounter.treatment_region_code)
        return catalog_region, self._catalogs.versions(uow, catalog_region)

    @staticmethod
    def _check_total(lines: Sequence[ClaimLine], total_charges: Money | None) -> None:
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

    @staticmethod
    def _balance(
        uow: EncounterUnitOfWork, person_id: int, insurance_type: InsuranceType, year: int
    ) -> Money | None:
        if not account_eligible(insurance_type):
            return None
        account = uow.accounts.read(person_id, insurance_type, year)
        return account.balance if account else Money.zero()

    def _account(
        self, uow: EncounterUnitOfWork, encounter: EncounterRow, year: int
    ) -> PersonalAccount | None:
        """The person's personal account for the year (employee insurance only), locked for a
        settlement so two settlements at once never both spend one balance."""
        insurance_type = InsuranceType(encounter.insurance_type)
        if not account_eligible(insurance_type):
            return None
        return uow.accounts.lock(encounter.person_id, insurance_type, year, self._clock.now())

    def _family_account(
        self,
        uow: EncounterUnitOfWork,
        encounter: EncounterRow,
        day: dt.date,
        family: FamilyUse,
        *,
        lock: bool,
    ) -> tuple[PersonalAccount | None, Person]:
        """家庭共济: the account of the holder bound to the person on ``day`` (locked for a
        settlement, after the encounter and year-to-date rows); refused without a binding, or
        when the holder no longer keeps an account (the binding ends with the insurance)."""
        holder_id = (
            self._person_by_psn_no(uow, family.holder_psn_no)[0] if family.holder_psn_no else None
        )
        binding = binding_for(uow.accounts.family_bindings(encounter.person_id), day, holder_id)
        holder = uow.hospital.person_by_internal_id(binding.holder_person_id)
        assert holder is not None
        if not account_eligible(holder.insurance_type):
            raise Refused(
                "ACCOUNT_FAMILY_HOLDER_NOT_EMPLOYEE",
                f"家庭共济的账户持有人现为{holder.insurance_type.label_zh}，不再设个人账户，"
                "家庭共济随之终止；请用本人账户或现金支付",
                "the holder keeps no personal account any more; the binding has ended",
                field="acct_used_flag",
            )
        if lock:
            now = self._clock.now()
            return uow.accounts.lock(
                binding.holder_person_id, holder.insurance_type, day.year, now
            ), holder
        return uow.accounts.read(binding.holder_person_id, holder.insurance_type, day.year), holder

    @staticmethod
    def _debit_account(
        uow: EncounterUnitOfWork,
        account: PersonalAccount,
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
        uow: EncounterUnitOfWork,
        encounter: EncounterRow,
        original: SettlementRow,
        reversal_id: str,
        caller: Caller,
        now: dt.datetime,
    ) -> str:
        """Give back exactly what the settlement took; the reversal's result JSON carries the
        balance after."""
        data = json.loads(original.result_json)
        account = self._account_paid_from(uow, encounter, original)
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

    def _account_paid_from(
        self, uow: EncounterUnitOfWork, encounter: EncounterRow, settled: SettlementRow
    ) -> PersonalAccount | None:
        """The account a settlement was paid from, locked: the holder's for 家庭共济, else
        the person's own (None: the person keeps none and nothing was paid)."""
        paid_from = uow.accounts.account_of_debit(settled.id)
        if paid_from is None:
            return self._account(uow, encounter, settled.year)
        return uow.accounts.lock(
            paid_from.person_id,
            InsuranceType(paid_from.insurance_type),
            paid_from.year,
            self._clock.now(),
        )

    def _debit_again(
        self,
        uow: EncounterUnitOfWork,
        encounter: EncounterRow,
        settled: SettlementRow,
        restored_id: str,
        caller: Caller,
        now: dt.datetime,
    ) -> str:
        """2601 of a 2305: the restored settlement takes from the account again exactly what
        the original took (refused, nothing written, if the balance no longer covers it)."""
        data = json.loads(settled.result_json)
        account = self._account_paid_from(uow, encounter, settled)
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
        kind: EncounterKind | None = None,
        med_type: str | None = None,
        disease_code: str | None = None,
        family: FamilyUse | None = None,
    ) -> SettlementRecord:
        """2303 / 2206: the full result on the current totals; nothing is written."""
        with self._uow() as uow:
            encounter = self._encounter(uow, caller, encounter_id, for_update=False)
            Encounter(encounter).require_kind(kind)
            Encounter(encounter).require_open(
                "不能预结算", "only an open, unsettled encounter can be pre-settled"
            )
            self._check_visit_terms(uow, encounter, med_type, disease_code)
            person, hospital = self._context(uow, encounter)
            lines = uow.hospital.claim_lines(encounter_id)
            self._check_total(lines, total_charges)
            day = (
                Encounter(encounter).settlement_day()
                if encounter.discharged_at or Encounter(encounter).kind is EncounterKind.OUTPATIENT
                else discharged_on or local(self._clock.now()).date()
            )
            ytd = uow.hospital.read_year_to_date(
                encounter.person_id, InsuranceType(encounter.insurance_type), day.year
            )
            balance = self._balance(
                uow, encounter.person_id, InsuranceType(encounter.insurance_type), day.year
            )
            if family is not None:
                account, holder = self._family_account(uow, encounter, day, family, lock=False)
                balance = account.balance if account else Money.zero()
            result = self._compute(
                uow,
                encounter,
                person,
                hospital,
                lines,
                ytd,
                day,
                balance if use_account or family else None,
                account_family=family is not None,
            )
            data = result_json(result)
            if family is not None:
                data["family_account_holder"] = holder.psn_no
            if balance is not None:
                data["account_balance_after"] = str(balance - result.personal_account_paid)
            record = settlement_record(
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
        kind: EncounterKind | None = None,
        med_type: str | None = None,
        disease_code: str | None = None,
        family: FamilyUse | None = None,
    ) -> SettlementRecord:
        """2304 / 2207: commit the settlement, the year-to-date totals and what is owed, at
        once. ``med_type`` / ``disease_code`` (2207), when given, must be the visit's; a
        门诊慢特病 visit needs its recognition valid on the visit day."""
        with self._uow() as uow:
            # The stay (locked), its person and its hospital in one read.
            context = self._encounter_context(uow, caller, encounter_id, for_update=True)
            encounter = context.encounter
            stored = self._recall(uow, key)
            if stored is not None:
                return self._stored_settlement(uow, encounter, stored["setl_id"])
            Encounter(encounter).require_kind(kind)
            self._check_visit_terms(uow, encounter, med_type, disease_code)
            record = self._settle_locked(
                uow,
                caller,
                encounter,
                total_charges,
                msgid=msgid,
                use_account=use_account,
                family=family,
                context=context,
                key=key,
            )
            uow.commit()
            return record

    def _check_visit_terms(
        self,
        uow: EncounterUnitOfWork,
        encounter: EncounterRow,
        med_type: str | None,
        disease_code: str | None,
    ) -> None:
        """2206 / 2207 name the visit's med_type and disease as recorded by 2201 / 2203 (an
        absent one is not checked); a chronic visit is settled only with a recognition of its
        disease valid on the visit day (it may have been ended since 2203)."""
        if Encounter(encounter).kind is not EncounterKind.OUTPATIENT:
            return
        if med_type and med_type.strip() != encounter.med_type:
            raise Refused(
                "VISIT_MED_TYPE_MISMATCH",
                f"结算报文的医疗类别 {med_type} 与本次就诊登记的 {encounter.med_type}"
                f"（{EncounterType(encounter.med_type).label_zh}）不符；门诊慢特病请先用 2203 上传"
                "医疗类别 14 与病种编码",
                "the settlement's med_type is not the visit's; correct the visit with 2203 first",
                field="med_type",
            )
        code = (disease_code or "").strip().upper()
        if code and encounter.disease_code and code != encounter.disease_code:
            raise Refused(
                "CHRONIC_DISEASE_MISMATCH",
                f"结算报文的病种 {code} 与本次就诊登记的病种 {encounter.disease_code} 不符",
                "the settlement's disease is not the visit's",
                field="dise_codg",
            )
        if encounter.med_type == CHRONIC_MED_TYPE:
            self._recognised_disease(
                uow, encounter.person_id, encounter.disease_code, encounter.admitted_at
            )

    def _settle_locked(
        self,
        uow: EncounterUnitOfWork,
        caller: Caller,
        encounter: EncounterRow,
        total_charges: Money,
        *,
        msgid: str | None,
        use_account: bool,
        family: FamilyUse | None = None,
        context: EncounterContext | None = None,
        key: RequestKey | None = None,
        audit_first: Callable[[], None] | None = None,
    ) -> SettlementRecord:
        """Settle the locked ``encounter`` (nothing is committed): the settlement row, the
        year-to-date totals, the account (the bound holder's for 家庭共济), the clearing fact,
        the answer for ``key`` and the audit entry. ``context``: the stay's person and hospital
        if already read. ``audit_first``: appends the caller's own entries just before the
        settlement's (a purchase's), so that the audit chain's head, locked from a
        transaction's first entry to its commit, is held only at the end."""
        encounter_id = encounter.id
        settled_state = Encounter(encounter).settle()
        if context is not None:
            person, hospital = context.person, context.hospital
        else:
            person, hospital = self._context(uow, encounter)
        lines = uow.hospital.claim_lines(encounter_id)
        self._check_total(lines, total_charges)
        day = Encounter(encounter).settlement_day()
        insurance_type = InsuranceType(encounter.insurance_type)
        ytd = uow.hospital.lock_year_to_date(encounter.person_id, insurance_type, day.year)
        holder: Person | None = None
        if family is not None:
            account, holder = self._family_account(uow, encounter, day, family, lock=True)
            balance = account.balance if account else None
        else:
            account = self._account(uow, encounter, day.year)
            balance = account.balance if account and use_account else None
        result = self._compute(
            uow,
            encounter,
            person,
            hospital,
            lines,
            ytd,
            day,
            balance,
            account_family=family is not None,
        )
        now = self._clock.now()
        settlement_id = _new_id("S", encounter.treatment_region_code, now)
        amounts = result_amounts(result)
        data = result_json(result)
        if account is not None:
            data["account_balance_after"] = str(
                self._debit_account(uow, account, result, settlement_id, caller, now)
            )
        if holder is not None:
            data["family_account_holder"] = holder.psn_no
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
        self._record_fact(
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
                    FilingCategory(encounter.filing_category) if encounter.filing_category else None
                ),
                medical_type=encounter.med_type,
            ),
            now,
        )
        uow.hospital.update_encounter(
            encounter_id, state=settled_state.value, updated_at=as_utc(now)
        )
        self._remember(uow, key, {"setl_id": settlement_id})
        # The audit entries last: the chain's head stays locked only for them and the commit.
        if audit_first is not None:
            audit_first()
        if holder is not None:
            self._audit(
                uow,
                caller,
                "account.family_debit",
                f"account:{holder.psn_no}:{day.year}",
                f"家庭共济 person:{person.psn_no} settlement:{settlement_id} "
                f"{result.personal_account_paid} 元",
            )
        self._audit(
            uow,
            caller,
            "hospital.settle",
            f"settlement:{settlement_id}",
            f"encounter {encounter_id} 总额 {result.total_charges} 基金 {result.fund_paid_total} "
            f"个人 {result.patient_share}",
        )
        # The reply is what was just stored; no need to read the row and its JSON back.
        return replace(
            settlement_record(
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
        kind: EncounterKind | None = None,
    ) -> SettlementRecord:
        """2305 / 2208: a new reversal record with negative amounts; year-to-date restored
        exactly; the encounter goes back to discharged (a visit to registered) so it can be
        corrected and settled again."""
        with self._uow() as uow:
            encounter, stored = self._lock_for_change(uow, caller, encounter_id, key)
            if stored is not None:
                return self._stored_settlement(uow, encounter, stored["setl_id"])
            Encounter(encounter).require_kind(kind)
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
        uow: EncounterUnitOfWork,
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
        reopened = Encounter(encounter).reverse()
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
                **_carried_over(original, sign=-1),
                "result_json": reversal_json,
                "year_to_date_delta_json": json.dumps(delta.as_dict()),
                "msgid": msgid,
                "settled_at": as_utc(now),
                "settled_by": caller.actor[:64],
            }
        )
        original_fact = _clearing_fact(uow, original.id, "撤销")
        self._record_fact(uow, original_fact.reversed(reversal_id, local(now).date()), now)
        uow.hospital.set_settlement_state(original.id, "reversed")
        uow.hospital.mark_fee_lines_settled(encounter_id, None)
        uow.hospital.write_year_to_date(original.person_id, insurance_type, restored)
        uow.hospital.update_encounter(encounter_id, state=reopened.value, updated_at=as_utc(now))
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

        A settlement (2304, a visit's 2207, a purchase's 2102) is reversed as by 2305 (2208,
        2103); a settlement cancellation (2305, 2208, 2103) is undone by a new settlement with the same amounts (the
        ledger never reverses a reversal); a fee upload (2301) cancels the lines it stored.
        A 2601 that names a stay's message as a visit's transaction (or the other way round)
        is refused as not that transaction. An ``omsgid`` yidi never
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
        uow: EncounterUnitOfWork,
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
        record_kind, encounter_kind = _REVERSED_RECORD[oinfno]
        mismatch = Conflict(
            "REVERSAL_OINFNO_MISMATCH",
            f"报文 {omsgid} 不是交易 {oinfno}，请核对 oinfno",
            "omsgid is not a request of oinfno",
            field="oinfno",
        )
        if row is None or row.kind != record_kind or row.hospital_code != caller.hospital_code:
            raise mismatch
        encounter = self._encounter(uow, caller, row.encounter_id, for_update=True)
        if Encounter(encounter).kind is not encounter_kind:
            raise mismatch
        if encounter.person_id != person_id:
            raise self._psn_mismatch(encounter.id)
        row = uow.hospital.settlement(row.id)
        assert row is not None
        if record_kind == "settle":
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
        uow: EncounterUnitOfWork,
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
        Encounter(encounter).require_open(
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
        uow: EncounterUnitOfWork,
        caller: Caller,
        encounter: EncounterRow,
        reversal: SettlementRow,
        msgid: str | None,
    ) -> dict[str, Any]:
        """Undo a 2305 / 2208: settle again with the reversed settlement's stored result."""
        assert reversal.reverses_id is not None
        settled = uow.hospital.settlement(reversal.reverses_id)
        assert settled is not None
        lines = uow.hospital.fee_lines(encounter.id)
        kept = sorted(
            (line["serial"], line["line_amount"])
            for line in json.loads(settled.result_json)["lines"]
        )
        now_lines = sorted((line.serial, str(line.amount)) for line in lines)
        # Only from the state the cancellation left (discharged, a visit registered) and with
        # the lines it settled; anything else is refused (REVERSAL_CANNOT_RESTORE).
        resettled = Encounter(encounter).restore(lines_unchanged=kept == now_lines)
        if encounter.med_type == CHRONIC_MED_TYPE:
            # The recognition may have been ended (back to before the visit) since 2207.
            self._recognised_disease(
                uow, encounter.person_id, encounter.disease_code, encounter.admitted_at
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
                **_carried_over(settled, sign=1),
                "result_json": restored_json,
                "year_to_date_delta_json": settled.year_to_date_delta_json,
                "msgid": settled.msgid,
                "settled_at": as_utc(now),
                "settled_by": caller.actor[:64],
            }
        )
        fact = _clearing_fact(uow, settled.id, "恢复")
        self._record_fact(
            uow,
            replace(fact, setl_id=restored_id, settled_on=local(now).date(), clearing_month=""),
            now,
        )
        uow.hospital.mark_fee_lines_settled(encounter.id, restored_id)
        uow.hospital.write_year_to_date(settled.person_id, insurance_type, ytd.plus(delta))
        uow.hospital.update_encounter(encounter.id, state=resettled.value, updated_at=as_utc(now))
        self._audit(
            uow,
            caller,
            "hospital.settle",
            f"settlement:{restored_id}",
            f"冲正结算撤销 {reversal.id}，按原结算 {settled.id} 恢复",
        )
        return {"result": "restored", "setl_id": restored_id, "restores_setl_id": settled.id}


__all__ = [
    "ADMITTED",
    "CANCELLED",
    "DISCHARGED",
    "MANUAL_MATERIALS_ZH",
    "PSN_NO_KIND",
    "REVERSIBLE_INFNOS",
    "SETTLED",
    "STATE_ZH",
    "AdmissionChange",
    "AdmissionCheck",
    "AdmissionRequest",
    "Credential",
    "EncounterDetail",
    "EncounterState",
    "FamilyUse",
    "FeeLineInput",
    "HospitalService",
    "LookupLimits",
    "SettlementRecord",
    "YidiError",
    "emergency_counts_as_filed",
    "local",
    "mask_id_number",
    "policy_region_of",
    "result_amounts",
    "result_json",
    "reversal_marker",
    "ytd_from_json",
]
