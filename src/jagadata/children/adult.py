"""A person at or over the manifest's minimum age consents for themselves on the web form; a
child is refused here and sent to a parent or guardian (Art. 25 UU PDP)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.orm import Session

from jagadata.audit.service import Actor
from jagadata.children.purposes import (
    ART_25,
    GuardianProblem,
    asks_age,
    evidence_of,
    manifest_in_force,
    minimum_age,
    offers,
)
from jagadata.consent.models import Channel, EventKind
from jagadata.consent.schemas import EventIn, Identity
from jagadata.consent.service import Recorded, record_events
from jagadata.i18n import N_
from jagadata.identities import InvalidIdentity, identity_hash
from jagadata.orgs.models import Organisation


def record_adult_consent(
    *,
    session: Session,
    organisation: Organisation,
    subject: Identity,
    age: int,
    decisions: Mapping[str, bool],
    lang: str,
    now: datetime,
    ip: str | None = None,
    user_agent: str | None = None,
) -> Recorded:
    """A person at or over the minimum age consents for themselves on the web form; a child is
    refused here (Art. 25) and must go through a guardian."""
    number, manifest, terms = manifest_in_force(session=session, organisation=organisation, now=now)
    if asks_age(manifest) and age < minimum_age(manifest):
        raise GuardianProblem("age", ART_25)
    shown = {
        o.purpose: o for o in offers(manifest=manifest, terms=terms, lang=lang, for_children=False)
    }
    unknown = sorted(set(decisions) - set(shown))
    if unknown:
        raise GuardianProblem(
            "decisions",
            N_("{purpose} is not a consent-based purpose of the policy in force."),
            purpose=unknown[0],
        )
    try:
        reference = identity_hash(subject.kind, subject.value)
    except InvalidIdentity:
        raise GuardianProblem(
            "subject.value", N_("This is not a valid email address or WhatsApp number.")
        ) from None
    events = [
        EventIn(
            kind=EventKind.GIVEN if decisions.get(purpose) else EventKind.REFUSED,
            purpose=purpose,
            subject_ref=reference,
            language=offer.language,
            channel=Channel.WEB_FORM,
            manifest_version=number,
            notice_hash=offer.notice_hash,
            evidence=evidence_of(ip, user_agent),
            occurred_at=now,
        )
        for purpose, offer in shown.items()
    ]
    return record_events(
        session=session,
        organisation_id=organisation.id,
        events=events,
        actor=Actor.data_subject(reference),
        now=now,
        ip=ip,
        user_agent=user_agent,
    )
