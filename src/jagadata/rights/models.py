"""The recorded request (permohonan tercatat, Art. 14) and everything that happens to it.

A request row holds where the request stands (it changes); its timeline is append-only and
hash-chained per request, so the evidence of how it was handled (Art. 14, 24) cannot be edited
after the fact. Contacts, details and notes are encrypted at rest; the person is found by the
keyed hash of the identifier they gave (`subject_ref`), never by the identifier in clear.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, Mapper, ORMExecuteState, Session, mapped_column

from jagadata.crypto import EncryptedJSON, EncryptedText
from jagadata.db.base import Base, UTCDateTime
from jagadata.db.tenancy import OrgScoped
from jagadata.rights.states import ClockStart, EventKind, RequestChannel, RequestStatus

REFERENCE_MAX: Final = 24
SUBJECT_REF_MAX: Final = 70


def _quoted(values: type[StrEnum]) -> str:
    return ", ".join(f"'{value.value}'" for value in values)


class RightsRequest(OrgScoped, Base):
    __tablename__ = "rights_request"
    __table_args__ = (
        UniqueConstraint("reference"),
        UniqueConstraint("organisation_id", "external_id"),
        Index("ix_rights_request_open_due", "organisation_id", "status", "due_at"),
        Index("ix_rights_request_subject", "organisation_id", "subject_ref"),
        CheckConstraint(f"status IN ({_quoted(RequestStatus)})", name="status_known"),
        CheckConstraint(f"channel IN ({_quoted(RequestChannel)})", name="channel_known"),
        CheckConstraint(f"clock_start IN ({_quoted(ClockStart)})", name="clock_start_known"),
        CheckConstraint("language IN ('id', 'en', 'fr')", name="language_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(REFERENCE_MAX))
    access_hash: Mapped[str | None] = mapped_column(String(64))
    """SHA-256 of the key in the person's status link: the reference alone shows nothing."""
    right: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(24))
    channel: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(5))
    manifest_version: Mapped[int | None]
    identifier: Mapped[str] = mapped_column(String(63))
    """The manifest identifier the person used (its id), e.g. `email` or `student_number`."""
    identifier_kind: Mapped[str] = mapped_column(String(16))
    subject_ref: Mapped[str] = mapped_column(String(SUBJECT_REF_MAX))
    contact: Mapped[str] = mapped_column(EncryptedText("rights_request.contact"))
    details: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON("rights_request.details"))
    """What the person asked: corrected values, the objection's reasons, a message."""
    on_behalf: Mapped[str | None] = mapped_column(String(16))
    authority: Mapped[dict[str, Any] | None] = mapped_column(
        EncryptedJSON("rights_request.authority")
    )
    """For a parent, guardian or representative: who they are and the proof of authority."""
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    verification_method: Mapped[str | None] = mapped_column(String(24))
    clock_start: Mapped[str] = mapped_column(String(16))
    clock_started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    zone: Mapped[str] = mapped_column(String(32))
    acknowledge_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """The fulfilment deadline with every closed pause added; None while paused."""
    deadline: Mapped[dict[str, Any]] = mapped_column(JSON())
    """How `due_at` was reached: duration, calendar, source (law/organisation), articles."""
    paused_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reminders_sent: Mapped[list[float]] = mapped_column(JSON())
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    approval_required: Mapped[bool] = mapped_column(Boolean())
    approved_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    refusal_ground: Mapped[str | None] = mapped_column(String(32))
    outcome: Mapped[dict[str, Any] | None] = mapped_column(EncryptedJSON("rights_request.outcome"))
    """What was done where, what was kept and why; the explanation of a refusal."""
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    external_id: Mapped[str | None] = mapped_column(String(64))
    callback_url: Mapped[str | None] = mapped_column(String(500))
    last_sequence: Mapped[int] = mapped_column(Integer())
    last_hash: Mapped[str] = mapped_column(String(64))


class RequestEvent(OrgScoped, Base):
    """One step of a request's life, never changed once written; `hash` covers every field and
    the previous event's hash, so the dossier proves its own completeness."""

    __tablename__ = "rights_request_event"
    __table_args__ = (
        UniqueConstraint("request_id", "sequence"),
        CheckConstraint(f"kind IN ({_quoted(EventKind)})", name="kind_known"),
        CheckConstraint(
            "actor_kind IN ('user', 'api_key', 'system', 'data_subject')", name="actor_kind_known"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("rights_request.id", ondelete="RESTRICT"), index=True
    )
    sequence: Mapped[int]
    kind: Mapped[str] = mapped_column(String(24))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str | None] = mapped_column(String(64))
    actor_label: Mapped[str | None] = mapped_column(String(120))
    status_after: Mapped[str] = mapped_column(String(24))
    data: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON("rights_request_event.data"))
    """What this step recorded (reasons, task ids, what was changed) — encrypted: staff notes
    can hold personal data."""
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class Verification(OrgScoped, Base):
    """A one-time code sent to the identifier the person gave (hashed; expires; few attempts)."""

    __tablename__ = "rights_verification"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("rights_request.id", ondelete="RESTRICT"), index=True
    )
    channel: Mapped[str] = mapped_column(String(16))
    code_hash: Mapped[str] = mapped_column(String(64))
    link_hash: Mapped[str] = mapped_column(String(64), unique=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class RequestPause(OrgScoped, Base):
    __tablename__ = "rights_request_pause"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("rights_request.id", ondelete="RESTRICT"), index=True
    )
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(String(32))


class RequestTask(OrgScoped, Base):
    """One thing staff must do: a system named in the manifest with its instructions."""

    __tablename__ = "rights_request_task"
    __table_args__ = (UniqueConstraint("request_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("rights_request.id", ondelete="RESTRICT"), index=True
    )
    position: Mapped[int]
    system: Mapped[str] = mapped_column(String(63))
    system_name: Mapped[str] = mapped_column(String(200))
    instructions: Mapped[dict[str, str]] = mapped_column(JSON())
    """The manifest's instructions for this right in each language it gives."""
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    done_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    note: Mapped[str | None] = mapped_column(EncryptedText("rights_request_task.note"))


TIMELINE_REFUSAL: Final = "request timelines are append-only"


@event.listens_for(RequestEvent, "before_update")
@event.listens_for(RequestEvent, "before_delete")
def _refuse_change(_mapper: Mapper[Any], _connection: object, _target: object) -> None:
    raise PermissionError(TIMELINE_REFUSAL)


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_change(state: ORMExecuteState) -> None:
    if (state.is_update or state.is_delete) and any(
        getattr(mapper, "class_", None) is RequestEvent for mapper in state.all_mappers
    ):
        raise PermissionError(TIMELINE_REFUSAL)


class AttachmentKind(StrEnum):
    ORIGINAL = "original"
    """The request as it arrived (a WhatsApp screenshot, a scanned letter)."""
    PROOF = "proof"
    """Proof of a parent's, guardian's or representative's authority."""
    EXPORT = "export"
    """Data exported from a system for an access or portability request."""
    RESPONSE = "response"
    """What was sent to the person."""


class RequestAttachment(OrgScoped, Base):
    """A file kept with a request, encrypted at rest (the bytes, base64, in `content`)."""

    __tablename__ = "rights_request_attachment"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_quoted(AttachmentKind)})", name="kind_known"),
        CheckConstraint("size >= 0", name="size_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("rights_request.id", ondelete="RESTRICT"), index=True
    )
    task_id: Mapped[int | None] = mapped_column(
        ForeignKey("rights_request_task.id", ondelete="SET NULL")
    )
    kind: Mapped[str] = mapped_column(String(16))
    filename: Mapped[str] = mapped_column(EncryptedText("rights_request_attachment.filename"))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer())
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(EncryptedText("rights_request_attachment.content"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    uploaded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )


class RequestBundle(OrgScoped, Base):
    """What the person downloads (an access bundle, a confirmation): encrypted at rest, behind
    an expiring link that works once, after the person verifies again."""

    __tablename__ = "rights_request_bundle"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("rights_request.id", ondelete="RESTRICT"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    filename: Mapped[str] = mapped_column(String(120))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer())
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[str | None] = mapped_column(EncryptedText("rights_request_bundle.content"))
    """None once downloaded or expired: the copy is gone, its hash stays as evidence."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    downloaded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
