"""The hospital-settlement test world: agencies, hospitals, sample catalogues, two filed
patients of the seed (a 衡阳县 retiree resettled in 博白县, a Ningxia resident living in
衡阳) and one unfiled Hengyang patient."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from filing_support import BOBAI_HOSPITAL, HENGYANG, PERSON_ID, household_registration, record
from yidi.bootstrap import Container, build_container
from yidi.catalog.commands import import_sample_catalogs
from yidi.catalog.files import SAMPLE_REGIONS, sample_catalog
from yidi.demo.world import load_world
from yidi.encounter.commands import FeeLineInput
from yidi.filing.commands import FilingService
from yidi.filing.model import lifecycle
from yidi.filing.model.evidence import Evidence, EvidenceKind
from yidi.filing.model.lifecycle import Actor
from yidi.filing.model.record import DesignatedInstitution, format_filing_number
from yidi.kernel.access import Caller, Principal, Role
from yidi.kernel.clock import CHINA_TZ, FixedClock
from yidi.kernel.identity import Gender, make_resident_id
from yidi.kernel.insurance import FilingCategory, HospitalLevel, InsuranceType, PersonType
from yidi.kernel.money import Money
from yidi.kernel.regions import default_registry
from yidi.platform.db import make_engine
from yidi.platform.migrate import upgrade
from yidi.reference.model import Person
from yidi.settings import Settings

BOBAI_CODE = "H45092300001"
NANHUA_CODE = "H43040000001"
ZHENGDA_CODE = "H41010000001"
XIE_CARD = "A12345678"
PENG_ID = make_resident_id("640104", dt.date(1958, 6, 2), 31, Gender.MALE).number
PENG_CARD = "N64010400001"
UNFILED_ID = make_resident_id("430421", dt.date(1962, 1, 9), 77, Gender.FEMALE).number
UNFILED_CARD = "A87654321"
NINGXIA = Principal("ningxia", Role.AGENCY_HANDLER, "640000", display_name="宁夏经办人")
BOBAI = Caller(BOBAI_CODE, "bobai")
NANHUA = Caller(NANHUA_CODE, "nhfy1")

XIE = Person(
    id_number=PERSON_ID,
    name="谢某某",
    gender="1",
    birth_on=dt.date(1955, 3, 8),
    insured_region_code="430421",
    insurance_type=InsuranceType.EMPLOYEE,
    person_type=PersonType.EMPLOYEE_RETIRED,
    card_number=XIE_CARD,
    has_second_generation_card=True,
    ethnicity="01",
    insured_since=dt.date(1993, 1, 1),
    employer_name="衡阳县某农机厂",
)
PENG = Person(
    id_number=PENG_ID,
    name="彭某某",
    gender="1",
    birth_on=dt.date(1958, 6, 2),
    insured_region_code="640104",
    insurance_type=InsuranceType.EMPLOYEE,
    person_type=PersonType.EMPLOYEE_ACTIVE,
    card_number=PENG_CARD,
    has_second_generation_card=True,
)
UNFILED = Person(
    id_number=UNFILED_ID,
    name="李某某",
    gender="2",
    birth_on=dt.date(1962, 1, 9),
    insured_region_code="430421",
    insurance_type=InsuranceType.EMPLOYEE,
    person_type=PersonType.EMPLOYEE_ACTIVE,
    card_number=UNFILED_CARD,
    has_second_generation_card=True,
)


@dataclass(frozen=True)
class World:
    xie_filing: str
    peng_filing: str


def approved_filing() -> lifecycle.Filing:
    """谢某某's filing for 博白县 as the 衡阳 agency approves it on 2 November 2026 (pure model)."""
    clerk = Actor("hengyang", "agency_handler", "衡阳市医保中心经办人")
    filed_at = dt.datetime(2026, 11, 2, 9, tzinfo=CHINA_TZ)
    regions = default_registry()
    draft = lifecycle.create_draft(
        "F1", record(), clerk, filed_at, evidence=[household_registration()]
    )
    submitted = lifecycle.submit(draft, clerk, filed_at, regions)
    return lifecycle.approve(
        submitted,
        clerk,
        filed_at,
        regions,
        filing_number=format_filing_number("430421", 2026, 1),
        handling_agency="衡阳市医保中心",
    )


def seed_fake_world(db: Any) -> None:
    """The seed's world in an in-memory fake database: hospitals, 谢某某 (filed) and the unfiled
    李某某, and the sample catalogues."""
    world = load_world()
    db.hospitals = {hospital.fixmedins_code: hospital for hospital in world.hospitals}
    db.agencies = list(world.agencies)
    db.add_person(XIE)
    db.add_person(UNFILED)
    db.filings[PERSON_ID] = [approved_filing()]
    for region in SAMPLE_REGIONS:
        db.add_catalog(sample_catalog(region))


def load_reference(container: Container) -> None:
    world = load_world()
    with container.uow() as uow:
        for agency in world.agencies:
            uow.reference.add_agency(agency)
        for hospital in world.hospitals:
            uow.reference.add_hospital(hospital)
        uow.reference.add_persons([XIE, PENG, UNFILED])
        uow.commit()
    import_sample_catalogs(container.uow, container.clock)


def ningxia_record() -> Any:
    return record(
        insured_region_code="640104",
        name="彭某某",
        social_security_number=PENG_ID,
        social_security_card_number=PENG_CARD,
        category=FilingCategory.LONG_TERM_RESIDENT,
        person_type=PersonType.EMPLOYEE_ACTIVE,
        home_address="宁夏回族自治区银川市兴庆区某路5号",
        contact_address="湖南省衡阳市蒸湘区某街6号",
        phone="0951-5012345",
        mobile="13909511234",
        destination_province_code="430000",
        destination_prefecture_code="430400",
        destination_county_code=None,
        designated_institutions=(
            DesignatedInstitution("南华大学附属第一医院", HospitalLevel.LEVEL_3, NANHUA_CODE),
        ),
    )


def residence_permit() -> Evidence:
    return Evidence(
        EvidenceKind.RESIDENCE_PERMIT,
        "居-430400-0001",
        "衡阳市公安局",
        dt.date(2016, 3, 1),
        issuer_region_code="430400",
    )


def build_world(container: Container) -> World:
    load_reference(container)
    filings = FilingService(container.uow, container.clock)
    draft = filings.create_draft(HENGYANG, record(), evidence=[household_registration()])
    filings.submit(HENGYANG, draft.filing_id)
    xie = filings.approve(HENGYANG, draft.filing_id).filing_id
    draft = filings.create_draft(NINGXIA, ningxia_record(), evidence=[residence_permit()])
    filings.submit(NINGXIA, draft.filing_id)
    peng = filings.approve(NINGXIA, draft.filing_id).filing_id
    return World(xie, peng)


def at(day: int, hour: int = 9, minute: int = 0, month: int = 11) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=CHINA_TZ)


# The 博白 lines of golden case c01 (11,811.24 in total), as a hospital uploads them.
XIE_LINES: list[tuple[str, str, str, str]] = [
    ("001101000010000", "普通病房床位费（三人间）", "10", "45.00"),
    ("001102000010000", "住院诊查费", "10", "15.00"),
    ("001103000010000", "I级护理", "10", "25.00"),
    ("002501000010000", "血细胞分析（血常规）", "3", "20.00"),
    ("002502000010000", "肝功能检测", "2", "70.00"),
    ("002302010010000", "X线计算机体层（CT）平扫", "1", "280.00"),
    ("XJ01DDA110B002010104371", "注射用头孢曲松钠", "20", "35.60"),
    ("XA02BCP150B002010100002", "注射用泮托拉唑钠", "10", "42.00"),
    ("XB05BBA010B002010100003", "氯化钠注射液", "30", "4.50"),
    ("003101000010000", "静脉输液", "20", "12.00"),
    ("XB01ABE010B002010100007", "依诺肝素钠注射液", "10", "48.00"),
    ("XC10AAA200A001010101234", "阿托伐他汀钙片", "28", "3.20"),
    ("ZA09AAH0301010101235", "血塞通注射液", "10", "36.00"),
    ("XA11GAV001A001010100010", "维生素C泡腾片", "2", "25.00"),
    ("003311000010000", "腹腔镜下胆囊切除术", "1", "3747.89"),
    ("XJ01DHM020B002010100006", "注射用美罗培南", "14", "185.00"),
    ("XB05BAA010B002010100004", "葡萄糖注射液", "30", "6.50"),
    ("002301000010000", "常规心电图检查", "2", "25.00"),
    ("XC08CAA010A001010100009", "苯磺酸氨氯地平片", "28", "1.20"),
    ("001201000010000", "特需病房床位费", "10", "100.00"),
    ("C9901010010100000009", "医用护理垫", "15", "15.21"),
    ("C0301010010100000001", "一次性使用输液器", "20", "3.50"),
    ("C0102010010100000006", "医用敷料", "10", "8.00"),
]
XIE_TOTAL = Money("11811.24")


def fee_inputs(
    rows: list[tuple[str, str, str, str]], occurred_at: dt.datetime, *, prefix: str = ""
) -> list[FeeLineInput]:
    return [
        FeeLineInput(
            serial=f"{prefix}{index + 1}",
            catalog_code=code,
            name=name,
            quantity=Decimal(quantity),
            unit_price=Decimal(price),
            amount=Money.rounded(Decimal(quantity) * Decimal(price)),
            occurred_at=occurred_at,
        )
        for index, (code, name, quantity, price) in enumerate(rows)
    ]


def nhsa_fee_rows(
    rows: list[tuple[str, str, str, str]],
    mdtrt_id: str,
    psn_no: str,
    occurred: str,
    prefix: str = "",
) -> list[dict[str, Any]]:
    return [
        {
            "feedetl_sn": f"{prefix}{index + 1}",
            "mdtrt_id": mdtrt_id,
            "psn_no": psn_no,
            "med_type": "21",
            "fee_ocur_time": occurred,
            "med_list_codg": code,
            "medins_list_codg": f"H-{code}",
            "det_item_fee_sumamt": str(Money.rounded(Decimal(quantity) * Decimal(price))),
            "cnt": quantity,
            "pric": price,
            "bilg_dept_codg": "A03",
            "bilg_dept_name": "普外科",
            "bilg_dr_codg": "D001",
            "bilg_dr_name": "张医生",
        }
        for index, (code, name, quantity, price) in enumerate(rows)
    ]


def manual_fee_lines(occurred_at: str = "2026-10-03T09:00:00+08:00") -> list[dict[str, Any]]:
    """XIE_LINES as the fee lines of a manual claim's JSON body."""
    return [
        {
            "serial": str(index + 1),
            "catalog_code": code,
            "name": name,
            "quantity": quantity,
            "unit_price": price,
            "amount": str((Decimal(quantity) * Decimal(price)).quantize(Decimal("0.01"))),
            "occurred_at": occurred_at,
        }
        for index, (code, name, quantity, price) in enumerate(XIE_LINES)
    ]


def post_manual_claim(client: TestClient, headers: dict[str, str], **changes: Any) -> Any:
    """Open a manual claim for the unfiled patient's 博白 stay; ``changes`` override the body."""
    body = {
        "id_number": UNFILED_ID,
        "treatment_region": "450923",
        "hospital_name": "博白县人民医院",
        "hospital_level": 2,
        "encounter_type": "21",
        "admitted_on": "2026-10-01",
        "discharged_on": "2026-10-10",
        "reason": "未办理异地就医备案",
    } | changes
    return client.post("/api/manual-claims", json=body, headers=headers)


def manual_claim_with_fees(client: TestClient, headers: dict[str, str], **changes: Any) -> str:
    """:func:`post_manual_claim` with the stay's fee lines entered; the claim's id."""
    created = post_manual_claim(client, headers, **changes)
    assert created.status_code == 201, created.text
    claim_id = str(created.json()["id"])
    entered = client.put(
        f"/api/manual-claims/{claim_id}/fee-lines",
        json={"lines": manual_fee_lines()},
        headers=headers,
    )
    assert entered.status_code == 200, entered.text
    return claim_id


__all__ = ["BOBAI_HOSPITAL"]


def token_for(container: Container, principal: Principal) -> dict[str, str]:
    """A bearer header for a principal (the account is created without a usable password)."""
    from yidi.auth.commands import open_session

    with container.uow() as uow:
        if uow.users.by_username(principal.user_id) is None:
            uow.users.add(principal.user_id, "!", principal)
            uow.commit()
    token = open_session(container.uow(), container.clock, principal)
    return {"Authorization": f"Bearer {token}"}


BOBAI_CASHIER = Principal("bobai", Role.HOSPITAL_CASHIER, hospital_code=BOBAI_CODE)
NANHUA_CASHIER = Principal("nhfy1", Role.HOSPITAL_CASHIER, hospital_code=NANHUA_CODE)


@contextlib.contextmanager
def committed_container(
    database_url: str, migrated_engine: Engine, tmp_path: Path, schema: str
) -> Iterator[Container]:
    """A container whose transactions really commit, for tests of concurrent transactions.

    On PostgreSQL it lives in its own schema (dropped afterwards); on SQLite in its own file.
    The per-test rollback fixture cannot serve: two threads need two real connections.
    """
    if database_url.startswith("postgresql"):
        with migrated_engine.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            connection.execute(text(f"CREATE SCHEMA {schema}"))
        engine = make_engine(database_url, connect_args={"options": f"-csearch_path={schema}"})
        url = database_url
    else:
        url = f"sqlite:///{tmp_path / (schema + '.sqlite3')}"
        engine = make_engine(url)
    upgrade(engine)
    container = build_container(
        Settings(database_url=url, demo_mode=True), clock=FixedClock(at(20, 10)), engine=engine
    )
    try:
        yield container
    finally:
        engine.dispose()
        if database_url.startswith("postgresql"):
            with migrated_engine.begin() as connection:
                connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
