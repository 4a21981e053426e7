from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from filing_support import (
    HENAN,
    HENGYANG,
    HUNAN,
    ZHENGZHOU,
    household_registration,
    load_agencies,
    record,
)
from yidi.bootstrap import Container
from yidi.demo.population import generate_persons
from yidi.filing.commands import FilingService
from yidi.filing.imports import FilingImports
from yidi.filing.model.annex import ANNEX2_COLUMNS
from yidi.filing.reports import FilingReports
from yidi.kernel.access import Principal, Role
from yidi.kernel.errors import Forbidden, InvalidInput
from yidi.platform.tables import filings
from yidi.reports.annex2_xlsx import ANNEX2_NOTES, ANNEX2_TITLE, annex2_xlsx, quarterly_xlsx

PROVINCE_IMPORTER = Principal("henan", Role.PROVINCE_OFFICER, "410000")


def _rows(count: int, regions: list[str], seed: int = 7) -> list[list[str]]:
    persons = generate_persons(count, seed=seed, insured_region_codes=regions)
    return [
        [
            str(n),
            p.insured_region_code,
            "",
            p.name,
            p.gender.label_zh,
            p.resident_id.number,
            p.insurance_type.annex_code,
            p.resident_id.number,
            p.social_security_card_number,
            p.address,
            "",
            p.mobile,
            "2",
        ]
        for n, p in enumerate(persons, start=1)
    ]


def _csv(rows: list[list[str]], *, title: bool = True) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    if title:
        writer.writerow([ANNEX2_TITLE])
        writer.writerow(["市(县、市)：郑州市"])
    writer.writerow(ANNEX2_COLUMNS)
    writer.writerows(rows)
    writer.writerow([ANNEX2_NOTES[0]])
    return out.getvalue().encode("utf-8")


def _count(container: Container) -> int:
    with container.uow() as uow:
        return int(uow.session.execute(select(func.count()).select_from(filings)).scalar_one())


@pytest.fixture
def imports(container: Container) -> FilingImports:
    return FilingImports(container.uow, container.clock)


@pytest.fixture
def reports(container: Container) -> FilingReports:
    return FilingReports(container.uow, container.clock)


def test_mixed_rows_import_the_good_ones_and_report_each_bad_cell(
    container: Container, imports: FilingImports
) -> None:
    rows = _rows(6, ["410100"])
    rows[1][5] = rows[1][5][:-1] + ("0" if rows[1][5][-1] != "0" else "1")  # check digit broken
    rows[3][4] = "未知"
    rows[4][11] = "123"
    report = imports.import_annex2(PROVINCE_IMPORTER, _csv(rows), "zhengzhou.csv")
    assert (report.total_rows, report.imported, report.rejected, report.duplicates) == (6, 3, 3, 0)
    assert {(e["row"], e["column"]) for e in report.errors} >= {
        (5, "身份证号"),
        (7, "性别"),
        (8, "手机"),
    }
    assert all(e["message"] for e in report.errors)
    assert _count(container) == 3


def test_reimporting_the_same_file_or_the_same_rows_changes_nothing(
    container: Container, imports: FilingImports
) -> None:
    rows = _rows(20, ["410100", "410300"])
    first = imports.import_annex2(PROVINCE_IMPORTER, _csv(rows), "a.csv")
    assert first.imported == 20 and not first.replayed
    again = imports.import_annex2(PROVINCE_IMPORTER, _csv(rows), "a.csv")
    assert again.replayed and again.imported == 20
    other_file = imports.import_annex2(PROVINCE_IMPORTER, _csv(rows, title=False), "b.csv")
    assert (other_file.imported, other_file.duplicates, other_file.replayed) == (0, 20, False)
    assert _count(container) == 20


def test_the_same_person_from_two_prefectures_is_listed_as_a_conflict_not_merged(
    container: Container, imports: FilingImports
) -> None:
    rows = _rows(3, ["410100"])
    moved = list(rows[0])
    moved[1] = "410300"
    report = imports.import_annex2(PROVINCE_IMPORTER, _csv([*rows, moved]), "c.csv")
    assert report.imported == 4 and report.conflict_count == 1
    assert report.conflicts[0]["regions"] == ["410100", "410300"]
    assert rows[0][5] not in str(report.conflicts)


def test_an_agency_cannot_import_rows_of_another_region(imports: FilingImports) -> None:
    rows = _rows(2, ["430400"])
    report = imports.import_annex2(ZHENGZHOU, _csv(rows), "x.csv")
    assert report.rejected == 2 and report.errors[0]["code"] == "IMPORT_REGION_OUT_OF_SCOPE"


def test_a_file_without_the_annex2_heading_is_refused_whole(imports: FilingImports) -> None:
    with pytest.raises(InvalidInput) as caught:
        imports.import_annex2(PROVINCE_IMPORTER, b"a,b\n1,2\n", "bad.csv")
    assert caught.value.code == "IMPORT_NO_HEADER"


def test_xlsx_import_reads_the_exported_layout(
    container: Container, imports: FilingImports, reports: FilingReports
) -> None:
    rows = _rows(5, ["410100"])
    imports.import_annex2(PROVINCE_IMPORTER, _csv(rows), "seed.csv")
    table = reports.annex2(HENAN, "410000", dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    data = annex2_xlsx(table)
    report = imports.import_annex2(PROVINCE_IMPORTER, data, "back.xlsx")
    assert report.total_rows == 5 and report.duplicates == 5 and report.rejected == 0


def test_annex2_xlsx_has_the_notice_layout_cell_by_cell(
    container: Container, reports: FilingReports
) -> None:
    load_agencies(container.uow)
    service = FilingService(container.uow, container.clock)
    draft = service.create_draft(HENGYANG, record(), evidence=[household_registration()])
    service.submit(HENGYANG, draft.filing_id)
    service.approve(HENGYANG, draft.filing_id)
    table = reports.annex2(HUNAN, "430400", dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    sheet = load_workbook(io.BytesIO(annex2_xlsx(table))).active
    assert sheet is not None
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][0] == ANNEX2_TITLE
    assert str(values[1][0]).startswith("市(县、市)：衡阳市")
    assert tuple(values[2][: len(ANNEX2_COLUMNS)]) == ANNEX2_COLUMNS
    expected = record()
    assert values[3][:13] == [
        "1",
        "430421",
        "衡阳县",
        "谢某某",
        "男",
        expected.social_security_number,
        "1",
        expected.social_security_number,
        "A12345678",
        "广西博白县博白镇某街2号",
        "0734-8867038",
        "13807341234",
        "1",
    ]
    assert values[4][0] == ANNEX2_NOTES[0] and values[5][0] == ANNEX2_NOTES[1]
    masked = reports.annex2(HENGYANG, "430400", dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    assert masked.masked and "********" in masked.rows[0][5] and "****" in masked.rows[0][11]
    with pytest.raises(Forbidden):
        reports.annex2(ZHENGZHOU, "430400", dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    with container.uow() as uow:
        exports = [c.entry for c in uow.audit.walk() if c.entry.action == "filing.export"]
    assert [e.actor for e in exports] == ["hunan", "hengyang"]


def test_quarterly_list_groups_new_and_changed_filings_by_prefecture(
    container: Container, imports: FilingImports, reports: FilingReports
) -> None:
    imports.import_annex2(PROVINCE_IMPORTER, _csv(_rows(4, ["410100", "410300"])), "q.csv")
    listing = reports.quarterly(HENAN, "410000", 2026, 4)
    assert {t.region_code for t in listing.prefectures} == {"410100", "410300"}
    assert sum(len(t.rows) for t in listing.prefectures) == 4
    assert all(row[-1] == "新增" for t in listing.prefectures for row in t.rows)
    assert reports.quarterly(HENAN, "410000", 2026, 3).prefectures == []
    workbook = load_workbook(io.BytesIO(quarterly_xlsx(listing)))
    assert len(workbook.sheetnames) == 2
    with pytest.raises(InvalidInput):
        reports.quarterly(HENAN, "410000", 2026, 5)


def test_large_files_validated_in_a_worker_process_give_the_same_report(
    container: Container, imports: FilingImports, monkeypatch: pytest.MonkeyPatch
) -> None:
    import yidi.filing.imports as module

    rows = _rows(30, ["410100", "410300"])
    rows[7][4] = "X"
    monkeypatch.setattr(module, "PARALLEL_MIN_BYTES", 0)
    report = imports.import_annex2(PROVINCE_IMPORTER, _csv(rows), "parallel.csv")
    assert (report.total_rows, report.imported, report.rejected) == (30, 29, 1)
    assert report.errors[0]["row"] == 11 and report.errors[0]["column"] == "性别"
    assert _count(container) == 29


def test_an_import_leaves_planner_statistics_for_the_admission_lookup(
    container: Container, imports: FilingImports
) -> None:
    """The admission check reads a person's approved filings by ID number and state; after a
    报盘 import the planner must know that index's selectivity (SQLite gathers nothing by
    itself and would otherwise pick the state index and read every approved filing)."""
    with container.uow() as uow:
        connection = uow.session.connection()
        if connection.dialect.name != "sqlite":
            pytest.skip(
                "PostgreSQL's autovacuum also gathers statistics; ANALYZE is not observable per table here"
            )
        connection.exec_driver_sql("DELETE FROM sqlite_stat1 WHERE tbl = 'filings'")
        uow.commit()
    imports.import_annex2(PROVINCE_IMPORTER, _csv(_rows(30, ["410100"])), "stats.csv")
    with container.uow() as uow:
        analysed = (
            uow.session.connection()
            .exec_driver_sql(
                "SELECT stat FROM sqlite_stat1 WHERE tbl = 'filings' AND idx = 'ix_filings_id_number_state'"
            )
            .scalar()
        )
    assert analysed is not None and analysed.split()[0] == "30"
