"""SQLite writers of one process queue for the database's write lock (instead of polling it):
the queue is left when the transaction commits, rolls back or its connection goes back to the
pool; a transaction that has already written never queues; concurrent batches lose nothing."""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, datetime

import pytest
from consent_helpers import GELATO, organisation_id
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from jagadata.audit.service import Actor, record
from jagadata.consent.ledger import lock_head, verify_ledger
from jagadata.consent.schemas import EventIn
from jagadata.consent.service import record_events
from jagadata.db import atomic
from jagadata.db.engine import _WRITE_LOCK, _write_locks


def _events(prefix: str, count: int) -> list[EventIn]:
    evidence = {"ip": "203.0.113.9"}
    return [
        EventIn.model_validate(
            {
                "kind": "given",
                "purpose": "marketing",
                "language": "id",
                "channel": "web_form",
                "subject_ref": "anon_" + hashlib.sha256(f"{prefix}{n}".encode()).hexdigest()[:32],
                "evidence": evidence,
            }
        )
        for n in range(count)
    ]


def _lock(app: FastAPI) -> threading.Lock | None:
    return _write_locks.get(app.state.engine)


def test_the_queue_is_left_on_commit_rollback_and_checkin(
    consent_app: FastAPI, sessions_of: sessionmaker[Session], database_url: str
) -> None:
    lock = _lock(consent_app)
    if not database_url.startswith("sqlite"):
        assert lock is None  # PostgreSQL locks the chain's head row itself
        return
    assert lock is not None
    org = organisation_id(sessions_of, GELATO)
    with sessions_of() as session, atomic(session):
        record_events(session=session, organisation_id=org, events=_events("a", 3),
                      actor=Actor.system("test"))  # fmt: skip
        assert lock.locked()
    assert not lock.locked()
    with pytest.raises(RuntimeError), sessions_of() as session, atomic(session):
        lock_head(session, org)
        assert lock.locked()
        raise RuntimeError("the batch fails after the head was locked")
    assert not lock.locked()
    with sessions_of() as session:
        lock_head(session, org)
        assert lock.locked()
    assert not lock.locked()  # closed without commit: the connection went back to the pool


def test_a_transaction_that_already_wrote_does_not_queue(
    consent_app: FastAPI, sessions_of: sessionmaker[Session], database_url: str
) -> None:
    lock = _lock(consent_app)
    if not database_url.startswith("sqlite"):
        assert lock is None  # only SQLite writers queue
        return
    assert lock is not None
    org = organisation_id(sessions_of, GELATO)
    with sessions_of() as session, atomic(session):
        record(session=session, organisation_id=org, actor=Actor.system("test"),
               action="consent.test", occurred_at=datetime.now(UTC))  # fmt: skip
        session.flush()  # this transaction now holds SQLite's write lock
        assert lock.acquire(blocking=False)  # as if another writer of this process queued first
        try:
            lock_head(session, org)  # would wait for the lock (and time out) if it queued
            assert _WRITE_LOCK not in session.connection().info
        finally:
            lock.release()


def test_eight_concurrent_batches_lose_nothing(
    consent_app: FastAPI, sessions_of: sessionmaker[Session]
) -> None:
    org = organisation_id(sessions_of, GELATO)
    failures: list[BaseException] = []
    start = threading.Barrier(8)

    def writer(number: int) -> None:
        try:
            start.wait()
            for batch in range(3):
                with sessions_of() as session, atomic(session):
                    record_events(session=session, organisation_id=org,
                                  events=_events(f"w{number}b{batch}x", 20),
                                  actor=Actor.system("test"))  # fmt: skip
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    lock = _lock(consent_app)
    assert lock is None or not lock.locked()
    with sessions_of() as session:
        session.info["all_organisations"] = True
        result = verify_ledger(session=session, organisation_id=org)
    assert result.ok and result.checked == 8 * 3 * 20
