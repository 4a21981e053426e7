"""Catalogue files (目录文件): CSV / XLSX into a :class:`CatalogVersion`, and sample data.

Columns (English or Chinese headers, any order)::

    code / 医疗目录编码            national code (med_list_codg)
    name / 名称
    kind / 目录类别                drug 药品 | service 诊疗项目 | consumable 医用耗材
    item_class / 收费项目等级      A 甲 01 | B 乙 02 | C 丙 03
    upfront_self_pay_rate / 先行自付比例   fraction, e.g. 0.10 (class B only)
    price_limit / 限价             yuan per unit, empty for none
    valid_from / 开始日期, valid_until / 结束日期   YYYY-MM-DD, end may be empty
    fee_category / 收费项目类别    01 … 14 (med_chrgitm_type)

Every bad row is reported with its row number and a Chinese message; nothing is half
imported. The content hash makes re-imports of the same content idempotent.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from importlib import resources
from typing import Final

from yidi.catalog.model import CatalogItem, CatalogVersion, ItemClass, ItemKind
from yidi.kernel.errors import InvalidInput, NotFound, ValidationFailed
from yidi.kernel.money import Money

_HEADER_ALIASES: Final[dict[str, str]] = {
    "code": "code",
    "med_list_codg": "code",
    "医疗目录编码": "code",
    "name": "name",
    "名称": "name",
    "kind": "kind",
    "目录类别": "kind",
    "item_class": "item_class",
    "chrgitm_lv": "item_class",
    "收费项目等级": "item_class",
    "upfront_self_pay_rate": "upfront_self_pay_rate",
    "selfpay_prop": "upfront_self_pay_rate",
    "先行自付比例": "upfront_self_pay_rate",
    "price_limit": "price_limit",
    "限价": "price_limit",
    "valid_from": "valid_from",
    "开始日期": "valid_from",
    "valid_until": "valid_until",
    "结束日期": "valid_until",
    "fee_category": "fee_category",
    "med_chrgitm_type": "fee_category",
    "收费项目类别": "fee_category",
}
REQUIRED_COLUMNS: Final = ("code", "name", "kind", "item_class", "valid_from", "fee_category")
COLUMNS: Final = (
    "code",
    "name",
    "kind",
    "item_class",
    "upfront_self_pay_rate",
    "price_limit",
    "valid_from",
    "valid_until",
    "fee_category",
)
FEE_CATEGORIES: Final = frozenset(f"{number:02d}" for number in range(1, 15))


def _row_error(row_number: int, column: str, message: str, message_en: str) -> InvalidInput:
    return InvalidInput(
        "CATALOG_ROW_INVALID",
        f"第{row_number}行 {column}：{message}",
        f"row {row_number} {column}: {message_en}",
        field=column,
        details={"row": row_number},
    )


def _parse_row(
    row_number: int, row: Mapping[str, str]
) -> tuple[CatalogItem | None, list[InvalidInput]]:
    errors: list[InvalidInput] = []

    def text(column: str) -> str:
        return (row.get(column) or "").strip()

    def fail(column: str, message: str, message_en: str) -> None:
        errors.append(_row_error(row_number, column, message, message_en))

    for column in REQUIRED_COLUMNS:
        if not text(column):
            fail(column, "不能为空", "is required")
    if errors:
        return None, errors
    try:
        kind = ItemKind.parse(text("kind"))
    except ValueError:
        fail(
            "kind",
            f"目录类别“{text('kind')}”无效，应为药品/诊疗项目/医用耗材",
            "unknown kind",
        )
        kind = ItemKind.DRUG
    try:
        item_class = ItemClass.parse(text("item_class"))
    except ValueError:
        fail(
            "item_class",
            f"等级“{text('item_class')}”无效，应为甲/乙/丙",
            "unknown class",
        )
        item_class = ItemClass.C
    rate = Decimal(0)
    if text("upfront_self_pay_rate"):
        try:
            rate = Decimal(text("upfront_self_pay_rate"))
            if not Decimal(0) <= rate <= Decimal(1):
                raise InvalidOperation
        except InvalidOperation:
            fail(
                "upfront_self_pay_rate",
                "先行自付比例须为 0 到 1 之间的小数",
                "must be a fraction 0..1",
            )
    if item_class is ItemClass.B and not text("upfront_self_pay_rate"):
        fail(
            "upfront_self_pay_rate",
            "乙类项目须填写先行自付比例",
            "class B needs an upfront self-pay rate",
        )
    if item_class is not ItemClass.B and rate != 0:
        fail(
            "upfront_self_pay_rate",
            "只有乙类项目有先行自付比例",
            "only class B has an upfront rate",
        )
    price_limit: Money | None = None
    if text("price_limit"):
        try:
            price_limit = Money.of(text("price_limit"))
            if price_limit.is_negative():
                raise InvalidInput("NEG", "", "")
        except InvalidInput:
            fail(
                "price_limit",
                "限价须为非负金额，最多两位小数",
                "must be a non-negative amount",
            )
    dates: dict[str, dt.date | None] = {}
    for column in ("valid_from", "valid_until"):
        value = text(column)
        if not value:
            dates[column] = None
            continue
        try:
            dates[column] = dt.date.fromisoformat(value[:10])
        except ValueError:
            fail(column, f"日期“{value}”应为 YYYY-MM-DD", "dates are YYYY-MM-DD")
            dates[column] = None
    valid_from, valid_until = dates["valid_from"], dates["valid_until"]
    if valid_from and valid_until and valid_until < valid_from:
        fail("valid_until", "结束日期早于开始日期", "ends before it starts")
    fee_category = text("fee_category").zfill(2)
    if fee_category not in FEE_CATEGORIES:
        fail(
            "fee_category",
            f"收费项目类别“{text('fee_category')}”应为 01–14",
            "must be 01..14",
        )
    if errors or valid_from is None:
        return None, errors
    return (
        CatalogItem(
            code=text("code"),
            name=text("name"),
            kind=kind,
            item_class=item_class,
            upfront_self_pay_rate=rate,
            price_limit=price_limit,
            valid_from=valid_from,
            valid_until=valid_until,
            fee_category=fee_category,
        ),
        [],
    )


def catalog_from_rows(
    rows: Iterable[Mapping[str, str]],
    treatment_region: str,
    version_label: str,
    effective_on: dt.date,
    *,
    first_row_number: int = 2,
) -> CatalogVersion:
    """Validate every row (header names already normalised) and build the version."""
    items: list[CatalogItem] = []
    errors: list[InvalidInput] = []
    seen: dict[str, int] = {}
    for offset, row in enumerate(rows):
        row_number = first_row_number + offset
        if not any((value or "").strip() for value in row.values()):
            continue
        item, row_errors = _parse_row(row_number, row)
        errors.extend(row_errors)
        if item is None:
            continue
        if item.code in seen:
            errors.append(
                _row_error(
                    row_number,
                    "code",
                    f"编码 {item.code} 与第{seen[item.code]}行重复",
                    "duplicate code",
                )
            )
            continue
        seen[item.code] = row_number
        items.append(item)
    if errors:
        raise ValidationFailed(list(errors))
    if not items:
        raise InvalidInput(
            "CATALOG_EMPTY", "目录文件没有任何条目", "the catalogue file has no rows"
        )
    return CatalogVersion.build(treatment_region, version_label, effective_on, items)


def _normalise_header(header: Iterable[str | None]) -> list[str]:
    names: list[str] = []
    for cell in header:
        raw = (cell or "").strip().lstrip("\ufeff")
        names.append(_HEADER_ALIASES.get(raw, _HEADER_ALIASES.get(raw.lower(), raw)))
    missing = [column for column in REQUIRED_COLUMNS if column not in names]
    if missing:
        raise InvalidInput(
            "CATALOG_MISSING_COLUMNS",
            f"目录文件缺少列：{', '.join(missing)}",
            f"catalogue file lacks columns: {', '.join(missing)}",
        )
    return names


def parse_catalog_csv(
    text: str, treatment_region: str, version_label: str, effective_on: dt.date
) -> CatalogVersion:
    """Parse CSV text (UTF-8, header row first)."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = _normalise_header(next(reader))
    except StopIteration:
        raise InvalidInput("CATALOG_EMPTY", "目录文件为空", "the catalogue file is empty") from None
    rows = (dict(zip(header, cells, strict=False)) for cells in reader)
    return catalog_from_rows(rows, treatment_region, version_label, effective_on)


def parse_catalog_xlsx(
    data: bytes, treatment_region: str, version_label: str, effective_on: dt.date
) -> CatalogVersion:
    """Parse the first sheet of an XLSX workbook (header row first)."""
    from openpyxl import load_workbook  # imported here: only XLSX imports need it

    workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        values = sheet.iter_rows(values_only=True)
        try:
            header = _normalise_header(
                str(cell) if cell is not None else "" for cell in next(values)
            )
        except StopIteration:
            raise InvalidInput(
                "CATALOG_EMPTY", "目录文件为空", "the catalogue file is empty"
            ) from None

        def cell_text(cell: object) -> str:
            if cell is None:
                return ""
            if isinstance(cell, dt.datetime):
                return cell.date().isoformat()
            if isinstance(cell, dt.date):
                return cell.isoformat()
            if isinstance(cell, float):
                # Spreadsheets store numbers as binary floats; repr gives the shortest exact text.
                return repr(cell)
            return str(cell)

        rows = [dict(zip(header, (cell_text(c) for c in cells), strict=False)) for cells in values]
    finally:
        workbook.close()
    return catalog_from_rows(rows, treatment_region, version_label, effective_on)


def catalog_to_csv(catalog: CatalogVersion) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for code in sorted(catalog.items):
        row = catalog.items[code].canonical()
        writer.writerow([row[column] for column in COLUMNS])
    return out.getvalue()


# --------------------------------------------------------------------------- samples

SAMPLE_REGIONS: Final = ("430400", "450000", "640000")
SAMPLE_EFFECTIVE_ON: Final = dt.date(2017, 1, 1)


@lru_cache(maxsize=8)
def sample_catalog(treatment_region: str) -> CatalogVersion:
    """The small catalogue shipped for tests and the demo (package data)."""
    if treatment_region not in SAMPLE_REGIONS:
        raise NotFound(
            "CATALOG_SAMPLE_UNKNOWN",
            f"没有就医地 {treatment_region} 的示例目录（有：{', '.join(SAMPLE_REGIONS)}）",
            f"no sample catalogue for {treatment_region}",
            field="treatment_region",
        )
    text = (
        resources.files("yidi")
        .joinpath("data", "catalogs", f"{treatment_region}.csv")
        .read_text(encoding="utf-8")
    )
    return parse_catalog_csv(
        text, treatment_region, f"sample-{treatment_region}", SAMPLE_EFFECTIVE_ON
    )


# --------------------------------------------------------------------------- generator

_DRUG_STEMS: Final = (
    "阿莫西林",
    "头孢呋辛",
    "左氧氟沙星",
    "阿奇霉素",
    "奥美拉唑",
    "泮托拉唑",
    "二甲双胍",
    "格列美脲",
    "阿托伐他汀",
    "瑞舒伐他汀",
    "氨氯地平",
    "缬沙坦",
    "美托洛尔",
    "氯吡格雷",
    "阿司匹林",
    "肝素",
    "胰岛素",
    "布洛芬",
    "对乙酰氨基酚",
    "甲泼尼龙",
    "地塞米松",
    "氯化钾",
    "葡萄糖",
    "氯化钠",
)
_DRUG_FORMS: Final = ("片", "胶囊", "注射液", "注射用粉针", "缓释片", "颗粒", "口服溶液")
_TCM_STEMS: Final = (
    "复方丹参",
    "血塞通",
    "银杏叶",
    "连花清瘟",
    "六味地黄",
    "板蓝根",
    "参麦",
    "丹红",
)
_SERVICES: Final = (
    ("床位费", "01"),
    ("诊查费", "02"),
    ("CT平扫", "03"),
    ("磁共振平扫", "03"),
    ("彩色多普勒超声", "03"),
    ("血常规", "04"),
    ("肝功能", "04"),
    ("肾功能", "04"),
    ("静脉输液", "05"),
    ("雾化吸入", "05"),
    ("阑尾切除术", "06"),
    ("胆囊切除术", "06"),
    ("冠状动脉造影术", "06"),
    ("一级护理", "07"),
)
_CONSUMABLES: Final = (
    "输液器",
    "注射器",
    "留置针",
    "导尿管",
    "缝合线",
    "敷料",
    "支架",
    "人工晶体",
    "吻合器",
    "骨科钉板",
)
_ATC: Final = (
    "A02BC",
    "A10BA",
    "B01AC",
    "C09CA",
    "C10AA",
    "J01CA",
    "J01DC",
    "J01MA",
    "N02BE",
    "H02AB",
)


def generate_catalog(
    n: int,
    seed: int,
    *,
    treatment_region: str = "430400",
    effective_on: dt.date = SAMPLE_EFFECTIVE_ON,
) -> CatalogVersion:
    """A realistic synthetic catalogue of ``n`` items (deterministic for a seed).

    The mix follows a typical provincial catalogue: mostly drugs, then services and
    consumables; roughly 45% 甲类, 45% 乙类 (upfront share 5–30%), 10% 丙类; a price limit
    on about a third of the covered items.
    """
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not security
    items: list[CatalogItem] = []
    for index in range(n):
        roll = rng.random()
        if roll < 0.6:
            kind = ItemKind.DRUG
            tcm = rng.random() < 0.25
            if tcm:
                code = f"Z{rng.choice('ABCDE')}{rng.randint(1, 16):02d}{rng.choice('ABC')}{rng.choice('ABC')}{index:07d}010101"
                name = f"{rng.choice(_TCM_STEMS)}{rng.choice(_DRUG_FORMS)}"
                fee_category = "11"
            else:
                code = f"X{rng.choice(_ATC)}{rng.choice('ABCDEFGHKLM')}{index:07d}{rng.choice('AB')}{rng.randint(1, 9):03d}010101"
                name = f"{rng.choice(_DRUG_STEMS)}{rng.choice(_DRUG_FORMS)}"
                fee_category = "09"
            base_price = Decimal(rng.randint(50, 50_000)) / 100
        elif roll < 0.85:
            kind = ItemKind.SERVICE
            label, fee_category = rng.choice(_SERVICES)
            code = f"00{rng.randint(11, 34)}{index:07d}0000"
            name = label
            base_price = Decimal(rng.randint(500, 300_000)) / 100
        else:
            kind = ItemKind.CONSUMABLE
            code = f"C{rng.randint(1, 14):02d}{index:013d}{rng.randint(0, 9999):04d}"
            name = f"一次性使用{rng.choice(_CONSUMABLES)}"
            fee_category = "08"
            base_price = Decimal(rng.randint(100, 2_000_000)) / 100
        class_roll = rng.random()
        item_class = (
            ItemClass.A if class_roll < 0.45 else ItemClass.B if class_roll < 0.9 else ItemClass.C
        )
        rate = (
            Decimal(rng.choice((5, 10, 15, 20, 30))) / 100
            if item_class is ItemClass.B
            else Decimal(0)
        )
        price_limit = (
            Money.rounded(base_price)
            if item_class is not ItemClass.C and rng.random() < 0.33
            else None
        )
        items.append(
            CatalogItem(
                code=code,
                name=f"{name}（{index}）",
                kind=kind,
                item_class=item_class,
                upfront_self_pay_rate=rate,
                price_limit=price_limit,
                valid_from=effective_on,
                valid_until=None,
                fee_category=fee_category,
            )
        )
    return CatalogVersion.build(treatment_region, f"generated-{n}-{seed}", effective_on, items)
