"""Fixtures of the accounts tests that the console's tests use too (imported by both conftests):
the app on a clock the test moves, a browser-like client, generated people."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from accounts_helpers import Clock
from faker import Faker
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker


@pytest.fixture
def faker_id() -> Faker:
    fake = Faker("id_ID")
    fake.seed_instance(27_2022)
    return fake


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sessions_of(app: FastAPI) -> Iterator[sessionmaker[Session]]:
    """Sessions on the app's database; its engine is closed afterwards even if no client ran
    the app's lifespan."""
    factory: sessionmaker[Session] = app.state.sessions
    yield factory
    app.state.engine.dispose()


@pytest.fixture
def web(app: FastAPI, clock: Clock) -> Iterator[TestClient]:
    """A browser on the app (cookies kept), with the app on the test's clock."""
    app.state.clock = clock
    with TestClient(app, base_url="http://testserver") as client:
        yield client
