"""Load the demo reference world: agencies, hospitals, and (optionally) a synthetic population."""

from __future__ import annotations

from dataclasses import dataclass

from yidi.demo.world import load_world
from yidi.storage.uow import SqlUnitOfWork


@dataclass(frozen=True)
class DemoLoadReport:
    agencies_added: int
    hospitals_added: int


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
        uow.commit()
    return DemoLoadReport(len(new_agencies), len(new_hospitals))
