"""Fixtures for the outbox's tests: real local SMTP, WhatsApp and webhook servers, settings
pointing at them, and a queue that runs each job as soon as it is enqueued."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator

import pytest
from faker import Faker
from notify_servers import RecordingSmtpServer, WebhookReceiver
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from whatsapp_cloud_fake import WhatsAppCloudFake

from jagadata.config import Settings, get_settings
from jagadata.db import session_factory, utcnow
from jagadata.jobs import JobQueue, install_queue, make_queue
from jagadata.orgs.models import Organisation


@pytest.fixture
def faker() -> Faker:
    fake = Faker("id_ID")
    fake.seed_instance(3)
    return fake


@pytest.fixture
def smtp_server() -> Iterator[RecordingSmtpServer]:
    server = RecordingSmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def whatsapp_cloud() -> Iterator[WhatsAppCloudFake]:
    fake = WhatsAppCloudFake(
        token=secrets.token_urlsafe(24), phone_number_id=str(secrets.randbelow(10**15))
    ).start()
    yield fake
    fake.stop()


@pytest.fixture
def webhook_secret() -> str:
    return secrets.token_urlsafe(32)


@pytest.fixture
def webhook_receiver(webhook_secret: str) -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver(webhook_secret).start()
    yield receiver
    receiver.stop()


@pytest.fixture
def outbox_settings(
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
    migrated_engine: Engine,
    smtp_server: RecordingSmtpServer,
    whatsapp_cloud: WhatsAppCloudFake,
) -> Settings:
    """This process's settings: the migrated test database, sending through the local servers."""
    for name, value in {
        "DATABASE_URL": database_url,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_server.port),
        "SMTP_SECURITY": "none",
        "MAIL_FROM": "jagadata <noreply@jagadata.test>",
        "WHATSAPP_API_URL": whatsapp_cloud.base_url,
        "WHATSAPP_TOKEN": whatsapp_cloud.token,
        "WHATSAPP_PHONE_NUMBER_ID": whatsapp_cloud.phone_number_id,
    }.items():
        monkeypatch.setenv(f"JAGADATA_{name}", value)
    get_settings.cache_clear()
    return get_settings()


@pytest.fixture
def immediate_queue(outbox_settings: Settings) -> Iterator[JobQueue]:
    """This process's queue runs each job synchronously when a transaction commits."""
    queue = make_queue(outbox_settings, immediate=True)
    previous = install_queue(queue)
    yield queue
    install_queue(previous)
    queue.close()


@pytest.fixture
def parked_queue(outbox_settings: Settings) -> Iterator[JobQueue]:
    """This process's queue is a real SQLite queue that no worker takes from."""
    queue = make_queue(outbox_settings)
    previous = install_queue(queue)
    yield queue
    install_queue(previous)
    queue.close()


@pytest.fixture
def sessions(migrated_engine: Engine) -> sessionmaker[Session]:
    return session_factory(migrated_engine)


@pytest.fixture
def make_organisation(sessions: sessionmaker[Session], faker: Faker) -> Callable[[], int]:
    """Adds an organisation with a generated name; returns its id."""

    def make() -> int:
        with sessions() as session:
            organisation = Organisation(
                slug=f"org-{secrets.token_hex(4)}", name=faker.company(), created_at=utcnow()
            )
            session.add(organisation)
            session.commit()
            return organisation.id

    return make


@pytest.fixture
def organisation_id(make_organisation: Callable[[], int]) -> int:
    return make_organisation()
