"""Accounts' tables: people who use the console, their roles per organisation, their sessions,
one-time sign-in links, recovery codes, API keys, and the counters behind rate limits.

Nothing here holds a secret or an email in clear: emails, names, TOTP secrets and session
details are encrypted; passwords are argon2id hashes; tokens, codes and keys are stored hashed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from jagadata.crypto import EncryptedText
from jagadata.db.base import Base, UTCDateTime
from jagadata.db.tenancy import OrgScoped

ROLE_NAMES: Final = ("owner", "dpo", "staff", "viewer")
SESSION_STAGES: Final = ("mfa", "active")
HASH_HEX: Final = 64


class User(Base):
    """A person who signs in to the console; may belong to several organisations."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(EncryptedText("user_account.email"))
    email_hash: Mapped[str] = mapped_column(String(HASH_HEX), unique=True)
    display_name: Mapped[str | None] = mapped_column(EncryptedText("user_account.display_name"))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    totp_secret: Mapped[str | None] = mapped_column(EncryptedText("user_account.totp_secret"))
    totp_last_step: Mapped[int | None]
    """The time step of the last TOTP code accepted: a code is never accepted twice."""
    mfa_enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    disabled: Mapped[bool] = mapped_column(default=False)

    memberships: Mapped[list[Membership]] = relationship(back_populates="user")

    @property
    def can_sign_in(self) -> bool:
        return not self.disabled and self.password_hash is not None and self.totp_secret is not None


class Membership(OrgScoped, Base):
    """A user's role in one organisation."""

    __tablename__ = "membership"
    __table_args__ = (
        UniqueConstraint("organisation_id", "user_id"),
        CheckConstraint("role IN ('owner', 'dpo', 'staff', 'viewer')", name="role_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(back_populates="memberships")


class RecoveryCode(Base):
    """One of the ten codes shown once at enrolment; each signs in once instead of a TOTP code."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(HASH_HEX), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SignInLink(Base):
    """A one-time link where a person sets a password and enrols TOTP (first run, lost device).

    The TOTP secret offered on the page is kept here until the link is used, so reloading the
    page shows the same QR code.
    """

    __tablename__ = "sign_in_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(HASH_HEX), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    pending_totp_secret: Mapped[str | None] = mapped_column(
        EncryptedText("sign_in_link.pending_totp_secret")
    )

    user: Mapped[User] = relationship()


class UserSession(Base):
    """A signed-in browser. The cookie holds a random token; only its SHA-256 is stored.

    Stage `mfa`: the password was right, the second factor is still awaited.
    """

    __tablename__ = "user_session"
    __table_args__ = (
        CheckConstraint("stage IN ('mfa', 'active')", name="stage_known"),
        Index("ix_user_session_user_id_ended_at", "user_id", "ended_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(HASH_HEX), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    stage: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    idle_expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    absolute_expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    network: Mapped[str | None] = mapped_column(EncryptedText("user_session.network"))
    """The client's address truncated to its network (/24 or /48), for the sessions list."""
    user_agent: Mapped[str | None] = mapped_column(EncryptedText("user_session.user_agent"))
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="SET NULL")
    )
    """The organisation the console shows now (the switcher's choice)."""

    user: Mapped[User] = relationship()


class ApiKey(OrgScoped, Base):
    """A key an organisation's systems use on /api/v1: `jd_<prefix>_<secret>`, shown once."""

    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(HASH_HEX))
    name: Mapped[str] = mapped_column(String(100))
    scopes: Mapped[list[str]] = mapped_column(JSON())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class RateLimitCounter(Base):
    """Failures (or events) of one kind for one key, and the lockout they caused.

    `key_hash` is a keyed hash of the account or address, so neither is stored in clear.
    `level` counts lockouts in a row: each one lasts twice as long as the one before.
    """

    __tablename__ = "rate_limit"

    scope: Mapped[str] = mapped_column(String(40), primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(HASH_HEX), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    level: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
