"""Children's consent fixtures: the app on a clock the test moves, a real local SMTP server the
outbox delivers to (aiosmtpd), a queue that delivers as soon as a transaction commits, and a
MilleaLab API key."""

from __future__ import annotations

import secrets
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

TESTS = Path(__file__).resolve().parent.parent
for folder in ("accounts", "consent", "notify"):
    sys.path.insert(0, str(TESTS / folder))

from accounts_fixtures import clock, faker_id, sessions_of  # noqa: E402
from accounts_helpers import Clock  # noqa: E402
from consent_helpers import MILLEALAB, make_key  # noqa: E402
from notify_servers import RecordingSmtpServer  # noqa: E402
from whatsapp_cloud_fake import WhatsAppCloudFake  # noqa: E402

from jagadata.config import Settings, get_settings  # noqa: E402
from jagadata.jobs import JobQueue, install_queue, make_queue  # noqa: E402

__all__ = ["clock", "faker_id", "sessions_of"]


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
def mail_settings(
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
    smtp_server: RecordingSmtpServer,
    whatsapp_cloud: WhatsAppCloudFake,
) -> Settings:
    """This process's settings send email and WhatsApp messages through the local servers."""
    for name, value in {
        "WHATSAPP_API_URL": whatsapp_cloud.base_url,
        "WHATSAPP_TOKEN": whatsapp_cloud.token,
        "WHATSAPP_PHONE_NUMBER_ID": whatsapp_cloud.phone_number_id,
        "DATABASE_URL": database_url,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_server.port),
        "SMTP_SECURITY": "none",
        "MAIL_FROM": "jagadata <noreply@jagadata.test>",
    }.items():
        monkeypatch.setenv(f"JAGADATA_{name}", value)
    get_settings.cache_clear()
    return get_settings()


@pytest.fixture
def delivering_queue(mail_settings: Settings) -> Iterator[JobQueue]:
    """Every message is delivered when the transaction that wrote it commits."""
    queue = make_queue(mail_settings, immediate=True)
    previous = install_queue(queue)
    yield queue
    install_queue(previous)
    queue.close()


@pytest.fixture
def web(app: FastAPI, clock: Clock, delivering_queue: JobQueue) -> Iterator[TestClient]:
    """A browser on the app (cookies kept), with the app on the test's clock."""
    app.state.clock = clock
    with TestClient(app, base_url="http://testserver") as client:
        yield client


@pytest.fixture
def api_key(sessions_of: sessionmaker[Session], web: TestClient) -> str:
    return make_key(sessions_of, MILLEALAB, ["consent:read", "consent:write"])
