"""A person lookup is checked against the institution's limit before any work and counted
just before the commit (so the counter row is not locked during the work), checked again
there: on the in-memory unit of work."""

from __future__ import annotations

import datetime as dt

import pytest
from fakes import FakeDatabase, fake_unit_of_work, record_fact

from hospital_support import XIE_CARD, seed_fake_world
from yidi.encounter.commands import (
    AdmissionRequest,
    Credential,
    HospitalService,
    LookupLimits,
)
from yidi.kernel.access import Caller
from yidi.kernel.clock import CHINA_TZ, FixedClock
from yidi.kernel.errors import YidiError

BOBAI = Caller("H45092300001", "bobai")
NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=CHINA_TZ)
WINDOW = NOW.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)


@pytest.fixture
def db() -> FakeDatabase:
    db = FakeDatabase()
    seed_fake_world(db)
    return db


def _service(db: FakeDatabase, per_hour: int = 10) -> HospitalService:
    return HospitalService(
        lambda: fake_unit_of_work(db),
        FixedClock(NOW),
        record_fact=record_fact,
        lookup_limits=LookupLimits(per_hour=per_hour, misses_per_hour=5),
    )


def _admission(day: int = 20) -> AdmissionRequest:
    return AdmissionRequest(
        credential=Credential("03", XIE_CARD),
        med_type="21",
        admitted_at=dt.datetime(2026, 11, day, 8, tzinfo=CHINA_TZ),
        department_code="A03",
        diagnosis_codes=("K80.101",),
    )


def _counted(db: FakeDatabase) -> int:
    return db.lookups.get((BOBAI.hospital_code, WINDOW, "all"), 0)


def test_the_lookup_is_counted_after_the_work_just_before_the_commit(
    db: FakeDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = _service(db)
    seen: list[int] = []
    add_encounter = type(fake_unit_of_work(db).hospital).add_encounter

    def watched(repository, values):  # type: ignore[no-untyped-def]
        seen.append(_counted(db))  # the stay is written: the lookup is not counted yet
        add_encounter(repository, values)

    monkeypatch.setattr(type(fake_unit_of_work(db).hospital), "add_encounter", watched)
    service.admit(BOBAI, _admission())
    assert seen == [0]
    assert _counted(db) == 1


def test_a_transaction_that_does_not_commit_counts_nothing(db: FakeDatabase) -> None:
    service = _service(db)
    service.admit(BOBAI, _admission())
    with pytest.raises(YidiError) as refused:  # a second open stay: refused after the lookup
        service.admit(BOBAI, _admission(21))
    assert refused.value.code != "PERSON_LOOKUP_RATE_LIMITED"
    assert _counted(db) == 1


def test_a_lookup_over_the_limit_is_refused_before_any_work(db: FakeDatabase) -> None:
    service = _service(db, per_hour=1)
    service.admission_check(BOBAI, Credential("03", XIE_CARD))
    with pytest.raises(YidiError) as refused:
        service.admit(BOBAI, _admission())
    assert refused.value.code == "PERSON_LOOKUP_RATE_LIMITED"
    assert not db.encounters
    assert _counted(db) == 1  # the refused lookup is not counted


def test_lookups_that_passed_the_first_read_together_are_checked_again_at_commit(
    db: FakeDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another request of the institution counts its lookup while this one works: the
    first read let both through, the count at commit refuses the one over the limit and
    its work rolls back with it."""
    service = _service(db, per_hour=1)
    repository = type(fake_unit_of_work(db).hospital)
    add_encounter = repository.add_encounter

    def raced(self, values):  # type: ignore[no-untyped-def]
        add_encounter(self, values)
        key = (BOBAI.hospital_code, WINDOW, "all")  # the other request commits its count
        db.lookups[key] = db.lookups.get(key, 0) + 1

    monkeypatch.setattr(repository, "add_encounter", raced)
    with pytest.raises(YidiError) as refused:
        service.admit(BOBAI, _admission())
    assert refused.value.code == "PERSON_LOOKUP_RATE_LIMITED"
    assert not db.encounters  # the stay written before the commit is rolled back
    assert db.commits == 0
