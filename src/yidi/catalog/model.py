"""The treatment region's item catalogue (就医地目录): drugs, services and consumables.

Each fee line takes its class (甲/乙/丙), class-B upfront self-pay share (先行自付比例)
and price limit (限价) from the catalogue of the region where care happened, as of the
day the fee occurred. The insured region's policy never changes these.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType

from yidi.kernel.errors import InvalidInput, NotFound
from yidi.kernel.money import Money


class ItemClass(enum.StrEnum):
    """收费项目等级 (national ``chrgitm_lv``)."""

    A = "01"  # 甲类: covered in full
    B = "02"  # 乙类: covered after the upfront self-pay share
    C = "03"  # 丙类: not covered, fully self-paid

    @property
    def label_zh(self) -> str:
        return {"01": "甲类", "02": "乙类", "03": "丙类"}[self.value]

    @classmethod
    def parse(cls, text: str) -> ItemClass:
        """Accept ``A``/``B``/``C``, ``甲``/``乙``/``丙`` (with or without 类) or ``01``–``03``."""
        cleaned = text.strip().upper().removesuffix("类")
        aliases = {"A": cls.A, "甲": cls.A, "B": cls.B, "乙": cls.B, "C": cls.C, "丙": cls.C}
        if cleaned in aliases:
            return aliases[cleaned]
        if cleaned in ("1", "2", "3"):
            cleaned = "0" + cleaned
        return cls(cleaned)


class ItemKind(enum.StrEnum):
    """目录类别: 药品 / 诊疗项目 / 医用耗材."""

    DRUG = "drug"
    SERVICE = "service"
    CONSUMABLE = "consumable"

    @property
    def label_zh(self) -> str:
        return {"drug": "药品", "service": "诊疗项目", "consumable": "医用耗材"}[self.value]

    @classmethod
    def parse(cls, text: str) -> ItemKind:
        cleaned = text.strip().lower()
        aliases = {"药品": cls.DRUG, "诊疗项目": cls.SERVICE, "医用耗材": cls.CONSUMABLE}
        if cleaned in aliases:
            return aliases[cleaned]
        return cls(cleaned)


@dataclass(frozen=True, slots=True)
class CatalogItem:
    """One catalogue entry (目录条目), keyed by the national code ``med_list_codg``."""

    code: str
    name: str
    kind: ItemKind
    item_class: ItemClass
    #: 先行自付比例 as a fraction; meaningful for class B only (A is 0, C is 1 in effect).
    upfront_self_pay_rate: Decimal
    #: 限价 per unit, or ``None`` when the item has no price limit.
    price_limit: Money | None
    valid_from: dt.date
    valid_until: dt.date | None
    #: 医疗收费项目类别 (national ``med_chrgitm_type``): 01 床位费 … 09 西药费 … 14 其他费.
    fee_category: str

    def is_valid_on(self, day: dt.date) -> bool:
        if day < self.valid_from:
            return False
        return self.valid_until is None or day <= self.valid_until

    def canonical(self) -> dict[str, str]:
        """A plain, ordered form used for hashing and export."""
        return {
            "code": self.code,
            "name": self.name,
            "kind": self.kind.value,
            "item_class": self.item_class.value,
            "upfront_self_pay_rate": str(self.upfront_self_pay_rate),
            "price_limit": "" if self.price_limit is None else str(self.price_limit),
            "valid_from": self.valid_from.isoformat(),
            "valid_until": "" if self.valid_until is None else self.valid_until.isoformat(),
            "fee_category": self.fee_category,
        }


def catalog_content_hash(treatment_region: str, items: Iterable[CatalogItem]) -> str:
    """sha256 over the region and the items sorted by code, so identical content hashes equal."""
    rows = sorted((item.canonical() for item in items), key=lambda row: row["code"])
    payload = json.dumps(
        {"treatment_region": treatment_region, "items": rows},
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CatalogVersion:
    """A dated version of one treatment region's catalogue (目录版本)."""

    treatment_region: str
    version_label: str
    effective_on: dt.date
    items: Mapping[str, CatalogItem]
    content_hash: str = field(default="")

    def __post_init__(self) -> None:
        object.__setattr__(self, "items", MappingProxyType(dict(self.items)))
        expected = catalog_content_hash(self.treatment_region, self.items.values())
        if self.content_hash and self.content_hash != expected:
            raise InvalidInput(
                "CATALOG_HASH_MISMATCH",
                "目录内容与其哈希值不符",
                "catalogue content does not match its hash",
            )
        object.__setattr__(self, "content_hash", expected)

    @classmethod
    def build(
        cls,
        treatment_region: str,
        version_label: str,
        effective_on: dt.date,
        items: Iterable[CatalogItem],
    ) -> CatalogVersion:
        by_code: dict[str, CatalogItem] = {}
        for item in items:
            if item.code in by_code:
                raise InvalidInput(
                    "CATALOG_DUPLICATE_CODE",
                    f"目录编码 {item.code} 重复",
                    f"catalogue code {item.code} appears twice",
                    field="code",
                )
            by_code[item.code] = item
        return cls(treatment_region, version_label, effective_on, by_code)

    def lookup(self, code: str, on_day: dt.date) -> CatalogItem | None:
        """The item in force on ``on_day``, or ``None`` (not in the catalogue that day)."""
        item = self.items.get(code)
        if item is None or not item.is_valid_on(on_day):
            return None
        return item

    def __len__(self) -> int:
        return len(self.items)


def region_chain(region_code: str) -> list[str]:
    """The code itself, its prefecture and its province (``450923`` → 450923, 450900, 450000)."""
    chain = [region_code]
    for code in (region_code[:4] + "00", region_code[:2] + "0000"):
        if code not in chain:
            chain.append(code)
    return chain


def no_catalog(region_code: str) -> NotFound:
    return NotFound(
        "CATALOG_NOT_AVAILABLE",
        f"就医地 {region_code} 尚未导入医保目录，无法对照费用明细",
        f"no catalogue has been imported for treatment region {region_code}",
        field="treatment_region",
    )
