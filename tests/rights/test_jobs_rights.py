"""The request sweep as a background job: registered every five minutes, run by the queue
through its once-per-minute claim, and a worker killed with SIGKILL in the middle of a sweep
leaves each request either wholly done (timeline entry and messages) or untouched, so the next
sweep finishes the work without sending anything twice. SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from faker import Faker
from notify_servers import RecordingSmtpServer
from rights_helpers import text_of
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker
from test_reminders import HOUR, RECEIVED, Org, file, kinds, members_of

from jagadata.config import Settings
from jagadata.db import session_factory
from jagadata.db.tenancy import scope
from jagadata.jobs import JobQueue, install_queue, make_queue
from jagadata.jobs.models import RunStatus
from jagadata.jobs.registry import load_all_jobs
from jagadata.jobs.runs import periodic_job_states
from jagadata.notify.models import OutboxMessage
from jagadata.rights import reminders
from jagadata.rights.jobs import SWEEP_JOB

DYING_SWEEP = """
import os, signal, sys
from datetime import datetime
from jagadata.config import get_settings
from jagadata.db import make_engine, session_factory
from jagadata.rights import reminders

original = reminders._remind
done = []

def remind_then_die(*args, **kwargs):
    original(*args, **kwargs)  # the messages are in the outbox, the entry on the timeline
    done.append(1)
    if len(done) == int(sys.argv[2]):
        os.kill(os.getpid(), signal.SIGKILL)  # before this request's commit

reminders._remind = remind_then_die
engine = make_engine(get_settings().effective_database_url)
reminders.sweep(sessions=session_factory(engine), now=datetime.fromisoformat(sys.argv[1]))
"""


@pytest.fixture
def sessions(migrated_engine: Engine) -> sessionmaker[Session]:
    return session_factory(migrated_engine)


@pytest.fixture
def fake() -> Faker:
    fake = Faker("id_ID")
    fake.seed_instance(5_2026)
    return fake


@pytest.fixture
def gelato(settings: Settings, sessions: sessionmaker[Session], fake: Faker) -> Org:
    return members_of(sessions, fake, "la-gelato-academy")


@pytest.fixture
def quiet_queue(settings: Settings) -> Iterator[JobQueue]:
    """A queue nobody consumes: messages stay in the outbox, where the test counts them."""
    queue = make_queue(settings)
    previous = install_queue(queue)
    yield queue
    install_queue(previous)
    queue.close()


def test_the_sweep_is_a_periodic_job_every_five_minutes() -> None:
    _jobs, periodic_jobs = load_all_jobs()
    schedule = periodic_jobs[SWEEP_JOB].schedule
    due = [minute for minute in range(60) if schedule(datetime(2026, 11, 23, 8, minute))]
    assert due == list(range(0, 60, 5))


def test_a_worker_has_the_timeline_hooks_the_web_service_has() -> None:
    """A request the sweep closes changes status: a worker (which loads only jobs modules)
    must send the status callbacks the web service would."""
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "from jagadata.jobs.registry import load_all_jobs; load_all_jobs(); "
            "from jagadata.rights import service; "
            "print(*(f'{h.__module__}.{h.__name__}' for h in service._EVENT_HOOKS))",
        ],
        capture_output=True,
        check=True,
        timeout=60,
    )
    assert "jagadata.rights.callbacks.send_status_callbacks" in loaded.stdout.decode().split()


def test_the_queue_runs_the_sweep_once_per_slot_and_records_it(
    settings: Settings,
    sessions: sessionmaker[Session],
    gelato: Org,
    fake: Faker,
    smtp_server: RecordingSmtpServer,
    delivering_queue: JobQueue,
) -> None:
    now = datetime.now(UTC)
    reference = file(sessions, gelato, fake, at=now - 40 * HOUR)  # 55 % of its 72 hours
    delivering_queue.enqueue(SWEEP_JOB)
    with sessions() as session:
        [state] = [s for s in periodic_job_states(session=session) if s.name == SWEEP_JOB]
    assert state.status == RunStatus.DONE and state.runs == 1
    reminded = [e for e in smtp_server.received if gelato.staff in e.recipients]
    assert len(reminded) == 1
    assert reference in text_of(reminded[0])
    assert "/admin/o/la-gelato-academy/requests/" in text_of(reminded[0])
    assert kinds(sessions, gelato, reference).count("reminded") == 1


def _outbox(sessions: sessionmaker[Session], org: Org) -> int:
    with sessions() as session:
        scope(session, org.id)
        return int(session.scalar(select(func.count()).select_from(OutboxMessage)) or 0)


def test_a_worker_killed_mid_sweep_leaves_whole_steps_and_the_next_sweep_sends_once(
    settings: Settings,
    database_url: str,
    sessions: sessionmaker[Session],
    gelato: Org,
    fake: Faker,
    quiet_queue: JobQueue,
    tmp_path: Path,
) -> None:
    references = [file(sessions, gelato, fake) for _ in range(5)]
    moment = RECEIVED + 40 * HOUR
    killed = subprocess.run(
        [sys.executable, "-c", DYING_SWEEP, moment.isoformat(), "3"],
        env={**os.environ, "JAGADATA_DATABASE_URL": database_url},
        cwd=tmp_path,
        capture_output=True,
        timeout=120,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()
    # per request: an acknowledgement to the person and a reminder to the owner and the staff
    per_request = 3
    done = [r for r in references if "reminded" in kinds(sessions, gelato, r)]
    assert done == references[:2], "the third request's step died with the worker"
    for reference in references[2:]:
        assert "acknowledged" not in kinds(sessions, gelato, reference)
    assert _outbox(sessions, gelato) == 2 * per_request

    finished = reminders.SweepReport()
    for _ in range(50):  # PostgreSQL may take a moment to end the dead worker's transaction
        finished.add(
            reminders.sweep_organisation(
                sessions=sessions, organisation_id=gelato.id, now=moment, settings=settings
            )
        )
        if finished.reminded == len(references) - 2:
            break
        time.sleep(0.1)
    assert (finished.reminded, finished.acknowledged, finished.failed) == (3, 3, 0)
    for reference in references:
        timeline = kinds(sessions, gelato, reference)
        assert timeline.count("reminded") == timeline.count("acknowledged") == 1
    assert _outbox(sessions, gelato) == len(references) * per_request
    later = reminders.sweep_organisation(
        sessions=sessions,
        organisation_id=gelato.id,
        now=moment + timedelta(minutes=5),
        settings=settings,
    )
    assert (later.reminded, later.acknowledged) == (0, 0)
    assert _outbox(sessions, gelato) == len(references) * per_request
