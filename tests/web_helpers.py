"""Shared helpers of the page tests: a loopback browser client, sign-in, CSRF, inline checks."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator

import httpx2
import pytest
from fastapi.testclient import TestClient

from yidi.auth.commands import hash_password
from yidi.bootstrap import Container
from yidi.demo.loader import load_demo_filings, load_reference_world
from yidi.entrypoints.app import create_app

PAGE = {"accept": "text/html,application/xhtml+xml"}

# Argon2 is slow on purpose; hash each demo password once per run, not once per test.
hash_once = functools.cache(hash_password)


def csrf_token(client: TestClient, path: str = "/signin") -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path, headers=PAGE).text)
    assert match, "the form carries a CSRF token"
    return match.group(1)


def table_rows(html: str, marker: str) -> list[list[str]]:
    """The body cells of the first table after ``marker``, row by row (tags stripped)."""
    body = html.split(marker, 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body.split("<tbody>", 1)[1], flags=re.S)
    return [
        [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r)]
        for r in rows
    ]


def sign_in(client: TestClient, username: str, password: str = "") -> httpx2.Response:
    password = password or f"{username}-demo-2017"
    response = client.post(
        "/signin",
        data={"username": username, "password": password, "csrf_token": csrf_token(client)},
        headers=PAGE,
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return response


def load_demo_world(
    container: Container, monkeypatch: pytest.MonkeyPatch, *, filings: bool = False
) -> None:
    """The demo's institutions and accounts (passwords hashed once per run), and with
    ``filings`` the demo's insured persons and their filings."""
    monkeypatch.setattr("yidi.demo.loader.hash_password", hash_once)
    load_reference_world(container.uow())
    if filings:
        load_demo_filings(container.uow, container.clock, container.filings)


def signed_in_browsers(container: Container) -> Iterator[Callable[[str], TestClient]]:
    """Yields ``open_as(username)``: a signed-in client on loopback http per user, each with
    its own cookies; all are closed afterwards."""
    opened: list[TestClient] = []

    def open_as(username: str) -> TestClient:
        client = TestClient(create_app(container), base_url="http://127.0.0.1:8000")
        client.__enter__()
        opened.append(client)
        sign_in(client, username)
        return client

    yield open_as
    for client in opened:
        client.__exit__(None, None, None)
