"""Reference data: agencies (经办机构), designated hospitals (定点医疗机构) and insured persons (参保人员)."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field

from yidi.kernel.insurance import HospitalLevel, InsuranceType, PersonType


@dataclass(frozen=True, slots=True)
class Agency:
    code: str
    name: str
    region_code: str
    insurance_type: InsuranceType | None  # None: the agency handles both insurance types
    phone: str


class InstitutionType(enum.StrEnum):
    """定点医药机构的类别: a designated hospital or a designated retail pharmacy."""

    HOSPITAL = "hospital"  # 定点医疗机构 (national codes begin with H)
    PHARMACY = "pharmacy"  # 定点零售药店 (national codes begin with P)

    @property
    def label_zh(self) -> str:
        return "定点医疗机构" if self is InstitutionType.HOSPITAL else "定点零售药店"


class ConnectionKind(enum.StrEnum):
    """The kinds of cross-region direct settlement an institution is connected for (接入):
    each is switched on per institution."""

    INPATIENT = "inpatient"  # 住院
    OUTPATIENT = "outpatient"  # 普通门诊
    CHRONIC = "chronic"  # 门诊慢特病
    PHARMACY = "pharmacy"  # 定点药店购药

    @property
    def label_zh(self) -> str:
        return {
            "inpatient": "住院",
            "outpatient": "普通门诊",
            "chronic": "门诊慢特病",
            "pharmacy": "药店购药",
        }[self.value]


#: What a hospital without its own list is connected for (the columns' server default).
HOSPITAL_CONNECTIONS: frozenset[ConnectionKind] = frozenset(
    {ConnectionKind.INPATIENT, ConnectionKind.OUTPATIENT}
)
#: What a pharmacy without its own list is connected for.
PHARMACY_CONNECTIONS: frozenset[ConnectionKind] = frozenset({ConnectionKind.PHARMACY})


def parse_connections(text: str) -> frozenset[ConnectionKind]:
    """The stored comma list (``inpatient,outpatient``) as kinds; unknown words are refused."""
    return frozenset(ConnectionKind(word.strip()) for word in text.split(",") if word.strip())


def format_connections(kinds: frozenset[ConnectionKind]) -> str:
    return ",".join(kind.value for kind in ConnectionKind if kind in kinds)


@dataclass(frozen=True, slots=True)
class Hospital:
    """A designated institution (定点医药机构): a hospital or, with ``institution_type``
    PHARMACY, a retail pharmacy (its ``level`` is then not a hospital level and no scheme
    reads it)."""

    fixmedins_code: str  # 定点医药机构编号
    name: str
    level: HospitalLevel
    region_code: str
    cross_region_connected: bool = True  # 接入国家跨省异地就医结算平台
    institution_type: InstitutionType = InstitutionType.HOSPITAL
    #: The kinds connected for direct settlement (None: the type's default list).
    connections: frozenset[ConnectionKind] | None = field(default=None)

    @property
    def is_pharmacy(self) -> bool:
        return self.institution_type is InstitutionType.PHARMACY

    @property
    def listed_connections(self) -> frozenset[ConnectionKind]:
        """The kinds listed for the institution (its own list, or its type's default)."""
        if self.connections is not None:
            return self.connections
        return PHARMACY_CONNECTIONS if self.is_pharmacy else HOSPITAL_CONNECTIONS

    @property
    def connected_kinds(self) -> frozenset[ConnectionKind]:
        """What this institution settles directly: nothing unless connected at all."""
        return self.listed_connections if self.cross_region_connected else frozenset()


@dataclass(frozen=True, slots=True)
class Person:
    id_number: str  # 社会保障号码 = 公民身份号码
    name: str
    gender: str  # national gend code: 1 男, 2 女
    birth_on: dt.date
    insured_region_code: str  # 参保地
    insurance_type: InsuranceType
    person_type: PersonType
    card_number: str | None  # 社会保障卡号
    has_second_generation_card: bool
    home_address: str = ""
    mobile: str = ""
    low_income_group: str | None = None  # 医疗救助对象类别, if any
    psn_no: str = ""  # 人员编号: random, issued by the register ("" before it is stored)
    ethnicity: str | None = None  # 民族 naty (GB 3304 code), None: unknown
    insured_since: dt.date | None = None  # 参保日期, None: unknown
    employer_name: str | None = None  # 单位名称, None: unknown or none
