"""Load the demo reference world: agencies, hospitals, and (optionally) a synthetic population."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from yidi.demo.population import SyntheticPerson, generate_persons
from yidi.demo.world import load_world
from yidi.domain.reference import Person
from yidi.services.auth import hash_password
from yidi.storage.uow import SqlUnitOfWork


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
        known_hospitals = {h.fixmedins_code for h in uow.reference.hospitals()}
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
        chunk = [_as_person(p) for p in itertools.islice(people, batch_size)]
        if not chunk:
            return inserted
        with uow:
            known = uow.reference.registered_id_numbers([p.id_number for p in chunk])
            uow.reference.add_persons([p for p in chunk if p.id_number not in known])
            uow.commit()
        inserted += len(chunk) - len(known)
        if on_batch:
            on_batch(len(chunk))


def _as_person(synthetic: SyntheticPerson) -> Person:
    return Person(
        id_number=synthetic.resident_id.number,
        name=synthetic.name,
        gender=synthetic.gender.value,
        birth_on=synthetic.birth_on,
        insured_region_code=synthetic.insured_region_code,
        insurance_type=synthetic.insurance_type,
        person_type=synthetic.person_type,
        card_number=synthetic.social_security_card_number,
        has_second_generation_card=True,
        home_address=synthetic.address,
        mobile=synthetic.mobile,
    )


def demo_accounts() -> list[tuple[str, str, str]]:
    """(username, password, role label) for the run command to print."""
    return [(a.username, a.password, a.principal.display_name) for a in load_world().accounts]
