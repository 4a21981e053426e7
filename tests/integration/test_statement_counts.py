"""Statements sent to the database per hospital transaction: a regression guard.

Every statement is a round trip on PostgreSQL and Python work on both databases; the
admission check (what 1101 runs for every patient) and the fee upload and settlement of a
stay must not grow a statement per line or per filing. The budgets are the counts of
today's code; a change that adds a statement must lower another or raise the budget here
with its reason. The test wraps each transaction in a SAVEPOINT (counted, as BEGIN and
COMMIT would be outside the test).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, event

from hospital_support import BOBAI, XIE_CARD, XIE_LINES, XIE_TOTAL, at, build_world, fee_inputs
from yidi.bootstrap import Container
from yidi.encounter.commands import AdmissionRequest, Credential, HospitalService
from yidi.kernel.idempotency import request_key
from yidi.kernel.money import money_sum

#: (SQLite, PostgreSQL) statements per call. PostgreSQL appends an audit entry in one
#: statement fewer (a data-modifying WITH). Before issue 19's settlement-path work: upload
#: 17 / 16, settlement 25 / 24. A person lookup costs two statements since it is counted at
#: commit (one more than the 11 / 10 and 18 / 17 of a count at the start): a plain read of
#: the limit before any work, and the counting upsert just before the commit, so the
#: institution's counter row is locked only for the commit and not for the work between.
BUDGET = {
    "admission_check": (12, 11),
    "admit": (19, 18),
    "upload_fees": (9, 8),  # the first upload also loads the catalogue's items
    "settle": (18, 17),
}


@pytest.fixture
def sent(migrated_engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(
        _conn: Any, _cursor: Any, statement: str, _parameters: Any, _context: Any, _many: bool
    ) -> None:
        statements.append(" ".join(statement.split()))

    event.listen(migrated_engine, "before_cursor_execute", count)
    yield statements
    event.remove(migrated_engine, "before_cursor_execute", count)


def _counted(sent: list[str], call: Callable[[], Any]) -> tuple[Any, list[str]]:
    sent.clear()
    result = call()
    return result, list(sent)


def test_statements_per_hospital_transaction_stay_within_budget(
    container: Container, migrated_engine: Engine, sent: list[str]
) -> None:
    build_world(container)
    service = HospitalService(container.uow, container.clock)
    column = 0 if migrated_engine.dialect.name == "sqlite" else 1
    credential = Credential("03", XIE_CARD)
    service.admission_check(BOBAI, credential)  # caches (catalogues, policies) warm

    counts: dict[str, list[str]] = {}
    _, counts["admission_check"] = _counted(
        sent, lambda: service.admission_check(BOBAI, credential)
    )
    encounter, counts["admit"] = _counted(
        sent,
        lambda: service.admit(
            BOBAI,
            AdmissionRequest(
                credential=credential,
                med_type="21",
                admitted_at=at(20, 8),
                department_code="A03",
                diagnosis_codes=("K80.101",),
            ),
        ),
    )
    lines = fee_inputs(XIE_LINES, at(21))
    _, counts["upload_fees"] = _counted(
        sent, lambda: service.upload_fees(BOBAI, encounter.id, lines)
    )
    service.discharge(BOBAI, encounter.id, at(30, 10))
    _, counts["settle"] = _counted(sent, lambda: service.settle(BOBAI, encounter.id, XIE_TOTAL))

    over = {
        name: statements
        for name, statements in counts.items()
        if len(statements) > BUDGET[name][column]
    }
    assert over == {}, over
    # The check reads the person's filings in one statement, not their history or evidence.
    check = counts["admission_check"]
    assert sum("FROM filings" in s for s in check) == 1
    assert not [s for s in check if "filing_events" in s or "filing_evidence" in s]


def test_fee_upload_statements_do_not_grow_with_the_line_count(
    container: Container, sent: list[str]
) -> None:
    """23 lines and 230 lines cost the same number of statements (an executemany is one)."""
    build_world(container)
    service = HospitalService(container.uow, container.clock)
    credential = Credential("03", XIE_CARD)
    encounter = service.admit(
        BOBAI,
        AdmissionRequest(
            credential=credential,
            med_type="21",
            admitted_at=at(20, 8),
            department_code="A03",
            diagnosis_codes=("K80.101",),
        ),
    )
    few = fee_inputs(XIE_LINES, at(21), prefix="a")
    many = [
        line for round_ in range(10) for line in fee_inputs(XIE_LINES, at(22), prefix=f"b{round_}-")
    ]
    # The first upload of the process loads the catalogue version into the worker's cache.
    service.upload_fees(BOBAI, encounter.id, fee_inputs(XIE_LINES[:1], at(21), prefix="w"))
    _, small = _counted(sent, lambda: service.upload_fees(BOBAI, encounter.id, few))
    _, large = _counted(sent, lambda: service.upload_fees(BOBAI, encounter.id, many))
    assert len(large) == len(small)


def _claim_lines(count: int) -> list[Any]:
    """``count`` lines of golden case c01's kinds, serials unique."""
    rows = [XIE_LINES[index % len(XIE_LINES)] for index in range(count)]
    return fee_inputs(rows, at(21), prefix="m")


#: (SQLite, PostgreSQL) statements of a 2301 upload and a 2304 settlement sent with a
#: message id, whatever the line count, BEGIN and COMMIT included (a SAVEPOINT / RELEASE
#: here). Upload: the stay (locked, with the catalogue generation), both idempotency
#: keys, the lines (one INSERT … ON CONFLICT DO NOTHING RETURNING), the stay's time, the
#: answer, the audit append (SQLite 3, PostgreSQL 2). The settlement adds the lines as
#: the claim reads them, year-to-date (one upsert that locks), the personal account
#: (employee insurance: create, lock), the settlement, the lines' settlement id,
#: year-to-date written, the clearing fact (duplicate check, open month, fact, ledger)
#: and the stay's state. Before issue 19: upload 21 / 20, settlement 30 / 29.
KEYED_BUDGET = {"upload_fees": (10, 9), "settle": (20, 19)}


@pytest.mark.parametrize("count", [1, 10, 300])
def test_upload_and_settle_statements_are_bounded_whatever_the_line_count(
    container: Container, migrated_engine: Engine, sent: list[str], count: int
) -> None:
    """A keyed upload and settlement of 1, 10 or 300 lines send the same few statements:
    nothing per line (no executemany either: one statement carries the whole batch)."""
    build_world(container)
    service = HospitalService(container.uow, container.clock)
    credential = Credential("03", XIE_CARD)
    column = 0 if migrated_engine.dialect.name == "sqlite" else 1
    many: list[int] = []

    def rows(
        _conn: Any, _cursor: Any, _statement: str, parameters: Any, _context: Any, executemany: bool
    ) -> None:
        # An executemany runs the statement once per parameter set (a round trip each on
        # PostgreSQL); SQLite's multi-row INSERT … VALUES is one statement with a flat tuple.
        if executemany and isinstance(parameters, list):
            many.append(len(parameters))

    def stay(lines: list[Any], admitted: Any, discharged: Any) -> dict[str, list[str]]:
        encounter = service.admit(
            BOBAI,
            AdmissionRequest(
                credential=credential,
                med_type="21",
                admitted_at=admitted,
                department_code="A03",
                diagnosis_codes=("K80.101",),
            ),
        )
        serials = [line.serial for line in lines]
        upload_key = request_key("nhsa.2301", f"u-{encounter.id}", serials)
        counts: dict[str, list[str]] = {}
        uploaded, counts["upload_fees"] = _counted(
            sent, lambda: service.upload_fees(BOBAI, encounter.id, lines, upload_key)
        )
        assert [line.serial for line in uploaded] == serials
        service.discharge(BOBAI, encounter.id, discharged)
        total = money_sum([line.amount for line in lines])
        settle_key = request_key("nhsa.2304", f"s-{encounter.id}", str(total))
        record, counts["settle"] = _counted(
            sent, lambda: service.settle(BOBAI, encounter.id, total, settle_key)
        )
        assert record.amounts["total_charges"] == total
        return counts

    # The first stay of the process loads the catalogue versions and the catalogue.
    stay(fee_inputs(XIE_LINES[:1], at(20, 8, 30), prefix="w"), at(20, 8), at(20, 9))
    event.listen(migrated_engine, "before_cursor_execute", rows)
    try:
        counts = stay(_claim_lines(count), at(20, 9, 30), at(23, 10))
    finally:
        event.remove(migrated_engine, "before_cursor_execute", rows)
    over = {
        name: len(statements)
        for name, statements in counts.items()
        if len(statements) > KEYED_BUDGET[name][column]
    }
    assert over == {}, (over, counts)
    # No statement per line: the fee lines are one INSERT, read by the settlement once.
    assert sum("fee_lines" in s for s in counts["upload_fees"]) == 1
    assert sum("FROM fee_lines" in s for s in counts["settle"]) == 1
    # Only the ledger entries of the clearing fact (a few per settlement) are an executemany.
    assert max(many, default=0) < 10, many
