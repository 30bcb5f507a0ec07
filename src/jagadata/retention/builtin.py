"""jagadata's own data with a period, ended by the daily retention sweep where no other job
ends it: the hints kept with a sign-in session (network and browser) once it has ended, the
one-time sign-in links once expired, and rate-limit counters once their lockout is over.

Requests never verified, expired download copies and lapsed opt-in requests have their own
jobs (`plan.BUILT_IN`); they are listed, not swept twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import delete, or_
from sqlalchemy.orm import Session

from jagadata.accounts import ratelimit
from jagadata.accounts.models import SignInLink, UserSession

SESSIONS_KEPT: Final = timedelta(days=30)
"""How long an ended session's network and browser hints stay, for the person to review."""
LINKS_KEPT: Final = timedelta(days=30)
COUNTERS_KEPT: Final = timedelta(days=1)


@dataclass(frozen=True)
class OwnSwept:
    sessions: int
    links: int
    counters: int


def sweep_own(session: Session, now: datetime) -> OwnSwept:
    """Delete jagadata's own rows past their period, in one short transaction."""
    sessions = session.execute(
        delete(UserSession).where(
            or_(
                UserSession.ended_at < now - SESSIONS_KEPT,
                UserSession.absolute_expires_at < now - SESSIONS_KEPT,
            )
        )
    )
    links = session.execute(delete(SignInLink).where(SignInLink.expires_at < now - LINKS_KEPT))
    counters = ratelimit.prune(session=session, before=now - COUNTERS_KEPT)
    session.commit()
    return OwnSwept(
        sessions=int(getattr(sessions, "rowcount", 0) or 0),
        links=int(getattr(links, "rowcount", 0) or 0),
        counters=counters,
    )
