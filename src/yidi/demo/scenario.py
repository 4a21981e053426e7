"""The demo scenario (演示场景): a living demo world made through yidi's own services.

After the reference world (agencies, hospitals, accounts, sample catalogues) this
replays, on a fixed clock, what an agency and its hospitals would have done over
the months before :data:`SCENARIO_AS_OF`:

* the Hengyang seed's two stories (``yidi/demo/stories.yaml``): 老谢 filed by the
  Hengyang agency and settled at 博白县人民医院, 彭某某 filed by the Ningxia agency
  and settled at 南华大学附属第一医院, with the seed's totals;
* a few dozen synthetic persons (:mod:`yidi.demo.population`, fixed seed) with
  filings of every category in every state the desks show (approved, waiting in
  the queue, an emergency filing close to its 3-working-day deadline, rejected,
  changed, cancelled), legacy 报盘 rows with missing fields, persons without a
  second-generation card, and stays settled over several months at several
  hospitals (some reversed and settled again), followed by monthly clearing.

Nothing is written around the services: every filing, encounter, settlement,
ledger line and audit entry is the services' own. Everything is deterministic
except the internal ids the services draw. Loading is idempotent: if 老谢's
filing already exists the scenario is taken as loaded and nothing is added.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any, Final

from ruamel.yaml import YAML

from yidi.catalog.files import sample_catalog
from yidi.chronic.commands import ChronicService
from yidi.chronic.model import Evidence as ChronicEvidence
from yidi.chronic.model import NewRecognition
from yidi.demo.loader import as_person
from yidi.demo.population import SyntheticPerson, generate_persons
from yidi.demo.world import load_world
from yidi.encounter.commands import (
    AdmissionRequest,
    Credential,
    FeeLineInput,
    HospitalService,
    SettlementRecord,
)
from yidi.filing.commands import FilingService
from yidi.filing.imports import FilingImports
from yidi.filing.model.annex import ANNEX2_COLUMNS
from yidi.filing.model.evidence import Evidence, EvidenceKind
from yidi.filing.model.lifecycle import FilingState
from yidi.filing.model.record import DesignatedInstitution, FilingRecord, SignedBy
from yidi.funds.commands import run_clearing
from yidi.funds.model import ClearingLevel
from yidi.kernel.access import Caller, Principal, Role
from yidi.kernel.clock import CHINA_TZ, FixedClock
from yidi.kernel.errors import YidiError
from yidi.kernel.identity import Gender, make_resident_id
from yidi.kernel.insurance import FilingCategory, HospitalLevel, InsuranceType, PersonType
from yidi.kernel.money import Money, money_sum
from yidi.kernel.regions import hengyang_county_codes
from yidi.kernel.workdays import WorkingDayCalendar
from yidi.platform.uow import SqlUnitOfWork
from yidi.reference.model import Hospital, Person

SCENARIO_SEED: Final = 20260
#: The scenario's "today": every record it makes is dated on or before this day.
SCENARIO_AS_OF: Final = dt.date(2026, 11, 20)
#: Months closed by the monthly clearing (the last one stays open for corrections).
CLOSED_CLEARING_MONTHS: Final = ("2026-06", "2026-07", "2026-08", "2026-09")
OPEN_CLEARING_MONTHS: Final = ("2026-10",)

_LUOYANG = Principal("luoyang", Role.AGENCY_HANDLER, "410300", display_name="洛阳市经办人")
_BOBAI: Final = "H45092300001"
_NANHUA_1: Final = "H43040000001"
_NANHUA_2: Final = "H43040000002"
_CENTRAL: Final = "H43040000004"
_FIRST_PEOPLES: Final = "H43040000005"
_HENGYANG_COUNTY: Final = "H43042100001"
_LEIYANG: Final = "H43048100001"
_ZHENGDA: Final = "H41010000001"
_CASHIERS: Final = {_BOBAI: "bobai", _NANHUA_1: "nhfy1"}
_DIAGNOSES: Final = ("I63.900", "J18.900", "K80.101", "I25.103", "E11.900", "N20.000", "S72.001")
_STAY_DIAGNOSES: Final = tuple(d for d in _DIAGNOSES if not d.startswith("S"))
# Codes every sample catalogue has, billed per day of a stay.
_DAILY_LINES: Final = (
    ("001101000010000", Decimal("45.00")),  # 普通病房床位费
    ("001102000010000", Decimal("15.00")),  # 住院诊查费
    ("001103000010000", Decimal("25.00")),  # I级护理
)


@dataclass(frozen=True)
class ScenarioReport:
    loaded: bool  # False: the scenario was already there, nothing was added
    persons_added: int = 0
    filings_added: int = 0
    settlements_added: int = 0
    reversals_added: int = 0
    story_settlements: tuple[SettlementRecord, ...] = ()

    def summary(self) -> str:
        if not self.loaded:
            return "演示场景已存在 demo scenario already loaded: filings +0, settlements +0"
        return (
            f"演示场景 demo scenario: persons +{self.persons_added}, filings +{self.filings_added}, "
            f"settlements +{self.settlements_added} (reversals +{self.reversals_added})"
        )


# --------------------------------------------------------------------------- the stories


def _at(value: Any) -> dt.datetime:
    moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=CHINA_TZ) if moment.tzinfo is None else moment


def _day(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


@cache
def load_stories() -> tuple[dict[str, Any], ...]:
    """The seed stories as shipped (package data ``yidi/demo/stories.yaml``)."""
    text = (resources.files("yidi.demo") / "stories.yaml").read_text(encoding="utf-8")
    return tuple(YAML(typ="safe").load(text)["stories"])


def story_person(story: dict[str, Any]) -> Person:
    data = story["person"]
    gender = Gender.MALE if data["gender"] == "male" else Gender.FEMALE
    birth_on = _day(data["birth_on"])
    region = str(data["insured_region"])
    return Person(
        id_number=make_resident_id(region, birth_on, int(data["id_sequence"]), gender).number,
        name=str(data["name"]),
        gender=gender.value,
        birth_on=birth_on,
        insured_region_code=region,
        insurance_type=InsuranceType[str(data["insurance"]).upper()],
        person_type=PersonType(data["person_type"]),
        card_number=str(data["card_number"]),
        has_second_generation_card=True,
        home_address=str(data["home_address"]),
        mobile=str(data["mobile"]),
        ethnicity=str(data["ethnicity"]) if data.get("ethnicity") else None,
        insured_since=_day(data["insured_since"]) if data.get("insured_since") else None,
        employer_name=str(data["employer_name"]) if data.get("employer_name") else None,
    )


def laoxie_id_number() -> str:
    """老谢's ID number (the ``laoxie`` demo account signs in as him)."""
    return story_person(load_stories()[0]).id_number


def story_lines(story: dict[str, Any]) -> list[tuple[str, str, Decimal, Decimal]]:
    return [
        (str(code), str(name), Decimal(str(qty)), Decimal(str(price)))
        for code, name, qty, price in story["stay"]["lines"]
    ]


# --------------------------------------------------------------------------- the cast


@dataclass(frozen=True)
class _Stay:
    hospital: str
    admitted_on: dt.date
    days: int
    outcome: str = "settled"  # settled | reversed | admitted | discharged
    emergency: bool = False


@dataclass(frozen=True)
class _Role:
    """One synthetic person's part: who files, what, when, and what happens next."""

    pool: str  # hengyang | ningxia | zhengzhou | luoyang
    category: FilingCategory
    filed_on: dt.date
    state: str = "approved"  # approved | submitted | rejected | changed | cancelled | due
    hospital: str = _BOBAI  # the designated institution on the form
    stays: tuple[_Stay, ...] = ()
    has_card: bool = True


def _d(month: int, day: int) -> dt.date:
    return dt.date(2026, month, day)


_RETIREE = FilingCategory.RETIREE_RESETTLED
_RESIDENT = FilingCategory.LONG_TERM_RESIDENT
_POSTED = FilingCategory.POSTED_WORKER
_REFERRAL = FilingCategory.REFERRAL
_EMERGENCY = FilingCategory.EMERGENCY

_ROLES: Final = (
    # 衡阳 insured persons living or treated in 广西博白 (filed by the Hengyang agency).
    _Role("hengyang", _RETIREE, _d(5, 6), stays=(_Stay(_BOBAI, _d(6, 2), 9), _Stay(_BOBAI, _d(9, 14), 7))),
    _Role("hengyang", _RETIREE, _d(5, 7), stays=(_Stay(_BOBAI, _d(7, 6), 12),)),
    _Role("hengyang", _RETIREE, _d(5, 12), stays=(_Stay(_BOBAI, _d(8, 17), 8, "reversed"),)),
    _Role("hengyang", _RESIDENT, _d(5, 13), stays=(_Stay(_BOBAI, _d(6, 22), 6),)),
    _Role("hengyang", _RESIDENT, _d(5, 14), stays=(_Stay(_BOBAI, _d(10, 12), 10),), has_card=False),
    _Role("hengyang", _POSTED, _d(5, 19), stays=(_Stay(_BOBAI, _d(7, 20), 5),)),
    _Role("hengyang", _POSTED, _d(5, 20), stays=(_Stay(_BOBAI, _d(11, 2), 6),)),
    _Role("hengyang", _REFERRAL, _d(6, 8), stays=(_Stay(_BOBAI, _d(6, 15), 14),)),
    _Role("hengyang", _REFERRAL, _d(9, 1), stays=(_Stay(_BOBAI, _d(9, 7), 11, "reversed"),)),
    _Role("hengyang", _EMERGENCY, _d(7, 13), stays=(_Stay(_BOBAI, _d(7, 13), 7, emergency=True),)),
    _Role("hengyang", _EMERGENCY, _d(10, 19), stays=(_Stay(_BOBAI, _d(10, 19), 5, emergency=True),)),
    _Role("hengyang", _RETIREE, _d(6, 3), state="changed", stays=(_Stay(_BOBAI, _d(10, 26), 9),)),
    _Role("hengyang", _RETIREE, _d(8, 10), stays=(_Stay(_BOBAI, _d(11, 16), 0, "admitted"),)),
    _Role("hengyang", _RESIDENT, _d(8, 11), stays=(_Stay(_BOBAI, _d(11, 9), 8, "discharged"),)),
    _Role("hengyang", _RESIDENT, _d(9, 22), has_card=False),
    _Role("hengyang", _RESIDENT, _d(6, 16), state="cancelled"),
    _Role("hengyang", _RESIDENT, _d(11, 10), state="rejected"),
    _Role("hengyang", _RETIREE, _d(11, 16), state="submitted"),
    _Role("hengyang", _RESIDENT, _d(11, 17), state="submitted"),
    _Role("hengyang", _POSTED, _d(11, 18), state="submitted"),
    _Role("hengyang", _REFERRAL, _d(11, 19), state="submitted"),
    _Role("hengyang", _EMERGENCY, _d(11, 18), state="due"),
    # 宁夏 insured persons living in 衡阳 (filed by the Ningxia agency).
    _Role("ningxia", _RESIDENT, _d(5, 8), hospital=_CENTRAL, stays=(_Stay(_CENTRAL, _d(6, 9), 8),)),
    _Role("ningxia", _RETIREE, _d(5, 21), hospital=_HENGYANG_COUNTY, stays=(_Stay(_HENGYANG_COUNTY, _d(8, 3), 10),)),
    _Role("ningxia", _POSTED, _d(6, 1), hospital=_FIRST_PEOPLES, stays=(_Stay(_FIRST_PEOPLES, _d(9, 21), 6),)),
    _Role("ningxia", _RESIDENT, _d(6, 2), hospital=_NANHUA_1, stays=(_Stay(_NANHUA_1, _d(10, 13), 9, "reversed"),)),
    _Role("ningxia", _RETIREE, _d(11, 18), hospital=_NANHUA_1, state="submitted"),
    # 郑州 and 洛阳 insured persons in 衡阳 (filed by their own agencies).
    _Role("zhengzhou", _RETIREE, _d(5, 11), hospital=_LEIYANG, stays=(_Stay(_LEIYANG, _d(7, 27), 9),)),
    _Role("zhengzhou", _RESIDENT, _d(5, 15), hospital=_CENTRAL, stays=(_Stay(_CENTRAL, _d(6, 29), 7), _Stay(_CENTRAL, _d(10, 5), 8))),
    _Role("zhengzhou", _EMERGENCY, _d(8, 24), hospital=_NANHUA_2, stays=(_Stay(_NANHUA_2, _d(8, 24), 6, emergency=True),)),
    _Role("zhengzhou", _REFERRAL, _d(9, 8), hospital=_NANHUA_1, stays=(_Stay(_NANHUA_1, _d(9, 15), 12),)),
    _Role("zhengzhou", _POSTED, _d(6, 10), hospital=_FIRST_PEOPLES, stays=(_Stay(_FIRST_PEOPLES, _d(11, 3), 7),), has_card=False),
    _Role("zhengzhou", _RESIDENT, _d(11, 19), hospital=_CENTRAL, state="submitted"),
    _Role("luoyang", _RETIREE, _d(5, 25), hospital=_NANHUA_2, stays=(_Stay(_NANHUA_2, _d(8, 10), 11),)),
    _Role("luoyang", _RESIDENT, _d(6, 4), hospital=_HENGYANG_COUNTY, stays=(_Stay(_HENGYANG_COUNTY, _d(10, 20), 6),)),
)  # fmt: skip

#: Legacy rows handed in by 报盘 (附件2 carries no destination, hospital or signature).
_LEGACY_ROWS: Final = 6
_LEGACY_IMPORTED_AT: Final = dt.datetime(2026, 5, 4, 15, 0, tzinfo=CHINA_TZ)

_POOLS: Final[dict[str, tuple[str, ...]]] = {
    "hengyang": tuple(hengyang_county_codes()),
    "ningxia": ("640104", "640105", "640106"),
    "zhengzhou": ("410102", "410103", "410105"),
    "luoyang": ("410302", "410303", "410311"),
}
# Where each pool's people live or are treated: (province, prefecture, county, address).
_DESTINATIONS: Final[dict[str, tuple[str, str, str | None, str]]] = {
    "hengyang": ("450000", "450900", "450923", "广西壮族自治区玉林市博白县博白镇"),
    "ningxia": ("430000", "430400", None, "湖南省衡阳市蒸湘区"),
    "zhengzhou": ("430000", "430400", None, "湖南省衡阳市石鼓区"),
    "luoyang": ("430000", "430400", None, "湖南省衡阳市珠晖区"),
}
# The insured place's level-3 hospital that signs referrals (转诊转院审批表).
_REFERRERS: Final = {
    "hengyang": ("南华大学附属第一医院", "430400"),
    "zhengzhou": ("郑州大学第一附属医院", "410100"),
}


def _fits(role: _Role, person: SyntheticPerson) -> bool:
    if person.age < 18:
        return False
    if role.category is _RETIREE:
        return person.person_type is PersonType.EMPLOYEE_RETIRED
    if role.category is _POSTED:
        return person.person_type is PersonType.EMPLOYEE_ACTIVE
    return True


def _cast() -> list[tuple[_Role, SyntheticPerson]]:
    """Each role played by the next fitting synthetic person of its pool (deterministic)."""
    pools: dict[str, Iterator[SyntheticPerson]] = {
        name: generate_persons(5000, seed=SCENARIO_SEED + n, insured_region_codes=codes)
        for n, (name, codes) in enumerate(_POOLS.items())
    }
    waiting: dict[str, list[SyntheticPerson]] = {name: [] for name in _POOLS}
    cast: list[tuple[_Role, SyntheticPerson]] = []
    for role in _ROLES:
        spare = waiting[role.pool]
        person = next((p for p in spare if _fits(role, p)), None)
        if person is not None:
            spare.remove(person)
        else:
            for candidate in pools[role.pool]:
                if _fits(role, candidate):
                    person = candidate
                    break
                spare.append(candidate)
        assert person is not None, "the generator always yields enough persons"
        cast.append((role, person))
    return cast


def _legacy_people() -> list[SyntheticPerson]:
    people = generate_persons(
        _LEGACY_ROWS, seed=SCENARIO_SEED + 99, insured_region_codes=_POOLS["hengyang"]
    )
    return list(people)


# --------------------------------------------------------------------------- the run


def _event_time(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=CHINA_TZ)


@dataclass
class _Timeline:
    """Actions in time order; each runs with the clock set to its moment."""

    clock: FixedClock
    actions: list[tuple[dt.datetime, int, Callable[[], object]]] = field(default_factory=list)

    def at(self, moment: dt.datetime, action: Callable[[], object]) -> None:
        self.actions.append((moment, len(self.actions), action))

    def run(self) -> None:
        for moment, _, action in sorted(self.actions, key=lambda a: (a[0], a[1])):
            self.clock.set(moment)
            action()


class _Scenario:
    def __init__(
        self, uow_factory: Callable[[], SqlUnitOfWork], calendar: WorkingDayCalendar | None
    ) -> None:
        self.uow = uow_factory
        # The replay runs on its own clock, so it has its own services on that clock; the
        # working days are the composition root's calendar when it passes one.
        self.clock = FixedClock(_event_time(_d(5, 1), 8))
        self.calendar = calendar or WorkingDayCalendar()
        self.filings = FilingService(uow_factory, self.clock, calendar=self.calendar)
        self.hospital = HospitalService(uow_factory, self.clock)
        self.chronic = ChronicService(uow_factory, self.clock)
        self.timeline = _Timeline(self.clock)
        world = load_world()
        self.hospitals: dict[str, Hospital] = {h.fixmedins_code: h for h in world.hospitals}
        accounts = {a.username: a.principal for a in world.accounts}
        self.agencies = {
            "hengyang": accounts["hengyang"],
            "ningxia": accounts["ningxia"],
            "zhengzhou": accounts["zhengzhou"],
            "luoyang": _LUOYANG,
        }
        self.importer = accounts["hunan"]
        self.rng = random.Random(SCENARIO_SEED)  # noqa: S311 - reproducible demo data
        self.filings_added = 0
        self.settlements: list[SettlementRecord] = []
        self.reversals = 0
        self.story_records: list[SettlementRecord] = []

    # --- helpers -------------------------------------------------------------------------

    def caller(self, hospital_code: str) -> Caller:
        return Caller(hospital_code, _CASHIERS.get(hospital_code, f"cashier-{hospital_code}"))

    def institution(self, hospital_code: str) -> DesignatedInstitution:
        hospital = self.hospitals[hospital_code]
        return DesignatedInstitution(hospital.name, hospital.level, hospital.fixmedins_code)

    def file(
        self,
        principal: Principal,
        record: FilingRecord,
        evidence: Evidence,
        filed_at: dt.datetime,
        approved_at: dt.datetime | None,
    ) -> dict[str, str]:
        """Draft and submit at ``filed_at``, approve at ``approved_at``; returns the ids."""
        ids: dict[str, str] = {}

        def draft_and_submit() -> None:
            draft = self.filings.create_draft(principal, record, evidence=[evidence])
            self.filings.submit(principal, draft.filing_id)
            ids["filing"] = draft.filing_id
            self.filings_added += 1

        self.timeline.at(filed_at, draft_and_submit)
        if approved_at is not None:
            self.timeline.at(approved_at, lambda: self._approve(principal, ids))
        return ids

    def _approve(self, principal: Principal, ids: dict[str, str]) -> None:
        detail = self.filings.approve(principal, ids["filing"])
        ids["number"] = detail.record.filing_number or ""

    def stay(
        self,
        hospital_code: str,
        credential: Credential,
        admitted_at: dt.datetime,
        fees_at: dt.datetime,
        discharged_at: dt.datetime | None,
        settled_at: dt.datetime | None,
        lines: list[tuple[str, str, Decimal, Decimal]],
        *,
        diagnosis: str,
        department: str = "A03",
        emergency_started_at: dt.datetime | None = None,
        reverse_at: dt.datetime | None = None,
        registered_at: dt.datetime | None = None,
        on_settled: Callable[[SettlementRecord], None] | None = None,
    ) -> None:
        """A hospital stay: admission, fee upload, discharge, settlement (and a correction)."""
        caller = self.caller(hospital_code)
        state: dict[str, Any] = {}
        inputs = [
            FeeLineInput(
                serial=str(index),
                catalog_code=code,
                name=name,
                quantity=quantity,
                unit_price=price,
                amount=Money.rounded(quantity * price),
                occurred_at=fees_at,
            )
            for index, (code, name, quantity, price) in enumerate(lines, start=1)
        ]

        def admit() -> None:
            encounter = self.hospital.admit(
                caller,
                AdmissionRequest(
                    credential=credential,
                    med_type="24" if emergency_started_at else "21",
                    admitted_at=admitted_at,
                    department_code=department,
                    diagnosis_codes=(diagnosis,),
                    emergency_started_at=emergency_started_at,
                ),
            )
            state["id"] = encounter.id

        def upload() -> None:
            self.hospital.upload_fees(caller, state["id"], inputs)

        def discharge(when: dt.datetime) -> None:
            self.hospital.discharge(caller, state["id"], when)

        def settle() -> None:
            total = money_sum(
                [line.amount for line in inputs if line.serial not in state.get("cut", ())]
            )
            record = self.hospital.settle(caller, state["id"], total)
            self.settlements.append(record)
            state["settlement"] = record.settlement_id
            if on_settled is not None:
                on_settled(record)

        def correct() -> None:
            # The cashier finds a line billed by mistake: reverse, cancel it, settle again.
            self.hospital.reverse(caller, state["id"], state["settlement"])
            self.reversals += 1
            cut = inputs[-1].serial
            self.hospital.cancel_fees(caller, state["id"], [cut])
            state["cut"] = (cut,)
            settle()

        self.timeline.at(registered_at or admitted_at, admit)
        self.timeline.at(max(fees_at, registered_at or fees_at), upload)
        if discharged_at is not None:
            self.timeline.at(discharged_at, lambda: discharge(discharged_at))
        if settled_at is not None:
            self.timeline.at(settled_at, settle)
        if reverse_at is not None:
            self.timeline.at(reverse_at, correct)

    # --- the seed's stories --------------------------------------------------------------

    def add_stories(self) -> list[Person]:
        persons = []
        for story in load_stories():
            person = story_person(story)
            persons.append(person)
            data, stay = story["filing"], story["stay"]
            destination = data["destination"]
            evidence = data["evidence"]
            record = FilingRecord(
                insured_region_code=person.insured_region_code,
                name=person.name,
                gender=Gender(person.gender),
                insurance_type=person.insurance_type,
                category=FilingCategory(data["category"]),
                person_type=person.person_type,
                social_security_number=person.id_number,
                social_security_card_number=person.card_number,
                has_second_generation_card=True,
                home_address=person.home_address,
                contact_address=str(data["contact_address"]),
                phone=str(data["phone"]),
                mobile=person.mobile,
                destination_province_code=str(destination["province"]),
                destination_prefecture_code=str(destination["prefecture"]),
                destination_county_code=(
                    str(destination["county"]) if destination["county"] else None
                ),
                designated_institutions=(self.institution(str(data["hospital"])),),
                signed_by=SignedBy.PERSON,
                filled_on=_at(data["filed_at"]).date(),
            )
            self.file(
                self.agencies[str(data["agency"])],
                record,
                Evidence(
                    EvidenceKind(evidence["kind"]),
                    str(evidence["number"]),
                    str(evidence["issuer"]),
                    _day(evidence["issued_on"]),
                    issuer_region_code=str(evidence["region"]),
                ),
                _at(data["filed_at"]),
                _at(data["approved_at"]),
            )
            self.stay(
                str(stay["hospital"]),
                Credential("03", person.card_number or ""),
                _at(stay["admitted_at"]),
                _at(stay["fees_at"]),
                _at(stay["discharged_at"]),
                _at(stay["settled_at"]),
                story_lines(story),
                diagnosis=str(stay["diagnosis"]),
                department=str(stay["department"]),
                on_settled=self._check_story(story),
            )
        return persons

    def _check_story(self, story: dict[str, Any]) -> Callable[[SettlementRecord], None]:
        expected_total = Money(str(story["stay"]["reported_total"]))
        expected_self_paid = Money(str(story["stay"]["reported_self_paid"]))

        def check(record: SettlementRecord) -> None:
            total, self_paid = record.amounts["total_charges"], record.amounts["patient_share"]
            if (total, self_paid) != (expected_total, expected_self_paid):
                raise RuntimeError(
                    f"{story['key']}: settled {total} / {self_paid}, "
                    f"the seed reports {expected_total} / {expected_self_paid}"
                )
            self.story_records.append(record)

        return check

    # --- the synthetic cast --------------------------------------------------------------

    def record_for(self, role: _Role, person: SyntheticPerson) -> FilingRecord:
        province, prefecture, county, address = _DESTINATIONS[role.pool]
        hospital = _BOBAI if role.pool == "hengyang" else role.hospital
        admitted_on = role.filed_on if role.category is _EMERGENCY else None
        if role.state == "due":
            admitted_on = role.filed_on
        return FilingRecord(
            insured_region_code=person.insured_region_code,
            name=person.name,
            gender=person.gender,
            insurance_type=person.insurance_type,
            category=role.category,
            person_type=person.person_type,
            social_security_number=person.resident_id.number,
            social_security_card_number=person.social_security_card_number
            if role.has_card
            else None,
            has_second_generation_card=role.has_card,
            home_address=person.address,
            contact_address=f"{address}{self.rng.choice('东南西北')}街{self.rng.randint(1, 199)}号",
            mobile=person.mobile,
            destination_province_code=province,
            destination_prefecture_code=prefecture,
            destination_county_code=county,
            designated_institutions=(self.institution(hospital),),
            signed_by=SignedBy.PERSON,
            filled_on=role.filed_on,
            admitted_on=admitted_on,
        )

    def evidence_for(self, role: _Role, person: SyntheticPerson, hospital: str) -> Evidence:
        _, prefecture, county, _ = _DESTINATIONS[role.pool]
        place = county or prefecture
        number = f"{person.resident_id.number[-4:]}-{role.filed_on:%m%d}"
        if role.category is _RETIREE:
            return Evidence(
                EvidenceKind.HOUSEHOLD_REGISTRATION, f"户-{number}", "安置地公安机关",
                dt.date(2020, 4, 1), issuer_region_code=place,
            )  # fmt: skip
        if role.category is _RESIDENT:
            return Evidence(
                EvidenceKind.RESIDENCE_PERMIT, f"居-{number}", "居住地公安机关",
                role.filed_on - dt.timedelta(days=200), issuer_region_code=place,
            )  # fmt: skip
        if role.category is _POSTED:
            return Evidence(
                EvidenceKind.POSTING_CERTIFICATE, f"派-{number}", "用人单位",
                role.filed_on - dt.timedelta(days=3), issuer_region_code=person.insured_region_code,
            )  # fmt: skip
        if role.category is _REFERRAL:
            name, region = _REFERRERS[role.pool]
            return Evidence(
                EvidenceKind.REFERRAL_APPROVAL, f"转-{number}", name,
                role.filed_on - dt.timedelta(days=1), issuer_region_code=region,
                issuer_hospital_level=HospitalLevel.LEVEL_3,
            )  # fmt: skip
        return Evidence(
            EvidenceKind.EMERGENCY_RECORD, f"急-{number}", self.hospitals[hospital].name,
            role.filed_on, issuer_region_code=self.hospitals[hospital].region_code,
        )  # fmt: skip

    def fee_lines(self, hospital_code: str, days: int) -> list[tuple[str, str, Decimal, Decimal]]:
        """A plausible bill: daily bed, examination and nursing, plus a few catalogue items."""
        region = self.hospitals[hospital_code].region_code
        catalog = sample_catalog("450000" if region.startswith("45") else "430400")
        items = catalog.items
        lines = [
            (code, items[code].name, Decimal(max(days, 1)), price) for code, price in _DAILY_LINES
        ]
        daily = {code for code, _ in _DAILY_LINES}
        choices = sorted(
            (c for c, item in items.items() if c not in daily and item.is_valid_on(SCENARIO_AS_OF)),
        )
        for code in self.rng.sample(choices, self.rng.randint(4, 8)):
            item = items[code]
            if item.price_limit is not None:
                price = item.price_limit.yuan
                if self.rng.random() < 0.3:
                    price = (price * Decimal("1.15")).quantize(Decimal("0.01"))
            else:
                price = Decimal(self.rng.randint(300, 30000)) / 100
            lines.append((code, item.name, Decimal(self.rng.randint(1, 12)), price))
        return lines

    def add_cast(self) -> list[Person]:
        persons = []
        for role, synthetic in _cast():
            persons.append(as_person(synthetic, has_card=role.has_card))
            self.add_role(role, synthetic)
        return persons

    def add_role(self, role: _Role, person: SyntheticPerson) -> None:
        principal = self.agencies[role.pool]
        hospital = _BOBAI if role.pool == "hengyang" else role.hospital
        record = self.record_for(role, person)
        evidence = self.evidence_for(role, person, hospital)
        filed_at = _event_time(role.filed_on, 9, self.rng.randint(0, 59))
        if role.state == "due":
            # An emergency admission two days ago: the draft waits for its materials.
            def draft() -> None:
                self.filings.create_draft(principal, record, evidence=[evidence])
                self.filings_added += 1

            self.timeline.at(_event_time(role.filed_on + dt.timedelta(days=1), 10), draft)
            return
        approve_day = role.filed_on + dt.timedelta(days=1 if role.state != "submitted" else 0)
        approved_at = (
            _event_time(approve_day, 14, self.rng.randint(0, 59))
            if role.state in ("approved", "changed", "cancelled")
            else None
        )
        ids = self.file(principal, record, evidence, filed_at, approved_at)
        if role.state == "rejected":
            reason = "居住证已过有效期，请补交签注后的有效居住证"
            self.timeline.at(
                _event_time(role.filed_on + dt.timedelta(days=1), 11),
                lambda: self.filings.reject(principal, ids["filing"], reason),
            )
        elif role.state == "cancelled":
            reason = "参保人已回参保地居住，本人申请撤销备案"
            self.timeline.at(
                _event_time(_d(9, 28), 15),
                lambda: self.filings.cancel(principal, ids["filing"], reason),
            )
        elif role.state == "changed":
            new_address = f"{_DESTINATIONS[role.pool][3]}新华路{self.rng.randint(1, 99)}号"

            def change() -> None:
                current = self.filings.get(principal, ids["filing"]).record
                self.filings.change(
                    principal,
                    ids["filing"],
                    dataclasses.replace(current, contact_address=new_address, mobile=person.mobile),
                    reason="安置地址变更",
                )

            self.timeline.at(_event_time(_d(9, 9), 10), change)
        for stay in role.stays:
            self.add_stay(stay, person, ids)

    def add_stay(self, stay: _Stay, person: SyntheticPerson, ids: dict[str, str]) -> None:
        hour = 6 if stay.emergency else self.rng.randint(8, 16)
        admitted_at = _event_time(stay.admitted_on, hour)
        started = admitted_at - dt.timedelta(hours=5) if stay.emergency else None
        # An emergency patient is registered once the filing is approved (next working day).
        registered = (
            _event_time(stay.admitted_on + dt.timedelta(days=1), 16) if stay.emergency else None
        )
        discharged_on = stay.admitted_on + dt.timedelta(days=stay.days)
        discharged_at = _event_time(discharged_on, 10) if stay.outcome != "admitted" else None
        settled_at = (
            _event_time(discharged_on, 10, 30) if stay.outcome in ("settled", "reversed") else None
        )
        reverse_at = (
            _event_time(discharged_on + dt.timedelta(days=2), 9)
            if stay.outcome == "reversed"
            else None
        )
        self.stay(
            stay.hospital,
            Credential("02", person.resident_id.number, person.name),
            admitted_at,
            (registered or admitted_at) + dt.timedelta(hours=1)
            if stay.emergency
            else admitted_at + dt.timedelta(hours=2),
            discharged_at,
            settled_at,
            self.fee_lines(stay.hospital, stay.days),
            diagnosis=self.rng.choice(_STAY_DIAGNOSES),
            emergency_started_at=started,
            reverse_at=reverse_at,
            registered_at=registered,
        )

    # --- 门诊慢特病 认定 -----------------------------------------------------------------

    def add_chronic_recognitions(self) -> None:
        """老谢 recognised for 高血压 by the Hengyang agency, 彭某某 for 血液透析 by Ningxia's."""
        stories = load_stories()
        laoxie, peng = story_person(stories[0]), story_person(stories[1])
        cases = (
            (self.agencies["hengyang"], laoxie, "M03900", _d(3, 2), "H43040000001", "JD-2026-0001"),
            (self.agencies["ningxia"], peng, "M07803", _d(4, 8), "", "NX-MT-2026-0117"),
        )
        for agency, person, code, begin_on, hospital, reference in cases:

            def recognise(
                agency: Principal = agency,
                person: Person = person,
                code: str = code,
                begin_on: dt.date = begin_on,
                hospital: str = hospital,
                reference: str = reference,
            ) -> None:
                self.chronic.recognise(
                    agency,
                    person.id_number,
                    NewRecognition(code, begin_on, None, ChronicEvidence(hospital, "", reference)),
                )

            self.timeline.at(_event_time(begin_on + dt.timedelta(days=3), 9), recognise)

    # --- legacy 报盘 rows and clearing ---------------------------------------------------

    def add_legacy_import(self) -> None:
        people = _legacy_people()
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(ANNEX2_COLUMNS)
        for n, p in enumerate(people, start=1):
            # Old paper records: the card number was often never recorded.
            card = p.social_security_card_number if n % 2 else ""
            writer.writerow(
                [
                    str(n), p.insured_region_code, "", p.name, p.gender.label_zh,
                    p.resident_id.number, p.insurance_type.annex_code, p.resident_id.number,
                    card, p.address, "", p.mobile, "1" if p.retired else "2",
                ]
            )  # fmt: skip
        data = out.getvalue().encode("utf-8")

        def load() -> None:
            report = FilingImports(self.uow, self.clock, calendar=self.calendar).import_annex2(
                self.importer, data, "衡阳市2016年异地安置人员报盘.csv"
            )
            self.filings_added += report.imported

        self.timeline.at(_LEGACY_IMPORTED_AT, load)

    def add_clearing(self) -> None:
        for month in (*CLOSED_CLEARING_MONTHS, *OPEN_CLEARING_MONTHS):
            year, mon = int(month[:4]), int(month[5:])
            run_on = dt.date(year + mon // 12, mon % 12 + 1, 6)
            close = month in CLOSED_CLEARING_MONTHS

            def clear(month: str = month, close: bool = close) -> None:
                run_clearing(self.uow(), self.clock, month, ClearingLevel.PROVINCE, close=close)

            self.timeline.at(_event_time(run_on, 17), clear)


def scenario_loaded(uow: SqlUnitOfWork) -> bool:
    """The marker: 老谢's filing (the scenario's first story) exists."""
    with uow:
        return bool(uow.filings.current_for_person(laoxie_id_number(), tuple(FilingState)))


def load_scenario(
    uow_factory: Callable[[], SqlUnitOfWork], calendar: WorkingDayCalendar | None = None
) -> ScenarioReport:
    """Replay the demo scenario once (needs the reference world and sample catalogues).

    Persons already registered (e.g. by an earlier partial run) are kept as they are.
    """
    if scenario_loaded(uow_factory()):
        return ScenarioReport(loaded=False)
    scenario = _Scenario(uow_factory, calendar)
    persons = scenario.add_stories() + scenario.add_cast()
    scenario.add_legacy_import()
    scenario.add_chronic_recognitions()
    scenario.add_clearing()
    with uow_factory() as uow:
        known = uow.reference.registered_id_numbers([p.id_number for p in persons])
        new = [p for p in persons if p.id_number not in known]
        uow.reference.add_persons(new)
        uow.commit()
    try:
        scenario.timeline.run()
    except YidiError as error:
        raise RuntimeError(f"demo scenario failed: {error.code} {error.message}") from error
    settlements = [s for s in scenario.settlements if s.kind == "settle"]
    return ScenarioReport(
        loaded=True,
        persons_added=len(new),
        filings_added=scenario.filings_added,
        settlements_added=len(settlements),
        reversals_added=scenario.reversals,
        story_settlements=tuple(scenario.story_records),
    )
