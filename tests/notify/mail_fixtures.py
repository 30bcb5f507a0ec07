"""Fixtures for tests whose app sends messages for real: a local SMTP server (aiosmtpd) and a
local server speaking the WhatsApp Cloud API, this process's settings pointing at them, and a
queue that delivers each message as soon as the transaction that wrote it commits. A conftest
imports them by name."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from notify_servers import RecordingSmtpServer
from whatsapp_cloud_fake import WhatsAppCloudFake

from jagadata.config import Settings, get_settings
from jagadata.jobs import JobQueue, install_queue, make_queue


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
