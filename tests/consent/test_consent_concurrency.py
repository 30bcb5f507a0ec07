"""Eight writers recording at once lose no event and never fork the ledger; eight retries of
one batch record it once — on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable

from consent_helpers import GELATO, cross_session, email, event, organisation_id, record
from faker import Faker
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from jagadata.consent.ledger import verify_ledger
from jagadata.consent.models import ConsentBatch, ConsentEvent, ConsentState

WRITERS = 8
BATCHES = 5
SIZE = 4


def _run_together(work: Callable[[int], None]) -> list[BaseException]:
    errors: list[BaseException] = []
    start = threading.Barrier(WRITERS)

    def run(writer: int) -> None:
        try:
            start.wait()
            work(writer)
        except BaseException as error:  # reported by the test, not lost in the thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(w,)) for w in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_eight_concurrent_writers_lose_no_event(
    sessions_of: sessionmaker[Session], faker_id: Faker
) -> None:
    batches = [
        [[event(email(faker_id)) for _ in range(SIZE)] for _ in range(BATCHES)]
        for _ in range(WRITERS)
    ]

    def write(writer: int) -> None:
        for batch in batches[writer]:
            record(sessions_of, GELATO, batch)

    assert _run_together(write) == []
    total = WRITERS * BATCHES * SIZE
    gelato = organisation_id(sessions_of, GELATO)
    with cross_session(sessions_of) as session:
        result = verify_ledger(session=session, organisation_id=gelato)
        assert result.ok, result.broken
        assert result.checked == total
        sequences = session.scalars(
            select(ConsentEvent.sequence).where(ConsentEvent.organisation_id == gelato)
        ).all()
        assert sorted(sequences) == list(range(1, total + 1))
        states = session.scalar(select(func.count()).select_from(ConsentState))
        assert states == total


def test_concurrent_retries_of_one_batch_record_it_once(
    sessions_of: sessionmaker[Session], faker_id: Faker
) -> None:
    batch = [event(email(faker_id)) for _ in range(SIZE)]
    answers: list[list[int]] = []

    def retry(_writer: int) -> None:
        events = record(sessions_of, GELATO, batch, batch_key="retry-me")
        answers.append([e.sequence for e in events])

    assert _run_together(retry) == []
    assert answers == [[1, 2, 3, 4]] * WRITERS
    with cross_session(sessions_of) as session:
        assert session.scalar(select(func.count()).select_from(ConsentEvent)) == SIZE
        assert session.scalar(select(func.count()).select_from(ConsentBatch)) == 1
