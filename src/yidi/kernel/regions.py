"""Administrative divisions (行政区划, GB/T 2260) and the region lists the forms need.

Codes are six digits: province (2), prefecture (2), county (2). The list ships
in ``yidi/data/divisions.csv`` (source and year in ``yidi/data/README.md``) and
is read once, on first use.

Medical-insurance pools (统筹区) are usually prefectures, but the national
interface also uses codes ending in ``99`` for a prefecture's own pool
(e.g. ``430499``, 衡阳市本级); such codes resolve to a county-level entry named
``<prefecture>本级`` under that prefecture, so they never fail a lookup.
"""

from __future__ import annotations

import csv
import enum
import functools
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from typing import Final

from yidi.kernel.errors import NotFound

_DATA_FILE: Final = "data/divisions.csv"
POOL_SUFFIX: Final = "本级"


class DivisionLevel(enum.Enum):
    """Level of a division: 省级 / 地级 / 县级."""

    PROVINCE = "province"
    PREFECTURE = "prefecture"
    COUNTY = "county"


@dataclass(frozen=True, slots=True)
class Division:
    """One administrative division (行政区划).

    ``full_name`` joins the names from the province down ("湖南省衡阳市衡阳县");
    ``valid_until`` is set (year-month) for a code that was later retired but
    appears in older documents, e.g. 长垣县 410728 (became 长垣市 410783 in 2019).
    """

    code: str
    name: str
    level: DivisionLevel
    parent_code: str | None
    full_name: str = field(default="", compare=False)
    valid_until: str | None = None

    @property
    def is_current(self) -> bool:
        return self.valid_until is None


def region_prefix(region_code: str) -> str:
    """The code prefix everything inside ``region_code`` shares: 430000 -> "43", 430400 ->
    "4304", 430421 -> "430421", and the system region 000000 -> "" (it covers every region).
    """
    trimmed = region_code.rstrip("0")
    return trimmed if len(trimmed) % 2 == 0 else trimmed + "0"


def _unknown(code: str) -> NotFound:
    return NotFound(
        "DIVISION_UNKNOWN",
        f"行政区划代码 {code} 不存在",
        f"Unknown administrative division code {code}",
        field="division_code",
    )


class DivisionRegistry:
    """Lookups over a fixed set of divisions (build once, then read-only)."""

    def __init__(self, divisions: Iterable[Division]) -> None:
        by_code: dict[str, Division] = {}
        for division in divisions:
            if division.code in by_code:
                raise ValueError(f"duplicate division code {division.code}")
            by_code[division.code] = division
        children: dict[str, list[Division]] = {}
        for division in by_code.values():
            if division.parent_code is not None:
                if division.parent_code not in by_code:
                    raise ValueError(f"{division.code} has unknown parent {division.parent_code}")
                children.setdefault(division.parent_code, []).append(division)
        # Fill in full names top-down, now that every parent is known.
        resolved: dict[str, Division] = {}
        for code in sorted(by_code, key=lambda c: (by_code[c].level != DivisionLevel.PROVINCE, c)):
            resolved[code] = self._with_full_name(by_code[code], by_code)
        self._by_code = resolved
        self._children = {
            parent: sorted((resolved[d.code] for d in kids), key=lambda d: d.code)
            for parent, kids in children.items()
        }
        self._by_name: dict[str, list[Division]] = {}
        for division in sorted(resolved.values(), key=lambda d: d.code):
            self._by_name.setdefault(division.name, []).append(division)

    @staticmethod
    def _with_full_name(division: Division, by_code: dict[str, Division]) -> Division:
        names = [division.name]
        parent_code = division.parent_code
        while parent_code is not None:
            parent = by_code[parent_code]
            names.append(parent.name)
            parent_code = parent.parent_code
        full_name = "".join(reversed(names))
        return Division(
            division.code,
            division.name,
            division.level,
            division.parent_code,
            full_name,
            division.valid_until,
        )

    def __len__(self) -> int:
        return len(self._by_code)

    def all(self, *, include_retired: bool = True) -> list[Division]:
        """Every division in code order."""
        return sorted(
            (d for d in self._by_code.values() if include_retired or d.is_current),
            key=lambda d: d.code,
        )

    def _pool(self, code: str) -> Division | None:
        """The ``XXXX99`` pool code of a prefecture (or ``XX9900`` of a province)."""
        if len(code) != 6 or not code.isdigit():
            return None
        if code[4:] == "99":
            owner = self._by_code.get(code[:4] + "00")
        elif code[2:] == "9900":
            owner = self._by_code.get(code[:2] + "0000")
        else:
            return None
        if owner is None:
            return None
        level = (
            DivisionLevel.PREFECTURE
            if owner.level is DivisionLevel.PROVINCE
            else DivisionLevel.COUNTY
        )
        return Division(
            code,
            owner.name + POOL_SUFFIX,
            level,
            owner.code,
            owner.full_name + POOL_SUFFIX,
        )

    def get(self, code: str) -> Division:
        division = self._by_code.get(code) or self._pool(code)
        if division is None:
            raise _unknown(code)
        return division

    def is_pool(self, code: str) -> bool:
        """True for a pool code (…99) that is not itself a division."""
        return code not in self._by_code and self._pool(code) is not None

    def exists(self, code: str) -> bool:
        return code in self._by_code or self._pool(code) is not None

    def find_by_name(
        self, name: str, within: str | None = None, *, include_retired: bool = True
    ) -> list[Division]:
        """Divisions whose name (or full name) is exactly ``name``, in code order.

        Retired names are included by default because old documents use them.
        """
        name = name.strip()
        found = list(self._by_name.get(name, []))
        if not found:
            found = [d for d in self._by_code.values() if d.full_name == name]
        return [
            d
            for d in found
            if (include_retired or d.is_current)
            and (within is None or self.is_within(d.code, within))
        ]

    def children(self, code: str, *, include_retired: bool = False) -> list[Division]:
        self.get(code)
        return [d for d in self._children.get(code, []) if include_retired or d.is_current]

    def parent(self, code: str) -> Division | None:
        division = self.get(code)
        return None if division.parent_code is None else self.get(division.parent_code)

    def ancestors(self, code: str) -> list[Division]:
        """From the parent up to the province."""
        chain: list[Division] = []
        parent = self.parent(code)
        while parent is not None:
            chain.append(parent)
            parent = self.parent(parent.code)
        return chain

    def province_of(self, code: str) -> Division:
        division = self.get(code)
        return ([division, *self.ancestors(code)])[-1]

    def prefecture_of(self, code: str) -> Division | None:
        """The prefecture containing ``code`` (itself if a prefecture); ``None`` for
        provinces and for counties administered directly by a province or municipality."""
        for division in [self.get(code), *self.ancestors(code)]:
            if division.level is DivisionLevel.PREFECTURE:
                return division
        return None

    def is_within(self, code: str, ancestor_code: str) -> bool:
        """True if ``code`` is ``ancestor_code`` or lies inside it."""
        self.get(ancestor_code)
        return code == ancestor_code or any(d.code == ancestor_code for d in self.ancestors(code))


def _read_divisions(text: str) -> list[Division]:
    reader = csv.DictReader(io.StringIO(text))
    return [
        Division(
            row["code"],
            row["name"],
            DivisionLevel(row["level"]),
            row["parent_code"] or None,
            valid_until=row["valid_until"] or None,
        )
        for row in reader
    ]


@functools.cache
def default_registry() -> DivisionRegistry:
    """The shipped national list, loaded on first call."""
    text = resources.files("yidi").joinpath(_DATA_FILE).read_text(encoding="utf-8")
    return DivisionRegistry(_read_divisions(text))


# --- Named lists used by forms and seeds -----------------------------------------

HENAN_CODE: Final = "410000"
JIYUAN_CODE: Final = "419001"

HENAN_DIRECT_COUNTIES_2014_2017: Final = (
    "巩义市", "兰考县", "汝州市", "滑县", "长垣县", "邓州市", "永城市", "固始县", "鹿邑县", "新蔡县",
)  # fmt: skip
"""省直管县(市): the 10 counties Henan administered directly (fully from 2014), in
the order 豫人社办函〔2017〕63号 附件3 lists them after the prefecture-level cities."""

HENGYANG_CODE: Final = "430400"
HENGYANG_PHONE_LIST_COUNTIES: Final = (
    "衡阳县", "衡南县", "衡山县", "衡东县", "祁东县", "耒阳市", "常宁市",
    "南岳区", "雁峰区", "蒸湘区", "珠晖区", "石鼓区",
)  # fmt: skip
"""Counties and districts of 衡阳市. The Hengyang 2017 page's filing phone list
also names 高新区 (a development zone, not a division: it has no code) and
omits 衡山县, which is included here so the list covers the whole city."""


def annex4_province_rows(
    registry: DivisionRegistry | None = None, *, excluding: str | None = None
) -> list[Division]:
    """附件4 rows: the 31 mainland provinces in code order (北京市, 天津市, 河北省 ...).

    附件4 is the 省外 table: the filling region's own province (``excluding``, any code
    within it) is not one of its rows.
    """
    registry = registry or default_registry()
    own = excluding[:2] if excluding else None
    return [
        d
        for d in registry.all(include_retired=False)
        if d.level is DivisionLevel.PROVINCE and int(d.code[:2]) < 71 and d.code[:2] != own
    ]


def annex3_rows(
    insured_region_code: str,
    registry: DivisionRegistry | None = None,
    *,
    include_jiyuan: bool = False,
) -> list[Division]:
    """附件3 rows for a filling region: the pools of its own province.

    Henan keeps the notice's list (its 17 cities, then the 省直管县(市) of 2014-2017);
    another province lists its prefecture-level divisions, then the county-level units
    it runs directly (仙桃市 in 湖北, codes xx90xx), each a pool of its own. A
    municipality is one pool: its table has no rows.
    """
    registry = registry or default_registry()
    province = insured_region_code[:2] + "0000"
    if province == HENAN_CODE:
        return annex3_henan_rows(registry, include_jiyuan=include_jiyuan)
    children = registry.children(province)
    return [d for d in children if d.level is DivisionLevel.PREFECTURE] + [
        d for d in children if d.level is DivisionLevel.COUNTY and d.code[2:4] == "90"
    ]


def _one_named(registry: DivisionRegistry, name: str, within: str) -> Division:
    found = registry.find_by_name(name, within=within)
    if len(found) != 1:
        raise LookupError(f"expected one division named {name} in {within}, found {len(found)}")
    return found[0]


def annex3_henan_rows(
    registry: DivisionRegistry | None = None, *, include_jiyuan: bool = False
) -> list[Division]:
    """附件3 rows: Henan's 17 prefecture-level cities in code order, then the 10
    省直管县(市) of 2014-2017 (with their 2017 names, e.g. 长垣县).

    济源市 (419001) is a county-level city run directly by the province; Henan
    documents sometimes count it as an 18th 省辖市, so it can be added after 驻马店市.
    """
    registry = registry or default_registry()
    rows = [d for d in registry.children(HENAN_CODE) if d.level is DivisionLevel.PREFECTURE]
    if include_jiyuan:
        rows.append(registry.get(JIYUAN_CODE))
    rows.extend(_one_named(registry, name, HENAN_CODE) for name in HENAN_DIRECT_COUNTIES_2014_2017)
    return rows


def hengyang_county_codes(registry: DivisionRegistry | None = None) -> list[str]:
    """衡阳市 (430400) followed by its counties and districts, in the seed's order."""
    registry = registry or default_registry()
    return [HENGYANG_CODE] + [
        _one_named(registry, name, HENGYANG_CODE).code for name in HENGYANG_PHONE_LIST_COUNTIES
    ]
