"""Filing services (备案经办): the lifecycle at the agency, with access rules and the audit trail.

Access (豫人社办函〔2017〕63号 §6(2): 备案信息涉及参保人员隐私……防止外泄和非授权访问):

* agency handlers act only on filings whose insured region lies in their own
  (``principal.covers_region``); province officers read all of their province;
  insured persons only their own filings (their ID number); hospital cashiers
  never list filings, they only ask :meth:`FilingService.find_valid_filing`
  at admission.
* A filing outside the caller's scope is answered exactly like a missing one
  (``FILING_NOT_FOUND``), so ids and filing numbers cannot be probed.
* Lists and search results are always masked (ID ``430421********002X``,
  phones ``138****5678``); the full record is shown only on the detail view,
  and every detail read appends ``filing.read`` to the audit chain.
* Every state change appends an audit entry (who, role, region, when, why,
  from which address).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from yidi.filing.model import lifecycle
from yidi.filing.model.annex import CompletenessRow, completeness_row
from yidi.filing.model.evidence import Evidence, EvidenceFile, check_pdf_is_passive
from yidi.filing.model.lifecycle import Actor, Filing, FilingEvent, FilingState
from yidi.filing.model.record import (
    DesignatedInstitution,
    FilingRecord,
    FilingWarning,
    check_insured_region,
    check_name,
    check_social_security_number,
    filing_warnings,
    format_filing_number,
    parse_filing_number,
)
from yidi.filing.model.rules import FilingRule, rule_for
from yidi.filing.sql import FilingQuery, StoredFiling, VersionRow, duplicate_filing
from yidi.kernel.access import Action, Principal, Role, hidden
from yidi.kernel.audit import AuditEntry, as_utc
from yidi.kernel.clock import Clock
from yidi.kernel.errors import (
    Conflict,
    ErrorKind,
    Forbidden,
    InvalidInput,
    ValidationFailed,
    YidiError,
)
from yidi.kernel.insurance import FilingCategory
from yidi.kernel.privacy import mask_id_number, mask_phone
from yidi.kernel.regions import DivisionRegistry, default_registry, region_prefix
from yidi.kernel.workdays import (
    CalendarSource,
    CalendarYearUnsupported,
    Deadline,
    WorkingDayCalendar,
)
from yidi.platform.uow import SqlUnitOfWork
from yidi.policy.loader import policy_at

# States in which a filing still counts (for duplicates and conflicts).
LIVE_STATES: Final = (
    FilingState.DRAFT,
    FilingState.SUBMITTED,
    FilingState.REJECTED,
    FilingState.APPROVED,
)
MAX_PAGE_SIZE: Final = 200
MAX_EVIDENCE_BYTES: Final = 5 * 1024 * 1024
# Evidence scans are accepted by content, not by the name the browser gives them.
EVIDENCE_SIGNATURES: Final = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)


def _mask_optional_phone(text: str | None) -> str | None:
    return mask_phone(text) if text else None


SYSTEM_REGION: Final = "000000"  # the system operator's pseudo-region: it covers every region


def system_principal() -> Principal:
    """The operator for unattended batch work (报盘 from the command line, expiry runs)."""
    return Principal(
        user_id="system",
        role=Role.PROVINCE_OFFICER,
        region_code=SYSTEM_REGION,
        display_name="系统批处理",
    )


def actor_of(principal: Principal) -> Actor:
    return Actor(principal.user_id, principal.role.value, principal.display_name or None)


# --- views ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FilingSummary:
    """One line of a list: masked ID and phones."""

    filing_id: str
    filing_number: str | None
    state: FilingState
    version: int
    name: str
    id_number_masked: str
    insured_region_code: str
    category: FilingCategory | None
    destination_code: str | None
    valid_from: dt.date | None
    valid_until: dt.date | None
    phone_masked: str | None
    mobile_masked: str | None
    source: str
    updated_at: dt.datetime


@dataclass(frozen=True, slots=True)
class FilingPage:
    total: int
    items: list[FilingSummary]


@dataclass(frozen=True, slots=True)
class FilingDetail:
    """The full record (audited read), its evidence, every version and every event."""

    filing_id: str
    version_id: str
    state: FilingState
    state_reason: str | None
    record: FilingRecord
    evidence: tuple[Evidence, ...]
    events: tuple[FilingEvent, ...]
    versions: tuple[VersionRow, ...]
    warnings: tuple[FilingWarning, ...]
    missing_evidence: tuple[str, ...]
    emergency_due: Deadline | None  # None: not an emergency filing, or a refused year
    source: str

    @property
    def emergency_deadline(self) -> dt.date | None:
        return None if self.emergency_due is None else self.emergency_due.on


@dataclass(frozen=True, slots=True)
class EmergencyDue:
    summary: FilingSummary
    admitted_on: dt.date
    deadline: dt.date | None  # None: no calendar can answer for the year
    working_days_left: int | None
    late: bool
    deadline_source: CalendarSource | None = None

    @property
    def deadline_provisional(self) -> bool:
        return self.deadline_source is CalendarSource.PROVISIONAL


@dataclass(frozen=True, slots=True)
class DuplicateConflict:
    """A person filed in more than one prefecture: reported for follow-up, never merged."""

    id_number_masked: str
    filings: tuple[tuple[str, str, FilingState], ...]  # (filing id, insured region, state)


def region_filing_rules(record: FilingRecord, on_date: dt.date) -> Mapping[str, object]:
    """The insured region's ``cross_region.filing.*`` choices in force on ``on_date``.

    Looked up for the pool, then its prefecture; a region without policy files (or without
    a scheme that day) has made no choices, so the national defaults apply.
    """
    region = record.insured_region_code or ""
    if record.insurance_type is None or len(region) != 6:
        return {}
    for code in dict.fromkeys((region, region[:4] + "00")):
        try:
            return policy_at(code, record.insurance_type, on_date).filing_rules
        except YidiError:
            continue
    return {}


def _summary(row: Any, record: FilingRecord) -> FilingSummary:
    return FilingSummary(
        filing_id=row.id,
        filing_number=row.filing_number,
        state=FilingState(row.state),
        version=row.version,
        name=row.name,
        id_number_masked=mask_id_number(row.id_number),
        insured_region_code=row.insured_region_code,
        category=FilingCategory(row.category) if row.category else None,
        destination_code=record.destination_code,
        valid_from=record.valid_from,
        valid_until=record.valid_until,
        phone_masked=_mask_optional_phone(record.phone),
        mobile_masked=_mask_optional_phone(record.mobile),
        source=row.source,
        updated_at=as_utc(row.updated_at),
    )


def _not_found() -> YidiError:
    return hidden("备案", "filing")


class FilingService:
    """Use cases of the filing lifecycle; each call is one transaction."""

    def __init__(
        self,
        uow_factory: Callable[[], SqlUnitOfWork],
        clock: Clock,
        *,
        regions: DivisionRegistry | None = None,
        rules: Mapping[FilingCategory, FilingRule] | None = None,
        region_filing: Callable[[FilingRecord, dt.date], Mapping[str, object]] | None = None,
        calendar: WorkingDayCalendar | None = None,
    ) -> None:
        self._uow = uow_factory
        self._clock = clock
        # Working days for emergency deadlines: the composition root passes the one it
        # built from the settings; alone, the shipped holiday files on this clock.
        self._calendar = calendar or WorkingDayCalendar(today=clock.today)
        self._regions = regions or default_registry()
        self._rules = rules
        self._region_filing_source = region_filing or region_filing_rules

    def _region_filing(self, record: FilingRecord, on_date: dt.date) -> Mapping[str, object]:
        return self._region_filing_source(record, on_date)

    @property
    def regions(self) -> DivisionRegistry:
        return self._regions

    # --- scope and audit -----------------------------------------------------------------

    @staticmethod
    def in_scope(principal: Principal, insured_region: str, id_number: str) -> bool:
        if principal.role in (Role.AGENCY_HANDLER, Role.PROVINCE_OFFICER):
            return principal.covers_region(insured_region)
        if principal.role is Role.INSURED_PERSON:
            return bool(principal.id_number) and principal.id_number == id_number.upper()
        return False

    def _audit(
        self,
        uow: SqlUnitOfWork,
        principal: Principal,
        action: str,
        subject: str,
        reason: str = "",
        address: str = "",
    ) -> None:
        uow.audit.append(
            AuditEntry(
                at=self._clock.now(),
                actor=principal.user_id,
                role=principal.role.value,
                region_code=principal.region_code,
                action=action,
                subject=subject,
                reason=reason[:500],
                address=address[:64],
            )
        )

    def _load(
        self, uow: SqlUnitOfWork, principal: Principal, filing_ref: str, *, for_update: bool
    ) -> StoredFiling:
        """The filing by id or filing number, or NotFound if missing or out of scope."""
        reference = filing_ref.strip()
        stored: StoredFiling | None = None
        # Internal ids are uuid4 hex and may themselves begin with "ba": only a dash-separated
        # reference is a filing number (BA430400-2026-000123).
        if reference.upper().startswith("BA") and "-" in reference:
            try:
                number = str(parse_filing_number(reference))
            except InvalidInput:
                raise _not_found() from None
            stored = uow.filings.by_number(number, for_update=for_update)
        elif 0 < len(reference) <= 64:
            stored = uow.filings.get(reference, for_update=for_update)
        if stored is None:
            raise _not_found()
        record = stored.filing.record
        if not self.in_scope(
            principal, record.insured_region_code or "", record.social_security_number or ""
        ):
            raise _not_found()
        return stored

    # --- create and edit -----------------------------------------------------------------

    def create_draft(
        self,
        principal: Principal,
        record: FilingRecord,
        *,
        evidence: Iterable[Evidence] = (),
        idempotency: tuple[str, str] | None = None,
        address: str = "",
    ) -> FilingDetail:
        """A new draft by an agency handler (for their region) or the insured person (self).

        ``idempotency`` is (client key, request fingerprint): a retry with the
        same key returns the draft created the first time and creates nothing.
        """
        principal.require(Action.FILING_CREATE)
        record = self._normalized_new(record)
        assert record.social_security_number is not None and record.insured_region_code
        if (
            principal.role is Role.INSURED_PERSON
            and (principal.id_number or "") != record.social_security_number
        ):
            raise Forbidden(
                "FILING_NOT_OWN",
                "参保人员只能为本人办理备案",
                "insured persons may only file for themselves",
                field="social_security_number",
            )
        if principal.role is Role.AGENCY_HANDLER and not principal.covers_region(
            record.insured_region_code
        ):
            raise Forbidden(
                "FILING_REGION_OUT_OF_SCOPE",
                "只能为本统筹区参保人员办理备案",
                "agency handlers may only file for their own pooling region",
                field="insured_region_code",
            )
        now = self._clock.now()
        filing_id = uuid.uuid4().hex
        scope = f"filing.create:{principal.user_id}"
        with self._uow() as uow:
            if idempotency is not None:
                earlier = uow.idempotency.recall(scope, *idempotency)
                if earlier is not None:
                    return self._detail(uow, uow.filings.get(str(earlier["filing_id"])))
            self._refuse_duplicate(uow, record)
            filing = lifecycle.create_draft(
                filing_id, record, actor_of(principal), now, evidence=evidence
            )
            uow.filings.add(filing, now)
            if idempotency is not None:
                uow.idempotency.remember(scope, *idempotency, {"filing_id": filing_id}, now)
            self._audit(uow, principal, "filing.create", f"filing:{filing_id}", "", address)
            detail = self._detail(uow, uow.filings.get(filing_id))
            uow.commit()
        return detail

    def _normalized_new(self, record: FilingRecord) -> FilingRecord:
        """A draft needs at least who and where: insured region, name, a valid ID number."""
        errors: list[YidiError] = []
        errors += check_insured_region(record.insured_region_code, self._regions)
        errors += check_name(record.name)
        resident_id, id_errors = check_social_security_number(
            record.social_security_number, self._clock.today()
        )
        errors += id_errors
        if errors:
            raise ValidationFailed(errors)
        assert resident_id is not None and record.name is not None
        return dataclasses.replace(
            record,
            social_security_number=resident_id.number,
            name=record.name.strip(),
            version=1,
            filing_number=None,
            handling_agency=None,
            handler=None,
            handled_on=None,
        )

    def _refuse_duplicate(self, uow: SqlUnitOfWork, record: FilingRecord) -> None:
        for live in uow.filings.current_for_person(
            record.social_security_number or "", LIVE_STATES
        ):
            if (
                live.record.insured_region_code == record.insured_region_code
                and live.record.category == record.category
            ):
                raise duplicate_filing(live.lineage_id)

    def revise(
        self,
        principal: Principal,
        filing_ref: str,
        record: FilingRecord,
        *,
        address: str = "",
    ) -> FilingDetail:
        """Edit a draft or a rejected filing (the person and insured region stay)."""
        principal.require(Action.FILING_CREATE)
        with self._uow() as uow:
            stored = self._load(uow, principal, filing_ref, for_update=True)
            old = stored.filing.record
            record = self._normalized_new(record)
            if (
                record.social_security_number != old.social_security_number
                or record.insured_region_code != old.insured_region_code
            ):
                raise InvalidInput(
                    "FILING_REVISE_IDENTITY",
                    "修改备案不能更换参保人员或参保地，请新建备案",
                    "a revision cannot change the person or the insured region",
                    field="social_security_number",
                )
            filing = lifecycle.revise(
                stored.filing, actor_of(principal), self._clock.now(), record=record
            )
            return self._store(uow, principal, filing, "filing.revise", "", address)

    def add_evidence(
        self,
        principal: Principal,
        filing_ref: str,
        evidence: Evidence,
        *,
        content: bytes | None = None,
        filename: str = "",
        address: str = "",
    ) -> FilingDetail:
        """Record a supporting document (with its scan, type-checked by content) on an open filing."""
        principal.require(Action.FILING_CREATE)
        now = self._clock.now()
        with self._uow() as uow:
            stored = self._load(uow, principal, filing_ref, for_update=True)
            if content is not None:
                evidence = self._stored_scan(uow, evidence, content, filename)
            filing = lifecycle.revise(
                stored.filing,
                actor_of(principal),
                now,
                evidence=(*stored.filing.evidence, evidence),
                reason=f"证明材料：{evidence.kind.label_zh}",
            )
            return self._store(
                uow, principal, filing, "filing.evidence", evidence.kind.value, address
            )

    def _stored_scan(
        self, uow: SqlUnitOfWork, evidence: Evidence, content: bytes, filename: str
    ) -> Evidence:
        """Keep a scan (type-checked by content) and attach its reference to the evidence."""
        media_type = evidence_media_type(content)
        digest = hashlib.sha256(content).hexdigest()
        uow.filings.put_file(digest, media_type, content, self._clock.now())
        return dataclasses.replace(
            evidence, file=EvidenceFile(digest, (filename or "scan")[:200], media_type)
        )

    def evidence_file(
        self, principal: Principal, filing_ref: str, sha256: str, *, address: str = ""
    ) -> tuple[str, bytes]:
        """A scan of the filing's evidence, or of a change request made on the filing."""
        principal.require(Action.FILING_READ)
        with self._uow() as uow:
            stored = self._load(uow, principal, filing_ref, for_update=False)
            known = {e.file.sha256 for e in stored.filing.evidence if e.file}
            known |= {
                e.file.sha256
                for request in uow.change_requests.for_filing(stored.filing.lineage_id)
                for e in request.evidence
                if e.file
            }
            found = uow.filings.file(sha256) if sha256 in known else None
            if found is None:
                raise _not_found()
            self._audit(
                uow,
                principal,
                "filing.evidence_read",
                f"filing:{stored.filing.lineage_id}",
                sha256,
                address,
            )
            uow.commit()
        return found

    def _store(
        self,
        uow: SqlUnitOfWork,
        principal: Principal,
        filing: Filing,
        action: str,
        reason: str,
        address: str,
    ) -> FilingDetail:
        now = self._clock.now()
        uow.filings.save(filing, now)
        self._audit(uow, principal, action, f"filing:{filing.lineage_id}", reason or "", address)
        detail = self._detail(uow, uow.filings.get(filing.lineage_id))
        uow.commit()
        return detail

    # --- transitions ---------------------------------------------------------------------

    def submit(self, principal: Principal, filing_ref: str, *, address: str = "") -> FilingDetail:
        """Submit (or resubmit): complete and valid; emergency filings within 3 working days."""
        principal.require(Action.FILING_CREATE)
        with self._uow() as uow:
            stored = self._load(uow, principal, filing_ref, for_update=True)
            now = self._clock.now()
            filing = lifecycle.submit(
                stored.filing,
                actor_of(principal),
                now,
                self._regions,
                rules=self._rules,
                region_filing=self._region_filing(stored.filing.record, now.date()),
                calendar=self._calendar,
            )
            return self._store(uow, principal, filing, "filing.submit", "", address)

    def approve(
        self,
        principal: Principal,
        filing_ref: str,
        *,
        valid_from: dt.date | None = None,
        valid_until: dt.date | None = None,
        address: str = "",
    ) -> FilingDetail:
        """备案: evidence complete; a filing number is taken from the region's sequence."""
        principal.require(Action.FILING_REVIEW)
        now = self._clock.now()
        with self._uow() as uow:
            stored = self._load(uow, principal, filing_ref, for_update=True)
            region = stored.filing.record.insured_region_code or ""
            region_filing = self._region_filing(stored.filing.record, now.date())
            if stored.filing.state is FilingState.SUBMITTED:
                # Check everything but the number first, so a refused approval uses no number.
                lifecycle.approve(
                    stored.filing,
                    actor_of(principal),
                    now,
                    self._regions,
                    filing_number=format_filing_number(region, now.year, 1),
                    handling_agency="",
                    valid_from=valid_from,
                    valid_until=valid_until,
                    rules=self._rules,
                    region_filing=region_filing,
                )
            sequence = (
                uow.filings.allocate_number(region, now.year)
                if stored.filing.state is FilingState.SUBMITTED
                else 1
            )
            filing = lifecycle.approve(
                stored.filing,
                actor_of(principal),
                now,
                self._regions,
                filing_number=format_filing_number(region, now.year, sequence),
                handling_agency=self._agency_name(uow, region, principal),
                valid_from=valid_from,
                valid_until=valid_until,
                rules=self._rules,
                region_filing=region_filing,
            )
            return self._store(
                uow, principal, filing, "filing.approve", filing.record.filing_number or "", address
            )

    def _agency_name(self, uow: SqlUnitOfWork, region: str, principal: Principal) -> str:
        for code in (region, region[:4] + "00"):
            agencies = uow.reference.agencies(code)
            if agencies:
                return agencies[0].name
        return principal.display_name or principal.user_id

    def reject(
        self, principal: Principal, filing_ref: str, reason: str, *, address: str = ""
    ) -> FilingDetail:
        principal.require(Action.FILING_REVIEW)
        with self._uow() as uow:
            stored = self._load(uow, principal, filing_ref, for_update=True)
            filing = lifecycle.reject(stored.filing, actor_of(principal), self._clock.now(), reason)
            return self._store(uow, principal, filing, "filing.reject", reason, address)

    def cancel(
        self, principal: Principal, filing_ref: str, reason: str, *, address: str = ""
    ) -> FilingDetail:
        principal.require(Action.FILING_CANCEL)
        with self._uow() as uow:
            stored = self._load(uow, principal, filing_ref, for_update=True)
            now = self._clock.now()
            record = stored.filing.record
            filing = lifecycle.cancel(
                stored.filing,
                actor_of(principal),
                now,
                reason,
                region_filing=self._region_filing(record, record.handled_on or now.date()),
            )
            return self._store(uow, principal, filing, "filing.cancel", reason, address)

    def change(
        self,
        principal: Principal,
        filing_ref: str,
        record: FilingRecord,
        *,
        reason: str | None = None,
        evidence: Iterable[Evidence] | None = None,
        valid_from: dt.date | None = None,
        valid_until: dt.date | None = None,
        address: str = "",
    ) -> FilingDetail:
        """变更 at the agency counter: a new approved version; the old one is kept as superseded.

        The counter path stays beside the online change request (变更申请,
        :mod:`yidi.filing.change_requests`): a person at the counter is changed
        at once. A request still pending on the old version can then no longer be
        approved (``CHANGE_REQUEST_OUTDATED``); the agency rejects it.
        """
        principal.require(Action.FILING_CHANGE)
        if principal.role is not Role.AGENCY_HANDLER:
            raise Forbidden(
                "FILING_CHANGE_AT_AGENCY",
                "备案变更须由参保地经办机构办理",
                "changes are made by the insured-place agency",
            )
        now = self._clock.now()
        with self._uow() as uow:
            stored = self._load(uow, principal, filing_ref, for_update=True)
            if stored.filing.record.filing_number is None:
                raise Conflict(
                    "FILING_CHANGE_NO_NUMBER",
                    "该备案无备案编号（导入的历史备案），请补充信息后新增备案",
                    "this filing has no filing number (imported legacy record)",
                )
            old_region = stored.filing.record.insured_region_code
            if record.insured_region_code != old_region:
                raise InvalidInput(
                    "FILING_CHANGE_REGION",
                    "变更不能更换参保地，请在新参保地新增备案",
                    "a change cannot move the filing to another insured region",
                    field="insured_region_code",
                )
            superseded, new_version = lifecycle.change(
                stored.filing,
                actor_of(principal),
                now,
                self._regions,
                new_filing_id=uuid.uuid4().hex,
                record=record,
                evidence=evidence,
                handling_agency=self._agency_name(uow, old_region or "", principal),
                valid_from=valid_from,
                valid_until=valid_until,
                reason=reason,
                rules=self._rules,
                region_filing=self._region_filing(stored.filing.record, now.date()),
            )
            uow.filings.save(superseded, now)
            return self._store(uow, principal, new_version, "filing.change", reason or "", address)

    def expire_due(self, principal: Principal | None = None, *, address: str = "") -> list[str]:
        """Mark every approved filing past its validity EXPIRED; returns their ids."""
        operator = principal or system_principal()
        now = self._clock.now()
        expired: list[str] = []
        with self._uow() as uow:
            for lineage_id in uow.filings.due_to_expire(now.date()):
                stored = uow.filings.get(lineage_id, for_update=True)
                if stored is None or not lifecycle.is_due_to_expire(stored.filing, now.date()):
                    continue
                filing = lifecycle.expire(stored.filing, now, actor_of(operator))
                uow.filings.save(filing, now)
                self._audit(uow, operator, "filing.expire", f"filing:{lineage_id}", "", address)
                expired.append(lineage_id)
            uow.commit()
        return expired

    # --- 承诺制 (2022 model) ---------------------------------------------------------------

    def supply_documents(
        self,
        principal: Principal,
        filing_ref: str,
        evidence: Iterable[Evidence],
        *,
        address: str = "",
    ) -> FilingDetail:
        """补齐材料: the proof promised by a 个人承诺书 is handed in (online or at the window)."""
        principal.require(Action.FILING_CREATE)
        documents = tuple(evidence)
        if not documents:
            raise InvalidInput(
                "FILING_EVIDENCE_REQUIRED",
                "请至少提交一份证明材料",
                "hand in at least one document",
                field="evidence",
            )
        with self._uow() as uow:
            stored = self._load(uow, principal, filing_ref, for_update=True)
            filing = lifecycle.supply_documents(
                stored.filing,
                actor_of(principal),
                self._clock.now(),
                self._regions,
                documents,
                rules=self._rules,
            )
            kinds = ",".join(d.kind.value for d in documents)
            return self._store(uow, principal, filing, "filing.promise_supply", kinds, address)

    def record_false_promise(
        self, principal: Principal, filing_ref: str, reason: str, *, address: str = ""
    ) -> FilingDetail:
        """虚假承诺: cancel the filing and record the fund's recovery (penalties are outside)."""
        principal.require(Action.FILING_REVIEW)
        with self._uow() as uow:
            stored = self._load(uow, principal, filing_ref, for_update=True)
            filing = lifecycle.record_false_promise(
                stored.filing, actor_of(principal), self._clock.now(), reason
            )
            return self._store(uow, principal, filing, "filing.false_promise", reason, address)

    def promises_due(self, principal: Principal | None = None, *, address: str = "") -> list[str]:
        """Treat every filing whose promised documents are overdue as 其他临时外出就医.

        Idempotent: a filing already moved on is skipped. Returns the lineage ids moved.
        """
        operator = principal or system_principal()
        if principal is not None:
            principal.require(Action.FILING_REVIEW)
        now = self._clock.now()
        prefix = "" if principal is None else region_prefix(principal.region_code or "")
        moved: list[str] = []
        with self._uow() as uow:
            for lineage_id in uow.filings.promises_overdue(now.date(), prefix):
                stored = uow.filings.get(lineage_id, for_update=True)
                if stored is None or not lifecycle.is_promise_overdue(stored.filing, now.date()):
                    continue
                record = stored.filing.record
                if principal is not None and not principal.covers_region(
                    record.insured_region_code or ""
                ):
                    continue
                superseded, new_version = lifecycle.lapse_promise(
                    stored.filing,
                    now,
                    new_filing_id=uuid.uuid4().hex,
                    actor=actor_of(operator),
                    region_filing=self._region_filing(record, now.date()),
                )
                uow.filings.save(superseded, now)
                uow.filings.save(new_version, now)
                self._audit(
                    uow,
                    operator,
                    "filing.promise_lapse",
                    f"filing:{lineage_id}",
                    f"{record.promise_documents_due_on}",
                    address,
                )
                moved.append(lineage_id)
            uow.commit()
        return moved

    # --- reading -------------------------------------------------------------------------

    def get(self, principal: Principal, filing_ref: str, *, address: str = "") -> FilingDetail:
        """The full record (audited as ``filing.read``)."""
        principal.require(Action.FILING_READ)
        with self._uow() as uow:
            stored = self._load(uow, principal, filing_ref, for_update=False)
            self._audit(
                uow, principal, "filing.read", f"filing:{stored.filing.lineage_id}", "", address
            )
            detail = self._detail(uow, stored)
            uow.commit()
        return detail

    def _detail(self, uow: SqlUnitOfWork, stored: StoredFiling | None) -> FilingDetail:
        assert stored is not None
        filing = stored.filing
        versions = tuple(uow.filings.versions(filing.lineage_id))
        events: list[FilingEvent] = []
        for version in versions:
            events.extend(
                filing.events
                if version.version_id == filing.filing_id
                else uow.filings.version(version.version_id, filing.lineage_id).events
            )
        record = filing.record
        due: Deadline | None = None
        missing: tuple[str, ...] = ()
        if record.category is not None:
            rule = rule_for(record.category, self._rules)
            try:
                due = lifecycle.emergency_due(record, rule, self._calendar)
            except CalendarYearUnsupported:
                due = None
            open_states = (FilingState.DRAFT, FilingState.REJECTED, FilingState.SUBMITTED)
            # an approved filing on a promise still owes its documents
            if filing.state in open_states or (
                filing.state is FilingState.APPROVED and record.promise_outstanding
            ):
                missing = tuple(
                    r.label_zh
                    for r in lifecycle.missing_evidence(
                        record, filing.evidence, self._regions, rules=self._rules
                    )
                )
        return FilingDetail(
            filing_id=filing.lineage_id,
            version_id=filing.filing_id,
            state=filing.state,
            state_reason=filing.state_reason,
            record=record,
            evidence=filing.evidence,
            events=tuple(sorted(events, key=lambda e: e.at)),
            versions=versions,
            warnings=tuple(filing_warnings(record)),
            missing_evidence=missing,
            emergency_due=due,
            source=stored.source,
        )

    def _scoped_query(
        self, principal: Principal, query: FilingQuery, region: str | None
    ) -> FilingQuery | None:
        """The query narrowed to the caller's scope, or None when the asked region is not theirs."""
        if principal.role is Role.INSURED_PERSON:
            return dataclasses.replace(query, own_id_number=principal.id_number or "-")
        own = region_prefix(principal.region_code or "999999")
        if region:
            if not principal.covers_region(region):
                return None
            asked = region_prefix(region)
            return dataclasses.replace(query, region_prefix=asked if len(asked) > len(own) else own)
        return dataclasses.replace(query, region_prefix=own)

    def search(
        self,
        principal: Principal,
        *,
        id_number: str | None = None,
        name: str | None = None,
        filing_number: str | None = None,
        filing_number_prefix: str | None = None,
        name_prefix: str | None = None,
        id_number_tail: str | None = None,
        state: FilingState | None = None,
        category: FilingCategory | None = None,
        region: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> FilingPage:
        """List and search; results are masked. Insured persons see only their own filings.

        Partial terms (a number or name prefix, the last digits of an ID number) search
        only within the caller's own scope, like the full list does.
        """
        principal.require(Action.FILING_LIST)
        query = self._scoped_query(
            principal,
            FilingQuery(
                id_number=id_number,
                name=name,
                filing_number=filing_number,
                filing_number_prefix=filing_number_prefix,
                name_prefix=name_prefix,
                id_number_tail=id_number_tail,
                states=(state,) if state else (),
                category=category,
                limit=max(1, min(limit, MAX_PAGE_SIZE)),
                offset=max(0, offset),
            ),
            region,
        )
        if query is None:
            return FilingPage(0, [])
        with self._uow() as uow:
            total, rows = uow.filings.search(query)
        return FilingPage(total, [_summary(row, record) for row, record in rows])

    def _iter_scope(
        self, principal: Principal, query: FilingQuery, region: str | None
    ) -> Iterable[tuple[Any, FilingRecord]]:
        scoped = self._scoped_query(principal, query, region)
        if scoped is None:
            return []
        with self._uow() as uow:
            return list(uow.filings.iter_records(scoped))

    def emergency_due(
        self, principal: Principal, *, region: str | None = None
    ) -> list[EmergencyDue]:
        """Open emergency filings (not yet submitted) with their 3-working-day deadline, soonest first."""
        principal.require(Action.FILING_LIST)
        today = self._clock.today()
        calendar = self._calendar
        rule = rule_for(FilingCategory.EMERGENCY, self._rules)
        found: list[EmergencyDue] = []
        query = FilingQuery(
            states=(FilingState.DRAFT, FilingState.REJECTED), category=FilingCategory.EMERGENCY
        )
        for row, record in self._iter_scope(principal, query, region):
            if record.admitted_on is None:
                continue
            deadline: dt.date | None
            source: CalendarSource | None
            try:
                due = lifecycle.emergency_due(record, rule, calendar)
                deadline, source = (due.on, due.source) if due else (None, None)
                left = (
                    calendar.working_days_between(today, deadline)
                    if deadline and deadline >= today
                    else 0
                )
            except CalendarYearUnsupported:
                deadline, source, left = None, None, None
            found.append(
                EmergencyDue(
                    _summary(row, record),
                    record.admitted_on,
                    deadline,
                    left,
                    deadline is not None and deadline < today,
                    source,
                )
            )
        return sorted(found, key=lambda d: (d.deadline or dt.date.max, d.summary.filing_id))

    def incomplete(
        self, principal: Principal, *, region: str | None = None
    ) -> list[CompletenessRow]:
        """Filed (or imported) filings missing mandatory 附件1 fields: the re-collection list."""
        principal.require(Action.FILING_LIST)
        query = FilingQuery(states=(FilingState.APPROVED, FilingState.SUBMITTED))
        rows = (
            completeness_row(record) for _row, record in self._iter_scope(principal, query, region)
        )
        return [row for row in rows if row.missing_fields]

    def without_second_generation_card(
        self, principal: Principal, *, region: str | None = None
    ) -> list[CompletenessRow]:
        """Persons with live filings but no (known) second-generation social security card."""
        principal.require(Action.FILING_LIST)
        query = FilingQuery(states=LIVE_STATES)
        rows = (
            completeness_row(record) for _row, record in self._iter_scope(principal, query, region)
        )
        return [row for row in rows if row.needs_second_generation_card]

    def duplicates(
        self, principal: Principal, *, region: str | None = None
    ) -> list[DuplicateConflict]:
        """Persons with live filings in more than one prefecture (reported, never merged)."""
        principal.require(Action.FILING_LIST)
        scoped = self._scoped_query(principal, FilingQuery(), region)
        if scoped is None or principal.role is Role.INSURED_PERSON:
            return []
        with self._uow() as uow:
            numbers = uow.filings.duplicate_id_numbers(scoped.region_prefix or "", LIVE_STATES)
            found = uow.filings.live_regions_by_id_number(numbers, LIVE_STATES)
            states = {
                lineage: stored.filing.state
                for _n, _r, lineage in found
                if (stored := uow.filings.get(lineage)) is not None
            }
        grouped: dict[str, list[tuple[str, str, FilingState]]] = {}
        for number, insured_region, lineage in found:
            grouped.setdefault(number, []).append((lineage, insured_region, states[lineage]))
        return [
            DuplicateConflict(
                mask_id_number(number), tuple(sorted(grouped[number], key=lambda f: f[1]))
            )
            for number in numbers
        ]

    def find_valid_filing(
        self,
        id_number: str,
        treatment_region: str,
        hospital: DesignatedInstitution | None,
        on_date: dt.date,
        *,
        principal: Principal | None = None,
        address: str = "",
    ) -> Filing | None:
        """The filing that allows direct settlement at admission (入院备案校验), or None.

        A hospital cashier sees a filing only through this check, for the
        patient in front of them; each check is audited.
        """
        if principal is not None:
            principal.require(Action.ADMISSION_CHECK)
        with self._uow() as uow:
            candidates = uow.filings.current_for_person(id_number, (FilingState.APPROVED,))
            found = lifecycle.valid_filing_for(
                candidates, treatment_region, hospital, on_date, self._regions, rules=self._rules
            )
            if principal is not None:
                subject = (
                    f"filing:{found.lineage_id}" if found else f"person:{mask_id_number(id_number)}"
                )
                self._audit(
                    uow,
                    principal,
                    "filing.admission_check",
                    subject,
                    "有效" if found else "无有效备案",
                    address,
                )
                uow.commit()
        return found


def evidence_media_type(content: bytes) -> str:
    """PDF, JPEG or PNG, recognised by magic bytes; anything else (or too large) is refused."""
    if len(content) > MAX_EVIDENCE_BYTES:
        raise YidiError(
            "EVIDENCE_TOO_LARGE",
            f"证明材料文件不能超过{MAX_EVIDENCE_BYTES // (1024 * 1024)}MB",
            "evidence file too large",
            field="file",
            kind=ErrorKind.TOO_LARGE,
        )
    for signature, media_type in EVIDENCE_SIGNATURES:
        if content.startswith(signature):
            if media_type == "application/pdf":
                check_pdf_is_passive(content)
            return media_type
    raise InvalidInput(
        "EVIDENCE_FILE_TYPE",
        "证明材料只接受PDF、JPEG或PNG格式的扫描件",
        "evidence must be a PDF, JPEG or PNG file",
        field="file",
    )
