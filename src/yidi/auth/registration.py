"""Insured persons' own accounts (参保人员自助注册与找回密码).

A person proves who they are with what the insured register (参保登记, the ``persons``
table) holds about them: name, ID number and mobile number must all match. A one-time code
then goes to that mobile through a pluggable :class:`CodeSender`; with the code the person
chooses a user name and password (registration) or a new password (reset).

Nothing here tells a visitor whether someone is in the register: a request whose details
match nobody gets the same answer, a challenge that looks the same and a code that never
arrives (and never verifies). Wrong codes count against the challenge; after
``max_attempts`` it is dead. Codes are short-lived and single use, and how many may be
requested per ID number and per client address is limited. Every step is audited (with the
ID number masked); the sender never sees more than it must, and the console sender logs the
mobile masked.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from yidi.auth.commands import check_new_password, hash_password
from yidi.auth.ports import CodeRow, RegistrationUnitOfWork
from yidi.auth.users import check_username
from yidi.kernel.access import Principal, Role
from yidi.kernel.audit import audit_entry_by, current_client_address
from yidi.kernel.clock import Clock
from yidi.kernel.errors import Conflict, ErrorKind, InvalidInput, YidiError
from yidi.kernel.identity import ResidentId
from yidi.kernel.privacy import mask_id_number, mask_phone

log = logging.getLogger("yidi.auth.codes")

MOBILE = re.compile(r"^1\d{10}$")


class CodePurpose(enum.StrEnum):
    REGISTER = "register"
    RESET = "reset"


@dataclass(frozen=True)
class CodePolicy:
    minutes: int = 10  # how long a code is valid
    max_attempts: int = 5  # wrong codes a challenge survives
    sends_per_hour: int = 5  # codes one ID number may be sent per hour
    address_sends_per_hour: int = 30  # codes one client address may ask for per hour
    resend_seconds: int = 60  # the wait between two codes for the same ID number
    length: int = 6


class CodeSender(Protocol):
    """Delivers a one-time code to a mobile number (an SMS gateway in production)."""

    def send(
        self, mobile: str, code: str, *, purpose: CodePurpose, expires_at: dt.datetime
    ) -> None: ...


class ConsoleCodeSender:
    """The demo's sender: writes the code to the server log, the mobile masked."""

    def send(
        self, mobile: str, code: str, *, purpose: CodePurpose, expires_at: dt.datetime
    ) -> None:
        log.warning(
            "一次性验证码 one-time code %s for %s (%s), valid until %s",
            code,
            mask_phone(mobile),
            purpose.value,
            expires_at.isoformat(timespec="seconds"),
        )


@dataclass(frozen=True)
class Challenge:
    """What the visitor carries to the next step: an opaque token (never stored in clear)."""

    token: str
    expires_at: dt.datetime


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _code_hash(token: str, code: str) -> str:
    return _hash(f"{token}:{code}")


def _code_invalid() -> InvalidInput:
    return InvalidInput(
        "CODE_INVALID",
        "验证码错误、已使用或已过期，请核对或重新获取",
        "the code is wrong, used or expired; check it or ask for a new one",
        field="code",
    )


def _code_dead() -> YidiError:
    return YidiError(
        "CODE_ATTEMPTS_EXCEEDED",
        "验证码错误次数过多，此验证码已失效，请重新获取",
        "too many wrong codes: this code no longer works; ask for a new one",
        kind=ErrorKind.TOO_MANY,
        field="code",
    )


def _too_many(wait_minutes: int) -> YidiError:
    return YidiError(
        "CODE_RATE_LIMITED",
        f"获取验证码过于频繁，请 {wait_minutes} 分钟后再试",
        f"too many codes requested; try again in {wait_minutes} minutes",
        kind=ErrorKind.TOO_MANY,
    )


class CitizenAccounts:
    """Self-registration and password reset of insured persons by one-time code."""

    def __init__(
        self,
        uow: Callable[[], RegistrationUnitOfWork],
        clock: Clock,
        sender: CodeSender,
        *,
        policy: CodePolicy = CodePolicy(),
        password_min_length: int = 12,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._sender = sender
        self._policy = policy
        self._min_length = password_min_length

    @property
    def policy(self) -> CodePolicy:
        return self._policy

    # --- step 1: the details and a code ------------------------------------------------

    def request_code(
        self, purpose: CodePurpose, name: str, id_number: str, mobile: str
    ) -> Challenge:
        """A challenge for the next step, the same whether or not the details match.

        Only the form of the input is checked openly (an ID number that is not one, a
        mobile of the wrong length); whether a person matches is never said.
        """
        name = name.strip()[:50]
        mobile = "".join(mobile.split()).replace("-", "")
        if not name:
            raise InvalidInput("NAME_REQUIRED", "请填写姓名", "enter your name", field="name")
        try:
            claimed = ResidentId.parse(id_number.strip()).number
        except YidiError:
            raise InvalidInput(
                "ID_NUMBER_INVALID",
                "请填写有效的 18 位公民身份号码",
                "enter a valid 18-digit resident ID number",
                field="id_number",
            ) from None
        if not MOBILE.match(mobile):
            raise InvalidInput(
                "MOBILE_INVALID",
                "请填写 11 位手机号码",
                "enter an 11-digit mobile number",
                field="mobile",
            )
        policy = self._policy
        now = self._clock.now()
        address = current_client_address()[:64]
        hour_ago = now - dt.timedelta(hours=1)
        token = secrets.token_urlsafe(32)
        code = "".join(secrets.choice("0123456789") for _ in range(policy.length))
        expires = now + dt.timedelta(minutes=policy.minutes)
        with self._uow() as uow:
            uow.codes.purge(now - dt.timedelta(days=1))
            last = uow.codes.last_sent_at(claimed, purpose.value)
            if last is not None and now - last < dt.timedelta(seconds=policy.resend_seconds):
                raise _too_many(1)
            if uow.codes.sent_since(since=hour_ago, id_number=claimed) >= policy.sends_per_hour:
                raise _too_many(60)
            if address and (
                uow.codes.sent_since(since=hour_ago, address=address)
                >= policy.address_sends_per_hour
            ):
                raise _too_many(60)
            person = uow.codes.person(claimed)
            matched = (
                person is not None
                and person.name == name
                and bool(person.mobile)
                and hmac.compare_digest(person.mobile, mobile)
            )
            uow.codes.void_open(claimed, purpose.value, now)
            uow.codes.add(
                challenge_hash=_hash(token),
                # An unmatched challenge gets a hash no code can produce.
                code_hash=_code_hash(token, code) if matched else secrets.token_hex(32),
                purpose=purpose.value,
                id_number=claimed,
                matched=matched,
                address=address,
                now=now,
                expires_at=expires,
            )
            uow.audit.append(
                audit_entry_by(
                    Principal.anonymous(),
                    now,
                    action="auth.code_sent" if matched else "auth.code_unmatched",
                    subject=f"person:{mask_id_number(claimed)}",
                    reason=purpose.value,
                )
            )
            uow.commit()
        if matched:
            assert person is not None
            self._sender.send(person.mobile, code, purpose=purpose, expires_at=expires)
        return Challenge(token, expires)

    # --- step 2: the code and the password -----------------------------------------------

    def register(self, token: str, code: str, username: str, password: str) -> str:
        """Create the person's account; returns its user name."""
        username = username.strip()
        now = self._clock.now()
        with self._uow() as uow:
            row = self._checked(uow, token, code, CodePurpose.REGISTER, now)
            existing = uow.codes.account_of_person(row.id_number)
            if existing is not None:
                raise Conflict(
                    "ACCOUNT_EXISTS",
                    f"您已有账户（用户名 {existing}），请用“忘记密码”设置新密码",
                    f"you already have an account (user name {existing}); use "
                    "“forgot password” to set a new password",
                    field="code",
                )
            check_username(username)
            if uow.users.by_username(username) is not None:
                raise Conflict(
                    "USERNAME_TAKEN",
                    "该用户名已被使用，请换一个",
                    "the user name is taken; choose another",
                    field="username",
                )
            check_new_password(password, username=username, min_length=self._min_length)
            person = uow.codes.person(row.id_number)
            if person is None or not uow.codes.use(row.id, now):
                raise _code_invalid()
            principal = Principal(
                username, Role.INSURED_PERSON, id_number=person.id_number, display_name=person.name
            )
            uow.users.add(username, hash_password(password), principal)
            uow.audit.append(
                audit_entry_by(
                    principal,
                    now,
                    action="auth.register",
                    subject=f"user:{username}",
                    reason=f"参保人员自助注册 {mask_id_number(person.id_number)}",
                )
            )
            uow.commit()
        return username

    def reset_password(self, token: str, code: str, password: str) -> str:
        """Set a new password for the person's account; returns its user name."""
        now = self._clock.now()
        with self._uow() as uow:
            row = self._checked(uow, token, code, CodePurpose.RESET, now)
            username = uow.codes.account_of_person(row.id_number)
            if username is None:
                raise Conflict(
                    "ACCOUNT_MISSING",
                    "您还没有账户，请先注册",
                    "you have no account yet; register first",
                    field="code",
                )
            account = uow.users.by_username(username, for_update=True)
            if account is None or not account.active:
                raise Conflict(
                    "ACCOUNT_DISABLED",
                    "您的账户已停用，请联系参保地医保经办机构",
                    "your account is disabled; contact your insurance agency",
                    field="code",
                )
            check_new_password(password, username=username, min_length=self._min_length)
            if not uow.codes.use(row.id, now):
                raise _code_invalid()
            uow.users.set_password(username, hash_password(password), must_change=False, at=now)
            uow.users.void_resets_of(username, now)
            ended = uow.users.revoke_sessions_of(username, now, "password_reset")
            uow.users.clear_failures_of(username)
            uow.audit.append(
                audit_entry_by(
                    account.principal,
                    now,
                    action="auth.password_reset_by_code",
                    subject=f"user:{username}",
                    reason=f"结束会话 {ended} 个",
                )
            )
            uow.commit()
        return username

    def challenge_live(self, token: str) -> bool:
        """Whether a challenge token can still be answered (for re-showing step 2)."""
        if not token or len(token) > 100:
            return False
        with self._uow() as uow:
            row = uow.codes.by_challenge(_hash(token))
        return row is not None and self._open(row, self._clock.now())

    def _open(self, row: CodeRow, now: dt.datetime) -> bool:
        return (
            row.used_at is None
            and row.expires_at > now
            and row.failures < self._policy.max_attempts
        )

    def _checked(
        self,
        uow: RegistrationUnitOfWork,
        token: str,
        code: str,
        purpose: CodePurpose,
        now: dt.datetime,
    ) -> CodeRow:
        """The challenge row, locked, when ``code`` is its right code; otherwise the
        failure is counted (and committed) and refused."""
        code = code.strip()
        if not token or len(token) > 100:
            raise _code_invalid()
        row = uow.codes.by_challenge(_hash(token), for_update=True)
        if row is None or row.purpose != purpose.value:
            raise _code_invalid()
        if row.failures >= self._policy.max_attempts:
            raise _code_dead()
        if row.used_at is not None or row.expires_at <= now:
            raise _code_invalid()
        if len(code) > 12 or not hmac.compare_digest(row.code_hash, _code_hash(token, code)):
            failures = uow.codes.count_failure(row.id)
            uow.audit.append(
                audit_entry_by(
                    Principal.anonymous(),
                    now,
                    action="auth.code_failed",
                    subject=f"person:{mask_id_number(row.id_number)}",
                    reason=f"{purpose.value} 第 {failures} 次",
                )
            )
            uow.commit()
            if failures >= self._policy.max_attempts:
                raise _code_dead()
            raise _code_invalid()
        return row


__all__ = [
    "Challenge",
    "CitizenAccounts",
    "CodePolicy",
    "CodePurpose",
    "CodeSender",
    "ConsoleCodeSender",
]
