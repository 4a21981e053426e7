"""Load the demo reference world: agencies, hospitals, and (optionally) a synthetic population."""

from __future__ import annotations

from dataclasses import dataclass

from yidi.demo.world import load_world
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


def demo_accounts() -> list[tuple[str, str, str]]:
    """(username, password, role label) for the run command to print."""
    return [(a.username, a.password, a.principal.display_name) for a in load_world().accounts]
