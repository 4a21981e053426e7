"""An in-memory unit of work implementing the 门诊慢特病 ports (``yidi.chronic.ports``).

One :class:`ChronicDatabase` holds the state; each :class:`ChronicUnitOfWork` works on it and,
like the SQL unit of work, rolls back on exit unless committed (the state is restored from a copy
taken on entry). Stored idempotent answers go through JSON, as in the table.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

from yidi.chronic.model import Recognition, RecognitionState
from yidi.chronic.ports import PersonRef, RecognitionQuery
from yidi.kernel.audit import AuditEntry
from yidi.kernel.errors import Conflict


@dataclass
class ChronicDatabase:
    persons: dict[int, PersonRef] = field(default_factory=dict)
    hospitals: dict[str, bool] = field(default_factory=dict)
    recognitions: dict[str, Recognition] = field(default_factory=dict)
    audit: list[AuditEntry] = field(default_factory=list)
    idempotency: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    commits: int = 0

    def add_person(self, person: PersonRef) -> PersonRef:
        self.persons[person.person_id] = person
        return person


class FakeRecognitions:
    def __init__(self, db: ChronicDatabase) -> None:
        self._db = db
        self.locked: list[int] = []

    def person_by_id_number(self, id_number: str) -> PersonRef | None:
        return next((p for p in self._db.persons.values() if p.id_number == id_number), None)

    def person_by_psn_no(self, psn_no: str) -> PersonRef | None:
        return next((p for p in self._db.persons.values() if p.psn_no == psn_no), None)

    def person_by_internal_id(self, person_id: int) -> PersonRef | None:
        return self._db.persons.get(person_id)

    def lock_person(self, person_id: int) -> None:
        self.locked.append(person_id)

    def hospital_connected(self, fixmedins_code: str) -> bool | None:
        return self._db.hospitals.get(fixmedins_code)

    def add(self, recognition: Recognition) -> None:
        assert recognition.id not in self._db.recognitions
        if recognition.end_on is not None:
            assert recognition.end_on >= recognition.begin_on  # the table's check
        self._db.recognitions[recognition.id] = recognition

    def get(self, recognition_id: str) -> Recognition | None:
        return self._db.recognitions.get(recognition_id)

    def for_person(self, person_id: int) -> list[Recognition]:
        found = [r for r in self._db.recognitions.values() if r.person_id == person_id]
        return sorted(found, key=lambda r: (r.begin_on, r.id))

    def search(self, query: RecognitionQuery) -> tuple[int, list[tuple[Recognition, PersonRef]]]:
        rows = []
        for r in sorted(self._db.recognitions.values(), key=lambda r: r.recorded_at, reverse=True):
            person = self._db.persons[r.person_id]
            if query.region_prefix is not None and not r.insured_region_code.startswith(
                query.region_prefix
            ):
                continue
            if query.own_id_number is not None and person.id_number != query.own_id_number:
                continue
            if query.disease_code is not None and r.disease_code != query.disease_code:
                continue
            if query.active_on is not None and not r.valid_on(query.active_on):
                continue
            if query.over is not None:
                assert query.as_of is not None
                if r.over_on(query.as_of) != query.over:
                    continue
            rows.append((r, person))
        return len(rows), rows[query.offset : query.offset + query.limit]

    def end(
        self, recognition_id: str, end_on: dt.date, *, by: str, at: dt.datetime, reason: str
    ) -> None:
        self._db.recognitions[recognition_id] = dataclasses.replace(
            self._db.recognitions[recognition_id],
            end_on=end_on,
            state=RecognitionState.ENDED,
            ended_by=by,
            ended_at=at,
            end_reason=reason,
        )


class FakeAudit:
    def __init__(self, db: ChronicDatabase) -> None:
        self._db = db

    def append(self, entry: AuditEntry) -> None:
        self._db.audit.append(entry)


class FakeIdempotency:
    def __init__(self, db: ChronicDatabase) -> None:
        self._db = db

    def recall(self, scope: str, key: str, fingerprint: str) -> Any | None:
        stored = self._db.idempotency.get((scope, key))
        if stored is None:
            return None
        if stored[0] != fingerprint:
            raise Conflict("IDEMPOTENCY_KEY_REUSED", "报文ID已用于另一笔不同内容的交易")
        return json.loads(stored[1])

    def remember(
        self, scope: str, key: str, fingerprint: str, response: Any, at: dt.datetime
    ) -> None:
        self._db.idempotency[(scope, key)] = (fingerprint, json.dumps(response))


class ChronicUnitOfWork:
    def __init__(self, db: ChronicDatabase) -> None:
        self._db = db

    def __enter__(self) -> Self:
        self._snapshot = copy.deepcopy(
            (self._db.recognitions, self._db.audit, self._db.idempotency)
        )
        self.chronic = FakeRecognitions(self._db)
        self.audit = FakeAudit(self._db)
        self.idempotency = FakeIdempotency(self._db)
        self._committed = False
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._committed:
            self._db.recognitions, self._db.audit, self._db.idempotency = self._snapshot

    def commit(self) -> None:
        self._committed = True
        self._db.commits += 1
        self._snapshot = copy.deepcopy(
            (self._db.recognitions, self._db.audit, self._db.idempotency)
        )
        self._committed = False
