"""Three handlers create the same person's filing in the same category at the same moment:
one live filing, the others answered ``FILING_DUPLICATE``, never three live filings.

The one-live-filing check reads before it writes; without a lock two transactions both read
"none yet". The schema's partial unique index (live counter filings per person, insured
region and category) makes the rule hold. Real concurrent transactions on PostgreSQL (own
schema), serialised writers on SQLite (own file), both committed for real.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from concurrency_support import at_once
from filing_support import HENGYANG, PERSON_ID, record
from hospital_support import load_reference
from yidi.bootstrap import Container
from yidi.filing.commands import FilingService
from yidi.kernel.errors import Conflict
from yidi.kernel.insurance import FilingCategory
from yidi.platform.tables import filings


def _live_filings(container: Container) -> int:
    with container.uow() as uow:
        return int(
            uow.session.execute(
                select(func.count()).where(
                    filings.c.id_number == PERSON_ID,
                    filings.c.state.in_(("draft", "submitted", "rejected", "approved")),
                )
            ).scalar_one()
        )


def test_three_concurrent_creations_of_one_filing_leave_one_live(committed: Container) -> None:
    load_reference(committed)
    service = FilingService(committed.uow, committed.clock)
    results, errors = at_once([lambda: service.create_draft(HENGYANG, record())] * 3)
    assert len(results) == 1
    assert len(errors) == 2
    assert all(isinstance(e, Conflict) and e.code == "FILING_DUPLICATE" for e in errors), errors
    assert all(e.details.get("filing_id") for e in errors)
    assert _live_filings(committed) == 1


def test_a_draft_cannot_be_revised_into_a_category_already_live(committed: Container) -> None:
    load_reference(committed)
    service = FilingService(committed.uow, committed.clock)
    first = service.create_draft(HENGYANG, record())
    second = service.create_draft(HENGYANG, record(category=FilingCategory.LONG_TERM_RESIDENT))
    with pytest.raises(Conflict) as duplicate:
        service.revise(HENGYANG, second.filing_id, record())
    assert duplicate.value.code == "FILING_DUPLICATE"
    assert duplicate.value.details["filing_id"] == first.filing_id
    assert _live_filings(committed) == 2
