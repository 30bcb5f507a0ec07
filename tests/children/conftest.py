"""Children's consent fixtures: the app on a clock the test moves, a real local SMTP server the
outbox delivers to (aiosmtpd), a queue that delivers as soon as a transaction commits, and a
MilleaLab API key."""

from __future__ import annotations

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
    """A browser on the app (cookies kept), with the app on the test's clock."""
    app.state.clock = clock
    with TestClient(app, base_url="http://testserver") as client:
        yield client


@pytest.fixture
def api_key(sessions_of: sessionmaker[Session], web: TestClient) -> str:
    return make_key(sessions_of, MILLEALAB, ["consent:read", "consent:write"])
