"""Several machines, on one: two `jagadata serve` and two `jagadata worker` processes share a
PostgreSQL database and a Redis queue. People file requests through the privacy centre of
both web processes (each request's code is emailed through the outbox), shops send consent
through the API of both, the periodic jobs run, and one worker is killed with SIGKILL while
it sends. Every job still completes exactly once in effect: each outbox message reaches the
SMTP server once, each consent event is recorded once, no request is lost, every chain
verifies, and a periodic job runs at most once a minute whichever worker runs it."""

from __future__ import annotations

import gc
import os
import signal
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import redis
from consent_helpers import make_key
from faker import Faker
from several_machines_support import (
    ORG,
    REDIS_URL,
    Process,
    SmtpServer,
    Traffic,
    answering,
    file_requests,
    free_port,
    jagadata,
    send_consent,
    wait_for,
)
from sqlalchemy import Engine, func, select

from jagadata.consent.models import ConsentEvent
from jagadata.db import make_engine, session_factory, utcnow
from jagadata.db.migrate import upgrade
from jagadata.db.tenancy import cross_organisation_session
from jagadata.jobs.models import PeriodicJobState
from jagadata.manifest.loader import LoadedManifest
from jagadata.notify.models import OutboxMessage, OutboxStatus
from jagadata.ops.verify import ChainKind, verify_chains
from jagadata.orgs.service import add_organisation, get_organisation
from jagadata.rights.models import RightsRequest
from scratch_databases import scratch_postgres_database

FILERS_PER_WEB = 2
REQUESTS_PER_FILER = 8
CONSENT_SENDERS_PER_WEB = 2
BATCHES_PER_SENDER = 8
EVENTS_PER_BATCH = 5
DELIVERED_BEFORE_HOLD = 6
WORKER_THREADS = 2
LEASE_SECONDS = 3


def _require_redis() -> None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        message = f"Redis at {REDIS_URL} cannot be used ({error}); start it (scripts/services)"
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


@pytest.fixture
def shared_database(example_manifests: tuple[LoadedManifest, ...]) -> Iterator[Engine]:
    """A scratch PostgreSQL database, migrated, with the example organisations published."""
    with scratch_postgres_database() as url:
        engine = make_engine(url)
        upgrade(engine)
        with session_factory(engine)() as session:
            for loaded in example_manifests:
                add_organisation(session=session, loaded=loaded)
        yield engine
        gc.collect()  # sessions the test dropped give their connections back before the pool closes
        engine.dispose()


@pytest.fixture
def queue_database() -> Iterator[str]:
    _require_redis()
    redis.Redis.from_url(REDIS_URL).flushdb()
    yield REDIS_URL
    redis.Redis.from_url(REDIS_URL).flushdb()


def _consent_batches(faker: Faker, senders: int) -> list[list[list[dict[str, object]]]]:
    return [
        [
            [
                {
                    "kind": "given",
                    "purpose": "marketing",
                    "language": "id",
                    "channel": "web_form",
                    "evidence": {"ip": "203.0.113.57", "user_agent": "Mozilla/5.0 (test)"},
                    "subject": {"kind": "email", "value": faker.unique.free_email()},
                }
                for _ in range(EVENTS_PER_BATCH)
            ]
            for _ in range(BATCHES_PER_SENDER)
        ]
        for _ in range(senders)
    ]


def test_two_web_processes_and_two_workers_complete_every_job_once_when_a_worker_dies(
    shared_database: Engine, queue_database: str, tmp_path: Path
) -> None:
    faker = Faker("id_ID")
    faker.seed_instance(4242)
    sessions = session_factory(shared_database)
    token = make_key(sessions, ORG, ["consent:read", "consent:write"])
    started = utcnow()
    with SmtpServer(hold_after=DELIVERED_BEFORE_HOLD) as smtp:
        environment = {
            **os.environ,
            "JAGADATA_DATABASE_URL": shared_database.url.render_as_string(hide_password=False),
            "JAGADATA_REDIS_URL": queue_database,
            "JAGADATA_BASE_URL": "http://127.0.0.1",
            "JAGADATA_SMTP_HOST": "127.0.0.1",
            "JAGADATA_SMTP_PORT": str(smtp.port),
            "JAGADATA_SMTP_SECURITY": "none",
            "JAGADATA_MAIL_FROM": "jagadata <noreply@jagadata.test>",
            "JAGADATA_LANG": "en",
            "PYTHONUNBUFFERED": "1",
        }
        worker = jagadata("worker", "--workers", str(WORKER_THREADS), "--lease", str(LEASE_SECONDS))
        ports = [free_port(), free_port()]
        processes = [
            *(Process(f"worker-{n}", worker, environment, tmp_path) for n in (1, 2)),
            *(
                Process(f"web-{n}", jagadata("serve", "--port", str(port)), environment, tmp_path)
                for n, port in enumerate(ports, start=1)
            ),
        ]
        logs = [process.log for process in processes]
        try:
            for process in processes:
                process.start()
            urls = [f"http://127.0.0.1:{port}" for port in ports]
            wait_for(lambda: all(answering(url) for url in urls), "both web processes", 90, logs)
            traffic = _burst(urls, token, faker)
            for thread in traffic[1]:
                thread.start()
            # every worker thread is in the middle of a send when one worker is killed
            wait_for(lambda: smtp.handler.held == 2 * WORKER_THREADS, "all sends held", 60, logs)
            victim = processes[0].running()
            victim.send_signal(signal.SIGKILL)
            assert victim.wait(timeout=10) == -signal.SIGKILL
            wait_for(lambda: smtp.handler.cut >= 1, "the killed worker's sends cut off", 10, logs)
            smtp.handler.release()
            for thread in traffic[1]:
                thread.join(timeout=60)
            survivors = processes[1:]
            for process in survivors:
                process.running()
            # the killed worker's claims run out after the lease; the reconciler hands them on
            wait_for(lambda: _outbox_empty(shared_database), "an empty outbox", 150, logs)
        finally:
            for process in processes:
                process.stop()
    finished = utcnow()
    _check(traffic[0], smtp, shared_database, started, finished, logs)


def _burst(urls: list[str], token: str, faker: Faker) -> tuple[Traffic, list[threading.Thread]]:
    traffic = Traffic()
    threads = []
    batches = iter(_consent_batches(faker, CONSENT_SENDERS_PER_WEB * len(urls)))
    for web, url in enumerate(urls):
        for filer in range(FILERS_PER_WEB):
            emails = [
                f"{web}.{filer}.{n}.{faker.user_name()}@example.test"
                for n in range(REQUESTS_PER_FILER)
            ]
            number = web * FILERS_PER_WEB + filer + 1
            threads.append(
                threading.Thread(target=file_requests, args=(url, number, emails, traffic))
            )
        for _ in range(CONSENT_SENDERS_PER_WEB):
            threads.append(
                threading.Thread(target=send_consent, args=(url, token, next(batches), traffic))
            )
    return traffic, threads


def _outbox_empty(engine: Engine) -> bool:
    with session_factory(engine)() as session:
        waiting = session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.status != OutboxStatus.SENT.value)
        )
    return waiting == 0


def _check(
    traffic: Traffic,
    smtp: SmtpServer,
    engine: Engine,
    started: datetime,
    finished: datetime,
    logs: list[Path],
) -> None:
    assert not traffic.problems, traffic.problems
    assert len(traffic.filed) == 2 * FILERS_PER_WEB * REQUESTS_PER_FILER
    with cross_organisation_session(session_factory(engine)) as session:
        outbox = session.execute(
            select(OutboxMessage.message_id, OutboxMessage.attempts, OutboxMessage.status)
        ).all()
        requests = {r.reference: r.contact for r in session.scalars(select(RightsRequest))}
        organisation = get_organisation(session=session, slug=ORG)
        assert organisation is not None
        events = session.scalars(
            select(ConsentEvent.sequence).where(ConsentEvent.organisation_id == organisation.id)
        ).all()
        periodic = {state.name: state for state in session.scalars(select(PeriodicJobState))}

    # each outbox message reached the SMTP server exactly once; the cut ones were sent again
    received = Counter(email.message_id for email in smtp.handler.received)
    assert set(received) == {message_id for message_id, _, _ in outbox}
    assert all(count == 1 for count in received.values()), received.most_common(3)
    assert {status for _, _, status in outbox} == {OutboxStatus.SENT.value}
    taken_over = [message_id for message_id, attempts, _ in outbox if attempts > 1]
    assert len(taken_over) >= smtp.handler.cut >= 1, "the killed worker's sends were taken over"

    # no request lost: each answered filing is there, for its address, with its code emailed once
    for reference, email in traffic.filed.items():
        assert requests.get(reference) == email, reference
        codes = [
            e
            for e in smtp.handler.received
            if email in e.recipients and reference in str(e.message["Subject"])
        ]
        assert len(codes) == 1, (reference, len(codes))

    # each consent event recorded once, in one unbroken ledger
    sent = CONSENT_SENDERS_PER_WEB * 2 * BATCHES_PER_SENDER * EVENTS_PER_BATCH
    assert traffic.consent_sent == sent
    assert sorted(traffic.consent_sequences) == sorted(events) == list(range(1, sent + 1))
    verification = verify_chains(engine)
    assert verification.ok, verification.broken
    assert verification.count(ChainKind.TIMELINE) == len(requests)

    # the periodic jobs ran (the reconciler at least), none twice in one minute, none failed
    assert "jobs.reconcile" in periodic
    minutes = int((finished - started) / timedelta(minutes=1)) + 2
    for name, state in periodic.items():
        assert state.status == "done" and state.last_error is None, (name, state.last_error)
        assert 1 <= state.runs <= minutes, (name, state.runs, minutes)
    for log in logs:
        text = log.read_text()
        assert "Traceback" not in text, f"{log.name}:\n{text[text.find('Traceback') :][:3000]}"
