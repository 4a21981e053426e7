"""The composition root: the one place that wires settings, storage, services, API, web and CLI."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from yidi.auth.commands import SessionPolicy, SignInPolicy
from yidi.auth.gateway import GatewayAuthenticator
from yidi.auth.gateway_credentials import GatewayCredentialsError, load_credentials
from yidi.kernel.clock import Clock, SystemClock
from yidi.kernel.workdays import configure_working_days
from yidi.platform.db import make_engine
from yidi.platform.uow import SqlUnitOfWork
from yidi.settings import Settings


@dataclass
class Container:
    """Everything a request, a command or a test needs, built once."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    clock: Clock = field(default_factory=SystemClock)

    def uow(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.session_factory)

    @property
    def sign_in_policy(self) -> SignInPolicy:
        s = self.settings
        return SignInPolicy(
            max_failures=s.login_max_failures,
            max_delay_minutes=s.login_lockout_minutes,
            address_max_failures=s.login_address_max_failures,
            address_window_seconds=s.login_address_window_seconds,
            demo_mode=s.demo_mode,
        )

    @property
    def session_policy(self) -> SessionPolicy:
        return SessionPolicy(
            hours=self.settings.session_hours, idle_minutes=self.settings.session_idle_minutes
        )


def build_container(
    settings: Settings,
    *,
    clock: Clock | None = None,
    session_factory: sessionmaker[Session] | None = None,
    engine: Engine | None = None,
) -> Container:
    engine = engine or make_engine(settings.database_url)
    clock = clock or SystemClock()
    configure_working_days(operator_directory=settings.holiday_directory, today=clock.today)
    factory = session_factory or sessionmaker(bind=engine, expire_on_commit=False)
    return Container(
        settings=settings,
        engine=engine,
        session_factory=factory,
        clock=clock,
    )


def build_gateway_authenticator(container: Container) -> GatewayAuthenticator | None:
    """The gateway's header authenticator, or None when ``YIDI_GATEWAY_AUTH=none``.

    Raises :class:`GatewayCredentialsError` (a ``ValueError``) when authentication is
    required and the credentials file is not set, missing, unsafe or malformed: the
    service must not start trusting ``fixmedins_code`` by accident.
    """
    settings = container.settings
    if settings.gateway_auth_mode == "none":
        return None
    if settings.gateway_credentials is None:
        raise GatewayCredentialsError(
            "YIDI_GATEWAY_CREDENTIALS 未设置：网关认证为 required 时须提供网关凭据文件 "
            "(set YIDI_GATEWAY_CREDENTIALS to a file made with `yidi gateway credential add`, "
            "or YIDI_GATEWAY_AUTH=none only behind a front end that authenticates hospitals)"
        )
    return GatewayAuthenticator(
        load_credentials(settings.gateway_credentials),
        clock=container.clock,
        uow=container.uow,
        window=dt.timedelta(seconds=settings.gateway_timestamp_window_seconds),
    )
