"""Two copies of one 9101 upload (same institution and msgid) arriving at the same moment
store one file and both get its file_qury_no (PostgreSQL: real concurrent transactions
racing on the unique (fixmedins_code, msgid); SQLite: serialised writers)."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from yidi.bootstrap import Container
from yidi.integrations.nhsa.files import GatewayFiles, StoredFile
from yidi.integrations.nhsa.files_sql import SqlGatewayFileStore
from yidi.platform.tables import gateway_files


class _RacingStore(SqlGatewayFileStore):
    """Both uploads look for the msgid before either stores: the race the constraint decides."""

    def __init__(self, container: Container, barrier: threading.Barrier) -> None:
        super().__init__(container.session_factory)
        self._barrier = barrier
        self._first_lookups = 2
        self._lock = threading.Lock()

    def by_message(self, fixmedins_code: str, msgid: str) -> StoredFile | None:
        found = super().by_message(fixmedins_code, msgid)
        with self._lock:
            first = self._first_lookups > 0
            self._first_lookups -= 1
        if first:  # the loser's second look (after the constraint refused it) does not wait
            self._barrier.wait(timeout=10)
        return found


def test_two_simultaneous_copies_of_one_upload_store_one_file(committed: Container) -> None:
    barrier = threading.Barrier(2)
    store = _RacingStore(committed, barrier)
    files = GatewayFiles(store, committed.clock.now)
    answers: list[str] = []
    errors: list[BaseException] = []

    def send() -> None:
        try:
            answers.append(files.upload("H1", "RACE-1", "a.txt", [1, 2, 3]).file_qury_no)
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert len(answers) == 2 and answers[0] == answers[1]
    assert store._first_lookups == -1  # the loser's insert was refused and it found the twin
    with committed.session_factory() as session:
        assert session.execute(select(func.count()).select_from(gateway_files)).scalar_one() == 1
