"""Gateway signatures are good for one request, in every worker and after a restart, and
refused requests do not flood the audit chain.

* A captured x-tif header set is refused when sent again to another authenticator over the
  same database (a second worker, or the service after a restart), and of two workers
  receiving it at the same moment exactly one accepts it (PostgreSQL: real concurrent
  transactions; SQLite: serialised writers).
* A captured HN ``_api_*`` header set authorises neither a second request of the same
  transaction nor any other transaction.
* Expired nonces are pruned.
* 200 unauthenticated requests from one address add no audit-chain row: one counter row
  holds them (``gateway_refusals``), and the chain still verifies.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import threading

import pytest
from sqlalchemy import func, select
from starlette.datastructures import Headers

from yidi.auth.gateway import GatewayAuthenticator, recent_refusals
from yidi.bootstrap import Container
from yidi.integrations.nhsa.envelope import GatewayRequest
from yidi.integrations.nhsa.gateway_auth import GatewayCredential, GatewayRefused, Scheme
from yidi.kernel.audit import reset_client_address, set_client_address, verify_chain
from yidi.kernel.clock import FixedClock
from yidi.platform.tables import audit_log, gateway_nonces

NOW = dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)
TIF = GatewayCredential("bobai-tif", "tif-secret-0123456789", Scheme.X_TIF, frozenset({"H1"}))
HN = GatewayCredential("bobai-hn", "hn-secret-0123456789", Scheme.HN, frozenset({"H1"}))
CREDENTIALS = {TIF.access_key: TIF, HN.access_key: HN}


def worker(container: Container, clock: FixedClock | None = None) -> GatewayAuthenticator:
    """One server process's authenticator: its own memory, the shared database."""
    return GatewayAuthenticator(CREDENTIALS, clock=clock or FixedClock(NOW), uow=container.uow)


def tif_headers(nonce: str, at: dt.datetime = NOW) -> Headers:
    timestamp = str(int(at.timestamp()))
    digest = hashlib.sha256(f"{timestamp}{TIF.secret}{nonce}{timestamp}".encode()).hexdigest()
    return Headers(
        {
            "x-tif-paasid": TIF.access_key,
            "x-tif-timestamp": timestamp,
            "x-tif-nonce": nonce,
            "x-tif-signature": digest,
        }
    )


def hn_headers(infno: str, at: dt.datetime = NOW) -> Headers:
    timestamp = str(int(at.timestamp() * 1000))
    name = f"api_{infno}"
    text = f"_api_access_key={HN.access_key}&_api_name={name}&_api_timestamp={timestamp}&_api_version=1.0"
    digest = hmac.new(HN.secret.encode(), text.encode(), hashlib.sha1).digest()
    return Headers(
        {
            "_api_name": name,
            "_api_version": "1.0",
            "_api_timestamp": timestamp,
            "_api_access_key": HN.access_key,
            "_api_signature": base64.b64encode(digest).decode(),
        }
    )


def envelope(infno: str, msgid: str) -> GatewayRequest:
    return GatewayRequest(infno=infno, msgid=msgid, fixmedins_code="H1")


def chain_length(container: Container) -> int:
    with container.uow() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(audit_log)) or 0)


def test_a_captured_x_tif_header_set_is_refused_by_another_worker_and_after_a_restart(
    committed: Container,
) -> None:
    headers = tif_headers("captured-1")
    worker(committed)(headers)(envelope("1101", "m1"))
    for again in (worker(committed), worker(committed)):  # a second worker; a restarted one
        with pytest.raises(GatewayRefused) as refused:
            again(headers)
        assert refused.value.reason == "nonce reused"


def test_two_workers_receiving_one_header_set_at_once_accept_it_once(
    committed: Container,
) -> None:
    workers = [worker(committed) for _ in range(4)]
    for round_number in range(5):
        headers = tif_headers(f"raced-{round_number}")
        start = threading.Barrier(len(workers))
        accepted: list[bool] = []

        def receive(
            authenticate: GatewayAuthenticator,
            headers: Headers = headers,
            start: threading.Barrier = start,
            accepted: list[bool] = accepted,
        ) -> None:
            start.wait(timeout=10)
            try:
                authenticate(headers)
                accepted.append(True)
            except GatewayRefused:
                accepted.append(False)

        threads = [threading.Thread(target=receive, args=(w,)) for w in workers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sorted(accepted) == [False, False, False, True], round_number


def test_a_captured_hn_header_set_authorises_no_second_request_and_no_other_transaction(
    committed: Container,
) -> None:
    captured = hn_headers("1101")
    worker(committed)(captured)(envelope("1101", "m1"))
    # The same headers again (another msgid, another body): used up.
    with pytest.raises(GatewayRefused) as replayed:
        worker(committed)(captured)
    assert replayed.value.message == "签名时间戳超时!" and replayed.value.reason == "nonce reused"
    # Freshly signed for 1101 but sent with a 2401 envelope: the signature names 1101.
    check = worker(committed)(hn_headers("1101", NOW + dt.timedelta(milliseconds=1)))
    before = chain_length(committed)
    with pytest.raises(GatewayRefused) as other:
        check(envelope("2401", "m2"))
    assert other.value.message == "签名不一致!" and "api_1101" in other.value.reason
    assert chain_length(committed) == before + 1  # made with a valid key: audited


def test_used_nonces_are_pruned_once_their_window_has_passed(committed: Container) -> None:
    for n in range(5):
        worker(committed)(tif_headers(f"old-{n}"))
    with committed.uow() as uow:
        assert uow.gateway.nonce_count() == 5
    later = FixedClock(NOW + dt.timedelta(minutes=31))
    worker(committed, later)(tif_headers("new", NOW + dt.timedelta(minutes=31)))
    with committed.uow() as uow:
        kept = uow.session.scalars(select(gateway_nonces.c.nonce)).all()
    assert kept == ["tif:new"]


def test_unauthenticated_requests_are_counted_not_chained(committed: Container) -> None:
    before = chain_length(committed)
    authenticate = worker(committed)
    token = set_client_address("203.0.113.7")
    try:
        for n in range(200):
            with pytest.raises(GatewayRefused):
                authenticate(Headers({"x-tif-paasid": f"guess-{n}"}) if n % 2 else Headers({}))
    finally:
        reset_client_address(token)
    assert chain_length(committed) == before  # not one chain append for 200 refusals
    counters = recent_refusals(committed.uow(), FixedClock(NOW), hours=1)
    assert sum(c.count for c in counters) == 200
    assert {(c.address, c.code) for c in counters} == {
        ("203.0.113.7", "NHSA_GATEWAY_HEADERS_MISSING")
    }
    assert len(counters) <= 2  # one per key class (none, unknown), not one per request
    with committed.uow() as uow:
        assert verify_chain(list(uow.audit.walk()), uow.audit.head()) is None
