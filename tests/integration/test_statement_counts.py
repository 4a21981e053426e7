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

#: (SQLite, PostgreSQL) statements per call. PostgreSQL appends an audit entry in one
#: statement fewer (a data-modifying WITH).
BUDGET = {
    "admission_check": (11, 10),
    "admit": (18, 17),
    "upload_fees": (17, 16),
    "settle": (25, 24),
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
    assert over == {}, {name: len(statements) for name, statements in over.items()}
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
