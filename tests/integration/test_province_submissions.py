"""地市报送情况 and the 报盘 batches: numbers counted from filings made through the services,
period boundaries in China time, and who sees which prefectures and batches."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from filing_support import (
    CASHIER,
    HENAN,
    HENGYANG,
    HUNAN,
    PERSON,
    ZHENGZHOU,
    admission_notice,
    annex2_csv,
    household_registration,
    load_agencies,
    record,
)
from yidi.bootstrap import Container
from yidi.filing.commands import FilingService
from yidi.filing.imports import FilingImports
from yidi.filing.reports import FilingReports, SubmissionsRow, mask_id_numbers_in, period_bounds
from yidi.filing.scope import system_principal
from yidi.kernel.access import Principal, Role
from yidi.kernel.audit import reset_client_address, set_client_address
from yidi.kernel.clock import CHINA_TZ, FixedClock
from yidi.kernel.errors import Forbidden, InvalidInput, NotFound
from yidi.kernel.identity import Gender, make_resident_id
from yidi.kernel.insurance import FilingCategory

Q3 = period_bounds(2026, 3)
Q4 = period_bounds(2026, 4)
YEAR = period_bounds(2026, None)


def _person(serial: int) -> str:
    return make_resident_id("430421", dt.date(1950, 1, 1), 2 * serial + 1, Gender.MALE).number


def _at(month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=CHINA_TZ)


@dataclass
class Made:
    last_counter_submit_at: dt.datetime
    import_at: dt.datetime


@pytest.fixture
def imports(container: Container) -> FilingImports:
    load_agencies(container.uow)
    with container.uow() as uow:
        for principal in (HENGYANG, HUNAN, ZHENGZHOU, HENAN):
            uow.users.add(principal.user_id, "!", principal)
        uow.commit()
    return FilingImports(container.uow, container.clock)


@pytest.fixture
def reports(container: Container, imports: FilingImports) -> FilingReports:
    """Read after the offices' accounts and agencies exist (set up with ``imports``)."""
    del imports
    return FilingReports(container.uow, container.clock)


@pytest.fixture
def made(container: Container, clock: FixedClock, imports: FilingImports) -> Made:
    """Filings of 衡阳 (430400) across the Q3/Q4 boundary, at the counter and by 报盘."""
    service = FilingService(container.uow, container.clock)
    evidence = [household_registration()]

    def draft(serial: int, **changes: object) -> str:
        filled = clock.today()
        return service.create_draft(
            HENGYANG,
            record(social_security_number=_person(serial), filled_on=filled, **changes),
            evidence=evidence,
        ).filing_id

    # A: drafted and submitted in the last half hour of Q3 (15:30 UTC), approved in Q4.
    clock.set(_at(9, 30, 23, 30))
    a = draft(1)
    service.submit(HENGYANG, a)
    clock.set(_at(10, 1, 0, 10))
    service.approve(HENGYANG, a)
    # Q4: B submitted; C rejected; D approved then changed; E cancelled; F left a draft.
    clock.set(_at(11, 2, 9))
    b = draft(2)
    service.submit(HENGYANG, b)
    c = draft(3)
    service.submit(HENGYANG, c)
    service.reject(HENGYANG, c, "材料不全")
    d = draft(4)
    service.submit(HENGYANG, d)
    service.approve(HENGYANG, d)
    service.change(HENGYANG, d, record(social_security_number=_person(4), mobile="13900001111"))
    e = draft(5)
    clock.set(_at(11, 3, 15, 45))
    service.submit(HENGYANG, e)
    last_submit = clock.now()
    service.cancel(HENGYANG, e, "不再需要")
    draft(6)
    # Emergency drafts at 2026-11-20: admitted 11-16 (deadline 11-19: late), admitted 11-18
    # (deadline 11-23, one working day left: near), admitted 11-20 (deadline 11-25: not near).
    clock.set(_at(11, 20, 10))
    for serial, admitted in ((7, 16), (8, 18), (9, 20)):
        service.create_draft(
            HENGYANG,
            record(
                social_security_number=_person(serial),
                category=FilingCategory.EMERGENCY,
                admitted_on=dt.date(2026, 11, admitted),
                filled_on=dt.date(2026, 11, admitted),
            ),
            evidence=[admission_notice(dt.date(2026, 11, admitted))],
        )
    # 报盘 by the province: two 衡阳 rows, one 长沙 row, one bad row.
    clock.set(_at(11, 10, 14))
    report = imports.import_annex2(
        HUNAN,
        annex2_csv(
            [
                ("430421", "甲某", _person(20)),
                ("430421", "乙某", _person(21)),
                ("430102", "丙某", _person(22)),
                ("430421", "丁某", _person(23)[:-1] + "0"),
            ]
        ),
        "hunan-q4.csv",
    )
    assert (report.imported, report.rejected) == (3, 1)
    import_at = clock.now()
    clock.set(_at(11, 20, 10))
    return Made(last_submit, import_at)


def _row(rows: list[SubmissionsRow], code: str) -> SubmissionsRow:
    return next(r for r in rows if r.region_code == code)


def _states(row: SubmissionsRow) -> dict[str, int]:
    return {state.value: count for state, count in row.by_state.items() if count}


def test_the_quarter_counts_what_each_prefecture_filed_by_state_source_and_registration_type(
    reports: FilingReports, made: Made
) -> None:
    report = reports.submissions(HUNAN, *Q4)
    hengyang = _row(report.rows, "430400")
    assert _states(hengyang) == {
        "submitted": 1,  # B
        "approved": 3,  # D's new version and the two imported rows
        "rejected": 1,  # C
        "superseded": 1,  # D's first version
        "cancelled": 1,  # E
    }
    assert hengyang.total == 7 and (hengyang.counter, hengyang.imported) == (5, 2)
    # Filed in Q4: A (approved 10-01), D's first version, the two imported rows; D's change.
    assert (hengyang.new, hengyang.changed) == (4, 1)
    assert hengyang.last_submitted_at == made.last_counter_submit_at
    assert hengyang.last_imported_at == made.import_at
    assert (hengyang.emergency_near, hengyang.emergency_late) == (1, 1)
    changsha = _row(report.rows, "430100")
    assert _states(changsha) == {"approved": 1}
    assert (changsha.imported, changsha.new, changsha.last_submitted_at) == (1, 1, None)
    assert report.total.total == 8 and report.total.new == 5
    assert sum(r.total for r in report.rows) == report.total.total


def test_period_boundaries_are_china_days_and_a_year_covers_its_quarters(
    reports: FilingReports, made: Made
) -> None:
    q3 = _row(reports.submissions(HUNAN, *Q3).rows, "430400")
    # A was drafted and submitted at 23:30 on 30 September (China time): Q3, filed in Q4.
    assert _states(q3) == {"approved": 1} and (q3.counter, q3.new, q3.changed) == (1, 0, 0)
    assert q3.last_submitted_at == _at(9, 30, 23, 30) and q3.last_imported_at is None
    year = _row(reports.submissions(HUNAN, *YEAR).rows, "430400")
    assert year.total == q3.total + _row(reports.submissions(HUNAN, *Q4).rows, "430400").total
    assert (year.new, year.changed) == (4, 1)
    q1 = reports.submissions(HUNAN, *period_bounds(2026, 1))
    assert q1.total.total == 0 and q1.total.last_submitted_at is None
    with pytest.raises(InvalidInput):
        reports.submissions(HUNAN, Q4[1], Q4[0])


def test_a_province_sees_its_prefectures_and_an_agency_only_its_own_row(
    reports: FilingReports, made: Made
) -> None:
    hunan = reports.submissions(HUNAN, *Q4)
    assert [r.region_code for r in hunan.rows][:2] == ["430100", "430200"]
    assert hunan.rows[-1].region_code == "430000" and hunan.rows[-1].region_name == "省直"
    henan = reports.submissions(HENAN, *Q4)
    codes = [r.region_code for r in henan.rows]
    assert len(codes) == 19  # 17 省辖市, 济源 and 省直
    assert "419001" in codes and codes[-1] == "410000"
    assert henan.total.total == 0  # Hunan's filings are not Henan's
    agency = reports.submissions(HENGYANG, *Q4)
    assert [r.region_code for r in agency.rows] == ["430400"]
    assert agency.rows[0] == _row(hunan.rows, "430400")
    assert reports.submissions(ZHENGZHOU, *Q4).total.total == 0
    for outsider in (CASHIER, PERSON, Principal.anonymous()):
        with pytest.raises(Exception) as caught:
            reports.submissions(outsider, *Q4)
        assert caught.type.__name__ in ("Forbidden", "Unauthenticated")


def test_import_batches_belong_to_the_region_they_were_submitted_for(
    container: Container, clock: FixedClock, imports: FilingImports, reports: FilingReports
) -> None:
    clock.set(_at(11, 5, 9))
    imports.import_annex2(HENGYANG, annex2_csv([("430421", "甲某", _person(30))]), "hengyang.csv")
    clock.set(_at(11, 6, 9))
    imports.import_annex2(HUNAN, annex2_csv([("430102", "乙某", _person(31))]), "hunan.csv")
    clock.set(_at(11, 7, 9))
    zhengzhou_id = make_resident_id("410102", dt.date(1950, 1, 1), 32, Gender.MALE).number
    imports.import_annex2(
        ZHENGZHOU, annex2_csv([("410102", "丙某", zhengzhou_id)]), "zhengzhou.csv"
    )
    province = reports.import_batches(HUNAN)
    assert [b.filename for b in province.items] == ["hunan.csv", "hengyang.csv"]
    assert province.total == 2 and province.items[1].region_code == "430400"
    only_hengyang = reports.import_batches(HUNAN, region="430400")
    assert [b.filename for b in only_hengyang.items] == ["hengyang.csv"]
    own_accounts = reports.import_batches(HUNAN, region="430000")
    assert [b.filename for b in own_accounts.items] == ["hunan.csv"]
    by_day = reports.import_batches(HUNAN, from_on=dt.date(2026, 11, 6), to_on=dt.date(2026, 11, 6))
    assert [b.filename for b in by_day.items] == ["hunan.csv"]
    paged = reports.import_batches(HUNAN, limit=1, offset=1)
    assert paged.total == 2 and [b.filename for b in paged.items] == ["hengyang.csv"]
    agency = reports.import_batches(HENGYANG)
    assert [b.filename for b in agency.items] == ["hengyang.csv"]
    assert [b.filename for b in reports.import_batches(HENAN).items] == ["zhengzhou.csv"]
    with pytest.raises(Forbidden):
        reports.import_batches(HENGYANG, region="430100")
    with pytest.raises(InvalidInput):
        reports.import_batches(HUNAN, from_on=dt.date(2026, 11, 7), to_on=dt.date(2026, 11, 6))
    with pytest.raises(Forbidden):
        reports.import_batches(CASHIER)


def test_a_command_line_batch_is_listed_for_the_prefecture_its_rows_lie_in(
    imports: FilingImports,
    reports: FilingReports,
) -> None:
    operator = system_principal()
    imports.import_annex2(operator, annex2_csv([("430421", "甲某", _person(60))]), "cli.csv")
    province = reports.import_batches(HUNAN)
    assert [(b.filename, b.region_code, b.actor, b.actor_name) for b in province.items] == [
        ("cli.csv", "430400", "system", "")
    ]
    (batch,) = reports.import_batches(HENGYANG).items
    assert reports.import_batch_report(HUNAN, batch.id).report.imported == 1
    assert reports.import_batch_report(HENGYANG, batch.id).batch.filename == "cli.csv"
    assert reports.import_batches(HENAN).total == reports.import_batches(ZHENGZHOU).total == 0
    for outsider in (HENAN, ZHENGZHOU):
        with pytest.raises(NotFound):
            reports.import_batch_report(outsider, batch.id)


def test_a_command_line_batch_of_several_prefectures_needs_its_region_named(
    imports: FilingImports,
    reports: FilingReports,
) -> None:
    operator = system_principal()
    mixed = annex2_csv([("430421", "甲某", _person(61)), ("430102", "乙某", _person(62))])
    with pytest.raises(InvalidInput) as refused:
        imports.import_annex2(operator, mixed, "mixed.csv")
    assert refused.value.code == "IMPORT_REGION_REQUIRED" and refused.value.field == "region"
    assert "430100" in refused.value.message and "430400" in refused.value.message
    assert reports.import_batches(HUNAN).total == 0
    for invalid in ("000000", "439999", "43"):
        with pytest.raises(InvalidInput) as unknown:
            imports.import_annex2(operator, mixed, "mixed.csv", region=invalid)
        assert unknown.value.code == "REGION_UNKNOWN"
    report = imports.import_annex2(operator, mixed, "mixed.csv", region="430000")
    assert report.imported == 2
    own_accounts = reports.import_batches(HUNAN, region="430000")
    assert [(b.filename, b.region_code) for b in own_accounts.items] == [("mixed.csv", "430000")]
    assert reports.import_batches(HENGYANG).total == 0


def test_a_batch_named_for_a_prefecture_rejects_rows_insured_elsewhere(
    imports: FilingImports,
    reports: FilingReports,
) -> None:
    mixed = annex2_csv([("430421", "甲某", _person(63)), ("430102", "乙某", _person(64))])
    report = imports.import_annex2(system_principal(), mixed, "named.csv", region="430400")
    assert (report.imported, report.rejected) == (1, 1)
    assert report.errors[0]["code"] == "IMPORT_REGION_OUT_OF_SCOPE"
    assert [b.region_code for b in reports.import_batches(HENGYANG).items] == ["430400"]
    with pytest.raises(Forbidden) as outside:
        imports.import_annex2(HENGYANG, mixed, "other.csv", region="430100")
    assert outside.value.code == "IMPORT_REGION_FORBIDDEN"


def test_a_batch_stays_listed_after_its_importing_account_is_gone(
    imports: FilingImports,
    reports: FilingReports,
) -> None:
    departed = Principal("departed", Role.AGENCY_HANDLER, "430400")  # no account row
    imports.import_annex2(departed, annex2_csv([("430421", "甲某", _person(65))]), "old.csv")
    (batch,) = reports.import_batches(HUNAN, region="430400").items
    assert (batch.actor, batch.actor_name, batch.region_code) == ("departed", "", "430400")


def test_a_batch_report_shows_its_row_errors_masked_and_the_read_is_audited(
    container: Container, imports: FilingImports, reports: FilingReports
) -> None:
    good = _person(40)
    imports.import_annex2(
        HENGYANG,
        annex2_csv([("430421", "甲某", good), ("430421", "乙某", good[:-1] + "0")]),
        "with-errors.csv",
    )
    (batch,) = reports.import_batches(HENGYANG).items
    token = set_client_address("10.0.0.9")  # as the API's middleware sets it for a request
    try:
        read = reports.import_batch_report(HENGYANG, batch.id)
    finally:
        reset_client_address(token)
    assert (read.report.total_rows, read.report.imported, read.report.rejected) == (2, 1, 1)
    assert read.report.errors and read.report.errors[0]["row"] == 3
    assert all(good[6:14] not in e["message"] for e in read.report.errors)
    assert reports.import_batch_report(HUNAN, batch.id).batch.id == batch.id
    for outsider in (ZHENGZHOU, HENAN):
        with pytest.raises(NotFound):
            reports.import_batch_report(outsider, batch.id)
    with pytest.raises(NotFound):
        reports.import_batch_report(HUNAN, batch.id + 1000)
    with container.uow() as uow:
        reads = [
            (c.entry.actor, c.entry.address)
            for c in uow.audit.walk()
            if c.entry.action == "filing.import_report_read"
        ]
    assert reads == [("hengyang", "10.0.0.9"), ("hunan", "")]


def test_id_numbers_written_in_a_message_are_masked() -> None:
    number = _person(50)
    text = mask_id_numbers_in(f"身份证号{number}已在其他地市备案；电话13807341234")
    assert number not in text and number[:6] + "********" + number[14:] in text
    assert "13807341234" in text  # eleven digits: not an ID number
