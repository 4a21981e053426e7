"""Signed audit chain heads, published outside the database.

The audit chain (``audit_log``) is a hash chain: editing, removing or reordering an entry
breaks it. But it is unkeyed, so someone who can write to the database could rewrite
entries and recompute every hash after them. A *published head* closes that gap: at
intervals yidi writes a statement of (sequence number, entry hash, time), signed with an
Ed25519 key kept outside the database, to a directory outside the database (a write-once
share, another host, a log collector). ``yidi audit verify --against <dir>`` checks each
statement's signature with the public key and that the chain in the database still has
that hash at that sequence number: a rebuilt chain differs at the first published head
after the first rewritten entry.

Files: ``head-<seq>-<yyyymmddThhmmssZ>.json``, one statement each, written atomically
(a temporary file renamed); ``latest.json`` is a copy of the newest.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import logging
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from yidi.kernel.audit import ChainedEntry, as_utc
from yidi.kernel.clock import Clock
from yidi.kernel.errors import InvalidInput
from yidi.platform.uow import SqlUnitOfWork

log = logging.getLogger(__name__)

FORMAT: Final = "yidi-audit-head/1"
LATEST: Final = "latest.json"


# --------------------------------------------------------------------------- keys


def generate_key(path: Path) -> Path:
    """Write a new Ed25519 private key (PEM, mode 600) to ``path`` and its public key beside
    it (``<path>.pub``); the public key's path is returned. An existing file is kept."""
    if path.exists():
        raise InvalidInput(
            "AUDIT_KEY_EXISTS",
            f"密钥文件已存在：{path}（不会覆盖）",
            f"the key file exists: {path} (not overwritten)",
            field="out",
        )
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    public = path.with_name(path.name + ".pub")
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return public


def _key_error(path: Path, what_zh: str, what_en: str) -> InvalidInput:
    return InvalidInput(
        "AUDIT_KEY_UNREADABLE",
        f"审计链头签名密钥无法读取（{path}：{what_zh}）",
        f"the audit head key cannot be read ({path}: {what_en})",
        field="key",
    )


def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise _key_error(path, "不是 Ed25519 私钥", "not an Ed25519 private key") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise _key_error(path, "不是 Ed25519 私钥", "not an Ed25519 private key")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    """A public key file, or the public half of a private key file."""
    data = path.read_bytes() if path.exists() else b""
    try:
        key: Any = serialization.load_pem_public_key(data)
    except ValueError:
        return load_private_key(path).public_key()
    if not isinstance(key, Ed25519PublicKey):
        raise _key_error(path, "不是 Ed25519 公钥", "not an Ed25519 public key")
    return key


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


# --------------------------------------------------------------------------- statements


@dataclass(frozen=True)
class HeadStatement:
    seq: int
    head_hash: str
    published_at: dt.datetime
    key_id: str
    signature: str = ""

    def signed_bytes(self) -> bytes:
        body = {
            "format": FORMAT,
            "seq": self.seq,
            "head_hash": self.head_hash,
            "published_at": as_utc(self.published_at).isoformat(timespec="seconds"),
            "key_id": self.key_id,
        }
        return json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")

    def as_json(self) -> str:
        body = json.loads(self.signed_bytes())
        body["signature"] = self.signature
        return json.dumps(body, ensure_ascii=False, indent=2, sort_keys=True) + "\n"

    @classmethod
    def parse(cls, text: str) -> HeadStatement:
        data = json.loads(text)
        if data.get("format") != FORMAT:
            raise ValueError("not a yidi audit head statement")
        return cls(
            seq=int(data["seq"]),
            head_hash=str(data["head_hash"]),
            published_at=dt.datetime.fromisoformat(data["published_at"]),
            key_id=str(data["key_id"]),
            signature=str(data["signature"]),
        )


def sign(key: Ed25519PrivateKey, seq: int, head_hash: str, at: dt.datetime) -> HeadStatement:
    unsigned = HeadStatement(seq, head_hash, at.replace(microsecond=0), key_id(key.public_key()))
    signature = base64.b64encode(key.sign(unsigned.signed_bytes())).decode("ascii")
    return HeadStatement(
        unsigned.seq, unsigned.head_hash, unsigned.published_at, unsigned.key_id, signature
    )


def signature_valid(statement: HeadStatement, public: Ed25519PublicKey) -> bool:
    try:
        public.verify(base64.b64decode(statement.signature), statement.signed_bytes())
    except (InvalidSignature, ValueError):
        return False
    return True


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def publish_head(
    uow_factory: Callable[[], SqlUnitOfWork], clock: Clock, key: Ed25519PrivateKey, directory: Path
) -> tuple[HeadStatement, Path] | None:
    """Sign the chain's current head and write it to ``directory``; None while the chain is
    empty. A head already published (same sequence number) is not written again."""
    with uow_factory() as uow:
        head = uow.audit.head()
    if head is None or head[0] == 0:
        return None
    directory.mkdir(parents=True, exist_ok=True)
    latest = directory / LATEST
    if latest.exists():
        try:
            previous = HeadStatement.parse(latest.read_text(encoding="utf-8"))
        except (ValueError, KeyError):
            previous = None
        if previous is not None and previous.seq == head[0] and previous.head_hash == head[1]:
            return previous, latest
    statement = sign(key, head[0], head[1], as_utc(clock.now()))
    name = f"head-{statement.seq:012d}-{statement.published_at:%Y%m%dT%H%M%SZ}.json"
    path = directory / name
    _write_atomically(path, statement.as_json())
    _write_atomically(latest, statement.as_json())
    return statement, path


# --------------------------------------------------------------------------- verifying


@dataclass(frozen=True)
class HeadProblem:
    source: str
    seq: int
    problem_zh: str
    problem_en: str


def read_statements(source: Path) -> list[tuple[str, HeadStatement | None]]:
    """(file name, statement or None when unreadable) of a file or of a directory's files."""
    files = (
        sorted(p for p in source.iterdir() if p.suffix == ".json" and p.name != LATEST)
        if source.is_dir()
        else [source]
    )
    found: list[tuple[str, HeadStatement | None]] = []
    for path in files:
        try:
            found.append((path.name, HeadStatement.parse(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError, KeyError):
            found.append((path.name, None))
    return found


def check_against(
    entries: Iterable[ChainedEntry],
    statements: list[tuple[str, HeadStatement | None]],
    public: Ed25519PublicKey,
) -> list[HeadProblem]:
    """What the published heads say is wrong with the chain in the database (empty: none)."""
    problems: list[HeadProblem] = []
    wanted: dict[int, list[tuple[str, HeadStatement]]] = {}
    for name, statement in statements:
        if statement is None:
            problems.append(
                HeadProblem(name, 0, "不是可读的链头声明", "not a readable head statement")
            )
        elif statement.key_id != key_id(public) or not signature_valid(statement, public):
            problems.append(
                HeadProblem(name, statement.seq, "签名无效（不是用该密钥签发的）", "bad signature")
            )
        else:
            wanted.setdefault(statement.seq, []).append((name, statement))
    hashes: dict[int, str] = {}
    for chained in entries:
        if chained.seq in wanted:
            hashes[chained.seq] = chained.entry_hash
    for seq, published in sorted(wanted.items()):
        for name, statement in published:
            stored = hashes.get(seq)
            if stored is None:
                problems.append(
                    HeadProblem(
                        name,
                        seq,
                        f"已发布的第 {seq} 号记录在数据库中不存在（审计链被截短）",
                        f"published entry {seq} is missing from the database (chain cut)",
                    )
                )
            elif stored != statement.head_hash:
                problems.append(
                    HeadProblem(
                        name,
                        seq,
                        f"第 {seq} 号记录的哈希与已发布的不符（审计链被改写并重算）",
                        f"entry {seq} differs from the published head (chain rewritten)",
                    )
                )
    return problems


# --------------------------------------------------------------------------- schedule


class HeadPublisher:
    """Publishes the head every ``minutes`` inside ``yidi serve`` (a daemon thread)."""

    def __init__(
        self,
        uow_factory: Callable[[], SqlUnitOfWork],
        clock: Clock,
        key_path: Path,
        directory: Path,
        minutes: float,
    ) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._key_path = key_path
        self._directory = directory
        self._interval = minutes * 60
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="yidi-audit-head", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                publish_head(
                    self._uow, self._clock, load_private_key(self._key_path), self._directory
                )
            except Exception as exc:  # a full disk must not stop the server; say so in the log
                log.error("audit head publishing failed: %s", type(exc).__name__)
            self._stop.wait(self._interval)
