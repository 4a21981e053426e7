"""The prepayment usage reads and top-up rows on the database (SQLite, or PostgreSQL when
YIDI_TEST_DATABASE_URL is set): the year's clearing runs by level and month, and the
table's checks refusing a request with nothing to suggest."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

sys.path.insert(0, str(Path(__file__).parents[1] / "unit"))
from funds_helpers import make_fact

from yidi.bootstrap import Container
from yidi.funds import commands as service
from yidi.funds.model import ClearingLevel, Prepayment, prepayment_usage
from yidi.kernel.clock import CHINA_TZ, FixedClock
from yidi.kernel.money import Money
from yidi.platform.tables import prepayment_topups
from yidi.policy.national import prepayment_warning_on

AT = dt.datetime(2017, 10, 1, 9, 0, tzinfo=CHINA_TZ)
CLOCK = FixedClock(dt.datetime(2017, 11, 8, 9, 0, tzinfo=CHINA_TZ))
P = ClearingLevel.PROVINCE


def test_usage_reads_the_years_runs_of_its_level_only(container: Container) -> None:
    with container.uow() as uow:
        service.record_settlement_fact(uow, make_fact("S1", pooled="800.00"), AT)
        service.record_settlement_fact(
            uow, make_fact("S2", on=dt.date(2016, 12, 5), pooled="999.00"), AT
        )
        uow.commit()
    service.set_prepayment(
        container.uow(), Prepayment(P, "430000", "450000", Money.of("1000.00"), dt.date(2017, 1, 1))
    )
    for month in ("2016-12", "2017-09"):
        service.run_clearing(container.uow(), CLOCK, month, P)
    service.run_clearing(container.uow(), CLOCK, "2017-09", ClearingLevel.PREFECTURE)
    with container.uow() as uow:
        runs = uow.funds.clearing_runs_between(P, "2017-01", "2017-11")
    assert [(r.month, r.level) for r in runs] == [("2017-09", P)]
    [row] = service.prepayment_usages(container.uow(), CLOCK, P)
    assert (row.drawn, row.held, row.warning.value) == (
        Money.of("800.00"),
        Money.of("1000.00"),
        "yellow",
    )


def test_the_table_refuses_a_request_with_nothing_to_suggest(container: Container) -> None:
    rule = prepayment_warning_on(dt.date(2017, 1, 1))
    calm = prepayment_usage(
        P,
        2017,
        "430000",
        "450000",
        Money.of("1000.00"),
        Money.of("10.00"),
        yellow=rule.yellow,
        red=rule.red,
    )
    with container.uow() as uow, pytest.raises(IntegrityError):
        uow.funds.add_top_up_request(calm, "someone", "430000", AT)
        uow.session.flush()
    with container.uow() as uow:
        assert (
            uow.session.execute(select(func.count()).select_from(prepayment_topups)).scalar() == 0
        )
