"""The composition root: the one place that wires settings, storage, services, API, web and CLI."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from yidi.clock import Clock, SystemClock
from yidi.domain.workdays import configure_working_days
from yidi.services.auth import LoginThrottle
from yidi.settings import Settings
from yidi.storage.db import make_engine
from yidi.storage.uow import SqlUnitOfWork


@dataclass
class Container:
    """Everything a request, a command or a test needs, built once."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    clock: Clock = field(default_factory=SystemClock)
    login_throttle: LoginThrottle = field(default_factory=LoginThrottle)

    def uow(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.session_factory)


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
        login_throttle=LoginThrottle(
            settings.login_address_max_failures, settings.login_address_window_seconds
        ),
    )
