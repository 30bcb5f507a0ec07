"""Guardian verifications: a code sent to a parent's or guardian's email or WhatsApp number,
kept as a keyed hash, with its attempts, expiry and the decisions recorded once verified."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import JSON, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from jagadata.crypto import EncryptedText
from jagadata.db.base import Base, UTCDateTime
from jagadata.db.tenancy import OrgScoped

CODE_DIGITS: Final = 6
MAX_ATTEMPTS: Final = 5
REF_MAX: Final = 70


class Origin(StrEnum):
    """Where the verification was started: the privacy centre's pages, or an organisation's app."""

    WEB = "web"
    API = "api"


class GuardianVerification(OrgScoped, Base):
    """One request for a guardian's consent on a child's behalf (Art. 25).

    The contact is encrypted (`EncryptedText`); `guardian_ref` is the keyed hash of its
    normalised form, the reference the child's consent events carry. The code is stored as a
    keyed hash only, and is good for `MAX_ATTEMPTS` tries until `expires_at`, once.
    """

    __tablename__ = "guardian_verification"
    __table_args__ = (UniqueConstraint("public_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32))
    child_ref: Mapped[str] = mapped_column(String(REF_MAX), index=True)
    guardian_ref: Mapped[str] = mapped_column(String(REF_MAX), index=True)
    contact_kind: Mapped[str] = mapped_column(String(16))
    contact: Mapped[str] = mapped_column(EncryptedText("guardian_verification.contact"))
    purposes: Mapped[list[str]] = mapped_column(JSON)
    manifest_version: Mapped[int] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(8))
    origin: Mapped[str] = mapped_column(String(8))
    channel: Mapped[str] = mapped_column(String(24))
    code_hash: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    grant_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decisions: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    event_sequences: Mapped[list[int] | None] = mapped_column(JSON)
