"""The one module that reads the system time.

Everything else receives a :class:`Clock` so that tests (and replays of a
settlement) can fix "now" exactly.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol
from zoneinfo import ZoneInfo

CHINA_TZ = ZoneInfo("Asia/Shanghai")


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """An aware datetime in China Standard Time."""
        ...

    def today(self) -> dt.date: ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(CHINA_TZ)

    def today(self) -> dt.date:
        return self.now().date()


class FixedClock:
    """A clock that only moves when told to (tests, demos, replays)."""

    def __init__(self, at: dt.datetime) -> None:
        if at.tzinfo is None:
            at = at.replace(tzinfo=CHINA_TZ)
        self._at = at

    def now(self) -> dt.datetime:
        return self._at

    def today(self) -> dt.date:
        return self._at.date()

    def set(self, at: dt.datetime) -> None:
        self._at = at if at.tzinfo else at.replace(tzinfo=CHINA_TZ)

    def advance(self, delta: dt.timedelta) -> None:
        self._at = self._at + delta


def beijing(at: dt.datetime) -> dt.datetime:
    """A timestamp in China Standard Time (naive input is taken as Beijing time)."""
    return at.replace(tzinfo=CHINA_TZ) if at.tzinfo is None else at.astimezone(CHINA_TZ)


def format_beijing(at: dt.datetime | None, pattern: str = "%Y-%m-%d %H:%M") -> str:
    """How every page shows an instant: Beijing time, to the minute; nothing for no time."""
    return "" if at is None else beijing(at).strftime(pattern)
