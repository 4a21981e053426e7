"""Regions picked by name (地区选择): what a person types or picks becomes a division code.

Without JavaScript a region field is a text box that takes a name ("衡阳县", "衡阳市衡阳县",
"湖南省衡阳市衡阳县") or a six-digit code, with the provinces and prefectures offered as a
datalist; a name several divisions share is refused with the candidates listed. The small
script ``static/js/region-picker.js`` turns every such box into cascading province →
prefecture → county selects fed by ``/static/data/regions.json`` (the current divisions,
written from ``divisions.csv`` by :func:`write_tree` and cached by the browser), so nobody
needs to know a code.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

from yidi.entrypoints.web.i18n import Lang
from yidi.kernel.errors import InvalidInput
from yidi.kernel.regions import Division, DivisionLevel, default_registry

MAX_REGION_TEXT = 60  # the longest full name is well under this
MAX_CANDIDATES = 6


def region_full_name(code: str | None) -> str:
    """The full name of a division ("湖南省衡阳市衡阳县"), or the code itself if unknown."""
    if not code:
        return ""
    registry = default_registry()
    return registry.get(code).full_name if registry.exists(code) else code


def region_short_name(code: str | None) -> str:
    """The division's own name ("衡阳县"), or the code itself if unknown."""
    if not code:
        return ""
    registry = default_registry()
    return registry.get(code).name if registry.exists(code) else code


@functools.cache
def _current() -> tuple[Division, ...]:
    return tuple(default_registry().all(include_retired=False))


@functools.cache
def datalist_names() -> tuple[str, ...]:
    """The names offered while typing without script: provinces and prefectures (the
    counties are many; the script's selects list them)."""
    return tuple(d.full_name for d in _current() if d.level is not DivisionLevel.COUNTY)


def _unknown(text: str) -> InvalidInput:
    return InvalidInput(
        "REGION_UNKNOWN",
        f"未找到地区“{text}”，请按“省 市 县”选择或输入完整名称，如 湖南省衡阳市衡阳县",
        f"no region named “{text}”: pick province, prefecture and county, or type the full "
        "name, e.g. 湖南省衡阳市衡阳县",
    )


def resolve_region(text: str) -> str:
    """The division code ``text`` names ("" for ""); refuses an unknown or ambiguous name."""
    text = "".join(text.split())[:MAX_REGION_TEXT]
    if not text:
        return ""
    registry = default_registry()
    if text.isdigit():
        if len(text) == 6 and registry.exists(text):
            return text
        raise _unknown(text)
    found = [d for d in _current() if d.full_name == text]
    if not found:
        found = [d for d in _current() if d.name == text or d.full_name.endswith(text)]
    if not found:
        found = registry.find_by_name(text)  # a retired name still found in old papers
    if len(found) == 1:
        return found[0].code
    if not found:
        raise _unknown(text)
    names = "、".join(d.full_name for d in found[:MAX_CANDIDATES])
    raise InvalidInput(
        "REGION_AMBIGUOUS",
        f"有 {len(found)} 个地区叫“{text}”（{names}），请选择或写出上级地区",
        f"{len(found)} regions are called “{text}” ({names}); pick one or add its province "
        "or prefecture",
        details={"candidates": [d.code for d in found[:MAX_CANDIDATES]]},
    )


def region_or_error(text: str, field: str, errors: dict[str, str], lang: Lang) -> str:
    """``resolve_region`` for a form: the code, or "" with the message in ``errors``."""
    try:
        return resolve_region(text)
    except InvalidInput as exc:
        errors[field] = exc.message_en if lang == "en" else exc.message
        return ""


#: The level of each division in /regions.json: s 省级, p 地级, c 县级.
_LEVEL_MARK = {
    DivisionLevel.PROVINCE: "s",
    DivisionLevel.PREFECTURE: "p",
    DivisionLevel.COUNTY: "c",
}


@functools.cache
def tree_json() -> bytes:
    """The current divisions as the picker script reads them: [code, name, parent, level]."""
    rows = [[d.code, d.name, d.parent_code or "", _LEVEL_MARK[d.level]] for d in _current()]
    return json.dumps(rows, ensure_ascii=False, separators=(",", ":")).encode()


def write_tree(path: Path) -> None:
    """Write the picker's tree file (``static/data/regions.json``; a test keeps it current)."""
    path.write_bytes(tree_json() + b"\n")


if __name__ == "__main__":  # python -m yidi.entrypoints.web.region_picker
    write_tree(Path(__file__).parent / "static" / "data" / "regions.json")


__all__ = [
    "datalist_names",
    "region_full_name",
    "region_or_error",
    "region_short_name",
    "resolve_region",
    "tree_json",
    "write_tree",
]
