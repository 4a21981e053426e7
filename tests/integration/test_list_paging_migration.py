"""Migration 0031: each version's own category and each filing's count of missing mandatory
附件1 fields, filled from the stored records (the follow-up lists page on them in SQL)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, MetaData, insert, text

from filing_support import record
from yidi.filing.model.annex import missing_mandatory_fields
from yidi.filing.record_json import record_json
from yidi.kernel.insurance import FilingCategory
from yidi.platform.migrate import upgrade

AT = dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)


def test_upgrade_to_0031_fills_the_version_category_and_the_missing_field_count(
    fresh_engine: Engine,
) -> None:
    upgrade(fresh_engine, "0030")
    old = MetaData()
    old.reflect(fresh_engine, only=["filings", "filing_versions"])
    filings, versions = old.tables["filings"], old.tables["filing_versions"]
    complete = record()
    lacking = record(category=None, home_address=None, mobile=None, phone=None)
    changed = record(category=FilingCategory.LONG_TERM_RESIDENT)
    stored = [  # (lineage, version id, version, record, current)
        ("a", "a1", 1, complete, True),
        ("b", "b1", 1, lacking, True),
        ("c", "c1", 1, complete, False),  # superseded by a change of category
        ("c", "c2", 2, changed, True),
    ]
    with fresh_engine.begin() as connection:
        for lineage, version_id, _n, _r, _c in stored:
            if version_id.endswith("1"):
                current = next(v for lin, v, _, _, cur in stored if lin == lineage and cur)
                connection.execute(
                    insert(filings).values(
                        id=lineage * 32,
                        current_version_id=current * 16,
                        state="approved",
                        version=1,
                        insured_region_code="430421",
                        id_number=lineage * 18,
                        name="谢某某",
                        source="counter",
                        created_at=AT,
                        updated_at=AT,
                    )
                )
        connection.execute(
            insert(versions),
            [
                {
                    "id": version_id * 16,
                    "filing_id": lineage * 32,
                    "version": n,
                    "state": "approved" if current else "superseded",
                    "registration_type": "1",
                    "record_json": record_json(found),
                    "filed_on": AT.date(),
                    "created_at": AT,
                }
                for lineage, version_id, n, found, current in stored
            ],
        )
    upgrade(fresh_engine)
    with fresh_engine.connect() as connection:
        categories = dict(
            connection.execute(text("SELECT id, category FROM filing_versions")).all()
        )
        missing = dict(connection.execute(text("SELECT id, missing_fields FROM filings")).all())
    assert categories == {
        "a1" * 16: FilingCategory.RETIREE_RESETTLED.value,
        "b1" * 16: None,
        "c1" * 16: FilingCategory.RETIREE_RESETTLED.value,
        "c2" * 16: FilingCategory.LONG_TERM_RESIDENT.value,
    }
    assert len(missing_mandatory_fields(lacking)) >= 2
    assert missing == {
        "a" * 32: 0,
        "b" * 32: len(missing_mandatory_fields(lacking)),
        "c" * 32: 0,
    }


def test_upgrade_to_0032_fills_each_version_with_its_lineages_insured_region(
    fresh_engine: Engine,
) -> None:
    """Migration 0032: every stored version, superseded ones too, gets its lineage's region."""
    upgrade(fresh_engine, "0031")
    old = MetaData()
    old.reflect(fresh_engine, only=["filings", "filing_versions"])
    filings, versions = old.tables["filings"], old.tables["filing_versions"]
    lineages = {"a": ("430421", ["a1"]), "b": ("450923", ["b1", "b2"])}
    with fresh_engine.begin() as connection:
        for lineage, (region, version_ids) in lineages.items():
            connection.execute(
                insert(filings).values(
                    id=lineage * 32,
                    current_version_id=version_ids[-1] * 16,
                    state="approved",
                    version=len(version_ids),
                    insured_region_code=region,
                    id_number=lineage * 18,
                    name="谢某某",
                    source="counter",
                    created_at=AT,
                    updated_at=AT,
                )
            )
            for n, version_id in enumerate(version_ids, start=1):
                connection.execute(
                    insert(versions).values(
                        id=version_id * 16,
                        filing_id=lineage * 32,
                        version=n,
                        state="approved" if n == len(version_ids) else "superseded",
                        registration_type="1",
                        record_json=record_json(record(insured_region_code=region)),
                        filed_on=AT.date(),
                        created_at=AT,
                    )
                )
    upgrade(fresh_engine)
    with fresh_engine.connect() as connection:
        regions = dict(
            connection.execute(text("SELECT id, insured_region_code FROM filing_versions")).all()
        )
    assert regions == {"a1" * 16: "430421", "b1" * 16: "450923", "b2" * 16: "450923"}
