"""Fixtures of the opt-in tests: the app on the test's clock, sending through a local SMTP
server (aiosmtpd) and a local WhatsApp Cloud API, with each outbox job run as it is enqueued
(the real delivery), and helpers to read what was sent."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "notify"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "accounts"))

from accounts_helpers import Clock
from notify_servers import ReceivedEmail, RecordingSmtpServer
from whatsapp_cloud_fake import WhatsAppCloudFake

from jagadata.config import Settings, get_settings
from jagadata.jobs import install_queue, make_queue

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
LINK = re.compile(r"https?://\S+")


@dataclass
class Outside:
    """The world outside jagadata: a mail server and WhatsApp."""

    smtp: RecordingSmtpServer
    whatsapp: WhatsAppCloudFake
    app_secret: str
    verify_token: str


@pytest.fixture
def outside(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> Iterator[Outside]:
    smtp = RecordingSmtpServer().start()
    whatsapp = WhatsAppCloudFake(
        token=secrets.token_urlsafe(24), phone_number_id=str(secrets.randbelow(10**15))
    ).start()
    for name, value in {
        "DATABASE_URL": settings.effective_database_url,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp.port),
        "SMTP_SECURITY": "none",
        "MAIL_FROM": "La Gelato Academy <noreply@jagadata.test>",
        "WHATSAPP_API_URL": whatsapp.base_url,
        "WHATSAPP_TOKEN": whatsapp.token,
        "WHATSAPP_PHONE_NUMBER_ID": whatsapp.phone_number_id,
    }.items():
        monkeypatch.setenv(f"JAGADATA_{name}", value)
    get_settings.cache_clear()
    queue = make_queue(get_settings(), immediate=True)
    previous = install_queue(queue)
    yield Outside(smtp, whatsapp, secrets.token_urlsafe(32), secrets.token_urlsafe(16))
    install_queue(previous)
    queue.close()
    whatsapp.stop()
    smtp.stop()


@pytest.fixture
def optin_app(settings: Settings, outside: Outside, clock: Clock) -> Iterator[FastAPI]:
    from jagadata.web.app import create_app

    app = create_app(
        settings.model_copy(
            update={
                "whatsapp_app_secret": outside.app_secret,
                "whatsapp_verify_token": outside.verify_token,
            }
        )
    )
    app.state.clock = clock
    yield app
    app.state.engine.dispose()


@pytest.fixture
def web(optin_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(optin_app, base_url="http://testserver") as client:
        yield client


@pytest.fixture
def app_sessions(optin_app: FastAPI) -> sessionmaker[Session]:
    factory: sessionmaker[Session] = optin_app.state.sessions
    return factory


def csrf_of(page: str) -> str:
    found = CSRF.search(page)
    assert found, "the page has no CSRF field"
    return found.group(1)


def links_in(email: ReceivedEmail) -> list[str]:
    body = email.message.get_body(("plain",))
    assert body is not None
    return LINK.findall(body.get_content())


def text_of(email: ReceivedEmail) -> str:
    body = email.message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def path_of(url: str) -> str:
    return url.replace("http://testserver", "")


def signed_post(client: TestClient, secret: str, document: Any) -> Any:
    raw = json.dumps(document).encode()
    signature = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return client.post(
        "/api/v1/whatsapp/webhook",
        content=raw,
        headers={"content-type": "application/json", "x-hub-signature-256": signature},
    )


def whatsapp_delivery(
    sender: str, text: str | None = None, *, button: str | None = None, context: str | None = None
) -> tuple[str, dict[str, Any]]:
    """A webhook delivery of one message as the Cloud API sends it; returns its id too."""
    wamid = "wamid." + secrets.token_urlsafe(24)
    message: dict[str, Any] = {"from": sender, "id": wamid, "timestamp": "1763900000"}
    if button is not None:
        message.update(type="button", button={"payload": button, "text": button})
    else:
        message.update(type="text", text={"body": text or ""})
    if context:
        message["context"] = {"from": "15550000000", "id": context}
    document = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"phone_number_id": "106540352242922"},
                            "contacts": [{"profile": {"name": "Pelanggan"}, "wa_id": sender}],
                            "messages": [message],
                        },
                    }
                ],
            }
        ],
    }
    return wamid, document
