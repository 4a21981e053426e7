"""The tamper-evident audit chain (审计日志): pure hashing rules.

Each entry's hash covers its own fields and the previous entry's hash, so
editing, removing or reordering any entry breaks every hash after it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from yidi.kernel.access import Caller, Principal

GENESIS_HASH = "0" * 64


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: dt.datetime
    actor: str
    role: str
    region_code: str | None
    action: str  # e.g. "filing.read", "filing.approve", "settlement.settle"
    subject: str  # e.g. "filing:BA430400-2026-000001" (never a raw ID number)
    reason: str = ""
    address: str = ""


#: The client address of the request being served (审计日志 “来自何处”). Set once per request
#: by the API's outermost middleware; empty outside a request (CLI, tests).
_client_address: ContextVar[str] = ContextVar("yidi_client_address", default="")


def current_client_address() -> str:
    return _client_address.get()


def set_client_address(address: str) -> Token[str]:
    return _client_address.set(address)


def reset_client_address(token: Token[str]) -> None:
    _client_address.reset(token)


def audit_entry(
    at: dt.datetime,
    *,
    actor: str,
    role: str,
    region_code: str | None,
    action: str,
    subject: str,
    reason: str = "",
) -> AuditEntry:
    """The one way to make an entry: fields cut to their column widths, the request's address."""
    return AuditEntry(
        at=at,
        actor=actor[:64],
        role=role[:32],
        region_code=region_code,
        action=action,
        subject=subject[:128],
        reason=reason[:500],
        address=current_client_address()[:64],
    )


def audit_entry_by(
    principal: Principal, at: dt.datetime, *, action: str, subject: str, reason: str = ""
) -> AuditEntry:
    """:func:`audit_entry` for a signed-in principal: actor, role and region are its own."""
    return audit_entry(
        at,
        actor=principal.user_id,
        role=principal.role.value,
        region_code=principal.region_code,
        action=action,
        subject=subject,
        reason=reason,
    )


def caller_entry(
    at: dt.datetime, caller: Caller, action: str, subject: str, reason: str = ""
) -> AuditEntry:
    """:func:`audit_entry` for a hospital caller: actor and role are its own, no region."""
    return audit_entry(
        at,
        actor=caller.actor,
        role=caller.role,
        region_code=None,
        action=action,
        subject=subject,
        reason=reason,
    )


@dataclass(frozen=True, slots=True)
class ChainedEntry:
    seq: int
    entry: AuditEntry
    prev_hash: str
    entry_hash: str


def entry_hash(seq: int, entry: AuditEntry, prev_hash: str) -> str:
    canonical = json.dumps(
        [
            seq,
            as_utc(entry.at).isoformat(timespec="microseconds"),
            entry.actor,
            entry.role,
            entry.region_code,
            entry.action,
            entry.subject,
            entry.reason,
            entry.address,
            prev_hash,
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def as_utc(at: dt.datetime) -> dt.datetime:
    """Stored timestamps are UTC; a naive one read back from SQLite is UTC too."""
    return at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at.astimezone(dt.UTC)


@dataclass(frozen=True, slots=True)
class ChainBreak:
    seq: int
    problem: str  # Chinese description of what is wrong with this entry


def verify_chain(
    entries: Iterable[ChainedEntry], head: tuple[int, str] | None = None
) -> ChainBreak | None:
    """Walk the chain in seq order; name the first entry that was edited, removed or reordered.

    ``head`` is the (last seq, last hash) the writer recorded beside the chain: with it,
    entries cut off the end are found too (a walk alone cannot see a missing tail).
    """
    expected_prev = GENESIS_HASH
    expected_seq = 1
    for chained in entries:
        if chained.seq != expected_seq:
            return ChainBreak(
                chained.seq,
                f"序号不连续：应为 {expected_seq}，实为 {chained.seq}（有记录被删除或重排）",
            )
        if chained.prev_hash != expected_prev:
            return ChainBreak(chained.seq, "前一条哈希不符（之前的记录被删除、重排或篡改）")
        recomputed = entry_hash(chained.seq, chained.entry, chained.prev_hash)
        if recomputed != chained.entry_hash:
            return ChainBreak(chained.seq, "本条内容与哈希不符（记录被篡改）")
        expected_prev = chained.entry_hash
        expected_seq += 1
    if head is not None and head[0] > 0 and (head[0], head[1]) != (expected_seq - 1, expected_prev):
        if head[0] >= expected_seq:
            return ChainBreak(
                expected_seq,
                f"链尾缺失：记录应到 {head[0]} 号，实到 {expected_seq - 1} 号（末尾记录被删除）",
            )
        return ChainBreak(head[0] + 1, "链头之后还有记录（记录被伪造追加）")
    return None
