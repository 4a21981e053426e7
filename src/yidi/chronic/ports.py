"""What the 门诊慢特病 use cases need from storage: the rows they exchange and the protocols.

:class:`yidi.platform.uow.SqlUnitOfWork` with :class:`yidi.chronic.sql.ChronicRepository`
implements them on the database; ``tests/unit/fakes_chronic.py`` in memory.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Protocol, Self

from yidi.chronic.model import Recognition
from yidi.kernel.unit_of_work import AuditedTransaction


@dataclass(frozen=True, slots=True)
class PersonRef:
    """The insured person a recognition belongs to."""

    person_id: int
    psn_no: str
    name: str
    id_number: str
    insured_region_code: str
    insurance_type: str


@dataclass(frozen=True, slots=True)
class RecognitionQuery:
    """List criteria; ``region_prefix`` and ``own_id_number`` carry the caller's scope."""

    region_prefix: str | None = None
    own_id_number: str | None = None
    disease_code: str | None = None
    active_on: dt.date | None = None
    #: True: only recognitions over on ``as_of`` (:meth:`Recognition.over_on`); False: only
    #: those not over; None: either.
    over: bool | None = None
    as_of: dt.date | None = None
    limit: int = 50
    offset: int = 0


class RecognitionStore(Protocol):
    def person_by_id_number(self, id_number: str) -> PersonRef | None: ...
    def person_by_psn_no(self, psn_no: str) -> PersonRef | None: ...
    def person_by_internal_id(self, person_id: int) -> PersonRef | None: ...
    def lock_person(self, person_id: int) -> None:
        """Serialise recognitions of one person (their overlap check) until commit."""

    def add(self, recognition: Recognition) -> None: ...
    def get(self, recognition_id: str) -> Recognition | None: ...
    def for_person(self, person_id: int) -> list[Recognition]: ...
    def search(
        self, query: RecognitionQuery
    ) -> tuple[int, list[tuple[Recognition, PersonRef]]]: ...
    def end(
        self, recognition_id: str, end_on: dt.date, *, by: str, at: dt.datetime, reason: str
    ) -> None: ...
    def hospital_connected(self, fixmedins_code: str) -> bool | None:
        """True connected, False known but not connected, None unknown."""


class IdempotencyStore(Protocol):
    def recall(self, scope: str, key: str, fingerprint: str) -> Any | None: ...
    def remember(
        self, scope: str, key: str, fingerprint: str, response: Any, at: dt.datetime
    ) -> None: ...


class ChronicUnitOfWork(AuditedTransaction, Protocol):
    @property
    def chronic(self) -> RecognitionStore: ...
    @property
    def idempotency(self) -> IdempotencyStore: ...

    def __enter__(self) -> Self: ...
