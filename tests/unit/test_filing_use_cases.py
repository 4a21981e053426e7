"""The filing use cases on the in-memory unit of work: no database, real outcomes.

Each test runs the services exactly as the entrypoints do (``FilingService``,
``ChangeRequestService``, ``FilingImports``, ``ImportJobs``), against
:mod:`fakes_filing`, and checks the states, numbers and audit entries they leave.
"""

from __future__ import annotations

import datetime as dt

import pytest
from fakes_filing import FakeDatabase

from filing_support import (
    HENGYANG,
    PERSON,
    PERSON_ID,
    ZHENGZHOU,
    annex2_csv,
    household_registration,
    record,
)
from yidi.demo.world import load_world
from yidi.filing.change_requests import ChangeRequestService
from yidi.filing.commands import FilingService
from yidi.filing.imports import FilingImports
from yidi.filing.jobs import DONE, ImportJobs
from yidi.filing.model.change_requests import ChangeRequestState
from yidi.filing.model.lifecycle import FilingState
from yidi.filing.ports import FilingQuery
from yidi.kernel.access import Principal, Role
from yidi.kernel.audit import reset_client_address, set_client_address
from yidi.kernel.clock import CHINA_TZ, FixedClock
from yidi.kernel.errors import Conflict, NotFound, Refused
from yidi.kernel.identity import Gender, make_resident_id

NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=CHINA_TZ)
HUNAN_IMPORTER = Principal("hunan", Role.PROVINCE_OFFICER, "430000")


@pytest.fixture
def database() -> FakeDatabase:
    return FakeDatabase(agencies=load_world().agencies)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def service(database: FakeDatabase, clock: FixedClock) -> FilingService:
    return FilingService(database.uow, clock)


def _audit(database: FakeDatabase) -> list[tuple[str, str, str]]:
    return [(e.action, e.actor, e.subject) for e in database.state.audit]


def _approved(service: FilingService) -> str:
    draft = service.create_draft(HENGYANG, record(), evidence=[household_registration()])
    service.submit(HENGYANG, draft.filing_id)
    return service.approve(HENGYANG, draft.filing_id).filing_id


def test_create_submit_approve_numbers_the_filing_and_audits_each_step(
    service: FilingService, database: FakeDatabase
) -> None:
    draft = service.create_draft(HENGYANG, record(), evidence=[household_registration()])
    assert draft.state is FilingState.DRAFT and draft.record.filing_number is None
    submitted = service.submit(HENGYANG, draft.filing_id)
    assert submitted.state is FilingState.SUBMITTED
    approved = service.approve(HENGYANG, draft.filing_id)

    assert approved.state is FilingState.APPROVED
    assert approved.record.filing_number == "BA430421-2026-000001"
    assert approved.record.handled_on == dt.date(2026, 11, 20)
    assert (
        approved.record.handling_agency == "衡阳县职工医保"
    )  # the agency of 430421 in the demo world
    assert [e.action.value for e in approved.events] == ["create", "submit", "approve"]
    subject = f"filing:{draft.filing_id}"
    assert _audit(database) == [
        ("filing.create", "hengyang", subject),
        ("filing.submit", "hengyang", subject),
        ("filing.approve", "hengyang", subject),
    ]
    assert database.state.audit[-1].reason == "BA430421-2026-000001"
    assert database.state.numbers == {("430421", 2026): 1}


def test_a_refused_approval_writes_nothing_and_takes_no_number(
    service: FilingService, database: FakeDatabase
) -> None:
    draft = service.create_draft(HENGYANG, record())  # no 户口 evidence for a resettled retiree
    service.submit(HENGYANG, draft.filing_id)
    entries = len(database.state.audit)
    with pytest.raises(Refused) as caught:
        service.approve(HENGYANG, draft.filing_id)
    assert caught.value.code == "FILING_EVIDENCE_MISSING"
    assert database.state.numbers == {}
    assert len(database.state.audit) == entries
    assert service.get(HENGYANG, draft.filing_id).state is FilingState.SUBMITTED


def test_a_second_live_filing_of_the_person_is_refused(service: FilingService) -> None:
    first = service.create_draft(HENGYANG, record())
    with pytest.raises(Conflict) as caught:
        service.create_draft(HENGYANG, record())
    assert caught.value.code == "FILING_DUPLICATE"
    assert caught.value.details == {"filing_id": first.filing_id}


def test_a_retried_creation_with_the_same_key_returns_the_first_draft(
    service: FilingService, database: FakeDatabase
) -> None:
    first = service.create_draft(HENGYANG, record(), idempotency=("key-1", "fingerprint"))
    again = service.create_draft(HENGYANG, record(), idempotency=("key-1", "fingerprint"))
    assert again.filing_id == first.filing_id
    assert len(database.state.lineages) == 1
    assert [a for a, _, _ in _audit(database)] == ["filing.create"]


def test_a_change_at_the_counter_makes_version_2_and_keeps_version_1_superseded(
    service: FilingService, database: FakeDatabase
) -> None:
    filing_id = _approved(service)
    changed = service.change(
        HENGYANG, filing_id, record(mobile="13900001111"), reason="联系方式变更"
    )
    assert changed.filing_id == filing_id
    assert changed.state is FilingState.APPROVED
    assert changed.record.version == 2 and changed.record.mobile == "13900001111"
    assert changed.record.filing_number == "BA430421-2026-000001"
    assert [(v.version, v.state) for v in changed.versions] == [
        (1, FilingState.SUPERSEDED),
        (2, FilingState.APPROVED),
    ]
    assert _audit(database)[-1] == ("filing.change", "hengyang", f"filing:{filing_id}")
    assert database.state.audit[-1].reason == "联系方式变更"


def test_cancel_records_the_reason_and_out_of_scope_callers_see_nothing(
    service: FilingService, database: FakeDatabase
) -> None:
    filing_id = _approved(service)
    with pytest.raises(NotFound):
        service.cancel(ZHENGZHOU, filing_id, "不是本地区的")
    cancelled = service.cancel(HENGYANG, filing_id, "已回参保地居住")
    assert cancelled.state is FilingState.CANCELLED
    assert cancelled.state_reason == "已回参保地居住"
    assert ("filing.cancel", "hengyang", f"filing:{filing_id}") in _audit(database)
    assert not any(actor == "zhengzhou" for _, actor, _ in _audit(database))


def test_expiry_moves_filings_past_their_validity_once(
    service: FilingService, database: FakeDatabase, clock: FixedClock
) -> None:
    filing_id = _approved(service)
    service.change(HENGYANG, filing_id, record(), valid_until=dt.date(2026, 11, 30), reason="定期")
    assert service.expire_due() == []
    clock.set(dt.datetime(2026, 12, 1, 8, tzinfo=CHINA_TZ))
    assert service.expire_due() == [filing_id]
    assert service.expire_due() == []  # idempotent
    assert service.get(HENGYANG, filing_id).state is FilingState.EXPIRED
    expiries = [e for e in database.state.audit if e.action == "filing.expire"]
    assert [(e.actor, e.subject) for e in expiries] == [("system", f"filing:{filing_id}")]


def test_every_full_read_is_audited_with_the_request_address(
    service: FilingService, database: FakeDatabase
) -> None:
    filing_id = _approved(service)
    token = set_client_address("10.0.0.7")
    try:
        detail = service.get(HENGYANG, filing_id)
    finally:
        reset_client_address(token)
    assert detail.record.social_security_number == PERSON_ID
    last = database.state.audit[-1]
    assert (last.action, last.subject, last.address) == (
        "filing.read",
        f"filing:{filing_id}",
        "10.0.0.7",
    )
    # A list is masked and not a full read: nothing is appended.
    page = service.search(HENGYANG)
    assert page.total == 1 and PERSON_ID not in page.items[0].id_number_masked
    assert database.state.audit[-1] is last


def test_a_change_request_approved_by_the_agency_changes_the_filing_once(
    database: FakeDatabase, clock: FixedClock
) -> None:
    service = ChangeRequestService(database.uow, clock)
    filing_id = _approved(service)
    asked = service.request_change(PERSON, filing_id, record(mobile="13907349999"), "换了手机")
    request_id = asked.request.request_id
    assert service.get(PERSON, filing_id).record.mobile == "13807341234"

    decided = service.approve_request(HENGYANG, request_id)
    again = service.approve_request(HENGYANG, request_id)

    assert decided.request.state is ChangeRequestState.APPROVED
    assert again.request == decided.request
    after = service.get(HENGYANG, filing_id)
    assert after.record.version == 2 and after.record.mobile == "13907349999"
    assert after.version_id == decided.request.result_version_id
    actions = [a for a, _, _ in _audit(database)]
    assert actions.count("filing.change") == 1
    assert actions.count("filing.change_request.approve") == 1


def _person(serial: int) -> str:
    return make_resident_id("430421", dt.date(1950, 1, 1), 2 * serial + 1, Gender.MALE).number


def test_an_import_stores_good_rows_reports_bad_ones_and_replays_the_same_file(
    database: FakeDatabase, clock: FixedClock
) -> None:
    imports = FilingImports(database.uow, clock)
    good = [("430421", name, _person(n)) for n, name in enumerate(("甲某", "乙某", "丙某"))]
    data = annex2_csv(
        [*good, ("430421", "丁某", _person(9)[:-1] + ("0" if _person(9)[-1] != "0" else "1"))]
    )

    report = imports.import_annex2(HUNAN_IMPORTER, data, "hengyang.csv")

    assert (report.total_rows, report.imported, report.duplicates, report.rejected) == (4, 3, 0, 1)
    assert report.errors[0]["row"] == 5 and report.errors[0]["column"] == "身份证号"
    with database.uow() as uow:
        total, rows = uow.filings.search(FilingQuery(region_prefix="4304"))
    assert total == 3
    assert {(row.state, row.source, row.filed_on) for row, _ in rows} == {
        (FilingState.APPROVED, "import", dt.date(2026, 11, 20))
    }
    batch = database.state.batches[0][0]
    assert (batch.region_code, batch.imported_rows, batch.rejected_rows) == ("430000", 3, 1)

    replay = imports.import_annex2(HUNAN_IMPORTER, data, "again.csv")
    assert replay.replayed and replay.imported == 3
    assert len(database.state.lineages) == 3
    assert [a for a, _, _ in _audit(database)] == ["filing.import", "filing.import_replay"]


def test_the_same_rows_in_another_file_count_as_duplicates(
    database: FakeDatabase, clock: FixedClock
) -> None:
    imports = FilingImports(database.uow, clock)
    rows = [("430421", "甲某", _person(1)), ("430421", "乙某", _person(2))]
    imports.import_annex2(HUNAN_IMPORTER, annex2_csv(rows), "a.csv")
    second = imports.import_annex2(HUNAN_IMPORTER, annex2_csv([*rows, rows[0]]), "b.csv")
    assert (second.imported, second.duplicates, second.replayed) == (0, 3, False)
    assert len(database.state.lineages) == 2


def test_an_import_job_runs_with_the_submitters_address_in_the_audit(
    database: FakeDatabase, clock: FixedClock
) -> None:
    jobs = ImportJobs(database.uow, clock)
    token = set_client_address("10.0.0.9")
    try:
        queued = jobs.submit(HENGYANG, annex2_csv([("430421", "甲某", _person(1))]), "job.csv")
    finally:
        reset_client_address(token)
    assert jobs.run_pending() == 1
    done = jobs.get(HENGYANG, queued.id)
    assert done.state == DONE and done.result is not None and done.result["imported"] == 1
    assert database.state.jobs[queued.id].payload is None  # the upload is not kept
    (entry,) = database.state.audit
    assert (entry.action, entry.actor, entry.address) == ("filing.import", "hengyang", "10.0.0.9")
