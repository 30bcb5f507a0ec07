"""People's requests in the console: the queue by time left, one request with its facts, tasks,
timeline and files, every step of the workflow as a form, requests received by WhatsApp, email or
letter filed by staff, and the share answered on time.

UU PDP: every request is recorded (Art. 14); rectification, access, stopping after withdrawal and
restriction are due within 3 x 24 hours (Art. 30, 32, 40, 41); a refusal needs a ground the law
allows (Art. 15, 33, 41(2), 50). The pages only call `rights.service` and `rights.staff`; a step
the workflow does not allow is refused with what to do instead. A person's contact, details and
proof of authority are shown only as an audited view (Art. 47, `console.audited`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any, Final
from urllib.parse import urlencode

from babel.dates import format_datetime
from babel.units import format_unit
from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jagadata.accounts.deps import Member, now_of, require_role
from jagadata.accounts.roles import Action
from jagadata.audit.service import Actor
from jagadata.console.audited import audited_view
from jagadata.console.render import DOMAIN, console_language, render
from jagadata.console.requests_engine import ask_engine, engine_rows
from jagadata.db import atomic
from jagadata.i18n import N_, gettext
from jagadata.law.articles import art, cite_all
from jagadata.law.facts import RIGHTS, Right
from jagadata.logs import personal_data_kind
from jagadata.rights import service, staff
from jagadata.rights.clock import Pause, zone_label, zone_of
from jagadata.rights.grounds import grounds_for
from jagadata.rights.models import (
    AttachmentKind,
    RequestAttachment,
    RequestEvent,
    RequestPause,
    RequestTask,
    RightsRequest,
)
from jagadata.rights.service import RequestProblem
from jagadata.rights.states import ClockStart, EventKind, OnBehalf, PauseReason, RequestStatus
from jagadata.rights.workflow import Action as Step
from jagadata.rights.workflow import TransitionRefused, allowed_actions, is_open
from jagadata.web.deps import SessionDep

router = APIRouter(include_in_schema=False)

Handler = Annotated[Member, Depends(require_role(Action.HANDLE_REQUESTS))]
Reader = Annotated[Member, Depends(require_role(Action.VIEW_PERSONAL_DATA))]
Text = Annotated[str | None, Query(max_length=40)]

PAGE_SIZE: Final = 25
REASON_MIN: Final = 10
REASON_MAX: Final = 300
LONG_TEXT: Final = 4000
SLA_MONTHS: Final = 12

STATUS_LABELS: Final = {
    RequestStatus.RECEIVED: N_("Received, not verified"),
    RequestStatus.VERIFIED: N_("Verified"),
    RequestStatus.IN_PROGRESS: N_("In progress"),
    RequestStatus.AWAITING_APPROVAL: N_("Awaiting approval"),
    RequestStatus.FULFILLED: N_("Fulfilled"),
    RequestStatus.REFUSED: N_("Refused"),
    RequestStatus.WITHDRAWN: N_("Withdrawn"),
    RequestStatus.CLOSED_UNVERIFIED: N_("Closed unverified"),
}
CHANNEL_LABELS: Final = {
    "web": N_("Privacy centre"),
    "api": N_("API"),
    "staff": N_("Filed by staff"),
}
EVENT_LABELS: Final = {
    EventKind.RECEIVED: N_("Received"),
    EventKind.CODE_SENT: N_("Code sent"),
    EventKind.CODE_FAILED: N_("Wrong code entered"),
    EventKind.VERIFIED: N_("Verified"),
    EventKind.ACKNOWLEDGED: N_("Acknowledged"),
    EventKind.ASSIGNED: N_("Assigned"),
    EventKind.STARTED: N_("Started"),
    EventKind.PAUSED: N_("Clock paused"),
    EventKind.RESUMED: N_("Clock resumed"),
    EventKind.TASK_DONE: N_("Task done"),
    EventKind.TASK_REOPENED: N_("Task reopened"),
    EventKind.NOTE: N_("Note or file"),
    EventKind.APPROVAL_ASKED: N_("Approval asked"),
    EventKind.APPROVED: N_("Approved"),
    EventKind.REJECTED: N_("Sent back"),
    EventKind.FULFILLED: N_("Fulfilled"),
    EventKind.REFUSED: N_("Refused"),
    EventKind.WITHDRAWN: N_("Withdrawn"),
    EventKind.CLOSED_UNVERIFIED: N_("Closed unverified"),
    EventKind.CLOCK_START_CHANGED: N_("Clock start changed"),
    EventKind.REMINDED: N_("Reminder sent"),
    EventKind.ESCALATED: N_("Escalated"),
    EventKind.MESSAGE_SENT: N_("Message sent"),
}
PAUSE_LABELS: Final = {
    PauseReason.AWAITING_INFORMATION: N_("Waiting for information from the person"),
    PauseReason.AWAITING_AUTHORITY_PROOF: N_("Waiting for proof of authority"),
}
KIND_LABELS: Final = {
    AttachmentKind.ORIGINAL: N_("The request as received"),
    AttachmentKind.PROOF: N_("Proof of authority"),
    AttachmentKind.EXPORT: N_("Data exported"),
    AttachmentKind.RESPONSE: N_("Response sent"),
}
ON_BEHALF_LABELS: Final = {
    OnBehalf.PARENT: N_("A parent"),
    OnBehalf.GUARDIAN: N_("A guardian"),
    OnBehalf.REPRESENTATIVE: N_("A representative with a power of attorney"),
}
METHOD_LABELS: Final = {
    "code": N_("with the code sent to them"),
    "link": N_("with the link sent to them"),
    "manual": N_("by hand, by staff"),
}
PERSON_LANGUAGES: Final = {"id": "Bahasa Indonesia", "en": "English", "fr": "Français"}
PROBLEMS: Final = {
    "status": N_("This cannot be done while the request is in this state."),
    "tasks": N_("Tick every task first: {detail}"),
    "task": N_("That task is not part of this request."),
    "ground": N_("Choose one of the grounds the law allows for this right."),
    "explanation": N_("Explain the refusal to the person."),
    "reference": N_("This ground needs the law or regulation it relies on: name it."),
    "approver": N_("Another person must approve: you asked for this approval yourself."),
    "pause": N_("The clock is not in a state for this: it is already paused, or not paused."),
    "reason": N_("Give the reason: it is kept on the timeline."),
    "assignee": N_("Choose a member of this organisation who does not already have it."),
    "note": N_("Write the note (at most 4,000 characters)."),
    "file": N_("Keep a PDF, JPEG, PNG, CSV, JSON, ZIP or text file of at most 10 MB."),
    "outcome": N_("Say what was done, and where."),
    "kept": N_("Say under which rule the data kept is kept (a legal hold)."),
    "received_at": N_(
        "The time it arrived cannot be in the future or before the organisation was registered."
    ),
    "value": N_("This identifier does not look right: check it."),
    "identifier": N_("Choose how the person is recognised."),
    "right": N_("Choose a right this organisation handles by request."),
    "proof": N_("Someone acting for the person needs a proof of authority: attach it."),
    "authority": N_("Say who acts for the person and how they are related."),
    "original": N_("Attach the request as it arrived (a screenshot, the email or the letter)."),
    "organisation": N_("The organisation has no published manifest yet."),
    "code": N_("Too many codes were sent for this request."),
}


def _t(lang: str, message: str) -> str:
    return gettext(lang, message, DOMAIN)


def _problem(lang: str, problem: RequestProblem) -> str:
    message = PROBLEMS.get(problem.field, PROBLEMS["status"])
    detail = problem.message.split(": ", 1)[1] if ": " in problem.message else ""
    return _t(lang, message).format(detail=detail)


def right_label(right: str, lang: str) -> str:
    try:
        return gettext(lang, RIGHTS[Right(right)].label)
    except ValueError:
        return right


def _base(request: Request, member: Member) -> str:
    return f"{request.scope.get('root_path', '')}/admin/o/{member.organisation.slug}/requests"


def _actor(member: Member) -> Actor:
    return Actor.user(member.user.id, member.role.value)  # never an email: the trail refuses it


# --- time left --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Standing:
    """Where a request's clock stands now."""

    remaining: timedelta | None
    progress: float | None
    paused: bool
    overdue: bool

    @property
    def percent(self) -> int:
        return max(0, min(100, round((self.progress or 0) * 100)))


def standing(request: RightsRequest, pauses: list[Pause], now: datetime) -> Standing:
    clock = service.clock_of(request)
    paused = request.paused_since is not None
    if clock is None:
        return Standing(None, None, paused, False)
    remaining = clock.remaining(now, pauses)
    closed = not is_open(RequestStatus(request.status))
    moment = request.closed_at if closed and request.closed_at else now
    return Standing(
        clock.remaining(moment, pauses) if closed else remaining,
        clock.progress(moment, pauses),
        paused,
        not closed and clock.overdue(now, pauses),
    )


def duration_text(delta: timedelta, lang: str) -> str:
    """'2 hari 3 jam', '45 menit': days and hours (minutes under an hour), in `lang`."""
    seconds = abs(int(delta.total_seconds()))
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    parts = []
    if days:
        parts.append(format_unit(days, "duration-day", length="long", locale=lang))
    if hours or (days and not hours):
        parts.append(format_unit(hours, "duration-hour", length="long", locale=lang))
    if not days and not hours:
        parts.append(format_unit(max(rest // 60, 1), "duration-minute", length="long", locale=lang))
    return " ".join(parts)


def time_left_text(state: Standing, lang: str) -> str:
    if state.remaining is None:
        return _t(lang, "no deadline")
    amount = duration_text(state.remaining, lang)
    if state.paused:
        return _t(lang, "paused, {time} left").format(time=amount)
    if state.remaining < timedelta(0):
        return _t(lang, "overdue by {time}").format(time=amount)
    return _t(lang, "{time} left").format(time=amount)


def local(moment: datetime | None, zone: str, lang: str) -> str:
    """'23 Nov 2026 16.30 WIB': a moment on the organisation's clock, its zone named."""
    if moment is None:
        return "—"
    tz = zone_of(zone)
    text = format_datetime(moment.astimezone(tz), "d MMM y HH:mm", tzinfo=tz, locale=lang)
    return f"{text} {zone_label(tz)}"


def _pauses(session: Session, ids: list[int]) -> dict[int, list[Pause]]:
    found: dict[int, list[Pause]] = {}
    if not ids:
        return found
    for row in session.scalars(
        select(RequestPause).where(RequestPause.request_id.in_(ids)).order_by(RequestPause.id)
    ):
        found.setdefault(row.request_id, []).append(Pause(row.started_at, row.ended_at, row.reason))
    return found


def _names(session: Session, organisation_id: int) -> dict[int, str]:
    return {
        user.id: user.display_name or user.email for user in staff.members(session, organisation_id)
    }


def overdue_count(session: Session, organisation_id: int, now: datetime) -> int:
    """Open requests past their deadline (a paused clock is never overdue: it stands still)."""
    return (
        session.scalar(
            select(func.count())
            .select_from(RightsRequest)
            .where(
                RightsRequest.organisation_id == organisation_id,
                RightsRequest.status.in_([s.value for s in RequestStatus if is_open(s)]),
                RightsRequest.due_at.is_not(None),
                RightsRequest.due_at < now,
            )
        )
        or 0
    )


BUCKET_LABELS: Final = {
    "overdue": N_("Overdue"),
    "day": N_("Due within 24 hours"),
    "later": N_("Due later"),
    "paused": N_("Clock paused"),
}


def deadline_buckets(session: Session, organisation_id: int, now: datetime) -> dict[str, int]:
    """Open requests by how close their deadline is: the home page's card."""
    found = list(
        session.scalars(
            select(RightsRequest).where(
                RightsRequest.organisation_id == organisation_id,
                RightsRequest.status.in_([s.value for s in RequestStatus if is_open(s)]),
            )
        )
    )
    pauses = _pauses(session, [r.id for r in found])
    buckets = dict.fromkeys(BUCKET_LABELS, 0)
    for request in found:
        state = standing(request, pauses.get(request.id, []), now)
        if state.paused:
            buckets["paused"] += 1
        elif state.overdue:
            buckets["overdue"] += 1
        elif state.remaining is not None and state.remaining <= timedelta(hours=24):
            buckets["day"] += 1
        else:
            buckets["later"] += 1
    return buckets


# --- the queue --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    right: str = ""
    status: str = ""
    assignee: str = ""
    overdue: bool = False
    closed: bool = False
    page: int = 1

    def query(self, **changes: Any) -> str:
        values = {
            "right": self.right,
            "status": self.status,
            "assignee": self.assignee,
            "overdue": "1" if self.overdue else "",
            "closed": "1" if self.closed else "",
            "page": str(self.page) if self.page > 1 else "",
        }
        values.update({key: str(value) for key, value in changes.items()})
        if values["page"] == "1":
            values["page"] = ""
        return urlencode({key: value for key, value in values.items() if value})


@dataclass(frozen=True)
class Row:
    request: RightsRequest
    state: Standing

    def sort_key(self) -> tuple[int, float, float]:
        """Open and running first by time left (overdue first), then paused ones by their frozen
        time left, then those without a deadline; closed ones last, latest closed first."""
        request, state = self.request, self.state
        if not is_open(RequestStatus(request.status)):
            closed = (request.closed_at or request.received_at).timestamp()
            return (3, -closed, 0)
        remaining = state.remaining.total_seconds() if state.remaining is not None else 0.0
        group = 2 if state.remaining is None else 1 if state.paused else 0
        return (group, remaining, request.received_at.timestamp())


@router.get("/admin/o/{org}/requests")
def queue(
    request: Request,
    session: SessionDep,
    member: Handler,
    right: Text = None,
    status: Text = None,
    assignee: Text = None,
    overdue: Text = None,
    closed: Text = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """Open requests by time left, with filters and counts per status."""
    lang = console_language(request)
    now = now_of(request)
    organisation_id = member.organisation.id
    filters = Filters(
        right=right if right in {r.value for r in Right} else "",
        status=status if status in {s.value for s in RequestStatus} else "",
        assignee=assignee
        if assignee and (assignee in ("none", "me") or assignee.isdigit())
        else "",
        overdue=overdue == "1",
        closed=closed == "1"
        or (status is not None and status in {s.value for s in RequestStatus if not is_open(s)}),
        page=page,
    )
    statement = select(RightsRequest).where(RightsRequest.organisation_id == organisation_id)
    if filters.right:
        statement = statement.where(RightsRequest.right == filters.right)
    if filters.status:
        statement = statement.where(RightsRequest.status == filters.status)
    elif not filters.closed:
        statement = statement.where(
            RightsRequest.status.in_([s.value for s in RequestStatus if is_open(s)])
        )
    if filters.assignee == "none":
        statement = statement.where(RightsRequest.assignee_id.is_(None))
    elif filters.assignee == "me":
        statement = statement.where(RightsRequest.assignee_id == member.user.id)
    elif filters.assignee:
        statement = statement.where(RightsRequest.assignee_id == int(filters.assignee))
    found = list(session.scalars(statement))
    pauses = _pauses(session, [r.id for r in found])
    rows = [Row(r, standing(r, pauses.get(r.id, []), now)) for r in found]
    if filters.overdue:
        rows = [row for row in rows if row.state.overdue]
    rows.sort(key=Row.sort_key)
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    shown = rows[(filters.page - 1) * PAGE_SIZE : filters.page * PAGE_SIZE]
    counts = dict(
        session.execute(
            select(RightsRequest.status, func.count())
            .where(RightsRequest.organisation_id == organisation_id)
            .group_by(RightsRequest.status)
        ).all()
    )
    any_request = bool(counts)
    return render(
        request,
        "console/requests.html",
        signed_in=member.signed_in,
        member=member,
        section="requests",
        fragment="console/_requests_results.html",
        context={
            "filters": filters,
            "rows": [
                {
                    "request": row.request,
                    "state": row.state,
                    "right": right_label(row.request.right, lang),
                    "status": _t(lang, STATUS_LABELS[RequestStatus(row.request.status)]),
                    "received": local(row.request.received_at, row.request.zone, lang),
                    "time_left": time_left_text(row.state, lang),
                }
                for row in shown
            ],
            "matched": len(rows),
            "pages": pages,
            "counts": [
                (s.value, _t(lang, STATUS_LABELS[s]), counts.get(s.value, 0)) for s in RequestStatus
            ],
            "any_request": any_request,
            "rights": [
                (r.value, right_label(r.value, lang)) for r in Right if RIGHTS[r].recorded_request
            ],
            "statuses": [(s.value, _t(lang, label)) for s, label in STATUS_LABELS.items()],
            "names": _names(session, organisation_id),
            "base": _base(request, member),
            "centre": f"{request.scope.get('root_path', '')}/o/{member.organisation.slug}"
            "/requests/new",
            "overdue_total": overdue_count(session, organisation_id, now),
        },
    )


# --- one request ------------------------------------------------------------------------------


def _request(session: Session, member: Member, reference: str) -> RightsRequest:
    found = session.scalars(
        select(RightsRequest).where(
            RightsRequest.organisation_id == member.organisation.id,
            RightsRequest.reference == reference[:40],
        )
    ).one_or_none()
    if found is None:
        raise HTTPException(status_code=404)
    return found


def _event_summary(event: RequestEvent, lang: str, names: Mapping[int, str]) -> list[str]:
    """What an entry recorded, in words; notes and explanations are the person's data and are
    shown only in the audited view."""
    data = event.data or {}
    said: list[str] = []
    if "reason" in data and event.kind in (EventKind.PAUSED, EventKind.CLOCK_START_CHANGED):
        reason = data["reason"]
        if event.kind == EventKind.PAUSED and reason in PAUSE_LABELS:
            said.append(_t(lang, PAUSE_LABELS[PauseReason(reason)]))
    if "method" in data:
        said.append(_t(lang, "method: {method}").format(method=data["method"]))
    if "system" in data:
        said.append(str(data["system"]))
    if "assignee" in data:
        said.append(
            names.get(data["assignee"], _t(lang, "nobody"))
            if data["assignee"]
            else _t(lang, "nobody")
        )
    if "attachment" in data and data.get("kind") in {k.value for k in AttachmentKind}:
        said.append(_t(lang, KIND_LABELS[AttachmentKind(data["kind"])]))
    if data.get("ground"):
        said.append(art(data["ground"]).cite(lang))
    if "on_time" in data and data["on_time"] is not None:
        said.append(_t(lang, "on time") if data["on_time"] else _t(lang, "late"))
    return said


def _event_private(event: RequestEvent) -> list[str]:
    data = event.data or {}
    return [
        str(data[key])
        for key in ("reason", "note", "explanation", "done", "kept", "kept_because", "reference")
        if data.get(key) and not (key == "reason" and event.kind == EventKind.PAUSED)
    ]


def _detail(
    request: Request,
    session: Session,
    member: Member,
    found: RightsRequest,
    *,
    person: bool = False,
    reason: str = "",
    errors: Mapping[str, str] | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    lang = console_language(request)
    now = now_of(request)
    pauses_rows = list(
        session.scalars(
            select(RequestPause)
            .where(RequestPause.request_id == found.id)
            .order_by(RequestPause.id)
        )
    )
    pauses = [Pause(p.started_at, p.ended_at, p.reason) for p in pauses_rows]
    state = standing(found, pauses, now)
    names = _names(session, member.organisation.id)
    events = service.timeline(session, found)
    tasks = service.tasks_of(session, found)
    attachments = staff.attachments_of(session, found)
    broken = service.verify_timeline(session, found)
    status = RequestStatus(found.status)
    steps = set(allowed_actions(status))
    deadline = found.deadline or {}
    clock_changes = [e for e in events if e.kind == EventKind.CLOCK_START_CHANGED]
    right = Right(found.right)
    asked_by = (found.outcome or {}).get("asked_by")
    try:
        _, manifest = service.manifest_in_force(session, member.organisation)
    except RequestProblem:
        manifest = None
    engine = engine_rows(session, found, manifest, lang)
    return render(
        request,
        "console/request.html",
        signed_in=member.signed_in,
        member=member,
        section="requests",
        status_code=status_code,
        context={
            "found": found,
            "state": state,
            "right": right_label(found.right, lang),
            "status": _t(lang, STATUS_LABELS[status]),
            "channel": _t(lang, CHANNEL_LABELS.get(found.channel, found.channel)),
            "received": local(found.received_at, found.zone, lang),
            "verified": local(found.verified_at, found.zone, lang) if found.verified_at else None,
            "verification_took": duration_text(found.verified_at - found.received_at, lang)
            if found.verified_at
            else None,
            "clock_started": local(found.clock_started_at, found.zone, lang),
            "clock_reason": (clock_changes[-1].data or {}).get("reason") if clock_changes else None,
            "due": local(found.due_at, found.zone, lang) if found.due_at else None,
            "time_left": time_left_text(state, lang),
            "deadline": deadline,
            "deadline_articles": cite_all(
                tuple(art(a) for a in deadline.get("articles", [])), lang
            ),
            "method": _t(lang, METHOD_LABELS[found.verification_method])
            if found.verification_method in METHOD_LABELS
            else found.verification_method,
            "language": PERSON_LANGUAGES.get(found.language, found.language),
            "pauses": [
                {
                    "reason": _t(lang, PAUSE_LABELS[PauseReason(p.reason)])
                    if p.reason in {r.value for r in PauseReason}
                    else p.reason,
                    "started": local(p.started_at, found.zone, lang),
                    "ended": local(p.ended_at, found.zone, lang) if p.ended_at else None,
                }
                for p in pauses_rows
            ],
            "assignee": names.get(found.assignee_id) if found.assignee_id else None,
            "names": names,
            "tasks": [
                {
                    "task": task,
                    "instructions": task.instructions.get(lang)
                    or task.instructions.get("id")
                    or next(iter(task.instructions.values()), ""),
                    "done_by": names.get(task.done_by_id) if task.done_by_id else None,
                    "done_at": local(task.done_at, found.zone, lang) if task.done_at else None,
                    "engine": engine.get(task.id),
                }
                for task in tasks
            ],
            "events": [
                {
                    "event": event,
                    "label": _t(lang, EVENT_LABELS.get(EventKind(event.kind), event.kind)),
                    "at": local(event.at, found.zone, lang),
                    "who": _who(event, names, lang),
                    "said": _event_summary(event, lang, names),
                    "private": _event_private(event),
                }
                for event in events
            ],
            "broken": broken,
            "attachments": [
                {
                    "file": a,
                    "kind": _t(lang, KIND_LABELS[AttachmentKind(a.kind)]),
                    "at": local(a.uploaded_at, found.zone, lang),
                    "by": names.get(a.uploaded_by_id) if a.uploaded_by_id else None,
                }
                for a in attachments
            ],
            "kinds": [(k.value, _t(lang, label)) for k, label in KIND_LABELS.items()],
            "pause_reasons": [(r.value, _t(lang, label)) for r, label in PAUSE_LABELS.items()],
            "grounds": [
                {
                    "key": g.key,
                    "label": g.label_in(lang),
                    "explanation": g.explanation_in(lang),
                    "article": g.article.cite(lang),
                    "needs_reference": g.needs_reference,
                }
                for g in grounds_for(right)
            ],
            "open": is_open(status),
            "may": {
                "assign": is_open(status),
                "verify": Step.VERIFY in steps,
                "start": Step.START in steps,
                "pause": is_open(status) and found.paused_since is None,
                "resume": found.paused_since is not None,
                "tick": status is RequestStatus.IN_PROGRESS,
                "fulfil": Step.FULFIL in steps,
                "refuse": Step.REFUSE in steps,
                "approve": Step.APPROVE in steps and asked_by != str(member.user.id),
                "reject": Step.REJECT in steps,
                "clock": is_open(status)
                and found.clock_start == ClockStart.RECEIPT.value
                and found.verified_at is not None,
                "read": member.may(Action.VIEW_PERSONAL_DATA),
            },
            "approval_pending": status is RequestStatus.AWAITING_APPROVAL,
            "pending_outcome": (found.outcome or {}).get("pending"),
            "asked_by_me": asked_by == str(member.user.id),
            "person": person,
            "reason": reason,
            "reason_min": REASON_MIN,
            "on_behalf": _t(lang, ON_BEHALF_LABELS[OnBehalf(found.on_behalf)])
            if found.on_behalf
            else None,
            "errors": errors or {},
            "notice": notice,
            "base": _base(request, member),
        },
    )


def _who(event: RequestEvent, names: Mapping[int, str], lang: str) -> str:
    if event.actor_kind == "user" and event.actor_id and event.actor_id.isdigit():
        return names.get(int(event.actor_id)) or event.actor_label or _t(lang, "a former member")
    if event.actor_kind == "data_subject":
        return _t(lang, "the person")
    if event.actor_kind == "api_key":
        return _t(lang, "an API key")
    return "jagadata"


DONE_NOTICES: Final = {
    "assign": N_("The request is assigned."),
    "verify": N_("The person's identity is recorded as verified."),
    "start": N_("Work on the request has started."),
    "pause": N_("The clock is paused."),
    "resume": N_("The clock runs again; the deadline moved by the pause."),
    "task": N_("The task is ticked."),
    "note": N_("The note is on the timeline."),
    "file": N_("The file is kept with the request, encrypted."),
    "fulfil": N_("The request is closed as fulfilled."),
    "refuse": N_("The request is closed as refused."),
    "asked": N_("The outcome waits for another person's approval."),
    "approve": N_("Approved: the request is closed."),
    "reject": N_("Sent back: the request is in progress again."),
    "clock": N_("The clock now counts from verification."),
    "filed": N_("The request is recorded."),
    "engine": N_("The engine will do the task in the database within a minute; reload to see it."),
}


@router.get("/admin/o/{org}/requests/{reference}")
def detail(
    reference: str,
    request: Request,
    session: SessionDep,
    member: Handler,
    done: Text = None,
) -> Response:
    """One request: its facts, tasks, timeline, files and the steps open to it."""
    lang = console_language(request)
    found = _request(session, member, reference)
    notice = _t(lang, DONE_NOTICES[done]) if done in DONE_NOTICES else None
    return _detail(request, session, member, found, notice=notice)


def reason_error(reason: str, lang: str) -> str | None:
    if len(reason) < REASON_MIN:
        return _t(
            lang,
            "Say why you need to see this person's data (at least {n} characters): "
            "it is written to the audit log.",
        ).format(n=REASON_MIN)
    if personal_data_kind(reason) is not None:
        return _t(
            lang,
            "Leave email addresses, phone numbers and NIKs out of the reason: the audit log "
            "never holds them.",
        )
    return None


@router.post("/admin/o/{org}/requests/{reference}/person")
def person(
    reference: str,
    request: Request,
    session: SessionDep,
    member: Reader,
    reason: Annotated[str, Form(max_length=REASON_MAX)] = "",
) -> Response:
    """The person's contact, details and proof of authority, once the look (who, why) is
    committed to the audit trail."""
    if not member.may(Action.HANDLE_REQUESTS):
        raise HTTPException(status_code=403)
    lang = console_language(request)
    found = _request(session, member, reference)
    cleaned = " ".join(reason.split())
    problem = reason_error(cleaned, lang)
    if problem:
        return _detail(
            request,
            session,
            member,
            found,
            reason=cleaned,
            errors={"reason": problem},
            status_code=400,
        )
    audited_view(
        request,
        session,
        member,
        action="rights.request.viewed",
        target_type="rights_request",
        target_id=found.reference,
        subject_ref=found.subject_ref,
        details={"reason": cleaned},
    )
    return _detail(request, session, member, found, person=True, reason=cleaned)


# --- the steps --------------------------------------------------------------------------------


def _step(
    request: Request,
    session: Session,
    member: Member,
    reference: str,
    done: str,
    change: Callable[[RightsRequest], str | None],
) -> Response:
    """Run one step in one transaction; on success back to the request (303), on refusal the
    page again with what went wrong and nothing changed."""
    lang = console_language(request)
    found = _request(session, member, reference)
    try:
        with atomic(session):
            outcome = change(found)
    except RequestProblem as problem:
        found = _request(session, member, reference)
        return _detail(
            request,
            session,
            member,
            found,
            status_code=409,
            errors={problem.field: _problem(lang, problem)},
        )
    except TransitionRefused as refused:
        found = _request(session, member, reference)
        message = _t(lang, "This cannot be done while the request is {status}.").format(
            status=_t(lang, STATUS_LABELS[refused.status]).lower()
        )
        return _detail(request, session, member, found, status_code=409, errors={"status": message})
    return RedirectResponse(
        f"{_base(request, member)}/{found.reference}?done={outcome or done}", status_code=303
    )


Long = Annotated[str, Form(max_length=LONG_TEXT)]


@router.post("/admin/o/{org}/requests/{reference}/assign")
def assign(
    reference: str,
    request: Request,
    session: SessionDep,
    member: Handler,
    assignee: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    chosen = int(assignee) if assignee.isdigit() else None

    def change(found: RightsRequest) -> None:
        staff.assign(session, found, assignee_id=chosen, actor=_actor(member), now=now_of(request))

    return _step(request, session, member, reference, "assign", change)


@router.post("/admin/o/{org}/requests/{reference}/verify")
def verify(
    reference: str, request: Request, session: SessionDep, member: Handler, reason: Long = ""
) -> Response:
    def change(found: RightsRequest) -> None:
        service.verify_manually(
            session, found, actor=_actor(member), reason=reason, now=now_of(request)
        )

    return _step(request, session, member, reference, "verify", change)


@router.post("/admin/o/{org}/requests/{reference}/start")
def start(reference: str, request: Request, session: SessionDep, member: Handler) -> Response:
    def change(found: RightsRequest) -> None:
        service.start(session, found, actor=_actor(member), now=now_of(request))

    return _step(request, session, member, reference, "start", change)


@router.post("/admin/o/{org}/requests/{reference}/pause")
def pause(
    reference: str,
    request: Request,
    session: SessionDep,
    member: Handler,
    reason: Annotated[str, Form(max_length=40)] = "",
    note: Long = "",
) -> Response:
    def change(found: RightsRequest) -> None:
        try:
            chosen = PauseReason(reason)
        except ValueError:
            raise RequestProblem("reason", "choose why the clock stops") from None
        service.pause(
            session,
            found,
            actor=_actor(member),
            reason=chosen,
            note=note.strip() or None,
            now=now_of(request),
        )

    return _step(request, session, member, reference, "pause", change)


@router.post("/admin/o/{org}/requests/{reference}/resume")
def resume(reference: str, request: Request, session: SessionDep, member: Handler) -> Response:
    def change(found: RightsRequest) -> None:
        service.resume(session, found, actor=_actor(member), now=now_of(request))

    return _step(request, session, member, reference, "resume", change)


def _upload(file: UploadFile | None) -> staff.Upload | None:
    if file is None or not file.filename:
        return None
    data = file.file.read(staff.MAX_ATTACHMENT_BYTES + 1)
    return staff.Upload(file.filename, data)


@router.post("/admin/o/{org}/requests/{reference}/tasks/{task_id}")
def tick(
    reference: str,
    task_id: int,
    request: Request,
    session: SessionDep,
    member: Handler,
    note: Long = "",
    kind: Annotated[str, Form(max_length=16)] = AttachmentKind.EXPORT.value,
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Tick a task, with a note and optionally its file (an export, say), in one transaction."""
    upload = _upload(file)

    def change(found: RightsRequest) -> None:
        task = session.get(RequestTask, task_id)
        if task is None or task.request_id != found.id:
            raise RequestProblem("task", "no such task")
        if task.done_at is not None:
            raise RequestProblem("task", "already done")
        service.complete_task(
            session,
            found,
            task_id,
            actor=_actor(member),
            user_id=member.user.id,
            note=note.strip() or None,
            now=now_of(request),
        )
        if upload is not None:
            staff.store_attachment(
                session,
                found,
                upload,
                kind=_kind(kind),
                actor=_actor(member),
                user_id=member.user.id,
                task_id=task_id,
                now=now_of(request),
            )

    return _step(request, session, member, reference, "task", change)


@router.post("/admin/o/{org}/requests/{reference}/tasks/{task_id}/engine")
def run_engine(
    reference: str, task_id: int, request: Request, session: SessionDep, member: Handler
) -> Response:
    """Ask the datastore engine to do (or try again) one task in a mapped database."""

    def change(found: RightsRequest) -> str:
        return ask_engine(session, found, task_id, user_id=member.user.id)

    return _step(request, session, member, reference, "engine", change)


def _kind(kind: str) -> AttachmentKind:
    try:
        return AttachmentKind(kind)
    except ValueError:
        raise RequestProblem("file", "unknown kind of file") from None


@router.post("/admin/o/{org}/requests/{reference}/notes")
def note(
    reference: str, request: Request, session: SessionDep, member: Handler, text: Long = ""
) -> Response:
    def change(found: RightsRequest) -> None:
        staff.add_note(session, found, text=text, actor=_actor(member), now=now_of(request))

    return _step(request, session, member, reference, "note", change)


@router.post("/admin/o/{org}/requests/{reference}/attachments")
def upload(
    reference: str,
    request: Request,
    session: SessionDep,
    member: Handler,
    kind: Annotated[str, Form(max_length=16)] = AttachmentKind.RESPONSE.value,
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    chosen = _upload(file)

    def change(found: RightsRequest) -> None:
        if chosen is None:
            raise RequestProblem("file", "choose a file")
        staff.store_attachment(
            session,
            found,
            chosen,
            kind=_kind(kind),
            actor=_actor(member),
            user_id=member.user.id,
            now=now_of(request),
        )

    return _step(request, session, member, reference, "file", change)


@router.post("/admin/o/{org}/requests/{reference}/attachments/{attachment_id}")
def download(
    reference: str, attachment_id: int, request: Request, session: SessionDep, member: Reader
) -> Response:
    """A kept file, once its download is in the audit trail."""
    if not member.may(Action.HANDLE_REQUESTS):
        raise HTTPException(status_code=403)
    found = _request(session, member, reference)
    attachment = session.get(RequestAttachment, attachment_id)
    if attachment is None or attachment.request_id != found.id:
        raise HTTPException(status_code=404)
    data = staff.attachment_bytes(attachment)
    audited_view(
        request,
        session,
        member,
        action="rights.attachment.downloaded",
        target_type="rights_request",
        target_id=found.reference,
        subject_ref=found.subject_ref,
        details={"attachment": attachment.id, "kind": attachment.kind, "sha256": attachment.sha256},
    )
    extension = {v: k for k, v in staff.MEDIA_TYPES.items()}[attachment.media_type]
    name = f"{found.reference}-{attachment.id}-{attachment.kind}{extension}"
    return Response(
        data,
        media_type=attachment.media_type,
        headers={
            "content-disposition": f'attachment; filename="{name}"',
            "cache-control": "no-store",
            "x-content-type-options": "nosniff",
        },
    )


@router.post("/admin/o/{org}/requests/{reference}/fulfil")
def fulfil(
    reference: str,
    request: Request,
    session: SessionDep,
    member: Handler,
    done: Long = "",
    kept: Long = "",
    kept_because: Long = "",
) -> Response:
    def change(found: RightsRequest) -> str:
        if not done.strip():
            raise RequestProblem("outcome", "say what was done")
        if kept.strip() and not kept_because.strip():
            raise RequestProblem("kept", "say under which rule the data is kept")
        outcome = {
            "done": done.strip(),
            "kept": kept.strip() or None,
            "kept_because": kept_because.strip() or None,
        }
        service.fulfil(session, found, actor=_actor(member), outcome=outcome, now=now_of(request))
        return "asked" if found.status == RequestStatus.AWAITING_APPROVAL.value else "fulfil"

    return _step(request, session, member, reference, "fulfil", change)


@router.post("/admin/o/{org}/requests/{reference}/refuse")
def refuse(
    reference: str,
    request: Request,
    session: SessionDep,
    member: Handler,
    ground: Annotated[str, Form(max_length=32)] = "",
    explanation: Long = "",
    law: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Refuse only on a ground the law allows for this right (Art. 15, 33, 41(2), 50)."""

    def change(found: RightsRequest) -> str:
        service.refuse(
            session,
            found,
            actor=_actor(member),
            ground=ground,
            explanation=explanation,
            reference=law or None,
            now=now_of(request),
        )
        return "asked" if found.status == RequestStatus.AWAITING_APPROVAL.value else "refuse"

    return _step(request, session, member, reference, "refuse", change)


@router.post("/admin/o/{org}/requests/{reference}/approve")
def approve(reference: str, request: Request, session: SessionDep, member: Handler) -> Response:
    def change(found: RightsRequest) -> None:
        service.approve(session, found, actor=_actor(member), now=now_of(request))

    return _step(request, session, member, reference, "approve", change)


@router.post("/admin/o/{org}/requests/{reference}/reject")
def reject(
    reference: str, request: Request, session: SessionDep, member: Handler, reason: Long = ""
) -> Response:
    def change(found: RightsRequest) -> None:
        if not reason.strip():
            raise RequestProblem("reason", "say why it goes back")
        service.reject(
            session, found, actor=_actor(member), reason=reason.strip(), now=now_of(request)
        )

    return _step(request, session, member, reference, "reject", change)


@router.post("/admin/o/{org}/requests/{reference}/clock")
def clock_from_verification(
    reference: str, request: Request, session: SessionDep, member: Handler, reason: Long = ""
) -> Response:
    """Count this request's clock from verification, with the reason (the law counts from
    receipt: the choice and why stay on the timeline)."""

    def change(found: RightsRequest) -> None:
        if found.verified_at is None or not is_open(RequestStatus(found.status)):
            raise RequestProblem("status", "verify the request first")
        service.set_clock_start(
            session,
            found,
            ClockStart.VERIFICATION,
            actor=_actor(member),
            reason=reason,
            now=now_of(request),
        )

    return _step(request, session, member, reference, "clock", change)
