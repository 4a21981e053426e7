"""Public directory (公共查询): connected hospitals by region and level, agency filing phones."""

from __future__ import annotations

from dataclasses import dataclass

from yidi.kernel.errors import InvalidInput
from yidi.kernel.insurance import HospitalLevel
from yidi.kernel.regions import default_registry, region_prefix
from yidi.platform.uow import SqlUnitOfWork
from yidi.reference.model import Agency, Hospital

# English names for the divisions of the demo world; the division list itself (GB/T 2260,
# yidi.kernel.regions) carries Chinese names only, which other codes fall back to.
_ENGLISH_NAMES: dict[str, str] = {
    "410000": "Henan",
    "410100": "Zhengzhou",
    "410181": "Gongyi",
    "410300": "Luoyang",
    "430000": "Hunan",
    "430400": "Hengyang",
    "430405": "Zhuhui",
    "430406": "Yanfeng",
    "430407": "Shigu",
    "430408": "Zhengxiang",
    "430412": "Nanyue",
    "430421": "Hengyang County",
    "430422": "Hengnan",
    "430423": "Hengshan",
    "430424": "Hengdong",
    "430426": "Qidong",
    "430481": "Leiyang",
    "430482": "Changning",
    "450000": "Guangxi",
    "450900": "Yulin",
    "450923": "Bobai",
    "640000": "Ningxia",
}


def region_name(code: str, *, english: bool = False) -> str:
    if english and code in _ENGLISH_NAMES:
        return _ENGLISH_NAMES[code]
    registry = default_registry()
    return registry.get(code).name if registry.exists(code) else code


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
