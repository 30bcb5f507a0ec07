"""The queue and its registry: SQLite in the data dir or Redis, jobs known by name, periodic
jobs in one schedule, and nudges that reach the queue only when their transaction commits."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from huey import RedisHuey, SqliteHuey  # type: ignore[import-untyped]
from sqlalchemy import text
from sqlalchemy.orm import Session

from jagadata.config import Settings
from jagadata.db import atomic, make_engine, session_factory
from jagadata.jobs import (
    JobContext,
    JobQueue,
    QueueUnavailable,
    crontab,
    describe_queue,
    enqueue_after_commit,
    every_minute,
    install_queue,
    job,
    make_queue,
    pending_nudges,
    periodic,
)
from jagadata.jobs.registry import load_all_jobs


@pytest.fixture
def queue(tmp_path: Path) -> Iterator[JobQueue]:
    """A real SQLite queue in a fresh data dir, installed as this process's; no worker takes."""
    queue = make_queue(Settings(data_dir=tmp_path / "data"))
    previous = install_queue(queue)
    yield queue
    install_queue(previous)
    queue.close()


def test_without_redis_the_queue_is_a_sqlite_file_in_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    queue = make_queue(settings)
    try:
        assert isinstance(queue.huey, SqliteHuey)
        assert not queue.uses_redis
        queue.enqueue("jobs.reconcile")
        assert (tmp_path / "data" / "queue.sqlite3").is_file()
        assert queue.description == f"SQLite {(tmp_path / 'data' / 'queue.sqlite3').resolve()}"
    finally:
        queue.close()


def test_with_redis_the_queue_is_redis_and_its_password_is_never_shown(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, redis_url="redis://jaga:s3cret@127.0.0.1:6379/5")
    queue = make_queue(settings)
    try:
        assert isinstance(queue.huey, RedisHuey)
        assert queue.uses_redis
        assert describe_queue(settings) == "Redis redis://jaga:***@127.0.0.1:6379/5"
        assert "s3cret" not in queue.description
    finally:
        queue.close()


def test_an_unreachable_redis_is_reported_without_a_traceback(tmp_path: Path) -> None:
    queue = make_queue(Settings(data_dir=tmp_path, redis_url="redis://127.0.0.1:1/0"))
    try:
        with pytest.raises(QueueUnavailable) as raised:
            queue.ping()
    finally:
        queue.close()
    assert raised.value.where == "Redis redis://127.0.0.1:1/0"
    assert raised.value.reason


def test_every_domain_job_and_the_reconciler_are_registered_by_name(queue: JobQueue) -> None:
    jobs, periodic_jobs = load_all_jobs()
    assert "notify.deliver" in jobs
    assert "jobs.reconcile" in periodic_jobs
    assert "notify.deliver" in queue.names
    registered = set(queue.huey._registry._registry)
    assert {
        "jagadata.jobs.queue.notify.deliver",
        "jagadata.jobs.queue.jobs.reconcile",
    } <= registered


def test_a_job_name_cannot_be_taken_twice() -> None:
    def impostor(context: JobContext, message_id: int) -> None:
        return None

    with pytest.raises(ValueError, match=r"two jobs are called 'notify\.deliver'"):
        job("notify.deliver")(impostor)
    with pytest.raises(ValueError, match=r"two jobs are called 'jobs\.reconcile'"):
        periodic("jobs.reconcile", every_minute())(impostor)


def test_unknown_jobs_are_refused_at_enqueue(queue: JobQueue) -> None:
    with pytest.raises(KeyError, match=r"no job is called 'notify\.send'"):
        queue.enqueue("notify.send", 1)
    assert queue.pending_count() == 0


def test_a_job_for_later_waits_in_the_schedule(queue: JobQueue) -> None:
    due = datetime.now(UTC) + timedelta(minutes=5)
    queue.enqueue("notify.deliver", 7, at=due)
    queue.huey.execute(queue.huey.dequeue())  # what a worker does with a job not yet due
    assert (queue.pending_count(), queue.scheduled_count()) == (0, 1)
    assert queue.huey.read_schedule(due.replace(tzinfo=None) - timedelta(seconds=1)) == []
    [later] = queue.huey.read_schedule(due.replace(tzinfo=None))
    assert later.args == (7,)


def test_schedules_read_like_crontab_in_utc() -> None:
    nightly = crontab(minute="0", hour="2")
    assert nightly(datetime(2026, 3, 1, 2, 0))
    assert not nightly(datetime(2026, 3, 1, 2, 1))
    assert not nightly(datetime(2026, 3, 1, 14, 0))
    assert all(every_minute()(datetime(2026, 1, 1, h, m)) for h, m in [(0, 0), (13, 37)])
    with pytest.raises(ValueError):
        crontab(minute="61")


@pytest.fixture
def sqlite_session(tmp_path: Path) -> Iterator[Session]:
    engine = make_engine(f"sqlite:///{tmp_path / 'scratch.sqlite3'}")
    with session_factory(engine)() as session:
        yield session
    engine.dispose()


def test_a_nudge_reaches_the_queue_only_when_its_transaction_commits(
    queue: JobQueue, sqlite_session: Session
) -> None:
    with atomic(sqlite_session):
        sqlite_session.execute(text("SELECT 1"))
        enqueue_after_commit(sqlite_session, "notify.deliver", 41)
        enqueue_after_commit(sqlite_session, "notify.deliver", 42)
        assert queue.pending_count() == 0
        assert [n.ids for n in pending_nudges(sqlite_session)] == [(41,), (42,)]
    assert queue.pending_count() == 2
    assert [task.args for task in queue.huey.pending()] == [(41,), (42,)]
    assert pending_nudges(sqlite_session) == ()


def test_a_rollback_or_a_close_forgets_the_nudges(queue: JobQueue, sqlite_session: Session) -> None:
    with pytest.raises(LookupError), atomic(sqlite_session):
        sqlite_session.execute(text("SELECT 1"))
        enqueue_after_commit(sqlite_session, "notify.deliver", 1)
        raise LookupError("the change failed")
    sqlite_session.execute(text("SELECT 1"))
    enqueue_after_commit(sqlite_session, "notify.deliver", 2)
    sqlite_session.close()
    with atomic(sqlite_session):
        sqlite_session.execute(text("SELECT 1"))
    assert queue.pending_count() == 0


def test_a_nudge_from_a_rolled_back_savepoint_still_goes_out_with_the_outer_commit(
    queue: JobQueue, sqlite_session: Session
) -> None:
    """Harmless by design: the job finds no row to work on (tested in tests/notify)."""
    with atomic(sqlite_session):
        savepoint = sqlite_session.begin_nested()
        enqueue_after_commit(sqlite_session, "notify.deliver", 5)
        savepoint.rollback()
    assert queue.pending_count() == 1


def test_a_queue_that_is_down_does_not_undo_the_commit(
    tmp_path: Path, sqlite_session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    down = make_queue(Settings(data_dir=tmp_path, redis_url="redis://127.0.0.1:1/0"))
    previous = install_queue(down)
    try:
        with atomic(sqlite_session):
            sqlite_session.execute(text("CREATE TABLE change (id INTEGER)"))
            sqlite_session.execute(text("INSERT INTO change VALUES (1)"))
            enqueue_after_commit(sqlite_session, "notify.deliver", 1)
    finally:
        install_queue(previous)
        down.close()
    assert sqlite_session.execute(text("SELECT count(*) FROM change")).scalar_one() == 1
    [record] = [r for r in caplog.records if r.name == "jagadata.jobs.nudges"]
    assert record.levelno == logging.WARNING
    assert "reconciler will pick them up" in record.getMessage()
