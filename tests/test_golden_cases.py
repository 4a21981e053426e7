"""Golden settlement cases: YAML files under tests/cases/ that an analyst can read and write.

Each file has ``name`` (Chinese), ``mode`` (direct | manual), ``claim`` (as in a claim
JSON file), optional ``year_to_date``, and either ``expected`` (national field -> amount
to the fen) or ``expected_error`` (the error code). Optional:
``expected_year_to_date_after``, ``expected_explanation_contains`` and ``policy_root`` (a
policy tree relative to tests/cases/ instead of the shipped policies, as
``yidi settle --policy-root`` takes).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from yidi.integrations.nhsa.fields import setlinfo_amounts
from yidi.kernel.errors import YidiError
from yidi.kernel.insurance import SettlementMode
from yidi.policy.loader import load_policy_library
from yidi.settlement.inputs import parse_claim, parse_year_to_date
from yidi.settlement.shipped import settle_with_shipped_data

CASES_DIR = Path(__file__).parent / "cases"
CASE_FILES = sorted(CASES_DIR.glob("*.yaml"))
ALLOWED_KEYS = {
    "name",
    "description",
    "mode",
    "claim",
    "year_to_date",
    "expected",
    "expected_error",
    "expected_year_to_date_after",
    "expected_explanation_contains",
    "policy_root",
}


def _load(path: Path) -> dict[str, Any]:
    yaml = YAML(typ="safe", pure=True)
    data = yaml.load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    unknown = set(data) - ALLOWED_KEYS
    assert not unknown, f"unknown keys in {path.name}: {unknown}"
    return data


def test_there_are_at_least_thirty_golden_cases() -> None:
    assert len(CASE_FILES) >= 30


def test_the_golden_case_policy_tree_is_valid() -> None:
    from yidi.policy.loader import check_policies

    assert check_policies(CASES_DIR / "policies") == []


@pytest.mark.parametrize("path", CASE_FILES, ids=[path.stem for path in CASE_FILES])
def test_golden_case(path: Path) -> None:
    case = _load(path)
    claim = parse_claim(case["claim"])
    year_to_date = parse_year_to_date(case.get("year_to_date"), claim.settlement_year)
    mode = SettlementMode(case.get("mode", "direct"))
    library = (
        load_policy_library(CASES_DIR / case["policy_root"]) if "policy_root" in case else None
    )
    if "expected_error" in case:
        with pytest.raises(YidiError) as raised:
            settle_with_shipped_data(claim, year_to_date, mode=mode, library=library)
        assert raised.value.code == case["expected_error"], case["name"]
        return
    result = settle_with_shipped_data(claim, year_to_date, mode=mode, library=library)
    actual = setlinfo_amounts(result)
    expected = case["expected"]
    mismatches = {
        field: (amount, actual[field])
        for field, amount in expected.items()
        if actual[field] != amount
    }
    assert not mismatches, f"{case['name']}: (expected, actual) {mismatches}"
    if "expected_year_to_date_after" in case:
        assert result.year_to_date_after.as_dict() == case["expected_year_to_date_after"]
    for fragment in case.get("expected_explanation_contains", []):
        assert any(fragment in text for text in result.explanation_zh()), fragment
