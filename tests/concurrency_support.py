"""Run calls in threads released together, so their transactions really overlap."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

from yidi.kernel.errors import YidiError

T = TypeVar("T")


def at_once(
    calls: Sequence[Callable[[], T]],
    *,
    catching: tuple[type[BaseException], ...] = (YidiError,),
    timeout: float = 60.0,
) -> tuple[list[T], list[BaseException]]:
    """Each call's result, and the exceptions of the kinds ``catching`` names (anything else
    escapes its thread, so the result is missing and the caller's count fails)."""
    results: list[T] = []
    errors: list[BaseException] = []
    start = threading.Barrier(len(calls))

    def run(call: Callable[[], T]) -> None:
        start.wait(timeout=10)
        try:
            results.append(call())
        except catching as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return results, errors


def outcome_codes(calls: Sequence[Callable[[], object]]) -> list[str]:
    """ "OK" for each call that returned, the error code for each refused one."""
    results, errors = at_once(calls, timeout=120)
    return ["OK"] * len(results) + [getattr(e, "code", repr(e)) for e in errors]
