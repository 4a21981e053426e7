"""The web pages over HTTP (no browser): cookies, CSRF, redirects, error pages, headers."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import httpx2
import pytest
from fastapi.testclient import TestClient

from yidi.bootstrap import Container
from yidi.entrypoints.app import create_app
from yidi.entrypoints.web.nav import HOME_BY_ROLE, NAV_ENTRIES
from yidi.kernel.access import Role

sys.path.insert(0, str(Path(__file__).parent))
from web_helpers import PAGE, csrf_token, load_demo_world, sign_in

PUBLIC_PAGES = ["/", "/signin", "/check", "/hospitals", "/agencies"]


@pytest.fixture(autouse=True)
def _demo_world(container: Container, monkeypatch: pytest.MonkeyPatch) -> None:
    load_demo_world(container, monkeypatch)


@pytest.fixture
def browser(container: Container) -> Iterator[TestClient]:
    """A client on loopback http, as a local browser would be."""
    with TestClient(create_app(container), base_url="http://127.0.0.1:8000") as client:
        yield client


def _sign_in(client: TestClient, username: str, password: str, **extra: str) -> httpx2.Response:
    return client.post(
        "/signin",
        data={
            "username": username,
            "password": password,
            "csrf_token": csrf_token(client),
            **extra,
        },
        headers=PAGE,
        follow_redirects=False,
    )


class _Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.inline: list[str] = []
        self.style_attributes = 0
        self.inline_handlers = 0
        self._in_inline_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        if "style" in names:
            self.style_attributes += 1
        self.inline_handlers += sum(1 for name in names if name.startswith("on"))
        if tag == "script" and "src" not in names and names.get("type") != "application/json":
            self._in_inline_script = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_inline_script = False

    def handle_data(self, data: str) -> None:
        if self._in_inline_script:
            self.inline.append(data)


def test_every_response_carries_the_security_headers_and_no_server_banner(
    browser: TestClient,
) -> None:
    for response in (browser.get("/api/health"), browser.get("/signin", headers=PAGE)):
        headers = response.headers
        assert "script-src 'self'" in headers["content-security-policy"]
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"
        assert "server" not in headers


def test_an_oversized_body_is_refused_with_413_and_a_chinese_message(
    browser: TestClient, container: Container
) -> None:
    limit = container.settings.max_request_bytes
    declared = browser.post(
        "/api/auth/login",
        content=b"x" * (limit + 1),
        headers={"content-type": "application/json"},
    )
    assert declared.status_code == 413
    assert declared.json()["error"]["code"] == "REQUEST_TOO_LARGE"
    assert "请求内容过大" in declared.json()["error"]["message"]

    def chunks() -> Iterator[bytes]:
        for _ in range(limit // 65536 + 2):
            yield b"y" * 65536

    streamed = browser.post(
        "/api/auth/login", content=chunks(), headers={"content-type": "application/json"}
    )
    assert streamed.status_code == 413
    assert streamed.json()["error"]["code"] == "REQUEST_TOO_LARGE"


def test_the_json_api_still_signs_in_behind_the_middleware(browser: TestClient) -> None:
    response = browser.post(
        "/api/auth/login", json={"username": "henan", "password": "henan-demo-2017"}
    )
    assert response.status_code == 200
    assert response.json()["role"] == "province_officer"


def test_no_page_has_inline_script_inline_style_or_event_handlers(browser: TestClient) -> None:
    pages = [*PUBLIC_PAGES, "/check?category=emergency&care=inpatient&accident=no&filed=no"]
    assert _sign_in(browser, "hengyang", "hengyang-demo-2017").status_code == 303
    pages += ["/agency", "/nope"]
    for path in pages:
        parser = _Scripts()
        parser.feed(browser.get(path, headers=PAGE).text)
        assert parser.inline == [], path
        assert parser.style_attributes == 0, path
        assert parser.inline_handlers == 0, path


def test_sign_in_sets_an_httponly_lax_session_cookie_and_lands_on_the_role_desk(
    browser: TestClient,
) -> None:
    response = _sign_in(browser, "nhfy1", "nhfy1-demo-2017")
    assert response.status_code == 303
    assert response.headers["location"] == HOME_BY_ROLE[Role.HOSPITAL_CASHIER]
    session = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith("yidi_session=")
    )
    assert "HttpOnly" in session and "SameSite=lax" in session
    assert "Secure" not in session  # plain http on loopback: a local run
    desk = browser.get("/hospital", headers=PAGE)
    assert desk.status_code == 200
    assert "南华大学附属第一医院" in desk.text


def test_the_session_cookie_is_secure_off_loopback(container: Container) -> None:
    with TestClient(create_app(container), base_url="https://yidi.example.gov.cn") as client:
        response = _sign_in(client, "nhfy1", "nhfy1-demo-2017")
    cookies = response.headers.get_list("set-cookie")
    assert any(c.startswith("yidi_session=") and "Secure" in c for c in cookies)


def test_a_sign_in_without_the_csrf_token_is_refused(browser: TestClient) -> None:
    browser.get("/signin", headers=PAGE)
    response = browser.post(
        "/signin",
        data={"username": "hengyang", "password": "hengyang-demo-2017", "csrf_token": "forged"},
        headers=PAGE,
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert "页面已过期" in response.text
    assert "yidi_session" not in response.headers.get("set-cookie", "")


def test_a_csrf_token_from_another_browser_does_not_match_this_cookie(
    browser: TestClient, container: Container
) -> None:
    with TestClient(create_app(container), base_url="http://127.0.0.1:8000") as attacker:
        stolen = csrf_token(attacker)
    browser.get("/signin", headers=PAGE)
    response = browser.post(
        "/signin",
        data={"username": "hengyang", "password": "hengyang-demo-2017", "csrf_token": stolen},
        headers=PAGE,
        follow_redirects=False,
    )
    assert response.status_code == 403


def test_wrong_password_shows_the_chinese_message_next_to_the_password_field(
    browser: TestClient,
) -> None:
    response = _sign_in(browser, "hengyang", "wrong")
    assert response.status_code == 401
    assert re.search(
        r'id="password-error"[^>]*>用户名或密码错误<',
        response.text,
    )
    assert 'aria-describedby="password-error"' in response.text


def test_empty_fields_are_named_next_to_each_field(browser: TestClient) -> None:
    response = _sign_in(browser, "", "")
    assert response.status_code == 422
    assert "请输入用户名" in response.text and "请输入密码" in response.text


def test_sign_in_returns_to_the_page_asked_for_but_never_to_another_site(
    browser: TestClient,
) -> None:
    back = _sign_in(browser, "hengyang", "hengyang-demo-2017", next="/hospitals?level=3")
    assert back.headers["location"] == "/hospitals?level=3"
    browser.cookies.clear()
    away = _sign_in(browser, "hengyang", "hengyang-demo-2017", next="//evil.example/")
    assert away.headers["location"] == "/agency"


def test_anonymous_browser_is_sent_to_sign_in_and_an_api_client_gets_json(
    browser: TestClient,
) -> None:
    page = browser.get("/agency", headers=PAGE, follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/signin?next=%2Fagency"
    api = browser.get("/agency", follow_redirects=False)
    assert api.status_code == 401
    assert api.json()["error"]["message"] == "请先登录"


def test_a_cashier_gets_a_chinese_403_page_for_the_agency_desk(browser: TestClient) -> None:
    _sign_in(browser, "bobai", "bobai-demo-2017")
    response = browser.get("/agency", headers=PAGE)
    assert response.status_code == 403
    assert "无权访问" in response.text
    assert "医院收费员无权打开此页面" in response.text


def test_unknown_pages_get_a_chinese_404_page_and_unknown_api_paths_json(
    browser: TestClient,
) -> None:
    page = browser.get("/no-such-page", headers=PAGE)
    assert page.status_code == 404 and "页面不存在" in page.text
    api = browser.get("/api/no-such-thing", headers=PAGE)
    assert api.status_code == 404 and api.json()["error"]["code"] == "NOT_FOUND"


def test_sign_out_needs_the_csrf_token_and_then_ends_the_session(browser: TestClient) -> None:
    _sign_in(browser, "hengyang", "hengyang-demo-2017")
    refused = browser.post("/signout", data={"csrf_token": "x"}, headers=PAGE)
    assert refused.status_code == 403
    assert browser.get("/agency", headers=PAGE).status_code == 200
    token = csrf_token(browser, "/agency")
    done = browser.post(
        "/signout", data={"csrf_token": token}, headers=PAGE, follow_redirects=False
    )
    assert done.status_code == 303
    assert browser.get("/agency", headers=PAGE, follow_redirects=False).status_code == 303


def test_language_switch_sets_a_cookie_and_the_next_page_stays_english(
    browser: TestClient,
) -> None:
    english = browser.get("/check?lang=en", headers=PAGE)
    assert "Can I settle directly?" in english.text
    assert browser.cookies.get("yidi_lang") == "en"
    assert "Connected hospitals" in browser.get("/hospitals", headers=PAGE).text
    assert "联网医院" in browser.get("/hospitals?lang=zh", headers=PAGE).text


def test_hospital_list_filters_by_region_and_level_and_flags_an_unknown_region(
    browser: TestClient,
) -> None:
    everything = browser.get("/hospitals", headers=PAGE).text
    assert "博白县人民医院" in everything and "郑州大学第一附属医院" in everything
    hengyang_level_3 = browser.get("/hospitals?region=430400&level=3", headers=PAGE).text
    assert "共 7 家" in hengyang_level_3
    assert "衡阳县人民医院" not in hengyang_level_3 and "博白县人民医院" not in hengyang_level_3
    county = browser.get("/hospitals?region=430421", headers=PAGE).text
    assert "共 1 家" in county and "衡阳县人民医院" in county
    unknown = browser.get("/hospitals?region=999999", headers=PAGE)
    assert unknown.status_code == 422
    assert 'id="region-error"' in unknown.text and "请选择列表中的地区" in unknown.text


def test_agency_directory_lists_the_seed_phones_as_links(browser: TestClient) -> None:
    text = browser.get("/agencies", headers=PAGE).text
    assert 'href="tel:07348867038"' in text and "衡阳市医保中心" in text
    assert (
        'href="tel:07342540500"' in text and 'href="tel:07348683284"' in text
    )  # 珠晖区: two lines


def test_guided_check_names_missing_answers_next_to_their_question(browser: TestClient) -> None:
    response = browser.get("/check?category=referral", headers=PAGE)
    assert response.status_code == 422
    for name in ("care", "accident", "filed"):
        assert f'id="{name}-error"' in response.text
    assert 'id="category-error"' not in response.text


def test_guided_check_renders_the_domain_answer_with_its_quotes(browser: TestClient) -> None:
    response = browser.get(
        "/check?category=long_term_resident&care=inpatient&accident=yes&filed=yes", headers=PAGE
    )
    assert 'data-verdict="not_direct"' in response.text
    assert 'data-rule="ACCIDENT_EXCLUDED"' in response.text
    assert "住院医疗费用总清单" in response.text


def test_every_nav_entry_opens_for_a_role_allowed_to_use_it(browser: TestClient) -> None:
    opened: set[str] = set()
    for username in ("henan", "hengyang", "clearing", "nhfy1", "bobaiyaofang", "admin"):
        browser.cookies.clear()
        _sign_in(browser, username, f"{username}-demo-2017")
        principal_entries = browser.get("/home", headers=PAGE)
        assert principal_entries.status_code == 200
        for entry in NAV_ENTRIES:
            if f'href="{entry.path}"' not in principal_entries.text:
                continue
            assert browser.get(entry.path, headers=PAGE).status_code == 200, entry.path
            opened.add(entry.path)
    insured_only = {e.path for e in NAV_ENTRIES if e.roles and Role.INSURED_PERSON in e.roles}
    assert opened == {e.path for e in NAV_ENTRIES} - insured_only


def test_the_vendored_chart_library_is_served_from_the_package(browser: TestClient) -> None:
    response = browser.get("/static/vendor/chartjs/chart.umd.min.js")
    assert response.status_code == 200
    assert "javascript" in response.headers["content-type"]
    assert response.text.startswith("/*!\n * Chart.js v4.")


def test_an_audit_entry_written_by_a_page_records_the_client_address(
    container: Container,
) -> None:
    with TestClient(
        create_app(container), base_url="http://127.0.0.1:8000", client=("203.0.113.9", 50123)
    ) as remote:
        assert _sign_in(remote, "admin", "admin-demo-2017").status_code == 303
        signed_out = remote.post(
            "/signout", data={"csrf_token": csrf_token(remote, "/")}, headers=PAGE
        )
        assert signed_out.status_code in (200, 303)
    with container.uow() as uow:
        entries = [chained.entry for chained in uow.audit.walk()]
    by_action = {entry.action: entry for entry in entries if entry.actor == "admin"}
    assert by_action["auth.login"].address == "203.0.113.9"
    assert by_action["auth.logout"].address == "203.0.113.9"


def test_field_attributes_reach_the_browser_as_attributes(browser: TestClient) -> None:
    # A form macro's extra attributes (maxlength, autocomplete) are markup written in the
    # templates: escaped, they arrive as text (maxlength=&#34;64&#34;) and limit nothing.
    sign_in(browser, "hengyang")
    page = browser.get("/filings", headers=PAGE)
    assert page.status_code == 200
    inputs = re.findall(r"<input [^>]*>", page.text)
    assert inputs and not [tag for tag in inputs if "&#34;" in tag]
    assert any('name="q"' in tag and re.search(r'maxlength="\d+"', tag) for tag in inputs)
