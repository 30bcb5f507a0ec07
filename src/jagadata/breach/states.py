"""Where an incident stands and what can happen on its timeline."""

from __future__ import annotations

from enum import StrEnum


class IncidentStatus(StrEnum):
    OPEN = "open"
    """Recorded; the 72-hour clock runs until the people and the authority are told."""
    NOTIFIED = "notified"
    """The people and the authority have been told (Art. 46(1)); the clock has stopped."""
    CLOSED = "closed"
    """Handled and recovered from; the record stays as evidence."""


class EventKind(StrEnum):
    RECORDED = "recorded"
    UPDATED = "updated"
    ASSESSED = "assessed"
    """The people affected were computed from the datastore mappings."""
    SUBJECTS_NOTIFIED = "subjects_notified"
    AUTHORITY_NOTIFIED = "authority_notified"
    PUBLIC_NOTIFIED = "public_notified"
    REMINDED = "reminded"
    ESCALATED = "escalated"
    CLOSED = "closed"


class NoticeStatus(StrEnum):
    DRAFTED = "drafted"
    """The person is known and reachable; no message was put in the outbox yet."""
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"
    NO_CONTACT = "no_contact"
    """No email address or WhatsApp number is known: another channel is needed."""


class Audience(StrEnum):
    SUBJECTS = "subjects"
    AUTHORITY = "authority"
    PUBLIC = "public"
