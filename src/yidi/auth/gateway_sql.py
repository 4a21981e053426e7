"""The gateway's shared state: used nonces (replay protection across processes and restarts)
and the per-minute counters of refused requests (kept outside the audit chain)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from yidi.auth.ports import RefusalCount
from yidi.kernel.audit import as_utc
from yidi.platform.rows import rowcount
from yidi.platform.tables import gateway_nonces, gateway_refusals


class GatewayRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    # nonces ---------------------------------------------------------------------------
    def use_nonce(
        self, access_key: str, nonce: str, *, now: dt.datetime, until: dt.datetime
    ) -> bool:
        """Record the nonce as used until ``until``; False when it is already in use.

        The primary key decides between two processes that present it at once: the second
        insert waits for the first to commit and then fails. A row whose time has passed
        (not yet pruned) is taken over.
        """
        try:
            with self._session.begin_nested():
                self._session.execute(
                    insert(gateway_nonces).values(
                        access_key=access_key, nonce=nonce, expires_at=as_utc(until)
                    )
                )
            return True
        except IntegrityError:
            taken_over = self._session.execute(
                update(gateway_nonces)
                .where(
                    gateway_nonces.c.access_key == access_key,
                    gateway_nonces.c.nonce == nonce,
                    gateway_nonces.c.expires_at <= as_utc(now),
                )
                .values(expires_at=as_utc(until))
            )
            return rowcount(taken_over) == 1

    def prune_nonces(self, now: dt.datetime) -> int:
        """Forget the nonces whose timestamp has left the window."""
        return rowcount(
            self._session.execute(
                delete(gateway_nonces).where(gateway_nonces.c.expires_at <= as_utc(now))
            )
        )

    def nonce_count(self) -> int:
        return int(
            self._session.execute(select(func.count()).select_from(gateway_nonces)).scalar_one()
        )

    # refusals -------------------------------------------------------------------------
    def count_refusal(
        self,
        *,
        at: dt.datetime,
        address: str,
        access_key: str,
        code: str,
        reason: str,
    ) -> None:
        """Add one refusal to the counter of its minute, source, key and reason code."""
        at = as_utc(at)
        minute = at.replace(second=0, microsecond=0)
        where = and_(
            gateway_refusals.c.minute == minute,
            gateway_refusals.c.address == address,
            gateway_refusals.c.access_key == access_key,
            gateway_refusals.c.code == code,
        )
        bump = (
            update(gateway_refusals)
            .where(where)
            .values(count=gateway_refusals.c.count + 1, last_at=at, last_reason=reason)
        )
        if rowcount(self._session.execute(bump)):
            return
        try:
            with self._session.begin_nested():
                self._session.execute(
                    insert(gateway_refusals).values(
                        minute=minute,
                        address=address,
                        access_key=access_key,
                        code=code,
                        count=1,
                        last_at=at,
                        last_reason=reason,
                    )
                )
        except IntegrityError:  # a concurrent first refusal of this minute: count on it
            self._session.execute(bump)

    def refusals(self, since: dt.datetime, *, limit: int = 1000) -> list[RefusalCount]:
        """The counters from ``since`` on, newest first."""
        rows = self._session.execute(
            select(gateway_refusals)
            .where(gateway_refusals.c.minute >= as_utc(since))
            .order_by(gateway_refusals.c.minute.desc(), gateway_refusals.c.count.desc())
            .limit(limit)
        )
        return [
            RefusalCount(
                minute=as_utc(r.minute),
                address=r.address,
                access_key=r.access_key,
                code=r.code,
                count=int(r._mapping["count"]),
                last_at=as_utc(r.last_at),
                last_reason=r.last_reason,
            )
            for r in rows
        ]
