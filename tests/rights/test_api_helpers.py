"""Helpers and fixtures of the requests API's tests: API keys, OpenDSR bodies made with Faker's
id_ID people, and the staff's side of a request moved through the service on a session."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from faker import Faker
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from jagadata.accounts import keys as api_keys
from jagadata.audit.service import Actor, PersonalDataRefused
from jagadata.db import atomic
from jagadata.db.tenancy import scope
from jagadata.orgs.service import get_organisation
from jagadata.rights.models import RightsRequest

GELATO = "la-gelato-academy"
MILLEALAB = "millealab"
STAFF = Actor.user(1, "staff")


@dataclass(frozen=True)
class Keys:
    writer: str
    reader: str
    consent: str
    millealab: str


def with_requests_api(app: FastAPI) -> FastAPI:
    """The app as served: `create_app` includes the requests API."""
    return app


def organisation_id(factory: sessionmaker[Session], slug: str) -> int:
    with factory() as session:
        organisation = get_organisation(session=session, slug=slug)
        assert organisation is not None
        return organisation.id


def make_key(factory: sessionmaker[Session], slug: str, scopes: list[str]) -> str:
    """A new API key (a prefix that reads as a phone number is refused by the audit trail's
    guard, and drawn again)."""
    for _ in range(5):
        try:
            with factory() as session, atomic(session):
                _, token = api_keys.create_key(
                    session=session,
                    organisation_id=organisation_id(factory, slug),
                    name="aplikasi",
                    scopes=scopes,
                    actor=Actor.system("test"),
                )
                return token
        except PersonalDataRefused:
            continue
    raise AssertionError("no API key could be created")


def make_keys(factory: sessionmaker[Session]) -> Keys:
    return Keys(
        writer=make_key(factory, GELATO, ["requests:read", "requests:write"]),
        reader=make_key(factory, GELATO, ["requests:read"]),
        consent=make_key(factory, GELATO, ["consent:read", "consent:write"]),
        millealab=make_key(factory, MILLEALAB, ["requests:read", "requests:write"]),
    )


def bearer(token: str, **headers: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}", **headers}


def dsr(
    fake: Faker,
    submitted: datetime,
    *,
    kind: str = "access",
    identity: tuple[str, str] | None = None,
    callbacks: list[str] | None = None,
    **jagadata: Any,
) -> dict[str, Any]:
    """An OpenDSR request of a generated person (email unless `identity` says otherwise)."""
    identity_type, value = identity or ("email", fake.unique.free_email())
    body: dict[str, Any] = {
        "subject_request_id": str(uuid.uuid4()),
        "subject_request_type": kind,
        "submitted_time": submitted.isoformat(),
        "subject_identities": [
            {"identity_type": identity_type, "identity_value": value, "identity_format": "raw"}
        ],
        "regulation": "uu-pdp",
        "api_version": "0.8",
    }
    if callbacks is not None:
        body["status_callback_urls"] = callbacks
    if jagadata:
        body["extensions"] = {"jagadata": jagadata}
    return body


@dataclass
class Staff:
    """The organisation's staff moving a request through the service, as the console does."""

    sessions: sessionmaker[Session]

    def session_for(self, slug: str = GELATO) -> Session:
        session = self.sessions()
        scope(session, organisation_id(self.sessions, slug))
        return session

    def find(self, session: Session, subject_request_id: str) -> RightsRequest:
        return session.scalars(
            select(RightsRequest).where(RightsRequest.external_id == subject_request_id)
        ).one()


@pytest.fixture
def fake() -> Faker:
    fake = Faker("id_ID")
    fake.seed_instance(27_2022)
    return fake


@pytest.fixture
def api_app(app: FastAPI) -> FastAPI:
    return with_requests_api(app)


@pytest.fixture
def keys(sessions_of: sessionmaker[Session], api_app: FastAPI) -> Keys:
    return make_keys(sessions_of)


@pytest.fixture
def staff(sessions_of: sessionmaker[Session]) -> Iterator[Staff]:
    yield Staff(sessions_of)
