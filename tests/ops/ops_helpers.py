"""Data for the backup tests, made the way jagadata makes it: organisations published, consent
recorded, requests filed, the audit trail written by the services themselves."""

from __future__ import annotations

from typing import Any

from faker import Faker
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from jagadata.audit.service import Actor, record
from jagadata.consent.schemas import EventIn
from jagadata.consent.service import record_events
from jagadata.db import atomic, session_factory
from jagadata.db.migrate import upgrade
from jagadata.db.tenancy import cross_organisation_session, scope
from jagadata.manifest.loader import LoadedManifest
from jagadata.ops.archive import encode_value
from jagadata.ops.backup import backup_tables, copy_select
from jagadata.orgs.service import add_organisation, get_organisation
from jagadata.rights.service import file_request

GELATO = "la-gelato-academy"


def consent_event(faker: Faker, kind: str = "given") -> dict[str, Any]:
    return {
        "kind": kind,
        "purpose": "marketing",
        "language": "id",
        "channel": "web_form",
        "evidence": {"ip": "203.0.113.57", "user_agent": "Mozilla/5.0 (test)"},
        "subject": {"kind": "email", "value": faker.unique.free_email()},
    }


def populate(engine: Engine, manifests: tuple[LoadedManifest, ...], faker: Faker) -> None:
    """Publish the example organisations, record consent, file requests, audit a few actions."""
    upgrade(engine)
    sessions: sessionmaker[Session] = session_factory(engine)
    with sessions() as session:
        for loaded in manifests:
            add_organisation(session=session, loaded=loaded)
    with sessions() as session, atomic(session):
        organisation = get_organisation(session=session, slug=GELATO)
        assert organisation is not None
        scope(session, organisation.id)
        record_events(
            session=session,
            organisation_id=organisation.id,
            events=[EventIn.model_validate(consent_event(faker)) for _ in range(12)],
            actor=Actor.system("test"),
        )
        for _ in range(5):
            file_request(
                session=session,
                organisation=organisation,
                right="access",
                identifier="email",
                value=faker.unique.free_email(),
            )
    with cross_organisation_session(sessions) as session, atomic(session):
        record(
            session=session,
            organisation_id=None,
            actor=Actor.system("test"),
            action="backup.test",
            details={"note": "system chain"},
        )


def file_more(engine: Engine, faker: Faker) -> None:
    """File one more request and audit it, as the restored service would."""
    with session_factory(engine)() as session, atomic(session):
        organisation = get_organisation(session=session, slug=GELATO)
        assert organisation is not None
        scope(session, organisation.id)
        file_request(
            session=session,
            organisation=organisation,
            right="access",
            identifier="email",
            value=faker.unique.free_email(),
        )


def stored_rows(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    """Every table's stored values (ciphertext as stored), in primary-key order."""
    tables = {}
    with engine.connect() as connection:
        for table in backup_tables():
            names = [c.name for c in table.columns]
            tables[table.name] = [
                {k: encode_value(v) for k, v in zip(names, row, strict=True)}
                for row in connection.execute(copy_select(table))
            ]
    return tables
