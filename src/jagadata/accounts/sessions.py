"""Console sessions, kept server-side: the cookie carries a random token, the database its
SHA-256, the times it expires (idle and absolute), and a hint of where it was opened.

Every function takes `now`, so tests move the clock instead of waiting.
"""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from jagadata.accounts.models import User, UserSession
from jagadata.config import Settings

COOKIE: Final = "jd_session"
SECURE_COOKIE: Final = "__Host-jd_session"
"""Over HTTPS the `__Host-` prefix makes browsers refuse the cookie from a sibling domain."""
SECOND_FACTOR_LIFETIME: Final = timedelta(minutes=5)
TOUCH_EVERY: Final = timedelta(seconds=30)
"""Activity moves `last_seen_at` (and the idle deadline) at most this often: fewer writes."""
USER_AGENT_MAX: Final = 200
ACTIVE: Final = "active"
AWAITING_SECOND_FACTOR: Final = "mfa"


@dataclass(frozen=True)
class Timeouts:
    idle: timedelta
    absolute: timedelta

    @classmethod
    def of(cls, settings: Settings) -> Timeouts:
        return cls(
            idle=timedelta(minutes=settings.session_idle_minutes),
            absolute=timedelta(hours=settings.session_absolute_hours),
        )


def cookie_name(settings: Settings) -> str:
    return SECURE_COOKIE if settings.secure_cookies else COOKIE


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def network_of(ip: str | None) -> str | None:
    """The address's network (/24 for IPv4, /48 for IPv6): enough to recognise, not to trace."""
    if not ip:
        return None
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return None
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def start(
    *,
    session: Session,
    user: User,
    stage: str,
    timeouts: Timeouts,
    now: datetime,
    ip: str | None = None,
    user_agent: str | None = None,
) -> tuple[UserSession, str]:
    """A new session row and the token for its cookie (the only time the token exists)."""
    token = secrets.token_urlsafe(32)
    if stage == ACTIVE:
        idle, absolute = now + timeouts.idle, now + timeouts.absolute
    else:
        idle = absolute = now + SECOND_FACTOR_LIFETIME
    row = UserSession(
        token_hash=token_hash(token),
        user_id=user.id,
        stage=stage,
        created_at=now,
        last_seen_at=now,
        idle_expires_at=min(idle, absolute),
        absolute_expires_at=absolute,
        network=network_of(ip),
        user_agent=(user_agent or "")[:USER_AGENT_MAX] or None,
    )
    session.add(row)
    session.flush()
    return row, token


def promote(
    *, session: Session, user_session: UserSession, timeouts: Timeouts, now: datetime
) -> str:
    """The second factor was right: the session becomes active under a new token (so a token
    seen before sign-in is worth nothing after it)."""
    token = secrets.token_urlsafe(32)
    user_session.token_hash = token_hash(token)
    user_session.stage = ACTIVE
    user_session.created_at = now
    user_session.last_seen_at = now
    user_session.absolute_expires_at = now + timeouts.absolute
    user_session.idle_expires_at = min(now + timeouts.idle, user_session.absolute_expires_at)
    session.flush()
    return token


def is_live(user_session: UserSession, now: datetime) -> bool:
    return (
        user_session.ended_at is None
        and now < user_session.idle_expires_at
        and now < user_session.absolute_expires_at
    )


def resolve(
    *, session: Session, token: str | None, timeouts: Timeouts, now: datetime, stage: str = ACTIVE
) -> UserSession | None:
    """The live session of this token in `stage`, its idle deadline moved on; else None."""
    if not token or len(token) > 100:
        return None
    row = session.scalars(
        select(UserSession).where(UserSession.token_hash == token_hash(token))
    ).one_or_none()
    if row is None or row.stage != stage or not is_live(row, now):
        return None
    if row.user.disabled:
        return None
    if stage == ACTIVE and now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
        row.idle_expires_at = min(now + timeouts.idle, row.absolute_expires_at)
        session.flush()
    return row


def end(*, session: Session, user_session: UserSession, now: datetime) -> None:
    if user_session.ended_at is None:
        user_session.ended_at = now
        session.flush()


def end_all(*, session: Session, user_id: int, now: datetime) -> int:
    """End every session of the user (log out everywhere); returns how many were live."""
    result = session.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
        .values(ended_at=now)
        .execution_options(synchronize_session="fetch")
    )
    return int(getattr(result, "rowcount", 0) or 0)


def live_sessions(*, session: Session, user_id: int, now: datetime) -> list[UserSession]:
    """The user's live sessions, the most recently used first."""
    rows = session.scalars(
        select(UserSession)
        .where(
            UserSession.user_id == user_id,
            UserSession.ended_at.is_(None),
            UserSession.stage == ACTIVE,
            UserSession.absolute_expires_at > now,
            UserSession.idle_expires_at > now,
        )
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
    ).all()
    return list(rows)
