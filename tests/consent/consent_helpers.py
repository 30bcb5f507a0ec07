"""Helpers for consent tests: API keys, people made with Faker, events to send, and what an
attacker with access to the database would do to the ledger."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from faker import Faker
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from jagadata.accounts import keys as api_keys
from jagadata.audit.service import Actor, PersonalDataRefused
from jagadata.db import atomic
from jagadata.orgs.service import get_organisation

GELATO = "la-gelato-academy"
MILLEALAB = "millealab"
ATTACKER_DROPS = {
    "sqlite": ["DROP TRIGGER consent_event_no_update", "DROP TRIGGER consent_event_no_delete"],
    "postgresql": ["DROP TRIGGER consent_event_append_only ON consent_event"],
}


@dataclass(frozen=True)
class Keys:
    writer: str
    reader: str
    policy: str
    millealab: str


def organisation_id(factory: sessionmaker[Session], slug: str) -> int:
    with factory() as session:
        organisation = get_organisation(session=session, slug=slug)
        assert organisation is not None
        return organisation.id


def make_key(factory: sessionmaker[Session], slug: str, scopes: list[str]) -> str:
    """A new API key. A random prefix that happens to look like a phone number (0812...) is
    refused by the audit trail (a known issue of `create_key`): such a draw is retried."""
    for _ in range(5):
        try:
            with factory() as session, atomic(session):
                _, token = api_keys.create_key(
                    session=session,
                    organisation_id=organisation_id(factory, slug),
                    name="toko",
                    scopes=scopes,
                    actor=Actor.system("test"),
                )
                return token
        except PersonalDataRefused:
            continue
    raise AssertionError("no API key could be created")


def bearer(token: str, **headers: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}", **headers}


def email(faker: Faker) -> dict[str, str]:
    """A generated person's email identity, as the API takes it."""
    return {"kind": "email", "value": faker.unique.free_email()}


def event(subject: dict[str, str] | str, kind: str = "given", **fields: Any) -> dict[str, Any]:
    """A marketing consent event of La Gelato Academy, as the API takes it."""
    who: dict[str, Any] = (
        {"subject_ref": subject} if isinstance(subject, str) else {"subject": subject}
    )
    return {
        "kind": kind,
        "purpose": "marketing",
        "language": "id",
        "channel": "web_form",
        "evidence": {"ip": "203.0.113.57", "user_agent": "Mozilla/5.0 (test)"},
        **who,
        **fields,
    }


def as_attacker(engine: Engine, *statements: str, **values: object) -> None:
    """Raw SQL straight to the database, with the ledger's append-only triggers dropped."""
    with engine.begin() as connection:
        for drop in ATTACKER_DROPS[engine.dialect.name]:
            connection.execute(text(drop))
        for statement in statements:
            connection.execute(text(statement), values)


def record(
    factory: sessionmaker[Session],
    slug: str,
    events: list[dict[str, Any]],
    *,
    batch_key: str | None = None,
    now: Any = None,
) -> list[Any]:
    """Record a batch through the service (as the system), committed; the events recorded."""
    from jagadata.consent.schemas import EventIn
    from jagadata.consent.service import record_events

    with factory() as session, atomic(session):
        recorded = record_events(
            session=session,
            organisation_id=organisation_id(factory, slug),
            events=[EventIn.model_validate(e) for e in events],
            actor=Actor.system("test"),
            batch_key=batch_key,
            now=now,
        )
    return recorded.events


def cross_session(factory: sessionmaker[Session]) -> Session:
    session = factory()
    session.info["all_organisations"] = True
    return session


def check(
    factory: sessionmaker[Session], slug: str, subject_ref: str, purpose: str, now: Any
) -> Any:
    from jagadata.consent.state import check as check_state

    with factory() as session:
        return check_state(
            session=session,
            organisation_id=organisation_id(factory, slug),
            subject_ref=subject_ref,
            purpose=purpose,
            now=now,
        )


def publish(factory: sessionmaker[Session], text_: str) -> int:
    """Publish a new version of an organisation's manifest from its YAML; its number."""
    from jagadata.manifest.loader import load_manifest_text
    from jagadata.orgs.service import update_organisation

    with factory() as session:
        publication = update_organisation(
            session=session, loaded=load_manifest_text(text_, file="next.yaml")
        )
    return publication.version.number
