"""Sign-in for API clients: POST credentials, receive a bearer token; sign out; change one's
password; set a password through a one-time reset link."""

from __future__ import annotations

from dataclasses import replace

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from yidi.auth.commands import authenticate, change_password, complete_reset, open_session, sign_out
from yidi.auth.passwords import MAX_PASSWORD_LENGTH
from yidi.bootstrap import Container
from yidi.entrypoints.api.deps import ContainerDep, PrincipalDep, session_token
from yidi.entrypoints.api.schemas.mapping import from_attributes
from yidi.kernel.access import Action, Principal

router = APIRouter(prefix="/api/auth", tags=["登录 sign-in"])


class LoginRequest(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)


class LoginResponse(BaseModel):
    token: str
    role: str
    display_name: str
    password_change_required: bool = Field(
        description="须先修改密码 (POST /api/auth/password) must change the password first"
    )


class WhoAmI(BaseModel):
    user_id: str
    role: str
    region_code: str | None
    hospital_code: str | None
    password_change_required: bool = False


class PasswordChange(BaseModel):
    current_password: str = Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)
    new_password: str = Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)


class PasswordReset(BaseModel):
    token: str = Field(min_length=1, max_length=100)
    new_password: str = Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)


class SignedOut(BaseModel):
    signed_out: bool


def _signed_in(container: Container, principal: Principal) -> LoginResponse:
    """A new session for ``principal``, answered with its token."""
    token = open_session(
        container.uow(), container.clock, principal, policy=container.session_policy
    )
    return from_attributes(LoginResponse, principal, token=token, role=principal.role.value)


@router.post("/login", summary="登录 sign in", response_model=LoginResponse)
def login(body: LoginRequest, request: Request, container: ContainerDep) -> LoginResponse:
    principal = authenticate(
        container.uow(),
        container.clock,
        body.username,
        body.password,
        policy=container.sign_in_policy,
    )
    return _signed_in(container, principal)


@router.post("/logout", summary="退出登录（令牌立即失效） sign out", response_model=SignedOut)
def logout(request: Request, container: ContainerDep) -> SignedOut:
    token = session_token(request)
    if token:
        sign_out(container.uow(), container.clock, token)
    return SignedOut(signed_out=bool(token))


@router.post(
    "/password",
    summary="修改本人密码（所有会话结束，返回新令牌） change own password",
    response_model=LoginResponse,
)
def password(
    body: PasswordChange, request: Request, principal: PrincipalDep, container: ContainerDep
) -> LoginResponse:
    principal.require(Action.ACCOUNT_SELF)
    change_password(
        container.uow(),
        container.clock,
        principal,
        body.current_password,
        body.new_password,
        min_length=container.settings.password_min_length,
    )
    return _signed_in(container, replace(principal, password_change_required=False))


@router.post(
    "/password-reset",
    summary="通过一次性重置链接设置新密码 set a password with a one-time reset link",
    status_code=204,
)
def password_reset(body: PasswordReset, request: Request, container: ContainerDep) -> Response:
    complete_reset(
        container.uow(),
        container.clock,
        body.token,
        body.new_password,
        min_length=container.settings.password_min_length,
    )
    return Response(status_code=204)


@router.get("/me", summary="当前用户 who am I", response_model=WhoAmI)
def me(principal: PrincipalDep) -> WhoAmI:
    return from_attributes(WhoAmI, principal, role=principal.role.value)
