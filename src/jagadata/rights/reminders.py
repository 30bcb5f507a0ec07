"""Keeping requests on time without anyone watching: reminders to whoever handles a request at
half and four fifths of its time, an escalation to the DPO once it is overdue, an
acknowledgement of receipt to the person once verified, and the closing of requests never
verified (each keeps its record).

Each step on one request is one transaction that first *claims* the step with a conditional
UPDATE (the request's `last_sequence` must still be the one read, and every step appends to the
timeline, which moves it), then appends its timeline entry and puts its messages in the outbox.
Two workers sweeping at once therefore send each message once; a worker killed mid-sweep leaves
every committed step whole and the rest for the next sweep. On PostgreSQL the request row is
also read with `FOR UPDATE SKIP LOCKED`, so a second sweep passes over it instead of waiting.

    report = sweep(sessions=sessions, now=now)     # every organisation
    report = sweep_organisation(sessions=sessions, organisation_id=org.id, now=now)
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final, cast

from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.orm import Session, selectinload, sessionmaker

from jagadata.accounts.models import Membership, User
from jagadata.audit.service import Actor, record
from jagadata.config import Settings, get_settings
from jagadata.db.tenancy import scope
from jagadata.i18n import gettext
from jagadata.law.articles import Article
from jagadata.law.facts import RIGHTS, Right
from jagadata.manifest.schema import Manifest
from jagadata.notify.service import enqueue_email, enqueue_whatsapp_template
from jagadata.orgs.models import Organisation
from jagadata.rights import service
from jagadata.rights.clock import reminders_due
from jagadata.rights.messages import right_label
from jagadata.rights.models import RightsRequest
from jagadata.rights.service import RequestProblem
from jagadata.rights.states import EventKind, RequestStatus
from jagadata.rights.templating import local_time
from jagadata.rights.workflow import is_open

logger = logging.getLogger(__name__)

HANDLER_ROLES: Final = ("owner", "dpo", "staff")
"""Members who may handle requests: an unassigned request's reminders go to all of them."""
STAFF_LANGUAGE: Final = "id"
"""Staff read reminders in Indonesian unless their account stores another language."""
REACHABLE: Final = ("email", "phone")
"""Identifiers jagadata can write to (an email address, a WhatsApp number)."""
OPEN_STATUSES: Final = tuple(status.value for status in RequestStatus if is_open(status))
ACKNOWLEDGED_TEMPLATE: Final = "jagadata_request_acknowledged"
"""WhatsApp template: {{1}} organisation, {{2}} reference, {{3}} deadline (docs/requests.md)."""
CLOSED_TEMPLATE: Final = "jagadata_request_closed"
"""WhatsApp template: {{1}} organisation, {{2}} reference, {{3}} where to file again."""
SYSTEM: Final = Actor.system("reminders")


def _t(lang: str, message: str) -> str:
    return gettext(lang, message, "rights")


@dataclass
class SweepReport:
    """What one sweep did; `failed` counts requests whose step raised (logged, left for later)."""

    reminded: int = 0
    escalated: int = 0
    acknowledged: int = 0
    closed: int = 0
    failed: int = 0
    skipped: list[str] = field(default_factory=list)

    def add(self, other: SweepReport) -> None:
        self.reminded += other.reminded
        self.escalated += other.escalated
        self.acknowledged += other.acknowledged
        self.closed += other.closed
        self.failed += other.failed
        self.skipped += other.skipped


@dataclass(frozen=True, slots=True)
class _Due:
    """What one request needs now."""

    acknowledge: bool = False
    thresholds: tuple[float, ...] = ()
    escalate: bool = False
    progress: float = 0.0

    def __bool__(self) -> bool:
        return self.acknowledge or bool(self.thresholds) or self.escalate


@dataclass(frozen=True, slots=True)
class _Recipient:
    email: str
    lang: str
    user_id: int | None = None


def _now(moment: datetime | None) -> datetime:
    return (moment or datetime.now(UTC)).astimezone(UTC)


# --- the sweep -------------------------------------------------------------------------------


def sweep(
    *,
    sessions: sessionmaker[Session],
    now: datetime | None = None,
    settings: Settings | None = None,
) -> SweepReport:
    """Sweep every organisation that has a published manifest."""
    moment = _now(now)
    with sessions() as session:
        organisation_ids = list(session.scalars(select(Organisation.id).order_by(Organisation.id)))
    report = SweepReport()
    for organisation_id in organisation_ids:
        report.add(
            sweep_organisation(
                sessions=sessions, organisation_id=organisation_id, now=moment, settings=settings
            )
        )
    return report


def sweep_organisation(
    *,
    sessions: sessionmaker[Session],
    organisation_id: int,
    now: datetime | None = None,
    settings: Settings | None = None,
) -> SweepReport:
    """Close the organisation's stale unverified requests, then look at each open one."""
    moment = _now(now)
    settings = settings or get_settings()
    report = SweepReport()
    with sessions() as session:
        scope(session, organisation_id)
        organisation = session.get(Organisation, organisation_id)
        if organisation is None:
            return report
        try:
            _number, manifest = service.manifest_in_force(session, organisation)
        except RequestProblem:
            report.skipped.append(organisation.slug)
            return report
        open_requests = list(
            session.scalars(
                select(RightsRequest)
                .where(
                    RightsRequest.organisation_id == organisation_id,
                    RightsRequest.status.in_(OPEN_STATUSES),
                    or_(
                        RightsRequest.escalated_at.is_(None),
                        RightsRequest.acknowledged_at.is_(None),
                    ),
                )
                .order_by(RightsRequest.id)
            )
        )
        # read without locks; each one due is then claimed in its own transaction
        candidates = [r.id for r in open_requests if due_for(session, r, moment)]
    report.closed = close_stale(
        sessions=sessions,
        organisation_id=organisation_id,
        manifest=manifest,
        now=moment,
        settings=settings,
    )
    for request_id in candidates:
        try:
            done = remind_one(
                sessions=sessions,
                organisation_id=organisation_id,
                request_id=request_id,
                manifest=manifest,
                now=moment,
                settings=settings,
            )
        except Exception:
            report.failed += 1
            logger.exception(
                "request %d: the reminder step failed; the next sweep retries", request_id
            )
            continue
        report.acknowledged += done.acknowledge
        report.reminded += bool(done.thresholds) and not done.escalate
        report.escalated += done.escalate
    return report


def due_for(session: Session, request: RightsRequest, now: datetime) -> _Due:
    """What `request` needs at `now`: an acknowledgement, reminders, an escalation (or nothing)."""
    if not is_open(RequestStatus(request.status)):
        return _Due()
    acknowledge = (
        request.acknowledge_due_at is not None
        and request.acknowledged_at is None
        and request.verified_at is not None
        and request.identifier_kind in REACHABLE
    )
    awaiting_person = (
        request.status == RequestStatus.RECEIVED.value and request.identifier_kind in REACHABLE
    )
    clock = service.clock_of(request)
    if (
        clock is None
        or request.paused_since is not None
        or request.due_at is None
        or awaiting_person
        or request.escalated_at is not None
    ):
        return _Due(acknowledge=acknowledge)
    pauses = service.pauses_of(session, request)
    progress = clock.progress(now, pauses)
    thresholds = tuple(reminders_due(progress, request.reminders_sent or []))
    return _Due(
        acknowledge=acknowledge,
        thresholds=thresholds,
        escalate=clock.overdue(now, pauses),
        progress=progress,
    )


def remind_one(
    *,
    sessions: sessionmaker[Session],
    organisation_id: int,
    request_id: int,
    manifest: Manifest,
    now: datetime,
    settings: Settings,
) -> _Due:
    """Do what one request needs, in one transaction; what was done (nothing if claimed
    elsewhere, or already done)."""
    with sessions() as session:
        scope(session, organisation_id)
        query = (
            select(RightsRequest)
            .where(RightsRequest.id == request_id)
            .execution_options(populate_existing=True)
        )
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        request = session.scalars(query).first()
        if request is None:
            session.rollback()
            return _Due()
        due = due_for(session, request, now)
        if not due or not _claim(session, request, due, now):
            session.rollback()
            return _Due()
        organisation = session.get(Organisation, organisation_id)
        assert organisation is not None
        if due.acknowledge:
            _acknowledge(session, request, organisation, now, settings)
        if due.escalate:
            _escalate(session, request, organisation, manifest, due, now, settings)
        elif due.thresholds:
            _remind(session, request, organisation, due, now, settings)
        session.commit()
        return due


def _claim(session: Session, request: RightsRequest, due: _Due, now: datetime) -> bool:
    """Take this step for this worker alone: only if nothing happened to the request since it
    was read (its last timeline entry is the same); the claimed fields are written at once."""
    values: dict[str, Any] = {}
    if due.thresholds or due.escalate:
        # an overdue request is escalated; reminders it never got are not sent late
        passed = set(request.reminders_sent or []) | set(due.thresholds)
        values["reminders_sent"] = sorted(passed)
    if due.escalate:
        values["escalated_at"] = now
    if due.acknowledge:
        values["acknowledged_at"] = now
    result = cast(
        "CursorResult[Any]",
        session.execute(
            update(RightsRequest)
            .where(
                RightsRequest.id == request.id,
                RightsRequest.status == request.status,
                RightsRequest.last_sequence == request.last_sequence,
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        ),
    )
    if result.rowcount != 1:
        return False
    for name, value in values.items():
        setattr(request, name, value)
    return True


# --- who reads what ------------------------------------------------------------------------------


def _language_of(user: User) -> str:
    stored = getattr(user, "language", None)
    return stored if isinstance(stored, str) and stored in ("id", "en", "fr") else STAFF_LANGUAGE


def handlers(session: Session, request: RightsRequest) -> list[_Recipient]:
    """The assignee if they can still handle requests here; else every owner, DPO and staff."""
    rows = session.scalars(
        select(Membership)
        .where(
            Membership.organisation_id == request.organisation_id,
            Membership.role.in_(HANDLER_ROLES),
        )
        .options(selectinload(Membership.user))
        .order_by(Membership.id)
    ).all()
    active = [row.user for row in rows if not row.user.disabled]
    assigned = [user for user in active if user.id == request.assignee_id]
    chosen = assigned or active
    return [_Recipient(user.email, _language_of(user), user.id) for user in chosen]


def escalation_recipients(
    session: Session, request: RightsRequest, manifest: Manifest
) -> tuple[str, list[_Recipient]]:
    """The DPO named in the manifest; without one, the organisation's owners."""
    dpo = manifest.organisation.dpo
    if dpo is not None:
        return "dpo", [_Recipient(str(dpo.email), STAFF_LANGUAGE)]
    rows = session.scalars(
        select(Membership)
        .where(
            Membership.organisation_id == request.organisation_id,
            Membership.role == "owner",
        )
        .options(selectinload(Membership.user))
        .order_by(Membership.id)
    ).all()
    owners = [row.user for row in rows if not row.user.disabled]
    return "owners", [_Recipient(user.email, _language_of(user), user.id) for user in owners]


def console_link(settings: Settings, organisation: Organisation, request: RightsRequest) -> str:
    base = settings.base_url.rstrip("/")
    return f"{base}/admin/o/{organisation.slug}/requests/{request.reference}"


def _right_article(request: RightsRequest, lang: str) -> str:
    articles = RIGHTS[Right(request.right)].articles
    return articles[0].cite(lang) if articles else ""


def _deadline_line(request: RightsRequest, lang: str) -> str:
    due = local_time(request.due_at, lang, request.zone)
    cited: Sequence[str] = request.deadline.get("articles") or []
    if cited:
        article = Article.parse(cited[-1]).cite(lang)
        return _t(lang, "Deadline: {due}, set by {article}.").format(due=due, article=article)
    return _t(lang, "Deadline: {due}, as the organisation promises.").format(due=due)


def _staff_text(request: RightsRequest, lang: str, opening: str, link: str, *extra: str) -> str:
    lines = [
        opening,
        "",
        _t(lang, "Right: {right} ({article}).").format(
            right=right_label(request.right, lang), article=_right_article(request, lang)
        ),
        _deadline_line(request, lang),
        *extra,
        "",
        _t(lang, "Open it in the console: {link}").format(link=link),
    ]
    return "\n".join(lines)


# --- the steps -----------------------------------------------------------------------------------


def _remind(
    session: Session,
    request: RightsRequest,
    organisation: Organisation,
    due: _Due,
    now: datetime,
    settings: Settings,
) -> None:
    recipients = handlers(session, request)
    link = console_link(settings, organisation, request)
    percent = round(max(due.thresholds) * 100)
    for recipient in recipients:
        lang = recipient.lang
        due_text = local_time(request.due_at, lang, request.zone)
        enqueue_email(
            session=session,
            organisation_id=request.organisation_id,
            to=recipient.email,
            subject=_t(lang, "Reminder: request {reference} is due by {due}").format(
                reference=request.reference, due=due_text
            ),
            text=_staff_text(
                request,
                lang,
                _t(lang, "Request {reference} has used {percent}% of its time.").format(
                    reference=request.reference, percent=percent
                ),
                link,
            ),
            lang=lang,
            settings=settings,
        )
    if not recipients:
        logger.warning(
            "request %s: nobody can handle requests, no reminder sent", request.reference
        )
    service.append(
        session,
        request,
        EventKind.REMINDED,
        SYSTEM,
        {
            "thresholds": list(due.thresholds),
            "progress": round(due.progress, 3),
            "to": "assignee" if request.assignee_id is not None else "handlers",
            "user_ids": [r.user_id for r in recipients],
        },
        at=now,
    )


def _escalate(
    session: Session,
    request: RightsRequest,
    organisation: Organisation,
    manifest: Manifest,
    due: _Due,
    now: datetime,
    settings: Settings,
) -> None:
    to, recipients = escalation_recipients(session, request, manifest)
    link = console_link(settings, organisation, request)
    for recipient in recipients:
        lang = recipient.lang
        enqueue_email(
            session=session,
            organisation_id=request.organisation_id,
            to=recipient.email,
            subject=_t(lang, "Overdue: request {reference} has passed its deadline").format(
                reference=request.reference
            ),
            text=_staff_text(
                request,
                lang,
                _t(
                    lang,
                    "Request {reference} has passed its deadline and is not closed yet. "
                    "Handle it now, or record why it is late.",
                ).format(reference=request.reference),
                link,
            ),
            lang=lang,
            settings=settings,
        )
    if not recipients:
        logger.warning("request %s: no DPO and no owner to escalate to", request.reference)
    overdue = -service.clock_of(request).remaining(now, service.pauses_of(session, request))  # type: ignore[union-attr]
    service.append(
        session,
        request,
        EventKind.ESCALATED,
        SYSTEM,
        {
            "to": to,
            "user_ids": [r.user_id for r in recipients if r.user_id is not None],
            "overdue_seconds": max(int(overdue.total_seconds()), 0),
            "reminders_passed": list(due.thresholds),
        },
        at=now,
    )
    record(
        session=session,
        organisation_id=request.organisation_id,
        actor=SYSTEM,
        action="rights.request.escalated",
        target_type="rights_request",
        target_id=request.reference,
        subject_ref=request.subject_ref,
        details={"right": request.right, "status": request.status, "to": to},
        occurred_at=now,
    )


def _acknowledge(
    session: Session,
    request: RightsRequest,
    organisation: Organisation,
    now: datetime,
    settings: Settings,
) -> None:
    """The receipt the manifest promises (acknowledge_within), sent once the person is known
    to have made the request (verified), so nobody is written to about a request they never
    made."""
    lang = request.language
    due = local_time(request.due_at, lang, request.zone)
    channel = request.identifier_kind
    if channel == "email":
        lines = [
            _t(lang, "{organisation} has received your request {reference} ({right}).").format(
                organisation=organisation.name,
                reference=request.reference,
                right=right_label(request.right, lang),
            ),
        ]
        if due:
            lines.append(_deadline_line(request, lang))
        lines += [
            "",
            _t(lang, "Quote the reference {reference} if you write to us about it.").format(
                reference=request.reference
            ),
        ]
        enqueue_email(
            session=session,
            organisation_id=request.organisation_id,
            to=request.contact,
            subject=_t(lang, "We have received your request {reference}").format(
                reference=request.reference
            ),
            text="\n".join(lines),
            lang=lang,
            settings=settings,
        )
    else:
        enqueue_whatsapp_template(
            session=session,
            organisation_id=request.organisation_id,
            to=request.contact,
            template=ACKNOWLEDGED_TEMPLATE,
            language=lang,
            parameters=[organisation.name, request.reference, due or "-"],
        )
    on_time = request.acknowledge_due_at is None or now <= request.acknowledge_due_at
    service.append(
        session,
        request,
        EventKind.ACKNOWLEDGED,
        SYSTEM,
        {"channel": channel, "on_time": on_time},
        at=now,
    )


# --- requests never verified -------------------------------------------------------------------


def close_stale(
    *,
    sessions: sessionmaker[Session],
    organisation_id: int,
    manifest: Manifest,
    now: datetime,
    settings: Settings,
) -> int:
    """Close requests never verified within the manifest's `rights.close_unverified_after`
    (their record stays) and tell each person who can be reached how to file again."""
    older_than: timedelta = manifest.rights.close_unverified_after.after(now) - now
    with sessions() as session:
        scope(session, organisation_id)
        # Claim the stale rows first: PostgreSQL locks them (a second sweep waits, then finds
        # them closed); SQLite takes its write lock, so the list below is read under it.
        claimed = cast(
            "CursorResult[Any]",
            session.execute(
                update(RightsRequest)
                .where(
                    RightsRequest.organisation_id == organisation_id,
                    RightsRequest.status == RequestStatus.RECEIVED.value,
                    RightsRequest.received_at <= now - older_than,
                )
                .values(status=RightsRequest.status)
                .execution_options(synchronize_session=False)
            ),
        )
        if claimed.rowcount == 0:
            session.rollback()
            return 0
        closed = service.close_unverified(session, organisation_id, older_than=older_than, now=now)
        organisation = session.get(Organisation, organisation_id)
        assert organisation is not None
        for request in closed:
            if request.identifier_kind in REACHABLE:
                _tell_closed(session, request, organisation, now, settings)
        session.commit()
        return len(closed)


def refile_link(settings: Settings, organisation: Organisation, request: RightsRequest) -> str:
    base = settings.base_url.rstrip("/")
    return (
        f"{base}/o/{organisation.slug}/requests/new?right={request.right}&lang={request.language}"
    )


def _tell_closed(
    session: Session,
    request: RightsRequest,
    organisation: Organisation,
    now: datetime,
    settings: Settings,
) -> None:
    lang = request.language
    link = refile_link(settings, organisation, request)
    channel = request.identifier_kind
    if channel == "email":
        text = "\n".join(
            [
                _t(
                    lang,
                    "Your request {reference} to {organisation} ({right}) was closed on {date} "
                    "because it was never confirmed with the code we sent.",
                ).format(
                    reference=request.reference,
                    organisation=organisation.name,
                    right=right_label(request.right, lang),
                    date=local_time(now, lang, request.zone),
                ),
                _t(lang, "Nothing was done with it; its record is kept."),
                "",
                _t(
                    lang, "If you still want to use this right, make a new request here: {link}"
                ).format(link=link),
                _t(
                    lang,
                    "If you did not make this request, ignore this message: nothing will happen.",
                ),
            ]
        )
        enqueue_email(
            session=session,
            organisation_id=request.organisation_id,
            to=request.contact,
            subject=_t(lang, "Your request {reference} was closed").format(
                reference=request.reference
            ),
            text=text,
            lang=lang,
            settings=settings,
        )
    else:
        enqueue_whatsapp_template(
            session=session,
            organisation_id=request.organisation_id,
            to=request.contact,
            template=CLOSED_TEMPLATE,
            language=lang,
            parameters=[organisation.name, request.reference, link],
        )
    service.append(
        session,
        request,
        EventKind.MESSAGE_SENT,
        SYSTEM,
        {"message": "closed_unverified", "channel": channel},
        at=now,
    )
