from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import Workbook

from yidi.catalog.files import (
    SAMPLE_REGIONS,
    catalog_to_csv,
    generate_catalog,
    parse_catalog_csv,
    parse_catalog_xlsx,
    sample_catalog,
)
from yidi.catalog.model import ItemClass
from yidi.kernel.errors import ValidationFailed
from yidi.kernel.money import Money

DAY = dt.date(2017, 1, 1)
GOOD = (
    "医疗目录编码,名称,目录类别,收费项目等级,先行自付比例,限价,开始日期,结束日期,收费项目类别\n"
    "XJ01CAA040A001010101445,阿莫西林胶囊,药品,甲,,,2017-01-01,,09\n"
    "XA02BCP150B002010100002,注射用泮托拉唑钠,drug,乙,0.15,38.50,2017-01-01,,09\n"
)


def test_sample_catalogues_ship_for_three_treatment_regions() -> None:
    for region in SAMPLE_REGIONS:
        catalog = sample_catalog(region)
        assert len(catalog) >= 40
        assert {item.item_class for item in catalog.items.values()} == set(ItemClass)
        assert any(item.price_limit is not None for item in catalog.items.values())


def test_csv_with_chinese_headers_parses() -> None:
    catalog = parse_catalog_csv(GOOD, "430400", "v1", DAY)
    item = catalog.items["XA02BCP150B002010100002"]
    assert item.item_class is ItemClass.B and item.price_limit == Money("38.50")


def test_row_errors_name_the_row_in_chinese() -> None:
    bad = GOOD + "X1,坏行,药品,乙,,12.345,2017-13-01,,99\n"
    with pytest.raises(ValidationFailed) as raised:
        parse_catalog_csv(bad, "430400", "v1", DAY)
    messages = [error.message for error in raised.value.errors]
    assert all(message.startswith("第4行") for message in messages)
    assert {error.field for error in raised.value.errors} == {
        "upfront_self_pay_rate",
        "price_limit",
        "valid_from",
        "fee_category",
    }


def test_duplicate_codes_are_rejected() -> None:
    with pytest.raises(ValidationFailed) as raised:
        parse_catalog_csv(GOOD + GOOD.splitlines()[1] + "\n", "430400", "v1", DAY)
    assert "第2行" in raised.value.errors[0].message


def test_same_content_gives_the_same_hash_whatever_the_order_or_label() -> None:
    lines = GOOD.splitlines()
    reordered = "\n".join([lines[0], lines[2], lines[1]]) + "\n"
    first = parse_catalog_csv(GOOD, "430400", "v1", DAY)
    second = parse_catalog_csv(reordered, "430400", "v2", DAY)
    assert first.content_hash == second.content_hash
    assert parse_catalog_csv(GOOD, "450000", "v1", DAY).content_hash != first.content_hash


def test_export_then_import_round_trips() -> None:
    catalog = sample_catalog("450000")
    again = parse_catalog_csv(catalog_to_csv(catalog), "450000", "copy", DAY)
    assert again.content_hash == catalog.content_hash


def test_xlsx_parses_like_csv() -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in GOOD.splitlines():
        sheet.append(row.split(","))
    sheet.append(
        ["C0301010010100000001", "一次性使用输液器", "医用耗材", "A", None, 3.5, DAY, None, "08"]
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    catalog = parse_catalog_xlsx(buffer.getvalue(), "430400", "v1", DAY)
    assert catalog.items["C0301010010100000001"].price_limit == Money("3.50")
    assert len(catalog) == 3


def test_generator_is_deterministic_and_realistic() -> None:
    first = generate_catalog(2_000, seed=7)
    assert first.content_hash == generate_catalog(2_000, seed=7).content_hash
    assert len(first) == 2_000
    classes = [item.item_class for item in first.items.values()]
    assert 0.05 < classes.count(ItemClass.C) / len(classes) < 0.15
