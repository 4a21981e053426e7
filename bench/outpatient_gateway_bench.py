"""General outpatient visits (普通门诊) through the national gateway, as hospital clients send
them, beside a floor in the same command; optionally pharmacy purchases (定点零售药店).

One **visit** = 2201 门诊挂号 → 2203 就诊信息上传 → 2204 费用明细上传 (5 lines) → 2206 门诊预结算
→ 2207 门诊结算, each a gateway envelope with its own msgid, by ``--clients`` threads (8 by
default) over HTTP to ``yidi serve`` (uvicorn, one process) on loopback. The patients are
retirees of 衡阳县 resettled in 博白县 (职工医保, filed by the 衡阳 agency, like 谢某某) at
博白县人民医院; each client has its own patients, and each patient's visits follow one another a
minute apart. The 1101 that gives a card's psn_no is sent once per patient before timing (a
cashier reads the card once for a patient; its cost is the admission check's, see
``admission_lookup_bench.py``). One **purchase** (``--kinds outpatient,pharmacy``) = 2101 药店预结算 → 2102
药店结算 of 3 drugs (2 on prescription) at 衡阳市某大药房 by Ningxia employees filed for 衡阳.

A visit counts only when every call answered ``infcode`` 0 and the settlement's amounts
balance: ``medfee_sumamt`` = the uploaded lines' sum = ``fund_pay_sumamt`` + ``psn_part_amt``
+ ``hosp_part_amt`` and ``psn_part_amt`` = ``acct_pay`` + ``psn_cash_pay``. Every other visit is
a failure, reported with its error code (the first few in full); throughput counts settled
visits only.

The **floor** is ``settle_floor_app.py`` (same transport, same database server, its own
schema or file) answering the same envelopes with only the writes any implementation must do
(the visit row, the 5 lines in one statement, the settlement, year-to-date, an audit hash
chain like yidi's; no catalogue, policy, engine, idempotency record, clearing fact or
personal account). yidi and the floor run in ``--rounds`` alternating rounds of the same
command, so they share the machine's load. Per round: visits/s, p50 and p99 of the whole
visit (first call to last answer), and the server process's CPU time per visit (user +
system of the server's process tree, read from /proc; on PostgreSQL the database server's
own CPU is not in it). Printed: the median of the rounds for each, and yidi / floor.
On PostgreSQL (``--database-url``) pgbench runs last on the same server (``--pgbench-seconds``).

Target (issue 17, "Done when"): a 5-line outpatient visit through the gateway on PostgreSQL,
settlements/s and p99 with 8 clients, beside pgbench in the same run. The issue names no
figure to reach, so the item is met by measuring: on 2026-12-02 (shared 2-core machine, load
average 9–11) 13.19 visits/s, p99 1,395 ms, 0.23 of the floor's rate, 33 ms server CPU a
visit, pgbench 3,685 tps in the same command; purchases 7.89/s (0.06 of the floor: they queue
on the pharmacy's lookup-counter row). Details and the SQLite figures: ``bench/README.md``.

Run:
  PYTHONPATH=src python bench/outpatient_gateway_bench.py --visits 200 --clients 8 \\
      --kinds outpatient,pharmacy
  PYTHONPATH=src python bench/outpatient_gateway_bench.py --visits 200 --clients 8 \\
      --database-url postgresql+psycopg://yidi@127.0.0.1:55434/yidi_outpatient_bench
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for _path in (ROOT / "src", ROOT / "bench", ROOT / "tests"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from gateway_load import (  # noqa: E402
    HENGYANG_FOR_BOBAI,
    NINGXIA_FOR_HENGYANG,
    CallStats,
    GatewayClient,
    Server,
    envelope,
    fresh_schema,
    load_filed_populations,
    new_msgid,
)
from hospital_http_bench import FloorServer, pct, pgbench  # noqa: E402
from sqlalchemy import select  # noqa: E402

from hospital_support import nhsa_fee_rows  # noqa: E402
from yidi.accounts import commands as accounts  # noqa: E402
from yidi.bootstrap import build_container  # noqa: E402
from yidi.kernel.clock import CHINA_TZ  # noqa: E402
from yidi.platform.db import make_engine  # noqa: E402
from yidi.platform.tables import persons  # noqa: E402
from yidi.settings import Settings  # noqa: E402

HOSPITAL = "H45092300001"  # 博白县人民医院, connected for general outpatient
HOSPITAL_AREAS = {"treatment_area": "450923", "insured_area": "430421"}
PHARMACY = "P43040000001"  # 衡阳市某大药房（示例）
PHARMACY_AREAS = {"treatment_area": "430400", "insured_area": "640104"}
# The five lines of the outpatient golden visit (tests/e2e/test_hospital_gateway_outpatient.py):
# two examinations, a CT, an antihypertensive and a class-C item; 408.60 in all.
VISIT_LINES = [
    ("002501000010000", "血细胞分析（血常规）", "1", "20.00"),
    ("002301000010000", "常规心电图检查", "2", "25.00"),
    ("002302010010000", "X线计算机体层（CT）平扫", "1", "280.00"),
    ("XC08CAA010A001010100009", "苯磺酸氨氯地平片", "28", "1.20"),
    ("XA11GAV001A001010100010", "维生素C泡腾片", "1", "25.00"),
]
# Three drugs of the 衡阳 catalogue, the first two on a prescription (外配处方).
DRUG_LINES = [
    ("XC08CAA010A001010100009", "苯磺酸氨氯地平片", "28", "1.20"),
    ("XC10AAA200A001010101234", "阿托伐他汀钙片", "28", "3.20"),
    ("XA11GAV001A001010100010", "维生素C泡腾片", "2", "25.00"),
]
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def lines_total(lines: list[tuple[str, str, str, str]]) -> Decimal:
    return sum(
        ((Decimal(q) * Decimal(p)).quantize(Decimal("0.01")) for _c, _n, q, p in lines),
        Decimal("0.00"),
    )


VISIT_TOTAL = lines_total(VISIT_LINES)
PURCHASE_TOTAL = lines_total(DRUG_LINES)


# --------------------------------------------------------------------------- the timeline


class Timeline:
    """When each card's next visit begins on one server: a minute after its previous one,
    from 08:00 three days ago (every time in the past, inside the filing's validity)."""

    def __init__(self) -> None:
        today = dt.datetime.now(CHINA_TZ).date()
        day = today - dt.timedelta(days=3)
        if day.year != today.year:
            day = today
        self.start = dt.datetime.combine(day, dt.time(8), CHINA_TZ)
        self.counts: Counter[tuple[int, str]] = Counter()
        self.lock = threading.Lock()

    def next(self, port: int, card: str) -> dt.datetime:
        with self.lock:
            number = self.counts[(port, card)]
            self.counts[(port, card)] += 1
        return self.start + dt.timedelta(minutes=number % (14 * 60))


TIMELINE = Timeline()
# Visit, batch and prescription numbers: unique across the rounds and both servers.
_SERIALS = itertools.count(1)


# --------------------------------------------------------------------------- one visit


class VisitFailed(Exception):
    def __init__(self, step: str, code: str, detail: str) -> None:
        super().__init__(f"{step} {code}: {detail}")
        self.step, self.code, self.detail = step, code, detail


def _code(reply: dict[str, Any]) -> str:
    message = str(reply.get("err_msg") or "")
    return message[1 : message.index("]")] if message.startswith("[") else "UNKNOWN"


def _ok(step: str, reply: dict[str, Any]) -> Any:
    if reply.get("infcode") != 0:
        raise VisitFailed(step, _code(reply), str(reply.get("err_msg"))[:200])
    return reply.get("output")


def _amount(value: Any) -> Decimal:
    return Decimal(str(value if value is not None else "0"))


def check_payers(step: str, setlinfo: dict[str, Any], total: Decimal) -> None:
    """The settlement's payers add up to the total uploaded, to the fen."""
    charged = _amount(setlinfo.get("medfee_sumamt"))
    fund = _amount(setlinfo.get("fund_pay_sumamt"))
    person = _amount(setlinfo.get("psn_part_amt"))
    hospital = _amount(setlinfo.get("hosp_part_amt"))
    account, cash = _amount(setlinfo.get("acct_pay")), _amount(setlinfo.get("psn_cash_pay"))
    problems = []
    if charged != total:
        problems.append(f"medfee_sumamt {charged} != lines {total}")
    if fund + person + hospital != charged:
        problems.append(f"fund {fund} + person {person} + hospital {hospital} != {charged}")
    if account + cash != person:
        problems.append(f"account {account} + cash {cash} != person {person}")
    if min(fund, account, cash) < 0:
        problems.append("a negative payer")
    if problems:
        raise VisitFailed(step, "PAYERS_DO_NOT_BALANCE", "; ".join(problems))


def outpatient_visit(
    client: GatewayClient, port: int, card: str, psn_no: str, serial: int
) -> dict[str, Any]:
    """2201 → 2203 → 2204 → 2206 → 2207 of one visit; the 2207 setlinfo."""
    begins = TIMELINE.next(port, card)
    begntime = begins.strftime(TIME_FORMAT)

    def post(infno: str, input_: dict[str, Any]) -> Any:
        sent = envelope(infno, HOSPITAL, input_, new_msgid(HOSPITAL, "O"), **HOSPITAL_AREAS)
        return _ok(infno, client.post(sent))

    visit = {
        "psn_no": psn_no,
        "insutype": "310",
        "begntime": begntime,
        "mdtrt_cert_type": "03",
        "mdtrt_cert_no": card,
        "ipt_otp_no": f"MZ{serial:010d}",
        "atddr_no": "D001",
        "dr_name": "张医生",
        "dept_code": "A03",
        "dept_name": "心内科门诊",
        "caty": "A03",
    }
    mdtrt_id = str(post("2201", {"mdtrtinfo": visit})["data"]["mdtrt_id"])
    seen = (begins + dt.timedelta(seconds=10)).strftime(TIME_FORMAT)
    post(
        "2203",
        {
            "mdtrtinfo": {
                "mdtrt_id": mdtrt_id,
                "psn_no": psn_no,
                "med_type": "11",
                "begntime": begntime,
                "main_cond_dscr": "头晕",
            },
            "diseinfo": [
                {
                    "diag_type": "1",
                    "diag_srt_no": "1",
                    "diag_code": "I10",
                    "diag_name": "特发性（原发性）高血压",
                    "diag_dept": "A03",
                    "dise_dor_no": "D001",
                    "dise_dor_name": "张医生",
                    "diag_time": seen,
                    "vali_flag": "1",
                    "maindiag_flag": "1",
                }
            ],
        },
    )
    charged = (begins + dt.timedelta(seconds=30)).strftime(TIME_FORMAT)
    batch = f"CB{serial:010d}"
    rows = nhsa_fee_rows(VISIT_LINES, mdtrt_id, psn_no, charged, prefix="MZ")
    uploaded = post(
        "2204", {"feedetail": [row | {"med_type": "11", "chrg_bchno": batch} for row in rows]}
    )
    if len(uploaded["result"]) != len(VISIT_LINES):
        raise VisitFailed("2204", "LINES_MISSING", f"{len(uploaded['result'])} lines answered")
    settle = {
        "mdtrtinfo": {
            "psn_no": psn_no,
            "mdtrt_cert_type": "03",
            "mdtrt_cert_no": card,
            "medfee_sumamt": str(VISIT_TOTAL),
            "psn_setlway": "01",
            "mdtrt_id": mdtrt_id,
            "insutype": "310",
            "acct_used_flag": "0",
            "mid_setl_flag": "0",
            "chrg_bchno": batch,
            "med_type": "11",
            "mdtrt_mode": "0",
        }
    }
    check_payers("2206", post("2206", settle)["setlinfo"], VISIT_TOTAL)
    settled: dict[str, Any] = post("2207", settle)["setlinfo"]
    if not settled.get("setl_id"):
        raise VisitFailed("2207", "NO_SETL_ID", "the settlement has no setl_id")
    check_payers("2207", settled, VISIT_TOTAL)
    return settled


def pharmacy_purchase(
    client: GatewayClient, port: int, card: str, psn_no: str, serial: int
) -> dict[str, Any]:
    """2101 → 2102 of one purchase; the 2102 setlinfo."""
    bought = TIMELINE.next(port, card).strftime(TIME_FORMAT)
    rows = [
        {
            "feedetl_sn": f"YD{index + 1}",
            "rxno": f"RX{serial:018d}" if index < 2 else None,
            "rx_circ_flag": "1" if index < 2 else "0",
            "fee_ocur_time": bought,
            "med_list_codg": code,
            "medins_list_codg": f"YP{index + 1:04d}",
            "det_item_fee_sumamt": str((Decimal(q) * Decimal(p)).quantize(Decimal("0.01"))),
            "cnt": q,
            "pric": p,
            "bilg_dr_codg": "D430400001",
            "bilg_dr_name": "王医生",
        }
        for index, (code, _name, q, p) in enumerate(DRUG_LINES)
    ]
    purchase = {
        "druginfo": {
            "psn_no": psn_no,
            "mdtrt_cert_type": "03",
            "mdtrt_cert_no": card,
            "begntime": bought,
            "medfee_sumamt": str(PURCHASE_TOTAL),
            "insutype": "310",
            "acct_used_flag": "1",
            "med_type": "41",
        },
        "drugdetail": rows,
    }

    def post(infno: str) -> Any:
        sent = envelope(infno, PHARMACY, purchase, new_msgid(PHARMACY, "Y"), **PHARMACY_AREAS)
        return _ok(infno, client.post(sent))

    check_payers("2101", post("2101")["setlinfo"], PURCHASE_TOTAL)
    settled: dict[str, Any] = post("2102")["setlinfo"]
    if not settled.get("setl_id"):
        raise VisitFailed("2102", "NO_SETL_ID", "the settlement has no setl_id")
    check_payers("2102", settled, PURCHASE_TOTAL)
    return settled


KINDS: dict[str, tuple[Callable[..., dict[str, Any]], str, dict[str, str]]] = {
    "outpatient": (outpatient_visit, HOSPITAL, HOSPITAL_AREAS),
    "pharmacy": (pharmacy_purchase, PHARMACY, PHARMACY_AREAS),
}


# --------------------------------------------------------------------------- a round


@dataclass
class Round:
    """One round of one side: only settled, balanced visits are in ``latencies_ms``."""

    settled: int = 0
    setl_ids: list[str] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)  # "step CODE" → count
    failure_samples: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    paid: Counter[str] = field(default_factory=Counter)  # payer → sum in fen
    elapsed_s: float = 0.0
    cpu_s: float = 0.0

    @property
    def attempted(self) -> int:
        return self.settled + sum(self.failures.values())

    @property
    def per_second(self) -> float:
        return self.settled / self.elapsed_s if self.elapsed_s else 0.0

    @property
    def cpu_ms_per_visit(self) -> float:
        return self.cpu_s * 1000 / self.settled if self.settled else float("nan")

    def p(self, q: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        return statistics.median(self.latencies_ms) if q == 0.5 else pct(self.latencies_ms, q)


def person_numbers(port: int, cards: list[str], kind: str) -> dict[str, str]:
    """Each card's psn_no by 1101 (once per patient, not timed)."""
    _work, institution, areas = KINDS[kind]
    client = GatewayClient(port, CallStats())
    out = {}
    try:
        for card in cards:
            query = {"data": {"mdtrt_cert_type": "03", "mdtrt_cert_no": card, "card_sn": "X1"}}
            sent = envelope("1101", institution, query, new_msgid(institution, "Q"), **areas)
            out[card] = str(_ok("1101", client.post(sent))["baseinfo"]["psn_no"])
    finally:
        client.close()
    return out


def process_tree_cpu(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and every live descendant (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        times[int(entry)] = (int(fields[11]) + int(fields[12])) / ticks
    tree, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, of in parents.items() if of == parent and child not in tree]
        tree.update(children)
        frontier.extend(children)
    return sum(times.get(member, 0.0) for member in tree)


def run_round(
    port: int,
    kind: str,
    clients_cards: list[list[str]],
    numbers: dict[str, str],
    visits: int,
    *,
    server_pid: int | None = None,
) -> Round:
    """``visits`` visits (or purchases) by ``len(clients_cards)`` client threads."""
    work = KINDS[kind][0]
    result = Round()
    lock = threading.Lock()
    counter = itertools.count()

    def worker(cards: list[str]) -> None:
        client = GatewayClient(port, CallStats(), patience=60)
        turn = 0
        try:
            while True:
                with lock:
                    number = next(counter)
                    serial = next(_SERIALS)
                if number >= visits:
                    return
                card = cards[turn % len(cards)]
                turn += 1
                started = time.perf_counter()
                try:
                    settled = work(client, port, card, numbers[card], serial)
                except VisitFailed as failed:
                    with lock:
                        result.failures[f"{failed.step} {failed.code}"] += 1
                        if len(result.failure_samples) < 5:
                            result.failure_samples.append(str(failed))
                    continue
                except Exception as error:  # no answer, a reply of the wrong shape
                    with lock:
                        result.failures[f"error {type(error).__name__}"] += 1
                        if len(result.failure_samples) < 5:
                            result.failure_samples.append(repr(error)[:200])
                    continue
                took = (time.perf_counter() - started) * 1000
                with lock:
                    result.settled += 1
                    result.setl_ids.append(str(settled["setl_id"]))
                    result.latencies_ms.append(took)
                    for payer in ("medfee_sumamt", "fund_pay_sumamt", "acct_pay", "psn_cash_pay"):
                        result.paid[payer] += int(_amount(settled.get(payer)) * 100)
        finally:
            client.close()

    cpu_before = process_tree_cpu(server_pid) if server_pid else 0.0
    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(cards,)) for cards in clients_cards]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.elapsed_s = time.perf_counter() - started
    if server_pid:
        result.cpu_s = process_tree_cpu(server_pid) - cpu_before
    return result


def split_cards(cards: list[str], clients: int) -> list[list[str]]:
    """Each client its own patients (no two clients serve the same person)."""
    if len(cards) < clients:
        raise SystemExit(f"{len(cards)} patients for {clients} clients: need one each at least")
    return [cards[index::clients] for index in range(clients)]


# --------------------------------------------------------------------------- the command


@dataclass
class Sides:
    yidi: list[Round] = field(default_factory=list)
    floor: list[Round] = field(default_factory=list)


def medians(rounds: list[Round]) -> dict[str, float]:
    return {
        "per_second": statistics.median(r.per_second for r in rounds),
        "p50": statistics.median(r.p(0.5) for r in rounds),
        "p99": statistics.median(r.p(0.99) for r in rounds),
        "cpu_ms": statistics.median(r.cpu_ms_per_visit for r in rounds),
        "settled": sum(r.settled for r in rounds),
        "failed": sum(r.attempted - r.settled for r in rounds),
    }


def _ratio(ours: dict[str, float], floor: dict[str, float], name: str) -> float:
    return ours[name] / floor[name] if floor[name] else float("nan")


def report(kind: str, sides: Sides, clients: int) -> list[str]:
    out = [f"-- {kind}: {clients} clients, {len(sides.yidi)} alternating rounds"]
    for name, rounds in (("yidi", sides.yidi), ("floor", sides.floor)):
        for index, one in enumerate(rounds):
            out.append(
                f"  {name:5} round {index + 1}: settled {one.settled}/{one.attempted}, "
                f"{one.per_second:.2f}/s, p50 {one.p(0.5):.1f} ms, p99 {one.p(0.99):.1f} ms, "
                f"server CPU {one.cpu_ms_per_visit:.2f} ms/visit"
            )
        paid: Counter[str] = sum((r.paid for r in rounds), Counter())
        out.append(
            f"  {name:5} paid in all: charged {paid['medfee_sumamt'] / 100:.2f} = funds "
            f"{paid['fund_pay_sumamt'] / 100:.2f} + account {paid['acct_pay'] / 100:.2f} + cash "
            f"{paid['psn_cash_pay'] / 100:.2f}"
        )
        failures: Counter[str] = sum((r.failures for r in rounds), Counter())
        if failures:
            samples = [s for r in rounds for s in r.failure_samples][:3]
            out.append(f"  {name:5} FAILURES {dict(failures)}; first: {samples}")
    ours, floor = medians(sides.yidi), medians(sides.floor)
    out.append(
        f"  median of rounds   yidi: {ours['per_second']:.2f}/s, p50 {ours['p50']:.1f} ms, "
        f"p99 {ours['p99']:.1f} ms, CPU {ours['cpu_ms']:.2f} ms/visit "
        f"({ours['settled']:.0f} settled, {ours['failed']:.0f} failed)"
    )
    out.append(
        f"  median of rounds  floor: {floor['per_second']:.2f}/s, p50 {floor['p50']:.1f} ms, "
        f"p99 {floor['p99']:.1f} ms, CPU {floor['cpu_ms']:.2f} ms/visit "
        f"({floor['settled']:.0f} settled, {floor['failed']:.0f} failed)"
    )
    out.append(
        f"  yidi / floor: throughput {_ratio(ours, floor, 'per_second'):.2f}, "
        f"p50 {_ratio(ours, floor, 'p50'):.1f}x, p99 {_ratio(ours, floor, 'p99'):.1f}x, "
        f"CPU per visit {_ratio(ours, floor, 'cpu_ms'):.1f}x"
    )
    return out


def prepare(args: argparse.Namespace) -> tuple[str, str, dict[str, list[str]]]:
    """The yidi database (world, catalogues, filed patients) and the floor's; their URLs and
    the cards of each kind."""
    kinds = [kind for kind in KINDS if kind in args.kinds.split(",")]
    if not kinds:
        raise SystemExit(f"--kinds: one or more of {', '.join(KINDS)}")
    who = {
        "outpatient": (HENGYANG_FOR_BOBAI, args.patients, "HYO"),
        "pharmacy": (NINGXIA_FOR_HENGYANG, args.patients, "NXP"),
    }
    groups = [who[kind] for kind in kinds]
    if args.database_url:
        url = fresh_schema(args.database_url, args.schema)
        floor_url = fresh_schema(args.database_url, args.schema + "_floor")
    else:
        work = Path(args.work or tempfile.mkdtemp(prefix="yidi-outpatient-"))
        work.mkdir(parents=True, exist_ok=True)
        for name in ("yidi.sqlite3", "floor.sqlite3"):
            for suffix in ("", "-wal", "-shm"):
                (work / (name + suffix)).unlink(missing_ok=True)
        url, floor_url = f"sqlite:///{work / 'yidi.sqlite3'}", f"sqlite:///{work / 'floor.sqlite3'}"
    filed_at = dt.datetime.now(CHINA_TZ) - dt.timedelta(days=10)
    cards = load_filed_populations(url, groups, filed_at=filed_at, born_on=dt.date(1955, 3, 8))
    by_kind = dict(zip(kinds, cards, strict=True))
    if "pharmacy" in by_kind and args.account_credit:
        credit_accounts(url, by_kind["pharmacy"], args.account_credit)
    return url, floor_url, by_kind


def credit_accounts(url: str, cards: list[str], amount: str) -> None:
    """划入 ``amount`` into this year's personal account of each card's person, so every
    purchase is paid from the account (its row locked and debited) and not in cash only."""
    engine = make_engine(url)
    container = build_container(Settings(database_url=url, demo_mode=True), engine=engine)
    with engine.connect() as connection:
        numbers = connection.execute(
            select(persons.c.id_number).where(persons.c.card_number.in_(cards))
        ).scalars()
        id_numbers = list(numbers)
    year = dt.datetime.now(CHINA_TZ).year
    for id_number in id_numbers:
        accounts.credit(
            container.uow(),
            container.clock,
            id_number=id_number,
            year=year,
            amount=amount,
            reference=f"BENCH-{year}-{id_number}",
            source="单位缴费划入",
            actor="bench",
        )
    engine.dispose()


def run(args: argparse.Namespace) -> tuple[dict[str, Sides], list[str]]:
    """Prepare, start both servers, run the rounds; the rounds of each kind and the report."""
    url, floor_url, by_kind = prepare(args)
    floor_port = args.floor_port or args.port + 1
    server = Server(url, args.port)
    floor = FloorServer(floor_url, floor_port)
    load_before = os.getloadavg()
    server.start(timeout=120)
    floor.start(timeout=120)
    results: dict[str, Sides] = {}
    try:
        assert server.process is not None and floor.process is not None
        for kind, cards in by_kind.items():
            numbers = person_numbers(args.port, cards, kind)
            per_client = split_cards(cards, args.clients)
            for port in (args.port, floor_port):  # warm-up: pools, caches, first imports
                run_round(port, kind, per_client, numbers, min(args.warm_up, args.visits))
            sides = Sides()
            for _ in range(args.rounds):
                sides.yidi.append(
                    run_round(
                        args.port,
                        kind,
                        per_client,
                        numbers,
                        args.visits,
                        server_pid=server.process.pid,
                    )
                )
                sides.floor.append(
                    run_round(
                        floor_port,
                        kind,
                        per_client,
                        numbers,
                        args.visits,
                        server_pid=floor.process.pid,
                    )
                )
            results[kind] = sides
    finally:
        server.stop()
        floor.stop()
    load_after = os.getloadavg()
    database = "PostgreSQL" if args.database_url else "SQLite"
    lines = [
        f"{database}; a visit: {len(VISIT_LINES)} lines, {VISIT_TOTAL}; a purchase: "
        f"{len(DRUG_LINES)} drugs, {PURCHASE_TOTAL}; {args.visits} a round and side; load "
        f"average before {load_before[0]:.2f} / {load_before[1]:.2f}, after {load_after[0]:.2f} "
        f"/ {load_after[1]:.2f} (1 / 5 min), {os.cpu_count()} CPUs"
    ]
    for kind, sides in results.items():
        lines += report(kind, sides, args.clients)
    return results, lines


def parser() -> argparse.ArgumentParser:
    parse = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parse.add_argument("--database-url", default="", help="PostgreSQL; SQLite files without it")
    parse.add_argument("--schema", default="bench_outpatient")
    parse.add_argument("--work", default="", help="directory of the SQLite files")
    parse.add_argument("--visits", type=int, default=200, help="per round and side")
    parse.add_argument("--clients", type=int, default=8)
    parse.add_argument("--rounds", type=int, default=3)
    parse.add_argument("--patients", type=int, default=32, help="per kind (at least --clients)")
    parse.add_argument("--warm-up", type=int, default=16)
    parse.add_argument(
        "--kinds", default="outpatient", help="outpatient (2201…2207), pharmacy (2101/2102), both"
    )
    parse.add_argument(
        "--account-credit",
        default="100000.00",
        help="credited to each buyer's personal account before the purchases ('' for none)",
    )
    parse.add_argument("--port", type=int, default=8741)
    parse.add_argument("--floor-port", type=int, default=0, help="default: --port + 1")
    parse.add_argument("--pgbench-seconds", type=int, default=15)
    return parse


def main() -> None:
    args = parser().parse_args()
    results, lines = run(args)
    for line in lines:
        print(line, flush=True)
    if args.database_url and args.pgbench_seconds:
        print(f"pgbench (-i -s 5, then -T {args.pgbench_seconds} -c {args.clients}), same server:")
        print(pgbench(args.database_url, args.pgbench_seconds, args.clients))
    failed = any(r.settled < r.attempted for sides in results.values() for r in sides.yidi)
    raise SystemExit(1 if failed else 0)


if __name__ == "__main__":
    main()
