"""补办备案 (filing after the care) in the filing lifecycle: allowed for care under the 2022
rules, refused for care under the 2017 rules; the filing's validity covers the care."""

from __future__ import annotations

from datetime import date

import pytest
from filing_helpers import CLERK, PERSON, REGIONS, at, evidence_for, record_for

from yidi.filing.model.lifecycle import (
    Filing,
    FilingState,
    approve,
    check_late_filing,
    create_draft,
    late_filing_for_care,
    submit,
)
from yidi.filing.model.record import FilingRecord
from yidi.filing.record_json import record_from_json, record_json
from yidi.kernel.errors import InvalidInput, Refused
from yidi.kernel.insurance import FilingCategory as C

NUMBER = "BA430421-2024-000009"


def _approved(record: FilingRecord, day: date) -> Filing:
    draft = create_draft("f-late", record, PERSON, at(day.year, day.month, day.day))
    sent = submit(draft, PERSON, at(day.year, day.month, day.day, 11), REGIONS)
    return approve(
        sent,
        CLERK,
        at(day.year, day.month, day.day, 15),
        REGIONS,
        filing_number=NUMBER,
        handling_agency="衡阳县医保中心",
    )


def _late(category: C, care_from: date, care_until: date, filed: date) -> FilingRecord:
    return record_for(
        category, filled_on=filed, late_care_from=care_from, late_care_until=care_until
    )


def test_a_late_filing_for_2022_era_care_is_valid_from_the_first_day_of_the_care() -> None:
    record = _late(C.OTHER_TEMPORARY, date(2024, 9, 1), date(2024, 9, 12), date(2024, 10, 8))
    filing = _approved(record, date(2024, 10, 8))
    assert filing.state is FilingState.APPROVED
    assert filing.record.is_late_filing
    assert filing.record.valid_from == date(2024, 9, 1)
    # temporary filings: at least 6 months from the start (2022 national floor)
    assert filing.record.valid_until == date(2025, 2, 28)
    assert (filing.record.late_care_from, filing.record.late_care_until) == (
        date(2024, 9, 1),
        date(2024, 9, 12),
    )


def test_late_filing_fields_survive_storage_and_stay_out_of_ordinary_records() -> None:
    record = _late(C.RETIREE_RESETTLED, date(2024, 9, 1), date(2024, 9, 12), date(2024, 10, 8))
    assert record_from_json(record_json(record)) == record
    assert "late_care_from" not in record_json(record_for(C.RETIREE_RESETTLED))


def test_care_under_the_2017_rules_cannot_be_filed_afterwards() -> None:
    # Care on 2022-07-25 (2017 model, 2022 model from 2022-08-01), filed in 2022-09.
    record = _late(C.REFERRAL, date(2022, 7, 25), date(2022, 8, 3), date(2022, 9, 5))
    draft = create_draft(
        "f-late", record, PERSON, at(2022, 9, 5), evidence=evidence_for(C.REFERRAL)
    )
    with pytest.raises(Refused) as refused:
        submit(draft, PERSON, at(2022, 9, 5, 11), REGIONS)
    assert refused.value.code == "FILING_LATE_NOT_IN_FORCE"
    assert "2017年模式" in refused.value.message


def test_care_starting_on_the_2022_rules_first_day_may_be_filed_afterwards() -> None:
    record = _late(C.OTHER_TEMPORARY, date(2022, 8, 1), date(2022, 8, 9), date(2022, 9, 5))
    assert _approved(record, date(2022, 9, 5)).record.valid_from == date(2022, 8, 1)


@pytest.mark.parametrize(
    ("care_from", "care_until", "code"),
    [
        (None, date(2024, 9, 12), "FILING_LATE_CARE_FROM_REQUIRED"),
        (date(2024, 9, 12), date(2024, 9, 1), "FILING_LATE_CARE_RANGE"),
        (date(2024, 10, 1), date(2024, 10, 30), "FILING_LATE_CARE_FUTURE"),
        (date(2024, 10, 9), None, "FILING_LATE_CARE_FUTURE"),
    ],
)
def test_bad_care_dates_are_refused_with_a_stable_code(
    care_from: date | None, care_until: date | None, code: str
) -> None:
    record = record_for(C.OTHER_TEMPORARY, late_care_from=care_from, late_care_until=care_until)
    with pytest.raises(InvalidInput) as error:
        check_late_filing(record, date(2024, 10, 8))
    assert error.value.code == code


def test_an_explicit_validity_that_misses_the_care_is_refused() -> None:
    record = _late(C.OTHER_TEMPORARY, date(2024, 9, 1), date(2024, 9, 12), date(2024, 10, 8))
    draft = create_draft("f-late", record, PERSON, at(2024, 10, 8))
    sent = submit(draft, PERSON, at(2024, 10, 8, 11), REGIONS)
    with pytest.raises(InvalidInput) as error:
        approve(
            sent,
            CLERK,
            at(2024, 10, 8, 15),
            REGIONS,
            filing_number=NUMBER,
            handling_agency="衡阳县医保中心",
            valid_from=date(2024, 10, 8),
        )
    assert error.value.code == "FILING_LATE_NOT_COVERED"


def test_the_late_filing_is_found_only_for_care_it_covers() -> None:
    record = _late(C.OTHER_TEMPORARY, date(2024, 9, 1), date(2024, 9, 12), date(2024, 10, 8))
    filing = _approved(record, date(2024, 10, 8))
    bobai = record.destination_code
    assert bobai is not None
    found = late_filing_for_care([filing], bobai, date(2024, 9, 1), date(2024, 9, 12), REGIONS)
    assert found is filing
    assert (
        late_filing_for_care([filing], bobai, date(2024, 9, 1), date(2024, 9, 20), REGIONS) is None
    )
    # another province's hospital is not the filing's destination
    assert (
        late_filing_for_care([filing], "320100", date(2024, 9, 1), date(2024, 9, 12), REGIONS)
        is None
    )
    ordinary = _approved(
        record_for(C.OTHER_TEMPORARY, filled_on=date(2024, 9, 1)), date(2024, 9, 1)
    )
    assert (
        late_filing_for_care([ordinary], bobai, date(2024, 9, 2), date(2024, 9, 5), REGIONS) is None
    )


def test_a_filing_during_the_stay_has_no_last_day_and_reaches_back_to_the_admission() -> None:
    # Admitted 2024-10-05 without a filing, still in hospital when filing on 2024-10-08.
    record = record_for(
        C.OTHER_TEMPORARY, filled_on=date(2024, 10, 8), late_care_from=date(2024, 10, 5)
    )
    check_late_filing(record, date(2024, 10, 8))
    filing = _approved(record, date(2024, 10, 8))
    assert filing.record.valid_from == date(2024, 10, 5)
    assert filing.record.late_care_until is None
    assert record_from_json(record_json(filing.record)) == filing.record
    bobai = record.destination_code
    assert bobai is not None
    # Discharged self-paid after all: the manual claim still finds the filing for the stay.
    found = late_filing_for_care([filing], bobai, date(2024, 10, 5), date(2024, 10, 20), REGIONS)
    assert found is filing
    assert (
        late_filing_for_care([filing], bobai, date(2024, 10, 4), date(2024, 10, 20), REGIONS)
        is None
    )


def test_a_filing_during_a_stay_under_the_2017_rules_is_refused() -> None:
    record = record_for(C.REFERRAL, filled_on=date(2022, 7, 28), late_care_from=date(2022, 7, 25))
    with pytest.raises(Refused) as refused:
        check_late_filing(record, date(2022, 7, 28))
    assert refused.value.code == "FILING_LATE_NOT_IN_FORCE"
