"""What-if over stored settlements: the demo scenario's settlements re-settled from the database.

Under the same policy every stored settlement comes back to the fen; under a changed policy the
reported change equals the per-claim engine's, claim by claim.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal
from importlib import resources
from pathlib import Path

import pytest
from sqlalchemy import func, select

from yidi.bootstrap import Container, build_container
from yidi.catalog.commands import import_sample_catalogs
from yidi.demo.scenario import load_scenario
from yidi.demo.world import load_world
from yidi.kernel.errors import InvalidInput
from yidi.kernel.insurance import InsuranceType, SettlementMode
from yidi.platform.migrate import upgrade
from yidi.platform.tables import settlements
from yidi.policy.loader import PolicyLibrary, policy_at, shipped_policy_library
from yidi.policy.model import Policy
from yidi.reports.whatif_candidate import adjusted_library, current_values
from yidi.reports.whatif_stored import StoredSelection, read_stored_claims, what_if_stored
from yidi.settings import Settings
from yidi.settlement.claims import Claim
from yidi.settlement.columnar import AMOUNT_FIELDS, settle_sequential
from yidi.settlement.result import SettlementResult

YEAR = StoredSelection(dt.date(2020, 1, 1), dt.date(2030, 12, 31))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Container]:
    path: Path = tmp_path_factory.mktemp("whatif") / "demo.sqlite3"
    container = build_container(Settings(demo_mode=True, database_url=f"sqlite:///{path}"))
    upgrade(container.engine)
    world = load_world()
    with container.uow() as uow:
        for agency in world.agencies:
            uow.reference.add_agency(agency)
        for hospital in world.hospitals:
            uow.reference.add_hospital(hospital)
        uow.commit()
    import_sample_catalogs(container.uow, container.clock)
    report = load_scenario(container.uow)
    assert report.loaded and report.settlements_added > 20 and report.reversals_added > 0
    yield container
    container.engine.dispose()


def test_the_same_policy_gives_back_every_stored_settlement_to_the_fen(demo: Container) -> None:
    library = shipped_policy_library()
    report, found = what_if_stored(demo.uow, YEAR, candidate=library)
    with demo.uow() as uow:
        active = uow.session.execute(
            select(func.count())
            .select_from(settlements)
            .where(settlements.c.kind == "settle", settlements.c.state == "active")
        ).scalar_one()
    # every active settlement of the scenario is read back, none skipped
    assert len(found.claims) == active > 20 and not found.skipped
    assert report.baseline_compared == active
    assert report.baseline_differences == []
    assert report.total.delta() == 0
    # the stored amounts are what the report starts from
    stored_fund = sum(paid["fund_paid_total"] for paid in found.stored.values())
    assert report.total.current["fund_paid_total"] == stored_fund > 0
    # and the columnar run equals the per-claim engine on the rebuilt claims too
    reference = settle_sequential(
        [c.entry for c in found.claims],
        lambda claim: policy_at(
            claim.insured_region, claim.insurance_type, claim.discharged_on, library
        ),
        found.catalog_for,
        mode=SettlementMode.DIRECT,
    )
    for item, expected in zip(found.claims, reference, strict=True):
        assert isinstance(expected, SettlementResult), expected
        for name in AMOUNT_FIELDS:
            assert getattr(expected, name).fen == found.stored[item.claim_id][name]


def _richer(library: PolicyLibrary) -> PolicyLibrary:
    """Ningxia's pooled-fund rates 5 points higher (capped at 100 %) from 2020."""
    for kind in InsuranceType:
        path = "schemes.inpatient.pooled_fund.rate_by_hospital_level"
        rates = current_values(library, "640000", kind, dt.date(2020, 1, 1)).get(path)
        if rates is None:
            continue
        higher = {level: min(Decimal(1), rate + Decimal("0.05")) for level, rate in rates.items()}
        library = adjusted_library(library, "640000", kind, dt.date(2020, 1, 1), {path: higher})
    return library


def test_a_changed_policy_reports_what_the_per_claim_engine_computes(demo: Container) -> None:
    library = shipped_policy_library()
    candidate = _richer(library)
    region = "640000"  # Ningxia insured
    selection = StoredSelection(YEAR.start, YEAR.end, region)
    report, found = what_if_stored(demo.uow, selection, candidate=candidate)
    assert found.claims and all(c.entry.claim.insured_region.startswith("64") for c in found.claims)
    assert report.baseline_differences == []

    def policy_for(claim: Claim) -> Policy:
        return policy_at(claim.insured_region, claim.insurance_type, claim.discharged_on, candidate)

    reference = settle_sequential(
        [c.entry for c in found.claims], policy_for, found.catalog_for, mode=SettlementMode.DIRECT
    )
    expected = sum(r.fund_paid_total.fen for r in reference if isinstance(r, SettlementResult))
    stored = sum(found.stored[c.claim_id]["fund_paid_total"] for c in found.claims)
    assert report.total.delta() == expected - stored
    assert report.total.delta() > 0  # a higher rate pays more
    assert sum(b.delta() for b in report.by["month"].values()) == report.total.delta()
    assert report.top and report.top[0].delta != 0


def test_a_period_and_region_select_and_bad_input_is_refused(demo: Container) -> None:
    library = shipped_policy_library()
    with demo.uow() as uow:
        everything = read_stored_claims(uow, YEAR, library)
        months = sorted({c.entry.claim.discharged_on.strftime("%Y-%m") for c in everything.claims})
        first = dt.date.fromisoformat(months[0] + "-01")
        one_month = read_stored_claims(
            uow,
            StoredSelection(first, first + dt.timedelta(days=31) - dt.timedelta(days=first.day)),
            library,
        )
    assert 0 < len(one_month.claims) < len(everything.claims)
    assert {c.entry.claim.discharged_on.strftime("%Y-%m") for c in one_month.claims} == {months[0]}
    with pytest.raises(InvalidInput) as error:
        StoredSelection(dt.date(2025, 2, 1), dt.date(2025, 1, 1))
    assert error.value.code == "WHATIF_PERIOD_INVALID"
    with pytest.raises(InvalidInput) as error:
        StoredSelection(dt.date(2025, 1, 1), dt.date(2025, 2, 1), "64")
    assert error.value.code == "WHATIF_REGION_INVALID"


def test_a_period_starting_mid_year_opens_with_the_earlier_totals(demo: Container) -> None:
    """A person's settlements before the period are not re-settled, but their totals are the
    opening of the period's first one: the baseline still comes back to the fen."""
    with demo.uow() as uow:
        found = read_stored_claims(uow, YEAR, shipped_policy_library())
    by_key: dict[tuple[str, int], list[dt.date]] = {}
    for c in found.claims:
        claim = c.entry.claim
        by_key.setdefault((c.person_id, claim.settlement_year), []).append(claim.discharged_on)
    # a person-year with two settlements discharged on different days
    person, days = next((k, d) for k, d in by_key.items() if len(set(d)) > 1)
    later = sorted(set(days))[1]
    selection = StoredSelection(later, YEAR.end)
    report, part = what_if_stored(demo.uow, selection, candidate=shipped_policy_library())
    mine = [c for c in part.claims if c.person_id == person[0]]
    assert mine and mine[0].entry.opening is not None
    assert mine[0].entry.opening.admissions_count > 0 or mine[0].entry.opening.deductible_used
    assert report.baseline_compared == len(part.claims) > 0
    assert report.baseline_differences == []


def test_the_cli_re_settles_the_stored_settlements(demo: Container, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from yidi.entrypoints.cli.main import app

    shipped = Path(str(resources.files("yidi") / "policies"))
    out = tmp_path / "report.json"
    result = CliRunner().invoke(
        app,
        [
            "whatif",
            "--stored",
            "--from",
            "2020-01-01",
            "--to",
            "2030-12-31",
            "--region",
            "640000",
            "--policy-root",
            str(shipped),
            "--json",
            str(out),
        ],
        env={"YIDI_DATABASE_URL": demo.settings.database_url, "YIDI_DEMO_MODE": "1"},
    )
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["claims"] > 0
    assert data["baseline"] == {
        "compared": data["claims"],
        "different_claims": 0,
        "differences": [],
    }
    assert data["total"]["delta_fund_paid_total"] == "0.00"
    assert "baseline check" in result.output

    refused = CliRunner().invoke(app, ["whatif", "--stored", "--policy-root", str(shipped)])
    assert refused.exit_code == 2 and "WHATIF_PERIOD_INVALID" in refused.output
