"""The composition root: the one place that builds settings' consequences, storage and every
service, once. The entrypoints (the ASGI app with its API and web pages, the command line)
receive the built :class:`Container` and never construct a service themselves.

Building a container does no schema work: migrating the database is its own step
(``yidi db upgrade``, ``yidi serve``, ``yidi demo load``, the test fixtures).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from yidi.auth.commands import SessionPolicy, SignInPolicy
from yidi.auth.gateway import GatewayAuthenticator
from yidi.auth.gateway_credentials import GatewayCredentialsError, load_credentials
from yidi.auth.registration import CitizenAccounts, CodePolicy, CodeSender, ConsoleCodeSender
from yidi.auth.users import UserAdminService
from yidi.catalog.queries import CatalogLookup
from yidi.chronic.commands import ChronicService
from yidi.encounter.commands import HospitalService, LookupLimits
from yidi.filing.assignment import ReviewAssignments
from yidi.filing.change_requests import ChangeRequestService
from yidi.filing.commands import FilingService
from yidi.filing.imports import FilingImports
from yidi.filing.jobs import ImportJobs
from yidi.filing.late_care import LateFilingLookup
from yidi.filing.reports import FilingReports
from yidi.integrations.ecredential import SignedTokenVerifier
from yidi.integrations.nhsa.adapter import HospitalGateway
from yidi.integrations.nhsa.files import GatewayFiles
from yidi.integrations.nhsa.files_sql import SqlGatewayFileStore
from yidi.kernel.clock import Clock, SystemClock
from yidi.kernel.ecredential import ECredentialVerifier
from yidi.kernel.workdays import WorkingDayCalendar, build_working_day_calendar
from yidi.platform.db import make_engine
from yidi.platform.uow import SqlUnitOfWork
from yidi.reconciliation.commands import DisputeService
from yidi.settings import Settings
from yidi.settlement.manual import ManualClaimService
from yidi.settlement.reconciliation import ReconciliationService


@dataclass(frozen=True, eq=False)
class Container:
    """Everything a request, a command or a test needs, built once by :func:`build_container`."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    clock: Clock
    working_days: WorkingDayCalendar
    """工作日日历: the shipped and the operator's holiday files, counted on ``clock``."""
    catalogs: CatalogLookup
    """Parsed treatment-region catalogues, cached for as long as the container lives."""
    filings: FilingService
    filing_assignments: ReviewAssignments
    """分配审核人: reviewers take filings awaiting review."""
    change_requests: ChangeRequestService
    filing_imports: FilingImports
    """报盘导入: the provincial database's Annex 2 imports."""
    filing_reports: FilingReports
    """附件2, the quarterly lists and the cities' submissions, read side."""
    import_jobs: ImportJobs
    hospital: HospitalService
    chronic: ChronicService
    """门诊慢特病: the disease lists, recognitions and 5301."""
    manual_claims: ManualClaimService
    reconciliation: ReconciliationService
    disputes: DisputeService
    """对账差异: disputes raised from 3202 or by hand, answered and resolved."""
    gateway: HospitalGateway
    """The national-interface adapter (国家平台接口) over the hospital use cases."""
    users: UserAdminService
    citizens: CitizenAccounts | None
    """参保人员自助注册与找回密码; None when no code sender is configured."""

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
    code_sender: CodeSender | None = None,
) -> Container:
    """Build every service once from ``settings``.

    Raises a ``YidiError`` when a setting points at bad data (e.g. an invalid holiday
    arrangement file in ``YIDI_HOLIDAY_DIRECTORY``): start-up stops, not a later filing.
    """
    engine = engine or make_engine(settings.database_url)
    clock = clock or SystemClock()
    factory = session_factory or sessionmaker(bind=engine, expire_on_commit=False)

    def uow() -> SqlUnitOfWork:
        return SqlUnitOfWork(factory)

    working_days = build_working_day_calendar(
        operator_directory=settings.holiday_directory, today=clock.today
    )
    catalogs = CatalogLookup()
    filing_imports = FilingImports(uow, clock, calendar=working_days)
    hospital = HospitalService(
        uow,
        clock,
        catalogs=catalogs,
        lookup_limits=LookupLimits(
            per_hour=settings.person_lookups_per_hour,
            misses_per_hour=settings.person_lookup_misses_per_hour,
        ),
        ecredential=build_ecredential_verifier(settings),
    )
    reconciliation = ReconciliationService(uow, clock)
    chronic = ChronicService(uow, clock)
    if code_sender is None and settings.code_sender_mode == "console":
        code_sender = ConsoleCodeSender()
    citizens = (
        None
        if code_sender is None
        else CitizenAccounts(
            uow,
            clock,
            code_sender,
            policy=CodePolicy(
                minutes=settings.code_minutes,
                max_attempts=settings.code_max_attempts,
                sends_per_hour=settings.code_sends_per_hour,
                address_sends_per_hour=settings.code_address_sends_per_hour,
                resend_seconds=settings.code_resend_seconds,
            ),
            password_min_length=settings.password_min_length,
        )
    )
    return Container(
        settings=settings,
        engine=engine,
        session_factory=factory,
        clock=clock,
        working_days=working_days,
        catalogs=catalogs,
        filings=FilingService(uow, clock, calendar=working_days),
        filing_assignments=ReviewAssignments(uow, clock, calendar=working_days),
        change_requests=ChangeRequestService(uow, clock, calendar=working_days),
        filing_imports=filing_imports,
        filing_reports=FilingReports(uow, clock, calendar=working_days),
        import_jobs=ImportJobs(uow, clock, filing_imports),
        hospital=hospital,
        manual_claims=ManualClaimService(
            uow, clock, catalogs=catalogs, late_filing=LateFilingLookup(uow)
        ),
        reconciliation=reconciliation,
        disputes=DisputeService(uow, clock),
        chronic=chronic,
        gateway=HospitalGateway(
            hospital,
            reconciliation,
            chronic,
            files=GatewayFiles(SqlGatewayFileStore(factory), lambda: clock.now()),
        ),
        users=UserAdminService(
            uow,
            clock,
            password_min_length=settings.password_min_length,
            reset_hours=settings.password_reset_hours,
        ),
        citizens=citizens,
    )


def build_ecredential_verifier(settings: Settings) -> ECredentialVerifier | None:
    """The 医保电子凭证 verifier of ``settings``; None: yidi's own issued tokens (registry)."""
    if settings.ecredential == "signed":
        assert settings.ecredential_key is not None  # Settings requires it
        return SignedTokenVerifier(settings.ecredential_key)
    return None


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
