"""Load the demo reference world (agencies, hospitals) from ``world.yaml``."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

from ruamel.yaml import YAML

from yidi.kernel.access import Principal, Role
from yidi.kernel.insurance import HospitalLevel, InsuranceType
from yidi.reference.model import Agency, Hospital, InstitutionType, parse_connections


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    principal: Principal


@dataclass(frozen=True)
class DemoWorld:
    agencies: list[Agency]
    hospitals: list[Hospital]
    accounts: list[DemoAccount]


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
            institution_type=InstitutionType(h.get("type", "hospital")),
            connections=parse_connections(str(h["connected"])) if "connected" in h else None,
        )
        for h in data["hospitals"]
    ]
    accounts = [
        DemoAccount(
            username=str(a["username"]),
            password=str(a["password"]),
            principal=Principal(
                user_id=str(a["username"]),
                role=Role(a["role"]),
                region_code=a.get("region"),
                hospital_code=a.get("hospital"),
                id_number=a.get("id_number"),
                display_name=str(a["name"]),
            ),
        )
        for a in data["accounts"]
    ]
    return DemoWorld(agencies, hospitals, accounts)
