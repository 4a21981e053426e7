"""Load the demo reference world (agencies, hospitals) from ``world.yaml``."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

from ruamel.yaml import YAML

from yidi.domain.insurance import HospitalLevel, InsuranceType
from yidi.domain.reference import Agency, Hospital


@dataclass(frozen=True)
class DemoWorld:
    agencies: list[Agency]
    hospitals: list[Hospital]


def load_world() -> DemoWorld:
    text = (resources.files("yidi.demo") / "world.yaml").read_text(encoding="utf-8")
    data = YAML(typ="safe").load(text)
    agencies = [
        Agency(
            code=str(a["code"]),
            name=str(a["name"]),
            region_code=str(a["region"]),
            insurance_type=InsuranceType(a["insurance"]) if a["insurance"] else None,
            phone=str(a["phone"]),
        )
        for a in data["agencies"]
    ]
    hospitals = [
        Hospital(
            fixmedins_code=str(h["code"]),
            name=str(h["name"]),
            level=HospitalLevel(int(h["level"])),
            region_code=str(h["region"]),
        )
        for h in data["hospitals"]
    ]
    return DemoWorld(agencies, hospitals)
