"""Public directory (公共查询): connected hospitals by region and level, agency filing phones."""

from __future__ import annotations

from dataclasses import dataclass

from yidi.domain.errors import InvalidInput
from yidi.domain.insurance import HospitalLevel
from yidi.domain.reference import Agency, Hospital
from yidi.storage.uow import SqlUnitOfWork

# Names of the divisions the demo world uses (GB/T 2260), until the national division
# list is part of the package; codes not listed here are shown as codes.
_DIVISION_NAMES: dict[str, tuple[str, str]] = {
    "410000": ("河南省", "Henan"),
    "410100": ("郑州市", "Zhengzhou"),
    "410181": ("巩义市", "Gongyi"),
    "410300": ("洛阳市", "Luoyang"),
    "430000": ("湖南省", "Hunan"),
    "430400": ("衡阳市", "Hengyang"),
    "430405": ("珠晖区", "Zhuhui"),
    "430406": ("雁峰区", "Yanfeng"),
    "430407": ("石鼓区", "Shigu"),
    "430408": ("蒸湘区", "Zhengxiang"),
    "430412": ("南岳区", "Nanyue"),
    "430421": ("衡阳县", "Hengyang County"),
    "430422": ("衡南县", "Hengnan"),
    "430423": ("衡山县", "Hengshan"),
    "430424": ("衡东县", "Hengdong"),
    "430426": ("祁东县", "Qidong"),
    "430481": ("耒阳市", "Leiyang"),
    "430482": ("常宁市", "Changning"),
    "450000": ("广西壮族自治区", "Guangxi"),
    "450900": ("玉林市", "Yulin"),
    "450923": ("博白县", "Bobai"),
    "640000": ("宁夏回族自治区", "Ningxia"),
}


def region_name(code: str, *, english: bool = False) -> str:
    names = _DIVISION_NAMES.get(code)
    if names is None:
        return code
    return names[1] if english else names[0]


def region_prefix(code: str) -> str:
    """430000 -> "43", 430400 -> "4304", 430421 -> "430421"."""
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


@dataclass(frozen=True, slots=True)
class RegionOption:
    code: str
    depth: int  # 0 province, 1 prefecture, 2 county


def hospital_region_options(hospitals: list[Hospital]) -> list[RegionOption]:
    """Every province, prefecture and county that has a hospital, as a tree in code order."""
    codes: set[str] = set()
    for hospital in hospitals:
        code = hospital.region_code
        codes.update({code[:2] + "0000", code[:4] + "00", code})
    return [
        RegionOption(code, 0 if code.endswith("0000") else 1 if code.endswith("00") else 2)
        for code in sorted(codes)
    ]


@dataclass(frozen=True, slots=True)
class HospitalListing:
    hospitals: list[Hospital]
    regions: list[RegionOption]
    count_by_level: dict[HospitalLevel, int]


def connected_hospitals(
    uow: SqlUnitOfWork, *, region_code: str | None = None, level: int | None = None
) -> HospitalListing:
    """Hospitals connected for direct settlement, filtered by region (any level) and level."""
    with uow:
        everything = [h for h in uow.reference.hospitals() if h.cross_region_connected]
    regions = hospital_region_options(everything)
    if region_code and region_code not in {r.code for r in regions}:
        raise InvalidInput(
            "REGION_UNKNOWN", "请选择列表中的地区", "choose a region from the list", field="region"
        )
    if level is not None and level not in {int(v) for v in HospitalLevel}:
        raise InvalidInput(
            "LEVEL_UNKNOWN", "请选择列表中的级别", "choose a level from the list", field="level"
        )
    chosen = [
        h
        for h in everything
        if (not region_code or h.region_code.startswith(region_prefix(region_code)))
        and (level is None or int(h.level) == level)
    ]
    chosen.sort(key=lambda h: (-int(h.level), h.region_code, h.fixmedins_code))
    counts = {lv: sum(1 for h in chosen if h.level is lv) for lv in sorted(HospitalLevel)}
    return HospitalListing(chosen, regions, counts)


def agency_directory(uow: SqlUnitOfWork) -> list[Agency]:
    """Every agency with its filing phone, in region order (the seed's list first for Hengyang)."""
    with uow:
        return uow.reference.agencies()
