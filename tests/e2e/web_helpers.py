"""Shared helpers of the page tests: a loopback browser client, sign-in, CSRF, inline checks."""

from __future__ import annotations

import functools
import re

import httpx2
from fastapi.testclient import TestClient

from yidi.auth.commands import hash_password

PAGE = {"accept": "text/html,application/xhtml+xml"}

# Argon2 is slow on purpose; hash each demo password once per run, not once per test.
hash_once = functools.cache(hash_password)


def csrf_token(client: TestClient, path: str = "/signin") -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path, headers=PAGE).text)
    assert match, "the form carries a CSRF token"
    return match.group(1)


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
