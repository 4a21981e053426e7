"""The demo scenario: the seed's stories and a synthetic cast, made through the services."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

from sqlalchemy import select

from yidi.bootstrap import Container, build_container
from yidi.catalog.commands import import_sample_catalogs
from yidi.demo.scenario import (
    SCENARIO_AS_OF,
    laoxie_id_number,
    load_scenario,
    load_stories,
    story_person,
)
from yidi.demo.world import load_world
from yidi.encounter.commands import HospitalService
from yidi.filing.commands import FilingService
from yidi.filing.model.lifecycle import FilingState
from yidi.funds import commands as funds
from yidi.funds.model import ledger_is_balanced
from yidi.funds.statistics import Dimension, Direction, StatisticsQuery
from yidi.kernel.access import Role
from yidi.kernel.audit import verify_chain
from yidi.kernel.clock import CHINA_TZ, FixedClock
from yidi.kernel.insurance import FilingCategory
from yidi.kernel.money import Money
from yidi.platform.migrate import upgrade
from yidi.platform.tables import chronic_recognitions, filing_versions, filings, persons
from yidi.settings import Settings

HENGYANG = next(a.principal for a in load_world().accounts if a.username == "hengyang")


def _reference(container: Container) -> None:
    """Agencies, hospitals and catalogues (the accounts' slow password hashing is not needed)."""
    world = load_world()
    with container.uow() as uow:
        for agency in world.agencies:
            uow.reference.add_agency(agency)
        for hospital in world.hospitals:
            uow.reference.add_hospital(hospital)
        uow.commit()
    import_sample_catalogs(container.uow, container.clock)


def _filing_counts(container: Container) -> Counter[tuple[str, str | None]]:
    with container.uow() as uow:
        rows = uow.session.execute(select(filings.c.state, filings.c.category))
        return Counter((row.state, row.category) for row in rows)


def test_the_scenario_loads_once_on_a_fresh_sqlite_file(tmp_path: Path) -> None:
    settings = Settings(demo_mode=True, database_url=f"sqlite:///{tmp_path / 'demo.sqlite3'}")
    container = build_container(settings)
    upgrade(container.engine)
    _reference(container)

    first = load_scenario(container.uow)
    assert first.loaded and first.filings_added > 30 and first.settlements_added > 20
    with container.uow() as uow:
        persons = uow.reference.count_persons()
        settled = len(uow.funds.facts())
    counts = _filing_counts(container)
    assert sum(counts.values()) == first.filings_added

    again = load_scenario(container.uow)
    assert not again.loaded and again.filings_added == again.settlements_added == 0
    assert _filing_counts(container) == counts
    with container.uow() as uow:
        assert uow.reference.count_persons() == persons
        assert len(uow.funds.facts()) == settled
    container.engine.dispose()


def test_the_scenario_on_the_test_database_replays_the_seed_and_balances(
    container: Container,
) -> None:
    _reference(container)
    report = load_scenario(container.uow)

    # The seed's two stories, with the totals the newspaper reports.
    xie, peng = report.story_settlements
    assert (xie.amounts["total_charges"], xie.amounts["patient_share"]) == (
        Money("11811.24"),
        Money("3792.11"),
    )
    assert (peng.amounts["total_charges"], peng.amounts["patient_share"]) == (
        Money("7356.82"),
        Money("2769.85"),
    )
    assert xie.person.id_number == laoxie_id_number() == story_person(load_stories()[0]).id_number

    with container.uow() as uow:
        assert ledger_is_balanced(uow.funds.entries())
        assert verify_chain(uow.audit.walk()) is None
        facts = uow.funds.facts()
        # Every record is dated inside the scenario's timeline.
        assert all(f.settled_on <= SCENARIO_AS_OF for f in facts)
        assert len({f.settled_on.month for f in facts}) >= 5
        assert len({f.hospital_code for f in facts}) >= 5
        changed = uow.session.execute(
            select(filing_versions.c.filing_id).where(filing_versions.c.version == 2)
        ).all()
    reversals = [f for f in facts if f.reverses_setl_id is not None]
    assert len(reversals) == report.reversals_added >= 2
    assert len(facts) == report.settlements_added + report.reversals_added
    assert len(changed) == 1

    # Every category of the seeds (the demo replays them; 其他临时外出 is a 2022-model type
    # the seeds do not have), and the states the agency desk shows.
    counts = _filing_counts(container)
    assert {category for _, category in counts} == {
        c.value for c in FilingCategory if c is not FilingCategory.OTHER_TEMPORARY
    }
    assert {"approved", "submitted", "rejected", "cancelled", "draft"} <= {s for s, _ in counts}

    # The statistics count what was settled, net of reversals.
    by_route = HospitalService(container.uow, container.clock).statistics()
    assert sum(r["settlements"] for r in by_route) == len(facts) - 2 * len(reversals)
    outbound = funds.statistics(
        container.uow(),
        StatisticsQuery("430400", Direction.OUTBOUND, Dimension.TREATMENT_PROVINCE),
    )
    hengyang_out = [f for f in facts if f.insured_region_code.startswith("4304")]
    net = len(hengyang_out) - 2 * len([f for f in hengyang_out if f.reverses_setl_id])
    assert [row.key for row in outbound.rows] == ["450000"]
    assert outbound.rows[0].person_times == net

    # The desk's lists: an emergency filing near its deadline, legacy and card-less records.
    viewed = FilingService(container.uow, FixedClock(dt.datetime(2026, 11, 20, 9, tzinfo=CHINA_TZ)))
    (due,) = viewed.emergency_due(HENGYANG)
    assert due.deadline is not None and not due.late and due.working_days_left in (1, 2)
    assert viewed.incomplete(HENGYANG)
    assert any(
        row.needs_second_generation_card for row in viewed.without_second_generation_card(HENGYANG)
    )
    queue = viewed.search(HENGYANG, state=FilingState.SUBMITTED)
    assert queue.total >= 3

    # The two chronic-disease recognitions the agencies record for the seed's patients.
    with container.uow() as uow:
        recognised = uow.session.execute(
            select(persons.c.id_number, chronic_recognitions.c.disease_code)
            .join(persons, persons.c.id == chronic_recognitions.c.person_id)
            .where(chronic_recognitions.c.state == "active")
            .order_by(chronic_recognitions.c.disease_code)
        ).all()
    assert [tuple(row) for row in recognised] == [
        (story_person(load_stories()[0]).id_number, "M03900"),
        (story_person(load_stories()[1]).id_number, "M07803"),
    ]


def test_the_laoxie_demo_account_is_the_first_storys_insured_person() -> None:
    (laoxie,) = [a for a in load_world().accounts if a.username == "laoxie"]
    assert laoxie.principal.role is Role.INSURED_PERSON
    assert laoxie.principal.id_number == laoxie_id_number()
