"""Sign-in: Argon2id password hashes, failure counters that hold back the guesser rather than
the account's owner, and server-side sessions that end when revoked.

A session token is 256 random bits handed to the client once (cookie or bearer token); the
database keeps only its SHA-256, so a copy of the database holds no usable session. A session
ends at sign-out, after its lifetime, after being idle, and for every session of an account
when its password changes, it is disabled, or its role or scope changes.

Failed sign-ins are counted in the database (every worker process sees the same counts):

- per account and client address: after ``max_failures`` wrong passwords, each further try
  from that address for that account waits 1, 2, 4 … minutes (at most ``max_delay_minutes``).
  The owner signing in from elsewhere is not affected, and an administrator can clear it.
- per client address, over all accounts: after ``address_max_failures`` failures in the
  window the address waits for the window to end, except for an account that has signed in
  successfully from that address within the last 30 days (the colleagues behind one NAT).

Only failures count; a correct password never uses up anyone's tries.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import secrets
from dataclasses import dataclass, replace

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from yidi.auth.passwords import check_password
from yidi.auth.ports import Account, AuthUnitOfWork
from yidi.kernel.access import Principal
from yidi.kernel.audit import audit_entry_by, current_client_address
from yidi.kernel.clock import Clock
from yidi.kernel.errors import ErrorKind, InvalidInput, Unauthenticated, YidiError

_hasher = PasswordHasher()  # Argon2id with the library's current recommended parameters
KNOWN_ADDRESS_DAYS = 30
TOUCH_EVERY = dt.timedelta(seconds=60)  # how often a session's last use is written


@functools.cache
def _dummy_hash() -> str:
    # Verifying against this when the user does not exist keeps timing the same for both failures.
    return _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@functools.cache
def demo_passwords() -> frozenset[str]:
    """The passwords printed in ``demo/world.yaml``: public, so never valid outside demo mode."""
    from yidi.demo.world import load_world

    return frozenset(account.password for account in load_world().accounts)


def check_new_password(
    password: str, *, username: str, min_length: int, field: str = "new_password"
) -> None:
    """The password policy, and never one of the demo accounts' published passwords."""
    check_password(
        password,
        username=username,
        min_length=min_length,
        demo_passwords=demo_passwords(),
        field=field,
    )


@dataclass(frozen=True)
class SignInPolicy:
    max_failures: int = 5
    max_delay_minutes: int = 15
    address_max_failures: int = 20
    address_window_seconds: int = 600
    demo_mode: bool = False


@dataclass(frozen=True)
class SessionPolicy:
    hours: int = 8
    idle_minutes: int = 30


def _login_failed() -> Unauthenticated:
    return Unauthenticated("LOGIN_FAILED", "用户名或密码错误", "wrong username or password")


def _minutes_until(until: dt.datetime, now: dt.datetime) -> int:
    return max(1, int((until - now).total_seconds() + 59) // 60)


def _audit(
    uow: AuthUnitOfWork,
    now: dt.datetime,
    actor: Principal,
    action: str,
    subject: str,
    reason: str = "",
) -> None:
    uow.audit.append(audit_entry_by(actor, now, action=action, subject=subject, reason=reason))


def authenticate(
    uow: AuthUnitOfWork,
    clock: Clock,
    username: str,
    password: str,
    *,
    policy: SignInPolicy,
) -> Principal:
    """The account's principal (``password_change_required`` set when it must change it)."""
    now = clock.now()
    username = username[:64]
    # The request's client address (set by the HTTP middleware) keys the sign-in counters.
    address = current_client_address()[:64]
    failure: YidiError | None = None
    with uow:
        # Plain reads: a row lock here would queue every sign-in behind one NAT address.
        pair = uow.users.counter(username, address)
        if pair is not None and pair.blocked_until is not None and pair.blocked_until > now:
            raise YidiError(
                "LOGIN_DELAYED",
                f"此账户在此地址登录失败次数过多，请 {_minutes_until(pair.blocked_until, now)} 分钟后再试"
                "（其他地址不受影响；管理员可解除）",
                "too many failed sign-ins for this account from this address; wait and retry",
                kind=ErrorKind.TOO_MANY,
            )
        known = (
            pair is not None
            and pair.last_success_at is not None
            and now - pair.last_success_at < dt.timedelta(days=KNOWN_ADDRESS_DAYS)
        )
        per_address = uow.users.counter("", address)
        if (
            not known
            and per_address is not None
            and per_address.blocked_until is not None
            and per_address.blocked_until > now
        ):
            raise YidiError(
                "LOGIN_RATE_LIMITED",
                f"该地址登录失败次数过多，请 {_minutes_until(per_address.blocked_until, now)} 分钟后再试",
                "too many failed sign-ins from this address",
                kind=ErrorKind.TOO_MANY,
            )
        account = uow.users.by_username(username)
        if not policy.demo_mode and password in demo_passwords():
            # Refused whatever the account: the demo passwords are published.
            failure = Unauthenticated(
                "LOGIN_DEMO_PASSWORD",
                "演示密码只能在演示模式下使用，请联系系统管理员重置密码",
                "demo passwords are accepted only in demo mode; ask an administrator for a reset",
            )
        elif account is None or not account.active:
            with contextlib.suppress(VerificationError):
                _hasher.verify(_dummy_hash(), password)
            failure = _login_failed()
        elif not _verify(account.password_hash, password):
            failure = _login_failed()
        if failure is not None:
            _count_failure(uow, now, username, address, policy)
            if account is not None:
                _audit(
                    uow,
                    now,
                    account.principal,
                    "auth.login_failed",
                    f"user:{username}",
                )
            uow.commit()
            raise failure
        assert account is not None
        uow.users.record_success(username, address, now)
        if _hasher.check_needs_rehash(account.password_hash):
            uow.users.rehash(username, hash_password(password))
        _audit(uow, now, account.principal, "auth.login", f"user:{username}")
        uow.commit()
    return _principal(account)


def _principal(account: Account) -> Principal:
    if account.must_change_password:
        return replace(account.principal, password_change_required=True)
    return account.principal


def _count_failure(
    uow: AuthUnitOfWork,
    now: dt.datetime,
    username: str,
    address: str,
    policy: SignInPolicy,
) -> None:
    pair = uow.users.count_failure(username, address, now, window=None)
    if pair.failures >= policy.max_failures:
        delay = min(policy.max_delay_minutes, 2 ** min(pair.failures - policy.max_failures, 10))
        uow.users.block(username, address, now + dt.timedelta(minutes=delay))
    window = dt.timedelta(seconds=policy.address_window_seconds)
    per_address = uow.users.count_failure("", address, now, window=window)
    if per_address.failures >= policy.address_max_failures:
        uow.users.block("", address, per_address.window_started_at + window)


# ---------------------------------------------------------------------------------------
# Sessions


def open_session(
    uow: AuthUnitOfWork,
    clock: Clock,
    principal: Principal,
    *,
    policy: SessionPolicy = SessionPolicy(),
) -> str:
    """A new session for a signed-in principal; the token is returned once, never stored."""
    token = secrets.token_urlsafe(32)
    now = clock.now()
    with uow:
        uow.users.purge_sessions(now - dt.timedelta(days=1))  # ended ones do not pile up
        uow.users.add_session(
            token_hash(token),
            principal.user_id,
            now,
            now + dt.timedelta(hours=policy.hours),
            current_client_address()[:64],
        )
        uow.commit()
    return token


def _session_invalid() -> Unauthenticated:
    return Unauthenticated("SESSION_INVALID", "登录凭证无效，请重新登录", "invalid session")


def principal_from_token(
    uow: AuthUnitOfWork,
    clock: Clock,
    token: str,
    *,
    policy: SessionPolicy = SessionPolicy(),
) -> Principal:
    if not token or len(token) > 100:
        raise _session_invalid()
    hashed = token_hash(token)
    now = clock.now()
    with uow:
        session = uow.users.session(hashed)
        if session is None or session.revoked_at is not None:
            raise _session_invalid()
        idle_end = session.last_seen_at + dt.timedelta(minutes=policy.idle_minutes)
        if session.expires_at <= now or idle_end <= now:
            raise Unauthenticated("SESSION_EXPIRED", "登录已过期，请重新登录", "session expired")
        account = uow.users.by_username(session.username)
        if account is None or not account.active:
            raise _session_invalid()
        if now - session.last_seen_at >= TOUCH_EVERY:
            uow.users.touch_session(hashed, now)
            uow.commit()
    return _principal(account)


def sign_out(uow: AuthUnitOfWork, clock: Clock, token: str) -> None:
    """End this session (idempotent; an unknown token is nothing to end)."""
    if not token or len(token) > 100:
        return
    now = clock.now()
    with uow:
        session = uow.users.session(token_hash(token))
        if session is None:
            return
        if uow.users.revoke_session(session.token_hash, now, "signed_out"):
            account = uow.users.by_username(session.username)
            if account is not None:
                _audit(
                    uow,
                    now,
                    account.principal,
                    "auth.logout",
                    f"user:{account.username}",
                )
        uow.commit()


def change_password(
    uow: AuthUnitOfWork,
    clock: Clock,
    principal: Principal,
    current: str,
    new: str,
    *,
    min_length: int,
) -> None:
    """The caller changes their own password; every session of the account ends."""
    now = clock.now()
    with uow:
        account = uow.users.by_username(principal.user_id, for_update=True)
        if account is None or not account.active:
            raise _session_invalid()
        if not _verify(account.password_hash, current):
            raise InvalidInput(
                "PASSWORD_WRONG",
                "当前密码不正确",
                "the current password is wrong",
                field="current_password",
            )
        if new == current:
            raise InvalidInput(
                "PASSWORD_POLICY",
                "新密码不能与当前密码相同",
                "the new password must differ from the current one",
                field="new_password",
            )
        check_new_password(new, username=account.username, min_length=min_length)
        uow.users.set_password(account.username, hash_password(new), must_change=False, at=now)
        uow.users.void_resets_of(account.username, now)
        revoked = uow.users.revoke_sessions_of(account.username, now, "password_changed")
        _audit(
            uow,
            now,
            account.principal,
            "auth.password_change",
            f"user:{account.username}",
            f"结束会话 {revoked} 个",
        )
        uow.commit()


def _reset_link_invalid() -> InvalidInput:
    return InvalidInput(
        "RESET_LINK_INVALID",
        "重置链接无效、已使用或已过期，请联系系统管理员重新发放",
        "the reset link is invalid, used or expired; ask an administrator for a new one",
        field="token",
    )


def reset_link_account(uow: AuthUnitOfWork, clock: Clock, token: str) -> str:
    """The user name a still-valid reset link is for (to show on its page)."""
    if not token or len(token) > 100:
        raise _reset_link_invalid()
    with uow:
        reset = uow.users.reset(token_hash(token))
    if reset is None or reset.used_at is not None or reset.expires_at <= clock.now():
        raise _reset_link_invalid()
    return reset.username


def complete_reset(
    uow: AuthUnitOfWork,
    clock: Clock,
    token: str,
    new_password: str,
    *,
    min_length: int,
) -> str:
    """Set a new password through a one-time link; returns the account's user name."""
    if not token or len(token) > 100:
        raise _reset_link_invalid()
    now = clock.now()
    with uow:
        reset = uow.users.reset(token_hash(token), for_update=True)
        if reset is None or reset.used_at is not None or reset.expires_at <= now:
            raise _reset_link_invalid()
        account = uow.users.by_username(reset.username, for_update=True)
        if account is None or not account.active:
            raise _reset_link_invalid()
        check_new_password(new_password, username=account.username, min_length=min_length)
        if not uow.users.use_reset(reset.id, now):
            raise _reset_link_invalid()
        uow.users.set_password(
            account.username, hash_password(new_password), must_change=False, at=now
        )
        uow.users.revoke_sessions_of(account.username, now, "password_reset")
        uow.users.clear_failures_of(account.username)
        _audit(
            uow,
            now,
            account.principal,
            "auth.password_reset",
            f"user:{account.username}",
        )
        uow.commit()
    return account.username


def accounts_with_demo_passwords(uow: AuthUnitOfWork) -> list[str]:
    """Accounts of the demo world whose password is still the published demo password."""
    from yidi.demo.world import load_world

    found: list[str] = []
    with uow:
        for demo in load_world().accounts:
            account = uow.users.by_username(demo.username)
            if (
                account is not None
                and account.active
                and _verify(account.password_hash, demo.password)
            ):
                found.append(demo.username)
    return found


def create_user(
    uow: AuthUnitOfWork,
    username: str,
    password: str,
    principal: Principal,
    *,
    must_change_password: bool = False,
) -> None:
    """Add an account if it is missing (set-up and tests; administrators use services.users)."""
    with uow:
        if uow.users.by_username(username) is None:
            uow.users.add(
                username,
                hash_password(password),
                principal,
                must_change_password=must_change_password,
            )
            uow.commit()
