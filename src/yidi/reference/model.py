"""Reference data: agencies (经办机构), designated hospitals (定点医疗机构) and insured persons (参保人员)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from yidi.kernel.insurance import HospitalLevel, InsuranceType, PersonType


@dataclass(frozen=True, slots=True)
class Agency:
    code: str
    name: str
    region_code: str
    insurance_type: InsuranceType | None  # None: the agency handles both insurance types
    phone: str


@dataclass(frozen=True, slots=True)
class Hospital:
    fixmedins_code: str  # 定点医药机构编号
    name: str
    level: HospitalLevel
    region_code: str
    cross_region_connected: bool = True  # 接入国家跨省异地就医结算平台


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
