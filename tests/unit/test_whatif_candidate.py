"""Candidate policies for the what-if: changed parameters from a date, uploaded trees checked."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal

import pytest

from yidi.entrypoints.web.whatif_pages import uploaded_library
from yidi.kernel.access import Principal, Role
from yidi.kernel.errors import InvalidInput, NotFound
from yidi.kernel.insurance import HospitalLevel, InsuranceType
from yidi.policy.loader import policy_at, shipped_policy_library
from yidi.policy.model import DeductibleStep, SchemeKind
from yidi.reports.whatif_candidate import adjusted_library, current_values, parse_value

NINGXIA = Principal("nx", Role.AGENCY_HANDLER, region_code="640000")
PATH = "schemes.inpatient.deductible.by_hospital_level"


def _deductible(library: object, day: dt.date) -> dict[HospitalLevel, Decimal]:
    policy = policy_at("640000", InsuranceType.RESIDENT, day, library)  # type: ignore[arg-type]
    step = next(
        s for s in policy.schemes[SchemeKind.INPATIENT].steps if isinstance(s, DeductibleStep)
    )
    return dict(step.by_level)


def test_a_change_applies_from_its_date_and_leaves_the_shipped_library_alone() -> None:
    shipped = shipped_policy_library()
    before = current_values(shipped, "640000", InsuranceType.RESIDENT, dt.date(2025, 1, 1))[PATH]
    lower = {level: Decimal("100.00") for level in HospitalLevel}
    changed = adjusted_library(
        shipped, "640000", InsuranceType.RESIDENT, dt.date(2025, 7, 1), {PATH: lower}
    )
    assert _deductible(changed, dt.date(2025, 6, 30)) == before
    assert _deductible(changed, dt.date(2025, 7, 1)) == lower
    assert _deductible(shipped, dt.date(2025, 7, 1)) == before
    assert changed.sources["640000", InsuranceType.RESIDENT].illustrative


def test_bad_values_and_unknown_parameters_are_refused_with_a_code() -> None:
    for kind, text in (("rate", "1.5"), ("rate", "0.12345"), ("money", "-1"), ("money", "x")):
        with pytest.raises(InvalidInput) as error:
            parse_value(PATH, kind, text)
        assert error.value.code == "WHATIF_PARAMETER_INVALID"
    assert parse_value(PATH, "money", " 800.5 ") == Decimal("800.5")
    with pytest.raises(InvalidInput):
        adjusted_library(
            shipped_policy_library(),
            "640000",
            InsuranceType.RESIDENT,
            dt.date(2025, 1, 1),
            {"schemes.inpatient.nothing": Decimal(1)},
        )
    with pytest.raises(NotFound):
        current_values(shipped_policy_library(), "999999", InsuranceType.RESIDENT, dt.date.today())


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_an_uploaded_tree_must_be_safe_valid_and_within_the_region() -> None:
    with pytest.raises(InvalidInput, match="不安全"):
        uploaded_library(_zip({"../640000/resident/x.yaml": b"a: 1"}), NINGXIA)
    with pytest.raises(InvalidInput, match="zip"):
        uploaded_library(b"plain text", NINGXIA)
    with pytest.raises(InvalidInput) as error:
        uploaded_library(_zip({"readme.txt": b"nothing"}), NINGXIA)
    assert error.value.code == "WHATIF_POLICY_UPLOAD_INVALID"
    with pytest.raises(InvalidInput):
        uploaded_library(_zip({"640000/resident/inpatient.yaml": b"steps: [oops"}), NINGXIA)
