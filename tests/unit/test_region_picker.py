"""Regions by name: what a person types becomes a division code, or a clear refusal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import yidi.entrypoints.web
from yidi.entrypoints.web.region_picker import (
    datalist_names,
    region_full_name,
    resolve_region,
    tree_json,
)
from yidi.kernel.errors import InvalidInput

SHIPPED = Path(yidi.entrypoints.web.__file__).parent / "static" / "data" / "regions.json"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("衡阳县", "430421"),
        ("衡阳市衡阳县", "430421"),
        ("湖南省衡阳市衡阳县", "430421"),
        (" 湖南省 衡阳市 衡阳县 ", "430421"),
        ("430421", "430421"),
        ("博白县", "450923"),
        ("北京市朝阳区", "110105"),
        ("湖南省", "430000"),
        ("衡阳市", "430400"),
        ("", ""),
    ],
)
def test_a_name_or_code_becomes_the_division_code(text: str, code: str) -> None:
    assert resolve_region(text) == code


def test_a_name_several_divisions_share_is_refused_with_the_candidates() -> None:
    with pytest.raises(InvalidInput) as caught:
        resolve_region("朝阳区")
    assert caught.value.code == "REGION_AMBIGUOUS"
    assert "北京市朝阳区" in caught.value.message
    assert "110105" in caught.value.details["candidates"]


@pytest.mark.parametrize("text", ["火星县", "999999", "43042", "4304211"])
def test_an_unknown_region_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        resolve_region(text)
    assert caught.value.code == "REGION_UNKNOWN"
    assert caught.value.message_en


def test_read_only_fields_show_the_full_name() -> None:
    assert region_full_name("430421") == "湖南省衡阳市衡阳县"
    assert region_full_name("") == ""


def test_the_tree_holds_every_current_division_with_its_parent() -> None:
    rows = json.loads(tree_json())
    by_code = {code: (name, parent, level) for code, name, parent, level in rows}
    assert by_code["430421"] == ("衡阳县", "430400", "c")
    assert by_code["430400"] == ("衡阳市", "430000", "p")
    assert by_code["430000"] == ("湖南省", "", "s")
    assert all(parent == "" or parent in by_code for _, _, parent, _ in rows)
    assert "湖南省衡阳市" in datalist_names() and "湖南省衡阳市衡阳县" not in datalist_names()


def test_the_shipped_tree_file_is_the_current_division_list() -> None:
    # Regenerate with: python -m yidi.entrypoints.web.region_picker
    assert SHIPPED.read_bytes() == tree_json() + b"\n"
