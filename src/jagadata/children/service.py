"""Children's consent through a verified parent or guardian (UU PDP Art. 25).

A child's data is specific data (Art. 4(2)(e)); processing it needs the consent of a parent or
guardian (Art. 25(2)). So a guardian names their email or WhatsApp number, receives a 6-digit
code through the outbox, and only once the code is verified may they consent or refuse, for the
child, to the purposes asked, with the exact texts of the manifest version in force. Each
operation is one transaction with its audit entry; the caller commits (`atomic`).

The age rule and the purposes shown are in `purposes.py`, an adult's own consent in `adult.py`;
their names are re-exported here, the package's one service surface.
"""

from __future__ import annotations

import hmac
import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from jagadata.audit.service import Actor, record
from jagadata.children.adult import record_adult_consent
from jagadata.children.models import CODE_DIGITS, MAX_ATTEMPTS, GuardianVerification, Origin
from jagadata.children.purposes import (
    ART_25,
    FORM_CHANNELS,
    GuardianProblem,
    Offer,
    TooManyCodes,
    age_on,
    asks_age,
    channel_for,
    evidence_of,
    manifest_in_force,
    minimum_age,
    offers,
    today,
)
from jagadata.children.texts import code_email, code_whatsapp, receipt_message
from jagadata.consent.models import Channel, EventKind
from jagadata.consent.schemas import EventIn, Identity
from jagadata.consent.service import LedgerEvent, Recorded, record_events
from jagadata.crypto import get_keyring
from jagadata.db.tenancy import acting_for
from jagadata.i18n import N_
from jagadata.identities import IdentityKind, InvalidIdentity, identity_hash, normalise_identity
from jagadata.manifest.schema import Manifest
from jagadata.notify.service import enqueue_email, enqueue_whatsapp
from jagadata.orgs.models import Organisation

CODE_LIFETIME: Final = timedelta(minutes=30)
"""A code, and the consent page it opens, last this long after it is sent."""
CODES_PER_CONTACT: Final = 5
"""At most this many codes go to one guardian's contact per CODES_WINDOW (no one floods it)."""
CODES_WINDOW: Final = timedelta(hours=1)
GUARDIAN_KINDS: Final = (IdentityKind.EMAIL, IdentityKind.PHONE)


class Outcome(StrEnum):
    VERIFIED = "verified"
    WRONG = "wrong"
    LOCKED = "locked"
    EXPIRED = "expired"
    USED = "used"


@dataclass(frozen=True)
class Started:
    verification: GuardianVerification
    code: str
    link: str


@dataclass(frozen=True)
class Checked:
    outcome: Outcome
    attempts_left: int
    grant: str | None = None


def guardian_reference(kind: IdentityKind, value: str) -> str:
    return identity_hash(kind, value)


def _code_hash(public_id: str, code: str) -> str:
    return get_keyring().lookup_hash("guardian.code", f"{public_id}:{code}")


def _grant_hash(public_id: str, grant: str) -> str:
    return get_keyring().lookup_hash("guardian.grant", f"{public_id}:{grant}")


def new_child_ref() -> str:
    """A pseudonymous reference for a child the organisation has not named."""
    return f"anon_{uuid.uuid4()}"


def start_verification(
    *,
    session: Session,
    organisation: Organisation,
    child_ref: str,
    purposes: Sequence[str] | None,
    contact_kind: IdentityKind | str,
    contact: str,
    lang: str,
    base_url: str,
    origin: Origin,
    actor: Actor,
    now: datetime,
    channel: Channel | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
) -> Started:
    """Write a verification and put the code in the outbox to the guardian, in the caller's
    transaction; GuardianProblem if the contact or a purpose is not usable."""
    kind = IdentityKind(contact_kind)
    if kind not in GUARDIAN_KINDS:
        raise GuardianProblem("guardian.kind", N_("Give an email address or a WhatsApp number."))
    try:
        normalised = normalise_identity(kind, contact)
    except InvalidIdentity:
        raise GuardianProblem(
            "guardian.value",
            N_("This is not a valid email address.")
            if kind is IdentityKind.EMAIL
            else N_("This is not a valid WhatsApp number; write it as 0812… or +62 812…."),
        ) from None
    guardian_ref = guardian_reference(kind, normalised)
    if guardian_ref == child_ref:
        raise GuardianProblem(
            "guardian.value", N_("The parent or guardian must be another person than the child.")
        )
    number, manifest, terms = manifest_in_force(session=session, organisation=organisation, now=now)
    shown = offers(manifest=manifest, terms=terms, lang=lang, wanted=purposes)
    if _recent_codes(session, organisation.id, guardian_ref, now) >= CODES_PER_CONTACT:
        raise TooManyCodes(
            "guardian.value",
            N_(
                "Too many codes were sent to this contact in the last hour; try again later "
                "or use another contact."
            ),
        )
    channel = channel_for(shown, kind, channel)
    public_id = secrets.token_hex(16)
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    with acting_for(session, organisation.id):
        verification = GuardianVerification(
            organisation_id=organisation.id,
            public_id=public_id,
            child_ref=child_ref,
            guardian_ref=guardian_ref,
            contact_kind=kind.value,
            contact=normalised,
            purposes=[offer.purpose for offer in shown],
            manifest_version=number,
            language=lang,
            origin=origin.value,
            channel=channel.value,
            code_hash=_code_hash(public_id, code),
            attempts=0,
            created_at=now,
            expires_at=now + CODE_LIFETIME,
        )
        session.add(verification)
        session.flush()
        link = f"{base_url.rstrip('/')}/o/{organisation.slug}/guardian/{public_id}?lang={lang}"
        name = manifest.organisation.display_name
        minutes = int(CODE_LIFETIME.total_seconds() // 60)
        if kind is IdentityKind.EMAIL:
            subject, text = code_email(lang, name, code, link, minutes)
            enqueue_email(
                session=session,
                organisation_id=organisation.id,
                to=normalised,
                subject=subject,
                text=text,
                lang=lang,
            )
        else:
            enqueue_whatsapp(
                session=session,
                organisation_id=organisation.id,
                to=normalised,
                text=code_whatsapp(lang, name, code, link, minutes),
            )
        record(
            session=session,
            organisation_id=organisation.id,
            actor=actor,
            action="guardian.verification_started",
            target_type="guardian_verification",
            target_id=verification.id,
            subject_ref=guardian_ref,
            ip=ip,
            user_agent=user_agent,
            details={
                "channel": kind.value,
                "purposes": verification.purposes,
                "origin": origin.value,
                "manifest_version": number,
            },
            occurred_at=now,
        )
    return Started(verification, code, link)


def _recent_codes(session: Session, organisation_id: int, guardian_ref: str, now: datetime) -> int:
    with acting_for(session, organisation_id):
        return len(
            session.scalars(
                select(GuardianVerification.id).where(
                    GuardianVerification.organisation_id == organisation_id,
                    GuardianVerification.guardian_ref == guardian_ref,
                    GuardianVerification.created_at > now - CODES_WINDOW,
                )
            ).all()
        )


def find_verification(
    *, session: Session, organisation_id: int, public_id: str
) -> GuardianVerification | None:
    with acting_for(session, organisation_id):
        return session.scalars(
            select(GuardianVerification).where(
                GuardianVerification.organisation_id == organisation_id,
                GuardianVerification.public_id == public_id,
            )
        ).one_or_none()


def check_code(
    *,
    session: Session,
    verification: GuardianVerification,
    code: str,
    now: datetime,
    ip: str | None = None,
    user_agent: str | None = None,
) -> Checked:
    """Try a code; the caller commits whatever the outcome, so attempts are counted.

    A code is good once, before `expires_at`, within MAX_ATTEMPTS tries; the fifth wrong one
    locks the verification. A right code gives a grant: the one-time key to the consent form.
    """
    left = max(0, MAX_ATTEMPTS - verification.attempts)
    if verification.locked_at is not None:
        return Checked(Outcome.LOCKED, 0)
    if verification.verified_at is not None or verification.decided_at is not None:
        return Checked(Outcome.USED, left)
    if now >= verification.expires_at:
        return Checked(Outcome.EXPIRED, left)
    if not _count_attempt(session, verification):
        # another attempt was counted meanwhile: answer from the row as it is now
        session.refresh(verification)
        if verification.locked_at is not None:
            return Checked(Outcome.LOCKED, 0)
        if verification.verified_at is not None:
            return Checked(Outcome.USED, max(0, MAX_ATTEMPTS - verification.attempts))
        return Checked(Outcome.WRONG, max(0, MAX_ATTEMPTS - verification.attempts))
    left = MAX_ATTEMPTS - verification.attempts
    given = "".join(code.split())
    right = (
        hmac.compare_digest(_code_hash(verification.public_id, given), verification.code_hash)
        and len(given) == CODE_DIGITS
    )
    actor = Actor.data_subject(verification.guardian_ref)
    outcome = Outcome.VERIFIED if right else Outcome.WRONG
    grant = None
    if right:
        verification.verified_at = now
        grant = secrets.token_urlsafe(24)
        verification.grant_hash = _grant_hash(verification.public_id, grant)
        action = "guardian.verified"
    elif left <= 0:
        verification.locked_at = now
        outcome = Outcome.LOCKED
        action = "guardian.locked"
    else:
        action = "guardian.code_refused"
    with acting_for(session, verification.organisation_id):
        session.flush()
        record(
            session=session,
            organisation_id=verification.organisation_id,
            actor=actor,
            action=action,
            target_type="guardian_verification",
            target_id=verification.id,
            subject_ref=verification.guardian_ref,
            ip=ip,
            user_agent=user_agent,
            details={"attempts": verification.attempts},
            occurred_at=now,
        )
    return Checked(outcome, max(0, left), grant)


def _count_attempt(session: Session, verification: GuardianVerification) -> bool:
    """Count one attempt with a compare-and-set, so parallel guesses cannot share an attempt:
    False when the row changed since it was read (another attempt, a lock, a verification)."""
    seen = verification.attempts
    with acting_for(session, verification.organisation_id):
        counted = session.execute(
            update(GuardianVerification)
            .where(
                GuardianVerification.id == verification.id,
                GuardianVerification.attempts == seen,
                GuardianVerification.locked_at.is_(None),
                GuardianVerification.verified_at.is_(None),
            )
            .values(attempts=seen + 1)
            .execution_options(synchronize_session=False)
        )
    if getattr(counted, "rowcount", 0) != 1:
        return False
    set_committed_value(verification, "attempts", seen + 1)
    return True


def _claim_decision(session: Session, verification: GuardianVerification, now: datetime) -> bool:
    """Mark the verification decided with a compare-and-set: a decision is recorded once."""
    with acting_for(session, verification.organisation_id):
        claimed = session.execute(
            update(GuardianVerification)
            .where(
                GuardianVerification.id == verification.id,
                GuardianVerification.decided_at.is_(None),
            )
            .values(decided_at=now)
            .execution_options(synchronize_session=False)
        )
    if getattr(claimed, "rowcount", 0) != 1:
        return False
    set_committed_value(verification, "decided_at", now)
    return True


def grant_valid(verification: GuardianVerification, grant: str | None, now: datetime) -> bool:
    """The guardian verified their code and holds the grant it gave, still in time, unused."""
    if (
        not grant
        or verification.grant_hash is None
        or verification.verified_at is None
        or verification.decided_at is not None
        or now >= verification.verified_at + CODE_LIFETIME
    ):
        return False
    return hmac.compare_digest(_grant_hash(verification.public_id, grant), verification.grant_hash)


def record_decisions(
    *,
    session: Session,
    organisation: Organisation,
    verification: GuardianVerification,
    decisions: Mapping[str, bool],
    lang: str,
    base_url: str,
    now: datetime,
    actor: Actor | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
) -> Recorded:
    """Record the verified guardian's decisions: for each purpose the guardian's own event and
    the child's, whose guardian_ref is the guardian's verified identity, in one batch (one
    transaction, one stretch of the chain). Refused (Art. 25) without a verified guardian."""
    if verification.verified_at is None or verification.locked_at is not None:
        raise GuardianProblem("guardian", ART_25)
    if verification.decided_at is not None:
        raise GuardianProblem(
            "verification", N_("This consent was already given or refused; the link is used.")
        )
    unknown = sorted(set(decisions) - set(verification.purposes))
    if unknown:
        raise GuardianProblem(
            "decisions",
            N_("{purpose} was not among the purposes the guardian was asked about."),
            purpose=unknown[0],
        )
    missing = [p for p in verification.purposes if p not in decisions]
    if missing:
        raise GuardianProblem(
            "decisions",
            N_("Say yes or no for every purpose: {purpose} has no answer."),
            purpose=missing[0],
        )
    channel = Channel(verification.channel)
    number, manifest, terms = manifest_in_force(session=session, organisation=organisation, now=now)
    shown = {
        offer.purpose: offer
        for offer in offers(manifest=manifest, terms=terms, lang=lang, wanted=verification.purposes)
    }
    guardian = Identity(kind=IdentityKind(verification.contact_kind), value=verification.contact)
    evidence = evidence_of(ip, user_agent, f"guardian-verification:{verification.id}")
    events: list[EventIn] = []
    for purpose in verification.purposes:
        offer = shown[purpose]
        kind = EventKind.GIVEN if decisions[purpose] else EventKind.REFUSED
        common = {
            "kind": kind,
            "purpose": purpose,
            "language": offer.language,
            "channel": channel,
            "manifest_version": number,
            "notice_hash": offer.notice_hash,
            "evidence": evidence,
            "occurred_at": now,
        }
        if not offer.terms.children_only:
            events.append(EventIn(subject=guardian, keep_contact=True, **common))
        events.append(
            EventIn(
                subject_ref=verification.child_ref,
                child=True,
                guardian_ref=verification.guardian_ref,
                **common,
            )
        )
    who = actor or Actor.data_subject(verification.guardian_ref)
    if not _claim_decision(session, verification, now):
        raise GuardianProblem(
            "verification", N_("This consent was already given or refused; the link is used.")
        )
    with acting_for(session, organisation.id):
        recorded = record_events(
            session=session,
            organisation_id=organisation.id,
            events=events,
            actor=who,
            now=now,
            ip=ip,
            user_agent=user_agent,
            action="guardian.consented",
        )
        verification.decisions = {p: bool(decisions[p]) for p in verification.purposes}
        verification.event_sequences = [e.sequence for e in recorded.events]
        verification.grant_hash = None
        session.flush()
        receipts = [
            e for e in recorded.events if e.receipt_id and e.subject_ref == verification.child_ref
        ]
        if receipts:
            _send_receipts(session, organisation, verification, manifest, receipts, base_url)
    return recorded


def _send_receipts(
    session: Session,
    organisation: Organisation,
    verification: GuardianVerification,
    manifest: Manifest,
    events: list[LedgerEvent],
    base_url: str,
) -> None:
    """The child's receipts to the guardian, through the outbox, after commit."""
    links = [
        f"{base_url.rstrip('/')}/o/{organisation.slug}/receipts/{e.receipt_id}" for e in events
    ]
    name = manifest.organisation.display_name
    subject, text = receipt_message(verification.language, name, links)
    if verification.contact_kind == IdentityKind.EMAIL.value:
        enqueue_email(
            session=session,
            organisation_id=organisation.id,
            to=verification.contact,
            subject=subject,
            text=text,
            lang=verification.language,
        )
    else:
        enqueue_whatsapp(
            session=session, organisation_id=organisation.id, to=verification.contact, text=text
        )


__all__ = [
    "ART_25",
    "CODE_LIFETIME",
    "FORM_CHANNELS",
    "Checked",
    "GuardianProblem",
    "Offer",
    "Outcome",
    "Started",
    "TooManyCodes",
    "age_on",
    "asks_age",
    "channel_for",
    "check_code",
    "find_verification",
    "grant_valid",
    "manifest_in_force",
    "minimum_age",
    "new_child_ref",
    "offers",
    "record_adult_consent",
    "record_decisions",
    "start_verification",
    "today",
]
