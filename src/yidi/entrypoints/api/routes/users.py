"""User administration for the administrator role (``/api/admin/users``); every act audited."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from yidi.auth.passwords import MAX_PASSWORD_LENGTH
from yidi.auth.users import Assignment, UserAdminService, UserSummary
from yidi.bootstrap import Container
from yidi.entrypoints.api.deps import ContainerDep, PrincipalDep
from yidi.entrypoints.api.schemas.mapping import from_attributes

router = APIRouter(prefix="/api/admin/users", tags=["用户管理 user administration"])


def user_admin(container: Container) -> UserAdminService:
    return container.users


class UserOut(BaseModel):
    username: str
    role: str
    display_name: str
    region_code: str | None
    hospital_code: str | None
    active: bool
    must_change_password: bool
    blocked_addresses: int = Field(description="当前被暂缓登录的地址数 addresses held back now")
    live_sessions: int

    @classmethod
    def of(cls, s: UserSummary) -> UserOut:
        return from_attributes(cls, s, role=s.role.value)


class AssignmentIn(BaseModel):
    role: str = Field(max_length=32)
    display_name: str = Field(default="", max_length=100)
    region_code: str | None = Field(default=None, max_length=6)
    hospital_code: str | None = Field(default=None, max_length=30)
    id_number: str | None = Field(default=None, max_length=18)

    def assignment(self) -> Assignment:
        return Assignment(
            self.role, self.display_name, self.region_code, self.hospital_code, self.id_number
        )


class UserIn(AssignmentIn):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(
        min_length=1,
        max_length=MAX_PASSWORD_LENGTH,
        description="初始密码，首次登录须修改 initial password, changed at first sign-in",
    )


class ResetLinkOut(BaseModel):
    username: str
    reset_path: str = Field(description="一次性链接（交给用户本人） the one-time link")
    expires_at: dt.datetime


@router.get("", summary="用户列表 list users", response_model=list[UserOut])
def list_users(principal: PrincipalDep, container: ContainerDep) -> list[UserOut]:
    return [UserOut.of(s) for s in user_admin(container).users(principal)]


@router.post("", summary="新建用户 create a user", response_model=UserOut, status_code=201)
def create(
    body: UserIn, request: Request, principal: PrincipalDep, container: ContainerDep
) -> UserOut:
    summary = user_admin(container).create(
        principal,
        body.username,
        body.password,
        body.assignment(),
    )
    return UserOut.of(summary)


@router.get("/{username}", summary="用户详情 one user", response_model=UserOut)
def one(username: str, principal: PrincipalDep, container: ContainerDep) -> UserOut:
    return UserOut.of(user_admin(container).user(principal, username))


@router.put(
    "/{username}/role",
    summary="设置角色与范围（结束其所有会话） set role and scope",
    response_model=UserOut,
)
def assign(
    username: str,
    body: AssignmentIn,
    request: Request,
    principal: PrincipalDep,
    container: ContainerDep,
) -> UserOut:
    summary = user_admin(container).assign(principal, username, body.assignment())
    return UserOut.of(summary)


@router.post(
    "/{username}/disable", summary="停用（结束其所有会话） disable", response_model=UserOut
)
def disable(
    username: str, request: Request, principal: PrincipalDep, container: ContainerDep
) -> UserOut:
    summary = user_admin(container).set_active(principal, username, False)
    return UserOut.of(summary)


@router.post("/{username}/enable", summary="启用 enable", response_model=UserOut)
def enable(
    username: str, request: Request, principal: PrincipalDep, container: ContainerDep
) -> UserOut:
    summary = user_admin(container).set_active(principal, username, True)
    return UserOut.of(summary)


@router.post(
    "/{username}/reset",
    summary="发放一次性密码重置链接 issue a one-time reset link",
    response_model=ResetLinkOut,
)
def reset(
    username: str, request: Request, principal: PrincipalDep, container: ContainerDep
) -> ResetLinkOut:
    link = user_admin(container).issue_reset(principal, username)
    return ResetLinkOut(
        username=link.username,
        reset_path=f"/password-reset?token={link.token}",
        expires_at=link.expires_at,
    )


@router.post(
    "/{username}/unlock",
    summary="解除登录暂缓 clear the account's failed sign-ins",
    response_model=UserOut,
)
def unlock(
    username: str, request: Request, principal: PrincipalDep, container: ContainerDep
) -> UserOut:
    summary = user_admin(container).unlock(principal, username)
    return UserOut.of(summary)
