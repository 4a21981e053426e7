"""User administration (用户管理) for the administrator role.

Every act is audited and ends the sessions it makes stale: disabling an account, changing its
role or scope and issuing a reset link end all of its sessions at once. A new account and a
reset account must choose their own password (forced change at first sign-in; the reset link
sets it). An administrator cannot disable or re-role their own account, so the last
administrator cannot lock everyone out by mistake.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from yidi.auth.commands import check_new_password, hash_password, token_hash
from yidi.auth.ports import Account, AuthUnitOfWork
from yidi.kernel.access import Action, Principal, Role
from yidi.kernel.audit import AuditEntry, audit_entry_by
from yidi.kernel.clock import Clock
from yidi.kernel.errors import Conflict, InvalidInput, NotFound, YidiError
from yidi.kernel.identity import ResidentId

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")


def check_username(username: str) -> None:
    """A user name an account may take (the ``USERNAME`` pattern)."""
    if not USERNAME.match(username):
        raise InvalidInput(
            "USERNAME_INVALID",
            "用户名为 3–64 个小写字母、数字、点、下划线或连字符，以字母或数字开头",
            "user name: 3–64 lower-case letters, digits, '.', '_' or '-', starting with a "
            "letter or digit",
            field="username",
        )


UNUSABLE_PASSWORD = "!"  # noqa: S105 - not a hash: no password verifies against it
ASSIGNABLE_ROLES = tuple(r for r in Role if r is not Role.ANONYMOUS)


@dataclass(frozen=True)
class UserSummary:
    username: str
    role: Role
    display_name: str
    region_code: str | None
    hospital_code: str | None
    active: bool
    must_change_password: bool
    blocked_addresses: int  # addresses currently held back for this account
    live_sessions: int


@dataclass(frozen=True)
class Assignment:
    """A role and its scope: region for offices, hospital for cashiers, self for persons."""

    role: str
    display_name: str = ""
    region_code: str | None = None
    hospital_code: str | None = None
    id_number: str | None = None


@dataclass(frozen=True)
class ResetLink:
    username: str
    token: str
    expires_at: dt.datetime


def _user_not_found() -> NotFound:
    return NotFound("USER_NOT_FOUND", "未找到该用户", "user not found")


class UserAdminService:
    def __init__(
        self,
        uow: Callable[[], AuthUnitOfWork],
        clock: Clock,
        *,
        password_min_length: int = 12,
        reset_hours: int = 24,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._min_length = password_min_length
        self._reset_hours = reset_hours

    # --- reading ---------------------------------------------------------------------

    def users(self, admin: Principal) -> list[UserSummary]:
        admin.require(Action.USER_ADMIN)
        now = self._clock.now()
        with self._uow() as uow:
            return [self._summary(uow, account, now) for account in uow.users.all()]

    def user(self, admin: Principal, username: str) -> UserSummary:
        admin.require(Action.USER_ADMIN)
        now = self._clock.now()
        with self._uow() as uow:
            account = uow.users.by_username(username)
            if account is None:
                raise _user_not_found()
            return self._summary(uow, account, now)

    def _summary(self, uow: AuthUnitOfWork, account: Account, now: dt.datetime) -> UserSummary:
        p = account.principal
        blocked = sum(
            1
            for c in uow.users.counters_of(account.username)
            if c.blocked_until is not None and c.blocked_until > now
        )
        return UserSummary(
            username=account.username,
            role=p.role,
            display_name=p.display_name,
            region_code=p.region_code,
            hospital_code=p.hospital_code,
            active=account.active,
            must_change_password=account.must_change_password,
            blocked_addresses=blocked,
            live_sessions=uow.users.live_session_count(account.username, now),
        )

    # --- acts ------------------------------------------------------------------------

    def create(
        self,
        admin: Principal,
        username: str,
        password: str,
        assignment: Assignment,
    ) -> UserSummary:
        admin.require(Action.USER_ADMIN)
        username = username.strip()
        check_username(username)
        check_new_password(
            password, username=username, min_length=self._min_length, field="password"
        )
        now = self._clock.now()
        with self._uow() as uow:
            principal = self._principal(uow, username, assignment)
            if uow.users.by_username(username) is not None:
                raise Conflict(
                    "USERNAME_TAKEN", "用户名已存在", "the user name is taken", field="username"
                )
            uow.users.add(username, hash_password(password), principal, must_change_password=True)
            return self._done(uow, admin, now, "user.create", username, _scope_text(principal))

    def set_active(self, admin: Principal, username: str, active: bool) -> UserSummary:
        admin.require(Action.USER_ADMIN)
        self._not_self(admin, username)
        now = self._clock.now()
        with self._uow() as uow:
            self._account(uow, username)
            uow.users.set_active(username, active)
            ended = 0 if active else uow.users.revoke_sessions_of(username, now, "disabled")
            return self._done(
                uow,
                admin,
                now,
                "user.enable" if active else "user.disable",
                username,
                "" if active else f"结束会话 {ended} 个",
            )

    def assign(self, admin: Principal, username: str, assignment: Assignment) -> UserSummary:
        admin.require(Action.USER_ADMIN)
        self._not_self(admin, username)
        now = self._clock.now()
        with self._uow() as uow:
            account = self._account(uow, username)
            principal = self._principal(uow, username, assignment, current=account.principal)
            uow.users.set_role(username, principal)
            ended = uow.users.revoke_sessions_of(username, now, "role_changed")
            return self._done(
                uow,
                admin,
                now,
                "user.assign",
                username,
                f"{_scope_text(account.principal)} → {_scope_text(principal)}；结束会话 {ended} 个",
            )

    def issue_reset(self, admin: Principal, username: str) -> ResetLink:
        """A one-time link; the old password and every session stop working at once."""
        admin.require(Action.USER_ADMIN)
        now = self._clock.now()
        token = secrets.token_urlsafe(32)
        expires = now + dt.timedelta(hours=self._reset_hours)
        with self._uow() as uow:
            account = self._account(uow, username)
            if not account.active:
                raise Conflict(
                    "USER_DISABLED",
                    "账户已停用，请先启用再重置密码",
                    "the account is disabled; enable it before a reset",
                )
            uow.users.void_resets_of(username, now)
            uow.users.add_reset(token_hash(token), username, admin.user_id, now, expires)
            uow.users.set_password(username, UNUSABLE_PASSWORD, must_change=True, at=None)
            ended = uow.users.revoke_sessions_of(username, now, "password_reset")
            uow.audit.append(
                _entry(
                    admin,
                    now,
                    "user.reset",
                    username,
                    f"链接有效至 {expires:%Y-%m-%d %H:%M}；结束会话 {ended} 个",
                )
            )
            uow.commit()
        return ResetLink(username, token, expires)

    def unlock(self, admin: Principal, username: str) -> UserSummary:
        admin.require(Action.USER_ADMIN)
        now = self._clock.now()
        with self._uow() as uow:
            self._account(uow, username)
            cleared = uow.users.clear_failures_of(username)
            return self._done(uow, admin, now, "user.unlock", username, f"清除 {cleared} 个地址")

    # --- helpers ---------------------------------------------------------------------

    def _done(
        self,
        uow: AuthUnitOfWork,
        admin: Principal,
        now: dt.datetime,
        action: str,
        username: str,
        reason: str,
    ) -> UserSummary:
        """Audit the act, commit, and answer the account as it now stands."""
        uow.audit.append(_entry(admin, now, action, username, reason))
        summary = self._summary(uow, self._account(uow, username), now)
        uow.commit()
        return summary

    @staticmethod
    def _account(uow: AuthUnitOfWork, username: str) -> Account:
        account = uow.users.by_username(username, for_update=True)
        if account is None:
            raise _user_not_found()
        return account

    @staticmethod
    def _not_self(admin: Principal, username: str) -> None:
        if admin.user_id == username:
            raise Conflict(
                "USER_SELF",
                "不能停用自己的账户或更改自己的角色，请由另一位管理员操作",
                "an administrator cannot disable or re-role their own account",
            )

    @staticmethod
    def _principal(
        uow: AuthUnitOfWork,
        username: str,
        a: Assignment,
        *,
        current: Principal | None = None,
    ) -> Principal:
        try:
            role = Role(a.role)
        except ValueError:
            role = Role.ANONYMOUS
        if role not in ASSIGNABLE_ROLES:
            raise _assignment_refused("ROLE_INVALID")
        display = a.display_name.strip()[:100] or (current.display_name if current else "")
        region = (a.region_code or "").strip() or None
        hospital = (a.hospital_code or "").strip() or None
        id_number = (a.id_number or "").strip().upper() or None
        if role in (Role.AGENCY_HANDLER, Role.PROVINCE_OFFICER, Role.CLEARING_OFFICER):
            if region is None or not re.fullmatch(r"\d{6}", region):
                raise _assignment_refused("REGION_REQUIRED")
            if role is Role.PROVINCE_OFFICER and not region.endswith("0000"):
                raise _assignment_refused("REGION_INVALID")
            return Principal(username, role, region_code=region, display_name=display)
        if role is Role.HOSPITAL_CASHIER:
            if hospital is None or uow.reference.hospital(hospital) is None:
                raise _assignment_refused("HOSPITAL_UNKNOWN")
            return Principal(username, role, hospital_code=hospital, display_name=display)
        if role is Role.INSURED_PERSON:
            try:
                parsed = ResidentId.parse(id_number or "")
            except YidiError:
                raise _assignment_refused("ID_NUMBER_INVALID") from None
            return Principal(username, role, id_number=parsed.number, display_name=display)
        return Principal(username, role, display_name=display)


#: Why a role assignment is refused: code → (Chinese message, English message, field).
_ASSIGNMENT_REFUSALS: Final = {
    "ROLE_INVALID": ("角色无效", "unknown role", "role"),
    "REGION_REQUIRED": (
        "该角色须填写 6 位行政区划代码（统筹区）",
        "this role needs a 6-digit division code (its region)",
        "region_code",
    ),
    "REGION_INVALID": (
        "省级账户的区划代码以 0000 结尾（如 430000）",
        "a province account's code ends in 0000 (e.g. 430000)",
        "region_code",
    ),
    "HOSPITAL_UNKNOWN": (
        "该角色须填写已登记的定点医疗机构编码",
        "this role needs the code of a registered hospital",
        "hospital_code",
    ),
    "ID_NUMBER_INVALID": (
        "参保人员账户须填写有效的身份证号码",
        "an insured person's account needs a valid resident ID number",
        "id_number",
    ),
}


def _assignment_refused(code: str) -> InvalidInput:
    message, message_en, field = _ASSIGNMENT_REFUSALS[code]
    return InvalidInput(code, message, message_en, field=field)


def _entry(
    admin: Principal, now: dt.datetime, action: str, username: str, reason: str
) -> AuditEntry:
    return audit_entry_by(admin, now, action=action, subject=f"user:{username}", reason=reason)


def _scope_text(p: Principal) -> str:
    scope = p.region_code or p.hospital_code or ("本人" if p.id_number else "")
    return f"{p.role.value}{'@' + scope if scope else ''}"
