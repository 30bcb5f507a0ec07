"""Breach register fixtures: MilleaLab published with its platform database built on SQLite
and PostgreSQL and connected as an encrypted secret; a real local SMTP server the outbox
delivers to; seeded Faker id_ID people."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from faker import Faker
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

TESTS = Path(__file__).resolve().parent.parent
for folder in ("notify", "breach", "accounts", "audit", "console"):
    sys.path.insert(0, str(TESTS / folder))
sys.path.insert(0, str(TESTS))

from accounts_fixtures import clock, faker_id, sessions_of, web  # noqa: E402
from breach_platform import Mapped, build  # noqa: E402
from mail_fixtures import (  # noqa: E402
    delivering_queue,
    mail_settings,
    smtp_server,
    whatsapp_cloud,
)

from jagadata.config import Settings  # noqa: E402
from jagadata.datastores.service import store_secret  # noqa: E402
from jagadata.db import session_factory  # noqa: E402
from jagadata.db.tenancy import scope  # noqa: E402
from jagadata.orgs.models import Organisation  # noqa: E402
from scratch_databases import scratch_target  # noqa: E402

__all__ = [
    "clock",
    "delivering_queue",
    "faker_id",
    "mail_settings",
    "sessions_of",
    "smtp_server",
    "web",
    "whatsapp_cloud",
]


@pytest.fixture
def sessions(migrated_engine: Engine) -> sessionmaker[Session]:
    return session_factory(migrated_engine)


@pytest.fixture
def fake() -> Faker:
    fake = Faker("id_ID")
    fake.seed_instance(46_2022)
    return fake


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def platform_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """MilleaLab's platform database, empty, on SQLite and PostgreSQL in turn."""
    with scratch_target(request.param, tmp_path / "platform") as url:
        yield url


@pytest.fixture
def millealab(
    settings: Settings, sessions: sessionmaker[Session], platform_url: str, fake: Faker
) -> Mapped:
    """MilleaLab (published by `settings`) with its platform database built and connected."""
    platform = build(platform_url, fake)
    with sessions() as session:
        organisation = session.scalars(
            select(Organisation).where(Organisation.slug == "millealab")
        ).one()
        scope(session, organisation.id)
        store_secret(session, organisation.id, "platform_db", platform_url)
        session.commit()
        return Mapped(organisation.id, organisation.slug, platform_url, platform)
