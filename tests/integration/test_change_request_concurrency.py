"""Two handlers approve the same change request at the same moment, and a person sends the same
request twice at once: one new filing version and one pending request, never two.

Real concurrent transactions (PostgreSQL: row locks in its own schema; SQLite: serialised
writers in its own file), committed for real.
"""

from __future__ import annotations

from concurrency_support import at_once
from filing_support import HENGYANG, PERSON, record
from hospital_support import build_world
from yidi.bootstrap import Container
from yidi.filing.change_requests import ChangeRequestService
from yidi.filing.model.change_requests import ChangeRequestState
from yidi.kernel.errors import Conflict


def test_approving_one_request_twice_at_once_makes_one_new_version(
    committed: Container,
) -> None:
    filing_id = build_world(committed).xie_filing
    service = ChangeRequestService(committed.uow, committed.clock)
    asked = service.request_change(PERSON, filing_id, record(mobile="13907349999"), "换号")
    request_id = asked.request.request_id
    results, errors = at_once([lambda: service.approve_request(HENGYANG, request_id)] * 2)
    assert errors == []
    versions = {r.request.result_version_id for r in results}  # type: ignore[attr-defined]
    assert len(versions) == 1
    filing = service.get(HENGYANG, filing_id)
    assert [v.version for v in filing.versions] == [1, 2]
    assert filing.version_id in versions


def test_the_same_request_sent_twice_at_once_is_stored_once(committed: Container) -> None:
    filing_id = build_world(committed).xie_filing
    service = ChangeRequestService(committed.uow, committed.clock)
    ask = lambda: service.request_change(  # noqa: E731
        PERSON, filing_id, record(mobile="13907349999"), "换号"
    )
    results, errors = at_once([ask, ask])
    assert len(results) == 1 and len(errors) == 1
    assert isinstance(errors[0], Conflict) and errors[0].code == "CHANGE_REQUEST_PENDING"
    [line] = service.for_filing(PERSON, filing_id)
    assert line.state is ChangeRequestState.PENDING
