"""Rate limits with lockout and back-off, kept in the database so every web process sees them.

Failures (a wrong password, a wrong code) or events (a code sent) are counted per scope and key
(an account, an address). Reaching a policy's limit locks the key for a while; each lockout in a
row lasts twice as long as the one before, up to a ceiling; `reset` (a success) forgets it all.
Keys are stored as keyed hashes: the table never holds an email or an IP address.

    ratelimit.limit(session=s, scope="request.code_sent", key=email, policy=SEND_CODE)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from jagadata.accounts.models import RateLimitCounter
from jagadata.crypto import get_keyring
from jagadata.db.base import utcnow


@dataclass(frozen=True)
class Policy:
    """`limit` failures (or events) within `window` lock the key for `lockout`, doubling with
    each lockout in a row up to `max_lockout`."""

    limit: int
    window: timedelta
    lockout: timedelta
    max_lockout: timedelta

    def lock_for(self, level: int) -> timedelta:
        return min(self.lockout * (1 << min(level, 20)), self.max_lockout)


SIGN_IN_ACCOUNT: Final = Policy(5, timedelta(minutes=15), timedelta(minutes=1), timedelta(hours=1))
SIGN_IN_ADDRESS: Final = Policy(20, timedelta(minutes=15), timedelta(minutes=1), timedelta(hours=1))
"""More generous than per account: an office or a school may share one address."""
SECOND_FACTOR: Final = Policy(5, timedelta(minutes=15), timedelta(minutes=1), timedelta(hours=1))
SIGN_IN_LINK: Final = Policy(10, timedelta(minutes=15), timedelta(minutes=1), timedelta(hours=1))
SEND_CODE: Final = Policy(3, timedelta(minutes=15), timedelta(minutes=15), timedelta(hours=24))
"""For anything that sends a code by email or WhatsApp: three per quarter of an hour."""


class Limited(Exception):
    """The key is locked until `until`; try again after `retry_after`."""

    def __init__(self, scope: str, until: datetime, now: datetime) -> None:
        super().__init__(f"{scope} locked until {until.isoformat()}")
        self.scope = scope
        self.until = until
        self.retry_after = max(until - now, timedelta(seconds=1))

    @property
    def retry_after_seconds(self) -> int:
        return int(self.retry_after.total_seconds() + 0.999)


def key_hash(scope: str, key: str) -> str:
    return get_keyring().lookup_hash("ratelimit", f"{scope}\x00{key}")


def locked_until(
    *, session: Session, scope: str, key: str, now: datetime | None = None
) -> datetime | None:
    """When the key's lockout ends, or None if it is not locked."""
    now = now or utcnow()
    row = session.get(RateLimitCounter, (scope, key_hash(scope, key)))
    if row is None or row.locked_until is None or row.locked_until <= now:
        return None
    return row.locked_until


def check(*, session: Session, scope: str, key: str, now: datetime | None = None) -> None:
    """Raise Limited while the key is locked."""
    now = now or utcnow()
    until = locked_until(session=session, scope=scope, key=key, now=now)
    if until is not None:
        raise Limited(scope, until, now)


def record_failure(
    *, session: Session, scope: str, key: str, policy: Policy, now: datetime | None = None
) -> datetime | None:
    """Count one failure; returns the end of the lockout it starts, if it starts one."""
    now = now or utcnow()
    row = _locked_row(session, scope, key, now)
    _forget_stale(row, policy, now)
    if row.locked_until is not None and row.locked_until > now:
        row.updated_at = now
        return row.locked_until
    row.count += 1
    row.updated_at = now
    if row.count < policy.limit:
        return None
    row.locked_until = now + policy.lock_for(row.level)
    row.level += 1
    row.count = 0
    row.window_started_at = now
    return row.locked_until


def limit(
    *, session: Session, scope: str, key: str, policy: Policy, now: datetime | None = None
) -> None:
    """Count one event (a code sent, a form submitted), or raise Limited while the key is locked.

    The event that reaches `policy.limit` is still allowed and starts the lockout, so raising
    never depends on the caller committing: `with atomic(session): limit(...); send(...)`.
    """
    now = now or utcnow()
    row = _locked_row(session, scope, key, now)
    _forget_stale(row, policy, now)
    if row.locked_until is not None and row.locked_until > now:
        raise Limited(scope, row.locked_until, now)
    row.count += 1
    row.updated_at = now
    if row.count >= policy.limit:
        row.locked_until = now + policy.lock_for(row.level)
        row.level += 1
        row.count = 0
        row.window_started_at = now


def reset(*, session: Session, scope: str, key: str) -> None:
    """A success: forget the key's failures and lockouts."""
    session.execute(
        delete(RateLimitCounter).where(
            RateLimitCounter.scope == scope, RateLimitCounter.key_hash == key_hash(scope, key)
        )
    )


def prune(*, session: Session, before: datetime) -> int:
    """Remove counters untouched since `before` (a day is plenty): their lockouts are over."""
    result = session.execute(
        delete(RateLimitCounter).where(
            RateLimitCounter.updated_at < before,
            (RateLimitCounter.locked_until.is_(None)) | (RateLimitCounter.locked_until < before),
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _forget_stale(row: RateLimitCounter, policy: Policy, now: datetime) -> None:
    """Failures older than the window no longer count; a long quiet spell resets the back-off."""
    if row.window_started_at + policy.window <= now and (
        row.locked_until is None or row.locked_until <= now
    ):
        row.count = 0
        row.window_started_at = now
    if row.locked_until is not None and row.locked_until + policy.max_lockout <= now:
        row.level = 0
        row.locked_until = None


def _locked_row(session: Session, scope: str, key: str, now: datetime) -> RateLimitCounter:
    """The counter row, created if missing and locked until the transaction ends, so two
    processes counting the same key at once never lose a count."""
    hashed = key_hash(scope, key)
    values = {
        "scope": scope,
        "key_hash": hashed,
        "count": 0,
        "window_started_at": now,
        "level": 0,
        "updated_at": now,
    }
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(postgresql_insert(RateLimitCounter).values(values).on_conflict_do_nothing())
    elif dialect == "sqlite":
        session.execute(sqlite_insert(RateLimitCounter).values(values).on_conflict_do_nothing())
    elif session.get(RateLimitCounter, (scope, hashed)) is None:
        try:
            with session.begin_nested():
                session.add(RateLimitCounter(**values))
        except IntegrityError:
            pass
    return session.scalars(
        select(RateLimitCounter)
        .where(RateLimitCounter.scope == scope, RateLimitCounter.key_hash == hashed)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
