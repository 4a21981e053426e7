"""The client address of the request being served, for audit entries (审计日志 “来自何处”).

Set once per request by the API's outermost middleware, read by services that write audit
entries without an explicit address. Outside a request (CLI, tests) it is empty.
"""

from __future__ import annotations

from contextvars import ContextVar, Token

_client_address: ContextVar[str] = ContextVar("yidi_client_address", default="")


def current_client_address() -> str:
    return _client_address.get()


def set_client_address(address: str) -> Token[str]:
    return _client_address.set(address)


def reset_client_address(token: Token[str]) -> None:
    _client_address.reset(token)
