"""Periodic jobs run once per minute slot however many workers schedule them, and the database
records how each last run went (for an operator's overview)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from jagadata.config import Settings
from jagadata.db import session_factory
from jagadata.jobs import make_queue
from jagadata.jobs.models import RunStatus
from jagadata.jobs.runs import claim_slot, minute_slot, periodic_job_states, run_once_per_slot

SLOT = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


@pytest.fixture
def sessions(migrated_engine: Engine) -> sessionmaker[Session]:
    return session_factory(migrated_engine)


def test_a_slot_is_claimed_once_and_the_next_minute_again(sessions: sessionmaker[Session]) -> None:
    assert claim_slot(sessions=sessions, name="retention.sweep", slot=SLOT)
    assert not claim_slot(sessions=sessions, name="retention.sweep", slot=SLOT)
    assert not claim_slot(
        sessions=sessions, name="retention.sweep", slot=SLOT - timedelta(minutes=1)
    )
    assert claim_slot(sessions=sessions, name="retention.sweep", slot=SLOT + timedelta(minutes=1))
    assert claim_slot(sessions=sessions, name="breach.clock", slot=SLOT)
    with sessions() as session:
        states = {s.name: s for s in periodic_job_states(session=session)}
    assert states["retention.sweep"].runs == 2
    assert states["retention.sweep"].last_slot == SLOT + timedelta(minutes=1)
    assert states["retention.sweep"].status == RunStatus.RUNNING


def test_workers_racing_for_one_slot_let_exactly_one_run(sessions: sessionmaker[Session]) -> None:
    racers = 4
    start = threading.Barrier(racers)
    results: list[bool] = []

    def race() -> None:
        start.wait()
        results.append(claim_slot(sessions=sessions, name="requests.reminders", slot=SLOT))

    threads = [threading.Thread(target=race) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == [False] * (racers - 1) + [True]


def test_a_run_records_its_end_and_a_failure_only_by_its_class(
    sessions: sessionmaker[Session],
) -> None:
    assert run_once_per_slot(sessions=sessions, name="ok.job", run=lambda: None)

    def fails() -> None:
        raise PermissionError("cannot open /data/budi@example.test.csv")

    with pytest.raises(PermissionError):
        run_once_per_slot(sessions=sessions, name="bad.job", run=fails)
    with sessions() as session:
        states = {s.name: s for s in periodic_job_states(session=session)}
    assert states["ok.job"].status == RunStatus.DONE and states["ok.job"].finished_at
    assert states["bad.job"].status == RunStatus.FAILED
    assert states["bad.job"].last_error == "PermissionError"


def test_the_queue_runs_the_reconciler_through_the_slot_claim(
    database_url: str, migrated_engine: Engine, tmp_path: Path, sessions: sessionmaker[Session]
) -> None:
    queue = make_queue(Settings(data_dir=tmp_path, database_url=database_url), immediate=True)
    try:
        before = minute_slot(datetime.now(UTC))
        queue.enqueue("jobs.reconcile")
        after = minute_slot(datetime.now(UTC))
    finally:
        queue.close()
    with sessions() as session:
        [state] = periodic_job_states(session=session)
    assert state.name == "jobs.reconcile"
    assert state.status == RunStatus.DONE and state.runs == 1
    assert before <= state.last_slot <= after
