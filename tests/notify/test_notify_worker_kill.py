"""The promise of the outbox, tested the hard way: `kill -9` a real `jagadata worker` while it
delivers a batch of emails, start another, and every message still arrives at the SMTP server,
repeats carrying the same Message-ID so a receiver can drop them. Huey on SQLite and on Redis.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from notify_servers import RecordingSmtpServer, SmtpBehaviour
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from jagadata.config import get_settings
from jagadata.db import atomic, session_factory, utcnow
from jagadata.jobs import install_queue, make_queue
from jagadata.notify.models import OutboxMessage, OutboxStatus
from jagadata.notify.service import enqueue_email

BATCH = 40
HELD_AFTER = 12
LEASE_SECONDS = 3
_XDIST_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
REDIS_URL = os.environ.get(
    "JAGADATA_TEST_REDIS_URL", f"redis://127.0.0.1:6379/{15 - _XDIST_WORKER % 6}"
)
"""A Redis database of the tests' own (one per parallel test process), flushed before and after."""


def _worker_command() -> list[str]:
    """`jagadata worker` as installed; before the command is wired, the same function."""
    from jagadata.cli import app

    if any(command.name == "worker" for command in app.registered_commands):
        return [sys.executable, "-c", "from jagadata.cli import main; main()", "worker"]
    return [
        sys.executable,
        "-c",
        "import typer; from jagadata.cli.worker import worker_command; typer.run(worker_command)",
    ]


def _require_redis() -> None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        message = f"Redis at {REDIS_URL} cannot be used ({error}); start it (scripts/services)"
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


@pytest.fixture
def slow_smtp_server() -> Iterator[RecordingSmtpServer]:
    """Accepts the first messages a little slowly, then holds the rest until released."""
    server = RecordingSmtpServer(SmtpBehaviour(delay=0.02, hold_after=HELD_AFTER)).start()
    yield server
    server.stop()


def _wait_for(condition: Callable[[], bool], what: str, seconds: float, log: Path) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen in {seconds} s; worker log:\n{log.read_text()}")
        time.sleep(0.05)


def _count(session: Session, *statuses: OutboxStatus) -> int:
    query = select(func.count()).select_from(OutboxMessage)
    if statuses:
        query = query.where(OutboxMessage.status.in_([s.value for s in statuses]))
    return int(session.scalar(query) or 0)


@pytest.mark.parametrize(
    ("database_url", "queue_backend"),
    [
        ("sqlite", "sqlite"),
        ("sqlite", "redis"),
        pytest.param("postgresql", "redis", marks=pytest.mark.postgres),
    ],
    indirect=["database_url"],
)
def test_kill_9_mid_batch_then_a_new_worker_delivers_every_message(
    queue_backend: str,
    database_url: str,
    migrated_engine: Engine,
    slow_smtp_server: RecordingSmtpServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    environment = {
        "JAGADATA_DATABASE_URL": database_url,
        "JAGADATA_SMTP_HOST": "127.0.0.1",
        "JAGADATA_SMTP_PORT": str(slow_smtp_server.port),
        "JAGADATA_SMTP_SECURITY": "none",
        "JAGADATA_MAIL_FROM": "jagadata <noreply@jagadata.test>",
        "JAGADATA_LANG": "en",
    }
    if queue_backend == "redis":
        _require_redis()
        redis.Redis.from_url(REDIS_URL).flushdb()
        environment["JAGADATA_REDIS_URL"] = REDIS_URL
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    settings = get_settings()
    queue = make_queue(settings)
    previous = install_queue(queue)
    sessions = session_factory(migrated_engine)
    log = tmp_path / "worker.log"
    workers: list[subprocess.Popen[bytes]] = []

    def start_worker() -> subprocess.Popen[bytes]:
        with log.open("ab") as output:
            worker = subprocess.Popen(
                [*_worker_command(), "--workers", "2", "--lease", str(LEASE_SECONDS)],
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        workers.append(worker)
        return worker

    try:
        with sessions() as session, atomic(session):
            batch = [
                enqueue_email(
                    session=session,
                    organisation_id=None,
                    to=f"penerima{n}@example.test",
                    subject=f"Pemberitahuan {n}",
                    text=f"Pesan nomor {n}.",
                ).message_id
                for n in range(BATCH)
            ]
        assert queue.pending_count() == BATCH, "one nudge per message, sent after the commit"

        first = start_worker()
        _wait_for(lambda: slow_smtp_server.held >= 1, "the first worker reaching the gate", 30, log)
        with sessions() as session:
            in_flight = _count(session, OutboxStatus.SENDING)
            assert _count(session, OutboxStatus.SENT) < BATCH
        assert in_flight >= 1, "the worker is killed while it is sending"
        first.send_signal(signal.SIGKILL)
        assert first.wait(timeout=10) == -signal.SIGKILL

        slow_smtp_server.behaviour.hold_after = None
        slow_smtp_server.release()
        with sessions() as session:  # the dead worker's claims stand until their lease runs out
            leases = session.scalars(
                select(OutboxMessage.lease_until).where(
                    OutboxMessage.status == OutboxStatus.SENDING.value
                )
            ).all()
        last_lease = max(lease for lease in leases if lease is not None)
        _wait_for(lambda: utcnow() > last_lease, "the killed worker's lease running out", 30, log)

        second = start_worker()

        def all_sent() -> bool:
            with sessions() as session:
                return _count(session, OutboxStatus.SENT) == BATCH

        _wait_for(all_sent, "delivery of the whole batch", 45, log)
        second.send_signal(signal.SIGINT)
        assert second.wait(timeout=30) == 0, log.read_text()
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait(timeout=10)
        install_queue(previous)
        queue.close()
        if queue_backend == "redis":
            redis.Redis.from_url(REDIS_URL).flushdb()

    received = slow_smtp_server.received
    copies = Counter(email.message_id for email in received)
    assert set(copies) == set(batch), "every message arrived, and nothing else"
    repeats = {message_id for message_id, count in copies.items() if count > 1}
    assert repeats, "the message cut off by kill -9 was sent again"
    for message_id in repeats:
        versions = {
            (str(e.message["Subject"]), str(e.message["Date"]), e.message.get_content())
            for e in received
            if e.message_id == message_id
        }
        assert len(versions) == 1, "a repeat is the same message under the same Message-ID"
    output = log.read_text()
    assert "Traceback" not in output
    assert "Worker stopped." in output
    with sessions() as session:
        assert _count(session) == _count(session, OutboxStatus.SENT) == BATCH


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_sigterm_lets_the_worker_finish_the_message_it_is_sending(
    database_url: str,
    migrated_engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    server = RecordingSmtpServer(SmtpBehaviour(hold_after=0)).start()
    for name, value in {
        "JAGADATA_DATABASE_URL": database_url,
        "JAGADATA_SMTP_HOST": "127.0.0.1",
        "JAGADATA_SMTP_PORT": str(server.port),
        "JAGADATA_SMTP_SECURITY": "none",
        "JAGADATA_LANG": "en",
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    queue = make_queue(get_settings())
    previous = install_queue(queue)
    sessions = session_factory(migrated_engine)
    log = tmp_path / "worker.log"
    try:
        with sessions() as session, atomic(session):
            enqueue_email(
                session=session, organisation_id=None, to="a@example.test", subject="s", text="t"
            )
        with log.open("ab") as output:
            worker = subprocess.Popen(
                [*_worker_command(), "--workers", "1"],
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        try:
            _wait_for(lambda: server.held == 1, "the worker sending the message", 30, log)
            worker.send_signal(signal.SIGTERM)
            _wait_for(lambda: "Received SIGTERM" in log.read_text(), "the signal", 30, log)
            with sessions() as session:
                assert _count(session, OutboxStatus.SENDING) == 1
            server.release()
            assert worker.wait(timeout=30) == 0, log.read_text()
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait(timeout=10)
    finally:
        install_queue(previous)
        queue.close()
        server.stop()
    with sessions() as session:
        assert _count(session, OutboxStatus.SENT) == 1
    assert len(server.received) == 1
    assert "Worker stopped." in log.read_text()
