"""Consent fixtures: the app with the consent API and pages included (the lead wires them into
`create_app`), API keys of two organisations, a clock tests move, generated people."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "accounts"))

from accounts_fixtures import clock, faker_id, sessions_of
from accounts_helpers import Clock
from consent_helpers import GELATO, MILLEALAB, Keys, make_key

__all__ = ["clock", "faker_id", "sessions_of"]


@pytest.fixture
def consent_app(app: FastAPI) -> FastAPI:
    """The app as served: the consent API and receipt pages are part of `create_app()`."""
    return app


@pytest.fixture
def client(consent_app: FastAPI, clock: Clock) -> Iterator[TestClient]:
    consent_app.state.clock = clock
    with TestClient(consent_app, base_url="http://testserver") as client:
        yield client


@pytest.fixture
def keys(sessions_of: sessionmaker[Session], consent_app: FastAPI) -> Keys:
    """Bearer tokens: Gelato read-write, read-only and policy-only; MilleaLab read-write."""
    return Keys(
        writer=make_key(sessions_of, GELATO, ["consent:read", "consent:write"]),
        reader=make_key(sessions_of, GELATO, ["consent:read"]),
        policy=make_key(sessions_of, GELATO, ["policy:read"]),
        millealab=make_key(sessions_of, MILLEALAB, ["consent:read", "consent:write"]),
    )
