from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine, func, select

from filing_support import (
    HENAN,
    HENGYANG,
    HUNAN,
    ZHENGZHOU,
    household_registration,
    load_agencies,
    record,
)
from yidi.bootstrap import Container, build_container
from yidi.demo.population import generate_persons
from yidi.filing.commands import FilingService
from yidi.filing.imports import FilingImports
from yidi.filing.model.annex import ANNEX2_COLUMNS
from yidi.filing.reports import FilingReports
from yidi.kernel.access import Principal, Role
from yidi.kernel.audit import as_utc
from yidi.kernel.clock import FixedClock
from yidi.kernel.errors import Forbidden, InvalidInput
from yidi.platform.db import make_engine
from yidi.platform.migrate import upgrade
from yidi.platform.tables import filing_events, filing_versions, filings
from yidi.reports.annex2_xlsx import ANNEX2_NOTES, ANNEX2_TITLE, annex2_xlsx, quarterly_xlsx
from yidi.settings import Settings

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


def test_imported_versions_carry_their_filings_insured_region(
    container: Container, imports: FilingImports
) -> None:
    """The quarterly list counts and pages by the version's region column: the bulk path
    (executemany on SQLite, COPY on PostgreSQL) writes the lineage's region on each version."""
    imports.import_annex2(PROVINCE_IMPORTER, _csv(_rows(12, ["410100", "410300"])), "regions.csv")
    with container.uow() as uow:
        pairs = uow.session.execute(
            select(filings.c.insured_region_code, filing_versions.c.insured_region_code).join(
                filing_versions, filing_versions.c.filing_id == filings.c.id
            )
        ).all()
    assert len(pairs) == 12
    assert {lineage for lineage, _version in pairs} == {"410100", "410300"}
    assert all(lineage == version for lineage, version in pairs)


def _stored_import(engine: Engine) -> list[tuple[object, ...]]:
    """Every stored filing with its versions and events, keyed by import key, ids left out
    (they are generated per import) but the links between the three tables kept."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                filings.c.import_key,
                filings.c.filing_number,
                filings.c.state,
                filings.c.version,
                filings.c.insured_region_code,
                filings.c.id_number,
                filings.c.name,
                filings.c.category,
                filings.c.source,
                filings.c.created_at,
                filings.c.updated_at,
                filing_versions.c.version,
                filing_versions.c.state,
                filing_versions.c.registration_type,
                filing_versions.c.category,
                filing_versions.c.insured_region_code,
                filing_versions.c.record_json,
                filing_versions.c.state_reason,
                filing_versions.c.supersedes,
                filing_versions.c.superseded_by,
                filing_versions.c.filed_on,
                filing_versions.c.created_at,
                filing_events.c.seq,
                filing_events.c.action,
                filing_events.c.from_state,
                filing_events.c.to_state,
                filing_events.c.actor_id,
                filing_events.c.actor_role,
                filing_events.c.at,
                filing_events.c.reason,
                filing_events.c.version,
            )
            .join(filing_versions, filing_versions.c.id == filings.c.current_version_id)
            .join(filing_events, filing_events.c.version_id == filing_versions.c.id)
            .where(filing_versions.c.filing_id == filings.c.id)
            .where(filing_events.c.filing_id == filings.c.id)
            .order_by(filings.c.import_key)
        ).all()
    return [tuple(as_utc(v) if isinstance(v, dt.datetime) else v for v in row) for row in rows]


def test_postgresql_copy_import_stores_and_reports_exactly_what_sqlite_does(
    database_url: str, clock: FixedClock, tmp_path: Path
) -> None:
    """The PostgreSQL path (COPY into a staging table, INSERT … SELECT) against SQLite's
    executemany: a stored earlier file, then a file with rejected rows, a duplicate within the
    file, duplicates of stored rows and conflicts with stored and in-file rows."""
    if not database_url.startswith("postgresql"):
        pytest.skip("compares the PostgreSQL import path with SQLite's")
    earlier = _rows(4, ["410100"], seed=11)
    rows = [*earlier[:2], *_rows(8, ["410100", "410300"], seed=12)]
    rows[3][4] = "未知"  # rejected
    rows[5][11] = "123"  # rejected
    rows.append(list(rows[6]))  # the same row twice in the file
    moved = list(earlier[2])
    moved[1] = "410300"  # conflicts with a stored filing in 410100
    in_file = list(rows[7])
    in_file[1] = "410500" if rows[7][1] != "410500" else "410100"  # conflicts within the file
    rows += [moved, in_file]
    for number, row in enumerate(rows, start=1):
        row[0] = str(number)

    results = []
    for url in (database_url, f"sqlite:///{tmp_path / 'reference.sqlite3'}"):
        engine = make_engine(url)
        if engine.dialect.name == "postgresql":
            with engine.begin() as connection:
                connection.exec_driver_sql("DROP SCHEMA IF EXISTS copy_compare CASCADE")
                connection.exec_driver_sql("CREATE SCHEMA copy_compare")
            engine.dispose()
            engine = make_engine(url, connect_args={"options": "-csearch_path=copy_compare"})
        try:
            upgrade(engine)
            built = build_container(
                Settings(database_url=url, demo_mode=True), clock=clock, engine=engine
            )
            imports = FilingImports(built.uow, built.clock)
            imports.import_annex2(PROVINCE_IMPORTER, _csv(earlier), "earlier.csv")
            report = imports.import_annex2(PROVINCE_IMPORTER, _csv(rows), "mixed.csv")
            replay = imports.import_annex2(PROVINCE_IMPORTER, _csv(rows), "mixed.csv")
            results.append((engine.dialect.name, report, replay, _stored_import(engine)))
        finally:
            if engine.dialect.name == "postgresql":
                with engine.begin() as connection:
                    connection.exec_driver_sql("DROP SCHEMA copy_compare CASCADE")
            engine.dispose()

    (pg, pg_report, pg_replay, pg_rows), (lite, lite_report, lite_replay, lite_rows) = results
    assert (pg, lite) == ("postgresql", "sqlite")
    assert (pg_report.rejected, pg_report.duplicates, pg_report.conflict_count) == (2, 3, 2)
    assert pg_report.as_dict() == lite_report.as_dict()
    assert pg_replay.replayed and pg_replay.as_dict() == lite_replay.as_dict()
    assert len(pg_rows) == 4 + pg_report.imported
    assert pg_rows == lite_rows
