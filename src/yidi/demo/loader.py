"""Load the demo reference world: agencies, hospitals, and (optionally) a synthetic population."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from yidi.auth.commands import hash_password
from yidi.demo.population import SyntheticPerson, generate_persons
from yidi.demo.world import load_world
from yidi.filing.commands import FilingService
from yidi.filing.model.evidence import Evidence, EvidenceKind
from yidi.filing.model.lifecycle import FilingState
from yidi.filing.model.record import DesignatedInstitution, FilingRecord, SignedBy
from yidi.kernel.clock import Clock
from yidi.kernel.identity import ResidentId
from yidi.kernel.insurance import FilingCategory, HospitalLevel, InsuranceType, PersonType
from yidi.platform.uow import SqlUnitOfWork
from yidi.reference.model import Person


@dataclass(frozen=True)
class DemoLoadReport:
    agencies_added: int
    hospitals_added: int
    accounts_added: int


def load_reference_world(uow: SqlUnitOfWork) -> DemoLoadReport:
    """Idempotent: what is already there is kept, what is missing is added."""
    world = load_world()
    with uow:
        known_agencies = {a.code for a in uow.reference.agencies()}
        known_hospitals = {h.fixmedins_code for h in uow.reference.hospitals(institution_type=None)}
        new_agencies = [a for a in world.agencies if a.code not in known_agencies]
        new_hospitals = [h for h in world.hospitals if h.fixmedins_code not in known_hospitals]
        for agency in new_agencies:
            uow.reference.add_agency(agency)
        for hospital in new_hospitals:
            uow.reference.add_hospital(hospital)
        new_accounts = [a for a in world.accounts if uow.users.by_username(a.username) is None]
        for account in new_accounts:
            uow.users.add(account.username, hash_password(account.password), account.principal)
        uow.commit()
    return DemoLoadReport(len(new_agencies), len(new_hospitals), len(new_accounts))


def load_population(
    uow: SqlUnitOfWork,
    count: int,
    *,
    seed: int,
    insured_region_codes: Sequence[str],
    batch_size: int = 20_000,
    on_batch: Callable[[int], None] | None = None,
) -> int:
    """Insert ``count`` synthetic persons in batches (one transaction per batch).

    A generated person whose ID number is already registered (by the demo scenario or
    an earlier load) is skipped, so the count returned is what was actually added.
    """
    people = generate_persons(count, seed=seed, insured_region_codes=insured_region_codes)
    inserted = 0
    while True:
        chunk = [as_person(p) for p in itertools.islice(people, batch_size)]
        if not chunk:
            return inserted
        with uow:
            known = uow.reference.registered_id_numbers([p.id_number for p in chunk])
            uow.reference.add_persons([p for p in chunk if p.id_number not in known])
            uow.commit()
        inserted += len(chunk) - len(known)
        if on_batch:
            on_batch(len(chunk))


def as_person(synthetic: SyntheticPerson, *, has_card: bool = True) -> Person:
    """A synthetic person as the register holds them (without a card when ``has_card`` is off)."""
    return Person(
        id_number=synthetic.resident_id.number,
        name=synthetic.name,
        gender=synthetic.gender.value,
        birth_on=synthetic.birth_on,
        insured_region_code=synthetic.insured_region_code,
        insurance_type=synthetic.insurance_type,
        person_type=synthetic.person_type,
        card_number=synthetic.social_security_card_number if has_card else None,
        has_second_generation_card=has_card,
        home_address=synthetic.address,
        mobile=synthetic.mobile,
    )


DEMO_INSURED_USERNAME = "xiedeming"


def load_demo_filings(
    uow_factory: Callable[[], SqlUnitOfWork], clock: Clock, filings: FilingService
) -> int:
    """A demo insured person (``xiedeming``) in the reference data and his submitted filing:
    a 衡阳县 retiree resettled in 博白县 with his household registration there (the seed's
    story). Idempotent; returns how many filings were added (0 or 1)."""

    account = next(a for a in load_world().accounts if a.username == DEMO_INSURED_USERNAME)
    id_number = account.principal.id_number
    assert id_number is not None
    resident = ResidentId.parse(id_number)
    with uow_factory() as uow:
        if uow.filings.current_for_person(id_number, tuple(FilingState)):
            return 0
        if uow.reference.person_by_id_number(id_number) is None:
            uow.reference.add_persons(
                [
                    Person(
                        id_number=id_number,
                        name=account.principal.display_name,
                        gender=resident.gender.value,
                        birth_on=resident.birth_on,
                        insured_region_code="430421",
                        insurance_type=InsuranceType.EMPLOYEE,
                        person_type=PersonType.EMPLOYEE_RETIRED,
                        card_number="H43042100031",
                        has_second_generation_card=True,
                        home_address="湖南省衡阳县西渡镇蒸阳路18号",
                        mobile="13807340315",
                    )
                ]
            )
            uow.commit()
    record = FilingRecord(
        insured_region_code="430421",
        name=account.principal.display_name,
        gender=resident.gender,
        insurance_type=InsuranceType.EMPLOYEE,
        category=FilingCategory.RETIREE_RESETTLED,
        person_type=PersonType.EMPLOYEE_RETIRED,
        social_security_number=id_number,
        social_security_card_number="H43042100031",
        has_second_generation_card=True,
        home_address="湖南省衡阳县西渡镇蒸阳路18号",
        contact_address="广西壮族自治区博白县博白镇城南路6号",
        phone="0775-8221234",
        mobile="13807340315",
        destination_province_code="450000",
        destination_prefecture_code="450900",
        destination_county_code="450923",
        designated_institutions=(
            DesignatedInstitution("博白县人民医院", HospitalLevel.LEVEL_2, "H45092300001"),
        ),
        signed_by=SignedBy.PERSON,
        filled_on=clock.today(),
    )
    evidence = Evidence(
        EvidenceKind.HOUSEHOLD_REGISTRATION,
        "博户-2016-0618",
        "博白县公安局",
        dt.date(2016, 6, 18),
        issuer_region_code="450923",
    )
    draft = filings.create_draft(account.principal, record, evidence=[evidence])
    filings.submit(account.principal, draft.filing_id)
    return 1


def demo_accounts() -> list[tuple[str, str, str]]:
    """(username, password, role label) for the run command to print."""
    return [(a.username, a.password, a.principal.display_name) for a in load_world().accounts]
