"""The cashier's pick lists: departments and diagnoses by name (illustrative package data,
see ``yidi/data/cashier/README.md``), read once."""

from __future__ import annotations

import csv
import functools
import io
from dataclasses import dataclass
from importlib import resources


@dataclass(frozen=True, slots=True)
class Choice:
    code: str
    name_zh: str
    name_en: str

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_zh


def _read(filename: str) -> tuple[Choice, ...]:
    text = resources.files("yidi").joinpath("data", "cashier", filename).read_text("utf-8")
    return tuple(
        Choice(row["code"].strip(), row["name_zh"].strip(), row["name_en"].strip())
        for row in csv.DictReader(io.StringIO(text))
        if row.get("code", "").strip()
    )


@functools.cache
def departments() -> tuple[Choice, ...]:
    return _read("departments.csv")


@functools.cache
def diagnoses() -> tuple[Choice, ...]:
    return _read("diagnoses.csv")


def department(code: str) -> Choice | None:
    return next((d for d in departments() if d.code == code), None)


def diagnosis_code(text: str) -> str:
    """The code of a picked diagnosis: ``"I10 特发性（原发性）高血压"`` gives ``"I10"``."""
    return text.strip().split(maxsplit=1)[0].upper() if text.strip() else ""
