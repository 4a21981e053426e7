"""Sign-in for API clients: POST credentials, receive a bearer token."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from yidi.api.deps import ContainerDep, PrincipalDep, client_address
from yidi.services.auth import authenticate, issue_token

router = APIRouter(prefix="/api/auth", tags=["登录 sign-in"])


class LoginRequest(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


class LoginResponse(BaseModel):
    token: str
    role: str
    display_name: str


class WhoAmI(BaseModel):
    user_id: str
    role: str
    region_code: str | None
    hospital_code: str | None


@router.post("/login", summary="登录 sign in", response_model=LoginResponse)
def login(body: LoginRequest, request: Request, container: ContainerDep) -> LoginResponse:
    principal = authenticate(
        container.uow(),
        container.clock,
        body.username,
        body.password,
        max_failures=container.settings.login_max_failures,
        lockout_minutes=container.settings.login_lockout_minutes,
        address=client_address(request),
        throttle=container.login_throttle,
    )
    return LoginResponse(
        token=issue_token(container.settings.secret_key, principal),
        role=principal.role.value,
        display_name=principal.display_name,
    )


@router.get("/me", summary="当前用户 who am I", response_model=WhoAmI)
def me(principal: PrincipalDep) -> WhoAmI:
    return WhoAmI(
        user_id=principal.user_id,
        role=principal.role.value,
        region_code=principal.region_code,
        hospital_code=principal.hospital_code,
    )
