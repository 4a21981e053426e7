"""Filing reads (备案查询): lists, search, the full record, the re-collection lists.

Access (豫人社办函〔2017〕63号 §6(2): 备案信息涉及参保人员隐私……防止外泄和非授权访问):

* agency handlers see only filings whose insured region lies in their own
  (``principal.covers_region``); province officers read all of their province;
  insured persons only their own filings (their ID number); hospital cashiers
  never list filings, they only ask :meth:`FilingQueries.find_valid_filing`
  at admission.
* A filing outside the caller's scope is answered exactly like a missing one
  (``FILING_NOT_FOUND``), so ids and filing numbers cannot be probed.
* Lists and search results are always masked (ID ``430421********002X``,
  phones ``138****5678``); the full record is shown only on the detail view,
  and every detail read appends ``filing.read`` to the audit chain (so do
  evidence scans and admission checks).

The state changes are :mod:`yidi.filing.commands`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from yidi.filing.model import lifecycle
from yidi.filing.model.annex import CompletenessRow, completeness_row
from yidi.filing.model.evidence import Evidence
from yidi.filing.model.lifecycle import Filing, FilingEvent, FilingState
from yidi.filing.model.record import (
    DesignatedInstitution,
    FilingRecord,
    FilingWarning,
    filing_warnings,
    parse_filing_number,
)
from yidi.filing.model.rules import FilingRule, rule_for
from yidi.filing.ports import FilingQuery, FilingRow, FilingUnitOfWork, StoredFiling, VersionRow
from yidi.filing.region_rules import RegionRules, region_rules_memo
from yidi.filing.scope import (
    LIVE_STATES,
    FilingUseCases,
    mask_optional_phone,
)
from yidi.kernel.access import Action, Principal, Role, hidden
from yidi.kernel.clock import Clock, beijing
from yidi.kernel.errors import (
    InvalidInput,
    YidiError,
)
from yidi.kernel.insurance import FilingCategory
from yidi.kernel.privacy import mask_id_number
from yidi.kernel.regions import DivisionRegistry, region_prefix
from yidi.kernel.workdays import (
    CalendarSource,
    CalendarYearUnsupported,
    Deadline,
    WorkingDayCalendar,
)

MAX_PAGE_SIZE: Final = 200
_OFFICE_ROLES: Final = frozenset({Role.AGENCY_HANDLER, Role.PROVINCE_OFFICER})


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
    review_due: dt.date | None = None  # 审核期限: online submissions awaiting review only
    review_overdue: bool = False  # 已超期
    review_due_today: bool = False  # 今日到期
    submitted_at: dt.datetime | None = None  # 提交时间 of the latest submission
    assignee: str | None = None  # 审核人 (user name), None: not assigned
    assignee_name: str = ""
    # 急诊: the last day to hand in the materials (入院后三个工作日内), and whether it has passed.
    emergency_deadline: dt.date | None = None
    emergency_late: bool = False
    # 承诺制: the day the promised documents are due while they are still outstanding.
    promise_documents_due: dt.date | None = None


@dataclass(frozen=True, slots=True)
class FilingPage:
    total: int
    items: list[FilingSummary]


@dataclass(frozen=True, slots=True)
class CompletenessPage:
    """One page of 待补充的历史备案: ``offset`` is the first row's (the last page's when the
    asked one is past the end)."""

    total: int
    offset: int
    items: list[CompletenessRow]


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


def _summary(row: FilingRow, record: FilingRecord) -> FilingSummary:
    return FilingSummary(
        filing_id=row.id,
        filing_number=row.filing_number,
        state=row.state,
        version=row.version,
        name=row.name,
        id_number_masked=mask_id_number(row.id_number),
        insured_region_code=row.insured_region_code,
        category=row.category,
        destination_code=record.destination_code,
        valid_from=record.valid_from,
        valid_until=record.valid_until,
        phone_masked=mask_optional_phone(record.phone),
        mobile_masked=mask_optional_phone(record.mobile),
        source=row.source,
        updated_at=row.updated_at,
        submitted_at=row.submitted_at,
        assignee=row.assignee,
        assignee_name=row.assignee_name,
        promise_documents_due=(
            record.promise_documents_due_on if record.promise_outstanding else None
        ),
    )


def _not_found() -> YidiError:
    return hidden("备案", "filing")


class FilingQueries(FilingUseCases):
    """Reads of the filing register; each call is one transaction."""

    def __init__(
        self,
        uow_factory: Callable[[], FilingUnitOfWork],
        clock: Clock,
        *,
        regions: DivisionRegistry | None = None,
        rules: Mapping[FilingCategory, FilingRule] | None = None,
        calendar: WorkingDayCalendar | None = None,
    ) -> None:
        super().__init__(uow_factory, clock, regions=regions, calendar=calendar)
        self._rules = rules

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

    def _load(
        self, uow: FilingUnitOfWork, principal: Principal, filing_ref: str, *, for_update: bool
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

    # --- reading -------------------------------------------------------------------------

    def get(self, principal: Principal, filing_ref: str) -> FilingDetail:
        """The full record (audited as ``filing.read``)."""
        principal.require(Action.FILING_READ)
        with self._uow() as uow:
            stored = self._load(uow, principal, filing_ref, for_update=False)
            self._audit(uow, principal, "filing.read", f"filing:{stored.filing.lineage_id}", "")
            detail = self._detail(uow, stored)
            uow.commit()
        return detail

    def _detail(self, uow: FilingUnitOfWork, stored: StoredFiling | None) -> FilingDetail:
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
        assignee: str | None = None,
        sort: str = "",
        descending: bool = False,
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
                assignee=assignee,
                sort=sort,
                descending=descending,
                limit=max(1, min(limit, MAX_PAGE_SIZE)),
                offset=max(0, offset),
            ),
            region,
        )
        if query is None:
            return FilingPage(0, [])
        with self._uow() as uow:
            total, rows = uow.filings.search(query)
        today = self._clock.today()
        rules = region_rules_memo()
        return FilingPage(total, [self._listed(row, record, today, rules) for row, record in rows])

    def _listed(
        self, row: FilingRow, record: FilingRecord, today: dt.date, region_rules: RegionRules
    ) -> FilingSummary:
        """One list line with its deadlines, from what the list statement read (no query)."""
        summary = _summary(row, record)
        changes: dict[str, object] = {}
        if row.state is FilingState.SUBMITTED and row.submitted_online and row.submitted_at:
            try:
                region = region_rules(record, beijing(row.submitted_at).date())
                due = lifecycle.review_due_after(
                    row.submitted_at, self._calendar, region_filing=region
                )
            except CalendarYearUnsupported:
                due = None
            if due is not None:
                changes.update(
                    review_due=due.on,
                    review_overdue=due.on < today,
                    review_due_today=due.on == today,
                )
        if (
            record.category is FilingCategory.EMERGENCY
            and record.admitted_on is not None
            and row.state in (FilingState.DRAFT, FilingState.SUBMITTED, FilingState.REJECTED)
        ):
            try:
                emergency = lifecycle.emergency_due(
                    record, rule_for(FilingCategory.EMERGENCY, self._rules), self._calendar
                )
            except CalendarYearUnsupported:
                emergency = None
            if emergency is not None:
                changes.update(emergency_deadline=emergency.on, emergency_late=emergency.on < today)
        return dataclasses.replace(summary, **changes) if changes else summary  # type: ignore[arg-type]

    def export_rows(
        self,
        principal: Principal,
        query: FilingQuery,
        *,
        full: bool = False,
    ) -> list[tuple[FilingSummary, FilingRecord | None]]:
        """Every line of the filtered list (``query`` without paging) in its order, for a
        CSV/XLSX download: masked, with the full record only for a role that may read full
        records and asks for it. Audited either way."""
        principal.require(Action.FILING_LIST)
        full = full and principal.role in _OFFICE_ROLES
        scoped = self._scoped_query(principal, query, None)
        if scoped is None:
            return []
        today = self._clock.today()
        with self._uow() as uow:
            rows = list(uow.filings.iter_ordered(scoped))
            self._audit(
                uow,
                principal,
                "filing.list_export",
                f"region:{principal.region_code or ''}",
                f"{len(rows)}行 {'明文' if full else '脱敏'}",
            )
            uow.commit()
        rules = region_rules_memo()
        return [
            (self._listed(row, record, today, rules), record if full else None)
            for row, record in rows
        ]

    def assignee_of(self, principal: Principal, lineage_id: str) -> tuple[str, str] | None:
        """The reviewer a filing is assigned to (user name, display name), or None."""
        principal.require(Action.FILING_LIST)
        with self._uow() as uow:
            return uow.filings.assignee_of(lineage_id)

    def existing_approved(self, principal: Principal, detail: FilingDetail) -> list[FilingSummary]:
        """The person's other approved filings still valid today (a duplicate-filing warning
        on the review page), within the caller's scope."""
        number = detail.record.social_security_number
        if not number or principal.role not in _OFFICE_ROLES:
            return []
        today = self._clock.today()
        found = []
        with self._uow() as uow:
            _total, rows = uow.filings.search(
                FilingQuery(id_number=number, states=(FilingState.APPROVED,), limit=20)
            )
        for row, record in rows:
            if row.id == detail.filing_id:
                continue
            if not self.in_scope(principal, row.insured_region_code, row.id_number):
                continue
            if record.valid_until is not None and record.valid_until < today:
                continue
            found.append(_summary(row, record))
        return found

    def _iter_scope(
        self, principal: Principal, query: FilingQuery, region: str | None
    ) -> Iterable[tuple[FilingRow, FilingRecord]]:
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
        rows = self._completeness_rows(
            principal, (FilingState.APPROVED, FilingState.SUBMITTED), region
        )
        return [row for row in rows if row.missing_fields]

    def incomplete_page(
        self, principal: Principal, *, limit: int, offset: int, region: str | None = None
    ) -> CompletenessPage:
        """One page of :meth:`incomplete` in filing-number order, paged by the database on
        the stored count of missing fields: a count and the page, whatever the list's length."""
        principal.require(Action.FILING_LIST)
        limit = max(1, min(limit, MAX_PAGE_SIZE))
        query = self._scoped_query(
            principal,
            FilingQuery(
                states=(FilingState.APPROVED, FilingState.SUBMITTED),
                incomplete=True,
                sort="number",
                limit=limit,
                offset=max(0, offset),
            ),
            region,
        )
        if query is None:
            return CompletenessPage(0, 0, [])
        with self._uow() as uow:
            total, rows = uow.filings.search(query)
            if not rows and total:  # past the end: the last page
                query = dataclasses.replace(query, offset=(total - 1) // limit * limit)
                total, rows = uow.filings.search(query)
        return CompletenessPage(
            total, query.offset if rows else 0, [completeness_row(record) for _r, record in rows]
        )

    def without_second_generation_card(
        self, principal: Principal, *, region: str | None = None
    ) -> list[CompletenessRow]:
        """Persons with live filings but no (known) second-generation social security card."""
        rows = self._completeness_rows(principal, LIVE_STATES, region)
        return [row for row in rows if row.needs_second_generation_card]

    def _completeness_rows(
        self, principal: Principal, states: tuple[FilingState, ...], region: str | None
    ) -> list[CompletenessRow]:
        """The 附件1 completeness of every filing in ``states`` within the principal's scope."""
        principal.require(Action.FILING_LIST)
        query = FilingQuery(states=states)
        return [
            completeness_row(record) for _row, record in self._iter_scope(principal, query, region)
        ]

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
                )
                uow.commit()
        return found

    def evidence_file(
        self, principal: Principal, filing_ref: str, sha256: str
    ) -> tuple[str, bytes]:
        """A scan of the filing's evidence, or of a change request made on the filing."""
        media_type, content, _name = self.evidence_scan(principal, filing_ref, sha256)
        return media_type, content

    def evidence_scan(
        self, principal: Principal, filing_ref: str, sha256: str
    ) -> tuple[str, bytes, str]:
        """:meth:`evidence_file` with the name the scan was uploaded under."""
        principal.require(Action.FILING_READ)
        with self._uow() as uow:
            stored = self._load(uow, principal, filing_ref, for_update=False)
            names = {e.file.sha256: e.file.filename for e in stored.filing.evidence if e.file}
            for request in uow.change_requests.for_filing(stored.filing.lineage_id):
                for e in request.evidence:
                    if e.file:
                        names.setdefault(e.file.sha256, e.file.filename)
            known = set(names)
            found = uow.filings.file(sha256) if sha256 in known else None
            if found is None:
                raise _not_found()
            self._audit(
                uow,
                principal,
                "filing.evidence_read",
                f"filing:{stored.filing.lineage_id}",
                sha256,
            )
            uow.commit()
        return found[0], found[1], names[sha256]
