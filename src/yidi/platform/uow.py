"""The unit of work: one transaction, its repositories, rollback unless committed."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.orm import Session, sessionmaker

from yidi.accounts.sql import AccountRepository
from yidi.auth.codes_sql import CodeRepository
from yidi.auth.gateway_sql import GatewayRepository
from yidi.auth.sql import UserRepository
from yidi.chronic.sql import ChronicRepository
from yidi.encounter.sql import HospitalRepository
from yidi.filing.change_requests_sql import ChangeRequestRepository
from yidi.filing.jobs_sql import JobRepository
from yidi.filing.sql import FilingRepository
from yidi.funds.sql import FundsRepository
from yidi.platform.audit_log import AuditRepository
from yidi.platform.idempotency import IdempotencyRepository
from yidi.reconciliation.sql import DisputeRepository
from yidi.reference.sql import ReferenceRepository


class SqlUnitOfWork:
    session: Session
    accounts: AccountRepository
    audit: AuditRepository
    change_requests: ChangeRequestRepository
    codes: CodeRepository
    disputes: DisputeRepository
    chronic: ChronicRepository
    funds: FundsRepository
    gateway: GatewayRepository
    filings: FilingRepository
    hospital: HospitalRepository
    idempotency: IdempotencyRepository
    reference: ReferenceRepository
    users: UserRepository

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._session_factory = session_factory

    def __enter__(self) -> Self:
        self.session = self._session_factory()
        self.accounts = AccountRepository(self.session)
        self.audit = AuditRepository(self.session)
        self.change_requests = ChangeRequestRepository(self.session)
        self.chronic = ChronicRepository(self.session)
        self.codes = CodeRepository(self.session)
        self.disputes = DisputeRepository(self.session)
        self.funds = FundsRepository(self.session)
        self.gateway = GatewayRepository(self.session)
        self.filings = FilingRepository(self.session)
        self.hospital = HospitalRepository(self.session)
        self.idempotency = IdempotencyRepository(self.session)
        self.jobs = JobRepository(self.session)
        self.reference = ReferenceRepository(self.session)
        self.users = UserRepository(self.session)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.session.rollback()
        finally:
            self.session.close()

    def commit(self) -> None:
        # Lookups are counted last, so their counter row is locked only for the commit.
        self.hospital.count_lookups_at_commit()
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()
