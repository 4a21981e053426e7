"""外伤 at admission across the era boundary: 2017 rules never settle an injury directly; from
the 2022 rules (2022-08-01) it settles with the no-third-party promise (rel_ttp_flag 0)."""

from __future__ import annotations

import datetime as dt

import pytest

from yidi.encounter.commands import AdmissionRequest, Credential
from yidi.encounter.model import admission_exclusion
from yidi.kernel.clock import CHINA_TZ
from yidi.kernel.errors import Refused


def _injury(day: dt.date, third_party: bool | None, med_type: str = "22") -> AdmissionRequest:
    return AdmissionRequest(
        Credential("03", "A1"),
        med_type,
        dt.datetime(day.year, day.month, day.day, 9, 0, tzinfo=CHINA_TZ),
        "A03",
        ("S72.001",),
        accidental_injury=med_type != "22",
        injury_third_party=third_party,
    )


LAST_2017_DAY = dt.date(2022, 7, 31)
FIRST_2022_DAY = dt.date(2022, 8, 1)


@pytest.mark.parametrize("third_party", [None, False, True])
def test_under_the_2017_rules_an_injury_is_never_settled_directly(third_party: bool | None) -> None:
    excluded = admission_exclusion(_injury(LAST_2017_DAY, third_party), lambda: 72)
    assert excluded is not None and excluded.code == "ENCOUNTER_INJURY_NOT_DIRECT"


@pytest.mark.parametrize("med_type", ["22", "21"])
def test_from_the_2022_rules_the_promise_lets_an_injury_settle_directly(med_type: str) -> None:
    assert admission_exclusion(_injury(FIRST_2022_DAY, False, med_type), lambda: 72) is None


def test_from_the_2022_rules_a_third_party_injury_is_excluded() -> None:
    excluded = admission_exclusion(_injury(FIRST_2022_DAY, True), lambda: 72)
    assert excluded is not None and excluded.code == "ENCOUNTER_INJURY_THIRD_PARTY"


def test_from_the_2022_rules_an_injury_without_the_flag_is_refused_with_the_source() -> None:
    with pytest.raises(Refused) as refused:
        admission_exclusion(_injury(FIRST_2022_DAY, None), lambda: 72)
    assert refused.value.code == "ENCOUNTER_INJURY_PROMISE_REQUIRED"
    assert refused.value.field == "rel_ttp_flag"
    assert "经办规程第三十五条" in str(refused.value.details["source"])
