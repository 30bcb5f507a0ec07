"""The breach register's tables: an incident per failure of personal data protection (Art. 46),
its append-only hash-chained timeline, and one row per affected person.

What happened, the contacts of the people and the timeline's data are encrypted at rest; a
person is stored as the keyed hash of their identity (`person_ref`), never in clear.
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

from jagadata.breach.states import EventKind, IncidentStatus, NoticeStatus
from jagadata.crypto import EncryptedJSON, EncryptedText
from jagadata.db.base import Base, UTCDateTime
from jagadata.db.tenancy import OrgScoped

REFERENCE_MAX: Final = 24
PERSON_REF_MAX: Final = 70
TITLE_MAX: Final = 200


def _quoted(values: type[StrEnum]) -> str:
    return ", ".join(f"'{value.value}'" for value in values)


class BreachIncident(OrgScoped, Base):
    """One failure of personal data protection and where its notices stand."""

    __tablename__ = "breach_incident"
    __table_args__ = (
        UniqueConstraint("reference"),
        Index("ix_breach_incident_open_due", "organisation_id", "status", "due_at"),
        CheckConstraint(f"status IN ({_quoted(IncidentStatus)})", name="status_known"),
        CheckConstraint("counted_from IN ('discovery', 'occurrence')", name="counted_from_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(REFERENCE_MAX))
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    what_happened: Mapped[str] = mapped_column(EncryptedText("breach_incident.what_happened"))
    """How the data was disclosed (Art. 46(2)(b)): may name people, so encrypted."""
    measures: Mapped[str] = mapped_column(EncryptedText("breach_incident.measures"))
    """What the organisation does to handle and recover (Art. 46(2)(c))."""
    discovered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    occurred_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """None while unknown; the clock never depends on it (it counts from discovery)."""
    systems: Mapped[list[str]] = mapped_column(JSON())
    categories: Mapped[list[str]] = mapped_column(JSON())
    status: Mapped[str] = mapped_column(String(16))
    counted_from: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deadline: Mapped[dict[str, Any]] = mapped_column(JSON())
    """How `due_at` was reached: the law's 72 hours, the organisation's promise, the article."""
    public_interest: Mapped[str | None] = mapped_column(
        EncryptedText("breach_incident.public_interest")
    )
    """Why a public notice is owed (Art. 46(3)); None when it is not."""
    affected: Mapped[dict[str, Any] | None] = mapped_column(JSON())
    """Counts of the people affected (no personal data): total, children, specific, per
    category and system; None until computed."""
    reminders_sent: Mapped[list[int]] = mapped_column(JSON())
    """The hours after discovery whose reminder went out (24, 48, 60)."""
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    subjects_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    authority_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    public_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_sequence: Mapped[int] = mapped_column(Integer())
    last_hash: Mapped[str] = mapped_column(String(64))


class BreachEvent(OrgScoped, Base):
    """One step of an incident's handling, never changed once written; `hash` covers every field
    and the previous step's hash, so the exported timeline proves its own completeness."""

    __tablename__ = "breach_event"
    __table_args__ = (
        UniqueConstraint("incident_id", "sequence"),
        CheckConstraint(f"kind IN ({_quoted(EventKind)})", name="kind_known"),
        CheckConstraint(
            "actor_kind IN ('user', 'api_key', 'system', 'data_subject')", name="actor_kind_known"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("breach_incident.id", ondelete="RESTRICT"), index=True
    )
    sequence: Mapped[int]
    kind: Mapped[str] = mapped_column(String(24))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str | None] = mapped_column(String(64))
    actor_label: Mapped[str | None] = mapped_column(String(120))
    status_after: Mapped[str] = mapped_column(String(16))
    data: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON("breach_event.data"))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class BreachSubject(OrgScoped, Base):
    """One person affected by an incident and the notice they were sent (Art. 46(1)(a))."""

    __tablename__ = "breach_subject"
    __table_args__ = (
        UniqueConstraint("incident_id", "person_ref"),
        CheckConstraint(f"status IN ({_quoted(NoticeStatus)})", name="status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("breach_incident.id", ondelete="RESTRICT"), index=True
    )
    person_ref: Mapped[str] = mapped_column(String(PERSON_REF_MAX))
    categories: Mapped[list[str]] = mapped_column(JSON())
    systems: Mapped[list[str]] = mapped_column(JSON())
    child: Mapped[bool] = mapped_column(Boolean())
    specific: Mapped[bool] = mapped_column(Boolean())
    language: Mapped[str] = mapped_column(String(5))
    contact: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON("breach_subject.contact"))
    """The email address and WhatsApp number to write to, nothing more."""
    channel: Mapped[str | None] = mapped_column(String(16))
    message_id: Mapped[str | None] = mapped_column(String(255))
    """The outbox message carrying this person's notice."""
    status: Mapped[str] = mapped_column(String(16))
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


TIMELINE_REFUSAL: Final = "breach timelines are append-only"


@event.listens_for(BreachEvent, "before_update")
@event.listens_for(BreachEvent, "before_delete")
def _refuse_change(_mapper: Mapper[Any], _connection: object, _target: object) -> None:
    raise PermissionError(TIMELINE_REFUSAL)


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_change(state: ORMExecuteState) -> None:
    if (state.is_update or state.is_delete) and any(
        getattr(mapper, "class_", None) is BreachEvent for mapper in state.all_mappers
    ):
        raise PermissionError(TIMELINE_REFUSAL)
