"""Who runs the jobs: `jagadata serve` itself when the queue is the SQLite file (so the first
command runs everything), workers when it is Redis; `jagadata worker` explains a dead queue."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import pytest
import redis
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from jagadata.config import get_settings
from jagadata.db import atomic, session_factory
from jagadata.jobs import background_consumer, install_queue, make_queue
from jagadata.notify.models import OutboxMessage, OutboxStatus
from jagadata.notify.service import enqueue_webhook

JAGADATA = [sys.executable, "-c", "from jagadata.cli import main; main()"]
REDIS_URL = os.environ.get("JAGADATA_TEST_REDIS_URL", "redis://127.0.0.1:6379/9")
"""Only pinged and named here: nothing is written to it."""

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _worker_command() -> list[str]:
    from jagadata.cli import app

    if any(command.name == "worker" for command in app.registered_commands):
        return [*JAGADATA, "worker"]
    return [
        sys.executable,
        "-c",
        "import typer; from jagadata.cli.worker import worker_command; typer.run(worker_command)",
    ]


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def environment(
    monkeypatch: pytest.MonkeyPatch, database_url: str, migrated_engine: Engine
) -> Iterator[dict[str, str]]:
    """JAGADATA_* for this process and its children: the test database, English messages."""
    monkeypatch.setenv("JAGADATA_DATABASE_URL", database_url)
    monkeypatch.setenv("JAGADATA_LANG", "en")
    get_settings.cache_clear()
    yield {**os.environ, "PYTHONUNBUFFERED": "1"}
    get_settings.cache_clear()


@pytest.fixture
def sessions(migrated_engine: Engine) -> sessionmaker[Session]:
    return session_factory(migrated_engine)


def _webhook_to_nowhere(sessions: sessionmaker[Session]) -> int:
    """An outbox row whose delivery fails at once, so it shows whether a job ran."""
    with sessions() as session, atomic(session):
        message = enqueue_webhook(
            session=session,
            organisation_id=None,
            url=f"http://127.0.0.1:{_closed_port()}/hook",
            event="test.ping",
            payload={},
            secret="not-used",
        )
    return message.id


def _wait_for(condition: Callable[[], bool], seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def _status(sessions: sessionmaker[Session], message_id: int) -> str:
    with sessions() as session:
        return session.scalars(
            select(OutboxMessage.status).where(OutboxMessage.id == message_id)
        ).one()


def test_a_background_consumer_runs_committed_jobs_in_threads(
    environment: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    queue = make_queue(get_settings())
    previous = install_queue(queue)
    try:
        with background_consumer(queue, workers=1):
            message_id = _webhook_to_nowhere(sessions)
            attempted = _wait_for(lambda: _status(sessions, message_id) != "pending")
    finally:
        install_queue(previous)
        queue.close()
    assert attempted, "the consumer never ran the delivery"
    assert _status(sessions, message_id) == OutboxStatus.FAILED


def test_serve_runs_the_jobs_itself_when_the_queue_is_the_sqlite_file(
    environment: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    queue = make_queue(get_settings())
    previous = install_queue(queue)
    port = _closed_port()
    server = subprocess.Popen(
        [*JAGADATA, "serve", "--port", str(port)],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        message_id = _webhook_to_nowhere(sessions)
        attempted = _wait_for(lambda: _status(sessions, message_id) != "pending", 60)
    finally:
        install_queue(previous)
        queue.close()
        server.send_signal(signal.SIGINT)
        output, _ = server.communicate(timeout=60)
    assert attempted, output
    expected = f"Background jobs run inside this process (queue: {queue.description})."
    assert expected in output
    assert "Traceback" not in output


def test_serve_leaves_the_jobs_to_workers_when_the_queue_is_redis(
    environment: dict[str, str],
) -> None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis at {REDIS_URL} cannot be used: {error}", pytrace=False)
        pytest.skip(f"Redis at {REDIS_URL} cannot be used: {error}")
    server = subprocess.Popen(
        [*JAGADATA, "serve", "--port", str(_closed_port())],
        env={**environment, "JAGADATA_REDIS_URL": REDIS_URL},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert server.stdout is not None
    lines = []
    for line in server.stdout:
        lines.append(line)
        if "Press Ctrl+C" in line:
            break
    server.send_signal(signal.SIGINT)
    output = "".join(lines) + server.communicate(timeout=60)[0]
    assert (
        f"Background jobs are run by workers (queue: Redis {REDIS_URL}); start them with: "
        "jagadata worker" in output
    )


def test_a_worker_explains_a_queue_it_cannot_reach(environment: dict[str, str]) -> None:
    result = subprocess.run(
        [*_worker_command(), "--lang", "en"],
        env={**environment, "JAGADATA_REDIS_URL": "redis://127.0.0.1:1/0"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "Cannot use the job queue Redis redis://127.0.0.1:1/0:" in result.stderr
    assert "JAGADATA_REDIS_URL" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
