"""Withdrawing consent (UU PDP Art. 9, 40), letting it lapse when it was given for a limited
time, and erasing the contact kept for a person — each recorded, never by editing the ledger."""

from __future__ import annotations

from datetime import datetime
from typing import Final

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from jagadata.audit.service import Actor, record
from jagadata.consent.models import Channel, ConsentContact, ConsentState, EventKind, Status
from jagadata.consent.schemas import EventIn, Evidence, Language
from jagadata.consent.service import Recorded, record_events
from jagadata.consent.state import given_purposes
from jagadata.db.base import utcnow
from jagadata.db.tenancy import acting_for

EXPIRY_ACTOR: Final = Actor.system("consent expiry")
EXPIRY_BATCH: Final = 500


def withdraw(
    *,
    session: Session,
    organisation_id: int,
    subject_ref: str,
    actor: Actor,
    purposes: list[str] | None = None,
    language: Language = "id",
    channel: Channel = Channel.API,
    occurred_at: datetime | None = None,
    evidence: Evidence | None = None,
    idempotency_key: str | None = None,
    now: datetime | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
) -> Recorded:
    """Record `withdrawn` for the purposes named, or for every purpose now consented to.

    With an idempotency key, a retry records nothing new (the key names the whole request).
    """
    chosen = (
        purposes
        if purposes is not None
        else given_purposes(
            session=session, organisation_id=organisation_id, subject_ref=subject_ref
        )
    )
    if not chosen:
        return Recorded([])
    events = [
        EventIn(
            kind=EventKind.WITHDRAWN,
            purpose=purpose,
            subject_ref=subject_ref,
            language=language,
            channel=channel,
            occurred_at=occurred_at,
            evidence=evidence or Evidence(),
        )
        for purpose in dict.fromkeys(chosen)
    ]
    return record_events(
        session=session,
        organisation_id=organisation_id,
        events=events,
        actor=actor,
        batch_key=f"withdraw:{idempotency_key}" if idempotency_key else None,
        now=now,
        ip=ip,
        user_agent=user_agent,
        action="consent.withdrawn",
    )


def expire_due(*, session: Session, organisation_id: int, now: datetime | None = None) -> int:
    """Record `expired` for consents whose time ran out (`renew_after`); count them. Checks
    already deny them; the events make the lapse visible in the ledger."""
    now = now or utcnow()
    total = 0
    while True:
        with acting_for(session, organisation_id):
            due = session.execute(
                select(
                    ConsentState.subject_ref, ConsentState.purpose, ConsentState.manifest_version
                )
                .where(
                    ConsentState.organisation_id == organisation_id,
                    ConsentState.status == Status.GIVEN.value,
                    ConsentState.expires_at <= now,
                )
                .order_by(ConsentState.subject_ref, ConsentState.purpose)
                .limit(EXPIRY_BATCH)
            ).all()
        if not due:
            return total
        events = [
            EventIn(
                kind=EventKind.EXPIRED,
                purpose=row.purpose,
                subject_ref=row.subject_ref,
                language="id",
                channel=Channel.API,
                occurred_at=now,
                manifest_version=None,
            )
            for row in due
        ]
        record_events(
            session=session,
            organisation_id=organisation_id,
            events=events,
            actor=EXPIRY_ACTOR,
            now=now,
            action="consent.expired",
        )
        total += len(due)


def forget_contact(
    *, session: Session, organisation_id: int, subject_ref: str, actor: Actor
) -> int:
    """Erase the contacts kept for a person (the ledger keeps only the keyed hash); count them."""
    with acting_for(session, organisation_id):
        result = session.execute(
            delete(ConsentContact).where(
                ConsentContact.organisation_id == organisation_id,
                ConsentContact.subject_ref == subject_ref,
            )
        )
    count = int(getattr(result, "rowcount", 0) or 0)
    if count:
        record(
            session=session,
            organisation_id=organisation_id,
            actor=actor,
            action="consent.contact_erased",
            target_type="consent_contact",
            subject_ref=None if subject_ref.startswith("anon_") else subject_ref,
            details={"contacts": count},
        )
    return count


def kept_contact(
    *, session: Session, organisation_id: int, subject_ref: str, kind: str
) -> str | None:
    """The contact kept for a person, decrypted (for sending their receipt)."""
    with acting_for(session, organisation_id):
        contact = session.get(ConsentContact, (organisation_id, subject_ref, kind))
    return contact.value if contact else None
