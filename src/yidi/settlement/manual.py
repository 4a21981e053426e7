"""Manual reimbursement at the insured region (手工报销，回参保地报销) for unfiled or excluded care.

The Hengyang seed: care that is not settled directly is paid in full by the patient, who
brings “住院收据原件、出院记录或住院病案首页、疾病诊断证明书、住院医疗费用总清单” back
to the insured region's agency, which pays “按政策” — the insured region's rules for
unfiled or excluded care. The agency handler records the materials against that
checklist, enters the fee lines, computes with the same engine in MANUAL mode, approves
(missing materials block approval, each listed) and records the payment.

Catalogue decision: fee lines are classified with the treatment region's catalogue when
yidi holds one (就医地目录, as for direct settlement); otherwise with the insured region's
own catalogue, and the claim records that substitution (``catalog_note``). Codes found
in neither are fully self-paid (the receipt is evidence the care happened; the engine
explains each such line), rather than refused as at the hospital.

Approval commits the result and the year-to-date totals in one transaction with the
person's year-to-date row locked, exactly as a hospital settlement does, so manual and
direct payments share one annual cap and one deductible count.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from yidi.catalog.ports import CatalogVersions
from yidi.catalog.queries import CatalogLookup
from yidi.encounter.model import local
from yidi.encounter.records import result_amounts, result_json
from yidi.filing.model.lifecycle import FilingState
from yidi.kernel.access import Action, Principal, hidden
from yidi.kernel.audit import as_utc, audit_entry
from yidi.kernel.clock import CHINA_TZ, Clock
from yidi.kernel.errors import Conflict, InvalidInput, Refused
from yidi.kernel.insurance import (
    EncounterType,
    FilingCategory,
    HospitalLevel,
    InsuranceType,
    SettlementMode,
)
from yidi.kernel.money import Money
from yidi.kernel.privacy import mask_id_number
from yidi.kernel.regions import region_prefix
from yidi.policy.loader import PolicyLibrary
from yidi.reference.model import Hospital, Person
from yidi.settlement.claim_builder import FeeLineInput, build_claim, claim_sources, fee_line
from yidi.settlement.claims import YearToDate
from yidi.settlement.engine import settle
from yidi.settlement.payee import Payee
from yidi.settlement.ports import (
    ManualClaimListRow,
    ManualClaimQuery,
    ManualClaimRow,
    ManualClaimUnitOfWork,
)


class Material(enum.StrEnum):
    """回参保地报销 materials the seed lists."""

    RECEIPT = "inpatient_receipt"
    DISCHARGE_RECORD = "discharge_record"
    DIAGNOSIS_CERTIFICATE = "diagnosis_certificate"
    FEE_LIST = "itemised_fee_list"

    @property
    def label_zh(self) -> str:
        return {
            "inpatient_receipt": "住院收据原件",
            "discharge_record": "出院记录或住院病案首页",
            "diagnosis_certificate": "疾病诊断证明书",
            "itemised_fee_list": "住院医疗费用总清单",
        }[self.value]


CHECKLIST: Final = tuple(Material)

DRAFT: Final = "draft"
COMPUTED: Final = "computed"
APPROVED: Final = "approved"
PAID: Final = "paid"
STATES: Final = (DRAFT, COMPUTED, APPROVED, PAID)
MAX_PAGE_SIZE: Final = 200
# The ID search takes only a whole number: a partial one would let a list probe people.
_FULL_ID_NUMBER: Final = re.compile(r"[0-9]{17}[0-9X]")


@dataclass(frozen=True)
class ManualClaimView:
    claim: ManualClaimRow
    person_name: str
    id_number_masked: str
    materials: list[Material]
    missing_materials: list[Material]
    fee_lines: list[dict[str, Any]]
    result: dict[str, Any] | None
    amounts: dict[str, Money]
    payee: Payee | None = None

    @property
    def payee_account_masked(self) -> str:
        return self.payee.account_masked if self.payee else ""


@dataclass(frozen=True)
class FilingBrief:
    """One of the person's filings as the intake desk sees it (no address, no phone)."""

    filing_number: str
    category: FilingCategory | None
    state: FilingState
    treatment_region_code: str
    valid_from: dt.date | None
    valid_until: dt.date | None


@dataclass(frozen=True)
class PersonLookup:
    """Who an ID number names, for the handler's intake form: the ID number masked."""

    id_number_masked: str
    name: str
    insured_region_code: str
    insurance_type: InsuranceType
    filings: list[FilingBrief]


#: The filing states the intake desk is shown (drafts and withdrawn ones are not).
_SHOWN_FILING_STATES: Final = (
    FilingState.SUBMITTED,
    FilingState.APPROVED,
    FilingState.EXPIRED,
    FilingState.CANCELLED,
)


@dataclass(frozen=True)
class ManualClaimSummary:
    """One line of the claims list (申请列表): masked ID, amounts once approved, checklist."""

    claim_id: str
    person_name: str
    id_number_masked: str
    insured_region_code: str
    treatment_region_code: str
    hospital_name: str
    admitted_on: dt.date
    discharged_on: dt.date
    state: str
    received_on: dt.date  # 受理日期, Beijing time
    total_amount: Money | None
    fund_paid_amount: Money | None
    patient_share_amount: Money | None
    materials_received: tuple[Material, ...]
    missing_materials: tuple[Material, ...]

    @property
    def materials_complete(self) -> bool:
        return not self.missing_materials


@dataclass(frozen=True)
class ManualClaimPage:
    total: int
    limit: int
    offset: int
    items: list[ManualClaimSummary]


def _optional_money(fen: int | None) -> Money | None:
    return None if fen is None else Money.from_fen(fen)


def _summary(row: ManualClaimListRow) -> ManualClaimSummary:
    received = {Material(m) for m in json.loads(row.materials_json)}
    return ManualClaimSummary(
        claim_id=row.id,
        person_name=row.person_name,
        id_number_masked=mask_id_number(row.id_number),
        insured_region_code=row.insured_region_code,
        treatment_region_code=row.treatment_region_code,
        hospital_name=row.hospital_name,
        admitted_on=row.admitted_on,
        discharged_on=row.discharged_on,
        state=row.state,
        received_on=row.created_at.astimezone(CHINA_TZ).date(),
        total_amount=_optional_money(row.total_charges_fen),
        fund_paid_amount=_optional_money(row.fund_paid_total_fen),
        patient_share_amount=_optional_money(row.patient_share_fen),
        materials_received=tuple(m for m in CHECKLIST if m in received),
        missing_materials=tuple(m for m in CHECKLIST if m not in received),
    )


def _line_of(data: dict[str, Any]) -> FeeLineInput:
    """A fee line as stored in ``fee_lines_json``."""
    return FeeLineInput(
        serial=data["serial"],
        catalog_code=data["catalog_code"],
        quantity=Decimal(data["quantity"]),
        unit_price=Decimal(data["unit_price"]),
        amount=Money(data["amount"]),
        occurred_at=dt.datetime.fromisoformat(data["occurred_at"]),
        name=data["name"],
    )


def _payee_of(row: ManualClaimRow) -> Payee | None:
    if not row.payee_account:
        return None
    return Payee(row.payee_name or "", row.payee_bank or "", row.payee_account)


def _payee_values(payee: Payee | None) -> dict[str, str | None]:
    return {
        "payee_name": payee.name if payee else None,
        "payee_bank": payee.bank if payee else None,
        "payee_account": payee.account if payee else None,
    }


def _unknown_hospital() -> InvalidInput:
    return InvalidInput(
        "HOSPITAL_NOT_IN_DIRECTORY",
        "定点医疗机构名录中没有该医院，请按名称选择，或填写医院名称和就医地",
        "no such hospital in the directory; choose one by name or type the hospital and its region",
        field="hospital",
    )


def _start_of(day: dt.date) -> dt.datetime:
    """Midnight of a Beijing calendar day, as the UTC instant stored timestamps compare with."""
    return as_utc(dt.datetime.combine(day, dt.time(), tzinfo=CHINA_TZ))


def _not_found() -> Exception:
    return hidden("报销申请", "manual_claim")


#: 补办备案: ``(id_number, treatment_region, care_from, care_until)`` → the number and
#: category of the late filing covering that care, or None (yidi.filing.late_care).
LateFilingFinder = Callable[[str, str, dt.date, dt.date], tuple[str, FilingCategory] | None]


class ManualClaimService:
    def __init__(
        self,
        uow_factory: Callable[[], ManualClaimUnitOfWork],
        clock: Clock,
        *,
        catalogs: CatalogVersions | None = None,
        policies: PolicyLibrary | None = None,
        late_filing: LateFilingFinder | None = None,
    ) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._catalogs: CatalogVersions = catalogs or CatalogLookup()
        self._policies = policies
        self._late_filing = late_filing

    # --- helpers ---------------------------------------------------------------------
    def _audit(
        self,
        uow: ManualClaimUnitOfWork,
        principal: Principal,
        action: str,
        subject: str,
        reason: str = "",
    ) -> None:
        uow.audit.append(
            audit_entry(
                self._clock.now(),
                actor=principal.user_id,
                role=principal.role.value,
                region_code=principal.region_code,
                action=action,
                subject=subject,
                reason=reason,
            )
        )

    def _load(
        self,
        uow: ManualClaimUnitOfWork,
        principal: Principal,
        claim_id: str,
        *,
        for_update: bool = False,
    ) -> tuple[ManualClaimRow, Person]:
        principal.require(Action.MANUAL_CLAIM)
        row = uow.hospital.manual_claim(claim_id, for_update=for_update)
        if row is None or not principal.covers_region(row.insured_region_code):
            raise _not_found()
        person = uow.hospital.person_by_internal_id(row.person_id)
        assert person is not None
        return row, person

    def _view(self, uow: ManualClaimUnitOfWork, claim_id: str) -> ManualClaimView:
        row = uow.hospital.manual_claim(claim_id)
        assert row is not None
        person = uow.hospital.person_by_internal_id(row.person_id)
        assert person is not None
        materials = [Material(m) for m in json.loads(row.materials_json)]
        amounts: dict[str, Money] = {}
        result = json.loads(row.result_json) if row.result_json else None
        if result is not None:
            amounts = {k: Money(v) for k, v in result["amounts"].items()}
        return ManualClaimView(
            claim=row,
            person_name=person.name,
            id_number_masked=mask_id_number(person.id_number),
            materials=materials,
            missing_materials=[m for m in CHECKLIST if m not in materials],
            fee_lines=json.loads(row.fee_lines_json),
            result=result,
            amounts=amounts,
            payee=_payee_of(row),
        )

    def _done(
        self,
        uow: ManualClaimUnitOfWork,
        principal: Principal,
        action: str,
        claim_id: str,
        reason: str = "",
    ) -> ManualClaimView:
        """Audit the act on the claim, commit, and answer the claim as it now stands."""
        self._audit(uow, principal, action, f"manual_claim:{claim_id}", reason)
        uow.commit()
        return self._view(uow, claim_id)

    def _updated(self, uow: ManualClaimUnitOfWork, claim_id: str, **values: Any) -> None:
        uow.hospital.update_manual_claim(claim_id, updated_at=as_utc(self._clock.now()), **values)

    # --- use cases -------------------------------------------------------------------
    def search(
        self,
        principal: Principal,
        *,
        state: str | None = None,
        received_from: dt.date | None = None,
        received_to: dt.date | None = None,
        claim_id: str | None = None,
        id_number: str | None = None,
        name: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> ManualClaimPage:
        """The claims the handler's office has taken in, newest first; IDs masked.

        Scope: the handler's insured region only (another region's claims never appear).
        Only agency handlers hold ``MANUAL_CLAIM`` in the access matrix, so the province's
        officers (who cannot open a claim either) get no list. ``received_from`` and
        ``received_to`` bound the intake date (受理日期, inclusive). An ID number must be
        whole. Each list read is audited with its criteria (the ID number masked).
        """
        principal.require(Action.MANUAL_CLAIM)
        if state is not None and state not in STATES:
            raise InvalidInput(
                "CLAIM_STATE_UNKNOWN",
                "报销申请状态不正确",
                f"unknown claim state {state!r}",
                field="state",
            )
        if received_from and received_to and received_to < received_from:
            raise InvalidInput(
                "CLAIM_DATE_RANGE_INVALID",
                "截止日期早于起始日期",
                "the end date is before the start date",
                field="received_to",
            )
        wanted_id = (id_number or "").strip().upper() or None
        if wanted_id is not None and not _FULL_ID_NUMBER.fullmatch(wanted_id):
            raise InvalidInput(
                "CLAIM_SEARCH_ID_INCOMPLETE",
                "按身份证号查询须输入完整的18位身份证号",
                "searching by ID number needs the whole 18-character number",
                field="id_number",
            )
        if not principal.region_code:
            return ManualClaimPage(0, limit, offset, [])
        query = ManualClaimQuery(
            region_prefix=region_prefix(principal.region_code),
            states=(state,) if state else (),
            created_from=_start_of(received_from) if received_from else None,
            created_before=(_start_of(received_to + dt.timedelta(days=1)) if received_to else None),
            claim_id=(claim_id or "").strip().upper() or None,
            id_number=wanted_id,
            name=(name or "").strip() or None,
            limit=max(1, min(limit, MAX_PAGE_SIZE)),
            offset=max(0, offset),
        )
        with self._uow() as uow:
            total, rows = uow.hospital.search_manual_claims(query)
            criteria = [
                f"state={state}" if state else "",
                f"from={received_from}" if received_from else "",
                f"to={received_to}" if received_to else "",
                f"claim={query.claim_id}" if query.claim_id else "",
                f"id={mask_id_number(wanted_id)}" if wanted_id else "",
                "name" if query.name else "",
                f"offset={query.offset}",
                f"{len(rows)}/{total}",
            ]
            self._audit(
                uow,
                principal,
                "manual_claim.list",
                f"manual_claims:{principal.region_code}",
                " ".join(c for c in criteria if c),
            )
            uow.commit()
        return ManualClaimPage(total, query.limit, query.offset, [_summary(r) for r in rows])

    def create(
        self,
        principal: Principal,
        *,
        id_number: str,
        treatment_region: str,
        hospital_name: str,
        hospital_level: HospitalLevel,
        encounter_type: EncounterType,
        admitted_on: dt.date,
        discharged_on: dt.date,
        reason: str,
        filing_category: FilingCategory | None = None,
        hospital_code: str | None = None,
        payee: Payee | None = None,
    ) -> ManualClaimView:
        """Open a claim. A hospital chosen from the directory (``hospital_code``) gives the
        claim its name, level and region; otherwise they are the ones typed."""
        principal.require(Action.MANUAL_CLAIM)
        if hospital_code:
            listed = self._directory_hospital(hospital_code)
            hospital_name, treatment_region = listed.name, listed.region_code
            hospital_level = listed.level
        if discharged_on < admitted_on:
            raise InvalidInput(
                "CLAIM_DISCHARGE_BEFORE_ADMISSION",
                "出院日期早于入院日期",
                "discharge before admission",
                field="discharged_on",
            )
        # 补办备案 (2022 rules): care covered by a filing made afterwards is paid at the
        # filing's (filed) rates, not the unfiled ones; a category the handler chose stands.
        # Looked up before this use case's own transaction: on SQLite a second transaction
        # inside a writing one waits for the first and fails as "database is locked".
        late = (
            self._late_filing(
                id_number.strip().upper(), treatment_region, admitted_on, discharged_on
            )
            if filing_category is None and self._late_filing is not None
            else None
        )
        with self._uow() as uow:
            person = uow.reference.person_by_id_number(id_number.strip().upper())
            if person is None or not principal.covers_region(person.insured_region_code):
                raise hidden("参保人员", "person")
            person_id = uow.hospital.person_id(person.id_number)
            assert person_id is not None
            if late is not None:
                filing_category = late[1]
                reason = f"{reason}（补办备案 {late[0]}）" if reason else f"补办备案 {late[0]}"
            now = as_utc(self._clock.now())
            claim_id = (
                f"MC{person.insured_region_code}{local(now):%Y%m%d}{uuid.uuid4().hex[:10].upper()}"
            )
            uow.hospital.add_manual_claim(
                {
                    "id": claim_id,
                    "person_id": person_id,
                    "insured_region_code": person.insured_region_code,
                    "treatment_region_code": treatment_region,
                    "hospital_name": hospital_name[:100],
                    "hospital_level": int(hospital_level),
                    "encounter_type": encounter_type.value,
                    "filing_category": filing_category.value if filing_category else None,
                    "late_filing_number": late[0] if late else None,
                    "hospital_code": hospital_code or None,
                    **_payee_values(payee),
                    "admitted_on": admitted_on,
                    "discharged_on": discharged_on,
                    "reason": reason[:500],
                    "materials_json": "[]",
                    "fee_lines_json": "[]",
                    "state": DRAFT,
                    "created_by": principal.user_id,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            shown = f"{reason} 收款账号 {payee.account_masked}" if payee else reason
            return self._done(uow, principal, "manual_claim.create", claim_id, shown)

    def _directory_hospital(self, hospital_code: str) -> Hospital:
        with self._uow() as uow:
            listed = uow.reference.hospital(hospital_code.strip())
        if listed is None or listed.is_pharmacy:
            raise _unknown_hospital()
        return listed

    def hospital_directory(self, principal: Principal) -> list[Hospital]:
        """The designated hospitals a claim may name (the public directory, no personal data)."""
        principal.require(Action.MANUAL_CLAIM)
        with self._uow() as uow:
            return uow.reference.hospitals()

    def lookup_person(self, principal: Principal, id_number: str) -> PersonLookup:
        """Who the ID number names, the 参保地 and the filings, for the intake form.

        Only persons insured in the handler's region are found (anyone else is answered as
        missing, the same answer as for an unknown number); the ID number comes back masked
        and every lookup is audited, found or not."""
        principal.require(Action.MANUAL_CLAIM)
        wanted = id_number.strip().upper()
        if not _FULL_ID_NUMBER.fullmatch(wanted):
            raise InvalidInput(
                "PERSON_LOOKUP_ID_INCOMPLETE",
                "请输入完整的18位身份证号",
                "enter the whole 18-character ID number",
                field="id_number",
            )
        with self._uow() as uow:
            person = uow.reference.person_by_id_number(wanted)
            found = person is not None and principal.covers_region(person.insured_region_code)
            filings = uow.filings.current_for_person(wanted, _SHOWN_FILING_STATES) if found else []
            self._audit(
                uow,
                principal,
                "manual_claim.person_lookup",
                f"person:{mask_id_number(wanted)}",
                f"{len(filings)} 条备案" if found else "未找到",
            )
            uow.commit()
        if person is None or not found:
            raise hidden("参保人员", "person")
        return PersonLookup(
            id_number_masked=mask_id_number(person.id_number),
            name=person.name,
            insured_region_code=person.insured_region_code,
            insurance_type=person.insurance_type,
            filings=[
                FilingBrief(
                    filing_number=f.record.filing_number or "",
                    category=f.record.category,
                    state=f.state,
                    treatment_region_code=(
                        f.record.destination_county_code
                        or f.record.destination_prefecture_code
                        or f.record.destination_province_code
                        or ""
                    ),
                    valid_from=f.record.valid_from,
                    valid_until=f.record.valid_until,
                )
                for f in filings
            ],
        )

    def set_payee(self, principal: Principal, claim_id: str, payee: Payee) -> ManualClaimView:
        """Enter or correct the payee; refused once the claim is paid."""
        with self._uow() as uow:
            row, _ = self._load(uow, principal, claim_id, for_update=True)
            if row.state == PAID:
                raise Conflict(
                    "MANUAL_CLAIM_PAID", "报销款已支付，不能再修改收款信息", "the claim is paid"
                )
            self._updated(uow, claim_id, **_payee_values(payee))
            return self._done(
                uow, principal, "manual_claim.payee", claim_id, f"收款账号 {payee.account_masked}"
            )

    def notice(self, principal: Principal, claim_id: str) -> ManualClaimView:
        """The claim for its printed 报销结算单 (once computed); the read is audited."""
        with self._uow() as uow:
            row, _ = self._load(uow, principal, claim_id)
            if row.result_json is None:
                raise Refused(
                    "MANUAL_NOTICE_NOT_READY",
                    "尚未试算，不能打印报销结算单",
                    "compute the claim before printing its notice",
                )
            return self._done(uow, principal, "manual_claim.notice", claim_id)

    def get(self, principal: Principal, claim_id: str) -> ManualClaimView:
        """The full claim (person, fee lines, result): every read is audited."""
        with self._uow() as uow:
            self._load(uow, principal, claim_id)
            return self._done(uow, principal, "manual_claim.read", claim_id)

    def record_materials(
        self, principal: Principal, claim_id: str, received: Sequence[Material]
    ) -> ManualClaimView:
        with self._uow() as uow:
            row, _ = self._load_editable(uow, principal, claim_id)
            have = {Material(m) for m in json.loads(row.materials_json)} | set(received)
            ordered = [m.value for m in CHECKLIST if m in have]
            self._updated(uow, claim_id, materials_json=json.dumps(ordered))
            received_zh = "、".join(Material(m).label_zh for m in ordered)
            return self._done(uow, principal, "manual_claim.materials", claim_id, received_zh)

    def set_fee_lines(
        self, principal: Principal, claim_id: str, lines: Sequence[FeeLineInput]
    ) -> ManualClaimView:
        """Enter or import the itemised fee list (replaces what was entered before)."""
        with self._uow() as uow:
            self._load_editable(uow, principal, claim_id)
            serials = [line.serial for line in lines]
            if not lines or len(set(serials)) != len(serials):
                raise InvalidInput(
                    "MANUAL_FEE_LINES_INVALID",
                    "费用明细不能为空，流水号不能重复",
                    "fee lines must be non-empty with unique serials",
                    field="lines",
                )
            data = [
                {
                    "serial": line.serial,
                    "catalog_code": line.catalog_code,
                    "name": line.name,
                    "quantity": f"{line.quantity:f}",
                    "unit_price": f"{line.unit_price:f}",
                    "amount": str(line.amount),
                    "occurred_at": local(line.occurred_at).replace(tzinfo=None).isoformat(),
                }
                for line in lines
            ]
            for line in lines:  # FeeLine refuses negative values with a clear message
                fee_line(line)
            self._updated(
                uow,
                claim_id,
                fee_lines_json=json.dumps(data, ensure_ascii=False),
                state=DRAFT,
                result_json=None,
            )
            return self._done(uow, principal, "manual_claim.fee_lines", claim_id, f"{len(data)} 条")

    def _load_editable(
        self, uow: ManualClaimUnitOfWork, principal: Principal, claim_id: str
    ) -> tuple[ManualClaimRow, Person]:
        """The claim locked for a change, refused once approved."""
        row, person = self._load(uow, principal, claim_id, for_update=True)
        if row.state in (APPROVED, PAID):
            raise Conflict(
                "MANUAL_CLAIM_CLOSED",
                "报销申请已审核，不能再修改",
                "the claim is already approved",
            )
        return row, person

    def _compute(
        self, uow: ManualClaimUnitOfWork, row: ManualClaimRow, person: Person, ytd: YearToDate
    ) -> tuple[dict[str, Any], YearToDate, str]:
        lines = json.loads(row.fee_lines_json)
        if not lines:
            raise Refused(
                "MANUAL_FEE_LINES_EMPTY",
                "尚未录入费用明细，不能计算",
                "no fee lines entered",
                field="lines",
            )
        insurance_type = person.insurance_type
        sources = claim_sources(
            uow,
            self._catalogs,
            self._policies,
            insured_region=person.insured_region_code,
            insurance_type=insurance_type,
            treatment_region=row.treatment_region_code,
            policy_on=row.discharged_on,
            insured_catalogue_stands_in=True,
        )
        built = build_claim(
            sources,
            [_line_of(data) for data in lines],
            person=person,
            insurance_type=insurance_type,
            hospital_level=HospitalLevel(row.hospital_level),
            filing_category=FilingCategory(row.filing_category) if row.filing_category else None,
            encounter_type=EncounterType(row.encounter_type),
            admitted_on=row.admitted_on,
            discharged_on=row.discharged_on,
            require_catalog=False,
        )
        note = built.catalog_note
        result = settle(built.claim, built.policy, built.resolved, ytd, mode=SettlementMode.MANUAL)
        data = result_json(result)
        data["amounts"] = {k: str(v) for k, v in result_amounts(result).items()}
        data["year_to_date_delta"] = result.year_to_date_delta.as_dict()
        data["catalog_note"] = note
        return data, result.year_to_date_after, note

    def compute(self, principal: Principal, claim_id: str) -> ManualClaimView:
        """The result on today's year-to-date totals (a preview; approval recomputes under lock)."""
        with self._uow() as uow:
            row, person = self._load_editable(uow, principal, claim_id)
            person_id = row.person_id
            ytd = uow.hospital.read_year_to_date(
                person_id, person.insurance_type, row.discharged_on.year
            )
            data, _, note = self._compute(uow, row, person, ytd)
            self._updated(
                uow,
                claim_id,
                state=COMPUTED,
                result_json=json.dumps(data, ensure_ascii=False),
                catalog_note=note or None,
            )
            return self._done(uow, principal, "manual_claim.compute", claim_id)

    def approve(self, principal: Principal, claim_id: str) -> ManualClaimView:
        with self._uow() as uow:
            row, person = self._load_editable(uow, principal, claim_id)
            materials = {Material(m) for m in json.loads(row.materials_json)}
            missing = [m for m in CHECKLIST if m not in materials]
            if missing:
                raise Refused(
                    "MANUAL_MATERIALS_MISSING",
                    f"材料不全，不能审核通过，缺少：{'、'.join(m.label_zh for m in missing)}",
                    "materials missing: " + ", ".join(m.value for m in missing),
                    field="materials",
                    details={"missing": [m.value for m in missing]},
                )
            insurance_type: InsuranceType = person.insurance_type
            ytd = uow.hospital.lock_year_to_date(
                row.person_id, insurance_type, row.discharged_on.year
            )
            data, after, note = self._compute(uow, row, person, ytd)
            amounts = data["amounts"]
            now = as_utc(self._clock.now())
            uow.hospital.write_year_to_date(row.person_id, insurance_type, after)
            self._updated(
                uow,
                claim_id,
                state=APPROVED,
                result_json=json.dumps(data, ensure_ascii=False),
                total_charges_fen=Money(amounts["total_charges"]).fen,
                fund_paid_total_fen=Money(amounts["fund_paid_total"]).fen,
                patient_share_fen=Money(amounts["patient_share"]).fen,
                year_to_date_delta_json=json.dumps(data["year_to_date_delta"]),
                policy_version=data["policy_version"],
                catalog_version=data["catalog_version"][:200],
                catalog_note=note or None,
                approved_by=principal.user_id,
                approved_at=now,
            )
            return self._done(
                uow,
                principal,
                "manual_claim.approve",
                claim_id,
                f"基金支付 {amounts['fund_paid_total']}",
            )

    def record_payment(
        self, principal: Principal, claim_id: str, reference: str
    ) -> ManualClaimView:
        with self._uow() as uow:
            row, _ = self._load(uow, principal, claim_id, for_update=True)
            if row.state != APPROVED:
                raise Conflict(
                    "MANUAL_CLAIM_NOT_APPROVED",
                    "只能对已审核通过、尚未支付的报销申请登记支付",
                    "only an approved, unpaid claim can be paid",
                )
            if not reference.strip():
                raise InvalidInput(
                    "PAYMENT_REFERENCE_REQUIRED",
                    "请填写支付凭证号",
                    "payment reference required",
                    field="reference",
                )
            self._updated(
                uow,
                claim_id,
                state=PAID,
                paid_at=as_utc(self._clock.now()),
                payment_reference=reference.strip()[:64],
            )
            return self._done(uow, principal, "manual_claim.pay", claim_id, reference[:64])
