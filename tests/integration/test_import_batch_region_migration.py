"""Migration 0007: import batches get a region, backfilled from the importing account."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, MetaData, insert, inspect, text

from yidi.platform.migrate import upgrade

AT = dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)


def _fill_0006_database(engine: Engine) -> None:
    """Accounts, batches and the filings of two account-less batches, as 0006 stored them."""
    old = MetaData()
    old.reflect(engine, only=["users", "import_batches", "filings", "filing_events"])
    users, batches = old.tables["users"], old.tables["import_batches"]
    filings, events = old.tables["filings"], old.tables["filing_events"]
    with engine.begin() as connection:
        accounts = (
            ("hengyang", "agency_handler", "430400"),
            ("hunan", "province_officer", "430000"),
            ("person-xie", "insured_person", None),
        )
        connection.execute(
            insert(users),
            [
                {"username": name, "password_hash": "!", "role": role, "region_code": region}
                for name, role, region in accounts
            ],
        )
        actors = ("hengyang", "hunan", "system", "departed", "person-xie", "system")
        connection.execute(
            insert(batches),
            [
                {
                    "file_sha256": f"{n:064d}",
                    "filename": f"{n}.csv",
                    "imported_at": AT + dt.timedelta(hours=n),
                    "actor": actor,
                    "total_rows": 2,
                    "imported_rows": 2,
                    "duplicate_rows": 0,
                    "rejected_rows": 0,
                    "report_json": "{}",
                }
                for n, actor in enumerate(actors)
            ],
        )
        # batch 2 (system, 4 h) made two 衡阳 filings; batch 3 (departed, 5 h) 衡阳 and 长沙;
        # batch 5 (system, 7 h) imported nothing new.
        made = [
            ("a", 2, "system", "430421"),
            ("b", 2, "system", "430482"),
            ("c", 3, "departed", "430421"),
            ("d", 3, "departed", "430102"),
        ]
        for key, n, actor, region in made:
            at = AT + dt.timedelta(hours=n)
            connection.execute(
                insert(filings).values(
                    id=key * 32,
                    current_version_id="v" * 32,
                    state="approved",
                    version=1,
                    insured_region_code=region,
                    id_number=key * 18,
                    name="某某",
                    source="import",
                    created_at=at,
                    updated_at=at,
                )
            )
            connection.execute(
                insert(events).values(
                    filing_id=key * 32,
                    version_id="v" * 32,
                    seq=1,
                    action="create",
                    to_state="approved",
                    actor_id=actor,
                    actor_role="province_officer",
                    at=at,
                    version=1,
                )
            )


def test_upgrade_to_0007_gives_each_batch_the_region_of_its_account_or_its_filings(
    fresh_engine: Engine,
) -> None:
    upgrade(fresh_engine, "0006")
    columns = {c["name"] for c in inspect(fresh_engine).get_columns("import_batches")}
    assert "region_code" not in columns
    _fill_0006_database(fresh_engine)
    upgrade(fresh_engine)
    with fresh_engine.connect() as connection:
        rows = connection.execute(
            text("SELECT filename, actor, region_code FROM import_batches ORDER BY filename")
        ).all()
    assert [tuple(row) for row in rows] == [
        ("0.csv", "hengyang", "430400"),
        ("1.csv", "hunan", "430000"),
        ("2.csv", "system", "430400"),  # both of its filings are insured in 衡阳
        ("3.csv", "departed", None),  # 衡阳 and 长沙: no single prefecture
        ("4.csv", "person-xie", None),  # an account without a region
        ("5.csv", "system", None),  # nothing to recover it from
    ]
    indexes = {i["name"] for i in inspect(fresh_engine).get_indexes("import_batches")}
    assert "ix_import_batches_region_code" in indexes
