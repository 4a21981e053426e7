"""Security headers and a request size limit for every response of the app (API and pages).

Every answer, errors included, carries the headers below, a ``Permissions-Policy`` that turns
off browser features yidi never uses, and ``Cache-Control: no-store`` (except the static
assets under ``/static/``), so that no browser or proxy keeps a copy of a personal record.
``Strict-Transport-Security`` is sent on HTTPS requests (``YIDI_HSTS=auto``; behind a
reverse proxy this needs ``YIDI_FORWARDED_ALLOW_IPS`` so the proxy's ``X-Forwarded-Proto``
is believed) or always (``YIDI_HSTS=on``).

A plain ASGI middleware rather than Starlette's ``BaseHTTPMiddleware``: it must
see the request body as it streams in (to stop an oversized upload without
reading it all) and must not buffer responses.
"""

from __future__ import annotations

import contextlib
import json
import re
from typing import Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from yidi.kernel.audit import reset_client_address, set_client_address

CONTENT_SECURITY_POLICY: Final = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"
)
SECURITY_HEADERS: Final[tuple[tuple[bytes, bytes], ...]] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (
        b"permissions-policy",
        b"accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
        b"microphone=(), payment=(), usb=(), browsing-topics=()",
    ),
)
# A scan shown inside its filing's page (the reviewer's inline preview of a PDF) may be framed
# by yidi's own pages, and only by them.
SAME_ORIGIN_FRAMED: Final = re.compile(r"/filings/[^/]+/evidence/[0-9a-f]{64}")
FRAMED_HEADERS: Final[tuple[tuple[bytes, bytes], ...]] = tuple(
    (
        (name, value.replace(b"frame-ancestors 'none'", b"frame-ancestors 'self'"))
        if name == b"content-security-policy"
        else (name, b"SAMEORIGIN")
        if name == b"x-frame-options"
        else (name, value)
    )
    for name, value in SECURITY_HEADERS
)
NO_STORE: Final = (b"cache-control", b"no-store")
STATIC_PREFIX: Final = "/static/"
_REPLACED: Final = frozenset(name for name, _ in SECURITY_HEADERS) | {
    b"server",
    b"strict-transport-security",
    b"cache-control",
}


class _TooLarge(Exception):
    """The body grew past the limit while being read."""


def too_large_body(limit_bytes: int) -> bytes:
    return json.dumps(
        {
            "error": {
                "code": "REQUEST_TOO_LARGE",
                "message": f"请求内容过大，最多 {limit_bytes // 1024} KB",
                "message_en": f"request body too large (limit {limit_bytes} bytes)",
            }
        },
        ensure_ascii=False,
    ).encode()


class SecurityMiddleware:
    """Headers on every answer; the size limit on every path except ``own_limit_prefixes``.

    Paths under ``own_limit_prefixes`` (the national gateway) read their bodies with the same
    limit themselves, so that an oversized body is answered in their own format (an
    envelope with ``infcode`` -1) rather than with this JSON 413.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_request_bytes: int,
        own_limit_prefixes: tuple[str, ...] = (),
        hsts: str = "auto",
        hsts_max_age_seconds: int = 31536000,
    ) -> None:
        self.app = app
        self.max_request_bytes = max_request_bytes
        self.own_limit_prefixes = own_limit_prefixes
        self.hsts = hsts
        self.hsts_value = f"max-age={hsts_max_age_seconds}; includeSubDomains".encode()

    def _headers(self, scope: Scope, kept: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        """The security headers for this request, after the response's own ``kept`` ones."""
        headers = [(name, value) for name, value in kept if name.lower() not in _REPLACED]
        path = str(scope.get("path", ""))
        framed = SAME_ORIGIN_FRAMED.fullmatch(path) is not None
        headers.extend(FRAMED_HEADERS if framed else SECURITY_HEADERS)
        if path.startswith(STATIC_PREFIX):
            headers.extend(kv for kv in kept if kv[0].lower() == b"cache-control")
        else:
            headers.append(NO_STORE)
        if self.hsts == "on" or (self.hsts == "auto" and scope.get("scheme") == "https"):
            headers.append((b"strict-transport-security", self.hsts_value))
        return headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limited = not str(scope.get("path", "")).startswith(self.own_limit_prefixes)
        client = scope.get("client")
        address_token = set_client_address(str(client[0]) if client else "")
        try:
            await self._serve(scope, receive, send, limited=limited)
        finally:
            reset_client_address(address_token)

    async def _serve(self, scope: Scope, receive: Receive, send: Send, *, limited: bool) -> None:

        declared = _content_length(scope)
        if limited and declared is not None and declared > self.max_request_bytes:
            await self._refuse(scope, send)
            return

        started = False
        exceeded = False
        received = 0

        async def limited_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if limited and message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_request_bytes:
                    exceeded = True
                    raise _TooLarge
            return message

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if exceeded:
                # The framework may turn the read error into its own answer (FastAPI: 400);
                # drop it, the 413 below replaces it.
                return
            if message["type"] == "http.response.start":
                started = True
                headers = self._headers(scope, list(message.get("headers", [])))
                message = {**message, "headers": headers}
            await send(message)

        with contextlib.suppress(_TooLarge):
            await self.app(scope, limited_receive, send_with_headers)
        if exceeded and not started:
            await self._refuse(scope, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        body = too_large_body(self.max_request_bytes)
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": self._headers(
                    scope,
                    [
                        (b"content-type", b"application/json; charset=utf-8"),
                        (b"content-length", str(len(body)).encode()),
                        (b"connection", b"close"),
                    ],
                ),
            }
        )
        await send({"type": "http.response.body", "body": body})


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
