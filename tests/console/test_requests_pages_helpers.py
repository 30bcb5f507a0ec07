"""Filing requests for the console's request pages, as the privacy centre and the API do."""

from __future__ import annotations

from datetime import datetime, timedelta

from accounts_helpers import GELATO, Clock
from faker import Faker
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from jagadata.audit.service import Actor
from jagadata.db import atomic
from jagadata.db.tenancy import cross_organisation_session, scope
from jagadata.orgs.service import get_organisation
from jagadata.rights import service
from jagadata.rights.models import RightsRequest

BASE = f"/admin/o/{GELATO}/requests"
STAFF = Actor.user(999_999, "test")


def file(
    factory: sessionmaker[Session],
    faker: Faker,
    received: datetime,
    *,
    right: str = "access",
    org: str = GELATO,
    started: bool = False,
) -> str:
    """A request received at `received` (verified and started when asked); its reference."""
    with factory() as session:
        organisation = get_organisation(session=session, slug=org)
        assert organisation is not None
        scope(session, organisation.id)
        with atomic(session):
            filed = service.file_request(
                session=session,
                organisation=organisation,
                right=right,
                identifier="email",
                value=faker.unique.email(),
                received_at=received,
            )
            if started:
                service.verify_manually(
                    session, filed.request, actor=STAFF, reason="dikenal staf", now=received
                )
                service.start(session, filed.request, actor=STAFF, now=received)
        return filed.request.reference


def stored(factory: sessionmaker[Session], reference: str) -> RightsRequest:
    with cross_organisation_session(factory) as session:
        found = session.scalars(
            select(RightsRequest).where(RightsRequest.reference == reference)
        ).one()
        session.expunge(found)
        return found


def after_registration(factory: sessionmaker[Session], clock: Clock, days: int = 3) -> None:
    """Move the app's clock to `days` after the organisation was registered (at the real time
    the test database was made), so a request can have arrived in between."""
    with factory() as session:
        organisation = get_organisation(session=session, slug=GELATO)
        assert organisation is not None
        clock.now = organisation.created_at + timedelta(days=days)
