"""The region's filing parameters (cross_region.filing.*) reach the filing service: the lock
period of long-term filings, the promise deadline; the audit log records each promise step."""

from __future__ import annotations

import datetime as dt

import pytest

from filing_support import HENGYANG, PERSON, household_registration, load_agencies, record
from yidi.bootstrap import Container
from yidi.filing.commands import FilingService, region_filing_rules
from yidi.filing.model.lifecycle import FilingState
from yidi.filing.model.record import FilingRecord
from yidi.kernel.clock import FixedClock
from yidi.kernel.errors import Refused
from yidi.kernel.insurance import FilingCategory

ANSHAN_LIKE = {"long_term_cancel_lock_months": 6, "promise_documents_due_days": 30}


def _region(record: FilingRecord, on_date: dt.date) -> dict[str, object]:
    return dict(ANSHAN_LIKE)


@pytest.fixture
def service(container: Container) -> FilingService:
    load_agencies(container.uow)
    return FilingService(container.uow, container.clock, region_filing=_region)


def test_region_lock_refuses_an_early_cancel_and_changes_nothing(
    service: FilingService, clock: FixedClock
) -> None:
    draft = service.create_draft(HENGYANG, record(), evidence=[household_registration()])
    service.submit(HENGYANG, draft.filing_id)
    approved = service.approve(HENGYANG, draft.filing_id)
    clock.advance(dt.timedelta(days=30))
    with pytest.raises(Refused) as caught:
        service.cancel(PERSON, approved.filing_id, "回原籍居住")
    assert caught.value.code == "FILING_LOCKED"
    assert "6个月内不能撤销" in caught.value.message
    assert service.get(HENGYANG, approved.filing_id).state is FilingState.APPROVED
    clock.advance(dt.timedelta(days=160))
    assert service.cancel(PERSON, approved.filing_id, "回原籍居住").state is FilingState.CANCELLED


def test_region_promise_deadline_and_lapse_are_audited(
    service: FilingService, container: Container, clock: FixedClock
) -> None:
    draft = service.create_draft(PERSON, record(promise_signed=True))
    service.submit(PERSON, draft.filing_id)
    approved = service.approve(HENGYANG, draft.filing_id)
    assert approved.record.promise_documents_due_on == clock.today() + dt.timedelta(days=30)
    clock.advance(dt.timedelta(days=31))
    assert service.promises_due() == [draft.filing_id]
    assert service.promises_due() == []
    lapsed = service.get(HENGYANG, draft.filing_id)
    assert lapsed.record.category is FilingCategory.OTHER_TEMPORARY
    with container.uow() as uow:
        actions = [c.entry.action for c in uow.audit.walk()]
    assert actions.count("filing.promise_lapse") == 1


def test_shipped_regions_without_filing_parameters_use_the_national_defaults() -> None:
    assert region_filing_rules(record(), dt.date(2026, 11, 20)) == {}
    assert region_filing_rules(record(insured_region_code="999999"), dt.date(2026, 1, 1)) == {}
