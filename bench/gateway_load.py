"""Shared parts of the crash harness and the concurrency load: a PostgreSQL schema with filed
patients, ``yidi serve`` as a subprocess, a national-gateway client that retries by msgid,
the inpatient case it drives, and the invariants checked against the database.

Not a benchmark by itself; imported by ``crash_harness.py``, ``concurrency_load.py`` and their
short forms under ``tests/``, and by ``hospital_http_bench.py`` for the schema and the server.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import itertools
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
for _path in (ROOT / "src", ROOT / "tests"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from filing_support import HENGYANG, household_registration, record  # noqa: E402
from hospital_support import (  # noqa: E402
    NINGXIA,
    XIE_LINES,
    nhsa_fee_rows,
    ningxia_record,
    residence_permit,
)
from yidi.bootstrap import build_container  # noqa: E402
from yidi.catalog.commands import import_sample_catalogs  # noqa: E402
from yidi.demo.loader import load_reference_world  # noqa: E402
from yidi.filing.commands import FilingService  # noqa: E402
from yidi.filing.model.evidence import Evidence  # noqa: E402
from yidi.filing.model.record import FilingRecord  # noqa: E402
from yidi.funds.model import ledger_is_balanced  # noqa: E402
from yidi.funds.sql import FundsRepository  # noqa: E402
from yidi.kernel.access import Principal  # noqa: E402
from yidi.kernel.audit import verify_chain  # noqa: E402
from yidi.kernel.clock import CHINA_TZ, FixedClock  # noqa: E402
from yidi.kernel.identity import Gender, make_resident_id  # noqa: E402
from yidi.kernel.insurance import InsuranceType, PersonType  # noqa: E402
from yidi.platform.audit_log import AuditRepository  # noqa: E402
from yidi.platform.db import make_engine  # noqa: E402
from yidi.platform.migrate import upgrade  # noqa: E402
from yidi.policy.loader import policy_at  # noqa: E402
from yidi.reference.model import Person  # noqa: E402
from yidi.settings import Settings  # noqa: E402

DEFAULT_BASE_URL = "postgresql+psycopg://yidi@127.0.0.1:55433/yidi_rel"
GATEWAY_PATH = "/fsi/api/rsfComIfsService/callService"
# Two 衡阳 hospitals where the Ningxia patients (filed for 衡阳) may settle directly.
HOSPITALS = ("H43040000001", "H43040000002")
TREATMENT_AREA = "430400"
INSURED_AREA = "640104"


def schema_url(base_url: str, schema: str) -> str:
    joiner = "&" if "?" in base_url else "?"
    return f"{base_url}{joiner}options=-csearch_path%3D{schema}"


def drop_schema(base_url: str, schema: str) -> None:
    engine = make_engine(base_url)
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    engine.dispose()


def fresh_schema(base_url: str, schema: str) -> str:
    """Drop and create ``schema``; return the URL whose connections work in it."""
    base = make_engine(base_url)
    with base.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    base.dispose()
    return schema_url(base_url, schema)


def prepare(base_url: str, schema: str, persons: int) -> tuple[str, list[str]]:
    """A fresh schema: demo world, sample catalogues, ``persons`` Ningxia patients filed for 衡阳."""
    url = fresh_schema(base_url, schema)
    # Filed ten days ago, so admissions three days ago fall inside the filing's validity.
    filed_at = dt.datetime.now(CHINA_TZ) - dt.timedelta(days=10)
    cards = load_filed_patients(
        url, persons, filed_at=filed_at, card_prefix="NXL", born_on=dt.date(1960, 1, 1)
    )
    return url, cards


@dataclass(frozen=True)
class Population:
    """Who is filed, by which agency, for where: a filing record whose person fields are
    replaced for each generated person."""

    agency: Principal
    insured_region: str
    person_type: PersonType
    record: FilingRecord
    evidence: Evidence
    name_prefix: str


#: Employees of 银川兴庆区 filed for 衡阳 (南华大学附属第一医院), by the Ningxia agency.
NINGXIA_FOR_HENGYANG = Population(
    NINGXIA, INSURED_AREA, PersonType.EMPLOYEE_ACTIVE, ningxia_record(), residence_permit(), "宁夏"
)
#: Retirees of 衡阳县 resettled in 博白县 (博白县人民医院), by the 衡阳 agency, like 谢某某.
HENGYANG_FOR_BOBAI = Population(
    HENGYANG,
    "430421",
    PersonType.EMPLOYEE_RETIRED,
    record(),
    household_registration(),
    "衡阳",
)


def load_filed_patients(
    url: str,
    persons: int,
    *,
    filed_at: dt.datetime,
    card_prefix: str,
    born_on: dt.date,
    population: Population = NINGXIA_FOR_HENGYANG,
) -> list[str]:
    """Migrate the database at ``url`` and load the demo world, the sample catalogues and
    ``persons`` employees of the population (cards ``{card_prefix}0000000``, ``…1``, …) whose
    filings are approved at ``filed_at``. Returns their card numbers."""
    (cards,) = load_filed_populations(
        url, [(population, persons, card_prefix)], filed_at=filed_at, born_on=born_on
    )
    return cards


def load_filed_populations(
    url: str,
    groups: list[tuple[Population, int, str]],
    *,
    filed_at: dt.datetime,
    born_on: dt.date,
) -> list[list[str]]:
    """:func:`load_filed_patients` for several populations in one database: each group is
    (population, number of persons, card prefix); the cards of each group, in order."""
    engine = make_engine(url)
    upgrade(engine)
    container = build_container(
        Settings(database_url=url, demo_mode=True), clock=FixedClock(filed_at), engine=engine
    )
    load_reference_world(container.uow())
    import_sample_catalogs(container.uow, container.clock)
    filings = FilingService(container.uow, container.clock)
    out: list[list[str]] = []
    serial = 0
    for population, persons, card_prefix in groups:
        cards = [f"{card_prefix}{index:07d}" for index in range(persons)]
        people = []
        for index, card in enumerate(cards):
            serial += 1
            people.append(
                Person(
                    id_number=make_resident_id(
                        population.insured_region, born_on, 2 * serial - 1, Gender.MALE
                    ).number,
                    name=population.name_prefix
                    + "甲乙丙丁戊己庚辛壬癸"[index % 10]
                    + "子丑寅卯辰巳午未申酉戌亥"[index // 10 % 12],
                    gender="1",
                    birth_on=born_on,
                    insured_region_code=population.insured_region,
                    insurance_type=InsuranceType.EMPLOYEE,
                    person_type=population.person_type,
                    card_number=card,
                    has_second_generation_card=True,
                )
            )
        with container.uow() as uow:
            uow.reference.add_persons(people)
            uow.commit()
        for person in people:
            filed = dataclasses.replace(
                population.record,
                social_security_number=person.id_number,
                social_security_card_number=person.card_number,
                name=person.name,
            )
            draft = filings.create_draft(population.agency, filed, evidence=[population.evidence])
            filings.submit(population.agency, draft.filing_id)
            filings.approve(population.agency, draft.filing_id)
        out.append(cards)
    engine.dispose()
    return out


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Server:
    """``yidi serve`` in its own process group, so SIGKILL reaches every worker."""

    def __init__(self, url: str, port: int, *, workers: int = 1, log_path: Path | None = None):
        self.url = url
        self.port = port
        self.workers = workers
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self, timeout: float = 90) -> float:
        env = os.environ | {
            "YIDI_DATABASE_URL": self.url,
            "YIDI_DEMO_MODE": "1",
            "PYTHONPATH": str(ROOT / "src"),
        }
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        # The load checks count every settlement in the schema: no demo scenario stays there.
        command = [sys.executable, "-m", "yidi", "serve", "--host", "127.0.0.1", "--no-scenario"]
        command += ["--port", str(self.port), "--workers", str(self.workers)]
        started = time.monotonic()
        self.process = subprocess.Popen(
            command, env=env, stdout=log, stderr=log, start_new_session=True
        )
        if log is not subprocess.DEVNULL:
            log.close()  # type: ignore[union-attr]
        self.starts += 1
        deadline = started + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"yidi serve exited with {self.process.returncode}")
            try:
                health = httpx.get(f"http://127.0.0.1:{self.port}/api/health", timeout=2)
                if health.status_code == 200:
                    return time.monotonic() - started
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.kill()
        raise RuntimeError("yidi serve did not become healthy")

    def kill(self) -> None:
        """SIGKILL, no warning: nothing gets to finish or clean up."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self.process = None

    def stop(self) -> None:
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            self.kill()
        self.process = None


class NoAnswer(Exception):
    """The server did not answer within the client's patience."""


@dataclass
class CallStats:
    requests: int = 0  # HTTP requests sent, retries included
    transport_retries: int = 0  # no answer (connection refused / reset / timeout): resent
    status_codes: Counter[int] = field(default_factory=Counter)
    error_codes: Counter[str] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def merge_call(self, status: int, elapsed_ms: float, error_code: str | None) -> None:
        with self.lock:
            self.requests += 1
            self.status_codes[status] += 1
            self.latencies_ms.append(elapsed_ms)
            if error_code:
                self.error_codes[error_code] += 1


class GatewayClient:
    """Posts envelopes; with no answer it resends the very same envelope (same msgid)."""

    def __init__(self, port: int, stats: CallStats, *, patience: float = 120):
        self.client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
        self.stats = stats
        self.patience = patience

    def close(self) -> None:
        self.client.close()

    def post(self, envelope: dict[str, Any]) -> dict[str, Any]:
        body = json.dumps(envelope, ensure_ascii=False).encode()
        deadline = time.monotonic() + self.patience
        while True:
            started = time.perf_counter()
            try:
                response = self.client.post(
                    GATEWAY_PATH, content=body, headers={"Content-Type": "application/json"}
                )
            except httpx.TransportError:
                with self.stats.lock:
                    self.stats.transport_retries += 1
                if time.monotonic() > deadline:
                    raise NoAnswer(envelope.get("msgid")) from None
                time.sleep(0.1)
                continue
            elapsed = (time.perf_counter() - started) * 1000
            if response.status_code >= 500 or not response.headers.get(
                "content-type", ""
            ).startswith("application/json"):
                self.stats.merge_call(
                    response.status_code, elapsed, "HTTP_" + str(response.status_code)
                )
                return {
                    "infcode": -1,
                    "err_msg": f"[HTTP_{response.status_code}]",
                    "http": response.status_code,
                }
            reply: dict[str, Any] = json.loads(response.content, parse_float=Decimal)
            code = None
            if reply.get("infcode") != 0:
                message = str(reply.get("err_msg") or "")
                code = message[1 : message.index("]")] if message.startswith("[") else "UNKNOWN"
            self.stats.merge_call(response.status_code, elapsed, code)
            return reply


_serial = itertools.count(1)
_serial_lock = threading.Lock()


def new_msgid(hospital: str, tag: str) -> str:
    with _serial_lock:
        number = next(_serial)
    return f"{hospital[-6:]}{tag}{os.getpid() % 10000:04d}{number:012d}"[:30]


def envelope(
    infno: str,
    hospital: str,
    input_: dict[str, Any],
    msgid: str,
    *,
    treatment_area: str = TREATMENT_AREA,
    insured_area: str = INSURED_AREA,
) -> dict[str, Any]:
    return {
        "infno": infno,
        "msgid": msgid,
        "mdtrtarea_admvs": treatment_area,
        "insuplc_admdvs": insured_area,
        "recer_sys_code": "FSI_LOCAL",
        "infver": "V1.0",
        "opter_type": "1",
        "opter": "C01",
        "opter_name": "收费员",
        "inf_time": dt.datetime.now(CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S"),
        "fixmedins_code": hospital,
        "fixmedins_name": "医院",
        "sign_no": "",
        "input": input_,
    }


SLOT = dt.timedelta(minutes=3)
SLOTS = 16 * 20  # sixteen hours of three-minute stays per person and hospital


@dataclass(frozen=True)
class CaseTimes:
    admitted: str
    fees: str
    discharged: str

    @classmethod
    def recent(cls) -> CaseTimes:
        """Three days before today, so every time is in the past and in this year."""
        return cls.slot(0)

    @classmethod
    def slot(cls, number: int) -> CaseTimes:
        """The ``number``-th stay of one person at one hospital: three minutes each, from 08:00
        three days before today. A hospital admits its patient "now", and now moves on once a
        stay is over: cases that run at the same time get the same times, as two concurrent
        admissions of one patient would (the check counts overlapping stays)."""
        today = dt.datetime.now(CHINA_TZ).date()
        day = today - dt.timedelta(days=3)
        if day.year != today.year:
            day = today
        start = dt.datetime.combine(day, dt.time(8), CHINA_TZ) + SLOT * (number % SLOTS)
        fmt = "%Y-%m-%d %H:%M:%S"
        return cls(
            start.strftime(fmt),
            (start + dt.timedelta(minutes=1)).strftime(fmt),
            (start + dt.timedelta(minutes=2)).strftime(fmt),
        )


# A large admission (laparoscopic surgery ×8 and more): a few of them reach a person's annual cap.
CASE_LINES = [
    (XIE_LINES[14][0], XIE_LINES[14][1], "8", XIE_LINES[14][3]),
    *XIE_LINES[:6],
]


@dataclass
class Ledger:
    """What the clients requested and saw acknowledged (shared by all client threads)."""

    requested_settles: set[tuple[str, str]] = field(default_factory=set)  # (hospital, msgid)
    acked_settles: dict[str, tuple[str, str]] = field(default_factory=dict)  # setl_id → key
    requested_reversals: set[tuple[str, str]] = field(default_factory=set)
    acked_reversals: dict[str, tuple[str, str]] = field(default_factory=dict)  # reversal id
    sent: list[dict[str, Any]] = field(default_factory=list)  # change envelopes, for replays
    replies: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    replay_mismatches: int = 0
    replays: int = 0
    cases_done: int = 0
    stays_done: Counter[tuple[str, str]] = field(default_factory=Counter)
    refusals: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def stay_times(self, hospital: str, card: str) -> CaseTimes:
        """The times of the next stay of ``card`` at ``hospital``."""
        with self.lock:
            return CaseTimes.slot(self.stays_done[(hospital, card)])

    def stay_over(self, hospital: str, card: str) -> None:
        """A case ended (settled, reversed or refused): the next stay comes later."""
        with self.lock:
            self.stays_done[(hospital, card)] += 1


CASE_TOTAL = str(
    sum((Decimal(q) * Decimal(p)).quantize(Decimal("0.01")) for _c, _n, q, p in CASE_LINES)
)


def _call(
    client: GatewayClient,
    ledger: Ledger,
    infno: str,
    hospital: str,
    input_: dict[str, Any],
    tag: str,
) -> dict[str, Any]:
    msgid = new_msgid(hospital, tag)
    sent = envelope(infno, hospital, input_, msgid)
    if infno == "2304":
        with ledger.lock:
            ledger.requested_settles.add((hospital, msgid))
    if infno == "2305":
        with ledger.lock:
            ledger.requested_reversals.add((hospital, msgid))
    reply = client.post(sent)
    if infno != "1101" and reply.get("infcode") == 0:
        # Answered changes are what a hospital resends when it is unsure the answer arrived.
        with ledger.lock:
            ledger.sent.append(sent)
            ledger.replies[(hospital, msgid)] = reply
    if reply.get("infcode") == 0:
        if infno == "2304":
            with ledger.lock:
                ledger.acked_settles[reply["output"]["setlinfo"]["setl_id"]] = (hospital, msgid)
        if infno == "2305":
            with ledger.lock:
                ledger.acked_reversals[msgid] = (hospital, msgid)
    return reply


def run_case(
    client: GatewayClient,
    ledger: Ledger,
    hospital: str,
    card: str,
    times: CaseTimes,
    *,
    reverse_probability: float,
    rng: random.Random,
) -> str:
    """One inpatient stay through the gateway: 1101, 2401, 2301, 2402, 2304 (and maybe 2305).

    Returns "settled", "reversed" or the refusal code that ended the case early. However it
    ends, the person's next stay at this hospital comes later (:meth:`Ledger.stay_over`).
    """
    try:
        return _run_case(
            client, ledger, hospital, card, times, reverse_probability=reverse_probability, rng=rng
        )
    finally:
        ledger.stay_over(hospital, card)


def _run_case(
    client: GatewayClient,
    ledger: Ledger,
    hospital: str,
    card: str,
    times: CaseTimes,
    *,
    reverse_probability: float,
    rng: random.Random,
) -> str:
    """One inpatient stay through the gateway: 1101, 2401, 2301, 2402, 2304 (and maybe 2305).

    Returns "settled", "reversed" or the refusal code that ended the case early.
    """

    def refused(reply: dict[str, Any]) -> str:
        message = str(reply.get("err_msg") or "")
        code = message[1 : message.index("]")] if message.startswith("[") else "UNKNOWN"
        with ledger.lock:
            ledger.refusals[code] += 1
        return code

    query = _call(
        client,
        ledger,
        "1101",
        hospital,
        {"data": {"mdtrt_cert_type": "03", "mdtrt_cert_no": card, "card_sn": "X1"}},
        "Q",
    )
    if query.get("infcode") != 0:
        return refused(query)
    psn_no = query["output"]["baseinfo"]["psn_no"]
    admitted = _call(
        client,
        ledger,
        "2401",
        hospital,
        {
            "mdtrtinfo": {
                "psn_no": psn_no,
                "insutype": "310",
                "begntime": times.admitted,
                "mdtrt_cert_type": "03",
                "mdtrt_cert_no": card,
                "med_type": "21",
                "ipt_no": f"ZY{rng.randrange(10**8):08d}",
                "atddr_no": "D001",
                "chfpdr_name": "张医生",
                "adm_diag_dscr": "胆囊结石",
                "adm_dept_codg": "A03",
                "adm_dept_name": "普外科",
                "adm_bed": "12",
                "dscg_maindiag_code": "K80.101",
                "dscg_maindiag_name": "胆囊结石伴急性胆囊炎",
            },
            "diseinfo": [
                {
                    "psn_no": psn_no,
                    "diag_type": "1",
                    "maindiag_flag": "1",
                    "diag_srt_no": "1",
                    "diag_code": "K80.101",
                    "diag_name": "胆囊结石伴急性胆囊炎",
                    "diag_dept": "普外科",
                    "dise_dor_no": "D001",
                    "dise_dor_name": "张医生",
                    "diag_time": times.admitted,
                }
            ],
        },
        "A",
    )
    if admitted.get("infcode") != 0:
        return refused(admitted)
    mdtrt_id = admitted["output"]["result"]["mdtrt_id"]
    uploaded = _call(
        client,
        ledger,
        "2301",
        hospital,
        {"feedetail": nhsa_fee_rows(CASE_LINES, mdtrt_id, psn_no, times.fees)},
        "F",
    )
    if uploaded.get("infcode") != 0:
        return refused(uploaded)
    discharged = _call(
        client,
        ledger,
        "2402",
        hospital,
        {
            "dscginfo": {
                "mdtrt_id": mdtrt_id,
                "psn_no": psn_no,
                "insutype": "310",
                "endtime": times.discharged,
                "dscg_dept_codg": "A03",
                "dscg_way": "1",
            },
            "diseinfo": [],
        },
        "D",
    )
    if discharged.get("infcode") != 0:
        return refused(discharged)
    settle_input = {
        "data": {
            "psn_no": psn_no,
            "mdtrt_cert_type": "03",
            "mdtrt_cert_no": card,
            "medfee_sumamt": CASE_TOTAL,
            "psn_setlway": "01",
            "mdtrt_id": mdtrt_id,
            "insutype": "310",
            "acct_used_flag": "0",
            "mid_setl_flag": "0",
        }
    }
    settled = _call(client, ledger, "2304", hospital, settle_input, "S")
    if settled.get("infcode") != 0:
        return refused(settled)
    with ledger.lock:
        ledger.cases_done += 1
    if rng.random() >= reverse_probability:
        return "settled"
    setl_id = settled["output"]["setlinfo"]["setl_id"]
    reversed_ = _call(
        client,
        ledger,
        "2305",
        hospital,
        {"data": {"mdtrt_id": mdtrt_id, "setl_id": setl_id, "psn_no": psn_no}},
        "R",
    )
    if reversed_.get("infcode") != 0:
        return refused(reversed_)
    # A reversed stay stays open until settled again (the hospital corrects and resettles),
    # so settle it once more under a new msgid.
    resettled = _call(client, ledger, "2304", hospital, settle_input, "T")
    if resettled.get("infcode") != 0:
        return refused(resettled)
    return "reversed"


def replay_one(client: GatewayClient, ledger: Ledger, rng: random.Random) -> bool:
    """Resend an earlier change request unchanged (same msgid): the answer must be the first one.

    Returns False when there was nothing to replay yet.
    """
    with ledger.lock:
        if not ledger.sent:
            return False
        sent = ledger.sent[rng.randrange(len(ledger.sent))]
        first = ledger.replies.get((sent["fixmedins_code"], sent["msgid"]))
    reply = client.post(sent)
    with ledger.lock:
        ledger.replays += 1
        if first is not None and _comparable(reply) != _comparable(first):
            ledger.replay_mismatches += 1
    return True


def _comparable(reply: dict[str, Any]) -> Any:
    """A reply without the per-answer envelope fields (times, our message id)."""
    return {
        k: v for k, v in reply.items() if k not in ("inf_refmsgid", "refmsg_time", "respond_time")
    }


# --------------------------------------------------------------------------- invariants


@dataclass
class CheckResult:
    settlements: int = 0
    reversals: int = 0
    acked_settles_lost: int = 0
    acked_reversals_lost: int = 0
    duplicate_settlements: int = 0
    unrequested_settlements: int = 0
    ytd_mismatches: int = 0
    deductible_reused: int = 0
    cap_overruns: int = 0
    overlapping_stays: int = 0
    ledger_balanced: bool = True
    facts_missing: int = 0
    audit_break: str | None = None
    audit_entries: int = 0

    def problems(self) -> dict[str, Any]:
        """Only what is wrong."""
        counts = {
            name: value
            for name, value in dataclasses.asdict(self).items()
            if name not in ("settlements", "reversals", "audit_entries", "ledger_balanced")
            and value
        }
        if not self.ledger_balanced:
            counts["ledger_balanced"] = False
        return counts

    @property
    def ok(self) -> bool:
        return (
            self.acked_settles_lost == 0
            and self.acked_reversals_lost == 0
            and self.duplicate_settlements == 0
            and self.unrequested_settlements == 0
            and self.ytd_mismatches == 0
            and self.deductible_reused == 0
            and self.cap_overruns == 0
            and self.overlapping_stays == 0
            and self.ledger_balanced
            and self.facts_missing == 0
            and self.audit_break is None
        )


def _admission_number(result_json: str) -> int | None:
    try:
        notes = json.loads(result_json).get("explanation_zh") or []
    except ValueError:
        return None
    for note in notes:
        if "本年度第" in note and "次住院" in note:
            return int(note.split("本年度第")[1].split("次")[0])
    return None


def check_invariants(url: str, ledger: Ledger, *, strict_admissions: bool) -> CheckResult:
    """All invariants, read in one consistent snapshot (REPEATABLE READ) while clients may run.

    Acknowledgements are copied before the snapshot is taken (all of them are committed by
    then) and the requests after it (every settlement in the snapshot was requested by then).
    ``strict_admissions`` (runs without reversals): each person's active settlements used
    admission numbers 1..n, each once — no deductible was consumed twice.
    """
    with ledger.lock:
        acked_settles = dict(ledger.acked_settles)
        acked_reversals = set(ledger.acked_reversals)
    engine = make_engine(url, pool_size=1, max_overflow=0)
    result = CheckResult()
    try:
        with engine.connect() as connection:
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin():
                connection.execute(text("SELECT 1 FROM settlements LIMIT 1"))  # the snapshot
                with ledger.lock:
                    requested = set(ledger.requested_settles)
                _check_settlements(connection, result, acked_settles, acked_reversals, requested)
                _check_stays(connection, result)
                _check_year_to_date(connection, result, strict_admissions=strict_admissions)
                _check_money(connection, result)
    finally:
        engine.dispose()
    return result


def _check_settlements(
    connection: Connection,
    result: CheckResult,
    acked_settles: dict[str, tuple[str, str]],
    acked_reversals: set[str],
    requested: set[tuple[str, str]],
) -> None:
    rows = connection.execute(
        text("SELECT id, kind, hospital_code, msgid, encounter_id, state FROM settlements")
    ).all()
    by_id = Counter(row.id for row in rows)
    settles = [row for row in rows if row.kind == "settle"]
    reversals = [row for row in rows if row.kind == "reversal"]
    result.settlements = len(settles)
    result.reversals = len(reversals)
    per_key = Counter((row.hospital_code, row.msgid) for row in settles)
    result.acked_settles_lost = sum(1 for setl_id in acked_settles if by_id[setl_id] != 1)
    reversal_msgids = Counter(row.msgid for row in reversals)
    result.acked_reversals_lost = sum(1 for msgid in acked_reversals if reversal_msgids[msgid] != 1)
    result.duplicate_settlements = sum(count - 1 for count in per_key.values() if count > 1)
    result.duplicate_settlements += sum(
        count - 1 for count in reversal_msgids.values() if count > 1
    )
    active_per_encounter = Counter(row.encounter_id for row in settles if row.state == "active")
    result.duplicate_settlements += sum(c - 1 for c in active_per_encounter.values() if c > 1)
    result.unrequested_settlements = sum(
        1 for row in settles if (row.hospital_code, row.msgid) not in requested
    )


def _check_stays(connection: Connection, result: CheckResult) -> None:
    """Pairs of stays of one person at one hospital that overlap in time (admitted before the
    other was discharged, an open stay lasting until now), neither cancelled: a patient in
    the same hospital twice at once, each stay open or paid."""
    rows = connection.execute(
        text(
            "SELECT person_id, hospital_code, admitted_at, discharged_at FROM encounters"
            " WHERE state <> 'cancelled' ORDER BY person_id, hospital_code, admitted_at"
        )
    ).all()
    open_until = dt.datetime.max.replace(tzinfo=dt.UTC)
    stays: dict[tuple[int, str], list[tuple[dt.datetime, dt.datetime]]] = {}
    for row in rows:
        stays.setdefault((row.person_id, row.hospital_code), []).append(
            (row.admitted_at, row.discharged_at or open_until)
        )
    for spans in stays.values():
        for index, (admitted, discharged) in enumerate(spans):
            result.overlapping_stays += sum(
                1 for later, _ in spans[index + 1 :] if later < discharged and later >= admitted
            )


def _check_year_to_date(
    connection: Connection, result: CheckResult, *, strict_admissions: bool
) -> None:
    sums = {
        (row.person_id, row.insurance_type, row.year): row
        for row in connection.execute(
            text(
                "SELECT person_id, insurance_type, year,"
                " SUM(CASE WHEN kind = 'settle' THEN 1 ELSE -1 END) AS admissions,"
                " SUM(deductible_applied_fen) AS deductible, SUM(pooled_fund_paid_fen) AS pooled"
                " FROM settlements GROUP BY person_id, insurance_type, year"
            )
        )
    }
    ytd_rows = connection.execute(
        text(
            "SELECT person_id, insurance_type, year, admissions_count, deductible_used_fen,"
            " pooled_fund_paid_fen FROM year_to_date"
        )
    ).all()
    seen = set()
    for row in ytd_rows:
        key = (row.person_id, row.insurance_type, row.year)
        seen.add(key)
        total = sums.get(key)
        expected = (
            (int(total.admissions), int(total.deductible), int(total.pooled))
            if total
            else (0, 0, 0)
        )
        actual = (row.admissions_count, row.deductible_used_fen, row.pooled_fund_paid_fen)
        if actual != expected:
            result.ytd_mismatches += 1
        cap = policy_at(
            "640000", InsuranceType(row.insurance_type), dt.date(row.year, 12, 31)
        ).annual_cap
        if row.pooled_fund_paid_fen > cap.fen:
            result.cap_overruns += 1
    result.ytd_mismatches += sum(1 for key in sums if key not in seen)
    # Each active settlement of a person must have used its own admission number.
    numbers: dict[int, list[int]] = {}
    for row in connection.execute(
        text(
            "SELECT person_id, result_json FROM settlements WHERE kind = 'settle' AND state = 'active'"
        )
    ):
        number = _admission_number(row.result_json)
        if number is not None:
            numbers.setdefault(row.person_id, []).append(number)
    if strict_admissions:
        for used in numbers.values():
            result.deductible_reused += len(used) - len(set(range(1, len(used) + 1)) & set(used))


def _check_money(connection: Connection, result: CheckResult) -> None:
    with Session(bind=connection) as session:
        result.ledger_balanced = ledger_is_balanced(FundsRepository(session).entries())
        result.facts_missing = int(
            session.execute(
                text(
                    "SELECT COUNT(*) FROM settlements s WHERE NOT EXISTS"
                    " (SELECT 1 FROM settlement_facts f WHERE f.setl_id = s.id)"
                )
            ).scalar_one()
        )
        audit = AuditRepository(session)
        entries = list(audit.walk())
        broken = verify_chain(entries, audit.head())
    result.audit_entries = len(entries)
    result.audit_break = None if broken is None else f"entry {broken.seq}: {broken.problem}"
