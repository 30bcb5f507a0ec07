"""Keeping a breach's 72 hours (Art. 46(1)) without anyone watching: the DPO and the owners are
reminded at 24, 48 and 60 hours after discovery while notice is still owed, and told once the
deadline has passed (an escalation: the incident is overdue).

Each step on one incident is one transaction that first *claims* it with a conditional UPDATE
(the incident's `last_sequence` must still be the one read, and every step appends to the
timeline, which moves it), then appends its timeline entry and puts its messages in the outbox.
Two workers sweeping at once therefore send each reminder once; on PostgreSQL the incident row
is also read with `FOR UPDATE SKIP LOCKED`, so a second sweep passes over it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session, selectinload, sessionmaker

from jagadata.accounts.models import Membership
from jagadata.audit.service import Actor
from jagadata.breach import service
from jagadata.breach.clock import hours_and_minutes, reminders_due, time_left
from jagadata.breach.models import BreachIncident
from jagadata.breach.notices import zone
from jagadata.breach.states import EventKind, IncidentStatus
from jagadata.config import Settings, get_settings
from jagadata.db.tenancy import cross_organisation_session, scope
from jagadata.i18n import gettext
from jagadata.manifest.schema import Manifest
from jagadata.notify.service import enqueue_email
from jagadata.orgs.models import Organisation
from jagadata.rights.service import RequestProblem, manifest_in_force
from jagadata.rights.templating import local_time

logger = logging.getLogger(__name__)

WATCHERS: Final = ("owner", "dpo")
"""Members told of a breach's clock: the owners and the data protection officers."""
STAFF_LANGUAGE: Final = "id"
SYSTEM: Final = Actor.system("breach-clock")


def _t(lang: str, message: str) -> str:
    return gettext(lang, message, "breach")


@dataclass
class SweepReport:
    reminded: int = 0
    escalated: int = 0
    failed: int = 0
    skipped: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Due:
    marks: tuple[int, ...] = ()
    escalate: bool = False

    def __bool__(self) -> bool:
        return bool(self.marks) or self.escalate


def _now(moment: datetime | None) -> datetime:
    return (moment or datetime.now(UTC)).astimezone(UTC)


def due_for(incident: BreachIncident, now: datetime) -> _Due:
    """What an open incident needs at `now`: reminders, an escalation, or nothing."""
    if incident.status != IncidentStatus.OPEN.value or incident.escalated_at is not None:
        return _Due()
    marks = reminders_due(incident.discovered_at, incident.due_at, incident.reminders_sent, now)
    return _Due(tuple(marks), escalate=now >= incident.due_at)


def sweep(
    *,
    sessions: sessionmaker[Session],
    now: datetime | None = None,
    settings: Settings | None = None,
) -> SweepReport:
    """Remind or escalate every organisation's open incidents that need it."""
    moment = _now(now)
    settings = settings or get_settings()
    report = SweepReport()
    with cross_organisation_session(sessions) as session:
        candidates = [
            (incident.organisation_id, incident.id)
            for incident in session.scalars(
                select(BreachIncident)
                .where(
                    BreachIncident.status == IncidentStatus.OPEN.value,
                    BreachIncident.escalated_at.is_(None),
                )
                .order_by(BreachIncident.id)
            )
            if due_for(incident, moment)
        ]
    for organisation_id, incident_id in candidates:
        try:
            done = remind_one(
                sessions=sessions,
                organisation_id=organisation_id,
                incident_id=incident_id,
                now=moment,
                settings=settings,
            )
        except RequestProblem:
            report.skipped.append(str(incident_id))
            continue
        except Exception:
            report.failed += 1
            logger.exception(
                "breach %d: the reminder step failed; the next sweep retries", incident_id
            )
            continue
        report.escalated += done.escalate
        report.reminded += bool(done.marks) and not done.escalate
    return report


def remind_one(
    *,
    sessions: sessionmaker[Session],
    organisation_id: int,
    incident_id: int,
    now: datetime,
    settings: Settings,
) -> _Due:
    """Do what one incident needs, in one transaction; what was done (nothing if another
    worker claimed it first)."""
    with sessions() as session:
        scope(session, organisation_id)
        query = (
            select(BreachIncident)
            .where(BreachIncident.id == incident_id)
            .execution_options(populate_existing=True)
        )
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        incident = session.scalars(query).first()
        if incident is None:
            session.rollback()
            return _Due()
        due = due_for(incident, now)
        if not due or not _claim(session, incident, due, now):
            session.rollback()
            return _Due()
        organisation = session.get(Organisation, organisation_id)
        assert organisation is not None
        _number, manifest = manifest_in_force(session, organisation)
        recipients = watchers(session, organisation_id, manifest)
        kind = EventKind.ESCALATED if due.escalate else EventKind.REMINDED
        for email, lang in recipients:
            subject, text = _message(incident, organisation, manifest, due, now, lang, settings)
            enqueue_email(
                session=session,
                organisation_id=organisation_id,
                to=email,
                subject=subject,
                text=text,
                lang=lang,
                settings=settings,
            )
        service.append(
            session,
            incident,
            kind,
            SYSTEM,
            {"hours": list(due.marks), "recipients": len(recipients)},
            at=now,
        )
        if not recipients:
            logger.warning("breach %s: no DPO or owner to remind", incident.reference)
        session.commit()
        return due


def _claim(session: Session, incident: BreachIncident, due: _Due, now: datetime) -> bool:
    """Take this step for this worker alone: only if nothing happened to the incident since it
    was read; an overdue incident is escalated and the reminders it never got are not sent."""
    values: dict[str, Any] = {
        "reminders_sent": sorted(set(incident.reminders_sent) | set(due.marks)),
    }
    if due.escalate:
        values["escalated_at"] = now
    result = cast(
        "CursorResult[Any]",
        session.execute(
            update(BreachIncident)
            .where(
                BreachIncident.id == incident.id,
                BreachIncident.status == IncidentStatus.OPEN.value,
                BreachIncident.last_sequence == incident.last_sequence,
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        ),
    )
    if result.rowcount != 1:
        return False
    for name, value in values.items():
        setattr(incident, name, value)
    return True


def watchers(session: Session, organisation_id: int, manifest: Manifest) -> list[tuple[str, str]]:
    """(email, language) of the manifest's DPO and every active owner and DPO member, once each."""
    found: dict[str, str] = {}
    dpo = manifest.organisation.dpo
    if dpo is not None:
        found[str(dpo.email).lower()] = STAFF_LANGUAGE
    rows = session.scalars(
        select(Membership)
        .where(Membership.organisation_id == organisation_id, Membership.role.in_(WATCHERS))
        .options(selectinload(Membership.user))
        .order_by(Membership.id)
    ).all()
    for row in rows:
        if row.user.disabled:
            continue
        lang = getattr(row.user, "language", None)
        found.setdefault(row.user.email.lower(), lang if lang in ("id", "en", "fr") else "id")
    return list(found.items())


def console_link(settings: Settings, organisation: Organisation, incident: BreachIncident) -> str:
    return (
        f"{settings.base_url.rstrip('/')}/admin/o/{organisation.slug}/breaches/{incident.reference}"
    )


def _message(
    incident: BreachIncident,
    organisation: Organisation,
    manifest: Manifest,
    due: _Due,
    now: datetime,
    lang: str,
    settings: Settings,
) -> tuple[str, str]:
    deadline = local_time(incident.due_at, lang, zone(manifest))
    hours, minutes = hours_and_minutes(time_left(incident.due_at, now))
    if due.escalate:
        subject = _t(lang, "Breach {reference} is overdue: notice was due by {due}")
        opening = _t(
            lang,
            "The written notice of breach {reference} was due by {due} (Art. 46(1): 3 x 24 hours "
            "from discovery) and is still owed.",
        )
    else:
        subject = _t(lang, "Breach {reference}: {hours} h {minutes} min left to notify")
        opening = _t(
            lang,
            "Breach {reference} must be notified in writing by {due} (Art. 46(1): 3 x 24 hours "
            "from discovery): {hours} h {minutes} min left.",
        )
    values = {"reference": incident.reference, "due": deadline, "hours": hours, "minutes": minutes}
    owed = []
    if incident.subjects_notified_at is None:
        owed.append(_t(lang, "- the people affected have not been notified yet"))
    if incident.authority_notified_at is None:
        owed.append(_t(lang, "- the authority has not been notified yet"))
    lines = [
        opening.format(**values),
        "",
        incident.title,
        *owed,
        "",
        _t(lang, "Open it in the console: {link}").format(
            link=console_link(settings, organisation, incident)
        ),
    ]
    return subject.format(**values), "\n".join(lines)
