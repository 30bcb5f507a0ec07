"""What staff do to a request that the workflow itself does not decide: give it to a member of
the organisation, write a note, keep a file with it (encrypted at rest), and file a request that
reached the organisation by WhatsApp, email or letter on the person's behalf.

Like `rights.service`, every operation appends to the request's hash-chained timeline and to the
organisation's audit trail inside the caller's transaction and commits nothing itself:

    with atomic(session):
        staff.assign(session, request, assignee_id=7, actor=Actor.user(3))
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import PurePath
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from jagadata.accounts.models import Membership, User
from jagadata.audit.service import Actor, record
from jagadata.law.facts import Right
from jagadata.orgs.models import Organisation
from jagadata.rights import service
from jagadata.rights.models import AttachmentKind, RequestAttachment, RequestTask, RightsRequest
from jagadata.rights.service import Filed, RequestProblem
from jagadata.rights.states import EventKind, OnBehalf, RequestChannel, RequestStatus
from jagadata.rights.workflow import is_open

MAX_ATTACHMENT_BYTES: Final = 10 * 1024 * 1024
MEDIA_TYPES: Final = {
    ".pdf": "application/pdf",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".csv": "text/csv",
    ".json": "application/json",
    ".zip": "application/zip",
    ".txt": "text/plain",
}
"""The files a request may keep, by extension: the media type stored is the one of the
extension, never the one a browser claims."""
MAX_NOTE: Final = 4000
CLOCK_SKEW: Final = timedelta(minutes=5)
"""A received time this far ahead of the server's clock is still 'now' (a slow wall clock)."""


def _now(moment: datetime | None) -> datetime:
    return (moment or datetime.now(UTC)).astimezone(UTC)


def _audit(
    session: Session,
    request: RightsRequest,
    actor: Actor,
    action: str,
    details: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    record(
        session=session,
        organisation_id=request.organisation_id,
        actor=actor,
        action=action,
        target_type="rights_request",
        target_id=request.reference,
        subject_ref=request.subject_ref,
        details={"right": request.right, "status": request.status, **(details or {})},
        occurred_at=at,
    )


def members(session: Session, organisation_id: int) -> list[User]:
    """Everyone who belongs to the organisation, by email: the people a request can go to."""
    return list(
        session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.organisation_id == organisation_id)
            .order_by(User.email)
        )
    )


def assign(
    session: Session,
    request: RightsRequest,
    *,
    assignee_id: int | None,
    actor: Actor,
    now: datetime | None = None,
) -> None:
    """Give the request to a member of its organisation (None: to nobody)."""
    if not is_open(RequestStatus(request.status)):
        raise RequestProblem("status", "a closed request is not assigned any more")
    if assignee_id is not None and assignee_id not in {
        user.id for user in members(session, request.organisation_id)
    }:
        raise RequestProblem("assignee", "assign the request to a member of the organisation")
    if assignee_id == request.assignee_id:
        raise RequestProblem("assignee", "the request is already assigned so")
    moment = _now(now)
    request.assignee_id = assignee_id
    service.append(
        session, request, EventKind.ASSIGNED, actor, {"assignee": assignee_id}, at=moment
    )
    _audit(session, request, actor, "rights.request.assigned", {"assignee": assignee_id}, moment)


def add_note(
    session: Session,
    request: RightsRequest,
    *,
    text: str,
    actor: Actor,
    now: datetime | None = None,
) -> None:
    """A note on the timeline (encrypted there: it may hold the person's data)."""
    cleaned = text.strip()
    if not cleaned:
        raise RequestProblem("note", "write the note")
    if len(cleaned) > MAX_NOTE:
        raise RequestProblem("note", f"a note has at most {MAX_NOTE} characters")
    service.append(session, request, EventKind.NOTE, actor, {"note": cleaned}, at=_now(now))


@dataclass(frozen=True, slots=True)
class Upload:
    filename: str
    data: bytes

    @property
    def media_type(self) -> str:
        return media_type_of(self.filename)


def media_type_of(filename: str) -> str:
    """The stored media type of `filename`; RequestProblem for a type requests do not keep."""
    media = MEDIA_TYPES.get(PurePath(filename).suffix.lower())
    if media is None:
        raise RequestProblem("file", "keep PDF, JPEG, PNG, CSV, JSON, ZIP or text files only")
    return media


def store_attachment(
    session: Session,
    request: RightsRequest,
    upload: Upload,
    *,
    kind: AttachmentKind,
    actor: Actor,
    user_id: int | None,
    task_id: int | None = None,
    now: datetime | None = None,
) -> RequestAttachment:
    """Keep a file with the request, encrypted at rest, with its SHA-256 on the timeline."""
    name = PurePath(upload.filename.replace("\\", "/")).name.strip()
    if not name:
        raise RequestProblem("file", "choose a file")
    media = media_type_of(name)
    if not upload.data:
        raise RequestProblem("file", "the file is empty")
    if len(upload.data) > MAX_ATTACHMENT_BYTES:
        raise RequestProblem("file", "a file may be at most 10 MB")
    if task_id is not None:
        task = session.get(RequestTask, task_id)
        if task is None or task.request_id != request.id:
            raise RequestProblem("task", "no such task on this request")
    moment = _now(now)
    digest = hashlib.sha256(upload.data).hexdigest()
    attachment = RequestAttachment(
        organisation_id=request.organisation_id,
        request_id=request.id,
        task_id=task_id,
        kind=kind.value,
        filename=name[:200],
        media_type=media,
        size=len(upload.data),
        sha256=digest,
        content=base64.b64encode(upload.data).decode("ascii"),
        uploaded_at=moment,
        uploaded_by_id=user_id,
    )
    session.add(attachment)
    session.flush()
    service.append(
        session,
        request,
        EventKind.NOTE,
        actor,
        {
            "attachment": attachment.id,
            "kind": kind.value,
            "size": attachment.size,
            "sha256": digest,
            "task": task_id,
        },
        at=moment,
    )
    _audit(
        session,
        request,
        actor,
        "rights.attachment.added",
        {"attachment": attachment.id, "kind": kind.value, "sha256": digest},
        moment,
    )
    return attachment


def attachments_of(session: Session, request: RightsRequest) -> list[RequestAttachment]:
    return list(
        session.scalars(
            select(RequestAttachment)
            .where(RequestAttachment.request_id == request.id)
            .order_by(RequestAttachment.id)
        )
    )


def attachment_bytes(attachment: RequestAttachment) -> bytes:
    """The file as uploaded; ValueError when its bytes no longer match their recorded hash."""
    data = base64.b64decode(attachment.content)
    if hashlib.sha256(data).hexdigest() != attachment.sha256:
        raise ValueError("the stored file does not match its SHA-256")
    return data


def file_for_person(
    *,
    session: Session,
    organisation: Organisation,
    right: Right | str,
    identifier: str,
    value: str,
    received_at: datetime,
    original: Upload,
    actor: Actor,
    user_id: int,
    language: str = "id",
    details: Mapping[str, Any] | None = None,
    on_behalf: OnBehalf | None = None,
    authority: Mapping[str, Any] | None = None,
    proof: Upload | None = None,
    verify_reason: str | None = None,
    now: datetime | None = None,
) -> Filed:
    """A request received by WhatsApp, email or letter, filed by staff with the moment it
    actually arrived (its clock counts from then, Art. 14 and 32(2)), its original kept,
    optionally verified at once and for someone acting on the person's behalf with proof."""
    moment = _now(now)
    received = received_at.astimezone(UTC)
    if received > moment + CLOCK_SKEW:
        raise RequestProblem("received_at", "the request cannot arrive in the future")
    if received < organisation.created_at.astimezone(UTC):
        raise RequestProblem("received_at", "the request cannot arrive before the organisation")
    if on_behalf is not None and proof is None:
        raise RequestProblem("proof", "attach the proof of authority")
    filed = service.file_request(
        session=session,
        organisation=organisation,
        right=right,
        identifier=identifier,
        value=value,
        details=details,
        language=language,
        channel=RequestChannel.STAFF,
        actor=actor,
        on_behalf=on_behalf,
        authority={**(authority or {}), "proof_attached": proof is not None} if on_behalf else None,
        received_at=received,
    )
    request = filed.request
    store_attachment(
        session,
        request,
        original,
        kind=AttachmentKind.ORIGINAL,
        actor=actor,
        user_id=user_id,
        now=moment,
    )
    if proof is not None:
        store_attachment(
            session,
            request,
            proof,
            kind=AttachmentKind.PROOF,
            actor=actor,
            user_id=user_id,
            now=moment,
        )
    if verify_reason is not None:
        service.verify_manually(session, request, actor=actor, reason=verify_reason, now=moment)
        return Filed(request, None, None, filed.access_key)
    if filed.code is not None:
        # the code issued at the (past) moment of receipt has expired: the person gets a fresh one
        code, link = service.issue_code(session, request, now=moment)
        return Filed(request, code, link, filed.access_key)
    return filed
