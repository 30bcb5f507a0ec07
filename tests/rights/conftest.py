"""Request fixtures: the app on a clock the test moves, a real local SMTP server the outbox
delivers to (aiosmtpd), and a queue that delivers as soon as a transaction commits."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

TESTS = Path(__file__).resolve().parent.parent
for folder in ("accounts", "notify", "rights"):
    sys.path.insert(0, str(TESTS / folder))

from accounts_fixtures import clock, faker_id, sessions_of  # noqa: E402
from accounts_helpers import Clock  # noqa: E402
from mail_fixtures import (  # noqa: E402
    delivering_queue,
    mail_settings,
    smtp_server,
    whatsapp_cloud,
)

from jagadata.jobs import JobQueue  # noqa: E402

__all__ = [
    "clock",
    "delivering_queue",
    "faker_id",
    "mail_settings",
    "sessions_of",
    "smtp_server",
    "whatsapp_cloud",
]


@pytest.fixture
def web(app: FastAPI, clock: Clock, delivering_queue: JobQueue) -> Iterator[TestClient]:
    """A browser on the app (cookies kept), on the test's clock, delivering email at commit."""
    app.state.clock = clock
    with TestClient(app, base_url="http://testserver") as client:
        yield client
