"""The outbox: each message to send is a row, written in the transaction that causes it.

Recipient and payload hold personal data, so they are encrypted at rest; `last_error` never
holds any. A row moves pending -> sending -> sent, or on failure to failed (retried later) and,
when retries run out or the failure is permanent, to dead (a dead letter a person looks at).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from jagadata.crypto import EncryptedJSON, EncryptedText
from jagadata.db.base import Base, UTCDateTime


class Channel(StrEnum):
    EMAIL = "email"
    WHATSAPP = "whatsapp"
    WEBHOOK = "webhook"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    DEAD = "dead"


def _one_of(column: str, values: type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class OutboxMessage(Base):
    """One message to deliver at least once, always under the same `message_id`."""

    __tablename__ = "outbox_message"
    __table_args__ = (
        CheckConstraint(_one_of("channel", Channel), name="channel_known"),
        CheckConstraint(_one_of("status", OutboxStatus), name="status_known"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        Index("ix_outbox_message_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="RESTRICT"), index=True
    )
    channel: Mapped[str] = mapped_column(String(16))
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    """Stable across retries: an RFC 5322 Message-ID for email, the delivery id for webhooks."""
    recipient: Mapped[str] = mapped_column(EncryptedText("outbox_message.recipient"))
    payload: Mapped[Any] = mapped_column(EncryptedJSON("outbox_message.payload"))
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """While status is sending: the worker that claimed the row owns it until then."""
    last_error: Mapped[str | None] = mapped_column(Text())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    provider_reference: Mapped[str | None] = mapped_column(String(255))
    """What the provider calls the message, e.g. the WhatsApp message id (wamid...)."""
