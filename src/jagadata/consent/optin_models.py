"""Tables of opt-ins by message: a pending request for consent (email double opt-in or
WhatsApp), the signed links sent to people (confirm, withdraw) and the WhatsApp messages already
handled. Nothing here is consent: consent exists only as a ledger event, recorded on the click
or the reply (Art. 20(2)(a), 22)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from jagadata.consent.models import SUBJECT_REF_MAX
from jagadata.crypto import EncryptedText
from jagadata.db.base import Base, UTCDateTime
from jagadata.db.tenancy import OrgScoped

TOKEN_HASH_LENGTH: Final = 64


class OptInChannel(StrEnum):
    EMAIL = "email"
    WHATSAPP = "whatsapp"


class OptInStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"


class LinkKind(StrEnum):
    CONFIRM = "confirm"
    WITHDRAW = "withdraw"


class ConsentOptIn(OrgScoped, Base):
    """A request for consent waiting for the person's click or reply; the contact is encrypted
    and `subject_ref` (the keyed hash of it) finds it again."""

    __tablename__ = "consent_optin"
    __table_args__ = (
        Index("ix_consent_optin_subject", "subject_ref", "status"),
        CheckConstraint("channel IN ('email', 'whatsapp')", name="channel_known"),
        CheckConstraint("status IN ('pending', 'confirmed', 'cancelled')", name="status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    contact: Mapped[str] = mapped_column(EncryptedText("consent_optin.contact"))
    subject_ref: Mapped[str] = mapped_column(String(SUBJECT_REF_MAX))
    purposes: Mapped[list[str]] = mapped_column(JSON())
    language: Mapped[str] = mapped_column(String(5))
    manifest_version: Mapped[int]
    notice_hashes: Mapped[dict[str, str]] = mapped_column(JSON())
    status: Mapped[str] = mapped_column(String(10))
    source: Mapped[str] = mapped_column(String(120))
    request_evidence: Mapped[dict[str, Any]] = mapped_column(JSON())
    outbox_message_id: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ConsentLink(OrgScoped, Base):
    """A signed link sent to a person: only the SHA-256 of the token is kept. A confirmation link
    is single-use and expires; a withdrawal link works at any time (Art. 9)."""

    __tablename__ = "consent_link"
    __table_args__ = (
        UniqueConstraint("token_hash"),
        CheckConstraint("kind IN ('confirm', 'withdraw')", name="kind_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(TOKEN_HASH_LENGTH))
    kind: Mapped[str] = mapped_column(String(10))
    optin_id: Mapped[int | None] = mapped_column(ForeignKey("consent_optin.id", ondelete="CASCADE"))
    subject_ref: Mapped[str] = mapped_column(String(SUBJECT_REF_MAX))
    purposes: Mapped[list[str]] = mapped_column(JSON())
    language: Mapped[str] = mapped_column(String(5))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class WhatsAppInbound(Base):
    """A WhatsApp message already handled, by its id: WhatsApp retries a webhook until it gets a
    2xx, and a retried message must not be recorded twice. No content is kept."""

    __tablename__ = "whatsapp_inbound"

    message_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    outcome: Mapped[str] = mapped_column(String(24))
