"""The floor under yidi's fee upload and settlement over HTTP: what any implementation must
do for the same requests, with no rules — the reference run of ``hospital_http_bench.py``.

Same transport as ``yidi serve`` (uvicorn, one process, the work in the thread pool as
FastAPI runs a synchronous endpoint), same PostgreSQL server, its own schema. Per request:

- admit: insert the stay, append an audit entry, commit;
- upload: parse the JSON lines (exact decimals, amount = quantity × price checked), lock the
  stay, insert every line in one ``INSERT … SELECT FROM unnest(…)``, append an audit entry
  (head row locked, entry inserted, head advanced: a hash chain like yidi's), commit, answer
  each line's id and amount;
- discharge: update the stay, commit;
- settle: lock the stay, sum the lines' amounts, lock (upsert) the year-to-date row, insert
  the settlement, mark the lines, write year-to-date and the stay, append an audit entry,
  commit, answer the amounts.

No catalogue, no policy, no engine, no idempotency record, no clearing fact: yidi does all of
those as well, so its ratio to this floor is what they and its layers cost.

Run (the bench starts it): python bench/settle_floor_app.py --port 8732 --url <database url>
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import uuid
from decimal import Decimal
from typing import Any

import uvicorn
from sqlalchemy import Engine, create_engine, text
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS floor_encounters (
    id varchar(32) PRIMARY KEY, card varchar(30) NOT NULL, state varchar(12) NOT NULL,
    person_id integer NOT NULL, updated_at timestamptz NOT NULL);
CREATE TABLE IF NOT EXISTS floor_lines (
    id bigserial PRIMARY KEY, encounter_id varchar(32) NOT NULL, serial varchar(30) NOT NULL,
    catalog_code varchar(50) NOT NULL, quantity varchar(24) NOT NULL,
    unit_price varchar(24) NOT NULL, amount_fen bigint NOT NULL, occurred_at timestamptz NOT NULL,
    settlement_id varchar(32), UNIQUE (encounter_id, serial));
CREATE TABLE IF NOT EXISTS floor_settlements (
    id varchar(32) PRIMARY KEY, encounter_id varchar(32) NOT NULL, total_fen bigint NOT NULL,
    fund_fen bigint NOT NULL, result_json text NOT NULL, settled_at timestamptz NOT NULL);
CREATE TABLE IF NOT EXISTS floor_ytd (
    person_id integer NOT NULL, year integer NOT NULL, paid_fen bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (person_id, year));
CREATE TABLE IF NOT EXISTS floor_audit_head (
    id integer PRIMARY KEY, last_seq bigint NOT NULL, last_hash varchar(64) NOT NULL);
CREATE TABLE IF NOT EXISTS floor_audit_log (
    seq bigint PRIMARY KEY, at timestamptz NOT NULL, action varchar(64) NOT NULL,
    subject varchar(128) NOT NULL, prev_hash varchar(64) NOT NULL, entry_hash varchar(64) NOT NULL);
INSERT INTO floor_audit_head VALUES (1, 0, repeat('0', 64)) ON CONFLICT DO NOTHING;
"""

_INSERT_LINES = text(
    "INSERT INTO floor_lines (encounter_id, serial, catalog_code, quantity, unit_price, "
    "amount_fen, occurred_at) SELECT * FROM unnest(CAST(:e AS varchar[]), CAST(:s AS varchar[]),"
    " CAST(:c AS varchar[]), CAST(:q AS varchar[]), CAST(:p AS varchar[]), CAST(:a AS bigint[]),"
    " CAST(:o AS timestamptz[])) ON CONFLICT DO NOTHING RETURNING id, serial, amount_fen"
)
_LOCK_HEAD = text("SELECT last_seq, last_hash FROM floor_audit_head WHERE id = 1 FOR UPDATE")
_APPEND = text(
    "WITH appended AS (INSERT INTO floor_audit_log VALUES (:seq, :at, :action, :subject, :prev,"
    " :hash)) UPDATE floor_audit_head SET last_seq = :seq, last_hash = :hash WHERE id = 1"
)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _audit(connection: Any, action: str, subject: str) -> None:
    last_seq, last_hash = connection.execute(_LOCK_HEAD).one()
    seq, at = int(last_seq) + 1, _now()
    canonical = json.dumps(
        [seq, at.isoformat(timespec="microseconds"), action, subject, last_hash],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    connection.execute(
        _APPEND,
        {
            "seq": seq,
            "at": at,
            "action": action,
            "subject": subject,
            "prev": last_hash,
            "hash": digest,
        },
    )


def _fen(value: str) -> int:
    return int((Decimal(value) * 100).to_integral_exact())


class Floor:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def admit(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        encounter_id = uuid.uuid4().hex
        with self.engine.begin() as connection:
            connection.execute(
                text("INSERT INTO floor_encounters VALUES (:i, :c, 'admitted', :p, :t)"),
                {
                    "i": encounter_id,
                    "c": body["cert_no"],
                    "p": hash(body["cert_no"]) % 10_000,
                    "t": _now(),
                },
            )
            _audit(connection, "admit", encounter_id)
        return 201, {"mdtrt_id": encounter_id}

    def fees(self, encounter_id: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        lines = body["lines"]
        columns: dict[str, list[Any]] = {k: [] for k in "escqpao"}
        for line in lines:
            quantity, price = Decimal(line["quantity"]), Decimal(line["unit_price"])
            amount = Decimal(line["amount"])
            if abs(quantity * price - amount) > Decimal("0.01"):
                return 400, {"error": f"line {line['serial']}: amount"}
            for key, value in zip(
                "escqpao",
                (
                    encounter_id,
                    line["serial"],
                    line["catalog_code"],
                    line["quantity"],
                    line["unit_price"],
                    _fen(line["amount"]),
                    dt.datetime.fromisoformat(line["occurred_at"]),
                ),
                strict=True,
            ):
                columns[key].append(value)
        with self.engine.begin() as connection:
            state = connection.execute(
                text("SELECT state FROM floor_encounters WHERE id = :i FOR UPDATE"),
                {"i": encounter_id},
            ).scalar()
            if state != "admitted":
                return 404, {"error": "encounter"}
            stored = connection.execute(_INSERT_LINES, columns).all()
            connection.execute(
                text("UPDATE floor_encounters SET updated_at = :t WHERE id = :i"),
                {"t": _now(), "i": encounter_id},
            )
            _audit(connection, "fee_upload", encounter_id)
        return 200, {
            "lines": [
                {"id": row.id, "serial": row.serial, "amount": str(Decimal(row.amount_fen) / 100)}
                for row in stored
            ]
        }

    def discharge(self, encounter_id: str) -> tuple[int, dict[str, Any]]:
        with self.engine.begin() as connection:
            connection.execute(
                text(
                    "UPDATE floor_encounters SET state = 'discharged', updated_at = :t "
                    "WHERE id = :i"
                ),
                {"t": _now(), "i": encounter_id},
            )
        return 200, {"mdtrt_id": encounter_id}

    def settle(self, encounter_id: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        settlement_id = uuid.uuid4().hex
        with self.engine.begin() as connection:
            person_id = connection.execute(
                text("SELECT person_id FROM floor_encounters WHERE id = :i FOR UPDATE"),
                {"i": encounter_id},
            ).scalar()
            total_fen = connection.execute(
                text(
                    "SELECT coalesce(sum(amount_fen), 0) FROM floor_lines WHERE encounter_id = :i"
                ),
                {"i": encounter_id},
            ).scalar_one()
            if total_fen != _fen(body["total_charges"]):
                return 409, {"error": "total"}
            paid = connection.execute(
                text(
                    "INSERT INTO floor_ytd (person_id, year) VALUES (:p, 2026) ON CONFLICT "
                    "(person_id, year) DO UPDATE SET year = excluded.year RETURNING paid_fen"
                ),
                {"p": person_id},
            ).scalar_one()
            fund_fen = total_fen * 7 // 10
            result = {"total": str(Decimal(total_fen) / 100), "fund": str(Decimal(fund_fen) / 100)}
            connection.execute(
                text("INSERT INTO floor_settlements VALUES (:i, :e, :t, :f, :r, :at)"),
                {
                    "i": settlement_id,
                    "e": encounter_id,
                    "t": total_fen,
                    "f": fund_fen,
                    "r": json.dumps(result),
                    "at": _now(),
                },
            )
            connection.execute(
                text("UPDATE floor_lines SET settlement_id = :s WHERE encounter_id = :e"),
                {"s": settlement_id, "e": encounter_id},
            )
            connection.execute(
                text("UPDATE floor_ytd SET paid_fen = :v WHERE person_id = :p AND year = 2026"),
                {"v": int(paid) + fund_fen, "p": person_id},
            )
            connection.execute(
                text(
                    "UPDATE floor_encounters SET state = 'settled', updated_at = :t WHERE id = :i"
                ),
                {"t": _now(), "i": encounter_id},
            )
            _audit(connection, "settle", settlement_id)
        return 200, {"setl_id": settlement_id, **result}


def create_app(url: str) -> Starlette:
    engine = create_engine(url, pool_size=10, max_overflow=40)
    with engine.begin() as connection:
        for statement in SCHEMA_SQL.split(";"):
            if statement.strip():
                connection.execute(text(statement))
    floor = Floor(engine)

    async def answer(call: Any, *args: Any) -> JSONResponse:
        status, body = await run_in_threadpool(call, *args)
        return JSONResponse(body, status_code=status)

    async def health(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def admit(request: Request) -> JSONResponse:
        return await answer(floor.admit, await request.json())

    async def fees(request: Request) -> JSONResponse:
        return await answer(floor.fees, request.path_params["id"], await request.json())

    async def discharge(request: Request) -> JSONResponse:
        return await answer(floor.discharge, request.path_params["id"])

    async def settle(request: Request) -> JSONResponse:
        return await answer(floor.settle, request.path_params["id"], await request.json())

    return Starlette(
        routes=[
            Route("/api/health", health),
            Route("/api/hospital/encounters", admit, methods=["POST"]),
            Route("/api/hospital/encounters/{id}/fees", fees, methods=["POST"]),
            Route("/api/hospital/encounters/{id}/discharge", discharge, methods=["POST"]),
            Route("/api/hospital/encounters/{id}/settle", settle, methods=["POST"]),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--url", required=True)
    args = parser.parse_args()
    uvicorn.run(create_app(args.url), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
