"""A request's life as operations, each one transaction: file it, verify the person, move it
through the workflow, pause and resume the clock, tick tasks, and close it with its evidence.

Every operation appends to the request's hash-chained timeline and to the organisation's audit
trail inside the caller's transaction, and commits nothing itself:

    with session.begin():
        filed = file_request(session=session, organisation=org, right=Right.ACCESS, ...)
    # committed: the request, its first timeline entry, its tasks and the code's email exist;
    # rolled back: none of them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from jagadata.audit.service import Actor, first_broken_link, record
from jagadata.config import Settings
from jagadata.consent.terms import version_manifest
from jagadata.crypto import get_keyring
from jagadata.identities import IdentityKind, identity_hash, normalise_identity
from jagadata.law.facts import Right
from jagadata.manifest.commitments import Deadline
from jagadata.manifest.schema import Calendar, IdentifierKind, Manifest
from jagadata.manifest.types import Duration
from jagadata.orgs.models import Organisation
from jagadata.orgs.service import current_version
from jagadata.rights.clock import Clock, Pause, WorkingCalendar, zone_label, zone_of
from jagadata.rights.grounds import UnknownGround, ground_for
from jagadata.rights.models import (
    RequestEvent,
    RequestPause,
    RequestTask,
    RightsRequest,
    Verification,
)
from jagadata.rights.plan import identifiers, offered_rights, plan_request
from jagadata.rights.states import (
    ClockStart,
    EventKind,
    OnBehalf,
    PauseReason,
    RequestChannel,
    RequestStatus,
)
from jagadata.rights.workflow import Action, is_open, next_status

CODE_LIFETIME: Final = timedelta(minutes=30)
MAX_CODE_ATTEMPTS: Final = 5
MAX_CODES_PER_REQUEST: Final = 5
GENESIS: Final = "0" * 64
_REFERENCE_ALPHABET: Final = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
_IDENTITY_KINDS: Final = {
    IdentifierKind.EMAIL: IdentityKind.EMAIL,
    IdentifierKind.PHONE: IdentityKind.PHONE,
    IdentifierKind.REFERENCE: IdentityKind.REFERENCE,
    IdentifierKind.NIK: IdentityKind.NIK,
}


class RequestProblem(ValueError):
    """A request cannot be filed or moved as asked; `field` names what to fix."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class Filed:
    request: RightsRequest
    code: str | None
    """The one-time code, for the caller to send (or None when the identifier is not
    verifiable, e.g. a student number, and staff verify by hand)."""
    link_token: str | None
    access_key: str
    """The key of the person's status link (`?k=`); only its hash is stored."""


def access_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def request_for_person(
    session: Session, organisation_id: int, reference: str, key: str | None
) -> RightsRequest | None:
    """The request whose reference and status-link key both match; None for anything else."""
    if not key:
        return None
    request = session.scalars(
        select(RightsRequest).where(
            RightsRequest.organisation_id == organisation_id,
            RightsRequest.reference == reference,
        )
    ).first()
    if request is None or request.access_hash is None:
        return None
    if not hmac.compare_digest(request.access_hash, access_hash(key)):
        return None
    return request


def _now(moment: datetime | None) -> datetime:
    return (moment or datetime.now(UTC)).astimezone(UTC)


def new_reference() -> str:
    """'R-' and 8 characters without look-alikes (no 0/O, 1/I/L, U): read over the phone."""
    return "R-" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))


def manifest_in_force(session: Session, organisation: Organisation) -> tuple[int, Manifest]:
    version = current_version(session=session, organisation=organisation)
    manifest = version_manifest(version) if version is not None else None
    if version is None or manifest is None:
        raise RequestProblem("organisation", "the organisation has no published manifest")
    return version.number, manifest


# --- filing ---------------------------------------------------------------------------------


def file_request(
    *,
    session: Session,
    organisation: Organisation,
    right: Right | str,
    identifier: str,
    value: str,
    details: Mapping[str, Any] | None = None,
    language: str = "id",
    channel: RequestChannel = RequestChannel.WEB,
    actor: Actor | None = None,
    on_behalf: OnBehalf | None = None,
    authority: Mapping[str, Any] | None = None,
    received_at: datetime | None = None,
    external_id: str | None = None,
    callback_url: str | None = None,
    settings: Settings | None = None,
    issue_code: bool = True,
) -> Filed:
    """Record a request the moment it is received (Art. 14); the clock starts now.

    A one-time code is issued for an identifier that can receive one, unless `issue_code` is
    false (the caller verifies the person another way, or issues a fresh code itself)."""
    number, manifest = manifest_in_force(session, organisation)
    try:
        right = Right(right)
    except ValueError:
        raise RequestProblem("right", f"unknown right {right!r}") from None
    if right not in offered_rights(manifest):
        raise RequestProblem("right", f"{right.value} is not a right exercised by request here")
    declared = {ident.id: ident for ident in identifiers(manifest)}
    chosen = declared.get(identifier)
    if chosen is None:
        raise RequestProblem(
            "identifier", f"use one of the declared identifiers: {', '.join(declared)}"
        )
    kind = _IDENTITY_KINDS[chosen.kind]
    try:
        normalised = normalise_identity(kind, value)
    except ValueError as error:
        raise RequestProblem("value", str(error)) from None
    if on_behalf is not None and not authority:
        raise RequestProblem(
            "authority",
            "a request on someone else's behalf needs the proof of authority "
            "(a parent's or guardian's relation, or a power of attorney)",
        )
    received = _now(received_at)
    plan = plan_request(manifest, right)
    zone = zone_of(manifest.organisation.timezone)
    clock_start = ClockStart(manifest.rights.clock_start.value)
    deadline_record = plan.deadline_record()
    deadline_record["days_off"] = [day.isoformat() for day in manifest.rights.response.days_off]
    key = secrets.token_urlsafe(18)
    request = RightsRequest(
        organisation_id=organisation.id,
        reference=new_reference(),
        access_hash=access_hash(key),
        right=right.value,
        status=RequestStatus.RECEIVED.value,
        channel=channel.value,
        language=language if language in ("id", "en", "fr") else "id",
        manifest_version=number,
        identifier=chosen.id,
        identifier_kind=kind.value,
        subject_ref=identity_hash(kind, value, settings=settings),
        contact=normalised,
        details=dict(details or {}),
        on_behalf=on_behalf.value if on_behalf else None,
        authority=dict(authority) if authority else None,
        received_at=received,
        clock_start=clock_start.value,
        clock_started_at=received,
        zone=zone.key,
        deadline=deadline_record,
        reminders_sent=[],
        approval_required=right in manifest.rights.approval_required,
        external_id=external_id,
        callback_url=callback_url,
        last_sequence=0,
        last_hash=GENESIS,
    )
    fulfilment = plan.fulfilment if clock_start is ClockStart.RECEIPT else None
    _set_deadlines(request, plan.acknowledgement, fulfilment, pauses=[])
    session.add(request)
    session.flush()
    for position, task in enumerate(plan.tasks, start=1):
        session.add(
            RequestTask(
                organisation_id=organisation.id,
                request_id=request.id,
                position=position,
                system=task.system,
                system_name=task.system_name,
                instructions=task.instructions,
            )
        )
    who = actor or Actor.data_subject(request.subject_ref)
    append(
        session,
        request,
        EventKind.RECEIVED,
        who,
        {
            "right": right.value,
            "channel": channel.value,
            "identifier": chosen.id,
            "on_behalf": request.on_behalf,
            "manifest_version": number,
            "deadline": request.deadline,
            "zone": zone_label(zone),
        },
        at=received,
    )
    _audit(session, request, who, "rights.request.received")
    code = link = None
    if issue_code and can_receive_code(request):
        code, link = _issue_code(session, request, now=received)
    return Filed(request, code, link, key)


def _deadline_of(record: Mapping[str, Any]) -> Deadline | None:
    if not record.get("duration"):
        return None
    return Deadline(
        Duration.parse(record["duration"]),
        Calendar(record["calendar"]),
        record["source"],
        (),
    )


def clock_of(request: RightsRequest) -> Clock | None:
    """The fulfilment clock of a request, or None where neither law nor promise sets one."""
    deadline = _deadline_of(request.deadline)
    if deadline is None:
        return None
    days_off = [date.fromisoformat(day) for day in request.deadline.get("days_off", [])]
    calendar = WorkingCalendar(extra_holidays=days_off)
    return Clock(request.clock_started_at, deadline, zone_of(request.zone), calendar)


def pauses_of(session: Session, request: RightsRequest) -> list[Pause]:
    rows = session.scalars(
        select(RequestPause).where(RequestPause.request_id == request.id).order_by(RequestPause.id)
    )
    return [Pause(row.started_at, row.ended_at, row.reason) for row in rows]


def _set_deadlines(
    request: RightsRequest,
    acknowledgement: Deadline | None,
    fulfilment: Deadline | None,
    *,
    pauses: Sequence[Pause],
) -> None:
    zone = zone_of(request.zone)
    days_off = [date.fromisoformat(day) for day in request.deadline.get("days_off", [])]
    calendar = WorkingCalendar(extra_holidays=days_off)
    if acknowledgement is not None:
        request.acknowledge_due_at = Clock(
            request.received_at, acknowledgement, zone, calendar
        ).base_due()
    if fulfilment is not None:
        request.due_at = Clock(request.clock_started_at, fulfilment, zone, calendar).due(pauses)


# --- verification ---------------------------------------------------------------------------


def _code_hash(verification_salt: str, code: str) -> str:
    return get_keyring().lookup_hash("rights_code", f"{verification_salt}:{code}")


def can_receive_code(request: RightsRequest) -> bool:
    """The identifier the person gave is an email address or a phone number (WhatsApp)."""
    return request.identifier_kind in (IdentityKind.EMAIL.value, IdentityKind.PHONE.value)


def issue_code(
    session: Session, request: RightsRequest, *, now: datetime | None = None
) -> tuple[str, str]:
    """A fresh 6-digit code and a link token for `request`; earlier codes stop working."""
    moment = _now(now)
    earlier = list(
        session.scalars(select(Verification).where(Verification.request_id == request.id))
    )
    if len(earlier) >= MAX_CODES_PER_REQUEST:
        raise RequestProblem("code", "too many codes were sent for this request; staff can help")
    for old in earlier:
        if old.used_at is None:
            old.used_at = moment
    code = f"{secrets.randbelow(1_000_000):06d}"
    link = secrets.token_urlsafe(24)
    verification = Verification(
        organisation_id=request.organisation_id,
        request_id=request.id,
        channel=request.identifier_kind,
        code_hash="",
        link_hash=hashlib.sha256(link.encode()).hexdigest(),
        sent_at=moment,
        expires_at=moment + CODE_LIFETIME,
        attempts=0,
    )
    session.add(verification)
    session.flush()
    verification.code_hash = _code_hash(str(verification.id), code)
    append(
        session,
        request,
        EventKind.CODE_SENT,
        Actor.system(),
        {"channel": request.identifier_kind},
        at=moment,
    )
    return code, link


_issue_code = issue_code  # `file_request` has a parameter of the same name


class CodeRefused(ValueError):
    """The code is wrong, expired, used up, or too many attempts were made (`reason`)."""

    def __init__(self, reason: str, attempts_left: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.attempts_left = attempts_left


def verify_code(
    session: Session, request: RightsRequest, code: str, *, now: datetime | None = None
) -> RightsRequest:
    """Check the person's code; right, the request is verified (and the clock may start)."""
    moment = _now(now)
    verification = session.scalars(
        select(Verification)
        .where(Verification.request_id == request.id, Verification.used_at.is_(None))
        .order_by(Verification.id.desc())
        .limit(1)
    ).first()
    if request.status != RequestStatus.RECEIVED.value or verification is None:
        raise CodeRefused("no_code")
    if verification.expires_at <= moment:
        raise CodeRefused("expired")
    if verification.attempts >= MAX_CODE_ATTEMPTS:
        raise CodeRefused("locked")
    verification.attempts += 1
    expected = verification.code_hash
    given = _code_hash(str(verification.id), code.strip())
    if not hmac.compare_digest(expected, given):
        left = MAX_CODE_ATTEMPTS - verification.attempts
        append(
            session,
            request,
            EventKind.CODE_FAILED,
            Actor.data_subject(request.subject_ref),
            {"attempts_left": left},
            at=moment,
        )
        raise CodeRefused("wrong" if left else "locked", left)
    verification.used_at = moment
    _verified(session, request, Actor.data_subject(request.subject_ref), "code", moment, None)
    return request


def verify_link(
    session: Session, token: str, *, now: datetime | None = None
) -> RightsRequest | None:
    """The link sent with the code: the same proof of control, one click."""
    moment = _now(now)
    digest = hashlib.sha256(token.encode()).hexdigest()
    verification = session.scalars(
        select(Verification).where(Verification.link_hash == digest)
    ).first()
    if verification is None or verification.used_at is not None:
        return None
    if verification.expires_at <= moment:
        return None
    request = session.get(RightsRequest, verification.request_id)
    if request is None or request.status != RequestStatus.RECEIVED.value:
        return None
    verification.used_at = moment
    _verified(session, request, Actor.data_subject(request.subject_ref), "link", moment, None)
    return request


def verify_manually(
    session: Session,
    request: RightsRequest,
    *,
    actor: Actor,
    reason: str,
    method: str = "manual",
    now: datetime | None = None,
) -> RightsRequest:
    """Staff (or the organisation's app, `method="api"`) vouch for the person's identity —
    seen in person, a known number, signed in to the app; the reason stays on the timeline."""
    if not reason.strip():
        raise RequestProblem("reason", "say how the person's identity was checked")
    _verified(session, request, actor, method, _now(now), reason.strip())
    return request


def _verified(
    session: Session,
    request: RightsRequest,
    actor: Actor,
    method: str,
    moment: datetime,
    reason: str | None,
) -> None:
    request.status = _next(request, Action.VERIFY).value
    request.verified_at = moment
    request.verification_method = method
    waited = moment - request.received_at
    data: dict[str, Any] = {"method": method, "waited_seconds": int(waited.total_seconds())}
    if reason:
        data["reason"] = reason
    if request.clock_start == ClockStart.VERIFICATION.value:
        request.clock_started_at = moment
        _recompute_due(session, request)
        data["clock_started_at"] = moment.isoformat()
    append(session, request, EventKind.VERIFIED, actor, data, at=moment)
    _audit(session, request, actor, "rights.request.verified")


def set_clock_start(
    session: Session,
    request: RightsRequest,
    start: ClockStart,
    *,
    actor: Actor,
    reason: str,
    now: datetime | None = None,
) -> None:
    """Count this request's clock from verification instead of receipt (or back), with a
    reason: the law counts from receipt, so the choice and why are part of the evidence."""
    if not reason.strip():
        raise RequestProblem("reason", "say why the clock starts at verification")
    request.clock_start = start.value
    if start is ClockStart.RECEIPT or request.verified_at is None:
        request.clock_started_at = request.received_at
    else:
        request.clock_started_at = request.verified_at
    _recompute_due(session, request)
    append(
        session,
        request,
        EventKind.CLOCK_START_CHANGED,
        actor,
        {"clock_start": start.value, "reason": reason.strip()},
        at=_now(now),
    )


# --- the workflow ---------------------------------------------------------------------------


def _next(request: RightsRequest, action: Action, **kwargs: Any) -> RequestStatus:
    return next_status(RequestStatus(request.status), action, **kwargs)


def start(
    session: Session, request: RightsRequest, *, actor: Actor, now: datetime | None = None
) -> None:
    request.status = _next(request, Action.START).value
    append(session, request, EventKind.STARTED, actor, {}, at=_now(now))
    _audit(session, request, actor, "rights.request.started")


def fulfil(
    session: Session,
    request: RightsRequest,
    *,
    actor: Actor,
    outcome: Mapping[str, Any],
    now: datetime | None = None,
) -> None:
    """Close the request as done: `outcome` says what was done where, and what was kept and
    why (a legal hold with its rule). Open tasks must be ticked first."""
    _next(request, Action.FULFIL)  # a request not in progress cannot be fulfilled
    open_tasks = [t.system_name for t in tasks_of(session, request) if t.done_at is None]
    if open_tasks:
        raise RequestProblem("tasks", "tick every task first: " + ", ".join(open_tasks))
    _close(session, request, Action.FULFIL, RequestStatus.FULFILLED, actor, dict(outcome), now)


def refuse(
    session: Session,
    request: RightsRequest,
    *,
    actor: Actor,
    ground: str,
    explanation: str,
    reference: str | None = None,
    now: datetime | None = None,
) -> None:
    """Refuse on a ground the law allows for this right, explained to the person."""
    try:
        chosen = ground_for(Right(request.right), ground)
    except UnknownGround:
        raise RequestProblem("ground", "choose one of the grounds the law allows") from None
    if not explanation.strip():
        raise RequestProblem("explanation", "explain the refusal to the person")
    if chosen.needs_reference and not (reference or "").strip():
        raise RequestProblem(
            "reference", "name the law or regulation this exception is exercised under"
        )
    outcome = {
        "ground": chosen.key,
        "explanation": explanation.strip(),
        "reference": (reference or "").strip() or None,
    }
    request.refusal_ground = chosen.key
    _close(session, request, Action.REFUSE, RequestStatus.REFUSED, actor, outcome, now)


def _close(
    session: Session,
    request: RightsRequest,
    action: Action,
    outcome_status: RequestStatus,
    actor: Actor,
    outcome: dict[str, Any],
    now: datetime | None,
) -> None:
    moment = _now(now)
    status = _next(request, action, approval_required=request.approval_required)
    request.outcome = {**outcome, "pending": outcome_status.value, "asked_by": actor.id}
    if status is RequestStatus.AWAITING_APPROVAL:
        request.status = status.value
        append(session, request, EventKind.APPROVAL_ASKED, actor, request.outcome, at=moment)
        return
    _finish(session, request, outcome_status, actor, moment)


def approve(
    session: Session, request: RightsRequest, *, actor: Actor, now: datetime | None = None
) -> None:
    """A second person confirms the pending outcome; the one who asked cannot approve it."""
    outcome = request.outcome or {}
    if outcome.get("asked_by") is not None and outcome.get("asked_by") == actor.id:
        raise RequestProblem("approver", "another person must approve")
    pending = RequestStatus(outcome.get("pending", RequestStatus.FULFILLED.value))
    _next(request, Action.APPROVE, pending=pending)
    append(session, request, EventKind.APPROVED, actor, {}, at=_now(now))
    _finish(session, request, pending, actor, _now(now))


def reject(
    session: Session,
    request: RightsRequest,
    *,
    actor: Actor,
    reason: str,
    now: datetime | None = None,
) -> None:
    request.status = _next(request, Action.REJECT).value
    request.refusal_ground = None
    append(session, request, EventKind.REJECTED, actor, {"reason": reason}, at=_now(now))


def _finish(
    session: Session, request: RightsRequest, status: RequestStatus, actor: Actor, moment: datetime
) -> None:
    request.status = status.value
    request.closed_at = moment
    kind = EventKind.FULFILLED if status is RequestStatus.FULFILLED else EventKind.REFUSED
    clock = clock_of(request)
    on_time = None
    if clock is not None:
        on_time = not clock.overdue(moment, pauses_of(session, request))
    data = {k: v for k, v in (request.outcome or {}).items() if k not in ("pending", "asked_by")}
    append(session, request, kind, actor, {**data, "on_time": on_time}, at=moment)
    _audit(session, request, actor, f"rights.request.{status.value}")


def withdraw(
    session: Session, request: RightsRequest, *, actor: Actor, now: datetime | None = None
) -> None:
    """The person no longer wants the request handled; the record stays."""
    moment = _now(now)
    request.status = _next(request, Action.WITHDRAW).value
    request.closed_at = moment
    append(session, request, EventKind.WITHDRAWN, actor, {}, at=moment)
    _audit(session, request, actor, "rights.request.withdrawn")


def close_unverified(
    session: Session,
    organisation_id: int,
    *,
    older_than: timedelta,
    now: datetime | None = None,
) -> list[RightsRequest]:
    """Close requests never verified within `older_than`; each keeps its record and timeline."""
    moment = _now(now)
    stale = list(
        session.scalars(
            select(RightsRequest).where(
                RightsRequest.organisation_id == organisation_id,
                RightsRequest.status == RequestStatus.RECEIVED.value,
                RightsRequest.received_at <= moment - older_than,
            )
        )
    )
    for request in stale:
        request.status = _next(request, Action.CLOSE_UNVERIFIED).value
        request.closed_at = moment
        append(
            session,
            request,
            EventKind.CLOSED_UNVERIFIED,
            Actor.system(),
            {"after_seconds": int(older_than.total_seconds())},
            at=moment,
        )
        _audit(session, request, Actor.system(), "rights.request.closed_unverified")
    return stale


# --- the clock: pauses ----------------------------------------------------------------------


def pause(
    session: Session,
    request: RightsRequest,
    *,
    actor: Actor,
    reason: PauseReason,
    note: str | None = None,
    now: datetime | None = None,
) -> None:
    """Stop the clock for a recorded reason, e.g. waiting for the person's missing details."""
    if not is_open(RequestStatus(request.status)):
        raise RequestProblem("status", "a closed request has no clock to pause")
    if request.paused_since is not None:
        raise RequestProblem("pause", "the clock is already paused")
    moment = _now(now)
    session.add(
        RequestPause(
            organisation_id=request.organisation_id,
            request_id=request.id,
            started_at=moment,
            reason=reason.value,
        )
    )
    request.paused_since = moment
    request.due_at = None
    append(
        session, request, EventKind.PAUSED, actor, {"reason": reason.value, "note": note}, at=moment
    )


def resume(
    session: Session, request: RightsRequest, *, actor: Actor, now: datetime | None = None
) -> None:
    moment = _now(now)
    open_pause = session.scalars(
        select(RequestPause).where(
            RequestPause.request_id == request.id, RequestPause.ended_at.is_(None)
        )
    ).first()
    if open_pause is None:
        raise RequestProblem("pause", "the clock is not paused")
    open_pause.ended_at = moment
    request.paused_since = None
    session.flush()
    _recompute_due(session, request)
    paused_for = moment - open_pause.started_at
    append(
        session,
        request,
        EventKind.RESUMED,
        actor,
        {"paused_seconds": int(paused_for.total_seconds())},
        at=moment,
    )


def _recompute_due(session: Session, request: RightsRequest) -> None:
    clock = clock_of(request)
    request.due_at = clock.due(pauses_of(session, request)) if clock is not None else None


# --- tasks ----------------------------------------------------------------------------------


def tasks_of(session: Session, request: RightsRequest) -> list[RequestTask]:
    return list(
        session.scalars(
            select(RequestTask)
            .where(RequestTask.request_id == request.id)
            .order_by(RequestTask.position)
        )
    )


def complete_task(
    session: Session,
    request: RightsRequest,
    task_id: int,
    *,
    actor: Actor,
    user_id: int | None,
    note: str | None,
    now: datetime | None = None,
) -> RequestTask:
    if request.status != RequestStatus.IN_PROGRESS.value:
        raise RequestProblem("status", "start the request before ticking its tasks")
    task = session.get(RequestTask, task_id)
    if task is None or task.request_id != request.id:
        raise RequestProblem("task", "no such task on this request")
    moment = _now(now)
    task.done_at = moment
    task.done_by_id = user_id
    task.note = note
    append(
        session,
        request,
        EventKind.TASK_DONE,
        actor,
        {"task": task.position, "system": task.system, "note": note},
        at=moment,
    )
    return task


# --- the timeline ---------------------------------------------------------------------------


def _event_document(fields: Mapping[str, Any]) -> bytes:
    document = dict(fields)
    document["at"] = fields["at"].astimezone(UTC).isoformat(timespec="microseconds")
    return json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    ).encode("utf-8")


EventHook = Callable[[Session, RightsRequest, RequestEvent], None]
_EVENT_HOOKS: list[EventHook] = []


def on_event(hook: EventHook) -> EventHook:
    """Call `hook` inside the transaction after every timeline entry (status callbacks, messages
    to the person, reminders). A hook that raises rolls the step back with it."""
    if hook not in _EVENT_HOOKS:
        _EVENT_HOOKS.append(hook)
    return hook


def event_hash(fields: Mapping[str, Any]) -> str:
    return hashlib.sha256(_event_document(fields)).hexdigest()


def append(
    session: Session,
    request: RightsRequest,
    kind: EventKind,
    actor: Actor,
    data: Mapping[str, Any],
    *,
    at: datetime,
) -> RequestEvent:
    """Add one step to the request's timeline, chained to the one before."""
    fields: dict[str, Any] = {
        "request": request.reference,
        "sequence": request.last_sequence + 1,
        "kind": kind.value,
        "at": at,
        "actor_kind": actor.kind.value,
        "actor_id": actor.id,
        "actor_label": actor.label,
        "status_after": request.status,
        "data": dict(data),
        "prev_hash": request.last_hash,
    }
    digest = event_hash(fields)
    event = RequestEvent(
        organisation_id=request.organisation_id,
        request_id=request.id,
        sequence=fields["sequence"],
        kind=kind.value,
        at=at,
        actor_kind=actor.kind.value,
        actor_id=actor.id,
        actor_label=actor.label,
        status_after=request.status,
        data=fields["data"],
        prev_hash=request.last_hash,
        hash=digest,
    )
    request.last_sequence = fields["sequence"]
    request.last_hash = digest
    session.add(event)
    session.flush()
    for hook in tuple(_EVENT_HOOKS):
        hook(session, request, event)
    return event


def timeline(session: Session, request: RightsRequest) -> list[RequestEvent]:
    return list(
        session.scalars(
            select(RequestEvent)
            .where(RequestEvent.request_id == request.id)
            .order_by(RequestEvent.sequence)
        )
    )


def verify_timeline(session: Session, request: RightsRequest) -> int | None:
    """None when the timeline is whole and unaltered; else the first sequence that is not."""

    def digest(event: RequestEvent) -> str:
        return event_hash(
            {
                "request": request.reference,
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
        )

    return first_broken_link(
        timeline(session, request),
        digest,
        head_sequence=request.last_sequence,
        head_hash=request.last_hash,
        genesis=GENESIS,
    )


def _audit(session: Session, request: RightsRequest, actor: Actor, action: str) -> None:
    record(
        session=session,
        organisation_id=request.organisation_id,
        actor=actor,
        action=action,
        target_type="rights_request",
        target_id=request.reference,
        subject_ref=request.subject_ref,
        details={"right": request.right, "status": request.status},
    )
