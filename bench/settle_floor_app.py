"""The floor under yidi's fee upload and settlement over HTTP: what any implementation must
do for the same requests, with no rules — the reference run of ``hospital_http_bench.py``
(REST, inpatient) and of ``outpatient_gateway_bench.py`` (national gateway, outpatient and
pharmacy).

Same transport as ``yidi serve`` (uvicorn, one process, the work in the thread pool as
FastAPI runs a synchronous endpoint), same database server, its own schema — or, on SQLite,
its own file with yidi's engine settings (WAL, ``BEGIN IMMEDIATE``; no row locks there, the
writers are serialised, the lines go in one multi-row ``VALUES``). Per REST request:

- admit: insert the stay, append an audit entry, commit;
- upload: parse the JSON lines (exact decimals, amount = quantity × price checked), lock the
  stay, insert every line in one ``INSERT … SELECT FROM unnest(…)``, append an audit entry
  (head row locked, entry inserted, head advanced: a hash chain like yidi's), commit, answer
  each line's id and amount;
- discharge: update the stay, commit;
- settle: lock the stay, sum the lines' amounts, lock (upsert) the year-to-date row, insert
  the settlement, mark the lines, write year-to-date and the stay, append an audit entry,
  commit, answer the amounts.

The gateway (``POST /fsi/api/rsfComIfsService/callService``) answers the same envelopes as
yidi with the same writes: 2201 inserts the visit (+ audit), 2203 updates it (+ audit), 2204 is
the upload above, 2206 sums the lines and writes nothing, 2207 is the settlement above; 2101
sums the drugs and writes nothing, 2102 inserts the purchase, its lines and its settlement in
one transaction. The payers are a flat 70 % fund, the rest cash.

No catalogue, no policy, no engine, no idempotency record, no clearing fact, no personal
account, no person lookup: yidi does all of those as well, so its ratio to this floor is what
they and its layers cost.

Run (the bench starts it): python bench/settle_floor_app.py --port 8732 --url <database url>
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import sys
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import uvicorn
from sqlalchemy import Engine, create_engine, text
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
from yidi.platform.db import make_engine

SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS floor_encounters (
    id varchar(32) PRIMARY KEY, card varchar(30) NOT NULL, state varchar(12) NOT NULL,
    person_id integer NOT NULL, updated_at timestamptz NOT NULL);
CREATE TABLE IF NOT EXISTS floor_lines (
    id {serial_key}, encounter_id varchar(32) NOT NULL, serial varchar(30) NOT NULL,
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
INSERT INTO floor_audit_head VALUES (1, 0, '{genesis}') ON CONFLICT DO NOTHING;
"""

_INSERT_LINES = text(
    "INSERT INTO floor_lines (encounter_id, serial, catalog_code, quantity, unit_price, "
    "amount_fen, occurred_at) SELECT * FROM unnest(CAST(:e AS varchar[]), CAST(:s AS varchar[]),"
    " CAST(:c AS varchar[]), CAST(:q AS varchar[]), CAST(:p AS varchar[]), CAST(:a AS bigint[]),"
    " CAST(:o AS timestamptz[])) ON CONFLICT DO NOTHING RETURNING id, serial, amount_fen"
)
_GENESIS = "0" * 64
_APPEND = text(
    "WITH appended AS (INSERT INTO floor_audit_log VALUES (:seq, :at, :action, :subject, :prev,"
    " :hash)) UPDATE floor_audit_head SET last_seq = :seq, last_hash = :hash WHERE id = 1"
)
# SQLite has no data-modifying WITH: the same append as two in-process statements.
_APPEND_SQLITE = (
    text("INSERT INTO floor_audit_log VALUES (:seq, :at, :action, :subject, :prev, :hash)"),
    text("UPDATE floor_audit_head SET last_seq = :seq, last_hash = :hash WHERE id = 1"),
)
_LINE_COLUMNS = "encounter_id, serial, catalog_code, quantity, unit_price, amount_fen, occurred_at"


def _insert_lines(connection: Any, columns: dict[str, list[Any]]) -> list[Any]:
    """Every line in one statement: ``unnest`` of one array per column on PostgreSQL, one
    multi-row ``VALUES`` on SQLite."""
    if connection.dialect.name != "sqlite":
        return list(connection.execute(_INSERT_LINES, columns).all())
    rows = list(zip(*(columns[key] for key in "escqpao"), strict=True))
    params = {
        f"{key}{n}": value
        for n, row in enumerate(rows)
        for key, value in zip("escqpao", row, strict=True)
    }
    values = ", ".join(
        "(" + ", ".join(f":{key}{n}" for key in "escqpao") + ")" for n in range(len(rows))
    )
    statement = (
        f"INSERT INTO floor_lines ({_LINE_COLUMNS}) VALUES {values} ON CONFLICT DO NOTHING"
        " RETURNING id, serial, amount_fen"
    )
    return list(connection.execute(text(statement), params).all())


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _for_update(connection: Any) -> str:
    """SQLite has no row locks: its writers are serialised by BEGIN IMMEDIATE instead."""
    return "" if connection.dialect.name == "sqlite" else " FOR UPDATE"


def _audit(connection: Any, action: str, subject: str) -> None:
    last_seq, last_hash = connection.execute(
        text(
            "SELECT last_seq, last_hash FROM floor_audit_head WHERE id = 1"
            + _for_update(connection)
        )
    ).one()
    seq, at = int(last_seq) + 1, _now()
    canonical = json.dumps(
        [seq, at.isoformat(timespec="microseconds"), action, subject, last_hash],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    values = {
        "seq": seq,
        "at": at,
        "action": action,
        "subject": subject,
        "prev": last_hash,
        "hash": digest,
    }
    for statement in _APPEND_SQLITE if connection.dialect.name == "sqlite" else (_APPEND,):
        connection.execute(statement, values)


def _fen(value: str) -> int:
    return int((Decimal(value) * 100).to_integral_exact())


def _columns(encounter_id: str, lines: list[dict[str, Any]]) -> dict[str, list[Any]] | str:
    """The lines as one list per column (exact decimals, amount = quantity × price checked),
    or what is wrong with them."""
    columns: dict[str, list[Any]] = {k: [] for k in "escqpao"}
    for line in lines:
        quantity, price = Decimal(line["quantity"]), Decimal(line["unit_price"])
        amount = Decimal(line["amount"])
        if abs(quantity * price - amount) > Decimal("0.01"):
            return f"line {line['serial']}: amount"
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
    return columns


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
        columns = _columns(encounter_id, body["lines"])
        if isinstance(columns, str):
            return 400, {"error": columns}
        with self.engine.begin() as connection:
            state = connection.execute(
                text("SELECT state FROM floor_encounters WHERE id = :i" + _for_update(connection)),
                {"i": encounter_id},
            ).scalar()
            if state not in ("admitted", "registered"):
                return 404, {"error": "encounter"}
            stored = _insert_lines(connection, columns)
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
        with self.engine.begin() as connection:
            return self._settle_in(connection, encounter_id, body["total_charges"])

    def _settle_in(
        self, connection: Any, encounter_id: str, total_charges: str
    ) -> tuple[int, dict[str, Any]]:
        settlement_id = uuid.uuid4().hex
        person_id = connection.execute(
            text("SELECT person_id FROM floor_encounters WHERE id = :i" + _for_update(connection)),
            {"i": encounter_id},
        ).scalar()
        total_fen = connection.execute(
            text("SELECT coalesce(sum(amount_fen), 0) FROM floor_lines WHERE encounter_id = :i"),
            {"i": encounter_id},
        ).scalar_one()
        if total_fen != _fen(total_charges):
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
            text("UPDATE floor_encounters SET state = 'settled', updated_at = :t WHERE id = :i"),
            {"t": _now(), "i": encounter_id},
        )
        _audit(connection, "settle", settlement_id)
        return 200, {"setl_id": settlement_id, **result}

    # ------------------------------------------------------------------ national gateway

    def gateway(self, envelope: dict[str, Any]) -> dict[str, Any]:
        """The gateway transactions of an outpatient visit (2201, 2203, 2204, 2206, 2207) and
        of a pharmacy purchase (2101, 2102), each doing only the writes any implementation
        must do; the payers are a flat 70 % fund, the rest cash (no rules)."""
        handlers = {
            "2201": self._register,
            "2203": self._visit_info,
            "2204": self._visit_fees,
            "2206": self._visit_settle,
            "2207": self._visit_settle,
            "2101": self._purchase,
            "2102": self._purchase,
        }
        infno, input_ = str(envelope["infno"]), envelope["input"]
        handler = handlers.get(infno)
        if handler is None:
            return {"infcode": -1, "err_msg": f"[FLOOR_UNSUPPORTED] {infno}", "output": None}
        status, output = handler(infno, input_)
        if status >= 400:
            return {"infcode": -1, "err_msg": f"[FLOOR_{status}] {output}", "output": None}
        return {"infcode": 0, "err_msg": None, "output": output}

    def _register(self, _infno: str, input_: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        info = input_.get("mdtrtinfo") or input_["data"]
        encounter_id = uuid.uuid4().hex
        card = str(info["mdtrt_cert_no"])
        with self.engine.begin() as connection:
            connection.execute(
                text("INSERT INTO floor_encounters VALUES (:i, :c, 'registered', :p, :t)"),
                {"i": encounter_id, "c": card, "p": hash(card) % 10_000, "t": _now()},
            )
            _audit(connection, "register", encounter_id)
        return 200, {
            "data": {
                "mdtrt_id": encounter_id,
                "psn_no": info["psn_no"],
                "ipt_otp_no": info.get("ipt_otp_no"),
            }
        }

    def _visit_info(self, _infno: str, input_: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        encounter_id = input_["mdtrtinfo"]["mdtrt_id"]
        with self.engine.begin() as connection:
            changed = connection.execute(
                text("UPDATE floor_encounters SET updated_at = :t WHERE id = :i"),
                {"t": _now(), "i": encounter_id},
            ).rowcount
            if changed != 1:
                return 404, {"error": "encounter"}
            _audit(connection, "visit_info", encounter_id)
        return 200, {}

    def _visit_fees(self, _infno: str, input_: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        rows = input_["feedetail"]
        status, body = self.fees(str(rows[0]["mdtrt_id"]), {"lines": _national_lines(rows)})
        if status >= 400:
            return status, body
        return status, {
            "result": [
                {"feedetl_sn": line["serial"], "det_item_fee_sumamt": line["amount"]}
                for line in body["lines"]
            ]
        }

    def _visit_settle(self, infno: str, input_: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        info = input_.get("mdtrtinfo") or input_["data"]
        encounter_id, total = str(info["mdtrt_id"]), str(info["medfee_sumamt"])
        if infno == "2207":
            status, body = self.settle(encounter_id, {"total_charges": total})
            if status >= 400:
                return status, body
            return status, {"setlinfo": _setlinfo(encounter_id, body)}
        with self.engine.connect() as connection:  # pre-settlement: read, write nothing
            total_fen = connection.execute(
                text(
                    "SELECT coalesce(sum(amount_fen), 0) FROM floor_lines WHERE encounter_id = :i"
                ),
                {"i": encounter_id},
            ).scalar_one()
        if total_fen != _fen(total):
            return 409, {"error": "total"}
        return 200, {"setlinfo": _setlinfo(encounter_id, _payers(total_fen))}

    def _purchase(self, infno: str, input_: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        info, rows = input_["druginfo"], input_["drugdetail"]
        encounter_id = uuid.uuid4().hex
        columns = _columns(encounter_id, _national_lines(rows))
        if isinstance(columns, str):
            return 400, {"error": columns}
        total = str(info["medfee_sumamt"])
        if infno == "2101":  # pre-settlement: nothing is written
            total_fen = sum(columns["a"])
            if total_fen != _fen(total):
                return 409, {"error": "total"}
            return 200, {"setlinfo": _setlinfo(encounter_id, _payers(total_fen))}
        card = str(info["mdtrt_cert_no"])
        with self.engine.begin() as connection:
            connection.execute(
                text("INSERT INTO floor_encounters VALUES (:i, :c, 'registered', :p, :t)"),
                {"i": encounter_id, "c": card, "p": hash(card) % 10_000, "t": _now()},
            )
            _insert_lines(connection, columns)
            status, body = self._settle_in(connection, encounter_id, total)
            if status >= 400:
                connection.rollback()
                return status, body
        return 200, {"setlinfo": _setlinfo(encounter_id, body)}


def _national_lines(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Gateway fee rows (2204 feedetail, 2101/2102 drugdetail) as the floor's lines."""
    return [
        {
            "serial": str(row["feedetl_sn"]),
            "catalog_code": str(row["med_list_codg"]),
            "quantity": str(row["cnt"]),
            "unit_price": str(row["pric"]),
            "amount": str(row["det_item_fee_sumamt"]),
            "occurred_at": str(row["fee_ocur_time"]),
        }
        for row in rows
    ]


def _payers(total_fen: int) -> dict[str, Any]:
    fund_fen = total_fen * 7 // 10
    return {"total": str(Decimal(total_fen) / 100), "fund": str(Decimal(fund_fen) / 100)}


def _setlinfo(encounter_id: str, result: dict[str, Any]) -> dict[str, Any]:
    """The amounts of a reply as the gateway names them (setl_id only once settled)."""
    total, fund = Decimal(result["total"]), Decimal(result["fund"])
    info = {
        "mdtrt_id": encounter_id,
        "medfee_sumamt": str(total),
        "fund_pay_sumamt": str(fund),
        "psn_part_amt": str(total - fund),
        "acct_pay": "0.00",
        "psn_cash_pay": str(total - fund),
        "hosp_part_amt": "0.00",
    }
    if "setl_id" in result:
        info["setl_id"] = result["setl_id"]
    return info


def create_app(url: str) -> Starlette:
    sqlite = url.startswith("sqlite")
    # On SQLite yidi's own engine settings (WAL, BEGIN IMMEDIATE, busy timeout), as its server.
    engine = make_engine(url) if sqlite else create_engine(url, pool_size=10, max_overflow=40)
    schema = SCHEMA_SQL.format(
        serial_key="INTEGER PRIMARY KEY" if sqlite else "bigserial PRIMARY KEY", genesis=_GENESIS
    )
    with engine.begin() as connection:
        for statement in schema.split(";"):
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

    async def gateway(request: Request) -> JSONResponse:
        reply = await run_in_threadpool(floor.gateway, await request.json())
        return JSONResponse(reply)

    return Starlette(
        routes=[
            Route("/api/health", health),
            Route("/api/hospital/encounters", admit, methods=["POST"]),
            Route("/api/hospital/encounters/{id}/fees", fees, methods=["POST"]),
            Route("/api/hospital/encounters/{id}/discharge", discharge, methods=["POST"]),
            Route("/api/hospital/encounters/{id}/settle", settle, methods=["POST"]),
            Route("/fsi/api/rsfComIfsService/callService", gateway, methods=["POST"]),
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
