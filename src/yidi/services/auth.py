"""Sign-in: Argon2id password hashes, lockout after repeated failures, signed session tokens."""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import functools
import threading

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from yidi.clock import Clock
from yidi.domain.access import Principal
from yidi.domain.audit import AuditEntry
from yidi.domain.errors import ErrorKind, Unauthenticated, YidiError
from yidi.storage.uow import SqlUnitOfWork

_hasher = PasswordHasher()  # Argon2id with the library's current recommended parameters
TOKEN_SALT = "yidi-session"  # noqa: S105 - a namespace for signatures, not a secret
TOKEN_MAX_AGE_SECONDS = 8 * 3600


@functools.cache
def _dummy_hash() -> str:
    # Verifying against this when the user does not exist keeps timing the same for both failures.
    return _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


class LoginThrottle:
    """Failed sign-ins per client address (登录频率限制), on top of the per-account lockout.

    The lockout stops guessing one account's password; this stops one address from trying
    many accounts. Counted in memory per server process: a restart forgets, which only
    ever helps the legitimate user, and several workers each allow the limit.
    """

    def __init__(self, max_failures: int = 20, window_seconds: int = 600) -> None:
        self.max_failures = max_failures
        self.window = dt.timedelta(seconds=window_seconds)
        self._failures: dict[str, collections.deque[dt.datetime]] = {}
        self._lock = threading.Lock()

    def _recent(self, address: str, now: dt.datetime) -> collections.deque[dt.datetime]:
        failures = self._failures.setdefault(address, collections.deque())
        while failures and now - failures[0] >= self.window:
            failures.popleft()
        return failures

    def check(self, address: str, now: dt.datetime) -> None:
        with self._lock:
            failures = self._recent(address, now)
            if len(failures) < self.max_failures:
                if not failures:
                    self._failures.pop(address, None)
                return
            retry_at = failures[0] + self.window
        minutes = max(1, int((retry_at - now).total_seconds() // 60) + 1)
        raise YidiError(
            "LOGIN_RATE_LIMITED",
            f"该地址登录失败次数过多，请 {minutes} 分钟后再试",
            "too many failed sign-ins from this address",
            kind=ErrorKind.TOO_MANY,
        )

    def record_failure(self, address: str, now: dt.datetime) -> None:
        with self._lock:
            self._recent(address, now).append(now)


def _login_failed() -> Unauthenticated:
    return Unauthenticated("LOGIN_FAILED", "用户名或密码错误", "wrong username or password")


def authenticate(
    uow: SqlUnitOfWork,
    clock: Clock,
    username: str,
    password: str,
    *,
    max_failures: int,
    lockout_minutes: int,
    address: str = "",
    throttle: LoginThrottle | None = None,
) -> Principal:
    now = clock.now()
    if throttle is not None:
        throttle.check(address, now)
    try:
        return _authenticate(
            uow,
            now,
            username,
            password,
            max_failures=max_failures,
            lockout_minutes=lockout_minutes,
            address=address,
        )
    except Unauthenticated:
        if throttle is not None:
            throttle.record_failure(address, now)
        raise


def _authenticate(
    uow: SqlUnitOfWork,
    now: dt.datetime,
    username: str,
    password: str,
    *,
    max_failures: int,
    lockout_minutes: int,
    address: str,
) -> Principal:
    with uow:
        account = uow.users.by_username(username, for_update=True)
        if account is None or not account.active:
            with contextlib.suppress(VerificationError):
                _hasher.verify(_dummy_hash(), password)
            raise _login_failed()
        if account.locked_until and account.locked_until > now:
            raise YidiError(
                "LOGIN_LOCKED",
                f"登录失败次数过多，账户已锁定至 {account.locked_until.astimezone(now.tzinfo):%H:%M}",
                "account locked after repeated failures",
                kind=ErrorKind.TOO_MANY,
            )
        try:
            _hasher.verify(account.password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            failures = account.failed_attempts + 1
            locked = (
                now + dt.timedelta(minutes=lockout_minutes) if failures >= max_failures else None
            )
            uow.users.record_failure(username, 0 if locked else failures, locked)
            uow.audit.append(
                AuditEntry(
                    now,
                    username,
                    account.principal.role.value,
                    account.principal.region_code,
                    "auth.login_failed",
                    f"user:{username}",
                    "锁定" if locked else "",
                    address,
                )
            )
            uow.commit()
            raise _login_failed() from None
        rehash = (
            hash_password(password) if _hasher.check_needs_rehash(account.password_hash) else None
        )
        uow.users.record_success(username, rehash)
        uow.audit.append(
            AuditEntry(
                now,
                username,
                account.principal.role.value,
                account.principal.region_code,
                "auth.login",
                f"user:{username}",
                "",
                address,
            )
        )
        uow.commit()
        return account.principal


def issue_token(secret_key: str, principal: Principal) -> str:
    return URLSafeTimedSerializer(secret_key, salt=TOKEN_SALT).dumps({"u": principal.user_id})


def principal_from_token(uow: SqlUnitOfWork, secret_key: str, token: str) -> Principal:
    try:
        data = URLSafeTimedSerializer(secret_key, salt=TOKEN_SALT).loads(
            token, max_age=TOKEN_MAX_AGE_SECONDS
        )
    except SignatureExpired:
        raise Unauthenticated(
            "SESSION_EXPIRED", "登录已过期，请重新登录", "session expired"
        ) from None
    except BadSignature:
        raise Unauthenticated(
            "SESSION_INVALID", "登录凭证无效，请重新登录", "invalid session"
        ) from None
    username = str(data.get("u", "")) if isinstance(data, dict) else ""
    with uow:
        account = uow.users.by_username(username)
    if account is None or not account.active:
        raise Unauthenticated("SESSION_INVALID", "登录凭证无效，请重新登录", "invalid session")
    return account.principal


def create_user(uow: SqlUnitOfWork, username: str, password: str, principal: Principal) -> None:
    with uow:
        if uow.users.by_username(username) is None:
            uow.users.add(username, hash_password(password), principal)
            uow.commit()
