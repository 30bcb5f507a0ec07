"""Recording a breach, finding who it affects, sending the notices, and keeping the evidence.

Every step appends to the incident's timeline, hash-chained like a request's (each entry
carries the hash of the one before, the incident row the last one), and to the audit trail.
The people and the authority are told within 3 x 24 hours of discovery (Art. 46(1)); once both
are told the incident is `notified` and its clock stops; `closed` once handled.

    incident = record_incident(session, organisation, manifest, facts, actor=actor)
    assess_incident(session, incident, manifest, actor=actor)   # who is affected
    notify_subjects(session, incident, manifest, actor=actor)   # one message each, outbox
    notify_authority(session, incident, manifest, actor=actor, to="...")
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from jagadata.audit.service import Actor, first_broken_link, record
from jagadata.breach.affected import assess
from jagadata.breach.clock import deadline
from jagadata.breach.models import BreachEvent, BreachIncident, BreachSubject
from jagadata.breach.notices import authority_document, public_document, subject_notice
from jagadata.breach.states import EventKind, IncidentStatus, NoticeStatus
from jagadata.config import Settings
from jagadata.i18n import N_, gettext
from jagadata.manifest.schema import Manifest
from jagadata.notify.channels.whatsapp import MAX_TEXT_LENGTH as WHATSAPP_LIMIT
from jagadata.notify.models import OutboxMessage, OutboxStatus
from jagadata.notify.service import enqueue_email, enqueue_whatsapp
from jagadata.orgs.models import Organisation

GENESIS: Final = "0" * 64
_REFERENCE_ALPHABET: Final = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
TITLE_LIMIT: Final = 200
FACT_LIMIT: Final = 1500
"""Characters of what happened and of the measures: a notice with both (and the rest) still
fits one WhatsApp message (4096 characters)."""


class BreachProblem(ValueError):
    """Something a person asked of the register cannot be done; `message` is a msgid of the
    `breach` domain with {placeholders}, read in the reader's language by `render`."""

    def __init__(self, message: str, **values: object) -> None:
        self.message, self.values = message, values
        super().__init__(self.render("en"))

    def render(self, lang: str) -> str:
        return gettext(lang, self.message, "breach").format(**self.values)


UNKNOWN_SYSTEM: Final = N_(
    "the manifest has no system '{system}': name the systems as the manifest's `systems` list them"
)
UNKNOWN_CATEGORY: Final = N_(
    "the manifest has no data category '{category}': name the categories as `data.categories` "
    "lists them"
)
NO_SYSTEM: Final = N_("name at least one system the breach involves")
FUTURE_DISCOVERY: Final = N_(
    "the moment of discovery is in the future: give when it was discovered"
)
OCCURRED_AFTER_DISCOVERY: Final = N_(
    "the breach cannot have happened after it was discovered: check the two moments"
)
NO_WHAT_HAPPENED: Final = N_(
    "say what happened and how the data was disclosed: the written notices must include it "
    "(Art. 46(2)(b))"
)
NO_MEASURES: Final = N_(
    "say what is being done to handle and recover from it: the written notices must include "
    "it (Art. 46(2)(c))"
)
TITLE_TOO_LONG: Final = N_("the title has more than 200 characters: shorten it")
FACT_TOO_LONG: Final = N_(
    "what happened and the measures have at most {limit} characters each, so that a notice "
    "fits one WhatsApp message: shorten them and give the details in the authority's document"
)
NOT_OPEN: Final = N_("incident {reference} is closed: nothing more can be sent for it")
NOT_ASSESSED: Final = N_(
    "the people affected by {reference} are not known yet: run `jagadata breach assess` first"
)
NO_PUBLIC_INTEREST: Final = N_(
    "a public notice is owed only in the cases of Art. 46(3): record why it applies first "
    "(--public-interest)"
)
UNKNOWN_INCIDENT: Final = N_("no incident {reference} in this organisation")


@dataclass(frozen=True)
class Facts:
    """What a person records about a breach."""

    title: str
    what_happened: str
    measures: str
    discovered_at: datetime
    systems: Sequence[str]
    categories: Sequence[str] = ()
    occurred_at: datetime | None = None
    public_interest: str | None = None


def _now(moment: datetime | None) -> datetime:
    return (moment or datetime.now(UTC)).astimezone(UTC)


def new_reference() -> str:
    """'B-' and 8 characters without look-alikes, read over the phone."""
    return "B-" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))


def _check(facts: Facts, manifest: Manifest, now: datetime) -> None:
    if not facts.systems:
        raise BreachProblem(NO_SYSTEM)
    known = {s.id for s in manifest.systems}
    for system in facts.systems:
        if system not in known:
            raise BreachProblem(UNKNOWN_SYSTEM, system=system)
    for category in facts.categories:
        if manifest.category(category) is None:
            raise BreachProblem(UNKNOWN_CATEGORY, category=category)
    if facts.discovered_at > now:
        raise BreachProblem(FUTURE_DISCOVERY)
    if facts.occurred_at is not None and facts.occurred_at > facts.discovered_at:
        raise BreachProblem(OCCURRED_AFTER_DISCOVERY)
    if len(facts.title) > TITLE_LIMIT:
        raise BreachProblem(TITLE_TOO_LONG)
    for value, problem in ((facts.what_happened, NO_WHAT_HAPPENED), (facts.measures, NO_MEASURES)):
        if not value.strip():
            raise BreachProblem(problem)
        if len(value.strip()) > FACT_LIMIT:
            raise BreachProblem(FACT_TOO_LONG, limit=FACT_LIMIT)


def involved_categories(facts: Facts, manifest: Manifest) -> list[str]:
    """The categories given, or every category of the systems involved."""
    if facts.categories:
        return list(dict.fromkeys(facts.categories))
    wanted = set(facts.systems)
    found: list[str] = []
    for system in manifest.systems:
        if system.id in wanted:
            found.extend(system.categories)
    return list(dict.fromkeys(found))


def record_incident(
    session: Session,
    organisation: Organisation,
    manifest: Manifest,
    facts: Facts,
    *,
    actor: Actor,
    now: datetime | None = None,
) -> BreachIncident:
    """Open an incident and start its clock (from discovery, Art. 46(1))."""
    moment = _now(now)
    _check(facts, manifest, moment)
    discovered = facts.discovered_at.astimezone(UTC)
    occurred = facts.occurred_at.astimezone(UTC) if facts.occurred_at else None
    due = deadline(manifest.breach, discovered, occurred)
    incident = BreachIncident(
        organisation_id=organisation.id,
        reference=new_reference(),
        title=facts.title.strip(),
        what_happened=facts.what_happened.strip(),
        measures=facts.measures.strip(),
        discovered_at=discovered,
        occurred_at=occurred,
        systems=list(dict.fromkeys(facts.systems)),
        categories=involved_categories(facts, manifest),
        status=IncidentStatus.OPEN.value,
        counted_from=due.counted_from,
        due_at=due.due_at,
        deadline=due.explanation,
        public_interest=(facts.public_interest or "").strip() or None,
        affected=None,
        reminders_sent=[],
        created_at=moment,
        last_sequence=0,
        last_hash=GENESIS,
    )
    session.add(incident)
    session.flush()
    append(
        session,
        incident,
        EventKind.RECORDED,
        actor,
        {
            "discovered_at": discovered.isoformat(),
            "occurred_at": occurred.isoformat() if occurred else None,
            "systems": incident.systems,
            "categories": incident.categories,
            "due_at": incident.due_at.isoformat(),
            "deadline": incident.deadline,
            "public_interest": incident.public_interest is not None,
        },
        at=moment,
    )
    _audit(session, incident, actor, "breach.recorded")
    return incident


def get_incident(session: Session, organisation_id: int, reference: str) -> BreachIncident:
    incident = session.scalars(
        select(BreachIncident).where(
            BreachIncident.organisation_id == organisation_id,
            BreachIncident.reference == reference.strip().upper(),
        )
    ).first()
    if incident is None:
        raise BreachProblem(UNKNOWN_INCIDENT, reference=reference)
    return incident


def incidents(session: Session, organisation_id: int) -> list[BreachIncident]:
    """The register, newest discovery first."""
    return list(
        session.scalars(
            select(BreachIncident)
            .where(BreachIncident.organisation_id == organisation_id)
            .order_by(BreachIncident.discovered_at.desc(), BreachIncident.id.desc())
        )
    )


# --- who is affected ------------------------------------------------------------------------


def assess_incident(
    session: Session,
    incident: BreachIncident,
    manifest: Manifest,
    *,
    actor: Actor,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Compute the people affected from the datastore mappings and keep them (keyed hash,
    categories, contact); people already notified keep their notice. Returns the counts."""
    _require_open(incident)
    moment = _now(now)
    assessment = assess(
        session, incident.organisation_id, manifest, incident.systems, incident.categories
    )
    existing = {s.person_ref: s for s in subjects(session, incident)}
    for person in assessment.people:
        row = existing.get(person.ref)
        if row is None:
            row = BreachSubject(
                organisation_id=incident.organisation_id,
                incident_id=incident.id,
                person_ref=person.ref,
                status=(
                    NoticeStatus.DRAFTED
                    if person.email or person.phone
                    else NoticeStatus.NO_CONTACT
                ).value,
            )
            session.add(row)
        row.categories = sorted(person.categories)
        row.systems = sorted(person.systems)
        row.child = person.child
        row.specific = person.specific
        row.language = person.language or "id"
        row.contact = {
            "email": person.email,
            "phone": person.phone,
            "via_guardian": person.via_guardian,
        }
    counts = assessment.counts()
    counts["computed_at"] = moment.isoformat()
    incident.affected = counts
    session.flush()
    append(session, incident, EventKind.ASSESSED, actor, counts, at=moment)
    _audit(session, incident, actor, "breach.assessed")
    return counts


def subjects(session: Session, incident: BreachIncident) -> list[BreachSubject]:
    return list(
        session.scalars(
            select(BreachSubject)
            .where(BreachSubject.incident_id == incident.id)
            .order_by(BreachSubject.id)
        )
    )


# --- notices --------------------------------------------------------------------------------


def notify_subjects(
    session: Session,
    incident: BreachIncident,
    manifest: Manifest,
    *,
    actor: Actor,
    now: datetime | None = None,
    settings: Settings | None = None,
) -> dict[str, int]:
    """Put one written notice per reachable person in the outbox (email when an address is
    known, else WhatsApp), each tracked by its message id. People already sent one are not
    written to twice. Returns how many went by each channel and how many have no contact."""
    _require_open(incident)
    if incident.affected is None:
        raise BreachProblem(NOT_ASSESSED, reference=incident.reference)
    moment = _now(now)
    sent: Counter[str] = Counter()
    message_ids: list[str] = []
    for person in subjects(session, incident):
        if person.status != NoticeStatus.DRAFTED.value:
            continue
        to_guardian = bool(person.contact.get("via_guardian"))
        notice = subject_notice(
            incident, manifest, person.categories, person.language, child=to_guardian
        )
        email, phone = person.contact.get("email"), person.contact.get("phone")
        if email:
            message = enqueue_email(
                session=session,
                organisation_id=incident.organisation_id,
                to=email,
                subject=notice.subject,
                text=notice.text,
                lang=person.language,
                settings=settings,
            )
            person.channel = "email"
        else:
            if len(notice.text) > WHATSAPP_LIMIT:  # both languages do not fit: Indonesian prevails
                notice = subject_notice(
                    incident, manifest, person.categories, None, child=to_guardian
                )
            message = enqueue_whatsapp(
                session=session,
                organisation_id=incident.organisation_id,
                to=str(phone),
                text=notice.text,
            )
            person.channel = "whatsapp"
        person.message_id = message.message_id
        person.status = NoticeStatus.QUEUED.value
        person.notified_at = moment
        sent[person.channel] += 1
        message_ids.append(message.message_id)
    no_contact = sum(s.status == NoticeStatus.NO_CONTACT.value for s in subjects(session, incident))
    if incident.subjects_notified_at is None:
        incident.subjects_notified_at = moment
    _settle(incident)
    data = {
        "email": sent["email"],
        "whatsapp": sent["whatsapp"],
        "no_contact": no_contact,
        "messages_sha256": _digest(sorted(message_ids)),
    }
    append(session, incident, EventKind.SUBJECTS_NOTIFIED, actor, data, at=moment)
    _audit(session, incident, actor, "breach.subjects_notified")
    return {"email": sent["email"], "whatsapp": sent["whatsapp"], "no_contact": no_contact}


def delivery(session: Session, incident: BreachIncident) -> dict[str, int]:
    """Each person's notice status brought up to date from the outbox; counts per status."""
    rows = subjects(session, incident)
    ids = [row.message_id for row in rows if row.message_id]
    states = dict(
        session.execute(
            select(OutboxMessage.message_id, OutboxMessage.status).where(
                OutboxMessage.message_id.in_(ids)
            )
        ).all()
        if ids
        else []
    )
    for row in rows:
        state = states.get(row.message_id) if row.message_id else None
        if state == OutboxStatus.SENT.value:
            row.status = NoticeStatus.SENT.value
        elif state == OutboxStatus.DEAD.value:
            row.status = NoticeStatus.FAILED.value
    session.flush()
    return dict(Counter(row.status for row in rows))


def notify_authority(
    session: Session,
    incident: BreachIncident,
    manifest: Manifest,
    *,
    actor: Actor,
    to: str | None = None,
    note: str | None = None,
    now: datetime | None = None,
    settings: Settings | None = None,
) -> str:
    """Send (to an address) or record as delivered otherwise (`note`: how) the Indonesian
    notice to the authority (Art. 46(1)(b)); returns the document that was sent."""
    _require_open(incident)
    moment = _now(now)
    document = authority_document(incident, manifest)
    data: dict[str, Any] = {"document_sha256": _digest(document), "note": note}
    if to:
        message = enqueue_email(
            session=session,
            organisation_id=incident.organisation_id,
            to=to,
            subject=f"Pemberitahuan Kegagalan Pelindungan Data Pribadi — {incident.reference}",
            text=_plain(document),
            html=document,
            lang="id",
            settings=settings,
        )
        data.update(channel="email", message_id=message.message_id)
    else:
        data["channel"] = "outside"
    incident.authority_notified_at = moment
    _settle(incident)
    append(session, incident, EventKind.AUTHORITY_NOTIFIED, actor, data, at=moment)
    _audit(session, incident, actor, "breach.authority_notified")
    return document


def notify_public(
    session: Session,
    incident: BreachIncident,
    manifest: Manifest,
    *,
    actor: Actor,
    where: str,
    now: datetime | None = None,
) -> str:
    """Record that the public notice (Art. 46(3)) was published at `where`; returns it."""
    _require_open(incident)
    if incident.public_interest is None:
        raise BreachProblem(NO_PUBLIC_INTEREST)
    moment = _now(now)
    document = public_document(incident, manifest)
    incident.public_notified_at = moment
    data = {"document_sha256": _digest(document), "where": where}
    append(session, incident, EventKind.PUBLIC_NOTIFIED, actor, data, at=moment)
    _audit(session, incident, actor, "breach.public_notified")
    return document


def close_incident(
    session: Session,
    incident: BreachIncident,
    *,
    actor: Actor,
    note: str,
    now: datetime | None = None,
) -> None:
    """The breach is handled and recovered from; the record stays as evidence."""
    _require_open(incident)
    moment = _now(now)
    incident.status = IncidentStatus.CLOSED.value
    incident.closed_at = moment
    append(session, incident, EventKind.CLOSED, actor, {"note": note}, at=moment)
    _audit(session, incident, actor, "breach.closed")


def _settle(incident: BreachIncident) -> None:
    """Notified once the people and the authority have both been told."""
    if (
        incident.status == IncidentStatus.OPEN.value
        and incident.subjects_notified_at is not None
        and incident.authority_notified_at is not None
    ):
        incident.status = IncidentStatus.NOTIFIED.value


def _require_open(incident: BreachIncident) -> None:
    if incident.status == IncidentStatus.CLOSED.value:
        raise BreachProblem(NOT_OPEN, reference=incident.reference)


def _plain(document: str) -> str:
    """The document as plain text, for mail readers that show no HTML."""
    text = re.sub(r"<(style|title)[^>]*>.*?</\1>", "", document, flags=re.S)
    text = re.sub(r"<br\s*/?>|</p>|</h[12]>|</tr>", "\n", text)
    text = re.sub(r"<[^>]+>", " ", text)
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def _digest(value: Any) -> str:
    raw = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


# --- the timeline ---------------------------------------------------------------------------


def _event_document(fields: Mapping[str, Any]) -> bytes:
    document = dict(fields)
    document["at"] = fields["at"].astimezone(UTC).isoformat(timespec="microseconds")
    return json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    ).encode("utf-8")


def event_hash(fields: Mapping[str, Any]) -> str:
    return hashlib.sha256(_event_document(fields)).hexdigest()


def _fields(incident: BreachIncident, event: BreachEvent) -> dict[str, Any]:
    return {
        "incident": incident.reference,
        "sequence": event.sequence,
        "kind": event.kind,
        "at": event.at,
        "actor_kind": event.actor_kind,
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "status_after": event.status_after,
        "data": event.data,
        "prev_hash": event.prev_hash,
    }


def append(
    session: Session,
    incident: BreachIncident,
    kind: EventKind,
    actor: Actor,
    data: Mapping[str, Any],
    *,
    at: datetime,
) -> BreachEvent:
    """Add one step to the incident's timeline, chained to the one before."""
    event = BreachEvent(
        organisation_id=incident.organisation_id,
        incident_id=incident.id,
        sequence=incident.last_sequence + 1,
        kind=kind.value,
        at=at,
        actor_kind=actor.kind.value,
        actor_id=actor.id,
        actor_label=actor.label,
        status_after=incident.status,
        data=json.loads(json.dumps(dict(data), default=str)),
        prev_hash=incident.last_hash,
    )
    event.hash = event_hash(_fields(incident, event))
    incident.last_sequence = event.sequence
    incident.last_hash = event.hash
    session.add(event)
    session.flush()
    return event


def timeline(session: Session, incident: BreachIncident) -> list[BreachEvent]:
    return list(
        session.scalars(
            select(BreachEvent)
            .where(BreachEvent.incident_id == incident.id)
            .order_by(BreachEvent.sequence)
        )
    )


def verify_timeline(session: Session, incident: BreachIncident) -> int | None:
    """None when the timeline is whole and unaltered; else the first sequence that is not."""
    return first_broken_link(
        timeline(session, incident),
        lambda event: event_hash(_fields(incident, event)),
        head_sequence=incident.last_sequence,
        head_hash=incident.last_hash,
        genesis=GENESIS,
    )


def evidence(
    session: Session, incident: BreachIncident, organisation: Organisation
) -> dict[str, Any]:
    """The incident and its whole timeline as a JSON-able document, with the chain's check."""
    broken = verify_timeline(session, incident)
    return {
        "format": "jagadata.breach.timeline/1",
        "organisation": organisation.slug,
        "incident": {
            "reference": incident.reference,
            "title": incident.title,
            "status": incident.status,
            "what_happened": incident.what_happened,
            "measures": incident.measures,
            "discovered_at": incident.discovered_at.isoformat(),
            "occurred_at": incident.occurred_at.isoformat() if incident.occurred_at else None,
            "due_at": incident.due_at.isoformat(),
            "deadline": incident.deadline,
            "systems": incident.systems,
            "categories": incident.categories,
            "public_interest": incident.public_interest,
            "affected": incident.affected,
            "notices": delivery(session, incident),
            "subjects_notified_at": _iso(incident.subjects_notified_at),
            "authority_notified_at": _iso(incident.authority_notified_at),
            "public_notified_at": _iso(incident.public_notified_at),
            "closed_at": _iso(incident.closed_at),
        },
        "chain": {"intact": broken is None, "broken_at": broken, "last_hash": incident.last_hash},
        "timeline": [
            {
                "sequence": e.sequence,
                "kind": e.kind,
                "at": e.at.isoformat(),
                "actor_kind": e.actor_kind,
                "actor_id": e.actor_id,
                "actor_label": e.actor_label,
                "status_after": e.status_after,
                "data": e.data,
                "prev_hash": e.prev_hash,
                "hash": e.hash,
            }
            for e in timeline(session, incident)
        ],
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _audit(session: Session, incident: BreachIncident, actor: Actor, action: str) -> None:
    record(
        session=session,
        organisation_id=incident.organisation_id,
        actor=actor,
        action=action,
        target_type="breach_incident",
        target_id=incident.reference,
        details={"status": incident.status},
    )
