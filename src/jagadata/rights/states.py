"""The vocabulary of a request's life, shared by the tables, the workflow and the pages."""

from __future__ import annotations

from enum import StrEnum


class RequestStatus(StrEnum):
    """received -> verified -> in_progress -> fulfilled | refused; withdrawn and
    closed_unverified end a request early. Paused is not a status: it is the clock standing
    still, shown on the timeline."""

    RECEIVED = "received"
    VERIFIED = "verified"
    IN_PROGRESS = "in_progress"
    AWAITING_APPROVAL = "awaiting_approval"
    FULFILLED = "fulfilled"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"
    CLOSED_UNVERIFIED = "closed_unverified"


class RequestChannel(StrEnum):
    """How the request reached the organisation."""

    WEB = "web"
    API = "api"
    STAFF = "staff"


class ClockStart(StrEnum):
    """When the clock starts: at receipt, as the law counts it (Art. 30(1), 32(2), 40(2),
    41(1)), or at verification — an organisation's choice, kept with its reason."""

    RECEIPT = "receipt"
    VERIFICATION = "verification"


class OnBehalf(StrEnum):
    PARENT = "parent"
    GUARDIAN = "guardian"
    REPRESENTATIVE = "representative"


class PauseReason(StrEnum):
    """The only reasons the clock may stand still."""

    AWAITING_INFORMATION = "awaiting_information"
    AWAITING_AUTHORITY_PROOF = "awaiting_authority_proof"


class EventKind(StrEnum):
    RECEIVED = "received"
    CODE_SENT = "code_sent"
    CODE_FAILED = "code_failed"
    VERIFIED = "verified"
    ACKNOWLEDGED = "acknowledged"
    ASSIGNED = "assigned"
    STARTED = "started"
    PAUSED = "paused"
    RESUMED = "resumed"
    TASK_DONE = "task_done"
    TASK_REOPENED = "task_reopened"
    NOTE = "note"
    APPROVAL_ASKED = "approval_asked"
    APPROVED = "approved"
    REJECTED = "rejected"
    FULFILLED = "fulfilled"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"
    CLOSED_UNVERIFIED = "closed_unverified"
    CLOCK_START_CHANGED = "clock_start_changed"
    REMINDED = "reminded"
    ESCALATED = "escalated"
    MESSAGE_SENT = "message_sent"
