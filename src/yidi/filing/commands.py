"""Filing commands (备案经办): the state changes of the lifecycle at the agency.

Each use case checks the caller's role and scope like every read
(:mod:`yidi.filing.queries`: a filing outside the scope answers like a missing
one), changes the filing through :mod:`yidi.filing.model.lifecycle`, and
appends an audit entry (who, role, region, when, why; the request's address
comes with :func:`yidi.kernel.audit.audit_entry`). The reads are inherited
from :class:`~yidi.filing.queries.FilingQueries`, so one service answers both.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Final

from yidi.filing.model import lifecycle
from yidi.filing.model.evidence import Evidence, EvidenceFile, check_pdf_is_passive
from yidi.filing.model.lifecycle import Filing, FilingState
from yidi.filing.model.record import (
    FilingRecord,
    check_insured_region,
    check_name,
    check_social_security_number,
    format_filing_number,
)
from yidi.filing.model.rules import FilingRule
from yidi.filing.ports import FilingUnitOfWork, duplicate_filing
from yidi.filing.queries import FilingDetail, FilingQueries
from yidi.filing.region_rules import region_filing_rules
from yidi.filing.scope import (
    LIVE_STATES,
    actor_of,
    system_principal,
)
from yidi.kernel.access import Action, Principal, Role
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
from yidi.kernel.regions import DivisionRegistry, region_prefix
from yidi.kernel.workdays import WorkingDayCalendar

MAX_EVIDENCE_BYTES: Final = 5 * 1024 * 1024
# Evidence scans are accepted by content, not by the name the browser gives them.
EVIDENCE_SIGNATURES: Final = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)


class FilingService(FilingQueries):
    """Use cases of the filing lifecycle; each call is one transaction."""

    def __init__(
        self,
        uow_factory: Callable[[], FilingUnitOfWork],
        clock: Clock,
        *,
        regions: DivisionRegistry | None = None,
        rules: Mapping[FilingCategory, FilingRule] | None = None,
        region_filing: Callable[[FilingRecord, dt.date], Mapping[str, object]] | None = None,
        calendar: WorkingDayCalendar | None = None,
    ) -> None:
        super().__init__(uow_factory, clock, regions=regions, rules=rules, calendar=calendar)
        self._region_filing_source = region_filing or region_filing_rules

    def _region_filing(self, record: FilingRecord, on_date: dt.date) -> Mapping[str, object]:
        return self._region_filing_source(record, on_date)

    # --- create and edit -----------------------------------------------------------------

    def create_draft(
        self,
        principal: Principal,
        record: FilingRecord,
        *,
        evidence: Iterable[Evidence] = (),
        idempotency: tuple[str, str] | None = None,
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
            self._audit(uow, principal, "filing.create", f"filing:{filing_id}", "")
            detail = self._detail(uow, uow.filings.get(filing_id))
            uow.commit()
        return detail

    def check_submittable(self, record: FilingRecord) -> None:
        """Raise what :meth:`submit` would refuse in the record itself today (fields, type,
        personal promise, 补办 care) without storing anything: a form checks before it files."""
        today = self._clock.today()
        lifecycle.check_submitted_record(
            record,
            self._regions,
            today,
            rules=self._rules,
            region_filing=self._region_filing(record, today),
        )

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

    def _refuse_duplicate(self, uow: FilingUnitOfWork, record: FilingRecord) -> None:
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
            return self._store(uow, principal, filing, "filing.revise", "")

    def add_evidence(
        self,
        principal: Principal,
        filing_ref: str,
        evidence: Evidence,
        *,
        content: bytes | None = None,
        filename: str = "",
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
            return self._store(uow, principal, filing, "filing.evidence", evidence.kind.value)

    def _stored_scan(
        self, uow: FilingUnitOfWork, evidence: Evidence, content: bytes, filename: str
    ) -> Evidence:
        """Keep a scan (type-checked by content) and attach its reference to the evidence."""
        media_type = evidence_media_type(content)
        digest = hashlib.sha256(content).hexdigest()
        uow.filings.put_file(digest, media_type, content, self._clock.now())
        return dataclasses.replace(
            evidence, file=EvidenceFile(digest, (filename or "scan")[:200], media_type)
        )

    def _store(
        self,
        uow: FilingUnitOfWork,
        principal: Principal,
        filing: Filing,
        action: str,
        reason: str,
    ) -> FilingDetail:
        now = self._clock.now()
        uow.filings.save(filing, now)
        self._audit(uow, principal, action, f"filing:{filing.lineage_id}", reason or "")
        detail = self._detail(uow, uow.filings.get(filing.lineage_id))
        uow.commit()
        return detail

    # --- transitions ---------------------------------------------------------------------

    def submit(self, principal: Principal, filing_ref: str) -> FilingDetail:
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
            return self._store(uow, principal, filing, "filing.submit", "")

    def approve(
        self,
        principal: Principal,
        filing_ref: str,
        *,
        valid_from: dt.date | None = None,
        valid_until: dt.date | None = None,
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
                uow, principal, filing, "filing.approve", filing.record.filing_number or ""
            )

    def _agency_name(self, uow: FilingUnitOfWork, region: str, principal: Principal) -> str:
        for code in (region, region[:4] + "00"):
            agencies = uow.reference.agencies(code)
            if agencies:
                return agencies[0].name
        return principal.display_name or principal.user_id

    def reject(self, principal: Principal, filing_ref: str, reason: str) -> FilingDetail:
        principal.require(Action.FILING_REVIEW)
        with self._uow() as uow:
            stored = self._load(uow, principal, filing_ref, for_update=True)
            filing = lifecycle.reject(stored.filing, actor_of(principal), self._clock.now(), reason)
            return self._store(uow, principal, filing, "filing.reject", reason)

    def cancel(self, principal: Principal, filing_ref: str, reason: str) -> FilingDetail:
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
            return self._store(uow, principal, filing, "filing.cancel", reason)

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
            return self._store(uow, principal, new_version, "filing.change", reason or "")

    def expire_due(self, principal: Principal | None = None) -> list[str]:
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
                self._audit(uow, operator, "filing.expire", f"filing:{lineage_id}", "")
                expired.append(lineage_id)
            uow.commit()
        return expired

    # --- 承诺制 (2022 model) ---------------------------------------------------------------

    def supply_documents(
        self,
        principal: Principal,
        filing_ref: str,
        evidence: Iterable[Evidence],
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
            return self._store(uow, principal, filing, "filing.promise_supply", kinds)

    def record_false_promise(
        self, principal: Principal, filing_ref: str, reason: str
    ) -> FilingDetail:
        """虚假承诺: cancel the filing and record the fund's recovery (penalties are outside)."""
        principal.require(Action.FILING_REVIEW)
        with self._uow() as uow:
            stored = self._load(uow, principal, filing_ref, for_update=True)
            filing = lifecycle.record_false_promise(
                stored.filing, actor_of(principal), self._clock.now(), reason
            )
            return self._store(uow, principal, filing, "filing.false_promise", reason)

    def promises_due(self, principal: Principal | None = None) -> list[str]:
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
                )
                moved.append(lineage_id)
            uow.commit()
        return moved


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
