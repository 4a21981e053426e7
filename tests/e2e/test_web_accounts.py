"""The account pages: the forced password change, the reset link, user administration."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from web_helpers import PAGE, csrf_token, sign_in
from yidi.bootstrap import Container
from yidi.demo.loader import load_reference_world
from yidi.entrypoints.app import create_app
from yidi.platform.tables import audit_log

GOOD = "lantern-orchard-47"


@pytest.fixture
def web(container: Container) -> Iterator[TestClient]:
    load_reference_world(container.uow())
    with TestClient(create_app(container), base_url="http://127.0.0.1:8000") as client:
        yield client


def _post(web: TestClient, path: str, form: dict[str, str], page: str) -> httpx2.Response:
    return web.post(
        path,
        data=form | {"csrf_token": csrf_token(web, page)},
        headers=PAGE,
        follow_redirects=False,
    )


def _create(web: TestClient, username: str, **fields: str) -> httpx2.Response:
    form = {"username": username, "password": GOOD, "role": "agency_handler"} | fields
    return _post(web, "/admin/users", form, "/admin/users")


def test_a_new_user_is_sent_to_change_the_password_before_anything_else(
    web: TestClient,
) -> None:
    sign_in(web, "admin")
    created = _create(web, "sun.jingban", region_code="430400", display_name="孙经办")
    assert created.status_code == 303
    assert created.headers["location"] == "/admin/users/sun.jingban?done=created"
    web.cookies.clear()
    signed = sign_in(web, "sun.jingban", GOOD)
    assert signed.headers["location"] == "/account/password"
    for path in ("/agency", "/filings", "/"):
        elsewhere = web.get(path, headers=PAGE, follow_redirects=False)
        assert elsewhere.status_code == 303 and elsewhere.headers["location"] == "/account/password"
    page = web.get("/account/password", headers=PAGE)
    assert 'id="forced-change"' in page.text and "至少 12 个字符" in page.text
    weak = _post(
        web,
        "/account/password",
        {
            "current_password": GOOD,
            "new_password": "sun.jingban-1",
            "confirm_password": "sun.jingban-1",
        },
        "/account/password",
    )
    assert weak.status_code == 422
    assert "不能包含用户名" in weak.text
    done = _post(
        web,
        "/account/password",
        {
            "current_password": GOOD,
            "new_password": "river-stone-lamp-88",
            "confirm_password": "river-stone-lamp-88",
        },
        "/account/password",
    )
    assert done.status_code == 303 and done.headers["location"] == "/agency"
    assert web.get("/agency", headers=PAGE).status_code == 200


def test_the_administrator_disables_resets_re_roles_and_unlocks_on_the_pages(
    web: TestClient, container: Container
) -> None:
    sign_in(web, "admin")
    listing = web.get("/admin/users", headers=PAGE)
    assert listing.status_code == 200 and 'data-username="hengyang"' in listing.text
    refused = _create(web, "qian", region_code="430400", password="123456789012")
    assert refused.status_code == 422 and "常见密码" in refused.text
    _create(web, "qian", region_code="430400")
    detail = "/admin/users/qian"
    assert _post(web, f"{detail}/disable", {}, detail).status_code == 303
    assert "已停用" in web.get(detail, headers=PAGE).text
    assert _post(web, f"{detail}/enable", {}, detail).status_code == 303
    role = _post(
        web, f"{detail}/role", {"role": "province_officer", "region_code": "430000"}, detail
    )
    assert role.status_code == 303
    assert 'data-role="province_officer"' in web.get(detail, headers=PAGE).text
    bad_role = _post(
        web, f"{detail}/role", {"role": "hospital_cashier", "hospital_code": "NOPE"}, detail
    )
    assert bad_role.status_code == 422
    reset = _post(web, f"{detail}/reset", {}, detail)
    assert reset.status_code == 200 and reset.headers["cache-control"] == "no-store"
    match = re.search(r'id="reset-url" type="text" value="([^"]+)"', reset.text)
    assert match is not None
    link = match.group(1).replace("http://127.0.0.1:8000", "")
    assert _post(web, f"{detail}/unlock", {}, detail).status_code == 303
    own = _post(web, "/admin/users/admin/disable", {}, "/admin/users/admin")
    assert own.status_code == 409
    # The link, opened by the user: set a password once.
    web.cookies.clear()
    form_page = web.get(link, headers=PAGE)
    assert form_page.status_code == 200 and "qian" in form_page.text
    token = link.split("token=", 1)[1]
    new = {
        "token": token,
        "new_password": "amber-field-1977",
        "confirm_password": "amber-field-1977",
    }
    assert 'id="reset-done"' in _post(web, "/password-reset", new, link).text
    again = web.get(link, headers=PAGE)
    assert again.status_code == 410 and 'id="token-error"' in again.text
    assert sign_in(web, "qian", "amber-field-1977").headers["location"] == "/province"
    with container.uow() as uow:
        acts = (
            uow.session.execute(
                select(audit_log.c.action).where(
                    audit_log.c.actor == "admin", audit_log.c.subject == "user:qian"
                )
            )
            .scalars()
            .all()
        )
    assert sorted(acts) == sorted(
        ["user.create", "user.disable", "user.enable", "user.assign", "user.reset", "user.unlock"]
    )


def test_the_user_pages_are_the_administrators_only(web: TestClient) -> None:
    sign_in(web, "hengyang")
    assert web.get("/admin/users", headers=PAGE).status_code == 403
    assert web.get("/admin/users/hengyang", headers=PAGE).status_code == 403
    assert web.get("/account/password", headers=PAGE).status_code == 200
