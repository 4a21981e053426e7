"""Insured persons' self-registration and password reset by one-time code, through the pages.

The codes come from the demo's console sender (the server log), as a demo user reads them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
from collections.abc import Iterator

import httpx2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from hospital_support import UNFILED, UNFILED_ID
from web_helpers import PAGE, csrf_token
from yidi.bootstrap import Container
from yidi.entrypoints.app import create_app
from yidi.kernel.clock import FixedClock
from yidi.platform.tables import audit_log, one_time_codes, users

MOBILE = "13907341234"
GOOD = "lantern-orchard-47"
PERSON = dataclasses.replace(UNFILED, mobile=MOBILE)
DETAILS = {"name": PERSON.name, "id_number": UNFILED_ID, "mobile": MOBILE}


@pytest.fixture
def web(container: Container) -> Iterator[TestClient]:
    with container.uow() as uow:
        uow.reference.add_persons([PERSON])
        uow.commit()
    with TestClient(create_app(container), base_url="http://127.0.0.1:8000") as client:
        yield client


def _post(web: TestClient, path: str, form: dict[str, str], page: str) -> httpx2.Response:
    return web.post(
        path,
        data=form | {"csrf_token": csrf_token(web, page)},
        headers=PAGE,
        follow_redirects=False,
    )


def _codes(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        str(r.args[0])
        for r in caplog.records
        if r.name == "yidi.auth.codes" and isinstance(r.args, tuple)
    ]


def _ask(
    web: TestClient, details: dict[str, str] = DETAILS, path: str = "/register"
) -> tuple[httpx2.Response, str]:
    response = _post(web, path, details, path)
    match = re.search(r'name="token" value="([^"]*)"', response.text)
    return response, match.group(1) if match else ""


def _verify(
    web: TestClient, token: str, code: str, path: str = "/register", **extra: str
) -> httpx2.Response:
    form = {"token": token, "code": code, "new_password": GOOD, "confirm_password": GOOD}
    return _post(web, path + "/verify", form | extra, path)


def test_a_person_of_the_register_registers_is_signed_in_and_can_file(
    web: TestClient, container: Container, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="yidi.auth.codes")
    response, token = _ask(web)
    assert response.status_code == 200 and token
    assert "验证码已发送" in response.text
    [code] = _codes(caplog)
    assert re.fullmatch(r"\d{6}", code)
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert MOBILE not in logged and UNFILED_ID not in logged  # masked in the log
    assert "139****1234" in logged
    done = _verify(web, token, code, username="li.mou")
    assert done.status_code == 303 and done.headers["location"] == "/me"
    desk = web.get("/me", headers=PAGE)
    assert desk.status_code == 200 and PERSON.name in desk.text
    assert web.get("/me/filings/wizard", headers=PAGE).status_code == 200  # filing online
    with container.uow() as uow:
        db = uow.session
        row = db.execute(select(users).where(users.c.username == "li.mou")).one()
        actions = db.execute(select(audit_log.c.action, audit_log.c.subject)).all()
    assert row.role == "insured_person" and row.id_number == UNFILED_ID
    assert ("auth.register", "user:li.mou") in actions
    assert any(a == "auth.code_sent" and UNFILED_ID not in s for a, s in actions)


@pytest.mark.parametrize(
    "wrong",
    [
        {"name": "王某某"},
        {"id_number": "430421197001010135"},  # valid form, nobody in the register
        {"mobile": "13907349999"},
    ],
)
def test_wrong_details_get_the_same_answer_and_no_code(
    web: TestClient,
    container: Container,
    caplog: pytest.LogCaptureFixture,
    wrong: dict[str, str],
) -> None:
    caplog.set_level(logging.INFO, logger="yidi.auth.codes")
    response, token = _ask(web, DETAILS | wrong)
    assert response.status_code == 200 and token and "验证码已发送" in response.text
    assert _codes(caplog) == []  # nothing sent
    for guess in ("000000", "123456"):
        refused = _verify(web, token, guess, username="nobody.here")
        assert refused.status_code == 422 and "验证码错误" in refused.text
    container.clock.advance(dt.timedelta(minutes=2))  # type: ignore[attr-defined]
    right, _ = _ask(web)
    assert len(_codes(caplog)) == 1
    hidden = re.compile(r'value="[^"]*"')  # the CSRF and challenge tokens differ
    assert hidden.sub("", right.text) == hidden.sub("", response.text)


def test_a_malformed_id_number_is_said_so(web: TestClient) -> None:
    response, token = _ask(web, DETAILS | {"id_number": "4304211962"})
    assert response.status_code == 422 and not token
    assert 'id="id_number-error"' in response.text


def test_codes_expire_work_once_and_die_after_five_wrong_tries(
    web: TestClient, container: Container, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="yidi.auth.codes")
    clock = container.clock
    assert isinstance(clock, FixedClock)
    _, token = _ask(web)
    code = _codes(caplog)[-1]
    clock.advance(dt.timedelta(minutes=11))
    expired = _verify(web, token, code, username="li.mou")
    assert expired.status_code == 422 and "已过期" in expired.text
    assert 'name="token"' not in expired.text  # back to step 1

    _, token = _ask(web)
    code = _codes(caplog)[-1]
    wrong = "000000" if code != "000000" else "111111"
    for attempt in range(1, 5):
        refused = _verify(web, token, wrong, username="li.mou")
        assert refused.status_code == 422, attempt
    dead = _verify(web, token, wrong, username="li.mou")
    assert dead.status_code == 429 and "次数过多" in dead.text
    too_late = _verify(web, token, code, username="li.mou")  # the right code, too late
    assert too_late.status_code == 429

    clock.advance(dt.timedelta(minutes=2))
    _, token = _ask(web)
    code = _codes(caplog)[-1]
    assert _verify(web, token, code, username="li.mou").status_code == 303
    web.cookies.clear()
    reused = _verify(web, token, code, username="li.mou2")
    assert reused.status_code == 422 and "已使用" in reused.text
    with container.uow() as uow:
        db = uow.session
        rows = db.execute(select(one_time_codes.c.failures, one_time_codes.c.used_at)).all()
        assert db.execute(
            select(users.c.username).where(users.c.id_number == UNFILED_ID)
        ).all() == [("li.mou",)]
    assert max(failures for failures, _ in rows) == 5


def test_codes_per_person_are_rate_limited(
    web: TestClient, container: Container, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="yidi.auth.codes")
    clock = container.clock
    assert isinstance(clock, FixedClock)
    first, _ = _ask(web)
    assert first.status_code == 200
    again, _ = _ask(web)  # within the minute
    assert again.status_code == 429 and "过于频繁" in again.text
    for _ in range(4):
        clock.advance(dt.timedelta(seconds=61))
        assert _ask(web)[0].status_code == 200
    clock.advance(dt.timedelta(seconds=61))
    sixth, _ = _ask(web)
    assert sixth.status_code == 429  # five an hour
    # Someone not in the register is limited in exactly the same way.
    stranger = DETAILS | {"id_number": "430421197001010135"}
    answers = []
    for _ in range(6):
        clock.advance(dt.timedelta(seconds=1))
        answers.append(_ask(web, stranger)[0].status_code)
        clock.advance(dt.timedelta(seconds=60))
    assert answers == [200] * 5 + [429]
    assert len(_codes(caplog)) == 5


def test_a_forgotten_password_is_reset_by_code_and_old_sessions_end(
    web: TestClient, container: Container, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="yidi.auth.codes")
    _, token = _ask(web)
    assert _verify(web, token, _codes(caplog)[-1], username="li.mou").status_code == 303
    assert web.get("/me", headers=PAGE).status_code == 200
    old_cookies = dict(web.cookies)
    container.clock.advance(dt.timedelta(minutes=2))  # type: ignore[attr-defined]
    other = TestClient(web.app, base_url="http://127.0.0.1:8000")
    response, token = _ask(other, path="/password-forgot")
    assert response.status_code == 200
    new = "quiet-harbour-83"
    form = {"token": token, "code": _codes(caplog)[-1], "new_password": new}
    mismatch = _post(
        other, "/password-forgot/verify", form | {"confirm_password": "x"}, "/password-forgot"
    )
    assert mismatch.status_code == 422 and 'name="token"' in mismatch.text
    done = _post(
        other, "/password-forgot/verify", form | {"confirm_password": new}, "/password-forgot"
    )
    assert done.status_code == 200 and "li.mou" in done.text
    web.cookies.clear()
    web.cookies.update(old_cookies)
    assert web.get("/me", headers=PAGE, follow_redirects=False).status_code in (303, 401)
    signin = _post(other, "/signin", {"username": "li.mou", "password": new}, "/signin")
    assert signin.status_code == 303
    with container.uow() as uow:
        db = uow.session
        actions = {a for (a,) in db.execute(select(audit_log.c.action))}
    assert "auth.password_reset_by_code" in actions


def test_registering_twice_points_to_the_reset_and_a_reset_without_account_to_registration(
    web: TestClient, container: Container, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="yidi.auth.codes")
    _, token = _ask(web, path="/password-forgot")
    missing = _verify(web, token, _codes(caplog)[-1], path="/password-forgot")
    assert missing.status_code == 409 and "请先注册" in missing.text
    container.clock.advance(dt.timedelta(minutes=2))  # type: ignore[attr-defined]
    _, token = _ask(web)
    assert _verify(web, token, _codes(caplog)[-1], username="li.mou").status_code == 303
    web.cookies.clear()
    container.clock.advance(dt.timedelta(minutes=2))  # type: ignore[attr-defined]
    _, token = _ask(web)
    twice = _verify(web, token, _codes(caplog)[-1], username="li.mou.2")
    assert twice.status_code == 409 and "已有账户" in twice.text


def test_the_sign_in_page_leads_insured_persons_to_registration(web: TestClient) -> None:
    page = web.get("/signin", headers=PAGE).text
    assert "无需登录即可" not in page.split("citizen-hint")[0]
    assert 'href="/register"' in page and 'href="/password-forgot"' in page
    assert "在线办理备案" in page or "办理备案" in page
