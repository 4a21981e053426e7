from __future__ import annotations

import io
import logging
import sys

from hypothesis import given
from hypothesis import strategies as st

from yidi.kernel.identity import make_resident_id
from yidi.kernel.privacy import redact_text
from yidi.platform.logging_setup import configure_logging


def test_id_numbers_and_mobiles_never_reach_the_log_stream_unmasked() -> None:
    stream = io.StringIO()
    handler = configure_logging("INFO", stream)
    try:
        logging.getLogger("yidi.encounter").info("admission check for %s", "11010519491231002X")
        logging.getLogger("uvicorn.access").info(
            '"GET /api/filings?id_number=430421195501011234 HTTP/1.1" 200'
        )
        logging.getLogger("yidi.x").warning("call back 13812345678 about 110105491231002")
    finally:
        logging.getLogger().removeHandler(handler)
    text = stream.getvalue()
    assert "11010519491231002X" not in text and "110105********002X" in text
    assert "430421195501011234" not in text
    assert "13812345678" not in text and "138****5678" in text
    assert "110105491231002" not in text


def test_redaction_leaves_other_numbers_alone() -> None:
    assert (
        redact_text("settled 11811.24 yuan, setl_id 2026112000001")
        == "settled 11811.24 yuan, setl_id 2026112000001"
    )


@given(st.dates(), st.integers(0, 999), st.text(alphabet=" ,:;/=()", max_size=3))
def test_any_valid_id_number_inside_text_is_masked(birth, sequence, sep) -> None:  # type: ignore[no-untyped-def]
    number = make_resident_id("430421", birth, sequence).number
    assert number not in redact_text(f"patient{sep}{number}{sep}admitted")


def test_a_logged_traceback_is_masked_too() -> None:
    stream = io.StringIO()
    handler = configure_logging("INFO", stream)
    try:
        try:
            raise ValueError("duplicate row for 11010519491231002X, mobile 13812345678")
        except ValueError:
            record = logging.getLogger("uvicorn.error").makeRecord(
                "uvicorn.error",
                logging.ERROR,
                __file__,
                1,
                "Exception in ASGI application",
                None,
                sys.exc_info(),
            )
        # Straight to yidi's handler: no other handler has rendered the traceback before it.
        assert record.exc_text is None
        handler.handle(record)
    finally:
        logging.getLogger().removeHandler(handler)
    text = stream.getvalue()
    assert "Traceback" in text and "ValueError" in text
    assert "11010519491231002X" not in text and "110105********002X" in text
    assert "13812345678" not in text


def test_database_errors_never_carry_bound_parameters() -> None:
    import sqlalchemy as sa

    from yidi.platform.db import make_engine

    engine = make_engine("sqlite://")
    table = sa.Table(
        "people", sa.MetaData(), sa.Column("id_number", sa.String(18), primary_key=True)
    )
    with engine.begin() as connection:
        table.create(connection)
        connection.execute(table.insert().values(id_number="11010519491231002X"))
    with engine.begin() as connection:
        try:
            connection.execute(table.insert().values(id_number="11010519491231002X"))
        except sa.exc.IntegrityError as error:
            text = str(error)
        else:  # pragma: no cover
            raise AssertionError("the duplicate was accepted")
    engine.dispose()
    assert "11010519491231002X" not in text and "parameters hidden" in text
