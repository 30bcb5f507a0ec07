"""Eight writers appending to one chain at once never fork it: every entry links to the one
before it and the sequence has no gap and no duplicate — on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from jagadata.audit.models import AuditEntry
from jagadata.audit.service import Actor, chain_length, record, verify_chain
from jagadata.db import atomic

WRITERS = 8
EACH = 12


def _write(
    factory: sessionmaker[Session],
    organisation_id: int,
    writer: int,
    start: threading.Barrier,
    errors: list[BaseException],
) -> None:
    try:
        start.wait()
        with factory() as session:
            for number in range(EACH):
                with atomic(session):
                    chain_length(session=session, organisation_id=organisation_id)  # a read first
                    record(
                        session=session,
                        organisation_id=organisation_id,
                        actor=Actor.user(writer),
                        action="person.viewed",
                        target_type="request",
                        target_id=number,
                    )
    except BaseException as error:  # reported by the test, not lost in the thread
        errors.append(error)


def test_concurrent_writers_never_fork_a_chain(
    factory: sessionmaker[Session], cross_session: Session, organisations: tuple[int, int]
) -> None:
    a = organisations[0]
    errors: list[BaseException] = []
    start = threading.Barrier(WRITERS)
    threads = [
        threading.Thread(target=_write, args=(factory, a, writer, start, errors))
        for writer in range(WRITERS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []

    result = verify_chain(session=cross_session, organisation_id=a)
    assert result.ok, result.broken
    assert result.checked == WRITERS * EACH
    sequences = cross_session.scalars(
        select(AuditEntry.sequence).where(AuditEntry.organisation_id == a)
    ).all()
    assert sorted(sequences) == list(range(1, WRITERS * EACH + 1))
    writers = cross_session.scalars(select(AuditEntry.actor_id).distinct()).all()
    assert len(writers) == WRITERS
