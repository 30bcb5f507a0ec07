"""Organisations to audit, and sessions to read every chain."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from faker import Faker
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from jagadata.db import atomic, session_factory
from jagadata.orgs.models import Organisation


@pytest.fixture
def factory(migrated_engine: Engine) -> sessionmaker[Session]:
    return session_factory(migrated_engine)


@pytest.fixture
def organisations(factory: sessionmaker[Session]) -> tuple[int, int]:
    """Two organisations' ids, with no audit entries yet."""
    faker = Faker("id_ID")
    with factory() as session, atomic(session):
        made = [
            Organisation(slug=slug, name=faker.company(), created_at=datetime.now(UTC))
            for slug in ("toko-a", "toko-b")
        ]
        session.add_all(made)
        session.flush()
        return made[0].id, made[1].id


@pytest.fixture
def cross_session(factory: sessionmaker[Session]) -> Iterator[Session]:
    with factory() as session:
        session.info["all_organisations"] = True
        yield session
