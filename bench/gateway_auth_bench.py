"""Gateway authentication: the cost of refusals and of used-once signatures.

Against the HTTP app (in-process client) on the database of ``--database-url`` (default: a
temporary SQLite file), with ``YIDI_GATEWAY_AUTH=required``:

1. ``--refusals`` unauthenticated requests (default 200) from one address: wall time, audit
   chain rows added (expected 0: refusals are counted, not chained), counter rows.
2. ``--signed`` x-tif-signed 1101 queries (default 200), each with its own nonce (stored in
   the database), then the same header set sent again to a second app over the same
   database (a second worker): accepted requests per second, replays accepted (expected 0).

Run (recorded in docs/reliability.md):
  PYTHONPATH=src python bench/gateway_auth_bench.py --database-url postgresql+psycopg://…
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from hospital_support import BOBAI_CODE, XIE_CARD, build_world
from yidi.auth.gateway_credentials import add_credential, load_credentials
from yidi.bootstrap import build_container
from yidi.entrypoints.app import create_app
from yidi.integrations.nhsa.gateway_auth import Scheme
from yidi.kernel.clock import SystemClock
from yidi.platform.db import make_engine
from yidi.platform.migrate import upgrade
from yidi.platform.tables import audit_log, gateway_refusals
from yidi.settings import Settings

PATH = "/fsi/api/rsfComIfsService/callService"


def envelope(n: int) -> dict[str, object]:
    return {
        "infno": "1101",
        "msgid": f"{BOBAI_CODE}{n:016d}",
        "fixmedins_code": BOBAI_CODE,
        "mdtrtarea_admvs": "450923",
        "input": {"data": {"mdtrt_cert_type": "03", "mdtrt_cert_no": XIE_CARD, "card_sn": "X"}},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--schema", default="gateway_auth_bench")
    parser.add_argument("--refusals", type=int, default=200)
    parser.add_argument("--signed", type=int, default=200)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="yidi-gw-auth-"))
    url = args.database_url or f"sqlite:///{work / 'bench.sqlite3'}"
    kwargs = {}
    if url.startswith("postgresql"):
        base = make_engine(url)
        with base.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {args.schema} CASCADE"))
            connection.execute(text(f"CREATE SCHEMA {args.schema}"))
        base.dispose()
        kwargs = {"connect_args": {"options": f"-csearch_path={args.schema}"}}
    engine = make_engine(url, **kwargs)
    upgrade(engine)
    credentials = work / "gateway.yaml"
    add_credential(credentials, hospital_codes=[BOBAI_CODE], scheme=Scheme.X_TIF, access_key="k1")
    secret = load_credentials(credentials)["k1"].secret
    settings = Settings(
        database_url=url, demo_mode=True, gateway_auth="required", gateway_credentials=credentials
    )
    container = build_container(settings, clock=SystemClock(), engine=engine)
    build_world(container)

    def chain_rows() -> int:
        with container.uow() as uow:
            return int(uow.session.scalar(select(func.count()).select_from(audit_log)) or 0)

    first, second = (TestClient(create_app(container)) for _ in range(2))
    before = chain_rows()
    started = time.perf_counter()
    for n in range(args.refusals):
        reply = first.post(PATH, json=envelope(n)).json()
        assert reply["infcode"] == -1
    refusal_s = time.perf_counter() - started
    with container.uow() as uow:
        counters = uow.session.execute(select(gateway_refusals.c.count)).scalars().all()
    print(
        f"{args.refusals} unauthenticated requests: {refusal_s:.2f} s,"
        f" audit chain rows added {chain_rows() - before},"
        f" counter rows {len(counters)} holding {sum(counters)} refusals"
    )

    def signed(nonce: str) -> dict[str, str]:
        timestamp = str(int(time.time()))
        digest = hashlib.sha256(f"{timestamp}{secret}{nonce}{timestamp}".encode()).hexdigest()
        return {
            "x-tif-paasid": "k1",
            "x-tif-timestamp": timestamp,
            "x-tif-nonce": nonce,
            "x-tif-signature": digest,
        }

    started = time.perf_counter()
    accepted = 0
    last: dict[str, str] = {}
    for n in range(args.signed):
        last = signed(f"bench-{n}")
        accepted += first.post(PATH, json=envelope(n), headers=last).json()["infcode"] == 0
    signed_s = time.perf_counter() - started
    replays = sum(
        client.post(PATH, json=envelope(10**6 + n), headers=last).json()["infcode"] == 0
        for n, client in enumerate((first, second))
    )
    print(
        f"{args.signed} signed 1101 queries: {accepted} accepted, {signed_s:.2f} s"
        f" ({args.signed / signed_s:.0f}/s); the last header set resent to both apps:"
        f" {replays} accepted"
    )
    engine.dispose()


if __name__ == "__main__":
    main()
